/*
 * cpgo import: Linux perf and gperftools profiles into a PGO-ready pprof
 * file. A perf.data file is read through `perf script` run as a child;
 * `perf script` text and gperftools CPU profiles are read directly.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/run-command.h"
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
	static const char *const args[] = { "script", "-F", "pid,tid,time,period,event,ip,sym,dso",
					    "--show-mmap-events", "--no-inline", "-i" };
	struct cpgo_child c = CPGO_CHILD_INIT;
	int rc, ret = -1;

	c.no_stdin = 1;
	if (cpgo_strvec_push(&c.args, perf) < 0 ||
	    cpgo_strvec_pushv(&c.args, (char *const *)args, sizeof(args) / sizeof(args[0])) < 0 ||
	    cpgo_strvec_push(&c.args, path) < 0)
		goto cleanup;
	rc = cpgo_run_command_capture(&c, out, IMPORT_MAX_TEXT);
	if (rc < 0) {
		/* run-command's error names the program; the fix is ours to add. */
		char why[512];
		snprintf(why, sizeof(why), "%s", cpgo_last_error());
		error("%s (install perf, linux-perf on Debian, or give cpgo import the text of "
		      "'perf script --show-mmap-events')", why);
		goto cleanup;
	}
	if (rc) {
		error("%s: '%s script' failed (exit %d); its message is above", path, perf, rc);
		goto cleanup;
	}
	if (out->len >= IMPORT_MAX_TEXT) {
		error("%s: perf script output is over %llu bytes", path,
		      (unsigned long long)IMPORT_MAX_TEXT);
		goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_child_release(&c);
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

	optind = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return usage_help(usage);
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
			return usage_option_error("import", c, argv, opts);
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
