/*
 * cpgo layout: the call graph a profile implies, and the function order
 * (C3) a linker should use, for lld's --call-graph-ordering-file or
 * --symbol-ordering-file. `cpgo cc` does this by itself at link time.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "link/layout.h"
#include "pprof/profile.h"
#include "util/buf.h"
#include "util/error.h"

static const char usage[] =
	"usage: cpgo layout [--binary BIN] [--order] [-o FILE] PROFILE\n"
	"\n"
	"Prints the profile's call graph as \"caller callee weight\" lines, heaviest\n"
	"first: each sample's function and its caller are one call edge. That is\n"
	"lld's --call-graph-ordering-file; with --order, the function order instead\n"
	"(hfsort's C3 clustering), one symbol a line: lld's --symbol-ordering-file.\n"
	"Only the profile's main binary is placed (not libc or other objects).\n"
	"\n"
	"Options:\n"
	"  --binary BIN  the profiled binary, or an object or archive to be linked:\n"
	"                names become its symbols (statics of several files,\n"
	"                .__uniq./.llvm. renamings and clones found; .cold parts\n"
	"                left out, their samples their function's) and C3 uses\n"
	"                its function sizes. Functions it lacks are reported and\n"
	"                left out; their samples and calls go to their caller.\n"
	"  --order       print the C3 order instead of the edges\n"
	"  -o FILE       write to FILE (atomically) instead of standard output\n";

/* The heaviest missing functions by name, a few: what to look for in the build. */
static void print_unknown(const struct cpgo_layout *l)
{
	enum { SHOWN = 5 };
	size_t top[SHOWN], n = 0;

	for (size_t i = 0; i < l->n_node; i++) {
		size_t k;
		if (l->nodes[i].found)
			continue;
		for (k = n; k > 0 && l->nodes[top[k - 1]].self < l->nodes[i].self; k--)
			if (k < SHOWN)
				top[k] = top[k - 1];
		if (k < SHOWN) {
			top[k] = i;
			if (n < SHOWN)
				n++;
		}
	}
	for (size_t k = 0; k < n; k++)
		fprintf(stderr, "%s%s", k ? ", " : "", l->nodes[top[k]].symbol);
	if (l->n_unknown > n)
		fprintf(stderr, " and %zu more", l->n_unknown - n);
}

int cmd_layout(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "binary", required_argument, NULL, 'b' },
		{ "order", no_argument, NULL, 'O' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_layout_opts opts = { NULL, NULL };
	const char *out = "-";
	struct cpgo_profile p;
	struct cpgo_layout l;
	struct cpgo_buf b = CPGO_BUF_INIT;
	int order = 0, c, ret = 1;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': opts.binary = optarg; break;
		case 'O': order = 1; break;
		case 'o': out = optarg; break;
		case 'h': return usage_help(usage);
		default: return usage_option_error("layout", c, argv, longopts);
		}
	}
	if (optind != argc - 1)
		return usage_error("layout", optind == argc ? "no profile given" :
					     "one profile at a time (merge them first with 'cpgo merge')");
	opts.name = argv[optind];
	if (cpgo_profile_read(&p, opts.name, NULL) < 0)
		return die_lib("layout");
	cpgo_layout_init(&l);
	if (cpgo_layout_build(&l, &p, &opts) < 0 || (order && cpgo_layout_c3(&l) < 0) ||
	    (order ? cpgo_layout_write_order(&l, &b) : cpgo_layout_write_edges(&l, &b)) < 0 ||
	    cpgo_write_file_atomic(out, b.buf ? b.buf : "", b.len) < 0) {
		ret = die_lib("layout");
		goto cleanup;
	}
	if (l.n_unknown) {
		fprintf(stderr, "cpgo layout: %zu function(s) with %.1f%% of the samples are not in %s (",
			l.n_unknown, l.samples ? 100.0 * (double)l.samples_unknown / (double)l.samples : 0.0,
			opts.binary);
		print_unknown(&l);
		fputs("); left out (inlined, or rebuilt since the profile was taken?)\n", stderr);
	}
	if (l.samples_other_mapping)
		fprintf(stderr, "cpgo layout: %.1f%% of the samples are in other objects "
			"(shared libraries, the kernel): not placed\n",
			100.0 * (double)l.samples_other_mapping / (double)l.samples);
	ret = 0;
cleanup:
	cpgo_buf_release(&b);
	cpgo_layout_release(&l);
	cpgo_profile_release(&p);
	return ret;
}
