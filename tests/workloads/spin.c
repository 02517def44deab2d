/*
 * Fixed-work CPU-bound workload for bench/overhead.sh: the same amount of
 * work every run (unlike burn.c, which burns fixed CPU time), spread over
 * a 12-deep call chain and a table so that unwinding costs what it would
 * in a real program.
 *
 * usage: spin [MILLIONS_OF_STEPS]   (default 300)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t table[1 << 16];

__attribute__((noinline)) static uint64_t leaf(uint64_t x)
{
	for (int i = 0; i < 64; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		table[(x >> 48) & 0xffff] += (uint32_t)x;
	}
	return x;
}

__attribute__((noinline)) static uint64_t chain(int depth, uint64_t x)
{
	if (depth == 0)
		return leaf(x);
	return chain(depth - 1, x ^ (uint64_t)depth) + 1;
}

int main(int argc, char **argv)
{
	long steps = (argc > 1 ? atol(argv[1]) : 300) * 1000000L / 64;
	uint64_t x = 1;

	for (long i = 0; i < steps; i++)
		x = chain(12, x);
	printf("%llu\n", (unsigned long long)(x ^ table[x & 0xffff]));
	return 0;
}
