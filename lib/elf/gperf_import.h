#ifndef CPGO_GPERF_IMPORT_H
#define CPGO_GPERF_IMPORT_H

/*
 * gperftools' CPU profiles (the legacy binary format of ProfilerStart() /
 * CPUPROFILE=) into pprof (prefix cpgo_gperf_). The file holds raw program
 * counters and the process's /proc/self/maps; frames are symbolized from
 * the binaries the maps name, with inlined frames and start lines. Sample
 * types are Go's: samples/count and cpu/nanoseconds.
 *
 * Format (google/pprof's legacy_profile.go): native-endian words of 32 or
 * 64 bits; a header [0, 3, 0, period in microseconds, 0]; records [count,
 * n, pc_1 .. pc_n], leaf first; a trailer [0, 1, 0]; then the maps text.
 */

#include <stddef.h>

#include "pprof/profile.h"

struct cpgo_gperf_stats {
	size_t n_records;  /* stacks in the file */
	int64_t n_samples; /* their counts summed */
	size_t word_size;  /* 4 or 8 */
	size_t n_mappings; /* executable mappings in the maps text */
};

/* True when `data` starts with the legacy CPU profile header (either word size). */
int cpgo_gperf_is_cpu_profile(const void *data, size_t len);

/*
 * Parses a legacy CPU profile into `p` (initialized here; released on
 * failure) and symbolizes it. `name` names the input in errors;
 * `debug_dir` is for the symbolizer (NULL = /usr/lib/debug).
 */
int cpgo_gperf_import(struct cpgo_profile *p, const void *data, size_t len, const char *name,
		      const char *debug_dir, struct cpgo_gperf_stats *st);

#endif
