/* pprof -> LLVM sample profile: keying, inlining, call targets, statics, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"
#include "llvm/llvmprof.h"
#include "pprof/profile.h"

static void init_profile(struct cpgo_profile *p)
{
	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "cpu", "nanoseconds"), 0);
	p->period_type.type = cpgo_profile_intern(p, "cpu");
	p->period_type.unit = cpgo_profile_intern(p, "nanoseconds");
	p->period = 10000000;
}

static uint64_t loc1(struct cpgo_profile *p, uint64_t fn, int64_t line)
{
	struct cpgo_line l = { fn, line, 0 };
	uint64_t id = cpgo_profile_add_location(p, 0, 0, &l, 1);
	assert_true(id != 0);
	return id;
}

static void sample(struct cpgo_profile *p, int64_t n, const uint64_t *locs, size_t n_loc)
{
	int64_t v[2] = { n, n * 10000000 };
	assert_int_equal(cpgo_profile_add_sample(p, locs, n_loc, v, NULL, 0), 0);
}

/* Converts to text; returns a malloc'd string or NULL (error set). */
static char *to_text(struct cpgo_profile *p, const char *source_file, const char *type)
{
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct llvmprof_opts o = { .text = 1, .source_file = source_file, .sample_type = type };

	if (llvmprof_convert(p, "test.pprof", &o, &out) < 0) {
		cpgo_buf_release(&out);
		return NULL;
	}
	return cpgo_buf_detach(&out, NULL);
}

static void test_offsets_and_totals(void **state)
{
	struct cpgo_profile p;
	uint64_t f, l[3];
	char *t;

	(void)state;
	init_profile(&p);
	f = cpgo_profile_add_function(&p, "main", "main", "main.c", 10);
	l[0] = loc1(&p, f, 12);
	l[1] = loc1(&p, f, 15);
	l[2] = loc1(&p, f, 9); /* before the start line: wraps to 16 bits as clang computes */
	sample(&p, 5, &l[0], 1);
	sample(&p, 3, &l[1], 1);
	sample(&p, 2, &l[0], 1);
	sample(&p, 1, &l[2], 1);
	t = to_text(&p, NULL, NULL);
	assert_non_null(t);
	/* Head samples: the entry (lowest offset) line's count. */
	assert_string_equal(t, "main:11:7\n 2: 7\n 5: 3\n 65535: 1\n");
	free(t);
	cpgo_profile_release(&p);
}

static void test_inline_calls_head(void **state)
{
	struct cpgo_profile p;
	struct cpgo_line inl[2];
	uint64_t fm, ff, fi, fb, lm, lcall, lfi, lb, st[2];
	char *t;

	(void)state;
	init_profile(&p);
	fm = cpgo_profile_add_function(&p, "main", "main", "main.c", 10);
	ff = cpgo_profile_add_function(&p, "foo", "foo", "a.c", 20);
	fi = cpgo_profile_add_function(&p, "inl", "inl", "a.h", 5);
	fb = cpgo_profile_add_function(&p, "bar", "bar", "a.c", 40);
	lm = loc1(&p, fm, 12);
	lcall = loc1(&p, fm, 13);
	inl[0] = (struct cpgo_line){ fi, 7, 0 }; /* inl inlined into foo at line 25 */
	inl[1] = (struct cpgo_line){ ff, 25, 0 };
	lfi = cpgo_profile_add_location(&p, 0, 0, inl, 2);
	lb = loc1(&p, fb, 41);
	sample(&p, 5, &lm, 1);
	st[0] = lfi, st[1] = lcall;
	sample(&p, 4, st, 2);
	st[0] = lb;
	sample(&p, 2, st, 2);
	t = to_text(&p, NULL, NULL);
	assert_non_null(t);
	/*
	 * Body only at the leaf; call targets from the stack edges; head samples
	 * from the entry line (foo has no body line of its own: no estimate).
	 */
	assert_string_equal(t, "main:5:5\n 2: 5\n 3: 0 foo:4 bar:2\n"
			       "foo:4:0\n 5: inl:4\n  2: 4\n"
			       "bar:2:2\n 1: 2\n");
	free(t);
	/* cpu nanoseconds are scaled back to samples by the period. */
	t = to_text(&p, NULL, "cpu");
	assert_non_null(t);
	assert_non_null(strstr(t, "foo:4:0\n 5: inl:4\n"));
	free(t);
	cpgo_profile_release(&p);
}

