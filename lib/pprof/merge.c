/*
 * Profile merging (lib/merge.h). Everything is keyed on output ids: each
 * input's strings, functions, mappings and locations are first translated
 * into the output (memoized per input position), then looked up in hash
 * tables whose entries are output array positions, so a key is compared
 * against the output element itself and costs no extra copy.
 */
#include "pprof/merge.h"
#include "util/error.h"

#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* pprof rounds mapping sizes to pages so that the same binary matches. */
#define MAP_ROUND 0x1000ull
#define MAX_WEIGHT 1e9

/*
 * Open-addressing table of output positions. Slots hold position + 1
 * (0 = empty) and, in the same cache line, a 32-bit hash to skip most key
 * comparisons: lookups are random, so one miss per probe matters.
 */
struct htab_slot {
	uint32_t pos, hash;
};

struct htab {
	struct htab_slot *s;
	size_t mask, n;
};

typedef int (*htab_eq)(const struct cpgo_merge *m, size_t pos, const void *key);

/* Per input mapping: its output mapping and how to move its addresses. */
struct map_memo {
	uint64_t out_id; /* 0: not mapped yet */
	uint64_t delta;  /* out.start - in.start, modulo 2^64 */
	int trusted;     /* matches a mapping an earlier input brought */
};

struct cpgo_merge {
	struct cpgo_profile *out;
	struct cpgo_merge_opts opts;
	uint32_t n_input;
	char *first_name;
	int finished;

	double dur_sum;      /* sum of weight * duration (or of durations with normalize) */
	double weight_sum;
	int64_t time_nanos;
	int have_period;

	/* Scaled contributions, parallel to out->values, once use_dacc. */
	double *dacc;
	size_t alloc_dacc;
	int use_dacc;

	struct htab fn_tab, map_tab, loc_tab, sym_tab, sample_tab;
	/* Which input created each output mapping / location (for trust). */
	uint32_t *map_input, *loc_input;
	size_t alloc_map_input, alloc_loc_input;
	int first_mapping_pinned;

	/* Per-input memos, indexed by the input's array positions. */
	int64_t *str_memo;
	size_t alloc_str_memo;
	uint64_t *fn_memo;
	uint32_t *loc_memo; /* output location ids fit: htab_set checks */
	size_t alloc_fn_memo, alloc_loc_memo;
	struct map_memo *map_memo;
	size_t alloc_map_memo;

	/* Scratch for the element being translated. */
	struct cpgo_line *lines;
	size_t alloc_lines;
	uint64_t *locs;
	size_t alloc_locs;
	struct cpgo_label *labels;
	size_t alloc_labels;
};

/* ---- hashing ------------------------------------------------------------ */

