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
#include "elf/objfuncs.h"
#include "util/buf.h"

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

/* This program's own DWARF, read the way cpgo cc reads an object it just compiled. */
static void test_objfuncs_self(void **state)
{
	struct cpgo_objfuncs o;
	const struct cpgo_objfunc *t = NULL;
	(void)state;

	assert_int_equal(cpgo_objfuncs_read("/proc/self/exe", &o), 0);
	for (size_t i = 0; i < o.n; i++)
		if (!strcmp(o.fns[i].name, "check_target"))
			t = &o.fns[i];
	assert_non_null(t);
	assert_non_null(strstr(t->file, "test_check.c"));
	assert_int_equal(t->start, target_start);
	assert_true(cpgo_objfunc_has_line(t, target_loop));
	/* Lines belong to the function they are in, not to the next one. */
	assert_true(t->end >= target_loop && t->end <= target_end);
	assert_false(cpgo_objfunc_has_line(t, target_end + 3));
	for (size_t j = 1; j < t->n_lines; j++)
		assert_true(t->lines[j - 1] < t->lines[j]);
	cpgo_objfuncs_release(&o);

	assert_int_equal(cpgo_objfuncs_read("/nonexistent/x.o", &o), -1);
	assert_non_null(strstr(cpgo_last_error(), "/nonexistent/x.o"));
	assert_int_equal(cpgo_objfuncs_read("/proc/self/status", &o), -1);
}

/* The summary cpgo cc caches, checked against this program as if it were the TU's object. */
static void test_tu_match(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf sum = CPGO_BUF_INIT;
	struct cpgo_objfuncs o;
	struct cpgo_check_tu tu;
	(void)state;

	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "count"), 0);
	add(&p, "check_target", "/src/test_check.c", target_start, target_loop, 50);
	/* Moved by 10 in the profile: offsets still land. */
	add(&p, "check_target", "/src/test_check.c", target_start - 10, target_loop - 10, 20);
	/* Past the end of the function. */
	add(&p, "check_target", "/src/test_check.c", target_start, target_end + 40, 10);
	add(&p, "no_such_function_here", "/src/test_check.c", 5, 6, 15);
	add(&p, "elsewhere", "/src/other.c", 5, 6, 5);
	assert_int_equal(cpgo_check_summarize(&p, 0, &sum), 0);
	assert_non_null(strstr(sum.buf, "cpgo-match 1 100\n"));

	assert_int_equal(cpgo_objfuncs_read("/proc/self/exe", &o), 0);
	assert_int_equal(cpgo_check_tu_match(sum.buf, sum.len, &o, "build/x/test_check.c", &tu), 0);
	assert_int_equal(tu.profile_total, 100);
	assert_int_equal(tu.total, 95);
	assert_int_equal(tu.matched, 70);
	assert_string_equal(tu.worst, "no_such_function_here");
	assert_int_equal(tu.worst_lost, 15);
	/* Another TU has none of these functions' samples. */
	assert_int_equal(cpgo_check_tu_match(sum.buf, sum.len, &o, "other.c", &tu), 0);
	assert_int_equal(tu.total, 5);
	assert_int_equal(tu.matched, 0);
	assert_int_equal(cpgo_check_tu_match("junk", 4, &o, "other.c", &tu), -1);
	/* A truncated summary counts what it has. */
	assert_int_equal(cpgo_check_tu_match(sum.buf, sum.len / 2, &o, "test_check.c", &tu), 0);
	assert_true(tu.total <= 95);
	cpgo_objfuncs_release(&o);
	cpgo_buf_release(&sum);
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
		cmocka_unit_test(test_objfuncs_self),
		cmocka_unit_test(test_tu_match),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
