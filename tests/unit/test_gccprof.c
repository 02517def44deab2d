/* pprof -> gcc AutoFDO: the bytes gcc 12 reads, the reader's checks, discriminators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/error.h"
#include "gcc/gccprof.h"
#include "pprof/profile.h"
#include "util/buf.h"

static void init_profile(struct cpgo_profile *p)
{
	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
}

static uint64_t loc(struct cpgo_profile *p, const struct cpgo_line *l, size_t n)
{
	uint64_t id = cpgo_profile_add_location(p, 0, 0, l, n);
	assert_true(id != 0);
	return id;
}

static void sample(struct cpgo_profile *p, int64_t n, const uint64_t *locs, size_t n_loc)
{
	assert_int_equal(cpgo_profile_add_sample(p, locs, n_loc, &n, NULL, 0), 0);
}

/*
 * main (start 10) calls work (start 20) at line 12; work's line 23 has an
 * inlined sq (start 5) at line 6; main also calls through a pointer to op.
 */
static void build(struct cpgo_profile *p)
{
	uint64_t fm, fw, fs, fo, l[4];

	init_profile(p);
	fm = cpgo_profile_add_function(p, "main", "main", "m.c", 10);
	fw = cpgo_profile_add_function(p, "work", "work", "m.c", 20);
	fs = cpgo_profile_add_function(p, "sq", "sq", "m.c", 5);
	fo = cpgo_profile_add_function(p, "op", "op", "m.c", 30);
	{
		struct cpgo_line a = { fm, 12, 0 };
		l[0] = loc(p, &a, 1);
	}
	{
		struct cpgo_line a = { fw, 22, 0 };
		l[1] = loc(p, &a, 1);
	}
	{
		struct cpgo_line a[2] = { { fs, 6, 0 }, { fw, 23, 0 } };
		l[2] = loc(p, a, 2);
	}
	{
		struct cpgo_line a = { fo, 31, 0 };
		l[3] = loc(p, &a, 1);
	}
	sample(p, 30, (uint64_t[]){ l[1], l[0] }, 2);
	sample(p, 50, (uint64_t[]){ l[2], l[0] }, 2);
	sample(p, 5, (uint64_t[]){ l[3], l[0] }, 2);
	sample(p, 2, (uint64_t[]){ l[0] }, 1);
}

/* No binary, so no contexts: the file as the stacks' inlines made it. */
static void convert(struct cpgo_profile *p, struct cpgo_buf *out)
{
	struct gccprof_opts o = { 0 };
	assert_int_equal(gccprof_convert(p, "t.pprof", &o, out), 0);
}

static uint32_t word(const struct cpgo_buf *b, size_t at)
{
	uint32_t v;
	assert_true(at + 4 <= b->len);
	memcpy(&v, b->buf + at, 4);
	return v;
}

static void test_layout(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	size_t at;
	uint32_t n;

	build(&p);
	convert(&p, &out);
	assert_int_equal(word(&out, 0), 0x67636461);
	assert_int_equal(word(&out, 4), 2);
	assert_int_equal(word(&out, 8), 0);
	assert_int_equal(word(&out, 12), 0xaa000000);
	n = word(&out, 20);
	/* "", then each name once, in the order they are first used. */
	assert_int_equal(n, 5);
	at = 24;
	/* Index 0 is the empty name (gcc asserts index > 0 for call targets). */
	assert_int_equal(word(&out, at), 1);
	assert_int_equal(out.buf[at + 4], '\0');
	at += 5;
	for (uint32_t i = 1; i < n; i++) {
		uint32_t sl = word(&out, at);
		/* gcc 12: the byte length with the NUL, no padding. */
		assert_int_equal(strlen(out.buf + at + 4) + 1, sl);
		at += 4 + sl;
	}
	/* The section length is the bytes after it, up to the next tag. */
	assert_int_equal(word(&out, 16), at - 20);
	assert_int_equal(word(&out, at), 0xac000000);
	/* The module section closes the file: tag, length, no modules. */
	assert_int_equal(word(&out, out.len - 12), 0xae000000);
	assert_int_equal(word(&out, out.len - 4), 0);
	assert_int_equal(word(&out, at + 4), out.len - 12 - at - 8);
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
}

static void test_read_back(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT, text = CPGO_BUF_INIT;

	build(&p);
	convert(&p, &out);
	assert_int_equal(gccprof_read(out.buf, out.len, "t.afdo", &text), 0);
	/*
	 * Totals are what gcc sums from the counts; head = the entry line; the
	 * inline call site is (23 - 20) << 16; the pointer call's target is op.
	 */
	assert_string_equal(text.buf, "work:80:30\n"
				      " 2: 30\n"
				      " 3: sq:50\n"
				      "  1: 50\n"
				      "op:5:5\n"
				      " 1: 5\n"
				      "main:2:2\n"
				      " 2: 2 work:80 op:5\n");
	cpgo_buf_release(&out);
	cpgo_buf_release(&text);
	cpgo_profile_release(&p);
}

/* Every prefix of a valid file is refused with an error, never read past. */
static void test_truncated(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;

	build(&p);
	convert(&p, &out);
	for (size_t n = 0; n < out.len; n++) {
		unsigned char *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, out.buf, n);
		cpgo_clear_error();
		assert_int_equal(gccprof_read(cut, n, "cut.afdo", NULL), -1);
		assert_non_null(strstr(cpgo_last_error(), "cut.afdo"));
		free(cut);
	}
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
}

static void test_bad_fields(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	uint32_t v;
	size_t fn_at;

	build(&p);
	convert(&p, &out);
	/* Version 1 (gcc 11 and older). */
	v = 1;
	memcpy(out.buf + 4, &v, 4);
	assert_int_equal(gccprof_read(out.buf, out.len, "v.afdo", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "version 1, gcc 12 reads version 2"));
	v = 2;
	memcpy(out.buf + 4, &v, 4);
	/* A function name past the string table. */
	fn_at = 24 + word(&out, 16) - 4 + 8 + 4 + 8;
	v = 99;
	memcpy(out.buf + fn_at, &v, 4);
	assert_int_equal(gccprof_read(out.buf, out.len, "i.afdo", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "names string 99 of a table of 5"));
	v = 1;
	memcpy(out.buf + fn_at, &v, 4);
	assert_int_equal(gccprof_read(out.buf, out.len, "ok.afdo", NULL), 0);
	/* Modules: gcc asserts there are none. */
	v = 1;
	memcpy(out.buf + out.len - 4, &v, 4);
	assert_int_equal(gccprof_read(out.buf, out.len, "m.afdo", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "lists 1 modules"));
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
}

/* A header that claims a huge string table must not allocate for it. */
static void test_hostile_counts(void **state)
{
	uint32_t f[] = { 0x67636461, 2, 0, 0xaa000000, 8, 0x7fffffff };
	assert_int_equal(gccprof_read(f, sizeof(f), "h.afdo", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "claims 2147483647 strings"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_read_back),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_hostile_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
