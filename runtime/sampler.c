/*
 * The sampling engine: per-thread CPU timers, the signal handler, the
 * frame-pointer and libunwind unwinders, and the lock-free sample ring.
 * See sampler.h for the design; everything reachable from
 * sampler_handler() is async-signal-safe.
 */
#include "sampler.h"

#include "util/buf.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define SAMPLER_MAX_THREADS 4096
#define SAMPLER_RING_SLOTS 8192

/* ---- the ring: Vyukov's bounded MPMC queue, used with one consumer ---- */

struct ring_slot {
	_Atomic uint64_t seq;
	struct sampler_record rec;
};

struct sampler_ring {
	uint64_t mask;
	_Atomic uint64_t head;
	uint64_t tail; /* consumer only */
	struct ring_slot *slots;
	size_t bytes;
};

static void ring_reset(struct sampler_ring *r)
{
	for (uint64_t i = 0; i <= r->mask; i++)
		atomic_store_explicit(&r->slots[i].seq, i, memory_order_relaxed);
	atomic_store(&r->head, 0);
	r->tail = 0;
}

struct sampler_ring *sampler_ring_new(size_t slots)
{
	struct sampler_ring *r;
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
	ring_reset(r);
	return r;
}

void sampler_ring_free(struct sampler_ring *r)
{
	if (!r)
		return;
	munmap(r->slots, r->bytes);
	free(r);
}

struct sampler_record *sampler_ring_reserve(struct sampler_ring *r, uint64_t *ticket)
{
	uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);

	for (;;) {
		struct ring_slot *s = &r->slots[pos & r->mask];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
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

void sampler_ring_commit(struct sampler_ring *r, uint64_t ticket)
{
	atomic_store_explicit(&r->slots[ticket & r->mask].seq, ticket + 1, memory_order_release);
}

size_t sampler_ring_drain(struct sampler_ring *r,
			  void (*cb)(const struct sampler_record *rec, void *arg), void *arg)
{
	size_t n = 0;

	for (;;) {
		struct ring_slot *s = &r->slots[r->tail & r->mask];
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);

		if (seq != r->tail + 1)
			break;
		cb(&s->rec, arg);
		atomic_store_explicit(&s->seq, r->tail + r->mask + 1, memory_order_release);
		r->tail++;
		n++;
	}
	return n;
}

/* ---- threads ---- */

struct rt_thread {
	_Atomic int tid; /* 0: free slot */
	int internal;    /* a libcpgo thread: never sampled */
	int blocked;     /* blocks the signal: not armed */
	_Atomic uintptr_t stack_hi; /* 0: unknown yet, 1: not found */
	uintptr_t stack_lo;
	int fd;          /* perf event, -1 */
	uint64_t perf_id;
	int has_timer;
	timer_t timer;
	uint64_t cpu_start; /* POSIX timers: thread CPU time when armed */
};

