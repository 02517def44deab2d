/*
 * The address -> function index of one file's DWARF: subprogram ranges
 * sorted by start (with a running max end, for nested functions), built CU
 * by CU as lookups need them, or whole (sorted by name) for the queries by
 * name.
 */
#include "elf/sym_internal.h"
#include "util/buf.h"
#include "util/error.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

void sym_tree_free(struct sym_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->ranges);
	free(t);
}

static int index_subprogram(struct sym_dso *d, Dwarf_Die *die, Dwarf_Off cu_off)
{
	struct sym_func *f;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	int line = 0;

	if (dwarf_hasattr(die, DW_AT_declaration))
		return 0;
	if (CPGO_GROW(d->funcs, d->alloc_func, d->n_func + 1) < 0)
		return error_prefix("%s", d->path);
	f = &d->funcs[d->n_func];
	memset(f, 0, sizeof(*f));
	f->name = sym_die_name(die);
	if (!f->name)
		return 0; /* an artificial or broken DIE: the ELF symbol will name its code */
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (!sym_range_ok(lo, hi))
			continue;
		if (CPGO_GROW(d->franges, d->alloc_frange, d->n_frange + 1) < 0)
			return error_prefix("%s", d->path);
		d->franges[d->n_frange].lo = lo;
		d->franges[d->n_frange].hi = hi;
		d->franges[d->n_frange].func = d->n_func;
		d->n_frange++;
		f->has_code = 1;
	}
	f->die_off = dwarf_dieoffset(die);
	f->cu_off = cu_off;
	f->linkage = sym_die_linkage(die);
	f->file = sym_die_decl_file(die);
	if (dwarf_decl_line(die, &line) == 0 && line > 0)
		f->start_line = line;
	d->n_func++;
	return 0;
}

static int index_children(struct sym_dso *d, Dwarf_Die *parent, Dwarf_Off cu_off, int depth)
{
	Dwarf_Die child;

	if (depth > SYM_MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			if (index_subprogram(d, &child, cu_off) < 0)
				return -1;
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_module:
			if (index_children(d, &child, cu_off, depth + 1) < 0)
				return -1;
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int cmp_frange(const void *a, const void *b)
{
	const struct sym_frange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? 1 : x->hi > y->hi ? -1 : 0;
}

static int cmp_func_name(const void *a, const void *b)
{
	const struct sym_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if ((c = strcmp(sym_nz(x->linkage), sym_nz(y->linkage))))
		return c;
	if ((c = strcmp(x->file, y->file)))
		return c;
	if (x->start_line != y->start_line)
		return x->start_line < y->start_line ? -1 : 1;
	return x->die_off < y->die_off ? -1 : x->die_off > y->die_off;
}

static void franges_maxhi(struct sym_dso *d, size_t from)
{
	for (size_t i = from; i < d->n_frange; i++) {
		uint64_t prev = i ? d->franges[i - 1].maxhi : 0;
		d->franges[i].maxhi = d->franges[i].hi > prev ? d->franges[i].hi : prev;
	}
}

int sym_index_build(struct sym_dso *d)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	size_t *perm = NULL;
	int ret = -1;

	if (d->indexed)
		return 0;
	d->indexed = 1;
	if (!d->dwarf)
		return 0;
	/* What lookups indexed CU by CU is redone whole, in name order. */
	for (size_t i = 0; i < d->n_func; i++)
		sym_tree_free(d->funcs[i].tree);
	d->n_func = d->n_frange = d->n_cu = 0;
	while (dwarf_get_units(d->dwarf, cu, &next, &version, &unit_type, &cudie, &subdie) == 0) {
		cu = next;
		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial &&
		    unit_type != DW_UT_skeleton)
			continue;
		if (index_children(d, &cudie, dwarf_dieoffset(&cudie), 0) < 0)
			goto cleanup;
	}
	/* Sort functions by name (for start-line lookups) and renumber the ranges. */
	for (size_t i = 0; i < d->n_func; i++)
		d->funcs[i].tree = (struct sym_tree *)(uintptr_t)i; /* old index, restored below */
	if (d->n_func)
		qsort(d->funcs, d->n_func, sizeof(*d->funcs), cmp_func_name);
	if (d->n_func) {
		perm = calloc(d->n_func, sizeof(*perm));
		if (!perm) {
			error("%s: out of memory indexing DWARF", d->path);
			goto cleanup;
		}
	}
	for (size_t i = 0; i < d->n_func; i++) {
		perm[(uintptr_t)d->funcs[i].tree] = i;
		d->funcs[i].tree = NULL;
	}
	for (size_t i = 0; i < d->n_frange; i++)
		d->franges[i].func = perm[d->franges[i].func];
	if (d->n_frange)
		qsort(d->franges, d->n_frange, sizeof(*d->franges), cmp_frange);
	franges_maxhi(d, 0);
	ret = 0;
cleanup:
	if (ret < 0) {
		/* A half-built index must not be used: forget the DWARF functions. */
		d->n_func = d->n_frange = 0;
	}
	free(perm);
	return ret;
}

/*
 * Lookups before the full index index only the compile unit that holds the
 * address: a profile touches few of a library's CUs, and indexing all of
 * libc's separate debug info cost ~140 ms at every profiled exit. The new
 * CU's ranges are sorted and merged into the sorted ones (linear).
 */
