/*
 * cpgo rename: rewrites function and file names in a profile so that a
 * refactoring keeps its profile (PGO matches by name; a renamed function
 * otherwise starts from nothing until the next profile).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"
#include "pprof/source.h"
#include "pprof/rename.h"

static const char usage[] =
	"usage: cpgo rename [--map FILE] [--allow-merge] -o OUT [OLD=NEW...] PROFILE\n"
	"\n"
	"Renames functions (OLD=NEW) and source files (file:OLD=NEW) in PROFILE\n"
	"and writes the result to OUT, so the profile matches refactored code.\n"
	"OLD may hold one '*': 'net_*=io_*' renames a module's functions, and\n"
	"'file:net_*.c=io_*.c' its files. A file rule matches the whole path or\n"
	"its tail after a '/' ('file:net.c=io.c' renames every net.c). The\n"
	"first rule that matches a name wins.\n"
	"\n"
	"A rename that makes two functions with samples one (same name and file)\n"
	"would add their profiles up; it is refused unless --allow-merge.\n"
	"\n"
	"Options:\n"
	"  -o, --output OUT  where to write the renamed profile ('-' = stdout);\n"
	"                    written atomically\n"
	"  --map FILE        more rules, one OLD=NEW a line ('#' comments)\n"
	"  --allow-merge     allow renames that merge functions with samples\n";

int cmd_rename(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "map", required_argument, NULL, 'm' },
		{ "allow-merge", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpgo_rename r;
	struct cpgo_rename_stats st;
	struct cpgo_profile p = { 0 };
	const char *out = NULL, *path, *name;
	int allow_merge = 0, have_p = 0, c, ret = 1;
	char origin[64];

	cpgo_rename_init(&r);
	optind = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			ret = usage_help(usage);
			goto cleanup;
		case 'o':
			out = optarg;
			break;
		case 'm':
			if (cpgo_rename_add_map(&r, optarg) < 0) {
				ret = die_lib("rename");
				goto cleanup;
			}
			break;
		case 'a':
			allow_merge = 1;
			break;
		default:
			ret = usage_option_error("rename", c, argv, opts);
			goto cleanup;
		}
	}
	if (optind >= argc) {
		ret = usage_error("rename", "no profile given");
		goto cleanup;
	}
	if (!out) {
		ret = usage_error("rename", "no output given: -o OUT (the input is never "
					    "rewritten in place)");
		goto cleanup;
	}
	path = argv[argc - 1];
	for (int i = optind; i < argc - 1; i++) {
		snprintf(origin, sizeof(origin), "argument '%s'", argv[i]);
		if (cpgo_rename_add(&r, argv[i], origin) < 0) {
			ret = usage_error("rename", "%s", cpgo_last_error());
			goto cleanup;
		}
	}
	if (!r.n_rule) {
		ret = usage_error("rename", "no renames given: OLD=NEW arguments or --map FILE");
		goto cleanup;
	}
	name = strcmp(path, "-") ? path : "<stdin>";
	if (cpgo_source_read(&p, path, NULL) < 0) {
		ret = die_lib("rename");
		goto cleanup;
	}
	have_p = 1;
	if (cpgo_rename_apply(&p, &r, allow_merge, name, &st) < 0) {
		ret = die_lib("rename");
		goto cleanup;
	}
	for (size_t i = 0; i < r.n_rule; i++)
		if (!r.rules[i].n_matched)
			fprintf(stderr, "cpgo rename: warning: %s%s=%s (%s) matched nothing in %s\n",
				r.rules[i].is_file ? "file:" : "", r.rules[i].old_pat,
				r.rules[i].new_pat, r.rules[i].origin, name);
	if (!st.n_fn_renamed && !st.n_file_renamed) {
		ret = report("rename", "no rule renamed anything in %s; nothing written", name);
		goto cleanup;
	}
	if (cpgo_profile_write(&p, out) < 0) {
		ret = die_lib("rename");
		goto cleanup;
	}
	fprintf(stderr, "cpgo rename: %zu function name(s) and %zu file name(s) renamed",
		st.n_fn_renamed, st.n_file_renamed);
	if (st.n_merged)
		fprintf(stderr, ", %zu function(s) merged", st.n_merged);
	fprintf(stderr, "; wrote %s\n", strcmp(out, "-") ? out : "<stdout>");
	ret = 0;
cleanup:
	if (have_p)
		cpgo_profile_release(&p);
	cpgo_rename_release(&r);
	return ret;
}
