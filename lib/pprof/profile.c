/*
 * pprof codec and profile model (lib/profile.h).
 *
 * Decoding goes through protobuf-c (lib/profile.proto), gzip through
 * libdeflate. The protobuf-c message tree is converted into the flat model
 * and freed at once, so a profile costs its model only.
 */
#include "pprof/profile.h"
#include "util/error.h"
#include "pprof/profile.pb-c.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT ((size_t)1 << 30)
#define ARENA_CHUNK (256 * 1024)

/* An open-addressing map from 64-bit keys to array positions. */
struct idmap {
	uint64_t *keys; /* 0 = empty (pprof ids are never 0) */
	size_t *vals;
	size_t mask;
	int dense;      /* ids are exactly 1..n in order: no table needed */
	int built;
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

struct cpgo_profile_priv {
	struct arena_chunk *arena;
	/* String interning: hash slots hold string index + 1 (0 = empty). */
	size_t *str_slots;
	size_t str_mask;
	size_t str_hashed; /* strings [0, str_hashed) are in the table */
	struct idmap fn_map, loc_map, map_map;
	/* Largest ids seen, so added elements never reuse an id read from a file. */
	uint64_t max_fn_id, max_loc_id, max_map_id;
};

static uint64_t next_id(uint64_t *max, size_t n)
{
	if (*max < n)
		*max = n;
	return ++*max;
}

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

static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static char *arena_alloc(struct cpgo_profile_priv *pv, size_t n)
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

static void idmap_release(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static void priv_invalidate_ids(struct cpgo_profile_priv *pv)
{
	idmap_release(&pv->fn_map);
	idmap_release(&pv->loc_map);
	idmap_release(&pv->map_map);
}

int cpgo_profile_init(struct cpgo_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->priv = calloc(1, sizeof(*p->priv));
	if (!p->priv)
		return error("out of memory");
	if (cpgo_profile_intern_len(p, "", 0) != 0) {
		cpgo_profile_release(p);
		return -1;
	}
	return 0;
}

void cpgo_profile_release(struct cpgo_profile *p)
{
	if (p->priv) {
		struct arena_chunk *c = p->priv->arena, *next;
		for (; c; c = next) {
			next = c->next;
			free(c);
		}
		free(p->priv->str_slots);
		priv_invalidate_ids(p->priv);
		free(p->priv);
	}
	free(p->sample_type);
	free(p->samples);
	free(p->values);
	free(p->sample_locs);
	free(p->labels);
	free(p->mappings);
	free(p->locations);
	free(p->lines);
	free(p->functions);
	free(p->strings);
	free(p->string_lens);
	free(p->comments);
	memset(p, 0, sizeof(*p));
}

/* ---- strings ---------------------------------------------------------- */

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
	copy = arena_alloc(p->priv, len + 1);
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

/* ---- building --------------------------------------------------------- */

int cpgo_profile_add_sample_type(struct cpgo_profile *p, const char *type, const char *unit)
{
	int64_t t, u;
	if (p->n_sample)
		return error("sample types must be added before samples");
	t = cpgo_profile_intern(p, type);
	u = cpgo_profile_intern(p, unit);
	if (t < 0 || u < 0)
		return -1;
	if (CPGO_GROW(p->sample_type, p->alloc_sample_type, p->n_sample_type + 1) < 0)
		return -1;
	p->sample_type[p->n_sample_type].type = t;
	p->sample_type[p->n_sample_type].unit = u;
	p->n_sample_type++;
	return 0;
}

uint64_t cpgo_profile_add_function(struct cpgo_profile *p, const char *name,
				   const char *system_name, const char *filename,
				   int64_t start_line)
{
	struct cpgo_function *f;
	int64_t n = cpgo_profile_intern(p, name);
	int64_t s = cpgo_profile_intern(p, system_name ? system_name : name);
	int64_t fl = cpgo_profile_intern(p, filename);

	if (n < 0 || s < 0 || fl < 0)
		return 0;
	if (CPGO_GROW(p->functions, p->alloc_function, p->n_function + 1) < 0)
		return 0;
	f = &p->functions[p->n_function];
	f->id = next_id(&p->priv->max_fn_id, p->n_function);
	f->name = n;
	f->system_name = s;
	f->filename = fl;
	f->start_line = start_line;
	p->n_function++;
	priv_invalidate_ids(p->priv);
	return f->id;
}

uint64_t cpgo_profile_add_mapping(struct cpgo_profile *p, const struct cpgo_mapping *m)
{
	struct cpgo_mapping *d;
	if (CPGO_GROW(p->mappings, p->alloc_mapping, p->n_mapping + 1) < 0)
		return 0;
	d = &p->mappings[p->n_mapping];
	*d = *m;
	d->id = next_id(&p->priv->max_map_id, p->n_mapping);
	p->n_mapping++;
	priv_invalidate_ids(p->priv);
	return d->id;
}

uint64_t cpgo_profile_add_location(struct cpgo_profile *p, uint64_t mapping_id,
				   uint64_t address, const struct cpgo_line *lines,
				   size_t n_line)
{
	struct cpgo_location *l;
	if (CPGO_GROW(p->locations, p->alloc_location, p->n_location + 1) < 0 ||
	    CPGO_GROW(p->lines, p->alloc_lines, p->n_lines + n_line) < 0)
		return 0;
	if (n_line)
		memcpy(p->lines + p->n_lines, lines, n_line * sizeof(*lines));
	l = &p->locations[p->n_location];
	memset(l, 0, sizeof(*l));
	l->id = next_id(&p->priv->max_loc_id, p->n_location);
	l->mapping_id = mapping_id;
	l->address = address;
	l->line_off = p->n_lines;
	l->n_line = n_line;
	p->n_lines += n_line;
	p->n_location++;
	priv_invalidate_ids(p->priv);
	return l->id;
}

int cpgo_profile_add_sample(struct cpgo_profile *p, const uint64_t *locs, size_t n_loc,
			    const int64_t *values, const struct cpgo_label *labels,
			    size_t n_label)
{
	struct cpgo_sample *s;
	if (!p->n_sample_type)
		return error("add a sample type before adding samples");
	if (CPGO_GROW(p->samples, p->alloc_sample, p->n_sample + 1) < 0 ||
	    CPGO_GROW(p->sample_locs, p->alloc_sample_locs, p->n_sample_locs + n_loc) < 0 ||
	    CPGO_GROW(p->values, p->alloc_values, p->n_values + p->n_sample_type) < 0 ||
	    CPGO_GROW(p->labels, p->alloc_labels, p->n_labels + n_label) < 0)
		return -1;
	s = &p->samples[p->n_sample++];
	s->loc_off = p->n_sample_locs;
	s->n_loc = n_loc;
	if (n_loc)
		memcpy(p->sample_locs + p->n_sample_locs, locs, n_loc * sizeof(*locs));
	p->n_sample_locs += n_loc;
	memcpy(p->values + p->n_values, values, p->n_sample_type * sizeof(*values));
	p->n_values += p->n_sample_type;
	s->label_off = p->n_labels;
	s->n_label = n_label;
	if (n_label)
		memcpy(p->labels + p->n_labels, labels, n_label * sizeof(*labels));
	p->n_labels += n_label;
	return 0;
}

/* ---- id indexes ------------------------------------------------------- */

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

static int index_all(struct cpgo_profile *p, uint64_t dups[3])
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
	return index_all(p, dups);
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

/* ---- validation ------------------------------------------------------- */

#define STR_OK(p, i) ((i) >= 0 && (uint64_t)(i) < (p)->n_string)

int cpgo_profile_check(const struct cpgo_profile *p, const char *name)
{
	struct cpgo_profile *mp = (struct cpgo_profile *)p;
	uint64_t dups[3] = { 0, 0, 0 };

	if (!p->n_string || p->string_lens[0] != 0)
		return error("%s: string table must start with the empty string", name);
	if (p->priv->fn_map.built)
		priv_invalidate_ids(p->priv);
	if (index_all(mp, dups) < 0)
		return error_prefix("%s", name);
	if (dups[0])
		return error("%s: function id %llu is used twice", name, (unsigned long long)dups[0]);
	if (dups[1])
		return error("%s: location id %llu is used twice", name, (unsigned long long)dups[1]);
	if (dups[2])
		return error("%s: mapping id %llu is used twice", name, (unsigned long long)dups[2]);

	for (size_t i = 0; i < p->n_sample_type; i++)
		if (!STR_OK(p, p->sample_type[i].type) || !STR_OK(p, p->sample_type[i].unit))
			return error("%s: sample type %zu has a string index out of range", name, i);
	if (!STR_OK(p, p->period_type.type) || !STR_OK(p, p->period_type.unit))
		return error("%s: period type has a string index out of range", name);
	if (!STR_OK(p, p->drop_frames) || !STR_OK(p, p->keep_frames) ||
	    !STR_OK(p, p->default_sample_type))
		return error("%s: drop_frames/keep_frames/default_sample_type string index out of range", name);
	for (size_t i = 0; i < p->n_comment; i++)
		if (!STR_OK(p, p->comments[i]))
			return error("%s: comment %zu has a string index out of range", name, i);

	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *f = &p->functions[i];
		if (!f->id)
			return error("%s: function #%zu has id 0", name, i);
		if (!STR_OK(p, f->name) || !STR_OK(p, f->system_name) || !STR_OK(p, f->filename))
			return error("%s: function %llu has a string index out of range",
				     name, (unsigned long long)f->id);
	}
	for (size_t i = 0; i < p->n_mapping; i++) {
		const struct cpgo_mapping *m = &p->mappings[i];
		if (!m->id)
			return error("%s: mapping #%zu has id 0", name, i);
		if (!STR_OK(p, m->filename) || !STR_OK(p, m->build_id))
			return error("%s: mapping %llu has a string index out of range",
				     name, (unsigned long long)m->id);
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *l = &p->locations[i];
		if (!l->id)
			return error("%s: location #%zu has id 0", name, i);
		if (l->mapping_id && !cpgo_profile_mapping(p, l->mapping_id))
			return error("%s: location %llu refers to mapping %llu, which does not exist",
				     name, (unsigned long long)l->id, (unsigned long long)l->mapping_id);
		if (l->line_off > p->n_lines || l->n_line > p->n_lines - l->line_off)
			return error("%s: location %llu has lines out of range", name,
				     (unsigned long long)l->id);
		for (size_t j = 0; j < l->n_line; j++) {
			uint64_t fid = p->lines[l->line_off + j].function_id;
			if (!cpgo_profile_function(p, fid))
				return error("%s: location %llu refers to function %llu, which does not exist",
					     name, (unsigned long long)l->id, (unsigned long long)fid);
		}
	}
	if (p->n_values != p->n_sample * p->n_sample_type)
		return error("%s: %zu values for %zu samples of %zu types", name,
			     p->n_values, p->n_sample, p->n_sample_type);
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		if (s->loc_off > p->n_sample_locs || s->n_loc > p->n_sample_locs - s->loc_off ||
		    s->label_off > p->n_labels || s->n_label > p->n_labels - s->label_off)
			return error("%s: sample %zu is out of range", name, i);
		for (size_t j = 0; j < s->n_loc; j++) {
			uint64_t lid = p->sample_locs[s->loc_off + j];
			if (!cpgo_profile_location(p, lid))
				return error("%s: sample %zu refers to location %llu, which does not exist",
					     name, i, (unsigned long long)lid);
		}
		for (size_t j = 0; j < s->n_label; j++) {
			const struct cpgo_label *lb = &p->labels[s->label_off + j];
			if (!STR_OK(p, lb->key) || !STR_OK(p, lb->str) || !STR_OK(p, lb->num_unit))
				return error("%s: sample %zu has a label string index out of range",
					     name, i);
		}
	}
	return 0;
}

