#!/usr/bin/env bash
# Samples are booked on user code only while the thread ran user code:
# a program that alternates a compute loop with heavy write() calls shows
# the compute loop's share of user time as getrusage measures it (within
# 5 points), and the kernel's time on its own [kernel] frame.
. "$(dirname "$0")/lib.sh"
LIB=$CPGO_BUILD/libcpgo.so

test_expect_success 'build the workload' '
	clang-19 -O2 -g -fno-omit-frame-pointer -o syswrite "$CPGO_ROOT/tests/workloads/syswrite.c"
'

# RUN-OUTPUT PROFILE: prints "rusage-share cpgo-share kernel%" (cpgo's share among user samples).
shares() {
	ref=$(sed -n "s/^compute_user_share=\([0-9.]*\) .*/\1/p" "$1") &&
	go tool pprof -top -nodecount=100 "$2" 2>/dev/null >"$2.top" &&
	awk -v ref="$ref" '$6 == "compute" { c = $5 } $6 == "[kernel]" { k = $2 }
		END { sub("%", "", c); sub("%", "", k); k += 0;
		      printf "%s %.1f %.1f\n", ref, 100 * c / (100 - k), k }' "$2.top"
}
within5() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d <= 5 && d >= -5) }'; }

test_expect_success 'ring mode: the compute share matches getrusage, kernel time is [kernel]' '
	CPGO_MODE=auto CPGO_HZ=4000 CPGO_PROFILE=ring.pprof LD_PRELOAD=$LIB ./syswrite out.txt >ring.out &&
	go tool pprof -raw ring.pprof >ring.raw &&
	if ! grep -qx "Comment: cpgo.mode=perf-ring" ring.raw; then
		echo "perf events refused here: signal mode only"; exit 0
	fi &&
	set -- $(shares ring.out ring.pprof) && echo "getrusage $1%, cpgo $2%, [kernel] $3%" &&
	within5 "$1" "$2" &&
	if grep -q "Comment: cpgo.kernel_share=" ring.raw; then
		sys=$(sed -n "s/.*user_s=\([0-9.]*\) sys_s=\([0-9.]*\)/\1 \2/p" ring.out) &&
		set -- $sys "$3" && echo "getrusage system share: $(awk -v u=$1 -v s=$2 "BEGIN {print 100*s/(u+s)}")%" &&
		awk -v u="$1" -v s="$2" -v k="$3" "BEGIN { d = 100 * s / (u + s) - k; exit !(d <= 10 && d >= -10) }"
	fi
'

test_expect_success 'signal mode: a period that ends in the kernel books nothing on user code' '
	CPGO_MODE=signal CPGO_HZ=1000 CPGO_PROFILE=sig.pprof LD_PRELOAD=$LIB ./syswrite out.txt >sig.out &&
	go tool pprof -raw sig.pprof >sig.raw && grep -qx "Comment: cpgo.mode=signal" sig.raw &&
	set -- $(shares sig.out sig.pprof) && echo "getrusage $1%, cpgo $2%" &&
	within5 "$1" "$2"
'

test_done
