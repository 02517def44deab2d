#ifndef CPGO_MERGE_H
#define CPGO_MERGE_H

/*
 * Merging pprof profiles (prefix cpgo_merge_). Streaming: inputs are added
 * one at a time, so a caller can release each input before reading the
 * next and peak memory is the output plus one input.
 *
 * Identity rules (a superset of google/pprof's profile.Merge):
 *  - functions: same name, system_name, filename and start_line;
 *  - mappings: same build id (else same filename), file offset and size
 *    rounded up to 4 KiB; a mapping with neither is a "fake" mapping and all
 *    fake mappings are one;
 *  - locations: same mapping, same address relative to the mapping start,
 *    same lines and folding. A location whose mapping is new to the output
 *    (another build of the program, another machine's libc) is then looked
 *    up by its symbolic lines alone, so profiles of different origins still
 *    merge by symbol;
 *  - samples: same location sequence and same labels (in any order); their
 *    values are summed.
 *
 * Each input's values are multiplied by its weight and, with normalize, by
 * mean_duration / its duration_nanos, so every input counts as the same
 * wall time. Scaled values are rounded once at the end with the rounding
 * error carried from sample to sample, so the rounded total matches the
 * exact scaled total to within one unit per sample type. Samples whose
 * values are all zero after rounding are dropped with the locations,
 * functions and mappings only they used.
 *
 * Header fields, as pprof: time_nanos the earliest nonzero, period the
 * maximum, comments the union, default_sample_type the first set,
 * drop/keep_frames from the first input. duration_nanos is the sum of the
 * inputs' durations, each multiplied by its weight (an input of weight 2
 * counts as if it had been given twice); with normalize every input
 * counts as the mean duration times its weight.
 */

#include "pprof/profile.h"

struct cpgo_merge;

struct cpgo_merge_opts {
	int normalize;
};

/*
 * Starts a merge into `out`, which must be freshly initialized
 * (cpgo_profile_init) and stays owned by the caller.
 */
int cpgo_merge_begin(struct cpgo_merge **mp, struct cpgo_profile *out,
		     const struct cpgo_merge_opts *opts);

/*
 * Adds one input with weight `weight` (> 0, finite). `name` is used in
 * error messages. Refuses an input whose sample types or period type
 * differ from the first input's, and with normalize an input without
 * duration_nanos. The input may be released once this returns (it is
 * indexed, so it is not const).
 */
int cpgo_merge_add(struct cpgo_merge *m, struct cpgo_profile *in, const char *name,
		   double weight);

/* Finishes `out` (values rounded, zero samples dropped); call once. */
int cpgo_merge_finish(struct cpgo_merge *m);

/* Frees the merge state (not `out`); safe on NULL. */
void cpgo_merge_free(struct cpgo_merge *m);

/*
 * Parses a weight given on the command line: a finite number > 0 and
 * <= 1e9 ("2", "0.5", "1e3"). Error names `what`.
 */
int cpgo_merge_parse_weight(const char *s, double *out, const char *what);

#endif
