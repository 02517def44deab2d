/*
 * gperftools legacy CPU profiles into pprof (elf/gperf_import.h).
 */
#include "elf/gperf_import.h"
#include "elf/symbolize.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gperftools' own limit is 64 frames; anything far deeper is corruption. */
#define GPERF_MAX_FRAMES 4096

struct rd {
	const unsigned char *p;
	size_t len, pos, ws;
};

/* Reads one word; 0 at the end of data (caller checks with has()). */
static uint64_t word(struct rd *r)
{
	uint64_t v = 0;
	if (r->ws == 8) {
		memcpy(&v, r->p + r->pos, 8);
	} else {
		uint32_t w;
		memcpy(&w, r->p + r->pos, 4);
		v = w;
	}
	r->pos += r->ws;
	return v;
}

static int has(const struct rd *r, size_t n_words)
{
	return r->pos <= r->len && (r->len - r->pos) / r->ws >= n_words;
}

static size_t header_words(const unsigned char *d, size_t len)
{
	/* [0, 3, 0, period, 0], native endian; period is nonzero. */
	for (size_t ws = 8; ws >= 4; ws -= 4) {
		struct rd r = { d, len, 0, ws };
		if (!has(&r, 5))
			continue;
		if (word(&r) == 0 && word(&r) == 3 && word(&r) == 0 && word(&r) != 0 && word(&r) == 0)
			return ws;
	}
	return 0;
}

int cpgo_gperf_is_cpu_profile(const void *data, size_t len)
{
	return header_words(data, len) != 0;
}

struct gmap {
	uint64_t start, end, id;
};

static int cmp_map(const void *a, const void *b)
{
	const struct gmap *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* "start-end perms offset dev inode path": executable maps with a path become mappings. */
static int parse_maps(struct cpgo_profile *p, char *text, struct gmap **maps, size_t *n_maps)
{
	size_t alloc = 0;
	for (char *line = text, *next; line && *line; line = next) {
		unsigned long long lo, hi, off;
		char perms[8];
		int path_at = 0;
		struct cpgo_mapping m = { 0 };
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &lo, &hi, perms, &off, &path_at) < 4 ||
		    !path_at || line[path_at] != '/' || !strchr(perms, 'x') || hi <= lo)
			continue;
		m.memory_start = lo;
		m.memory_limit = hi;
		m.file_offset = off;
		m.filename = cpgo_profile_intern(p, line + path_at);
		if (m.filename < 0 || CPGO_GROW(*maps, alloc, *n_maps + 1) < 0)
			return -1;
		(*maps)[*n_maps] = (struct gmap){ lo, hi, cpgo_profile_add_mapping(p, &m) };
		if (!(*maps)[(*n_maps)++].id)
			return -1;
	}
	if (*n_maps)
		qsort(*maps, *n_maps, sizeof(**maps), cmp_map);
	return 0;
}

static uint64_t map_of(const struct gmap *maps, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < maps[mid].start)
			hi = mid;
		else if (addr >= maps[mid].end)
			lo = mid + 1;
		else
			return maps[mid].id;
	}
	return 0;
}

/* Callers are return addresses: the call is the byte before (pprof does the same). */
static uint64_t frame_addr(uint64_t pc, size_t i)
{
	return i && pc ? pc - 1 : pc;
}

/*
 * Walks the records: with `addrs`, collects every frame address and sets
 * *end to the byte after the trailer; else adds the samples.
 */
static int walk(struct cpgo_profile *p, struct rd r, const char *name, int64_t period_ns,
		uint64_t **addrs, size_t *n_addr, size_t *alloc_addr, size_t *end,
		const uint64_t *loc_ids, const uint64_t *sorted, size_t n_sorted,
		struct cpgo_gperf_stats *st)
{
	uint64_t locs[GPERF_MAX_FRAMES];

