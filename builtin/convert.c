/*
 * cpgo convert: a pprof profile -> the compiler's own profile format:
 * LLVM's sample profile (clang -fprofile-sample-use) or gcc's AutoFDO
 * profile (gcc -fauto-profile), both from lib/sprof's one model.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "util/error.h"
#include "gcc/gccprof.h"
#include "llvm/llvmprof.h"
#include "util/buf.h"

static const char convert_usage[] =
	"usage: cpgo convert [--to=llvm|gcc] [--text] [--binary BIN | --no-binary]\n"
	"                    [--[no-]zero-lines] [--[no-]skid] [--line-counts=max|sum]\n"
	"                    [--line0=all|calls|drop] [--no-context] [--[no-]preinlined]\n"
	"                    [--[no-]tail-frames]\n"
	"                    [--discriminators=MODE] [--sample-type TYPE]\n"
	"                    [--source-file FILE] [--stats] [-o OUT] PROFILE\n"
	"       cpgo convert --show-gcc AFDO\n"
	"\n"
	"Turns a pprof CPU profile into an LLVM sample profile for\n"
	"clang -fprofile-sample-use=OUT (ext-binary unless --text), or with --to=gcc\n"
	"into gcc 12's AutoFDO profile for gcc -fauto-profile=OUT.\n"
	"\n"
	"  --to=llvm|gcc        target format (default: llvm)\n"
	"  --text               LLVM's text sample format, for reading; with --to=gcc\n"
	"                       the AutoFDO profile shown as text (not for gcc)\n"
	"  --show-gcc AFDO      check an AutoFDO file as gcc 12 reads it and show it\n"
	"                       as text\n"
	"  --discriminators=MODE  how the binary's discriminators are read: llvm\n"
	"                       (clang's encoding; default for --to=llvm), plain\n"
	"                       (gcc's numbers, for gcc 13 and later) or none (one\n"
	"                       record per line: gcc 12 reads no discriminators;\n"
	"                       default for --to=gcc)\n"
	"  --binary BIN         the profiled binary: discriminators, a symbol list of\n"
	"                       unsampled functions (cold to clang), start lines the\n"
	"                       profile lacks\n"
	"  --no-zero-lines      with the binary, unsampled lines of sampled functions\n"
	"                       get an explicit zero count (cold to clang's profi);\n"
	"                       this turns that off\n"
	"  --no-skid            also zero the line just before a sampled address (a\n"
	"                       timer sample lands one instruction late, so that line\n"
	"                       ran; by default it gets no zero)\n"
	"  --line-counts=MODE   a line's count from its addresses': max (x the\n"
	"                       duplication factor, llvm-profgen's way; default) or sum\n"
	"  --line0=MODE         frames at line 0 (merged code), with the binary: all\n"
	"                       (default: keyed at the nearest preceding line of the\n"
	"                       same inline instance, so merged calls keep their call\n"
	"                       targets), calls (call sites only) or drop\n"
	"  --no-context         with the binary, hot calls the profiled binary did not\n"
	"                       inline become inline instances (context from the\n"
	"                       stacks, chosen top-down within a size budget, so\n"
	"                       clang inlines them); this turns that off\n"
	"  --no-preinlined      with contexts, the ext-binary profile is flagged\n"
	"                       pre-inlined (clang inlines every instance the\n"
	"                       profile marks, whatever its own cost threshold);\n"
	"                       this leaves the decisions to clang\n"
	"  --tail-frames        with contexts, put back a frame a tail call removed\n"
	"                       from the stacks where the binary's code shows the one\n"
	"                       jump that made it (off by default: not a gain yet)\n"
	"  --sample-type TYPE   sample type to use (e.g. samples, cpu; default: the\n"
	"                       profile's default, else samples/count, else cpu)\n"
	"  --source-file FILE   the profile for compiling FILE only: same-named static\n"
	"                       functions of other files are left out\n"
	"  --no-binary          do not look for the profiled binary (by default the\n"
	"                       profile's main mapping file is used when it exists\n"
	"                       and its build id matches)\n"
	"  --stats              print what was converted to stderr\n"
	"  -o OUT               output file (default: stdout)\n";

/* "N (P% of samples)": what the count means beside the whole. */
static void share(const char *what, uint64_t n, uint64_t all)
{
	fprintf(stderr, "%s: %" PRIu64 " (%.1f%% of samples)\n", what, n,
		all ? 100.0 * (double)n / (double)all : 0.0);
}

