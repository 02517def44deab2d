/*
 * Test workload for libcpgo: two threads burn known shares of CPU time,
 * measured on each thread's own CPU clock so that the shares do not depend
 * on scheduling: burn_a (with the inlined mix) 75%, burn_b (through
 * lib_burn in libburn.so) 25%.
 *
 * usage: burn [TOTAL_CPU_SECONDS] [plain|fork|block|handler]
 *   fork:    also forks a child that burns and exits normally
 *   block:   blocks SIGPROF in the main thread before creating the threads
 *   handler: installs its own SIGPROF handler first and counts its calls
 *   execfail: calls execl() on a missing file first and goes on
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double lib_burn(double secs);

static volatile double sink;
static volatile sig_atomic_t handler_calls;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline __attribute__((always_inline)) double mix(double x)
{
	return x * 1.0000001 + 0.5;
}

__attribute__((noinline)) static void burn_a(double secs)
{
	double x = 1.0, t0 = thread_cpu();

	while (thread_cpu() - t0 < secs)
		for (int i = 0; i < 100000; i++)
			x = mix(x);
	sink = x;
}

__attribute__((noinline)) static void burn_b(double secs)
{
	sink = lib_burn(secs);
}

static void *thread_a(void *arg)
{
	burn_a(*(double *)arg * 0.75);
	return NULL;
}

static void *thread_b(void *arg)
{
	burn_b(*(double *)arg * 0.25);
	return NULL;
}

static void on_sigprof(int sig)
{
	(void)sig;
	handler_calls++;
}

int main(int argc, char **argv)
{
	double total = argc > 1 ? atof(argv[1]) : 1.0;
	const char *mode = argc > 2 ? argv[2] : "plain";
	pthread_t a, b;
	pid_t child = -1;

	if (!strcmp(mode, "handler")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigprof;
		sigaction(SIGPROF, &sa, NULL);
	} else if (!strcmp(mode, "block")) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGPROF);
		pthread_sigmask(SIG_BLOCK, &s, NULL);
	} else if (!strcmp(mode, "execfail")) {
		burn_b(0.05);
		if (execl("/nonexistent/cpgo-test", "x", (char *)NULL) == 0)
			return 1;
	} else if (!strcmp(mode, "fork")) {
		child = fork();
		if (child == 0) {
			burn_b(total * 0.25);
			exit(0);
		}
	}
	if (pthread_create(&a, NULL, thread_a, &total) || pthread_create(&b, NULL, thread_b, &total)) {
		fprintf(stderr, "burn: pthread_create failed\n");
		return 1;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (child > 0) {
		int st;
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "burn: fork child failed\n");
			return 1;
		}
	}
	if (!strcmp(mode, "handler"))
		printf("handler calls: %d\n", (int)handler_calls);
	return 0;
}
