/*
 * cpgo cc: a drop-in C compiler (make CC="cpgo cc") that builds with the
 * profile in default.pgo, like `go build -pgo=auto`. The planning is in
 * lib/cc/ (cmd.h, plan.h, cache.h); this file prints, prepares profiles
 * and runs the commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "cc/cache.h"
#include "cc/cmd.h"
#include "cc/depfile.h"
#include "cc/link.h"
#include "cc/plan.h"
#include "cc/stale.h"
#include "util/error.h"
#include "util/path.h"
#include "util/run-command.h"

#define FP_DEFAULT (CPGO_CC_FRAME_POINTERS_DEFAULT ? "on" : "off")
#define LAYOUT_DEFAULT (CPGO_CC_LAYOUT_DEFAULT == CPGO_CC_LAYOUT_OFF ? "off" : "on")

static const char usage[] =
	"usage: cpgo cc [-pgo=auto|off|FILE] [-pgo-frame-pointers[=on|off]]\n"
	"               [-pgo-layout[=on|off|lld|callgraph|order]] [-pgo-split[=on|off]]\n"
	"               [COMPILER] <compiler arguments>\n\n"
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
	"              -fno-omit-frame-pointer is always kept as it is\n"
	"  -pgo-layout[=on|off|lld|callgraph|order]\n"
	"              function layout from the profile's call graph (by default %s):\n"
	"              profiled compiles get -ffunction-sections, and a link that\n"
	"              cpgo cc drives runs lld (ld.lld-19, or $CPGO_LLD) with the\n"
	"              profile's C3 order (order, what on means), its call graph\n"
	"              (callgraph), or lld's own sort of clang's call-graph sections (lld).\n"
	"              Your -fuse-ld= and ordering options win; without lld a note\n"
	"              says so once per build directory; a link that fails with the\n"
	"              layout is rerun without it\n"
	"  -pgo-split[=on|off]\n"
	"              hot/cold splitting of profiled code, -fsplit-machine-functions\n"
	"              (by default %s)\n\n"
	"The -pgo options may appear anywhere and are not passed on; every other\n"
	"argument goes to the compiler untouched. COMPILER is a first argument that\n"
	"names a compiler (clang-19, gcc, /usr/bin/cc); else $CPGO_CC, else clang-19\n"
	"when installed, else cc. Compiling always adds line tables\n"
	"(-gline-tables-only, or -g1 for gcc, unless a -g level is given) and for clang\n"
	"-fdebug-info-for-profiling (discriminators for the converter). With a\n"
	"profile and clang, the profile is converted once (cached in\n"
	"$XDG_CACHE_HOME/cpgo) and passed with -fprofile-sample-use; the object records\n"
	"the profile in an ELF note that 'cpgo version BINARY' prints. With gcc (12\n"
	"or later) the profile becomes gcc's AutoFDO file, passed with -fauto-profile;\n"
	"a profile gcc refuses leaves a plain build and a note.\n\n"
	"Environment: CPGO_PGO (the mode, when the build cannot pass -pgo=),\n"
	"CPGO_FRAME_POINTERS=on|off (the same for -pgo-frame-pointers),\n"
	"CPGO_LAYOUT and CPGO_SPLIT (the same for -pgo-layout and -pgo-split),\n"
	"CPGO_LLD (the lld to use; empty: none),\n"
	"CPGO_CC (the compiler, may include a wrapper: \"ccache clang-19\"),\n"
	"CPGO_MIN_MATCH=P (say once per build directory when under P%% of the profile's\n"
	"samples match the code compiled there; default 80, 0 = never check),\n"
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

/* Runs one command; its standard error goes to `err` when > 0. */
static int run_to(const struct cpgo_strvec *argv, int err)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	int ret;

	if (debug)
		trace_argv(argv->v);
	c.err = err;
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

static const struct cpgo_cc_converter *converter(const struct cpgo_cc_cmd *cmd)
{
	return cmd->family == CPGO_CC_GCC ? cpgo_cc_gcc_converter() : cpgo_cc_llvm_converter();
}

