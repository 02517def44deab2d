/*
 * Unit tests for the merge engine (lib/pprof/merge.c, merge_match.c), on
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
#include "pprof/merge.h"
#include "../helper/build_profile.h"

/*
 * A small program: main -> work -> hot, main -> cold; `base` shifts every
 * address (another load address), `bid` is the build id.
 */
static void program(struct cpgo_profile *p, const char *bid, uint64_t base, int64_t scale)
{
	uint64_t m = mapping(p, bid, base);
	uint64_t fmain = cpgo_profile_add_function(p, "main", NULL, "prog.c", 10);
	uint64_t fwork = cpgo_profile_add_function(p, "work", NULL, "prog.c", 20);
	uint64_t fhot = cpgo_profile_add_function(p, "hot", NULL, "prog.c", 30);
	uint64_t fcold = cpgo_profile_add_function(p, "cold", NULL, "prog.c", 40);
	uint64_t lmain = loc1(p, m, base + 0x100, fmain, 12);
	uint64_t lwork = loc1(p, m, base + 0x200, fwork, 22);
	uint64_t lhot = loc1(p, m, base + 0x300, fhot, 33);
	uint64_t lcold = loc1(p, m, base + 0x400, fcold, 41);
	uint64_t s1[] = { lhot, lwork, lmain }, s2[] = { lcold, lmain };

	sample(p, s1, 3, 30 * scale);
	sample(p, s2, 2, 10 * scale);
}

static int64_t total(const struct cpgo_profile *p, size_t type)
{
	int64_t t = 0;
	for (size_t i = 0; i < p->n_sample; i++)
		t += cpgo_sample_values(p, i)[type];
	return t;
}

/* Merges `n` inputs with weights into `out` (initialized here). */
static int merge(struct cpgo_profile *out, struct cpgo_profile *in, const double *w, size_t n,
		 int normalize)
{
	struct cpgo_merge_opts o = { normalize };
	struct cpgo_merge *m = NULL;
	int ret = -1;

	assert_int_equal(cpgo_profile_init(out), 0);
	assert_int_equal(cpgo_merge_begin(&m, out, &o), 0);
	for (size_t i = 0; i < n; i++)
		if (cpgo_merge_add(m, &in[i], i ? "b.pprof" : "a.pprof", w ? w[i] : 1.0) < 0)
			goto done;
	ret = cpgo_merge_finish(m);
done:
	cpgo_merge_free(m);
	if (ret == 0)
		assert_int_equal(cpgo_profile_check(out, "merged"), 0);
	return ret;
}

static void release_all(struct cpgo_profile *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cpgo_profile_release(&p[i]);
}

/* The stack of sample `i` as "leaf;...;root" function names. */
static void stack_names(const struct cpgo_profile *p, size_t i, char *buf, size_t size)
{
	const struct cpgo_sample *s = &p->samples[i];
	buf[0] = '\0';
	for (size_t j = 0; j < s->n_loc; j++) {
		const struct cpgo_location *l = cpgo_profile_location(p, p->sample_locs[s->loc_off + j]);
		for (size_t k = 0; l && k < l->n_line; k++) {
			const struct cpgo_function *f =
				cpgo_profile_function(p, p->lines[l->line_off + k].function_id);
			if (buf[0])
				strncat(buf, ";", size - strlen(buf) - 1);
			strncat(buf, cpgo_profile_str(p, f->name), size - strlen(buf) - 1);
		}
	}
}

