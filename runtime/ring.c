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

size_t ring_drain(struct ring *r,
			  void (*cb)(const struct sample_record *rec, void *arg), void *arg)
{
	size_t n = 0;

	for (;;) {
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

