#include "util/hashmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* 2^33 slots of 8 bytes is 64 GiB: past any profile this machine can hold. */
#define HASHMAP_MAX_SLOTS ((size_t)1 << 33)
#define HASHMAP_MIN_SLOTS 1024

void cpgo_hashmap_init(struct cpgo_hashmap *m, const char *what)
{
	memset(m, 0, sizeof(*m));
	m->what = what;
}

void cpgo_hashmap_release(struct cpgo_hashmap *m)
{
	const char *what = m->what;
	free(m->s);
	cpgo_hashmap_init(m, what);
}

void cpgo_hashmap_clear(struct cpgo_hashmap *m)
{
	if (m->s)
		memset(m->s, 0, (m->mask + 1) * sizeof(*m->s));
	m->n = 0;
}

static int rehash(struct cpgo_hashmap *m, size_t cap)
{
	struct cpgo_hashmap_slot *ns;
	size_t nmask = cap - 1;

	if (cap > HASHMAP_MAX_SLOTS)
		return error("%s table too large (over %zu entries)", m->what ? m->what : "hash",
			     HASHMAP_MAX_SLOTS / 2);
	ns = calloc(cap, sizeof(*ns));
	if (!ns)
		return error("out of memory growing the %s table to %zu entries",
			     m->what ? m->what : "hash", cap);
	for (size_t i = 0; m->s && i <= m->mask; i++) {
		size_t h;
		if (!m->s[i].pos)
			continue;
		h = m->s[i].hash & nmask;
		while (ns[h].pos)
			h = (h + 1) & nmask;
		ns[h] = m->s[i];
	}
	free(m->s);
	m->s = ns;
	m->mask = nmask;
	return 0;
}

int cpgo_hashmap_reserve_n(struct cpgo_hashmap *m, size_t n)
{
	size_t cap = m->s ? m->mask + 1 : HASHMAP_MIN_SLOTS;

	if (m->s && n * 2 <= cap)
		return 0;
	while (n * 2 > cap) {
		if (cap > HASHMAP_MAX_SLOTS / 2)
			return error("%s table too large (over %zu entries)",
				     m->what ? m->what : "hash", HASHMAP_MAX_SLOTS / 2);
		cap *= 2;
	}
	return rehash(m, cap);
}

int cpgo_hashmap_reserve(struct cpgo_hashmap *m)
{
	if (m->s && (m->n + 1) * 2 <= m->mask + 1)
		return 0;
	return rehash(m, m->s ? (m->mask + 1) * 2 : HASHMAP_MIN_SLOTS);
}

int cpgo_hashmap_set(struct cpgo_hashmap *m, size_t slot, uint32_t hash, size_t pos)
{
	if (pos > CPGO_HASHMAP_MAX_POS - 1)
		return error("too many entries in the %s table (over %u)",
			     m->what ? m->what : "hash", CPGO_HASHMAP_MAX_POS - 1);
	m->s[slot].pos = (uint32_t)(pos + 1);
	m->s[slot].hash = hash;
	m->n++;
	return 0;
}