static struct {
	_Atomic int active;
	_Atomic int in_handler;
	_Atomic int exiting; /* set at exit: the signal is left ignored after stop */
	int signo;
	int hz;
	long period_ns;
	enum sampler_timer timer;
	enum sampler_unwind unwind;
	int handler_replaced;
	pid_t pid; /* the process that started sampling */
	struct sigaction old_sa;
	struct sampler_ring *ring;
	pthread_mutex_t lock; /* registry: threads[], start/stop */
	struct rt_thread threads[SAMPLER_MAX_THREADS];
	_Atomic int hiwater; /* slots in use are below this */
	uint64_t cpu_closed;
	_Atomic uint64_t samples, periods, lost, libunwind, threads_armed, threads_failed,
		threads_blocked;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static __thread struct rt_thread *tls_self __attribute__((tls_model("initial-exec")));
static __thread int tls_tid __attribute__((tls_model("initial-exec")));
static __thread int tls_internal __attribute__((tls_model("initial-exec")));

static int my_tid(void)
{
	if (!tls_tid)
		tls_tid = (int)syscall(SYS_gettid);
	return tls_tid;
}

static clockid_t thread_cpu_clock(int tid)
{
	/* The kernel's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED). */
	return (clockid_t)((~(unsigned)tid) << 3) | 6;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Caller holds S.lock. */
static struct rt_thread *thread_find(int tid)
{
	int hi = atomic_load(&S.hiwater);
	for (int i = 0; i < hi; i++)
		if (atomic_load_explicit(&S.threads[i].tid, memory_order_relaxed) == tid)
			return &S.threads[i];
	return NULL;
}

static struct rt_thread *thread_alloc(int tid)
{
	for (int i = 0; i < SAMPLER_MAX_THREADS; i++) {
		struct rt_thread *t = &S.threads[i];
		if (atomic_load(&t->tid))
			continue;
		memset((void *)&t->internal, 0, sizeof(*t) - offsetof(struct rt_thread, internal));
		t->fd = -1;
		atomic_store(&t->stack_hi, 0);
		atomic_store(&t->tid, tid);
		if (i + 1 > atomic_load(&S.hiwater))
			atomic_store(&S.hiwater, i + 1);
		return t;
	}
	return NULL;
}

static int perf_open(int tid, long period_ns, int signo, uint64_t *id)
{
	struct perf_event_attr a;
	struct f_owner_ex owner = { F_OWNER_TID, tid };
	int fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.sample_period = (uint64_t)period_ns;
	a.disabled = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		/* perf_event_paranoid >= 2 lets ordinary users count user time only. */
		a.exclude_kernel = 1;
		a.exclude_hv = 1;
		fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETSIG, signo) < 0 || fcntl(fd, F_SETOWN_EX, &owner) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC | O_NONBLOCK) < 0 ||
	    ioctl(fd, PERF_EVENT_IOC_ID, id) < 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int posix_open(int tid, long period_ns, int signo, timer_t *timer)
{
	struct sigevent sev;
	struct itimerspec its;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = signo;
	sev._sigev_un._tid = tid;
	if (timer_create(thread_cpu_clock(tid), &sev, timer) < 0)
		return -1;
	its.it_interval.tv_sec = period_ns / 1000000000L;
	its.it_interval.tv_nsec = period_ns % 1000000000L;
	its.it_value = its.it_interval;
	if (timer_settime(*timer, 0, &its, NULL) < 0) {
		int e = errno;
		timer_delete(*timer);
		errno = e;
		return -1;
	}
	return 0;
}

/* Is the fd still the perf event we opened? The program may have closed and reused it. */
static int perf_fd_is_ours(int fd, uint64_t id)
{
	uint64_t now = 0;
	return ioctl(fd, PERF_EVENT_IOC_ID, &now) == 0 && now == id;
}

static uint64_t thread_cpu_now(struct rt_thread *t)
{
	uint64_t v = 0;

	if (t->fd >= 0) {
		if (!perf_fd_is_ours(t->fd, t->perf_id) || read(t->fd, &v, sizeof(v)) != sizeof(v))
			return 0;
		return v;
	}
	if (t->has_timer) {
		v = clock_ns(thread_cpu_clock(atomic_load(&t->tid)));
		return v > t->cpu_start ? v - t->cpu_start : 0;
	}
	return 0;
}

/* Caller holds S.lock. */
static int thread_arm(struct rt_thread *t)
{
	int tid = atomic_load(&t->tid);

	if (S.timer == SAMPLER_TIMER_PERF) {
		t->fd = perf_open(tid, S.period_ns, S.signo, &t->perf_id);
		if (t->fd < 0)
			goto failed;
	} else {
		t->cpu_start = clock_ns(thread_cpu_clock(tid));
		if (posix_open(tid, S.period_ns, S.signo, &t->timer) < 0)
			goto failed;
		t->has_timer = 1;
	}
	atomic_fetch_add(&S.threads_armed, 1);
	return 0;
failed:
	atomic_fetch_add(&S.threads_failed, 1);
	return -1;
}

/* Caller holds S.lock. Counts the thread's CPU time and frees its timer. */
static void thread_disarm(struct rt_thread *t)
{
	S.cpu_closed += thread_cpu_now(t);
	if (t->fd >= 0) {
		if (perf_fd_is_ours(t->fd, t->perf_id)) {
			ioctl(t->fd, PERF_EVENT_IOC_DISABLE, 0);
			close(t->fd);
		}
		t->fd = -1;
	}
	if (t->has_timer) {
		timer_delete(t->timer);
		t->has_timer = 0;
	}
}

static int thread_blocks_signal(void)
{
	sigset_t set;
	return pthread_sigmask(SIG_BLOCK, NULL, &set) == 0 && sigismember(&set, S.signo) == 1;
}

/* Another thread's blocked mask, from /proc/self/task/TID/status (SigBlk: hex). */
static int tid_blocks_signal(int tid, int signo)
{
	char path[64], buf[2048], *p;
	unsigned long long mask;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "SigBlk:");
	if (!p)
		return 0;
	mask = strtoull(p + 7, NULL, 16);
	return signo <= 64 && (mask >> (signo - 1)) & 1;
}

