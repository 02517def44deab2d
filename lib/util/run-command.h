#ifndef CPGO_RUN_COMMAND_H
#define CPGO_RUN_COMMAND_H

/*
 * Running another program (git's run-command, over posix_spawnp): the one
 * place cpgo starts a process and waits for it. posix_spawn reports a
 * program that cannot be run as an error of the start itself, so a missing
 * compiler is a clear message rather than a child that exits 127.
 */

#include <sys/types.h>

#include "util/buf.h"
#include "util/strvec.h"

struct cpgo_child {
	/* args.v[0] is the program, looked up on $PATH unless it holds a '/'. */
	struct cpgo_strvec args;
	/* "NAME=VALUE" sets, "NAME" removes; over this process's environment. */
	struct cpgo_strvec env;
	/* When set, the file to run (no PATH search); args.v[0] is then only its name. */
	const char *file;
	/* Standard streams: /dev/null when no_*; else stdin is `in` when > 0. */
	unsigned no_stdin : 1, no_stdout : 1, no_stderr : 1;
	/* Like system(): ^C and ^\ are the child's while we wait for it. */
	unsigned ignore_int_quit : 1;
	/* cpgo_run_command_capture takes standard error instead (stdout stays ours). */
	unsigned capture_stderr : 1;
	int in;
	/* -1: a pipe; after start, `out` is its read end (closed by finish). */
	int out;

	/* Results. */
	pid_t pid;
	int signal; /* the signal that killed the child, else 0 */

	/* > 0: the child's standard error goes to this descriptor (set before start). */
	int err;
};

#define CPGO_CHILD_INIT { CPGO_STRVEC_INIT, CPGO_STRVEC_INIT, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

void cpgo_child_init(struct cpgo_child *c);
void cpgo_child_release(struct cpgo_child *c);

/* Starts the child; -1 with an error naming the program when it cannot run. */
int cpgo_run_command_start(struct cpgo_child *c);
/*
 * Waits for the child. Returns its exit status, 128 + N when signal N
 * killed it (the shell's convention; c->signal says which), -1 on error.
 */
int cpgo_run_command_finish(struct cpgo_child *c);
/* start + finish. */
int cpgo_run_command(struct cpgo_child *c);
/*
 * Runs the child with its standard output (or error, capture_stderr) into `out` (at most `limit`
 * bytes are kept; the rest is read and dropped so the child never blocks).
 * Returns what cpgo_run_command_finish returns.
 */
int cpgo_run_command_capture(struct cpgo_child *c, struct cpgo_buf *out, size_t limit);

#endif
