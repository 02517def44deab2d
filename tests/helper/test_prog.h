#ifndef CPGO_TEST_PROG_H
#define CPGO_TEST_PROG_H

/*
 * A real binary for the unit tests that read one (the converter's binary
 * rules, the pre-inliner): a C source written into a fresh temporary
 * directory and compiled there with clang-19. Include after <cmocka.h>.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_prog {
	char dir[64], bin[128];
};

/* Compiles `src` with `flags` into t->bin under /tmp/cpgo-test-TAG.XXXXXX. */
static inline void test_prog_build(struct test_prog *t, const char *tag, const char *src,
				   const char *flags)
{
	char cmd[512];
	FILE *f;

	snprintf(t->dir, sizeof(t->dir), "/tmp/cpgo-test-%s.XXXXXX", tag);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->bin, sizeof(t->bin), "%s/prog", t->dir);
	snprintf(cmd, sizeof(cmd), "%s/prog.c", t->dir);
	assert_non_null(f = fopen(cmd, "w"));
	fputs(src, f);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "clang-19 %s -o %s %s/prog.c", flags, t->bin, t->dir);
	assert_int_equal(system(cmd), 0);
}

/* Removes the directory; 0 or -1, as a cmocka teardown returns. */
static inline int test_prog_remove(const struct test_prog *t)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
