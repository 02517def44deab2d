#include "util/run-command.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void cpgo_child_init(struct cpgo_child *c)
{
	memset(c, 0, sizeof(*c));
	cpgo_strvec_init(&c->args);
	cpgo_strvec_init(&c->env);
}

void cpgo_child_release(struct cpgo_child *c)
{
	if (c->out > 0)
		close(c->out);
	cpgo_strvec_release(&c->args);
	cpgo_strvec_release(&c->env);
	cpgo_child_init(c);
}

/* Length of the name in an "env" entry: up to '=' or the whole entry. */
static size_t env_name_len(const char *e)
{
	return strchrnul(e, '=') - e;
}

static int overridden(const struct cpgo_strvec *env, const char *e)
{
	size_t n = env_name_len(e);

	for (size_t i = 0; i < env->n; i++)
		if (env_name_len(env->v[i]) == n && !strncmp(env->v[i], e, n))
			return 1;
	return 0;
}

/* environ with c->env applied; the strings are copies. */
static int build_env(const struct cpgo_child *c, struct cpgo_strvec *out)
{
	for (char **e = environ; e && *e; e++)
		if (!overridden(&c->env, *e) && cpgo_strvec_push(out, *e) < 0)
			return -1;
	for (size_t i = 0; i < c->env.n; i++)
		if (strchr(c->env.v[i], '=') && cpgo_strvec_push(out, c->env.v[i]) < 0)
			return -1;
	return 0;
}

int cpgo_run_command_start(struct cpgo_child *c)
{
	struct cpgo_strvec envp = CPGO_STRVEC_INIT;
	posix_spawn_file_actions_t fa;
	int fds[2] = { -1, -1 }, rc, ret = -1;
	const char *prog = c->file ? c->file : c->args.v[0];

	if (!c->args.n)
		return error("no program to run");
	if (posix_spawn_file_actions_init(&fa))
		return error("out of memory");
	if (c->env.n && build_env(c, &envp) < 0)
		goto cleanup;
	rc = 0;
	if (c->no_stdin)
		rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	else if (c->in > 0)
		rc = posix_spawn_file_actions_adddup2(&fa, c->in, 0);
	if (!rc && c->out < 0) {
		if (pipe2(fds, O_CLOEXEC) < 0) {
			error_errno("cannot create a pipe to run '%s'", prog);
			goto cleanup;
		}
		rc = posix_spawn_file_actions_adddup2(&fa, fds[1], c->capture_stderr ? 2 : 1);
		if (!rc && c->capture_stderr && c->no_stdout)
			rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	} else if (!rc && c->no_stdout) {
		rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	if (!rc && c->no_stderr && !(c->out < 0 && c->capture_stderr))
		rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	else if (!rc && c->err > 0)
		rc = posix_spawn_file_actions_adddup2(&fa, c->err, 2);
	if (rc) {
		errno = rc;
		error_errno("cannot set up the standard streams of '%s'", prog);
		goto cleanup;
	}
	/* What we printed so far comes before the child's output. */
	fflush(NULL);
	rc = c->file ? posix_spawn(&c->pid, c->file, &fa, NULL, c->args.v,
				   c->env.n ? envp.v : environ)
		     : posix_spawnp(&c->pid, prog, &fa, NULL, c->args.v,
				    c->env.n ? envp.v : environ);
	if (rc) {
		errno = rc;
		if (rc == ENOENT && !strchr(prog, '/'))
			error("cannot run '%s': not found on PATH", prog);
		else
			error_errno("cannot run '%s'", prog);
		goto cleanup;
	}
	if (c->out < 0) {
		c->out = fds[0];
		fds[0] = -1;
	}
	ret = 0;
cleanup:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	posix_spawn_file_actions_destroy(&fa);
	cpgo_strvec_release(&envp);
	if (ret < 0)
		c->pid = 0;
	return ret;
}

int cpgo_run_command_finish(struct cpgo_child *c)
{
	struct sigaction ign, old_int, old_quit;
	int status, ret;
	pid_t r;

	if (c->out > 0) {
		close(c->out);
		c->out = 0;
	}
	if (c->pid <= 0)
		return error("no child to wait for");
	if (c->ignore_int_quit) {
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigaction(SIGINT, &ign, &old_int);
		sigaction(SIGQUIT, &ign, &old_quit);
	}
	while ((r = waitpid(c->pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (c->ignore_int_quit) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
	}
	if (r < 0) {
		ret = error_errno("waiting for '%s'", c->args.v[0]);
	} else if (WIFSIGNALED(status)) {
		c->signal = WTERMSIG(status);
		ret = 128 + c->signal;
	} else {
		ret = WEXITSTATUS(status);
	}
	c->pid = 0;
	return ret;
}

int cpgo_run_command(struct cpgo_child *c)
{
	if (cpgo_run_command_start(c) < 0)
		return -1;
	return cpgo_run_command_finish(c);
}

int cpgo_run_command_capture(struct cpgo_child *c, struct cpgo_buf *out, size_t limit)
{
	char chunk[4096];
	ssize_t r;

	c->out = -1;
	if (cpgo_run_command_start(c) < 0)
		return -1;
	for (;;) {
		r = read(c->out, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out->len < limit) {
			size_t keep = (size_t)r < limit - out->len ? (size_t)r : limit - out->len;
			if (cpgo_buf_add(out, chunk, keep) < 0)
				break;
		}
	}
	return cpgo_run_command_finish(c);
}
