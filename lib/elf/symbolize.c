/*
 * Whole-profile symbolization: maps each location's address to its ELF file
 * (one sym_dso per file, opened once per call) and turns the frames into
 * deduplicated pprof Functions and Lines.
 */
#include "elf/symbolize.h"
#include "util/buf.h"
#include "util/error.h"
#include "pprof/profile.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deeper inline chains than this are cut at the outermost frames. */
#define SYMBOLIZE_MAX_FRAMES 64

struct symbolize_file {
	char *path;
	struct sym_dso *dso; /* NULL: could not be opened, don't retry */
};

struct symbolize_fkey {
	int64_t name, system_name, filename, start_line;
	uint64_t id; /* 0: empty slot */
};

struct symbolize_ctx {
	struct cpgo_profile *p;
	const char *debug_dir;
	struct symbolize_file *files;
	size_t n_file, alloc_file;
	struct sym_dso **map_dso; /* per mapping index */
	uint64_t *map_ids;        /* mapping ids sorted, with their index */
	size_t *map_idx;
	struct symbolize_fkey *ftab;
	size_t ftab_size, ftab_used;
	uint64_t next_function_id;
};

static uint64_t fkey_hash(int64_t a, int64_t b, int64_t c, int64_t d)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	int64_t v[4] = { a, b, c, d };

	for (int i = 0; i < 4; i++) {
		h ^= (uint64_t)v[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static struct symbolize_fkey *fkey_slot(struct symbolize_fkey *tab, size_t size, int64_t n,
					int64_t s, int64_t f, int64_t l)
{
	size_t i = fkey_hash(n, s, f, l) & (size - 1);

	for (;;) {
		struct symbolize_fkey *k = &tab[i];
		if (!k->id || (k->name == n && k->system_name == s && k->filename == f &&
			       k->start_line == l))
			return k;
		i = (i + 1) & (size - 1);
	}
}

static int fkey_put(struct symbolize_ctx *c, int64_t n, int64_t s, int64_t f, int64_t l,
		    uint64_t id)
{
	struct symbolize_fkey *k;

	if ((c->ftab_used + 1) * 2 > c->ftab_size) {
		size_t nsize = c->ftab_size ? c->ftab_size * 2 : 1024;
		struct symbolize_fkey *nt;

		if (nsize > SIZE_MAX / sizeof(*nt))
			return error("function table too large");
		nt = calloc(nsize, sizeof(*nt));
		if (!nt)
			return error("out of memory growing the function table");
		for (size_t i = 0; i < c->ftab_size; i++) {
			struct symbolize_fkey *o = &c->ftab[i];
			if (o->id)
				*fkey_slot(nt, nsize, o->name, o->system_name, o->filename,
					   o->start_line) = *o;
		}
		free(c->ftab);
		c->ftab = nt;
		c->ftab_size = nsize;
	}
	k = fkey_slot(c->ftab, c->ftab_size, n, s, f, l);
	if (k->id)
		return 0; /* keep the first of duplicate functions */
	*k = (struct symbolize_fkey){ n, s, f, l, id };
	c->ftab_used++;
	return 0;
}

static uint64_t function_id(struct symbolize_ctx *c, const struct sym_frame *fr)
{
	struct cpgo_profile *p = c->p;
	int64_t n = cpgo_profile_intern(p, fr->name);
	int64_t s = cpgo_profile_intern(p, fr->linkage_name ? fr->linkage_name : fr->name);
	int64_t f = cpgo_profile_intern(p, fr->file ? fr->file : "");
	struct symbolize_fkey *k;
	struct cpgo_function *fn;

	if (n < 0 || s < 0 || f < 0)
		return 0;
	if (c->ftab_size) {
		k = fkey_slot(c->ftab, c->ftab_size, n, s, f, fr->start_line);
		if (k->id)
			return k->id;
	}
	if (!cpgo_profile_add_function(p, fr->name, cpgo_profile_str(p, s), fr->file ? fr->file : "",
				       fr->start_line))
		return 0;
	/* Ids from a decoded profile need not be 1..n: take one above all of them. */
	fn = &p->functions[p->n_function - 1];
	fn->id = c->next_function_id++;
	if (fkey_put(c, n, s, f, fr->start_line, fn->id) < 0)
		return 0;
	return fn->id;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Kernel, vdso, anonymous and deleted mappings have no file to read. */
static int mapping_has_file(const char *name)
{
	return *name && *name != '[' && strncmp(name, "//anon", 6) && strncmp(name, "memfd:", 6) &&
	       strncmp(name, "/memfd:", 7) && strncmp(name, "anon_inode:", 11) &&
	       !ends_with(name, " (deleted)");
}

static struct sym_dso *open_cached(struct symbolize_ctx *c, const char *path)
{
	struct symbolize_file *f;

	for (size_t i = 0; i < c->n_file; i++)
		if (!strcmp(c->files[i].path, path))
			return c->files[i].dso;
	if (CPGO_GROW(c->files, c->alloc_file, c->n_file + 1) < 0)
		return NULL;
	f = &c->files[c->n_file];
	f->dso = NULL;
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	c->n_file++;
	/* An unreadable file only leaves its addresses unsymbolized. */
	if (sym_dso_open(&f->dso, path, c->debug_dir) < 0)
		f->dso = NULL;
	return f->dso;
}

/*
 * The file for a mapping: the override for the main binary, else the
 * mapping's path; when the profile names another build than the file on
 * disk, the debug file of the profiled build, if installed.
 */
static struct sym_dso *mapping_dso(struct symbolize_ctx *c, struct cpgo_mapping *m, int is_main,
				   const char *override)
{
	struct cpgo_profile *p = c->p;
	const char *want = cpgo_profile_str(p, m->build_id);
	struct sym_dso *d = NULL;
	struct cpgo_buf b = CPGO_BUF_INIT;

	if (is_main && override) {
		d = open_cached(c, override);
	} else if (mapping_has_file(cpgo_profile_str(p, m->filename))) {
		d = open_cached(c, cpgo_profile_str(p, m->filename));
		if (d && *want && *sym_dso_build_id(d) && strcasecmp(want, sym_dso_build_id(d)))
			d = NULL;
	}
	if (!d && *want && strlen(want) > 2 && !strchr(want, '/') &&
	    cpgo_buf_addf(&b, "%s/.build-id/%.2s/%s.debug", c->debug_dir, want, want + 2) == 0)
		d = open_cached(c, b.buf);
	if (d && !*want && *sym_dso_build_id(d)) {
		int64_t s = cpgo_profile_intern(p, sym_dso_build_id(d));
		if (s > 0)
			m->build_id = s;
	}
	cpgo_buf_release(&b);
	return d;
}

static int cmp_map(const void *a, const void *b, void *arg)
{
	const uint64_t *ids = arg;
	uint64_t x = ids[*(const size_t *)a], y = ids[*(const size_t *)b];

	return x < y ? -1 : x > y;
}

static long mapping_index(const struct symbolize_ctx *c, uint64_t id)
{
	size_t lo = 0, hi = c->p->n_mapping;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->map_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->p->n_mapping && c->map_ids[lo] == id)
		return (long)c->map_idx[lo];
	return -1;
}

static int setup_mappings(struct symbolize_ctx *c, const struct symbolize_opts *opts)
{
	struct cpgo_profile *p = c->p;
	uint64_t *raw;
	size_t n = p->n_mapping;

	if (!n)
		return 0;
	c->map_dso = calloc(n, sizeof(*c->map_dso));
	c->map_ids = calloc(n, sizeof(*c->map_ids));
	c->map_idx = calloc(n, sizeof(*c->map_idx));
	raw = calloc(n, sizeof(*raw));
	if (!c->map_dso || !c->map_ids || !c->map_idx || !raw) {
		free(raw);
		return error("out of memory symbolizing %zu mappings", n);
	}
	for (size_t i = 0; i < n; i++) {
		raw[i] = p->mappings[i].id;
		c->map_idx[i] = i;
	}
	qsort_r(c->map_idx, n, sizeof(*c->map_idx), cmp_map, raw);
	for (size_t i = 0; i < n; i++)
		c->map_ids[i] = raw[c->map_idx[i]];
	free(raw);
	for (size_t i = 0; i < n; i++) {
		/* pprof puts the main binary first; its other segments share its file name. */
		int is_main = i == 0 || (p->mappings[0].filename &&
					 p->mappings[i].filename == p->mappings[0].filename);
		c->map_dso[i] = mapping_dso(c, &p->mappings[i], is_main,
					    opts ? opts->binary_override : NULL);
	}
	return 0;
}

/* Functions decoded without a start line get it from the binary that ran them. */
static void repair_start_lines(struct symbolize_ctx *c)
{
	struct cpgo_profile *p = c->p;

	if (cpgo_profile_index(p) < 0) {
		cpgo_clear_error();
		return;
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *l = &p->locations[i];
		long mi = l->mapping_id ? mapping_index(c, l->mapping_id) : -1;
		struct sym_dso *d = mi >= 0 ? c->map_dso[mi] : NULL;

		if (!d)
			continue;
		for (size_t k = 0; k < l->n_line; k++) {
			const struct cpgo_function *cf =
				cpgo_profile_function(p, p->lines[l->line_off + k].function_id);
			struct cpgo_function *f;
			const char *file;
			int64_t sl = 0;

			if (!cf || cf->start_line)
				continue;
			f = &p->functions[cf - p->functions];
			file = cpgo_profile_str(p, f->filename);
			if (sym_dso_start_line(d, cpgo_profile_str(p, f->name), *file ? file : NULL,
					       &sl) == 1 ||
			    (f->system_name != f->name &&
			     sym_dso_start_line(d, cpgo_profile_str(p, f->system_name),
						*file ? file : NULL, &sl) == 1))
				f->start_line = sl;
		}
	}
}

static int symbolize_location(struct symbolize_ctx *c, size_t li)
{
	struct cpgo_profile *p = c->p;
	struct cpgo_location *l = &p->locations[li];
	struct sym_frame frames[SYMBOLIZE_MAX_FRAMES];
	struct cpgo_mapping *m;
	struct sym_dso *d;
	uint64_t vaddr, ids[SYMBOLIZE_MAX_FRAMES];
	long mi;
	int n;

	if (l->n_line || !l->mapping_id || !l->address)
		return 0;
	mi = mapping_index(c, l->mapping_id);
	if (mi < 0 || !(d = c->map_dso[mi]))
		return 0;
	m = &p->mappings[mi];
	if (sym_dso_runtime_to_vaddr(d, l->address, m->memory_start, m->file_offset, &vaddr) < 0) {
		cpgo_clear_error();
		return 0;
	}
	n = sym_dso_lookup(d, vaddr, frames, SYMBOLIZE_MAX_FRAMES);
	if (n <= 0) {
		/* Broken DWARF for one function must not fail the whole profile. */
		cpgo_clear_error();
		return 0;
	}
	for (int i = 0; i < n; i++)
		if (!(ids[i] = function_id(c, &frames[i])))
			return error("%s: cannot add function %s", cpgo_profile_str(p, m->filename),
				     frames[i].name);
	if (CPGO_GROW(p->lines, p->alloc_lines, p->n_lines + n) < 0)
		return -1;
	/* Lines are appended: the location's old (empty) slice is simply abandoned. */
	l = &p->locations[li];
	l->line_off = p->n_lines;
	l->n_line = n;
	for (int i = 0; i < n; i++) {
		struct cpgo_line *ln = &p->lines[p->n_lines++];
		ln->function_id = ids[i];
		ln->line = frames[i].line;
		ln->column = frames[i].column;
		if (*frames[i].file)
			m->has_filenames = 1;
		if (frames[i].line > 0)
			m->has_line_numbers = m->has_inline_frames = 1;
	}
	m->has_functions = 1;
	return 0;
}

int symbolize_profile(struct cpgo_profile *p, const struct symbolize_opts *opts)
{
	struct symbolize_ctx c = { .p = p };
	int ret = -1;

	c.debug_dir = opts && opts->debug_dir && *opts->debug_dir ? opts->debug_dir : "/usr/lib/debug";
	c.next_function_id = 1;
	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *f = &p->functions[i];
		if (f->id >= c.next_function_id)
			c.next_function_id = f->id + 1;
	}
	if (setup_mappings(&c, opts) < 0)
		goto cleanup;
	repair_start_lines(&c);
	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *f = &p->functions[i];
		if (fkey_put(&c, f->name, f->system_name, f->filename, f->start_line, f->id) < 0)
			goto cleanup;
	}
	for (size_t i = 0; i < p->n_location; i++)
		if (symbolize_location(&c, i) < 0)
			goto cleanup;
	ret = 0;
cleanup:
	for (size_t i = 0; i < c.n_file; i++) {
		sym_dso_close(c.files[i].dso);
		free(c.files[i].path);
	}
	free(c.files);
	free(c.map_dso);
	free(c.map_ids);
	free(c.map_idx);
	free(c.ftab);
	return ret;
}