/* gcc before 12 reads an older AutoFDO layout (word-counted strings, version 1). */
static int gcc_reads_afdo(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_plan *plan)
{
	int major;

	if (cmd->family != CPGO_CC_GCC)
		return 1;
	for (size_t g = 0; g < plan->n_groups; g++) {
		if (!plan->groups[g].profile)
			continue;
		major = cpgo_cc_gcc_major(cmd->compiler.v, cmd->compiler.n);
		if (major >= CPGO_CC_GCC_AFDO_MIN)
			return 1;
		if (major)
			fprintf(stderr, "cpgo cc: warning: %s is not used: gcc %d reads an older "
				"AutoFDO format than cpgo writes (gcc %d or later); building without "
				"PGO\n", plan->groups[g].profile, major, CPGO_CC_GCC_AFDO_MIN);
		else
			fprintf(stderr, "cpgo cc: warning: %s is not used: '%s -dumpversion' does "
				"not say which gcc this is (cpgo writes the AutoFDO format of gcc %d "
				"and later); building without PGO\n", plan->groups[g].profile,
				cmd->compiler.v[cmd->compiler.n - 1], CPGO_CC_GCC_AFDO_MIN);
		return 0;
	}
	return 1;
}

static int run(const struct cpgo_strvec *argv)
{
	return run_to(argv, 0);
}

/*
 * The profile whose call graph lays out this link: the sources' (the first
 * group that has one); for a link of objects alone, the one -pgo= names or
 * the nearest default.pgo from the output's directory. 1 with it in `out`.
 */
static const char *output_path(const struct cpgo_cc_cmd *cmd)
{
	const char *o = cmd->args.v[cmd->output_arg];
	/* -o FILE or -oFILE */
	return !strcmp(o, "-o") && (size_t)cmd->output_arg + 1 < cmd->args.n ?
		cmd->args.v[cmd->output_arg + 1] : o + 2;
}

static int link_profile(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_plan *plan,
			struct cpgo_buf *out)
{
	for (size_t g = 0; g < plan->n_groups; g++)
		if (plan->groups[g].prepared && plan->groups[g].profile)
			return cpgo_buf_adds(out, plan->groups[g].profile) < 0 ? -1 : 1;
	if (cmd->action != CPGO_CC_QUERY || cmd->mode == CPGO_CC_PGO_OFF)
		return 0;
	if (cmd->mode == CPGO_CC_PGO_FILE)
		return cpgo_buf_adds(out, cmd->pgo_file) < 0 ? -1 : 1;
	return cpgo_cc_find_profile(cmd->output_arg >= 0 ? output_path(cmd) : "-", out);
}

/* Copies what a command wrote to the file at `path` to our standard error. */
static void replay(const char *path)
{
	struct cpgo_buf b = CPGO_BUF_INIT;

	if (cpgo_read_file(path, &b, 16u << 20) == 0 && b.len)
		fwrite(b.buf, 1, b.len, stderr);
	cpgo_buf_release(&b);
}

/* The first line of the file at `path`, for a one-line note ("" when none). */
static void first_line(const char *path, struct cpgo_buf *out)
{
	cpgo_buf_reset(out);
	if (cpgo_read_file(path, out, 4096) < 0 || !out->buf) {
		cpgo_buf_reset(out);
		cpgo_buf_adds(out, "");
		return;
	}
	out->len = strcspn(out->buf, "\n");
	out->buf[out->len] = '\0';
}

/*
 * The link with cpgo's function layout (cc/link.h); whatever goes wrong
 * with it, the plain link runs instead and its result is the build's.
 */
