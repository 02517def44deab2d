/* lib/util/path: the lookup that execvp and posix_spawnp do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/path.h"

static char dir[] = "/tmp/cpgo-path.XXXXXX";
static char old_cwd[4096];

static void put(const char *name, mode_t mode)
{
	char p[4200];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(old_cwd, sizeof(old_cwd)));
	put("tool", 0755);
	put("plain", 0644);
	return 0;
}

static int teardown(void **state)
{
	char cmd[4200];

	(void)state;
	assert_int_equal(chdir(old_cwd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static void test_lookup(void **state)
{
	struct cpgo_buf out = CPGO_BUF_INIT, want = CPGO_BUF_INIT;
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	cpgo_buf_addf(&want, "%s/tool", dir);
	/* In order: the first directory that has it. */
	cpgo_buf_addf(&out, "/nonexistent:%s:/bin", dir);
	setenv("PATH", out.buf, 1);
	assert_int_equal(cpgo_path_lookup("tool", &out), 1);
	assert_string_equal(out.buf, want.buf);
	/* Not executable, a directory, missing: not found. */
	assert_int_equal(cpgo_path_lookup("plain", &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(cpgo_path_lookup("nonexistent-cpgo-tool", &out), 0);
	assert_int_equal(cpgo_path_lookup("", &out), 0);
	/* A name with a slash is not searched. */
	assert_int_equal(cpgo_path_lookup(want.buf, &out), 1);
	assert_string_equal(out.buf, want.buf);
	assert_int_equal(cpgo_path_lookup("sub/tool", &out), 0);
	/* An empty entry is the current directory. */
	setenv("PATH", "/nonexistent::", 1);
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(cpgo_path_lookup("tool", &out), 1);
	assert_string_equal(out.buf, "./tool");
	assert_int_equal(chdir(old_cwd), 0);
	/* PATH unset: execvp's default list. */
	unsetenv("PATH");
	assert_int_equal(cpgo_path_lookup("sh", &out), 1);
	assert_true(!strcmp(out.buf, "/bin/sh") || !strcmp(out.buf, "/usr/bin/sh"));
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	cpgo_buf_release(&out);
	cpgo_buf_release(&want);
}

static void test_basename(void **state)
{
	(void)state;
	assert_string_equal(cpgo_path_basename("/usr/bin/clang-19"), "clang-19");
	assert_string_equal(cpgo_path_basename("gcc"), "gcc");
	assert_string_equal(cpgo_path_basename("dir/"), "");
	assert_true(cpgo_path_is_executable("/bin/sh"));
	assert_false(cpgo_path_is_executable("/bin"));
	assert_false(cpgo_path_is_executable("/etc/passwd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_basename),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