static void set_stack_bounds(struct rt_thread *t)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		t->stack_lo = (uintptr_t)addr;
		atomic_store(&t->stack_hi, (uintptr_t)addr + size);
	}
	pthread_attr_destroy(&attr);
}

int sampler_thread_register(void)
{
	struct rt_thread *t;
	int tid = my_tid(), ret = 0;

	pthread_mutex_lock(&S.lock);
	if (!tls_internal && !atomic_load(&S.active))
		goto cleanup;
	t = thread_find(tid);
	if (t) {
		/* Found by the start-up scan: take over the slot and learn the stack. */
		if (!t->stack_lo)
			set_stack_bounds(t);
		tls_self = t;
		goto cleanup;
	}
	t = thread_alloc(tid);
	if (!t) {
		atomic_fetch_add(&S.threads_failed, 1);
		ret = error("more than %d threads: thread %d is not profiled",
			    SAMPLER_MAX_THREADS, tid);
		goto cleanup;
	}
	tls_self = t;
	if (tls_internal) {
		t->internal = 1;
		goto cleanup;
	}
	set_stack_bounds(t);
	if (thread_blocks_signal()) {
		t->blocked = 1;
		atomic_fetch_add(&S.threads_blocked, 1);
		goto cleanup;
	}
	ret = thread_arm(t);
cleanup:
	pthread_mutex_unlock(&S.lock);
	return ret;
}

void sampler_thread_unregister(void)
{
	struct rt_thread *t;

	pthread_mutex_lock(&S.lock);
	t = thread_find(my_tid());
	if (t) {
		thread_disarm(t);
		atomic_store(&t->tid, 0);
	}
	tls_self = NULL;
	pthread_mutex_unlock(&S.lock);
}

int sampler_thread_set_internal(int internal)
{
	int old = tls_internal;
	tls_internal = internal;
	return old;
}

int sampler_thread_is_internal(void)
{
	return tls_internal;
}

/* ---- unwinding ---- */

/*
 * Where the leaf's return address is when the sample hit a prologue or an
 * epilogue, where rbp still holds the caller's frame and the frame walk
 * would skip the caller: 1 = at [sp] (at endbr64, push %rbp, or ret),
 * 2 = at [sp+8] (at mov %rsp,%rbp, after the push); 0 = in the body.
 * The code bytes are read with process_vm_readv on ourselves, which fails
 * cleanly instead of faulting if pc is not readable.
 */
static int leaf_ret_slot(uintptr_t pc)
{
#if defined(__x86_64__)
	unsigned char c[4];
	struct iovec local = { c, sizeof(c) }, remote = { (void *)pc, sizeof(c) };

	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)sizeof(c))
		return 0;
	if (c[0] == 0x55 || c[0] == 0xc3 ||
	    (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa))
		return 1;
	if (c[0] == 0x48 && ((c[1] == 0x89 && c[2] == 0xe5) || (c[1] == 0x8b && c[2] == 0xec)))
		return 2;
#else
	(void)pc;
#endif
	return 0;
}

int sampler_unwind_fp(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t stack_hi,
		      uintptr_t *out, int max)
{
	const uintptr_t rec = 2 * sizeof(uintptr_t);
	uintptr_t lo = sp;
	int n = 0, slot;

	if (max <= 0)
		return 0;
	out[n++] = pc;
	if (stack_hi < rec || sp >= stack_hi)
		return n;
	if (n < max && (slot = leaf_ret_slot(pc)) != 0) {
		uintptr_t at = sp + (uintptr_t)(slot - 1) * sizeof(uintptr_t), ret;
		if (!(at & (sizeof(uintptr_t) - 1)) && at <= stack_hi - sizeof(uintptr_t)) {
			ret = *(const volatile uintptr_t *)at;
			if (ret >= 4096)
				out[n++] = ret - 1;
		}
	}
	while (n < max) {
		const volatile uintptr_t *frame;
		uintptr_t next, ret;

		/* The whole record must lie in the mapped part [sp, stack_hi) of the stack. */
		if (fp < lo || fp > stack_hi - rec || (fp & (sizeof(uintptr_t) - 1)))
			break;
		frame = (const volatile uintptr_t *)fp;
		next = frame[0];
		ret = frame[1];
		if (ret < 4096)
			break;
		out[n++] = ret - 1;
		/* Frames grow towards higher addresses; anything else is a broken chain. */
		if (next <= fp)
			break;
		lo = fp + rec;
		fp = next;
	}
	return n;
}

