/*
 * The thread registry and the per-thread CPU timers (see threads.h). The
 * registry is a fixed array so that the signal handler can look a thread up
 * without locks: a slot's tid is published last and cleared first.
 */
#include "threads.h"

#include "perfring.h"
#include "procmaps.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct rt_thread {
	_Atomic int tid; /* 0: free slot */
	int internal;    /* a libcpgo thread: never sampled */
	int blocked;     /* blocks the signal: not armed */
	_Atomic uintptr_t stack_hi; /* 0: unknown yet, 1: not found */
	uintptr_t stack_lo;
	struct perfring pr; /* ring mode; pr.fd -1 otherwise */
	int fd;          /* perf event of the signal mode, -1 */
	uint64_t perf_id;
	int has_timer;
	timer_t timer;
	uint64_t cpu_start; /* POSIX timers: thread CPU time when armed */
};

static struct {
	pthread_mutex_t lock;
	int armed; /* sampling runs: new threads get a timer */
	struct threads_arm arm;
	struct rt_thread threads[THREADS_MAX];
	_Atomic int hiwater; /* slots in use are below this */
	uint64_t cpu_closed; /* CPU time of threads already disarmed */
	_Atomic uint64_t n_armed, n_failed, n_blocked;
	struct perfring_counts ring_counts;
	size_t stack_bytes_max; /* the largest last stack copy size of a disarmed thread */
} T = { .lock = PTHREAD_MUTEX_INITIALIZER };

static __thread struct rt_thread *tls_self __attribute__((tls_model("initial-exec")));
static __thread int tls_tid __attribute__((tls_model("initial-exec")));
static __thread int tls_internal __attribute__((tls_model("initial-exec")));

int threads_tid(void)
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

/* Caller holds T.lock. */
static struct rt_thread *thread_find(int tid)
{
	int hi = atomic_load(&T.hiwater);
	for (int i = 0; i < hi; i++)
		if (atomic_load_explicit(&T.threads[i].tid, memory_order_relaxed) == tid)
			return &T.threads[i];
	return NULL;
}