static void test_identical_stacks_summed(void **state)
{
	struct cpgo_profile in[2], out;
	(void)state;
	cpu_profile(&in[0], 1000000000);
	cpu_profile(&in[1], 2000000000);
	program(&in[0], "abc", 0x400000, 1);
	program(&in[1], "abc", 0x400000, 2);
	assert_int_equal(merge(&out, in, NULL, 2, 0), 0);
	assert_int_equal(out.n_sample, 2);
	assert_int_equal(out.n_location, 4);
	assert_int_equal(out.n_function, 4);
	assert_int_equal(out.n_mapping, 1);
	assert_int_equal(total(&out, 0), 40 + 80);
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 90);
	assert_int_equal(cpgo_sample_values(&out, 0)[1], 900000000);
	assert_int_equal(out.duration_nanos, 3000000000);
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_aslr_same_build_id_dedups_by_address(void **state)
{
	struct cpgo_profile in[2], out;
	(void)state;
	cpu_profile(&in[0], 1);
	cpu_profile(&in[1], 1);
	program(&in[0], "abc", 0x400000, 1);
	program(&in[1], "abc", 0x7f0000000000, 1); /* same binary, other load address */
	assert_int_equal(merge(&out, in, NULL, 2, 0), 0);
	assert_int_equal(out.n_mapping, 1);
	assert_int_equal(out.n_location, 4);
	assert_int_equal(out.n_sample, 2);
	/* Addresses are expressed in the first input's mapping. */
	for (size_t i = 0; i < out.n_location; i++)
		assert_true(out.locations[i].address >= 0x400000 &&
			    out.locations[i].address < 0x410000);
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_different_builds_merge_by_symbol(void **state)
{
	struct cpgo_profile in[2], out;
	char names[256];
	(void)state;
	cpu_profile(&in[0], 1);
	cpu_profile(&in[1], 1);
	program(&in[0], "build-1", 0x400000, 1);
	program(&in[1], "build-2", 0x500000, 1); /* rebuilt: other build id, addresses */
	assert_int_equal(merge(&out, in, NULL, 2, 0), 0);
	assert_int_equal(out.n_sample, 2);
	assert_int_equal(out.n_location, 4);
	assert_int_equal(out.n_function, 4);
	/* The second build's mapping is used by nothing and is compacted away. */
	assert_int_equal(out.n_mapping, 1);
	stack_names(&out, 0, names, sizeof(names));
	assert_string_equal(names, "hot;work;main");
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 60);
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_one_input_keeps_distinct_addresses(void **state)
{
	struct cpgo_profile in, out;
	uint64_t m, f, a, b, sa[1], sb[1];
	(void)state;
	cpu_profile(&in, 1);
	m = mapping(&in, "abc", 0x400000);
	f = cpgo_profile_add_function(&in, "f", NULL, "f.c", 1);
	/* Two instructions on the same line: a round trip keeps both. */
	a = loc1(&in, m, 0x400010, f, 2);
	b = loc1(&in, m, 0x400014, f, 2);
	sa[0] = a;
	sb[0] = b;
	sample(&in, sa, 1, 1);
	sample(&in, sb, 1, 2);
	assert_int_equal(merge(&out, &in, NULL, 1, 0), 0);
	assert_int_equal(out.n_location, 2);
	assert_int_equal(out.n_sample, 2);
	assert_int_equal(out.locations[1].address, 0x400014);
	cpgo_profile_release(&in);
	cpgo_profile_release(&out);
}

static void test_duplicate_functions_deduplicated(void **state)
{
	struct cpgo_profile in, out;
	uint64_t m, f1, f2, s1[1], s2[1];
	(void)state;
	cpu_profile(&in, 1);
	m = mapping(&in, "abc", 0x400000);
	f1 = cpgo_profile_add_function(&in, "f", NULL, "f.c", 1);
	f2 = cpgo_profile_add_function(&in, "f", NULL, "f.c", 1); /* same function again */
	s1[0] = loc1(&in, m, 0x400010, f1, 2);
	s2[0] = loc1(&in, m, 0x400010, f2, 2); /* same location again */
	sample(&in, s1, 1, 1);
	sample(&in, s2, 1, 2);
	assert_int_equal(merge(&out, &in, NULL, 1, 0), 0);
	assert_int_equal(out.n_function, 1);
	assert_int_equal(out.n_location, 1);
	assert_int_equal(out.n_sample, 1);
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 3);
	cpgo_profile_release(&in);
	cpgo_profile_release(&out);
}

static void test_functions_differ_by_start_line(void **state)
{
	struct cpgo_profile in, out;
	uint64_t f1, f2, s[1];
	(void)state;
	cpu_profile(&in, 1);
	f1 = cpgo_profile_add_function(&in, "f", NULL, "f.c", 1);
	f2 = cpgo_profile_add_function(&in, "f", NULL, "f.c", 50); /* static f elsewhere */
	s[0] = loc1(&in, 0, 0, f1, 2);
	sample(&in, s, 1, 1);
	s[0] = loc1(&in, 0, 0, f2, 51);
	sample(&in, s, 1, 1);
	assert_int_equal(merge(&out, &in, NULL, 1, 0), 0);
	assert_int_equal(out.n_function, 2);
	assert_int_equal(out.n_sample, 2);
	cpgo_profile_release(&in);
	cpgo_profile_release(&out);
}

