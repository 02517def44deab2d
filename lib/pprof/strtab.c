/*
 * The string table (pprof/profile.h): interning for the builders and the
 * merge. Strings read from a file are hashed lazily, on the first
 * intern, so reading a profile that is never added to costs no table.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const char *s, size_t len)
{
	/* FNV-1a: strings are short (symbol names), this is fast enough. */
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int str_table_insert(struct cpgo_profile_priv *pv, const struct cpgo_profile *p,
			    size_t idx)
{
	size_t h = hash_bytes(p->strings[idx], p->string_lens[idx]) & pv->str_mask;
	while (pv->str_slots[h]) {
		size_t o = pv->str_slots[h] - 1;
		/* Duplicate strings are legal in pprof; the first one wins. */
		if (p->string_lens[o] == p->string_lens[idx] &&
		    !memcmp(p->strings[o], p->strings[idx], p->string_lens[idx]))
			return 0;
		h = (h + 1) & pv->str_mask;
	}
	pv->str_slots[h] = idx + 1;
	return 0;
}

static int str_table_reserve(struct cpgo_profile *p, size_t n)
{
	struct cpgo_profile_priv *pv = p->priv;
	size_t want = 64;

	while (want < n * 2) {
		if (want > SIZE_MAX / 4)
			return error("string table too large");
		want *= 2;
	}
	if (pv->str_slots && pv->str_mask + 1 >= want)
		return 0;
	free(pv->str_slots);
	pv->str_slots = calloc(want, sizeof(size_t));
	if (!pv->str_slots)
		return error("out of memory for the string table");
	pv->str_mask = want - 1;
	for (size_t i = 0; i < pv->str_hashed; i++)
		str_table_insert(pv, p, i);
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
	size_t h;
	int64_t idx;

	/* Bring the hash up to date with strings added by the decoder. */
	if (pv->str_hashed < p->n_string || !pv->str_slots) {
		if (str_table_reserve(p, p->n_string + 1) < 0)
			return -1;
		for (; pv->str_hashed < p->n_string; pv->str_hashed++)
			str_table_insert(pv, p, pv->str_hashed);
	}
	h = hash_bytes(s, len) & pv->str_mask;
	while (pv->str_slots[h]) {
		size_t o = pv->str_slots[h] - 1;
		if (p->string_lens[o] == len && !memcmp(p->strings[o], s, len))
			return (int64_t)o;
		h = (h + 1) & pv->str_mask;
	}
	idx = str_push(p, s, len);
	if (idx < 0)
		return -1;
	if (str_table_reserve(p, p->n_string) < 0)
		return -1;
	str_table_insert(pv, p, (size_t)idx);
	pv->str_hashed = p->n_string;
	return idx;
}

int64_t cpgo_profile_intern(struct cpgo_profile *p, const char *s)
{
	return cpgo_profile_intern_len(p, s ? s : "", s ? strlen(s) : 0);
}

void cpgo_pprof_strtab_release(struct cpgo_profile_priv *pv)
{
	free(pv->str_slots);
	pv->str_slots = NULL;
	pv->str_mask = 0;
	pv->str_hashed = 0;
}