static void print_stats(const struct sprof_stats *st)
{
	uint64_t all = st->samples_used + st->samples_dropped;

	fprintf(stderr, "functions: %zu\ninline instances: %zu\ncall targets: %zu\n",
		st->functions, st->inline_instances, st->call_targets);
	share("samples used", st->samples_used, all);
	share("samples dropped", st->samples_dropped, all);
	share("  no function or name", st->dropped_unknown, all);
	share("  line 0", st->dropped_line0, all);
	share("  no start line", st->dropped_no_start, all);
	share("  other files or too deep", st->dropped_other, all);
	share("  kernel time", st->dropped_kernel, all);
	fprintf(stderr,
		"start lines repaired: %zu\nfunctions without start line left out: %zu\n"
		"profiled binary found by build id: %s\n"
		"locations resolved in binary: %zu\n"
		"zero-count lines: %zu\n",
		st->start_lines_repaired, st->start_lines_missing, st->binary_found ? "yes" : "no",
		st->locations_with_binary, st->zero_lines);
	fprintf(stderr, "thin profiles left out: %zu (inline instances without zeros: %zu)\n",
		st->thin_dropped, st->thin_instances);
	fprintf(stderr, "  samples on lines sampled once: %u.%u%%%s\n", st->unseen_permille / 10,
		st->unseen_permille % 10,
		st->thin_off_sparse ? " (a sparse profile: the thin rule is off)" : "");
	fprintf(stderr, "skid-protected lines (no zero): %zu\n", st->skid_protected);
	share("  samples just after them", st->skid_samples, all);
	fprintf(stderr, "line-0 frames remapped to a nearby line: %zu\n", st->line0_remapped);
	fprintf(stderr, "  other source calls folded into them: %zu\n", st->line0_folded);
	share("  samples with one among their callers", st->line0_call_samples, all);
	share("  samples whose leaf's caller is one", st->line0_leaf_call_samples, all);
	fprintf(stderr, "calls inlined from stack contexts: %zu (hot threshold %" PRIu64 ")\n"
		"  their inline instances: %zu\n",
		st->ctx_inlined, st->ctx_hot, st->ctx_instances);
	share("  samples in them", st->ctx_samples, all);
	fprintf(stderr, "tail-call frames put back: %zu\n", st->tail_frames);
	share("  samples whose stacks got one", st->tail_samples, all);
	share("  samples with a tail call left as it was", st->tail_left, all);
	fprintf(stderr, "symbol list: %zu\nother files' functions left out: %zu\n"
		"other files' functions kept (no other file defines the name): %zu\n"
		"ambiguous names left out: %zu\n",
		st->symbol_list, st->other_tu_dropped, st->moved_kept, st->ambiguous_dropped);
}

static int convert_gcc(const char *in, const char *out, const struct llvmprof_opts *lo)
{
	struct gccprof_opts o = { .sp = lo->sp, .text = lo->text };
	return gccprof_convert_file(in, out, &o);
}

static int show_gcc(const char *cmd, const char *path, int extra)
{
	struct cpgo_buf data = CPGO_BUF_INIT, text = CPGO_BUF_INIT;
	int ret = 1;

	if (extra)
		return usage_error(cmd, "--show-gcc takes one AutoFDO file and nothing else");
	/* AutoFDO files of large programs are tens of MB; a bound keeps a wrong path harmless. */
	if (cpgo_read_file(path, &data, 1u << 30) < 0 || gccprof_read(data.buf, data.len, path, &text) < 0) {
		ret = die_lib(cmd);
		goto cleanup;
	}
	fwrite(text.buf, 1, text.len, stdout);
	ret = fflush(stdout) ? 1 : 0;
cleanup:
	cpgo_buf_release(&data);
	cpgo_buf_release(&text);
	return ret;
}

