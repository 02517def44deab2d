#ifndef CPGO_SAMPLER_H
#define CPGO_SAMPLER_H

/*
 * The sampling engine of libcpgo: timers and signals. Prefix: sampler_.
 *
 * sampler_start() installs the signal handler and arms every thread's CPU
 * timer (threads.h); the handler unwinds the interrupted thread (unwind.h)
 * into the preallocated lock-free sample ring (ring.h); sampler_drain()
 * empties it outside the handler. Everything reachable from the handler is
 * async-signal-safe, and stop gives the signal back as it was.
 */

#include <stddef.h>
#include <stdint.h>

#include "cpgo.h"
#include "ring.h"

enum sampler_timer {
	SAMPLER_TIMER_AUTO,  /* perf task-clock, else POSIX timer */
	SAMPLER_TIMER_PERF,  /* perf task-clock only */
	SAMPLER_TIMER_POSIX, /* timer_create on the thread CPU clock only */
};

enum sampler_unwind {
	/* The default: frame pointers if the executable keeps them, else the CFI tables. */
	SAMPLER_UNWIND_TABLES,
	SAMPLER_UNWIND_FP,        /* frame pointers only */
	SAMPLER_UNWIND_CFI,       /* the CFI tables (cfitab.h) for every sample */
	SAMPLER_UNWIND_AUTO,      /* frame pointers; libunwind when they give no caller */
	SAMPLER_UNWIND_LIBUNWIND, /* DWARF unwinding with libunwind for every sample */
};

enum sampler_mode {
	SAMPLER_MODE_AUTO,   /* the kernel's ring buffer, else signals */
	SAMPLER_MODE_RING,   /* perf events write samples into a ring the drain thread reads */
	SAMPLER_MODE_SIGNAL, /* a signal per sample, unwound in the handler */
};

struct sampler_config {
	int hz;    /* 1..CPGO_MAX_HZ */
	int signo; /* 0: SIGPROF if the program does not use it, else a free realtime signal */
	enum sampler_timer timer;
	enum sampler_unwind unwind;
	enum sampler_mode mode;
	int stack_bytes; /* ring mode with the CFI tables: user stack copied per sample (0: default) */
};

/* Monotonic counters since the process loaded libcpgo; sessions take deltas. */
struct sampler_stats {
	uint64_t samples;      /* records published to the ring */
	uint64_t periods;      /* sum of their weights */
	uint64_t lost;         /* dropped: ring full */
	uint64_t libunwind;    /* samples unwound with libunwind */
	uint64_t kernel_samples; /* samples taken while the thread ran kernel code */
	uint64_t cpu_ns;       /* CPU time of the sampled threads */
	uint64_t threads;      /* threads that got a timer */
	uint64_t threads_failed; /* threads whose timer could not be set up */
	uint64_t threads_blocked; /* threads that block the signal (not sampled) */
	uint64_t stack_bytes_max; /* ring mode with cfi: the largest stack copy a thread ended with */
	uint64_t drain_cpu_ns;    /* CPU time of the drain thread (reading, unwinding, counting) */
};

/* What the running sampler uses (valid while running). */
struct sampler_info {
	int hz;
	int signo;
	enum sampler_timer timer; /* PERF or POSIX */
	enum sampler_unwind unwind; /* FP or CFI when TABLES was asked for */
	enum sampler_mode mode;   /* RING or SIGNAL */
	int kernel_visible;       /* ring mode: kernel samples are recorded, as SAMPLE_PC_KERNEL */
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

/* How often sampler_drain() must run so that no ring overflows at the running rate. */
long sampler_drain_interval_ns(void);
/*
 * sampler_drain of what was recorded before now, with `between` called
 * after noting where every ring stands and before reading them (an object
 * was just unloaded: what came before is booked on it, what came after is
 * not). Records after the note stay for the next drain.
 */
void sampler_drain_to_mark(void (*cb)(const struct sample_record *r, void *arg), void *arg,
			   void (*between)(void *arg));
/* Calls cb for each published record, oldest first; returns how many. */
size_t sampler_drain(void (*cb)(const struct sample_record *r, void *arg), void *arg);

/*
 * fork(): prepare/parent hold the registry lock across the fork; in the
 * child, forget the parent's timers and threads and give the signal back.
 */
void sampler_atfork_prepare(void);
void sampler_atfork_parent(void);
void sampler_atfork_child(void);

#endif
