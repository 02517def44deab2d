/*
 * cpgo check: how much of a profile still matches the code of a binary,
 * per function and in total, so a stale default.pgo is noticed (in CI with
 * --min-match) before it quietly stops optimizing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "util/error.h"
#include "elf/check.h"
#include "pprof/source.h"
#include "pprof/report.h"
#include "util/buf.h"
#include "util/path.h"
#include "util/run-command.h"
#include "util/strvec.h"

static const char usage[] =
	"usage: cpgo check [--min-match P] [-n N] [--sample-type TYPE] --binary BIN PROFILE\n"
	"   or: cpgo check [--min-match P] [-n N] [--cc CC] PROFILE SOURCE... [-- CFLAGS...]\n"
	"\n"
	"Says how much of PROFILE still matches BIN's code (or the code of the C\n"
	"SOURCE files, each compiled with CC -g -O0 -c and CFLAGS, so macros and\n"
	"#if are seen as the build sees them) the way PGO matches\n"
	"it: samples whose function BIN still has (by name and source file),\n"
	"whose line offset from the function's start line lands on a line with\n"
	"code in it, and whose function's start line moved (harmless as long as\n"
	"the offsets still land). With SOURCE, also the samples at calls whose line\n"
	"moved inside the function (the calls column: how far the heaviest moved\n"
	"call moved, \"ok\" none). Then per function, the hot functions gone from\n"
	"BIN, and BIN's functions the profile has no samples for. BIN needs DWARF\n"
	"(-g). Samples in other binaries (libc) are counted apart.\n"
	"\n"
	"Options:\n"
	"  --binary BIN        the binary built from the current code\n"
	"  --cc CC             the compiler for SOURCE (default: $CPGO_CC, else clang-19,\n"
	"                      else cc); CFLAGS after -- are the build's -I, -D, -std\n"
	"  --min-match P       exit 1 when under P%% of the samples match (0-100)\n"
	"  -n N                functions to list (default 20; 0 = all)\n"
	"  --sample-type TYPE  the sample type to weigh by (default: the one PGO uses)\n";

static double pct(int64_t v, int64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void print_report(const struct cpgo_check_report *r, size_t limit, const char *what)
{
	size_t n, shown = 0;

	printf("Matched: %.1f%% of the program's samples (function found %.1f%%, line offsets "
	       "inside it %.1f%%; start line moved for %.1f%%)\n",
	       pct(r->in_range, r->total), pct(r->found, r->total), pct(r->in_range, r->total),
	       pct(r->moved, r->total));
	if (r->site_total)
		printf("Call sites: %.1f%% of the samples at calls sit at a line that moved inside "
		       "its function (%zu function%s: lines inserted or removed above the call)\n",
		       pct(r->site_moved, r->site_total), r->site_fns, r->site_fns == 1 ? "" : "s");
	if (r->other)
		printf("Other binaries: %.1f%% of all samples, not checked\n",
		       pct(r->other, r->total + r->other + r->nodebug));
	if (r->nodebug)
		printf("Code without a source (start-up stubs, PLT): %.1f%% of all samples, not "
		       "checked\n", pct(r->nodebug, r->total + r->other + r->nodebug));
	n = limit && limit < r->n_fn ? limit : r->n_fn;
	printf("\n%7s %7s %7s %6s  %-16s %s\n", "flat%", "cum%", "lines%", "calls", "start line",
	       "function");
	for (size_t i = 0; i < r->n_fn && shown < n; i++) {
		const struct cpgo_check_fn *f = &r->fns[i];
		char start[48], calls[32];
		if (!f->flat && !f->cum)
			continue;
		/* The shift of its heaviest moved call, "ok" when none moved. */
		if (!f->site_total)
			snprintf(calls, sizeof(calls), "-");
		else if (!f->site_moved)
			snprintf(calls, sizeof(calls), "ok");
		else
			snprintf(calls, sizeof(calls), "%+lld", (long long)f->site_shift);
		shown++;
		if (!f->found)
			snprintf(start, sizeof(start), "gone");
		else if (f->prof_start && f->bin_start && f->prof_start != f->bin_start)
			snprintf(start, sizeof(start), "%lld->%lld", (long long)f->prof_start,
				 (long long)f->bin_start);
		else
			snprintf(start, sizeof(start), "%lld", (long long)f->bin_start);
		if (f->flat)
			printf("%6.2f%% %6.2f%% %6.1f%%", pct(f->flat, r->total), pct(f->cum, r->total),
			       pct(f->flat_in_range, f->flat));
		else
			printf("%6.2f%% %6.2f%% %7s", 0.0, pct(f->cum, r->total), "-");
		printf(" %6s  %-16s %s  %s\n", calls, start, f->name, f->file);
	}
	shown = 0;
	for (size_t i = 0; i < r->n_fn; i++) {
		const struct cpgo_check_fn *f = &r->fns[i];
		if (f->found || (double)f->cum < CPGO_CHECK_HOT_SHARE * (double)r->total)
			continue;
		if (!shown++)
			printf("\nHot functions gone from the %s (rename them with 'cpgo rename' "
			       "if they were renamed):\n", what);
		printf("  %s  %s (%.1f%% cum)", f->name, f->file, pct(f->cum, r->total));
		if (f->moved_to)
			printf(": moved to %s", f->moved_to);
		putchar('\n');
	}
	printf("\nNew functions: %zu of the %s %zu have no samples", r->n_new,
	       strcmp(what, "binary") ? "sources'" : "binary's", r->n_bin_fn);
	n = limit && limit < r->n_new ? limit : r->n_new;
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : ": ", r->new_fns[i].name);
	printf("%s\n", n < r->n_new ? ", ..." : "");
}

