/*
 * A program with deep, varied stacks for the unwinder tests (t1006): a
 * recursion with two call sites per level, and calls into a shared library
 * that calls back into the executable. Every function is noinline so that
 * the builds with and without frame pointers have the same functions and
 * call lines. Usage: deepcall CPU-SECONDS (CPU time: a loaded machine gives the
 * same number of samples)
 */
#include <stdlib.h>
#include <time.h>

unsigned long deeplib_fold(unsigned long x, int depth, unsigned long (*cb)(unsigned long));

static volatile unsigned long sink;

__attribute__((noinline)) unsigned long leaf_spin(unsigned long x)
{
	for (int i = 0; i < 400; i++)
		x ^= (x << 13) ^ (x >> 7) ^ (unsigned long)i;
	return x;
}

__attribute__((noinline)) unsigned long leaf_mul(unsigned long x)
{
	for (int i = 0; i < 300; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

__attribute__((noinline)) unsigned long descend(unsigned long x, int depth)
{
	unsigned long a, b;

	if (depth == 0)
		return leaf_spin(x) + 1;
	a = descend(x ^ 0x9e37, depth - 1);
	b = (depth & 1) ? leaf_mul(a) : descend(a + 7, depth - 2 < 0 ? 0 : depth - 2);
	return a * 3 + b;
}

__attribute__((noinline)) unsigned long through_lib(unsigned long x)
{
	unsigned long r = deeplib_fold(x, 4, leaf_mul);
	return r ^ (x >> 3);
}

__attribute__((noinline)) unsigned long round_of(unsigned long i)
{
	unsigned long r = descend(i, 5 + (int)(i % 3));
	r += through_lib(r);
	return r;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct timespec t0, t;
	unsigned long i = 0;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (;;) {
		for (int k = 0; k < 64; k++)
			sink += round_of(i++);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	return 0;
}
