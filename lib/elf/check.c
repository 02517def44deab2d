/*
 * Matching a profile against a binary's DWARF (elf/check.h).
 */
#include "elf/check.h"
#include "elf/symbolize.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"

#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Inline depth kept per address; deeper frames are rare and only add callers. */
#define CHECK_MAX_FRAMES 64

/* One function of either side, keyed by name and the base name of its file. */
struct tab_fn {
	const char *name, *file;
	int64_t start;
	int64_t *lines; /* BIN: its code lines, sorted, unique */
	size_t n_lines, alloc_lines;
	int64_t flat, cum, flat_in_range;
	int64_t site_total, site_moved, site_shift, site_shift_v;
	size_t last_sample; /* sample index + 1 that last added to cum */
	const struct cpgo_objcall **calls; /* BIN from objects: its calls */
	size_t n_calls, alloc_calls;
	long peer;          /* profile side: the BIN function, -1 none */
	unsigned looked : 1; /* profile side: peer is known */
	unsigned used : 1;   /* BIN side: some profile function matched it */
};

struct tab {
	struct tab_fn *fns;
	size_t n, alloc;
	struct cpgo_hashmap map;
};

/* Samples at one call of a profile function: callee and the call's line offset. */
struct site {
	long pf;
	const char *callee;
	int64_t off, v;
};

struct check_priv {
	struct tab bin, prof;
	struct site *sites;
	size_t n_sites, alloc_sites;
	int have_calls; /* the BIN side knows its calls */
	struct cpgo_objfuncs *objs; /* own the strings of bin when checking objects */
	size_t n_objs;
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

struct fn_key {
	const char *name, *file;
};

static uint32_t key_hash(const char *name, const char *file)
{
	return (uint32_t)cpgo_hash_fin(
		cpgo_hash_str(cpgo_hash_str(CPGO_HASH_SEED, name), base_name(file)));
}

static int fn_eq(const void *ctx, size_t pos, const void *k)
{
	const struct tab_fn *f = (const struct tab_fn *)ctx + pos;
	const struct fn_key *key = k;
	return !strcmp(f->name, key->name) && !strcmp(base_name(f->file), base_name(key->file));
}

static long tab_find(const struct tab *t, const char *name, const char *file)
{
	struct fn_key k = { name, file };
	size_t pos;
	if (!t->map.s)
		return -1;
	if (!cpgo_hashmap_pos(&t->map, cpgo_hashmap_find(&t->map, key_hash(name, file), fn_eq,
							   t->fns, &k), &pos))
		return -1;
	return (long)pos;
}

/* Finds or adds (name, file); the first nonzero start line sticks. */
static long tab_get(struct tab *t, const char *name, const char *file, int64_t start)
{
	struct fn_key k = { name, file };
	uint32_t h = key_hash(name, file);
	size_t slot, pos;

	if (cpgo_hashmap_reserve(&t->map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&t->map, h, fn_eq, t->fns, &k);
	if (!cpgo_hashmap_pos(&t->map, slot, &pos)) {
		if (CPGO_GROW(t->fns, t->alloc, t->n + 1) < 0)
			return -1;
		pos = t->n++;
		memset(&t->fns[pos], 0, sizeof(t->fns[pos]));
		t->fns[pos].name = name;
		t->fns[pos].file = file;
		t->fns[pos].peer = -1;
		if (cpgo_hashmap_set(&t->map, slot, h, pos) < 0)
			return -1;
	}
	if (!t->fns[pos].start)
		t->fns[pos].start = start;
	return (long)pos;
}

static void tab_release(struct tab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->fns[i].lines);
		free(t->fns[i].calls);
	}
	free(t->fns);
	cpgo_hashmap_release(&t->map);
	memset(t, 0, sizeof(*t));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void sort_lines(struct tab_fn *fn)
{
	size_t k = 1;
	if (fn->n_lines < 2)
		return;
	qsort(fn->lines, fn->n_lines, sizeof(*fn->lines), cmp_i64);
	for (size_t j = 1; j < fn->n_lines; j++)
		if (fn->lines[j] != fn->lines[k - 1])
			fn->lines[k++] = fn->lines[j];
	fn->n_lines = k;
}

/* Every address that starts a line-table row of the file's DWARF, sorted, unique. */
static int row_addresses(const char *path, uint64_t **out, size_t *n_out)
{
	uint64_t *a = NULL;
	size_t n = 0, alloc = 0;
	Dwarf *dw = NULL;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	Dwarf_Half version;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno("%s: cannot open", path);
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		error("%s: cannot read DWARF: %s", path, dwarf_errmsg(-1));
		goto cleanup;
	}
	while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		Dwarf_Lines *lines;
		size_t nl;
		if (dwarf_getsrclines(&cudie, &lines, &nl) != 0)
			continue;
		for (size_t i = 0; i < nl; i++) {
			Dwarf_Line *l = dwarf_onesrcline(lines, i);
			Dwarf_Addr addr;
			bool end = false;
			if (!l || dwarf_lineendsequence(l, &end) != 0 || end ||
			    dwarf_lineaddr(l, &addr) != 0 || !addr)
				continue;
			if (CPGO_GROW(a, alloc, n + 1) < 0)
				goto cleanup;
			a[n++] = addr;
		}
	}
	if (n) {
		size_t k = 1;
		qsort(a, n, sizeof(*a), cmp_u64);
		for (size_t i = 1; i < n; i++)
			if (a[i] != a[k - 1])
				a[k++] = a[i];
		n = k;
	}
	*out = a;
	*n_out = n;
	a = NULL;
	ret = 0;
