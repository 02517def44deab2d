/*
 * Sessions, the drain thread, stack aggregation and pprof building.
 * Nothing here runs in the signal handler.
 */
#include "collector.h"

#include "util/buf.h"
#include "util/error.h"
#include "elf/symbolize.h"

#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COLLECTOR_MAX_SESSIONS 8
#define DRAIN_INTERVAL_NS 10000000L

/* ---- stack table ---- */

static uint64_t hash_pcs(const uintptr_t *pc, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ n;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint64_t)pc[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

void collector_stacks_init(struct collector_stacks *t)
{
	memset(t, 0, sizeof(*t));
}

void collector_stacks_release(struct collector_stacks *t)
{
	free(t->v);
	free(t->pcs);
	collector_stacks_init(t);
}

static int stacks_rehash(struct collector_stacks *t, size_t ncap)
{
	struct collector_stack *nv;
	size_t bytes;

	if (cpgo_mul_overflows(ncap, sizeof(*nv), &bytes))
		return error("stack table of %zu entries is too large", ncap);
	nv = calloc(ncap, sizeof(*nv));
	if (!nv)
		return error("out of memory growing the stack table to %zu bytes", bytes);
	for (size_t i = 0; i < t->cap; i++) {
		struct collector_stack *e = &t->v[i];
		size_t j;
		if (!e->depth)
			continue;
		for (j = e->hash & (ncap - 1); nv[j].depth; j = (j + 1) & (ncap - 1))
			;
		nv[j] = *e;
	}
	free(t->v);
	t->v = nv;
	t->cap = ncap;
	return 0;
}

int collector_stacks_add(struct collector_stacks *t, const uintptr_t *pc, size_t depth,
			 uint64_t count, uint64_t periods)
{
	uint64_t h;
	size_t i;

	if (!depth)
		return 0;
	if (depth > SAMPLER_MAX_DEPTH)
		depth = SAMPLER_MAX_DEPTH;
	/* Keep the load factor under 1/2 so probes stay short. */
	if ((t->n + 1) * 2 > t->cap && stacks_rehash(t, t->cap ? t->cap * 2 : 1024) < 0)
		return -1;
	h = hash_pcs(pc, depth);
	for (i = h & (t->cap - 1); t->v[i].depth; i = (i + 1) & (t->cap - 1)) {
		struct collector_stack *e = &t->v[i];
		if (e->hash == h && e->depth == depth &&
		    !memcmp(t->pcs + e->off, pc, depth * sizeof(*pc))) {
			e->count += count;
			e->periods += periods;
			goto counted;
		}
	}
	if (CPGO_GROW(t->pcs, t->alloc_pcs, t->n_pcs + depth) < 0)
		return -1;
	memcpy(t->pcs + t->n_pcs, pc, depth * sizeof(*pc));
	t->v[i].hash = h;
	t->v[i].off = t->n_pcs;
	t->v[i].depth = (uint32_t)depth;
	t->v[i].count = count;
	t->v[i].periods = periods;
	t->n_pcs += depth;
	t->n++;
counted:
	t->samples += count;
	t->periods += periods;
	return 0;
}

static int stacks_copy(struct collector_stacks *dst, const struct collector_stacks *src)
{
	collector_stacks_init(dst);
	if (src->cap) {
		dst->v = malloc(src->cap * sizeof(*dst->v));
		if (!dst->v)
			return error("out of memory copying the stack table");
		memcpy(dst->v, src->v, src->cap * sizeof(*dst->v));
	}
	if (src->n_pcs) {
		dst->pcs = malloc(src->n_pcs * sizeof(*dst->pcs));
		if (!dst->pcs) {
			free(dst->v);
			dst->v = NULL;
			return error("out of memory copying the stack table");
		}
		memcpy(dst->pcs, src->pcs, src->n_pcs * sizeof(*dst->pcs));
	}
	dst->n = src->n;
	dst->cap = src->cap;
	dst->n_pcs = dst->alloc_pcs = src->n_pcs;
	dst->samples = src->samples;
	dst->periods = src->periods;
	return 0;
}

/* ---- mappings ---- */

struct rt_map {
	uintptr_t start, limit, offset;
	uint64_t id;
};

struct build_id_ctx {
	struct cpgo_profile *p;
	struct rt_map *maps;
	size_t n;
};

/* Build ids come from the loaded objects' PT_NOTE segments: no file I/O. */
static int build_id_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build_id_ctx *c = arg;
	char hex[2 * 64 + 1];
	int found = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum && !found; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t namesz = (nh->n_namesz + 3) & ~(size_t)3;
			size_t descsz = (nh->n_descsz + 3) & ~(size_t)3;
			const unsigned char *desc = p + sizeof(*nh) + namesz;

			if (desc + descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4) && nh->n_descsz <= 64) {
				for (size_t k = 0; k < nh->n_descsz; k++)
					snprintf(hex + 2 * k, 3, "%02x", desc[k]);
				hex[2 * nh->n_descsz] = '\0';
				found = 1;
				break;
			}
			p = desc + descsz;
		}
	}
	if (!found)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo, hi;

		if (ph->p_type != PT_LOAD)
			continue;
		lo = info->dlpi_addr + ph->p_vaddr;
		hi = lo + ph->p_memsz;
		for (size_t k = 0; k < c->n; k++) {
			struct cpgo_mapping *m = &c->p->mappings[c->maps[k].id - 1];
			if (c->maps[k].start >= lo && c->maps[k].start < hi && !m->build_id)
				m->build_id = cpgo_profile_intern(c->p, hex);
		}
	}
	return 0;
}