static int unwind_libunwind(ucontext_t *uc, uintptr_t *out, int max)
{
	unw_cursor_t c;
	int n = 0;

	if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0)
		return 0;
	do {
		unw_word_t ip;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		out[n] = n == 0 ? (uintptr_t)ip : (uintptr_t)ip - 1;
		n++;
	} while (n < max && unw_step(&c) > 0);
	return n;
}

uintptr_t sampler_maps_find_end(int fd, uintptr_t addr)
{
	char buf[1024];
	uintptr_t start = 0, end = 0;
	int state = 0; /* 0: start, 1: end, 2: rest of line */

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

			if (c == '\n') {
				state = 0;
				start = end = 0;
			} else if (state == 0) {
				if (v >= 0)
					start = start * 16 + (uintptr_t)v;
				else
					state = c == '-' ? 1 : 2;
			} else if (state == 1) {
				if (v >= 0) {
					end = end * 16 + (uintptr_t)v;
				} else {
					if (start <= addr && addr < end)
						return end;
					state = 2;
				}
			}
		}
	}
}

/* In the handler: the thread's stack end, looked up once for threads found by the scan. */
static uintptr_t stack_hi_of(struct rt_thread *t, uintptr_t sp)
{
	uintptr_t hi = atomic_load_explicit(&t->stack_hi, memory_order_relaxed);

	if (hi == 0) {
		int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			hi = sampler_maps_find_end(fd, sp);
			close(fd);
		}
		if (!hi)
			hi = 1;
		atomic_store_explicit(&t->stack_hi, hi, memory_order_relaxed);
	}
	return hi;
}

static struct rt_thread *handler_self(int tid)
{
	struct rt_thread *t = tls_self;
	int hi;

	if (t && atomic_load_explicit(&t->tid, memory_order_relaxed) == tid)
		return t;
	hi = atomic_load_explicit(&S.hiwater, memory_order_relaxed);
	for (int i = 0; i < hi; i++) {
		if (atomic_load_explicit(&S.threads[i].tid, memory_order_relaxed) == tid) {
			tls_self = &S.threads[i];
			return tls_self;
		}
	}
	return NULL;
}

static void sampler_handler(int sig, siginfo_t *si, void *ucv)
{
	int saved_errno = errno;
	ucontext_t *uc = ucv;
	struct sampler_record *rec;
	struct rt_thread *t;
	uintptr_t pc, fp, sp, hi = 0;
	uint64_t ticket;
	int tid, n;

	(void)sig;
	atomic_fetch_add(&S.in_handler, 1);
	/* Only our kernel timers: kill()/sigqueue()/tgkill() have si_code <= 0 (SI_TIMER is -2). */
	if (!atomic_load_explicit(&S.active, memory_order_acquire) || !uc ||
	    (si->si_code <= 0 && si->si_code != SI_TIMER))
		goto out;
#if defined(__x86_64__)
	pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
	sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
	pc = (uintptr_t)uc->uc_mcontext.pc;
	fp = (uintptr_t)uc->uc_mcontext.regs[29];
	sp = (uintptr_t)uc->uc_mcontext.sp;
#else
#error "libcpgo: unsupported architecture (x86_64 and aarch64 only)"
#endif
	tid = my_tid();
	t = handler_self(tid);
	if (t) {
		hi = stack_hi_of(t, sp);
		/* On an alternate signal stack (or unknown): no walk, the leaf only. */
		if ((t->stack_lo && sp < t->stack_lo) || sp >= hi)
			hi = 0;
	}
	rec = sampler_ring_reserve(S.ring, &ticket);
	if (!rec) {
		atomic_fetch_add_explicit(&S.lost, 1, memory_order_relaxed);
		goto out;
	}
	rec->tid = (uint32_t)tid;
	rec->weight = 1;
	if (si->si_code == SI_TIMER && si->si_overrun > 0)
		rec->weight += (uint64_t)si->si_overrun;
	n = 0;
	if (S.unwind != SAMPLER_UNWIND_LIBUNWIND)
		n = sampler_unwind_fp(pc, fp, sp, hi, rec->pc, SAMPLER_MAX_DEPTH);
	if (S.unwind == SAMPLER_UNWIND_LIBUNWIND || (S.unwind == SAMPLER_UNWIND_AUTO && n < 2)) {
		int m = unwind_libunwind(uc, rec->pc, SAMPLER_MAX_DEPTH);
		if (m > 0) {
			n = m;
			atomic_fetch_add_explicit(&S.libunwind, 1, memory_order_relaxed);
		} else if (n == 0) {
			rec->pc[0] = pc;
			n = 1;
		}
	}
	rec->depth = (uint32_t)n;
	sampler_ring_commit(S.ring, ticket);
	atomic_fetch_add_explicit(&S.samples, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&S.periods, rec->weight, memory_order_relaxed);
out:
	atomic_fetch_sub(&S.in_handler, 1);
	errno = saved_errno;
}

