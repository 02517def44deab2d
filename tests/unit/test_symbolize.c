/*
 * Symbolization against binaries compiled at test time (clang-19, gcc-12):
 * names, start lines, inline frames, PIE/non-PIE translation, separate debug
 * files, missing files, symbol-table fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include "util/error.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

static const char *fixture_src[] = {
	"#include <stdlib.h>",
	"",
	"static inline int square(int x)",
	"{",
	"\treturn x * x; /* BODY */",
	"}",
	"",
	"__attribute__((noinline)) int work(int n)",
	"{",
	"\tint s = 0;",
	"\tfor (int i = 0; i < n; i++)",
	"\t\ts += square(i) ^ (s >> 3); /* CALL */",
	"\treturn s;",
	"}",
	"",
	"__attribute__((noinline)) int other(int n)",
	"{",
	"\treturn work(n) + 1;",
	"}",
	"",
	"int main(int argc, char **argv)",
	"{",
	"\treturn other(argc > 1 ? atoi(argv[1]) : 10) & 1;",
	"}",
};

static char dir[64];
static int have_gcc;

static int line_of(const char *needle)
{
	for (size_t i = 0; i < sizeof(fixture_src) / sizeof(fixture_src[0]); i++)
		if (strstr(fixture_src[i], needle))
			return (int)i + 1;
	fail_msg("marker %s not in fixture", needle);
	return 0;
}

static int run(const char *fmt, ...) CPGO_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static char *path(const char *name)
{
	static char buf[8][256];
	static int k;
	char *b = buf[k++ & 7];

	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

/* Symbol address and size from nm: an oracle independent of the code under test. */
static void nm_sym(const char *bin, const char *sym, uint64_t *addr, uint64_t *size)
{
	char cmd[512], line[512];
	FILE *f;
	int found = 0;

	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s'", bin);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, s;
		char t, n[256];
		if (sscanf(line, "%llx %llx %c %255s", &a, &s, &t, n) == 4 && !strcmp(n, sym)) {
			*addr = a;
			*size = s;
			found = 1;
		}
	}
	pclose(f);
	if (!found)
		fail_msg("%s: no symbol %s", bin, sym);
}

