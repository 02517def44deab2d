/* lib/util/buf: the durable write and its special targets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"

static void test_write_atomic_regular(void **state)
{
	char dir[] = "/tmp/cpgo-buf.XXXXXX", path[64], cmd[96];
	struct cpgo_buf b = CPGO_BUF_INIT;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(cpgo_write_file_atomic(path, "one", 3), 0);
	assert_int_equal(cpgo_write_file_atomic(path, "second", 6), 0);
	assert_int_equal(cpgo_read_file(path, &b, 100), 0);
	assert_string_equal(b.buf, "second");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* A missing directory is an error naming the file. */
	snprintf(path, sizeof(path), "%s/no/out", dir);
	assert_int_equal(cpgo_write_file_atomic(path, "x", 1), -1);
	assert_non_null(strstr(cpgo_last_error(), path));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	cpgo_buf_release(&b);
}

static void test_write_atomic_fifo(void **state)
{
	char dir[] = "/tmp/cpgo-buf.XXXXXX", fifo[64], cmd[96];
	struct stat st;
	char got[8] = "";
	int fd;

	(void)state;
	/*
	 * A FIFO is written into, not replaced by a file (as /dev/null would be,
	 * which is not tried here: a regression would break the machine).
	 */
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(cpgo_write_file_atomic(fifo, "fifo", 4), 0);
	assert_int_equal(read(fd, got, sizeof(got) - 1), 4);
	assert_string_equal(got, "fifo");
	close(fd);
	assert_int_equal(stat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_atomic_regular),
		cmocka_unit_test(test_write_atomic_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
