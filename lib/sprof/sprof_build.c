/*
 * pprof -> the sample-profile model: the samples into the model, and
 * sprof_build, which runs the steps (function table, binary, samples, zero
 * lines, heads, order) that every back end's writer then reads.
 */
#include "sprof_int.h"
#include "util/error.h"
#include "util/hash.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

const struct sp_fn *sp_line_fn(const struct sp_ctx *c, const struct cpgo_line *ln)
{
	const struct cpgo_function *f = cpgo_profile_function(c->p, ln->function_id);
	return f ? &c->fn[f - c->p->functions] : NULL;
}

#define line_fn sp_line_fn

enum sp_drop { SP_KEEP, SP_DROP_UNKNOWN, SP_DROP_LINE0, SP_DROP_NO_START, SP_DROP_OTHER, SP_DROP_KERNEL };

/*
 * A location can be keyed when every frame has a name, a line and a start
 * line; else says why not. A line 0 remapped to a nearby line stands for a
 * call site always, for body samples only with SPROF_LINE0_ALL.
 */
static enum sp_drop loc_check(const struct sp_ctx *c, const struct cpgo_location *loc, int body)
{
	const struct sp_fn *outer;

	if (!loc || !loc->n_line)
		return SP_DROP_UNKNOWN;
	if (loc->n_line > SPROF_MAX_FRAMES)
		return SP_DROP_OTHER;
	for (size_t j = 0; j < loc->n_line; j++) {
		size_t li = loc->line_off + j;
		const struct sp_fn *f = line_fn(c, &c->p->lines[li]);
		if (!f)
			return SP_DROP_UNKNOWN;
		if (f->kernel)
			return SP_DROP_KERNEL;
		if (f->start <= 0)
			return SP_DROP_NO_START;
		if (f->name < 0)
			return SP_DROP_UNKNOWN;
		if (c->line_no[li] <= 0 ||
		    (body && c->line_remapped[li] && c->line0 != SPROF_LINE0_ALL))
			return SP_DROP_LINE0;
	}
	outer = line_fn(c, &c->p->lines[loc->line_off + loc->n_line - 1]);
	return outer->keep_top ? SP_KEEP : SP_DROP_OTHER;
}

int sp_loc_usable(const struct sp_ctx *c, const struct cpgo_location *loc, int body)
{
	return loc_check(c, loc, body) == SP_KEEP;
}

int64_t sp_loc_chain(struct sp_ctx *c, struct sprof_model *m, const struct cpgo_location *loc,
		     uint64_t parent, uint32_t off, uint32_t disc, uint64_t add, int64_t *outer)
{
	const struct cpgo_line *lines = &c->p->lines[loc->line_off];
	const uint32_t *ldisc = &c->line_disc[loc->line_off];
	const int64_t *line = &c->line_no[loc->line_off];
	size_t n = loc->n_line;
	const struct sp_fn *f = line_fn(c, &lines[n - 1]);
	int64_t fs;

	if (parent == SPROF_NO_PARENT)
		off = disc = 0;
	for (uint64_t a = parent; add && a != SPROF_NO_PARENT; a = m->fs[a].parent)
		m->fs[a].total = sprof_sat_add(m->fs[a].total, add);
	if ((fs = sprof_fs_get(m, parent, off, disc, (uint32_t)f->name, 1)) < 0)
		return -1;
	if (outer)
		*outer = fs;
	if (!m->fs[fs].file)
		m->fs[fs].file = f->file;
	m->fs[fs].total = sprof_sat_add(m->fs[fs].total, add);
	for (size_t j = n - 1; j > 0; j--) {
		const struct sp_fn *callee = line_fn(c, &lines[j - 1]);
		fs = sprof_fs_get(m, (uint64_t)fs, sprof_line_offset(line[j], f->start), ldisc[j],
				  (uint32_t)callee->name, 1);
		if (fs < 0)
			return -1;
		m->fs[fs].total = sprof_sat_add(m->fs[fs].total, add);
		f = callee;
	}
	return fs;
}

