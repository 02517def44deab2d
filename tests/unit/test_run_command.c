/* lib/util/run-command and strvec: exit codes, signals, missing programs, env, stdin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/run-command.h"
#include "util/strvec.h"

/* Runs `sh -c SCRIPT` and returns what cpgo_run_command returns. */
static int sh_status(const char *script, struct cpgo_child *c)
{
	assert_int_equal(cpgo_strvec_push(&c->args, "sh"), 0);
	assert_int_equal(cpgo_strvec_push(&c->args, "-c"), 0);
	assert_int_equal(cpgo_strvec_push(&c->args, script), 0);
	return cpgo_run_command(c);
}

static void test_strvec(void **state)
{
	struct cpgo_strvec sv = CPGO_STRVEC_INIT;
	char *words[] = { "b", "c" };

	(void)state;
	assert_non_null(sv.v);
	assert_null(sv.v[0]);
	assert_int_equal(cpgo_strvec_push(&sv, "a"), 0);
	assert_int_equal(cpgo_strvec_pushv(&sv, words, 2), 0);
	assert_int_equal(cpgo_strvec_pushf(&sv, "-o%s.%d", "x", 7), 0);
	assert_int_equal(sv.n, 4);
	assert_string_equal(sv.v[0], "a");
	assert_string_equal(sv.v[2], "c");
	assert_string_equal(sv.v[3], "-ox.7");
	assert_null(sv.v[4]);
	assert_true(sv.v[1] != words[0]); /* copies */
	cpgo_strvec_pop(&sv);
	assert_int_equal(sv.n, 3);
	assert_null(sv.v[3]);
	cpgo_strvec_release(&sv);
	assert_int_equal(sv.n, 0);
	assert_null(sv.v[0]);
	cpgo_strvec_pop(&sv); /* empty: nothing happens */
}

static void test_exit_codes(void **state)
{
	struct cpgo_child c = CPGO_CHILD_INIT;

	(void)state;
	assert_int_equal(sh_status("exit 0", &c), 0);
	assert_int_equal(c.signal, 0);
	cpgo_child_release(&c);
	assert_int_equal(sh_status("exit 3", &c), 3);
	cpgo_child_release(&c);
	assert_int_equal(sh_status("exit 255", &c), 255);
	cpgo_child_release(&c);
}

static void test_signals(void **state)
{
	struct cpgo_child c = CPGO_CHILD_INIT;

	(void)state;
	assert_int_equal(sh_status("kill -TERM $$", &c), 128 + SIGTERM);
	assert_int_equal(c.signal, SIGTERM);
	cpgo_child_release(&c);
	assert_int_equal(sh_status("kill -KILL $$", &c), 128 + SIGKILL);
	assert_int_equal(c.signal, SIGKILL);
	cpgo_child_release(&c);
	/* An exit status of 143 is not a signal. */
	assert_int_equal(sh_status("exit 143", &c), 143);
	assert_int_equal(c.signal, 0);
	cpgo_child_release(&c);
}

static void test_missing_program(void **state)
{
	struct cpgo_child c = CPGO_CHILD_INIT;

	(void)state;
	cpgo_clear_error();
	assert_int_equal(cpgo_strvec_push(&c.args, "cpgo-no-such-program"), 0);
	assert_int_equal(cpgo_run_command(&c), -1);
	assert_non_null(strstr(cpgo_last_error(), "cpgo-no-such-program"));
	assert_non_null(strstr(cpgo_last_error(), "not found on PATH"));
	cpgo_child_release(&c);

	assert_int_equal(cpgo_strvec_push(&c.args, "/nonexistent/dir/prog"), 0);
	assert_int_equal(cpgo_run_command(&c), -1);
	assert_non_null(strstr(cpgo_last_error(), "/nonexistent/dir/prog"));
	assert_non_null(strstr(cpgo_last_error(), "No such file"));
	cpgo_child_release(&c);

	/* A file that is not executable. */
	assert_int_equal(cpgo_strvec_push(&c.args, "/etc/passwd"), 0);
	assert_int_equal(cpgo_run_command(&c), -1);
	assert_non_null(strstr(cpgo_last_error(), "Permission denied"));
	cpgo_child_release(&c);

	/* No program at all. */
	assert_int_equal(cpgo_run_command(&c), -1);
	cpgo_child_release(&c);
}

