/*
 * cpgo convert: a pprof profile -> the compiler's own profile format.
 * Only LLVM's sample profile for now (what clang -fprofile-sample-use reads).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "util/error.h"
#include "llvm/llvmprof.h"

static const char convert_usage[] =
	"usage: cpgo convert [--to=llvm] [--text] [--binary BIN | --no-binary] [--zero-lines]\n"
	"                    [--sample-type TYPE]\n"
	"                    [--source-file FILE] [--stats] [-o OUT] PROFILE\n"
	"\n"
	"Turns a pprof CPU profile into an LLVM sample profile for\n"
	"clang -fprofile-sample-use=OUT (ext-binary unless --text).\n"
	"\n"
	"  --to=llvm            target format (gcc is not supported yet)\n"
	"  --text               LLVM's text sample format, for reading\n"
	"  --binary BIN         the profiled binary: discriminators, a symbol list of\n"
	"                       unsampled functions (cold to clang), start lines the\n"
	"                       profile lacks\n"
	"  --zero-lines         with the binary: explicit zero counts for the unsampled\n"
	"                       lines of sampled functions (llvm-profgen's way; off by\n"
	"                       default, see bench/README.md)\n"
	"  --sample-type TYPE   sample type to use (e.g. samples, cpu; default: the\n"
	"                       profile's default, else samples/count, else cpu)\n"
	"  --source-file FILE   the profile for compiling FILE only: same-named static\n"
	"                       functions of other files are left out\n"
	"  --no-binary          do not look for the profiled binary (by default the\n"
	"                       profile's main mapping file is used when it exists\n"
	"                       and its build id matches)\n"
	"  --stats              print what was converted to stderr\n"
	"  -o OUT               output file (default: stdout)\n";

int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 'T' },
		{ "text", no_argument, NULL, 't' },
		{ "binary", required_argument, NULL, 'b' },
		{ "no-binary", no_argument, NULL, 'B' },
		{ "zero-lines", no_argument, NULL, 'z' },
		{ "sample-type", required_argument, NULL, 's' },
		{ "source-file", required_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "convert", *to = "llvm", *out = "-", *in = NULL;
	struct llvmprof_stats st;
	struct llvmprof_opts o;
	int stats = 0, no_binary = 0, c;

	memset(&o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o.text = 1;
			break;
		case 'S':
			stats = 1;
			break;
		case 'B':
			no_binary = 1;
			break;
		case 'z':
			o.zero_lines = 1;
			break;
		case 'T':
			to = optarg;
			break;
		case 'b':
			o.binary = optarg;
			break;
		case 's':
			o.sample_type = optarg;
			break;
		case 'f':
			o.source_file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			return usage_help(convert_usage);
		default:
			return usage_option_error(cmd, c, argv, longopts);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (in)
			return usage_error(cmd, "one profile at a time (got '%s' and '%s')", in,
					   argv[i]);
		in = argv[i];
	}
	if (!in)
		return usage_error(cmd, "which profile? (e.g. cpgo convert -o app.prof default.pgo)");
	if (!strcmp(to, "gcc"))
		return report(cmd, "--to=gcc is not supported yet: cpgo writes LLVM sample profiles "
				   "only; build with clang (--to=llvm)");
	if (strcmp(to, "llvm"))
		return usage_error(cmd, "unknown target format '%s' (supported: llvm)", to);
	if (!o.text && !strcmp(out, "-") && isatty(STDOUT_FILENO))
		return usage_error(cmd, "the ext-binary profile is not for a terminal: "
					"pass -o FILE, or --text to read it");
	if (stats)
		o.stats = &st;
	o.find_binary = !no_binary && !o.binary;
	if (llvmprof_convert_file(in, out, &o) < 0)
		return die_lib(cmd);
	if (stats)
		fprintf(stderr,
			"functions: %zu\ninline instances: %zu\ncall targets: %zu\n"
			"samples used: %" PRIu64 "\nsamples dropped: %" PRIu64 "\n"
			"start lines repaired: %zu\nfunctions without start line left out: %zu\n"
			"profiled binary found by build id: %s\n"
			"locations resolved in binary: %zu\n"
			"zero-count lines: %zu\nsymbol list: %zu\n"
			"other files' functions left out: %zu\nambiguous names left out: %zu\n",
			st.functions, st.inline_instances, st.call_targets, st.samples_used,
			st.samples_dropped, st.start_lines_repaired, st.start_lines_missing,
			st.binary_found ? "yes" : "no", st.locations_with_binary,
			st.zero_lines, st.symbol_list, st.other_tu_dropped, st.ambiguous_dropped);
	return 0;
}
