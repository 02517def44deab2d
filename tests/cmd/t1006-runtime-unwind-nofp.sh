#!/usr/bin/env bash
# Code built without frame pointers is unwound with the CFI tables: one
# program (and its shared library) built with and without
# -fno-omit-frame-pointer; the stacks found without frame pointers agree
# with the frame-pointer stacks (same functions, same call lines) for
# >= 99% of the samples, in ring mode (drain thread) and in signal mode
# (handler). The same comparison fails for the kernel's frame-pointer walk
# of the build without them, so the figure measures something.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"
LIB=$CPGO_BUILD/libcpgo.so
W=$CPGO_ROOT/tests/workloads

test_expect_success 'build the program with and without frame pointers' '
	build_test_tool stackagree "$CPGO_ROOT/tests/helper/stackagree.c" &&
	for v in fp nofp; do
		if test $v = fp; then f=-fno-omit-frame-pointer; else f=-fomit-frame-pointer; fi &&
		mkdir -p $v &&
		clang-19 -O2 -g $f -fPIC -shared -o $v/libdeeplib.so "$W/deeplib.c" &&
		clang-19 -O2 -g $f -o $v/deepcall "$W/deepcall.c" -L$v -ldeeplib \
			-Wl,-rpath,"\$ORIGIN" || exit 1
	done
'

test_expect_success 'the frame-pointer build is walked by frame pointers' '
	CPGO_HZ=2000 CPGO_PROFILE=fp.pprof LD_PRELOAD=$LIB fp/deepcall 4 &&
	go tool pprof -raw fp.pprof >fp.raw 2>/dev/null &&
	test "$(pprof_meta fp.raw unwinder)" = kernel-fp
'

# PROFILE: prints the helper's figures against the frame-pointer profile.
agreement() {
	./stackagree fp.pprof "$1" main deepcall libdeeplib.so
}
# FIGURES: agree >= 99%, with enough samples (the machine is shared: 1 kHz may give half) and deep enough stacks to mean it.
check_agreement() {
	echo "$1" | awk '{ exit !($2 >= 99 && $6 >= 500 && $10 >= 8) }'
}

test_expect_success 'ring mode: the build without frame pointers uses the CFI tables' '
	CPGO_HZ=2000 CPGO_PROFILE=ring.pprof LD_PRELOAD=$LIB nofp/deepcall 2.5 &&
	go tool pprof -raw ring.pprof >ring.raw 2>/dev/null &&
	test "$(pprof_meta ring.raw unwinder)" = cfi &&
	test "$(pprof_meta ring.raw mode)" = perf-ring
'

test_expect_success 'ring mode: >= 99% of the samples agree with the frame-pointer stacks' '
	a=$(agreement ring.pprof) && echo "ring: $a" && check_agreement "$a"
'

test_expect_success 'signal mode: the handler unwinds with the tables, >= 99% agree' '
	CPGO_MODE=signal CPGO_HZ=1000 CPGO_PROFILE=sig.pprof LD_PRELOAD=$LIB nofp/deepcall 2.5 &&
	go tool pprof -raw sig.pprof >sig.raw 2>/dev/null &&
	test "$(pprof_meta sig.raw unwinder)" = cfi &&
	a=$(agreement sig.pprof) && echo "signal: $a" && check_agreement "$a"
'

test_expect_success 'control: frame pointers on the build without them do not agree' '
	CPGO_UNWIND=fp CPGO_HZ=2000 CPGO_PROFILE=bad.pprof LD_PRELOAD=$LIB nofp/deepcall 1 &&
	a=$(agreement bad.pprof) && echo "kernel-fp without frame pointers: $a" &&
	echo "$a" | awk "{ exit !(\$2 < 50) }"
'

test_expect_success 'CPGO_UNWIND=cfi on the frame-pointer build agrees as well' '
	CPGO_UNWIND=cfi CPGO_HZ=2000 CPGO_PROFILE=cfi-fp.pprof LD_PRELOAD=$LIB fp/deepcall 2.5 &&
	a=$(agreement cfi-fp.pprof) && echo "cfi on the fp build: $a" && check_agreement "$a"
'

test_done
