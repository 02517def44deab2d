/*
 * Address -> frames: a per-function tree of inlined calls (built on first
 * use, kept for the file's life, so a lookup costs a few binary searches
 * however big the function is) and the line table row of the innermost one.
 */
#include "elf/sym_internal.h"
#include "util/buf.h"
#include "util/error.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int tree_add_node(struct sym_dso *d, struct sym_tree *t, Dwarf_Die *die, uint32_t parent,
			 uint32_t *idx)
{
	struct sym_node *n;
	int line = 0;

	if (t->n_node >= UINT32_MAX)
		return error("%s: too many inlined frames", d->path);
	if (CPGO_GROW(t->nodes, t->alloc_node, t->n_node + 1) < 0)
		return error_prefix("%s", d->path);
	n = &t->nodes[t->n_node];
	memset(n, 0, sizeof(*n));
	n->name = sym_die_name(die);
	n->linkage = sym_die_linkage(die);
	n->file = sym_die_decl_file(die);
	if (dwarf_decl_line(die, &line) == 0 && line > 0)
		n->start_line = line;
	n->call_line = sym_die_udata(die, DW_AT_call_line);
	n->call_column = sym_die_udata(die, DW_AT_call_column);
	n->discriminator = (uint32_t)sym_die_udata(die, DW_AT_GNU_discriminator);
	n->parent = parent;
	*idx = (uint32_t)t->n_node++;
	return 0;
}

static int tree_walk(struct sym_dso *d, struct sym_tree *t, Dwarf_Die *parent_die, uint32_t parent,
		     int depth)
{
	Dwarf_Die child;

	if (depth > SYM_MAX_DEPTH || dwarf_child(parent_die, &child) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			uint32_t idx;

			if (tree_add_node(d, t, &child, parent, &idx) < 0)
				return -1;
			while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
				if (!sym_range_ok(lo, hi))
					continue;
				if (CPGO_GROW(t->ranges, t->alloc_range, t->n_range + 1) < 0)
					return error_prefix("%s", d->path);
				t->ranges[t->n_range++] = (struct sym_nrange){ lo, hi, parent, idx };
			}
			if (tree_walk(d, t, &child, idx, depth + 1) < 0)
				return -1;
		} else if (tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
			   tag == DW_TAG_catch_block) {
			/* Blocks are not frames: their inlined calls belong to the enclosing one. */
			if (tree_walk(d, t, &child, parent, depth + 1) < 0)
				return -1;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int cmp_nrange(const void *a, const void *b)
{
	const struct sym_nrange *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static struct sym_tree *func_tree(struct sym_dso *d, struct sym_func *f)
{
	struct sym_tree *t;
	Dwarf_Die die;
	uint32_t root;

	if (f->tree)
		return f->tree;
	t = calloc(1, sizeof(*t));
	if (!t) {
		error("%s: out of memory", d->path);
		return NULL;
	}
	if (!dwarf_offdie(d->dwarf, f->die_off, &die)) {
		error("%s: bad DWARF DIE offset 0x%" PRIx64 ": %s", d->path, (uint64_t)f->die_off,
		      dwarf_errmsg(-1));
		goto fail;
	}
	if (tree_add_node(d, t, &die, 0, &root) < 0 || tree_walk(d, t, &die, root, 0) < 0)
		goto fail;
	if (t->n_range)
		qsort(t->ranges, t->n_range, sizeof(*t->ranges), cmp_nrange);
	for (size_t i = 0; i < t->n_range; i++) {
		struct sym_node *p = &t->nodes[t->ranges[i].parent];
		if (!p->rcount)
			p->rfirst = i;
		p->rcount++;
	}
	f->tree = t;
	return t;
fail:
	sym_tree_free(t);
	return NULL;
}

/* The child of `n` whose range holds addr, or -1. */
static int64_t tree_child_at(const struct sym_tree *t, const struct sym_node *n, uint64_t addr)
{
	size_t lo = n->rfirst, hi = n->rfirst + n->rcount;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Siblings rarely overlap; look back a little in case they do. */
	for (size_t k = 0; k < 4 && lo > n->rfirst; k++, lo--)
		if (addr < t->ranges[lo - 1].hi)
			return t->ranges[lo - 1].node;
	return -1;
}

int sym_dso_lookup(struct sym_dso *d, uint64_t vaddr, struct sym_frame *frames, int max)
{
	const struct sym_sym *sym;
	struct sym_func *f;
	struct sym_tree *t;
	uint32_t chain[SYM_MAX_DEPTH + 2];
	int n = 0, count;
	int64_t c;
	Dwarf_Die cudie;
	Dwarf_Line *row;

	if (max <= 0)
		return 0;
	sym = sym_elf_sym_at(d, vaddr);
	f = sym_index_func_at(d, vaddr);
	if (!f && !d->indexed) {
		int added;
		if (sym_index_cu_of(d, vaddr, &added) < 0)
			return -1;
		if (added)
			f = sym_index_func_at(d, vaddr);
	}
	if (!f) {
		if (!sym)
			return 0;
		frames[0] = (struct sym_frame){ .name = sym->name, .linkage_name = sym->name,
						.file = "" };
		return 1;
	}
	if (!(t = func_tree(d, f)))
		return -1;
	/* Walk from the function down to the innermost inlined call holding vaddr. */
	chain[n++] = 0;
	while (n < (int)(sizeof(chain) / sizeof(chain[0])) &&
	       (c = tree_child_at(t, &t->nodes[chain[n - 1]], vaddr)) >= 0)
		chain[n++] = (uint32_t)c;
	count = n < max ? n : max;
	for (int i = 0; i < count; i++) {
		const struct sym_node *node = &t->nodes[chain[n - 1 - i]];
		struct sym_frame *fr = &frames[i];

		fr->name = node->name ? node->name : "??";
		fr->linkage_name = node->linkage;
		fr->file = node->file;
		fr->start_line = node->start_line;
		if (i == 0) {
			fr->line = fr->column = 0;
			fr->discriminator = 0;
		} else {
			const struct sym_node *callee = &t->nodes[chain[n - i]];
			fr->line = callee->call_line;
			fr->column = callee->call_column;
			fr->discriminator = callee->discriminator;
		}
		if (!fr->linkage_name)
			fr->linkage_name = (i == n - 1 && sym) ? sym->name : fr->name;
	}
	if (dwarf_offdie(d->dwarf, f->cu_off, &cudie) && (row = dwarf_getsrc_die(&cudie, vaddr))) {
		int line = 0, col = 0;
		unsigned disc = 0;

		dwarf_lineno(row, &line);
		dwarf_linecol(row, &col);
		dwarf_linediscriminator(row, &disc);
		frames[0].line = line > 0 ? line : 0;
		frames[0].column = col > 0 ? col : 0;
		frames[0].discriminator = disc;
	}
	return count;
}
