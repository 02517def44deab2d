/* Profile sources (lib/pprof/source.c): files, and URLs told apart from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/error.h"
#include "pprof/source.h"
#include "../helper/build_profile.h"

static void test_is_url(void **state)
{
	assert_true(cpgo_source_is_url("http://host:6060/debug/pprof/profile?seconds=5"));
	assert_true(cpgo_source_is_url("https://host/p"));
	assert_false(cpgo_source_is_url("cpu.pprof"));
	assert_false(cpgo_source_is_url("-"));
	assert_false(cpgo_source_is_url("ftp://host/p"));
	assert_false(cpgo_source_is_url("http:/one-slash"));
}

static void test_read_file(void **state)
{
	struct cpgo_profile a, b;
	char dir[] = "/tmp/cpgo-test-XXXXXX", path[128];
	uint64_t m, f, l;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/in.pprof", dir);
	cpu_profile(&a, 1000000000);
	m = mapping(&a, "b1d", 0x400000);
	f = cpgo_profile_add_function(&a, "main", NULL, "main.c", 1);
	l = loc1(&a, m, 0x400100, f, 3);
	sample(&a, &l, 1, 7);
	assert_int_equal(cpgo_profile_write(&a, path), 0);
	assert_int_equal(cpgo_source_read(&b, path, NULL), 0);
	assert_int_equal(b.n_sample, 1);
	assert_int_equal(cpgo_sample_values(&b, 0)[0], 7);
	cpgo_profile_release(&a);
	cpgo_profile_release(&b);
	unlink(path);

	/* A missing file is an error naming it. */
	assert_int_equal(cpgo_source_read(&b, path, NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), path));
	rmdir(dir);
}

static void test_url_fetch_error(void **state)
{
	struct cpgo_profile p;

	/* Port 1 on the loopback: refused at once, and the error says what to check. */
	assert_int_equal(cpgo_source_read(&p, "http://127.0.0.1:1/debug/pprof/profile", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "http://127.0.0.1:1/debug/pprof/profile"));
	assert_non_null(strstr(cpgo_last_error(), "fetch failed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_url),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_url_fetch_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
