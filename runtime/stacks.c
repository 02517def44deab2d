/*
 * Stack aggregation (see stacks.h). Runs in the drain thread, never in the
 * signal handler.
 */
#include "stacks.h"

#include "ring.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

struct stack_key {
	const uintptr_t *pc;
	size_t depth;
};

void stacks_init(struct stacks *t)
{
	memset(t, 0, sizeof(*t));
	cpgo_hashmap_init(&t->map, "stack");
}

void stacks_release(struct stacks *t)
{
	free(t->v);
	free(t->pcs);
	cpgo_hashmap_release(&t->map);
	stacks_init(t);
}

static uint32_t hash_pcs(const uintptr_t *pc, size_t n)
{
	uint64_t h = cpgo_hash_mix(CPGO_HASH_SEED, n);

	for (size_t i = 0; i < n; i++)
		h = cpgo_hash_mix(h, (uint64_t)pc[i]);
	return (uint32_t)cpgo_hash_fin(h);
}

static int stack_eq(const void *ctx, size_t pos, const void *key)
{
	const struct stacks *t = ctx;
	const struct stack_key *k = key;
	const struct stacks_entry *e = &t->v[pos];

	return e->depth == k->depth && !memcmp(t->pcs + e->off, k->pc, k->depth * sizeof(*k->pc));
}

int stacks_add(struct stacks *t, const uintptr_t *pc, size_t depth, uint64_t count,
	       uint64_t periods)
{
	struct stack_key k;
	struct stacks_entry *e;
	uint32_t h;
	size_t slot, pos;

	if (!depth)
		return 0;
	if (depth > SAMPLE_MAX_DEPTH)
		depth = SAMPLE_MAX_DEPTH;
	k.pc = pc;
	k.depth = depth;
	h = hash_pcs(pc, depth);
	if (cpgo_hashmap_reserve(&t->map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&t->map, h, stack_eq, t, &k);
	if (cpgo_hashmap_pos(&t->map, slot, &pos)) {
		e = &t->v[pos];
	} else {
		if (CPGO_GROW(t->v, t->alloc, t->n + 1) < 0 ||
		    CPGO_GROW(t->pcs, t->alloc_pcs, t->n_pcs + depth) < 0 ||
		    cpgo_hashmap_set(&t->map, slot, h, t->n) < 0)
			return -1;
		e = &t->v[t->n++];
		memcpy(t->pcs + t->n_pcs, pc, depth * sizeof(*pc));
		e->off = t->n_pcs;
		e->depth = (uint32_t)depth;
		e->hash = h;
		e->count = 0;
		e->periods = 0;
		t->n_pcs += depth;
	}
	e->count += count;
	e->periods += periods;
	t->samples += count;
	t->periods += periods;
	return 0;
}

/* Rebuilds the index from the stored hashes. */
static int reindex(struct stacks *t)
{
	cpgo_hashmap_release(&t->map);
	cpgo_hashmap_init(&t->map, "stack");
	if (cpgo_hashmap_reserve_n(&t->map, t->n) < 0)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		struct stack_key k = { t->pcs + t->v[i].off, t->v[i].depth };
		size_t slot = cpgo_hashmap_find(&t->map, t->v[i].hash, stack_eq, t, &k);
		if (cpgo_hashmap_set(&t->map, slot, t->v[i].hash, i) < 0)
			return -1;
	}
	return 0;
}

int stacks_remap(struct stacks *t, uintptr_t lo, uintptr_t hi, uintptr_t to)
{
	int changed = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct stacks_entry *e = &t->v[i];
		uintptr_t *pc = t->pcs + e->off;
		int hit = 0;

		for (uint32_t k = 0; k < e->depth; k++) {
			if (pc[k] >= lo && pc[k] < hi) {
				pc[k] = pc[k] - lo + to;
				hit = 1;
			}
		}
		if (hit) {
			e->hash = hash_pcs(pc, e->depth);
			changed = 1;
		}
	}
	if (changed && reindex(t) < 0)
		return error_prefix("re-indexing the stack table");
	return 0;
}

int stacks_copy(struct stacks *dst, const struct stacks *src)
{
	stacks_init(dst);
	if (cpgo_array_reserve((void **)&dst->v, &dst->alloc, src->n, sizeof(*dst->v)) < 0 ||
	    cpgo_array_reserve((void **)&dst->pcs, &dst->alloc_pcs, src->n_pcs,
			       sizeof(*dst->pcs)) < 0 ||
	    cpgo_hashmap_reserve_n(&dst->map, src->n) < 0) {
		stacks_release(dst);
		return error_prefix("copying the stack table");
	}
	if (src->n)
		memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	if (src->n_pcs)
		memcpy(dst->pcs, src->pcs, src->n_pcs * sizeof(*dst->pcs));
	dst->n = src->n;
	dst->n_pcs = src->n_pcs;
	dst->samples = src->samples;
	dst->periods = src->periods;
	/* The index is rebuilt from the stored hashes: the copy may grow further. */
	if (reindex(dst) < 0) {
		stacks_release(dst);
		return -1;
	}
	return 0;
}