static int setup(void **state)
{
	FILE *f;

	strcpy(dir, "/tmp/cpgo-sym.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	f = fopen(path("fixture.c"), "w");
	if (!f)
		return -1;
	for (size_t i = 0; i < sizeof(fixture_src) / sizeof(fixture_src[0]); i++)
		fprintf(f, "%s\n", fixture_src[i]);
	fclose(f);
	if (run("cd %s && clang-19 -O2 -g -fPIE -pie -Wl,--build-id -o pie fixture.c && "
		"clang-19 -O2 -g -fno-pie -no-pie -Wl,--build-id -o nopie fixture.c && "
		"clang-19 -O2 -Wl,--build-id -o nodebug fixture.c && "
		"cp pie stripped && objcopy --only-keep-debug stripped stripped.debug && "
		"strip stripped && "
		"cp pie linked && objcopy --only-keep-debug linked linked.dbg && strip linked && "
		"objcopy --add-gnu-debuglink=linked.dbg linked",
		dir))
		return -1;
	have_gcc = run("cd %s && gcc-12 -O2 -g -o gcc fixture.c 2>/dev/null", dir) == 0;
	return 0;
}

static int teardown(void **state)
{
	run("rm -rf '%s'", dir);
	return 0;
}

static void frames_of(const char *bin, const char *debug_dir, uint64_t vaddr,
		      struct sym_frame *fr, int *n, struct sym_dso **dp)
{
	assert_int_equal(sym_dso_open(dp, bin, debug_dir), 0);
	*n = sym_dso_lookup(*dp, vaddr, fr, 8);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/*
 * llvm-symbolizer's frames for one address ("name\nfile:line:col\n" per frame,
 * a blank line after): the oracle for names, lines and inline order.
 */
static int oracle_frames(FILE *f, char names[][64], long *lines, int max)
{
	char a[512], b[512];
	int n = 0;

	while (fgets(a, sizeof(a), f) && strcmp(a, "\n")) {
		char *colon;
		if (!fgets(b, sizeof(b), f))
			break;
		a[strcspn(a, "\n")] = '\0';
		/* file:line:col; the file part may itself contain no colon */
		colon = strrchr(b, ':');
		assert_non_null(colon);
		*colon = '\0';
		colon = strrchr(b, ':');
		assert_non_null(colon);
		if (n < max) {
			snprintf(names[n], 64, "%.63s", a);
			lines[n] = atol(colon + 1);
		}
		n++;
	}
	return n;
}

/*
 * Scans every address of work(): all belong to work, some to the inlined
 * square(), and every frame agrees with llvm-symbolizer on the same file.
 */
static void check_work_frames(const char *bin, const char *nm_bin, const char *debug_dir)
{
	struct sym_dso *d;
	struct sym_frame fr[8];
	char names[8][64], cmd[1024];
	long lines[8];
	uint64_t a, size;
	int n, inlined = 0, body = 0;
	FILE *f, *o;

	nm_sym(nm_bin, "work", &a, &size);
	assert_true(size > 0);
	f = fopen(path("addrs"), "w");
	assert_non_null(f);
	for (uint64_t x = a; x < a + size; x++)
		fprintf(f, "0x%llx\n", (unsigned long long)x);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "llvm-symbolizer-19 --inlines --obj='%s' < '%s'", nm_bin,
		 path("addrs"));
	o = popen(cmd, "r");
	assert_non_null(o);
	assert_int_equal(sym_dso_open(&d, bin, debug_dir), 0);
	for (uint64_t x = a; x < a + size; x++) {
		n = sym_dso_lookup(d, x, fr, 8);
		assert_true(n >= 1);
		assert_string_equal(fr[n - 1].name, "work");
		assert_int_equal(fr[n - 1].start_line, line_of("int work("));
		assert_true(ends_with(fr[n - 1].file, "/fixture.c"));
		if (n == 2) {
			inlined++;
			assert_string_equal(fr[0].name, "square");
			assert_string_equal(fr[0].linkage_name, "square");
			assert_int_equal(fr[0].start_line, line_of("square(int x)"));
			assert_int_equal(fr[1].line, line_of("CALL"));
			body += fr[0].line == line_of("BODY");
			assert_true(ends_with(fr[0].file, "/fixture.c"));
		}
		assert_int_equal(oracle_frames(o, names, lines, 8), n);
		for (int i = 0; i < n; i++) {
			assert_string_equal(fr[i].name, names[i]);
			if (fr[i].line != lines[i])
				fail_msg("0x%llx frame %d: line %ld, llvm-symbolizer says %ld",
					 (unsigned long long)x, i, (long)fr[i].line, lines[i]);
		}
	}
	pclose(o);
	assert_true(inlined > 0 && body > 0);
	/* Just past the end is another function or nothing, never work. */
	n = sym_dso_lookup(d, a + size, fr, 8);
	assert_true(n == 0 || strcmp(fr[n - 1].name, "work"));
	sym_dso_close(d);
}

static void test_clang_pie(void **state)
{
	check_work_frames(path("pie"), path("pie"), NULL);
}

static void test_clang_nopie(void **state)
{
	check_work_frames(path("nopie"), path("nopie"), NULL);
}

static void test_gcc(void **state)
{
	if (!have_gcc)
		skip();
	check_work_frames(path("gcc"), path("gcc"), NULL);
}

static void test_build_id_debug_dir(void **state)
{
	struct sym_dso *d;
	struct sym_frame fr[8];
	char id[256];
	uint64_t a, size;
	int n;

	/* The stripped file has no symbols at all: nm must use the debug file. */
	nm_sym(path("stripped.debug"), "other", &a, &size);
	assert_int_equal(sym_dso_open(&d, path("stripped"), path("dbgroot")), 0);
	assert_null(sym_dso_debug_path(d));
	assert_int_equal(sym_dso_lookup(d, a, fr, 8), 0);
	snprintf(id, sizeof(id), "%s", sym_dso_build_id(d));
	assert_true(strlen(id) >= 16);
	sym_dso_close(d);

	assert_int_equal(run("mkdir -p %s/dbgroot/.build-id/%.2s && cp %s %s/dbgroot/.build-id/%.2s/%s.debug",
			     dir, id, path("stripped.debug"), dir, id, id + 2), 0);
	frames_of(path("stripped"), path("dbgroot"), a, fr, &n, &d);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].name, "other");
	assert_int_equal(fr[0].start_line, line_of("int other("));
	assert_non_null(strstr(sym_dso_debug_path(d), "/dbgroot/.build-id/"));
	sym_dso_close(d);
	check_work_frames(path("stripped"), path("stripped.debug"), path("dbgroot"));
}