static void test_inlined_caller_call_target(void **state)
{
	struct cpgo_profile p;
	struct cpgo_line inl[2];
	uint64_t fm, fi, fc, lc, lcall, st[2];
	char *t;

	(void)state;
	init_profile(&p);
	fm = cpgo_profile_add_function(&p, "main", "main", "main.c", 10);
	fi = cpgo_profile_add_function(&p, "helper", "helper", "main.c", 30);
	fc = cpgo_profile_add_function(&p, "callee", "callee", "main.c", 50);
	lc = loc1(&p, fc, 52);
	/* The call sits in helper, inlined into main: the target goes into the inline instance. */
	inl[0] = (struct cpgo_line){ fi, 33, 0 };
	inl[1] = (struct cpgo_line){ fm, 14, 0 };
	lcall = cpgo_profile_add_location(&p, 0, 0, inl, 2);
	st[0] = lc, st[1] = lcall;
	sample(&p, 7, st, 2);
	t = to_text(&p, NULL, NULL);
	assert_non_null(t);
	assert_string_equal(t, "callee:7:7\n 2: 7\nmain:0:0\n 4: helper:0\n  3: 0 callee:7\n");
	free(t);
	cpgo_profile_release(&p);
}

static void statics_profile(struct cpgo_profile *p)
{
	uint64_t fa, fb, fm, la, lb, lm;

	init_profile(p);
	fa = cpgo_profile_add_function(p, "hash", "hash", "/build/proj/src/a.c", 10);
	fb = cpgo_profile_add_function(p, "hash", "hash", "/build/proj/src/b.c", 100);
	fm = cpgo_profile_add_function(p, "lib_api", "lib_api", "/build/proj/src/b.c", 200);
	la = loc1(p, fa, 12);
	lb = loc1(p, fb, 103);
	lm = loc1(p, fm, 201);
	sample(p, 40, &la, 1);
	sample(p, 9, &lb, 1);
	sample(p, 1, &lm, 1);
}

static void test_statics(void **state)
{
	struct cpgo_profile p;
	char *t;

	(void)state;
	statics_profile(&p);
	/* For a.c: only a.c's hash, and b.c's functions are of no use. */
	t = to_text(&p, "/home/me/proj/src/a.c", NULL);
	assert_non_null(t);
	assert_string_equal(t, "hash:40:40\n 2: 40\n");
	free(t);
	t = to_text(&p, "src/b.c", NULL);
	assert_non_null(t);
	assert_string_equal(t, "hash:9:9\n 3: 9\nlib_api:1:1\n 1: 1\n");
	free(t);
	/* No TU given: the two hashes must not pool; the name is left out. */
	t = to_text(&p, NULL, NULL);
	assert_non_null(t);
	assert_string_equal(t, "lib_api:1:1\n 1: 1\n");
	free(t);
	cpgo_profile_release(&p);
}

static void test_missing_start_line(void **state)
{
	struct cpgo_profile p;
	uint64_t f, l;

	(void)state;
	init_profile(&p);
	f = cpgo_profile_add_function(&p, "old_go_func", "old_go_func", "x.c", 0);
	l = loc1(&p, f, 12);
	sample(&p, 5, &l, 1);
	assert_null(to_text(&p, NULL, NULL));
	assert_non_null(strstr(cpgo_last_error(), "test.pprof"));
	assert_non_null(strstr(cpgo_last_error(), "old_go_func"));
	assert_non_null(strstr(cpgo_last_error(), "--binary"));
	cpgo_profile_release(&p);
}

