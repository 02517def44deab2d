#ifndef CPGO_LLVMPROF_H
#define CPGO_LLVMPROF_H

/*
 * pprof -> LLVM sample profile (what clang's -fprofile-sample-use reads).
 * Prefix: llvmprof_.
 *
 * The samples become lib/sprof's model (every sample rule lives there);
 * this layer writes it as the text format or ext-binary (SPF_Ext_Binary,
 * version 103, the format llvm-profdata writes by default), both byte for
 * byte what llvm-profdata-19 writes for the same profile.
 */

#include "sprof/sprof.h"
#include "util/buf.h"

struct cpgo_profile;

struct llvmprof_opts {
	struct sprof_opts sp; /* the sample rules (the symbol list is added for ext-binary) */
	int text;             /* 1: LLVM text sample format; 0: ext-binary (default) */
	/*
	 * Ext-binary: the summary section to write instead of this profile's
	 * own (llvmprof_summary). A translation unit's profile carries the whole
	 * program's, so that clang's hot and cold counts are the program's, as
	 * with instrumented PGO, not those of the TU's own hottest lines.
	 */
	const struct cpgo_buf *summary;
};

/*
 * Converts `p` into an LLVM sample profile appended to `out`. `name` is the
 * profile's file name for error messages. Errors: those of sprof_build.
 */
int llvmprof_convert(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		     struct cpgo_buf *out);

/* The ext-binary summary section of the profile `llvmprof_convert` would write, into `out`. */
int llvmprof_summary(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		     struct cpgo_buf *out);

/* Reads a pprof file, converts it and writes `out_path` atomically ("-" = stdout). */
int llvmprof_convert_file(const char *in_path, const char *out_path,
			  const struct llvmprof_opts *o);

#endif
