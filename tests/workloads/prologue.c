/*
 * A tiny function called in a hot loop: most of its samples land in its
 * prologue or epilogue, where rbp is still the caller's frame and a plain
 * frame-pointer walk skips the caller (tests/cmd/t1000).
 * usage: prologue [MILLIONS_OF_CALLS]   (default 300)
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) unsigned long tiny(unsigned long x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) unsigned long tiny_caller(long n)
{
	unsigned long s = 0;
	for (long i = 0; i < n; i++)
		s += tiny(s + (unsigned long)i);
	return s;
}

int main(int argc, char **argv)
{
	long n = (argc > 1 ? atol(argv[1]) : 300) * 1000000L;
	printf("%lu\n", tiny_caller(n));
	return 0;
}
