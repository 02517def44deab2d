/*
 * The second library of dlswap.c: b_pad fills the addresses where the
 * first library's code was, so samples of that code mis-booked into this
 * mapping would land in it.
 */
#include <time.h>

#define PAD16(x) x x x x x x x x x x x x x x x x

__attribute__((noinline)) unsigned long b_pad(unsigned long x)
{
	PAD16(PAD16(PAD16(__asm__ volatile("nop");)))
	return x + 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static unsigned long b_work(unsigned long x)
{
	for (int i = 0; i < 20000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

unsigned long b_spin(double secs)
{
	double end = now() + secs;
	unsigned long x = 1;

	while (now() < end)
		x = b_work(x);
	return b_pad(x);
}