/* ---- start / stop ---- */

static int handler_is(const struct sigaction *sa, void (*fn)(int, siginfo_t *, void *))
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == fn;
}

static int signal_is_free(int signo)
{
	struct sigaction sa;
	if (sigaction(signo, NULL, &sa) < 0)
		return 0;
	if (sa.sa_flags & SA_SIGINFO)
		return sa.sa_sigaction == NULL;
	return sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN;
}

static int choose_signal(int requested)
{
	if (requested) {
		if (requested < 1 || requested >= NSIG || requested == SIGKILL || requested == SIGSTOP)
			return error("CPGO_SIGNAL=%d is not a usable signal number", requested);
		if (!signal_is_free(requested))
			return error("signal %d (CPGO_SIGNAL) already has a handler in this program; "
				     "pick a free one", requested);
		return requested;
	}
	/*
	 * SIGPROF first: a classic signal is pending at most once, so a thread
	 * that blocks it cannot pile up queued signals. Programs that already
	 * handle SIGPROF (another profiler) get a free realtime signal.
	 */
	if (signal_is_free(SIGPROF))
		return SIGPROF;
	for (int s = SIGRTMIN + 4; s <= SIGRTMAX - 4; s++)
		if (signal_is_free(s))
			return s;
	return error("SIGPROF and every realtime signal have handlers in this program; "
		     "set CPGO_SIGNAL to a signal libcpgo may use");
}

static void scan_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);
		struct rt_thread *t;

		if (tid <= 0 || thread_find(tid))
			continue;
		t = thread_alloc(tid);
		if (!t) {
			atomic_fetch_add(&S.threads_failed, 1);
			continue;
		}
		if (tid_blocks_signal(tid, S.signo)) {
			t->blocked = 1;
			atomic_fetch_add(&S.threads_blocked, 1);
			continue;
		}
		thread_arm(t);
	}
	closedir(d);
}

static void restore_signal(void)
{
	struct sigaction cur, ign;

	if (sigaction(S.signo, NULL, &cur) < 0)
		return;
	if (!handler_is(&cur, sampler_handler)) {
		/* The program installed its own handler meanwhile: it keeps it. */
		S.handler_replaced = 1;
		return;
	}
	/* SIG_IGN discards signals still pending, which SIG_DFL would turn into a kill. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(S.signo, &ign, NULL);
	if (!(S.old_sa.sa_flags & SA_SIGINFO) && S.old_sa.sa_handler == SIG_DFL) {
		/*
		 * A perf event's signal can still be raised shortly after its fd
		 * is closed (the kernel sends it from deferred work). Under SIG_DFL
		 * that kills the host (seen once in ~40 profiled runs of zstd), so:
		 * at exit the signal stays ignored, and otherwise late signals get
		 * a grace period to arrive, ignored, before the default returns.
		 */
		if (atomic_load(&S.exiting))
			return;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	sigaction(S.signo, &S.old_sa, NULL);
}

void sampler_set_exiting(void)
{
	atomic_store(&S.exiting, 1);
}

