/*
 * The sample profile model. It mirrors LLVM's FunctionSamples
 * (llvm/ProfileData/SampleProf.h): per function, body samples keyed by
 * LineLocation(offset, discriminator) with call targets, and callsite
 * samples holding nested FunctionSamples for inlined callees. Everything
 * lives in flat arrays indexed by the project's hashmap, so a profile with
 * millions of samples costs a few hash lookups per frame.
 */
#include "sprof_int.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

void sprof_model_init(struct sprof_model *m, const char *pname)
{
	memset(m, 0, sizeof(*m));
	m->pname = pname;
	cpgo_hashmap_init(&m->name_map, "function name");
	cpgo_hashmap_init(&m->fs_map, "function samples");
	cpgo_hashmap_init(&m->rec_map, "body record");
	cpgo_hashmap_init(&m->tgt_map, "call target");
}

void sprof_model_release(struct sprof_model *m)
{
	for (size_t i = 0; i < m->n_names; i++)
		free(m->names[i]);
	for (size_t i = 0; i < m->n_psl; i++)
		free(m->psl[i]);
	free(m->names);
	free(m->psl);
	free(m->fs);
	free(m->rec);
	free(m->tgt);
	cpgo_hashmap_release(&m->name_map);
	cpgo_hashmap_release(&m->fs_map);
	cpgo_hashmap_release(&m->rec_map);
	cpgo_hashmap_release(&m->tgt_map);
	free(m->rec_order);
	free(m->child_order);
	free(m->tgt_order);
	free(m->top_order);
}

uint64_t sprof_sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint32_t sprof_line_offset(int64_t line, int64_t start)
{
	/* (line - DISubprogram line) & 0xffff, wrapping as clang does. */
	return (uint32_t)((uint64_t)(line - start) & 0xffff);
}

/* ---- names ---- */

static uint32_t name_hash(const char *s)
{
	return (uint32_t)cpgo_hash_fin(cpgo_hash_str(CPGO_HASH_SEED, s));
}

static int name_eq(const void *ctx, size_t pos, const void *key)
{
	return !strcmp(((const struct sprof_model *)ctx)->names[pos], key);
}

int64_t sprof_name_find(const struct sprof_model *m, const char *s)
{
	size_t slot, pos;

	if (!m->name_map.s)
		return -1;
	slot = cpgo_hashmap_find(&m->name_map, name_hash(s), name_eq, m, s);
	return cpgo_hashmap_pos(&m->name_map, slot, &pos) ? (int64_t)pos : -1;
}

int64_t sprof_name_intern(struct sprof_model *m, const char *s)
{
	uint32_t h = name_hash(s);
	size_t slot, pos;

	if (cpgo_hashmap_reserve(&m->name_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&m->name_map, h, name_eq, m, s);
	if (cpgo_hashmap_pos(&m->name_map, slot, &pos))
		return (int64_t)pos;
	if (m->n_names >= UINT32_MAX - 1)
		return error("%s: too many function names", m->pname);
	if (CPGO_GROW(m->names, m->alloc_names, m->n_names + 1) < 0)
		return -1;
	if (!(m->names[m->n_names] = strdup(s)))
		return error("%s: out of memory", m->pname);
	if (cpgo_hashmap_set(&m->name_map, slot, h, m->n_names) < 0)
		return -1;
	return (int64_t)m->n_names++;
}

/* ---- function samples, records, call targets ---- */

struct fs_key {
	uint64_t parent;
	uint32_t off, disc, name;
};

static uint32_t key_hash(uint64_t a, uint64_t b, uint64_t c)
{
	return (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(cpgo_hash_mix(CPGO_HASH_SEED, a), b), c));
}

static int fs_eq(const void *ctx, size_t pos, const void *key)
{
	const struct sprof_fs *f = &((const struct sprof_model *)ctx)->fs[pos];
	const struct fs_key *k = key;
	return f->parent == k->parent && f->name == k->name && f->off == k->off && f->disc == k->disc;
}

