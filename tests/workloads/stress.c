/*
 * Hosts that stress a profiler (tests/cmd/t1005):
 *   stress forks N     N children that each fork a grandchild and exit,
 *                      between bursts of work in the parent
 *   stress threads N   N short-lived threads, 50 at a time, each burning ~1 ms
 *   stress spin SECS   burns CPU for SECS seconds of wall time (prints "ready")
 * Exits 0 only when every child and thread did its part.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void work(long n)
{
	unsigned long x = sink;
	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	sink = x;
}

static void *short_thread(void *arg)
{
	(void)arg;
	work(1000000);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int forks(int n)
{
	for (int i = 0; i < n; i++) {
		int st;
		pid_t c = fork();
		if (c < 0)
			return 1;
		if (c == 0) {
			pid_t g = fork();
			if (g == 0)
				_exit(0);
			work(200000);
			exit(g > 0 && waitpid(g, &st, 0) == g && WIFEXITED(st) ? 0 : 1);
		}
		work(2000000);
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
	}
	return 0;
}

static int threads(int n)
{
	pthread_t t[50];

	for (int done = 0; done < n;) {
		int k = n - done < 50 ? n - done : 50;
		for (int i = 0; i < k; i++)
			if (pthread_create(&t[i], NULL, short_thread, NULL))
				return 1;
		for (int i = 0; i < k; i++)
			pthread_join(t[i], NULL);
		done += k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	double arg = argc > 2 ? atof(argv[2]) : 0;

	if (!strcmp(mode, "forks"))
		return forks((int)arg);
	if (!strcmp(mode, "threads"))
		return threads((int)arg);
	if (!strcmp(mode, "spin")) {
		double end = now_s() + arg;
		printf("ready\n");
		fflush(stdout);
		while (now_s() < end)
			work(100000);
		return 0;
	}
	fprintf(stderr, "usage: stress forks N | threads N | spin SECS\n");
	return 2;
}
