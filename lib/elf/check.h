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

#include "elf/objfuncs.h"
#include "pprof/profile.h"
#include "util/buf.h"

/* A function with at least this share of the program's samples (cum) is hot. */
#define CPGO_CHECK_HOT_SHARE 0.01

struct cpgo_check_fn {
	const char *name, *file; /* the profile's */
	const char *moved_to;    /* gone from `file`, but a function of this name is in this file */
	int64_t prof_start;      /* start line in the profile, 0 unknown */
	int64_t bin_start;       /* start line in the binary, 0 when the function is gone */
	int64_t flat, cum;       /* value as leaf / anywhere in the stack (once a sample) */
	int64_t flat_in_range;   /* flat whose line offset lands on a code line of it in BIN */
	/*
	 * Call sites (from the sources only): samples at calls of this function
	 * whose callee the code still calls from it, and of those, the samples
	 * whose call's line offset is not one the code calls that callee at:
	 * lines were inserted or removed above the call inside the function.
	 * site_shift: how far the heaviest such call moved (code - profile).
	 */
	int64_t site_total, site_moved, site_shift;
	unsigned found : 1;
};

struct cpgo_check_new {
	const char *name, *file;
	int64_t start_line;
};

struct cpgo_check_report {
	int64_t total;    /* the program's samples (value of leaf frames in the binary's code) */
	int64_t other;    /* samples whose leaf is in other binaries: not checked */
	int64_t nodebug;  /* samples whose leaf is program code without a source (_init, PLT) */
	int64_t found;    /* of total, leaf function exists in BIN */
	int64_t in_range; /* of total, leaf line offset lands on a code line of the function */
	int64_t moved;    /* of total, leaf function found but its start line differs */
	int64_t site_total, site_moved; /* the functions' call-site samples added up */
	size_t site_fns;  /* functions with a call that moved */
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

/*
 * The same against objects compiled from the current sources (elf/objfuncs.h:
 * `cc -g -O0 -c` output keeps every line with code, and the preprocessor
 * has run as the build runs it). Only samples whose leaf is in the
 * profile's main mapping (or has none) are the program's.
 */
int cpgo_check_objects(struct cpgo_profile *p, int vi, const char *const *objects, size_t n,
		       struct cpgo_check_report *out);
void cpgo_check_release(struct cpgo_check_report *r);

/*
 * A compact form of the profile for checking one translation unit at a
 * time (what `cpgo cc` does after each compile, without decoding the
 * profile again): the program's flat samples per function (name, file,
 * start line) and line. Text, appended to `out`.
 */
int cpgo_check_summarize(struct cpgo_profile *p, int vi, struct cpgo_buf *out);

struct cpgo_check_tu {
	int64_t profile_total; /* the program's samples in the whole profile */
	int64_t total;         /* of those, in functions of the translation unit's file */
	int64_t matched;       /* of total, function in the object and line offset on its code */
	char worst[256];       /* the function that lost the most samples, "" none */
	int64_t worst_lost;
};

/*
 * Checks the functions a summary puts in `tu`'s file (by base name) against
 * the object compiled from it.
 */
int cpgo_check_tu_match(const char *summary, size_t len, const struct cpgo_objfuncs *obj,
			const char *tu, struct cpgo_check_tu *out);

#endif