static void test_debuglink(void **state)
{
	struct sym_dso *d;
	struct sym_frame fr[8];
	uint64_t a, size;
	int n;

	nm_sym(path("linked.dbg"), "main", &a, &size);
	frames_of(path("linked"), "/nonexistent", a, fr, &n, &d);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].name, "main");
	assert_int_equal(fr[0].start_line, line_of("int main("));
	assert_true(ends_with(sym_dso_debug_path(d), "/linked.dbg"));
	sym_dso_close(d);
}

static void test_symtab_fallback(void **state)
{
	struct sym_dso *d;
	struct sym_frame fr[8];
	uint64_t a, size;
	int n;

	nm_sym(path("nodebug"), "work", &a, &size);
	frames_of(path("nodebug"), NULL, a + size / 2, fr, &n, &d);
	assert_int_equal(n, 1);
	assert_string_equal(fr[0].name, "work");
	assert_string_equal(fr[0].file, "");
	assert_int_equal(fr[0].start_line, 0);
	assert_null(sym_dso_debug_path(d));
	sym_dso_close(d);
}

static void test_open_errors(void **state)
{
	struct sym_dso *d = (void *)1;

	assert_int_equal(sym_dso_open(&d, path("missing"), NULL), -1);
	assert_null(d);
	assert_non_null(strstr(cpgo_last_error(), "missing"));
	assert_int_equal(sym_dso_open(&d, path("fixture.c"), NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "not an ELF file"));
}

static void test_start_line(void **state)
{
	struct sym_dso *d;
	int64_t sl = 0;

	assert_int_equal(sym_dso_open(&d, path("pie"), NULL), 0);
	assert_int_equal(sym_dso_start_line(d, "other", NULL, &sl), 1);
	assert_int_equal(sl, line_of("int other("));
	/* Inlined everywhere, no code of its own: still known. */
	assert_int_equal(sym_dso_start_line(d, "square", "fixture.c", &sl), 1);
	assert_int_equal(sl, line_of("square(int x)"));
	assert_int_equal(sym_dso_start_line(d, "work", "/somewhere/else/fixture.c", &sl), 1);
	assert_int_equal(sym_dso_start_line(d, "work", "other.c", &sl), 0);
	assert_int_equal(sym_dso_start_line(d, "no_such_function", NULL, &sl), 0);
	sym_dso_close(d);
}

struct seen {
	int work, other, main, square, total;
	int64_t work_line;
};

static int each_cb(const char *name, const char *linkage, const char *file, int64_t sl, void *arg)
{
	struct seen *s = arg;

	s->total++;
	assert_non_null(linkage);
	if (!strcmp(name, "work")) {
		s->work++;
		s->work_line = sl;
		assert_true(ends_with(file, "fixture.c"));
	}
	s->other += !strcmp(name, "other");
	s->main += !strcmp(name, "main");
	s->square += !strcmp(name, "square");
	return 0;
}

static int stop_cb(const char *name, const char *linkage, const char *file, int64_t sl, void *arg)
{
	++*(int *)arg;
	return 7;
}

static void test_each_function(void **state)
{
	struct sym_dso *d;
	struct seen s = { 0 };
	int calls = 0;

	assert_int_equal(sym_dso_open(&d, path("pie"), NULL), 0);
	assert_int_equal(sym_dso_each_function(d, each_cb, &s), 0);
	assert_int_equal(s.work, 1);
	assert_int_equal(s.other, 1);
	assert_int_equal(s.main, 1);
	assert_int_equal(s.square, 0); /* no out-of-line copy */
	assert_int_equal(s.work_line, line_of("int work("));
	assert_int_equal(sym_dso_each_function(d, stop_cb, &calls), 7);
	assert_int_equal(calls, 1);
	sym_dso_close(d);
}

/* The executable PT_LOAD of a file, to build a realistic runtime mapping. */
static void exec_segment(const char *bin, GElf_Phdr *out)
{
	int fd = open(bin, O_RDONLY);
	Elf *e;
	size_t n;
	int found = 0;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_int_equal(elf_getphdrnum(e, &n), 0);
	for (size_t i = 0; i < n && !found; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
			*out = ph;
			found = 1;
		}
	}
	elf_end(e);
	close(fd);
	assert_true(found);
}

