#!/usr/bin/env bash
# Every libFuzzer target (tests/fuzz/fuzz_*.c): its seeds are generated and
# accepted, and a short run from them finds no crash, leak, hang or broken
# property. Long runs: `make fuzz FUZZ_SECONDS=N`, tests/fuzz/long.sh.
. "$(dirname "$0")/lib.sh"

FUZZ_DIR=$CPGO_BUILD/fuzz
GEN=$FUZZ_DIR/gen_seeds
TARGETS=$(cd "$CPGO_ROOT/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
SECS=${CPGO_FUZZ_SECONDS:-3}

# The targets carry ASan/UBSan themselves: the sanitized pass of the suite
# would only fuzz them a second time.
if nm "$CPGO_BUILD/libcpgo-core.a" 2>/dev/null | grep -q __asan_; then
	test_skip "fuzz targets run in the plain pass (they are sanitized themselves)"
	test_done
	exit
fi

test_expect_success 'fuzz targets and seed generator are built' '
	( cd "$CPGO_ROOT" && make -s B="${CPGO_BUILD#$CPGO_ROOT/}" fuzz-build >/dev/null ) &&
	test -x "$GEN" &&
	for t in $TARGETS; do test -x "$FUZZ_DIR/fuzz_$t" || return 1; done
'

test_expect_success 'there is a target for every parser and writer of the issue' '
	for t in profile merge llvm gcc perf_script gperf http cc_args; do
		echo "$TARGETS" | grep -qx "$t" || { echo "no fuzz target $t"; return 1; }
	done
'

test_expect_success 'every past finding (tests/fuzz/regress/TARGET/) runs cleanly' '
	for d in "$CPGO_ROOT"/tests/fuzz/regress/*/; do
		t=$(basename "$d") &&
		"$FUZZ_DIR/fuzz_$t" "$d"* >"regress-$t.log" 2>&1 ||
		{ tail -30 "regress-$t.log"; return 1; }
	done
'

for t in $TARGETS; do
	test_expect_success "seeds of $t are generated and run cleanly" '
		mkdir -p "corpus-$t" && "$GEN" "$t" "corpus-$t" &&
		test "$(ls "corpus-$t" | wc -l)" -ge 2 &&
		cpgo_out=$("$FUZZ_DIR/fuzz_$t" -runs=0 "corpus-$t" 2>&1) &&
		echo "$cpgo_out" | grep -q "INITED"
	'
	test_expect_success "fuzzing $t for $SECS seconds finds nothing" '
		mkdir -p "art-$t" &&
		"$FUZZ_DIR/fuzz_$t" -max_total_time=$SECS -timeout=10 -rss_limit_mb=2048 \
			-max_len=65536 -artifact_prefix="art-$t/" "corpus-$t" >"fuzz-$t.log" 2>&1 ||
		{ tail -40 "fuzz-$t.log"; false; }
		grep -q "Done [0-9]* runs" "fuzz-$t.log"
	'
done

test_done
