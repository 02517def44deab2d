/*
 * The pprof function table as LLVM keys it: one canonical name per
 * function, one top-level profile per name (LLVM keys by name only, so
 * same-named statics of several files must be told apart or left out), and
 * the start lines that line offsets are counted from.
 */
#include "sprof_int.h"
#include "util/error.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

#include <stdlib.h>
#include <string.h>

int sprof_is_source_ext(const char *path)
{
	static const char *const exts[] = { ".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".m",
					    ".mm", ".s", ".S" };
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return 0;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!strcmp(dot, exts[i]))
			return 1;
	return 0;
}

int sp_mark_sampled(struct sp_ctx *c)
{
	if (!(c->loc_sampled = calloc(c->p->n_location ? c->p->n_location : 1, 1)))
		return error("%s: out of memory", c->pname);
	for (size_t si = 0; si < c->p->n_sample; si++) {
		const struct cpgo_sample *s = &c->p->samples[si];
		if (cpgo_sample_values(c->p, si)[c->vi] <= 0)
			continue;
		for (size_t k = 0; k < s->n_loc; k++) {
			const struct cpgo_location *loc =
				cpgo_profile_location(c->p, c->p->sample_locs[s->loc_off + k]);
			if (loc)
				c->loc_sampled[loc - c->p->locations] = 1;
		}
	}
	return 0;
}

