#ifndef CPGO_PROFILE_H
#define CPGO_PROFILE_H

/*
 * The in-memory model of a pprof Profile (google/pprof proto/profile.proto),
 * every field kept. Prefix: cpgo_profile_ / struct cpgo_*.
 *
 * Layout is flat for speed on large profiles: samples keep their location
 * ids, values and labels in shared pools, locations their lines likewise.
 * Strings are indexes into the string table (index 0 is always "").
 * Ids (mapping, location, function) are the pprof ids, nonzero; use
 * cpgo_profile_index() once to get O(1) id -> array position lookups.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"

struct cpgo_value_type {
	int64_t type; /* string index, e.g. "samples", "cpu" */
	int64_t unit; /* string index, e.g. "count", "nanoseconds" */
};

struct cpgo_label {
	int64_t key;      /* string index */
	int64_t str;      /* string index, 0 when numeric */
	int64_t num;
	int64_t num_unit; /* string index */
};

struct cpgo_sample {
	size_t loc_off, n_loc;     /* into profile->sample_locs; leaf first */
	size_t label_off, n_label; /* into profile->labels */
	/* values: profile->values[i * n_sample_type .. +n_sample_type] */
};

struct cpgo_mapping {
	uint64_t id;
	uint64_t memory_start, memory_limit, file_offset;
	int64_t filename; /* string index */
	int64_t build_id; /* string index */
	unsigned has_functions : 1, has_filenames : 1, has_line_numbers : 1,
		has_inline_frames : 1;
};

struct cpgo_line {
	uint64_t function_id;
	int64_t line;
	int64_t column;
};

struct cpgo_location {
	uint64_t id;
	uint64_t mapping_id; /* 0: none */
	uint64_t address;
	size_t line_off, n_line; /* into profile->lines; innermost (inlined) first */
	int is_folded;
};

struct cpgo_function {
	uint64_t id;
	int64_t name;        /* string index */
	int64_t system_name; /* string index */
	int64_t filename;    /* string index */
	int64_t start_line;
};

struct cpgo_profile {
	struct cpgo_value_type *sample_type;
	size_t n_sample_type, alloc_sample_type;

	struct cpgo_sample *samples;
	size_t n_sample, alloc_sample;
	int64_t *values; /* n_sample * n_sample_type */
	size_t n_values, alloc_values;
	uint64_t *sample_locs;
	size_t n_sample_locs, alloc_sample_locs;
	struct cpgo_label *labels;
	size_t n_labels, alloc_labels;

	struct cpgo_mapping *mappings;
	size_t n_mapping, alloc_mapping;
	struct cpgo_location *locations;
	size_t n_location, alloc_location;
	struct cpgo_line *lines;
	size_t n_lines, alloc_lines;
	struct cpgo_function *functions;
	size_t n_function, alloc_function;

	/* String table; strings are NUL-terminated copies with known lengths. */
	char **strings;
	size_t *string_lens;
	size_t n_string, alloc_string;

	int64_t drop_frames, keep_frames; /* string indexes */
	int64_t time_nanos, duration_nanos;
	struct cpgo_value_type period_type;
	int64_t period;
	int64_t *comments; /* string indexes */
	size_t n_comment, alloc_comment;
	int64_t default_sample_type; /* string index */

	/* Private: interning hash and id indexes (built lazily). */
	struct cpgo_profile_priv *priv;
};

/* The default limit on a profile's size, compressed and decompressed. */
#define CPGO_PROFILE_READ_LIMIT ((size_t)1 << 30)

/*
 * Bounds on what a profile may declare, whatever its size in bytes (a
 * gzipped run of empty messages declares millions in a few kilobytes):
 * samples, locations, functions, mappings and strings each, and location
 * ids, values, lines and labels each summed over the profile. A real CPU
 * profile has one sample per distinct stack, far below these; past them
 * the reader refuses the profile rather than grow its model into gigabytes.
 */
#define CPGO_PROFILE_MAX_ITEMS ((size_t)1 << 24)
#define CPGO_PROFILE_MAX_REFS ((size_t)1 << 27)

/* Limits for reading untrusted input (0: CPGO_PROFILE_READ_LIMIT). */
struct cpgo_read_opts {
	size_t max_compressed;
	size_t max_decompressed; /* a gzip bomb is refused before inflating past it */
};

/* A fresh profile with string 0 = "". */
int cpgo_profile_init(struct cpgo_profile *p);
void cpgo_profile_release(struct cpgo_profile *p);

