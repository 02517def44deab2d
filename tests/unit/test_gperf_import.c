/*
 * Unit tests for the gperftools legacy CPU profile importer
 * (lib/elf/gperf_import.c): profiles of both word sizes written here with
 * this process's own maps, so frames symbolize from this test binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "elf/gperf_import.h"

static const int64_t leaf_line = __LINE__ + 1;
__attribute__((noinline)) unsigned long gperf_leaf(unsigned long n)
{
	return n * 5 + 2;
}

static const int64_t caller_line = __LINE__ + 1;
__attribute__((noinline)) unsigned long gperf_caller(unsigned long n)
{
	return gperf_leaf(n) + 1;
}

static void put(struct cpgo_buf *b, size_t ws, uint64_t v)
{
	uint32_t w = (uint32_t)v;
	assert_int_equal(cpgo_buf_add(b, ws == 8 ? (void *)&v : (void *)&w, ws), 0);
}

/* Header, two records (one repeated stack), trailer, this process's maps. */
static void make(struct cpgo_buf *b, size_t ws, int with_trailer)
{
	uint64_t leaf = (uintptr_t)&gperf_leaf + 2, caller = (uintptr_t)&gperf_caller + 6;
	struct cpgo_buf maps = CPGO_BUF_INIT;
	uint64_t h[] = { 0, 3, 0, 10000, 0 };

	for (size_t i = 0; i < 5; i++)
		put(b, ws, h[i]);
	put(b, ws, 7), put(b, ws, 2), put(b, ws, leaf), put(b, ws, caller + 1);
	put(b, ws, 3), put(b, ws, 1), put(b, ws, leaf);
	if (with_trailer)
		put(b, ws, 0), put(b, ws, 1), put(b, ws, 0);
	assert_int_equal(cpgo_read_file("/proc/self/maps", &maps, 1 << 20), 0);
	assert_int_equal(cpgo_buf_add(b, maps.buf, maps.len), 0);
	cpgo_buf_release(&maps);
}

static int64_t fn_start(const struct cpgo_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (!strcmp(cpgo_profile_str(p, p->functions[i].name), name))
			return p->functions[i].start_line;
	return -1;
}

static void check_word_size(size_t ws)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	struct cpgo_profile p;
	struct cpgo_gperf_stats st;

	make(&b, ws, 1);
	assert_true(cpgo_gperf_is_cpu_profile(b.buf, b.len));
	if (cpgo_gperf_import(&p, b.buf, b.len, "t.prof", NULL, &st) < 0)
		fail_msg("%s", cpgo_last_error());
	assert_int_equal(st.word_size, ws);
	assert_int_equal(st.n_records, 2);
	assert_int_equal(st.n_samples, 10);
	assert_true(st.n_mappings >= 1);
	assert_int_equal(p.period, 10000000);
	assert_string_equal(cpgo_profile_str(&p, p.sample_type[1].type), "cpu");
	assert_int_equal(cpgo_sample_values(&p, 0)[0], 7);
	assert_int_equal(cpgo_sample_values(&p, 0)[1], 70000000);
	/* The leaf address is shared: one location for it. */
	assert_int_equal(p.n_location, 2);
	assert_int_equal(fn_start(&p, "gperf_leaf"), leaf_line);
	assert_int_equal(fn_start(&p, "gperf_caller"), caller_line);
	cpgo_profile_release(&p);
	cpgo_buf_release(&b);
}

static void test_64(void **state)
{
	(void)state;
	check_word_size(8);
}

static void test_32(void **state)
{
	/* A 32-bit profile of a binary that is gone: parsed, addresses kept, unsymbolized. */
	static const char maps[] = "00400000-00500000 r-xp 00001000 00:00 0 /nonexistent/prog\n";
	uint64_t w[] = { 0, 3, 0, 4000, 0, 2, 3, 0x401000, 0x402005, 0x403009, 0, 1, 0 };
	struct cpgo_buf b = CPGO_BUF_INIT;
	struct cpgo_profile p;
	struct cpgo_gperf_stats st;
	(void)state;

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		put(&b, 4, w[i]);
	assert_int_equal(cpgo_buf_adds(&b, maps), 0);
	if (cpgo_gperf_import(&p, b.buf, b.len, "t32.prof", NULL, &st) < 0)
		fail_msg("%s", cpgo_last_error());
	assert_int_equal(st.word_size, 4);
	assert_int_equal(st.n_samples, 2);
	assert_int_equal(p.period, 4000000);
	assert_int_equal(p.n_mapping, 1);
	assert_int_equal(p.mappings[0].memory_start, 0x400000);
	assert_int_equal(p.mappings[0].file_offset, 0x1000);
	assert_int_equal(p.samples[0].n_loc, 3);
	assert_int_equal(cpgo_profile_index(&p), 0);
	/* Leaf exact, callers one byte back into their call. */
	assert_int_equal(cpgo_profile_location(&p, p.sample_locs[0])->address, 0x401000);
	assert_int_equal(cpgo_profile_location(&p, p.sample_locs[1])->address, 0x402004);
	assert_int_equal(cpgo_profile_location(&p, p.sample_locs[2])->address, 0x403008);
	assert_int_equal(cpgo_profile_location(&p, p.sample_locs[2])->mapping_id, p.mappings[0].id);
	cpgo_profile_release(&p);
	cpgo_buf_release(&b);
}

static void test_errors(void **state)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	struct cpgo_profile p;
	struct cpgo_gperf_stats st;
	static const uint64_t hdr[] = { 0, 3, 0, 10000, 0, 1, 100000, 5 };
	(void)state;

	assert_false(cpgo_gperf_is_cpu_profile("\x1f\x8b", 2));
	assert_int_equal(cpgo_gperf_import(&p, "xx", 2, "x.prof", NULL, &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "x.prof: not a gperftools CPU profile"));
	assert_int_equal(cpgo_gperf_import(&p, hdr, sizeof(hdr), "big.prof", NULL, &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "corrupt gperftools profile"));
	make(&b, 8, 0);
	assert_int_equal(cpgo_gperf_import(&p, b.buf, b.len, "n.prof", NULL, &st), -1);
	cpgo_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_64),
		cmocka_unit_test(test_32),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