static int map_cmp(const void *a, const void *b)
{
	const struct rt_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * One mapping per executable file-backed segment of /proc/self/maps, the
 * main executable's first (pprof's convention for the main binary).
 */
static int read_mappings(struct cpgo_profile *p, struct rt_map **out, size_t *n_out)
{
	char exe[4096], *line = NULL;
	size_t cap = 0, n = 0, alloc = 0;
	struct rt_map *maps = NULL;
	struct build_id_ctx ctx;
	ssize_t len, elen;
	FILE *f;
	int ret = -1;

	elen = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[elen > 0 ? elen : 0] = '\0';
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return error_errno("/proc/self/maps: cannot open");
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while ((len = getline(&line, &cap, f)) > 0) {
			unsigned long start, end, offset;
			char perms[8];
			int path_at = 0;
			struct cpgo_mapping m;
			const char *path;

			if (line[len - 1] == '\n')
				line[--len] = '\0';
			if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &offset,
				   &path_at) < 4 || !path_at)
				continue;
			path = line + path_at;
			if (!strchr(perms, 'x') || path[0] != '/')
				continue;
			if ((pass == 0) != !strcmp(path, exe))
				continue;
			memset(&m, 0, sizeof(m));
			m.memory_start = start;
			m.memory_limit = end;
			m.file_offset = offset;
			m.filename = cpgo_profile_intern(p, path);
			if (m.filename < 0 || CPGO_GROW(maps, alloc, n + 1) < 0)
				goto cleanup;
			maps[n].start = start;
			maps[n].limit = end;
			maps[n].offset = offset;
			maps[n].id = cpgo_profile_add_mapping(p, &m);
			if (!maps[n].id)
				goto cleanup;
			n++;
		}
	}
	ctx.p = p;
	ctx.maps = maps;
	ctx.n = n;
	dl_iterate_phdr(build_id_cb, &ctx);
	qsort(maps, n, sizeof(*maps), map_cmp);
	*out = maps;
	*n_out = n;
	maps = NULL;
	ret = 0;
cleanup:
	free(maps);
	free(line);
	fclose(f);
	return ret;
}

static uint64_t mapping_of(const struct rt_map *maps, size_t n, uintptr_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < maps[mid].start)
			hi = mid;
		else if (addr >= maps[mid].limit)
			lo = mid + 1;
		else
			return maps[mid].id;
	}
	return 0;
}

/* ---- building ---- */