/* $CPGO_CC's words, else clang-19 when installed, else cc: what cpgo cc would build with. */
static int pick_compiler(const char *cc, struct cpgo_strvec *out)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	const char *env = getenv("CPGO_CC");
	char *copy, *tok, *save = NULL;
	int found;

	if (!cc && env && *env)
		cc = env;
	if (!cc) {
		found = cpgo_path_lookup("clang-19", &b);
		cpgo_buf_release(&b);
		cc = found == 1 ? "clang-19" : "cc";
	}
	if (!(copy = strdup(cc)))
		return -1;
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		if (cpgo_strvec_push(out, tok) < 0) {
			free(copy);
			return -1;
		}
	free(copy);
	return out->n ? 0 : -1;
}

struct compiled {
	char *tmpdir;
	struct cpgo_strvec objs;
};

static void compiled_release(struct compiled *c)
{
	for (size_t i = 0; i < c->objs.n; i++)
		unlink(c->objs.v[i]);
	if (c->tmpdir)
		rmdir(c->tmpdir);
	free(c->tmpdir);
	cpgo_strvec_release(&c->objs);
}

/*
 * Compiles each source at -O0 -g (every line with code keeps a line-table
 * row, nothing is inlined away or merged), as many at once as there are
 * CPUs. Returns 0, or 1 after telling which source failed.
 */
