/*
 * The merge's identity rules (pprof/merge.h): how an input's functions,
 * mappings, locations and samples find the output element they are, or
 * become a new one.
 */
#include "pprof/merge_int.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

/* pprof rounds mapping sizes to pages so that the same binary matches. */
#define MAP_ROUND 0x1000ull

int64_t cpgo_merge_str(struct cpgo_merge *m, const struct cpgo_profile *in, int64_t idx)
{
	int64_t r;
	if (idx <= 0 || (size_t)idx >= in->n_string)
		return 0;
	if (m->str_memo[idx] >= 0)
		return m->str_memo[idx];
	r = cpgo_profile_intern_len(m->out, in->strings[idx], in->string_lens[idx]);
	if (r >= 0)
		m->str_memo[idx] = r;
	return r;
}

/* ---- functions ---------------------------------------------------------- */

static int fn_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_merge *m = ctx;
	const struct cpgo_function *a = &m->out->functions[pos], *b = key;
	return a->name == b->name && a->system_name == b->system_name &&
	       a->filename == b->filename && a->start_line == b->start_line;
}

static uint32_t fn_hash(const struct cpgo_function *f)
{
	uint64_t h = cpgo_hash_mix(0, (uint64_t)f->name);
	h = cpgo_hash_mix(h, (uint64_t)f->system_name);
	h = cpgo_hash_mix(h, (uint64_t)f->filename);
	return (uint32_t)cpgo_hash_fin(cpgo_hash_mix(h, (uint64_t)f->start_line));
}

static uint64_t map_function(struct cpgo_merge *m, const struct cpgo_profile *in, uint64_t id)
{
	const struct cpgo_function *src = cpgo_profile_function(in, id);
	struct cpgo_function key;
	size_t ipos, slot, pos;
	uint32_t h;
	uint64_t nid;

	if (!src) {
		error("function %llu does not exist", (unsigned long long)id);
		return 0;
	}
	ipos = (size_t)(src - in->functions);
	if (m->fn_memo[ipos])
		return m->fn_memo[ipos];
	key.name = cpgo_merge_str(m, in, src->name);
	key.system_name = cpgo_merge_str(m, in, src->system_name);
	key.filename = cpgo_merge_str(m, in, src->filename);
	key.start_line = src->start_line;
	if (key.name < 0 || key.system_name < 0 || key.filename < 0 || cpgo_hashmap_reserve(&m->fn_tab) < 0)
		return 0;
	h = fn_hash(&key);
	slot = cpgo_hashmap_find(&m->fn_tab, h, fn_eq, m, &key);
	if (cpgo_hashmap_pos(&m->fn_tab, slot, &pos)) {
		nid = pos + 1;
	} else {
		nid = cpgo_profile_add_function(m->out, cpgo_profile_str(in, src->name),
						cpgo_profile_str(in, src->system_name),
						cpgo_profile_str(in, src->filename), src->start_line);
		if (!nid || cpgo_hashmap_set(&m->fn_tab, slot, h, nid - 1) < 0)
			return 0;
	}
	m->fn_memo[ipos] = nid;
	return nid;
}

/* ---- mappings ----------------------------------------------------------- */

static int64_t map_identity(const struct cpgo_mapping *mp)
{
	return mp->build_id ? mp->build_id : mp->filename;
}

static uint64_t map_size(const struct cpgo_mapping *mp)
{
	uint64_t size = mp->memory_limit - mp->memory_start;
	if (size > UINT64_MAX - MAP_ROUND)
		return size;
	return (size + MAP_ROUND - 1) & ~(MAP_ROUND - 1);
}

static int map_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_merge *m = ctx;
	const struct cpgo_mapping *a = &m->out->mappings[pos], *b = key;
	return map_identity(a) == map_identity(b) && a->file_offset == b->file_offset &&
	       map_size(a) == map_size(b);
}

static uint32_t map_hash(const struct cpgo_mapping *mp)
{
	uint64_t h = cpgo_hash_mix(1, (uint64_t)map_identity(mp));
	h = cpgo_hash_mix(h, mp->file_offset);
	return (uint32_t)cpgo_hash_fin(cpgo_hash_mix(h, map_size(mp)));
}