static void test_hostile(void **state)
{
	struct cpgo_profile p;
	uint64_t f, l;
	char *t;

	(void)state;
	init_profile(&p);
	/* No samples at all. */
	assert_null(to_text(&p, NULL, NULL));
	assert_non_null(strstr(cpgo_last_error(), "no samples"));
	f = cpgo_profile_add_function(&p, "f", "f", "x.c", 1);
	l = loc1(&p, f, 2);
	sample(&p, 5, &l, 1);
	/* A sample type the profile does not have: the message lists those it has. */
	assert_null(to_text(&p, NULL, "alloc_space"));
	assert_non_null(strstr(cpgo_last_error(), "alloc_space"));
	assert_non_null(strstr(cpgo_last_error(), "samples/count, cpu/nanoseconds"));
	t = to_text(&p, NULL, "samples/count");
	assert_non_null(t);
	free(t);
	cpgo_profile_release(&p);

	/* Only unsymbolized samples: nothing to key by. */
	init_profile(&p);
	l = cpgo_profile_add_location(&p, 0, 0, NULL, 0);
	sample(&p, 5, &l, 1);
	assert_null(to_text(&p, NULL, NULL));
	assert_non_null(strstr(cpgo_last_error(), "--binary"));
	cpgo_profile_release(&p);
}

static void test_ext_binary_header(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct llvmprof_opts o = { 0 };
	struct llvmprof_stats st;
	uint64_t f, l;
	/* ULEB128 of SPMagic(SPF_Ext_Binary), then version 103. */
	static const unsigned char magic[] = { 0x84, 0xe4, 0xd0, 0xb1, 0xf4, 0xc9, 0x94, 0xa8, 0x53, 0x67 };

	(void)state;
	init_profile(&p);
	f = cpgo_profile_add_function(&p, "f", "f", "x.c", 1);
	l = loc1(&p, f, 2);
	sample(&p, 5, &l, 1);
	o.stats = &st;
	assert_int_equal(llvmprof_convert(&p, "x", &o, &out), 0);
	assert_true(out.len > sizeof(magic) + 8);
	assert_memory_equal(out.buf, magic, sizeof(magic));
	assert_int_equal((unsigned char)out.buf[sizeof(magic)], 7); /* seven sections */
	assert_int_equal(st.functions, 1);
	assert_int_equal(st.samples_used, 5);
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
}

static void test_names_and_discriminators(void **state)
{
	struct cpgo_buf b = CPGO_BUF_INIT;

	(void)state;
	assert_int_equal(llvmprof_canonical_name("foo.cold", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(llvmprof_canonical_name("foo.constprop.0.isra.1", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(llvmprof_canonical_name("foo.part.3.cold", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(llvmprof_canonical_name("foo.llvm.123456", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(llvmprof_canonical_name("my.part.x", &b), 0);
	assert_string_equal(b.buf, "my.part.x");
	assert_int_equal(llvmprof_canonical_name(".cold", &b), 0);
	assert_string_equal(b.buf, ".cold");
	cpgo_buf_release(&b);
	/* Prefix encoding (llvm/Support/Discriminator.h): bit 0 set = empty component. */
	assert_int_equal(llvmprof_base_discriminator(0), 0);
	assert_int_equal(llvmprof_base_discriminator(1), 0);
	assert_int_equal(llvmprof_base_discriminator(2 << 1), 2);
	assert_int_equal(llvmprof_base_discriminator(0x1f << 1), 0x1f);
	/* 0x40 = 2 encoded in 13 bits: ((0x40 & 0xfe0) << 1) | 0x20 */
	assert_int_equal(llvmprof_base_discriminator(((0x40 << 1) | 0x20) << 1), 0x40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_and_totals),
		cmocka_unit_test(test_inline_calls_head),
		cmocka_unit_test(test_inlined_caller_call_target),
		cmocka_unit_test(test_statics),
		cmocka_unit_test(test_missing_start_line),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_ext_binary_header),
		cmocka_unit_test(test_names_and_discriminators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