void sp_loc_site(const struct sp_ctx *c, const struct cpgo_location *loc, uint32_t *off,
		 uint32_t *disc)
{
	const struct sp_fn *f = line_fn(c, &c->p->lines[loc->line_off]);
	*off = sprof_line_offset(c->line_no[loc->line_off], f->start);
	*disc = c->line_disc[loc->line_off];
}

/* The record of the innermost line of `loc` in its context (see sp_loc_chain). */
static int64_t loc_record(struct sp_ctx *c, const struct cpgo_location *loc, uint64_t parent,
			  uint32_t off, uint32_t disc, uint64_t add, int64_t *outer)
{
	int64_t fs = sp_loc_chain(c, c->m, loc, parent, off, disc, add, outer);
	uint32_t roff, rdisc;

	if (fs < 0)
		return -1;
	sp_loc_site(c, loc, &roff, &rdisc);
	return sprof_rec_get(c->m, (size_t)fs, roff, rdisc, 1);
}

static void count_drop(struct sp_ctx *c, enum sp_drop why, uint64_t v)
{
	uint64_t *by[] = { NULL, &c->st.dropped_unknown, &c->st.dropped_line0,
			   &c->st.dropped_no_start, &c->st.dropped_other, &c->st.dropped_kernel };
	c->st.samples_dropped = sprof_sat_add(c->st.samples_dropped, v);
	*by[why] = sprof_sat_add(*by[why], v);
}

uint64_t sp_sample_value(const struct sp_ctx *c, size_t si)
{
	int64_t raw = cpgo_sample_values(c->p, si)[c->vi];
	uint64_t v;

	if (raw <= 0)
		return 0;
	v = c->div > 1 ? ((uint64_t)raw + c->div / 2) / c->div : (uint64_t)raw;
	return v ? v : 1; /* a sample is a sample, however short the period it stood for */
}

/* ---- leaf samples per (location, context) ---- */

static uint32_t leaf_hash(size_t loc, uint64_t parent, uint32_t off, uint32_t disc)
{
	return (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(cpgo_hash_mix(CPGO_HASH_SEED, loc),
								   parent),
						     ((uint64_t)off << 32) | disc));
}

static int leaf_eq(const void *ctx, size_t pos, const void *key)
{
	const struct sp_leaf *a = &((const struct sp_ctx *)ctx)->leaves[pos], *b = key;
	return a->loc == b->loc && a->parent == b->parent && a->off == b->off && a->disc == b->disc;
}

static int leaf_add(struct sp_ctx *c, size_t loc, uint64_t parent, uint32_t off, uint32_t disc,
		    uint64_t v)
{
	struct sp_leaf k = { loc, parent, parent == SPROF_NO_PARENT ? 0 : off,
			     parent == SPROF_NO_PARENT ? 0 : disc, 0 };
	uint32_t h = leaf_hash(k.loc, k.parent, k.off, k.disc);
	size_t slot, pos;

	if (cpgo_hashmap_reserve(&c->leaf_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&c->leaf_map, h, leaf_eq, c, &k);
	if (!cpgo_hashmap_pos(&c->leaf_map, slot, &pos)) {
		if (CPGO_GROW(c->leaves, c->alloc_leaf, c->n_leaf + 1) < 0)
			return -1;
		c->leaves[c->n_leaf] = k;
		if (cpgo_hashmap_set(&c->leaf_map, slot, h, c->n_leaf) < 0)
			return -1;
		pos = c->n_leaf++;
	}
	c->leaves[pos].v = sprof_sat_add(c->leaves[pos].v, v);
	return 0;
}

static int mark_ctx_root(struct sp_ctx *c, int64_t fs)
{
	size_t old = c->alloc_fs_ctx;

	if ((size_t)fs >= c->alloc_fs_ctx) {
		if (CPGO_GROW(c->fs_ctx, c->alloc_fs_ctx, (size_t)fs + 1) < 0)
			return -1;
		memset(c->fs_ctx + old, 0, c->alloc_fs_ctx - old);
	}
	if (!c->fs_ctx[fs])
		c->st.ctx_instances++;
	c->fs_ctx[fs] = 1;
	return 0;
}

/*
 * A frame the tail-call rule put back serves the contexts: inlined into its
 * caller, its jump can be promoted and inlined there, as instrumented PGO
 * does. Out of line, the call target it would give its own profile made
 * clang promote and inline the jumped-to function into the wrapper
 * (sqlite's getCellInfo: +4M instructions, 0.4% of sqlite's, for the
 * compares and the wrapper's new prologue on its early-return path), so at
 * top level it is left out, as if never put back, unless the pre-inliner
 * inlined the jumped-to function into it.
 */
static int tail_frame_alone(struct sp_ctx *c, const struct cpgo_sample *s, size_t k, int in_ctx,
			    uint64_t sparent)
{
	const struct cpgo_location *loc = cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
	const struct cpgo_location *cl = cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k - 1]);
	uint64_t a = c->loc_ret[loc - c->p->locations];
	const struct sp_fn *callee;
	uint32_t off, disc;
	int64_t sn, child;

	if (!a || !bsearch(&a, c->tail_at, c->n_tail, sizeof(a), sp_cmp_u64))
		return 0;
	if (!in_ctx || !cl || !cl->n_line)
		return 1;
	callee = line_fn(c, &c->p->lines[cl->line_off + cl->n_line - 1]);
	if (!callee || callee->name < 0 ||
	    (sn = sp_loc_chain(c, &c->ctx_trie, loc, sparent, 0, 0, 0, NULL)) < 0)
		return 1;
	sp_loc_site(c, loc, &off, &disc);
	child = sprof_fs_get(&c->ctx_trie, (uint64_t)sn, off, disc, (uint32_t)callee->name, 0);
	return !(child >= 0 && c->ctx_trie.fs[child].head);
}

