#ifndef CPGO_SAMPLER_H
#define CPGO_SAMPLER_H

/*
 * The sampling engine of libcpgo. Prefix: sampler_.
 *
 * Every profiled thread gets its own CPU-time timer that sends a signal to
 * that thread: a perf_event_open software task-clock event (any rate the
 * kernel allows, 20 kHz works) or, when perf events are refused
 * (perf_event_paranoid, seccomp), a timer_create() timer on the thread's
 * CPU clock, which the kernel only fires at its tick (often 250 Hz).
 * The handler unwinds the interrupted thread into a preallocated lock-free
 * ring; sampler_drain() empties the ring outside the handler.
 *
 * Address convention of a record: pc[0] is the interrupted PC; every
 * caller frame is its return address minus 1, so that it points into the
 * call instruction. Symbolizers use all addresses as-is.
 */

#include <stddef.h>
#include <stdint.h>

#define SAMPLER_MAX_DEPTH 128
#define SAMPLER_MAX_HZ 100000

enum sampler_timer {
	SAMPLER_TIMER_AUTO,  /* perf task-clock, else POSIX timer */
	SAMPLER_TIMER_PERF,  /* perf task-clock only */
	SAMPLER_TIMER_POSIX, /* timer_create on the thread CPU clock only */
};

enum sampler_unwind {
	SAMPLER_UNWIND_FP,        /* frame pointers only (the default) */
	SAMPLER_UNWIND_AUTO,      /* frame pointers; libunwind when they give no caller */
	SAMPLER_UNWIND_LIBUNWIND, /* DWARF unwinding with libunwind for every sample */
};

struct sampler_config {
	int hz;
	int signo; /* 0: SIGPROF if the program does not use it, else a free realtime signal */
	enum sampler_timer timer;
	enum sampler_unwind unwind;
};

struct sampler_record {
	uint32_t tid;
	uint32_t depth;
	uint64_t weight; /* timer periods this sample stands for (1 + overruns) */
	uintptr_t pc[SAMPLER_MAX_DEPTH];
};

/* Monotonic counters since the process loaded libcpgo; sessions take deltas. */
struct sampler_stats {
	uint64_t samples;      /* records published to the ring */
	uint64_t periods;      /* sum of their weights */
	uint64_t lost;         /* dropped: ring full */
	uint64_t libunwind;    /* samples unwound with libunwind */
	uint64_t cpu_ns;       /* CPU time of the sampled threads */
	uint64_t threads;      /* threads that got a timer */
	uint64_t threads_failed; /* threads whose timer could not be set up */
	uint64_t threads_blocked; /* threads that block the signal (not sampled) */
};

/* What the running sampler uses (valid while running). */
struct sampler_info {
	int hz;
	int signo;
	enum sampler_timer timer; /* PERF or POSIX */
	enum sampler_unwind unwind;
	int handler_replaced; /* the program installed its own handler for our signal */
};

/* Starts sampling every thread of the process (those that exist now and new ones). */
int sampler_start(const struct sampler_config *cfg);
/* Stops every timer and gives the signal back; safe when not running. */
int sampler_stop(void);
/* The process is exiting: stop leaves the signal ignored (late timer signals
 * must not meet SIG_DFL while exit handlers run). */
void sampler_set_exiting(void);
int sampler_running(void);
/*
 * If the program replaced our signal handler, stops every timer (they
 * would call its handler) and returns 1. The drain thread polls this.
 */
int sampler_check_handler(void);
/*
 * exec(): prepare stops every timer and gives the signal back (a pending
 * signal would kill the new image), returning whether it did; if exec
 * fails, sampler_exec_failed(that) re-arms.
 */
int sampler_exec_prepare(void);
void sampler_exec_failed(int paused);
/* The signal in use while running (0 when stopped). */
int sampler_signal(void);
void sampler_get_info(struct sampler_info *info);
void sampler_get_stats(struct sampler_stats *st);

/* Calls cb for each published record, oldest first; returns how many. */
size_t sampler_drain(void (*cb)(const struct sampler_record *r, void *arg), void *arg);

/*
 * Thread lifecycle. register: the calling thread gets a timer (if running)
 * and its stack range is recorded; unregister: before it exits.
 * Internal threads (drain, HTTP) mark themselves and are never sampled.
 */
int sampler_thread_register(void);
void sampler_thread_unregister(void);
/* Marks the calling thread internal (before it registers); returns the old flag. */
int sampler_thread_set_internal(int internal);
int sampler_thread_is_internal(void);

/*
 * fork(): prepare/parent hold the registry lock across the fork; in the
 * child, forget the parent's timers and threads and give the signal back.
 */
void sampler_atfork_prepare(void);
void sampler_atfork_parent(void);
void sampler_atfork_child(void);

/* Exposed for unit tests. */
struct sampler_ring;
struct sampler_ring *sampler_ring_new(size_t slots);
void sampler_ring_free(struct sampler_ring *r);
/* Reserves a slot (NULL when full); commit publishes it. Async-signal-safe. */
struct sampler_record *sampler_ring_reserve(struct sampler_ring *r, uint64_t *ticket);
void sampler_ring_commit(struct sampler_ring *r, uint64_t ticket);
size_t sampler_ring_drain(struct sampler_ring *r,
			  void (*cb)(const struct sampler_record *rec, void *arg), void *arg);

/*
 * Frame-pointer walk: pc is the leaf, fp/sp from the interrupted context,
 * [sp, stack_hi) the part of the stack that is mapped. Reads only 16-byte
 * frame records that lie inside it, 8-aligned, strictly ascending.
 * Returns the number of frames written (>= 1).
 */
int sampler_unwind_fp(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t stack_hi,
		      uintptr_t *out, int max);

/*
 * Finds the end of the mapping that contains `addr` in a /proc/self/maps
 * text read from `fd` (async-signal-safe: no allocation). 0 when not found.
 */
uintptr_t sampler_maps_find_end(int fd, uintptr_t addr);

#endif
