#ifndef CPGO_RT_THREADS_H
#define CPGO_RT_THREADS_H

/*
 * The registry of the process's threads and their CPU timers. Prefix:
 * threads_. A profiled thread gets its own CPU-time timer that signals that
 * thread: a perf_event_open software task-clock event (any rate the kernel
 * allows) or, when perf events are refused (perf_event_paranoid, seccomp),
 * a timer_create() timer on the thread's CPU clock, which the kernel only
 * fires at its tick (often 250 Hz).
 *
 * Threads register when they start (interpose.c's pthread_create wrapper)
 * and unregister before they exit; the threads that exist when sampling
 * starts are found in /proc/self/task. Internal threads (drain, HTTP) mark
 * themselves and are never sampled.
 */

#include <stdint.h>

#include "ring.h"

/* Threads the registry can hold at once; more are not profiled (the profile says how many). */
#define THREADS_MAX 4096

enum threads_timer {
	THREADS_TIMER_PERF,  /* perf_event task-clock */
	THREADS_TIMER_POSIX, /* timer_create on the thread CPU clock */
};

/* How threads are armed while sampling runs. */
struct threads_arm {
	enum threads_timer timer;
	long period_ns;
	int hz;
	int ring;  /* the kernel's ring buffer (perfring.h) instead of a signal per sample */
	size_t stack_bytes; /* ring mode: user stack copied per sample for the CFI unwinder, 0: none */
	int adapt_stack; /* each thread's copy size follows its stack depth (perfring_stack_wanted) */
	int signo; /* signal mode */
	/* Where the records left in a thread's ring go when it is disarmed (its ring is unmapped then). */
	void (*spill)(const struct sample_record *rec, void *arg);
	void *spill_arg;
};

struct threads_stats {
	uint64_t armed;   /* threads that got a timer */
	uint64_t failed;  /* threads whose timer could not be set up */
	uint64_t blocked; /* threads that block the signal (not sampled) */
	uint64_t cpu_ns;  /* CPU time of the sampled threads */
	/* Ring mode: records read from the threads' rings, and lost by the kernel. */
	uint64_t ring_samples, ring_kernel_samples, ring_lost;
	size_t stack_bytes_max; /* the largest stack copy size a thread ended with (or has now) */
};

/* The calling thread: register after it starts (arms it when sampling runs), unregister before it exits. */
int threads_register(void);
void threads_unregister(void);
/* Marks the calling thread internal (before it registers); returns the old flag. */
int threads_set_internal(int internal);
int threads_is_internal(void);

/*
 * Opens a perf task-clock event on the calling thread with this period and
 * closes it: 0 when perf events can be used, else -1 with errno set.
 */
int threads_probe_perf(long period_ns, int signo);

/*
 * Opens a ring-buffer event on the calling thread and closes it: 0 when the
 * ring mode can be used (*kernel: kernel samples are recorded), else -1.
 */
#include <stddef.h>
int threads_probe_ring(long period_ns, int hz, size_t stack_bytes, int *kernel);
/*
 * Ring mode: hands the records in every thread's ring to cb (the drain
 * thread), and gives a thread whose stack copies are the wrong size a new
 * event. Returns how soon the fullest-running ring must be read again (ns).
 */
long threads_drain_rings(void (*cb)(const struct sample_record *rec, void *arg), void *arg);

/*
 * Ring mode, for an object being unloaded: notes where every thread's ring
 * stands, calls `between` (which may look at the process's mappings; no
 * thread starts or exits meanwhile), then hands cb what was written before
 * the note and leaves the rest for the next drain. Caller holds the lock
 * (threads_lock) and the collector's: one caller at a time.
 */
void threads_drain_rings_to_mark_locked(void (*cb)(const struct sample_record *rec, void *arg), void *arg,
				 void (*between)(void *arg));

/* The sampler's side; the lock keeps start/stop, registration and fork apart. */
void threads_lock(void);
void threads_unlock(void);
/* Arms the calling thread (-1 if it cannot be) and every other thread of the process. */
int threads_arm_all_locked(const struct threads_arm *arm);
/* Stops every timer (forgetting the threads when `forget`); re-arm picks the known ones up again. */
void threads_disarm_all_locked(int forget);
void threads_rearm_locked(void);
void threads_get_stats(struct threads_stats *st);

/*
 * In the signal handler: the end of the calling thread's stack if sp lies
 * on it (the part a walk may read is [sp, end)), else 0 (an alternate
 * signal stack, or unknown). Async-signal-safe.
 */
uintptr_t threads_stack_end(int tid, uintptr_t sp);
/* The calling thread's id, cached (async-signal-safe). */
int threads_tid(void);

/* In a fork child: the parent's threads and timers are gone. */
void threads_atfork_child(void);

#endif
