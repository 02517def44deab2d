/* The sample type PGO reads: Go's choice, by string, duplicates and all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"
#include "pprof/profile.h"
#include "pprof/profile.pb-c.h"

static void test_cpu_index(void **state)
{
	struct cpgo_profile p;

	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "count"), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "cpu", "nanoseconds"), 0);
	assert_int_equal(cpgo_profile_cpu_index(&p, "x"), 0);
	/* As Go's PGO: default_sample_type is for viewers, the first CPU type wins. */
	p.default_sample_type = cpgo_profile_intern(&p, "cpu");
	assert_int_equal(cpgo_profile_cpu_index(&p, "x"), 0);
	cpgo_profile_release(&p);

	/* cpu/nanoseconds alone, after a type PGO does not read. */
	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "alloc_space", "bytes"), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "cpu", "nanoseconds"), 0);
	assert_int_equal(cpgo_profile_cpu_index(&p, "x"), 1);
	cpgo_profile_release(&p);

	/* The type and the unit must both match. */
	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "bytes"), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "cpu", "count"), 0);
	assert_int_equal(cpgo_profile_cpu_index(&p, "odd.pprof"), -1);
	cpgo_profile_release(&p);

	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "alloc_space", "bytes"), 0);
	assert_int_equal(cpgo_profile_cpu_index(&p, "heap.pprof"), -1);
	assert_non_null(strstr(cpgo_last_error(), "heap.pprof"));
	assert_non_null(strstr(cpgo_last_error(), "alloc_space/bytes"));
	cpgo_profile_release(&p);
}

/*
 * A string table with every name twice (legal pprof): the sample types and
 * default_sample_type point at different copies. The choice must not move
 * with the copy, nor follow default_sample_type.
 */
static void test_cpu_index_duplicate_strings(void **state)
{
	/* 0    1          2        3        4      5       6      7       8      9  */
	char *strs[] = { "", "alloc", "bytes", "samples", "count", "cpu", "nanoseconds",
			 "cpu", "samples", "nanoseconds" };
	static const struct {
		int64_t types[3][2];
		int64_t dflt;
		int want;
	} cases[] = {
		/* alloc, cpu (copy 2), samples (copy 2): samples/count is not first, cpu is. */
		{ { { 1, 2 }, { 7, 9 }, { 8, 4 } }, 5, 1 },
		{ { { 1, 2 }, { 7, 6 }, { 3, 4 } }, 7, 1 },
		/* samples first whichever copy, default on cpu either copy. */
		{ { { 8, 4 }, { 5, 9 }, { 1, 2 } }, 7, 0 },
		{ { { 3, 4 }, { 7, 6 }, { 1, 2 } }, 5, 0 },
		/* Neither: copies of the right names with the wrong units. */
		{ { { 1, 2 }, { 7, 4 }, { 8, 9 } }, 7, -1 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		Perftools__Profiles__Profile m = PERFTOOLS__PROFILES__PROFILE__INIT;
		Perftools__Profiles__ValueType vt[3], *vtp[3];
		struct cpgo_profile p;
		uint8_t buf[512];
		size_t n;

		for (int i = 0; i < 3; i++) {
			perftools__profiles__value_type__init(&vt[i]);
			vt[i].type = cases[c].types[i][0];
			vt[i].unit = cases[c].types[i][1];
			vtp[i] = &vt[i];
		}
		m.n_sample_type = 3;
		m.sample_type = vtp;
		m.n_string_table = sizeof(strs) / sizeof(strs[0]);
		m.string_table = strs;
		m.default_sample_type = cases[c].dflt;
		assert_true(perftools__profiles__profile__get_packed_size(&m) <= sizeof(buf));
		n = perftools__profiles__profile__pack(&m, buf);
		/* The decoder keeps duplicates as they are: nothing is interned away. */
		assert_int_equal(cpgo_profile_parse(&p, buf, n, "dup.pprof", NULL), 0);
		assert_int_equal(p.n_string, m.n_string_table);
		assert_int_equal(cpgo_profile_cpu_index(&p, "dup.pprof"), cases[c].want);
		cpgo_profile_release(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_index),
		cmocka_unit_test(test_cpu_index_duplicate_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
