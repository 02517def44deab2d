#!/usr/bin/env bash
# A profile that does not represent the workload must not make the code it
# never saw slower (the Go PGO FAQ): trained on one mode of a program,
# measured on another mode whose functions have no samples, against the
# same build without a profile (instruction counts, callgrind).
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

cat >app.c <<'EOF_C'
#include <stdlib.h>
#include <string.h>
/* Mode "sum": arithmetic. */
__attribute__((noinline)) unsigned long checksum(const unsigned char *p, size_t n)
{
	unsigned long a = 1, b = 0;
	for (size_t i = 0; i < n; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

/* Mode "sort": branches and memory; never run in training. */
static int cmp(const void *x, const void *y)
{
	unsigned a = *(const unsigned *)x, b = *(const unsigned *)y;
	return a < b ? -1 : a > b;
}

__attribute__((noinline)) unsigned long sort_and_count(unsigned *v, size_t n)
{
	unsigned long runs = 0;
	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[i - 1])
			runs++;
	return runs;
}

__attribute__((noinline)) unsigned long histogram(const unsigned *v, size_t n)
{
	unsigned long h[64] = { 0 }, m = 0;
	for (size_t i = 0; i < n; i++)
		h[v[i] & 63]++;
	for (int i = 0; i < 64; i++)
		if (h[i] > m)
			m = h[i];
	return m;
}

int main(int argc, char **argv)
{
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	unsigned *v = malloc(n * sizeof(*v));
	unsigned long r = 0, x = 12345;
	if (!v)
		return 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		v[i] = (unsigned)(x >> 40);
	}
	if (argc > 1 && !strcmp(argv[1], "sort")) {
		for (int k = 0; k < 3; k++)
			r += sort_and_count(v, n) + histogram(v, n);
	} else {
		for (int k = 0; k < 40; k++)
			r += checksum((const unsigned char *)v, n * sizeof(*v));
	}
	free(v);
	return r == 42;
}
EOF_C

ir() { # BIN ARGS...
	local b=$1
	shift
	strip --strip-debug -o "$b.strip" "$b" &&
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "./$b.strip" "$@" 2>&1 |
		sed -n "s/.*Collected : \([0-9]*\).*/\1/p"
}

test_expect_success 'a profile of the "sum" mode only' '
	cpgo cc -pgo=off clang-19 -O2 -o off app.c &&
	cpgo record -F 2000 -o sum.pprof ./off sum 2>/dev/null &&
	cpgo top -n 0 --sample-type samples sum.pprof >top && cat top &&
	grep -q " checksum " top && ! grep -q " sort_and_count " top && ! grep -q " histogram " top
'

test_expect_success 'the PGO build of it on the "sort" mode: not slower than without the profile' '
	cpgo cc -pgo=sum.pprof clang-19 -O2 -o pgo app.c &&
	a=$(ir off sort 200000) && b=$(ir pgo sort 200000) && echo "off $a pgo $b" &&
	test -n "$a" && test -n "$b" &&
	awk -v a="$a" -v b="$b" "BEGIN { exit !(b <= a * 1.02) }"
'

test_done
