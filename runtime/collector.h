#ifndef CPGO_COLLECTOR_H
#define CPGO_COLLECTOR_H

/*
 * Aggregation and profile building for libcpgo. Prefix: collector_.
 *
 * A session is one profile being collected (the CPGO_PROFILE/cpgo_start
 * one, an HTTP /profile request). Sessions share the one sampler: the
 * first session starts it, the last one stops it, and a drain thread moves
 * samples from the ring into every open session's stack table, so an HTTP
 * profile taken during a whole-run profile is a delta that disturbs
 * nothing.
 */

#include <stddef.h>
#include <stdint.h>

#include "pprof/profile.h"
#include "sampler.h"

/* Stack -> counts, open addressing. Exposed for unit tests. */
struct collector_stack {
	uint64_t hash;
	size_t off;      /* into pcs */
	uint32_t depth;  /* 0: empty bucket */
	uint64_t count;
	uint64_t periods;
};

struct collector_stacks {
	struct collector_stack *v;
	size_t n, cap; /* cap: power of two, or 0 */
	uintptr_t *pcs;
	size_t n_pcs, alloc_pcs;
	uint64_t samples, periods;
};

void collector_stacks_init(struct collector_stacks *t);
void collector_stacks_release(struct collector_stacks *t);
int collector_stacks_add(struct collector_stacks *t, const uintptr_t *pc, size_t depth,
			 uint64_t count, uint64_t periods);

/* What a profile's header and comments say about how it was collected. */
struct collector_meta {
	int hz;
	int64_t time_nanos, duration_nanos;
	struct sampler_info info;
	struct sampler_stats stats; /* deltas over the session */
	uint64_t oom_lost;
};

/*
 * Builds a pprof profile (initializes p) from a stack table: sample types
 * samples/count and cpu/nanoseconds, mappings from /proc/self/maps, one
 * location per address, comments with the requested and achieved rate.
 * Symbolizes in-process when `symbolize` is set.
 */
int collector_build(struct cpgo_profile *p, const struct collector_stacks *t,
		    const struct collector_meta *m, int symbolize);

struct collector_session;

int collector_begin(struct collector_session **out, const struct sampler_config *cfg);
/* The profile of the session so far (p is initialized here); the session goes on. */
int collector_snapshot(struct collector_session *s, struct cpgo_profile *p);
/*
 * Ends the session (stopping the sampler if it was the last) and, when p is
 * not NULL, builds its profile into p. Frees s.
 */
int collector_finish(struct collector_session *s, struct cpgo_profile *p);
/* How many sessions are open. */
int collector_sessions(void);

void collector_atfork_prepare(void);
void collector_atfork_parent(void);
/* In a fork child: every session is gone (the drain thread did not fork). */
void collector_atfork_child(void);

#endif
