/*
 * The perf ring-buffer sampler (see perfring.h). Runs in the thread that
 * arms or drains, never in a signal handler.
 */
#include "perfring.h"

#include "unwind.h"
#include "util/error.h"

#include <asm/perf_regs.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Ring data pages: the least (a ring must hold a burst), the most (locked memory per thread). */
#define PERFRING_MIN_PAGES 8
#define PERFRING_MAX_PAGES 512
/*
 * With stack copies (2-32 KiB a sample) a ring is sized for this long
 * between drains (at most PERFRING_MAX_PAGES), and drained that often:
 * sized for the 10 ms of frame-pointer rings, a thread's ring would take
 * megabytes of locked memory at 5 kHz, and programs that run fifty threads
 * at once hit the locked-memory limit. Shorter, and a drain thread that
 * the scheduler keeps waiting on a loaded machine loses samples.
 */
#define PERFRING_STACK_TARGET_NS 10000000L
/* Records a ring must hold at least (smaller rings, refused by the memory limit, are no use). */
#define PERFRING_MIN_RECORDS 4
/*
 * Samples per adaptation window, and the share (percent) cut by the copy
 * that makes it grow; growing is decided as soon as this many samples
 * were cut (a deep program's first samples are not all lost to a small copy).
 */
#define PERFRING_ADAPT_WINDOW 256
#define PERFRING_ADAPT_CUT_PERCENT 1
#define PERFRING_ADAPT_EARLY_CUT 16
/* A shallow thread's copy: this many times the most any of its walks needed (rounded up). */
#define PERFRING_ADAPT_MARGIN 4
/* Room assumed per sample when sizing a ring (header, ip, tid, a ~100-frame chain). */
#define PERFRING_BYTES_PER_SAMPLE 1024
/* Bytes of user stack at sp copied with each sample: the return-address slots of a prologue. */
#define PERFRING_STACK_BYTES 16
/* Leaf pcs whose prologue check is remembered (direct-mapped; code does not change under us). */
#define PERFRING_SLOT_CACHE 4096
/* Records are at most 64 KiB (the header's size is 16 bits): every one fits. */
#define PERFRING_MAX_RECORD 65536
/* The shortest drain interval (a thread's ring at 20 kHz with stack copies). */
#define PERFRING_MIN_DRAIN_NS 1000000L
/*
 * The longest: a pass of the drain thread costs ~40 us of CPU on a VM
 * (wakeup, locks, the loader's object list), 0.4% of a CPU at the
 * 10 ms of the signal mode's shared ring; rings that hold more wait longer.
 */
#define PERFRING_MAX_DRAIN_NS 100000000L
/* Header, ip, tid, the registers' ABI word and three registers, stack size and dynamic size. */
#define PERFRING_REGS_RECORD 80

static int event_open(int tid, long period_ns, int kernel, size_t stack_bytes)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.sample_period = (uint64_t)period_ns;
	if (stack_bytes) {
		/* Without frame pointers the kernel's chain is garbage: unwind the copy ourselves. */
		a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_REGS_USER |
				PERF_SAMPLE_STACK_USER;
		a.sample_regs_user = (1ull << PERF_REG_X86_BP) | (1ull << PERF_REG_X86_SP) |
				     (1ull << PERF_REG_X86_IP);
		a.sample_stack_user = (uint32_t)stack_bytes;
	} else {
		a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN |
				PERF_SAMPLE_STACK_USER;
		a.sample_stack_user = PERFRING_STACK_BYTES;
	}
	a.disabled = 1;
	a.exclude_kernel = !kernel;
	a.exclude_hv = 1;
	/* The user part of the chain only: kernel frames are not the program's code. */
	a.exclude_callchain_kernel = 1;
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static size_t record_bytes(size_t stack_bytes)
{
	return stack_bytes ? stack_bytes + PERFRING_REGS_RECORD : PERFRING_BYTES_PER_SAMPLE;
}

static size_t ring_pages(int hz, size_t stack_bytes)
{
	uint64_t interval = stack_bytes ? PERFRING_STACK_TARGET_NS : RING_DRAIN_INTERVAL_NS;
	uint64_t want = (uint64_t)hz * record_bytes(stack_bytes) * interval / 1000000000u * 2;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = PERFRING_MIN_PAGES;

	if (want < (uint64_t)PERFRING_MIN_RECORDS * record_bytes(stack_bytes))
		want = (uint64_t)PERFRING_MIN_RECORDS * record_bytes(stack_bytes);
	while (n < PERFRING_MAX_PAGES && (uint64_t)n * page < want)
		n *= 2;
	return n;
}