/* ---- decoding --------------------------------------------------------- */

/* Decoded sizes are known up front: allocate exactly, not by doubling. */
#define RESERVE(ptr, alloc, n) cpgo_array_reserve((void **)&(ptr), &(alloc), (n), sizeof(*(ptr)))

static int gunzip(const unsigned char *in, size_t len, const char *name, size_t limit,
		  struct cpgo_buf *out)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t pos = 0;
	int ret = -1;

	if (!d)
		return error("%s: out of memory for the decompressor", name);
	/*
	 * The last member's trailer holds the uncompressed size mod 2^32; use it
	 * as a first guess and refuse a claimed size over the limit at once, so
	 * a gzip bomb costs nothing. A lying trailer only costs retries bounded
	 * by the limit.
	 */
	while (pos < len) {
		size_t guess, in_used = 0, out_got = 0;
		enum libdeflate_result r;

		if (len - pos < 18) {
			error("%s: truncated gzip data", name);
			goto cleanup;
		}
		if (in[pos] != 0x1f || in[pos + 1] != 0x8b) {
			/* Trailing garbage after a complete member: what gzip(1) warns about. */
			if (pos)
				break;
			error("%s: not gzip data", name);
			goto cleanup;
		}
		guess = (size_t)in[len - 4] | (size_t)in[len - 3] << 8 |
			(size_t)in[len - 2] << 16 | (size_t)in[len - 1] << 24;
		if (guess > limit - out->len) {
			error("%s: gzip trailer claims %zu bytes decompressed, over the limit of "
			      "%zu bytes (a gzip bomb, or truncated data)", name, guess, limit);
			goto cleanup;
		}
		if (guess < 4096)
			guess = 4096;
		for (;;) {
			if (guess > limit - out->len)
				guess = limit - out->len;
			if (cpgo_buf_grow(out, guess) < 0)
				goto cleanup;
			r = libdeflate_gzip_decompress_ex(d, in + pos, len - pos, out->buf + out->len,
							  guess, &in_used, &out_got);
			if (r == LIBDEFLATE_SUCCESS)
				break;
			if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
				if (guess >= limit - out->len) {
					error("%s: decompressed data is over the limit of %zu bytes",
					      name, limit);
					goto cleanup;
				}
				guess = guess > (SIZE_MAX / 4) ? limit : guess * 4;
				continue;
			}
			error("%s: corrupt or truncated gzip data", name);
			goto cleanup;
		}
		out->len += out_got;
		out->buf[out->len] = '\0';
		pos += in_used;
	}
	ret = 0;
