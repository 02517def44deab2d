#ifndef CPGO_ELF_SYM_INTERNAL_H
#define CPGO_ELF_SYM_INTERNAL_H

/*
 * Internals of the one-file symbolizer (struct sym_dso), shared by its
 * parts and by nothing else:
 *   sym_dso.c       open/close, PT_LOAD segments, ELF symbols
 *   sym_debuginfo.c finding the DWARF: in the file, by build id, by debuglink
 *   sym_die.c       reading DIE attributes
 *   sym_index.c     the address -> function index (CU by CU or whole) and
 *                   the queries by name
 *   sym_lookup.c    per-function inline trees and the address -> frames lookup
 * Prefix: sym_ (the public half in symbolize.h is sym_dso_).
 */

#include "elf/symbolize.h"

#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#ifndef DW_AT_GNU_discriminator
#define DW_AT_GNU_discriminator 0x2136
#endif

/* Hostile DWARF can nest without end; real code stays far below this. */
#define SYM_MAX_DEPTH 256

struct sym_seg {
	uint64_t offset, filesz, vaddr;
};

struct sym_sym {
	uint64_t lo, hi;
	const char *name;
};

struct sym_node {
	const char *name, *linkage, *file;
	int64_t start_line, call_line, call_column;
	uint32_t discriminator;
	uint32_t parent;
	size_t rfirst, rcount; /* children's ranges in sym_tree.ranges */
};

struct sym_nrange {
	uint64_t lo, hi;
	uint32_t parent, node;
};

struct sym_tree {
	struct sym_node *nodes;
	size_t n_node, alloc_node;
	struct sym_nrange *ranges; /* sorted by (parent, lo) */
	size_t n_range, alloc_range;
};

struct sym_func {
	Dwarf_Off die_off, cu_off;
	const char *name, *linkage, *file;
	int64_t start_line;
	int has_code;
	struct sym_tree *tree; /* built on first lookup */
};

struct sym_frange {
	uint64_t lo, hi, maxhi; /* maxhi: largest hi up to here, for nested ranges */
	size_t func;
};

struct sym_dso {
	char *path;
	int fd;
	Elf *elf;
	char *dbg_path; /* separate debug file, or NULL */
	int dbg_fd;
	Elf *dbg_elf;
	Dwarf *dwarf;
	char *build_id;

	struct sym_seg *segs;
	size_t n_seg, alloc_seg;
	struct sym_sym *syms;
	size_t n_sym, alloc_sym;

	int indexed;            /* the full index (every CU, functions sorted by name) */
	int aranges;            /* has .debug_aranges: 1, no: 0, not looked yet: -1 */
	Dwarf_Off *cus;         /* before it: the CUs indexed for lookups, sorted */
	size_t n_cu, alloc_cu;
	struct sym_func *funcs; /* every subprogram definition, sorted by name after indexing */
	size_t n_func, alloc_func;
	struct sym_frange *franges;
	size_t n_frange, alloc_frange;
};

static inline const char *sym_nz(const char *s)
{
	return s ? s : "";
}

/* sym_debuginfo.c */
int sym_elf_has_section(Elf *elf, const char *name);
int sym_elf_has_dwarf(Elf *elf);
/* The GNU build id as malloc'ed lowercase hex, NULL when none (or out of memory). */
char *sym_build_id_hex(Elf *elf);
/* Sets d->dbg_path/dbg_elf/dbg_fd to a debug file of this build, when one is found. */
void sym_debug_find(struct sym_dso *d, const char *debug_dir);

/* sym_dso.c: the ELF symbol holding addr, or NULL. */
const struct sym_sym *sym_elf_sym_at(const struct sym_dso *d, uint64_t addr);

/* sym_die.c */
const char *sym_die_name(Dwarf_Die *die);
const char *sym_die_linkage(Dwarf_Die *die);
const char *sym_die_decl_file(Dwarf_Die *die);
int64_t sym_die_udata(Dwarf_Die *die, unsigned attr);
/* Dead code in linked binaries keeps low_pc 0 (or a tombstone); no real function lives there. */
static inline int sym_range_ok(Dwarf_Addr lo, Dwarf_Addr hi)
{
	return lo && lo < hi && lo < (Dwarf_Addr)-2;
}

/* sym_index.c */
/* Indexes every CU (once); functions end sorted by name. */
int sym_index_build(struct sym_dso *d);
/* Before the full index: indexes the CU holding vaddr; *added = 1 when the index changed. */
int sym_index_cu_of(struct sym_dso *d, uint64_t vaddr, int *added);
/* The innermost indexed function whose code holds addr, or NULL. */
struct sym_func *sym_index_func_at(struct sym_dso *d, uint64_t addr);

/* sym_lookup.c */
void sym_tree_free(struct sym_tree *t);

#endif
