#ifndef CPGO_RT_PERFRING_H
#define CPGO_RT_PERFRING_H

/*
 * Sampling through the kernel's ring buffer. Prefix: perfring_.
 *
 * One perf_event_open task-clock event per thread writes a sample record
 * (IP, TID, the user call chain the kernel walks by frame pointers) into
 * a ring mapped into our memory; the drain thread reads it. No signal is
 * sent per sample, and each record's header says whether the thread was
 * running kernel or user code, so kernel time is booked on its own frame
 * (SAMPLE_PC_KERNEL) under the user call that entered the kernel, never
 * on the user instruction after it.
 */

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

struct perfring {
	int fd; /* -1: closed */
	uint64_t id;
	void *map;
	size_t map_size;
	unsigned char *data;
	uint64_t data_mask; /* data size - 1 (a power of two) */
	int kernel; /* kernel samples are recorded (else excluded: paranoid >= 2) */
	size_t stack_bytes; /* 0: the kernel's frame-pointer chain; else registers and stack copies */
	long drain_ns; /* how often this ring must be read to stay at most half full */
	/*
	 * Adaptive stack copies (perfring_stack_wanted): over a window of
	 * samples, those cut short by the copy's end and the most stack an
	 * uncut walk needed. adapt 0: the size stays (CPGO_STACK_BYTES).
	 */
	int adapt;
	uint32_t win_n, win_cut;
	size_t win_need;
};

/*
 * Bytes of user stack copied with each sample when unwinding with the CFI
 * tables (perf --call-graph dwarf's default): deeper frames end the stack
 * as cut short.
 */
#define PERFRING_CFI_STACK_BYTES 8192
/*
 * Adaptive copies (the default) start at PERFRING_CFI_STACK_BYTES and move
 * between these per thread: a thread whose walks end at the copy's end
 * gets a bigger one, a shallow thread a smaller one (copying is most of
 * the cost per sample that is ours).
 */
#define PERFRING_STACK_MIN 4096
#define PERFRING_STACK_MAX 32768

/*
 * Opens thread tid's event sampling every period_ns of its CPU time with a
 * ring sized for `hz` samples per drain interval. Kernel samples are asked
 * for first, and left out when the kernel refuses them. With stack_bytes,
 * each sample carries the user registers and that much of the user stack,
 * unwound with the CFI tables when read (unwind_cfi); else the kernel's
 * frame-pointer chain. -1 with errno set (and error() text) on failure.
 */
int perfring_open(struct perfring *r, int tid, long period_ns, int hz, size_t stack_bytes);
/* How often rings must be read so that one at `hz` stays at most half full. */
long perfring_drain_interval_ns(int hz, size_t stack_bytes);
/*
 * After a read: the stack copy size this ring's thread should have now
 * (its samples were cut short by the copy more than a little, or needed
 * far less of it), or 0 to keep it. Decided once per window of samples.
 */
size_t perfring_stack_wanted(struct perfring *r);
/* The thread's CPU time so far (the event's count), 0 when unreadable. */
uint64_t perfring_cpu_ns(const struct perfring *r);

struct perfring_counts {
	uint64_t samples, kernel_samples, lost;
};

/*
 * Hands every record in the ring to cb (converted to the sample ring's
 * record format and address convention) and frees their space. One reader
 * at a time across all rings (callers hold the thread registry's lock: the
 * records are copied out into one buffer); adds what it saw to *counts.
 */
void perfring_read(struct perfring *r, void (*cb)(const struct sample_record *rec, void *arg),
		   void *arg, struct perfring_counts *counts);
/* Where the kernel will write next: perfring_read_to(r, perfring_mark(r)) reads what came before. */
uint64_t perfring_mark(const struct perfring *r);
void perfring_read_to(struct perfring *r, uint64_t mark,
		      void (*cb)(const struct sample_record *rec, void *arg), void *arg,
		      struct perfring_counts *counts);
/* Stops and closes the event and unmaps its ring (read it first). */
void perfring_close(struct perfring *r);
/* In a fork child: the ring is not mapped there (VM_DONTCOPY); closes the copied fd. */
void perfring_forget(struct perfring *r);

#endif