int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 'T' },
		{ "text", no_argument, NULL, 't' },
		{ "binary", required_argument, NULL, 'b' },
		{ "no-binary", no_argument, NULL, 'B' },
		{ "zero-lines", no_argument, NULL, 'z' },
		{ "no-zero-lines", no_argument, NULL, 'Z' },
		{ "skid", no_argument, NULL, 'k' },
		{ "no-skid", no_argument, NULL, 'K' },
		{ "line-counts", required_argument, NULL, 'l' },
		{ "line0", required_argument, NULL, '0' },
		{ "context", no_argument, NULL, 'c' },
		{ "no-context", no_argument, NULL, 'C' },
		{ "preinlined", no_argument, NULL, 'p' },
		{ "no-preinlined", no_argument, NULL, 'P' },
		{ "tail-frames", no_argument, NULL, 'j' },
		{ "no-tail-frames", no_argument, NULL, 'J' },
		{ "sample-type", required_argument, NULL, 's' },
		{ "discriminators", required_argument, NULL, 'd' },
		{ "show-gcc", required_argument, NULL, 'G' },
		{ "source-file", required_argument, NULL, 'f' },
		{ "stats", no_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "convert", *to = "llvm", *out = "-", *in = NULL, *show = NULL;
	struct sprof_stats st;
	struct cpgo_strvec defined = CPGO_STRVEC_INIT, includes = CPGO_STRVEC_INIT;
	struct llvmprof_opts o;
	int stats = 0, no_binary = 0, gcc, c, r;

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
			o.sp.zero_lines = SPROF_ON;
			break;
		case 'Z':
			o.sp.zero_lines = SPROF_OFF;
			break;
		case 'k':
			o.sp.skid = SPROF_ON;
			break;
		case 'K':
			o.sp.skid = SPROF_OFF;
			break;
		case 'l':
			if (!strcmp(optarg, "max"))
				o.sp.line_counts = SPROF_LINES_MAX;
			else if (!strcmp(optarg, "sum"))
				o.sp.line_counts = SPROF_LINES_SUM;
			else
				return usage_error(cmd, "--line-counts is max or sum, not '%s'", optarg);
			break;
		case '0':
			if (!strcmp(optarg, "calls"))
				o.sp.line0 = SPROF_LINE0_CALLS;
			else if (!strcmp(optarg, "all"))
				o.sp.line0 = SPROF_LINE0_ALL;
			else if (!strcmp(optarg, "drop"))
				o.sp.line0 = SPROF_LINE0_DROP;
			else
				return usage_error(cmd, "--line0 is all, calls or drop, not '%s'", optarg);
			break;
		case 'c':
			o.sp.context = SPROF_ON;
			break;
		case 'C':
			o.sp.context = SPROF_OFF;
			break;
		case 'p':
			o.sp.preinlined = SPROF_ON;
			break;
		case 'P':
			o.sp.preinlined = SPROF_OFF;
			break;
		case 'j':
			o.sp.tail_frames = SPROF_ON;
			break;
		case 'J':
			o.sp.tail_frames = SPROF_OFF;
			break;
		case 'T':
			to = optarg;
			break;
		case 'd':
			if (!strcmp(optarg, "llvm"))
				o.sp.discriminators = SPROF_DISC_LLVM;
			else if (!strcmp(optarg, "plain"))
				o.sp.discriminators = SPROF_DISC_PLAIN;
			else if (!strcmp(optarg, "none"))
				o.sp.discriminators = SPROF_DISC_NONE;
			else
				return usage_error(cmd, "--discriminators is llvm, plain or none, not '%s'",
						   optarg);
			break;
		case 'G':
			show = optarg;
			break;
		case 'b':
			o.sp.binary = optarg;
			break;
		case 's':
			o.sp.sample_type = optarg;
			break;
		case 'f':
			o.sp.source_file = optarg;
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
	if (show)
		return show_gcc(cmd, show, optind < argc);
	for (int i = optind; i < argc; i++) {
		if (in)
			return usage_error(cmd, "one profile at a time (got '%s' and '%s')", in,
					   argv[i]);
		in = argv[i];
	}
	if (!in)
		return usage_error(cmd, "which profile? (e.g. cpgo convert -o app.prof default.pgo)");
	if (strcmp(to, "llvm") && strcmp(to, "gcc"))
		return usage_error(cmd, "unknown target format '%s' (supported: llvm, gcc)", to);
	gcc = !strcmp(to, "gcc");
	if (!o.text && !strcmp(out, "-") && isatty(STDOUT_FILENO))
		return usage_error(cmd, "the %s profile is not for a terminal: pass -o FILE, or "
					"--text to read it", gcc ? "AutoFDO" : "ext-binary");
	if (stats)
		o.sp.stats = &st;
	o.sp.find_binary = !no_binary && !o.sp.binary;
	if (o.sp.source_file && sprof_tu_scan(o.sp.source_file, &includes, &defined) < 0) {
		cpgo_strvec_release(&includes);
		cpgo_strvec_release(&defined);
		return die_lib(cmd);
	}
	o.sp.tu_functions = &defined;
	o.sp.tu_sources = &includes;
	r = gcc ? convert_gcc(in, out, &o) : llvmprof_convert_file(in, out, &o);
	cpgo_strvec_release(&includes);
	cpgo_strvec_release(&defined);
	if (r < 0)
		return die_lib(cmd);
	if (stats)
		print_stats(&st);
	return 0;
}
