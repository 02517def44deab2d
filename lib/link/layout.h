#ifndef CPGO_LINK_LAYOUT_H
#define CPGO_LINK_LAYOUT_H

/*
 * Function layout from a profile's call graph (hfsort's C3, Ottoni & Maher,
 * CGO 2017), for the linker: each sample's leaf function and its caller
 * give a weighted call edge; leaves give each function its own weight.
 * Output is what lld takes: a `--call-graph-ordering-file` ("caller callee
 * weight" lines; lld then sorts with the real section sizes) or a
 * `--symbol-ordering-file` (one symbol a line, the C3 order).
 * Names are the symbols the compiler emits: the profile's system name of the
 * outermost frame (the ELF symbol the symbolizer found, clones included),
 * checked against a binary's symbol table when one is given. Prefix:
 * cpgo_layout_.
 */

#include <stddef.h>
#include <stdint.h>

#include "elf/elfsyms.h"
#include "util/buf.h"
#include "util/hashmap.h"

struct cpgo_profile;

struct cpgo_layout_node {
	char *symbol;   /* as the linker knows it */
	char *file;     /* the function's source file ("" when unknown) */
	uint64_t self;  /* samples with this function as the leaf */
	uint64_t size;  /* bytes, from the binary (0 without one) */
	int found;      /* 1: the binary has it (always 1 without a binary) */
};

struct cpgo_layout_edge {
	size_t caller, callee; /* node positions */
	uint64_t weight;
};

struct cpgo_layout {
	struct cpgo_layout_node *nodes;
	size_t n_node, alloc_node;
	struct cpgo_layout_edge *edges;
	size_t n_edge, alloc_edge;
	/* Every caller/callee pair on the stacks, weighted by samples: for folding. */
	struct cpgo_layout_edge *pairs;
	size_t n_pair, alloc_pair;
	size_t *order; /* node positions, hottest cluster first (cpgo_layout_c3) */
	size_t n_order;
	/* What could not be placed, for the report. */
	uint64_t samples, samples_unknown, samples_other_mapping;
	size_t n_unknown;
	struct cpgo_hashmap node_map, edge_map, pair_map;
};

struct cpgo_layout_opts {
	const char *binary;    /* the profiled binary: symbol names and sizes (NULL: none) */
	const char *name;      /* the profile's name, for errors */
};

void cpgo_layout_init(struct cpgo_layout *l);
void cpgo_layout_release(struct cpgo_layout *l);

/*
 * Builds nodes and edges from `p` (its PGO sample value). Only samples whose
 * leaf lies in the profile's main mapping (the first) are placed: other
 * objects (libc, the vdso) are not linked with the program. Names the
 * binary does not have are counted in n_unknown/samples_unknown, never fatal.
 */
int cpgo_layout_build(struct cpgo_layout *l, struct cpgo_profile *p,
		      const struct cpgo_layout_opts *opts);

/*
 * Names nodes after the symbols in `syms` that stand for them (the exact
 * name; else a renaming of the same function: .__uniq., .llvm., .part and
 * other clones, never a .cold part; a static only from its own file), takes
 * their sizes, and marks the rest as not found (counted in n_unknown).
 * `what` names the symbols' files in errors.
 */
int cpgo_layout_resolve(struct cpgo_layout *l, const struct cpgo_elfsyms *syms, const char *what);

/* The C3 order of the found nodes with samples; sizes default to one page share when unknown. */
int cpgo_layout_c3(struct cpgo_layout *l);

/* "caller callee weight" lines, heaviest first, for lld --call-graph-ordering-file. */
int cpgo_layout_write_edges(const struct cpgo_layout *l, struct cpgo_buf *out);
/* One symbol a line in C3 order, for lld --symbol-ordering-file. */
int cpgo_layout_write_order(const struct cpgo_layout *l, struct cpgo_buf *out);

#endif