const struct map_memo *cpgo_merge_mapping(struct cpgo_merge *m, const struct cpgo_profile *in,
					  uint64_t id)
{
	static const struct map_memo none = { 0, 0, 0 };
	const struct cpgo_mapping *src;
	struct cpgo_mapping key;
	struct map_memo *memo;
	size_t pos;
	size_t slot;
	uint32_t h;

	if (!id)
		return &none;
	src = cpgo_profile_mapping(in, id);
	if (!src) {
		error("mapping %llu does not exist", (unsigned long long)id);
		return NULL;
	}
	memo = &m->map_memo[src - in->mappings];
	if (memo->out_id)
		return memo;
	key = *src;
	key.filename = cpgo_merge_str(m, in, src->filename);
	key.build_id = cpgo_merge_str(m, in, src->build_id);
	if (key.filename < 0 || key.build_id < 0 || cpgo_hashmap_reserve(&m->map_tab) < 0)
		return NULL;
	h = map_hash(&key);
	slot = cpgo_hashmap_find(&m->map_tab, h, map_eq, m, &key);
	if (cpgo_hashmap_pos(&m->map_tab, slot, &pos)) {
		memo->out_id = pos + 1;
		memo->delta = m->out->mappings[pos].memory_start - src->memory_start;
		/*
		 * Addresses identify code only within one binary: trust them
		 * when an earlier input brought a mapping with the same build
		 * id or file name; a fake mapping vouches for nothing.
		 */
		memo->trusted = m->map_input[pos] < m->n_input && map_identity(&key) != 0;
		return memo;
	}
	memo->out_id = cpgo_profile_add_mapping(m->out, &key);
	if (!memo->out_id || cpgo_hashmap_set(&m->map_tab, slot, h, memo->out_id - 1) < 0 ||
	    CPGO_GROW(m->map_input, m->alloc_map_input, m->out->n_mapping) < 0)
		return NULL;
	m->map_input[memo->out_id - 1] = m->n_input;
	memo->delta = 0;
	memo->trusted = 0;
	return memo;
}

/* ---- locations ---------------------------------------------------------- */

struct loc_key {
	uint64_t mapping_id, address;
	const struct cpgo_line *lines;
	size_t n_line;
	int is_folded;
};

static int lines_eq(const struct cpgo_line *a, const struct cpgo_line *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].function_id != b[i].function_id || a[i].line != b[i].line ||
		    a[i].column != b[i].column)
			return 0;
	return 1;
}

static int sym_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_merge *m = ctx;
	const struct cpgo_location *a = &m->out->locations[pos];
	const struct loc_key *k = key;
	return !!a->is_folded == !!k->is_folded && a->n_line == k->n_line &&
	       lines_eq(m->out->lines + a->line_off, k->lines, k->n_line);
}

static int loc_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_merge *m = ctx;
	const struct cpgo_location *a = &m->out->locations[pos];
	const struct loc_key *k = key;
	return a->mapping_id == k->mapping_id && a->address == k->address && sym_eq(m, pos, key);
}

static uint64_t sym_hash64(const struct loc_key *k)
{
	uint64_t h = cpgo_hash_mix(2, (uint64_t)!!k->is_folded);
	for (size_t i = 0; i < k->n_line; i++) {
		h = cpgo_hash_mix(h, k->lines[i].function_id);
		h = cpgo_hash_mix(h, (uint64_t)k->lines[i].line);
		h = cpgo_hash_mix(h, (uint64_t)k->lines[i].column);
	}
	return h;
}

