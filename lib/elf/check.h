#ifndef CPGO_ELF_CHECK_H
#define CPGO_ELF_CHECK_H

/*
 * How much of a profile still matches a binary's code (prefix cpgo_check_),
 * by the rules PGO matches with: a sample counts for a function found by
 * name and source file (base name), at its line's offset from the
 * function's start line. The binary's side comes from its DWARF: every
 * line-table address symbolized with inline frames, so a function's code
 * lines are those the compiler attributed to it, inlined copies included.
 *
 * Only samples whose leaf is in the binary's code count (the profile's
 * main mapping, or a mapping of a file with the binary's name); samples in
 * libc and other libraries are reported apart.
 */

#include <stddef.h>
#include <stdint.h>

#include "pprof/profile.h"

/* A function with at least this share of the program's samples (cum) is hot. */
#define CPGO_CHECK_HOT_SHARE 0.01

struct cpgo_check_fn {
	const char *name, *file; /* the profile's */
	int64_t prof_start;      /* start line in the profile, 0 unknown */
	int64_t bin_start;       /* start line in the binary, 0 when the function is gone */
	int64_t flat, cum;       /* value as leaf / anywhere in the stack (once a sample) */
	int64_t flat_in_range;   /* flat whose line offset lands on a code line of it in BIN */
	unsigned found : 1;
};

struct cpgo_check_new {
	const char *name, *file;
	int64_t start_line;
};

struct cpgo_check_report {
	int64_t total;    /* the program's samples (value of leaf frames in the binary's code) */
	int64_t other;    /* samples whose leaf is in other binaries: not checked */
	int64_t found;    /* of total, leaf function exists in BIN */
	int64_t in_range; /* of total, leaf line offset lands on a code line of the function */
	int64_t moved;    /* of total, leaf function found but its start line differs */
	struct cpgo_check_fn *fns; /* the profile's program functions, by flat, then cum */
	size_t n_fn, alloc_fn;
	struct cpgo_check_new *new_fns; /* BIN's functions the profile has no samples for, by name */
	size_t n_new, alloc_new;
	size_t n_bin_fn; /* functions with code lines in BIN */
	struct sym_dso *dso; /* private: owns the binary's strings */
	void *priv;
};

/*
 * Checks `p` (sample type `vi`) against the binary at `binary`, whose DWARF
 * may be in the file or found by build id under `debug_dir` (NULL =
 * /usr/lib/debug). Fails when the binary has no DWARF line table.
 */
int cpgo_check_binary(struct cpgo_profile *p, int vi, const char *binary,
		      const char *debug_dir, struct cpgo_check_report *out);
void cpgo_check_release(struct cpgo_check_report *r);

#endif
