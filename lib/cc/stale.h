#ifndef CPGO_CC_STALE_H
#define CPGO_CC_STALE_H

/*
 * The stale-profile warning of `cpgo cc` (prefix cpgo_cc_stale_): after
 * each compile with a profile, the object's functions and code lines
 * (elf/objfuncs.h) are matched against the profile's samples of that
 * source file (elf/check.h's summary, made once per profile and cached).
 * Each compile appends its file's figures to a log kept per profile and
 * build directory; once the samples lost across the files compiled so far
 * exceed what --min-match allows for the whole profile, one line is printed
 * and a stamp keeps every later compile of that directory quiet (and
 * skips the check). Nothing here may fail a build: callers ignore errors.
 */

#include "util/buf.h"

/* The share (%) under which a profile is called stale, unless CPGO_MIN_MATCH says. */
#define CPGO_CC_STALE_MIN_MATCH 80.0

struct cpgo_cc_stale {
	double min_match;
	struct cpgo_buf log, stamp, summary;
};

void cpgo_cc_stale_init(struct cpgo_cc_stale *s);
void cpgo_cc_stale_release(struct cpgo_cc_stale *s);

/*
 * Should this compile be checked? `env` is $CPGO_MIN_MATCH (NULL: the
 * default; 0 turns the warning off). Returns 1 yes, 0 no (off, or this
 * directory was already warned about this profile), -1 on error.
 */
int cpgo_cc_stale_begin(struct cpgo_cc_stale *s, const char *cache_dir, const char *profile_sha,
			const char *build_dir, const char *env);

/*
 * After a successful compile of `source` into `object`: records its match
 * and, when the build's profile is now known to match under min_match,
 * returns 1 with the one-line warning in `msg` (for this process only: it
 * won the stamp). 0: nothing to say. -1: error (the object is not ELF,
 * ...): the build goes on.
 */
int cpgo_cc_stale_after(struct cpgo_cc_stale *s, const char *profile, const char *source,
			const char *object, const char *build_dir, struct cpgo_buf *msg);

#endif
