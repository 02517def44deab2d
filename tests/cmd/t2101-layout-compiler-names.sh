#!/usr/bin/env bash
# cpgo layout against the symbols real compilers emit, in objects, archives
# and binaries: same-named statics of several files, clang's .__uniq. names
# (Itanium-mangled C statics), ThinLTO's .llvm. promotions, gcc's .part
# clones and .cold parts; names the build no longer has are reported.
. "$(dirname "$0")/lib.sh"

if ! command -v clang-19 >/dev/null || ! command -v gcc >/dev/null ||
	! command -v ld.lld-19 >/dev/null; then
	test_skip "clang-19, lld-19 and gcc are needed"
	test_done
	exit 0
fi


test_expect_success 'setup: sources whose functions the compilers rename' '
	make_gen &&
	cat >s1.c <<-\EOC &&
	__attribute__((noinline)) static int helper(int x) { return x * 3 + 1; }
	int one(int x) { return helper(x) + 1; }
	EOC
	cat >s2.c <<-\EOC &&
	__attribute__((noinline)) static int helper(int x) { return x * 5 + 2; }
	int two(int x) { return helper(x) + 2; }
	EOC
	cat >gccnames.c <<-\EOC &&
	#include <stdio.h>
	void report(const char *m, int x) __attribute__((cold));
	extern int g;
	int checked(int x, int y)
	{
		if (x < 0) {
			report("negative", x);
			report("again", y);
			return -x * y + 17;
		}
		return x * 2 + y;
	}
	static int body(int *v, int n)
	{
		int s = 0;
		for (int i = 0; i < n; i++) s += v[i] * v[i] + g;
		for (int i = 0; i < n; i++) s ^= v[i] >> 1;
		return s;
	}
	int split_me(int *v, int n)
	{
		if (!v) return -1;
		if (n <= 0) return 0;
		printf("%d\n", n); printf("%d\n", n + 1); printf("%d\n", n + 2);
		return body(v, n) + body(v + 1, n - 1);
	}
	int call1(int *v) { return split_me(v, 3); }
	int call2(int *v) { return split_me(v, 5); }
	EOC
	cat >uniq.c <<-\EOC &&
	__attribute__((noinline)) static int scale(int x) { return x * 7; }
	int use_scale(int x) { return scale(x) + 1; }
	EOC
	cat >lto1.c <<-\EOC &&
	static int counter;
	__attribute__((noinline)) static int bump(int x) { counter += x; return counter * 3; }
	int api(int x) { return bump(x) + 1; }
	EOC
	cat >lto2.c <<-\EOC &&
	int api(int);
	int main(int argc, char **argv) { (void)argv; return api(argc) & 1; }
	EOC
	gcc -O2 -c gccnames.c -o gccnames.o &&
	nm gccnames.o | grep -q " t checked.cold$" && nm gccnames.o | grep -q " t split_me.part.0$" &&
	clang-19 -O2 -ffunction-sections -funique-internal-linkage-names -c uniq.c -o uniq.o &&
	nm uniq.o | grep -q "_ZL5scalei.__uniq." &&
	clang-19 -O2 -ffunction-sections -c s1.c -o s1.o && clang-19 -O2 -ffunction-sections -c s2.c -o s2.o &&
	ar rcs libs.a s1.o s2.o &&
	clang-19 -O2 -flto=thin -fuse-ld=lld -o lto lto1.c lto2.c &&
	nm lto | grep -q " t bump.llvm.[0-9]*$"
'

# The profile names functions as a build without the renamings would (and one
# sample in a .cold part, which belongs to its function).
test_expect_success 'gcc: .part clones found, .cold samples go to the function, never the part' '
	printf "%s\n" "40 checked.cold:gccnames.c:4:8 call1:gccnames.c:27:27" \
		"60 checked:gccnames.c:4:12 call1:gccnames.c:27:27" \
		"30 split_me.part.0:gccnames.c:20:25 call2:gccnames.c:28:28" | ./gen g.pb.gz &&
	cpgo layout --binary gccnames.o g.pb.gz >edges 2>err &&
	printf "%s\n" "call1 checked 100" "call2 split_me.part.0 30" >expect &&
	diff expect edges && test ! -s err &&
	cpgo layout --order --binary gccnames.o g.pb.gz >order &&
	! grep -q cold order && grep -qx checked order
'

test_expect_success 'clang: a static under -funique-internal-linkage-names is found by its C name' '
	printf "%s\n" "50 scale:uniq.c:1:1 use_scale:uniq.c:2:2" | ./gen u.pb.gz &&
	cpgo layout --binary uniq.o u.pb.gz >edges &&
	grep -qx "use_scale _ZL5scalei.__uniq.[0-9]* 50" edges
'

test_expect_success 'an archive: two statics named helper, each found in its own file' '
	printf "%s\n" "70 helper:s1.c:1:1 one:s1.c:2:2" "20 helper:/build/s2.c:1:1 two:s2.c:2:2" \
		"5 vanished:old.c:1:1 one:s1.c:2:2" | ./gen h.pb.gz &&
	cpgo layout --binary libs.a h.pb.gz >edges 2>err &&
	printf "%s\n" "one helper 70" "two helper 20" >expect && diff expect edges &&
	grep -q "1 function(s) with 5.3% of the samples are not in libs.a (vanished); left out" err &&
	cpgo layout --order --binary libs.a h.pb.gz >order &&
	test "$(grep -cx helper order)" = 2 && ! grep -q vanished order
'

test_expect_success 'ThinLTO: a promoted static (.llvm.N) is found by its name' '
	printf "%s\n" "80 bump:lto1.c:2:2 api:lto1.c:3:3" "10 api:lto1.c:3:3 main:lto2.c:2:2" | ./gen l.pb.gz &&
	cpgo layout --binary lto l.pb.gz >edges &&
	grep -qx "api bump.llvm.[0-9]* 80" edges && grep -qx "main api 10" edges
'

test_expect_success 'an object that is not ELF, or a missing one, is an error naming it' '
	echo "not elf" >junk.o &&
	test_must_fail cpgo layout --binary junk.o h.pb.gz 2>err && grep -q "junk.o: not an ELF file" err &&
	test_must_fail cpgo layout --binary nothere.o h.pb.gz 2>err && grep -q "nothere.o" err
'

test_done