struct built {
	uint64_t l_work, l_inl, l_other, l_missing, l_bad;
};

/* A profile whose main mapping is `bin` loaded at `bias`, plus one missing library. */
static void build_profile(struct cpgo_profile *p, const char *bin, const char *map_name,
			  uint64_t bias, struct built *b)
{
	struct cpgo_mapping m = { 0 };
	struct sym_dso *d;
	struct sym_frame fr[8];
	GElf_Phdr ph = { 0 };
	uint64_t work, wsize, other, osize, inl = 0;
	int64_t one = 1;

	exec_segment(bin, &ph);
	nm_sym(bin, "work", &work, &wsize);
	nm_sym(bin, "other", &other, &osize);
	assert_int_equal(sym_dso_open(&d, bin, NULL), 0);
	for (uint64_t x = work; x < work + wsize && !inl; x++)
		if (sym_dso_lookup(d, x, fr, 8) == 2 && fr[0].line == line_of("BODY"))
			inl = x;
	sym_dso_close(d);
	assert_true(inl != 0);

	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	m.memory_start = bias + (ph.p_vaddr & ~0xfffull);
	m.memory_limit = bias + ph.p_vaddr + ph.p_memsz;
	m.file_offset = ph.p_offset & ~0xfffull;
	m.filename = cpgo_profile_intern(p, map_name);
	assert_int_not_equal(cpgo_profile_add_mapping(p, &m), 0);
	m.memory_start = 0x7f0000000000ull;
	m.memory_limit = 0x7f0000100000ull;
	m.file_offset = 0;
	m.filename = cpgo_profile_intern(p, path("libgone.so"));
	assert_int_not_equal(cpgo_profile_add_mapping(p, &m), 0);

	b->l_work = cpgo_profile_add_location(p, 1, bias + work, NULL, 0);
	b->l_inl = cpgo_profile_add_location(p, 1, bias + inl, NULL, 0);
	b->l_other = cpgo_profile_add_location(p, 1, bias + other + 1, NULL, 0);
	b->l_missing = cpgo_profile_add_location(p, 2, 0x7f0000000500ull, NULL, 0);
	/* Below the mapping: cannot be translated, must stay as it is. */
	b->l_bad = cpgo_profile_add_location(p, 1, bias + 0x10, NULL, 0);
	assert_true(b->l_work && b->l_inl && b->l_other && b->l_missing && b->l_bad);
	assert_int_equal(cpgo_profile_add_sample(p, &b->l_inl, 1, &one, NULL, 0), 0);
}

static const struct cpgo_function *line_fn(struct cpgo_profile *p, const struct cpgo_location *l,
					   size_t k)
{
	assert_true(k < l->n_line);
	return cpgo_profile_function(p, p->lines[l->line_off + k].function_id);
}

static void check_profile(const char *bin, uint64_t bias, const char *override)
{
	struct cpgo_profile p;
	struct built b;
	struct symbolize_opts o = { .binary_override = override };
	const struct cpgo_location *l;
	const struct cpgo_function *f;
	const struct cpgo_mapping *m;
	size_t nfunc;

	build_profile(&p, bin, override ? path("no-such-binary") : bin, bias, &b);
	assert_int_equal(symbolize_profile(&p, &o), 0);
	assert_int_equal(cpgo_profile_check(&p, "symbolized"), 0);
	assert_int_equal(cpgo_profile_index(&p), 0);

	l = cpgo_profile_location(&p, b.l_inl);
	assert_int_equal(l->n_line, 2);
	f = line_fn(&p, l, 0);
	assert_string_equal(cpgo_profile_str(&p, f->name), "square");
	assert_int_equal(f->start_line, line_of("square(int x)"));
	assert_int_equal(p.lines[l->line_off].line, line_of("BODY"));
	assert_true(ends_with(cpgo_profile_str(&p, f->filename), "/fixture.c"));
	f = line_fn(&p, l, 1);
	assert_string_equal(cpgo_profile_str(&p, f->name), "work");
	assert_string_equal(cpgo_profile_str(&p, f->system_name), "work");
	assert_int_equal(f->start_line, line_of("int work("));
	assert_int_equal(p.lines[l->line_off + 1].line, line_of("CALL"));

	/* Same function, other address: one Function. */
	l = cpgo_profile_location(&p, b.l_work);
	assert_true(l->n_line >= 1);
	assert_int_equal(p.lines[l->line_off + l->n_line - 1].function_id,
			 p.lines[cpgo_profile_location(&p, b.l_inl)->line_off + 1].function_id);

	l = cpgo_profile_location(&p, b.l_other);
	assert_int_equal(l->n_line, 1);
	f = line_fn(&p, l, 0);
	assert_string_equal(cpgo_profile_str(&p, f->name), "other");
	assert_int_equal(f->start_line, line_of("int other("));

	l = cpgo_profile_location(&p, b.l_missing);
	assert_int_equal(l->n_line, 0);
	assert_int_equal(l->address, 0x7f0000000500ull);
	assert_int_equal(cpgo_profile_location(&p, b.l_bad)->n_line, 0);

	m = cpgo_profile_mapping(&p, 1);
	assert_true(m->has_functions && m->has_filenames && m->has_line_numbers &&
		    m->has_inline_frames);
	assert_true(strlen(cpgo_profile_str(&p, m->build_id)) >= 16);
	m = cpgo_profile_mapping(&p, 2);
	assert_false(m->has_functions);
	assert_string_equal(cpgo_profile_str(&p, m->build_id), "");

	/* A second pass finds nothing left to do and adds nothing. */
	nfunc = p.n_function;
	assert_int_equal(symbolize_profile(&p, &o), 0);
	assert_int_equal(p.n_function, nfunc);
	cpgo_profile_release(&p);
}

