/*
 * cpgo validate: can this profile drive PGO? The checks are the Go PGO
 * guide's requirements for profiles from other sources, plus how many
 * samples there are (sampled PGO needs many).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"
#include "pprof/source.h"
#include "pprof/report.h"

static const char usage[] =
	"usage: cpgo validate [-q] PROFILE\n"
	"\n"
	"Checks that a pprof profile can drive PGO, by the requirements Go's PGO\n"
	"guide sets for profiles from other sources:\n"
	"  - a samples/count or cpu/nanoseconds sample type;\n"
	"  - samples that are CPU time (period type cpu);\n"
	"  - symbolized: function names for (nearly) all samples;\n"
	"  - Function.start_line set (PGO matches lines as offsets from it);\n"
	"  - inlined frames kept;\n"
	"and warns below 10000 samples, where PGO gains will be limited.\n"
	"Prints the profile's facts (samples, CPU time, duration, rate) and one\n"
	"line per check with how to fix it.\n"
	"\n"
	"PROFILE is a pprof file, '-' for standard input, or an http(s) URL.\n"
	"\n"
	"Options:\n"
	"  -q, --quiet   print only problems\n"
	"\n"
	"Exit status: 0 usable (maybe with warnings), 1 not usable or unreadable.\n";

static const char *const level_tag[] = { "ok  ", "warn", "FAIL" };

int cmd_validate(int argc, char **argv)
{
	const char *path = NULL, *name;
	struct cpgo_profile p;
	struct cpgo_report_validate v = { 0 };
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int quiet = 0, ret = 1, n_fail = 0, n_warn = 0, c;
	char a[32], b[32];

	optind = 0;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return usage_help(usage);
		default:
			return usage_option_error("validate", c, argv, longopts);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (path)
			return usage_error("validate", "more than one profile given (%s and %s)",
					   path, argv[i]);
		path = argv[i];
	}
	if (!path)
		return usage_error("validate", "no profile given");
	name = strcmp(path, "-") ? path : "<stdin>";
	if (cpgo_source_read(&p, path, NULL) < 0)
		return die_lib("validate");
	if (cpgo_report_validate(&p, &v) < 0) {
		ret = die_lib("validate");
		goto cleanup;
	}

	if (!quiet) {
		printf("%s:\n", name);
		printf("  samples:   %lld in %zu stacks\n", (long long)v.n_samples, v.n_stack);
		if (v.cpu_nanos > 0) {
			cpgo_report_format_value(a, sizeof(a), v.cpu_nanos, "nanoseconds", NULL);
			printf("  CPU time:  %s\n", a);
		}
		if (v.duration_nanos > 0) {
			cpgo_report_format_value(a, sizeof(a), v.duration_nanos, "nanoseconds", NULL);
			printf("  duration:  %s\n", a);
		} else {
			printf("  duration:  unknown (duration_nanos not set)\n");
		}
		if (v.rate_hz > 0) {
			printf("  rate:      %.0f samples/s effective", v.rate_hz);
			if (v.period > 0 && !strcmp(cpgo_profile_str(&p, p.period_type.unit),
						    "nanoseconds")) {
				cpgo_report_format_value(b, sizeof(b), v.period, "nanoseconds", NULL);
				printf(" (period %s = %.0f Hz)", b, 1e9 / (double)v.period);
			}
			putchar('\n');
		}
	}
	for (size_t i = 0; i < v.n_check; i++) {
		const struct cpgo_check *c = &v.checks[i];
		n_fail += c->level == CPGO_CHECK_FAIL;
		n_warn += c->level == CPGO_CHECK_WARN;
		if (quiet && c->level == CPGO_CHECK_OK)
			continue;
		printf("%s  %s\n", level_tag[c->level], c->what);
		if (c->fix)
			printf("      fix: %s\n", c->fix);
	}
	if (n_fail)
		printf("%s: NOT usable for PGO (%d problem%s)\n", name, n_fail, n_fail == 1 ? "" : "s");
	else if (n_warn)
		printf("%s: usable for PGO, with %d warning%s\n", name, n_warn, n_warn == 1 ? "" : "s");
	else if (!quiet)
		printf("%s: usable for PGO\n", name);
	if (fflush(stdout) != 0) {
		ret = report("validate", "cannot write to standard output");
		goto cleanup;
	}
	ret = n_fail ? 1 : 0;
cleanup:
	cpgo_report_validate_release(&v);
	cpgo_profile_release(&p);
	return ret;
}