/*
 * One sample into the model, from the root frame to the leaf. Frames below
 * the sample's context base (smp_base) nest under their caller wherever the
 * pre-inliner accepted the physical call between them; every other frame
 * is keyed at top level, as without contexts.
 */
static int add_sample(struct sp_ctx *c, size_t si)
{
	const struct cpgo_sample *s = &c->p->samples[si];
	size_t base = c->ctx && c->smp_base ? c->smp_base[si] : SIZE_MAX;
	uint64_t parent = SPROF_NO_PARENT, sparent = SPROF_NO_PARENT, v = sp_sample_value(c, si);
	uint32_t poff = 0, pdisc = 0;
	int through_line0 = 0; /* a call target of this sample came through a remapped frame */
	int leaf_line0 = 0;    /* the leaf's own caller frame was one */
	int root_next = 0;     /* the next frame's outermost fs is a context root */

	if (!v || !s->n_loc)
		return 0;
	{
		const struct cpgo_location *leaf =
			cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off]);
		if (loc_check(c, leaf, 1) == SP_DROP_KERNEL) {
			/* The whole sample: kernel time says nothing of the calls that led to it. */
			count_drop(c, SP_DROP_KERNEL, v);
			return 0;
		}
	}
	for (size_t k = s->n_loc; k-- > 0;) {
		const struct cpgo_location *loc =
			cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
		enum sp_drop why = loc_check(c, loc, k == 0);
		int in_ctx = base != SIZE_MAX && k <= base && why == SP_KEEP;
		int64_t r = -1, outer = -1, inner;

		if (!in_ctx)
			parent = sparent = SPROF_NO_PARENT;
		if (k >= 1 && parent == SPROF_NO_PARENT && why == SP_KEEP && c->n_tail &&
		    !c->o->tail_top && tail_frame_alone(c, s, k, in_ctx, sparent))
			continue;
		if (k == 0 && why != SP_KEEP) {
			count_drop(c, why, v);
		} else if (k == 0) {
			if ((r = loc_record(c, loc, parent, poff, pdisc, v, &outer)) < 0 ||
			    leaf_add(c, (size_t)(loc - c->p->locations), parent, poff, pdisc, v) < 0)
				return -1;
			c->st.samples_used = sprof_sat_add(c->st.samples_used, v);
			if (parent != SPROF_NO_PARENT)
				c->st.ctx_samples = sprof_sat_add(c->st.ctx_samples, v);
		} else if (why == SP_KEEP) {
			const struct cpgo_location *cl =
				cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k - 1]);
			const struct sp_fn *callee =
				cl && cl->n_line ? line_fn(c, &c->p->lines[cl->line_off + cl->n_line - 1]) : NULL;
			if ((r = loc_record(c, loc, parent, poff, pdisc, 0, &outer)) < 0)
				return -1;
			/* Head samples are set from entry lines later (entry_heads). */
			if (callee && callee->name >= 0) {
				const struct sp_l0x *x;
				size_t nx = c->line_remapped[loc->line_off]
						    ? sp_line0_others(c, loc->line_off, &x) : 0;

				if (sprof_tgt_add(c->m, (size_t)r, (uint32_t)callee->name, v) < 0)
					return -1;
				/* A folded call: each of its source calls may be promoted. */
				for (size_t i = 0; i < nx; i++) {
					const struct sp_fn *f = line_fn(c, &c->p->lines[loc->line_off]);
					int64_t r2 = sprof_rec_get(c->m, c->m->rec[r].fs,
								   sprof_line_offset(x[i].line_no, f->start),
								   x[i].disc, 1);
					if (r2 < 0 || sprof_tgt_add(c->m, (size_t)r2,
								    (uint32_t)callee->name, v) < 0)
						return -1;
				}
				through_line0 |= c->line_remapped[loc->line_off] != 0;
				leaf_line0 |= k == 1 && c->line_remapped[loc->line_off];
			}
		}
		if (root_next && outer >= 0 && mark_ctx_root(c, outer) < 0)
			return -1;
		root_next = 0;
		if (in_ctx && k >= 1) {
			const struct cpgo_location *cl =
				cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k - 1]);
			const struct sp_fn *callee = line_fn(c, &c->p->lines[cl->line_off + cl->n_line - 1]);
			uint32_t off, disc;
			int64_t sn = sp_loc_chain(c, &c->ctx_trie, loc, sparent, poff, pdisc, 0, NULL), child;

			if (sn < 0)
				return -1;
			sp_loc_site(c, loc, &off, &disc);
			child = sprof_fs_get(&c->ctx_trie, (uint64_t)sn, off, disc, (uint32_t)callee->name, 0);
			if (child >= 0 && c->ctx_trie.fs[child].head) {
				inner = c->m->rec[r].fs;
				parent = (uint64_t)inner;
				sparent = (uint64_t)sn;
				poff = off;
				pdisc = disc;
				root_next = 1;
				continue;
			}
		}
		parent = sparent = SPROF_NO_PARENT;
	}
	/* Once per sample, so the share is of samples, not of frames. */
	if (through_line0)
		c->st.line0_call_samples = sprof_sat_add(c->st.line0_call_samples, v);
	if (leaf_line0)
		c->st.line0_leaf_call_samples = sprof_sat_add(c->st.line0_leaf_call_samples, v);
	return 0;
}

