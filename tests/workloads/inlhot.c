/* A hot loop with an inlined helper, called directly and through warm: the
 * import tests check inlined frames, start lines and callers on it. */
#include <stdio.h>
#include <stdlib.h>
static inline unsigned long mix(unsigned long x)
{
	x ^= x >> 7;
	return x * 0x9e3779b97f4a7c15ul;
}

__attribute__((noinline)) unsigned long hot(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++)
		s += mix(s + i) >> 3;
	return s;
}

__attribute__((noinline)) unsigned long warm(unsigned long n)
{
	return hot(n / 3) + n;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 150000000;
	printf("%lu\n", hot(n) + warm(n));
	return 0;
}
