/*
 * Test workload for libcpgo's API (include/cpgo.h), linked with libcpgo.a.
 *
 * usage: api PROFILE MODE
 *   sigprof: the program owns SIGPROF (handler + setitimer) before
 *            cpgo_start(); libcpgo must pick another signal and both work
 *   dlopen:  burns in a dlopen()ed library, dlclose()s it, then stops:
 *            the profile must still be written
 */
#include <cpgo.h>

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t own_ticks;
static volatile double sink;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void api_spin(double secs)
{
	double x = 1.0, t0 = thread_cpu();
	while (thread_cpu() - t0 < secs)
		for (int i = 0; i < 100000; i++)
			x = x * 1.0000001 + 0.5;
	sink = x;
}

static void on_prof(int sig)
{
	(void)sig;
	own_ticks++;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: api PROFILE sigprof|dlopen\n");
		return 2;
	}
	if (!strcmp(argv[2], "sigprof")) {
		struct sigaction sa;
		struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_prof;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGPROF, &sa, NULL);
		setitimer(ITIMER_PROF, &it, NULL);
	}
	if (cpgo_start(1000) < 0) {
		fprintf(stderr, "api: cpgo_start: %s\n", cpgo_strerror());
		return 1;
	}
	if (!strcmp(argv[2], "dlopen")) {
		void *h = dlopen("./libburn.so", RTLD_NOW);
		double (*fn)(double);
		if (!h) {
			fprintf(stderr, "api: %s\n", dlerror());
			return 1;
		}
		fn = (double (*)(double))dlsym(h, "lib_burn");
		sink = fn(0.3);
		dlclose(h);
	}
	api_spin(0.5);
	if (cpgo_stop_to_path(argv[1]) < 0) {
		fprintf(stderr, "api: cpgo_stop_to_path: %s\n", cpgo_strerror());
		return 1;
	}
	if (!strcmp(argv[2], "sigprof")) {
		printf("own ticks: %d\n", (int)own_ticks);
		if (own_ticks < 10)
			return 3;
	}
	return 0;
}
