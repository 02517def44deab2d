/*
 * Unit tests for matching a profile against a binary (lib/elf/check.c):
 * the binary is this test program itself, built with -g.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"
#include "elf/check.h"

static const int64_t target_start = __LINE__ + 1;
__attribute__((noinline)) unsigned long check_target(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++)
		s = s * 31 + i;
	return s;
}
static const int64_t target_loop = __LINE__ - 4; /* the for line: code */
static const int64_t target_end = __LINE__ - 2;  /* the closing brace */

/*
 * One sample of `count` in `fn` at line start + off, under main (found, no
 * line), its start line given as `start`.
 */
static void add(struct cpgo_profile *p, const char *fn, const char *file, int64_t start,
		int64_t line, int64_t count)
{
	uint64_t f = cpgo_profile_add_function(p, fn, fn, file, start);
	uint64_t m = cpgo_profile_add_function(p, "main", "main", __FILE__, 0);
	struct cpgo_line l = { f, line, 0 }, lm = { m, 0, 0 };
	uint64_t loc[2] = { cpgo_profile_add_location(p, 0, 0, &l, 1),
			    cpgo_profile_add_location(p, 0, 0, &lm, 1) };
	assert_int_equal(cpgo_profile_add_sample(p, loc, 2, &count, NULL, 0), 0);
}

static const struct cpgo_check_fn *fn(const struct cpgo_check_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_fn; i++)
		if (!strcmp(r->fns[i].name, name))
			return &r->fns[i];
	fail_msg("no function %s", name);
	return NULL;
}

static void test_self(void **state)
{
	struct cpgo_profile p;
	struct cpgo_check_report r;
	const struct cpgo_check_fn *f;
	int found_new = 0;
	(void)state;

	assert_true(check_target(3) != 1);
	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "count"), 0);
	/* In range: the loop line, at its offset. */
	add(&p, "check_target", "/elsewhere/test_check.c", target_start, target_loop, 50);
	/* The profile's start line is 10 lower: offsets keep it in range, start "moved". */
	add(&p, "check_target", "/elsewhere/test_check.c", target_start - 10, target_loop - 10, 20);
	/* Past the end of the function: out of range. */
	add(&p, "check_target", "test_check.c", target_start, target_end + 40, 10);
	/* Gone. */
	add(&p, "no_such_function_here", "test_check.c", 5, 6, 20);

	assert_int_equal(cpgo_check_binary(&p, 0, "/proc/self/exe", NULL, &r), 0);
	assert_int_equal(r.total, 100);
	assert_int_equal(r.other, 0);
	assert_int_equal(r.found, 80);
	assert_int_equal(r.in_range, 70);
	assert_int_equal(r.moved, 20);
	f = fn(&r, "check_target");
	assert_true(f->found);
	assert_int_equal(f->bin_start, target_start);
	assert_int_equal(f->flat, 80);
	assert_int_equal(f->flat_in_range, 70);
	f = fn(&r, "no_such_function_here");
	assert_false(f->found);
	assert_int_equal(f->cum, 20);
	f = fn(&r, "main");
	assert_true(f->found);
	assert_int_equal(f->cum, 100);
	assert_int_equal(f->flat, 0);
	/* This file's tests have code and no samples. */
	for (size_t i = 0; i < r.n_new; i++)
		found_new |= !strcmp(r.new_fns[i].name, "test_self");
	assert_true(found_new);
	assert_true(r.n_bin_fn > r.n_new);
	cpgo_check_release(&r);
	cpgo_profile_release(&p);
}

static void test_errors(void **state)
{
	struct cpgo_profile p;
	struct cpgo_check_report r;
	(void)state;
	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "count"), 0);
	assert_int_equal(cpgo_check_binary(&p, 0, "/nonexistent/prog", NULL, &r), -1);
	assert_non_null(strstr(cpgo_last_error(), "/nonexistent/prog"));
	assert_int_equal(cpgo_check_binary(&p, 3, "/proc/self/exe", NULL, &r), -1);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