static int run_link(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan,
		    const struct cpgo_strvec *link, const char *profile)
{
	struct cpgo_buf lld = CPGO_BUF_INIT, errpath = CPGO_BUF_INIT, line = CPGO_BUF_INIT;
	struct cpgo_strvec full = CPGO_STRVEC_INIT;
	struct cpgo_cc_link lk;
	int found, fd = -1, ret;

	cpgo_cc_link_init(&lk);
	found = cpgo_cc_find_lld(getenv("CPGO_LLD"), &lld);
	if (found < 0 || cpgo_cc_plan_tmpdir(plan) < 0 ||
	    cpgo_cc_link_plan(cmd, link, profile, found == 1 ? lld.buf : NULL, plan->tmpdir,
			      &lk) < 0) {
		fprintf(stderr, "cpgo cc: warning: function layout skipped: %s\n", cpgo_last_error());
		ret = run(link);
		goto cleanup;
	}
	if (lk.note_key && cpgo_cc_once(lk.note_key) != 0)
		fprintf(stderr, "cpgo cc: note: %s\n", lk.note.buf);
	if (debug && lk.file.len)
		fprintf(stderr, "cpgo cc: layout from %s: %zu function(s) found in %zu object(s), "
			"%zu not (%.1f%% of the samples): %s\n", profile, lk.n_found, lk.n_objects,
			lk.n_unknown, lk.samples ? 100.0 * (double)lk.samples_unknown /
			(double)lk.samples : 0.0, lk.file.buf);
	if (!lk.add.n) {
		ret = run(link);
		goto cleanup;
	}
	if (cpgo_strvec_pushv(&full, link->v, link->n) < 0 ||
	    cpgo_strvec_pushv(&full, lk.add.v, lk.add.n) < 0 ||
	    cpgo_buf_addf(&errpath, "%s/link.err", plan->tmpdir) < 0 ||
	    (fd = open(errpath.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "cpgo cc: warning: function layout skipped: %s\n",
			fd < 0 && errpath.len ? strerror(errno) : cpgo_last_error());
		ret = run(link);
		goto cleanup;
	}
	ret = run_to(&full, fd);
	close(fd);
	if (!ret) {
		replay(errpath.buf);
		goto cleanup;
	}
	first_line(errpath.buf, &line);
	fprintf(stderr, "cpgo cc: note: the link with function layout failed%s%s; linking "
		"again without it\n", line.len ? ": " : "", line.buf ? line.buf : "");
	ret = run(link);
cleanup:
	cpgo_strvec_release(&full);
	cpgo_buf_release(&lld);
	cpgo_buf_release(&errpath);
	cpgo_buf_release(&line);
	cpgo_cc_link_release(&lk);
	return ret;
}

static int prepare_groups(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	const struct cpgo_cc_converter *conv = converter(cmd);
	struct cpgo_buf cache = CPGO_BUF_INIT, hint = CPGO_BUF_INIT;
	int ret = -1, warned = 0;

	if (!gcc_reads_afdo(cmd, plan))
		return 0;

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
				grp->pp.converted ? (grp->pp.repaired ? "damaged in the cache, converted "
					"again into" : "converted into") : "cache hit",
				grp->pp.empty ? "(no samples for this file)" : grp->pp.cached.buf);
		if (cmd->family == CPGO_CC_UNKNOWN && !warned) {
			fprintf(stderr, "cpgo cc: warning: %s is not used: cpgo cannot tell which "
				"compiler this is; building without PGO (name clang-19 or gcc: "
				"CPGO_CC=clang-19)\n", grp->profile);
			warned = 1;
		}
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&cache);
	cpgo_buf_release(&hint);
	return ret;
}

/* gcc's words when the profile, not the source, is what it failed on. */
static int gcc_refused_profile(const struct cpgo_buf *err, const struct cpgo_cc_plan *plan)
{
	if (!err->len)
		return 0;
	if (strstr(err->buf, "AutoFDO") || strstr(err->buf, "auto-profile") ||
	    strstr(err->buf, "internal compiler error"))
		return 1;
	for (size_t g = 0; g < plan->n_groups; g++)
		if (plan->groups[g].prepared && strstr(err->buf, plan->groups[g].pp.cached.buf))
			return 1;
	return 0;
}

/* Runs one command with its standard error kept, to be shown or replaced. */
static int run_keep_stderr(const struct cpgo_strvec *argv, struct cpgo_buf *err)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	int ret;

	if (debug)
		trace_argv(argv->v);
	cpgo_buf_reset(err);
	c.capture_stderr = 1;
	if (cpgo_strvec_pushv(&c.args, argv->v, argv->n) < 0) {
		cpgo_child_release(&c);
		return die_lib("cc");
	}
	/* Diagnostics past this are dropped; a compile that writes more has failed anyway. */
	ret = cpgo_run_command_capture(&c, err, 16u << 20);
	if (ret < 0) {
		report("cc", "%s (set CPGO_CC, or name the compiler first: cpgo cc gcc ...)",
		       cpgo_last_error());
		ret = 127;
	}
	cpgo_child_release(&c);
	return ret;
}

/* A profile is prepared: the objects record it (the note), even where it has no samples. */
static int uses_profile(const struct cpgo_cc_plan *plan)
{
	for (size_t g = 0; g < plan->n_groups; g++)
		if (plan->groups[g].prepared)
			return 1;
	return 0;
}

