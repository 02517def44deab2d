#!/usr/bin/env bash
# dlopen/dlclose racing in two threads while sampling: each library is
# often loaded where the other one just was. No sample of one library may
# be booked on the other (it would show as that library's function under
# the other thread's driver), and in ring mode the samples of libraries
# that lived only a few milliseconds (between two drains) still get their
# callers: the tables learn of an object before it is unloaded.
. "$(dirname "$0")/lib.sh"
LIB=$CPGO_BUILD/libcpgo.so
W=$CPGO_ROOT/tests/workloads

test_expect_success 'build the program and its two libraries (no frame pointers)' '
	clang-19 -O2 -g -fPIC -shared -o liba.so "$W/dlswap_a.c" &&
	clang-19 -O2 -g -fPIC -shared -o libb.so "$W/dlswap_b.c" &&
	clang-19 -O2 -g -o dlrace "$W/dlrace.c" -lpthread
'

# PROFILE: sample counts by library of the leaf-side frames (a, b, - none) and driver (A, B, - none).
classify() {
	go tool pprof -traces -sample_index=samples "$1" 2>/dev/null | awk '
	function flush() { if (n) c[lib "/" drv] += v; n = 0; lib = "-"; drv = "-" }
	BEGIN { lib = "-"; drv = "-" }
	/^-----/ { flush(); next }
	/^ +[0-9]+ +[^ ]/ { n = 1; v = $1; f = $2 }
	/^ +[^0-9 ]/ { f = $1 }
	{
		if (f ~ /^a_/) lib = lib == "b" ? "ab" : "a"
		if (f ~ /^b_/) lib = lib == "a" ? "ab" : "b"
		if (f == "drive_a") drv = "A"
		if (f == "drive_b") drv = "B"
	}
	END { flush(); for (k in c) printf "%s=%d\n", k, c[k] }'
}
count() { sed -n "s|^$2=||p" "$1"; }

# CLASSES: no cross booking, and enough samples in both libraries to mean it.
check_booking() {
	cat "$1" | tr "\n" " " && echo &&
	test -z "$(count "$1" a/B)$(count "$1" b/A)$(count "$1" ab/A)$(count "$1" ab/B)" &&
	test "$(count "$1" a/A)" -ge 200 && test "$(count "$1" b/B)" -ge 200
}

test_expect_success 'ring mode: each library keeps its own samples' '
	CPGO_HZ=5000 CPGO_PROFILE=ring.pprof LD_PRELOAD=$LIB ./dlrace ./liba.so ./libb.so 100 0.004 &&
	classify ring.pprof >ring.cls && check_booking ring.cls
'

test_expect_success 'ring mode: samples of short-lived libraries have their callers' '
	lost=$(( $(count ring.cls a/-) + $(count ring.cls b/-) + 0 )) &&
	all=$(( $(count ring.cls a/A) + $(count ring.cls b/B) )) &&
	echo "without a driver: $lost of $all" &&
	test $((lost * 100)) -le "$all"
'

test_expect_success 'signal mode: each library keeps its own samples' '
	CPGO_MODE=signal CPGO_HZ=2000 CPGO_PROFILE=sig.pprof LD_PRELOAD=$LIB \
		./dlrace ./liba.so ./libb.so 100 0.004 &&
	classify sig.pprof >sig.cls && check_booking sig.cls
'

test_done
