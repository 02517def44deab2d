/*
 * pprof -> the sample-profile model: the samples into the model, and
 * sprof_build, which runs the steps (function table, binary, samples, zero
 * lines, heads, order) that every back end's writer then reads.
 */
#include "sprof_int.h"
#include "util/error.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const struct sp_fn *line_fn(const struct sp_ctx *c, const struct cpgo_line *ln)
{
	const struct cpgo_function *f = cpgo_profile_function(c->p, ln->function_id);
	return f ? &c->fn[f - c->p->functions] : NULL;
}

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

/*
 * Walks a location's frames from the outermost function to the innermost
 * inline instance and returns the record of the innermost line. `add` goes
 * to the total of every FunctionSamples on the way (body samples).
 */
static int64_t loc_record(struct sp_ctx *c, const struct cpgo_location *loc, uint64_t add)
{
	const struct cpgo_line *lines = &c->p->lines[loc->line_off];
	const uint32_t *disc = &c->line_disc[loc->line_off];
	const int64_t *line = &c->line_no[loc->line_off];
	size_t n = loc->n_line;
	const struct sp_fn *f = line_fn(c, &lines[n - 1]);
	int64_t fs = sprof_fs_get(c->m, SPROF_NO_PARENT, 0, 0, (uint32_t)f->name, 1);

	if (fs < 0)
		return -1;
	if (!c->m->fs[fs].file)
		c->m->fs[fs].file = f->file;
	c->m->fs[fs].total = sprof_sat_add(c->m->fs[fs].total, add);
	for (size_t j = n - 1; j > 0; j--) {
		const struct sp_fn *callee = line_fn(c, &lines[j - 1]);
		fs = sprof_fs_get(c->m, (uint64_t)fs, sprof_line_offset(line[j], f->start), disc[j],
			       (uint32_t)callee->name, 1);
		if (fs < 0)
			return -1;
		c->m->fs[fs].total = sprof_sat_add(c->m->fs[fs].total, add);
		f = callee;
	}
	return sprof_rec_get(c->m, (size_t)fs, sprof_line_offset(line[0], f->start), disc[0], 1);
}

/*
 * The record of leaf location `leaf` (a top-level function's own frames)
 * as if that function had been inlined at the call of `caller`: the
 * caller's frames from the outermost in, then the callee's, the whole
 * chain gaining `v` (body samples are added here directly: a count per
 * (call, line) is not made from addresses).
 */
static int call_instance_add(struct sp_ctx *c, const struct cpgo_location *caller,
			     const struct cpgo_location *leaf, uint64_t v)
{
	const struct cpgo_line *cl = &c->p->lines[caller->line_off];
	const struct sp_fn *inner = line_fn(c, &cl[0]), *callee;
	int64_t fs, r;

	if (caller->n_line + leaf->n_line > SPROF_MAX_FRAMES)
		return 0;
	callee = line_fn(c, &c->p->lines[leaf->line_off + leaf->n_line - 1]);
	/* Recursion is never inlined early; a self call adds nothing. */
	for (size_t j = 0; j < caller->n_line; j++)
		if (line_fn(c, &cl[j])->name == callee->name)
			return 0;
	size_t before;

	if ((r = loc_record(c, caller, v)) < 0)
		return -1;
	before = c->m->n_fs;
	fs = sprof_fs_get(c->m, c->m->rec[r].fs, sprof_line_offset(c->line_no[caller->line_off], inner->start),
			  c->line_disc[caller->line_off], (uint32_t)callee->name, 1);
	if (fs < 0)
		return -1;
	/* A real inline instance at the same call (a partial inline) stays one. */
	if ((size_t)fs >= before)
		c->m->fs[fs].call_instance = 1;
	c->m->fs[fs].total = sprof_sat_add(c->m->fs[fs].total, v);
	{
		const struct cpgo_line *ll = &c->p->lines[leaf->line_off];
		const int64_t *line = &c->line_no[leaf->line_off];
		const uint32_t *disc = &c->line_disc[leaf->line_off];
		const struct sp_fn *f = callee;
		for (size_t j = leaf->n_line - 1; j > 0; j--) {
			const struct sp_fn *in = line_fn(c, &ll[j - 1]);
			before = c->m->n_fs;
			fs = sprof_fs_get(c->m, (uint64_t)fs, sprof_line_offset(line[j], f->start), disc[j],
					  (uint32_t)in->name, 1);
			if (fs < 0)
				return -1;
			if ((size_t)fs >= before)
				c->m->fs[fs].call_instance = 1;
			c->m->fs[fs].total = sprof_sat_add(c->m->fs[fs].total, v);
			f = in;
		}
		r = sprof_rec_get(c->m, (size_t)fs, sprof_line_offset(line[0], f->start), disc[0], 1);
		if (r < 0)
			return -1;
		c->m->rec[r].samples = sprof_sat_add(c->m->rec[r].samples, v);
	}
	return 0;
}

