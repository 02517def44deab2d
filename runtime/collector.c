/*
 * Sessions and the drain thread (see collector.h). Nothing here runs in
 * the signal handler.
 */
#include "collector.h"

#include "cfitab.h"
#include "interpose.h"
#include "rtprofile.h"
#include "stacks.h"
#include "threads.h"
#include "util/buf.h"
#include "util/error.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Profiles collected at once (whole run, cpgo_start, HTTP and a margin). */
#define COLLECTOR_MAX_SESSIONS 8
/*
 * Where the samples of unloaded objects are moved: above every user-space
 * address, one 4 GiB slot per unloaded mapping.
 */
#define COLLECTOR_RETIRED_BASE ((uintptr_t)1 << 60)
#define COLLECTOR_RETIRED_SLOT ((uintptr_t)1 << 32)

struct collector_session {
	struct stacks tab;
	struct sampler_stats base;
	int64_t start_wall, start_mono;
	int hz;
	uint64_t oom_lost;
	uint64_t unmapped_lost; /* samples that may lie in an unloaded object or its successor */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct collector_session *sessions[COLLECTOR_MAX_SESSIONS];
	int n_sessions;
	pthread_t drain;
	int drain_running, drain_stop;
	uint64_t drain_cpu_ns; /* the drain thread's CPU time, after its last pass */
	/* dlclose calls under way (collector_retire_begin): drains wait for their end. */
	int retiring;
	/* Unloaded mappings (kept while any session may hold their samples). */
	struct procmaps_file *retired;
	uintptr_t *retired_at;
	size_t n_retired, alloc_retired, alloc_retired_at;
} C = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void drain_one(const struct sample_record *r, void *arg)
{
	(void)arg;
	for (int i = 0; i < C.n_sessions; i++) {
		struct collector_session *s = C.sessions[i];
		if (stacks_add(&s->tab, r->pc, r->depth, 1, r->weight) < 0)
			s->oom_lost++;
	}
}

/* Caller holds C.lock: every ring into every session, with the tables as they are. */
static void drain_rings_locked(void)
{
	sampler_drain(drain_one, NULL);
}

/* Caller holds C.lock: objects the loader added since, so that their samples can be unwound. */
static void sync_tables_locked(void)
{
	struct sampler_info info;

	sampler_get_info(&info);
	if (sampler_running() && info.unwind == SAMPLER_UNWIND_CFI)
		cfitab_sync(info.mode == SAMPLER_MODE_SIGNAL);
}

/* Caller holds C.lock. */
static void drain_now_locked(void)
{
	sync_tables_locked();
	drain_rings_locked();
}

/*
 * Caller holds C.lock. While an object is being unloaded, its samples stay
 * in the rings until collector_retire can tell them from those of an
 * object loaded at its address after it.
 */
static void drain_locked(void)
{
	if (!C.retiring)
		drain_now_locked();
}

int collector_active(void)
{
	int n;

	pthread_mutex_lock(&C.lock);
	n = C.n_sessions;
	pthread_mutex_unlock(&C.lock);
	return n > 0;
}

void collector_retire_begin(void)
{
	/*
	 * The object may have come and gone between two drains: the tables
	 * learn of it now, while it is loaded (they are built when its samples
	 * are unwound). No drain here: retire reads it all.
	 */
	pthread_mutex_lock(&C.lock);
	if (C.n_sessions && !C.retiring)
		sync_tables_locked();
	C.retiring++;
	pthread_mutex_unlock(&C.lock);
}

struct retire_ctx {
	const struct procmaps_file *gone;
	size_t n;
	char *reused; /* gone[i]'s range is mapped again (another object was loaded there) */
};