int sampler_start(const struct sampler_config *cfg)
{
	struct sigaction sa;
	struct rt_thread *self;
	int hz = cfg->hz, signo, ret = -1, tid = my_tid();
	uint64_t id;

	pthread_mutex_lock(&S.lock);
	if (atomic_load(&S.active)) {
		error("the profiler is already running");
		goto cleanup;
	}
	if (hz <= 0 || hz > SAMPLER_MAX_HZ) {
		error("sampling rate %d Hz is out of range (1..%d)", hz, SAMPLER_MAX_HZ);
		goto cleanup;
	}
	signo = choose_signal(cfg->signo);
	if (signo < 0)
		goto cleanup;
	if (!S.ring && !(S.ring = sampler_ring_new(SAMPLER_RING_SLOTS)))
		goto cleanup;
	S.signo = signo;
	S.pid = getpid();
	S.hz = hz;
	S.period_ns = 1000000000L / hz;
	S.unwind = cfg->unwind;
	S.handler_replaced = 0;

	if (S.unwind != SAMPLER_UNWIND_FP) {
		/* libunwind initializes itself lazily; do it here, not in the handler. */
		void *dummy[4];
		unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
		unw_backtrace(dummy, 4);
	}

	/*
	 * The handler goes in before any timer exists, the probe's included: a
	 * probe event can fire before it is closed, and under SIG_DFL that
	 * signal would kill the host. The handler ignores it (not active yet).
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sampler_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, &S.old_sa) < 0) {
		error_errno("cannot install the handler for signal %d", signo);
		goto cleanup;
	}

	/* Probe perf events on this thread; fall back to POSIX CPU timers. */
	S.timer = SAMPLER_TIMER_POSIX;
	if (cfg->timer != SAMPLER_TIMER_POSIX) {
		int fd = perf_open(tid, S.period_ns, signo, &id);
		if (fd >= 0) {
			close(fd);
			S.timer = SAMPLER_TIMER_PERF;
		} else if (cfg->timer == SAMPLER_TIMER_PERF) {
			error_errno("perf_event_open(task-clock) failed (check "
				    "/proc/sys/kernel/perf_event_paranoid, seccomp; or use "
				    "CPGO_TIMER=posix)");
			restore_signal();
			goto cleanup;
		}
	}
	atomic_store(&S.active, 1);

	/* This thread with its exact stack, then every other thread that exists now. */
	self = thread_find(tid);
	if (!self)
		self = thread_alloc(tid);
	if (self && !self->internal) {
		tls_self = self;
		set_stack_bounds(self);
		if (thread_blocks_signal()) {
			self->blocked = 1;
			atomic_fetch_add(&S.threads_blocked, 1);
		} else if (thread_arm(self) < 0) {
			error_errno("cannot start the CPU timer of thread %d", tid);
			atomic_store(&S.active, 0);
			atomic_store(&self->tid, 0);
			restore_signal();
			goto cleanup;
		}
	}
	scan_threads();
	ret = 0;
cleanup:
	pthread_mutex_unlock(&S.lock);
	return ret;
}

/*
 * With S.lock held and S.active set: stops every thread's timer (forgetting
 * the threads when `forget`), lets handlers still running in other threads
 * finish, and gives the signal back (pending ones are discarded).
 */
static void disarm_all_locked(int forget)
{
	int hi;

	atomic_store(&S.active, 0);
	hi = atomic_load(&S.hiwater);
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &S.threads[i];
		if (!atomic_load(&t->tid) || t->internal)
			continue;
		thread_disarm(t);
		if (forget)
			atomic_store(&t->tid, 0);
	}
}

