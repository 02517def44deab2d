/* pprof -> LLVM sample profile: keying, inlining, call targets, statics, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../helper/test_prog.h"

#include "util/error.h"
#include "llvm/llvmprof.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"
#include "util/buf.h"
#include <inttypes.h>
#include <sys/stat.h>

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
/* The functions the TU defines, for to_text (NULL: none known). */
static const struct cpgo_strvec *tu_functions;
/* The source files the TU includes, for to_text (NULL: none). */
static const struct cpgo_strvec *tu_sources;

static char *to_text(struct cpgo_profile *p, const char *source_file, const char *type)
{
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct llvmprof_opts o = { .text = 1, .sp = { .source_file = source_file, .sample_type = type,
						       .tu_functions = tu_functions,
						       .tu_sources = tu_sources } };

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
	static const char moved_src[] =
		"#include <x.h>\n/* hash(1) { */\nstatic int hash(int x) { return x; }\n"
		"const char *s = \"lib_api(void) {\";\nint lib_api(void)\n{\n\treturn hash(2);\n}\n";
	struct cpgo_strvec moved = CPGO_STRVEC_INIT;
	struct cpgo_profile p;
	char *t;

	(void)state;
	statics_profile(&p);
	/* For a.c: only a.c's hash, and b.c's functions are of no use. */
	t = to_text(&p, "/home/me/proj/src/a.c", NULL);
	assert_non_null(t);
	assert_string_equal(t, "hash:40:40\n 2: 40\n");
	free(t);
	/*
	 * Unless a.c defines them now: b.c's lib_api, which no other file
	 * defines, moved to a.c; b.c's hash still not (a.c has its own, which
	 * b.c's samples would shadow).
	 */
	tu_functions = &moved;
	assert_int_equal(sprof_source_functions(moved_src, strlen(moved_src), &moved), 0);
	assert_int_equal(moved.n, 2);
	t = to_text(&p, "/home/me/proj/src/a.c", NULL);
	tu_functions = NULL;
	cpgo_strvec_release(&moved);
	assert_non_null(t);
	assert_string_equal(t, "hash:40:40\n 2: 40\nlib_api:1:1\n 1: 1\n");
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

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* main in a.c (3 samples), step in impl.c (5), other in other.c (7). */
static void unity_profile(struct cpgo_profile *p)
{
	uint64_t fi, fo, fa, l;

	init_profile(p);
	fa = cpgo_profile_add_function(p, "main", "main", "/build/proj/a.c", 1);
	fi = cpgo_profile_add_function(p, "step", "step", "/build/proj/impl.c", 10);
	fo = cpgo_profile_add_function(p, "other", "other", "/build/proj/other.c", 20);
	l = loc1(p, fa, 2);
	sample(p, 3, &l, 1);
	l = loc1(p, fi, 11);
	sample(p, 5, &l, 1);
	l = loc1(p, fo, 22);
	sample(p, 7, &l, 1);
}

/*
 * A TU's profile carries the whole program's summary when given one: its
 * first fields (ULEB128) are the total and the largest count, 15 and 7 of
 * the whole, not a.c's own 3 and 3.
 */
static void test_whole_summary(void **state)
{
	struct cpgo_buf sum = CPGO_BUF_INIT, out = CPGO_BUF_INIT;
	struct llvmprof_opts o = { 0 };
	struct cpgo_profile p;

	(void)state;
	unity_profile(&p);
	assert_int_equal(llvmprof_summary(&p, "whole", &o, &sum), 0);
	cpgo_profile_release(&p);
	assert_true(sum.len > 2);
	assert_int_equal((unsigned char)sum.buf[0], 15);
	assert_int_equal((unsigned char)sum.buf[1], 7);

	o.sp.source_file = "/src/a.c";
	unity_profile(&p);
	assert_int_equal(llvmprof_convert(&p, "tu", &o, &out), 0);
	cpgo_profile_release(&p);
	assert_null(memmem(out.buf, out.len, sum.buf, sum.len));
	cpgo_buf_reset(&out);
	o.summary = &sum;
	unity_profile(&p);
	assert_int_equal(llvmprof_convert(&p, "tu", &o, &out), 0);
	cpgo_profile_release(&p);
	assert_non_null(memmem(out.buf, out.len, sum.buf, sum.len));
	cpgo_buf_release(&out);
	cpgo_buf_release(&sum);
}

/*
 * A unity build: a.c #includes impl.c (which includes more.c, and a.c back),
 * so impl.c's functions are compiled in a.c's TU and keep their profiles
 * there; a header, a <system> include, a missing file and a.c itself are
 * not among its sources.
 */
static void test_unity_include(void **state)
{
	char dir[] = "/tmp/cpgo-unity.XXXXXX", src[64], cmd[96];
	struct cpgo_strvec inc = CPGO_STRVEC_INIT;
	struct cpgo_profile p;
	char *t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof(src), "%s/sub", dir);
	assert_int_equal(mkdir(src, 0700), 0);
	write_text(dir, "a.c",
		   "#include \"util.h\"\n#include \"impl.c\"\n  #  include \"sub/deep.c\"\n"
		   "#include <sys.c>\n#include \"gone.c\"\nint main(void) { return step(); }\n");
	write_text(dir, "impl.c", "#include \"a.c\"\n#include \"more.c\"\nint step(void) { return 1; }\n");
	write_text(dir, "more.c", "\n");
	write_text(dir, "util.h", "#include \"hidden.c\"\n");
	write_text(dir, "hidden.c", "\n");
	write_text(dir, "sub/deep.c", "");
	snprintf(src, sizeof(src), "%s/a.c", dir);
	assert_int_equal(sprof_source_file_includes(src, &inc), 0);
	assert_int_equal(inc.n, 3);
	assert_string_equal(inc.v[0] + strlen(dir), "/impl.c");
	assert_string_equal(inc.v[1] + strlen(dir), "/more.c");
	assert_string_equal(inc.v[2] + strlen(dir), "/sub/deep.c");

	unity_profile(&p);
	/* Without the includes known, impl.c is another TU's file. */
	t = to_text(&p, src, NULL);
	assert_non_null(t);
	assert_string_equal(t, "main:3:3\n 1: 3\n");
	free(t);
	tu_sources = &inc;
	t = to_text(&p, src, NULL);
	tu_sources = NULL;
	assert_non_null(t);
	assert_string_equal(t, "step:5:5\n 1: 5\nmain:3:3\n 1: 3\n");
	free(t);
	cpgo_profile_release(&p);
	cpgo_strvec_release(&inc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
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

/* Names LLVM's text reader would misread are refused in text and kept in ext-binary. */
static void test_text_unwritable_names(void **state)
{
	static const struct {
		const char *leaf, *caller, *why;
	} cases[] = {
		{ "f\nmain:1:1", "g", "line break" },
		{ "leaf", "#caller", "blank or '#'" },
		{ "leaf:12 x", "caller", "':' and a number" },
		{ ":leaf", "caller", "starts with a blank or ':'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cpgo_profile p;
		struct cpgo_buf bin = CPGO_BUF_INIT;
		struct llvmprof_opts o = { 0 };
		uint64_t f, g, l[2];

		init_profile(&p);
		f = cpgo_profile_add_function(&p, cases[i].leaf, NULL, "x.c", 1);
		g = cpgo_profile_add_function(&p, cases[i].caller, NULL, "x.c", 10);
		l[0] = loc1(&p, f, 2);
		l[1] = loc1(&p, g, 12);
		sample(&p, 5, l, 2);
		assert_null(to_text(&p, NULL, NULL));
		assert_non_null(strstr(cpgo_last_error(), "cannot be written in LLVM's text format"));
		assert_non_null(strstr(cpgo_last_error(), cases[i].why));
		assert_int_equal(llvmprof_convert(&p, "test.pprof", &o, &bin), 0);
		assert_true(bin.len > 0);
		cpgo_buf_release(&bin);
		cpgo_profile_release(&p);
	}
}

static void test_ext_binary_header(void **state)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct llvmprof_opts o = { 0 };
	struct sprof_stats st;
	uint64_t f, l;
	/* ULEB128 of SPMagic(SPF_Ext_Binary), then version 103. */
	static const unsigned char magic[] = { 0x84, 0xe4, 0xd0, 0xb1, 0xf4, 0xc9, 0x94, 0xa8, 0x53, 0x67 };

	(void)state;
	init_profile(&p);
	f = cpgo_profile_add_function(&p, "f", "f", "x.c", 1);
	l = loc1(&p, f, 2);
	sample(&p, 5, &l, 1);
	o.sp.stats = &st;
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
	assert_int_equal(sprof_canonical_name("foo.cold", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(sprof_canonical_name("foo.constprop.0.isra.1", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(sprof_canonical_name("foo.part.3.cold", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(sprof_canonical_name("foo.llvm.123456", &b), 0);
	assert_string_equal(b.buf, "foo");
	assert_int_equal(sprof_canonical_name("my.part.x", &b), 0);
	assert_string_equal(b.buf, "my.part.x");
	assert_int_equal(sprof_canonical_name(".cold", &b), 0);
	assert_string_equal(b.buf, ".cold");
	cpgo_buf_release(&b);
	/* Prefix encoding (llvm/Support/Discriminator.h): bit 0 set = empty component. */
	assert_int_equal(sprof_base_discriminator(0), 0);
	assert_int_equal(sprof_base_discriminator(1), 0);
	assert_int_equal(sprof_base_discriminator(2 << 1), 2);
	assert_int_equal(sprof_base_discriminator(0x1f << 1), 0x1f);
	/* 0x40 = 2 encoded in 13 bits: ((0x40 & 0xfe0) << 1) | 0x20 */
	assert_int_equal(sprof_base_discriminator(((0x40 << 1) | 0x20) << 1), 0x40);
	/* encodeDiscriminator(base, dup, 0): base 0 is one bit, a small base 7 bits. */
	assert_int_equal(sprof_duplication_factor(0), 1);
	assert_int_equal(sprof_duplication_factor(1 | (8 << 1)), 4);
	assert_int_equal(sprof_base_discriminator(6 | (4 << 7)), 3);
	assert_int_equal(sprof_duplication_factor(6 | (4 << 7)), 2);
}

/* ---- rules that need the profiled binary: a real clang-19 build ---- */

static const char prog_src[] =
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"typedef int (*op_fn)(int);\n"
	"__attribute__((noinline)) int op_a(int v) { return v * 3 + 1; }\n"
	"__attribute__((noinline)) int op_b(int v) { return v ^ 0x55; }\n"
	"/* Two calls through pointers that clang merges into one call at line 0. */\n"
	"__attribute__((noinline)) int pick(op_fn f, op_fn g, int c, int v)\n"
	"{\n"
	"	int r;\n"
	"	if (c)\n"
	"		r = f(v);\n"
	"	else\n"
	"		r = g(v);\n"
	"	return r + 1;\n"
	"}\n"
	"/* Two calls through one pointer that clang sinks into one: the second at line 0. */\n"
	"__attribute__((noinline)) int fold(op_fn f, int c, int v, int d)\n"
	"{\n"
	"	int r;\n"
	"	if (c)\n"
	"		r = f(v / d);\n"
	"	else\n"
	"		r = f(v % (d + 1));\n"
	"	return r + 1;\n"
	"}\n"
	"/* A vectorized, unrolled loop: discriminators with duplication factors. */\n"
	"__attribute__((noinline)) unsigned sum(const unsigned *a, int n)\n"
	"{\n"
	"	unsigned s = 0;\n"
	"	for (int i = 0; i < n; i++)\n"
	"		s += a[i] * 7u;\n"
	"	return s;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	static unsigned a[1024];\n"
	"	long n = argc > 1 ? atol(argv[1]) : 1000;\n"
	"	int s = 0;\n"
	"	for (long i = 0; i < n; i++) {\n"
	"		a[i & 1023] = (unsigned)i;\n"
	"		s += pick(op_a, op_b, (int)(i & 1), (int)i);\n"
	"		s += fold(op_b, (int)(i & 2), (int)i, argc);\n"
	"	}\n"
	"	printf(\"%d %u\\n\", s, sum(a, 1024));\n"
	"	return 0;\n"
	"}\n";

struct prog {
	struct test_prog t;
	struct sym_dso *dso;
};

static int prog_setup(void **state)
{
	static struct prog pr;

	/* Non-PIE: runtime addresses are the ELF addresses, so the test can use either. */
	test_prog_build(&pr.t, "llvmprof", prog_src, "-O2 -g -fdebug-info-for-profiling -no-pie");
	assert_int_equal(sym_dso_open(&pr.dso, pr.t.bin, NULL), 0);
	*state = &pr;
	return 0;
}

static int prog_teardown(void **state)
{
	struct prog *pr = *state;

	sym_dso_close(pr->dso);
	return test_prog_remove(&pr->t);
}

/* The ELF symbol `name`'s address and size (nm -S). */
static uint64_t sym_range(const struct prog *pr, const char *name, uint64_t *size)
{
	char cmd[200], line[256], nm[128], type;
	unsigned long long a, sz;
	FILE *f;
	uint64_t found = 0;

	snprintf(cmd, sizeof(cmd), "nm -S %s", pr->t.bin);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %llx %c %127s", &a, &sz, &type, nm) == 4 && !strcmp(nm, name)) {
			found = a;
			*size = sz;
		}
	pclose(f);
	assert_true(found != 0);
	return found;
}

/* The innermost frame at `a` (only functions without inlined frames are used). */
static struct sym_frame frame_at(const struct prog *pr, uint64_t a)
{
	struct sym_frame fr[8];
	int n = sym_dso_lookup(pr->dso, a, fr, 8);
	assert_int_equal(n, 1);
	return fr[0];
}

/* A profile of unsymbolized addresses in the non-PIE binary: the converter symbolizes it. */
static void init_bin_profile(struct cpgo_profile *p, const struct prog *pr)
{
	struct cpgo_mapping m = { 0 };

	init_profile(p);
	m.memory_start = 0x400000;
	m.memory_limit = 0x800000;
	m.file_offset = 0;
	m.filename = cpgo_profile_intern(p, pr->t.bin);
	assert_true(cpgo_profile_add_mapping(p, &m) != 0);
}

static uint64_t addr_loc(struct cpgo_profile *p, uint64_t a)
{
	uint64_t id = cpgo_profile_add_location(p, 1, a, NULL, 0);
	assert_true(id != 0);
	return id;
}

/*
 * Converts with the binary, checks that llvm-profdata-19 reads the ext-binary
 * form, and returns the text form (malloc'd).
 */
static char *convert_bin(struct cpgo_profile *p, const struct prog *pr, struct llvmprof_opts o,
			 struct sprof_stats *st)
{
	struct cpgo_buf out = CPGO_BUF_INIT;
	char path[128], cmd[300];

	o.sp.binary = pr->t.bin;
	o.sp.stats = st;
	/* A handful of constructed samples is thin by design: test_thin_profile tests that rule. */
	if (!o.sp.thin)
		o.sp.thin = SPROF_OFF;
	o.text = 0;
	assert_int_equal(llvmprof_convert(p, "test.pprof", &o, &out), 0);
	snprintf(path, sizeof(path), "%s/out.prof", pr->t.dir);
	assert_int_equal(cpgo_write_file_atomic(path, out.buf, out.len), 0);
	snprintf(cmd, sizeof(cmd), "llvm-profdata-19 show --sample %s >/dev/null", path);
	assert_int_equal(system(cmd), 0);
	cpgo_buf_reset(&out);
	o.text = 1;
	assert_int_equal(llvmprof_convert(p, "test.pprof", &o, &out), 0);
	return cpgo_buf_detach(&out, NULL);
}

/* " OFF[.DISC]: " at the start of a body line of a top-level function's text. */
static void line_key(char *buf, size_t n, const struct sym_frame *f)
{
	uint32_t d = sprof_base_discriminator(f->discriminator);
	int64_t off = f->line - f->start_line;
	if (d)
		snprintf(buf, n, "\n %" PRId64 ".%u: ", off, d);
	else
		snprintf(buf, n, "\n %" PRId64 ": ", off);
}

/* The count written for body line `key` of the text `t`, or -1 when it has none. */
static long long count_of(const char *t, const char *key)
{
	const char *at = strstr(t, key);
	return at ? atoll(at + strlen(key)) : -1;
}

/*
 * Skid: the instruction before a sampled one ran, though the timer
 * credited its successor. The line of (sampled address - 1) gets no zero.
 */
static void test_skid_rule(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	struct llvmprof_opts o = { 0 };
	struct sym_frame at, before;
	uint64_t size, base = sym_range(pr, "sum", &size), a, loc;
	char key[64], *t;

	/* The first address of `sum` whose previous byte is another real line. */
	for (a = base + 1; a < base + size; a++) {
		at = frame_at(pr, a);
		before = frame_at(pr, a - 1);
		if (at.line > 0 && before.line > 0 && at.line != before.line)
			break;
	}
	assert_true(a < base + size);
	init_bin_profile(&p, pr);
	loc = addr_loc(&p, a);
	sample(&p, 100, &loc, 1);
	line_key(key, sizeof(key), &before);

	t = convert_bin(&p, pr, o, &st);
	assert_int_equal(count_of(t, key), -1);
	assert_true(st.zero_lines > 0);
	assert_int_equal(st.skid_protected, 1);
	assert_int_equal(st.skid_samples, 100);
	free(t);

	o.sp.skid = SPROF_OFF;
	t = convert_bin(&p, pr, o, &st);
	assert_int_equal(count_of(t, key), 0);
	assert_int_equal(st.skid_protected, 0);
	free(t);
	cpgo_profile_release(&p);
}

/* Does the text have a top-level profile of `name`? */
static int has_top(const char *t, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ':')
			return 1;
	return 0;
}

/*
 * Thin profiles: a function with fewer samples than 3 per line range of
 * its code cannot tell cold lines from lukewarm ones; it gets no profile
 * (and no zeros) rather than one that makes all it did not see cold.
 */
static void test_thin_profile(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	struct llvmprof_opts o = { .sp.thin = SPROF_ON };
	uint64_t size, base = sym_range(pr, "sum", &size), a, loc;
	char *t;

	for (a = base; a < base + size && frame_at(pr, a).line <= 0; a++)
		;
	assert_true(a < base + size);
	init_bin_profile(&p, pr);
	loc = addr_loc(&p, a);
	sample(&p, 2, &loc, 1);
	t = convert_bin(&p, pr, o, &st);
	assert_false(has_top(t, "sum"));
	assert_int_equal(st.thin_dropped, 1);
	free(t);
	/* The same samples without the rule: a profile whose every other line is a zero. */
	o.sp.thin = SPROF_OFF;
	t = convert_bin(&p, pr, o, &st);
	assert_true(has_top(t, "sum"));
	assert_true(st.zero_lines > 0);
	assert_int_equal(st.thin_dropped, 0);
	free(t);
	cpgo_profile_release(&p);

	/* Samples enough for every line range of it: kept, with its zeros. */
	init_bin_profile(&p, pr);
	loc = addr_loc(&p, a);
	sample(&p, (int64_t)(3 * size), &loc, 1);
	o.sp.thin = SPROF_ON;
	t = convert_bin(&p, pr, o, &st);
	assert_true(has_top(t, "sum"));
	assert_true(st.zero_lines > 0);
	assert_int_equal(st.thin_dropped, 0);
	free(t);
	cpgo_profile_release(&p);
}

/* The default thin rule (convert_bin turns it off), text form. */
static char *convert_default_thin(struct cpgo_profile *p, const struct prog *pr,
				  struct sprof_stats *st)
{
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct llvmprof_opts o = { .text = 1 };

	o.sp.binary = pr->t.bin;
	o.sp.stats = st;
	assert_int_equal(llvmprof_convert(p, "test.pprof", &o, &out), 0);
	return cpgo_buf_detach(&out, NULL);
}

/* `v` samples at each of two addresses, converted with the default thin rule. */
static char *convert_two_lines(struct cpgo_profile *p, const struct prog *pr, uint64_t a1,
			       uint64_t a2, int64_t v, struct sprof_stats *st)
{
	uint64_t loc[2];

	init_bin_profile(p, pr);
	loc[0] = addr_loc(p, a1);
	loc[1] = addr_loc(p, a2);
	sample(p, v, &loc[0], 1);
	sample(p, v, &loc[1], 1);
	return convert_default_thin(p, pr, st);
}

/*
 * A sparse profile (most of its samples alone on their line, as 100 Hz
 * profiles of big programs are): every function is thin, so the thin rule
 * is off and the profile stays. One that is not sparse keeps the rule.
 */
static void test_thin_sparse(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	uint64_t size, base = sym_range(pr, "sum", &size), a1, a2;
	char *t;

	for (a1 = base; a1 < base + size && frame_at(pr, a1).line <= 0; a1++)
		;
	for (a2 = a1 + 1; a2 < base + size &&
			  (frame_at(pr, a2).line <= 0 || frame_at(pr, a2).line == frame_at(pr, a1).line);
	     a2++)
		;
	assert_true(a2 < base + size);
	/* Two lines, one sample each: all of the samples on lines sampled once. */
	t = convert_two_lines(&p, pr, a1, a2, 1, &st);
	assert_true(has_top(t, "sum"));
	assert_int_equal(st.thin_off_sparse, 1);
	assert_int_equal(st.unseen_permille, 1000);
	assert_int_equal(st.thin_dropped, 0);
	assert_true(st.zero_lines > 0);
	free(t);
	cpgo_profile_release(&p);

	/* As few samples, each line sampled twice: not sparse, and sum is thin. */
	t = convert_two_lines(&p, pr, a1, a2, 2, &st);
	assert_false(has_top(t, "sum"));
	assert_int_equal(st.thin_off_sparse, 0);
	assert_int_equal(st.unseen_permille, 0);
	assert_int_equal(st.thin_dropped, 1);
	free(t);
	cpgo_profile_release(&p);
}

/* Per line: MAX over addresses of count x duplication factor, or SUM. */
static void test_line_max_dup(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	struct llvmprof_opts o = { 0 };
	struct sym_frame f1 = { 0 }, f2;
	uint64_t size, base = sym_range(pr, "sum", &size), a1 = 0, a2 = 0, loc[2];
	uint32_t dup1 = 1, dup2 = 1;
	long long want;
	char key[64], *t;

	/* Two addresses of one line, one discriminator, from a copy with a duplication factor. */
	for (uint64_t a = base; a < base + size && !a2; a++) {
		f2 = frame_at(pr, a);
		if (!a1 && f2.line > 0 && sprof_duplication_factor(f2.discriminator) > 1) {
			a1 = a;
			f1 = f2;
			dup1 = sprof_duplication_factor(f1.discriminator);
		} else if (a1 && a > a1 + 1 && f2.line == f1.line &&
			   sprof_base_discriminator(f2.discriminator) ==
				   sprof_base_discriminator(f1.discriminator) &&
			   frame_at(pr, a - 1).line != f2.line) {
			a2 = a; /* another instruction run of the line, not the same instruction */
			dup2 = sprof_duplication_factor(f2.discriminator);
		}
	}
	assert_true(a1 && a2);
	init_bin_profile(&p, pr);
	loc[0] = addr_loc(&p, a1);
	loc[1] = addr_loc(&p, a2);
	sample(&p, 10, &loc[0], 1);
	sample(&p, 30, &loc[1], 1);
	line_key(key, sizeof(key), &f1);

	t = convert_bin(&p, pr, o, &st);
	want = 10LL * dup1 > 30LL * dup2 ? 10LL * dup1 : 30LL * dup2;
	assert_true(dup1 > 1);
	assert_int_equal(count_of(t, key), want);
	assert_int_equal(st.samples_used, 40);
	free(t);

	o.sp.line_counts = SPROF_LINES_SUM;
	t = convert_bin(&p, pr, o, &st);
	assert_int_equal(count_of(t, key), 40);
	free(t);
	cpgo_profile_release(&p);
}

/*
 * Line 0: clang merged pick's two indirect calls into one `call *%rax` at
 * line 0. Its call targets are kept at the nearest preceding line.
 */
static void test_line0_call_targets(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	struct llvmprof_opts o = { 0 };
	struct sym_frame f, real = { 0 };
	uint64_t size, base = sym_range(pr, "pick", &size), opa = sym_range(pr, "op_a", &size);
	uint64_t call = 0, stack[2], leaf0;
	char key[64], want[96], *t;

	sym_range(pr, "pick", &size);
	/* The last line-0 byte before a real line: the call's end (return address - 1). */
	for (uint64_t a = base; a + 1 < base + size; a++) {
		f = frame_at(pr, a);
		if (f.line > 0 && !call)
			real = f;
		if (f.line == 0 && real.line && frame_at(pr, a + 1).line > 0) {
			call = a;
			break;
		}
	}
	assert_true(call != 0);
	init_bin_profile(&p, pr);
	/* Callers are recorded at return address - 1, as libcpgo does. */
	stack[0] = addr_loc(&p, opa);
	stack[1] = addr_loc(&p, call);
	sample(&p, 50, stack, 2);
	leaf0 = stack[1];
	sample(&p, 7, &leaf0, 1); /* a sample on the line-0 call itself */
	line_key(key, sizeof(key), &real);
	snprintf(want, sizeof(want), "%s7 op_a:50\n", key); /* "\n OFF: 7 op_a:50" */

	/* The default: body samples at line 0 count for that line too. */
	t = convert_bin(&p, pr, o, &st);
	if (getenv("TEST_LLVMPROF_SHOW"))
		fputs(t, stderr);
	assert_non_null(strstr(t, want));
	assert_int_equal(st.line0_remapped, 1);
	assert_int_equal(st.line0_folded, 0); /* a select of f and g, no branches to it */
	assert_int_equal(st.line0_call_samples, 50);
	assert_int_equal(st.line0_leaf_call_samples, 50); /* op_a's own caller */
	assert_int_equal(st.dropped_line0, 0);
	free(t);

	o.sp.line0 = SPROF_LINE0_CALLS;
	snprintf(want, sizeof(want), "%s0 op_a:50\n", key);
	t = convert_bin(&p, pr, o, &st);
	assert_non_null(strstr(t, want));
	assert_int_equal(st.dropped_line0, 7);
	free(t);

	o.sp.line0 = SPROF_LINE0_DROP;
	t = convert_bin(&p, pr, o, &st);
	assert_null(strstr(t, " op_a:50")); /* no call target, only op_a's own profile */
	assert_int_equal(st.dropped_line0, 7);
	assert_int_equal(st.line0_remapped, 0);
	free(t);
	cpgo_profile_release(&p);
}

/*
 * A folded call: fold's two source calls through f were sunk into one
 * `call *%reg` at line 0; the branch of the first jumps to it. The call's
 * targets go to both source calls' lines (offsets 4 and 6), so that clang
 * can promote either.
 */
static void test_folded_call(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	struct llvmprof_opts o = { 0 };
	uint64_t size, base = sym_range(pr, "fold", &size), opb = sym_range(pr, "op_b", &size);
	uint64_t call = 0, stack[2];
	char *t, *fn, line[64];

	sym_range(pr, "fold", &size);
	for (uint64_t a = base; a + 1 < base + size; a++)
		if (frame_at(pr, a).line == 0 && frame_at(pr, a + 1).line > 0) {
			call = a;
			break;
		}
	assert_true(call != 0);
	init_bin_profile(&p, pr);
	stack[0] = addr_loc(&p, opb);
	stack[1] = addr_loc(&p, call);
	sample(&p, 50, stack, 2);
	t = convert_bin(&p, pr, o, &st);
	if (getenv("TEST_LLVMPROF_SHOW"))
		fputs(t, stderr);
	assert_int_equal(st.line0_remapped, 1);
	assert_int_equal(st.line0_folded, 1);
	assert_non_null(fn = strstr(t, "fold:"));
	for (int off = 4; off <= 6; off += 2) {
		const char *at, *eol;
		snprintf(line, sizeof(line), "\n %d: ", off);
		assert_non_null(at = strstr(fn, line));
		eol = strchr(at + 1, '\n');
		assert_non_null(eol);
		/* The record ends in the call target. */
		assert_true(eol - at > 8 && !strncmp(eol - 8, " op_b:50", 8));
	}
	free(t);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_and_totals),
		cmocka_unit_test(test_inline_calls_head),
		cmocka_unit_test(test_inlined_caller_call_target),
		cmocka_unit_test(test_statics),
		cmocka_unit_test(test_unity_include),
		cmocka_unit_test(test_whole_summary),
		cmocka_unit_test(test_missing_start_line),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_text_unwritable_names),
		cmocka_unit_test(test_ext_binary_header),
		cmocka_unit_test(test_names_and_discriminators),
	};
	const struct CMUnitTest with_binary[] = {
		cmocka_unit_test(test_skid_rule),
		cmocka_unit_test(test_line_max_dup),
		cmocka_unit_test(test_line0_call_targets),
		cmocka_unit_test(test_folded_call),
		cmocka_unit_test(test_thin_profile),
		cmocka_unit_test(test_thin_sparse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL) |
	       cmocka_run_group_tests(with_binary, prog_setup, prog_teardown);
}