cleanup:
	libdeflate_free_decompressor(d);
	return ret;
}

/*
 * Copies the small top-level fields (strings, sample types, mappings,
 * header) of a decoded message into the model; samples, locations and
 * functions are streamed by stream_decode().
 */
static int from_message(struct cpgo_profile *p, const Perftools__Profiles__Profile *m,
			const char *name)
{
	/* Strings first: the decoder's table becomes ours (hashing happens lazily). */
	p->n_string = 0;
	p->priv->str_hashed = 0;
	if (m->n_string_table == 0)
		return error("%s: empty string table (not a pprof profile?)", name);
	if (RESERVE(p->strings, p->alloc_string, m->n_string_table) < 0)
		return -1;
	{
		size_t *nl = realloc(p->string_lens, p->alloc_string * sizeof(size_t));
		if (!nl)
			return error("out of memory");
		p->string_lens = nl;
	}
	for (size_t i = 0; i < m->n_string_table; i++) {
		size_t len = strlen(m->string_table[i]);
		char *c = arena_alloc(p->priv, len + 1);
		if (!c)
			return -1;
		memcpy(c, m->string_table[i], len + 1);
		p->strings[i] = c;
		p->string_lens[i] = len;
	}
	p->n_string = m->n_string_table;

	if (RESERVE(p->sample_type, p->alloc_sample_type, m->n_sample_type) < 0)
		return -1;
	for (size_t i = 0; i < m->n_sample_type; i++) {
		p->sample_type[i].type = m->sample_type[i]->type;
		p->sample_type[i].unit = m->sample_type[i]->unit;
	}
	p->n_sample_type = m->n_sample_type;

	if (RESERVE(p->mappings, p->alloc_mapping, m->n_mapping) < 0)
		return -1;
	for (size_t i = 0; i < m->n_mapping; i++) {
		const Perftools__Profiles__Mapping *s = m->mapping[i];
		struct cpgo_mapping *d = &p->mappings[i];
		d->id = s->id;
		d->memory_start = s->memory_start;
		d->memory_limit = s->memory_limit;
		d->file_offset = s->file_offset;
		d->filename = s->filename;
		d->build_id = s->build_id;
		d->has_functions = s->has_functions;
		d->has_filenames = s->has_filenames;
		d->has_line_numbers = s->has_line_numbers;
		d->has_inline_frames = s->has_inline_frames;
	}
	p->n_mapping = m->n_mapping;

	p->drop_frames = m->drop_frames;
	p->keep_frames = m->keep_frames;
	p->time_nanos = m->time_nanos;
	p->duration_nanos = m->duration_nanos;
	if (m->period_type) {
		p->period_type.type = m->period_type->type;
		p->period_type.unit = m->period_type->unit;
	}
	p->period = m->period;
	if (RESERVE(p->comments, p->alloc_comment, m->n_comment) < 0)
		return -1;
	if (m->n_comment)
		memcpy(p->comments, m->comment, m->n_comment * sizeof(int64_t));
	p->n_comment = m->n_comment;
	p->default_sample_type = m->default_sample_type;
	priv_invalidate_ids(p->priv);
	return 0;
}