static void count_drop(struct sp_ctx *c, enum sp_drop why, uint64_t v)
{
	uint64_t *by[] = { NULL, &c->st.dropped_unknown, &c->st.dropped_line0,
			   &c->st.dropped_no_start, &c->st.dropped_other, &c->st.dropped_kernel };
	c->st.samples_dropped = sprof_sat_add(c->st.samples_dropped, v);
	*by[why] = sprof_sat_add(*by[why], v);
}

static int add_sample(struct sp_ctx *c, size_t si)
{
	const struct cpgo_sample *s = &c->p->samples[si];
	int64_t raw = cpgo_sample_values(c->p, si)[c->vi];
	const struct sp_fn *callee = NULL; /* the previous (callee) frame's outermost function */
	int through_line0 = 0; /* a call target of this sample came through a remapped frame */
	uint64_t v;

	if (raw <= 0)
		return 0;
	v = c->div > 1 ? ((uint64_t)raw + c->div / 2) / c->div : (uint64_t)raw;
	if (!v)
		v = 1; /* a sample is a sample, however short the period it stood for */
	for (size_t k = 0; k < s->n_loc; k++) {
		const struct cpgo_location *loc =
			cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
		enum sp_drop why = loc_check(c, loc, k == 0);
		int64_t r;

		if (k == 0 && why == SP_DROP_KERNEL) {
			/* The whole sample: kernel time says nothing of the calls that led to it. */
			count_drop(c, why, v);
			return 0;
		} else if (k == 0 && why != SP_KEEP) {
			count_drop(c, why, v);
		} else if (k == 0) {
			if ((r = loc_record(c, loc, v)) < 0)
				return -1;
			/* Line counts are made from the per-address counts later (line_counts). */
			c->leaf[loc - c->p->locations] = sprof_sat_add(c->leaf[loc - c->p->locations], v);
			c->st.samples_used = sprof_sat_add(c->st.samples_used, v);
			if (c->o->call_instances > 0 && s->n_loc > 1) {
				const struct cpgo_location *up =
					cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + 1]);
				if (loc_check(c, up, 0) == SP_KEEP && call_instance_add(c, up, loc, v) < 0)
					return -1;
			}
		} else if (callee && callee->name >= 0 && why == SP_KEEP) {
			/* Head samples are set from entry lines later (entry_heads). */
			if ((r = loc_record(c, loc, 0)) < 0 ||
			    sprof_tgt_add(c->m, (size_t)r, (uint32_t)callee->name, v) < 0)
				return -1;
			through_line0 |= c->line_remapped[loc->line_off] != 0;
		}
		callee = NULL;
		if (loc && loc->n_line)
			callee = line_fn(c, &c->p->lines[loc->line_off + loc->n_line - 1]);
	}
	/* Once per sample, so the share is of samples, not of frames. */
	if (through_line0)
		c->st.line0_call_samples = sprof_sat_add(c->st.line0_call_samples, v);
	return 0;
}

/*
 * A line's count from the counts of its sampled addresses. SUM counts time
 * in the line; MAX x duplication factor (llvm-profgen's way) estimates how
 * often the line ran: a line of ten instructions is not ten times hotter
 * than a line of one, and an unrolled copy stands for `factor` iterations.
 * Then the skid rule notes the line before each sampled address.
 */
static int line_counts(struct sp_ctx *c)
{
	for (size_t i = 0; i < c->p->n_location; i++) {
		const struct cpgo_location *loc = &c->p->locations[i];
		uint64_t v = c->leaf[i], dup;
		struct sprof_rec *rec;
		int64_t r;

		if (!v)
			continue;
		if ((r = loc_record(c, loc, 0)) < 0)
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
		if (c->zero && c->skid && sp_skid_note(c, i, rec->fs, c->leaf[i]) < 0)
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
	c->leaf = calloc(nloc, sizeof(*c->leaf));
	c->loc_vaddr = calloc(nloc, sizeof(*c->loc_vaddr));
	if (!c->line_no || !c->line_disc || !c->line_dup || !c->line_remapped || !c->leaf ||
	    !c->loc_vaddr)
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
static void resolve_defaults(struct sp_ctx *c)
{
	c->zero = c->o->zero_lines != SPROF_OFF;
	c->skid = c->o->skid != SPROF_OFF;
	c->max = c->o->line_counts != SPROF_LINES_SUM;
	c->line0 = c->o->line0 ? c->o->line0 : SPROF_LINE0_ALL;
}

static void ctx_release(struct sp_ctx *c)
{
	free(c->fn);
	free(c->line_no);
	free(c->line_disc);
	free(c->line_dup);
	free(c->line_remapped);
	free(c->leaf);
	free(c->loc_vaddr);
	free(c->loc_sampled);
	free(c->skids);
	cpgo_hashmap_release(&c->skid_map);
	free(c->seen_name);
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
		c.zero = 0; /* zeros need the binary's line table */
	for (size_t i = 0; i < p->n_sample; i++)
		if (add_sample(&c, i) < 0)
			goto cleanup;
	if (line_counts(&c) < 0)
		goto cleanup;
	/* A call instance is worth inlining for when it holds a share of the samples. */
	c.m->call_instance_min = c.st.samples_used / SP_CALL_INSTANCE_SHARE + 1;
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

