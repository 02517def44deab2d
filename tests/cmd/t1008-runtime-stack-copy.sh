#!/usr/bin/env bash
# Ring mode with the CFI tables copies the top of each thread's user stack
# with every sample; the copy's size follows the thread's depth. A program
# whose main holds a 12 KiB buffer needs more than the first 8 KiB copy:
# its thread gets a bigger one and its stacks reach the thread's first
# frame (with CPGO_STACK_BYTES=8192 fixed, the control, they do not). A
# shallow program's thread gets a smaller copy, its stacks still complete.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"
LIB=$CPGO_BUILD/libcpgo.so
W=$CPGO_ROOT/tests/workloads

test_expect_success 'build the programs without frame pointers' '
	clang-19 -O2 -g -fomit-frame-pointer -o bigframe "$W/bigframe.c" &&
	clang-19 -O2 -g -fomit-frame-pointer -o spin "$W/spin.c"
'

# PROFILE: the share (percent) of its samples whose stack ends in [truncated].
truncated() {
	go tool pprof -top -nodecount=10000 "$1" 2>/dev/null |
		awk '$6 == "[truncated]" { sub("%", "", $5); t = $5 } END { print t + 0 }'
}

test_expect_success 'a deep frame: the copy grows, stacks are complete' '
	CPGO_HZ=1000 CPGO_PROFILE=big.pprof LD_PRELOAD=$LIB ./bigframe 1 &&
	go tool pprof -raw big.pprof >big.raw 2>/dev/null &&
	test "$(pprof_meta big.raw unwinder)" = cfi &&
	b=$(pprof_meta big.raw stack_bytes) && t=$(truncated big.pprof) &&
	echo "copy $b bytes, truncated $t%" &&
	test "$b" -ge 16384 &&
	# The first samples (until 16 were cut) had the 8 KiB copy.
	awk -v t="$t" "BEGIN { exit !(t <= 5) }"
'

test_expect_success 'control: a fixed 8 KiB copy cuts those stacks' '
	CPGO_STACK_BYTES=8192 CPGO_HZ=1000 CPGO_PROFILE=fixed.pprof LD_PRELOAD=$LIB ./bigframe 0.5 &&
	go tool pprof -raw fixed.pprof >fixed.raw 2>/dev/null &&
	test "$(pprof_meta fixed.raw stack_bytes)" = 8192 &&
	t=$(truncated fixed.pprof) && echo "truncated $t%" &&
	awk -v t="$t" "BEGIN { exit !(t >= 90) }"
'

test_expect_success 'a shallow program: the copy shrinks, stacks stay complete' '
	CPGO_HZ=2000 CPGO_PROFILE=spin.pprof LD_PRELOAD=$LIB ./spin 600 >/dev/null &&
	go tool pprof -raw spin.pprof >spin.raw 2>/dev/null &&
	b=$(pprof_meta spin.raw stack_bytes) && t=$(truncated spin.pprof) &&
	n=$(pprof_meta spin.raw samples) &&
	echo "copy $b bytes, truncated $t%, $n samples" &&
	test "$n" -ge 300 && test "$b" -lt 8192 &&
	awk -v t="$t" "BEGIN { exit !(t <= 1) }"
'

test_done