/* Input location at position `ipos`, not yet memoized, into the output. */
static uint64_t map_location(struct cpgo_merge *m, const struct cpgo_profile *in, size_t ipos)
{
	const struct cpgo_location *src = &in->locations[ipos];
	const struct map_memo *mm;
	struct loc_key key;
	uint64_t sh, nid;
	uint32_t lh, symh;
	size_t slot, sslot, pos;
	int sym_found;

	if (!(mm = cpgo_merge_mapping(m, in, src->mapping_id)))
		return 0;
	if (CPGO_GROW(m->lines, m->alloc_lines, src->n_line) < 0)
		return 0;
	for (size_t i = 0; i < src->n_line; i++) {
		const struct cpgo_line *l = &in->lines[src->line_off + i];
		m->lines[i] = *l;
		if (l->function_id && !(m->lines[i].function_id = map_function(m, in, l->function_id)))
			return 0;
	}
	key.mapping_id = mm->out_id;
	key.address = src->address + mm->delta;
	key.lines = m->lines;
	key.n_line = src->n_line;
	key.is_folded = src->is_folded;
	sh = sym_hash64(&key);
	symh = (uint32_t)cpgo_hash_fin(sh);
	lh = (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(sh, key.mapping_id), key.address));
	if (cpgo_hashmap_reserve(&m->loc_tab) < 0 || cpgo_hashmap_reserve(&m->sym_tab) < 0)
		return 0;
	slot = cpgo_hashmap_find(&m->loc_tab, lh, loc_eq, m, &key);
	if (cpgo_hashmap_pos(&m->loc_tab, slot, &pos)) {
		nid = pos + 1;
		goto done;
	}
	sslot = cpgo_hashmap_find(&m->sym_tab, symh, sym_eq, m, &key);
	sym_found = cpgo_hashmap_pos(&m->sym_tab, sslot, &pos);
	if (!mm->trusted && key.n_line && sym_found) {
		/* Only another input's location stands in for this one. */
		if (m->loc_input[pos] < m->n_input) {
			nid = pos + 1;
			goto done;
		}
	}
	nid = cpgo_profile_add_location(m->out, key.mapping_id, key.address, key.lines,
					key.n_line);
	if (!nid || cpgo_hashmap_set(&m->loc_tab, slot, lh, nid - 1) < 0 ||
	    CPGO_GROW(m->loc_input, m->alloc_loc_input, m->out->n_location) < 0)
		return 0;
	m->out->locations[nid - 1].is_folded = src->is_folded;
	m->loc_input[nid - 1] = m->n_input;
	if (!sym_found && key.n_line && cpgo_hashmap_set(&m->sym_tab, sslot, symh, nid - 1) < 0)
		return 0;
done:
	m->loc_memo[ipos] = (uint32_t)nid;
	return nid;
}

/* ---- samples ------------------------------------------------------------ */

struct sample_key {
	const uint64_t *locs;
	size_t n_loc;
	const struct cpgo_label *labels;
	size_t n_label;
};

static int label_eq(const struct cpgo_label *a, const struct cpgo_label *b)
{
	return a->key == b->key && a->str == b->str && a->num == b->num &&
	       a->num_unit == b->num_unit;
}

static int sample_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_merge *m = ctx;
	const struct cpgo_profile *out = m->out;
	const struct cpgo_sample *s = &out->samples[pos];
	const struct sample_key *k = key;

	if (s->n_loc != k->n_loc || s->n_label != k->n_label)
		return 0;
	if (k->n_loc && memcmp(out->sample_locs + s->loc_off, k->locs, k->n_loc * sizeof(*k->locs)))
		return 0;
	for (size_t i = 0; i < k->n_label; i++)
		if (!label_eq(&out->labels[s->label_off + i], &k->labels[i]))
			return 0;
	return 1;
}

/* pprof's order: string labels by key, then numeric labels by key. */
static int label_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct cpgo_profile *p = ctx;
	const struct cpgo_label *a = pa, *b = pb;
	int c;

	if (!!a->str != !!b->str)
		return a->str ? -1 : 1;
	if ((c = strcmp(cpgo_profile_str(p, a->key), cpgo_profile_str(p, b->key))))
		return c;
	if ((c = strcmp(cpgo_profile_str(p, a->str), cpgo_profile_str(p, b->str))))
		return c;
	if (a->num != b->num)
		return a->num < b->num ? -1 : 1;
	return strcmp(cpgo_profile_str(p, a->num_unit), cpgo_profile_str(p, b->num_unit));
}

int cpgo_merge_ensure_dacc(struct cpgo_merge *m, size_t n)
{
	size_t old = m->alloc_dacc;
	if (CPGO_GROW(m->dacc, m->alloc_dacc, n) < 0)
		return -1;
	if (m->alloc_dacc > old)
		memset(m->dacc + old, 0, (m->alloc_dacc - old) * sizeof(*m->dacc));
	return 0;
}