	for (;;) {
		uint64_t count, n;
		if (!has(&r, 2))
			return error("%s: truncated gperftools profile (no end-of-samples trailer)",
				     name);
		count = word(&r);
		n = word(&r);
		if (n > GPERF_MAX_FRAMES)
			return error("%s: corrupt gperftools profile: a record of %llu frames at byte "
				     "%zu", name, (unsigned long long)n, r.pos - 2 * r.ws);
		if (!has(&r, n))
			return error("%s: truncated gperftools profile (a record at byte %zu runs past "
				     "the end)", name, r.pos - 2 * r.ws);
		if (count == 0 && n == 1) {
			if (end)
				*end = r.pos + r.ws; /* past the trailer's last word */
			return 0;
		}
		if (addrs) {
			if (CPGO_GROW(*addrs, *alloc_addr, *n_addr + n) < 0)
				return -1;
			for (size_t i = 0; i < n; i++)
				(*addrs)[(*n_addr)++] = frame_addr(word(&r), i);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t a = frame_addr(word(&r), i);
			const uint64_t *hit = bsearch(&a, sorted, n_sorted, sizeof(*sorted), cmp_u64);
			locs[i] = loc_ids[hit - sorted];
		}
		if (!n || count > (uint64_t)(INT64_MAX / (period_ns ? period_ns : 1)))
			continue;
		int64_t v[2] = { (int64_t)count, (int64_t)count * period_ns };
		if (cpgo_profile_add_sample(p, locs, n, v, NULL, 0) < 0)
			return -1;
		st->n_records++;
		st->n_samples += (int64_t)count;
	}
}

int cpgo_gperf_import(struct cpgo_profile *p, const void *data, size_t len, const char *name,
		      const char *debug_dir, struct cpgo_gperf_stats *st)
{
	struct rd r = { data, len, 0, 0 };
	struct gmap *maps = NULL;
	size_t n_maps = 0, n_addr = 0, alloc_addr = 0, u = 0, end = 0;
	uint64_t *addrs = NULL, *loc_ids = NULL, period_us;
	struct cpgo_buf text = CPGO_BUF_INIT;
	struct symbolize_opts so = { 0 };
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (cpgo_profile_init(p) < 0)
		return -1;
	if (!(r.ws = header_words(data, len))) {
		error("%s: not a gperftools CPU profile (no [0, 3, 0, period, 0] header)", name);
		goto cleanup;
	}
	st->word_size = r.ws;
	r.pos = 3 * r.ws;
	period_us = word(&r);
	r.pos = 5 * r.ws;
	if (period_us > INT64_MAX / 1000) {
		error("%s: sampling period of %llu us is not plausible", name,
		      (unsigned long long)period_us);
		goto cleanup;
	}
	if (cpgo_profile_add_sample_type(p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(p, "cpu", "nanoseconds") < 0)
		goto cleanup;
	p->period_type = p->sample_type[1];
	p->period = (int64_t)period_us * 1000;
	p->default_sample_type = p->sample_type[0].type;
	/* Pass 1: addresses, then the maps text after the trailer. */
	if (walk(p, r, name, p->period, &addrs, &n_addr, &alloc_addr, &end, NULL, NULL, 0,
		 st) < 0)
		goto cleanup;
	if (cpgo_buf_add(&text, r.p + end, r.len - end) < 0 ||
	    parse_maps(p, text.buf, &maps, &n_maps) < 0)
		goto cleanup;
	st->n_mappings = n_maps;
	if (n_addr) {
		qsort(addrs, n_addr, sizeof(*addrs), cmp_u64);
		u = 1;
		for (size_t i = 1; i < n_addr; i++)
			if (addrs[i] != addrs[u - 1])
				addrs[u++] = addrs[i];
	}
	if (u && !(loc_ids = malloc(u * sizeof(*loc_ids)))) {
		error("out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < u; i++)
		if (!(loc_ids[i] = cpgo_profile_add_location(p, map_of(maps, n_maps, addrs[i]),
							     addrs[i], NULL, 0)))
			goto cleanup;
	/* Pass 2: the samples. */
	if (walk(p, r, name, p->period, NULL, NULL, NULL, NULL, loc_ids, addrs, u, st) < 0)
		goto cleanup;
	if (!p->n_sample) {
		error("%s: a gperftools CPU profile with no samples", name);
		goto cleanup;
	}
	so.debug_dir = debug_dir;
	if (symbolize_profile(p, &so) < 0 || cpgo_profile_check(p, name) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(maps);
	free(addrs);
	free(loc_ids);
	cpgo_buf_release(&text);
	if (ret < 0)
		cpgo_profile_release(p);
	return ret;
}
