/*
 * cpgo record: run a program with libcpgo preloaded and keep its profile.
 * The exit status is the program's (128+N when a signal killed it).
 */
#include "builtin.h"
#include "cpgo.h"

#include "util/buf.h"
#include "util/error.h"
#include "util/path.h"
#include "util/run-command.h"
#include "pprof/profile.h"
#include "pprof/meta.h"
#include "pprof/merge.h"
#include "pprof/source.h"
#include "elf/elfinspect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char record_usage[] =
	"usage: cpgo record [-o FILE] [-F HZ] [--children] [--] COMMAND [ARGS...]\n"
	"\n"
	"Runs COMMAND with libcpgo preloaded and writes its CPU profile (pprof).\n"
	"\n"
	"  -o FILE   where to write the profile (default cpgo.pprof)\n"
	"  -F HZ     samples per CPU second of each thread (default: $CPGO_HZ or 100);\n"
	"            for PGO training use -F 10000 or more: clang's sample PGO wants\n"
	"            hundreds of thousands of samples\n"
	"  --children  profile every process COMMAND starts too (a script, make,\n"
	"            a test runner, forked workers) and merge them into FILE\n"
	"\n"
	"COMMAND must be dynamically linked and not setuid (LD_PRELOAD does not\n"
	"reach other programs); link those with -lcpgo and set CPGO_PROFILE.\n"
	"Without --children only COMMAND's process is profiled (also across exec);\n"
	"a profile is written when its process exits normally. libcpgo.so is looked up in $CPGO_LIB, next\n"
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

