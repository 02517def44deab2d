/*
 * Timers and signals: the signal handler, choosing and giving back the
 * signal, start/stop around exec() and fork(). See sampler.h.
 */
#include "sampler.h"

#include "cfitab.h"
#include "perfring.h"
#include "threads.h"
#include "unwind.h"
#include "util/error.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Samples the ring holds between two drains (RING_DRAIN_INTERVAL_NS: 20 kHz on 40 threads). */
#define SAMPLER_RING_SLOTS 8192
/*
 * An executable this much of whose code (per thousand bytes) keeps a frame
 * pointer is walked by frame pointers; the rest is start-up code and the
 * stubs the compiler and the linker add without one (a quarter and more
 * of a small program). A build without frame pointers has next to none.
 */
#define SAMPLER_FP_PERMILLE 500

static struct {
	_Atomic int active;
	_Atomic int in_handler;
	_Atomic int exiting; /* set at exit: the signal is left ignored after stop */
	int signo;
	int hz;
	enum sampler_timer timer;
	enum sampler_unwind unwind; /* TABLES resolved to FP or CFI at start */
	enum sampler_mode mode; /* RING or SIGNAL while running */
	int kernel_visible;
	int handler_replaced;
	pid_t pid; /* the process that started sampling */
	struct sigaction old_sa;
	struct ring *ring;
	_Atomic uint64_t samples, periods, lost, libunwind;
	long drain_ns; /* how often the rings must be read (at start) */
	long ring_drain_ns; /* ... as the rings are now (the last drain's answer) */
} S;

static void sampler_handler(int sig, siginfo_t *si, void *ucv)
{
	int saved_errno = errno;
	ucontext_t *uc = ucv;
	struct sample_record *rec;
	uintptr_t pc, fp, sp, hi;
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
	tid = threads_tid();
	hi = threads_stack_end(tid, sp);
	rec = ring_reserve(S.ring, &ticket);
	if (!rec) {
		atomic_fetch_add_explicit(&S.lost, 1, memory_order_relaxed);
		goto out;
	}
	rec->tid = (uint32_t)tid;
	rec->weight = 1;
	if (si->si_code == SI_TIMER && si->si_overrun > 0)
		rec->weight += (uint64_t)si->si_overrun;
	n = 0;
	if (S.unwind == SAMPLER_UNWIND_CFI) {
		/* The live stack, [sp, hi): hi is 0 on an unknown or alternate stack. */
		n = unwind_cfi(pc, sp, fp, 0, (const unsigned char *)sp, sp, hi > sp ? hi - sp : 0,
			       rec->pc, SAMPLE_MAX_DEPTH, 0, NULL);
	} else if (S.unwind != SAMPLER_UNWIND_LIBUNWIND) {
		n = unwind_fp(pc, fp, sp, hi, rec->pc, SAMPLE_MAX_DEPTH);
	}
	if (S.unwind == SAMPLER_UNWIND_LIBUNWIND || (S.unwind == SAMPLER_UNWIND_AUTO && n < 2)) {
		int m = unwind_libunwind(uc, rec->pc, SAMPLE_MAX_DEPTH);
		if (m > 0) {
			n = m;
			atomic_fetch_add_explicit(&S.libunwind, 1, memory_order_relaxed);
		} else if (n == 0) {
			rec->pc[0] = pc;
			n = 1;
		}
	}
	rec->depth = (uint32_t)n;
	ring_commit(S.ring, ticket);
	atomic_fetch_add_explicit(&S.samples, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&S.periods, rec->weight, memory_order_relaxed);
out:
	atomic_fetch_sub(&S.in_handler, 1);
	errno = saved_errno;
}

/* ---- the signal ---- */

static int handler_is(const struct sigaction *sa, void (*fn)(int, siginfo_t *, void *))
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == fn;
}

