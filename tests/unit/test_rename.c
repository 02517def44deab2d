/*
 * Unit tests for renaming (lib/pprof/rename.c): pattern matching, rule
 * parsing and the merge check, on profiles built with the add_* API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/error.h"
#include "pprof/rename.h"

static void expect_match(const char *o, const char *n, const char *s, const char *want)
{
	char *out;
	int m = cpgo_rename_match(o, n, s, &out);
	if (!want) {
		assert_int_equal(m, 0);
		assert_null(out);
		return;
	}
	assert_int_equal(m, 1);
	assert_string_equal(out, want);
	free(out);
}

static void test_match(void **state)
{
	(void)state;
	expect_match("foo", "bar", "foo", "bar");
	expect_match("foo", "bar", "foox", NULL);
	expect_match("net_*", "io_*", "net_read", "io_read");
	expect_match("net_*", "io_*", "net_", "io_");
	expect_match("net_*", "io_*", "nt_read", NULL);
	expect_match("*_v1", "*_v2", "parse_v1", "parse_v2");
	expect_match("a*z", "b*y", "az", "by");
	expect_match("a*z", "b*y", "a", NULL); /* prefix and suffix may not overlap */
	expect_match("old_*", "fixed", "old_x", "fixed");
}

static void test_rules(void **state)
{
	struct cpgo_rename r;
	(void)state;
	cpgo_rename_init(&r);
	assert_int_equal(cpgo_rename_add(&r, "a=b", "t"), 0);
	assert_int_equal(cpgo_rename_add(&r, "file:x.c=y.c", "t"), 0);
	assert_int_equal(r.n_rule, 2);
	assert_true(r.rules[1].is_file);
	assert_string_equal(r.rules[1].old_pat, "x.c");
	assert_int_equal(cpgo_rename_add(&r, "ab", "arg 3"), -1);
	assert_non_null(strstr(cpgo_last_error(), "arg 3"));
	assert_int_equal(cpgo_rename_add(&r, "=b", "t"), -1);
	assert_int_equal(cpgo_rename_add(&r, "a=", "t"), -1);
	assert_int_equal(cpgo_rename_add(&r, "a**=b", "t"), -1);
	assert_int_equal(cpgo_rename_add(&r, "a=b*", "t"), -1);
	assert_int_equal(r.n_rule, 2);
	cpgo_rename_release(&r);
}

/* Functions f0..f3 in /src/net.c, f4 in /src/util/net.c; samples on f0, f1 and f4. */
static void prog(struct cpgo_profile *p)
{
	static const char *names[] = { "net_read", "net_write", "net_close", "helper", "net_read" };
	uint64_t loc[5];
	int64_t v = 1;
	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	for (int i = 0; i < 5; i++) {
		uint64_t f = cpgo_profile_add_function(p, names[i], i == 3 ? "_Z6helperv" : names[i],
						       i == 4 ? "/src/util/net.c" : "/src/net.c",
						       10 * (i + 1));
		struct cpgo_line l = { f, 10 * (i + 1) + 1, 0 };
		loc[i] = cpgo_profile_add_location(p, 0, 0, &l, 1);
	}
	assert_int_equal(cpgo_profile_add_sample(p, &loc[0], 1, &v, NULL, 0), 0);
	assert_int_equal(cpgo_profile_add_sample(p, &loc[1], 1, &v, NULL, 0), 0);
	assert_int_equal(cpgo_profile_add_sample(p, &loc[4], 1, &v, NULL, 0), 0);
	v = 0; /* a zero sample does not make net_close live */
	assert_int_equal(cpgo_profile_add_sample(p, &loc[2], 1, &v, NULL, 0), 0);
}

static const char *fn_name(const struct cpgo_profile *p, int i)
{
	return cpgo_profile_str(p, p->functions[i].name);
}

static void test_apply(void **state)
{
	struct cpgo_profile p;
	struct cpgo_rename r;
	struct cpgo_rename_stats st;
	(void)state;

	prog(&p);
	cpgo_rename_init(&r);
	assert_int_equal(cpgo_rename_add(&r, "net_*=io_*", "t"), 0);
	assert_int_equal(cpgo_rename_add(&r, "helper=assist", "t"), 0);
	assert_int_equal(cpgo_rename_add(&r, "file:src/net.c=src/io.c", "t"), 0);
	assert_int_equal(cpgo_rename_apply(&p, &r, 0, "p", &st), 0);
	assert_string_equal(fn_name(&p, 0), "io_read");
	assert_string_equal(cpgo_profile_str(&p, p.functions[0].system_name), "io_read");
	assert_string_equal(fn_name(&p, 3), "assist");
	/* A linkage name that is not the name is matched on its own. */
	assert_string_equal(cpgo_profile_str(&p, p.functions[3].system_name), "_Z6helperv");
	/* The file rule's tail matched /src/net.c, not /src/util/net.c. */
	assert_string_equal(cpgo_profile_str(&p, p.functions[0].filename), "/src/io.c");
	assert_string_equal(cpgo_profile_str(&p, p.functions[4].filename), "/src/util/net.c");
	assert_int_equal(p.functions[0].start_line, 10);
	assert_int_equal(st.n_fn_renamed, 5);
	assert_int_equal(st.n_file_renamed, 4);
	assert_int_equal(st.n_merged, 0);
	assert_int_equal(r.rules[2].n_matched, 4);
	cpgo_rename_release(&r);
	cpgo_profile_release(&p);
}

static void test_merge_check(void **state)
{
	struct cpgo_profile p;
	struct cpgo_rename r;
	struct cpgo_rename_stats st;
	(void)state;

	/* Into a dead function (net_close has only a zero sample): fine. */
	prog(&p);
	cpgo_rename_init(&r);
	assert_int_equal(cpgo_rename_add(&r, "net_write=net_close", "t"), 0);
	assert_int_equal(cpgo_rename_apply(&p, &r, 0, "p", &st), 0);
	cpgo_rename_release(&r);
	cpgo_profile_release(&p);

	/* Two live functions into one: refused, nothing renamed; allowed on request. */
	prog(&p);
	cpgo_rename_init(&r);
	assert_int_equal(cpgo_rename_add(&r, "net_write=net_read", "t"), 0);
	assert_int_equal(cpgo_rename_apply(&p, &r, 0, "prof", &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "would merge 'net_write' (/src/net.c) and "
						  "'net_read' (/src/net.c) into 'net_read'"));
	assert_string_equal(fn_name(&p, 1), "net_write");
	assert_int_equal(cpgo_rename_apply(&p, &r, 1, "prof", &st), 0);
	assert_string_equal(fn_name(&p, 1), "net_read");
	assert_int_equal(st.n_merged, 1);
	cpgo_rename_release(&r);
	cpgo_profile_release(&p);

	/* Same name in two files is no merge; a file rename that joins them is. */
	prog(&p);
	cpgo_rename_init(&r);
	assert_int_equal(cpgo_rename_add(&r, "file:util/net.c=net.c", "t"), 0);
	assert_int_equal(cpgo_rename_apply(&p, &r, 0, "prof", &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "would merge"));
	cpgo_rename_release(&r);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_merge_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
