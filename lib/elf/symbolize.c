/*
 * Whole-profile symbolization: maps each location's address to its ELF file
 * (one sym_dso per file, opened once per call) and turns the frames into
 * deduplicated pprof Functions and Lines.
 */
#include "elf/symbolize.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"
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

/* A function's identity: what pprof shows of it. */
struct symbolize_fkey {
	int64_t name, system_name, filename, start_line;
};

struct symbolize_ctx {
	struct cpgo_profile *p;
	const char *debug_dir;
	struct symbolize_file *files;
	size_t n_file, alloc_file;
	struct sym_dso **map_dso; /* per mapping index */
	uint64_t *map_ids;        /* mapping ids sorted, with their index */
	size_t *map_idx;
	struct cpgo_hashmap functions; /* positions in p->functions, by symbolize_fkey */
	uint64_t next_function_id;
};

static uint32_t fkey_hash(const struct symbolize_fkey *k)
{
	uint64_t h = CPGO_HASH_SEED;

	h = cpgo_hash_mix(h, (uint64_t)k->name);
	h = cpgo_hash_mix(h, (uint64_t)k->system_name);
	h = cpgo_hash_mix(h, (uint64_t)k->filename);
	h = cpgo_hash_mix(h, (uint64_t)k->start_line);
	return (uint32_t)cpgo_hash_fin(h);
}

static int fkey_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_function *f = &((const struct cpgo_profile *)ctx)->functions[pos];
	const struct symbolize_fkey *k = key;

	return f->name == k->name && f->system_name == k->system_name &&
	       f->filename == k->filename && f->start_line == k->start_line;
}

/*
 * The slot of the function with key k (found: *pos set, returns 1) or the
 * empty slot it goes to (returns 0); -1 on error. Reserves first so the
 * empty slot stays valid for one insertion.
 */
static int fkey_find(struct symbolize_ctx *c, const struct symbolize_fkey *k, uint32_t hash,
		     size_t *slot, size_t *pos)
{
	if (cpgo_hashmap_reserve(&c->functions) < 0)
		return -1;
	*slot = cpgo_hashmap_find(&c->functions, hash, fkey_eq, c->p, k);
	return cpgo_hashmap_pos(&c->functions, *slot, pos);
}

/* Indexes the functions the profile already has; the first of duplicates wins. */
static int index_functions(struct symbolize_ctx *c)
{
	struct cpgo_profile *p = c->p;

	if (cpgo_hashmap_reserve_n(&c->functions, p->n_function) < 0)
		return -1;
	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *f = &p->functions[i];
		struct symbolize_fkey k = { f->name, f->system_name, f->filename, f->start_line };
		uint32_t h = fkey_hash(&k);
		size_t slot, pos;
		int r = fkey_find(c, &k, h, &slot, &pos);

		if (r < 0 || (!r && cpgo_hashmap_set(&c->functions, slot, h, i) < 0))
			return -1;
	}
	return 0;
}

static uint64_t function_id(struct symbolize_ctx *c, const struct sym_frame *fr)
{
	struct cpgo_profile *p = c->p;
	struct symbolize_fkey k;
	struct cpgo_function *fn;
	size_t slot, pos;
	uint32_t h;
	int r;

	k.name = cpgo_profile_intern(p, fr->name);
	k.system_name = cpgo_profile_intern(p, fr->linkage_name ? fr->linkage_name : fr->name);
	k.filename = cpgo_profile_intern(p, fr->file ? fr->file : "");
	k.start_line = fr->start_line;
	if (k.name < 0 || k.system_name < 0 || k.filename < 0)
		return 0;
	h = fkey_hash(&k);
	if ((r = fkey_find(c, &k, h, &slot, &pos)) != 0)
		return r > 0 ? p->functions[pos].id : 0;
	if (!cpgo_profile_add_function(p, fr->name, cpgo_profile_str(p, k.system_name),
				       fr->file ? fr->file : "", fr->start_line))
		return 0;
	/* Ids from a decoded profile need not be 1..n: take one above all of them. */
	fn = &p->functions[p->n_function - 1];
	fn->id = c->next_function_id++;
	if (cpgo_hashmap_set(&c->functions, slot, h, p->n_function - 1) < 0)
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
	/*
	 * Only the mappings some location is in are opened: a process maps
	 * many libraries its samples never touch (the profiler's own among
	 * them), and opening one can mean inflating its debug file.
	 */
	memset(raw, 0, n * sizeof(*raw));
	for (size_t i = 0; i < p->n_location; i++) {
		long mi = p->locations[i].mapping_id ? mapping_index(c, p->locations[i].mapping_id) : -1;
		if (mi >= 0)
			raw[mi] = 1;
	}
	for (size_t i = 0; i < n; i++) {
		/* pprof puts the main binary first; its other segments share its file name. */
		int is_main = i == 0 || (p->mappings[0].filename &&
					 p->mappings[i].filename == p->mappings[0].filename);
		if (raw[i])
			c->map_dso[i] = mapping_dso(c, &p->mappings[i], is_main,
						    opts ? opts->binary_override : NULL);
	}
	free(raw);
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
	struct symbolize_ctx c = { .p = p, .functions = CPGO_HASHMAP_INIT("function") };
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
	if (index_functions(&c) < 0)
		goto cleanup;
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
	cpgo_hashmap_release(&c.functions);
	return ret;
}