static int install_handler(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sampler_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(S.signo, &sa, old);
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

static void restore_signal(void)
{
	struct sigaction cur, ign;

	if (S.mode == SAMPLER_MODE_RING || sigaction(S.signo, NULL, &cur) < 0)
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

/* Ring mode, a thread being disarmed: what is left in its ring goes to the sample ring. */
static void spill(const struct sample_record *rec, void *arg)
{
	struct sample_record *slot;
	uint64_t ticket;

	(void)arg;
	slot = ring_reserve(S.ring, &ticket);
	if (!slot) {
		atomic_fetch_add_explicit(&S.lost, 1, memory_order_relaxed);
		return;
	}
	slot->tid = rec->tid;
	slot->weight = rec->weight;
	slot->depth = rec->depth;
	memcpy(slot->pc, rec->pc, rec->depth * sizeof(rec->pc[0]));
	ring_commit(S.ring, ticket);
}

/*
 * Ring mode where the kernel allows it (no signal per sample, kernel time
 * seen as such); else a signal per sample. Sets S.mode, S.signo and arm.
 */
static int choose_mode(const struct sampler_config *cfg, struct threads_arm *arm)
{
	int signo;

	arm->ring = 0;
	arm->stack_bytes = 0;
	arm->adapt_stack = 0;
	if (cfg->mode != SAMPLER_MODE_SIGNAL && cfg->timer != SAMPLER_TIMER_POSIX &&
	    (S.unwind == SAMPLER_UNWIND_FP || S.unwind == SAMPLER_UNWIND_CFI)) {
		size_t stack = 0;
		if (S.unwind == SAMPLER_UNWIND_CFI)
			stack = cfg->stack_bytes > 0 ? (size_t)cfg->stack_bytes : PERFRING_CFI_STACK_BYTES;
		if (threads_probe_ring(arm->period_ns, arm->hz, stack, &S.kernel_visible) == 0) {
			S.mode = SAMPLER_MODE_RING;
			S.signo = arm->signo = 0;
			S.timer = SAMPLER_TIMER_PERF;
			S.drain_ns = perfring_drain_interval_ns(arm->hz, stack);
			arm->ring = 1;
			arm->stack_bytes = stack;
			/* CPGO_STACK_BYTES fixes the size; else each thread's follows its depth. */
			arm->adapt_stack = stack && cfg->stack_bytes <= 0;
			arm->timer = THREADS_TIMER_PERF;
			arm->spill = spill;
			return 0;
		}
		if (cfg->mode == SAMPLER_MODE_RING)
			return error_prefix("CPGO_MODE=ring (check "
					    "/proc/sys/kernel/perf_event_paranoid and seccomp, or "
					    "use CPGO_MODE=auto)");
	} else if (cfg->mode == SAMPLER_MODE_RING) {
		return error("CPGO_MODE=ring needs the perf timer and the frame-pointer or CFI "
			     "unwinder (unset CPGO_TIMER and CPGO_UNWIND)");
	}
	S.mode = SAMPLER_MODE_SIGNAL;
	S.drain_ns = RING_DRAIN_INTERVAL_NS;
	/* The handler cannot build tables: all of them now. */
	if (S.unwind == SAMPLER_UNWIND_CFI && cfitab_sync(1) < 0)
		return -1;
	S.kernel_visible = 0;
	signo = choose_signal(cfg->signo);
	if (signo < 0)
		return -1;
	S.signo = arm->signo = signo;
	if (S.unwind == SAMPLER_UNWIND_AUTO || S.unwind == SAMPLER_UNWIND_LIBUNWIND)
		unwind_libunwind_prepare();
	/*
	 * The handler goes in before any timer exists, the probe's included: a
	 * probe event can fire before it is closed, and under SIG_DFL that
	 * signal would kill the host. The handler ignores it (not active yet).
	 */
	if (install_handler(&S.old_sa) < 0)
		return error_errno("cannot install the handler for signal %d", signo);
	/* Probe perf events on this thread; fall back to POSIX CPU timers. */
	arm->timer = THREADS_TIMER_POSIX;
	if (cfg->timer != SAMPLER_TIMER_POSIX) {
		if (threads_probe_perf(arm->period_ns, signo) == 0) {
			arm->timer = THREADS_TIMER_PERF;
		} else if (cfg->timer == SAMPLER_TIMER_PERF) {
			error_errno("perf_event_open(task-clock) failed (check "
				    "/proc/sys/kernel/perf_event_paranoid, seccomp; or use "
				    "CPGO_TIMER=posix)");
			restore_signal();
			return -1;
		}
	}
	S.timer = arm->timer == THREADS_TIMER_PERF ? SAMPLER_TIMER_PERF : SAMPLER_TIMER_POSIX;
	return 0;
}

void sampler_set_exiting(void)
{
	atomic_store(&S.exiting, 1);
}

/* ---- start / stop ---- */

int sampler_start(const struct sampler_config *cfg)
{
	struct threads_arm arm;
	int hz = cfg->hz, ret = -1;

	threads_lock();
	if (atomic_load(&S.active)) {
		error("the profiler is already running");
		goto cleanup;
	}
	if (hz <= 0 || hz > CPGO_MAX_HZ) {
		error("sampling rate %d Hz is out of range (1..%d)", hz, CPGO_MAX_HZ);
		goto cleanup;
	}
	if (!S.ring && !(S.ring = ring_new(SAMPLER_RING_SLOTS)))
		goto cleanup;
	S.pid = getpid();
	S.hz = hz;
	S.unwind = cfg->unwind;
	if (S.unwind == SAMPLER_UNWIND_TABLES || S.unwind == SAMPLER_UNWIND_CFI) {
		if (cfitab_sync(0) < 0)
			goto cleanup;
		if (S.unwind == SAMPLER_UNWIND_TABLES)
			S.unwind = cfitab_exe_fp_permille() >= SAMPLER_FP_PERMILLE ? SAMPLER_UNWIND_FP
										  : SAMPLER_UNWIND_CFI;
	}
	S.handler_replaced = 0;
	memset(&arm, 0, sizeof(arm));
	arm.hz = hz;
	arm.period_ns = 1000000000L / hz;
	if (choose_mode(cfg, &arm) < 0)
		goto cleanup;
	atomic_store(&S.active, 1);
	if (threads_arm_all_locked(&arm) < 0) {
		atomic_store(&S.active, 0);
		restore_signal();
		goto cleanup;
	}
	ret = 0;
cleanup:
	threads_unlock();
	return ret;
}

/*
 * With the registry locked and S.active set: stops every thread's timer
 * (forgetting the threads when `forget`), lets handlers still running in
 * other threads finish, and gives the signal back (pending ones are discarded).
 */
static void quiesce_locked(int forget)
{
	atomic_store(&S.active, 0);
	threads_disarm_all_locked(forget);
	for (int i = 0; i < 2000 && atomic_load(&S.in_handler); i++) {
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	restore_signal();
}

int sampler_stop(void)
{
	threads_lock();
	if (atomic_load(&S.active))
		quiesce_locked(1);
	threads_unlock();
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
	threads_lock();
	if (!atomic_load(&S.active)) {
		threads_unlock();
		return 0;
	}
	/* Pending signals survive exec() and would meet SIG_DFL in the new image. */
	quiesce_locked(0);
	return 1; /* the lock stays held: exec() either replaces us or sampler_exec_failed() */
}

void sampler_exec_failed(int paused)
{
	if (!paused)
		return;
	if (S.mode == SAMPLER_MODE_RING || (!S.handler_replaced && install_handler(NULL) == 0)) {
		atomic_store(&S.active, 1);
		threads_rearm_locked();
	}
	threads_unlock();
}

int sampler_check_handler(void)
{
	struct sigaction cur;
	int replaced = 0;

	threads_lock();
	if (!atomic_load(&S.active) || S.mode == SAMPLER_MODE_RING ||
	    sigaction(S.signo, NULL, &cur) < 0 ||
	    handler_is(&cur, sampler_handler))
		goto cleanup;
	/* Our timers would now call the program's handler: stop them, leave its handler be. */
	replaced = 1;
	S.handler_replaced = 1;
	atomic_store(&S.active, 0);
	threads_disarm_all_locked(1);
cleanup:
	threads_unlock();
	return replaced;
}

int sampler_running(void)
{
	return atomic_load(&S.active);
}

int sampler_signal(void)
{
	return atomic_load(&S.active) && S.mode == SAMPLER_MODE_SIGNAL ? S.signo : 0;
}

void sampler_get_info(struct sampler_info *info)
{
	struct sigaction cur;

	threads_lock();
	info->hz = S.hz;
	info->signo = S.signo;
	info->timer = S.timer;
	info->unwind = S.unwind;
	info->mode = S.mode == SAMPLER_MODE_RING ? SAMPLER_MODE_RING : SAMPLER_MODE_SIGNAL;
	info->kernel_visible = S.kernel_visible;
	info->handler_replaced = S.handler_replaced;
	if (atomic_load(&S.active) && S.mode == SAMPLER_MODE_SIGNAL && sigaction(S.signo, NULL, &cur) == 0 &&
	    !handler_is(&cur, sampler_handler))
		info->handler_replaced = 1;
	threads_unlock();
}

void sampler_get_stats(struct sampler_stats *st)
{
	struct threads_stats ts;

	threads_get_stats(&ts);
	/* Ring-mode records count once read from a thread's ring (spilled ones included). */
	st->samples = atomic_load(&S.samples) + ts.ring_samples;
	st->periods = atomic_load(&S.periods) + ts.ring_samples;
	st->lost = atomic_load(&S.lost) + ts.ring_lost;
	st->libunwind = atomic_load(&S.libunwind);
	st->kernel_samples = ts.ring_kernel_samples;
	st->threads = ts.armed;
	st->threads_failed = ts.failed;
	st->threads_blocked = ts.blocked;
	st->cpu_ns = ts.cpu_ns;
	st->stack_bytes_max = ts.stack_bytes_max;
	st->drain_cpu_ns = 0; /* the collector's to fill */
}

long sampler_drain_interval_ns(void)
{
	if (S.mode == SAMPLER_MODE_RING && S.ring_drain_ns > 0)
		return S.ring_drain_ns;
	return S.drain_ns > 0 ? S.drain_ns : RING_DRAIN_INTERVAL_NS;
}

size_t sampler_drain(void (*cb)(const struct sample_record *r, void *arg), void *arg)
{
	size_t n;

	if (!S.ring)
		return 0;
	n = ring_drain(S.ring, cb, arg);
	if (S.mode == SAMPLER_MODE_RING)
		S.ring_drain_ns = threads_drain_rings(cb, arg);
	return n;
}

void sampler_drain_to_mark(void (*cb)(const struct sample_record *r, void *arg), void *arg,
			   void (*between)(void *arg))
{
	uint64_t mark;

	if (!S.ring)
		return;
	threads_lock();
	mark = ring_mark(S.ring);
	if (S.mode == SAMPLER_MODE_RING) {
		threads_drain_rings_to_mark_locked(cb, arg, between);
	} else {
		between(arg);
	}
	ring_drain_to(S.ring, mark, cb, arg);
	threads_unlock();
}

void sampler_atfork_prepare(void)
{
	threads_lock();
}

void sampler_atfork_parent(void)
{
	threads_unlock();
}

void sampler_atfork_child(void)
{
	int was_active = atomic_load(&S.active);

	threads_atfork_child();
	atomic_store(&S.active, 0);
	atomic_store(&S.in_handler, 0);
	if (was_active)
		restore_signal();
	if (S.ring)
		ring_reset(S.ring);
	atomic_store(&S.samples, 0);
	atomic_store(&S.periods, 0);
	atomic_store(&S.lost, 0);
	atomic_store(&S.libunwind, 0);
}