static void test_labels_in_any_order_are_one_stack(void **state)
{
	struct cpgo_profile in, out;
	struct cpgo_label l1[2], l2[2], l3[1];
	uint64_t f, s[1];
	int64_t v[2] = { 1, 10 };
	(void)state;
	cpu_profile(&in, 1);
	f = cpgo_profile_add_function(&in, "f", NULL, "f.c", 1);
	s[0] = loc1(&in, 0, 0, f, 2);
	memset(l1, 0, sizeof(l1));
	l1[0].key = cpgo_profile_intern(&in, "phase");
	l1[0].str = cpgo_profile_intern(&in, "hot");
	l1[1].key = cpgo_profile_intern(&in, "worker");
	l1[1].str = cpgo_profile_intern(&in, "7");
	l2[0] = l1[1];
	l2[1] = l1[0];
	l3[0] = l1[0];
	l3[0].str = cpgo_profile_intern(&in, "cold");
	assert_int_equal(cpgo_profile_add_sample(&in, s, 1, v, l1, 2), 0);
	assert_int_equal(cpgo_profile_add_sample(&in, s, 1, v, l2, 2), 0);
	assert_int_equal(cpgo_profile_add_sample(&in, s, 1, v, l3, 1), 0);
	assert_int_equal(cpgo_profile_add_sample(&in, s, 1, v, NULL, 0), 0);
	assert_int_equal(merge(&out, &in, NULL, 1, 0), 0);
	assert_int_equal(out.n_sample, 3);
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 2);
	assert_int_equal(out.samples[0].n_label, 2);
	cpgo_profile_release(&in);
	cpgo_profile_release(&out);
}

static void test_integer_weight(void **state)
{
	struct cpgo_profile in[2], out;
	double w[2] = { 3, 1 };
	(void)state;
	cpu_profile(&in[0], 1000);
	cpu_profile(&in[1], 1000);
	program(&in[0], "abc", 0x400000, 1);
	program(&in[1], "abc", 0x400000, 1);
	assert_int_equal(merge(&out, in, w, 2, 0), 0);
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 30 * 4);
	assert_int_equal(cpgo_sample_values(&out, 1)[1], 10 * 4 * 10000000LL);
	/* Weight 3 counts the input three times, its duration too. */
	assert_int_equal(out.duration_nanos, 4000);
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_fractional_weight_keeps_total(void **state)
{
	struct cpgo_profile in, out;
	uint64_t f[7], s[1];
	int64_t v[2] = { 1, 3 };
	double w = 0.5;
	char name[8];
	(void)state;
	cpu_profile(&in, 1);
	/* Seven stacks: halving gives 3.5 and 10.5 in all, rounded with carry. */
	for (int i = 0; i < 7; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		f[i] = cpgo_profile_add_function(&in, name, NULL, "f.c", i + 1);
		s[0] = loc1(&in, 0, 0, f[i], i + 2);
		assert_int_equal(cpgo_profile_add_sample(&in, s, 1, v, NULL, 0), 0);
	}
	v[0] = 0;
	v[1] = 1; /* 0.5 alone: a stack dropped only if both its values round to 0 */
	s[0] = loc1(&in, 0, 0, f[0], 99);
	assert_int_equal(cpgo_profile_add_sample(&in, s, 1, v, NULL, 0), 0);
	assert_int_equal(merge(&out, &in, &w, 1, 0), 0);
	assert_true(total(&out, 0) == 3 || total(&out, 0) == 4);
	assert_true(total(&out, 1) == 11 || total(&out, 1) == 10);
	/* Every value is within 1 of its exact scaled value. */
	for (size_t i = 0; i < out.n_sample; i++) {
		const int64_t *o = cpgo_sample_values(&out, i);
		assert_true(o[0] >= 0 && o[0] <= 1);
		assert_true(o[1] >= 1 && o[1] <= 2);
	}
	cpgo_profile_release(&in);
	cpgo_profile_release(&out);
}

