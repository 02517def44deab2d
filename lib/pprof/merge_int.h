#ifndef CPGO_PPROF_MERGE_INT_H
#define CPGO_PPROF_MERGE_INT_H

/*
 * Hidden internals of the merge (merge.c drives it, merge_match.c holds the
 * identity rules of merge.h). Everything is keyed on output ids: each
 * input's strings, functions, mappings and locations are first translated
 * into the output (memoized per input position), then looked up in hash
 * tables whose entries are output array positions, so a key is compared
 * against the output element itself and costs no extra copy.
 */

#include "pprof/merge.h"
#include "pprof/meta.h"
#include "util/hashmap.h"

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

	/* cpgo's collection facts (pprof/meta.h), combined instead of listed per run. */
	struct cpgo_meta meta;
	int have_meta;

	/* Scaled contributions, parallel to out->values, once use_dacc. */
	double *dacc;
	size_t alloc_dacc;
	int use_dacc;

	struct cpgo_hashmap fn_tab, map_tab, loc_tab, sym_tab, sample_tab;
	/* Which input created each output mapping / location (for trust). */
	uint32_t *map_input, *loc_input;
	size_t alloc_map_input, alloc_loc_input;
	int first_mapping_pinned;

	/* Per-input memos, indexed by the input's array positions. */
	int64_t *str_memo;
	size_t alloc_str_memo;
	uint64_t *fn_memo;
	uint32_t *loc_memo; /* output location ids fit: cpgo_hashmap_set checks */
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

/* merge_match.c: the output string for input string `idx` (memoized); -1 on error. */
int64_t cpgo_merge_str(struct cpgo_merge *m, const struct cpgo_profile *in, int64_t idx);
/* The output mapping for input mapping `id` (a static "none" for 0); NULL on error. */
const struct map_memo *cpgo_merge_mapping(struct cpgo_merge *m, const struct cpgo_profile *in,
					  uint64_t id);
/* Adds input sample `si` to its output sample, values times `scale` when `scaled`. */
int cpgo_merge_sample(struct cpgo_merge *m, const struct cpgo_profile *in, size_t si,
		      double scale, int scaled, const char *name);
/* Keeps m->dacc as long as `n` output values, new entries zero. */
int cpgo_merge_ensure_dacc(struct cpgo_merge *m, size_t n);

#endif
