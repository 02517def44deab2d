#ifndef CPGO_DIFF_H
#define CPGO_DIFF_H

/*
 * Per-function comparison of two profiles (prefix cpgo_diff_): what
 * `cpgo diff` shows. Functions are matched by name and the file's base
 * name, not start line, so a function that moved in its file is one row that says so.
 * Shares are fractions of each profile's own total, so profiles of
 * different lengths compare.
 */

#include "pprof/profile.h"

struct cpgo_diff_row {
	const char *name, *filename; /* from the newer profile when it has the function */
	int64_t start_a, start_b;    /* 0: unknown, or absent from that profile */
	double flat_a, cum_a;        /* shares of profile A's total, 0..1 */
	double flat_b, cum_b;
	unsigned in_a : 1, in_b : 1;
};

struct cpgo_diff {
	struct cpgo_diff_row *rows; /* by |flat_b - flat_a|, then |cum_b - cum_a|, then name */
	size_t n_row, alloc_row;
	int64_t total_a, total_b;
};

/*
 * Compares `a` and `b` on their sample types `vi_a` and `vi_b` (from
 * cpgo_report_value_index). Strings in `out` live as long as the profiles.
 */
int cpgo_diff_compute(struct cpgo_profile *a, int vi_a, struct cpgo_profile *b, int vi_b,
		      struct cpgo_diff *out);
void cpgo_diff_release(struct cpgo_diff *d);

#endif
