/*
 * Alternates a compute loop with bursts of small write() calls to a file,
 * so that a large part of its CPU time is spent in the kernel, and reports
 * the compute loop's share of the process's user time: its CPU time (it
 * makes no system call, so that is user time) over getrusage's user time
 * of the run. getrusage splits user/system by the kernel's tick (often
 * 250 Hz): runs of a few seconds keep that split within a point or two.
 * A profiler that books kernel time on user code after the
 * system call shows a smaller compute share than this.
 *
 * When the machine is busy the tick-based split can go wrong outright
 * (a compute share above 100%), so the share of all CPU time, which is
 * exact, is printed too: a profiler that booked kernel time on the user
 * code after each system call would show about that share instead.
 *
 * usage: syswrite FILE [ROUNDS]   (default 40)
 * prints: compute_user_share=P user_s=U sys_s=S compute_cpu_share=C
 *         (P and C in percent)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

__attribute__((noinline)) static void compute(void)
{
	unsigned long x = sink;
	for (long i = 0; i < 80000000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink = x;
}

__attribute__((noinline)) static void write_burst(int fd)
{
	static const char line[] = "a line of output that goes to the file, one call each\n";
	for (int i = 0; i < 40000; i++)
		if (write(fd, line, sizeof(line) - 1) < 0)
			exit(1);
	/* Keep the file small: truncation is kernel time too. */
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		exit(1);
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 40, fd;
	double in_compute = 0, t0;
	struct rusage ru;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 1;
	for (int r = 0; r < rounds; r++) {
		t0 = thread_cpu_s();
		compute();
		in_compute += thread_cpu_s() - t0;
		write_burst(fd);
	}
	close(fd);
	getrusage(RUSAGE_SELF, &ru);
	printf("compute_user_share=%.1f user_s=%.3f sys_s=%.3f compute_cpu_share=%.1f\n",
	       100 * in_compute / tv_s(ru.ru_utime), tv_s(ru.ru_utime), tv_s(ru.ru_stime),
	       100 * in_compute / process_cpu_s());
	return 0;
}
