/* The shared-library half of burn.c: its functions must be symbolized from the .so. */
#include <time.h>

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) double lib_burn(double secs)
{
	double x = 1.0, t0 = thread_cpu();

	while (thread_cpu() - t0 < secs)
		for (int i = 0; i < 100000; i++)
			x = x * 0.9999999 + 0.25;
	return x;
}
