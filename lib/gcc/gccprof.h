#ifndef CPGO_GCCPROF_H
#define CPGO_GCCPROF_H

/*
 * pprof -> gcc's AutoFDO profile (what gcc -fauto-profile=FILE reads), the
 * gcov-based format of gcc 12's auto-profile.cc. Prefix: gccprof_.
 *
 * The samples become lib/sprof's model (every sample rule lives there);
 * this layer writes it as gcc reads it, and reads such a file back (to
 * check one and to show it as text). The file, in 4-byte words of the
 * host's byte order (gcc reads them natively):
 *
 *   'gcda' magic, version 2, 0
 *   0xaa000000 (file names), section length in bytes, N, N strings; a
 *     string is its byte length (NUL included) and the bytes, no padding
 *   0xac000000 (functions), section length, N, N times:
 *     head count (8 bytes, low word first), function instance
 *   0xae000000 (module grouping, unused since LIPO), length, 0
 *
 * A function instance: name index, P, C; P body positions
 * ((line - decl_line) << 16 | discriminator, T, count, T targets of
 * (histogram type, name index as 8 bytes, count)); C call sites
 * (position, nested function instance without head count).
 */

#include <stddef.h>
#include <stdint.h>

#include "sprof/sprof.h"
#include "util/buf.h"

struct cpgo_profile;

#define GCCPROF_MAGIC 0x67636461u /* "gcda" */
#define GCCPROF_VERSION 2u        /* AUTO_PROFILE_VERSION of gcc 12 */
#define GCCPROF_TAG_NAMES 0xaa000000u
#define GCCPROF_TAG_FUNCTIONS 0xac000000u
#define GCCPROF_TAG_MODULES 0xae000000u
/* gcc reads and ignores the histogram type of a call target. */
#define GCCPROF_HIST_INDIR_CALL 3u

struct gccprof_opts {
	/*
	 * The sample rules. The discriminators default to SPROF_DISC_NONE:
	 * gcc 12 keys positions by line offset alone.
	 */
	struct sprof_opts sp;
	int text; /* gccprof_convert_file: write the file as gccprof_read shows it (not for gcc) */
};

/*
 * Converts `p` into gcc's AutoFDO format appended to `out`. `name` is the
 * profile's file name for error messages. Errors: those of sprof_build.
 */
int gccprof_convert(struct cpgo_profile *p, const char *name, const struct gccprof_opts *o,
		    struct cpgo_buf *out);

/* Reads a pprof file, converts it and writes `out_path` atomically ("-" = stdout). */
int gccprof_convert_file(const char *in_path, const char *out_path,
			 const struct gccprof_opts *o);

/* Writes an ordered model in gcc's format (appended to `out`). */
int gccprof_write(const struct sprof_model *m, struct cpgo_buf *out);

/*
 * Reads an AutoFDO file as gcc 12 does and checks every count and index;
 * with `text`, appends a readable rendering (one function instance a line
 * group, like LLVM's text format: "name:total:head", " off[.disc]: count
 * target:count...", " off: callee:total" for call sites). Errors name
 * `name` and what is wrong (magic, version, a truncated section, an index
 * out of the string table).
 */
int gccprof_read(const void *data, size_t len, const char *name, struct cpgo_buf *text);

#endif
