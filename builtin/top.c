/*
 * cpgo top: the functions that use the most CPU, in `pprof -top`'s columns,
 * each with the file:start_line that PGO matches it by.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"
#include "pprof/source.h"
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

int cmd_top(int argc, char **argv)
{
	const char *path = NULL, *want = NULL, *name;
	struct cpgo_profile p = { 0 };
	struct cpgo_report_top t = { 0 };
	long limit = 20;
	static const struct option longopts[] = {
		{ "nodecount", required_argument, NULL, 'n' },
		{ "cum", no_argument, NULL, 'c' },
		{ "flat", no_argument, NULL, 'f' },
		{ "sample-type", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int by_cum = 0, vi, ret = 1, have_p = 0, opt;
	int64_t shown = 0, sum = 0;
	size_t n_show;
	const char *unit, *to;
	char a[32], b[32], c[32], d[32], e[32];

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_count_arg(optarg, &limit) < 0)
				return usage_error("top", "-n needs a count (0 = all), got '%s'", optarg);
			break;
		case 'c':
			by_cum = 1;
			break;
		case 'f':
			by_cum = 0;
			break;
		case 's':
			want = optarg;
			if (!*want)
				return usage_error("top", "--sample-type needs a type such as cpu");
			break;
		case 'h':
			return usage_help(usage);
		case ':':
			if (optopt == 'n')
				return usage_error("top", "-n needs a count (0 = all), got 'nothing'");
			if (optopt == 's')
				return usage_error("top", "--sample-type needs a type such as cpu");
			/* fallthrough */
		default:
			return usage_option_error("top", opt, argv, longopts);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (path)
			return usage_error("top", "more than one profile given (%s and %s); "
					   "merge them first with 'cpgo merge'", path, argv[i]);
		path = argv[i];
	}
	if (!path)
		return usage_error("top", "no profile given");
	name = strcmp(path, "-") ? path : "<stdin>";

	if (cpgo_source_read(&p, path, NULL) < 0) {
		ret = die_lib("top");
		goto cleanup;
	}
	have_p = 1;
	if ((vi = cpgo_report_value_index(&p, want, name)) < 0) {
		ret = die_lib("top");
		goto cleanup;
	}
	if (cpgo_report_top(&p, vi, by_cum, &t) < 0) {
		error_prefix("%s", name);
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