/* Refuses what LD_PRELOAD cannot reach: static and setuid/setgid binaries. */
static int check_binary(const char *path)
{
	unsigned char hdr[64];
	struct stat st;
	struct cpgo_elf_info info;
	int fd, ret = -1;
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
	if (cpgo_elf_inspect(path, &info) < 0) {
		cpgo_clear_error();
		error("%s: not an ELF executable or a script", path);
		goto cleanup;
	}
	if (!info.has_interp) {
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

/* NAME=VALUE for the child, VALUE before what NAME holds now (SEP between). */
static int env_prepend(struct cpgo_strvec *env, const char *name, const char *value, char sep)
{
	const char *old = getenv(name);

	if (!old || !*old)
		return cpgo_strvec_pushf(env, "%s=%s", name, value);
	return cpgo_strvec_pushf(env, "%s=%s%c%s", name, value, sep, old);
}

/* An existing target that is not a regular file: /dev/null, a FIFO. */
static int is_special(const char *path)
{
	struct stat st;
	return !stat(path, &st) && !S_ISREG(st.st_mode);
}

/*
 * Renames the runtime's file over `out`, except that a device or FIFO is
 * copied into (cpgo_write_file_atomic's rule): renaming over /dev/null
 * would replace the device with a file.
 */
static int move_into_place(const char *tmp, const char *out)
{
	char chunk[65536];
	int in, to, ret = -1;
	ssize_t n;

	if (!is_special(out))
		return rename(tmp, out) < 0 ? error_errno("rename") : 0;
	in = open(tmp, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_errno("%s", tmp);
	to = open(out, O_WRONLY | O_CLOEXEC);
	if (to < 0) {
		error_errno("%s", out);
		goto cleanup;
	}
	while ((n = read(in, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || cpgo_write_all(to, chunk, (size_t)n) < 0) {
			error_errno("%s", n < 0 ? tmp : out);
			goto cleanup;
		}
	}
	if (close(to) < 0) {
		to = -1;
		error_errno("%s", out);
		goto cleanup;
	}
	to = -1;
	unlink(tmp);
	ret = 0;
cleanup:
	close(in);
	if (to >= 0)
		close(to);
	return ret;
}

/* The runtime's name for a finished profile in the --children directory: PID.pprof. */
static int is_process_profile(const char *name)
{
	const char *p = name;

	while (*p >= '0' && *p <= '9')
		p++;
	return p != name && !strcmp(p, ".pprof");
}

/*
 * --children: merges the profiles the processes wrote into `dir` into the
 * file `to` and removes them. Returns how many there were (0: none, and no
 * file), -1 on error.
 */
static int merge_dir(const char *dir, const char *to)
{
	struct cpgo_merge_opts opts = { 0 };
	struct cpgo_profile out = { 0 };
	struct cpgo_merge *m = NULL;
	struct cpgo_buf path = CPGO_BUF_INIT;
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0, ret = -1;

	if (!d)
		return error_errno("%s", dir);
	if (cpgo_profile_init(&out) < 0 || cpgo_merge_begin(&m, &out, &opts) < 0)
		goto cleanup;
	while ((e = readdir(d))) {
		struct cpgo_profile in;
		int r;

		if (!is_process_profile(e->d_name))
			continue;
		cpgo_buf_reset(&path);
		if (cpgo_buf_addf(&path, "%s/%s", dir, e->d_name) < 0)
			goto cleanup;
		if (cpgo_source_read(&in, path.buf, NULL) < 0)
			goto cleanup;
		r = cpgo_merge_add(m, &in, path.buf, 1.0);
		cpgo_profile_release(&in);
		if (r < 0)
			goto cleanup;
		n++;
	}
	if (n && (cpgo_merge_finish(m) < 0 || cpgo_profile_write(&out, to) < 0))
		goto cleanup;
	ret = n;
cleanup:
	closedir(d);
	cpgo_path_remove_tmpdir(dir);
	cpgo_merge_free(m);
	if (out.priv)
		cpgo_profile_release(&out);
	cpgo_buf_release(&path);
	return ret;
}

/* Prints where the profile went and what it holds. */
static void summarize(const char *out, int processes)
{
	struct cpgo_profile p;
	struct cpgo_meta meta;
	struct cpgo_buf rate = CPGO_BUF_INIT;
	long long samples = 0;

	if (cpgo_profile_read(&p, out, NULL) < 0) {
		report("record", "%s", cpgo_last_error());
		return;
	}
	for (size_t i = 0; i < p.n_sample; i++)
		samples += cpgo_sample_values(&p, i)[0];
	cpgo_meta_read(&p, &meta);
	if (meta.lost > 0)
		fprintf(stderr, "cpgo record: warning: lost %lld samples (buffer full: %lld, out of "
			"memory: %lld)\n", (long long)meta.lost, (long long)meta.lost_buffer_full,
			(long long)meta.lost_out_of_memory);
	cpgo_meta_summary(&meta, &rate);
	fprintf(stderr, "cpgo record: wrote %s: %lld samples", out, samples);
	if (processes)
		fprintf(stderr, " from %d process%s", processes, processes == 1 ? "" : "es");
	fprintf(stderr, "; %s\n", rate.len ? rate.buf : "rate unknown");
	cpgo_buf_release(&rate);
	if (samples < 100000)
		fprintf(stderr, "cpgo record: hint: PGO works best with 100k+ samples; use -F 10000 "
			"or more, a longer run, or merge several runs\n");
	cpgo_profile_release(&p);
}

int cmd_record(int argc, char **argv)
{
	const char *out = "cpgo.pprof", *hz = NULL;
	struct cpgo_buf lib = CPGO_BUF_INIT, cmd = CPGO_BUF_INIT, abs_out = CPGO_BUF_INIT,
			tmp = CPGO_BUF_INIT, dir = CPGO_BUF_INIT;
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "freq", required_argument, NULL, 'F' },
		{ "children", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_child child = CPGO_CHILD_INIT;
	int i, ret = 1, v, c, children = 0, processes = 0;

	/* '+': the options end at COMMAND; what follows is COMMAND's. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:o:F:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'F': {
			char *end;
			hz = optarg;
			errno = 0;
			v = (int)strtol(hz, &end, 10);
			if (errno || *end || end == hz || v < 1 || v > CPGO_MAX_HZ)
				return usage_error("record", "-F %s: rate must be 1..%d samples per "
						   "second", hz, CPGO_MAX_HZ);
			break;
		}
		case 'C':
			children = 1;
			break;
		case 'h':
			return usage_help(record_usage);
		default:
			return usage_option_error("record", c, argv, longopts);
		}
	}
	i = optind;
	if (i >= argc)
		return usage_error("record", "no command given: cpgo record [-o FILE] -- COMMAND");
	if (!*out)
		return usage_error("record", "-o needs a file name");
	if (find_lib(&lib) < 0) {
		ret = die_lib("record");
		goto cleanup;
	}
	/* Looked up as the exec will, so that the file checked is the one that runs. */
	v = cpgo_path_lookup(argv[i], &cmd);
	if (v < 0) {
		ret = die_lib("record");
		goto cleanup;
	}
	if (!v) {
		/* The shell's statuses: 126 found but not runnable, 127 not found. */
		if (strchr(argv[i], '/') && !access(argv[i], F_OK)) {
			report("record", "%s: not an executable file", argv[i]);
			ret = 126;
		} else {
			report("record", "%s: command not found%s", argv[i],
			       strchr(argv[i], '/') ? "" : " in PATH");
			ret = 127;
		}
		goto cleanup;
	}
	if (check_binary(cmd.buf) < 0 || absolute_path(out, &abs_out) < 0 ||
	    cpgo_buf_addf(&tmp, "%s.cpgo-record.%d", abs_out.buf, (int)getpid()) < 0) {
		ret = die_lib("record");
		goto cleanup;
	}
	unlink(tmp.buf);
	child.file = cmd.buf;
	/* Like system(): ^C and ^\ are for the program; we wait for it. */
	child.ignore_int_quit = 1;
	if (cpgo_strvec_pushv(&child.args, argv + i, (size_t)(argc - i)) < 0 ||
	    env_prepend(&child.env, "LD_PRELOAD", lib.buf, ':') < 0 ||
	    (hz && cpgo_strvec_pushf(&child.env, "CPGO_HZ=%s", hz) < 0)) {
		ret = die_lib("record");
		goto cleanup;
	}
	if (children) {
		/* Each process writes PID.pprof into a directory of ours; forked ones too. */
		if (cpgo_buf_addf(&dir, "%s.d", tmp.buf) < 0 ||
		    (mkdir(dir.buf, 0700) < 0 && error_errno("%s: cannot create", dir.buf)) ||
		    cpgo_strvec_pushf(&child.env, "CPGO_PROFILE=%s/%%p.pprof", dir.buf) < 0 ||
		    cpgo_strvec_pushf(&child.env, "CPGO_FORK=1") < 0) {
			ret = die_lib("record");
			goto cleanup;
		}
	} else if (cpgo_strvec_pushf(&child.env, "CPGO_PROFILE=%s", tmp.buf) < 0 ||
		   /* The runtime profiles our child (and what it exec()s), not the grandchildren. */
		   cpgo_strvec_pushf(&child.env, "CPGO_PROFILE_PPID=%d", (int)getpid()) < 0) {
		ret = die_lib("record");
		goto cleanup;
	}
	ret = cpgo_run_command(&child);
	if (ret < 0) {
		die_lib("record");
		ret = 126;
		goto cleanup;
	}
	if (child.signal)
		report("record", "%s was killed by signal %d (%s)", argv[i], child.signal,
		       strsignal(child.signal));
	if (children) {
		processes = merge_dir(dir.buf, tmp.buf);
		cpgo_buf_reset(&dir);
		if (processes < 0) {
			report("record", "merging the processes' profiles: %s; %s left as it was",
			       cpgo_last_error(), out);
			unlink(tmp.buf);
			if (ret == 0)
				ret = 1;
			goto cleanup;
		}
	}
	if (access(tmp.buf, F_OK) < 0) {
		report("record", "%s wrote no profile (it must exit normally: exit() or return from "
		       "main, not _exit() or a signal); %s left as it was", argv[i], out);
		if (ret == 0)
			ret = 1;
		goto cleanup;
	}
	if (move_into_place(tmp.buf, abs_out.buf) < 0) {
		report("record", "%s: cannot move the profile into place: %s", out,
		       cpgo_last_error());
		unlink(tmp.buf);
		if (ret == 0)
			ret = 1;
		goto cleanup;
	}
	if (is_special(abs_out.buf))
		goto cleanup; /* /dev/null, a pipe: nothing to read back */
	summarize(out, processes);
cleanup:
	if (dir.len)
		cpgo_path_remove_tmpdir(dir.buf); /* left before merging */
	cpgo_buf_release(&lib);
	cpgo_buf_release(&cmd);
	cpgo_buf_release(&abs_out);
	cpgo_buf_release(&tmp);
	cpgo_buf_release(&dir);
	cpgo_child_release(&child);
	return ret;
}
