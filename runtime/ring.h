#ifndef CPGO_RT_RING_H
#define CPGO_RT_RING_H

/*
 * The sample ring: a bounded lock-free queue (Vyukov's MPMC queue, used
 * with one consumer) between the signal handlers that take samples and the
 * drain thread. Prefix: ring_. reserve/commit are async-signal-safe; the
 * slots are mmap'd so that the handler never meets malloc's locks.
 *
 * Address convention of a record: pc[0] is the sampled PC; every caller
 * frame is its return address minus 1, so that it points into the call
 * instruction. Symbolizers use all addresses as-is.
 */

#include <stddef.h>
#include <stdint.h>

/* The deepest stack a sample keeps (deeper ones are cut at the root end). */
#define SAMPLE_MAX_DEPTH 128
/*
 * A leaf pc meaning "the thread was in the kernel": pc[1..] are then the
 * user frames of the call that entered it (see rtprofile.h for its frame).
 */
#define SAMPLE_PC_KERNEL ((uintptr_t)1)

/*
 * The root end of a stack the unwinder could not follow to the thread's
 * first frame (no rule, outside the copied stack, depth): marks the stack
 * as cut short rather than guessing (see rtprofile.h for its frame).
 */
#define SAMPLE_PC_TRUNCATED ((uintptr_t)2)

/* How often the drain thread empties the rings (the sizes of the rings follow from it). */
#define RING_DRAIN_INTERVAL_NS 10000000L

struct sample_record {
	uint32_t tid;
	uint32_t depth;
	uint64_t weight; /* timer periods this sample stands for (1 + overruns) */
	uintptr_t pc[SAMPLE_MAX_DEPTH];
};

struct ring;
struct ring *ring_new(size_t slots);
void ring_free(struct ring *r);
/* Empties the ring; only while no producer or consumer runs (a fork child). */
void ring_reset(struct ring *r);
/* Reserves a slot (NULL when full); commit publishes it. */
struct sample_record *ring_reserve(struct ring *r, uint64_t *ticket);
void ring_commit(struct ring *r, uint64_t ticket);
/* Calls cb for each published record, oldest first; returns how many. One consumer at a time. */
size_t ring_drain(struct ring *r, void (*cb)(const struct sample_record *rec, void *arg),
		  void *arg);
/* Where the next record will go: ring_drain_to(r, ring_mark(r)) takes what was reserved before. */
uint64_t ring_mark(struct ring *r);
/*
 * ring_drain up to the mark, waiting (briefly, a bounded time) for records
 * reserved before it but not yet published. Returns how many it took.
 */
size_t ring_drain_to(struct ring *r, uint64_t mark,
		     void (*cb)(const struct sample_record *rec, void *arg), void *arg);

#endif
