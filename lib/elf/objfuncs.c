/*
 * Functions and their code lines from an object's DWARF (elf/objfuncs.h).
 */
#include "elf/objfuncs.h"
#include "elf/sym_internal.h"
#include "util/buf.h"
#include "util/error.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	/* Lays out an ET_REL file's sections so its relocations can be applied. */
	.section_address = dwfl_offline_section_address,
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_fn(const void *pa, const void *pb)
{
	const struct cpgo_objfunc *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->name, b->name);
}

static const char *attr_string(Dwarf_Die *die, unsigned name)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, name, &a) ? dwarf_formstring(&a) : NULL;
}

/* Adds the CU's top-level function definitions; returns how many. */
static int add_functions(struct cpgo_objfuncs *o, Dwarf_Die *cudie, size_t *added)
{
	Dwarf_Die die;
	bool decl;
	Dwarf_Attribute a;

	*added = 0;
	if (dwarf_child(cudie, &die) != 0)
		return 0;
	do {
		struct cpgo_objfunc *f;
		const char *name, *file;
		int line = 0;

		if (dwarf_tag(&die) != DW_TAG_subprogram)
			continue;
		if (dwarf_attr(&die, DW_AT_declaration, &a) && dwarf_formflag(&a, &decl) == 0 && decl)
			continue;
		name = attr_string(&die, DW_AT_name);
		if (!name || !*name)
			continue;
		file = sym_die_decl_file(&die);
		if (dwarf_decl_line(&die, &line) != 0)
			line = 0;
		if (CPGO_GROW(o->fns, o->alloc, o->n + 1) < 0)
			return -1;
		f = &o->fns[o->n++];
		memset(f, 0, sizeof(*f));
		f->name = name;
		f->linkage_name = attr_string(&die, DW_AT_linkage_name);
		if (!f->linkage_name)
			f->linkage_name = name;
		f->file = file ? file : "";
		f->start = line;
		(*added)++;
	} while (dwarf_siblingof(&die, &die) == 0);
	return 0;
}

/*
 * Sorts fns[first..n) by file and start line and folds duplicates (an
 * abstract inline function and its out-of-line copy are one function).
 */
static void sort_fold(struct cpgo_objfuncs *o, size_t first)
{
	size_t k = first;

	if (o->n - first < 2)
		return;
	qsort(o->fns + first, o->n - first, sizeof(*o->fns), cmp_fn);
	for (size_t i = first + 1; i < o->n; i++) {
		if (!cmp_fn(&o->fns[i], &o->fns[k]))
			continue;
		o->fns[++k] = o->fns[i];
	}
	o->n = k + 1;
}

/* The function of fns[first..n) in `file` with the greatest start <= line, or NULL. */
static struct cpgo_objfunc *owner(struct cpgo_objfuncs *o, size_t first, const char *file,
				  int64_t line)
{
	size_t lo = first, hi = o->n;
	struct cpgo_objfunc *best = NULL;

	/* First function not before (file, line + 1). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o->fns[mid].file, file);
		if (c < 0 || (c == 0 && o->fns[mid].start <= line))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > first && !strcmp(o->fns[lo - 1].file, file) && o->fns[lo - 1].start > 0)
		best = &o->fns[lo - 1];
	return best;
}

static int add_lines(struct cpgo_objfuncs *o, size_t first, Dwarf_Die *cudie)
{
	Dwarf_Lines *lines;
	size_t nl;

	if (dwarf_getsrclines(cudie, &lines, &nl) != 0)
		return 0; /* a CU without a line table has no code lines to give */
	for (size_t i = 0; i < nl; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		struct cpgo_objfunc *f;
		const char *file;
		bool end = false;
		int line;

		if (!l || dwarf_lineendsequence(l, &end) != 0 || end || dwarf_lineno(l, &line) != 0 ||
		    line <= 0 || !(file = dwarf_linesrc(l, NULL, NULL)))
			continue;
		f = owner(o, first, file, line);
		if (!f)
			continue;
		if (f->n_lines && f->lines[f->n_lines - 1] == line)
			continue;
		if (CPGO_GROW(f->lines, f->alloc_lines, f->n_lines + 1) < 0)
			return -1;
		f->lines[f->n_lines++] = line;
	}
	return 0;
}

static void finish_lines(struct cpgo_objfunc *f)
{
	size_t k = 1;

	if (!f->n_lines)
		return;
	qsort(f->lines, f->n_lines, sizeof(*f->lines), cmp_i64);
	for (size_t j = 1; j < f->n_lines; j++)
		if (f->lines[j] != f->lines[k - 1])
			f->lines[k++] = f->lines[j];
	f->n_lines = k;
	f->end = f->lines[k - 1];
}

int cpgo_objfuncs_read(const char *path, struct cpgo_objfuncs *out)
{
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf *dw;
	Dwarf_Addr bias;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	Dwarf_Half version;
	uint8_t unit_type;

	memset(out, 0, sizeof(*out));
	dwfl = dwfl_begin(&offline_callbacks);
	if (!dwfl)
		return error("%s: cannot start libdwfl: %s", path, dwfl_errmsg(-1));
	out->priv = dwfl;
	mod = dwfl_report_offline(dwfl, path, path, -1);
	if (!mod) {
		error("%s: cannot read: %s", path, dwfl_errmsg(-1));
		goto fail;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	dw = dwfl_module_getdwarf(mod, &bias);
	if (!dw) {
		error("%s: no DWARF debug info (compile with -g): %s", path, dwfl_errmsg(-1));
		goto fail;
	}
	while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		size_t first = out->n, added;
		if (add_functions(out, &cudie, &added) < 0)
			goto fail;
		sort_fold(out, first);
		if (add_lines(out, first, &cudie) < 0)
			goto fail;
	}
	for (size_t i = 0; i < out->n; i++)
		finish_lines(&out->fns[i]);
	return 0;
fail:
	cpgo_objfuncs_release(out);
	return -1;
}

void cpgo_objfuncs_release(struct cpgo_objfuncs *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->fns[i].lines);
	free(o->fns);
	if (o->priv)
		dwfl_end(o->priv);
	memset(o, 0, sizeof(*o));
}

int cpgo_objfunc_has_line(const struct cpgo_objfunc *f, int64_t line)
{
	return bsearch(&line, f->lines, f->n_lines, sizeof(*f->lines), cmp_i64) != NULL;
}