static void note_max_ids(struct cpgo_profile *p)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->functions[i].id > p->priv->max_fn_id)
			p->priv->max_fn_id = p->functions[i].id;
	for (size_t i = 0; i < p->n_location; i++)
		if (p->locations[i].id > p->priv->max_loc_id)
			p->priv->max_loc_id = p->locations[i].id;
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mappings[i].id > p->priv->max_map_id)
			p->priv->max_map_id = p->mappings[i].id;
}

/*
 * Streaming decode. protobuf-c unpacks a whole message tree at once, which
 * for a large profile costs several times the model. So the top level is
 * split here (only the wire framing: tag, length) and protobuf-c decodes
 * each Sample, Location and Function on its own, which is copied into the
 * model and freed at once. Every other top-level field is gathered into
 * one small Profile message that protobuf-c decodes whole (protobuf lets
 * fields of one message be concatenated in any order).
 */
enum { F_SAMPLE = 2, F_LOCATION = 4, F_FUNCTION = 5 };

static int pb_varint(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *q = *pp;
	uint64_t r = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (q >= end)
			return -1;
		r |= (uint64_t)(*q & 0x7f) << shift;
		if (!(*q++ & 0x80)) {
			*v = r;
			*pp = q;
			return 0;
		}
	}
	return -1;
}

/* Calls back with each top-level field: number, wire type, whole field bytes, payload. */
struct pb_field {
	uint64_t num;
	unsigned wire;
	const unsigned char *start, *end;       /* the whole field, tag included */
	const unsigned char *payload;           /* for length-delimited fields */
	size_t payload_len;
};

static int pb_next(const unsigned char **pp, const unsigned char *end, struct pb_field *f)
{
	const unsigned char *q = *pp;
	uint64_t key, v;

	f->start = q;
	if (pb_varint(&q, end, &key) < 0)
		return -1;
	f->num = key >> 3;
	f->wire = key & 7;
	f->payload = NULL;
	f->payload_len = 0;
	switch (f->wire) {
	case 0:
		if (pb_varint(&q, end, &v) < 0)
			return -1;
		break;
	case 1:
		if (end - q < 8)
			return -1;
		q += 8;
		break;
	case 2:
		if (pb_varint(&q, end, &v) < 0 || v > (uint64_t)(end - q))
			return -1;
		f->payload = q;
		f->payload_len = v;
		q += v;
		break;
	case 5:
		if (end - q < 4)
			return -1;
		q += 4;
		break;
	default:
		return -1; /* groups are not used by profile.proto */
	}
	if (!f->num)
		return -1;
	f->end = q;
	*pp = q;
	return 0;
}

