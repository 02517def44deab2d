/* The first library of dlswap.c. */
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static unsigned long a_work(unsigned long x)
{
	for (int i = 0; i < 20000; i++)
		x = x * 2862933555777941757ul + 3037000493ul;
	return x;
}

unsigned long a_spin(double secs)
{
	double end = now() + secs;
	unsigned long x = 1;

	while (now() < end)
		x = a_work(x);
	return x;
}
