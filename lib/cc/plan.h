#ifndef CPGO_CC_PLAN_H
#define CPGO_CC_PLAN_H

/*
 * The plan of a `cpgo cc` run: which profile each source gets (the
 * nearest default.pgo, or the one given), which sources share one, and the
 * commands to run, in order.
 */

#include "cc/cache.h"
#include "cc/cmd.h"
#include "util/buf.h"
#include "util/strvec.h"

struct cpgo_cc_group {
	char *profile;       /* as found or given; NULL: built without a profile */
	char *profile_abs;   /* absolute, for the depfile; NULL when unknown */
	const char *source;  /* the translation unit, when the converter is per source */
	struct cpgo_cc_prepared pp;
	int prepared;        /* pp is filled (cpgo_cc_prepare succeeded) */
};

struct cpgo_cc_plan {
	struct cpgo_cc_group *groups;
	size_t n_groups, alloc_groups;
	struct cpgo_strvec *cmds; /* run in order; stop at the first failure */
	size_t n_cmds, alloc_cmds;
	char *tmpdir;             /* objects of a split compile+link; removed by release */
	int split_link;           /* set before planning: compile+link as separate commands */
	int link_cmd;             /* cmds[link_cmd] is the link (cpgo_cc_is_link), else -1 */
};

void cpgo_cc_plan_init(struct cpgo_cc_plan *plan);
/* Removes the tmpdir and what is in it. */
void cpgo_cc_plan_release(struct cpgo_cc_plan *plan);

/*
 * Auto mode: the nearest default.pgo walking up from the directory of
 * `source` ("-" means the current directory), stopping after a directory
 * that holds .git, or at /. Returns 1 with the absolute path in `out`,
 * 0 when there is none (or the directory does not exist: the compiler
 * will say so), -1 on error.
 */
int cpgo_cc_find_profile(const char *source, struct cpgo_buf *out);

/*
 * Gives each source of a compile its profile by cmd->mode and groups the
 * sources that share one (and the translation unit when `per_source`).
 * Nothing for -pgo=off, preprocessing or link steps. Errors name the file.
 */
int cpgo_cc_plan_groups(struct cpgo_cc_cmd *cmd, int per_source, struct cpgo_cc_plan *plan);

/*
 * Builds the commands once the groups with a profile are prepared (use
 * the profile only when it is prepared and the compiler is clang). One
 * group: one command. Several, with -c/-S: one command per group. Several,
 * or plan->split_link, compile and link: each source to an object in a temporary directory
 * (created here), then the link — the same result as compiling each file
 * on its own, as `make` does.
 */
int cpgo_cc_plan_commands(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan);

/*
 * Forgets every prepared profile and builds the commands again: the plain
 * build, for when the compiler refused a profile cpgo gave it.
 */
int cpgo_cc_plan_without_profiles(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan);

/* plan->tmpdir, created on first use. */
int cpgo_cc_plan_tmpdir(struct cpgo_cc_plan *plan);

#endif