static int streamed(const struct pb_field *f)
{
	return f->wire == 2 &&
	       (f->num == F_SAMPLE || f->num == F_LOCATION || f->num == F_FUNCTION);
}

static int add_decoded_sample(struct cpgo_profile *p, const Perftools__Profiles__Sample *s,
			      const char *name)
{
	struct cpgo_sample *d;

	if (s->n_value != p->n_sample_type)
		return error("%s: sample %zu has %zu values but the profile has %zu sample types",
			     name, p->n_sample, s->n_value, p->n_sample_type);
	if (CPGO_GROW(p->samples, p->alloc_sample, p->n_sample + 1) < 0 ||
	    CPGO_GROW(p->sample_locs, p->alloc_sample_locs, p->n_sample_locs + s->n_location_id) < 0 ||
	    CPGO_GROW(p->values, p->alloc_values, p->n_values + s->n_value) < 0 ||
	    CPGO_GROW(p->labels, p->alloc_labels, p->n_labels + s->n_label) < 0)
		return -1;
	d = &p->samples[p->n_sample++];
	d->loc_off = p->n_sample_locs;
	d->n_loc = s->n_location_id;
	if (s->n_location_id)
		memcpy(p->sample_locs + p->n_sample_locs, s->location_id,
		       s->n_location_id * sizeof(uint64_t));
	p->n_sample_locs += s->n_location_id;
	if (s->n_value)
		memcpy(p->values + p->n_values, s->value, s->n_value * sizeof(int64_t));
	p->n_values += s->n_value;
	d->label_off = p->n_labels;
	d->n_label = s->n_label;
	for (size_t j = 0; j < s->n_label; j++) {
		struct cpgo_label *l = &p->labels[p->n_labels++];
		l->key = s->label[j]->key;
		l->str = s->label[j]->str;
		l->num = s->label[j]->num;
		l->num_unit = s->label[j]->num_unit;
	}
	return 0;
}

static int add_decoded_location(struct cpgo_profile *p, const Perftools__Profiles__Location *s)
{
	struct cpgo_location *d;

	if (CPGO_GROW(p->locations, p->alloc_location, p->n_location + 1) < 0 ||
	    CPGO_GROW(p->lines, p->alloc_lines, p->n_lines + s->n_line) < 0)
		return -1;
	d = &p->locations[p->n_location++];
	d->id = s->id;
	d->mapping_id = s->mapping_id;
	d->address = s->address;
	d->is_folded = s->is_folded;
	d->line_off = p->n_lines;
	d->n_line = s->n_line;
	for (size_t j = 0; j < s->n_line; j++) {
		struct cpgo_line *l = &p->lines[p->n_lines++];
		l->function_id = s->line[j]->function_id;
		l->line = s->line[j]->line;
		l->column = s->line[j]->column;
	}
	return 0;
}

static int add_decoded_function(struct cpgo_profile *p, const Perftools__Profiles__Function *s)
{
	struct cpgo_function *d;

	if (CPGO_GROW(p->functions, p->alloc_function, p->n_function + 1) < 0)
		return -1;
	d = &p->functions[p->n_function++];
	d->id = s->id;
	d->name = s->name;
	d->system_name = s->system_name;
	d->filename = s->filename;
	d->start_line = s->start_line;
	return 0;
}

