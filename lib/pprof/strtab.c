/*
 * The string table (pprof/profile.h): interning for the builders and the
 * merge. Strings read from a file are hashed lazily, on the first
 * intern, so reading a profile that is never added to costs no table.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

struct str_key {
	const char *s;
	size_t len;
};

/* Strings are copied into chunks of this size, freed together with the profile. */
#define ARENA_CHUNK (256 * 1024)

char *cpgo_pprof_arena_alloc(struct cpgo_profile_priv *pv, size_t n)
{
	struct arena_chunk *c = pv->arena;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = malloc(sizeof(*c) + size);
		if (!c) {
			error("out of memory for the string table");
			return NULL;
		}
		c->next = pv->arena;
		c->used = 0;
		c->size = size;
		pv->arena = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static int str_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_profile *p = ctx;
	const struct str_key *k = key;
	return p->string_lens[pos] == k->len && !memcmp(p->strings[pos], k->s, k->len);
}

static uint32_t str_hash(const char *s, size_t len)
{
	return (uint32_t)cpgo_hash_fin(cpgo_hash_bytes(CPGO_HASH_SEED, s, len));
}

/* Hashes strings [str_hashed, n_string), which the decoder added unhashed. */
static int str_table_catch_up(struct cpgo_profile *p)
{
	struct cpgo_profile_priv *pv = p->priv;

	if (cpgo_hashmap_reserve_n(&pv->strs, p->n_string + 1) < 0)
		return -1;
	for (; pv->str_hashed < p->n_string; pv->str_hashed++) {
		size_t i = pv->str_hashed;
		struct str_key k = { p->strings[i], p->string_lens[i] };
		uint32_t h = str_hash(k.s, k.len);
		size_t slot = cpgo_hashmap_find(&pv->strs, h, str_eq, p, &k), pos;
		/* Duplicate strings are legal in pprof; the first one wins. */
		if (!cpgo_hashmap_pos(&pv->strs, slot, &pos) &&
		    cpgo_hashmap_set(&pv->strs, slot, h, i) < 0)
			return -1;
	}
	return 0;
}

static int64_t str_push(struct cpgo_profile *p, const char *s, size_t len)
{
	size_t old_alloc = p->alloc_string;
	char *copy;

	if (CPGO_GROW(p->strings, p->alloc_string, p->n_string + 1) < 0)
		return -1;
	/* string_lens shares alloc_string; grow it in step. */
	if (p->alloc_string != old_alloc || !p->string_lens) {
		size_t *nl = realloc(p->string_lens, p->alloc_string * sizeof(size_t));
		if (!nl)
			return error("out of memory for the string table");
		p->string_lens = nl;
	}
	copy = cpgo_pprof_arena_alloc(p->priv, len + 1);
	if (!copy)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	p->strings[p->n_string] = copy;
	p->string_lens[p->n_string] = len;
	return (int64_t)p->n_string++;
}

int64_t cpgo_profile_intern_len(struct cpgo_profile *p, const char *s, size_t len)
{
	struct cpgo_profile_priv *pv = p->priv;
	struct str_key k = { s, len };
	uint32_t h = str_hash(s, len);
	size_t slot, pos;
	int64_t idx;

	if (pv->str_hashed < p->n_string && str_table_catch_up(p) < 0)
		return -1;
	if (cpgo_hashmap_reserve(&pv->strs) < 0)
		return -1;
	slot = cpgo_hashmap_find(&pv->strs, h, str_eq, p, &k);
	if (cpgo_hashmap_pos(&pv->strs, slot, &pos))
		return (int64_t)pos;
	idx = str_push(p, s, len);
	if (idx < 0 || cpgo_hashmap_set(&pv->strs, slot, h, (size_t)idx) < 0)
		return -1;
	pv->str_hashed = p->n_string;
	return idx;
}

int64_t cpgo_profile_intern(struct cpgo_profile *p, const char *s)
{
	return cpgo_profile_intern_len(p, s ? s : "", s ? strlen(s) : 0);
}

void cpgo_pprof_strtab_release(struct cpgo_profile_priv *pv)
{
	cpgo_hashmap_release(&pv->strs);
	pv->str_hashed = 0;
}