static void test_zero_stacks_dropped_and_compacted(void **state)
{
	struct cpgo_profile in, out;
	uint64_t m1, m2, f1, f2, s[1];
	double w = 0.25;
	(void)state;
	cpu_profile(&in, 1);
	m1 = mapping(&in, "abc", 0x400000);
	m2 = mapping(&in, "libx", 0x500000);
	f1 = cpgo_profile_add_function(&in, "big", NULL, "f.c", 1);
	f2 = cpgo_profile_add_function(&in, "tiny", NULL, "x.c", 1);
	s[0] = loc1(&in, m1, 0x400010, f1, 2);
	sample(&in, s, 1, 8);
	s[0] = loc1(&in, m2, 0x500010, f2, 2);
	assert_int_equal(cpgo_profile_add_sample(&in, s, 1, (int64_t[]){ 1, 1 }, NULL, 0), 0);
	/* 0.25 rounds to 0: the stack, its location, function, mapping go. */
	assert_int_equal(merge(&out, &in, &w, 1, 0), 0);
	assert_int_equal(out.n_sample, 1);
	assert_int_equal(out.n_location, 1);
	assert_int_equal(out.n_function, 1);
	assert_int_equal(out.n_mapping, 1);
	assert_string_equal(cpgo_profile_str(&out, out.functions[0].name), "big");
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 2);
	cpgo_profile_release(&in);
	cpgo_profile_release(&out);
}

