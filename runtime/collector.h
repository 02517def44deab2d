#ifndef CPGO_COLLECTOR_H
#define CPGO_COLLECTOR_H

/*
 * Profile sessions and the drain thread of libcpgo. Prefix: collector_.
 *
 * A session is one profile being collected (the CPGO_PROFILE/cpgo_start
 * one, an HTTP /profile request). Sessions share the one sampler: the
 * first session starts it, the last one stops it, and a drain thread moves
 * samples from the ring into every open session's stack table (stacks.h),
 * so an HTTP profile taken during a whole-run profile is a delta that
 * disturbs nothing. Profiles are built by rtprofile.h.
 */

#include "pprof/profile.h"
#include "sampler.h"

struct collector_session;

int collector_begin(struct collector_session **out, const struct sampler_config *cfg);
/* The profile of the session so far (p is initialized here); the session goes on. */
int collector_snapshot(struct collector_session *s, struct cpgo_profile *p);
/*
 * Ends the session (stopping the sampler if it was the last) and, when p is
 * not NULL, builds its profile into p. Frees s.
 */
int collector_finish(struct collector_session *s, struct cpgo_profile *p);

#include "procmaps.h"

/* Whether any session is collecting (a cheap check before work for one). */
int collector_active(void);
/*
 * The loader unmapped these objects (dlclose): the samples taken in them
 * are read out of the rings now (their unwind tables still known), and
 * moved to stand-in addresses that the profile maps to their files, so
 * that an object loaded later at the same address does not take them.
 */
void collector_retire(const struct procmaps_file *gone, size_t n);
/*
 * Before the dlclose that collector_retire follows (always paired): no
 * drain runs (nor syncs the tables) until collector_retire.
 */
void collector_retire_begin(void);

void collector_atfork_prepare(void);
void collector_atfork_parent(void);
/* In a fork child: every session is gone (the drain thread did not fork). */
void collector_atfork_child(void);

#endif
