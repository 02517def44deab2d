#!/usr/bin/env bash
# libcpgo's /debug/pprof/ endpoint, fetched with Go's own client.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"
LIB=$CPGO_BUILD/libcpgo.so
export PPROF_TMPDIR=$TRASH/pprof-tmp

wait_port() {
	for i in $(seq 50); do test -s port && return 0; sleep 0.1; done
	echo "no port file" >&2; return 1
}

test_expect_success 'build the workloads and start a server with a whole-run profile' '
	build_workloads &&
	(CPGO_HTTP=127.0.0.1:0 CPGO_HTTP_PORT_FILE=port CPGO_PROFILE=whole.pprof CPGO_HZ=200 \
		LD_PRELOAD=$LIB ./burn 7 >server.out 2>server.err & echo $! >server.pid) &&
	wait_port && test "$(cat port)" -gt 0
'
PORT=$(cat "$TRASH/port" 2>/dev/null || echo 0)
URL=http://127.0.0.1:$PORT/debug/pprof

test_expect_success 'go tool pprof fetches a profile' '
	go tool pprof -proto "$URL/profile?seconds=2" >fetched.pb.gz 2>fetch.err &&
	go tool pprof -top fetched.pb.gz >fetched.top && cat fetched.top | head -12 &&
	grep -q burn_a fetched.top &&
	grep -q "cpgo.requested_hz=200" fetched.top && grep -q "cpgo.achieved_hz=" fetched.top
'

test_expect_success 'a second profile while one runs gets 409' '
	(curl -s -o slow.pb.gz "$URL/profile?seconds=2" &) &&
	sleep 0.5 &&
	code=$(curl -s -o busy.txt -w "%{http_code}" "$URL/profile?seconds=1") &&
	echo "$code: $(cat busy.txt)" && test "$code" = 409 && grep -q "already being collected" busy.txt &&
	sleep 2
'

test_expect_success 'bad seconds get 400 with the reason' '
	for s in abc 0 -1 3601 2x; do
		code=$(curl -s -o bad.txt -w "%{http_code}" "$URL/profile?seconds=$s") &&
		echo "$s: $code $(cat bad.txt)" && test "$code" = 400 && grep -q "1..3600" bad.txt || exit 1
	done
'

test_expect_success 'the index and unknown paths' '
	test "$(curl -s -o index.html -w "%{http_code}" "$URL/")" = 200 &&
	grep -q "profile?seconds=" index.html &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/nope")" = 404
'

test_expect_success 'the whole-run profile was not disturbed by the HTTP ones' '
	pid=$(cat server.pid) &&
	for i in $(seq 900); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done &&
	! kill -0 $pid 2>/dev/null &&
	test -s whole.pprof && go tool pprof -raw whole.pprof >whole.raw &&
	n="$(pprof_meta whole.raw samples) $(pprof_meta whole.raw cpu_seconds)" &&
	echo "whole run: $n" &&
	echo "$n" | awk "{ exit !(\$2 >= 6.3 && \$1 >= 0.85 * 200 * \$2) }" &&
	a=$(pprof_pct whole.pprof cum burn_a) &&
	awk -v a="$a" "BEGIN { exit !(a >= 70 && a <= 80) }"
'

test_expect_success 'a bad CPGO_HTTP is reported and the program runs' '
	CPGO_HTTP=nonsense LD_PRELOAD=$LIB ./burn 0.1 2>err && grep -q "CPGO_HTTP=nonsense" err
'

test_done
