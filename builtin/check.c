/*
 * cpgo check: how much of a profile still matches the code of a binary,
 * per function and in total, so a stale default.pgo is noticed (in CI with
 * --min-match) before it quietly stops optimizing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"
#include "elf/check.h"
#include "pprof/source.h"
#include "pprof/report.h"

static const char usage[] =
	"usage: cpgo check [--min-match P] [-n N] [--sample-type TYPE] --binary BIN PROFILE\n"
	"\n"
	"Says how much of PROFILE still matches BIN's code the way PGO matches\n"
	"it: samples whose function BIN still has (by name and source file),\n"
	"whose line offset from the function's start line lands on a line with\n"
	"code in it, and whose function's start line moved (harmless as long as\n"
	"the offsets still land). Then per function, the hot functions gone from\n"
	"BIN, and BIN's functions the profile has no samples for. BIN needs DWARF\n"
	"(-g). Samples in other binaries (libc) are counted apart.\n"
	"\n"
	"Options:\n"
	"  --binary BIN        the binary built from the current code\n"
	"  --min-match P       exit 1 when under P%% of the samples match (0-100)\n"
	"  -n N                functions to list (default 20; 0 = all)\n"
	"  --sample-type TYPE  the sample type to weigh by (default: the one PGO uses)\n";

static double pct(int64_t v, int64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void print_report(const struct cpgo_check_report *r, size_t limit)
{
	size_t n, shown = 0;

	printf("Matched: %.1f%% of the program's samples (function found %.1f%%, line offsets "
	       "inside it %.1f%%; start line moved for %.1f%%)\n",
	       pct(r->in_range, r->total), pct(r->found, r->total), pct(r->in_range, r->total),
	       pct(r->moved, r->total));
	if (r->other)
		printf("Other binaries: %.1f%% of all samples, not checked\n",
		       pct(r->other, r->total + r->other));
	n = limit && limit < r->n_fn ? limit : r->n_fn;
	printf("\n%7s %7s %7s  %-16s %s\n", "flat%", "cum%", "lines%", "start line", "function");
	for (size_t i = 0; i < r->n_fn && shown < n; i++) {
		const struct cpgo_check_fn *f = &r->fns[i];
		char start[48];
		if (!f->flat && !f->cum)
			continue;
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
		printf("  %-16s %s  %s\n", start, f->name, f->file);
	}
	shown = 0;
	for (size_t i = 0; i < r->n_fn; i++) {
		const struct cpgo_check_fn *f = &r->fns[i];
		if (f->found || (double)f->cum < CPGO_CHECK_HOT_SHARE * (double)r->total)
			continue;
		if (!shown++)
			printf("\nHot functions gone from the binary (rename them with 'cpgo rename' "
			       "if they were renamed):\n");
		printf("  %s  %s (%.1f%% cum)\n", f->name, f->file, pct(f->cum, r->total));
	}
	printf("\nNew functions: %zu of the binary's %zu have no samples", r->n_new, r->n_bin_fn);
	n = limit && limit < r->n_new ? limit : r->n_new;
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : ": ", r->new_fns[i].name);
	printf("%s\n", n < r->n_new ? ", ..." : "");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "binary", required_argument, NULL, 'b' },
		{ "min-match", required_argument, NULL, 'm' },
		{ "nodecount", required_argument, NULL, 'n' },
		{ "sample-type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_profile p = { 0 };
	struct cpgo_check_report r = { 0 };
	const char *binary = NULL, *want = NULL, *path, *name;
	double min_match = -1;
	long limit = 20;
	int c, vi, ret = 1, have_p = 0;
	char *end;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return usage_help(usage);
		case 'b':
			binary = optarg;
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
	if (argc - optind != 1)
		return usage_error("check", argc == optind ? "no profile given" :
					    "one profile at a time (merge them first with 'cpgo merge')");
	if (!binary)
		return usage_error("check", "no binary given: --binary BIN (built with -g from "
					    "the current code)");
	path = argv[optind];
	name = strcmp(path, "-") ? path : "<stdin>";
	if (cpgo_source_read(&p, path, NULL) < 0) {
		ret = die_lib("check");
		goto cleanup;
	}
	have_p = 1;
	vi = want ? cpgo_report_value_index(&p, want, name) : cpgo_profile_cpu_index(&p, name);
	if (vi < 0 || cpgo_check_binary(&p, vi, binary, NULL, &r) < 0) {
		ret = die_lib("check");
		goto cleanup;
	}
	printf("Profile: %s (%s/%s)\nBinary: %s\n", name,
	       cpgo_profile_str(&p, p.sample_type[vi].type),
	       cpgo_profile_str(&p, p.sample_type[vi].unit), binary);
	print_report(&r, (size_t)limit);
	if (fflush(stdout) != 0) {
		ret = report("check", "cannot write to standard output");
		goto cleanup;
	}
	ret = 0;
	if (!r.total) {
		ret = report("check", "%s has no samples in %s's code: is it a profile of this "
				      "program?", name, binary);
	} else if (min_match >= 0 && pct(r.in_range, r.total) < min_match) {
		ret = report("check", "%.1f%% of the samples match, under --min-match %g%%: "
				      "record a fresh profile", pct(r.in_range, r.total), min_match);
	}
cleanup:
	cpgo_check_release(&r);
	if (have_p)
		cpgo_profile_release(&p);
	return ret;
}
