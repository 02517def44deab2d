/*
 * cpgo_elf_inspect on binaries built here: dynamic, static, not ELF, truncated;
 * cpgo_elf_code's function symbols and ranges on the same binaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <elf.h>

#include "util/error.h"
#include "elf/elfcode.h"
#include "elf/elfinspect.h"

static char dir[64];

static char *path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k++ & 3];

	snprintf(b, 256, "%s/%s", dir, name);
	return b;
}

static int run(const char *fmt, const char *arg)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg, arg, arg);
	return system(cmd);
}

/* The build id as readelf prints it: an oracle independent of libelf's note walk. */
static void readelf_build_id(const char *bin, char *out, size_t size)
{
	char cmd[512], line[512];
	FILE *f;

	*out = '\0';
	snprintf(cmd, sizeof(cmd), "readelf -n '%s'", bin);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "Build ID: ");
		if (p && sscanf(p + 10, "%128s", out) == 1 && strlen(out) < size)
			break;
	}
	pclose(f);
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/cpgo-elfi.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	f = fopen(path("m.c"), "w");
	if (!f)
		return -1;
	fputs("static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
	      "int main(int argc, char **argv) { (void)argv; return helper(argc) - 4; }\n"
	      "extern int main_alias(void) __attribute__((alias(\"main\")));\n",
	      f);
	fclose(f);
	return run("cd %s && cc -O2 -Wl,--build-id -o dyn m.c && cc -O2 -static -o static m.c && "
		   "cc -O2 -Wl,--build-id=none -o noid m.c && echo 'not an elf' > text && "
		   "head -c 40 dyn > short && head -c 200 dyn > cut && strip -o stripped dyn",
		   dir);
}

static int teardown(void **state)
{
	(void)state;
	return run("rm -rf '%s'", dir);
}

static void test_dynamic(void **state)
{
	struct cpgo_elf_info info;
	char want[CPGO_ELF_BUILD_ID_HEX_MAX];

	(void)state;
	assert_int_equal(cpgo_elf_inspect(path("dyn"), &info), 0);
	assert_int_equal(info.elf_class, sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32);
	assert_true(info.has_interp);
	assert_true(info.has_dynamic);
	readelf_build_id(path("dyn"), want, sizeof(want));
	assert_true(*want);
	assert_string_equal(info.build_id, want);
	assert_int_equal(cpgo_elf_inspect(path("noid"), &info), 0);
	assert_string_equal(info.build_id, "");
}

static void test_static(void **state)
{
	struct cpgo_elf_info info;

	(void)state;
	assert_int_equal(cpgo_elf_inspect(path("static"), &info), 0);
	assert_false(info.has_interp);
}

static void expect_error(const char *name, const char *what)
{
	struct cpgo_elf_info info;

	assert_int_equal(cpgo_elf_inspect(path(name), &info), -1);
	assert_non_null(strstr(cpgo_last_error(), path(name)));
	assert_non_null(strstr(cpgo_last_error(), what));
	cpgo_clear_error();
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_error("text", "not an ELF file");
	expect_error("missing", "cannot open");
	expect_error("short", "not an ELF file");
	expect_error("cut", "truncated");
}

struct seen_syms {
	struct cpgo_elf_func_sym main, helper, alias;
	int n, stop_at;
};

static int note_sym(const struct cpgo_elf_func_sym *s, void *arg)
{
	struct seen_syms *w = arg;

	w->n++;
	if (!strcmp(s->name, "main"))
		w->main = *s;
	else if (!strcmp(s->name, "helper"))
		w->helper = *s;
	else if (!strcmp(s->name, "main_alias"))
		w->alias = *s;
	return w->n == w->stop_at ? 7 : 0;
}

static void test_code_symbols(void **state)
{
	struct cpgo_elf_code code;
	struct seen_syms w = { 0 };
	const struct cpgo_elf_range *fn;
	uint64_t avail;

	(void)state;
	assert_int_equal(cpgo_elf_code_open(&code, path("dyn")), 0);
	assert_int_equal(cpgo_elf_code_func_syms(&code, note_sym, &w), 0);
	/* The static is local, main is not; the alias is reported at main's address. */
	assert_non_null(w.main.name);
	assert_non_null(w.helper.name);
	assert_non_null(w.alias.name);
	assert_false(w.main.local);
	assert_true(w.helper.local);
	assert_true(w.main.size > 0 && w.helper.size > 0);
	assert_true(w.alias.addr == w.main.addr);
	assert_true(w.helper.addr != w.main.addr);
	/* One range per address, found from inside the function; its bytes are readable. */
	fn = cpgo_elf_code_function(&code, w.main.addr + w.main.size - 1);
	assert_non_null(fn);
	assert_true(fn->addr == w.main.addr && fn->size == w.main.size);
	assert_null(cpgo_elf_code_function(&code, 0));
	assert_non_null(cpgo_elf_code_at(&code, w.helper.addr, &avail));
	assert_true(avail >= w.helper.size);
	/* The walk stops at the first non-zero result and returns it. */
	w = (struct seen_syms){ .stop_at = 2 };
	assert_int_equal(cpgo_elf_code_func_syms(&code, note_sym, &w), 7);
	assert_int_equal(w.n, 2);
	cpgo_elf_code_close(&code);

	/* Stripped: only .dynsym, which defines neither. */
	assert_int_equal(cpgo_elf_code_open(&code, path("stripped")), 0);
	w = (struct seen_syms){ 0 };
	assert_int_equal(cpgo_elf_code_func_syms(&code, note_sym, &w), 0);
	assert_null(w.helper.name);
	assert_null(w.main.name);
	cpgo_elf_code_close(&code);

	assert_int_equal(cpgo_elf_code_open(&code, path("text")), -1);
	assert_non_null(strstr(cpgo_last_error(), path("text")));
	cpgo_clear_error();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_code_symbols),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
