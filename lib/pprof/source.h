#ifndef CPGO_PPROF_SOURCE_H
#define CPGO_PPROF_SOURCE_H

/*
 * Where the profile commands (merge, top, validate) read a profile from
 * (prefix cpgo_source_): a file, "-" for standard input, or an http:// or
 * https:// URL fetched with libcurl (as `go tool pprof URL` does; a
 * /debug/pprof/profile?seconds=N endpoint answers after N seconds, so
 * there is no overall time limit, only a connect timeout).
 */

#include "pprof/profile.h"

/* Reads and parses the profile at `src`; initializes `p` (released on failure). */
int cpgo_source_read(struct cpgo_profile *p, const char *src, const struct cpgo_read_opts *opts);
/* 1 when `src` is an http:// or https:// URL. */
int cpgo_source_is_url(const char *src);

#endif
