#!/usr/bin/env bash
# dlopen/dlclose while sampling: a library is loaded, sampled and
# dlclose'd, and another one is loaded where it was; the profile written at
# exit books the first library's samples on its own functions, none on the
# later mapping. Libraries built without frame pointers are unwound with
# tables built when the drain thread sees them loaded.
. "$(dirname "$0")/lib.sh"
LIB=$CPGO_BUILD/libcpgo.so
W=$CPGO_ROOT/tests/workloads

test_expect_success 'build the program and its two libraries (no frame pointers)' '
	clang-19 -O2 -g -fPIC -shared -o liba.so "$W/dlswap_a.c" &&
	clang-19 -O2 -g -fPIC -shared -o libb.so "$W/dlswap_b.c" &&
	clang-19 -O2 -g -o dlswap "$W/dlswap.c"
'

# PREFIX: the shares of a_spin, b_spin, b_pad in PREFIX.pprof after checking the addresses.
shares() {
	out=$1.out &&
	a=$(sed -n "s/.*base_a=\(0x[0-9a-f]*\).*/\1/p" $out) &&
	b=$(sed -n "s/.*base_b=\(0x[0-9a-f]*\).*/\1/p" $out) &&
	echo "liba at $a, libb at $b" &&
	# The loader reuses the hole: libb.so (a page longer) over liba.so.
	awk -v a=$((a)) -v b=$((b)) "BEGIN { d = a - b; exit !(d >= 0 && d <= 8192) }" ||
		{ echo "libb.so was not mapped where liba.so was: nothing to show"; return 1; }
	go tool pprof -top -nodecount=100 $1.pprof 2>/dev/null >$1.top &&
	sa=$(awk "\$6 == \"a_spin\" { sub(\"%\", \"\", \$5); print \$5 }" $1.top) &&
	sb=$(awk "\$6 == \"b_spin\" { sub(\"%\", \"\", \$5); print \$5 }" $1.top) &&
	pad=$(awk "\$6 == \"b_pad\" { print }" $1.top) &&
	echo "a_spin ${sa:-0}% b_spin ${sb:-0}% b_pad: ${pad:-none}" &&
	test -z "$pad" &&
	awk -v a="${sa:-0}" -v b="${sb:-0}" "BEGIN { exit !(a >= 35 && a <= 65 && b >= 35 && b <= 65) }"
}

test_expect_success 'ring mode: the unloaded library keeps its samples' '
	CPGO_HZ=2000 CPGO_PROFILE=ring.pprof LD_PRELOAD=$LIB ./dlswap ./liba.so ./libb.so 0.5 >ring.out &&
	shares ring
'

test_expect_success 'ring mode: callers through both libraries are found' '
	awk "\$6 == \"drive\" { sub(\"%\", \"\", \$5); exit !(\$5 + 0 >= 95) }" ring.top &&
	! grep -q "\[truncated\]" ring.top
'

test_expect_success 'signal mode: the same' '
	CPGO_MODE=signal CPGO_HZ=1000 CPGO_PROFILE=sig.pprof LD_PRELOAD=$LIB \
		./dlswap ./liba.so ./libb.so 0.5 >sig.out &&
	shares sig
'

test_expect_success 'dlclose with libcpgo loaded but not profiling' '
	LD_PRELOAD=$LIB ./dlswap ./liba.so ./libb.so 0.05 >plain.out &&
	grep -q "base_a=" plain.out
'

test_done
