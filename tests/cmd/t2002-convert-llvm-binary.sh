#!/usr/bin/env bash
# cpgo convert --binary: the profiled binary supplies discriminators, zero
# counts for unsampled lines, the symbol list and missing start lines; and
# clang-19 applies the result (inlining replay, indirect-call promotion,
# cold unsampled functions). Without contexts (--no-context), so that op_hot keeps
# a profile of its own; t2003 tests the contexts.
. "$(dirname "$0")/lib.sh"

base=0x555555554000 # where the PIE "was loaded" in the made-up profile

mkprof_build() { build_test_tool mkprof "$CPGO_ROOT/tests/helper/mkprof.c"; }

# Addresses of the instructions of function $1 in binary $2 (hex, no 0x).
insns() {
	llvm-objdump-19 -d --no-show-raw-insn "$2" |
		awk -v f="<$1>:" '$2 == f { on = 1; next } on && /^$/ { exit } on { sub(":", "", $1); print $1 }'
}

test_expect_success 'setup: a program with an indirect call, an inline helper, a dead function' '
	mkprof_build &&
	cat >prog.c <<-\EOF &&
	#include <stdio.h>
	#include <stdlib.h>

	typedef unsigned (*op_fn)(unsigned);

	static inline unsigned mix(unsigned x)
	{
		x ^= x >> 16;
		x *= 0x7feb352d;
		return x ^ (x >> 15);
	}

	__attribute__((noinline)) unsigned op_hot(unsigned x)
	{
		return mix(x) + 1;
	}

	__attribute__((noinline)) unsigned op_cold(unsigned x)
	{
		return x * 3;
	}

	__attribute__((noinline)) void never_called(void)
	{
		puts("never");
	}

	int main(int argc, char **argv)
	{
		op_fn ops[2] = { op_hot, op_cold };
		unsigned s = 0;
		long n = argc > 1 ? atol(argv[1]) : 1000;
		if (argc > 5)
			never_called();
		for (long i = 0; i < n; i++)
			s += ops[(i & 1023) == 0](s + (unsigned)i);
		printf("%u\n", s);
		return 0;
	}
	EOF
	clang-19 -O2 -g -fdebug-info-for-profiling -o prog prog.c &&
	bid=$(readelf -n prog | awk "/Build ID/ { print \$3 }") &&
	ret=$(llvm-objdump-19 -d --no-show-raw-insn prog |
		awk "/<main>:/ { on = 1 } on && /call.*\*/ { getline; sub(\":\", \"\", \$1); print \$1; exit }") &&
	test -n "$ret" &&
	{
		echo "type samples count"
		echo "map 1 $((base + 0x1000)) $((base + 0x100000)) 0x1000 $PWD/prog $bid"
		id=0
		# An IP-only profile with stacks: every instruction of op_hot, called from main.
		id=$((id + 1)); printf "loc %d 1 0x%x\n" $id $((base + 0x$ret)); r=$id
		for a in $(insns op_hot prog); do
			id=$((id + 1)); printf "loc %d 1 0x%x\n" $id $((base + 0x$a))
			echo "sample 4000 @ $id $r"
		done
		for a in $(insns op_cold prog); do
			id=$((id + 1)); printf "loc %d 1 0x%x\n" $id $((base + 0x$a))
			echo "sample 3 @ $id $r"
		done
		for a in $(insns main prog | sed -n "30,40p"); do
			id=$((id + 1)); printf "loc %d 1 0x%x\n" $id $((base + 0x$a))
			echo "sample 500 @ $id"
		done
	} >spec &&
	./mkprof prof.pb.gz <spec
'

test_expect_success 'unsymbolized profile + --binary: inline instance, targets, zero lines' '
	cpgo convert --text --stats --no-context --no-zero-lines --binary prog prof.pb.gz >nz.txt 2>nzstats &&
	grep -q "zero-count lines: 0" nzstats && ! grep -Eq "^ [0-9]+(\.[0-9]+)?: 0$" nz.txt &&
	cpgo convert --text --stats --no-context --zero-lines --binary prog prof.pb.gz >p.txt 2>stats &&
	cat p.txt stats &&
	grep -q "^op_hot:[0-9]*:[1-9]" p.txt &&
	grep -q "^ 2: mix:[1-9]" p.txt &&
	grep -Eq "^ [0-9.]+: [0-9]+ op_hot:[0-9]+ op_cold:[0-9]+$" p.txt &&
	grep -Eq "^ [0-9]+(\.[0-9]+)?: 0$" p.txt &&
	grep -Eq "zero-count lines: [1-9]" stats &&
	llvm-profdata-19 show --sample p.txt >/dev/null
