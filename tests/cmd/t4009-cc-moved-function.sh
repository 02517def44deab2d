#!/usr/bin/env bash
# A function moved to another file keeps its profile in cpgo cc: the
# profile names the file it was profiled in, but no other file defines that
# name, so the TU that defines it now gets it. A static name that another
# file of the profiled binary also defines stays out of that other file.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

mkdir -p src
# main in a file of its own: a call from another file stays a call, so the
# samples of crunch are its own top-level profile (not an inline instance
# in main's, which the context pre-inliner makes of a same-file callee).
cat >src/main.c <<'EOF_C'
unsigned long crunch(unsigned long n);
unsigned long helped(unsigned long n);
unsigned long other(unsigned long n);

int main(int argc, char **argv)
{
	unsigned long r = 0;
	for (int k = 0; k < 100; k++)
		r += crunch(2000000 + k) + helped(1000000 + k) + other(argc);
	return r == 42 && argc > 5;
}
EOF_C
cat >src/a.c <<'EOF_C'
__attribute__((noinline)) unsigned long crunch(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++) {
		s = s * 31 + (i ^ (s >> 7));
		s ^= s << 3;
	}
	return s;
}

/* Same name as b.c's static, which is never sampled. */
static __attribute__((noinline)) unsigned long helper(unsigned long n)
{
	unsigned long s = 1;
	for (unsigned long i = 0; i < n; i++)
		s = s * 17 + (i | (s >> 3));
	return s;
}

__attribute__((noinline)) unsigned long helped(unsigned long n)
{
	return helper(n) + 1;
}
EOF_C
cat >src/b.c <<'EOF_C'
static __attribute__((noinline)) unsigned long helper(unsigned long n)
{
	return n * 3 + 1;
}

unsigned long other(unsigned long n)
{
	return helper(n);
}
EOF_C

test_expect_success 'a profile of the two-file program' '
	(cd src && cpgo cc -pgo=off clang-19 -O2 -o ../app main.c a.c b.c) &&
	cpgo record -F 1000 -o app.pprof ./app 2>/dev/null &&
	cpgo top -n 0 --sample-type samples app.pprof >top && cat top &&
	test "$(awk "\$6 == \"crunch\" { print \$1 }" top)" -gt 100 &&
	test "$(awk "\$6 == \"helper\" { print \$1 }" top)" -gt 20 &&
	grep " helper " top | grep -q "src/a.c:" && ! grep " helper " top | grep -q "src/b.c:"
'

test_expect_success 'before the move: crunch has its profile in a.c' '
	(cd src && cpgo cc -pgo=../app.pprof clang-19 -O2 -S -emit-llvm -o ../a.ll a.c) &&
	entry_counts a.ll >ec && cat ec && grep -q "^crunch [1-9]" ec
'

test_expect_success 'crunch moved to b.c: the rebuilt b.c gets its profile' '
	rm -rf moved && cp -r src moved &&
	sed -n "/^__attribute__((noinline)) unsigned long crunch(/,/^}/p" src/a.c >body &&
	test "$(wc -l <body)" -gt 5 &&
	sed -i "/^__attribute__((noinline)) unsigned long crunch(/,/^}/d" moved/a.c &&
	sed -i "1i unsigned long crunch(unsigned long n);" moved/a.c &&
	cat body >>moved/b.c && ! grep -q "crunch(unsigned long n)$" moved/a.c &&
	(cd moved && cpgo cc -pgo=../app.pprof clang-19 -O2 -S -emit-llvm -o ../b.ll b.c) &&
	entry_counts b.ll >ec && cat ec && grep -q "^crunch [1-9]" ec &&
	(cd moved && cpgo convert -o ../b.prof --text --stats --source-file b.c ../app.pprof 2>../stats) &&
	cat stats && grep -q "kept (no other file defines the name): [1-9]" stats &&
	grep -q "^crunch:[1-9]" b.prof
'

test_expect_success 'the other file`s static of the same name gets no profile of a.c`s' '
	! grep -q "^helper " ec && ! grep -q "^helper:" b.prof &&
	(cd moved && cpgo cc -pgo=../app.pprof clang-19 -O2 -S -emit-llvm -o ../a2.ll a.c) &&
	entry_counts a2.ll >ec2 && cat ec2 && grep -q "^helper [1-9]" ec2 && ! grep -q "^crunch " ec2
'

test_done
