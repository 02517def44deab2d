/*
 * A pprof profile from a stack table (see rtprofile.h). Runs outside the
 * signal handler and outside the collector's lock.
 */
#include "rtprofile.h"

#include "elf/symbolize.h"
#include "pprof/meta.h"
#include "procmaps.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void signal_name(int signo, char *buf, size_t len)
{
	if (signo == SIGPROF)
		snprintf(buf, len, "SIGPROF");
	else if (signo >= SIGRTMIN && signo <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", signo - SIGRTMIN);
	else
		snprintf(buf, len, "%d", signo);
}

static const char *unwinder_name(const struct sampler_info *info)
{
	if (info->unwind == SAMPLER_UNWIND_CFI)
		return "cfi";
	if (info->mode == SAMPLER_MODE_RING)
		return "kernel-fp";
	switch (info->unwind) {
	case SAMPLER_UNWIND_TABLES:
	case SAMPLER_UNWIND_CFI:
	case SAMPLER_UNWIND_FP:
		return "fp";
	case SAMPLER_UNWIND_AUTO:
		return "fp+libunwind";
	case SAMPLER_UNWIND_LIBUNWIND:
		return "libunwind";
	}
	return "";
}

static void fill_meta(struct cpgo_meta *cm, const struct rtprofile_meta *m)
{
	const struct sampler_stats *st = &m->stats;
	double cpu_s = (double)st->cpu_ns / 1e9;

	cpgo_meta_init(cm);
	cm->requested_hz = m->hz;
	cm->samples = (int64_t)st->samples;
	if (cpu_s > 0) {
		cm->cpu_seconds = cpu_s;
		cm->achieved_hz = (double)st->samples / cpu_s;
	}
	cm->lost = (int64_t)(st->lost + m->oom_lost + m->unmapped_lost);
	cm->lost_unmapped = (int64_t)m->unmapped_lost;
	cm->lost_buffer_full = (int64_t)st->lost;
	cm->lost_out_of_memory = (int64_t)m->oom_lost;
	if (m->info.mode == SAMPLER_MODE_RING && m->info.kernel_visible && st->samples)
		cm->kernel_share = (double)st->kernel_samples / (double)st->samples;
	snprintf(cm->mode, sizeof(cm->mode), "%s",
		 m->info.mode == SAMPLER_MODE_RING ? "perf-ring" : "signal");
	snprintf(cm->timer, sizeof(cm->timer), "%s",
		 m->info.timer == SAMPLER_TIMER_PERF ? "perf-task-clock" : "posix-cpu-timer");
	if (m->info.mode != SAMPLER_MODE_RING)
		signal_name(m->info.signo, cm->signal, sizeof(cm->signal));
	snprintf(cm->unwinder, sizeof(cm->unwinder), "%s", unwinder_name(&m->info));
	if (st->libunwind)
		cm->libunwind_samples = (int64_t)st->libunwind;
	if (st->threads_blocked)
		cm->threads_blocked = (int64_t)st->threads_blocked;
	if (st->threads_failed)
		cm->threads_failed = (int64_t)st->threads_failed;
	if (m->info.handler_replaced)
		cm->handler_replaced = 1;
	if (st->stack_bytes_max)
		cm->stack_bytes = (int64_t)st->stack_bytes_max;
	if (m->info.mode == SAMPLER_MODE_RING)
		cm->drain_cpu_ms = (int64_t)(st->drain_cpu_ns / 1000000u);
}

/* Address -> location id, on the project's hashmap. */
struct loc_index {
	struct cpgo_hashmap map;
	uintptr_t *addrs;
	uint64_t *ids;
	size_t n, alloc_addrs, alloc_ids;
};

static int addr_eq(const void *ctx, size_t pos, const void *key)
{
	return ((const struct loc_index *)ctx)->addrs[pos] == *(const uintptr_t *)key;
}

/* The location of one sampled address (the kernel frame's function for SAMPLE_PC_KERNEL). */
static uint64_t location_of(struct cpgo_profile *p, struct loc_index *li,
			    const struct procmaps_entry *maps, size_t n_maps, uintptr_t a)
{
	uint32_t h = (uint32_t)cpgo_hash_fin(a);
	size_t slot, pos;
	uint64_t id;

	if (cpgo_hashmap_reserve(&li->map) < 0)
		return 0;
	slot = cpgo_hashmap_find(&li->map, h, addr_eq, li, &a);
	if (cpgo_hashmap_pos(&li->map, slot, &pos))
		return li->ids[pos];
	if (a == SAMPLE_PC_KERNEL || a == SAMPLE_PC_TRUNCATED) {
		const char *name = a == SAMPLE_PC_KERNEL ? RTPROFILE_KERNEL_FRAME
							 : RTPROFILE_TRUNCATED_FRAME;
		struct cpgo_line line = { 0, 0, 0 };
		line.function_id = cpgo_profile_add_function(p, name, name, "", 0);
		id = line.function_id ? cpgo_profile_add_location(p, 0, 0, &line, 1) : 0;
	} else {
		id = cpgo_profile_add_location(p, procmaps_lookup(maps, n_maps, a), a, NULL, 0);
	}
	if (!id || CPGO_GROW(li->addrs, li->alloc_addrs, li->n + 1) < 0 ||
	    CPGO_GROW(li->ids, li->alloc_ids, li->n + 1) < 0 ||
	    cpgo_hashmap_set(&li->map, slot, h, li->n) < 0)
		return 0;
	li->addrs[li->n] = a;
	li->ids[li->n++] = id;
	return id;
}

int rtprofile_build(struct cpgo_profile *p, const struct stacks *t,
		    const struct rtprofile_meta *m, int symbolize)
{
	struct procmaps_entry *maps = NULL;
	struct loc_index li;
	struct cpgo_meta cm;
	uint64_t locs[SAMPLE_MAX_DEPTH];
	int64_t period = m->hz > 0 ? 1000000000LL / m->hz : 0;
	size_t n_maps = 0;
	int ret = -1;

	memset(&li, 0, sizeof(li));
	cpgo_hashmap_init(&li.map, "location");
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
	if (procmaps_read(p, &maps, &n_maps) < 0)
		goto cleanup;
	for (size_t i = 0; i < m->n_retired; i++)
		if (procmaps_add_retired(p, &maps, &n_maps, &m->retired[i], m->retired_at[i]) < 0)
			goto cleanup;
	for (size_t i = 0; i < t->n; i++) {
		const struct stacks_entry *e = &t->v[i];
		int64_t vals[2];

		for (uint32_t k = 0; k < e->depth; k++)
			if (!(locs[k] = location_of(p, &li, maps, n_maps, t->pcs[e->off + k])))
				goto cleanup;
		vals[0] = (int64_t)e->count;
		vals[1] = (int64_t)e->periods * period;
		if (cpgo_profile_add_sample(p, locs, e->depth, vals, NULL, 0) < 0)
			goto cleanup;
	}
	fill_meta(&cm, m);
	if (symbolize) {
		struct symbolize_opts so = { getenv("CPGO_DEBUG_DIR"), NULL };
		/* An unsymbolized profile is still useful: say why, keep it. */
		if (symbolize_profile(p, &so) < 0)
			snprintf(cm.symbolize_error, sizeof(cm.symbolize_error), "%s",
				 cpgo_last_error());
	}
	if (cpgo_meta_write(p, &cm) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_hashmap_release(&li.map);
	free(li.addrs);
	free(li.ids);
	free(maps);
	if (ret < 0)
		cpgo_profile_release(p);
	return ret;
}