static void test_normalize_by_duration(void **state)
{
	struct cpgo_profile in[2], out;
	uint64_t f, s[1];
	(void)state;
	/* A: 1 s, 100 samples in a; B: 4 s, 400 samples in b. */
	cpu_profile(&in[0], 1000000000);
	f = cpgo_profile_add_function(&in[0], "a", NULL, "a.c", 1);
	s[0] = loc1(&in[0], 0, 0, f, 1);
	sample(&in[0], s, 1, 100);
	cpu_profile(&in[1], 4000000000);
	f = cpgo_profile_add_function(&in[1], "b", NULL, "b.c", 1);
	s[0] = loc1(&in[1], 0, 0, f, 1);
	sample(&in[1], s, 1, 400);
	assert_int_equal(merge(&out, in, NULL, 2, 1), 0);
	/* Each counts as the mean duration, 2.5 s: 250 samples each. */
	assert_int_equal(out.n_sample, 2);
	assert_int_equal(cpgo_sample_values(&out, 0)[0], 250);
	assert_int_equal(cpgo_sample_values(&out, 1)[0], 250);
	assert_int_equal(cpgo_sample_values(&out, 1)[1], 2500000000LL);
	assert_int_equal(out.duration_nanos, 5000000000LL);
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_normalize_needs_duration(void **state)
{
	struct cpgo_profile in[2], out;
	(void)state;
	cpu_profile(&in[0], 1000);
	cpu_profile(&in[1], 0);
	program(&in[0], "abc", 0x400000, 1);
	program(&in[1], "abc", 0x400000, 1);
	assert_int_equal(merge(&out, in, NULL, 2, 1), -1);
	assert_non_null(strstr(cpgo_last_error(), "b.pprof: has no duration"));
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_sample_type_mismatch_refused(void **state)
{
	struct cpgo_profile in[2], out;
	(void)state;
	cpu_profile(&in[0], 1);
	program(&in[0], "abc", 0x400000, 1);
	assert_int_equal(cpgo_profile_init(&in[1]), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&in[1], "alloc_space", "bytes"), 0);
	in[1].period_type = in[0].period_type;
	assert_int_equal(merge(&out, in, NULL, 2, 0), -1);
	assert_non_null(strstr(cpgo_last_error(), "b.pprof: sample types [alloc_space/bytes]"));
	assert_non_null(strstr(cpgo_last_error(), "a.pprof's [samples/count cpu/nanoseconds]"));
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_period_type_mismatch_refused(void **state)
{
	struct cpgo_profile in[2], out;
	(void)state;
	cpu_profile(&in[0], 1);
	cpu_profile(&in[1], 1);
	in[1].period_type.type = cpgo_profile_intern(&in[1], "wall");
	assert_int_equal(merge(&out, in, NULL, 2, 0), -1);
	assert_non_null(strstr(cpgo_last_error(), "period type wall/nanoseconds"));
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_header_fields(void **state)
{
	struct cpgo_profile in[2], out;
	(void)state;
	cpu_profile(&in[0], 5);
	cpu_profile(&in[1], 7);
	program(&in[0], "abc", 0x400000, 1);
	program(&in[1], "abc", 0x400000, 1);
	in[0].time_nanos = 2000;
	in[1].time_nanos = 1000;
	in[1].period = 20000000;
	assert_int_equal(CPGO_GROW(in[0].comments, in[0].alloc_comment, 1), 0);
	in[0].comments[in[0].n_comment++] = cpgo_profile_intern(&in[0], "host a");
	assert_int_equal(CPGO_GROW(in[1].comments, in[1].alloc_comment, 2), 0);
	in[1].comments[in[1].n_comment++] = cpgo_profile_intern(&in[1], "host a");
	in[1].comments[in[1].n_comment++] = cpgo_profile_intern(&in[1], "host b");
	in[1].default_sample_type = cpgo_profile_intern(&in[1], "cpu");
	assert_int_equal(merge(&out, in, NULL, 2, 0), 0);
	assert_int_equal(out.time_nanos, 1000);
	assert_int_equal(out.duration_nanos, 12);
	assert_int_equal(out.period, 20000000);
	assert_int_equal(out.n_comment, 2);
	assert_string_equal(cpgo_profile_str(&out, out.comments[1]), "host b");
	assert_string_equal(cpgo_profile_str(&out, out.default_sample_type), "cpu");
	release_all(in, 2);
	cpgo_profile_release(&out);
}

static void test_output_encodes_and_parses(void **state)
{
	struct cpgo_profile in[2], out, back;
	struct cpgo_buf b = CPGO_BUF_INIT;
	(void)state;
	cpu_profile(&in[0], 1);
	cpu_profile(&in[1], 1);
	program(&in[0], "build-1", 0x400000, 1);
	program(&in[1], "build-2", 0x500000, 3);
	assert_int_equal(merge(&out, in, NULL, 2, 0), 0);
	assert_int_equal(cpgo_profile_encode(&out, &b, 1), 0);
	assert_int_equal(cpgo_profile_parse(&back, b.buf, b.len, "merged", NULL), 0);
	assert_int_equal(back.n_sample, out.n_sample);
	assert_int_equal(total(&back, 0), 40 * 4);
	cpgo_buf_release(&b);
	release_all(in, 2);
	cpgo_profile_release(&out);
	cpgo_profile_release(&back);
}

static void test_parse_weight(void **state)
{
	double w = 0;
	(void)state;
	assert_int_equal(cpgo_merge_parse_weight("2.5", &w, "-w"), 0);
	assert_true(w == 2.5);
	assert_int_equal(cpgo_merge_parse_weight("1e3", &w, "-w"), 0);
	assert_int_equal(cpgo_merge_parse_weight("0", &w, "-w"), -1);
	assert_int_equal(cpgo_merge_parse_weight("-1", &w, "-w"), -1);
	assert_int_equal(cpgo_merge_parse_weight("nan", &w, "-w"), -1);
	assert_int_equal(cpgo_merge_parse_weight("2x", &w, "-w"), -1);
	assert_non_null(strstr(cpgo_last_error(), "not a number"));
	assert_int_equal(cpgo_merge_parse_weight("", &w, "-w"), -1);
}

/* ---- report ---------------------------------------------------------------- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_stacks_summed),
		cmocka_unit_test(test_aslr_same_build_id_dedups_by_address),
		cmocka_unit_test(test_different_builds_merge_by_symbol),
		cmocka_unit_test(test_one_input_keeps_distinct_addresses),
		cmocka_unit_test(test_duplicate_functions_deduplicated),
		cmocka_unit_test(test_functions_differ_by_start_line),
		cmocka_unit_test(test_labels_in_any_order_are_one_stack),
		cmocka_unit_test(test_integer_weight),
		cmocka_unit_test(test_fractional_weight_keeps_total),
		cmocka_unit_test(test_zero_stacks_dropped_and_compacted),
		cmocka_unit_test(test_normalize_by_duration),
		cmocka_unit_test(test_normalize_needs_duration),
		cmocka_unit_test(test_sample_type_mismatch_refused),
		cmocka_unit_test(test_period_type_mismatch_refused),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_output_encodes_and_parses),
		cmocka_unit_test(test_parse_weight),
	};
	return cmocka_run_group_tests_name("merge", tests, NULL, NULL);
}