static int add_comment(struct cpgo_profile *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int add_comment(struct cpgo_profile *p, const char *fmt, ...)
{
	char buf[512];
	int64_t idx;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	idx = cpgo_profile_intern(p, buf);
	if (idx < 0 || CPGO_GROW(p->comments, p->alloc_comment, p->n_comment + 1) < 0)
		return -1;
	p->comments[p->n_comment++] = idx;
	return 0;
}

static const char *signal_name(int signo, char *buf, size_t len)
{
	if (signo == SIGPROF)
		return "SIGPROF";
	if (signo >= SIGRTMIN && signo <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", signo - SIGRTMIN);
	else
		snprintf(buf, len, "signal %d", signo);
	return buf;
}

static int add_comments(struct cpgo_profile *p, const struct collector_meta *m)
{
	const struct sampler_stats *st = &m->stats;
	double cpu_s = (double)st->cpu_ns / 1e9;
	char sigbuf[32];
	const char *sig = signal_name(m->info.signo, sigbuf, sizeof(sigbuf));
	int r = 0;

	if (cpu_s > 0)
		r |= add_comment(p, "cpgo: requested %d Hz, achieved %.1f Hz (%llu samples in %.3f "
				 "CPU seconds of the sampled threads)", m->hz,
				 (double)st->samples / cpu_s, (unsigned long long)st->samples, cpu_s);
	else
		r |= add_comment(p, "cpgo: requested %d Hz, achieved rate unknown (%llu samples, no "
				 "CPU time measured)", m->hz, (unsigned long long)st->samples);
	r |= add_comment(p, "cpgo: timer %s, signal %s, unwinder %s",
			 m->info.timer == SAMPLER_TIMER_PERF ?
				 "perf_event task-clock" :
				 "timer_create thread CPU clock (fires at most at the kernel tick)",
			 sig,
			 m->info.unwind == SAMPLER_UNWIND_FP	    ? "frame pointers" :
			 m->info.unwind == SAMPLER_UNWIND_LIBUNWIND ? "libunwind" :
								      "frame pointers, libunwind fallback");
	r |= add_comment(p, "cpgo: addresses: leaf = interrupted PC, callers = return address - 1");
	if (st->libunwind)
		r |= add_comment(p, "cpgo: %llu samples unwound with libunwind",
				 (unsigned long long)st->libunwind);
	if (st->lost || m->oom_lost)
		r |= add_comment(p, "cpgo: lost %llu samples (sample buffer full: %llu, out of "
				 "memory: %llu)", (unsigned long long)(st->lost + m->oom_lost),
				 (unsigned long long)st->lost, (unsigned long long)m->oom_lost);
	if (st->threads_blocked)
		r |= add_comment(p, "cpgo: %llu threads block %s and were not sampled",
				 (unsigned long long)st->threads_blocked, sig);
	if (st->threads_failed)
		r |= add_comment(p, "cpgo: %llu threads could not get a CPU timer and were not "
				 "sampled", (unsigned long long)st->threads_failed);
	if (m->info.handler_replaced)
		r |= add_comment(p, "cpgo: the program replaced libcpgo's %s handler: samples "
				 "stopped then", sig);
	return r ? -1 : 0;
}

struct addr_map {
	uintptr_t *keys; /* 0: empty (address 0 is never a sample) */
	uint64_t *ids;
	size_t cap;
};

int collector_build(struct cpgo_profile *p, const struct collector_stacks *t,
		    const struct collector_meta *m, int symbolize)
{
	struct rt_map *maps = NULL;
	struct addr_map am = { NULL, NULL, 0 };
	uint64_t locs[SAMPLER_MAX_DEPTH];
	int64_t period = m->hz > 0 ? 1000000000LL / m->hz : 0;
	size_t n_maps = 0;
	int ret = -1;

	if (cpgo_profile_init(p) < 0)
		return -1;
	if (cpgo_profile_add_sample_type(p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(p, "cpu", "nanoseconds") < 0)
		goto cleanup;
	p->period_type.type = cpgo_profile_intern(p, "cpu");
	p->period_type.unit = cpgo_profile_intern(p, "nanoseconds");
	p->period = period;
	p->time_nanos = m->time_nanos;
	p->duration_nanos = m->duration_nanos;
	if (read_mappings(p, &maps, &n_maps) < 0)
		goto cleanup;

	am.cap = 1024;
	while (am.cap < t->n_pcs * 2)
		am.cap *= 2;
	am.keys = calloc(am.cap, sizeof(*am.keys));
	am.ids = calloc(am.cap, sizeof(*am.ids));
	if (!am.keys || !am.ids) {
		error("out of memory building the profile");
		goto cleanup;
	}
	for (size_t i = 0; i < t->cap; i++) {
		const struct collector_stack *e = &t->v[i];
		int64_t vals[2];

		if (!e->depth)
			continue;
		for (uint32_t k = 0; k < e->depth; k++) {
			uintptr_t a = t->pcs[e->off + k];
			size_t j;

			for (j = (a * 0x9e3779b97f4a7c15ull >> 20) & (am.cap - 1);
			     am.keys[j] && am.keys[j] != a; j = (j + 1) & (am.cap - 1))
				;
			if (!am.keys[j]) {
				am.keys[j] = a ? a : 1;
				am.ids[j] = cpgo_profile_add_location(p, mapping_of(maps, n_maps, a),
								      a, NULL, 0);
				if (!am.ids[j])
					goto cleanup;
			}
			locs[k] = am.ids[j];
		}
		vals[0] = (int64_t)e->count;
		vals[1] = (int64_t)e->periods * period;
		if (cpgo_profile_add_sample(p, locs, e->depth, vals, NULL, 0) < 0)
			goto cleanup;
	}
	if (add_comments(p, m) < 0)
		goto cleanup;
	if (symbolize) {
		struct symbolize_opts so = { getenv("CPGO_DEBUG_DIR"), NULL };
		/* An unsymbolized profile is still useful: say why, keep it. */
		if (symbolize_profile(p, &so) < 0 &&
		    add_comment(p, "cpgo: symbolization failed: %s", cpgo_last_error()) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	free(am.keys);
	free(am.ids);
	free(maps);
	if (ret < 0)
		cpgo_profile_release(p);
	return ret;
}

/* ---- sessions and the drain thread ---- */

struct collector_session {
	struct collector_stacks tab;
	struct sampler_stats base;
	int64_t start_wall, start_mono;
	int hz;
	uint64_t oom_lost;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct collector_session *sessions[COLLECTOR_MAX_SESSIONS];
	int n_sessions;
	pthread_t drain;
	int drain_running, drain_stop;
} C = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void drain_one(const struct sampler_record *r, void *arg)
{
	(void)arg;
	for (int i = 0; i < C.n_sessions; i++) {
		struct collector_session *s = C.sessions[i];
		if (collector_stacks_add(&s->tab, r->pc, r->depth, 1, r->weight) < 0)
			s->oom_lost++;
	}
}

/* Caller holds C.lock. */
static void drain_locked(void)
{
	sampler_drain(drain_one, NULL);
}

static void *drain_main(void *arg)
{
	(void)arg;
	sampler_thread_set_internal(1);
	sampler_thread_register();
	pthread_mutex_lock(&C.lock);
	while (!C.drain_stop) {
		struct timespec ts;
		drain_locked();
		sampler_check_handler();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += DRAIN_INTERVAL_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&C.cond, &C.lock, &ts);
	}
	drain_locked();
	pthread_mutex_unlock(&C.lock);
	sampler_thread_unregister();
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
	old_internal = sampler_thread_set_internal(1);
	rc = pthread_create(&C.drain, NULL, drain_main, NULL);
	sampler_thread_set_internal(old_internal);
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
	int ret = -1;

	s = calloc(1, sizeof(*s));
	if (!s)
		return error("out of memory starting a profile");
	collector_stacks_init(&s->tab);
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
	}
	/* Samples already in the ring belong to the sessions that were open before. */
	drain_locked();
	sampler_get_info(&info);
	s->hz = info.hz;
	sampler_get_stats(&s->base);
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
static void session_meta(struct collector_session *s, struct collector_meta *m)
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
	m->stats.cpu_ns = now.cpu_ns > s->base.cpu_ns ? now.cpu_ns - s->base.cpu_ns : 0;
	m->stats.threads = now.threads - s->base.threads;
	m->stats.threads_failed = now.threads_failed - s->base.threads_failed;
	m->stats.threads_blocked = now.threads_blocked - s->base.threads_blocked;
	m->oom_lost = s->oom_lost;
}

int collector_snapshot(struct collector_session *s, struct cpgo_profile *p)
{
	struct collector_stacks copy;
	struct collector_meta m;
	int ret;

	pthread_mutex_lock(&C.lock);
	drain_locked();
	session_meta(s, &m);
	ret = stacks_copy(&copy, &s->tab);
	pthread_mutex_unlock(&C.lock);
	if (ret < 0)
		return -1;
	/* Built outside the lock: symbolizing takes long, the drain must go on. */
	ret = collector_build(p, &copy, &m, 1);
	collector_stacks_release(&copy);
	return ret;
}

int collector_finish(struct collector_session *s, struct cpgo_profile *p)
{
	struct collector_meta m;
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
	drain_locked();
	session_meta(s, &m);
	C.sessions[i] = C.sessions[--C.n_sessions];
	pthread_mutex_unlock(&C.lock);
	if (p)
		ret = collector_build(p, &s->tab, &m, 1);
	collector_stacks_release(&s->tab);
	free(s);
	return ret;
}

int collector_sessions(void)
{
	int n;
	pthread_mutex_lock(&C.lock);
	n = C.n_sessions;
	pthread_mutex_unlock(&C.lock);
	return n;
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
		collector_stacks_release(&C.sessions[i]->tab);
		free(C.sessions[i]);
	}
	C.n_sessions = 0;
	C.drain_running = 0;
	C.drain_stop = 0;
}
