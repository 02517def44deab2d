#!/usr/bin/env bash
# The pprof reader under libFuzzer: a short run from a generated seed corpus
# must find no crash, leak or hang.
. "$(dirname "$0")/lib.sh"

FUZZ=$CPGO_BUILD/fuzz/fuzz_profile
GEN=$CPGO_BUILD/fuzz/gen_seeds

test_expect_success 'fuzz target and seed generator are built' '
	( cd "$CPGO_ROOT" && make -s B="${CPGO_BUILD#$CPGO_ROOT/}" fuzz >/dev/null ) &&
	test -x "$FUZZ" && test -x "$GEN"
'

test_expect_success 'seed corpus is generated and parses' '
	mkdir -p corpus && "$GEN" corpus &&
	test -s corpus/seed1.pb.gz && test -s corpus/seed2.pb &&
	cpgo_out=$("$FUZZ" -runs=0 corpus 2>&1) &&
	echo "$cpgo_out" | grep -q "INITED"
'

test_expect_success 'fuzzing the reader for 30 seconds finds nothing' '
	mkdir -p work && cp corpus/* work/ &&
	"$FUZZ" -max_total_time=30 -timeout=10 -rss_limit_mb=2048 -max_len=65536 work >fuzz.log 2>&1 ||
	{ tail -40 fuzz.log; false; }
	grep -q "Done [0-9]* runs" fuzz.log
'

test_done
