/*
 * cpgo top: the functions that use the most CPU, in `pprof -top`'s columns,
 * each with the file:start_line that PGO matches it by.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"
#include "pprof/merge.h"
#include "pprof/report.h"

static const char usage[] =
	"usage: cpgo top [-n N] [--cum] [--sample-type TYPE] PROFILE\n"
	"\n"
	"Shows the functions that use the most CPU, like 'go tool pprof -top':\n"
	"flat (in the function itself), flat%, sum% (running total of flat%),\n"
	"cum (in it and its callees) and cum%. Inlined functions are functions\n"
	"of their own; recursion counts once per sample. Each function is shown\n"
	"with file:start_line, the line PGO measures offsets from (':?' when the\n"
	"profile lacks it).\n"
	"\n"
	"PROFILE is a pprof file, '-' for standard input, or an http(s) URL.\n"
	"\n"
	"Options:\n"
	"  -n N                show the top N functions (default 20; 0 = all)\n"
	"  --cum               sort by cumulative instead of flat value\n"
	"  --sample-type TYPE  report TYPE ('cpu' or 'cpu/nanoseconds'); default:\n"
	"                      the profile's default type, else its last one\n";

static int parse_count(const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < 0 || v > 100000000)
		return -1;
	*out = v;
	return 0;
}

int cmd_top(int argc, char **argv)
{
	const char *path = NULL, *want = NULL, *name;
	struct cpgo_profile p = { 0 };
	struct cpgo_report_top t = { 0 };
	long limit = 20;
	int by_cum = 0, vi, ret = 1, have_p = 0, only_files = 0;
	int64_t shown = 0, sum = 0;
	size_t n_show;
	const char *unit, *to;
	char a[32], b[32], c[32], d[32], e[32];

	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (only_files || arg[0] != '-' || !strcmp(arg, "-")) {
			if (path)
				return usage_error("top", "more than one profile given (%s and %s); "
						   "merge them first with 'cpgo merge'", path, arg);
			path = arg;
		} else if (!strcmp(arg, "--")) {
			only_files = 1;
		} else if (!strcmp(arg, "--cum")) {
			by_cum = 1;
		} else if (!strcmp(arg, "--flat")) {
			by_cum = 0;
		} else if (!strcmp(arg, "-n") || !strncmp(arg, "--nodecount=", 12) ||
			   (arg[1] == 'n' && arg[2])) {
			const char *v = arg[1] == 'n' && arg[2] ? arg + 2 :
					arg[1] == '-' ? arg + 12 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || parse_count(v, &limit) < 0)
				return usage_error("top", "-n needs a count (0 = all), got '%s'",
						   v ? v : "nothing");
		} else if (!strcmp(arg, "--sample-type") || !strncmp(arg, "--sample-type=", 14)) {
			want = arg[13] == '=' ? arg + 14 : (i + 1 < argc ? argv[++i] : NULL);
			if (!want || !*want)
				return usage_error("top", "--sample-type needs a type such as cpu");
		} else {
			return usage_error("top", "unknown option '%s'", arg);
		}
	}
	if (!path)
		return usage_error("top", "no profile given");
	name = strcmp(path, "-") ? path : "<stdin>";

	if (cpgo_merge_read_input(&p, path, NULL) < 0) {
		ret = die_lib("top");
		goto cleanup;
	}
	have_p = 1;
	if ((vi = cpgo_report_value_index(&p, want, name)) < 0 ||
	    cpgo_report_top(&p, vi, by_cum, &t) < 0) {
		ret = die_lib("top");
		goto cleanup;
	}
	unit = cpgo_profile_str(&p, p.sample_type[vi].unit);
	n_show = limit == 0 || (size_t)limit > t.n_row ? t.n_row : (size_t)limit;
	for (size_t i = 0; i < n_show; i++)
		shown += t.rows[i].flat;
	to = cpgo_report_unit(&t, n_show, unit);

	printf("Profile: %s\n", name);
	printf("Type: %s/%s\n", cpgo_profile_str(&p, p.sample_type[vi].type), unit);
	cpgo_report_format_value(a, sizeof(a), t.total, unit, to);
	if (p.duration_nanos > 0) {
		cpgo_report_format_value(b, sizeof(b), p.duration_nanos, "nanoseconds", NULL);
		printf("Duration: %s, Total = %s\n", b, a);
	} else {
		printf("Total = %s\n", a);
	}
	cpgo_report_format_value(b, sizeof(b), shown, unit, to);
	cpgo_report_format_percent(c, sizeof(c), shown, t.total);
	printf("Showing %zu of %zu functions, accounting for %s, %s of %s total\n", n_show,
	       t.n_row, b, c + strspn(c, " "), a);
	printf("%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	for (size_t i = 0; i < n_show; i++) {
		const struct cpgo_report_row *r = &t.rows[i];
		sum += r->flat;
		cpgo_report_format_value(a, sizeof(a), r->flat, unit, to);
		cpgo_report_format_percent(b, sizeof(b), r->flat, t.total);
		cpgo_report_format_percent(c, sizeof(c), sum, t.total);
		cpgo_report_format_value(d, sizeof(d), r->cum, unit, to);
		cpgo_report_format_percent(e, sizeof(e), r->cum, t.total);
		printf("%10s %s %s %10s %s  %s%s", a, b, c, d, e, r->name,
		       r->inlined ? (r->called ? " (partial-inline)" : " (inline)") : "");
		if (*r->filename) {
			if (r->start_line > 0)
				printf("  %s:%lld", r->filename, (long long)r->start_line);
			else
				printf("  %s:?", r->filename);
		}
		putchar('\n');
	}
	if (fflush(stdout) != 0) {
		ret = report("top", "cannot write to standard output");
		goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_report_top_release(&t);
	if (have_p)
		cpgo_profile_release(&p);
	return ret;
}
