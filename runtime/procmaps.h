#ifndef CPGO_RT_PROCMAPS_H
#define CPGO_RT_PROCMAPS_H

/*
 * The process's memory map (/proc/self/maps). Prefix: procmaps_.
 */

#include <stddef.h>
#include <stdint.h>

#include "pprof/profile.h"

/*
 * Finds the end of the mapping that contains `addr` in a /proc/self/maps
 * text read from `fd`. Async-signal-safe (no allocation). 0 when not found.
 */
uintptr_t procmaps_find_end(int fd, uintptr_t addr);

/* An executable mapping of the profile being built, sorted by start. */
struct procmaps_entry {
	uintptr_t start, limit, offset;
	uint64_t id; /* the profile's mapping id */
};

/*
 * Adds one mapping per executable file-backed segment of /proc/self/maps to
 * p, the main executable's first (pprof's convention for the main binary),
 * with build ids from the loaded objects' notes. *out (malloc'd) is sorted.
 */
int procmaps_read(struct cpgo_profile *p, struct procmaps_entry **out, size_t *n_out);
/* An executable file mapping of /proc/self/maps. */
struct procmaps_file {
	uintptr_t start, limit, offset;
	char *path;
};

/* The executable file mappings now (malloc'd, free with procmaps_files_free). */
int procmaps_files(struct procmaps_file **out, size_t *n_out);
void procmaps_files_free(struct procmaps_file *v, size_t n);

/*
 * Adds the mapping of a file that is no longer mapped (dlclose'd) to p and
 * to *maps (kept sorted), at the stand-in address `at`, where the samples
 * taken in it were moved (stacks_remap) so that a later mapping at its old
 * address does not take them.
 */
int procmaps_add_retired(struct cpgo_profile *p, struct procmaps_entry **maps, size_t *n,
			 const struct procmaps_file *f, uintptr_t at);

/* The mapping id of addr, 0 when no executable mapping holds it. */
uint64_t procmaps_lookup(const struct procmaps_entry *maps, size_t n, uintptr_t addr);

#endif
