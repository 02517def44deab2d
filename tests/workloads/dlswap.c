/*
 * dlopen/dlclose under the profiler (t1007): loads LIB_A, burns CPU in it,
 * dlcloses it, loads LIB_B (which the loader usually maps where LIB_A
 * was), burns as long in it and keeps it loaded, so that the profile
 * written at exit sees LIB_B where LIB_A's samples were taken. Prints both
 * load addresses and sizes.
 * Usage: dlswap LIB_A LIB_B SECONDS_EACH
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>

typedef unsigned long (*spin_fn)(double);

__attribute__((noinline)) static unsigned long drive(const char *path, const char *sym,
						     double secs, int close, unsigned long *base)
{
	struct link_map *lm = NULL;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	spin_fn f;
	unsigned long r;

	if (!h || !(f = (spin_fn)dlsym(h, sym)) || dlinfo(h, RTLD_DI_LINKMAP, &lm) < 0) {
		fprintf(stderr, "dlswap: %s: %s\n", path, dlerror());
		exit(1);
	}
	*base = (unsigned long)lm->l_addr;
	r = f(secs);
	if (close && dlclose(h) != 0) {
		fprintf(stderr, "dlswap: dlclose %s: %s\n", path, dlerror());
		exit(1);
	}
	return r;
}

int main(int argc, char **argv)
{
	unsigned long a, b, r;

	if (argc != 4)
		return 2;
	r = drive(argv[1], "a_spin", atof(argv[3]), 1, &a);
	r += drive(argv[2], "b_spin", atof(argv[3]), 0, &b);
	printf("base_a=%#lx base_b=%#lx r=%lu\n", a, b, r & 1);
	return 0;
}