/*
 * Decoding into an uninitialised `p` (these call cpgo_profile_init themselves;
 * on failure `p` is released). `name` is only used in error messages.
 * Accepts gzip-compressed or raw protobuf. Validates strictly
 * (cpgo_profile_check) before returning 0.
 */
int cpgo_profile_parse(struct cpgo_profile *p, const void *data, size_t len,
		       const char *name, const struct cpgo_read_opts *opts);
int cpgo_profile_read(struct cpgo_profile *p, const char *path,
		      const struct cpgo_read_opts *opts);

/* Encoding: gzipped protobuf into `out` (appended), or atomically to a file ("-" = stdout). */
int cpgo_profile_encode(const struct cpgo_profile *p, struct cpgo_buf *out, int gzip);
int cpgo_profile_write(const struct cpgo_profile *p, const char *path);
/*
 * cpgo_profile_write compressing on a second thread as well (the output is
 * then two gzip members, which every gzip reader reads as one). For the
 * command-line tools only: the runtime must not start threads in its host.
 */
int cpgo_profile_write_parallel(const struct cpgo_profile *p, const char *path);

/*
 * Strict validation: ids nonzero and unique, referenced ids exist, string
 * indexes in range, value count == sample type count, string 0 == "".
 * Error messages start with `name`.
 */
int cpgo_profile_check(const struct cpgo_profile *p, const char *name);

/* Building. All return -1 with error set on failure. */
int64_t cpgo_profile_intern(struct cpgo_profile *p, const char *s);
int64_t cpgo_profile_intern_len(struct cpgo_profile *p, const char *s, size_t len);
int cpgo_profile_add_sample_type(struct cpgo_profile *p, const char *type, const char *unit);
/* Returns the new function's id (ids are assigned n+1), or 0 on error. */
uint64_t cpgo_profile_add_function(struct cpgo_profile *p, const char *name,
				   const char *system_name, const char *filename,
				   int64_t start_line);
uint64_t cpgo_profile_add_mapping(struct cpgo_profile *p, const struct cpgo_mapping *m);
/* Adds a location with `n_line` lines (copied); returns the id or 0. */
uint64_t cpgo_profile_add_location(struct cpgo_profile *p, uint64_t mapping_id,
				   uint64_t address, const struct cpgo_line *lines,
				   size_t n_line);
/* Adds a sample: loc ids leaf first, `values` has n_sample_type entries. */
int cpgo_profile_add_sample(struct cpgo_profile *p, const uint64_t *locs, size_t n_loc,
			    const int64_t *values, const struct cpgo_label *labels,
			    size_t n_label);

/*
 * Id lookups: builds (once, invalidated by additions) hash/direct indexes.
 * Return the element or NULL.
 */
int cpgo_profile_index(struct cpgo_profile *p);
const struct cpgo_function *cpgo_profile_function(const struct cpgo_profile *p, uint64_t id);
const struct cpgo_location *cpgo_profile_location(const struct cpgo_profile *p, uint64_t id);
const struct cpgo_mapping *cpgo_profile_mapping(const struct cpgo_profile *p, uint64_t id);

static inline const char *cpgo_profile_str(const struct cpgo_profile *p, int64_t idx)
{
	return (idx >= 0 && (size_t)idx < p->n_string) ? p->strings[idx] : "";
}

static inline const int64_t *cpgo_sample_values(const struct cpgo_profile *p, size_t i)
{
	/* No sample types: no values, and the pool may be NULL (no arithmetic on it). */
	return p->n_sample_type ? p->values + i * p->n_sample_type : p->values;
}

/*
 * The sample type PGO reads, chosen as Go's compiler does
 * (cmd/compile/internal/pgoir): the first sample type that is samples/count
 * or cpu/nanoseconds. Types are compared by their strings, never by string
 * index, so a profile whose string table holds duplicates gets the same
 * answer whichever copy it points at; default_sample_type (what a viewer
 * shows first) plays no part. Every PGO consumer (convert, validate) calls
 * this. Returns the index, or -1 with an error naming the types present.
 */
int cpgo_profile_cpu_index(const struct cpgo_profile *p, const char *name);

/*
 * Time a thread spent in the kernel is booked on a leaf frame of this name
 * under the calling site (as perf's [kernel.kallsyms] and Go's syscall
 * frames): visible to people, left out of compiler profiles.
 */
#define CPGO_KERNEL_FRAME "[kernel]"
static inline int cpgo_is_kernel_frame(const char *name)
{
	/* perf names its kernel objects "[kernel.kallsyms]", "[kernel.vmlinux]". */
	return name[0] == '[' && !strncmp(name, "[kernel", 7) && (name[7] == ']' || name[7] == '.');
}

#endif