/*
 * Good-Turing: the share of a profile's samples on lines sampled exactly
 * once estimates the share of the program's time on lines never sampled.
 * Counted per body line of each profile (raw samples, before MAX x
 * duplication); when it is over SP_THIN_MAX_UNSEEN the profile is sparse
 * as a whole and the thin rule is off. Makes the leaves' records (as
 * line_counts would) before sizing the per-record counts by them.
 */
static int sparse_profile(struct sp_ctx *c)
{
	int64_t *rec = malloc((c->n_leaf + 1) * sizeof(*rec));
	uint64_t *raw = NULL, all = 0, once = 0;
	int ret = -1;

	if (!rec) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->n_leaf; i++) {
		const struct sp_leaf *lf = &c->leaves[i];
		rec[i] = -1;
		if (lf->v && (rec[i] = loc_record(c, &c->p->locations[lf->loc], lf->parent, lf->off,
						  lf->disc, 0, NULL)) < 0)
			goto cleanup;
	}
	if (!(raw = calloc(c->m->n_rec + 1, sizeof(*raw)))) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->n_leaf; i++)
		if (rec[i] >= 0)
			raw[rec[i]] = sprof_sat_add(raw[rec[i]], c->leaves[i].v);
	for (size_t r = 0; r < c->m->n_rec; r++) {
		all = sprof_sat_add(all, raw[r]);
		once += raw[r] == 1;
	}
	c->st.unseen_permille = all ? (unsigned)(once * 1000 / all) : 0;
	ret = all && (double)once > SP_THIN_MAX_UNSEEN * (double)all;