static int stream_decode(struct cpgo_profile *p, const unsigned char *in, size_t len,
			 const char *name)
{
	const unsigned char *q = in, *end = in + len;
	struct cpgo_buf rest = CPGO_BUF_INIT;
	Perftools__Profiles__Profile *m = NULL;
	struct pb_field f;
	size_t counts[6] = { 0 };
	int ret = -1;

	/* Pass 1: gather the small fields, count the streamed ones. */
	while (q < end) {
		if (pb_next(&q, end, &f) < 0) {
			error("%s: not a valid pprof profile (truncated or corrupt protobuf; "
			      "expected gzipped or raw profile.proto data)", name);
			goto cleanup;
		}
		if (streamed(&f))
			counts[f.num]++;
		else if (cpgo_buf_add(&rest, f.start, (size_t)(f.end - f.start)) < 0)
			goto cleanup;
	}
	m = perftools__profiles__profile__unpack(NULL, rest.len, (const uint8_t *)rest.buf);
	if (!m) {
		error("%s: not a valid pprof profile (corrupt protobuf fields)", name);
		goto cleanup;
	}
	cpgo_buf_release(&rest);
	if (from_message(p, m, name) < 0)
		goto cleanup;
	if (RESERVE(p->samples, p->alloc_sample, counts[F_SAMPLE]) < 0 ||
	    RESERVE(p->locations, p->alloc_location, counts[F_LOCATION]) < 0 ||
	    RESERVE(p->functions, p->alloc_function, counts[F_FUNCTION]) < 0)
		goto cleanup;

	/* Pass 2: decode the streamed messages one at a time. */
	for (q = in; q < end;) {
		const char *what = NULL;
		int r = 0;

		if (pb_next(&q, end, &f) < 0 || !streamed(&f))
			continue;
		if (f.num == F_SAMPLE) {
			Perftools__Profiles__Sample *s = perftools__profiles__sample__unpack(
				NULL, f.payload_len, f.payload);
			what = "sample";
			if (s)
				r = add_decoded_sample(p, s, name);
			perftools__profiles__sample__free_unpacked(s, NULL);
			if (!s)
				goto bad;
		} else if (f.num == F_LOCATION) {
			Perftools__Profiles__Location *s = perftools__profiles__location__unpack(
				NULL, f.payload_len, f.payload);
			what = "location";
			if (s)
				r = add_decoded_location(p, s);
			perftools__profiles__location__free_unpacked(s, NULL);
			if (!s)
				goto bad;
		} else {
			Perftools__Profiles__Function *s = perftools__profiles__function__unpack(
				NULL, f.payload_len, f.payload);
			what = "function";
			if (s)
				r = add_decoded_function(p, s);
			perftools__profiles__function__free_unpacked(s, NULL);
			if (!s)
				goto bad;
		}
		if (r < 0)
			goto cleanup;
		continue;
bad:
		error("%s: not a valid pprof profile (corrupt %s message at byte %zu)", name, what,
		      (size_t)(f.start - in));
		goto cleanup;
	}
	note_max_ids(p);
	priv_invalidate_ids(p->priv);
	ret = 0;
cleanup:
	if (m)
		perftools__profiles__profile__free_unpacked(m, NULL);
	cpgo_buf_release(&rest);
	return ret;
}

/* A first line of printable text with a perf time stamp (".123456:") in it. */
static int looks_like_perf_script(const unsigned char *in, size_t len)
{
	size_t n = len < 512 ? len : 512;
	for (size_t i = 0; i < n && in[i] != '\n'; i++) {
		if ((in[i] < 0x20 || in[i] > 0x7e) && in[i] != '\t')
			return 0;
		if (in[i] == '.' && i + 7 < n && in[i + 7] == ':') {
			size_t d = 1;
			while (d < 7 && in[i + d] >= '0' && in[i + d] <= '9')
				d++;
			if (d == 7)
				return 1;
		}
	}
	return 0;
}

/*
 * Profiles of other profilers get a message that says what they are and
 * how to convert them, not "corrupt protobuf".
 */
static int foreign_format(const unsigned char *in, size_t len, const char *name)
{
	static const unsigned char legacy64[24] = { [8] = 3 }, legacy32[12] = { [4] = 3 };
	if (len >= 8 && !memcmp(in, "PERFILE2", 8))
		return error("%s: a Linux perf.data file, not a pprof profile: convert it with "
			     "'cpgo import %s'", name, name);
	if ((len >= 24 && !memcmp(in, legacy64, 24)) || (len >= 12 && !memcmp(in, legacy32, 12)))
		return error("%s: a gperftools (legacy) CPU profile, not a pprof profile: convert it "
			     "with 'cpgo import %s'", name, name);
	if (looks_like_perf_script(in, len))
		return error("%s: perf script text, not a pprof profile: convert it with "
			     "'cpgo import %s'", name, name);
	return 0;
}

/*
 * Decodes `in` (gzip or raw). When `owned` is given it holds `in` and is
 * released as soon as it is no longer needed, to keep the peak low.
 */
static int parse_impl(struct cpgo_profile *p, const unsigned char *in, size_t len,
		      struct cpgo_buf *owned, const char *name, const struct cpgo_read_opts *opts)
{
	size_t limit = opts && opts->max_decompressed ? opts->max_decompressed : DEFAULT_LIMIT;
	struct cpgo_buf raw = CPGO_BUF_INIT;
	int ret = -1;

	if (cpgo_profile_init(p) < 0)
		return -1;
	if (len == 0) {
		error("%s: empty file, not a pprof profile", name);
		goto cleanup;
	}
	if (foreign_format(in, len, name) < 0)
		goto cleanup;
	if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
		if (gunzip(in, len, name, limit, &raw) < 0)
			goto cleanup;
		if (owned)
			cpgo_buf_release(owned);
		in = (const unsigned char *)raw.buf;
		len = raw.len;
	} else if (len > limit) {
		error("%s: %zu bytes is over the limit of %zu", name, len, limit);
		goto cleanup;
	}
	if (stream_decode(p, in, len, name) < 0)
		goto cleanup;
	cpgo_buf_release(&raw);
	if (owned)
		cpgo_buf_release(owned);
	if (cpgo_profile_check(p, name) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&raw);
	if (ret < 0)
		cpgo_profile_release(p);
	return ret;
}