static struct rt_thread *thread_alloc(int tid)
{
	for (int i = 0; i < THREADS_MAX; i++) {
		struct rt_thread *t = &T.threads[i];
		if (atomic_load(&t->tid))
			continue;
		memset((void *)&t->internal, 0, sizeof(*t) - offsetof(struct rt_thread, internal));
		t->fd = -1;
		t->pr.fd = -1;
		atomic_store(&t->stack_hi, 0);
		atomic_store(&t->tid, tid);
		if (i + 1 > atomic_load(&T.hiwater))
			atomic_store(&T.hiwater, i + 1);
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
	/*
	 * User time only: a period that ends in the kernel raises no signal
	 * (the signal would arrive on return to user space and book the
	 * kernel's time on the instruction after the system call). The count
	 * still runs, so the kernel's share is the periods that sent nothing.
	 */
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
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

int threads_probe_perf(long period_ns, int signo)
{
	uint64_t id;
	int fd = perf_open(threads_tid(), period_ns, signo, &id);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int threads_probe_ring(long period_ns, int hz, size_t stack_bytes, int *kernel)
{
	struct perfring r;

	if (perfring_open(&r, threads_tid(), period_ns, hz, stack_bytes) < 0)
		return -1;
	*kernel = r.kernel;
	perfring_close(&r);
	return 0;
}

/*
 * Caller holds T.lock, the ring just read: the thread's event is replaced
 * by one copying `bytes` of stack (events cannot change their copy size).
 * The old one is stopped and read out first; if the new one cannot be
 * opened (the locked-memory limit), the old one goes on.
 */
static void ring_resize(struct rt_thread *t, size_t bytes,
			void (*cb)(const struct sample_record *rec, void *arg), void *arg)
{
	struct perfring nr;
	uint64_t cpu = perfring_cpu_ns(&t->pr);

	ioctl(t->pr.fd, PERF_EVENT_IOC_DISABLE, 0);
	perfring_read(&t->pr, cb, arg, &T.ring_counts);
	if (perfring_open(&nr, atomic_load(&t->tid), T.arm.period_ns, T.arm.hz, bytes) < 0) {
		cpgo_clear_error();
		t->pr.adapt = 0;
		ioctl(t->pr.fd, PERF_EVENT_IOC_ENABLE, 0);
		return;
	}
	nr.adapt = 1;
	T.cpu_closed += cpu;
	perfring_close(&t->pr);
	t->pr = nr;
}

void threads_drain_rings_to_mark_locked(void (*cb)(const struct sample_record *rec, void *arg),
					void *arg, void (*between)(void *arg))
{
	static uint64_t marks[THREADS_MAX]; /* one caller at a time (threads.h) */
	int hi;

	hi = atomic_load(&T.hiwater);
	for (int i = 0; i < hi; i++)
		marks[i] = perfring_mark(&T.threads[i].pr);
	between(arg);
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &T.threads[i];
		if (atomic_load(&t->tid) && t->pr.fd >= 0)
			perfring_read_to(&t->pr, marks[i], cb, arg, &T.ring_counts);
	}
}

long threads_drain_rings(void (*cb)(const struct sample_record *rec, void *arg), void *arg)
{
	long next = 0;
	int hi;

	pthread_mutex_lock(&T.lock);
	hi = atomic_load(&T.hiwater);
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &T.threads[i];
		size_t want;

		if (!atomic_load(&t->tid) || t->pr.fd < 0)
			continue;
		perfring_read(&t->pr, cb, arg, &T.ring_counts);
		if ((want = perfring_stack_wanted(&t->pr)) != 0)
			ring_resize(t, want, cb, arg);
		if (t->pr.fd >= 0 && (!next || t->pr.drain_ns < next))
			next = t->pr.drain_ns;
	}
	/* A thread that starts before the next pass gets a ring with the first copy size. */
	if (next && T.arm.ring) {
		long fresh = perfring_drain_interval_ns(T.arm.hz, T.arm.stack_bytes);
		if (fresh < next)
			next = fresh;
	}
	pthread_mutex_unlock(&T.lock);
	return next;
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

	if (t->pr.fd >= 0)
		return perfring_cpu_ns(&t->pr);
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

/* Caller holds T.lock. */
static int thread_arm(struct rt_thread *t)
{
	int tid = atomic_load(&t->tid);

	if (T.arm.ring) {
		if (perfring_open(&t->pr, tid, T.arm.period_ns, T.arm.hz, T.arm.stack_bytes) < 0)
			goto failed;
		t->pr.adapt = T.arm.adapt_stack;
	} else if (T.arm.timer == THREADS_TIMER_PERF) {
		t->fd = perf_open(tid, T.arm.period_ns, T.arm.signo, &t->perf_id);
		if (t->fd < 0)
			goto failed;
	} else {
		t->cpu_start = clock_ns(thread_cpu_clock(tid));
		if (posix_open(tid, T.arm.period_ns, T.arm.signo, &t->timer) < 0)
			goto failed;
		t->has_timer = 1;
	}
	atomic_fetch_add(&T.n_armed, 1);
	return 0;
failed:
	atomic_fetch_add(&T.n_failed, 1);
	return -1;
}

/* Caller holds T.lock. Counts the thread's CPU time and frees its timer. */
static void thread_disarm(struct rt_thread *t)
{
	T.cpu_closed += thread_cpu_now(t);
	if (t->pr.fd >= 0) {
		if (t->pr.stack_bytes > T.stack_bytes_max)
			T.stack_bytes_max = t->pr.stack_bytes;
		perfring_read(&t->pr, T.arm.spill, T.arm.spill_arg, &T.ring_counts);
		perfring_close(&t->pr);
	}
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

static int thread_blocks_signal(int signo)
{
	sigset_t set;
	return pthread_sigmask(SIG_BLOCK, NULL, &set) == 0 && sigismember(&set, signo) == 1;
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

/* Caller holds T.lock. The calling thread, in slot t: arm it unless it blocks the signal. */
static int arm_self(struct rt_thread *t)
{
	set_stack_bounds(t);
	if (!T.arm.ring && thread_blocks_signal(T.arm.signo)) {
		t->blocked = 1;
		atomic_fetch_add(&T.n_blocked, 1);
		return 0;
	}
	return thread_arm(t);
}

int threads_register(void)
{
	struct rt_thread *t;
	int tid = threads_tid(), ret = 0;

	pthread_mutex_lock(&T.lock);
	if (!tls_internal && !T.armed)
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
		atomic_fetch_add(&T.n_failed, 1);
		ret = error("more than %d threads: thread %d is not profiled", THREADS_MAX, tid);
		goto cleanup;
	}
	tls_self = t;
	if (tls_internal) {
		t->internal = 1;
		goto cleanup;
	}
	ret = arm_self(t);
cleanup:
	pthread_mutex_unlock(&T.lock);
	return ret;
}

void threads_unregister(void)
{
	struct rt_thread *t;

	pthread_mutex_lock(&T.lock);
	t = thread_find(threads_tid());
	if (t) {
		thread_disarm(t);
		atomic_store(&t->tid, 0);
	}
	tls_self = NULL;
	pthread_mutex_unlock(&T.lock);
}

int threads_set_internal(int internal)
{
	int old = tls_internal;
	tls_internal = internal;
	return old;
}

int threads_is_internal(void)
{
	return tls_internal;
}

void threads_lock(void)
{
	pthread_mutex_lock(&T.lock);
}

void threads_unlock(void)
{
	pthread_mutex_unlock(&T.lock);
}

/* Caller holds T.lock: every thread of /proc/self/task not known yet. */
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
			atomic_fetch_add(&T.n_failed, 1);
			continue;
		}
		if (!T.arm.ring && tid_blocks_signal(tid, T.arm.signo)) {
			t->blocked = 1;
			atomic_fetch_add(&T.n_blocked, 1);
			continue;
		}
		thread_arm(t);
	}
	closedir(d);
}

