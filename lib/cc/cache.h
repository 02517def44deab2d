#ifndef CPGO_CC_CACHE_H
#define CPGO_CC_CACHE_H

/*
 * The converted-profile cache of `cpgo cc`: one conversion per profile
 * content (and translation unit), shared by every compile and every
 * concurrent `make -j` job, and the header that records the profile in
 * the object's ELF note.
 */

#include <stddef.h>

#include "util/buf.h"

/* Creates `path` and its parents; another job creating them first is fine. */
int cpgo_cc_mkdir_p(const char *path);

/* $XDG_CACHE_HOME/cpgo, else $HOME/.cache/cpgo (not created). */
int cpgo_cc_cache_dir(struct cpgo_buf *out);

/*
 * For a note that a build should show once, not once per file: 1 the first
 * time `key` is asked in the current directory (the build directory), 0
 * after (a marker under the cache's once/), -1 on error (say it then).
 */
int cpgo_cc_once(const char *key);

/*
 * Turns pprof bytes into the compiler's profile. `source` is the
 * translation unit when the converter keeps a per-file view (else NULL);
 * empty output means the profile is fine but has nothing for `source`.
 * `id` names the converter and its options; it is part of the cache key.
 */
struct cpgo_cc_converter {
	const char *id;
	/*
	 * `whole` names what may be cached of the whole profile's conversion
	 * (the path without an extension; the same for every TU of a profile).
	 */
	int (*convert)(const void *data, size_t len, const char *name, const char *source,
		       const char *whole, struct cpgo_buf *out, void *ctx);
	void *ctx;
	int per_source; /* the output depends on `source` */
	const char *dir; /* the cache's subdirectory for this format */
	/*
	 * Optional: checks a converted file before the compiler gets it (a
	 * damaged cache entry must not reach a compiler that crashes on one);
	 * -1 with an error when it is not sound.
	 */
	int (*check)(const void *data, size_t len, const char *name);
};

/* The LLVM back end (llvm/llvmprof.h); `id` includes cpgo's build identity. */
const struct cpgo_cc_converter *cpgo_cc_llvm_converter(void);
/* The gcc back end (gcc/gccprof.h): gcc 12's AutoFDO file, checked before use. */
const struct cpgo_cc_converter *cpgo_cc_gcc_converter(void);

struct cpgo_cc_prepared {
	char sha256[65];          /* hex of the pprof file's bytes */
	struct cpgo_buf cached;   /* the converted profile in the cache */
	struct cpgo_buf note_dir; /* -isystem this ... */
	struct cpgo_buf note_hdr; /* ... and -include this (a bare file name) */
	int converted;            /* 1: converted now, 0: cache hit */
	int repaired;             /* a cached file failed the check and was converted again */
	int empty;                /* the profile has no samples for this source (an empty file) */
};

void cpgo_cc_prepared_init(struct cpgo_cc_prepared *pp);
void cpgo_cc_prepared_release(struct cpgo_cc_prepared *pp);

/*
 * Reads the pprof `profile`, and unless the cache has it, converts and
 * stores it atomically (safe for concurrent builds: each writer renames a
 * complete file into place). Also writes the header that puts the ELF note
 * (elf/elfnote.h) into the object. `hint` is appended to parse errors
 * (e.g. how to turn PGO off).
 */
int cpgo_cc_prepare(const char *profile, const char *source, const char *cache_dir,
		    const struct cpgo_cc_converter *conv, const char *hint,
		    struct cpgo_cc_prepared *pp);

#endif
