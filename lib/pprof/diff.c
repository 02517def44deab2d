/*
 * Per-function diff of two profiles (pprof/diff.h), over cpgo_report_top's
 * rows so flat and cum mean exactly what `cpgo top` shows.
 */
#include "pprof/diff.h"
#include "pprof/report.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct key {
	const char *name, *file;
};

/* Files match by base name: two builds of one program rarely share a build directory. */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static uint32_t key_hash(const char *name, const char *file)
{
	return (uint32_t)cpgo_hash_fin(
		cpgo_hash_str(cpgo_hash_str(CPGO_HASH_SEED, name), base_name(file)));
}

static int row_eq(const void *ctx, size_t pos, const void *k)
{
	const struct cpgo_diff_row *r = (const struct cpgo_diff_row *)ctx + pos;
	const struct key *key = k;
	return !strcmp(r->name, key->name) &&
	       !strcmp(base_name(r->filename), base_name(key->file));
}

static double share(int64_t v, int64_t total)
{
	return total ? (double)v / (double)total : 0.0;
}

static int by_change(const void *pa, const void *pb)
{
	const struct cpgo_diff_row *a = pa, *b = pb;
	double fa = fabs(a->flat_b - a->flat_a), fb = fabs(b->flat_b - b->flat_a);
	double ca = fabs(a->cum_b - a->cum_a), cb = fabs(b->cum_b - b->cum_a);
	int c;
	if (fa != fb)
		return fa > fb ? -1 : 1;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	if ((c = strcmp(a->name, b->name)))
		return c;
	return strcmp(a->filename, b->filename);
}

/*
 * Adds one profile's rows into d: `second` says which side they are.
 * top rows are per (name, file, start line); two rows of one function
 * (start line known in one sample, not another) add up.
 */
static int add_side(struct cpgo_diff *d, struct cpgo_hashmap *map,
		    const struct cpgo_report_top *t, int second)
{
	for (size_t i = 0; i < t->n_row; i++) {
		const struct cpgo_report_row *r = &t->rows[i];
		struct key k = { r->name, r->filename };
		uint32_t h = key_hash(r->name, r->filename);
		struct cpgo_diff_row *row;
		size_t slot, pos;

		if (cpgo_hashmap_reserve(map) < 0)
			return -1;
		slot = cpgo_hashmap_find(map, h, row_eq, d->rows, &k);
		if (!cpgo_hashmap_pos(map, slot, &pos)) {
			if (CPGO_GROW(d->rows, d->alloc_row, d->n_row + 1) < 0)
				return -1;
			pos = d->n_row++;
			memset(&d->rows[pos], 0, sizeof(d->rows[pos]));
			d->rows[pos].name = r->name;
			d->rows[pos].filename = r->filename;
			if (cpgo_hashmap_set(map, slot, h, pos) < 0)
				return -1;
		}
		row = &d->rows[pos];
		if (second) {
			/* The newer profile names the row: its strings outlive nothing less. */
			row->name = r->name;
			row->filename = r->filename;
			row->in_b = 1;
			row->flat_b += share(r->flat, t->total);
			row->cum_b += share(r->cum, t->total);
			if (r->start_line && !row->start_b)
				row->start_b = r->start_line;
		} else {
			row->in_a = 1;
			row->flat_a += share(r->flat, t->total);
			row->cum_a += share(r->cum, t->total);
			if (r->start_line && !row->start_a)
				row->start_a = r->start_line;
		}
	}
	return 0;
}

int cpgo_diff_compute(struct cpgo_profile *a, int vi_a, struct cpgo_profile *b, int vi_b,
		      struct cpgo_diff *out)
{
	struct cpgo_report_top ta = { 0 }, tb = { 0 };
	struct cpgo_hashmap map = CPGO_HASHMAP_INIT("diff rows");
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (cpgo_report_top(a, vi_a, 0, &ta) < 0 || cpgo_report_top(b, vi_b, 0, &tb) < 0)
		goto cleanup;
	out->total_a = ta.total;
	out->total_b = tb.total;
	if (add_side(out, &map, &ta, 0) < 0 || add_side(out, &map, &tb, 1) < 0)
		goto cleanup;
	if (out->n_row)
		qsort(out->rows, out->n_row, sizeof(*out->rows), by_change);
	ret = 0;
cleanup:
	cpgo_hashmap_release(&map);
	/* Row strings point into the profiles' string tables, not into the tops. */
	cpgo_report_top_release(&ta);
	cpgo_report_top_release(&tb);
	if (ret < 0)
		cpgo_diff_release(out);
	return ret;
}

void cpgo_diff_release(struct cpgo_diff *d)
{
	free(d->rows);
	memset(d, 0, sizeof(*d));
}
