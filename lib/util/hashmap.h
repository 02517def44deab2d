#ifndef CPGO_UTIL_HASHMAP_H
#define CPGO_UTIL_HASHMAP_H

/*
 * The one hash table of the project: an open-addressing index over an array
 * the caller owns (git's hashmap keeps entries out of the table too). Slots
 * hold position + 1 (0 = empty) beside a 32-bit hash, in 8 bytes, so a probe
 * touches one cache line and most key comparisons are skipped. The caller
 * keeps its elements wherever it likes and compares keys itself:
 *
 *	uint32_t h = (uint32_t)cpgo_hash_fin(...);
 *	size_t slot = cpgo_hashmap_find(&map, h, eq, ctx, key);
 *	if (cpgo_hashmap_pos(&map, slot, &pos)) -> found at pos
 *	else { cpgo_hashmap_reserve(&map) first, find again, then cpgo_hashmap_set(...) }
 *
 * Insertion: call cpgo_hashmap_reserve() before cpgo_hashmap_find() for a
 * key that may be added, so the slot found stays valid for cpgo_hashmap_set().
 */

#include <stddef.h>
#include <stdint.h>

struct cpgo_hashmap_slot {
	uint32_t pos, hash;
};

struct cpgo_hashmap {
	struct cpgo_hashmap_slot *s;
	size_t mask, n;
	const char *what; /* names the table in errors */
};

#define CPGO_HASHMAP_INIT(what) { NULL, 0, 0, (what) }
/* The largest position a map can hold (positions are stored + 1 in 32 bits). */
#define CPGO_HASHMAP_MAX_POS (UINT32_MAX - 1u)

void cpgo_hashmap_init(struct cpgo_hashmap *m, const char *what);
void cpgo_hashmap_release(struct cpgo_hashmap *m);
void cpgo_hashmap_clear(struct cpgo_hashmap *m);
/* Keeps the load at or under 1/2 for one more entry; -1 (error set) on overflow/OOM. */
int cpgo_hashmap_reserve(struct cpgo_hashmap *m);
/* Sizes the table for `n` entries in all, so that many insertions never rehash. */
int cpgo_hashmap_reserve_n(struct cpgo_hashmap *m, size_t n);
/* Stores `pos` under `hash` in a slot cpgo_hashmap_find() returned empty; -1 if pos is too large. */
int cpgo_hashmap_set(struct cpgo_hashmap *m, size_t slot, uint32_t hash, size_t pos);

/*
 * Returns the slot holding a key equal to `key` (eq(ctx, pos, key) != 0), or
 * the empty slot where it would go. The table must have been reserved at
 * least once. Inline so that `eq` is inlined at each call site.
 */
static inline size_t cpgo_hashmap_find(const struct cpgo_hashmap *m, uint32_t hash,
				       int (*eq)(const void *ctx, size_t pos, const void *key),
				       const void *ctx, const void *key)
{
	size_t h = hash & m->mask;
	while (m->s[h].pos) {
		if (m->s[h].hash == hash && eq(ctx, m->s[h].pos - 1, key))
			return h;
		h = (h + 1) & m->mask;
	}
	return h;
}

/* 1 and the position when `slot` is occupied, else 0. */
static inline int cpgo_hashmap_pos(const struct cpgo_hashmap *m, size_t slot, size_t *pos)
{
	if (!m->s[slot].pos)
		return 0;
	*pos = m->s[slot].pos - 1;
	return 1;
}

#endif