int sp_fn_setup(struct sp_ctx *c)
{
	struct cpgo_buf cn = CPGO_BUF_INIT;
	int ret = -1;

	c->fn = calloc(c->p->n_function ? c->p->n_function : 1, sizeof(*c->fn));
	if (!c->fn) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->p->n_function; i++) {
		const struct cpgo_function *f = &c->p->functions[i];
		const char *nm = sprof_pick_name(cpgo_profile_str(c->p, f->name),
					   cpgo_profile_str(c->p, f->system_name));

		c->fn[i].name = -1;
		c->fn[i].start = f->start_line;
		c->fn[i].file = cpgo_profile_str(c->p, f->filename);
		c->fn[i].keep_top = 1;
		/* Kernel time is not the program's code: no profile, no call target. */
		c->fn[i].kernel = cpgo_is_kernel_frame(nm);
		if (!*nm || c->fn[i].kernel)
			continue;
		if (sprof_canonical_name(nm, &cn) < 0 || !cn.len)
			continue;
		if ((c->fn[i].name = sprof_name_intern(c->m, cn.buf)) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}

struct sp_name_file {
	int64_t name;
	const char *file;
	size_t fn;
};

static int cmp_name_file(const void *a, const void *b)
{
	const struct sp_name_file *x = a, *y = b;
	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return strcmp(x->file, y->file);
}

/*
 * Per model name: the one file that defines it, or `multi` when two files
 * do. Filled from every function of the profile and, when the profiled
 * binary is open, from its DWARF: a static of another file that was never
 * sampled is in no profile function, only in the binary.
 */
struct sp_def_files {
	const char **file;
	unsigned char *multi;
	size_t n;
	struct sprof_model *m;
};

static void def_note(struct sp_def_files *d, int64_t name, const char *file)
{
	if (name < 0 || (size_t)name >= d->n || !file || !*file)
		return;
	if (!d->file[name])
		d->file[name] = file;
	else if (strcmp(d->file[name], file))
		d->multi[name] = 1;
}

static int def_binary_cb(const char *name, const char *linkage, const char *file, int64_t start,
			 void *arg)
{
	struct sp_def_files *d = arg;
	struct cpgo_buf cn = CPGO_BUF_INIT;
	int ret = -1;

	(void)start;
	if (sprof_canonical_name(sprof_pick_name(name, linkage), &cn) < 0)
		goto cleanup;
	if (cn.len)
		def_note(d, sprof_name_find(d->m, cn.buf), file);
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}

/*
 * Which names only one file defines. The binary's DWARF names the file a
 * function was compiled in by its own path, which need not be the
 * profile's spelling of it: only a differing file next to the profile's
 * one (no common trailing components) counts as a second definition.
 */
static int def_files_fill(struct sp_ctx *c, struct sp_def_files *d)
{
	d->n = c->m->n_names;
	d->m = c->m;
	d->file = calloc(d->n + 1, sizeof(*d->file));
	d->multi = calloc(d->n + 1, 1);
	if (!d->file || !d->multi)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->p->n_function; i++)
		def_note(d, c->fn[i].name, c->fn[i].file);
	if (c->dso) {
		struct sp_def_files bin = { NULL, NULL, d->n, c->m };
		int r = -1;

		bin.file = calloc(d->n + 1, sizeof(*bin.file));
		bin.multi = calloc(d->n + 1, 1);
		if (bin.file && bin.multi)
			r = sym_dso_each_function(c->dso, def_binary_cb, &bin);
		else
			error("%s: out of memory", c->pname);
		for (size_t i = 0; r >= 0 && i < d->n; i++)
			if (bin.multi[i] || (bin.file[i] && d->file[i] &&
					     !sprof_path_suffix_score(bin.file[i], d->file[i])))
				d->multi[i] = 1;
		free(bin.file);
		free(bin.multi);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int cmp_strp(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* Does the source being compiled define function `name` (sprof_opts.tu_functions)? */
static int tu_defines(const struct sp_ctx *c, int64_t name)
{
	const struct cpgo_strvec *f = c->o->tu_functions;
	return f && f->n && bsearch(c->m->names[name], f->v, f->n, sizeof(*f->v), cmp_strp);
}

/*
 * How well `file` matches the translation unit being compiled: the most
 * trailing path components it shares with the source or with a source file
 * the source includes; 0 = another TU's file (or no source_file).
 */
int sp_tu_score(const struct sp_ctx *c, const char *file)
{
	const struct cpgo_strvec *inc = c->o ? c->o->tu_sources : NULL;
	int best;

	if (!c->o || !c->o->source_file || !file || !*file)
		return 0;
	best = sprof_path_suffix_score(file, c->o->source_file);
	for (size_t i = 0; inc && i < inc->n; i++) {
		int sc = sprof_path_suffix_score(file, inc->v[i]);
		if (sc > best)
			best = sc;
	}
	return best;
}

/*
 * Decides which sampled functions get a top-level profile: LLVM keys by
 * name, so one name must stand for one function of one file.
 */
int sp_choose_tops(struct sp_ctx *c)
{
	struct sp_name_file *v = NULL;
	struct sp_def_files defs = { 0 };
	size_t n = 0, alloc = 0;
	const char *src = c->o ? c->o->source_file : NULL;
	int ret = -1;

	for (size_t li = 0; li < c->p->n_location; li++) {
		const struct cpgo_location *loc = &c->p->locations[li];
		const struct cpgo_function *f;
		if (!c->loc_sampled[li] || !loc->n_line)
			continue;
		for (size_t j = 0; j < loc->n_line; j++) {
			f = cpgo_profile_function(c->p, c->p->lines[loc->line_off + j].function_id);
			if (f && c->fn[f - c->p->functions].name >= 0)
				c->seen_name[c->fn[f - c->p->functions].name] = 1;
		}
		f = cpgo_profile_function(c->p,
					  c->p->lines[loc->line_off + loc->n_line - 1].function_id);
		if (!f || c->fn[f - c->p->functions].outer_used)
			continue;
		c->fn[f - c->p->functions].outer_used = 1;
		if (c->fn[f - c->p->functions].name < 0)
			continue;
		if (CPGO_GROW(v, alloc, n + 1) < 0)
			goto cleanup;
		v[n++] = (struct sp_name_file){ c->fn[f - c->p->functions].name,
						c->fn[f - c->p->functions].file,
						(size_t)(f - c->p->functions) };
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_name_file);
	for (size_t i = 0, j; i < n; i = j) {
		int files = 1, best = 0, n_best = 0;

		for (j = i + 1; j < n && v[j].name == v[i].name; j++)
			if (strcmp(v[j].file, v[j - 1].file))
				files++;
		if (files == 1) {
			/*
			 * Another file's function: of no use to this TU, unless the
			 * TU defines it now and no other file defines that name
			 * (then it is the same function, moved here). A name other
			 * files define too may be this TU's own static, which
			 * another file's samples would shadow.
			 */
			if (src && *v[i].file && sprof_is_source_ext(v[i].file) &&
			    !sp_tu_score(c, v[i].file)) {
				if (tu_defines(c, v[i].name)) {
					if (!defs.file && def_files_fill(c, &defs) < 0)
						goto cleanup;
					if (!defs.multi[v[i].name]) {
						c->st.moved_kept++;
						continue;
					}
				}
				for (size_t k = i; k < j; k++)
					c->fn[v[k].fn].keep_top = 0;
				c->st.other_tu_dropped++;
			}
			continue;
		}
		if (src) {
			for (size_t k = i; k < j; k++) {
				int sc = sp_tu_score(c, v[k].file);
				if (sc > best) {
					best = sc;
					n_best = 0;
				}
				if (sc == best && (k == i || strcmp(v[k].file, v[k - 1].file) || !n_best))
					n_best++;
			}
		}
		for (size_t k = i; k < j; k++) {
			int keep = best > 0 && n_best == 1 && sp_tu_score(c, v[k].file) == best;
			c->fn[v[k].fn].keep_top = keep;
		}
		if (!(best > 0 && n_best == 1))
			c->st.ambiguous_dropped++;
		else
			c->st.other_tu_dropped += (size_t)files - 1;
	}
	ret = 0;
cleanup:
	free(defs.file);
	free(defs.multi);
	free(v);
	return ret;
}

int sp_check_start_lines(struct sp_ctx *c)
{
	struct cpgo_buf missing = CPGO_BUF_INIT;
	size_t n_missing = 0, n_lined = 0;
	int opened = 0, ret = -1;

	for (size_t li = 0; li < c->p->n_location; li++) {
		const struct cpgo_location *loc = &c->p->locations[li];
		/* Every file's functions count: whether the profile has start
		 * lines is a property of the profile, not of one TU's view. */
		if (!c->loc_sampled[li] || !loc->n_line)
			continue;
		for (size_t j = 0; j < loc->n_line; j++) {
			const struct cpgo_line *ln = &c->p->lines[loc->line_off + j];
			const struct cpgo_function *f = cpgo_profile_function(c->p, ln->function_id);
			/* 1: keyed by line but no start line; 2: fine. */
			if (f && ln->line > 0)
				c->fn[f - c->p->functions].needs_start =
					c->fn[f - c->p->functions].start <= 0 ? 1 : 2;
		}
	}
	for (size_t i = 0; i < c->p->n_function; i++) {
		struct sp_fn *f = &c->fn[i];
		int64_t sl = 0;
		int r;

		if (f->needs_start)
			n_lined++;
		if (f->needs_start != 1 || f->name < 0)
			continue;
		if (!c->dso && !opened) {
			opened = 1;
			if (sp_open_dso_for_repair(c) < 0)
				goto cleanup;
		}
		if (c->dso) {
			r = sym_dso_start_line(c->dso, c->m->names[f->name], *f->file ? f->file : NULL, &sl);
			if (r < 0)
				goto cleanup;
			if (r > 0 && sl > 0) {
				f->start = sl;
				c->st.start_lines_repaired++;
				continue;
			}
		}
		if (n_missing < 5)
			cpgo_buf_addf(&missing, "%s%s", n_missing ? ", " : "", c->m->names[f->name]);
		n_missing++;
	}
	/*
	 * A few functions without a start line are normal: assembly in libc,
	 * code without DWARF. They are left out (nobody compiles them with this
	 * profile). When most lack one, the profile as a whole is unusable (a
	 * Go < 1.20 profile, a converter that drops it): refuse, as Go does.
	 */
	if (n_missing && n_missing * 2 <= n_lined) {
		for (size_t i = 0; i < c->p->n_function; i++)
			if (c->fn[i].needs_start == 1 && c->fn[i].start <= 0)
				c->fn[i].name = -1;
		c->st.start_lines_missing += n_missing;
		n_missing = 0;
	}
	if (n_missing) {
		error("%s: %zu sampled function%s without a start line (%s%s): samples are keyed "
		      "by line offset from the function's start; pass the profiled binary with "
		      "--binary to read the start lines from its DWARF, or record the profile with "
		      "a tool that writes Function.start_line (Go >= 1.20, libcpgo)",
		      c->pname, n_missing, n_missing == 1 ? "" : "s", missing.buf,
		      n_missing > 5 ? ", ..." : "");
		goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&missing);
	return ret;
}