cleanup:
	free(rec);
	free(raw);
	return ret;
}

/*
 * A line's count from the counts of its sampled addresses. SUM counts time
 * in the line; MAX x duplication factor (llvm-profgen's way) estimates how
 * often the line ran: a line of ten instructions is not ten times hotter
 * than a line of one, and an unrolled copy stands for `factor` iterations.
 * Then the skid rule notes the line before each sampled address. Per
 * context: the same address counts apart in each inline instance.
 */
static int line_counts(struct sp_ctx *c)
{
	int sparse;

	if (c->thin && c->zero) {
		if ((sparse = sparse_profile(c)) < 0)
			return -1;
		if (sparse && c->o->thin != SPROF_ON) {
			c->thin = 0;
			c->st.thin_off_sparse = 1;
		}
	}
	for (size_t i = 0; i < c->n_leaf; i++) {
		const struct sp_leaf *lf = &c->leaves[i];
		const struct cpgo_location *loc = &c->p->locations[lf->loc];
		uint64_t v = lf->v, dup;
		struct sprof_rec *rec;
		int64_t r;

		if (!v)
			continue;
		if ((r = loc_record(c, loc, lf->parent, lf->off, lf->disc, 0, NULL)) < 0)
			return -1;
		rec = &c->m->rec[r];
		if (!c->max) {
			rec->samples = sprof_sat_add(rec->samples, v);
		} else {
			dup = c->line_dup[loc->line_off] ? c->line_dup[loc->line_off] : 1;
			v = v > UINT64_MAX / dup ? UINT64_MAX : v * dup;
			if (v > rec->samples)
				rec->samples = v;
		}
		if (c->zero && c->skid && sp_skid_note(c, lf->loc, rec->fs, lf->v) < 0)
			return -1;
	}
	return 0;
}

static int pick_value(struct sp_ctx *c)
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

static int ctx_alloc(struct sp_ctx *c)
{
	size_t nl = c->p->n_lines ? c->p->n_lines : 1, nloc = c->p->n_location ? c->p->n_location : 1;

	c->line_no = malloc(nl * sizeof(*c->line_no));
	c->line_disc = calloc(nl, sizeof(*c->line_disc));
	c->line_dup = calloc(nl, sizeof(*c->line_dup));
	c->line_remapped = calloc(nl, 1);
	c->loc_vaddr = calloc(nloc, sizeof(*c->loc_vaddr));
	c->loc_ret = calloc(nloc, sizeof(*c->loc_ret));
	if (!c->line_no || !c->line_disc || !c->line_dup || !c->line_remapped || !c->loc_vaddr ||
	    !c->loc_ret)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->p->n_lines; i++)
		c->line_no[i] = c->p->lines[i].line;
	return 0;
}

/*
 * The defaults, chosen by callgrind instruction counts on bzip2, lua and tl
 * (plain -O2 Ir / variant Ir, same training profile): the old way (no zeros,
 * SUM, line 0 dropped) 1.106 / 0.986 / 1.056; zeros + SUM 1.095 / 0.973 /
 * 1.058; zeros + MAX x dup 1.105 / 0.976 / 1.056; + skid rule 1.122 / 0.980 /
 * 1.054; + line 0 remapped for call sites 1.122 / 0.976 / 1.054, for body
 * samples too 1.134 / 0.998 / 1.049.
 */
/*
 * Contexts, and the profile flagged pre-inlined: callgrind Ir ratios against
 * plain -O2, same training profile, no context / context / context +
 * pre-inlined: sqlite 1.134 / 1.122 / 1.146, xmllint 1.044 / 1.061 (an
 * earlier rule set) / 1.049, bzip2 1.117 / 1.117 / 1.113, lua 0.988 / - /
 * 1.007. The pre-inlined profile is the default (-D...=0 builds without).
 */
/*
 * Thin profiles left out (sprof_opts.thin): callgrind Ir ratios against
 * plain -O2 on bench/stability.sh's bzip2 evaluation: a profile of another
 * input (nonrep) 0.989 -> 0.998, the representative profile 1.113 -> 1.113
 * (no zeros at all: 0.958 and worse). -DSPROF_THIN_DEFAULT=0 builds without.
 */