int cpgo_merge_sample(struct cpgo_merge *m, const struct cpgo_profile *in, size_t si,
		      double scale, int scaled, const char *name)
{
	struct cpgo_profile *out = m->out;
	const struct cpgo_sample *s = &in->samples[si];
	const int64_t *v = cpgo_sample_values(in, si);
	size_t nt = in->n_sample_type, slot, pos;
	struct sample_key key;
	uint64_t hh;
	uint32_t h;
	int zero = 1;

	for (size_t i = 0; i < nt && zero; i++)
		zero = v[i] == 0;
	if (zero)
		return 0; /* as pprof: zero samples carry nothing */
	if (CPGO_GROW(m->locs, m->alloc_locs, s->n_loc) < 0 ||
	    CPGO_GROW(m->labels, m->alloc_labels, s->n_label) < 0)
		return -1;
	/*
	 * Find the stack's input positions and start every memo load at once:
	 * they are random misses. Most frames are then memo hits.
	 */
	for (size_t i = 0; i < s->n_loc; i++) {
		uint64_t id = in->sample_locs[s->loc_off + i];
		const struct cpgo_location *l = cpgo_profile_location(in, id);
		if (!l)
			return error("%s: sample %zu: location %llu does not exist", name, si,
				     (unsigned long long)id);
		m->locs[i] = (uint64_t)(l - in->locations);
		__builtin_prefetch(&m->loc_memo[m->locs[i]]);
	}
	for (size_t i = 0; i < s->n_loc; i++) {
		size_t ipos = (size_t)m->locs[i];
		if (!(m->locs[i] = m->loc_memo[ipos]) && !(m->locs[i] = map_location(m, in, ipos)))
			return error_prefix("%s: sample %zu", name, si);
	}
	for (size_t i = 0; i < s->n_label; i++) {
		const struct cpgo_label *l = &in->labels[s->label_off + i];
		m->labels[i].key = cpgo_merge_str(m, in, l->key);
		m->labels[i].str = cpgo_merge_str(m, in, l->str);
		m->labels[i].num = l->num;
		m->labels[i].num_unit = cpgo_merge_str(m, in, l->num_unit);
		if (m->labels[i].key < 0 || m->labels[i].str < 0 || m->labels[i].num_unit < 0)
			return -1;
	}
	if (s->n_label > 1)
		qsort_r(m->labels, s->n_label, sizeof(*m->labels), label_cmp, out);
	key.locs = m->locs;
	key.n_loc = s->n_loc;
	key.labels = m->labels;
	key.n_label = s->n_label;
	hh = 3;
	for (size_t i = 0; i < s->n_loc; i++)
		hh = cpgo_hash_mix(hh, m->locs[i]);
	for (size_t i = 0; i < s->n_label; i++) {
		hh = cpgo_hash_mix(hh, (uint64_t)m->labels[i].key);
		hh = cpgo_hash_mix(hh, (uint64_t)m->labels[i].str);
		hh = cpgo_hash_mix(hh, (uint64_t)m->labels[i].num);
		hh = cpgo_hash_mix(hh, (uint64_t)m->labels[i].num_unit);
	}
	h = (uint32_t)cpgo_hash_fin(hh);
	if (cpgo_hashmap_reserve(&m->sample_tab) < 0)
		return -1;
	slot = cpgo_hashmap_find(&m->sample_tab, h, sample_eq, m, &key);
	if (!cpgo_hashmap_pos(&m->sample_tab, slot, &pos)) {
		static const int64_t zeros[64];
		const int64_t *init = zeros;
		int64_t *tmp = NULL;
		if (nt > 64) {
			tmp = calloc(nt, sizeof(*tmp));
			if (!tmp)
				return error("out of memory");
			init = tmp;
		}
		pos = out->n_sample;
		if (cpgo_profile_add_sample(out, m->locs, s->n_loc, init, m->labels, s->n_label) < 0) {
			free(tmp);
			return -1;
		}
		free(tmp);
		if (cpgo_hashmap_set(&m->sample_tab, slot, h, pos) < 0)
			return -1;
		if (m->use_dacc && cpgo_merge_ensure_dacc(m, out->n_values) < 0)
			return -1;
	}
	if (scaled) {
		double *d = m->dacc + pos * nt;
		for (size_t i = 0; i < nt; i++)
			d[i] += (double)v[i] * scale;
	} else {
		int64_t *o = out->values + pos * nt;
		for (size_t i = 0; i < nt; i++)
			if (__builtin_add_overflow(o[i], v[i], &o[i]))
				return error("%s: sample values overflow 64 bits when summed", name);
	}
	return 0;
}
