#!/usr/bin/env bash
# cpgo layout: the call graph of a profile as lld's ordering files, names
# matched to the binary's symbols (statics of two files, compiler renamings,
# .cold parts left out), C3 clustering.
. "$(dirname "$0")/lib.sh"

mkprof_build() { build_test_tool mkprof "$CPGO_ROOT/tests/helper/mkprof.c"; }

# Four functions in the main binary (map 1) and one in libc (map 2):
#   A (self 100) <- main, B (50) <- A, C (10) <- B, D (80) <- main,
#   memcpy (7, another object) <- D.
test_expect_success 'setup: a call graph profile' '
	mkprof_build &&
	cat >spec <<-\EOS &&
	type samples count
	map 1 0x1000 0x9000 0 /bin/prog
	map 2 0x100000 0x200000 0 /lib/libc.so.6
	fn 1 main main.c 1
	fn 2 A a.c 1
	fn 3 B a.c 9
	fn 4 C c.c 1
	fn 5 D d.c 1
	fn 6 memcpy memcpy.S 1
	fn 7 inl a.h 3
	loc 1 1 0x1000 1:2
	loc 2 1 0x2000 2:2
	loc 3 1 0x3000 3:10
	loc 4 1 0x4000 4:2
	loc 5 1 0x5000 5:2
	loc 6 2 0x100010 6:1
	loc 7 1 0x2010 7:4 2:3
	sample 60 @ 2 1
	sample 40 @ 7 1
	sample 50 @ 3 2 1
	sample 10 @ 4 3 2 1
	sample 80 @ 5 1
	sample 7 @ 6 5 1
	EOS
	./mkprof p.pb.gz <spec
'

# An inlined frame belongs to the function it is inlined in (A), so loc 7 is A's.
test_expect_success 'edges: leaf and caller, heaviest first, other objects left out' '
	cpgo layout p.pb.gz >edges 2>err &&
	printf "%s\n" "main A 100" "main D 80" "A B 50" "B C 10" >expect &&
	diff expect edges &&
	grep -q "2.8% of the samples are in other objects" err
'

# C3 visits functions hottest first and appends each to its heaviest
# caller's cluster while the cluster fits a page: A joins main, D joins
# main's cluster after A, B follows A's cluster, C follows B's.
test_expect_success 'order: C3 clusters callers with their hottest callees' '
	cpgo layout --order -o order p.pb.gz &&
	printf "%s\n" main A D B C >expect &&
	diff expect order
'

test_expect_success 'setup: a binary with two statics of one name and compiler renamings' '
	cat >a.c <<-\EOS &&
	static int helper(int x) { return x * 3; }
	int A(int x) { return helper(x) + 1; }
	EOS
	cat >b.c <<-\EOS &&
	static int helper(int x) { return x * 5; }
	int B(int x) { return helper(x) + 2; }
	/* What -funique-internal-linkage-names and hot/cold splitting emit. */
	int C(int x) __asm__("C.__uniq.1234");
	int C(int x) { return x - 1; }
	int C_cold(int x) __asm__("C.cold");
	int C_cold(int x) { return x - 2; }
	EOS
	cat >main.c <<-\EOS &&
	int A(int), B(int), C(int) __asm__("C.__uniq.1234"), C_cold(int) __asm__("C.cold");
	int main(int argc, char **argv) { (void)argv; return A(argc) + B(argc) + C(argc) + C_cold(argc); }
	EOS
	cc -O0 -o prog main.c a.c b.c &&
	cat >spec2 <<-\EOS &&
	type samples count
	map 1 0x1000 0x9000 0 /bin/prog
	fn 1 main main.c 1
	fn 2 A a.c 2
	fn 3 helper a.c 1
	fn 4 B b.c 2
	fn 5 helper b.c 1
	fn 6 C b.c 5
	fn 7 gone old.c 1
	loc 1 1 0x1000 1:1
	loc 2 1 0x2000 2:2
	loc 3 1 0x3000 3:1
	loc 4 1 0x4000 4:2
	loc 5 1 0x5000 5:1
	loc 6 1 0x6000 6:6
	loc 7 1 0x7000 7:1
	sample 30 @ 3 2 1
	sample 20 @ 5 4 1
	sample 10 @ 6 1
	sample 5 @ 7 1
	EOS
	./mkprof p2.pb.gz <spec2
'

test_expect_success '--binary: statics stay apart, renamed symbols found, .cold left out, unknown reported' '
	cpgo layout --binary prog p2.pb.gz >edges 2>err &&
	printf "%s\n" "A helper 30" "B helper 20" "main C.__uniq.1234 10" >expect &&
	diff expect edges &&
	grep -q "1 function(s) with 7.7% of the samples are not in prog" err &&
	cpgo layout --binary prog --order p2.pb.gz >order &&
	! grep -q "C.cold" order && grep -qx "C.__uniq.1234" order &&
	test "$(grep -cx helper order)" = 2 && ! grep -q gone order
'

test_expect_success 'bad input: a missing profile, a broken one, a binary that is not ELF' '
	test_must_fail cpgo layout missing.pb.gz 2>err && grep -q "missing.pb.gz" err &&
	echo junk >bad.pb.gz && test_must_fail cpgo layout bad.pb.gz 2>err && grep -q "bad.pb.gz" err &&
	test_must_fail cpgo layout --binary spec p.pb.gz 2>err && grep -q "spec: not an ELF file" err &&
	test_must_fail cpgo layout -o out p.pb.gz extra.pb.gz 2>err && grep -q "one profile" err &&
	test ! -e out
'

test_done