cleanup:
	free(a);
	if (dw)
		dwarf_end(dw);
	close(fd);
	return ret;
}

/* The binary's functions and their code lines, from every row address symbolized. */
static int load_binary(struct tab *t, struct sym_dso *d, const char *binary)
{
	struct sym_frame fr[CHECK_MAX_FRAMES];
	const char *dbg = sym_dso_debug_path(d);
	uint64_t *addrs = NULL;
	size_t n_addr = 0;
	int ret = -1;

	if (!dbg)
		return error("%s: no DWARF debug info, so nothing to match lines with (build with -g, "
			     "or install its debug package)", binary);
	if (row_addresses(dbg, &addrs, &n_addr) < 0)
		return -1;
	if (!n_addr) {
		error("%s: its DWARF (%s) has no line table (build with -g, not -gline-tables-only "
		      "stripped)", binary, dbg);
		goto cleanup;
	}
	for (size_t i = 0; i < n_addr; i++) {
		int n = sym_dso_lookup(d, addrs[i], fr, CHECK_MAX_FRAMES);
		if (n < 0)
			goto cleanup;
		for (int j = 0; j < n; j++) {
			long f;
			struct tab_fn *fn;
			if (!fr[j].name || !*fr[j].name)
				continue;
			f = tab_get(t, fr[j].name, fr[j].file ? fr[j].file : "", fr[j].start_line);
			if (f < 0)
				goto cleanup;
			fn = &t->fns[f];
			if (fr[j].line <= 0)
				continue;
			if (CPGO_GROW(fn->lines, fn->alloc_lines, fn->n_lines + 1) < 0)
				goto cleanup;
			fn->lines[fn->n_lines++] = fr[j].line;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		sort_lines(&t->fns[i]);
	ret = 0;
cleanup:
	free(addrs);
	return ret;
}

/* The objects' functions and code lines, as load_binary gives a binary's. */
static int load_objects(struct check_priv *pv, const char *const *objects, size_t n)
{
	pv->objs = calloc(n ? n : 1, sizeof(*pv->objs));
	if (!pv->objs)
		return error("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct cpgo_objfuncs *o = &pv->objs[i];
		if (cpgo_objfuncs_read(objects[i], o) < 0)
			return -1;
		pv->n_objs++;
		for (size_t j = 0; j < o->n; j++) {
			const struct cpgo_objfunc *of = &o->fns[j];
			struct tab_fn *fn;
			long f = tab_get(&pv->bin, of->name, of->file, of->start);
			if (f < 0)
				return -1;
			fn = &pv->bin.fns[f];
			/* A header's function defined in several sources: one function, all its lines. */
			if (CPGO_GROW(fn->lines, fn->alloc_lines, fn->n_lines + of->n_lines) < 0)
				return -1;
			if (of->n_lines)
				memcpy(fn->lines + fn->n_lines, of->lines, of->n_lines * sizeof(*of->lines));
			fn->n_lines += of->n_lines;
			if (CPGO_GROW(fn->calls, fn->alloc_calls, fn->n_calls + of->n_calls) < 0)
				return -1;
			for (size_t k = 0; k < of->n_calls; k++)
				fn->calls[fn->n_calls++] = &of->calls[k];
		}
	}
	pv->have_calls = 1;
	for (size_t i = 0; i < pv->bin.n; i++)
		sort_lines(&pv->bin.fns[i]);
	return 0;
}

static int has_line(const struct tab_fn *f, int64_t line)
{
	return bsearch(&line, f->lines, f->n_lines, sizeof(*f->lines), cmp_i64) != NULL;
}

/* Is the location in the binary's code: the profile's main mapping, or one of its name? */
static int in_program(const struct cpgo_profile *p, const struct cpgo_location *l,
		      const char *binary)
{
	const struct cpgo_mapping *m;
	if (l->n_line) {
		const struct cpgo_function *f =
			cpgo_profile_function(p, p->lines[l->line_off + l->n_line - 1].function_id);
		/* Time in the kernel is another binary's, whatever the mapping says. */
		if (f && cpgo_is_kernel_frame(cpgo_profile_str(p, f->name)))
			return 0;
	}
	if (!l->mapping_id)
		return 1;
	m = cpgo_profile_mapping(p, l->mapping_id);
	if (!m || m == &p->mappings[0])
		return 1;
	return binary && !strcmp(base_name(cpgo_profile_str(p, m->filename)), base_name(binary));
}

/* The profile function of a frame, its BIN peer looked up once; -2 for a dangling id. */
static long prof_fn(struct check_priv *pv, const struct cpgo_profile *p, uint64_t fn_id)
{
	const struct cpgo_function *f = cpgo_profile_function(p, fn_id);
	struct tab_fn *pf;
	long i;
	if (!f)
		return -2;
	i = tab_get(&pv->prof, cpgo_profile_str(p, f->name), cpgo_profile_str(p, f->filename),
		    f->start_line);
	if (i < 0)
		return -1;
	pf = &pv->prof.fns[i];
	if (!pf->looked) {
		pf->looked = 1;
		pf->peer = tab_find(&pv->bin, pf->name, pf->file);
		if (pf->peer >= 0)
			pv->bin.fns[pf->peer].used = 1;
	}
	return i;
}

/* Notes v samples at the call of `callee_id` from line `ln` of its caller. */
static int add_site(struct check_priv *pv, const struct cpgo_profile *p, const struct cpgo_line *ln,
		    uint64_t callee_id, int64_t v)
{
	const struct cpgo_function *caller = cpgo_profile_function(p, ln->function_id);
	const struct cpgo_function *callee = cpgo_profile_function(p, callee_id);
	long f;

	if (!pv->have_calls || !caller || !callee || ln->line <= 0 || caller->start_line <= 0)
		return 0;
	if ((f = prof_fn(pv, p, ln->function_id)) < 0)
		return f == -1 ? -1 : 0;
	if (pv->prof.fns[f].peer < 0 || !*cpgo_profile_str(p, callee->name))
		return 0;
	if (CPGO_GROW(pv->sites, pv->alloc_sites, pv->n_sites + 1) < 0)
		return -1;
	pv->sites[pv->n_sites++] = (struct site){ f, cpgo_profile_str(p, callee->name),
						  ln->line - caller->start_line, v };
	return 0;
}

/* The calls of a sample's stack: inline frames of one location, and physical calls between them. */
static int add_sites(struct check_priv *pv, const struct cpgo_profile *p,
		     const struct cpgo_sample *s, int64_t v, const char *binary)
{
	const struct cpgo_location *below = NULL;

	for (size_t j = 0; j < s->n_loc; j++) {
		const struct cpgo_location *l = cpgo_profile_location(p, p->sample_locs[s->loc_off + j]);
		if (!l || !l->n_line || !in_program(p, l, binary)) {
			below = NULL;
			continue;
		}
		for (size_t k = 1; k < l->n_line; k++)
			if (add_site(pv, p, &p->lines[l->line_off + k],
				     p->lines[l->line_off + k - 1].function_id, v) < 0)
				return -1;
		if (below && add_site(pv, p, &p->lines[l->line_off],
				      p->lines[below->line_off + below->n_line - 1].function_id, v) < 0)
			return -1;
		below = l;
	}
	return 0;
}

static int cmp_site(const void *pa, const void *pb)
{
	const struct site *a = pa, *b = pb;
	int c;
	if (a->pf != b->pf)
		return a->pf < b->pf ? -1 : 1;
	if ((c = strcmp(a->callee, b->callee)))
		return c;
	return a->off < b->off ? -1 : a->off > b->off;
}

/*
 * Each call site of the profile against the calls of the same callee the
 * function's code makes: a call at an offset the code has no call of that
 * callee at moved (the nearest one tells by how much). A callee the code no
 * longer calls from there says nothing about lines.
 */
static void judge_sites(struct cpgo_check_report *r, struct check_priv *pv)
{
	if (pv->n_sites)
		qsort(pv->sites, pv->n_sites, sizeof(*pv->sites), cmp_site);
	for (size_t i = 0, j; i < pv->n_sites; i = j) {
		const struct site *st = &pv->sites[i];
		struct tab_fn *pf = &pv->prof.fns[st->pf];
		const struct tab_fn *bf = &pv->bin.fns[pf->peer];
		int64_t v = 0, best = 0;
		int any = 0, here = 0;

		for (j = i; j < pv->n_sites && !cmp_site(&pv->sites[j], st); j++)
			v = cpgo_sat_add_i64(v, pv->sites[j].v);
		for (size_t k = 0; k < bf->n_calls; k++) {
			int64_t off = bf->calls[k]->line - bf->start, d = off - st->off;
			if (strcmp(bf->calls[k]->callee, st->callee))
				continue;
			if (!d)
				here = 1;
			if (!any++ || (d < 0 ? -d : d) < (best < 0 ? -best : best))
				best = d;
		}
		if (!any || !bf->start)
			continue;
		pf->site_total = cpgo_sat_add_i64(pf->site_total, v);
		r->site_total = cpgo_sat_add_i64(r->site_total, v);
		if (here)
			continue;
		if (!pf->site_moved)
			r->site_fns++;
		pf->site_moved = cpgo_sat_add_i64(pf->site_moved, v);
		r->site_moved = cpgo_sat_add_i64(r->site_moved, v);
		if (v > pf->site_shift_v) {
			pf->site_shift_v = v;
			pf->site_shift = best;
		}
	}
}

/*
 * Whether the leaf's innermost function has a source file: the linker's and
 * the C runtime's stubs in the program (_init, _start, the PLT) have none,
 * and no edit of the sources can match or lose them.
 */
static int has_source(const struct cpgo_profile *p, const struct cpgo_location *l)
{
	const struct cpgo_function *f;

	if (!l->n_line)
		return 0;
	f = cpgo_profile_function(p, p->lines[l->line_off].function_id);
	return f && *cpgo_profile_str(p, f->filename);
}

static int account(struct cpgo_check_report *r, struct check_priv *pv, struct cpgo_profile *p,
		   int vi, const char *binary)
{
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		int64_t v = cpgo_sample_values(p, i)[vi];
		const struct cpgo_location *leaf;
		const struct cpgo_line *ln;
		struct tab_fn *pf, *bf;
		int64_t start;
		long f;

		if (!v || !s->n_loc)
			continue;
		leaf = cpgo_profile_location(p, p->sample_locs[s->loc_off]);
		if (!leaf || !in_program(p, leaf, binary)) {
			r->other = cpgo_sat_add_i64(r->other, v);
			continue;
		}
		if (!has_source(p, leaf)) {
			r->nodebug = cpgo_sat_add_i64(r->nodebug, v);
			continue;
		}
		r->total = cpgo_sat_add_i64(r->total, v);
		if (add_sites(pv, p, s, v, binary) < 0)
			return -1;
		for (size_t j = 0; j < s->n_loc; j++) {
			const struct cpgo_location *l =
				cpgo_profile_location(p, p->sample_locs[s->loc_off + j]);
			if (!l || !in_program(p, l, binary))
				continue;
			for (size_t k = 0; k < l->n_line; k++) {
				if ((f = prof_fn(pv, p, p->lines[l->line_off + k].function_id)) == -1)
					return -1;
				if (f < 0)
					continue;
				pf = &pv->prof.fns[f];
				if (pf->last_sample != i + 1) {
					pf->cum = cpgo_sat_add_i64(pf->cum, v);
					pf->last_sample = i + 1;
				}
			}
		}
		if (!leaf->n_line)
			continue; /* unsymbolized: counted, never found */
		ln = &p->lines[leaf->line_off];
		if ((f = prof_fn(pv, p, ln->function_id)) == -1)
			return -1;
		if (f < 0)
			continue;
		pf = &pv->prof.fns[f];
		pf->flat = cpgo_sat_add_i64(pf->flat, v);
		if (pf->peer < 0)
			continue;
		bf = &pv->bin.fns[pf->peer];
		/* This sample's own start line: merged profiles may hold several. */
		start = cpgo_profile_function(p, ln->function_id)->start_line;
		r->found = cpgo_sat_add_i64(r->found, v);
		if (start && bf->start && start != bf->start)
			r->moved = cpgo_sat_add_i64(r->moved, v);
		/* Line 0 (compiler-made code) has no offset to be wrong about. */
		if (!ln->line || (start && bf->start && has_line(bf, bf->start + ln->line - start))) {
			r->in_range = cpgo_sat_add_i64(r->in_range, v);
			pf->flat_in_range = cpgo_sat_add_i64(pf->flat_in_range, v);
		}
	}
	judge_sites(r, pv);
	return 0;
}

static int by_flat(const void *pa, const void *pb)
{
	const struct cpgo_check_fn *a = pa, *b = pb;
	int c;
	if (a->flat != b->flat)
		return a->flat > b->flat ? -1 : 1;
	if (a->cum != b->cum)
		return a->cum > b->cum ? -1 : 1;
	if ((c = strcmp(a->name, b->name)))
		return c;
	return strcmp(a->file, b->file);
}

static int by_name(const void *pa, const void *pb)
{
	const struct cpgo_check_new *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c : strcmp(a->file, b->file);
}

/* A function of this name that no profile function matched: the code moved files. */
static const char *moved_to(const struct check_priv *pv, const char *name)
{
	for (size_t i = 0; i < pv->bin.n; i++) {
		const struct tab_fn *bf = &pv->bin.fns[i];
		if (!bf->used && bf->n_lines && !strcmp(bf->name, name))
			return bf->file;
	}
	return NULL;
}

static int fill(struct cpgo_check_report *r, struct check_priv *pv)
{
	for (size_t i = 0; i < pv->prof.n; i++) {
		const struct tab_fn *pf = &pv->prof.fns[i];
		struct cpgo_check_fn *o;
		if (CPGO_GROW(r->fns, r->alloc_fn, r->n_fn + 1) < 0)
			return -1;
		o = &r->fns[r->n_fn++];
		memset(o, 0, sizeof(*o));
		o->name = pf->name;
		o->file = pf->file;
		o->prof_start = pf->start;
		o->flat = pf->flat;
		o->cum = pf->cum;
		o->flat_in_range = pf->flat_in_range;
		o->site_total = pf->site_total;
		o->site_moved = pf->site_moved;
		o->site_shift = pf->site_shift;
		o->found = pf->peer >= 0;
		o->bin_start = pf->peer >= 0 ? pv->bin.fns[pf->peer].start : 0;
		if (!o->found && pf->cum)
			o->moved_to = moved_to(pv, pf->name);
	}
	if (r->n_fn)
		qsort(r->fns, r->n_fn, sizeof(*r->fns), by_flat);
	for (size_t i = 0; i < pv->bin.n; i++) {
		const struct tab_fn *bf = &pv->bin.fns[i];
		struct cpgo_check_new *o;
		if (!bf->n_lines)
			continue;
		r->n_bin_fn++;
		if (bf->used)
			continue;
		if (CPGO_GROW(r->new_fns, r->alloc_new, r->n_new + 1) < 0)
			return -1;
		o = &r->new_fns[r->n_new++];
		o->name = bf->name;
		o->file = bf->file;
		o->start_line = bf->start;
	}
	if (r->n_new)
		qsort(r->new_fns, r->n_new, sizeof(*r->new_fns), by_name);
	return 0;
}

/* The report's start, common to both sources of functions: NULL on error. */
static struct check_priv *report_start(struct cpgo_profile *p, int vi, const char *fns,
				       struct cpgo_check_report *out)
{
	struct check_priv *pv;

	memset(out, 0, sizeof(*out));
	if (vi < 0 || (size_t)vi >= p->n_sample_type) {
		error("no such sample type (index %d)", vi);
		return NULL;
	}
	if (cpgo_profile_index(p) < 0)
		return NULL;
	pv = calloc(1, sizeof(*pv));
	if (!pv) {
		error("out of memory");
		return NULL;
	}
	cpgo_hashmap_init(&pv->bin.map, fns);
	cpgo_hashmap_init(&pv->prof.map, "profile functions");
	out->priv = pv;
	return pv;
}

int cpgo_check_binary(struct cpgo_profile *p, int vi, const char *binary,
		      const char *debug_dir, struct cpgo_check_report *out)
{
	struct check_priv *pv = report_start(p, vi, "binary functions", out);

	if (!pv)
		return -1;
	if (sym_dso_open(&out->dso, binary, debug_dir) < 0 ||
	    load_binary(&pv->bin, out->dso, binary) < 0 ||
	    account(out, pv, p, vi, binary) < 0 || fill(out, pv) < 0) {
		cpgo_check_release(out);
		return -1;
	}
	return 0;
}

int cpgo_check_objects(struct cpgo_profile *p, int vi, const char *const *objects, size_t n,
		       struct cpgo_check_report *out)
{
	struct check_priv *pv = report_start(p, vi, "source functions", out);

	if (!pv)
		return -1;
	if (load_objects(pv, objects, n) < 0 || account(out, pv, p, vi, NULL) < 0 ||
	    fill(out, pv) < 0) {
		cpgo_check_release(out);
		return -1;
	}
	return 0;
}

void cpgo_check_release(struct cpgo_check_report *r)
{
	struct check_priv *pv = r->priv;
	if (pv) {
		tab_release(&pv->bin);
		tab_release(&pv->prof);
		free(pv->sites);
		for (size_t i = 0; i < pv->n_objs; i++)
			cpgo_objfuncs_release(&pv->objs[i]);
		free(pv->objs);
		free(pv);
	}
	if (r->dso)
		sym_dso_close(r->dso);
	free(r->fns);
	free(r->new_fns);
	memset(r, 0, sizeof(*r));
}

struct sum_ent {
	size_t fn;
	int64_t line, v;
};

static int cmp_sum(const void *pa, const void *pb)
{
	const struct sum_ent *a = pa, *b = pb;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Tabs and newlines separate the summary's fields. */
static int plain_field(const char *s)
{
	return !strpbrk(s, "\t\n");
}

int cpgo_check_summarize(struct cpgo_profile *p, int vi, struct cpgo_buf *out)
{
	struct sum_ent *e = NULL;
	size_t n = 0, alloc = 0;
	int64_t total = 0;
	int ret = -1;

	if (vi < 0 || (size_t)vi >= p->n_sample_type)
		return error("no such sample type (index %d)", vi);
	if (cpgo_profile_index(p) < 0)
		return -1;
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		int64_t v = cpgo_sample_values(p, i)[vi];
		const struct cpgo_location *leaf;
		const struct cpgo_function *f;
		const struct cpgo_line *ln;

		if (v <= 0 || !s->n_loc)
			continue;
		leaf = cpgo_profile_location(p, p->sample_locs[s->loc_off]);
		if (!leaf || !in_program(p, leaf, NULL))
			continue;
		total += v;
		if (!leaf->n_line)
			continue;
		ln = &p->lines[leaf->line_off];
		f = cpgo_profile_function(p, ln->function_id);
		if (!f)
			continue;
		if (CPGO_GROW(e, alloc, n + 1) < 0)
			goto cleanup;
		e[n++] = (struct sum_ent){ (size_t)(f - p->functions), ln->line, v };
	}
	if (n)
		qsort(e, n, sizeof(*e), cmp_sum);
	if (cpgo_buf_addf(out, "cpgo-match 1 %lld\n", (long long)total) < 0)
		goto cleanup;
	for (size_t i = 0, j; i < n; i = j) {
		const struct cpgo_function *f = &p->functions[e[i].fn];
		const char *name = cpgo_profile_str(p, f->name), *file = cpgo_profile_str(p, f->filename);
		int plain = *name && plain_field(name) && plain_field(file);

		if (plain && cpgo_buf_addf(out, "F\t%lld\t%s\t%s\n", (long long)f->start_line, file,
					   name) < 0)
			goto cleanup;
		for (j = i; j < n && e[j].fn == e[i].fn;) {
			size_t k = j;
			int64_t v = 0;
			for (; k < n && e[k].fn == e[j].fn && e[k].line == e[j].line; k++)
				v += e[k].v;
			if (plain && cpgo_buf_addf(out, "L\t%lld\t%lld\n", (long long)e[j].line,
						   (long long)v) < 0)
				goto cleanup;
			j = k;
		}
	}
	ret = 0;
cleanup:
	free(e);
	return ret;
}

static int cmp_objfn_name(const void *pa, const void *pb)
{
	const struct cpgo_objfunc *a = *(const struct cpgo_objfunc *const *)pa;
	const struct cpgo_objfunc *b = *(const struct cpgo_objfunc *const *)pb;
	return strcmp(a->name, b->name);
}

/* The object's function of this name whose file has this base name, or NULL. */
static const struct cpgo_objfunc *obj_find(const struct cpgo_objfunc **by_name, size_t n,
					   const char *name, const char *file)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(by_name[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !strcmp(by_name[lo]->name, name); lo++)
		if (!strcmp(base_name(by_name[lo]->file), base_name(file)))
			return by_name[lo];
	return NULL;
}

static void tu_close_fn(struct cpgo_check_tu *out, const char *name, int64_t lost)
{
	if (lost > out->worst_lost) {
		out->worst_lost = lost;
		snprintf(out->worst, sizeof(out->worst), "%s", name);
	}
}

int cpgo_check_tu_match(const char *summary, size_t len, const struct cpgo_objfuncs *obj,
			const char *tu, struct cpgo_check_tu *out)
{
	const struct cpgo_objfunc **by_name = NULL, *of = NULL;
	const char *s = summary, *end = summary + len, *tub = base_name(tu);
	char line[4096], name[256] = "";
	int64_t start = 0, lost = 0;
	int in_tu = 0, ret = -1;
	long long a, b;
	char *q;

	memset(out, 0, sizeof(*out));
	if (len < 13 || memcmp(s, "cpgo-match 1 ", 13))
		return error("not a cpgo match summary");
	if (obj->n && !(by_name = malloc(obj->n * sizeof(*by_name))))
		return error("out of memory");
	for (size_t i = 0; i < obj->n; i++)
		by_name[i] = &obj->fns[i];
	if (obj->n)
		qsort(by_name, obj->n, sizeof(*by_name), cmp_objfn_name);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t l = (size_t)((nl ? nl : end) - s);
		if (l >= sizeof(line))
			l = sizeof(line) - 1; /* too long a name to be one of ours: it finds nothing */
		memcpy(line, s, l);
		line[l] = '\0';
		s = nl ? nl + 1 : end;
		if (line[0] == 'c') {
			out->profile_total = strtoll(line + 13, NULL, 10);
		} else if (line[0] == 'F' && line[1] == '\t') {
			char *file, *fname;
			if (in_tu)
				tu_close_fn(out, name, lost);
			start = strtoll(line + 2, &q, 10);
			if (*q != '\t' || !(fname = strchr(file = q + 1, '\t'))) {
				in_tu = 0;
				continue;
			}
			*fname++ = '\0';
			in_tu = !strcmp(base_name(file), tub);
			of = in_tu ? obj_find(by_name, obj->n, fname, file) : NULL;
			snprintf(name, sizeof(name), "%s", fname);
			lost = 0;
		} else if (line[0] == 'L' && in_tu && sscanf(line + 1, "%lld %lld", &a, &b) == 2) {
			out->total += b;
			if (!a || (of && start && of->start &&
				   cpgo_objfunc_has_line(of, of->start + a - start)))
				out->matched += b;
			else
				lost += b;
		}
	}
	if (in_tu)
		tu_close_fn(out, name, lost);
	ret = 0;
	free(by_name);
	return ret;
}
