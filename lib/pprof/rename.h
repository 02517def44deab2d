#ifndef CPGO_RENAME_H
#define CPGO_RENAME_H

/*
 * Renaming functions and files in a profile (prefix cpgo_rename_), so a
 * refactoring keeps its profile: PGO matches samples by function name and
 * file, and a renamed function otherwise loses its data.
 *
 * A rule is "OLD=NEW" for function names or "file:OLD=NEW" for source
 * files. OLD may hold one '*' (a glob: "net_*=io_*", "*_v1=*_v2"); the text
 * it matched replaces a '*' in NEW. Function rules match the whole name
 * (Function.name, and Function.system_name on its own). File rules match
 * the whole path or a tail of it that starts after a '/': "net.c=io.c"
 * renames every net.c, "net_*.c=io_*.c" a family of files, and a star
 * after "src/net/" on both sides a directory. The first rule that matches
 * a name wins.
 */

#include <stddef.h>

#include "pprof/profile.h"

struct cpgo_rename_rule {
	char *old_pat, *new_pat;
	int is_file;
	size_t n_matched; /* functions (or files of functions) this rule renamed */
	char *origin;     /* "argument 2", "map.txt:7": for messages */
};

struct cpgo_rename {
	struct cpgo_rename_rule *rules;
	size_t n_rule, alloc_rule;
};

struct cpgo_rename_stats {
	size_t n_fn_renamed;   /* functions whose name changed */
	size_t n_file_renamed; /* functions whose file changed */
	size_t n_merged;       /* live functions that now share a name and file with another */
};

void cpgo_rename_init(struct cpgo_rename *r);
void cpgo_rename_release(struct cpgo_rename *r);

/* Adds one rule; `origin` names where it came from in errors. */
int cpgo_rename_add(struct cpgo_rename *r, const char *spec, const char *origin);

/* Adds the rules of a file, one a line; blank lines and '#' comments are skipped. */
int cpgo_rename_add_map(struct cpgo_rename *r, const char *path);

/*
 * Applies the rules to `p`. Refuses (error naming both functions, no
 * function changed) a rename that makes two functions with samples share a name and
 * file, which would silently merge their profiles, unless `allow_merge`.
 * `name` names the profile in errors. The result passes cpgo_profile_check.
 */
int cpgo_rename_apply(struct cpgo_profile *p, struct cpgo_rename *r, int allow_merge,
		      const char *name, struct cpgo_rename_stats *st);

/*
 * Matches `s` against one pattern; on a match writes the renamed string
 * (malloc'ed) to *out and returns 1; 0 for no match, -1 on error.
 */
int cpgo_rename_match(const char *old_pat, const char *new_pat, const char *s, char **out);

#endif