'

test_expect_success '--stats says what was dropped and why, in samples and shares' '
	cpgo convert --text --stats --binary prog prof.pb.gz >d.txt 2>dstats &&
	grep -Eq "^samples used: [0-9]+ \([0-9.]+% of samples\)$" dstats &&
	for why in "no function or name" "line 0" "no start line" "other files or too deep"; do
		grep -Eq "^  $why: [0-9]+ \([0-9.]+% of samples\)$" dstats || return 1
	done &&
	grep -Eq "^skid-protected lines \(no zero\): [0-9]+$" dstats &&
	grep -Eq "^line-0 frames remapped to a nearby line: [0-9]+$" dstats &&
	test_must_fail cpgo convert --line0=bogus --binary prog -o x.prof prof.pb.gz 2>err &&
	grep -q "all, calls or drop" err && test ! -e x.prof &&
	test_must_fail cpgo convert --line-counts=avg --binary prog -o x.prof prof.pb.gz 2>err &&
	grep -q "max or sum" err
'

test_expect_success 'discriminators from the line table reach the profile' '
	grep -Eq "^ [0-9]+\.[1-9][0-9]*: " p.txt
'

test_expect_success 'ext-binary carries the symbol list of never-sampled functions' '
	cpgo convert --no-context --zero-lines --binary prog -o p.prof prof.pb.gz &&
	llvm-profdata-19 show --sample --show-prof-sym-list p.prof >show &&
	grep -q "never_called" show &&
	! grep -A100 "profile symbol list" show | grep -qx "op_hot" &&
	llvm-profdata-19 merge --sample --text p.prof -o back.txt &&
	diff -u p.txt back.txt
'

test_expect_success 'clang-19 applies it: inline replay, promoted indirect call, cold dead code' '
	clang-19 -O2 -g -fdebug-info-for-profiling -S -emit-llvm -o base.ll prog.c &&
	! grep -q "call i32 @op_hot" base.ll &&
	clang-19 -O2 -g -fdebug-info-for-profiling -fprofile-sample-use=p.prof \
		-Rpass=sample-profile-inline -S -emit-llvm -o pgo.ll prog.c 2>remarks &&
	grep -q "mix.*inlined into.*op_hot.*to match profiling context" remarks &&
	grep -q "call i32 @op_hot" pgo.ll &&
	grep -A1 "define.*@never_called" pgo.ll | grep -q "!prof" &&
	nc=$(grep "define.*@never_called" pgo.ll | sed -n "s/.*!prof \(![0-9]*\).*/\1/p") &&
	grep -q "^$nc = !{!\"function_entry_count\", i64 0}" pgo.ll
'

test_expect_success 'missing start lines are repaired from --binary' '
	cat >spec2 <<-\EOS &&
	type samples count
	fn 1 op_hot prog.c 0
	fn 2 mix prog.c 0
	loc 1 0 0 2:10 1:15
	sample 7 @ 1
	EOS
	./mkprof nostart.pb.gz <spec2 &&
	test_must_fail cpgo convert --text nostart.pb.gz 2>err && grep -q "op_hot" err &&
	cpgo convert --text --no-zero-lines --binary prog nostart.pb.gz >r.txt &&
	head -1 r.txt | grep -qx "op_hot:7:0" &&
	grep -qx " 2: mix:7" r.txt && grep -qx "  4: 7" r.txt
'

test_expect_success 'a binary from another build is refused' '
	clang-19 -O1 -g -o other prog.c &&
	test_must_fail cpgo convert --binary other -o o.prof prof.pb.gz 2>err &&
	grep -q "build id" err && grep -q -- "--binary" err && test ! -e o.prof
'

test_expect_success 'without --binary the profiled binary is found by its build id' '
	cpgo convert --text --stats -o auto.txt prof.pb.gz 2>stats &&
	grep -q "profiled binary found by build id: yes" stats &&
	cpgo convert --text --binary prog -o explicit.txt prof.pb.gz &&
	cmp auto.txt explicit.txt &&
	cpgo convert --text --no-binary --stats -o none.txt prof.pb.gz 2>stats2 &&
	grep -q "profiled binary found by build id: no" stats2 &&
	! cmp -s auto.txt none.txt
'

test_expect_success 'a rebuilt binary at the same path is not used' '
	cp prog prog.orig && clang-19 -O1 -g -o prog prog.c &&
	# The profile has addresses only: without its own binary it cannot be keyed.
	test_must_fail cpgo convert --text -o rebuilt.txt prof.pb.gz 2>err &&
	grep -q -- "--binary" err && test ! -e rebuilt.txt &&
	mv prog.orig prog
'

test_done