#ifndef SPROF_THIN_DEFAULT
#define SPROF_THIN_DEFAULT 1
#endif

#ifndef SPROF_PREINLINED_DEFAULT
#define SPROF_PREINLINED_DEFAULT 1
#endif

/*
 * Tail-call frames put back (sprof_tailcall.c), callgrind Ir ratios against
 * plain -O2, same training profiles, off / on: sqlite 1.1566 / 1.1553,
 * bzip2 1.1239 / 1.1239, lua 1.0387 / 1.0351 (lua's noise between two runs
 * of one binary: 0.22%). Not a gain yet: off unless asked for.
 */
#ifndef SPROF_TAIL_FRAMES_DEFAULT
#define SPROF_TAIL_FRAMES_DEFAULT 0
#endif

static void resolve_defaults(struct sp_ctx *c)
{
	c->zero = c->o->zero_lines != SPROF_OFF;
	c->thin = c->o->thin == SPROF_ON || (!c->o->thin && SPROF_THIN_DEFAULT);
	c->skid = c->o->skid != SPROF_OFF;
	c->max = c->o->line_counts != SPROF_LINES_SUM;
	c->line0 = c->o->line0 ? c->o->line0 : SPROF_LINE0_ALL;
	c->ctx = c->o->context != SPROF_OFF;
	c->tail = c->o->tail_frames == SPROF_ON ||
		  (!c->o->tail_frames && SPROF_TAIL_FRAMES_DEFAULT);
	c->preinlined = c->o->preinlined == SPROF_ON ||
			(!c->o->preinlined && SPROF_PREINLINED_DEFAULT);
}

static void ctx_release(struct sp_ctx *c)
{
	free(c->fn);
	free(c->line_no);
	free(c->line_disc);
	free(c->line_dup);
	free(c->line_remapped);
	sp_line0_release(c);
	sp_code_release(c);
	free(c->leaves);
	cpgo_hashmap_release(&c->leaf_map);
	free(c->loc_vaddr);
	free(c->loc_ret);
	free(c->smp_base);
	free(c->fs_ctx);
	if (c->have_trie)
		sprof_model_release(&c->ctx_trie);
	free(c->loc_sampled);
	free(c->skids);
	cpgo_hashmap_release(&c->skid_map);
	free(c->seen_name);
	free(c->tail_at);
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
static int entry_heads(struct sp_ctx *c)
{
	int64_t *entry = malloc((c->m->n_fs ? c->m->n_fs : 1) * sizeof(*entry));

	if (!entry)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->m->n_fs; i++)
		entry[i] = -1;
	for (size_t r = 0; r < c->m->n_rec; r++) {
		size_t f = c->m->rec[r].fs;
		if (c->m->fs[f].parent != SPROF_NO_PARENT)
			continue;
		if (entry[f] < 0 || c->m->rec[r].off < c->m->rec[entry[f]].off ||
		    (c->m->rec[r].off == c->m->rec[entry[f]].off &&
		     c->m->rec[r].samples > c->m->rec[entry[f]].samples))
			entry[f] = (int64_t)r;
	}
	for (size_t f = 0; f < c->m->n_fs; f++) {
		struct sprof_rec *e;
		if (c->m->fs[f].parent != SPROF_NO_PARENT || entry[f] < 0)
			continue;
		e = &c->m->rec[entry[f]];
		if (!e->samples && c->zero) {
			e->samples = 1;
			c->m->fs[f].total = sprof_sat_add(c->m->fs[f].total, 1);
			c->st.entry_lines_floored++;
		}
		c->m->fs[f].head = e->samples;
	}
	free(entry);
	return 0;
}

/*
 * A pre-inlined profile tells clang to inline the instances marked for it:
 * those the pre-inliner made. The profiled binary's own are only marked as
 * such and go through clang's usual hotness and cost checks: forcing them
 * all (cold ones too) cost sqlite 1.4% of its instructions.
 */