static void test_file_and_argv0(void **state)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	struct cpgo_buf out = CPGO_BUF_INIT;

	(void)state;
	/* `file` runs; args.v[0] is only the name the program sees. */
	c.file = "/bin/sh";
	assert_int_equal(cpgo_strvec_push(&c.args, "custom-name"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "-c"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "printf '%s' \"$0\""), 0);
	assert_int_equal(cpgo_run_command_capture(&c, &out, 100), 0);
	assert_string_equal(out.buf, "custom-name");
	cpgo_child_release(&c);
	cpgo_buf_release(&out);
}

static void test_environment(void **state)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	struct cpgo_buf out = CPGO_BUF_INIT;

	(void)state;
	setenv("CPGO_TEST_KEEP", "kept", 1);
	setenv("CPGO_TEST_DROP", "dropped", 1);
	setenv("CPGO_TEST_SET", "old", 1);
	assert_int_equal(cpgo_strvec_push(&c.env, "CPGO_TEST_SET=new=value"), 0);
	assert_int_equal(cpgo_strvec_push(&c.env, "CPGO_TEST_DROP"), 0);
	assert_int_equal(cpgo_strvec_push(&c.env, "CPGO_TEST_ADD=added"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "sh"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "-c"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "echo \"$CPGO_TEST_KEEP,$CPGO_TEST_SET,"
					  "${CPGO_TEST_DROP-unset},$CPGO_TEST_ADD\""), 0);
	assert_int_equal(cpgo_run_command_capture(&c, &out, 1000), 0);
	assert_string_equal(out.buf, "kept,new=value,unset,added\n");
	/* Our own environment is untouched. */
	assert_string_equal(getenv("CPGO_TEST_SET"), "old");
	assert_string_equal(getenv("CPGO_TEST_DROP"), "dropped");
	assert_null(getenv("CPGO_TEST_ADD"));
	cpgo_child_release(&c);
	cpgo_buf_release(&out);
}

static void test_stdin_and_capture(void **state)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	struct cpgo_buf out = CPGO_BUF_INIT;
	char path[] = "/tmp/cpgo-run-command.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd > 0);
	assert_int_equal(write(fd, "from a file\n", 12), 12);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	c.in = fd;
	assert_int_equal(cpgo_strvec_push(&c.args, "cat"), 0);
	assert_int_equal(cpgo_run_command_capture(&c, &out, 1000), 0);
	assert_string_equal(out.buf, "from a file\n");
	cpgo_child_release(&c);
	cpgo_buf_reset(&out);
	close(fd);
	unlink(path);

	/* no_stdin: the child reads /dev/null, not our stdin. */
	c.no_stdin = 1;
	assert_int_equal(cpgo_strvec_push(&c.args, "wc"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "-c"), 0);
	assert_int_equal(cpgo_run_command_capture(&c, &out, 1000), 0);
	assert_string_equal(out.buf, "0\n");
	cpgo_child_release(&c);
	cpgo_buf_reset(&out);

	/* The limit keeps the first bytes; the child still runs to its end. */
	assert_int_equal(cpgo_strvec_push(&c.args, "sh"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "-c"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "head -c 100000 /dev/zero | tr '\\0' x; "
					  "exit 4"), 0);
	assert_int_equal(cpgo_run_command_capture(&c, &out, 10), 4);
	assert_int_equal(out.len, 10);
	assert_string_equal(out.buf, "xxxxxxxxxx");
	cpgo_child_release(&c);
	cpgo_buf_reset(&out);

	/* capture_stderr: standard error is kept, standard output is not taken. */
	c.capture_stderr = 1;
	c.no_stdout = 1;
	assert_int_equal(cpgo_strvec_push(&c.args, "sh"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "-c"), 0);
	assert_int_equal(cpgo_strvec_push(&c.args, "echo out; echo err >&2; exit 3"), 0);
	assert_int_equal(cpgo_run_command_capture(&c, &out, 1000), 3);
	assert_string_equal(out.buf, "err\n");
	cpgo_child_release(&c);
	cpgo_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strvec),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_file_and_argv0),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_stdin_and_capture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