static inline uint64_t mix(uint64_t h, uint64_t x)
{
	h = (h ^ x) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static inline uint32_t fin(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static void htab_release(struct htab *t)
{
	free(t->s);
	memset(t, 0, sizeof(*t));
}

/* Keeps the load under 1/2 for one more entry. */
static int htab_reserve(struct htab *t)
{
	size_t cap, nmask;
	struct htab_slot *ns;

	if (t->s && (t->n + 1) * 2 <= t->mask + 1)
		return 0;
	cap = t->s ? (t->mask + 1) * 2 : 1024;
	if (cap > ((size_t)1 << 33))
		return error("merge table too large");
	ns = calloc(cap, sizeof(*ns));
	if (!ns)
		return error("out of memory growing a merge table to %zu entries", cap);
	nmask = cap - 1;
	for (size_t i = 0; t->s && i <= t->mask; i++) {
		size_t h;
		if (!t->s[i].pos)
			continue;
		h = t->s[i].hash & nmask;
		while (ns[h].pos)
			h = (h + 1) & nmask;
		ns[h] = t->s[i];
	}
	free(t->s);
	t->s = ns;
	t->mask = nmask;
	return 0;
}

/* Returns the slot where `key` is, or the empty slot where it would go. */
static size_t htab_find(const struct cpgo_merge *m, const struct htab *t, uint32_t hash,
			htab_eq eq, const void *key)
{
	size_t h = hash & t->mask;
	while (t->s[h].pos) {
		if (t->s[h].hash == hash && eq(m, t->s[h].pos - 1, key))
			return h;
		h = (h + 1) & t->mask;
	}
	return h;
}

static int htab_set(struct htab *t, size_t slot, uint32_t hash, size_t pos)
{
	if (pos >= UINT32_MAX)
		return error("too many elements to merge (over %u)", UINT32_MAX - 1);
	t->s[slot].pos = (uint32_t)(pos + 1);
	t->s[slot].hash = hash;
	t->n++;
	return 0;
}

/* ---- header ------------------------------------------------------------- */

static int same_str(const struct cpgo_profile *a, int64_t ia, const struct cpgo_profile *b,
		    int64_t ib)
{
	return !strcmp(cpgo_profile_str(a, ia), cpgo_profile_str(b, ib));
}

static void describe_types(struct cpgo_buf *b, const struct cpgo_profile *p)
{
	cpgo_buf_adds(b, "[");
	for (size_t i = 0; i < p->n_sample_type; i++)
		cpgo_buf_addf(b, "%s%s/%s", i ? " " : "", cpgo_profile_str(p, p->sample_type[i].type),
			      cpgo_profile_str(p, p->sample_type[i].unit));
	cpgo_buf_adds(b, "]");
}

static int check_compatible(struct cpgo_merge *m, const struct cpgo_profile *in,
			    const char *name)
{
	const struct cpgo_profile *out = m->out;
	struct cpgo_buf a = CPGO_BUF_INIT, b = CPGO_BUF_INIT;
	int same = in->n_sample_type == out->n_sample_type;

	for (size_t i = 0; same && i < in->n_sample_type; i++)
		same = same_str(in, in->sample_type[i].type, out, out->sample_type[i].type) &&
		       same_str(in, in->sample_type[i].unit, out, out->sample_type[i].unit);
	if (!same) {
		describe_types(&a, in);
		describe_types(&b, out);
		error("%s: sample types %s differ from %s's %s; only profiles of the same kind "
		      "can be merged (CPU profiles with CPU profiles)",
		      name, a.buf, m->first_name, b.buf);
		goto fail;
	}
	if (!same_str(in, in->period_type.type, out, out->period_type.type) ||
	    !same_str(in, in->period_type.unit, out, out->period_type.unit)) {
		error("%s: period type %s/%s differs from %s's %s/%s; only profiles sampled the "
		      "same way can be merged",
		      name, cpgo_profile_str(in, in->period_type.type),
		      cpgo_profile_str(in, in->period_type.unit), m->first_name,
		      cpgo_profile_str(out, out->period_type.type),
		      cpgo_profile_str(out, out->period_type.unit));
		goto fail;
	}
	cpgo_buf_release(&a);
	cpgo_buf_release(&b);
	return 0;
fail:
	cpgo_buf_release(&a);
	cpgo_buf_release(&b);
	return -1;
}

static int64_t out_str(struct cpgo_merge *m, const struct cpgo_profile *in, int64_t idx)
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

/* The first input sets the types; later ones are checked against them. */
static int merge_header(struct cpgo_merge *m, const struct cpgo_profile *in, const char *name)
{
	struct cpgo_profile *out = m->out;

	if (m->n_input == 0) {
		for (size_t i = 0; i < in->n_sample_type; i++)
			if (cpgo_profile_add_sample_type(out,
					cpgo_profile_str(in, in->sample_type[i].type),
					cpgo_profile_str(in, in->sample_type[i].unit)) < 0)
				return -1;
		if ((out->period_type.type = out_str(m, in, in->period_type.type)) < 0 ||
		    (out->period_type.unit = out_str(m, in, in->period_type.unit)) < 0 ||
		    (out->drop_frames = out_str(m, in, in->drop_frames)) < 0 ||
		    (out->keep_frames = out_str(m, in, in->keep_frames)) < 0)
			return -1;
		m->first_name = strdup(name);
		if (!m->first_name)
			return error("out of memory");
	} else if (check_compatible(m, in, name) < 0) {
		return -1;
	}
	if (in->time_nanos && (!m->time_nanos || in->time_nanos < m->time_nanos))
		m->time_nanos = in->time_nanos;
	if (in->period > out->period)
		out->period = in->period;
	if (!out->default_sample_type && in->default_sample_type &&
	    (out->default_sample_type = out_str(m, in, in->default_sample_type)) < 0)
		return -1;
	for (size_t i = 0; i < in->n_comment; i++) {
		int64_t c = out_str(m, in, in->comments[i]);
		int seen = 0;
		if (c < 0)
			return -1;
		for (size_t j = 0; j < out->n_comment && !seen; j++)
			seen = out->comments[j] == c;
		if (seen)
			continue;
		if (CPGO_GROW(out->comments, out->alloc_comment, out->n_comment + 1) < 0)
			return -1;
		out->comments[out->n_comment++] = c;
	}
	return 0;
}

/* ---- functions ---------------------------------------------------------- */

static int fn_eq(const struct cpgo_merge *m, size_t pos, const void *key)
{
	const struct cpgo_function *a = &m->out->functions[pos], *b = key;
	return a->name == b->name && a->system_name == b->system_name &&
	       a->filename == b->filename && a->start_line == b->start_line;
}

static uint32_t fn_hash(const struct cpgo_function *f)
{
	uint64_t h = mix(0, (uint64_t)f->name);
	h = mix(h, (uint64_t)f->system_name);
	h = mix(h, (uint64_t)f->filename);
	return fin(mix(h, (uint64_t)f->start_line));
}

static uint64_t map_function(struct cpgo_merge *m, const struct cpgo_profile *in, uint64_t id)
{
	const struct cpgo_function *src = cpgo_profile_function(in, id);
	struct cpgo_function key;
	size_t ipos, slot;
	uint32_t h;
	uint64_t nid;

	if (!src) {
		error("function %llu does not exist", (unsigned long long)id);
		return 0;
	}
	ipos = (size_t)(src - in->functions);
	if (m->fn_memo[ipos])
		return m->fn_memo[ipos];
	key.name = out_str(m, in, src->name);
	key.system_name = out_str(m, in, src->system_name);
	key.filename = out_str(m, in, src->filename);
	key.start_line = src->start_line;
	if (key.name < 0 || key.system_name < 0 || key.filename < 0 || htab_reserve(&m->fn_tab) < 0)
		return 0;
	h = fn_hash(&key);
	slot = htab_find(m, &m->fn_tab, h, fn_eq, &key);
	if (m->fn_tab.s[slot].pos) {
		nid = m->fn_tab.s[slot].pos;
	} else {
		nid = cpgo_profile_add_function(m->out, cpgo_profile_str(in, src->name),
						cpgo_profile_str(in, src->system_name),
						cpgo_profile_str(in, src->filename), src->start_line);
		if (!nid || htab_set(&m->fn_tab, slot, h, nid - 1) < 0)
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

static int map_eq(const struct cpgo_merge *m, size_t pos, const void *key)
{
	const struct cpgo_mapping *a = &m->out->mappings[pos], *b = key;
	return map_identity(a) == map_identity(b) && a->file_offset == b->file_offset &&
	       map_size(a) == map_size(b);
}

static uint32_t map_hash(const struct cpgo_mapping *mp)
{
	uint64_t h = mix(1, (uint64_t)map_identity(mp));
	h = mix(h, mp->file_offset);
	return fin(mix(h, map_size(mp)));
}

static const struct map_memo *map_mapping(struct cpgo_merge *m, const struct cpgo_profile *in,
					  uint64_t id)
{
	static const struct map_memo none = { 0, 0, 0 };
	const struct cpgo_mapping *src;
	struct cpgo_mapping key;
	struct map_memo *memo;
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
	key.filename = out_str(m, in, src->filename);
	key.build_id = out_str(m, in, src->build_id);
	if (key.filename < 0 || key.build_id < 0 || htab_reserve(&m->map_tab) < 0)
		return NULL;
	h = map_hash(&key);
	slot = htab_find(m, &m->map_tab, h, map_eq, &key);
	if (m->map_tab.s[slot].pos) {
		size_t pos = m->map_tab.s[slot].pos - 1;
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
	if (!memo->out_id || htab_set(&m->map_tab, slot, h, memo->out_id - 1) < 0 ||
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

static int sym_eq(const struct cpgo_merge *m, size_t pos, const void *key)
{
	const struct cpgo_location *a = &m->out->locations[pos];
	const struct loc_key *k = key;
	return !!a->is_folded == !!k->is_folded && a->n_line == k->n_line &&
	       lines_eq(m->out->lines + a->line_off, k->lines, k->n_line);
}

static int loc_eq(const struct cpgo_merge *m, size_t pos, const void *key)
{
	const struct cpgo_location *a = &m->out->locations[pos];
	const struct loc_key *k = key;
	return a->mapping_id == k->mapping_id && a->address == k->address && sym_eq(m, pos, key);
}

static uint64_t sym_hash64(const struct loc_key *k)
{
	uint64_t h = mix(2, (uint64_t)!!k->is_folded);
	for (size_t i = 0; i < k->n_line; i++) {
		h = mix(h, k->lines[i].function_id);
		h = mix(h, (uint64_t)k->lines[i].line);
		h = mix(h, (uint64_t)k->lines[i].column);
	}
	return h;
}

static uint64_t map_location(struct cpgo_merge *m, const struct cpgo_profile *in, uint64_t id)
{
	const struct cpgo_location *src = cpgo_profile_location(in, id);
	const struct map_memo *mm;
	struct loc_key key;
	uint64_t sh, nid;
	uint32_t lh, symh;
	size_t ipos, slot, sslot;

	if (!src) {
		error("location %llu does not exist", (unsigned long long)id);
		return 0;
	}
	ipos = (size_t)(src - in->locations);
	if (m->loc_memo[ipos])
		return m->loc_memo[ipos];
	if (!(mm = map_mapping(m, in, src->mapping_id)))
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
	symh = fin(sh);
	lh = fin(mix(mix(sh, key.mapping_id), key.address));
	if (htab_reserve(&m->loc_tab) < 0 || htab_reserve(&m->sym_tab) < 0)
		return 0;
	slot = htab_find(m, &m->loc_tab, lh, loc_eq, &key);
	if (m->loc_tab.s[slot].pos) {
		nid = m->loc_tab.s[slot].pos;
		goto done;
	}
	sslot = htab_find(m, &m->sym_tab, symh, sym_eq, &key);
	if (!mm->trusted && key.n_line && m->sym_tab.s[sslot].pos) {
		size_t pos = m->sym_tab.s[sslot].pos - 1;
		/* Only another input's location stands in for this one. */
		if (m->loc_input[pos] < m->n_input) {
			nid = pos + 1;
			goto done;
		}
	}
	nid = cpgo_profile_add_location(m->out, key.mapping_id, key.address, key.lines,
					key.n_line);
	if (!nid || htab_set(&m->loc_tab, slot, lh, nid - 1) < 0 ||
	    CPGO_GROW(m->loc_input, m->alloc_loc_input, m->out->n_location) < 0)
		return 0;
	m->out->locations[nid - 1].is_folded = src->is_folded;
	m->loc_input[nid - 1] = m->n_input;
	if (!m->sym_tab.s[sslot].pos && key.n_line && htab_set(&m->sym_tab, sslot, symh, nid - 1) < 0)
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

static int sample_eq(const struct cpgo_merge *m, size_t pos, const void *key)
{
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

static int ensure_dacc(struct cpgo_merge *m, size_t n)
{
	size_t old = m->alloc_dacc;
	if (CPGO_GROW(m->dacc, m->alloc_dacc, n) < 0)
		return -1;
	if (m->alloc_dacc > old)
		memset(m->dacc + old, 0, (m->alloc_dacc - old) * sizeof(*m->dacc));
	return 0;
}

static int add_sample(struct cpgo_merge *m, const struct cpgo_profile *in, size_t si,
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
	/* Start every memo load of the stack at once: they are random misses. */
	for (size_t i = 0; i < s->n_loc; i++) {
		const struct cpgo_location *l = cpgo_profile_location(in,
						in->sample_locs[s->loc_off + i]);
		if (l)
			__builtin_prefetch(&m->loc_memo[l - in->locations]);
	}
	for (size_t i = 0; i < s->n_loc; i++)
		if (!(m->locs[i] = map_location(m, in, in->sample_locs[s->loc_off + i])))
			return error_prefix("%s: sample %zu", name, si);
	for (size_t i = 0; i < s->n_label; i++) {
		const struct cpgo_label *l = &in->labels[s->label_off + i];
		m->labels[i].key = out_str(m, in, l->key);
		m->labels[i].str = out_str(m, in, l->str);
		m->labels[i].num = l->num;
		m->labels[i].num_unit = out_str(m, in, l->num_unit);
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
		hh = mix(hh, m->locs[i]);
	for (size_t i = 0; i < s->n_label; i++)
		hh = mix(mix(mix(mix(hh, (uint64_t)m->labels[i].key), (uint64_t)m->labels[i].str),
			     (uint64_t)m->labels[i].num), (uint64_t)m->labels[i].num_unit);
	h = fin(hh);
	if (htab_reserve(&m->sample_tab) < 0)
		return -1;
	slot = htab_find(m, &m->sample_tab, h, sample_eq, &key);
	if (m->sample_tab.s[slot].pos) {
		pos = m->sample_tab.s[slot].pos - 1;
	} else {
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
		if (htab_set(&m->sample_tab, slot, h, pos) < 0)
			return -1;
		if (m->use_dacc && ensure_dacc(m, out->n_values) < 0)
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

/* ---- reading inputs ----------------------------------------------------- */

#define FETCH_LIMIT ((size_t)1 << 30)

struct fetch_ctx {
	struct cpgo_buf *buf;
	size_t limit;
	int too_big, oom;
};

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_ctx *c = arg;
	size_t n = size * nmemb;

	if (n > c->limit - c->buf->len) {
		c->too_big = 1;
		return 0;
	}
	if (cpgo_buf_add(c->buf, data, n) < 0) {
		c->oom = 1;
		return 0;
	}
	return n;
}

int cpgo_merge_is_url(const char *src)
{
	return !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
}

static int fetch_url(const char *url, struct cpgo_buf *out, size_t limit)
{
	static int curl_ready;
	struct fetch_ctx ctx = { out, limit, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode rc;
	long status = 0;
	int ret = -1;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return error("%s: cannot initialize libcurl", url);
		curl_ready = 1;
	}
	c = curl_easy_init();
	if (!c)
		return error("%s: cannot initialize libcurl", url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cpgo");
	rc = curl_easy_perform(c);
	if (ctx.too_big) {
		error("%s: response is over the limit of %zu bytes", url, limit);
		goto cleanup;
	}
	if (ctx.oom) {
		error("%s: out of memory reading the response", url);
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		error("%s: fetch failed: %s; check the address and that the server is up",
		      url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto cleanup;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		error("%s: server answered HTTP %ld, not a profile; check the path "
		      "(e.g. /debug/pprof/profile?seconds=30)", url, status);
		goto cleanup;
	}
	ret = 0;
cleanup:
	curl_easy_cleanup(c);
	return ret;
}

int cpgo_merge_read_input(struct cpgo_profile *p, const char *src,
			  const struct cpgo_read_opts *opts)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	size_t limit = opts && opts->max_compressed ? opts->max_compressed : FETCH_LIMIT;
	int ret;

	if (!cpgo_merge_is_url(src))
		return cpgo_profile_read(p, src, opts);
	memset(p, 0, sizeof(*p));
	if (fetch_url(src, &b, limit) < 0) {
		cpgo_buf_release(&b);
		return -1;
	}
	ret = cpgo_profile_parse(p, b.buf, b.len, src, opts);
	cpgo_buf_release(&b);
	return ret;
}

/* ---- driver ------------------------------------------------------------- */

int cpgo_merge_parse_weight(const char *s, double *out, const char *what)
{
	char *end;
	double w;

	if (!s || !*s)
		return error("%s: empty weight; give a number such as 2 or 0.5", what);
	w = strtod(s, &end);
	if (*end || end == s)
		return error("%s: weight '%s' is not a number; give one such as 2 or 0.5", what, s);
	if (!isfinite(w) || w <= 0 || w > MAX_WEIGHT)
		return error("%s: weight '%s' is out of range; give a number above 0 and at most 1e9",
			     what, s);
	*out = w;
	return 0;
}

int cpgo_merge_begin(struct cpgo_merge **mp, struct cpgo_profile *out,
		     const struct cpgo_merge_opts *opts)
{
	struct cpgo_merge *m = calloc(1, sizeof(*m));
	if (!m)
		return error("out of memory");
	m->out = out;
	if (opts)
		m->opts = *opts;
	*mp = m;
	return 0;
}

/*
 * Sizes an output pool for everything this input could add, exactly:
 * growth by doubling would leave up to half of the largest pools unused
 * at the peak, while the next input is being read.
 */
static int reserve_exact(void **arr, size_t *alloc, size_t have, size_t more, size_t elsize)
{
	size_t need;

	if (__builtin_add_overflow(have, more, &need))
		return error("merged profile too large");
	return cpgo_array_reserve(arr, alloc, need, elsize);
}

static int reserve_output(struct cpgo_profile *out, const struct cpgo_profile *in)
{
	if (reserve_exact((void **)&out->samples, &out->alloc_sample, out->n_sample,
			  in->n_sample, sizeof(*out->samples)) < 0 ||
	    reserve_exact((void **)&out->values, &out->alloc_values, out->n_values,
			  in->n_values, sizeof(*out->values)) < 0 ||
	    reserve_exact((void **)&out->sample_locs, &out->alloc_sample_locs, out->n_sample_locs,
			  in->n_sample_locs, sizeof(*out->sample_locs)) < 0 ||
	    reserve_exact((void **)&out->locations, &out->alloc_location, out->n_location,
			  in->n_location, sizeof(*out->locations)) < 0 ||
	    reserve_exact((void **)&out->lines, &out->alloc_lines, out->n_lines, in->n_lines,
			  sizeof(*out->lines)) < 0)
		return -1;
	return 0;
}

static int reset_memo(void **arr, size_t *alloc, size_t n, size_t elsize, int fill)
{
	if (cpgo_array_grow(arr, alloc, n ? n : 1, elsize) < 0)
		return -1;
	memset(*arr, fill, (n ? n : 1) * elsize);
	return 0;
}

int cpgo_merge_add(struct cpgo_merge *m, struct cpgo_profile *in, const char *name,
		   double weight)
{
	double scale = weight;
	int scaled;

	if (m->finished)
		return error("%s: merge already finished", name);
	if (!(weight > 0) || !isfinite(weight) || weight > MAX_WEIGHT)
		return error("%s: weight %g is out of range (above 0, at most 1e9)", name, weight);
	if (m->opts.normalize && in->duration_nanos <= 0)
		return error("%s: has no duration (duration_nanos is %lld), so it cannot be "
			     "normalized; record it with a known duration, or merge without "
			     "normalizing and weight it by hand",
			     name, (long long)in->duration_nanos);
	if (cpgo_profile_index(in) < 0)
		return error_prefix("%s", name);
	if (reset_memo((void **)&m->str_memo, &m->alloc_str_memo, in->n_string,
		       sizeof(*m->str_memo), 0xff) < 0 ||
	    reset_memo((void **)&m->fn_memo, &m->alloc_fn_memo, in->n_function,
		       sizeof(*m->fn_memo), 0) < 0 ||
	    reset_memo((void **)&m->loc_memo, &m->alloc_loc_memo, in->n_location,
		       sizeof(*m->loc_memo), 0) < 0 ||
	    reset_memo((void **)&m->map_memo, &m->alloc_map_memo, in->n_mapping,
		       sizeof(*m->map_memo), 0) < 0)
		return -1;
	if (merge_header(m, in, name) < 0 || reserve_output(m->out, in) < 0)
		return -1;
	if (m->opts.normalize) {
		/* Multiplied by the mean duration in finish. */
		scale = weight / (double)in->duration_nanos;
		m->dur_sum += (double)in->duration_nanos;
	} else {
		m->dur_sum += weight * (double)in->duration_nanos;
	}
	m->weight_sum += weight;
	scaled = m->opts.normalize || weight != 1.0;
	if (scaled) {
		m->use_dacc = 1;
		if (ensure_dacc(m, m->out->n_values) < 0)
			return -1;
	}

	/* pprof's convention: the first mapping is the main binary; keep it first. */
	if (!m->out->n_mapping && in->n_mapping) {
		if (!map_mapping(m, in, in->mappings[0].id))
			return error_prefix("%s", name);
		m->first_mapping_pinned = 1;
	}
	for (size_t i = 0; i < in->n_sample; i++)
		if (add_sample(m, in, i, scale, scaled, name) < 0)
			return -1;
	m->n_input++;
	return 0;
}

/* Drops what no kept sample uses and renumbers ids densely, in order. */
static int compact(struct cpgo_merge *m, const unsigned char *keep)
{
	struct cpgo_profile *out = m->out;
	uint64_t *loc_new = NULL, *fn_new = NULL, *map_new = NULL;
	size_t n, nt = out->n_sample_type;
	int ret = -1;

	loc_new = calloc(out->n_location + 1, sizeof(*loc_new));
	fn_new = calloc(out->n_function + 1, sizeof(*fn_new));
	map_new = calloc(out->n_mapping + 1, sizeof(*map_new));
	if (!loc_new || !fn_new || !map_new) {
		error("out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < out->n_sample; i++) {
		const struct cpgo_sample *s = &out->samples[i];
		if (!keep[i])
			continue;
		for (size_t j = 0; j < s->n_loc; j++)
			loc_new[out->sample_locs[s->loc_off + j] - 1] = 1;
	}
	if (m->first_mapping_pinned && out->n_mapping)
		map_new[0] = 1;
	for (size_t i = 0; i < out->n_location; i++) {
		const struct cpgo_location *l = &out->locations[i];
		if (!loc_new[i])
			continue;
		if (l->mapping_id)
			map_new[l->mapping_id - 1] = 1;
		for (size_t j = 0; j < l->n_line; j++)
			if (out->lines[l->line_off + j].function_id)
				fn_new[out->lines[l->line_off + j].function_id - 1] = 1;
	}
	/* Marks become new ids; elements move down in place. */
	n = 0;
	for (size_t i = 0; i < out->n_mapping; i++)
		if (map_new[i]) {
			out->mappings[n] = out->mappings[i];
			out->mappings[n].id = map_new[i] = n + 1;
			n++;
		}
	out->n_mapping = n;
	n = 0;
	for (size_t i = 0; i < out->n_function; i++)
		if (fn_new[i]) {
			out->functions[n] = out->functions[i];
			out->functions[n].id = fn_new[i] = n + 1;
			n++;
		}
	out->n_function = n;
	n = 0;
	for (size_t i = 0; i < out->n_location; i++) {
		struct cpgo_location *l;
		if (!loc_new[i])
			continue;
		l = &out->locations[n];
		*l = out->locations[i];
		l->id = loc_new[i] = n + 1;
		n++;
		if (l->mapping_id)
			l->mapping_id = map_new[l->mapping_id - 1];
		for (size_t j = 0; j < l->n_line; j++) {
			struct cpgo_line *ln = &out->lines[l->line_off + j];
			if (ln->function_id)
				ln->function_id = fn_new[ln->function_id - 1];
		}
	}
	out->n_location = n;
	n = 0;
	for (size_t i = 0; i < out->n_sample; i++) {
		struct cpgo_sample *s;
		if (!keep[i])
			continue;
		s = &out->samples[n];
		*s = out->samples[i];
		if (n != i)
			memmove(out->values + n * nt, out->values + i * nt, nt * sizeof(*out->values));
		for (size_t j = 0; j < s->n_loc; j++)
			out->sample_locs[s->loc_off + j] = loc_new[out->sample_locs[s->loc_off + j] - 1];
		n++;
	}
	out->n_sample = n;
	out->n_values = n * nt;
	ret = 0;
cleanup:
	free(loc_new);
	free(fn_new);
	free(map_new);
	return ret;
}

int cpgo_merge_finish(struct cpgo_merge *m)
{
	struct cpgo_profile *out = m->out;
	size_t nt = out->n_sample_type;
	unsigned char *keep = NULL;
	double mult = 1.0, dur;
	int ret = -1;

	if (m->finished)
		return error("merge already finished");
	if (!m->n_input)
		return error("no profiles to merge");
	m->finished = 1;
	if (m->opts.normalize) {
		/* Every input now stands for the mean duration (times its weight). */
		mult = m->dur_sum / m->n_input;
		dur = mult * m->weight_sum;
	} else {
		dur = m->dur_sum;
	}
	if (dur >= 9.2e18) {
		error("merged duration overflows 64 bits; use smaller weights");
		goto cleanup;
	}
	out->duration_nanos = (int64_t)llround(dur);
	out->time_nanos = m->time_nanos;

	keep = malloc(out->n_sample ? out->n_sample : 1);
	if (!keep) {
		error("out of memory");
		goto cleanup;
	}
	/* Rounding error carried across samples keeps each type's total exact. */
	for (size_t t = 0; m->use_dacc && t < nt; t++) {
		double carry = 0;
		for (size_t i = 0; i < out->n_sample; i++) {
			double x = m->dacc[i * nt + t] * mult + carry, r = floor(x + 0.5);
			int64_t *o = &out->values[i * nt + t];
			if (!(fabs(r) < 9.2e18) || __builtin_add_overflow(*o, (int64_t)r, o)) {
				error("scaled sample values overflow 64 bits; use smaller weights");
				goto cleanup;
			}
			carry = x - r;
		}
	}
	for (size_t i = 0; i < out->n_sample; i++) {
		keep[i] = 0;
		for (size_t t = 0; t < nt && !keep[i]; t++)
			keep[i] = out->values[i * nt + t] != 0;
	}
	/*
	 * Always compact: besides zero samples, symbolic matching can leave
	 * a mapping or function that no kept location uses.
	 */
	if (compact(m, keep) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(keep);
	return ret;
}

void cpgo_merge_free(struct cpgo_merge *m)
{
	if (!m)
		return;
	free(m->first_name);
	free(m->dacc);
	htab_release(&m->fn_tab);
	htab_release(&m->map_tab);
	htab_release(&m->loc_tab);
	htab_release(&m->sym_tab);
	htab_release(&m->sample_tab);
	free(m->map_input);
	free(m->loc_input);
	free(m->str_memo);
	free(m->fn_memo);
	free(m->loc_memo);
	free(m->map_memo);
	free(m->lines);
	free(m->locs);
	free(m->labels);
	free(m);
}