static void mark_preinlined(struct sp_ctx *c)
{
	for (size_t i = 0; i < c->m->n_fs; i++) {
		if (c->m->fs[i].parent == SPROF_NO_PARENT)
			continue;
		if (i < c->alloc_fs_ctx && c->fs_ctx[i])
			c->m->fs[i].attr = SPROF_CTX_SHOULD_INLINE;
		else
			c->m->fs[i].attr = SPROF_CTX_WAS_INLINED;
	}
	c->m->preinlined = 1;
}

int sprof_build(struct cpgo_profile *p, const char *name, const struct sprof_opts *o,
		struct sprof_model *m)
{
	static const struct sprof_opts defaults;
	struct sprof_opts found = { 0 };
	struct sp_ctx c = { 0 };
	int ret = -1, have_binary;
	uint64_t positive = 0;

	c.p = p;
	c.m = m;
	c.pname = name ? name : "profile";
	c.o = o ? o : &defaults;
	cpgo_hashmap_init(&c.skid_map, "skid-protected line");
	cpgo_hashmap_init(&c.leaf_map, "sampled location");
	resolve_defaults(&c);
	if (!(c.o->binary && *c.o->binary) && c.o->find_binary &&
	    (found.binary = sp_find_profiled_binary(p))) {
		const char *path = found.binary;
		found = *c.o;
		found.binary = path;
		c.o = &found;
		c.st.binary_found = 1;
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
		if (sp_check_binary(&c) < 0)
			goto cleanup;
	}
	if (needs_symbolizing(p)) {
		struct symbolize_opts so = { .binary_override = have_binary ? c.o->binary : NULL };
		if (symbolize_profile(p, &so) < 0 || cpgo_profile_index(p) < 0)
			goto cleanup;
	}
	/* Before anything is sized by the profile's locations: it adds some. */
	if (have_binary && c.ctx && c.tail && sp_tailcall_frames(&c) < 0)
		goto cleanup;
	if (ctx_alloc(&c) < 0 || sp_fn_setup(&c) < 0)
		goto cleanup;
	c.n_seen = c.m->n_names;
	if (!(c.seen_name = calloc(c.n_seen + 1, 1))) {
		error("%s: out of memory", c.pname);
		goto cleanup;
	}
	if (sp_mark_sampled(&c) < 0 || sp_choose_tops(&c) < 0 || sp_check_start_lines(&c) < 0)
		goto cleanup;
	if (c.dso && !have_binary) {
		/* Opened only to repair start lines: its build may not be the profiled one. */
		sym_dso_close(c.dso);
		c.dso = NULL;
	}
	if (c.dso && sp_resolve_discriminators(&c) < 0)
		goto cleanup;
	if (!c.dso)
		c.zero = c.ctx = 0; /* zeros and contexts need the binary */
	if (c.ctx && sp_preinline(&c) < 0)
		goto cleanup;
	for (size_t i = 0; i < p->n_sample; i++)
		if (add_sample(&c, i) < 0)
			goto cleanup;
	if (line_counts(&c) < 0)
		goto cleanup;
	if (!c.m->n_fs) {
		/* Most files of a program are cold: callers may treat this as "no profile". */
		if (c.o->source_file && (c.st.other_tu_dropped || c.st.ambiguous_dropped))
			c.st.none_for_source = 1;
		error("%s: none of its %" PRIu64 " samples could be keyed by function and line "
		      "(locations without line information%s); symbolize the profile or pass the "
		      "profiled binary with --binary",
		      c.pname, positive, c.o->source_file ? ", or all in other source files" : "");
		goto cleanup;
	}
	if (c.zero && sp_add_zero_lines(&c) < 0)
		goto cleanup;
	if (entry_heads(&c) < 0)
		goto cleanup;
	if (c.dso && c.o->symbol_list && sp_build_psl(&c) < 0)
		goto cleanup;
	if (c.ctx && c.preinlined)
		mark_preinlined(&c);
	if (sprof_model_order(c.m) < 0)
		goto cleanup;
	c.st.functions = c.m->n_top;
	c.st.inline_instances = c.m->n_child;
	c.st.call_targets = c.m->n_tgt;
	ret = 0;
cleanup:
	if (c.o->stats)
		*c.o->stats = c.st;
	ctx_release(&c);
	return ret;
}

