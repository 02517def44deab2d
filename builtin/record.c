/*
 * cpgo record: run a program with libcpgo preloaded and keep its profile.
 * The exit status is the program's (128+N when a signal killed it).
 */
#include "builtin.h"

#include "util/buf.h"
#include "util/error.h"
#include "pprof/profile.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char record_usage[] =
	"usage: cpgo record [-o FILE] [-F HZ] [--] COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND with libcpgo preloaded and writes its CPU profile (pprof).\n"
	"\n"
	"  -o FILE   where to write the profile (default cpgo.pprof)\n"
	"  -F HZ     samples per CPU second of each thread (default: $CPGO_HZ or 100);\n"
	"            for PGO training use -F 10000 or more: clang's sample PGO wants\n"
	"            hundreds of thousands of samples\n"
	"\n"
	"COMMAND must be dynamically linked and not setuid (LD_PRELOAD does not\n"
	"reach other programs); link those with -lcpgo and set CPGO_PROFILE.\n"
	"Only COMMAND's process is profiled (also across exec); the profile is\n"
	"written when it exits normally. libcpgo.so is looked up in $CPGO_LIB, next\n"
	"to the cpgo binary, then in ../lib. The exit status is COMMAND's.\n";

/* Finds libcpgo.so: $CPGO_LIB, next to this binary, ../lib of it. */
static int find_lib(struct cpgo_buf *out)
{
	const char *env = getenv("CPGO_LIB");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		if (access(env, R_OK) < 0)
			return error_errno("CPGO_LIB=%s", env);
		return cpgo_buf_adds(out, env);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return error_errno("/proc/self/exe: cannot find the cpgo binary");
	exe[n] = '\0';
	dir = dirname(exe);
	if (cpgo_buf_addf(out, "%s/libcpgo.so", dir) < 0)
		return -1;
	if (access(out->buf, R_OK) == 0)
		return 0;
	cpgo_buf_reset(out);
	if (cpgo_buf_addf(out, "%s/../lib/libcpgo.so", dir) < 0)
		return -1;
	if (access(out->buf, R_OK) == 0)
		return 0;
	return error("cannot find libcpgo.so in %s or %s/../lib; build it (make) or set CPGO_LIB",
		     dir, dir);
}

/* execvp's lookup, done up front so that the binary can be checked. */
static int find_command(const char *cmd, struct cpgo_buf *out)
{
	const char *path = getenv("PATH"), *p;

	if (strchr(cmd, '/')) {
		if (access(cmd, F_OK) < 0)
			return error_errno("%s: command not found", cmd);
		return cpgo_buf_adds(out, cmd);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		cpgo_buf_reset(out);
		if (cpgo_buf_add(out, len ? p : ".", len ? len : 1) < 0 ||
		    cpgo_buf_addf(out, "/%s", cmd) < 0)
			return -1;
		if (access(out->buf, X_OK) == 0)
			return 0;
		if (!end)
			break;
		p = end;
	}
	return error("%s: command not found in PATH", cmd);
}

/* Refuses what LD_PRELOAD cannot reach: static and setuid/setgid binaries. */
static int check_binary(const char *path)
{
	unsigned char hdr[64];
	struct stat st;
	int fd, ret = -1, has_interp = 0;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno("%s: cannot open", path);
	if (fstat(fd, &st) < 0) {
		error_errno("%s: cannot stat", path);
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		error("%s: not a regular file", path);
		goto cleanup;
	}
	if (st.st_mode & (S_ISUID | S_ISGID)) {
		error("%s: is set-user/group-ID; the loader ignores LD_PRELOAD for it. Profile a "
		      "copy without the bit, or link it with -lcpgo and set CPGO_PROFILE", path);
		goto cleanup;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n >= 2 && hdr[0] == '#' && hdr[1] == '!') {
		ret = 0; /* a script: its interpreter gets profiled */
		goto cleanup;
	}
	if (n < (ssize_t)sizeof(Elf32_Ehdr) || memcmp(hdr, ELFMAG, SELFMAG)) {
		error("%s: not an ELF executable or a script", path);
		goto cleanup;
	}
	if (hdr[EI_CLASS] == ELFCLASS64 && n >= (ssize_t)sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;
		memcpy(&eh, hdr, sizeof(eh));
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP)
				has_interp = 1;
		}
	} else if (hdr[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		memcpy(&eh, hdr, sizeof(eh));
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf32_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP)
				has_interp = 1;
		}
	}
	if (!has_interp) {
		error("%s: is statically linked, so LD_PRELOAD cannot load libcpgo into it. Link it "
		      "dynamically, or link it with -lcpgo (libcpgo.a) and set CPGO_PROFILE", path);
		goto cleanup;
	}
	ret = 0;
cleanup:
	close(fd);
	return ret;
}

static int absolute_path(const char *path, struct cpgo_buf *out)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return cpgo_buf_adds(out, path);
	if (!getcwd(cwd, sizeof(cwd)))
		return error_errno("cannot get the current directory");
	return cpgo_buf_addf(out, "%s/%s", cwd, path);
}

