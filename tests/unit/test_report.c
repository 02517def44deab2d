/*
 * Unit tests for the top/validate computations (lib/pprof/report.c), on
 * profiles built with the add_* API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"
#include "pprof/report.h"
#include "../helper/build_profile.h"

static const struct cpgo_report_row *row(const struct cpgo_report_top *t, const char *name)
{
	for (size_t i = 0; i < t->n_row; i++)
		if (!strcmp(t->rows[i].name, name))
			return &t->rows[i];
	return NULL;
}

static void test_top_recursion_and_inlining(void **state)
{
	struct cpgo_profile p;
	struct cpgo_report_top t;
	struct cpgo_line inl[2];
	uint64_t fmain, frec, finl, fleaf, lmain, lrec, lrec2, lboth, s1[4], s2[2];
	(void)state;
	cpu_profile(&p, 1);
	fmain = cpgo_profile_add_function(&p, "main", NULL, "m.c", 1);
	frec = cpgo_profile_add_function(&p, "rec", NULL, "m.c", 10);
	finl = cpgo_profile_add_function(&p, "inl", NULL, "m.c", 20);
	fleaf = cpgo_profile_add_function(&p, "leaf", NULL, "m.c", 30);
	lmain = loc1(&p, 0, 0x10, fmain, 2);
	lrec = loc1(&p, 0, 0x20, frec, 11);
	lrec2 = loc1(&p, 0, 0x24, frec, 12);
	/* inl inlined into leaf: innermost first. */
	inl[0] = (struct cpgo_line){ finl, 21, 0 };
	inl[1] = (struct cpgo_line){ fleaf, 31, 0 };
	lboth = cpgo_profile_add_location(&p, 0, 0x30, inl, 2);
	s1[0] = lboth; s1[1] = lrec2; s1[2] = lrec; s1[3] = lmain; /* rec recurses */
	sample(&p, s1, 4, 5);
	s2[0] = lrec; s2[1] = lmain;
	sample(&p, s2, 2, 3);
	assert_int_equal(cpgo_report_top(&p, 0, 0, &t), 0);
	assert_int_equal(t.total, 8);
	assert_int_equal(t.n_row, 4);
	assert_string_equal(t.rows[0].name, "inl"); /* flat 5 */
	assert_int_equal(row(&t, "inl")->flat, 5);
	assert_true(row(&t, "inl")->inlined && !row(&t, "inl")->called);
	assert_int_equal(row(&t, "leaf")->flat, 0);
	assert_int_equal(row(&t, "leaf")->cum, 5);
	assert_int_equal(row(&t, "rec")->flat, 3);
	assert_int_equal(row(&t, "rec")->cum, 8); /* not 13: recursion counted once */
	assert_int_equal(row(&t, "main")->cum, 8);
	assert_int_equal(row(&t, "rec")->start_line, 10);
	assert_string_equal(row(&t, "rec")->filename, "m.c");
	cpgo_report_top_release(&t);
	assert_int_equal(cpgo_report_top(&p, 0, 1, &t), 0);
	assert_int_equal(t.rows[0].cum, 8);
	assert_int_equal(t.rows[3].cum, 5);
	cpgo_report_top_release(&t);
	cpgo_profile_release(&p);
}

static void test_value_index_and_format(void **state)
{
	struct cpgo_profile p;
	char b[32];
	(void)state;
	cpu_profile(&p, 1);
	assert_int_equal(cpgo_report_value_index(&p, NULL, "p"), 1); /* pprof: the last */
	assert_int_equal(cpgo_report_value_index(&p, "samples", "p"), 0);
	assert_int_equal(cpgo_report_value_index(&p, "cpu/nanoseconds", "p"), 1);
	assert_int_equal(cpgo_report_value_index(&p, "alloc", "p"), -1);
	assert_non_null(strstr(cpgo_last_error(), "samples/count, cpu/nanoseconds"));
	cpgo_report_format_value(b, sizeof(b), 1200000000, "nanoseconds", NULL);
	assert_string_equal(b, "1.20s");
	cpgo_report_format_value(b, sizeof(b), 10000000, "nanoseconds", "s");
	assert_string_equal(b, "0.01s");
	cpgo_report_format_value(b, sizeof(b), 10000000, "nanoseconds", NULL);
	assert_string_equal(b, "10ms");
	cpgo_report_format_value(b, sizeof(b), 0, "nanoseconds", NULL);
	assert_string_equal(b, "0");
	cpgo_report_format_value(b, sizeof(b), 1536, "bytes", NULL);
	assert_string_equal(b, "1.50kB");
	cpgo_report_format_value(b, sizeof(b), 42, "count", NULL);
	assert_string_equal(b, "42");
	cpgo_report_format_percent(b, sizeof(b), 1, 2);
	assert_string_equal(b, "50.00%");
	cpgo_report_format_percent(b, sizeof(b), 2, 2);
	assert_string_equal(b, "  100%");
	cpgo_report_format_percent(b, sizeof(b), 1, 200);
	assert_string_equal(b, "  0.5%");
	cpgo_profile_release(&p);
}

