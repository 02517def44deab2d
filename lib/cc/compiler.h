#ifndef CPGO_CC_COMPILER_H
#define CPGO_CC_COMPILER_H

/*
 * Which compiler `cpgo cc` runs and what it is: a first argument that
 * names a compiler, the default one, and clang or gcc from its name, its
 * symlink target or its --version.
 */

#include <stddef.h>

enum cpgo_cc_family {
	CPGO_CC_UNKNOWN,
	CPGO_CC_CLANG,
	CPGO_CC_GCC,
};

/* True when `arg` (a first argument) names a compiler rather than an input or option. */
int cpgo_cc_is_compiler_arg(const char *arg);

/* ccache, distcc, sccache, icecc: they run the compiler named after them. */
int cpgo_cc_is_wrapper(const char *path);

/* Clang or gcc from the name (following symlinks for cc/c99), else from `--version`. */
enum cpgo_cc_family cpgo_cc_detect_family(char *const *compiler, size_t n);

/*
 * gcc's major version from `-dumpversion` (wrappers included in `compiler`
 * run it as they run the compile); 0 when it cannot be told.
 */
int cpgo_cc_gcc_major(char *const *compiler, size_t n);

/* The oldest gcc whose AutoFDO format cpgo writes (version 2, byte-length strings). */
#define CPGO_CC_GCC_AFDO_MIN 12

/* clang-19 when it is on PATH, else cc. */
const char *cpgo_cc_default_compiler(void);

#endif
