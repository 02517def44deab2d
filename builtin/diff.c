/*
 * cpgo diff: what changed between two profiles, per function, in shares of
 * each profile's total (so a 10 s and a 60 s profile compare), like
 * `pprof -top -diff_base A B` but with the file:start_line PGO matches by.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"
#include "pprof/diff.h"
#include "pprof/source.h"
#include "pprof/report.h"

static const char usage[] =
	"usage: cpgo diff [-n N] [--sample-type TYPE] OLD NEW\n"
	"\n"
	"Shows per function how its share of the profile changed from OLD to NEW:\n"
	"flat (in the function itself) and cum (with its callees), each as a share\n"
	"of its own profile's total, sorted by the largest change of flat share.\n"
	"Functions are matched by name and file; a start line that moved is shown\n"
	"as OLD->NEW, and functions only in one profile say 'new' or 'gone'.\n"
	"\n"
	"OLD and NEW are pprof files, '-' for standard input (one of them), or URLs.\n"
	"\n"
	"Options:\n"
	"  -n N                show the N largest changes (default 20; 0 = all)\n"
	"  --sample-type TYPE  compare TYPE ('cpu' or 'cpu/nanoseconds'); default:\n"
	"                      OLD's default type, else its last one\n";

static void pct(char *out, size_t size, double share)
{
	snprintf(out, size, "%.2f%%", share * 100.0);
}

static void delta(char *out, size_t size, double d)
{
	/* Rounds to what is shown, so a tiny change never prints as "-0.00". */
	double shown = round(d * 10000.0) / 100.0;
	snprintf(out, size, "%+.2f%%", shown == 0 ? 0.0 : shown);
}

static void where(const struct cpgo_diff_row *r)
{
	if (!*r->filename)
		return;
	printf("  %s:", r->filename);
	if (r->in_a && r->in_b && r->start_a && r->start_b && r->start_a != r->start_b)
		printf("%lld->%lld", (long long)r->start_a, (long long)r->start_b);
	else if (r->start_b || r->start_a)
		printf("%lld", (long long)(r->start_b ? r->start_b : r->start_a));
	else
		putchar('?');
}

static int read_one(struct cpgo_profile *p, const char *path, const char *want, int *vi)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	if (cpgo_source_read(p, path, NULL) < 0)
		return -1;
	if ((*vi = cpgo_report_value_index(p, want, name)) < 0) {
		cpgo_profile_release(p);
		return -1;
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "nodecount", required_argument, NULL, 'n' },
		{ "sample-type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_profile a = { 0 }, b = { 0 };
	struct cpgo_diff d = { 0 };
	const char *want = NULL, *unit;
	char type_b[256], fa[16], fb[16], df[16], ca[16], cb[16], dc[16], ta[32], tb[32];
	int have_a = 0, have_b = 0, vi_a, vi_b, c, ret = 1;
	long limit = 20;
	size_t n_show;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return usage_help(usage);
		case 'n':
			if (parse_count_arg(optarg, &limit) < 0)
				return usage_error("diff", "-n needs a count (0 = all), got '%s'",
						   optarg);
			break;
		case 't':
			if (!*optarg)
				return usage_error("diff", "--sample-type needs a type such as cpu");
			want = optarg;
			break;
		default:
			return usage_option_error("diff", c, argv, opts);
		}
	}
	if (argc - optind != 2)
		return usage_error("diff", "needs two profiles, OLD and NEW (got %d)",
				   argc - optind);
	if (!strcmp(argv[optind], "-") && !strcmp(argv[optind + 1], "-"))
		return usage_error("diff", "only one of OLD and NEW can be standard input");

	if (read_one(&a, argv[optind], want, &vi_a) < 0) {
		ret = die_lib("diff");
		goto cleanup;
	}
	have_a = 1;
	/* NEW is compared on the type chosen for OLD, whatever NEW's default is. */
	snprintf(type_b, sizeof(type_b), "%s/%s", cpgo_profile_str(&a, a.sample_type[vi_a].type),
		 cpgo_profile_str(&a, a.sample_type[vi_a].unit));
	if (read_one(&b, argv[optind + 1], type_b, &vi_b) < 0) {
		ret = die_lib("diff");
		goto cleanup;
	}
	have_b = 1;
	if (cpgo_diff_compute(&a, vi_a, &b, vi_b, &d) < 0) {
		ret = die_lib("diff");
		goto cleanup;
	}
	unit = cpgo_profile_str(&a, a.sample_type[vi_a].unit);
	cpgo_report_format_value(ta, sizeof(ta), d.total_a, unit, NULL);
	cpgo_report_format_value(tb, sizeof(tb), d.total_b, unit, NULL);
	printf("Type: %s\n", type_b);
	printf("Old: %s, Total = %s\n", argv[optind], ta);
	printf("New: %s, Total = %s\n", argv[optind + 1], tb);
	n_show = limit == 0 || (size_t)limit > d.n_row ? d.n_row : (size_t)limit;
	printf("Showing %zu of %zu functions, largest change of flat share first\n", n_show,
	       d.n_row);
	printf("%8s %8s %8s %8s %8s %8s\n", "old flat", "new flat", "change", "old cum",
	       "new cum", "change");
	for (size_t i = 0; i < n_show; i++) {
		const struct cpgo_diff_row *r = &d.rows[i];
		pct(fa, sizeof(fa), r->flat_a);
		pct(fb, sizeof(fb), r->flat_b);
		delta(df, sizeof(df), r->flat_b - r->flat_a);
		pct(ca, sizeof(ca), r->cum_a);
		pct(cb, sizeof(cb), r->cum_b);
		delta(dc, sizeof(dc), r->cum_b - r->cum_a);
		printf("%8s %8s %8s %8s %8s %8s  %s%s", r->in_a ? fa : "-", r->in_b ? fb : "-", df,
		       r->in_a ? ca : "-", r->in_b ? cb : "-", dc, r->name,
		       !r->in_a ? " (new)" : !r->in_b ? " (gone)" : "");
		where(r);
		putchar('\n');
	}
	if (fflush(stdout) != 0) {
		ret = report("diff", "cannot write to standard output");
		goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_diff_release(&d);
	if (have_a)
		cpgo_profile_release(&a);
	if (have_b)
		cpgo_profile_release(&b);
	return ret;
}