int sym_index_cu_of(struct sym_dso *d, uint64_t vaddr, int *added)
{
	Dwarf_Die cudie;
	Dwarf_Off off;
	size_t lo = 0, hi = d->n_cu, old = d->n_frange;
	struct sym_frange *merged = NULL;

	*added = 0;
	if (!d->dwarf)
		return 0;
	if (d->aranges < 0)
		d->aranges = sym_elf_has_section(d->dbg_elf ? d->dbg_elf : d->elf, ".debug_aranges");
	if (!d->aranges) {
		/* Without aranges (clang's default) libdw cannot find a CU by address. */
		if (sym_index_build(d) < 0)
			return -1;
		*added = 1;
		return 0;
	}
	if (!dwarf_addrdie(d->dwarf, vaddr, &cudie))
		return 0;
	off = dwarf_dieoffset(&cudie);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->cus[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->n_cu && d->cus[lo] == off)
		return 0;
	if (CPGO_GROW(d->cus, d->alloc_cu, d->n_cu + 1) < 0)
		return error_prefix("%s", d->path);
	memmove(d->cus + lo + 1, d->cus + lo, (d->n_cu - lo) * sizeof(*d->cus));
	d->cus[lo] = off;
	d->n_cu++;
	if (index_children(d, &cudie, off, 0) < 0)
		return -1;
	if (d->n_frange == old)
		return 0;
	qsort(d->franges + old, d->n_frange - old, sizeof(*d->franges), cmp_frange);
	if (old) {
		size_t i = 0, j = old, k = 0;
		merged = malloc(d->n_frange * sizeof(*merged));
		if (!merged)
			return error("%s: out of memory indexing DWARF", d->path);
		while (i < old || j < d->n_frange) {
			if (j == d->n_frange ||
			    (i < old && cmp_frange(&d->franges[i], &d->franges[j]) <= 0))
				merged[k++] = d->franges[i++];
			else
				merged[k++] = d->franges[j++];
		}
		memcpy(d->franges, merged, d->n_frange * sizeof(*merged));
		free(merged);
	}
	franges_maxhi(d, 0);
	*added = 1;
	return 0;
}

struct sym_func *sym_index_func_at(struct sym_dso *d, uint64_t addr)
{
	size_t lo = 0, hi = d->n_frange;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->franges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The innermost (latest-starting) range that holds addr wins: nested functions. */
	while (lo && d->franges[lo - 1].maxhi > addr) {
		if (addr < d->franges[lo - 1].hi)
			return &d->funcs[d->franges[lo - 1].func];
		lo--;
	}
	return NULL;
}

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');
	return b ? b + 1 : s;
}

/*
 * How well a function's decl file matches the wanted one: 3 same path,
 * 2 one is a whole-component suffix of the other ("dir/x.c" and
 * "/abs/dir/x.c"), 1 same base name (built in another directory), 0 no.
 */
static int file_score(const char *have, const char *want)
{
	size_t hl, wl;

	if (!want)
		return 3;
	if (!strcmp(have, want))
		return 3;
	hl = strlen(have);
	wl = strlen(want);
	if (hl > wl && have[hl - wl - 1] == '/' && !strcmp(have + hl - wl, want))
		return 2;
	if (wl > hl && want[wl - hl - 1] == '/' && !strcmp(want + wl - hl, have))
		return 2;
	if (*have && !strcmp(base_name(have), base_name(want)))
		return 1;
	return 0;
}

int sym_dso_start_line(struct sym_dso *d, const char *name, const char *file,
		       int64_t *start_line)
{
	size_t lo = 0, hi;
	int best = 0, sc;

	if (sym_index_build(d) < 0)
		return -1;
	hi = d->n_func;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(d->funcs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < d->n_func && !strcmp(d->funcs[i].name, name); i++) {
		if (d->funcs[i].start_line > 0 && (sc = file_score(d->funcs[i].file, file)) > best) {
			best = sc;
			*start_line = d->funcs[i].start_line;
		}
	}
	if (best)
		return 1;
	/* Linkage names (C++, renamed symbols) are rare: a linear scan is fine. */
	for (size_t i = 0; i < d->n_func; i++) {
		const struct sym_func *f = &d->funcs[i];
		if (f->linkage && f->start_line > 0 && !strcmp(f->linkage, name) &&
		    (sc = file_score(f->file, file)) > best) {
			best = sc;
			*start_line = f->start_line;
		}
	}
	return best > 0;
}

int sym_dso_each_function(struct sym_dso *d,
			  int (*cb)(const char *name, const char *linkage_name, const char *file,
				    int64_t start_line, void *arg),
			  void *arg)
{
	const struct sym_func *prev = NULL;
	int r;

	if (sym_index_build(d) < 0)
		return -1;
	if (!d->n_frange) {
		for (size_t i = 0; i < d->n_sym; i++)
			if ((r = cb(d->syms[i].name, d->syms[i].name, "", 0, arg)))
				return r;
		return 0;
	}
	/* funcs is sorted by (name, linkage, file, start_line): duplicates are adjacent. */
	for (size_t i = 0; i < d->n_func; i++) {
		const struct sym_func *f = &d->funcs[i];

		if (!f->has_code)
			continue;
		if (prev && !strcmp(prev->name, f->name) &&
		    !strcmp(sym_nz(prev->linkage), sym_nz(f->linkage)) && !strcmp(prev->file, f->file) &&
		    prev->start_line == f->start_line)
			continue;
		prev = f;
		if ((r = cb(f->name, f->linkage ? f->linkage : f->name, f->file, f->start_line, arg)))
			return r;
	}
	return 0;
}