static long drain_interval(size_t pages, int hz, size_t stack_bytes)
{
	uint64_t half = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE) / 2;
	uint64_t per_s = (uint64_t)(hz > 0 ? hz : 1) * record_bytes(stack_bytes);
	uint64_t ns = half * 1000000000u / per_s;

	if (ns > (uint64_t)PERFRING_MAX_DRAIN_NS)
		return PERFRING_MAX_DRAIN_NS;
	return ns < PERFRING_MIN_DRAIN_NS ? PERFRING_MIN_DRAIN_NS : (long)ns;
}

long perfring_drain_interval_ns(int hz, size_t stack_bytes)
{
	return drain_interval(ring_pages(hz, stack_bytes), hz, stack_bytes);
}

size_t perfring_stack_wanted(struct perfring *r)
{
	size_t cur = r->stack_bytes, want = cur;

	if (!r->adapt || !cur ||
	    (r->win_n < PERFRING_ADAPT_WINDOW && r->win_cut < PERFRING_ADAPT_EARLY_CUT))
		return 0;
	if ((uint64_t)r->win_cut * 100 > (uint64_t)r->win_n * PERFRING_ADAPT_CUT_PERCENT) {
		if (cur < PERFRING_STACK_MAX)
			want = cur * 2 > PERFRING_STACK_MAX ? PERFRING_STACK_MAX : cur * 2;
	} else if (!r->win_cut) {
		size_t w = PERFRING_STACK_MIN;
		while (w < PERFRING_STACK_MAX && w < r->win_need * PERFRING_ADAPT_MARGIN)
			w *= 2;
		if (w < cur)
			want = w;
	}
	r->win_n = r->win_cut = 0;
	r->win_need = 0;
	return want != cur ? want : 0;
}