int cpgo_profile_parse(struct cpgo_profile *p, const void *data, size_t len,
		       const char *name, const struct cpgo_read_opts *opts)
{
	return parse_impl(p, data, len, NULL, name, opts);
}

int cpgo_profile_read(struct cpgo_profile *p, const char *path,
		      const struct cpgo_read_opts *opts)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	size_t limit = opts && opts->max_compressed ? opts->max_compressed : DEFAULT_LIMIT;
	int ret;

	memset(p, 0, sizeof(*p));
	if (cpgo_read_file(path, &b, limit) < 0) {
		cpgo_buf_release(&b);
		return -1;
	}
	ret = parse_impl(p, (const unsigned char *)b.buf, b.len, &b,
			 strcmp(path, "-") ? path : "<stdin>", opts);
	cpgo_buf_release(&b);
	return ret;
}

/* ---- encoding --------------------------------------------------------- */

static int pb_put_varint(struct cpgo_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return cpgo_buf_add(b, tmp, n);
}

/* Appends one length-delimited top-level field holding a packed message. */
static int put_message(struct cpgo_buf *b, unsigned field, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (pb_put_varint(b, (uint64_t)field << 3 | 2) < 0 || pb_put_varint(b, n) < 0 ||
	    cpgo_buf_grow(b, n) < 0)
		return -1;
	protobuf_c_message_pack(msg, (uint8_t *)b->buf + b->len);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

/* Encodes the raw protobuf. Like the decoder, it packs the large repeated
 * messages one at a time (no message tree of the whole profile). */
static int encode_raw(const struct cpgo_profile *p, struct cpgo_buf *out)
{
	Perftools__Profiles__Profile m = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType *st = NULL, **stp = NULL, pt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	Perftools__Profiles__Mapping *mp = NULL, **mpp = NULL;
	Perftools__Profiles__Label *lb = NULL, **lbp = NULL;
	Perftools__Profiles__Line *ln = NULL, **lnp = NULL;
	size_t max_label = 0, max_line = 0;
	int ret = -1;

#define ALLOC(ptr, n) \
	do { \
		ptr = calloc((n) ? (n) : 1, sizeof(*(ptr))); \
		if (!ptr) { \
			error("out of memory encoding a profile"); \
			goto cleanup; \
		} \
	} while (0)

	/* Small fields first, as one message: sample types, mappings, strings, header. */
	ALLOC(st, p->n_sample_type);
	ALLOC(stp, p->n_sample_type);
	for (size_t i = 0; i < p->n_sample_type; i++) {
		perftools__profiles__value_type__init(&st[i]);
		st[i].type = p->sample_type[i].type;
		st[i].unit = p->sample_type[i].unit;
		stp[i] = &st[i];
	}
	m.n_sample_type = p->n_sample_type;
	m.sample_type = stp;
	ALLOC(mp, p->n_mapping);
	ALLOC(mpp, p->n_mapping);
	for (size_t i = 0; i < p->n_mapping; i++) {
		const struct cpgo_mapping *s = &p->mappings[i];
		perftools__profiles__mapping__init(&mp[i]);
		mp[i].id = s->id;
		mp[i].memory_start = s->memory_start;
		mp[i].memory_limit = s->memory_limit;
		mp[i].file_offset = s->file_offset;
		mp[i].filename = s->filename;
		mp[i].build_id = s->build_id;
		mp[i].has_functions = s->has_functions;
		mp[i].has_filenames = s->has_filenames;
		mp[i].has_line_numbers = s->has_line_numbers;
		mp[i].has_inline_frames = s->has_inline_frames;
		mpp[i] = &mp[i];
	}
	m.n_mapping = p->n_mapping;
	m.mapping = mpp;
	m.n_string_table = p->n_string;
	m.string_table = p->strings;
	m.drop_frames = p->drop_frames;
	m.keep_frames = p->keep_frames;
	m.time_nanos = p->time_nanos;
	m.duration_nanos = p->duration_nanos;
	pt.type = p->period_type.type;
	pt.unit = p->period_type.unit;
	m.period_type = &pt;
	m.period = p->period;
	m.n_comment = p->n_comment;
	m.comment = p->comments;
	m.default_sample_type = p->default_sample_type;
	{
		size_t n = perftools__profiles__profile__get_packed_size(&m);
		if (cpgo_buf_grow(out, n) < 0)
			goto cleanup;
		perftools__profiles__profile__pack(&m, (uint8_t *)out->buf + out->len);
		out->len += n;
	}

	for (size_t i = 0; i < p->n_sample; i++)
		if (p->samples[i].n_label > max_label)
			max_label = p->samples[i].n_label;
	for (size_t i = 0; i < p->n_location; i++)
		if (p->locations[i].n_line > max_line)
			max_line = p->locations[i].n_line;
	ALLOC(lb, max_label);
	ALLOC(lbp, max_label);
	ALLOC(ln, max_line);
	ALLOC(lnp, max_line);

	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		Perftools__Profiles__Sample sm = PERFTOOLS__PROFILES__SAMPLE__INIT;
		sm.n_location_id = s->n_loc;
		sm.location_id = p->sample_locs + s->loc_off;
		sm.n_value = p->n_sample_type;
		sm.value = (int64_t *)p->values + i * p->n_sample_type;
		for (size_t j = 0; j < s->n_label; j++) {
			const struct cpgo_label *l = &p->labels[s->label_off + j];
			perftools__profiles__label__init(&lb[j]);
			lb[j].key = l->key;
			lb[j].str = l->str;
			lb[j].num = l->num;
			lb[j].num_unit = l->num_unit;
			lbp[j] = &lb[j];
		}
		sm.n_label = s->n_label;
		sm.label = lbp;
		if (put_message(out, F_SAMPLE, &sm.base) < 0)
			goto cleanup;
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *s = &p->locations[i];
		Perftools__Profiles__Location lc = PERFTOOLS__PROFILES__LOCATION__INIT;
		lc.id = s->id;
		lc.mapping_id = s->mapping_id;
		lc.address = s->address;
		lc.is_folded = s->is_folded;
		for (size_t j = 0; j < s->n_line; j++) {
			const struct cpgo_line *l = &p->lines[s->line_off + j];
			perftools__profiles__line__init(&ln[j]);
			ln[j].function_id = l->function_id;
			ln[j].line = l->line;
			ln[j].column = l->column;
			lnp[j] = &ln[j];
		}
		lc.n_line = s->n_line;
		lc.line = lnp;
		if (put_message(out, F_LOCATION, &lc.base) < 0)
			goto cleanup;
	}
	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *s = &p->functions[i];
		Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT;
		fn.id = s->id;
		fn.name = s->name;
		fn.system_name = s->system_name;
		fn.filename = s->filename;
		fn.start_line = s->start_line;
		if (put_message(out, F_FUNCTION, &fn.base) < 0)
			goto cleanup;
	}
