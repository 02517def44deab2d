/*
 * Id lookups (pprof/profile.h): pprof ids are arbitrary nonzero numbers, so
 * each of the function, location and mapping arrays gets an index from id
 * to position, built once and dropped when an element is added. Ids that
 * are exactly 1..n in order (what cpgo writes) need no table at all.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

/* The elements an index points into: each starts with its uint64_t id. */
struct id_array {
	const char *base;
	size_t stride;
};

static uint64_t id_at(const struct id_array *a, size_t pos)
{
	return *(const uint64_t *)(a->base + pos * a->stride);
}

static int id_eq(const void *ctx, size_t pos, const void *key)
{
	return id_at(ctx, pos) == *(const uint64_t *)key;
}

static uint32_t id_hash(uint64_t id)
{
	return (uint32_t)cpgo_hash_fin(id);
}

static void idmap_release(struct idmap *m)
{
	cpgo_hashmap_release(&m->map);
	m->dense = 0;
	m->built = 0;
}

void cpgo_pprof_invalidate_ids(struct cpgo_profile_priv *pv)
{
	idmap_release(&pv->fn_map);
	idmap_release(&pv->loc_map);
	idmap_release(&pv->map_map);
}

/*
 * Builds the id -> position index of `n` elements of `stride` bytes at
 * `base`. The first duplicate id is reported through *dup; id 0 is left
 * to the checker.
 */
static int idmap_build(struct idmap *m, size_t n, const void *base, size_t stride,
		       uint64_t *dup)
{
	struct id_array a = { base, stride };

	*dup = 0;
	idmap_release(m);
	m->dense = 1;
	for (size_t i = 0; i < n && m->dense; i++)
		m->dense = id_at(&a, i) == i + 1;
	if (m->dense) {
		m->built = 1;
		return 0;
	}
	if (cpgo_hashmap_reserve_n(&m->map, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = id_at(&a, i);
		uint32_t h = id_hash(id);
		size_t slot, pos;

		if (!id)
			continue;
		slot = cpgo_hashmap_find(&m->map, h, id_eq, &a, &id);
		if (cpgo_hashmap_pos(&m->map, slot, &pos)) {
			if (!*dup)
				*dup = id;
			continue;
		}
		if (cpgo_hashmap_set(&m->map, slot, h, i) < 0)
			return -1;
	}
	m->built = 1;
	return 0;
}

static long idmap_get(const struct idmap *m, uint64_t id, const void *base, size_t stride,
		      size_t n)
{
	struct id_array a = { base, stride };
	size_t pos;

	if (!id)
		return -1;
	if (m->dense)
		return id <= n ? (long)(id - 1) : -1;
	if (!m->map.s)
		return -1;
	if (!cpgo_hashmap_pos(&m->map, cpgo_hashmap_find(&m->map, id_hash(id), id_eq, &a, &id),
			      &pos))
		return -1;
	return (long)pos;
}

/* Each struct starts with its uint64_t id, so one builder serves all three. */
_Static_assert(offsetof(struct cpgo_function, id) == 0, "id first");
_Static_assert(offsetof(struct cpgo_location, id) == 0, "id first");
_Static_assert(offsetof(struct cpgo_mapping, id) == 0, "id first");

int cpgo_pprof_index_all(struct cpgo_profile *p, uint64_t dups[3])
{
	struct cpgo_profile_priv *pv = p->priv;
	if (!pv->fn_map.built &&
	    idmap_build(&pv->fn_map, p->n_function, p->functions, sizeof(*p->functions), &dups[0]) < 0)
		return -1;
	if (!pv->loc_map.built &&
	    idmap_build(&pv->loc_map, p->n_location, p->locations, sizeof(*p->locations), &dups[1]) < 0)
		return -1;
	if (!pv->map_map.built &&
	    idmap_build(&pv->map_map, p->n_mapping, p->mappings, sizeof(*p->mappings), &dups[2]) < 0)
		return -1;
	return 0;
}

int cpgo_profile_index(struct cpgo_profile *p)
{
	uint64_t dups[3] = { 0, 0, 0 };
	return cpgo_pprof_index_all(p, dups);
}

const struct cpgo_function *cpgo_profile_function(const struct cpgo_profile *p, uint64_t id)
{
	long i;
	if (!p->priv->fn_map.built && cpgo_profile_index((struct cpgo_profile *)p) < 0)
		return NULL;
	i = idmap_get(&p->priv->fn_map, id, p->functions, sizeof(*p->functions), p->n_function);
	return i < 0 ? NULL : &p->functions[i];
}

const struct cpgo_location *cpgo_profile_location(const struct cpgo_profile *p, uint64_t id)
{
	long i;
	if (!p->priv->loc_map.built && cpgo_profile_index((struct cpgo_profile *)p) < 0)
		return NULL;
	i = idmap_get(&p->priv->loc_map, id, p->locations, sizeof(*p->locations),
		      p->n_location);
	return i < 0 ? NULL : &p->locations[i];
}

const struct cpgo_mapping *cpgo_profile_mapping(const struct cpgo_profile *p, uint64_t id)
{
	long i;
	if (!p->priv->map_map.built && cpgo_profile_index((struct cpgo_profile *)p) < 0)
		return NULL;
	i = idmap_get(&p->priv->map_map, id, p->mappings, sizeof(*p->mappings), p->n_mapping);
	return i < 0 ? NULL : &p->mappings[i];
}

