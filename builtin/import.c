/*
 * cpgo import: Linux perf and gperftools profiles into a PGO-ready pprof
 * file. A perf.data file is read through `perf script` run as a child;
 * `perf script` text and gperftools CPU profiles are read directly.
 */
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "util/buf.h"
#include "util/error.h"
#include "elf/gperf_import.h"
#include "elf/perf_import.h"

/* perf script output of a long recording is large, but not this large. */
#define IMPORT_MAX_TEXT (8ull << 30)

static const char usage[] =
	"usage: cpgo import [-o OUT] [--event EVENT] [--perf PERF] INPUT\n"
	"\n"
	"Turns a Linux perf or gperftools CPU profile into a pprof profile ready\n"
	"for PGO: Go's sample types (samples/count, and cpu/nanoseconds for\n"
	"cpu-clock, task-clock and gperftools), every frame symbolized from the\n"
	"binaries' DWARF with inlined frames and start lines. perf samples may\n"
	"have call graphs (perf record -g) or not.\n"
	"\n"
	"INPUT is a perf.data file (read with 'perf script' run by cpgo), or the\n"
	"text of 'perf script', best with --show-mmap-events, as a file or '-'\n"
	"for standard input, or a gperftools CPU profile (CPUPROFILE=, legacy\n"
	"format; its binaries must still be where its maps say). Record with:\n"
	"  perf record -e cpu-clock -F 999 -g -o perf.data ./prog\n"
	"\n"
	"Options:\n"
	"  -o, --output OUT  the pprof file to write (default cpgo.pprof; '-' = stdout)\n"
	"  --event EVENT     import this event (default: the first one in INPUT)\n"
	"  --perf PERF       the perf command to run (default: perf)\n";

/* Runs `perf script` on `path` and collects its output into `out`. */
static int run_perf_script(const char *perf, const char *path, struct cpgo_buf *out)
{
	char *argv[] = { (char *)perf, "script", "-i", (char *)path,
			 "-F", "pid,tid,time,period,event,ip,sym,dso", "--show-mmap-events",
			 "--no-inline", NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], status, err, ret = -1;
	pid_t pid;
	char chunk[65536];
	ssize_t n;

	if (pipe(fds) < 0)
		return error_errno("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	err = posix_spawnp(&pid, perf, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		if (err == ENOENT)
			return error("%s: '%s' not found: install perf (linux-perf), or give cpgo "
				     "import the text of 'perf script --show-mmap-events'", path, perf);
		return error("%s: cannot run %s: %s", path, perf, strerror(err));
	}
	for (;;) {
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n > IMPORT_MAX_TEXT) {
			error("%s: perf script output is over %llu bytes", path,
			      (unsigned long long)IMPORT_MAX_TEXT);
			goto wait;
		}
		if (cpgo_buf_add(out, chunk, (size_t)n) < 0)
			goto wait;
	}
	if (n < 0) {
		error_errno("%s: reading perf script output", path);
		goto wait;
	}
	ret = 0;
wait:
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return error_errno("waitpid");
	if (ret == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		ret = error("%s: '%s script' failed (%s %d); its message is above", path, perf,
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return ret;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "event", required_argument, NULL, 'e' },
		{ "perf", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_perf_opts po = { 0 };
	struct cpgo_perf_stats st;
	struct cpgo_profile p = { 0 };
	struct cpgo_buf in = CPGO_BUF_INIT, text = CPGO_BUF_INIT;
	const char *out = "cpgo.pprof", *perf = "perf", *path, *name;
	int c, ret = 1, have_p = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'o':
			out = optarg;
			break;
		case 'e':
			po.event = optarg;
			break;
		case 'p':
			perf = optarg;
			break;
		default:
			return usage_error("import", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error("import", argc == optind ? "no input given (a perf.data file, "
							     "or perf script text)" :
							     "one input at a time");
	path = argv[optind];
	name = strcmp(path, "-") ? path : "<stdin>";
	if (cpgo_read_file(path, &in, IMPORT_MAX_TEXT) < 0) {
		ret = die_lib("import");
		goto cleanup;
	}
	memset(&st, 0, sizeof(st));
	if (cpgo_gperf_is_cpu_profile(in.buf, in.len)) {
		struct cpgo_gperf_stats gs;
		if (cpgo_gperf_import(&p, in.buf, in.len, name, NULL, &gs) < 0) {
			ret = die_lib("import");
			goto cleanup;
		}
		st.n_samples = (size_t)gs.n_samples;
		st.event = "gperftools";
	} else {
		if (cpgo_perf_is_data(in.buf, in.len)) {
			if (!strcmp(path, "-")) {
				ret = report("import", "perf.data on standard input: give its file "
						       "name, or pipe 'perf script --show-mmap-events'");
				goto cleanup;
			}
			cpgo_buf_release(&in);
			if (run_perf_script(perf, path, &text) < 0) {
				ret = die_lib("import");
				goto cleanup;
			}
		} else {
			text = in;
			cpgo_buf_init(&in);
		}
		if (cpgo_perf_import_script(&p, text.buf ? text.buf : "", text.len, name, &po,
					    &st) < 0) {
			ret = die_lib("import");
			goto cleanup;
		}
	}
	have_p = 1;
	cpgo_buf_release(&in);
	cpgo_buf_release(&text);
	if (cpgo_profile_write(&p, out) < 0) {
		ret = die_lib("import");
		goto cleanup;
	}
	fprintf(stderr, "cpgo import: wrote %s: %zu %s samples, %zu stacks, %zu functions",
		strcmp(out, "-") ? out : "<stdout>", st.n_samples, st.event, p.n_sample,
		p.n_function);
	if (st.n_other_event)
		fprintf(stderr, "; %zu samples of other events left out (--event)", st.n_other_event);
	fputc('\n', stderr);
	if (st.n_frames_guessed)
		fprintf(stderr, "cpgo import: warning: %zu frames had no mmap event; their addresses "
				"were taken as file offsets (give perf script --show-mmap-events)\n",
			st.n_frames_guessed);
	ret = 0;
cleanup:
	cpgo_buf_release(&in);
	cpgo_buf_release(&text);
	if (have_p)
		cpgo_profile_release(&p);
	return ret;
}
