/*
 * cpgo merge: sum pprof profiles into one (`go tool pprof -proto a b`,
 * plus weights and duration normalization). Inputs are read and merged
 * one at a time so memory stays at the output plus one input.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "util/error.h"
#include "pprof/merge.h"
#include "pprof/source.h"

static const char usage[] =
	"usage: cpgo merge [-o OUT] [--normalize] [[-w WEIGHT] INPUT]...\n"
	"\n"
	"Merges pprof profiles into one: identical stacks (same locations and\n"
	"labels) are summed; functions, locations and mappings are deduplicated.\n"
	"Profiles of different builds or machines still merge by symbol\n"
	"(function, file, line). All inputs must have the same sample types.\n"
	"\n"
	"An INPUT is a file, '-' for standard input, or an http(s) URL such as\n"
	"http://host:port/debug/pprof/profile?seconds=30.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   write the merged profile to FILE (gzipped pprof,\n"
	"                      written atomically); '-' is standard output.\n"
	"                      Default: standard output, refused if it is a terminal\n"
	"  -w, --weight W      multiply the values of the NEXT input by W (a number\n"
	"                      above 0, e.g. 2 or 0.25); other inputs keep weight 1.\n"
	"                      A weight of 2 counts the input as if given twice\n"
	"                      (its duration too). Values are rounded to integers\n"
	"                      with the rounding error carried, so totals stay exact\n"
	"  --normalize         scale every input to the same wall time (the mean\n"
	"                      duration_nanos), so a 10 s and a 60 s profile count\n"
	"                      the same; each input must record its duration\n"
	"  -q, --quiet         do not print the summary line on standard error\n"
	"\n"
	"The result: time = earliest start, duration = sum of (weighted)\n"
	"durations, period = the largest, comments = union.\n"
	"\n"
	"Examples:\n"
	"  cpgo merge -o default.pgo prod-a.pprof prod-b.pprof\n"
	"  cpgo merge --normalize -o default.pgo -w 3 web.pprof batch.pprof\n";

/* glibc's default mmap threshold, fixed (see cmd_merge). */
#define MERGE_MMAP_THRESHOLD (128 * 1024)

int cmd_merge(int argc, char **argv)
{
	const char *outpath = NULL;
	struct cpgo_merge_opts opts = { 0 };
	struct cpgo_profile out = { 0 };
	struct cpgo_merge *m = NULL;
	const char **inputs = NULL;
	double *weights = NULL, next_weight = 1.0;
	const char *weight_arg = NULL;
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "weight", required_argument, NULL, 'w' },
		{ "normalize", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int n_input = 0, quiet = 0, only_inputs = 0, ret = 1, r, c;
	uint64_t total = 0;

	/*
	 * The profile pools grow by realloc while inputs are read and merged.
	 * glibc raises its mmap threshold whenever a large block is freed (up
	 * to 32 MiB), and pools below it then live in the heap, where growing
	 * one copies it and freed space stays resident. Its fixed default keeps
	 * them mmap'd (realloc moves pages, no copy): 34 MB less peak memory
	 * merging two 200k-stack profiles.
	 */
	mallopt(M_MMAP_THRESHOLD, MERGE_MMAP_THRESHOLD);
	inputs = calloc((size_t)argc, sizeof(*inputs));
	weights = calloc((size_t)argc, sizeof(*weights));
	if (!inputs || !weights) {
		ret = report("merge", "out of memory");
		goto cleanup;
	}
	/* '-': inputs come back in place (as 1), since -w weights the next one. */
	optind = 0;
	for (;;) {
		c = only_inputs ? -1 : getopt_long(argc, argv, "-:o:w:qh", longopts, NULL);
		/* After "--" the rest are inputs. */
		only_inputs = c == -1;
		if (c == -1 && optind >= argc)
			break;
		if (c == -1) {
			c = 1;
			optarg = argv[optind++];
		}
		switch (c) {
		case 1:
			inputs[n_input] = optarg;
			weights[n_input++] = next_weight;
			next_weight = 1.0;
			weight_arg = NULL;
			break;
		case 'N':
			opts.normalize = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'w':
			if (weight_arg) {
				ret = usage_error("merge", "two weights (%s and %s) for one input; "
						  "-w applies to the next input only",
						  weight_arg, optarg);
				goto cleanup;
			}
			if (cpgo_merge_parse_weight(optarg, &next_weight, "-w") < 0) {
				ret = usage_error("merge", "%s", cpgo_last_error());
				goto cleanup;
			}
			weight_arg = optarg;
			break;
		case 'h':
			ret = usage_help(usage);
			goto cleanup;
		default:
			ret = usage_option_error("merge", c, argv, longopts);
			goto cleanup;
		}
	}
	if (weight_arg) {
		ret = usage_error("merge", "-w %s is not followed by an input; it weights the "
				  "next input", weight_arg);
		goto cleanup;
	}
	if (!n_input) {
		ret = usage_error("merge", "no input profiles given");
		goto cleanup;
	}
	if (!outpath) {
		if (isatty(1)) {
			ret = usage_error("merge", "refusing to write a binary profile to the "
					  "terminal; give -o FILE or redirect standard output");
			goto cleanup;
		}
		outpath = "-";
	}

	if (cpgo_profile_init(&out) < 0 || cpgo_merge_begin(&m, &out, &opts) < 0) {
		ret = die_lib("merge");
		goto cleanup;
	}
	for (int i = 0; i < n_input; i++) {
		struct cpgo_profile in;
		if (cpgo_source_read(&in, inputs[i], NULL) < 0) {
			ret = die_lib("merge");
			goto cleanup;
		}
		r = cpgo_merge_add(m, &in, strcmp(inputs[i], "-") ? inputs[i] : "<stdin>",
				   weights[i]);
		cpgo_profile_release(&in);
		if (r < 0) {
			ret = die_lib("merge");
			goto cleanup;
		}
	}
	if (cpgo_merge_finish(m) < 0 || cpgo_profile_write_parallel(&out, outpath) < 0) {
		ret = die_lib("merge");
		goto cleanup;
	}
	if (!quiet) {
		int idx = out.n_sample_type ? (int)out.n_sample_type - 1 : -1;
		for (size_t i = 0; idx >= 0 && i < out.n_sample; i++)
			total += (uint64_t)cpgo_sample_values(&out, i)[idx];
		fprintf(stderr, "cpgo merge: %d profile%s -> %s: %zu stacks, %zu locations, "
			"%zu functions",
			n_input, n_input == 1 ? "" : "s", strcmp(outpath, "-") ? outpath : "<stdout>",
			out.n_sample, out.n_location, out.n_function);
		if (idx >= 0)
			fprintf(stderr, ", %llu %s", (unsigned long long)total,
				cpgo_profile_str(&out, out.sample_type[idx].unit));
		fputc('\n', stderr);
	}
	ret = 0;
cleanup:
	cpgo_merge_free(m);
	if (out.priv)
		cpgo_profile_release(&out);
	free(inputs);
	free(weights);
	return ret;
}
