/*
 * Id lookups (pprof/profile.h): pprof ids are arbitrary nonzero numbers, so
 * each of the function, location and mapping arrays gets an index from id
 * to position, built once and dropped when an element is added. Ids that
 * are exactly 1..n in order (what cpgo writes) need no table at all.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void idmap_release(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

void cpgo_pprof_invalidate_ids(struct cpgo_profile_priv *pv)
{
	idmap_release(&pv->fn_map);
	idmap_release(&pv->loc_map);
	idmap_release(&pv->map_map);
}

/*
 * Builds the id -> position map for an array of `n` elements whose ids are
 * read by `id_at`. Duplicate ids are reported through *dup.
 */
static int idmap_build(struct idmap *m, size_t n, const void *base, size_t stride,
		       uint64_t *dup)
{
	size_t cap = 16;
	const char *b = base;

	*dup = 0;
	idmap_release(m);
	m->dense = 1;
	for (size_t i = 0; i < n; i++) {
		if (*(const uint64_t *)(b + i * stride) != i + 1) {
			m->dense = 0;
			break;
		}
	}
	if (m->dense) {
		m->built = 1;
		return 0;
	}
	while (cap < n * 2) {
		if (cap > SIZE_MAX / 4)
			return error("too many ids");
		cap *= 2;
	}
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		idmap_release(m);
		return error("out of memory indexing ids");
	}
	m->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = *(const uint64_t *)(b + i * stride);
		size_t h;
		if (!id) {
			*dup = 0;
			continue; /* reported by the checker */
		}
		h = hash_u64(id) & m->mask;
		while (m->keys[h]) {
			if (m->keys[h] == id) {
				if (!*dup)
					*dup = id;
				goto next;
			}
			h = (h + 1) & m->mask;
		}
		m->keys[h] = id;
		m->vals[h] = i;
next:;
	}
	m->built = 1;
	return 0;
}

static long idmap_get(const struct idmap *m, uint64_t id, size_t n)
{
	size_t h;
	if (!id)
		return -1;
	if (m->dense)
		return id <= n ? (long)(id - 1) : -1;
	if (!m->keys)
		return -1;
	h = hash_u64(id) & m->mask;
	while (m->keys[h]) {
		if (m->keys[h] == id)
			return (long)m->vals[h];
		h = (h + 1) & m->mask;
	}
	return -1;
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
	i = idmap_get(&p->priv->fn_map, id, p->n_function);
	return i < 0 ? NULL : &p->functions[i];
}

const struct cpgo_location *cpgo_profile_location(const struct cpgo_profile *p, uint64_t id)
{
	long i;
	if (!p->priv->loc_map.built && cpgo_profile_index((struct cpgo_profile *)p) < 0)
		return NULL;
	i = idmap_get(&p->priv->loc_map, id, p->n_location);
	return i < 0 ? NULL : &p->locations[i];
}

const struct cpgo_mapping *cpgo_profile_mapping(const struct cpgo_profile *p, uint64_t id)
{
	long i;
	if (!p->priv->map_map.built && cpgo_profile_index((struct cpgo_profile *)p) < 0)
		return NULL;
	i = idmap_get(&p->priv->map_map, id, p->n_mapping);
	return i < 0 ? NULL : &p->mappings[i];
}

