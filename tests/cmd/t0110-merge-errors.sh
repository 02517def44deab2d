#!/usr/bin/env bash
# cpgo merge/top/validate on bad input and bad usage: clear errors naming
# the file, non-zero exits, no crash, and never a half-written output.
# The fixture is a CPU profile recorded by the Go test peer (tests/go).
. "$(dirname "$0")/lib.sh"

export GOCACHE=$TRASH/gocache GOFLAGS= GOPROXY=off GO111MODULE=on

test_expect_success 'setup: one CPU profile from the Go peer' '
	(cd "$CPGO_ROOT/tests/go" && go build -o "$TRASH/burn" .) &&
	./burn -o a.pprof -d 300ms &&
	echo "previous content" >keep.pprof
'

test_expect_success 'missing input: names the file, output untouched' '
	test_must_fail cpgo merge -o keep.pprof a.pprof missing.pprof 2>err &&
	grep "missing.pprof: cannot open" err &&
	grep -x "previous content" keep.pprof &&
	! ls keep.pprof.tmp.* 2>/dev/null
'

test_expect_success 'truncated input: names the file' '
	head -c 300 a.pprof >trunc.pprof &&
	test_must_fail cpgo merge -o out.pprof a.pprof trunc.pprof 2>err &&
	grep "trunc.pprof" err && test ! -e out.pprof &&
	test_must_fail cpgo top trunc.pprof 2>err && grep "trunc.pprof" err &&
	test_must_fail cpgo validate trunc.pprof 2>err && grep "trunc.pprof" err
'

test_expect_success 'not a profile at all' '
	echo "hello" >text.pprof &&
	test_must_fail cpgo merge -o out.pprof text.pprof 2>err &&
	grep "text.pprof" err
'

test_expect_success 'usage errors exit 2 with a hint' '
	rc=0; cpgo merge -o out.pprof 2>err || rc=$?; test $rc -eq 2 &&
	grep "no input profiles" err && grep "cpgo merge --help" err &&
	rc=0; cpgo merge -o out.pprof a.pprof -w 2 2>err || rc=$?; test $rc -eq 2 &&
	grep "not followed by an input" err &&
	rc=0; cpgo merge -o out.pprof -w abc a.pprof 2>err || rc=$?; test $rc -eq 2 &&
	grep "not a number" err &&
	rc=0; cpgo merge -o out.pprof -w 0 a.pprof 2>err || rc=$?; test $rc -eq 2 &&
	grep "out of range" err &&
	rc=0; cpgo merge --bogus a.pprof 2>err || rc=$?; test $rc -eq 2 &&
	rc=0; cpgo top -n x a.pprof 2>err || rc=$?; test $rc -eq 2 &&
	rc=0; cpgo top a.pprof a.pprof 2>err || rc=$?; test $rc -eq 2 &&
	grep "cpgo merge" err &&
	rc=0; cpgo validate 2>err || rc=$?; test $rc -eq 2 &&
	test ! -e out.pprof
'

test_expect_success 'top: unknown sample type lists the ones there are' '
	test_must_fail cpgo top --sample-type alloc_space a.pprof 2>err &&
	grep "no sample type .alloc_space.; the profile has: samples/count, cpu/nanoseconds" err
'

test_expect_success '--help documents the weight syntax and output default' '
	cpgo merge --help >out &&
	grep -- "-w, --weight W" out && grep "NEXT input" out && grep -- "--normalize" out &&
	grep "refused if it is a terminal" out &&
	cpgo top --help | grep -- "--cum" &&
	cpgo validate --help | grep "start_line"
'

test_expect_success 'fractional weights keep the total (remainder-carrying rounding)' '
	cpgo merge -q -o w.pprof -w 0.3 a.pprof &&
	cpgo top --sample-type samples -n 1 a.pprof | sed -n "s/.*Total = //p" >t1 &&
	cpgo top --sample-type samples -n 1 w.pprof | sed -n "s/.*Total = //p" >t2 &&
	awk -v a="$(cat t1)" -v b="$(cat t2)" "BEGIN { d = a * 0.3 - b; exit !(d < 1 && d > -1) }"
'

test_expect_success 'inputs can be fetched over http' '
	command -v python3 >/dev/null || { echo "python3 needed to serve files"; exit 1; }
	python3 -m http.server 0 --bind 127.0.0.1 >http.log 2>&1 &
	pid=$!
	for i in $(seq 50); do
		port=$(sed -n "s/.*port \([0-9]*\).*/\1/p" http.log | head -1)
		test -n "$port" && break; sleep 0.1
	done
	ok=0
	if cpgo merge -q -o url.pprof "http://127.0.0.1:$port/a.pprof" &&
	   test_must_fail cpgo top "http://127.0.0.1:$port/missing.pprof" 2>err &&
	   grep "HTTP 404" err; then ok=1; fi
	kill $pid
	test $ok = 1 &&
	cpgo top -n 0 a.pprof >expect && cpgo top -n 0 url.pprof | sed 1d >actual &&
	sed 1d expect | diff - actual
'

test_done