#undef ALLOC
	ret = 0;
cleanup:
	free(st); free(stp); free(mp); free(mpp);
	free(lb); free(lbp); free(ln); free(lnp);
	return ret;
}

int cpgo_profile_encode(const struct cpgo_profile *p, struct cpgo_buf *out, int gzip)
{
	struct cpgo_buf raw = CPGO_BUF_INIT;
	struct libdeflate_compressor *c = NULL;
	int ret = -1;

	if (!gzip)
		return encode_raw(p, out);
	if (encode_raw(p, &raw) < 0)
		goto cleanup;
	/* Level 1: profiles are written often (merge, runtime); size is secondary. */
	c = libdeflate_alloc_compressor(1);
	if (!c) {
		error("out of memory for the compressor");
		goto cleanup;
	}
	{
		size_t bound = libdeflate_gzip_compress_bound(c, raw.len), n;
		if (cpgo_buf_grow(out, bound) < 0)
			goto cleanup;
		n = libdeflate_gzip_compress(c, raw.buf, raw.len, out->buf + out->len, bound);
		if (!n) {
			error("gzip compression failed");
			goto cleanup;
		}
		out->len += n;
		out->buf[out->len] = '\0';
	}
	ret = 0;
cleanup:
	libdeflate_free_compressor(c);
	cpgo_buf_release(&raw);
	return ret;
}

int cpgo_profile_write(const struct cpgo_profile *p, const char *path)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	int ret = -1;

	if (cpgo_profile_encode(p, &b, 1) < 0)
		goto cleanup;
	if (cpgo_write_file_atomic(path, b.buf, b.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&b);
	return ret;
}

/* ---- PGO sample type -------------------------------------------------- */

int cpgo_profile_pgo_value_index(const struct cpgo_profile *p, const char *name)
{
	struct cpgo_buf have = CPGO_BUF_INIT;
	static const char *const wanted[][2] = {
		{ "samples", "count" }, { "cpu", "nanoseconds" },
	};

	if (p->default_sample_type) {
		for (size_t i = 0; i < p->n_sample_type; i++)
			if (p->sample_type[i].type == p->default_sample_type)
				return (int)i;
	}
	for (size_t w = 0; w < 2; w++)
		for (size_t i = 0; i < p->n_sample_type; i++)
			if (!strcmp(cpgo_profile_str(p, p->sample_type[i].type), wanted[w][0]) &&
			    !strcmp(cpgo_profile_str(p, p->sample_type[i].unit), wanted[w][1]))
				return (int)i;
	for (size_t i = 0; i < p->n_sample_type; i++)
		cpgo_buf_addf(&have, "%s%s/%s", i ? ", " : "",
			      cpgo_profile_str(p, p->sample_type[i].type),
			      cpgo_profile_str(p, p->sample_type[i].unit));
	error("%s: no samples/count or cpu/nanoseconds sample type (profile has: %s); "
	      "is this a CPU profile?", name, have.len ? have.buf : "none");
	cpgo_buf_release(&have);
	return -1;
}
