#ifndef CPGO_RT_STACKS_H
#define CPGO_RT_STACKS_H

/*
 * Stack aggregation: distinct stacks with their sample and period counts.
 * Prefix: stacks_. The entries are an array in first-seen order, indexed by
 * the project's hashmap; their addresses live in one array of pcs.
 */

#include <stddef.h>
#include <stdint.h>

#include "util/hashmap.h"

struct stacks_entry {
	size_t off;     /* into pcs */
	uint32_t depth; /* >= 1 */
	uint32_t hash;
	uint64_t count;
	uint64_t periods;
};

struct stacks {
	struct stacks_entry *v;
	size_t n, alloc;
	uintptr_t *pcs;
	size_t n_pcs, alloc_pcs;
	struct cpgo_hashmap map;
	uint64_t samples, periods;
};

void stacks_init(struct stacks *t);
void stacks_release(struct stacks *t);
/* Counts one more stack (leaf first; cut to SAMPLE_MAX_DEPTH frames). */
int stacks_add(struct stacks *t, const uintptr_t *pc, size_t depth, uint64_t count,
	       uint64_t periods);
/*
 * Moves every address in [lo, hi) to the same place in [to, to + hi - lo)
 * (a range no stack holds yet): the samples of an unloaded object, before
 * another object can be loaded at its address.
 */
int stacks_remap(struct stacks *t, uintptr_t lo, uintptr_t hi, uintptr_t to);
/* dst (uninitialized) becomes a copy of src. */
int stacks_copy(struct stacks *dst, const struct stacks *src);

#endif