/*
 * gcc with a profile. gcc stops (or crashes) on a profile it cannot read,
 * and a build the plain compiler passes must pass: its diagnostics are
 * held back, and when they say the profile was the problem the whole step
 * is built again without profiles, with a note. Otherwise they are shown
 * as they came, and the depfile learns the profile.
 */
static int run_gcc_with_profile(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	struct cpgo_buf err = CPGO_BUF_INIT, dep = CPGO_BUF_INIT;
	int ret = 0, refused = 0;

	for (size_t i = 0; i < plan->n_cmds && !ret; i++) {
		ret = run_keep_stderr(&plan->cmds[i], &err);
		if (ret && gcc_refused_profile(&err, plan)) {
			refused = 1;
			break;
		}
		if (err.len)
			fwrite(err.buf, 1, err.len, stderr);
	}
	if (refused) {
		const char *nl = strchr(err.buf, '\n');
		fprintf(stderr, "cpgo cc: note: %s refused the converted profile (%.*s); building "
			"without PGO\n", cmd->compiler.v[cmd->compiler.n - 1],
			(int)(nl ? (size_t)(nl - err.buf) : err.len), err.buf);
		if (cpgo_cc_plan_without_profiles(cmd, plan) < 0) {
			ret = die_lib("cc");
			goto cleanup;
		}
		ret = 0;
		for (size_t i = 0; i < plan->n_cmds && !ret; i++)
			ret = run(&plan->cmds[i]);
		goto cleanup;
	}
	if (!ret && plan->n_cmds == 1 && !plan->tmpdir && plan->n_groups == 1 &&
	    plan->groups[0].profile_abs && cpgo_cc_depfile_path(cmd, &dep) == 1 &&
	    cpgo_cc_depfile_add(dep.buf, plan->groups[0].profile_abs) < 0) {
		/* The object is built; a depfile without the profile only misses a rebuild. */
		fprintf(stderr, "cpgo cc: warning: %s\n", cpgo_last_error());
		cpgo_clear_error();
	}
cleanup:
	cpgo_buf_release(&err);
	cpgo_buf_release(&dep);
	return ret;
}

/* The one C source of a compile to an object, with its profile; NULL when not that. */
static const struct cpgo_cc_group *single_source(const struct cpgo_cc_cmd *cmd,
						 const struct cpgo_cc_plan *plan, const char **src)
{
	const struct cpgo_cc_group *grp = NULL;

	if (cmd->action != CPGO_CC_COMPILE || cmd->n_sources != 1 || cmd->family != CPGO_CC_CLANG)
		return NULL;
	for (size_t i = 0; i < cmd->n_inputs; i++)
		if (cmd->inputs[i].lang == CPGO_CC_LANG_C && cmd->inputs[i].group >= 0) {
			*src = cmd->args.v[cmd->inputs[i].arg];
			grp = &plan->groups[cmd->inputs[i].group];
		}
	return grp && grp->prepared && !grp->pp.empty ? grp : NULL;
}

/* The object a -c compile writes: -o's value, else the source's base name with .o. */
static int object_path(const struct cpgo_cc_cmd *cmd, const char *src, struct cpgo_buf *out)
{
	const char *base = strrchr(src, '/'), *dot;

	if (cmd->output_arg >= 0) {
		const char *a = cmd->args.v[cmd->output_arg];
		if (strcmp(a, "-o"))
			return cpgo_buf_adds(out, a + 2);
		if ((size_t)cmd->output_arg + 1 >= cmd->args.n)
			return -1;
		return cpgo_buf_adds(out, cmd->args.v[cmd->output_arg + 1]);
	}
	base = base ? base + 1 : src;
	dot = strrchr(base, '.');
	if (cpgo_buf_add(out, base, dot ? (size_t)(dot - base) : strlen(base)) < 0)
		return -1;
	return cpgo_buf_adds(out, ".o");
}

/*
 * Whether this compile checks the profile against its object afterwards
 * (cc/stale.h): then the compiler runs as a child instead of replacing us.
 * Any error only means no check.
 */
static int stale_wanted(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_plan *plan,
			struct cpgo_cc_stale *st)
{
	struct cpgo_buf cache = CPGO_BUF_INIT;
	const struct cpgo_cc_group *grp;
	const char *src = NULL;
	char cwd[4096];
	int want = 0;

