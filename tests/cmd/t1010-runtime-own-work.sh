#!/usr/bin/env bash
# libcpgo's own work is not in the profile it writes: a short run at 20 kHz
# of code without frame pointers (so unwinding builds CFI tables) shows the
# program, not libcpgo building tables, and no more samples than its CPU
# time allows.
. "$(dirname "$0")/lib.sh"
LIB=$CPGO_BUILD/libcpgo.so

test_expect_success 'build the workload without frame pointers' '
	clang-19 -O2 -g -fomit-frame-pointer -o spin "$CPGO_ROOT/tests/workloads/spin.c"
'

# PROFILE: the percentage of samples with a libcpgo frame anywhere in the stack.
own_share() {
	go tool pprof -top -focus="cfitab_|perfring_|sampler_|collector_|threads_drain|cpgo_cfi_" "$1" 2>/dev/null |
		sed -n "s/.*accounting for [^,]*, \([0-9.]*\)% of .*/\1/p"
}

# A 10 ms run has ~200 samples, so the share is judged over the three runs
# together. Measured: 0.5-2% on a quiet machine, 1.5-2.7% (mean 2.06%) in a
# CI run, where the old 2% bound failed; the bug this guards against made it
# 55%, so the bound is 5%.
test_expect_success 'a 10 ms run: no samples of libcpgo, achieved rate within the requested' '
	sum=0 &&
	for i in 1 2 3; do
		CPGO_HZ=20000 CPGO_PROFILE=short$i.pprof LD_PRELOAD=$LIB ./spin 5 >/dev/null &&
		go tool pprof -raw short$i.pprof >short$i.raw 2>/dev/null &&
		hz=$(sed -n "s/^Comment: cpgo.achieved_hz=//p" short$i.raw) &&
		own=$(own_share short$i.pprof) &&
		echo "run $i: achieved $hz Hz, libcpgo ${own:-0}% of the samples" &&
		awk -v h="$hz" "BEGIN { exit !(h > 0 && h <= 20000 * 1.15) }" &&
		sum=$(awk -v s="$sum" -v o="${own:-0}" "BEGIN { print s + o }") || return 1
	done &&
	awk -v s="$sum" "BEGIN { exit !(s / 3 < 5) }"
'

test_done
