#ifndef CPGO_REPORT_H
#define CPGO_REPORT_H

/*
 * What `cpgo top` and `cpgo validate` compute (prefix cpgo_report_).
 * Only numbers and messages: builtin/ prints them.
 */

#include "pprof/profile.h"

/* One function's row of `top`, like a node of `pprof -top`. */
struct cpgo_report_row {
	const char *name;     /* "[binary]" or "<unknown>" for unsymbolized code */
	const char *filename; /* "" when unknown */
	int64_t start_line;   /* 0 when unknown */
	int64_t flat, cum;
	/* Frame seen inlined into its caller / called normally (pprof's "(inline)"). */
	unsigned inlined : 1, called : 1;
	size_t last_sample; /* private: counts recursion once per sample */
};

struct cpgo_report_top {
	struct cpgo_report_row *rows; /* sorted, most expensive first */
	size_t n_row, alloc_row;
	int64_t total;    /* sum of |value| over all samples, as pprof */
	int value_index;  /* the sample type reported */
};

/*
 * Which sample type to report: `want` as "type" or "type/unit"; NULL
 * picks default_sample_type, else the last type (pprof's default).
 * Returns the index or -1 with an error naming the types there are.
 */
int cpgo_report_value_index(const struct cpgo_profile *p, const char *want, const char *name);

/*
 * Flat and cumulative value per function. Inlined frames are functions of
 * their own; a function is counted once per sample for cum however often
 * it recurses. Sorted as pprof: by flat (by_cum = 0) or cum, then name, then the other.
 */
int cpgo_report_top(struct cpgo_profile *p, int value_index, int by_cum,
		    struct cpgo_report_top *out);
void cpgo_report_top_release(struct cpgo_report_top *t);

/*
 * A value as pprof prints it: time and byte values in `unit` shown in unit
 * `to` ("s", "ms", "MB"...; NULL = the best for this value: "1.20s",
 * "350ms"), counts plain. `out` should have 32 bytes.
 */
void cpgo_report_format_value(char *out, size_t size, int64_t v, const char *unit,
			      const char *to);
/*
 * pprof's choice of one display unit for a report: the unit of the smallest
 * nonzero value among the first `n_row` rows, moved up if that lets it show
 * as at least 0.01 of the total's unit. NULL for counts.
 */
const char *cpgo_report_unit(const struct cpgo_report_top *t, size_t n_row, const char *unit);
/* pprof's percentage column: "  100%", "48.00%", " 0.99%". */
void cpgo_report_format_percent(char *out, size_t size, int64_t v, int64_t total);

/* ---- validate ----------------------------------------------------------- */

enum cpgo_check_level { CPGO_CHECK_OK, CPGO_CHECK_WARN, CPGO_CHECK_FAIL };

struct cpgo_check {
	enum cpgo_check_level level;
	char *what; /* the finding, one line */
	char *fix;  /* how to fix it; NULL when nothing to do */
};

/* Below this many samples PGO has little to go on (DEVELOPERS.md: ~10k gave little). */
#define CPGO_REPORT_FEW_SAMPLES 10000

struct cpgo_report_validate {
	/* Facts. */
	int value_index;        /* the sample type PGO would use; -1 none */
	size_t n_stack;         /* sample records */
	int64_t n_samples;      /* samples taken (samples/count, or cpu / period) */
	int64_t cpu_nanos;      /* CPU time sampled, 0 if unknown */
	int64_t duration_nanos; /* wall time of the recording, 0 if unknown */
	int64_t period;
	double rate_hz;         /* n_samples per second of duration; 0 if unknown */
	double unsymbolized_share; /* of the PGO value, on unsymbolized leaf frames */
	double no_start_share;     /* of the PGO value, on leaf functions without start_line */
	size_t n_fn_used, n_fn_no_start;
	int has_inline;
	/* Findings, in order; any CPGO_CHECK_FAIL makes the profile unusable. */
	struct cpgo_check *checks;
	size_t n_check, alloc_check;
	int usable;
};

int cpgo_report_validate(struct cpgo_profile *p, struct cpgo_report_validate *out);
void cpgo_report_validate_release(struct cpgo_report_validate *v);

#endif
