/*
 * Unit tests for the per-function diff (lib/pprof/diff.c) on profiles
 * built with the add_* API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pprof/diff.h"

/* main -> work -> hot (flat `hot`), main -> cold (flat `cold`), files under `dir`. */
static void prog(struct cpgo_profile *p, const char *dir, int64_t hot, int64_t cold,
		 int64_t hot_start, const char *cold_name)
{
	char file[64];
	uint64_t fm, fw, fh, fc, lm, lw, lh, lc;
	struct cpgo_line l;

	snprintf(file, sizeof(file), "%s/prog.c", dir);
	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	fm = cpgo_profile_add_function(p, "main", "main", file, 50);
	fw = cpgo_profile_add_function(p, "work", "work", file, 30);
	fh = cpgo_profile_add_function(p, "hot", "hot", file, hot_start);
	fc = cpgo_profile_add_function(p, cold_name, cold_name, file, 40);
	l = (struct cpgo_line){ fm, 52, 0 };
	lm = cpgo_profile_add_location(p, 0, 0, &l, 1);
	l = (struct cpgo_line){ fw, 31, 0 };
	lw = cpgo_profile_add_location(p, 0, 0, &l, 1);
	l = (struct cpgo_line){ fh, hot_start + 2, 0 };
	lh = cpgo_profile_add_location(p, 0, 0, &l, 1);
	l = (struct cpgo_line){ fc, 41, 0 };
	lc = cpgo_profile_add_location(p, 0, 0, &l, 1);
	uint64_t s1[] = { lh, lw, lm }, s2[] = { lc, lm };
	assert_int_equal(cpgo_profile_add_sample(p, s1, 3, &hot, NULL, 0), 0);
	assert_int_equal(cpgo_profile_add_sample(p, s2, 2, &cold, NULL, 0), 0);
}

static const struct cpgo_diff_row *row(const struct cpgo_diff *d, const char *name)
{
	for (size_t i = 0; i < d->n_row; i++)
		if (!strcmp(d->rows[i].name, name))
			return &d->rows[i];
	fail_msg("no row %s", name);
	return NULL;
}

static void test_shares_and_order(void **state)
{
	struct cpgo_profile a, b;
	struct cpgo_diff d;
	const struct cpgo_diff_row *r;
	(void)state;

	/* Same shape, other sizes and another build directory: only shares count. */
	prog(&a, "/build/one", 75, 25, 10, "cold");
	prog(&b, "/home/u/two", 100, 300, 12, "cold");
	assert_int_equal(cpgo_diff_compute(&a, 0, &b, 0, &d), 0);
	assert_int_equal(d.total_a, 100);
	assert_int_equal(d.total_b, 400);
	assert_int_equal(d.n_row, 4);
	/* hot and cold both moved 50 points; hot, then cold by name order. */
	assert_string_equal(d.rows[0].name, "cold");
	assert_string_equal(d.rows[1].name, "hot");
	r = row(&d, "hot");
	assert_true(fabs(r->flat_a - 0.75) < 1e-9 && fabs(r->flat_b - 0.25) < 1e-9);
	assert_true(fabs(r->cum_a - 0.75) < 1e-9 && fabs(r->cum_b - 0.25) < 1e-9);
	assert_int_equal(r->start_a, 10);
	assert_int_equal(r->start_b, 12);
	assert_string_equal(r->filename, "/home/u/two/prog.c");
	r = row(&d, "work");
	assert_true(fabs(r->flat_a) < 1e-9 && fabs(r->cum_a - 0.75) < 1e-9);
	r = row(&d, "main");
	assert_true(fabs(r->cum_a - 1.0) < 1e-9 && fabs(r->cum_b - 1.0) < 1e-9);
	assert_string_equal(d.rows[3].name, "main");
	cpgo_diff_release(&d);
	cpgo_profile_release(&a);
	cpgo_profile_release(&b);
}

static void test_new_and_gone(void **state)
{
	struct cpgo_profile a, b;
	struct cpgo_diff d;
	const struct cpgo_diff_row *r;
	(void)state;

	prog(&a, "/src", 50, 50, 10, "cold");
	prog(&b, "/src", 50, 50, 10, "chill");
	assert_int_equal(cpgo_diff_compute(&a, 0, &b, 0, &d), 0);
	assert_int_equal(d.n_row, 5);
	r = row(&d, "cold");
	assert_true(r->in_a && !r->in_b);
	assert_true(fabs(r->flat_a - 0.5) < 1e-9 && r->flat_b == 0);
	r = row(&d, "chill");
	assert_true(!r->in_a && r->in_b);
	r = row(&d, "hot");
	assert_true(r->in_a && r->in_b && r->flat_a == r->flat_b);
	cpgo_diff_release(&d);
	cpgo_profile_release(&a);
	cpgo_profile_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_and_order),
		cmocka_unit_test(test_new_and_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
