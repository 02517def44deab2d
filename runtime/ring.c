/*
 * The sample ring (see ring.h). Only atomics: every producer path is
 * async-signal-safe.
 */
#include "ring.h"

#include "util/buf.h"
#include "util/error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/*
 * A slot's sequence number is stored minus the slot's index, so that a
 * zero-filled ring is an empty one: creating or resetting the ring touches
 * none of its pages (8 MiB that ring mode hardly uses).
 */
struct ring_slot {
	_Atomic uint64_t seq; /* Vyukov's sequence - slot index */
	struct sample_record rec;
};

struct ring {
	uint64_t mask;
	_Atomic uint64_t head;
	uint64_t tail; /* consumer only */
	struct ring_slot *slots;
	size_t bytes;
};

void ring_reset(struct ring *r)
{
	/* Private anonymous pages read back as zeros after MADV_DONTNEED. */
	if (madvise(r->slots, r->bytes, MADV_DONTNEED) < 0)
		memset(r->slots, 0, r->bytes);
	atomic_store(&r->head, 0);
	r->tail = 0;
}

struct ring *ring_new(size_t slots)
{
	struct ring *r;
	size_t n = 2, bytes;

	while (n < slots && n < ((size_t)1 << 24))
		n *= 2;
	if (cpgo_mul_overflows(n, sizeof(struct ring_slot), &bytes)) {
		error("sample ring of %zu slots is too large", slots);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		error("out of memory allocating the sample ring");
		return NULL;
	}
	/* mmap: pages are touched only as the ring fills, and never by malloc's locks. */
	r->slots = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->slots == MAP_FAILED) {
		error_errno("cannot map a %zu-byte sample ring", bytes);
		free(r);
		return NULL;
	}
	r->bytes = bytes;
	r->mask = n - 1;
	return r;
}

void ring_free(struct ring *r)
{
	if (!r)
		return;
	munmap(r->slots, r->bytes);
	free(r);
}

struct sample_record *ring_reserve(struct ring *r, uint64_t *ticket)
{
	uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);

	for (;;) {
		struct ring_slot *s = &r->slots[pos & r->mask];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire) + (pos & r->mask);
		int64_t dif = (int64_t)(seq - pos);

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*ticket = pos;
				return &s->rec;
			}
		} else if (dif < 0) {
			return NULL;
		} else {
			pos = atomic_load_explicit(&r->head, memory_order_relaxed);
		}
	}
}

void ring_commit(struct ring *r, uint64_t ticket)
{
	atomic_store_explicit(&r->slots[ticket & r->mask].seq, ticket + 1 - (ticket & r->mask),
			      memory_order_release);
}

uint64_t ring_mark(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire);
}

static size_t drain_to(struct ring *r, uint64_t mark,
		       void (*cb)(const struct sample_record *rec, void *arg), void *arg)
{
	size_t n = 0;

	while (r->tail < mark) {
		uint64_t idx = r->tail & r->mask;
		struct ring_slot *s = &r->slots[idx];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire) + idx;

		if (seq != r->tail + 1)
			break;
		cb(&s->rec, arg);
		atomic_store_explicit(&s->seq, r->tail + r->mask + 1 - idx, memory_order_release);
		r->tail++;
		n++;
	}
	return n;
}

size_t ring_drain(struct ring *r,
			  void (*cb)(const struct sample_record *rec, void *arg), void *arg)
{
	return drain_to(r, UINT64_MAX, cb, arg);
}

size_t ring_drain_to(struct ring *r, uint64_t mark,
		     void (*cb)(const struct sample_record *rec, void *arg), void *arg)
{
	size_t n = drain_to(r, mark, cb, arg);

	/* A handler between reserve and commit takes microseconds; a stopped thread may never finish. */
	for (int i = 0; i < 200 && r->tail < mark; i++) {
		struct timespec ts = { 0, 50000 };
		nanosleep(&ts, NULL);
		n += drain_to(r, mark, cb, arg);
	}
	return n;
}

