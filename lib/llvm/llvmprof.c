/*
 * pprof -> LLVM sample profile. The model mirrors LLVM's FunctionSamples
 * (llvm/ProfileData/SampleProf.h): per function, body samples keyed by
 * LineLocation(offset, discriminator) with call targets, and callsite
 * samples holding nested FunctionSamples for inlined callees. Everything
 * lives in flat arrays indexed by hash maps, so a profile with millions of
 * samples costs a few hash lookups per frame.
 *
 * Both writers reproduce llvm-profdata-19's output byte for byte (same
 * orderings, same summary), which the tests check: what clang reads is then
 * exactly what LLVM's own tools would have written.
 */
#include "llvm/llvmprof.h"
#include "util/error.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* LLVM 19: SampleProf.h */
#define SPF_EXT_BINARY 0x4
#define SP_VERSION 103
#define SEC_PROF_SUMMARY 1
#define SEC_NAME_TABLE 2
#define SEC_PROFILE_SYMBOL_LIST 3
#define SEC_FUNC_OFFSET_TABLE 4
#define SEC_FUNC_METADATA 5
#define SEC_CS_NAME_TABLE 6
#define SEC_LBR_PROFILE 32
#define SEC_FLAG_UNIQ_SUFFIX (1 << 2)
#define MAX_FRAMES 64

/* ProfileSummaryBuilder::DefaultCutoffs */
static const uint32_t summary_cutoffs[] = {
	10000, 100000, 200000, 300000, 400000, 500000, 600000, 700000,
	800000, 900000, 950000, 990000, 999000, 999900, 999990, 999999,
};

/* ---- a small open-addressing map: (a, b, c) -> v ---- */

struct lp_slot {
	uint64_t a, b, c, v;
	int used;
};

struct lp_map {
	struct lp_slot *s;
	size_t cap, n;
};

static uint64_t lp_mix(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL;
	h ^= (h >> 29) + b * 0xbf58476d1ce4e5b9ULL;
	h ^= (h >> 31) + c * 0x94d049bb133111ebULL;
	return h ^ (h >> 32);
}

static int64_t map_get(const struct lp_map *m, uint64_t a, uint64_t b, uint64_t c)
{
	if (!m->cap)
		return -1;
	for (size_t i = lp_mix(a, b, c) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct lp_slot *s = &m->s[i];
		if (!s->used)
			return -1;
		if (s->a == a && s->b == b && s->c == c)
			return (int64_t)s->v;
	}
}

static int map_put(struct lp_map *m, uint64_t a, uint64_t b, uint64_t c, uint64_t v)
{
	size_t i;

	/* Keep the load under a half so probes stay short. */
	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		struct lp_slot *ns;

		if (ncap < m->cap || ncap > SIZE_MAX / sizeof(*ns))
			return error("llvm profile: map size overflow");
		ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return error("llvm profile: out of memory");
		for (size_t j = 0; j < m->cap; j++) {
			struct lp_slot *o = &m->s[j];
			if (!o->used)
				continue;
			for (i = lp_mix(o->a, o->b, o->c) & (ncap - 1); ns[i].used; i = (i + 1) & (ncap - 1))
				;
			ns[i] = *o;
		}
		free(m->s);
		m->s = ns;
		m->cap = ncap;
	}
	for (i = lp_mix(a, b, c) & (m->cap - 1); m->s[i].used; i = (i + 1) & (m->cap - 1))
		if (m->s[i].a == a && m->s[i].b == b && m->s[i].c == c)
			break;
	if (!m->s[i].used)
		m->n++;
	m->s[i] = (struct lp_slot){ a, b, c, v, 1 };
	return 0;
}

/* ---- the sample profile model ---- */

#define NO_PARENT UINT64_MAX

struct lp_fs {
	uint32_t name;
	uint64_t parent; /* fs index, NO_PARENT for top level */
	uint32_t off, disc;
	uint64_t total, head;
	size_t rec_first, n_rec, child_first, n_child; /* into sorted orders */
	const char *file; /* pprof file of a top-level function, for zero lines */
};

struct lp_rec {
	size_t fs;
	uint32_t off, disc;
	uint64_t samples;
	size_t tgt_first, n_tgt;
};

struct lp_tgt {
	size_t rec;
	uint32_t name;
	uint64_t count;
};

struct lp_fn {
	int64_t name; /* into ctx names, -1 = unusable */
	int64_t start;
	const char *file;
	unsigned outer_used : 1, keep_top : 1, needs_start : 2;
};

struct lp_ctx {
	struct cpgo_profile *p;
	const char *pname;
	const struct llvmprof_opts *o;
	int vi;
	uint64_t div;
	struct llvmprof_stats st;

	char **names;
	size_t n_names, alloc_names;
	uint32_t *name_idx; /* open addressing: id + 1 */
	size_t name_cap;

	struct lp_fn *fn;
	uint32_t *line_disc; /* parallel to p->lines */

	struct lp_fs *fs;
	size_t n_fs, alloc_fs;
	struct lp_rec *rec;
	size_t n_rec, alloc_rec;
	struct lp_tgt *tgt;
	size_t n_tgt, alloc_tgt;
	struct lp_map fs_map, rec_map, tgt_map;

	size_t *rec_order, *child_order, *tgt_order, *top_order;
	size_t n_top;