/* After the rings' marks: is an unloaded range mapped again (loaded over by another thread)? */
static void retire_scan(void *arg)
{
	struct retire_ctx *x = arg;
	struct procmaps_file *now = NULL;
	size_t n_now = 0;

	if (procmaps_files(&now, &n_now) < 0) {
		/* Unknown: every range counts as reused, its samples are dropped (counted). */
		cpgo_clear_error();
		memset(x->reused, 1, x->n);
		return;
	}
	for (size_t i = 0; i < x->n; i++)
		for (size_t k = 0; k < n_now; k++)
			if (now[k].start < x->gone[i].limit && x->gone[i].start < now[k].limit)
				x->reused[i] = 1;
	procmaps_files_free(now, n_now);
}

/*
 * A record from before the marks: booked as usual, unless one of its
 * addresses lies in a range that another object took over before the
 * marks, where it may be either object's: then it is counted as lost.
 */
static void retire_one(const struct sample_record *r, void *arg)
{
	struct retire_ctx *x = arg;

	for (size_t i = 0; i < x->n; i++) {
		if (!x->reused[i])
			continue;
		for (uint32_t d = 0; d < r->depth; d++) {
			if (r->pc[d] >= x->gone[i].start && r->pc[d] < x->gone[i].limit) {
				for (int k = 0; k < C.n_sessions; k++)
					C.sessions[k]->unmapped_lost += r->weight;
				return;
			}
		}
	}
	drain_one(r, NULL);
}

void collector_retire(const struct procmaps_file *gone, size_t n)
{
	struct retire_ctx x = { gone, n, NULL };

	pthread_mutex_lock(&C.lock);
	if (C.retiring)
		C.retiring--;
	if (!C.n_sessions || !n)
		goto out;
	/*
	 * Before the tables are synced (they still know the unloaded objects),
	 * what was recorded up to now; what comes after cannot be the unloaded
	 * objects' and is read by the next drain, with the new tables.
	 */
	x.reused = calloc(n, 1);
	if (!x.reused) {
		drain_rings_locked();
	} else {
		sampler_drain_to_mark(retire_one, &x, retire_scan);
		free(x.reused);
	}
	for (size_t i = 0; i < n; i++) {
		uintptr_t at = COLLECTOR_RETIRED_BASE + C.n_retired * COLLECTOR_RETIRED_SLOT;
		struct procmaps_file *f;

		if (gone[i].limit - gone[i].start > COLLECTOR_RETIRED_SLOT ||
		    CPGO_GROW(C.retired, C.alloc_retired, C.n_retired + 1) < 0 ||
		    CPGO_GROW(C.retired_at, C.alloc_retired_at, C.n_retired + 1) < 0)
			continue;
		f = &C.retired[C.n_retired];
		*f = gone[i];
		if (!(f->path = strdup(gone[i].path)))
			continue;
		C.retired_at[C.n_retired++] = at;
		for (int k = 0; k < C.n_sessions; k++)
			stacks_remap(&C.sessions[k]->tab, f->start, f->limit, at);
	}
out:
	pthread_mutex_unlock(&C.lock);
}

/* Caller holds C.lock, and no session is left. */
static void retired_free_locked(void)
{
	procmaps_files_free(C.retired, C.n_retired);
	free(C.retired_at);
	C.retired = NULL;
	C.retired_at = NULL;
	C.n_retired = C.alloc_retired = C.alloc_retired_at = 0;
}

static void *drain_main(void *arg)
{
	(void)arg;
	threads_set_internal(1);
	threads_register();
	pthread_mutex_lock(&C.lock);
	while (!C.drain_stop) {
		struct timespec ts;
		drain_locked();
		sampler_check_handler();
		C.drain_cpu_ns = (uint64_t)now_ns(CLOCK_THREAD_CPUTIME_ID);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += sampler_drain_interval_ns();
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&C.cond, &C.lock, &ts);
	}
	drain_locked();
	C.drain_cpu_ns = (uint64_t)now_ns(CLOCK_THREAD_CPUTIME_ID);
	pthread_mutex_unlock(&C.lock);
	threads_unregister();
	return NULL;
}

