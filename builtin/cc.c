/*
 * cpgo cc: a drop-in C compiler (make CC="cpgo cc") that builds with the
 * profile in default.pgo, like `go build -pgo=auto`. The planning is in
 * lib/cc/ (cmd.h, plan.h, cache.h); this file prints, prepares profiles
 * and runs the commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "cc/cache.h"
#include "cc/cmd.h"
#include "cc/plan.h"
#include "util/error.h"
#include "util/path.h"
#include "util/run-command.h"

#define FP_DEFAULT (CPGO_CC_FRAME_POINTERS_DEFAULT ? "on" : "off")

static const char usage[] =
	"usage: cpgo cc [-pgo=auto|off|FILE] [-pgo-frame-pointers[=on|off]] [COMPILER]\n"
	"               <compiler arguments>\n\n"
	"A drop-in C compiler: make CC=\"cpgo cc\", or with CMake\n"
	"-DCMAKE_C_COMPILER_LAUNCHER=\"cpgo;cc\".\n\n"
	"  -pgo=auto   (default) each source file uses the nearest default.pgo from its\n"
	"              directory up to the repository root; none found: a plain build\n"
	"  -pgo=off    never use a profile\n"
	"  -pgo=FILE   use the pprof profile FILE for every source file\n"
	"  -pgo-frame-pointers[=on|off]\n"
	"              add -fno-omit-frame-pointer (default: %s): libcpgo unwinds\n"
	"              code without frame pointers too, with them a sample costs\n"
	"              less; your own -fomit-frame-pointer or\n"
	"              -fno-omit-frame-pointer is always kept as it is\n\n"
	"The -pgo options may appear anywhere and are not passed on; every other\n"
	"argument goes to the compiler untouched. COMPILER is a first argument that\n"
	"names a compiler (clang-19, gcc, /usr/bin/cc); else $CPGO_CC, else clang-19\n"
	"when installed, else cc. Compiling always adds line tables\n"
	"(-gline-tables-only, or -g1 for gcc, unless a -g level is given) and for clang\n"
	"-fdebug-info-for-profiling (discriminators for the converter). With a\n"
	"profile and clang, the profile is converted once (cached in\n"
	"$XDG_CACHE_HOME/cpgo) and passed with -fprofile-sample-use; the object records\n"
	"the profile in an ELF note that 'cpgo version BINARY' prints. gcc builds\n"
	"ignore the profile (with a warning): gcc needs its own AutoFDO format, which\n"
	"cpgo does not write yet.\n\n"
	"Environment: CPGO_PGO (the mode, when the build cannot pass -pgo=),\n"
	"CPGO_FRAME_POINTERS=on|off (the same for -pgo-frame-pointers),\n"
	"CPGO_CC (the compiler, may include a wrapper: \"ccache clang-19\"),\n"
	"CPGO_DEBUG=1 (trace profiles, cache use and commands on stderr).\n";

/* Nested cpgo cc calls (a wrapper that calls cpgo again) must end. */
#define MAX_DEPTH 4

static int debug;

static void trace_argv(char **argv)
{
	fputs("cpgo cc: run:", stderr);
	for (; *argv; argv++)
		fprintf(stderr, " %s", *argv);
	fputc('\n', stderr);
}

/* Refuses a compiler that is cpgo itself: it would call itself forever. */
static int check_not_self(const struct cpgo_cc_cmd *cmd)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	char *self = realpath("/proc/self/exe", NULL), *real = NULL;
	int ret = 0;

	if (self && cpgo_path_lookup(cmd->compiler.v[0], &path) == 1 &&
	    (real = realpath(path.buf, NULL)) && !strcmp(real, self))
		ret = report("cc", "the compiler '%s' is cpgo itself: set CPGO_CC to a real "
			     "compiler such as clang-19", cmd->compiler.v[0]);
	free(self);
	free(real);
	cpgo_buf_release(&path);
	return ret;
}

static int run(const struct cpgo_strvec *argv)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	int ret;

	if (debug)
		trace_argv(argv->v);
	if (cpgo_strvec_pushv(&c.args, argv->v, argv->n) < 0) {
		cpgo_child_release(&c);
		return die_lib("cc");
	}
	ret = cpgo_run_command(&c);
	if (ret < 0) {
		report("cc", "%s (set CPGO_CC, or name the compiler first: cpgo cc gcc ...)",
		       cpgo_last_error());
		ret = 127; /* the shell's status for a command that cannot be found */
	}
	cpgo_child_release(&c);
	return ret;
}

