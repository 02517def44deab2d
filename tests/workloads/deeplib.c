/* The shared library of deepcall.c: recursion that calls back into the executable. */
__attribute__((noinline)) unsigned long deeplib_step(unsigned long x)
{
	for (int i = 0; i < 200; i++)
		x += (x >> 5) ^ (unsigned long)i * 0x2545F4914F6CDD1Dul;
	return x;
}

__attribute__((noinline)) unsigned long deeplib_fold(unsigned long x, int depth,
						     unsigned long (*cb)(unsigned long))
{
	unsigned long r;

	if (depth == 0)
		return cb(x) + 1;
	r = deeplib_fold(deeplib_step(x), depth - 1, cb);
	return r ^ (x * 5);
}
