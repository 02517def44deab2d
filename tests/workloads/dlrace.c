/*
 * dlopen/dlclose racing in two threads (t1009): thread A loads LIB_A,
 * burns CPU in it and unloads it, ROUNDS times; thread B does the same
 * with LIB_B at once, so that each library is often loaded where the
 * other just was. A sample of one library's code booked on the other's
 * shows up as that library's function under the wrong thread's driver.
 * Usage: dlrace LIB_A LIB_B ROUNDS SECONDS_EACH
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned long (*spin_fn)(double);

struct job {
	const char *path, *sym;
	int rounds;
	double secs;
};

static volatile unsigned long sink;

__attribute__((noinline)) static unsigned long cycle(const struct job *j)
{
	unsigned long r = 0;

	for (int i = 0; i < j->rounds; i++) {
		void *h = dlopen(j->path, RTLD_NOW | RTLD_LOCAL);
		spin_fn f;

		if (!h || !(f = (spin_fn)dlsym(h, j->sym))) {
			fprintf(stderr, "dlrace: %s: %s\n", j->path, dlerror());
			exit(1);
		}
		r += f(j->secs);
		if (dlclose(h) != 0) {
			fprintf(stderr, "dlrace: dlclose %s: %s\n", j->path, dlerror());
			exit(1);
		}
	}
	return r;
}

/* Two drivers, so that a stack says which thread it was taken in. */
__attribute__((noinline)) static void *drive_a(void *arg)
{
	sink += cycle(arg);
	return (void *)sink;
}

__attribute__((noinline)) static void *drive_b(void *arg)
{
	sink += cycle(arg);
	return (void *)sink;
}

int main(int argc, char **argv)
{
	struct job a, b;
	pthread_t ta, tb;

	if (argc != 5)
		return 2;
	a = (struct job){ argv[1], "a_spin", atoi(argv[3]), atof(argv[4]) };
	b = (struct job){ argv[2], "b_spin", atoi(argv[3]), atof(argv[4]) };
	if (pthread_create(&ta, NULL, drive_a, &a) || pthread_create(&tb, NULL, drive_b, &b))
		return 1;
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	printf("done %lu\n", sink & 1);
	return 0;
}