	struct sym_dso *dso;
	char *seen_name; /* per pprof name: appears in a sampled stack */
	size_t n_seen;
	char **psl;      /* profile symbol list: functions of the binary never sampled */
	size_t n_psl, alloc_psl;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int64_t name_find(const struct lp_ctx *c, const char *s)
{
	if (!c->name_cap)
		return -1;
	for (size_t i = str_hash(s) & (c->name_cap - 1);; i = (i + 1) & (c->name_cap - 1)) {
		uint32_t id = c->name_idx[i];
		if (!id)
			return -1;
		if (!strcmp(c->names[id - 1], s))
			return id - 1;
	}
}

static int64_t name_intern(struct lp_ctx *c, const char *s)
{
	int64_t id = name_find(c, s);
	size_t i;

	if (id >= 0)
		return id;
	if (c->n_names >= UINT32_MAX - 1)
		return error("%s: too many function names", c->pname);
	if ((c->n_names + 1) * 2 > c->name_cap) {
		size_t ncap = c->name_cap ? c->name_cap * 2 : 1024;
		uint32_t *ni = calloc(ncap, sizeof(*ni));

		if (!ni)
			return error("%s: out of memory", c->pname);
		for (size_t k = 0; k < c->n_names; k++) {
			for (i = str_hash(c->names[k]) & (ncap - 1); ni[i]; i = (i + 1) & (ncap - 1))
				;
			ni[i] = (uint32_t)k + 1;
		}
		free(c->name_idx);
		c->name_idx = ni;
		c->name_cap = ncap;
	}
	if (CPGO_GROW(c->names, c->alloc_names, c->n_names + 1) < 0)
		return -1;
	if (!(c->names[c->n_names] = strdup(s)))
		return error("%s: out of memory", c->pname);
	for (i = str_hash(s) & (c->name_cap - 1); c->name_idx[i]; i = (i + 1) & (c->name_cap - 1))
		;
	c->name_idx[i] = (uint32_t)c->n_names + 1;
	return (int64_t)c->n_names++;
}

uint32_t llvmprof_base_discriminator(uint32_t d)
{
	/* Pseudo-probe discriminators are never written by -g builds. */
	if (d & 1)
		return 0;
	d >>= 1;
	return (d & 0x20) ? (((d >> 1) & 0xfe0) | (d & 0x1f)) : (d & 0x1f);
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

int llvmprof_canonical_name(const char *name, struct cpgo_buf *out)
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

static const char *pick_name(const char *name, const char *sys)
{
	if (sys && *sys && strcmp(sys, name) && (looks_mangled(sys) || !*name))
		return sys;
	return name;
}

/* ---- tree building ---- */

static int64_t fs_get(struct lp_ctx *c, uint64_t parent, uint32_t off, uint32_t disc,
		      uint32_t name, int create)
{
	uint64_t key_b = ((uint64_t)off << 32) | disc;
	int64_t i = map_get(&c->fs_map, parent, key_b, name);

	if (i >= 0 || !create)
		return i;
	if (CPGO_GROW(c->fs, c->alloc_fs, c->n_fs + 1) < 0)
		return -1;
	c->fs[c->n_fs] = (struct lp_fs){ .name = name, .parent = parent, .off = off, .disc = disc };
	if (map_put(&c->fs_map, parent, key_b, name, c->n_fs) < 0)
		return -1;
	return (int64_t)c->n_fs++;
}

static int64_t rec_get(struct lp_ctx *c, size_t fs, uint32_t off, uint32_t disc)
{
	uint64_t key_b = ((uint64_t)off << 32) | disc;
	int64_t i = map_get(&c->rec_map, fs, key_b, 0);

	if (i >= 0)
		return i;
	if (CPGO_GROW(c->rec, c->alloc_rec, c->n_rec + 1) < 0)
		return -1;
	c->rec[c->n_rec] = (struct lp_rec){ .fs = fs, .off = off, .disc = disc };
	if (map_put(&c->rec_map, fs, key_b, 0, c->n_rec) < 0)
		return -1;
	return (int64_t)c->n_rec++;
}

static int tgt_add(struct lp_ctx *c, size_t rec, uint32_t name, uint64_t v)
{
	int64_t i = map_get(&c->tgt_map, rec, name, 0);

	if (i < 0) {
		if (CPGO_GROW(c->tgt, c->alloc_tgt, c->n_tgt + 1) < 0)
			return -1;
		c->tgt[c->n_tgt] = (struct lp_tgt){ .rec = rec, .name = name };
		if (map_put(&c->tgt_map, rec, name, 0, c->n_tgt) < 0)
			return -1;
		i = (int64_t)c->n_tgt++;
	}
	c->tgt[i].count = sat_add(c->tgt[i].count, v);
	return 0;
}

static uint32_t line_offset(int64_t line, int64_t start)
{
	/* FunctionSamples::getOffset: (line - DISubprogram line) & 0xffff, wrapping as clang does. */
	return (uint32_t)((uint64_t)(line - start) & 0xffff);
}

static const struct lp_fn *line_fn(const struct lp_ctx *c, const struct cpgo_line *ln)
{
	const struct cpgo_function *f = cpgo_profile_function(c->p, ln->function_id);
	return f ? &c->fn[f - c->p->functions] : NULL;
}

/* A location can be keyed when every frame has a name, a line and a start line. */
static int loc_usable(const struct lp_ctx *c, const struct cpgo_location *loc)
{
	const struct lp_fn *outer;

	if (!loc || !loc->n_line || loc->n_line > MAX_FRAMES)
		return 0;
	for (size_t j = 0; j < loc->n_line; j++) {
		const struct cpgo_line *ln = &c->p->lines[loc->line_off + j];
		const struct lp_fn *f = line_fn(c, ln);
		if (!f || f->name < 0 || ln->line <= 0 || f->start <= 0)
			return 0;
	}
	outer = line_fn(c, &c->p->lines[loc->line_off + loc->n_line - 1]);
	return outer->keep_top;
}

/*
 * Walks a location's frames from the outermost function to the innermost
 * inline instance and returns the record of the innermost line. `add` goes
 * to the total of every FunctionSamples on the way (body samples).
 */
static int64_t loc_record(struct lp_ctx *c, const struct cpgo_location *loc, uint64_t add)
{
	const struct cpgo_line *lines = &c->p->lines[loc->line_off];
	const uint32_t *disc = &c->line_disc[loc->line_off];
	size_t n = loc->n_line;
	const struct lp_fn *f = line_fn(c, &lines[n - 1]);
	int64_t fs = fs_get(c, NO_PARENT, 0, 0, (uint32_t)f->name, 1);

	if (fs < 0)
		return -1;
	if (!c->fs[fs].file)
		c->fs[fs].file = f->file;
	c->fs[fs].total = sat_add(c->fs[fs].total, add);
	for (size_t j = n - 1; j > 0; j--) {
		const struct lp_fn *callee = line_fn(c, &lines[j - 1]);
		fs = fs_get(c, (uint64_t)fs, line_offset(lines[j].line, f->start), disc[j],
			    (uint32_t)callee->name, 1);
		if (fs < 0)
			return -1;
		c->fs[fs].total = sat_add(c->fs[fs].total, add);
		f = callee;
	}
	return rec_get(c, (size_t)fs, line_offset(lines[0].line, f->start), disc[0]);
}

static int add_sample(struct lp_ctx *c, size_t si)
{
	const struct cpgo_sample *s = &c->p->samples[si];
	int64_t raw = cpgo_sample_values(c->p, si)[c->vi];
	const struct lp_fn *callee = NULL; /* the previous (callee) frame's outermost function */
	uint64_t v;

	if (raw <= 0)
		return 0;
	v = c->div > 1 ? ((uint64_t)raw + c->div / 2) / c->div : (uint64_t)raw;
	if (!v)
		v = 1; /* a sample is a sample, however short the period it stood for */
	for (size_t k = 0; k < s->n_loc; k++) {
		const struct cpgo_location *loc =
			cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
		int usable = loc_usable(c, loc);
		int64_t r;

		if (k == 0 && !usable) {
			c->st.samples_dropped = sat_add(c->st.samples_dropped, v);
		} else if (k == 0) {
			if ((r = loc_record(c, loc, v)) < 0)
				return -1;
			c->rec[r].samples = sat_add(c->rec[r].samples, v);
			c->st.samples_used = sat_add(c->st.samples_used, v);
		} else if (callee && callee->name >= 0) {
			/* Head samples are set from entry lines later (entry_heads). */
			if (usable && ((r = loc_record(c, loc, 0)) < 0 ||
				       tgt_add(c, (size_t)r, (uint32_t)callee->name, v) < 0))
				return -1;
		}
		callee = NULL;
		if (loc && loc->n_line)
			callee = line_fn(c, &c->p->lines[loc->line_off + loc->n_line - 1]);
	}
	return 0;
}

/* ---- function table, statics, start lines ---- */

static int is_source_ext(const char *path)
{
	static const char *const exts[] = { ".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".m",
					    ".mm", ".s", ".S" };
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return 0;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!strcmp(dot, exts[i]))
			return 1;
	return 0;
}

/* How many trailing path components two paths share ("./" and "//" ignored). */
static int path_suffix_score(const char *a, const char *b)
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

static int fn_setup(struct lp_ctx *c)
{
	struct cpgo_buf cn = CPGO_BUF_INIT;
	int ret = -1;

	c->fn = calloc(c->p->n_function ? c->p->n_function : 1, sizeof(*c->fn));
	c->line_disc = calloc(c->p->n_lines ? c->p->n_lines : 1, sizeof(*c->line_disc));
	if (!c->fn || !c->line_disc) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->p->n_function; i++) {
		const struct cpgo_function *f = &c->p->functions[i];
		const char *nm = pick_name(cpgo_profile_str(c->p, f->name),
					   cpgo_profile_str(c->p, f->system_name));

		c->fn[i].name = -1;
		c->fn[i].start = f->start_line;
		c->fn[i].file = cpgo_profile_str(c->p, f->filename);
		c->fn[i].keep_top = 1;
		if (!*nm)
			continue;
		if (llvmprof_canonical_name(nm, &cn) < 0 || !cn.len)
			continue;
		if ((c->fn[i].name = name_intern(c, cn.buf)) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}

struct lp_name_file {
	int64_t name;
	const char *file;
	size_t fn;
};

static int cmp_name_file(const void *a, const void *b)
{
	const struct lp_name_file *x = a, *y = b;
	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return strcmp(x->file, y->file);
}

/*
 * Decides which sampled functions get a top-level profile: LLVM keys by
 * name, so one name must stand for one function of one file.
 */
static int choose_tops(struct lp_ctx *c)
{
	struct lp_name_file *v = NULL;
	size_t n = 0, alloc = 0;
	const char *src = c->o ? c->o->source_file : NULL;
	int ret = -1;

	for (size_t si = 0; si < c->p->n_sample; si++) {
		const struct cpgo_sample *s = &c->p->samples[si];
		if (cpgo_sample_values(c->p, si)[c->vi] <= 0)
			continue;
		for (size_t k = 0; k < s->n_loc; k++) {
			const struct cpgo_location *loc =
				cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
			const struct cpgo_function *f;
			if (!loc || !loc->n_line)
				continue;
			for (size_t j = 0; j < loc->n_line; j++) {
				f = cpgo_profile_function(c->p, c->p->lines[loc->line_off + j].function_id);
				if (f && c->fn[f - c->p->functions].name >= 0)
					c->seen_name[c->fn[f - c->p->functions].name] = 1;
			}
			f = cpgo_profile_function(c->p,
						  c->p->lines[loc->line_off + loc->n_line - 1].function_id);
			if (!f || c->fn[f - c->p->functions].outer_used)
				continue;
			c->fn[f - c->p->functions].outer_used = 1;
			if (c->fn[f - c->p->functions].name < 0)
				continue;
			if (CPGO_GROW(v, alloc, n + 1) < 0)
				goto cleanup;
			v[n++] = (struct lp_name_file){ c->fn[f - c->p->functions].name,
							c->fn[f - c->p->functions].file,
							(size_t)(f - c->p->functions) };
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_name_file);
	for (size_t i = 0, j; i < n; i = j) {
		int files = 1, best = 0, n_best = 0;

		for (j = i + 1; j < n && v[j].name == v[i].name; j++)
			if (strcmp(v[j].file, v[j - 1].file))
				files++;
		if (files == 1) {
			/* Another file's function is of no use to this TU, and may shadow its static. */
			if (src && *v[i].file && is_source_ext(v[i].file) &&
			    !path_suffix_score(v[i].file, src)) {
				for (size_t k = i; k < j; k++)
					c->fn[v[k].fn].keep_top = 0;
				c->st.other_tu_dropped++;
			}
			continue;
		}
		if (src) {
			for (size_t k = i; k < j; k++) {
				int sc = path_suffix_score(v[k].file, src);
				if (sc > best) {
					best = sc;
					n_best = 0;
				}
				if (sc == best && (k == i || strcmp(v[k].file, v[k - 1].file) || !n_best))
					n_best++;
			}
		}
		for (size_t k = i; k < j; k++) {
			int keep = best > 0 && n_best == 1 && path_suffix_score(v[k].file, src) == best;
			c->fn[v[k].fn].keep_top = keep;
		}
		if (!(best > 0 && n_best == 1))
			c->st.ambiguous_dropped++;
		else
			c->st.other_tu_dropped += (size_t)files - 1;
	}
	ret = 0;
cleanup:
	free(v);
	return ret;
}

static int open_dso_for_repair(struct lp_ctx *c)
{
	/* Like Go's pprof tools: the main mapping's file, when it is still there. */
	const struct cpgo_mapping *m = c->p->n_mapping ? &c->p->mappings[0] : NULL;
	const char *path = m ? cpgo_profile_str(c->p, m->filename) : "";
	const char *want = m ? cpgo_profile_str(c->p, m->build_id) : "";

	if (!*path || access(path, R_OK))
		return 0;
	if (sym_dso_open(&c->dso, path, NULL) < 0) {
		c->dso = NULL;
		return 0;
	}
	if (*want && *sym_dso_build_id(c->dso) && strcasecmp(want, sym_dso_build_id(c->dso))) {
		sym_dso_close(c->dso);
		c->dso = NULL;
	}
	return 0;
}

static int check_start_lines(struct lp_ctx *c)
{
	struct cpgo_buf missing = CPGO_BUF_INIT;
	size_t n_missing = 0, n_lined = 0;
	int opened = 0, ret = -1;

	for (size_t si = 0; si < c->p->n_sample; si++) {
		const struct cpgo_sample *s = &c->p->samples[si];
		if (cpgo_sample_values(c->p, si)[c->vi] <= 0)
			continue;
		for (size_t k = 0; k < s->n_loc; k++) {
			const struct cpgo_location *loc =
				cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
			/* Every file's functions count: whether the profile has start
			 * lines is a property of the profile, not of one TU's view. */
			if (!loc || !loc->n_line)
				continue;
			for (size_t j = 0; j < loc->n_line; j++) {
				const struct cpgo_line *ln = &c->p->lines[loc->line_off + j];
				const struct cpgo_function *f = cpgo_profile_function(c->p, ln->function_id);
				/* 1: keyed by line but no start line; 2: fine. */
				if (f && ln->line > 0)
					c->fn[f - c->p->functions].needs_start =
						c->fn[f - c->p->functions].start <= 0 ? 1 : 2;
			}
		}
	}
	for (size_t i = 0; i < c->p->n_function; i++) {
		struct lp_fn *f = &c->fn[i];
		int64_t sl = 0;
		int r;

		if (f->needs_start)
			n_lined++;
		if (f->needs_start != 1 || f->name < 0)
			continue;
		if (!c->dso && !opened) {
			opened = 1;
			if (open_dso_for_repair(c) < 0)
				goto cleanup;
		}
		if (c->dso) {
			r = sym_dso_start_line(c->dso, c->names[f->name], *f->file ? f->file : NULL, &sl);
			if (r < 0)
				goto cleanup;
			if (r > 0 && sl > 0) {
				f->start = sl;
				c->st.start_lines_repaired++;
				continue;
			}
		}
		if (n_missing < 5)
			cpgo_buf_addf(&missing, "%s%s", n_missing ? ", " : "", c->names[f->name]);
		n_missing++;
	}
	/*
	 * A few functions without a start line are normal: assembly in libc,
	 * code without DWARF. They are left out (nobody compiles them with this
	 * profile). When most lack one, the profile as a whole is unusable (a
	 * Go < 1.20 profile, a converter that drops it): refuse, as Go does.
	 */
	if (n_missing && n_missing * 2 <= n_lined) {
		for (size_t i = 0; i < c->p->n_function; i++)
			if (c->fn[i].needs_start == 1 && c->fn[i].start <= 0)
				c->fn[i].name = -1;
		c->st.start_lines_missing += n_missing;
		n_missing = 0;
	}
	if (n_missing) {
		error("%s: %zu sampled function%s without a start line (%s%s): samples are keyed "
		      "by line offset from the function's start; pass the profiled binary with "
		      "--binary to read the start lines from its DWARF, or record the profile with "
		      "a tool that writes Function.start_line (Go >= 1.20, libcpgo)",
		      c->pname, n_missing, n_missing == 1 ? "" : "s", missing.buf,
		      n_missing > 5 ? ", ..." : "");
		goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&missing);
	return ret;
}

/* ---- the profiled binary: build id, discriminators, zero lines, symbol list ---- */

static const struct cpgo_mapping *binary_mapping(const struct lp_ctx *c)
{
	const char *bin = c->o->binary, *bb = strrchr(bin, '/');
	const char *bid = sym_dso_build_id(c->dso);

	bb = bb ? bb + 1 : bin;
	for (size_t i = 0; i < c->p->n_mapping; i++) {
		const struct cpgo_mapping *m = &c->p->mappings[i];
		const char *mb = cpgo_profile_str(c->p, m->build_id);
		if (*mb && *bid && !strcasecmp(mb, bid))
			return m;
	}
	for (size_t i = 0; i < c->p->n_mapping; i++) {
		const struct cpgo_mapping *m = &c->p->mappings[i];
		const char *mf = cpgo_profile_str(c->p, m->filename), *mfb = strrchr(mf, '/');
		mfb = mfb ? mfb + 1 : mf;
		if (!strcmp(mfb, bb))
			return m;
	}
	return c->p->n_mapping ? &c->p->mappings[0] : NULL;
}

static int check_binary(struct lp_ctx *c, const struct cpgo_mapping *m)
{
	const char *want = m ? cpgo_profile_str(c->p, m->build_id) : "";
	const char *have = sym_dso_build_id(c->dso);

	if (*want && *have && strcasecmp(want, have))
		return error("%s: was recorded from a binary with build id %s, but %s has build id %s; "
			     "pass the binary that was profiled with --binary",
			     c->pname, want, c->o->binary, have);
	return 0;
}

static int resolve_discriminators(struct lp_ctx *c)
{
	const struct cpgo_mapping *m = binary_mapping(c);
	struct sym_frame fr[MAX_FRAMES];

	if (check_binary(c, m) < 0)
		return -1;
	for (size_t i = 0; i < c->p->n_location; i++) {
		const struct cpgo_location *loc = &c->p->locations[i];
		uint64_t vaddr = loc->address;
		int n;

		if (!loc->n_line || !loc->address)
			continue;
		if (m && loc->mapping_id && loc->mapping_id != m->id)
			continue;
		if (m && sym_dso_runtime_to_vaddr(c->dso, loc->address, m->memory_start,
						  m->file_offset, &vaddr) < 0) {
			cpgo_clear_error();
			continue;
		}
		/*
		 * A return address points after the call: the call's own line is
		 * one byte back (what pprof symbolizers look up for non-leaf frames).
		 */
		n = sym_dso_lookup(c->dso, vaddr, fr, MAX_FRAMES);
		if (n < 0)
			return -1;
		if ((size_t)n != loc->n_line && vaddr) {
			n = sym_dso_lookup(c->dso, vaddr - 1, fr, MAX_FRAMES);
			if (n < 0)
				return -1;
		}
		if ((size_t)n != loc->n_line)
			continue;
		for (size_t j = 0; j < loc->n_line; j++)
			if (fr[j].line != c->p->lines[loc->line_off + j].line)
				goto next;
		for (size_t j = 0; j < loc->n_line; j++)
			c->line_disc[loc->line_off + j] = llvmprof_base_discriminator(fr[j].discriminator);
		c->st.locations_with_binary++;
next:;
	}
	return 0;
}

static int64_t frame_name(struct lp_ctx *c, const struct sym_frame *f, struct cpgo_buf *cn,
			  int create)
{
	const char *nm = pick_name(f->name, f->linkage_name);
	if (llvmprof_canonical_name(nm, cn) < 0)
		return -1;
	return create ? name_intern(c, cn->buf) : name_find(c, cn->buf);
}

/*
 * llvm-profgen writes a zero count for every line of a sampled function
 * that got no sample: clang then knows the line is cold, not unknown.
 * Walks the ELF symbols of sampled functions and every address in them.
 */
static int add_zero_lines(struct lp_ctx *c)
{
	struct cpgo_buf cn = CPGO_BUF_INIT;
	struct sym_frame fr[MAX_FRAMES];
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	int fd = -1, ret = -1, have_symtab = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	if ((fd = open(c->o->binary, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (!(elf = elf_begin(fd, ELF_C_READ, NULL)))
		goto done;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			have_symtab = 1;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != (have_symtab ? SHT_SYMTAB : SHT_DYNSYM))
			continue;
		if (!sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Sym sym;
			const char *sn;
			int64_t name, top;

			if (!gelf_getsym(data, (int)k, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_size || sym.st_size > (1u << 24))
				continue;
			if (!(sn = elf_strptr(elf, sh.sh_link, sym.st_name)))
				continue;
			if (llvmprof_canonical_name(sn, &cn) < 0)
				goto done;
			if ((name = name_find(c, cn.buf)) < 0 ||
			    (top = fs_get(c, NO_PARENT, 0, 0, (uint32_t)name, 0)) < 0)
				continue;
			for (uint64_t a = sym.st_value; a < sym.st_value + sym.st_size; a++) {
				int n = sym_dso_lookup(c->dso, a, fr, MAX_FRAMES);
				int64_t fs = top, r, nm;
				const struct sym_frame *outer;

				if (n < 0)
					goto done;
				if (n == 0)
					continue;
				outer = &fr[n - 1];
				if (frame_name(c, outer, &cn, 0) != name)
					continue;
				/* Same-named statics of other files have their own symbols. */
				if (c->fs[top].file && *c->fs[top].file && *outer->file &&
				    !path_suffix_score(c->fs[top].file, outer->file))
					continue;
				for (int j = n - 1; j > 0 && fs >= 0; j--) {
					if (fr[j].line <= 0 || fr[j].start_line <= 0)
						goto skip;
					if ((nm = frame_name(c, &fr[j - 1], &cn, 1)) < 0)
						goto done;
					fs = fs_get(c, (uint64_t)fs, line_offset(fr[j].line, fr[j].start_line),
						    llvmprof_base_discriminator(fr[j].discriminator),
						    (uint32_t)nm, 1);
				}
				if (fs < 0)
					goto done;
				if (fr[0].line <= 0 || fr[0].start_line <= 0)
					continue;
				if (map_get(&c->rec_map, (uint64_t)fs,
					    ((uint64_t)line_offset(fr[0].line, fr[0].start_line) << 32) |
						    llvmprof_base_discriminator(fr[0].discriminator),
					    0) >= 0)
					continue;
				r = rec_get(c, (size_t)fs, line_offset(fr[0].line, fr[0].start_line),
					    llvmprof_base_discriminator(fr[0].discriminator));
				if (r < 0)
					goto done;
				c->st.zero_lines++;
skip:;
			}
		}
	}
	ret = 0;
done:
	if (ret < 0 && !*cpgo_last_error())
		ret = 0;
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	cpgo_buf_release(&cn);
	return ret;
}

static int psl_cb(const char *name, const char *linkage, const char *file, int64_t start,
		  void *arg)
{
	struct lp_ctx *c = arg;
	struct cpgo_buf cn = CPGO_BUF_INIT;
	int64_t id;
	int ret = -1;

	if (llvmprof_canonical_name(pick_name(name, linkage), &cn) < 0)
		goto cleanup;
	ret = 0;
	if (!cn.len)
		goto cleanup;
	/* A name seen in any sampled stack is not cold, whatever became of its samples. */
	id = name_find(c, cn.buf);
	if (id >= 0 && ((size_t)id < c->n_seen ? c->seen_name[id] : 0))
		goto cleanup;
	if (id >= 0 && fs_get(c, NO_PARENT, 0, 0, (uint32_t)id, 0) >= 0)
		goto cleanup;
	ret = -1;
	if (CPGO_GROW(c->psl, c->alloc_psl, c->n_psl + 1) < 0)
		goto cleanup;
	c->psl[c->n_psl] = cpgo_buf_detach(&cn, NULL);
	c->n_psl++;
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int build_psl(struct lp_ctx *c)
{
	size_t w = 0;

	if (sym_dso_each_function(c->dso, psl_cb, c) < 0)
		return -1;
	if (c->n_psl)
		qsort(c->psl, c->n_psl, sizeof(*c->psl), cmp_str);
	for (size_t i = 0; i < c->n_psl; i++) {
		if (w && !strcmp(c->psl[w - 1], c->psl[i])) {
			free(c->psl[i]);
			continue;
		}
		c->psl[w++] = c->psl[i];
	}
	c->n_psl = w;
	c->st.symbol_list = w;
	return 0;
}

/* ---- ordering, as LLVM's std::map / std::set orders them ---- */

static int cmp_rec(const void *a, const void *b, void *arg)
{
	const struct lp_ctx *c = arg;
	const struct lp_rec *x = &c->rec[*(const size_t *)a], *y = &c->rec[*(const size_t *)b];
	if (x->fs != y->fs)
		return x->fs < y->fs ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->disc < y->disc ? -1 : x->disc > y->disc;
}

static int cmp_tgt(const void *a, const void *b, void *arg)
{
	const struct lp_ctx *c = arg;
	const struct lp_tgt *x = &c->tgt[*(const size_t *)a], *y = &c->tgt[*(const size_t *)b];
	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1; /* SampleRecord::CallTargetComparator */
	return strcmp(c->names[x->name], c->names[y->name]);
}

static int cmp_child(const void *a, const void *b, void *arg)
{
	const struct lp_ctx *c = arg;
	const struct lp_fs *x = &c->fs[*(const size_t *)a], *y = &c->fs[*(const size_t *)b];
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->disc != y->disc)
		return x->disc < y->disc ? -1 : 1;
	return strcmp(c->names[x->name], c->names[y->name]);
}

static int cmp_top(const void *a, const void *b, void *arg)
{
	const struct lp_ctx *c = arg;
	const struct lp_fs *x = &c->fs[*(const size_t *)a], *y = &c->fs[*(const size_t *)b];
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1; /* sortFuncProfiles */
	return strcmp(c->names[x->name], c->names[y->name]);
}

static int finalize(struct lp_ctx *c)
{
	size_t n_child = 0;

	c->rec_order = malloc((c->n_rec + 1) * sizeof(size_t));
	c->tgt_order = malloc((c->n_tgt + 1) * sizeof(size_t));
	c->child_order = malloc((c->n_fs + 1) * sizeof(size_t));
	c->top_order = malloc((c->n_fs + 1) * sizeof(size_t));
	if (!c->rec_order || !c->tgt_order || !c->child_order || !c->top_order)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->n_rec; i++)
		c->rec_order[i] = i;
	for (size_t i = 0; i < c->n_tgt; i++)
		c->tgt_order[i] = i;
	for (size_t i = 0; i < c->n_fs; i++) {
		if (c->fs[i].parent == NO_PARENT)
			c->top_order[c->n_top++] = i;
		else
			c->child_order[n_child++] = i;
	}
	qsort_r(c->rec_order, c->n_rec, sizeof(size_t), cmp_rec, c);
	qsort_r(c->tgt_order, c->n_tgt, sizeof(size_t), cmp_tgt, c);
	qsort_r(c->child_order, n_child, sizeof(size_t), cmp_child, c);
	qsort_r(c->top_order, c->n_top, sizeof(size_t), cmp_top, c);
	for (size_t i = c->n_rec; i-- > 0;) {
		struct lp_fs *f = &c->fs[c->rec[c->rec_order[i]].fs];
		f->rec_first = i;
		f->n_rec++;
	}
	for (size_t i = c->n_tgt; i-- > 0;) {
		struct lp_rec *r = &c->rec[c->tgt[c->tgt_order[i]].rec];
		r->tgt_first = i;
		r->n_tgt++;
	}
	for (size_t i = n_child; i-- > 0;) {
		struct lp_fs *f = &c->fs[c->fs[c->child_order[i]].parent];
		f->child_first = i;
		f->n_child++;
	}
	c->st.functions = c->n_top;
	c->st.inline_instances = n_child;
	c->st.call_targets = c->n_tgt;
	return 0;
}

/* ---- text writer (SampleProfileWriterText) ---- */

static int put_loc(struct cpgo_buf *out, int indent, uint32_t off, uint32_t disc)
{
	if (cpgo_buf_addf(out, "%*s%" PRIu32, indent, "", off) < 0)
		return -1;
	return disc ? cpgo_buf_addf(out, ".%" PRIu32, disc) : 0;
}

static int write_text_fs(const struct lp_ctx *c, size_t fi, int indent, struct cpgo_buf *out)
{
	const struct lp_fs *f = &c->fs[fi];

	if (cpgo_buf_addf(out, "%s:%" PRIu64, c->names[f->name], f->total) < 0)
		return -1;
	if (!indent && cpgo_buf_addf(out, ":%" PRIu64, f->head) < 0)
		return -1;
	if (cpgo_buf_adds(out, "\n") < 0)
		return -1;
	for (size_t i = 0; i < f->n_rec; i++) {
		const struct lp_rec *r = &c->rec[c->rec_order[f->rec_first + i]];
		if (put_loc(out, indent + 1, r->off, r->disc) < 0 ||
		    cpgo_buf_addf(out, ": %" PRIu64, r->samples) < 0)
			return -1;
		for (size_t t = 0; t < r->n_tgt; t++) {
			const struct lp_tgt *g = &c->tgt[c->tgt_order[r->tgt_first + t]];
			if (cpgo_buf_addf(out, " %s:%" PRIu64, c->names[g->name], g->count) < 0)
				return -1;
		}
		if (cpgo_buf_adds(out, "\n") < 0)
			return -1;
	}
	for (size_t i = 0; i < f->n_child; i++) {
		size_t ci = c->child_order[f->child_first + i];
		if (put_loc(out, indent + 1, c->fs[ci].off, c->fs[ci].disc) < 0 ||
		    cpgo_buf_adds(out, ": ") < 0 || write_text_fs(c, ci, indent + 1, out) < 0)
			return -1;
	}
	return 0;
}

/* ---- ext-binary writer (SampleProfileWriterExtBinary, DefaultLayout) ---- */

static int uleb(struct cpgo_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return cpgo_buf_add(b, tmp, n);
}

static int u64le(struct cpgo_buf *b, uint64_t v)
{
	unsigned char tmp[8];
	for (int i = 0; i < 8; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	return cpgo_buf_add(b, tmp, 8);
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

/* SampleProfileSummaryBuilder over every body record, then the detailed summary. */
static int write_summary(const struct lp_ctx *c, struct cpgo_buf *b)
{
	uint64_t *counts = malloc((c->n_rec + 1) * sizeof(*counts));
	uint64_t total = 0, max = 0, max_head = 0;
	size_t it = 0;
	uint64_t cur_sum = 0, count = 0, seen = 0;
	int ret = -1;

	if (!counts)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->n_rec; i++) {
		counts[i] = c->rec[i].samples;
		total = sat_add(total, counts[i]);
		if (counts[i] > max)
			max = counts[i];
	}
	for (size_t i = 0; i < c->n_top; i++)
		if (c->fs[c->top_order[i]].head > max_head)
			max_head = c->fs[c->top_order[i]].head;
	if (c->n_rec)
		qsort(counts, c->n_rec, sizeof(*counts), cmp_u64_desc);
	if (uleb(b, total) < 0 || uleb(b, max) < 0 || uleb(b, max_head) < 0 ||
	    uleb(b, c->n_rec) < 0 || uleb(b, c->n_top) < 0 ||
	    uleb(b, sizeof(summary_cutoffs) / sizeof(summary_cutoffs[0])) < 0)
		goto cleanup;
	for (size_t k = 0; k < sizeof(summary_cutoffs) / sizeof(summary_cutoffs[0]); k++) {
		uint64_t desired = (uint64_t)((unsigned __int128)total * summary_cutoffs[k] / 1000000);
		/* CountFrequencies walks distinct counts: a whole run of equal counts at once. */
		while (cur_sum < desired && it < c->n_rec) {
			count = counts[it];
			while (it < c->n_rec && counts[it] == count) {
				cur_sum = sat_add(cur_sum, count);
				seen++;
				it++;
			}
		}
		if (uleb(b, summary_cutoffs[k]) < 0 || uleb(b, count) < 0 || uleb(b, seen) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	free(counts);
	return ret;
}

static int write_bin_body(const struct lp_ctx *c, size_t fi, const uint32_t *idx,
			  struct cpgo_buf *b)
{
	const struct lp_fs *f = &c->fs[fi];

	if (uleb(b, idx[f->name]) < 0 || uleb(b, f->total) < 0 || uleb(b, f->n_rec) < 0)
		return -1;
	for (size_t i = 0; i < f->n_rec; i++) {
		const struct lp_rec *r = &c->rec[c->rec_order[f->rec_first + i]];
		if (uleb(b, r->off) < 0 || uleb(b, r->disc) < 0 || uleb(b, r->samples) < 0 ||
		    uleb(b, r->n_tgt) < 0)
			return -1;
		for (size_t t = 0; t < r->n_tgt; t++) {
			const struct lp_tgt *g = &c->tgt[c->tgt_order[r->tgt_first + t]];
			if (uleb(b, idx[g->name]) < 0 || uleb(b, g->count) < 0)
				return -1;
		}
	}
	if (uleb(b, f->n_child) < 0)
		return -1;
	for (size_t i = 0; i < f->n_child; i++) {
		size_t ci = c->child_order[f->child_first + i];
		if (uleb(b, c->fs[ci].off) < 0 || uleb(b, c->fs[ci].disc) < 0 ||
		    write_bin_body(c, ci, idx, b) < 0)
			return -1;
	}
	return 0;
}

static int cmp_name_id(const void *a, const void *b, void *arg)
{
	const struct lp_ctx *c = arg;
	return strcmp(c->names[*(const uint32_t *)a], c->names[*(const uint32_t *)b]);
}

static int write_ext_binary(const struct lp_ctx *c, struct cpgo_buf *out)
{
	enum { S_SUMMARY, S_NAMES, S_CSNAMES, S_OFFSETS, S_LBR, S_PSL, S_META, N_SEC };
	static const uint64_t sec_type[N_SEC] = { SEC_PROF_SUMMARY,      SEC_NAME_TABLE,
						  SEC_CS_NAME_TABLE,     SEC_FUNC_OFFSET_TABLE,
						  SEC_LBR_PROFILE,       SEC_PROFILE_SYMBOL_LIST,
						  SEC_FUNC_METADATA };
	/* File order: the offset table follows the profiles it points into. */
	static const int file_order[N_SEC] = { S_SUMMARY, S_NAMES, S_CSNAMES, S_LBR,
					       S_PSL,     S_OFFSETS, S_META };
	struct cpgo_buf sec[N_SEC];
	uint64_t flags[N_SEC] = { 0 }, off[N_SEC], pos;
	char *used = calloc(c->n_names + 1, 1);
	uint32_t *ids = malloc((c->n_names + 1) * sizeof(*ids));
	uint32_t *idx = calloc(c->n_names + 1, sizeof(*idx));
	size_t n_used = 0;
	struct cpgo_buf hdr = CPGO_BUF_INIT;
	int ret = -1;

	for (int i = 0; i < N_SEC; i++)
		cpgo_buf_init(&sec[i]);
	if (!used || !ids || !idx) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->n_fs; i++)
		used[c->fs[i].name] = 1;
	for (size_t i = 0; i < c->n_tgt; i++)
		used[c->tgt[i].name] = 1;
	for (size_t i = 0; i < c->n_names; i++)
		if (used[i])
			ids[n_used++] = (uint32_t)i;
	if (n_used)
		qsort_r(ids, n_used, sizeof(*ids), cmp_name_id, (void *)c);
	if (write_summary(c, &sec[S_SUMMARY]) < 0 || uleb(&sec[S_NAMES], n_used) < 0)
		goto cleanup;
	for (size_t i = 0; i < n_used; i++) {
		idx[ids[i]] = (uint32_t)i;
		if (cpgo_buf_add(&sec[S_NAMES], c->names[ids[i]], strlen(c->names[ids[i]]) + 1) < 0)
			goto cleanup;
		/* Tells clang not to strip the suffix when it matches names. */
		if (strstr(c->names[ids[i]], ".__uniq."))
			flags[S_NAMES] |= SEC_FLAG_UNIQ_SUFFIX;
	}
	if (uleb(&sec[S_CSNAMES], 0) < 0 || uleb(&sec[S_OFFSETS], c->n_top) < 0)
		goto cleanup;
	for (size_t i = 0; i < c->n_top; i++) {
		size_t fi = c->top_order[i];
		if (uleb(&sec[S_OFFSETS], idx[c->fs[fi].name]) < 0 ||
		    uleb(&sec[S_OFFSETS], sec[S_LBR].len) < 0 || uleb(&sec[S_LBR], c->fs[fi].head) < 0 ||
		    write_bin_body(c, fi, idx, &sec[S_LBR]) < 0)
			goto cleanup;
	}
	for (size_t i = 0; i < c->n_psl; i++)
		if (cpgo_buf_add(&sec[S_PSL], c->psl[i], strlen(c->psl[i]) + 1) < 0)
			goto cleanup;
	if (uleb(&hdr, ((uint64_t)'S' << 56) | ((uint64_t)'P' << 48) | ((uint64_t)'R' << 40) |
			       ((uint64_t)'O' << 32) | ((uint64_t)'F' << 24) | ((uint64_t)'4' << 16) |
			       ((uint64_t)'2' << 8) | SPF_EXT_BINARY) < 0 ||
	    uleb(&hdr, SP_VERSION) < 0 || u64le(&hdr, N_SEC) < 0)
		goto cleanup;
	pos = hdr.len + N_SEC * 32;
	for (int i = 0; i < N_SEC; i++) {
		off[file_order[i]] = pos;
		pos += sec[file_order[i]].len;
	}
	for (int i = 0; i < N_SEC; i++)
		if (u64le(&hdr, sec_type[i]) < 0 || u64le(&hdr, flags[i]) < 0 ||
		    u64le(&hdr, off[i]) < 0 || u64le(&hdr, sec[i].len) < 0)
			goto cleanup;
	if (cpgo_buf_add(out, hdr.buf, hdr.len) < 0)
		goto cleanup;
	for (int i = 0; i < N_SEC; i++)
		if (cpgo_buf_add(out, sec[file_order[i]].buf, sec[file_order[i]].len) < 0)
			goto cleanup;
	ret = 0;
cleanup:
	for (int i = 0; i < N_SEC; i++)
		cpgo_buf_release(&sec[i]);
	cpgo_buf_release(&hdr);
	free(used);
	free(ids);
	free(idx);
	return ret;
}

/* ---- entry points ---- */

static int pick_value(struct lp_ctx *c)
{
	const struct cpgo_profile *p = c->p;
	const char *want = c->o->sample_type;
	struct cpgo_buf have = CPGO_BUF_INIT;

	if (!p->n_sample_type)
		return error("%s: the profile has no sample types; is it a pprof profile?", c->pname);
	if (!want || !*want) {
		c->vi = cpgo_profile_cpu_index(p, c->pname);
		return c->vi < 0 ? -1 : 0;
	}
	for (size_t i = 0; i < p->n_sample_type; i++) {
		const char *t = cpgo_profile_str(p, p->sample_type[i].type);
		const char *u = cpgo_profile_str(p, p->sample_type[i].unit);
		size_t tl = strlen(t);
		if (!strcmp(want, t) || (!strncmp(want, t, tl) && want[tl] == '/' && !strcmp(want + tl + 1, u))) {
			c->vi = (int)i;
			return 0;
		}
	}
	for (size_t i = 0; i < p->n_sample_type; i++)
		cpgo_buf_addf(&have, "%s%s/%s", i ? ", " : "", cpgo_profile_str(p, p->sample_type[i].type),
			      cpgo_profile_str(p, p->sample_type[i].unit));
	error("%s: no sample type '%s' (the profile has: %s); pick one with --sample-type",
	      c->pname, want, have.buf);
	cpgo_buf_release(&have);
	return -1;
}

static int needs_symbolizing(const struct cpgo_profile *p)
{
	for (size_t i = 0; i < p->n_location; i++)
		if (!p->locations[i].n_line && p->locations[i].address)
			return 1;
	return 0;
}

static void ctx_release(struct lp_ctx *c)
{
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	for (size_t i = 0; i < c->n_psl; i++)
		free(c->psl[i]);
	free(c->psl);
	free(c->names);
	free(c->name_idx);
	free(c->fn);
	free(c->line_disc);
	free(c->seen_name);
	free(c->fs);
	free(c->rec);
	free(c->tgt);
	free(c->fs_map.s);
	free(c->rec_map.s);
	free(c->tgt_map.s);
	free(c->rec_order);
	free(c->child_order);
	free(c->tgt_order);
	free(c->top_order);
	if (c->dso)
		sym_dso_close(c->dso);
}

/*
 * Time samples cannot count calls: a function entered once that loops for a
 * second collects many samples under its callers' stacks but none on its
 * entry lines. Two consequences are corrected here, for top-level profiles:
 *  - with zero-count lines, an entry line (the lowest offset) left at 0 gets
 *    1, or clang (with profile inference) takes the entry count from it and
 *    treats a hot function as never entered, i.e. cold;
 *  - head samples become the entry line's count, the estimate LLVM itself
 *    uses when a profile has none, instead of time spent under calls.
 */
static int entry_heads(struct lp_ctx *c)
{
	int64_t *entry = malloc((c->n_fs ? c->n_fs : 1) * sizeof(*entry));

	if (!entry)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->n_fs; i++)
		entry[i] = -1;
	for (size_t r = 0; r < c->n_rec; r++) {
		size_t f = c->rec[r].fs;
		if (c->fs[f].parent != NO_PARENT)
			continue;
		if (entry[f] < 0 || c->rec[r].off < c->rec[entry[f]].off ||
		    (c->rec[r].off == c->rec[entry[f]].off &&
		     c->rec[r].samples > c->rec[entry[f]].samples))
			entry[f] = (int64_t)r;
	}
	for (size_t f = 0; f < c->n_fs; f++) {
		struct lp_rec *e;
		if (c->fs[f].parent != NO_PARENT || entry[f] < 0)
			continue;
		e = &c->rec[entry[f]];
		if (!e->samples && c->o->zero_lines) {
			e->samples = 1;
			c->fs[f].total = sat_add(c->fs[f].total, 1);
			c->st.entry_lines_floored++;
		}
		c->fs[f].head = e->samples;
	}
	free(entry);
	return 0;
}

int llvmprof_convert(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		     struct cpgo_buf *out)
{
	static const struct llvmprof_opts defaults;
	struct llvmprof_opts found;
	struct lp_ctx c = { 0 };
	int ret = -1, have_binary;
	uint64_t positive = 0;

	c.p = p;
	c.pname = name ? name : "profile";
	c.o = o ? o : &defaults;
	if (!(c.o->binary && *c.o->binary) && c.o->find_binary) {
		/*
		 * The profiled binary is often still at hand (a profile taken on
		 * the build machine): use it when its build id proves it is the one.
		 */
		const struct cpgo_mapping *m = p->n_mapping ? &p->mappings[0] : NULL;
		const char *path = m ? cpgo_profile_str(p, m->filename) : "";
		const char *want = m ? cpgo_profile_str(p, m->build_id) : "";
		struct sym_dso *d = NULL;

		if (*path && *want && !access(path, R_OK) && sym_dso_open(&d, path, NULL) == 0) {
			if (!strcasecmp(want, sym_dso_build_id(d))) {
				found = *c.o;
				found.binary = path;
				c.o = &found;
				c.st.binary_found = 1;
			}
			sym_dso_close(d);
		}
		cpgo_clear_error();
	}
	have_binary = c.o->binary && *c.o->binary;
	if (cpgo_profile_index(p) < 0 || pick_value(&c) < 0)
		goto cleanup;
	{
		const struct cpgo_value_type *vt = &p->sample_type[c.vi];
		/* Nanoseconds per sample would dwarf LLVM's counts: scale back to samples. */
		if (p->period > 0 && !strcmp(cpgo_profile_str(p, vt->unit), "nanoseconds") &&
		    !strcmp(cpgo_profile_str(p, p->period_type.unit), "nanoseconds"))
			c.div = (uint64_t)p->period;
	}
	for (size_t i = 0; i < p->n_sample; i++)
		if (cpgo_sample_values(p, i)[c.vi] > 0)
			positive++;
	if (!positive) {
		error("%s: no samples with a positive '%s' value (%zu samples in all); a PGO profile "
		      "needs a CPU profile of the program under load",
		      c.pname, cpgo_profile_str(p, p->sample_type[c.vi].type), p->n_sample);
		goto cleanup;
	}
	if (have_binary) {
		if (sym_dso_open(&c.dso, c.o->binary, NULL) < 0) {
			c.dso = NULL;
			goto cleanup;
		}
		if (check_binary(&c, binary_mapping(&c)) < 0)
			goto cleanup;
	}
	if (needs_symbolizing(p)) {
		struct symbolize_opts so = { .binary_override = have_binary ? c.o->binary : NULL };
		if (symbolize_profile(p, &so) < 0 || cpgo_profile_index(p) < 0)
			goto cleanup;
	}
	if (fn_setup(&c) < 0)
		goto cleanup;
	c.n_seen = c.n_names;
	if (!(c.seen_name = calloc(c.n_seen + 1, 1))) {
		error("%s: out of memory", c.pname);
		goto cleanup;
	}
	if (choose_tops(&c) < 0 || check_start_lines(&c) < 0)
		goto cleanup;
	if (c.dso && !have_binary) {
		/* Opened only to repair start lines: its build may not be the profiled one. */
		sym_dso_close(c.dso);
		c.dso = NULL;
	}
	if (c.dso && resolve_discriminators(&c) < 0)
		goto cleanup;
	for (size_t i = 0; i < p->n_sample; i++)
		if (add_sample(&c, i) < 0)
			goto cleanup;
	if (!c.n_fs) {
		/* Most files of a program are cold: callers may treat this as "no profile". */
		if (c.o->source_file && (c.st.other_tu_dropped || c.st.ambiguous_dropped))
			c.st.none_for_source = 1;
		error("%s: none of its %" PRIu64 " samples could be keyed by function and line "
		      "(locations without line information%s); symbolize the profile or pass the "
		      "profiled binary with --binary",
		      c.pname, positive, c.o->source_file ? ", or all in other source files" : "");
		goto cleanup;
	}
	if (c.dso && c.o->zero_lines && add_zero_lines(&c) < 0)
		goto cleanup;
	if (entry_heads(&c) < 0)
		goto cleanup;
	if (c.dso && !c.o->text && build_psl(&c) < 0)
		goto cleanup;
	if (finalize(&c) < 0)
		goto cleanup;
	if (c.o->text) {
		for (size_t i = 0; i < c.n_top; i++)
			if (write_text_fs(&c, c.top_order[i], 0, out) < 0)
				goto cleanup;
	} else if (write_ext_binary(&c, out) < 0) {
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (c.o->stats)
		*c.o->stats = c.st;
	ctx_release(&c);
	return ret;
}

int llvmprof_convert_file(const char *in_path, const char *out_path,
			  const struct llvmprof_opts *o)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	int ret = -1;

	/* cpgo_profile_read starts from scratch; release is safe on whatever it leaves. */
	memset(&p, 0, sizeof(p));
	if (cpgo_profile_read(&p, in_path, NULL) < 0)
		goto cleanup;
	if (llvmprof_convert(&p, in_path, o, &out) < 0)
		goto cleanup;
	if (cpgo_write_file_atomic(out_path, out.buf, out.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
	return ret;
}