static int prepare_groups(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	const struct cpgo_cc_converter *conv = cpgo_cc_llvm_converter();
	struct cpgo_buf cache = CPGO_BUF_INIT, hint = CPGO_BUF_INIT;
	int ret = -1, warned = 0;

	for (size_t g = 0; g < plan->n_groups; g++) {
		struct cpgo_cc_group *grp = &plan->groups[g];
		char *src_abs = NULL;

		if (!grp->profile)
			continue;
		if (!cache.len && cpgo_cc_cache_dir(&cache) < 0)
			goto cleanup;
		cpgo_buf_reset(&hint);
		if (cmd->mode == CPGO_CC_PGO_AUTO)
			cpgo_buf_addf(&hint, "fix or replace this default.pgo, or build without it "
				      "using -pgo=off or CPGO_PGO=off");
		else
			cpgo_buf_addf(&hint, "check the profile given with %s",
				      cmd->mode_from_flag ? "-pgo=" : "CPGO_PGO");
		if (grp->source)
			src_abs = realpath(grp->source, NULL);
		if (cpgo_cc_prepare(grp->profile, src_abs ? src_abs : grp->source, cache.buf,
				     conv, hint.buf, &grp->pp) < 0) {
			free(src_abs);
			goto cleanup;
		}
		free(src_abs);
		grp->prepared = 1;
		if (debug)
			fprintf(stderr, "cpgo cc: profile %s (sha256 %s)%s%s: %s %s\n", grp->profile,
				grp->pp.sha256, grp->source ? " for " : "",
				grp->source ? grp->source : "",
				grp->pp.converted ? "converted into" : "cache hit",
				grp->pp.empty ? "(no samples for this file)" : grp->pp.cached.buf);
		if (cmd->family != CPGO_CC_CLANG && !warned) {
			fprintf(stderr, "cpgo cc: warning: %s is not used: %s; building without "
				"PGO (use clang-19 for PGO: CPGO_CC=clang-19)\n", grp->profile,
				cmd->family == CPGO_CC_GCC ?
				"gcc needs its own AutoFDO profile format, which cpgo does not write yet" :
				"cpgo cannot tell which compiler this is");
			warned = 1;
		}
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&cache);
	cpgo_buf_release(&hint);
	return ret;
}

static int bump_depth(void)
{
	const char *d = getenv("CPGO_CC_DEPTH");
	int depth = d ? atoi(d) : 0;
	char buf[16];

	if (depth >= MAX_DEPTH)
		return report("cc", "cpgo cc is calling itself (CPGO_CC_DEPTH=%d): set CPGO_CC "
			      "to a real compiler such as clang-19", depth);
	snprintf(buf, sizeof(buf), "%d", depth + 1);
	setenv("CPGO_CC_DEPTH", buf, 1);
	return 0;
}

int cmd_cc(int argc, char **argv)
{
	struct cpgo_cc_cmd cmd;
	struct cpgo_cc_plan plan;
	struct cpgo_cc_env env;
	const char *dbg = getenv("CPGO_DEBUG");
	int ret = 1;

	/* Only a leading --help is ours; later ones belong to the compiler. */
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf(usage, FP_DEFAULT);
		return fflush(stdout) ? 1 : 0;
	}
	debug = dbg && *dbg && strcmp(dbg, "0");
	cpgo_cc_cmd_init(&cmd);
	cpgo_cc_plan_init(&plan);
	if (bump_depth())
		goto cleanup;
	env.cc = getenv("CPGO_CC");
	env.pgo = getenv("CPGO_PGO");
	env.frame_pointers = getenv("CPGO_FRAME_POINTERS");
	if (cpgo_cc_parse(&cmd, argc, argv, &env) < 0) {
		ret = usage_error("cc", "%s", cpgo_last_error());
		goto cleanup;
	}
	if (check_not_self(&cmd))
		goto cleanup;
	if (cpgo_cc_plan_groups(&cmd, cpgo_cc_llvm_converter()->per_source, &plan) < 0 ||
	    prepare_groups(&cmd, &plan) < 0 || cpgo_cc_plan_commands(&cmd, &plan) < 0) {
		ret = die_lib("cc");
		goto cleanup;
	}
	if (plan.n_cmds == 1 && !plan.tmpdir) {
		/* Nothing left to do afterwards: the compiler's exit and output are the build's. */
		if (debug)
			trace_argv(plan.cmds[0].v);
		fflush(NULL);
		execvp(plan.cmds[0].v[0], plan.cmds[0].v);
		report("cc", "cannot run the compiler '%s': %s (set CPGO_CC, or name the "
		       "compiler first: cpgo cc gcc ...)", plan.cmds[0].v[0], strerror(errno));
		ret = 127;
		goto cleanup;
	}
	ret = 0;
	for (size_t i = 0; i < plan.n_cmds && !ret; i++)
		ret = run(&plan.cmds[i]);
cleanup:
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);
	return ret;
}