static void test_profile_pie(void **state)
{
	check_profile(path("pie"), 0x555555554000ull, NULL);
}

static void test_profile_nopie(void **state)
{
	check_profile(path("nopie"), 0, NULL);
}

static void test_profile_override(void **state)
{
	check_profile(path("pie"), 0x7ff000000000ull, path("pie"));
}

/* A mapping that names another build of the file is not symbolized with this one. */
static void test_profile_build_id_mismatch(void **state)
{
	struct cpgo_profile p;
	struct built b;

	build_profile(&p, path("pie"), path("pie"), 0x555555554000ull, &b);
	p.mappings[0].build_id = cpgo_profile_intern(&p, "00112233445566778899aabbccddeeff00112233");
	assert_int_equal(symbolize_profile(&p, NULL), 0);
	assert_int_equal(cpgo_profile_index(&p), 0);
	assert_int_equal(cpgo_profile_location(&p, b.l_inl)->n_line, 0);
	assert_false(p.mappings[0].has_functions);
	cpgo_profile_release(&p);
}

/* Functions read from a profile without start lines get them from the binary. */
static void test_profile_start_line_repair(void **state)
{
	struct cpgo_profile p;
	struct built b;
	struct cpgo_line ln = { 0 };
	uint64_t fid, lid, other, osize;

	build_profile(&p, path("pie"), path("pie"), 0x555555554000ull, &b);
	nm_sym(path("pie"), "other", &other, &osize);
	/* Ids need not be dense: new functions must not collide with this one. */
	fid = cpgo_profile_add_function(&p, "other", NULL, "fixture.c", 0);
	assert_int_not_equal(fid, 0);
	p.functions[p.n_function - 1].id = 1000;
	ln.function_id = 1000;
	ln.line = 3;
	lid = cpgo_profile_add_location(&p, 1, 0x555555554000ull + other, &ln, 1);
	assert_int_not_equal(lid, 0);
	assert_int_equal(symbolize_profile(&p, NULL), 0);
	assert_int_equal(cpgo_profile_check(&p, "repaired"), 0);
	assert_int_equal(cpgo_profile_index(&p), 0);
	assert_int_equal(cpgo_profile_function(&p, 1000)->start_line, line_of("int other("));
	/* Already symbolized: its line is kept, not replaced. */
	assert_int_equal(cpgo_profile_location(&p, lid)->n_line, 1);
	assert_int_equal(p.lines[cpgo_profile_location(&p, lid)->line_off].line, 3);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clang_pie),
		cmocka_unit_test(test_clang_nopie),
		cmocka_unit_test(test_gcc),
		cmocka_unit_test(test_build_id_debug_dir),
		cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_symtab_fallback),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_start_line),
		cmocka_unit_test(test_each_function),
		cmocka_unit_test(test_profile_pie),
		cmocka_unit_test(test_profile_nopie),
		cmocka_unit_test(test_profile_override),
		cmocka_unit_test(test_profile_build_id_mismatch),
		cmocka_unit_test(test_profile_start_line_repair),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