static int has_check(const struct cpgo_report_validate *v, enum cpgo_check_level lvl,
		     const char *text)
{
	for (size_t i = 0; i < v->n_check; i++)
		if (v->checks[i].level == lvl && strstr(v->checks[i].what, text))
			return 1;
	return 0;
}

static void test_validate_good_profile(void **state)
{
	struct cpgo_profile p;
	struct cpgo_report_validate v;
	struct cpgo_line inl[2];
	uint64_t fmain, finl, l, s[1];
	(void)state;
	cpu_profile(&p, 10000000000LL); /* 10 s */
	fmain = cpgo_profile_add_function(&p, "main", NULL, "m.c", 1);
	finl = cpgo_profile_add_function(&p, "inl", NULL, "m.c", 20);
	inl[0] = (struct cpgo_line){ finl, 21, 0 };
	inl[1] = (struct cpgo_line){ fmain, 3, 0 };
	l = cpgo_profile_add_location(&p, 0, 0x30, inl, 2);
	s[0] = l;
	sample(&p, s, 1, 20000);
	assert_int_equal(cpgo_report_validate(&p, &v), 0);
	assert_true(v.usable);
	assert_int_equal(v.n_samples, 20000);
	assert_int_equal(v.cpu_nanos, 200000000000LL);
	assert_true(v.rate_hz > 1999 && v.rate_hz < 2001);
	assert_true(v.has_inline);
	for (size_t i = 0; i < v.n_check; i++)
		assert_int_equal(v.checks[i].level, CPGO_CHECK_OK);
	cpgo_report_validate_release(&v);
	cpgo_profile_release(&p);
}

static void test_validate_problems(void **state)
{
	struct cpgo_profile p;
	struct cpgo_report_validate v;
	uint64_t f, m, s[1];
	(void)state;
	cpu_profile(&p, 0);
	m = mapping(&p, "abc", 0x400000);
	f = cpgo_profile_add_function(&p, "nostart", NULL, "m.c", 0);
	s[0] = loc1(&p, m, 0x400010, f, 5);
	sample(&p, s, 1, 30);
	/* 70% of the samples land on an unsymbolized address. */
	s[0] = cpgo_profile_add_location(&p, m, 0x400020, NULL, 0);
	sample(&p, s, 1, 70);
	assert_int_equal(cpgo_report_validate(&p, &v), 0);
	assert_false(v.usable);
	assert_true(has_check(&v, CPGO_CHECK_FAIL, "70.0% of the samples are in code without"));
	assert_true(has_check(&v, CPGO_CHECK_WARN, "30.0% of the samples are in functions without"));
	assert_true(has_check(&v, CPGO_CHECK_WARN, "no inlined frames"));
	assert_true(has_check(&v, CPGO_CHECK_WARN, "only 100 samples"));
	assert_true(v.rate_hz == 0); /* no duration: no rate claimed */
	for (size_t i = 0; i < v.n_check; i++)
		if (v.checks[i].level != CPGO_CHECK_OK)
			assert_non_null(v.checks[i].fix);
	cpgo_report_validate_release(&v);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_recursion_and_inlining),
		cmocka_unit_test(test_value_index_and_format),
		cmocka_unit_test(test_validate_good_profile),
		cmocka_unit_test(test_validate_problems),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
