#ifndef CPGO_CC_DEPFILE_H
#define CPGO_CC_DEPFILE_H

/*
 * The profile as a dependency of an object for compilers without clang's
 * -fdepfile-entry (gcc): after the compile, the depfile that -MD/-MMD
 * wrote gets "TARGET: PROFILE" and a phony "PROFILE:" rule, so make
 * rebuilds when default.pgo changes and survives its removal.
 */

#include "cc/cmd.h"
#include "util/buf.h"

/*
 * The depfile a compile of one source writes, as gcc names it: -MF's
 * value, else -o's with its suffix replaced by .d, else the source's base
 * name with .d. Returns 1 with the path in `out`, 0 when the command
 * writes none (no -MD/-MMD, preprocessing, or several sources).
 */
int cpgo_cc_depfile_path(const struct cpgo_cc_cmd *cmd, struct cpgo_buf *out);

/* Appends the profile to the depfile's first target; the file is replaced atomically. */
int cpgo_cc_depfile_add(const char *depfile, const char *profile_abs);

#endif