static int setenv_prepend(const char *name, const char *value, char sep)
{
	const char *old = getenv(name);
	struct cpgo_buf b = CPGO_BUF_INIT;
	int ret;

	if (!old || !*old)
		return setenv(name, value, 1);
	if (cpgo_buf_addf(&b, "%s%c%s", value, sep, old) < 0)
		return -1;
	ret = setenv(name, b.buf, 1);
	cpgo_buf_release(&b);
	return ret;
}

/* Prints where the profile went and what it holds. */
static void summarize(const char *out)
{
	struct cpgo_profile p;
	long long samples = 0;
	const char *rate = NULL;

	if (cpgo_profile_read(&p, out, NULL) < 0) {
		report("record", "%s", cpgo_last_error());
		return;
	}
	for (size_t i = 0; i < p.n_sample; i++)
		samples += cpgo_sample_values(&p, i)[0];
	for (size_t i = 0; i < p.n_comment; i++) {
		const char *c = cpgo_profile_str(&p, p.comments[i]);
		if (!strncmp(c, "cpgo: requested ", 16) && !rate)
			rate = c + 6;
		else if (!strncmp(c, "cpgo: lost ", 11))
			fprintf(stderr, "cpgo record: warning: %s\n", c + 6);
	}
	fprintf(stderr, "cpgo record: wrote %s: %lld samples; %s\n", out, samples,
		rate ? rate : "rate unknown");
	if (samples < 100000)
		fprintf(stderr, "cpgo record: hint: PGO works best with 100k+ samples; use -F 10000 "
			"or more, a longer run, or merge several runs\n");
	cpgo_profile_release(&p);
}

int cmd_record(int argc, char **argv)
{
	const char *out = "cpgo.pprof", *hz = NULL;
	struct cpgo_buf lib = CPGO_BUF_INIT, cmd = CPGO_BUF_INIT, abs_out = CPGO_BUF_INIT,
			tmp = CPGO_BUF_INIT;
	struct sigaction ign, old_int, old_quit;
	int i, status, ret = 1, v;
	pid_t pid;

	if (wants_help(argc, argv)) {
		fputs(record_usage, stdout);
		return 0;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "-F") && i + 1 < argc) {
			char *end;
			hz = argv[++i];
			errno = 0;
			v = (int)strtol(hz, &end, 10);
			if (errno || *end || end == hz || v < 1 || v > 100000)
				return usage_error("record", "-F %s: rate must be 1..100000 samples per "
						   "second", hz);
		} else {
			return usage_error("record", "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc)
		return usage_error("record", "no command given: cpgo record [-o FILE] -- COMMAND");
	if (!*out)
		return usage_error("record", "-o needs a file name");
	if (find_lib(&lib) < 0) {
		ret = die_lib("record");
		goto cleanup;
	}
	if (find_command(argv[i], &cmd) < 0) {
		die_lib("record");
		ret = 127; /* the shell's status for a command not found */
		goto cleanup;
	}
	if (check_binary(cmd.buf) < 0 || absolute_path(out, &abs_out) < 0 ||
	    cpgo_buf_addf(&tmp, "%s.cpgo-record.%d", abs_out.buf, (int)getpid()) < 0) {
		ret = die_lib("record");
		goto cleanup;
	}
	unlink(tmp.buf);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = report("record", "fork failed: %s", strerror(errno));
		goto cleanup;
	}
	if (pid == 0) {
		char pidbuf[32];
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
		if (setenv_prepend("LD_PRELOAD", lib.buf, ':') < 0 ||
		    setenv("CPGO_PROFILE", tmp.buf, 1) < 0 ||
		    setenv("CPGO_PROFILE_PID", pidbuf, 1) < 0 || (hz && setenv("CPGO_HZ", hz, 1) < 0))
			_exit(127);
		execv(cmd.buf, argv + i);
		fprintf(stderr, "cpgo record: %s: cannot run: %s\n", cmd.buf, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* Like system(): ^C and ^\ are for the program; we wait for it. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (WIFSIGNALED(status)) {
		ret = 128 + WTERMSIG(status);
		report("record", "%s was killed by signal %d (%s)", argv[i], WTERMSIG(status),
		       strsignal(WTERMSIG(status)));
	} else {
		ret = WEXITSTATUS(status);
	}
	if (access(tmp.buf, F_OK) < 0) {
		report("record", "%s wrote no profile (it must exit normally: exit() or return from "
		       "main, not _exit() or a signal); %s left as it was", argv[i], out);
		if (ret == 0)
			ret = 1;
		goto cleanup;
	}
	if (rename(tmp.buf, abs_out.buf) < 0) {
		report("record", "%s: cannot move the profile into place: %s", out, strerror(errno));
		unlink(tmp.buf);
		if (ret == 0)
			ret = 1;
		goto cleanup;
	}
	summarize(out);
cleanup:
	cpgo_buf_release(&lib);
	cpgo_buf_release(&cmd);
	cpgo_buf_release(&abs_out);
	cpgo_buf_release(&tmp);
	return ret;
}