static int drain_start(void)
{
	sigset_t all, old;
	int old_internal, rc;

	C.drain_stop = 0;
	/* The drain thread takes no signals of the program's, and is never sampled. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	old_internal = threads_set_internal(1);
	rc = interpose_real_pthread_create(&C.drain, NULL, drain_main, NULL);
	threads_set_internal(old_internal);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		errno = rc;
		return error_errno("cannot start the profiler's drain thread");
	}
	C.drain_running = 1;
	return 0;
}

/* Caller holds C.lock; drops it while joining. */
static void drain_stop_locked(void)
{
	if (!C.drain_running)
		return;
	C.drain_stop = 1;
	pthread_cond_signal(&C.cond);
	pthread_mutex_unlock(&C.lock);
	pthread_join(C.drain, NULL);
	pthread_mutex_lock(&C.lock);
	C.drain_running = 0;
}

int collector_begin(struct collector_session **out, const struct sampler_config *cfg)
{
	struct collector_session *s;
	struct sampler_info info;
	int ret = -1, started = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return error("out of memory starting a profile");
	stacks_init(&s->tab);
	pthread_mutex_lock(&C.lock);
	if (C.n_sessions == COLLECTOR_MAX_SESSIONS) {
		error("%d profiles are already being collected", C.n_sessions);
		goto cleanup;
	}
	if (!sampler_running()) {
		if (sampler_start(cfg) < 0)
			goto cleanup;
		if (!C.drain_running && drain_start() < 0) {
			sampler_stop();
			goto cleanup;
		}
		started = 1;
	}
	/*
	 * Samples already in the ring belong to the sessions that were open
	 * before. A sampler started just now holds none of theirs, and draining
	 * here would unwind on this thread while it is sampled: the CFI tables
	 * of each object are built by the first unwind in it, and a profile of a
	 * short run was then mostly libcpgo building tables (62% of a 10 ms
	 * run's samples, and more samples than its CPU time allows). The drain
	 * thread, which is not sampled, does it.
	 */
	if (!started)
		drain_locked();
	sampler_get_info(&info);
	s->hz = info.hz;
	sampler_get_stats(&s->base);
	s->base.drain_cpu_ns = C.drain_cpu_ns;
	s->start_wall = now_ns(CLOCK_REALTIME);
	s->start_mono = now_ns(CLOCK_MONOTONIC);
	C.sessions[C.n_sessions++] = s;
	*out = s;
	s = NULL;
	ret = 0;
cleanup:
	pthread_mutex_unlock(&C.lock);
	free(s);
	return ret;
}

/* Caller holds C.lock. */
static void session_meta(struct collector_session *s, struct rtprofile_meta *m)
{
	struct sampler_stats now;

	memset(m, 0, sizeof(*m));
	sampler_get_info(&m->info);
	sampler_get_stats(&now);
	m->hz = s->hz;
	m->time_nanos = s->start_wall;
	m->duration_nanos = now_ns(CLOCK_MONOTONIC) - s->start_mono;
	m->stats.samples = now.samples - s->base.samples;
	m->stats.periods = now.periods - s->base.periods;
	m->stats.lost = now.lost - s->base.lost;
	m->stats.libunwind = now.libunwind - s->base.libunwind;
	m->stats.kernel_samples = now.kernel_samples - s->base.kernel_samples;
	m->stats.cpu_ns = now.cpu_ns > s->base.cpu_ns ? now.cpu_ns - s->base.cpu_ns : 0;
	m->stats.threads = now.threads - s->base.threads;
	m->stats.threads_failed = now.threads_failed - s->base.threads_failed;
	m->stats.threads_blocked = now.threads_blocked - s->base.threads_blocked;
	m->stats.stack_bytes_max = now.stack_bytes_max;
	m->stats.drain_cpu_ns = C.drain_cpu_ns > s->base.drain_cpu_ns ?
		C.drain_cpu_ns - s->base.drain_cpu_ns : 0;
	m->oom_lost = s->oom_lost;
	m->unmapped_lost = s->unmapped_lost;
}

/* Caller holds C.lock: m gets its own copy of the unloaded mappings (retired_release). */
static int retired_copy_locked(struct rtprofile_meta *m)
{
	struct procmaps_file *f = NULL;
	uintptr_t *at = NULL;
	size_t n = 0;

	if (C.n_retired) {
		f = calloc(C.n_retired, sizeof(*f));
		at = calloc(C.n_retired, sizeof(*at));
		if (!f || !at)
			goto fail;
		for (; n < C.n_retired; n++) {
			f[n] = C.retired[n];
			at[n] = C.retired_at[n];
			if (!(f[n].path = strdup(C.retired[n].path)))
				goto fail;
		}
	}
	m->retired = f;
	m->retired_at = at;
	m->n_retired = n;
	return 0;
fail:
	procmaps_files_free(f, n);
	free(at);
	return error("out of memory copying the unloaded mappings");
}

static void retired_release(struct rtprofile_meta *m)
{
	procmaps_files_free((struct procmaps_file *)m->retired, m->n_retired);
	free((uintptr_t *)m->retired_at);
}

int collector_snapshot(struct collector_session *s, struct cpgo_profile *p)
{
	struct stacks copy;
	struct rtprofile_meta m;
	int ret;

	pthread_mutex_lock(&C.lock);
	drain_locked();
	session_meta(s, &m);
	ret = stacks_copy(&copy, &s->tab);
	if (ret == 0 && (ret = retired_copy_locked(&m)) < 0)
		stacks_release(&copy);
	pthread_mutex_unlock(&C.lock);
	if (ret < 0)
		return -1;
	/* Built outside the lock: symbolizing takes long, the drain must go on. */
	ret = rtprofile_build(p, &copy, &m, 1);
	stacks_release(&copy);
	retired_release(&m);
	return ret;
}

int collector_finish(struct collector_session *s, struct cpgo_profile *p)
{
	struct rtprofile_meta m;
	int ret = 0, i;

	pthread_mutex_lock(&C.lock);
	for (i = 0; i < C.n_sessions && C.sessions[i] != s; i++)
		;
	if (i == C.n_sessions) {
		pthread_mutex_unlock(&C.lock);
		return error("no such profile session");
	}
	if (C.n_sessions == 1) {
		/* Stop the timers first: what follows (symbolizing) is not the program's work. */
		sampler_stop();
		drain_stop_locked();
	}
	/* The profile's end: a dlclose under way in another thread loses what is left. */
	drain_now_locked();
	/* Nothing samples or unwinds any more: tables of unloaded objects can go. */
	if (C.n_sessions == 1)
		cfitab_free_retired();
	session_meta(s, &m);
	if (p && retired_copy_locked(&m) < 0)
		ret = -1;
	C.sessions[i] = C.sessions[--C.n_sessions];
	if (!C.n_sessions)
		retired_free_locked();
	pthread_mutex_unlock(&C.lock);
	if (p && ret == 0)
		ret = rtprofile_build(p, &s->tab, &m, 1);
	if (p)
		retired_release(&m);
	stacks_release(&s->tab);
	free(s);
	return ret;
}

void collector_atfork_prepare(void)
{
	pthread_mutex_lock(&C.lock);
}

void collector_atfork_parent(void)
{
	pthread_mutex_unlock(&C.lock);
}

void collector_atfork_child(void)
{
	pthread_mutex_init(&C.lock, NULL);
	pthread_cond_init(&C.cond, NULL);
	for (int i = 0; i < C.n_sessions; i++) {
		stacks_release(&C.sessions[i]->tab);
		free(C.sessions[i]);
	}
	C.n_sessions = 0;
	retired_free_locked();
	C.drain_running = 0;
	C.drain_stop = 0;
	C.retiring = 0;
}