	if ((grp = single_source(cmd, plan, &src)) && getcwd(cwd, sizeof(cwd)) &&
	    !cpgo_cc_cache_dir(&cache))
		want = cpgo_cc_stale_begin(st, cache.buf, grp->pp.sha256, cwd,
					   getenv("CPGO_MIN_MATCH")) == 1;
	if (debug && grp)
		fprintf(stderr, "cpgo cc: stale-profile check: %s\n", want ? "after the compile" :
			"off, or this directory was warned already");
	cpgo_buf_release(&cache);
	cpgo_clear_error();
	return want;
}

static void stale_after(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_plan *plan,
			struct cpgo_cc_stale *st)
{
	struct cpgo_buf obj = CPGO_BUF_INIT, msg = CPGO_BUF_INIT;
	const struct cpgo_cc_group *grp;
	const char *src = NULL;
	char cwd[4096];
	int r = -1;

	if ((grp = single_source(cmd, plan, &src)) && getcwd(cwd, sizeof(cwd)) &&
	    !object_path(cmd, src, &obj))
		r = cpgo_cc_stale_after(st, grp->profile, src, obj.buf, cwd, &msg);
	if (r == 1)
		fprintf(stderr, "%s\n", msg.buf);
	else if (r < 0 && debug)
		fprintf(stderr, "cpgo cc: stale-profile check skipped: %s\n", cpgo_last_error());
	cpgo_clear_error();
	cpgo_buf_release(&obj);
	cpgo_buf_release(&msg);
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
	struct cpgo_cc_stale stale;
	const char *dbg = getenv("CPGO_DEBUG");
	struct cpgo_buf lprof = CPGO_BUF_INIT;
	int ret = 1, layout = 0;

	/* Only a leading --help is ours; later ones belong to the compiler. */
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf(usage, FP_DEFAULT, LAYOUT_DEFAULT, CPGO_CC_SPLIT_DEFAULT ? "on" : "off");
		return fflush(stdout) ? 1 : 0;
	}
	debug = dbg && *dbg && strcmp(dbg, "0");
	cpgo_cc_cmd_init(&cmd);
	cpgo_cc_plan_init(&plan);
	cpgo_cc_stale_init(&stale);
	if (bump_depth())
		goto cleanup;
	env.cc = getenv("CPGO_CC");
	env.pgo = getenv("CPGO_PGO");
	env.frame_pointers = getenv("CPGO_FRAME_POINTERS");
	env.layout = getenv("CPGO_LAYOUT");
	env.split = getenv("CPGO_SPLIT");
	if (cpgo_cc_parse(&cmd, argc, argv, &env) < 0) {
		ret = usage_error("cc", "%s", cpgo_last_error());
		goto cleanup;
	}
	if (check_not_self(&cmd))
		goto cleanup;
	if (cpgo_cc_plan_groups(&cmd, converter(&cmd)->per_source, &plan) < 0 ||
	    prepare_groups(&cmd, &plan) < 0) {
		ret = die_lib("cc");
		goto cleanup;
	}
	if (cmd.layout != CPGO_CC_LAYOUT_OFF && cmd.family == CPGO_CC_CLANG && cpgo_cc_is_link(&cmd)) {
		int r = link_profile(&cmd, &plan, &lprof);
		if (r < 0) {
			/* No profile for the link is no reason to fail it. */
			fprintf(stderr, "cpgo cc: warning: function layout skipped: %s\n",
				cpgo_last_error());
			r = 0;
		}
		layout = r == 1;
	}
	/* The objects must exist before the link to read their symbols. */
	plan.split_link = layout;
	if (cpgo_cc_plan_commands(&cmd, &plan) < 0) {
		ret = die_lib("cc");
		goto cleanup;
	}
	if (cmd.family == CPGO_CC_GCC && uses_profile(&plan)) {
		ret = run_gcc_with_profile(&cmd, &plan);
		goto cleanup;
	}
	if (plan.n_cmds == 1 && !plan.tmpdir && !layout && stale_wanted(&cmd, &plan, &stale)) {
		ret = run(&plan.cmds[0]);
		if (ret == 0)
			stale_after(&cmd, &plan, &stale);
		goto cleanup;
	}
	if (plan.n_cmds == 1 && !plan.tmpdir && !layout) {
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
		ret = layout && (int)i == plan.link_cmd ?
			run_link(&cmd, &plan, &plan.cmds[i], lprof.buf) : run(&plan.cmds[i]);
cleanup:
	cpgo_cc_stale_release(&stale);
	cpgo_buf_release(&lprof);
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);
	return ret;
}
