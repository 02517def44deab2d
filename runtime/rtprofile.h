#ifndef CPGO_RT_RTPROFILE_H
#define CPGO_RT_RTPROFILE_H

/*
 * Building the pprof profile of a stack table. Prefix: rtprofile_.
 * Sample types samples/count and cpu/nanoseconds, period type
 * cpu/nanoseconds, mappings from /proc/self/maps, one location per
 * address, and the cpgo metadata (pprof/meta.h).
 */

#include <stdint.h>

#include "pprof/profile.h"
#include "procmaps.h"
#include "sampler.h"
#include "stacks.h"

/*
 * The function of the leaf frame of a sample taken while its thread was in
 * the kernel (the user frames below it are the call that entered the
 * kernel). Not code of the program: converters to a compiler's profile leave it out.
 */
#define RTPROFILE_KERNEL_FRAME CPGO_KERNEL_FRAME

/*
 * The root frame of a stack the unwinder had to cut short
 * (SAMPLE_PC_TRUNCATED): the frames above it are real, the callers below
 * it are unknown. Converters keep no call target from it (it has no line).
 */
#define RTPROFILE_TRUNCATED_FRAME "[truncated]"

/* How the profile was collected. */
struct rtprofile_meta {
	int hz;
	int64_t time_nanos, duration_nanos;
	struct sampler_info info;
	struct sampler_stats stats; /* deltas over the session */
	uint64_t oom_lost;
	uint64_t unmapped_lost; /* dropped: in an unloaded object's range, reused before they were read */
	/* Objects unloaded while sampling, and where their samples were moved. */
	const struct procmaps_file *retired;
	const uintptr_t *retired_at;
	size_t n_retired;
};

/* Builds (initializes) p; symbolizes in-process when `symbolize` is set. */
int rtprofile_build(struct cpgo_profile *p, const struct stacks *t,
		    const struct rtprofile_meta *m, int symbolize);

#endif
