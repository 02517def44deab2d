#ifndef CPGO_PPROF_META_H
#define CPGO_PPROF_META_H

/*
 * cpgo's metadata in a profile: how it was collected, as defined keys in
 * the profile's comments, one "cpgo.KEY=VALUE" comment each (readable in
 * `go tool pprof -raw` and by people), so that no caller parses prose.
 * Prefix: cpgo_meta_.
 *
 *   cpgo.requested_hz=1000        rate asked for (samples per CPU second)
 *   cpgo.achieved_hz=998.4        samples per CPU second of the sampled threads
 *   cpgo.samples=1234             samples taken (kernel ones included)
 *   cpgo.cpu_seconds=1.236        CPU time of the sampled threads
 *   cpgo.lost=0                   samples lost in all ...
 *   cpgo.lost_buffer_full=0       ... because a buffer was full
 *   cpgo.lost_out_of_memory=0     ... or memory ran out
 *   cpgo.lost_unmapped=0          ... or they lay where an unloaded object was, and another
 *                                 was loaded there before they were read (either's)
 *   cpgo.kernel_share=0.1234      share of the CPU time spent in the kernel
 *   cpgo.mode=perf-ring|signal    how samples reach libcpgo
 *   cpgo.timer=perf-task-clock|posix-cpu-timer
 *   cpgo.signal=SIGPROF           the signal (signal mode)
 *   cpgo.unwinder=fp|fp+libunwind|libunwind|kernel-fp
 *   cpgo.libunwind_samples=N, cpgo.threads_blocked=N, cpgo.threads_failed=N
 *   cpgo.handler_replaced=1       the program replaced libcpgo's handler: samples stopped
 *   cpgo.stack_bytes=16384        ring mode with cfi: user stack copied per sample (the largest a thread ended with)
 *   cpgo.drain_cpu_ms=12          ring mode: CPU time of libcpgo's drain thread (reading the
 *                                 rings, unwinding, counting stacks), symbolizing not included
 *   cpgo.symbolize_error=TEXT     why the profile is not symbolized
 * Integers are -1, reals < 0 and strings "" when unknown; unknown fields are not written.
 */

#include <stdint.h>

#include "pprof/profile.h"
#include "util/buf.h"

#define CPGO_META_PREFIX "cpgo."
/* Longest string value kept (longer ones are cut). */
#define CPGO_META_MAX_STR 256

struct cpgo_meta {
	int64_t requested_hz;
	double achieved_hz;
	int64_t samples;
	double cpu_seconds;
	int64_t lost, lost_buffer_full, lost_out_of_memory, lost_unmapped;
	double kernel_share;
	char mode[32];
	char timer[32];
	char signal[32];
	char unwinder[32];
	int64_t libunwind_samples, threads_blocked, threads_failed;
	int64_t handler_replaced;
	int64_t stack_bytes, drain_cpu_ms;
	char symbolize_error[CPGO_META_MAX_STR];
};

/* All fields unknown. */
void cpgo_meta_init(struct cpgo_meta *m);
/* Appends one comment per known field to p. */
int cpgo_meta_write(struct cpgo_profile *p, const struct cpgo_meta *m);
/*
 * Fills m (initialized here) from p's comments; keys it does not know are
 * skipped (newer writers). Returns how many keys were found.
 */
int cpgo_meta_read(const struct cpgo_profile *p, struct cpgo_meta *m);
/* Whether a comment is one of the keys above (merge combines those itself). */
int cpgo_meta_is_key(const char *comment);
/*
 * Folds the facts of one more run into `acc` (both as cpgo_meta_read gives
 * them; `acc` holds the first run's to start): samples, CPU time and lost
 * samples add up, the rate is recomputed from the sums, the kernel share is
 * weighted by samples, and a setting the runs disagree on becomes unknown
 * (a string "mixed"), so a merged profile never states a rate or a mode
 * that none of its runs had. Merge weights do not apply: these are facts of
 * the collection, not sample values.
 */
void cpgo_meta_merge(struct cpgo_meta *acc, const struct cpgo_meta *in);
/* Adds a one-line summary: "requested 1000 Hz, achieved 998.4 Hz (1234 samples in 1.236 CPU seconds)". */
int cpgo_meta_summary(const struct cpgo_meta *m, struct cpgo_buf *out);

#endif
