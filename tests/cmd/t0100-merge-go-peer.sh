#!/usr/bin/env bash
# cpgo merge/top/validate against profiles written by Go's runtime/pprof,
# checked with `go tool pprof` (Go 1.19) as the reference implementation.
. "$(dirname "$0")/lib.sh"

export GOCACHE=$TRASH/gocache GOFLAGS= GOPROXY=off GO111MODULE=on

# Reports rows only, sorted, so equal profiles give equal text.
pprof_top() {
	go tool pprof -top -nodecount=100000 "$1" 2>/dev/null | sed -n '/flat%/,$p' | sort
}
pprof_raw() {
	go tool pprof -raw "$1" 2>/dev/null
}

test_expect_success 'build the Go test peer and record two CPU profiles' '
	(cd "$CPGO_ROOT/tests/go" && go build -o "$TRASH/burn" .) &&
	./burn -o a.pprof -d 700ms -mix 3:1 -heap heap.pprof &&
	./burn -o b.pprof -d 700ms -mix 1:3 &&
	test -s a.pprof && test -s b.pprof && test -s heap.pprof
'

test_expect_success 'one input round-trips with every field kept (pprof -raw identical)' '
	cpgo merge -q -o rt.pprof a.pprof &&
	pprof_raw a.pprof >expect &&
	pprof_raw rt.pprof >actual &&
	grep -q "^Locations" expect &&
	grep -q "^Mappings" expect &&
	diff expect actual
'

test_expect_success 'merging two equals go tool pprof -proto a b (per function and raw)' '
	cpgo merge -q -o m.pprof a.pprof b.pprof &&
	go tool pprof -proto a.pprof b.pprof >gm.pprof 2>/dev/null &&
	pprof_top gm.pprof >expect &&
	pprof_top m.pprof >actual &&
	test $(wc -l <expect) -gt 5 &&
	diff expect actual &&
	pprof_raw gm.pprof >expect.raw &&
	pprof_raw m.pprof >actual.raw &&
	diff expect.raw actual.raw
'

test_expect_success 'merged duration is the sum, time the earliest' '
	go tool pprof -raw m.pprof 2>/dev/null | sed -n "s/^Duration: //p" >actual &&
	go tool pprof -raw gm.pprof 2>/dev/null | sed -n "s/^Duration: //p" >expect &&
	test -s expect && diff expect actual
'

test_expect_success '-w 2 on an input counts it twice (= pprof -proto b b a)' '
	cpgo merge -q -o w.pprof -w 2 b.pprof a.pprof &&
	go tool pprof -proto b.pprof b.pprof a.pprof >gw.pprof 2>/dev/null &&
	pprof_top gw.pprof >expect &&
	pprof_top w.pprof >actual &&
	diff expect actual &&
	! diff -q actual "$(pprof_top m.pprof >m.top; echo m.top)" >/dev/null
'

test_expect_success 'merge writes to standard output when it is not a terminal' '
	cpgo merge -q a.pprof b.pprof >stdout.pprof &&
	pprof_top stdout.pprof >actual &&
	pprof_top m.pprof >expect &&
	diff expect actual
'

test_expect_success 'merge reads standard input as -' '
	cpgo merge -q -o in.pprof - <a.pprof &&
	pprof_raw in.pprof >actual && pprof_raw a.pprof >expect && diff expect actual
'

test_expect_success 'top shows the same rows as go tool pprof -top' '
	go tool pprof -top -nodecount=100000 m.pprof 2>/dev/null | sed -n "/flat%/,\$p" >expect &&
	cpgo top -n 0 m.pprof >out &&
	sed -n "/flat%/,\$p" out | sed "s/  [^ ]*:[0-9?]*\$//" >actual &&
	diff expect actual
'

test_expect_success 'top names each function with file:start_line (? when unknown)' '
	grep -E "main\.burnWarm +.*/tests/go/main\.go:\?$" out &&
	grep -E "main\.step \(inline\)" out
'

test_expect_success 'top -n 3 shows three rows; --cum sorts by cum' '
	cpgo top -n 3 m.pprof >out3 &&
	test $(sed -n "/flat%/,\$p" out3 | wc -l) -eq 4 &&
	cpgo top --cum -n 0 m.pprof | sed -n "/flat%/,\$p" | sed 1d >cum &&
	# The main goroutine holds nearly all of it; a GC or scheduler sample
	# can keep it just under 100% (seen in CI: 99.28%).
	head -1 cum | grep -E "% +(runtime\.main|main\.main|main\.run) " &&
	head -1 cum | awk "{ sub(\"%\", \"\", \$5); exit !(\$5 + 0 >= 95) }" &&
	awk "{print \$5}" cum | tr -d % >cumpct &&
	sort -rn cumpct | diff - cumpct
'

test_expect_success 'top --sample-type samples shows counts like pprof -sample_index' '
	go tool pprof -top -nodecount=100000 -sample_index=samples m.pprof 2>/dev/null |
		sed -n "/flat%/,\$p" >expect &&
	cpgo top -n 0 --sample-type samples/count m.pprof | sed -n "/flat%/,\$p" |
		sed "s/  [^ ]*:[0-9?]*\$//" >actual &&
	diff expect actual
'

test_expect_success 'validate: Go 1.19 profiles lack Function.start_line, so not usable' '
	test_must_fail cpgo validate a.pprof >out &&
	grep "^FAIL.*start_line" out &&
	grep "^ok.*inlined frames" out &&
	grep "^ok.*samples/count" out &&
	grep "^warn.*below 10000" out &&
	grep "NOT usable" out
'

test_expect_success 'validate: a heap profile is refused with the types it has' '
	test_must_fail cpgo validate heap.pprof >out &&
	grep "^FAIL.*no samples/count or cpu/nanoseconds.*alloc_space/bytes" out &&
	grep "^FAIL.*not CPU time" out
'

test_expect_success 'merge refuses different sample types, listing both' '
	test_must_fail cpgo merge -o bad.pprof a.pprof heap.pprof 2>err &&
	grep "heap.pprof: sample types \[alloc_objects/count .*\] differ from a.pprof.s \[samples/count cpu/nanoseconds\]" err &&
	test ! -e bad.pprof
'

test_expect_success '--normalize refuses an input without duration' '
	test_must_fail cpgo merge --normalize -o bad.pprof heap.pprof 2>err &&
	grep "heap.pprof: has no duration" err &&
	test ! -e bad.pprof
'

test_done
