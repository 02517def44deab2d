#ifndef CPGO_ELFNOTE_H
#define CPGO_ELFNOTE_H

/*
 * The ELF note that records which profile built a binary (like the build
 * info `go version -m` reads). `cpgo cc` puts one note per translation
 * unit compiled with a profile into section .note.cpgo; the linker
 * concatenates them, and the section is allocated so `strip` keeps it.
 * Note: owner "cpgo", type ELFNOTE_TYPE_PROFILE, descriptor = the 32-byte
 * SHA-256 of the pprof file, then its base name, NUL-terminated.
 * Prefix: elfnote_.
 */

#include <stddef.h>

#include "util/buf.h"

#define ELFNOTE_SECTION ".note.cpgo"
#define ELFNOTE_OWNER "cpgo"
#define ELFNOTE_TYPE_PROFILE 1
#define ELFNOTE_NAME_MAX 255

struct elfnote_profile {
	char sha256[65]; /* hex */
	char *name;      /* the profile's base name */
};

/*
 * The text of a C header that emits the note as top-level assembly: works
 * in C, C++ and with LTO, and is empty for assembly sources (__ASSEMBLER__).
 */
int elfnote_header(const unsigned char sha256[32], const char *name, struct cpgo_buf *out);

/*
 * Reads the distinct profiles recorded in the ELF file `path` (an
 * executable, shared library or object), in the order first seen.
 * *n == 0 means built without a profile. Errors name the file.
 */
int elfnote_read(const char *path, struct elfnote_profile **out, size_t *n);
void elfnote_free(struct elfnote_profile *p, size_t n);

#endif
