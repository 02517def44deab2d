/*
 * A CPU-bound loop under a caller whose frame is large (a 12 KiB buffer
 * in main, as shells and servers keep path and line buffers there): a
 * walk from the loop to the thread's first frame needs more than 12 KiB
 * of stack. Built without frame pointers for the CFI unwinder's tests.
 * usage: bigframe CPU_SECONDS
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned sink;

__attribute__((noinline)) static unsigned mix(unsigned x, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		x = x * 1103515245u + 12345u;
	return x;
}

__attribute__((noinline)) static unsigned walk(const unsigned char *buf, size_t len)
{
	unsigned x = 0;

	for (size_t i = 0; i < len; i += 64)
		x += mix(buf[i] + x, 200);
	return x;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1;
	unsigned char buf[12 * 1024];

	memset(buf, argc, sizeof(buf));
	while (cpu_s() < secs)
		sink += walk(buf, sizeof(buf));
	return 0;
}