static int compile_sources(const struct cpgo_strvec *cc, char **srcs, size_t n, char **cflags,
			   size_t n_cflags, struct compiled *out)
{
	const char *tmp = getenv("TMPDIR");
	struct cpgo_buf dir = CPGO_BUF_INIT;
	struct cpgo_child *kids = calloc(n ? n : 1, sizeof(*kids));
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	size_t started = 0, done = 0;
	int ret = 1, failed = 0;

	if (!kids || cpgo_buf_addf(&dir, "%s/cpgo-check.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 ||
	    !mkdtemp(dir.buf)) {
		report("check", "cannot make a temporary directory for the objects");
		goto cleanup;
	}
	out->tmpdir = cpgo_buf_detach(&dir, NULL);
	if (jobs < 1)
		jobs = 1;
	while (done < n) {
		while (started < n && started - done < (size_t)jobs && !failed) {
			struct cpgo_child *c = &kids[started];
			cpgo_child_init(c);
			if (cpgo_strvec_pushf(&out->objs, "%s/%zu.o", out->tmpdir, started) < 0 ||
			    cpgo_strvec_pushv(&c->args, cc->v, cc->n) < 0 ||
			    cpgo_strvec_push(&c->args, "-g") < 0 ||
			    cpgo_strvec_push(&c->args, "-O0") < 0 ||
			    /* A call into its own section has a relocation naming the callee. */
			    cpgo_strvec_push(&c->args, "-ffunction-sections") < 0 ||
			    cpgo_strvec_push(&c->args, "-w") < 0 ||
			    cpgo_strvec_pushv(&c->args, cflags, n_cflags) < 0 ||
			    cpgo_strvec_push(&c->args, "-c") < 0 ||
			    cpgo_strvec_push(&c->args, "-o") < 0 ||
			    cpgo_strvec_push(&c->args, out->objs.v[started]) < 0 ||
			    cpgo_strvec_push(&c->args, srcs[started]) < 0) {
				die_lib("check");
				failed = 1;
				break;
			}
			c->no_stdin = 1;
			if (cpgo_run_command_start(c) < 0) {
				report("check", "%s (name the compiler with --cc)", cpgo_last_error());
				failed = 1;
				break;
			}
			started++;
		}
		if (done == started)
			break;
		{
			int rc = cpgo_run_command_finish(&kids[done]);
			if (rc != 0 && !failed) {
				report("check", "%s: the compiler failed (exit %d): give the build's "
				       "flags after --, e.g. cpgo check PROFILE %s -- -Iinclude -DNAME",
				       srcs[done], rc, srcs[done]);
				failed = 1;
			}
		}
		done++;
	}
	ret = failed;
cleanup:
	for (size_t i = 0; kids && i < started; i++)
		cpgo_child_release(&kids[i]);
	free(kids);
	cpgo_buf_release(&dir);
	return ret;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "binary", required_argument, NULL, 'b' },
		{ "cc", required_argument, NULL, 'c' },
		{ "min-match", required_argument, NULL, 'm' },
		{ "nodecount", required_argument, NULL, 'n' },
		{ "sample-type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_profile p = { 0 };
	struct cpgo_check_report r = { 0 };
	struct cpgo_strvec cc = CPGO_STRVEC_INIT;
	struct compiled objs = { NULL, CPGO_STRVEC_INIT };
	const char *binary = NULL, *want = NULL, *compiler = NULL, *path, *name;
	double min_match = -1;
	long limit = 20;
	int c, vi, ret = 1, have_p = 0, nargs = argc;
	char **cflags = NULL, *end;
	size_t n_cflags = 0, n_src;

	/* Everything after "--" is the compiler's, not ours. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			nargs = i;
			cflags = argv + i + 1;
			n_cflags = (size_t)(argc - i - 1);
			break;
		}
	optind = 0;
	while ((c = getopt_long(nargs, argv, ":hn:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return usage_help(usage);
		case 'b':
			binary = optarg;
			break;
		case 'c':
			compiler = optarg;
			break;
		case 'm':
			min_match = strtod(optarg, &end);
			if (!*optarg || *end || !(min_match >= 0 && min_match <= 100))
				return usage_error("check", "--min-match needs a percentage 0-100, "
							    "got '%s'", optarg);
			break;
		case 'n':
			if (parse_count_arg(optarg, &limit) < 0)
				return usage_error("check", "-n needs a count (0 = all), got '%s'",
						   optarg);
			break;
		case 't':
			want = optarg;
			break;
		default:
			return usage_option_error("check", c, argv, opts);
		}
	}
	if (nargs == optind)
		return usage_error("check", "no profile given");
	n_src = (size_t)(nargs - optind - 1);
	if (binary && n_src)
		return usage_error("check", "one profile at a time, against --binary or sources, "
					    "not both (merge profiles first with 'cpgo merge')");
	if (!binary && !n_src)
		return usage_error("check", "no binary or sources given: --binary BIN (built with "
					    "-g from the current code) or the C sources");
	if (cflags && binary)
		return usage_error("check", "compiler flags after -- are for sources, not --binary");
	path = argv[optind];
	name = strcmp(path, "-") ? path : "<stdin>";
	if (cpgo_source_read(&p, path, NULL) < 0) {
		ret = die_lib("check");
		goto cleanup;
	}
	have_p = 1;
	vi = want ? cpgo_report_value_index(&p, want, name) : cpgo_profile_cpu_index(&p, name);
	if (vi < 0) {
		ret = die_lib("check");
		goto cleanup;
	}
	if (n_src) {
		if (pick_compiler(compiler, &cc) < 0) {
			ret = usage_error("check", "--cc needs a compiler, got '%s'",
					  compiler ? compiler : "");
			goto cleanup;
		}
		if (compile_sources(&cc, argv + optind + 1, n_src, cflags, n_cflags, &objs))
			goto cleanup;
		if (cpgo_check_objects(&p, vi, (const char *const *)objs.objs.v, objs.objs.n,
				       &r) < 0) {
			ret = die_lib("check");
			goto cleanup;
		}
	} else if (cpgo_check_binary(&p, vi, binary, NULL, &r) < 0) {
		ret = die_lib("check");
		goto cleanup;
	}
	printf("Profile: %s (%s/%s)\n", name, cpgo_profile_str(&p, p.sample_type[vi].type),
	       cpgo_profile_str(&p, p.sample_type[vi].unit));
	if (binary)
		printf("Binary: %s\n", binary);
	else
		printf("Sources: %zu file%s\n", n_src, n_src == 1 ? "" : "s");
	print_report(&r, (size_t)limit, binary ? "binary" : "sources");
	if (fflush(stdout) != 0) {
		ret = report("check", "cannot write to standard output");
		goto cleanup;
	}
	ret = 0;
	if (!r.total) {
		ret = report("check", "%s has no samples in %s's code: is it a profile of this "
				      "program?", name, binary ? binary : "the sources");
	} else if (min_match >= 0 && pct(r.in_range, r.total) < min_match) {
		ret = report("check", "%.1f%% of the samples match, under --min-match %g%%: "
				      "record a fresh profile", pct(r.in_range, r.total), min_match);
	}
cleanup:
	cpgo_check_release(&r);
	compiled_release(&objs);
	cpgo_strvec_release(&cc);
	if (have_p)
		cpgo_profile_release(&p);
	return ret;
}