static void quiesce_locked(int forget)
{
	disarm_all_locked(forget);
	for (int i = 0; i < 2000 && atomic_load(&S.in_handler); i++) {
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	restore_signal();
}

int sampler_stop(void)
{
	pthread_mutex_lock(&S.lock);
	if (atomic_load(&S.active))
		quiesce_locked(1);
	pthread_mutex_unlock(&S.lock);
	return 0;
}

int sampler_exec_prepare(void)
{
	/*
	 * A vfork() child shares our memory but not our timers or pending
	 * signals: it must leave the parent's state alone (and its lock free).
	 */
	if (!atomic_load(&S.active) || getpid() != S.pid)
		return 0;
	pthread_mutex_lock(&S.lock);
	if (!atomic_load(&S.active)) {
		pthread_mutex_unlock(&S.lock);
		return 0;
	}
	/* Pending signals survive exec() and would meet SIG_DFL in the new image. */
	quiesce_locked(0);
	return 1; /* S.lock stays held: exec() either replaces us or sampler_exec_failed() */
}

void sampler_exec_failed(int paused)
{
	struct sigaction sa;
	int hi;

	if (!paused)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sampler_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (!S.handler_replaced && sigaction(S.signo, &sa, NULL) == 0) {
		atomic_store(&S.active, 1);
		hi = atomic_load(&S.hiwater);
		for (int i = 0; i < hi; i++) {
			struct rt_thread *t = &S.threads[i];
			if (atomic_load(&t->tid) && !t->internal && !t->blocked)
				thread_arm(t);
		}
	}
	pthread_mutex_unlock(&S.lock);
}

int sampler_check_handler(void)
{
	struct sigaction cur;
	int replaced = 0;

	pthread_mutex_lock(&S.lock);
	if (!atomic_load(&S.active) || sigaction(S.signo, NULL, &cur) < 0 ||
	    handler_is(&cur, sampler_handler))
		goto cleanup;
	/* Our timers would now call the program's handler: stop them, leave its handler be. */
	replaced = 1;
	S.handler_replaced = 1;
	disarm_all_locked(1);
cleanup:
	pthread_mutex_unlock(&S.lock);
	return replaced;
}

int sampler_running(void)
{
	return atomic_load(&S.active);
}

int sampler_signal(void)
{
	return atomic_load(&S.active) ? S.signo : 0;
}

void sampler_get_info(struct sampler_info *info)
{
	struct sigaction cur;

	pthread_mutex_lock(&S.lock);
	info->hz = S.hz;
	info->signo = S.signo;
	info->timer = S.timer;
	info->unwind = S.unwind;
	info->handler_replaced = S.handler_replaced;
	if (atomic_load(&S.active) && sigaction(S.signo, NULL, &cur) == 0 &&
	    !handler_is(&cur, sampler_handler))
		info->handler_replaced = 1;
	pthread_mutex_unlock(&S.lock);
}

void sampler_get_stats(struct sampler_stats *st)
{
	int hi;

	pthread_mutex_lock(&S.lock);
	st->samples = atomic_load(&S.samples);
	st->periods = atomic_load(&S.periods);
	st->lost = atomic_load(&S.lost);
	st->libunwind = atomic_load(&S.libunwind);
	st->threads = atomic_load(&S.threads_armed);
	st->threads_failed = atomic_load(&S.threads_failed);
	st->threads_blocked = atomic_load(&S.threads_blocked);
	st->cpu_ns = S.cpu_closed;
	hi = atomic_load(&S.hiwater);
	for (int i = 0; i < hi; i++)
		if (atomic_load(&S.threads[i].tid) && !S.threads[i].internal)
			st->cpu_ns += thread_cpu_now(&S.threads[i]);
	pthread_mutex_unlock(&S.lock);
}

size_t sampler_drain(void (*cb)(const struct sampler_record *r, void *arg), void *arg)
{
	if (!S.ring)
		return 0;
	return sampler_ring_drain(S.ring, cb, arg);
}

void sampler_atfork_prepare(void)
{
	pthread_mutex_lock(&S.lock);
}

void sampler_atfork_parent(void)
{
	pthread_mutex_unlock(&S.lock);
}

void sampler_atfork_child(void)
{
	int was_active = atomic_load(&S.active), hi = atomic_load(&S.hiwater);

	pthread_mutex_init(&S.lock, NULL);
	atomic_store(&S.active, 0);
	atomic_store(&S.in_handler, 0);
	tls_tid = 0;
	tls_self = NULL;
	/* The perf fds are copies of the parent's events: they still count the parent. */
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &S.threads[i];
		if (atomic_load(&t->tid) && t->fd >= 0 && perf_fd_is_ours(t->fd, t->perf_id))
			close(t->fd);
		atomic_store(&t->tid, 0);
	}
	atomic_store(&S.hiwater, 0);
	if (was_active)
		restore_signal();
	if (S.ring)
		ring_reset(S.ring);
	S.cpu_closed = 0;
	atomic_store(&S.samples, 0);
	atomic_store(&S.periods, 0);
	atomic_store(&S.lost, 0);
	atomic_store(&S.libunwind, 0);
	atomic_store(&S.threads_armed, 0);
	atomic_store(&S.threads_failed, 0);
	atomic_store(&S.threads_blocked, 0);
}
