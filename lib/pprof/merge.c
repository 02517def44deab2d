/*
 * Profile merging (pprof/merge.h): the driver. Each input's header is
 * checked and folded in here, its samples are matched by merge_match.c,
 * and finish rounds the values and drops what no kept sample uses.
 */
#include "pprof/merge_int.h"
#include "util/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WEIGHT 1e9

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


/* The first input sets the types; later ones are checked against them. */
static int merge_header(struct cpgo_merge *m, const struct cpgo_profile *in, const char *name)
{
	struct cpgo_profile *out = m->out;
	struct cpgo_meta im;
	int found;

	if (m->n_input == 0) {
		for (size_t i = 0; i < in->n_sample_type; i++)
			if (cpgo_profile_add_sample_type(out,
					cpgo_profile_str(in, in->sample_type[i].type),
					cpgo_profile_str(in, in->sample_type[i].unit)) < 0)
				return -1;
		if ((out->period_type.type = cpgo_merge_str(m, in, in->period_type.type)) < 0 ||
		    (out->period_type.unit = cpgo_merge_str(m, in, in->period_type.unit)) < 0 ||
		    (out->drop_frames = cpgo_merge_str(m, in, in->drop_frames)) < 0 ||
		    (out->keep_frames = cpgo_merge_str(m, in, in->keep_frames)) < 0)
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
	    (out->default_sample_type = cpgo_merge_str(m, in, in->default_sample_type)) < 0)
		return -1;
	/*
	 * A run without cpgo's metadata (a Go profile) reads as all unknown, so
	 * the facts it does not share become unknown too.
	 */
	found = cpgo_meta_read(in, &im);
	if (!m->n_input) {
		m->meta = im;
		m->have_meta = found > 0;
	} else if (found > 0 || m->have_meta) {
		cpgo_meta_merge(&m->meta, &im);
		m->have_meta = 1;
	}
	for (size_t i = 0; i < in->n_comment; i++) {
		int64_t c;
		int seen = 0;
		if (cpgo_meta_is_key(cpgo_profile_str(in, in->comments[i])))
			continue;
		c = cpgo_merge_str(m, in, in->comments[i]);
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
	cpgo_hashmap_init(&m->fn_tab, "merged functions");
	cpgo_hashmap_init(&m->map_tab, "merged mappings");
	cpgo_hashmap_init(&m->loc_tab, "merged locations");
	cpgo_hashmap_init(&m->sym_tab, "merged symbolic locations");
	cpgo_hashmap_init(&m->sample_tab, "merged samples");
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
		if (cpgo_merge_ensure_dacc(m, m->out->n_values) < 0)
			return -1;
	}

	/* pprof's convention: the first mapping is the main binary; keep it first. */
	if (!m->out->n_mapping && in->n_mapping) {
		if (!cpgo_merge_mapping(m, in, in->mappings[0].id))
			return error_prefix("%s", name);
		m->first_mapping_pinned = 1;
	}
	for (size_t i = 0; i < in->n_sample; i++)
		if (cpgo_merge_sample(m, in, i, scale, scaled, name) < 0)
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

/* Frees the tables, memos and scratch that only cpgo_merge_add uses. */
static void release_state(struct cpgo_merge *m)
{
	struct cpgo_hashmap *tabs[] = { &m->fn_tab, &m->map_tab, &m->loc_tab, &m->sym_tab,
					&m->sample_tab };
	void **arrays[] = { (void **)&m->dacc, (void **)&m->map_input, (void **)&m->loc_input,
			    (void **)&m->str_memo, (void **)&m->fn_memo, (void **)&m->loc_memo,
			    (void **)&m->map_memo, (void **)&m->lines, (void **)&m->locs,
			    (void **)&m->labels };

	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++)
		cpgo_hashmap_release(tabs[i]);
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		free(*arrays[i]);
		*arrays[i] = NULL;
	}
	m->alloc_dacc = m->alloc_map_input = m->alloc_loc_input = m->alloc_str_memo = 0;
	m->alloc_fn_memo = m->alloc_loc_memo = m->alloc_map_memo = 0;
	m->alloc_lines = m->alloc_locs = m->alloc_labels = 0;
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
	if (m->have_meta && cpgo_meta_write(out, &m->meta) < 0)
		goto cleanup;

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
	/* The output is complete: free the merge state before compacting and writing it. */
	release_state(m);
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
	release_state(m);
	free(m->first_name);
	free(m);
}
