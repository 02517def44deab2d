#ifndef CPGO_CC_LINK_H
#define CPGO_CC_LINK_H

/*
 * Function layout when `cpgo cc` drives a link: the profile's call graph
 * (link/layout.h), named after the symbols of the objects being linked,
 * handed to lld. GNU ld, Debian's default, cannot take it (and ignores the
 * call-graph sections clang emits), so without lld the link is left as it
 * is and the build is told once. The user's own linker choice and ordering
 * options win. What is added here must never fail a link: the caller reruns
 * the plain link when the one with these additions fails. Prefix: cpgo_cc_.
 */

#include <stddef.h>
#include <stdint.h>

#include "cc/cmd.h"
#include "util/buf.h"
#include "util/strvec.h"

struct cpgo_cc_link {
	struct cpgo_strvec add;  /* arguments to append; none: link as given */
	const char *note_key;    /* show `note` once per build directory; NULL: no note */
	struct cpgo_buf note;
	struct cpgo_buf file;    /* the ordering file written, if any */
	/* For CPGO_DEBUG: functions of the profile found in the objects, and not. */
	size_t n_found, n_unknown;
	uint64_t samples, samples_unknown;
	size_t n_objects;        /* ELF objects (and archives) whose symbols were read */
};

void cpgo_cc_link_init(struct cpgo_cc_link *lk);
void cpgo_cc_link_release(struct cpgo_cc_link *lk);

/*
 * Whether the user's command ends in a link that cpgo may order: not -c, -S,
 * -E or another mode that stops before linking, not a partial link (-r),
 * and with at least one input.
 */
int cpgo_cc_is_link(const struct cpgo_cc_cmd *cmd);

/*
 * The lld to use: `env` ($CPGO_LLD) when set, looked up on PATH ("" or
 * not found: none), else ld.lld-19 or ld.lld on PATH. 1 with the path in
 * `out`, 0 when there is none, -1 on error.
 */
int cpgo_cc_find_lld(const char *env, struct cpgo_buf *out);

/*
 * Plans the layout of the link command `link` (compiler words first) with
 * the pprof profile `profile`: reads the symbols of its object and archive
 * inputs, writes the ordering file for cmd->layout into `dir`, and fills
 * lk->add; or fills only the note when layout cannot be done (no lld, the
 * user chose another linker) and leaves lk->add empty when the user gave an
 * ordering of their own or there is nothing to place. `lld` is
 * cpgo_cc_find_lld's path, or NULL. Errors name the file.
 */
int cpgo_cc_link_plan(const struct cpgo_cc_cmd *cmd, const struct cpgo_strvec *link,
		      const char *profile, const char *lld, const char *dir,
		      struct cpgo_cc_link *lk);

#endif