int threads_arm_all_locked(const struct threads_arm *arm)
{
	int tid = threads_tid();
	struct rt_thread *self;

	T.arm = *arm;
	T.armed = 1;
	/* This thread with its exact stack, then every other thread that exists now. */
	self = thread_find(tid);
	if (!self)
		self = thread_alloc(tid);
	if (self && !self->internal) {
		tls_self = self;
		if (arm_self(self) < 0) {
			error_errno("cannot start the CPU timer of thread %d", tid);
			T.armed = 0;
			atomic_store(&self->tid, 0);
			return -1;
		}
	}
	scan_threads();
	return 0;
}

void threads_disarm_all_locked(int forget)
{
	int hi = atomic_load(&T.hiwater);

	T.armed = 0;
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &T.threads[i];
		if (!atomic_load(&t->tid) || t->internal)
			continue;
		thread_disarm(t);
		if (forget)
			atomic_store(&t->tid, 0);
	}
}

void threads_rearm_locked(void)
{
	int hi = atomic_load(&T.hiwater);

	T.armed = 1;
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &T.threads[i];
		if (atomic_load(&t->tid) && !t->internal && !t->blocked)
			thread_arm(t);
	}
}

void threads_get_stats(struct threads_stats *st)
{
	int hi;

	pthread_mutex_lock(&T.lock);
	st->armed = atomic_load(&T.n_armed);
	st->failed = atomic_load(&T.n_failed);
	st->blocked = atomic_load(&T.n_blocked);
	st->cpu_ns = T.cpu_closed;
	st->ring_samples = T.ring_counts.samples;
	st->ring_kernel_samples = T.ring_counts.kernel_samples;
	st->ring_lost = T.ring_counts.lost;
	st->stack_bytes_max = T.stack_bytes_max;
	hi = atomic_load(&T.hiwater);
	for (int i = 0; i < hi; i++) {
		if (!atomic_load(&T.threads[i].tid) || T.threads[i].internal)
			continue;
		st->cpu_ns += thread_cpu_now(&T.threads[i]);
		if (T.threads[i].pr.fd >= 0 && T.threads[i].pr.stack_bytes > st->stack_bytes_max)
			st->stack_bytes_max = T.threads[i].pr.stack_bytes;
	}
	pthread_mutex_unlock(&T.lock);
}

/* ---- in the signal handler ---- */

static struct rt_thread *handler_self(int tid)
{
	struct rt_thread *t = tls_self;
	int hi;

	if (t && atomic_load_explicit(&t->tid, memory_order_relaxed) == tid)
		return t;
	hi = atomic_load_explicit(&T.hiwater, memory_order_relaxed);
	for (int i = 0; i < hi; i++) {
		if (atomic_load_explicit(&T.threads[i].tid, memory_order_relaxed) == tid) {
			tls_self = &T.threads[i];
			return tls_self;
		}
	}
	return NULL;
}

uintptr_t threads_stack_end(int tid, uintptr_t sp)
{
	struct rt_thread *t = handler_self(tid);
	uintptr_t hi;

	if (!t)
		return 0;
	hi = atomic_load_explicit(&t->stack_hi, memory_order_relaxed);
	if (hi == 0) {
		/* A thread found by the scan: its stack's end, looked up once. */
		int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			hi = procmaps_find_end(fd, sp);
			close(fd);
		}
		if (!hi)
			hi = 1;
		atomic_store_explicit(&t->stack_hi, hi, memory_order_relaxed);
	}
	/* On an alternate signal stack (or unknown): no walk, the leaf only. */
	if ((t->stack_lo && sp < t->stack_lo) || sp >= hi)
		return 0;
	return hi;
}

void threads_atfork_child(void)
{
	int hi = atomic_load(&T.hiwater);

	pthread_mutex_init(&T.lock, NULL);
	T.armed = 0;
	tls_tid = 0;
	tls_self = NULL;
	/* The perf fds are copies of the parent's events: they still count the parent. */
	for (int i = 0; i < hi; i++) {
		struct rt_thread *t = &T.threads[i];
		if (atomic_load(&t->tid) && t->fd >= 0 && perf_fd_is_ours(t->fd, t->perf_id))
			close(t->fd);
		if (atomic_load(&t->tid))
			perfring_forget(&t->pr);
		atomic_store(&t->tid, 0);
	}
	atomic_store(&T.hiwater, 0);
	T.cpu_closed = 0;
	atomic_store(&T.n_armed, 0);
	atomic_store(&T.n_failed, 0);
	atomic_store(&T.n_blocked, 0);
	memset(&T.ring_counts, 0, sizeof(T.ring_counts));
}