int64_t sprof_fs_get(struct sprof_model *m, uint64_t parent, uint32_t off, uint32_t disc,
		  uint32_t name, int create)
{
	struct fs_key k = { parent, off, disc, name };
	uint32_t h = key_hash(parent, ((uint64_t)off << 32) | disc, name);
	size_t slot, pos;

	if (!create && !m->fs_map.s)
		return -1;
	if (create && cpgo_hashmap_reserve(&m->fs_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&m->fs_map, h, fs_eq, m, &k);
	if (cpgo_hashmap_pos(&m->fs_map, slot, &pos))
		return (int64_t)pos;
	if (!create)
		return -1;
	if (CPGO_GROW(m->fs, m->alloc_fs, m->n_fs + 1) < 0)
		return -1;
	m->fs[m->n_fs] = (struct sprof_fs){ .name = name, .parent = parent, .off = off, .disc = disc };
	if (cpgo_hashmap_set(&m->fs_map, slot, h, m->n_fs) < 0)
		return -1;
	return (int64_t)m->n_fs++;
}

struct rec_key {
	size_t fs;
	uint32_t off, disc;
};

static int rec_eq(const void *ctx, size_t pos, const void *key)
{
	const struct sprof_rec *r = &((const struct sprof_model *)ctx)->rec[pos];
	const struct rec_key *k = key;
	return r->fs == k->fs && r->off == k->off && r->disc == k->disc;
}

int64_t sprof_rec_get(struct sprof_model *m, size_t fs, uint32_t off, uint32_t disc, int create)
{
	struct rec_key k = { fs, off, disc };
	uint32_t h = key_hash(fs, ((uint64_t)off << 32) | disc, 0);
	size_t slot, pos;

	if (!create && !m->rec_map.s)
		return -1;
	if (create && cpgo_hashmap_reserve(&m->rec_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&m->rec_map, h, rec_eq, m, &k);
	if (cpgo_hashmap_pos(&m->rec_map, slot, &pos))
		return (int64_t)pos;
	if (!create)
		return -1;
	if (CPGO_GROW(m->rec, m->alloc_rec, m->n_rec + 1) < 0)
		return -1;
	m->rec[m->n_rec] = (struct sprof_rec){ .fs = fs, .off = off, .disc = disc };
	if (cpgo_hashmap_set(&m->rec_map, slot, h, m->n_rec) < 0)
		return -1;
	return (int64_t)m->n_rec++;
}

struct tgt_key {
	size_t rec;
	uint32_t name;
};

static int tgt_eq(const void *ctx, size_t pos, const void *key)
{
	const struct sprof_tgt *t = &((const struct sprof_model *)ctx)->tgt[pos];
	const struct tgt_key *k = key;
	return t->rec == k->rec && t->name == k->name;
}

int sprof_tgt_add(struct sprof_model *m, size_t rec, uint32_t name, uint64_t v)
{
	struct tgt_key k = { rec, name };
	uint32_t h = key_hash(rec, name, 1);
	size_t slot, pos;

	if (cpgo_hashmap_reserve(&m->tgt_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&m->tgt_map, h, tgt_eq, m, &k);
	if (!cpgo_hashmap_pos(&m->tgt_map, slot, &pos)) {
		if (CPGO_GROW(m->tgt, m->alloc_tgt, m->n_tgt + 1) < 0)
			return -1;
		m->tgt[m->n_tgt] = (struct sprof_tgt){ .rec = rec, .name = name };
		if (cpgo_hashmap_set(&m->tgt_map, slot, h, m->n_tgt) < 0)
			return -1;
		pos = m->n_tgt++;
	}
	m->tgt[pos].count = sprof_sat_add(m->tgt[pos].count, v);
	return 0;
}

/* ---- names as LLVM matches them ---- */

/* DILocation::getUnsignedFromPrefixEncoding: one component of a discriminator. */
static uint32_t prefix_decode(uint32_t d)
{
	if (d & 1)
		return 0;
	d >>= 1;
	return (d & 0x20) ? (((d >> 1) & 0xfe0) | (d & 0x1f)) : (d & 0x1f);
}

uint32_t sprof_base_discriminator(uint32_t d)
{
	/* Pseudo-probe discriminators are never written by -g builds. */
	return prefix_decode(d);
}

uint32_t sprof_duplication_factor(uint32_t d)
{
	/* getNextComponentInDiscriminator, then the second component; 0 means 1. */
	uint32_t r = prefix_decode((d & 1) ? d >> 1 : d >> ((d & 0x40) ? 14 : 7));
	return r ? r : 1;
}

static int all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int sprof_canonical_name(const char *name, struct cpgo_buf *out)
{
	static const char *const numbered[] = { ".part.", ".constprop.", ".isra.", ".llvm.",
						".lto_priv." };
	size_t len = strlen(name);
	int changed = 1;

	/* Suffixes stack ("f.constprop.0.isra.0", "f.part.0.cold"): strip until none is left. */
	while (changed && len) {
		changed = 0;
		if (len > 5 && !memcmp(name + len - 5, ".cold", 5)) {
			len -= 5;
			changed = 1;
			continue;
		}
		for (size_t i = 0; i < sizeof(numbered) / sizeof(numbered[0]); i++) {
			size_t sl = strlen(numbered[i]);
			for (size_t at = 1; at + sl < len; at++) {
				if (memcmp(name + at, numbered[i], sl) ||
				    !all_digits(name + at + sl, len - at - sl))
					continue;
				len = at;
				changed = 1;
				break;
			}
		}
	}
	cpgo_buf_reset(out);
	return cpgo_buf_add(out, name, len);
}

/* C++ or otherwise mangled linkage names are what clang's profile lookup uses. */
static int looks_mangled(const char *s)
{
	return !strncmp(s, "_Z", 2) || s[0] == '?' || strstr(s, ".__uniq.") != NULL;
}

const char *sprof_pick_name(const char *name, const char *sys)
{
	if (sys && *sys && strcmp(sys, name) && (looks_mangled(sys) || !*name))
		return sys;
	return name;
}

/* How many trailing path components two paths share ("./" and "//" ignored). */
int sprof_path_suffix_score(const char *a, const char *b)
{
	const char *ea = a + strlen(a), *eb = b + strlen(b);
	int score = 0;

	for (;;) {
		const char *sa, *sb;
		while (ea > a && ea[-1] == '/')
			ea--;
		while (eb > b && eb[-1] == '/')
			eb--;
		for (sa = ea; sa > a && sa[-1] != '/'; sa--)
			;
		for (sb = eb; sb > b && sb[-1] != '/'; sb--)
			;
		if (ea - sa == 1 && *sa == '.') {
			ea = sa;
			continue;
		}
		if (eb - sb == 1 && *sb == '.') {
			eb = sb;
			continue;
		}
		if (sa == ea || sb == eb || ea - sa != eb - sb || memcmp(sa, sb, (size_t)(ea - sa)))
			return score;
		score++;
		ea = sa;
		eb = sb;
	}
}