int perfring_open(struct perfring *r, int tid, long period_ns, int hz, size_t stack_bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = ring_pages(hz, stack_bytes);
	int e;

	memset(r, 0, sizeof(*r));
	r->kernel = 1;
	r->stack_bytes = stack_bytes;
	r->fd = event_open(tid, period_ns, 1, stack_bytes);
	if (r->fd < 0 && (errno == EACCES || errno == EPERM)) {
		/* perf_event_paranoid >= 2 lets ordinary users sample user time only. */
		r->kernel = 0;
		r->fd = event_open(tid, period_ns, 0, stack_bytes);
	}
	if (r->fd < 0)
		return error_errno("perf_event_open(task-clock) for thread %d", tid);
	/* Locked-memory limits (perf_event_mlock_kb) may refuse a big ring: try smaller ones. */
	for (;;) {
		r->map_size = (pages + 1) * page;
		r->map = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (r->map != MAP_FAILED || pages <= 1 || (errno != EPERM && errno != ENOMEM) ||
		    pages / 2 * page < PERFRING_MIN_RECORDS * record_bytes(stack_bytes))
			break;
		pages /= 2;
	}
	if (r->map == MAP_FAILED) {
		e = errno;
		close(r->fd);
		r->fd = -1;
		errno = e;
		return error_errno("cannot map the perf ring of thread %d", tid);
	}
	r->data = (unsigned char *)r->map + page;
	r->data_mask = pages * page - 1;
	r->drain_ns = drain_interval(pages, hz, stack_bytes);
	if (ioctl(r->fd, PERF_EVENT_IOC_ID, &r->id) < 0 ||
	    ioctl(r->fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		e = errno;
		perfring_close(r);
		errno = e;
		return error_errno("cannot start the perf event of thread %d", tid);
	}
	return 0;
}

uint64_t perfring_cpu_ns(const struct perfring *r)
{
	uint64_t v = 0, now = 0;

	/* The program may have closed our fd and reused the number. */
	if (r->fd < 0 || ioctl(r->fd, PERF_EVENT_IOC_ID, &now) < 0 || now != r->id ||
	    read(r->fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Copies len bytes at ring offset `at` (which may wrap) to out. */
static void ring_copy(const struct perfring *r, uint64_t at, void *out, size_t len)
{
	size_t off = (size_t)(at & r->data_mask), first = r->data_mask + 1 - off;

	if (first >= len) {
		memcpy(out, r->data + off, len);
	} else {
		memcpy(out, r->data + off, first);
		memcpy((unsigned char *)out + first, r->data, len - first);
	}
}

/*
 * unwind_leaf_ret_slot() of a leaf pc, remembered: the drain thread asks for
 * every sample, and each answer costs a system call. Callers hold the
 * registry lock (perfring_read's callers), so one thread uses the cache at a time.
 */
static int leaf_slot_cached(uintptr_t pc)
{
	static struct {
		uintptr_t pc;
		int slot;
	} cache[PERFRING_SLOT_CACHE];
	size_t i = (pc ^ (pc >> 12)) % PERFRING_SLOT_CACHE;

	if (cache[i].pc != pc) {
		cache[i].slot = unwind_leaf_ret_slot(pc);
		cache[i].pc = pc;
	}
	return cache[i].slot;
}

/*
 * The kernel walks frame pointers from rbp, which in a prologue or an
 * epilogue is still the caller's frame: its return address is then on the
 * stack at sp (copied after the chain), and goes in as the leaf's caller.
 */
static int add_leaf_caller(const unsigned char *stack, size_t stack_len, uintptr_t leaf,
			   struct sample_record *rec, int n)
{
	int slot = leaf_slot_cached(leaf);
	uint64_t ret;

	if (!slot || n >= SAMPLE_MAX_DEPTH || stack_len < (size_t)slot * 8)
		return n;
	memcpy(&ret, stack + (size_t)(slot - 1) * 8, 8);
	if (ret < 4096)
		return n;
	memmove(&rec->pc[2], &rec->pc[1], (size_t)(n - 1) * sizeof(rec->pc[0]));
	rec->pc[1] = (uintptr_t)ret - 1;
	return n + 1;
}

/*
 * One PERF_RECORD_SAMPLE (ip, pid/tid, nr, ips[nr], stack size, stack
 * bytes, dynamic size) into rec; 0 if malformed.
 */
static int convert_sample(const unsigned char *p, size_t len, int in_kernel,
			  struct sample_record *rec)
{
	uint64_t ip, nr, ssize = 0, dyn = 0;
	uint32_t pidtid[2];
	const uint64_t *ips;
	const unsigned char *stack = NULL;
	int user = 0, n = 0, leaf = 1;

	if (len < 8 + 8 + 8 + 8)
		return 0;
	memcpy(&ip, p + 8, 8);
	memcpy(pidtid, p + 16, 8);
	memcpy(&nr, p + 24, 8);
	if (nr > (len - 32) / 8)
		nr = (len - 32) / 8;
	ips = (const uint64_t *)(const void *)(p + 32);
	if (32 + 8 * nr + 8 <= len) {
		memcpy(&ssize, p + 32 + 8 * nr, 8);
		if (ssize && 32 + 8 * nr + 8 + ssize + 8 <= len) {
			stack = p + 32 + 8 * nr + 8;
			memcpy(&dyn, stack + ssize, 8);
			if (dyn > ssize)
				dyn = ssize;
		}
	}
	rec->tid = pidtid[1];
	rec->weight = 1;
	if (in_kernel) {
		rec->pc[n++] = SAMPLE_PC_KERNEL;
		leaf = 0; /* the user frames are the call that entered the kernel */
	}
	for (uint64_t i = 0; i < nr && n < SAMPLE_MAX_DEPTH; i++) {
		uint64_t a;
		memcpy(&a, &ips[i], 8);
		if (a >= PERF_CONTEXT_MAX) {
			user = a == PERF_CONTEXT_USER;
			continue;
		}
		if (!user || a < 4096)
			continue;
		rec->pc[n++] = leaf ? (uintptr_t)a : (uintptr_t)a - 1;
		leaf = 0;
	}
	if (!in_kernel && n == 0 && ip)
		rec->pc[n++] = (uintptr_t)ip;
	if (!in_kernel && n >= 1 && stack)
		n = add_leaf_caller(stack, (size_t)dyn, rec->pc[0], rec, n);
	rec->depth = (uint32_t)n;
	return n > 0;
}

/*
 * Whether a thread that is in the kernel entered it by the system call
 * just before pc (its return address, booked as the call site), rather
 * than by a fault or an interrupt at pc itself. The code is read with
 * process_vm_readv, which fails cleanly if it was unmapped meanwhile.
 */
static int after_syscall(uintptr_t pc)
{
#if defined(__x86_64__)
	unsigned char c[2];
	struct iovec local = { c, sizeof(c) }, remote = { (void *)(pc - 2), sizeof(c) };

	if (pc < 4096 || process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)sizeof(c))
		return 1;
	return c[0] == 0x0f && c[1] == 0x05;
#else
	(void)pc;
	return 1;
#endif
}

/*
 * One sample record with user registers and stack (ip, pid/tid, abi,
 * bp sp ip, stack size, stack bytes, dynamic size), unwound with the CFI
 * tables into rec; 0 if malformed.
 */
static int convert_regs_sample(struct perfring *r, const unsigned char *p, size_t len,
			       int in_kernel, struct sample_record *rec)
{
	struct unwind_reach reach;
	uint64_t ip, abi, regs[3], ssize, dyn = 0;
	uint32_t pidtid[2];
	const unsigned char *stack = NULL;
	int n = 0;

	if (len < 40)
		return 0;
	memcpy(&ip, p + 8, 8);
	memcpy(pidtid, p + 16, 8);
	memcpy(&abi, p + 24, 8);
	rec->tid = pidtid[1];
	rec->weight = 1;
	if (in_kernel)
		rec->pc[n++] = SAMPLE_PC_KERNEL;
	if (abi == PERF_SAMPLE_REGS_ABI_NONE || len < 32 + 24 + 8) {
		/* No user context (a kernel thread's time, or the kernel could not read it). */
		if (!in_kernel && ip >= 4096)
			rec->pc[n++] = (uintptr_t)ip;
		rec->depth = (uint32_t)n;
		return n > 0;
	}
	memcpy(regs, p + 32, 24);
	memcpy(&ssize, p + 56, 8);
	if (ssize && ssize <= len - 64 && len - 64 - ssize >= 8) {
		stack = p + 64;
		memcpy(&dyn, stack + ssize, 8);
		if (dyn > ssize)
			dyn = ssize;
	}
	if (regs[2] < 4096) {
		rec->depth = (uint32_t)n;
		return n > 0;
	}
	n += unwind_cfi((uintptr_t)regs[2], (uintptr_t)regs[1], (uintptr_t)regs[0],
			in_kernel && after_syscall((uintptr_t)regs[2]),
			stack, (uintptr_t)regs[1], stack ? (size_t)dyn : 0, rec->pc + n,
			SAMPLE_MAX_DEPTH - n, 1, &reach);
	r->win_n++;
	/* A copy shorter than asked for ended at the stack's top: a bigger one would not help. */
	if (reach.cut && dyn >= r->stack_bytes)
		r->win_cut++;
	else if (reach.need > r->win_need)
		r->win_need = reach.need;
	rec->depth = (uint32_t)n;
	return n > 0;
}

uint64_t perfring_mark(const struct perfring *r)
{
	const struct perf_event_mmap_page *m = r->map;

	return r->fd < 0 || !m ? 0 : __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
}

void perfring_read(struct perfring *r, void (*cb)(const struct sample_record *rec, void *arg),
		   void *arg, struct perfring_counts *counts)
{
	perfring_read_to(r, UINT64_MAX, cb, arg, counts);
}

void perfring_read_to(struct perfring *r, uint64_t mark,
		      void (*cb)(const struct sample_record *rec, void *arg), void *arg,
		      struct perfring_counts *counts)
{
	struct perf_event_mmap_page *m = r->map;
	/* Readers hold the thread registry's lock (perfring.h): one at a time uses these. */
	static unsigned char buf[PERFRING_MAX_RECORD];
	static struct sample_record rec;
	uint64_t head, tail;

	if (r->fd < 0 || !m)
		return;
	head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
	if (head > mark)
		head = mark; /* records end where the kernel's head stood: the mark is one's end */
	tail = m->data_tail;
	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		const unsigned char *rp;
		size_t len;

		ring_copy(r, tail, &h, sizeof(h));
		if (h.size < sizeof(h) || h.size > head - tail)
			break;
		len = h.size;
		/* Parsed where it lies unless it wraps: a stack copy is 8 KiB a sample. */
		if ((tail & r->data_mask) + len <= r->data_mask + 1) {
			rp = r->data + (tail & r->data_mask);
		} else {
			ring_copy(r, tail, buf, len);
			rp = buf;
		}
		if (h.type == PERF_RECORD_SAMPLE) {
			int in_kernel = (h.misc & PERF_RECORD_MISC_CPUMODE_MASK) ==
					PERF_RECORD_MISC_KERNEL;
			int ok = r->stack_bytes ? convert_regs_sample(r, rp, len, in_kernel, &rec)
						: convert_sample(rp, len, in_kernel, &rec);
			if (ok) {
				cb(&rec, arg);
				counts->samples++;
				counts->kernel_samples += (uint64_t)in_kernel;
			}
		} else if (h.type == PERF_RECORD_LOST && len >= 24) {
			uint64_t lost;
			memcpy(&lost, rp + 16, 8);
			counts->lost += lost;
		}
		tail += h.size;
	}
	__atomic_store_n(&m->data_tail, tail, __ATOMIC_RELEASE);
}

void perfring_close(struct perfring *r)
{
	uint64_t now = 0;

	if (r->fd >= 0 && ioctl(r->fd, PERF_EVENT_IOC_ID, &now) == 0 && now == r->id) {
		ioctl(r->fd, PERF_EVENT_IOC_DISABLE, 0);
		close(r->fd);
	}
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->map_size);
	r->fd = -1;
	r->map = NULL;
}

void perfring_forget(struct perfring *r)
{
	uint64_t now = 0;

	if (r->fd >= 0 && ioctl(r->fd, PERF_EVENT_IOC_ID, &now) == 0 && now == r->id)
		close(r->fd);
	r->fd = -1;
	r->map = NULL;
}
