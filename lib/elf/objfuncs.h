#ifndef CPGO_ELF_OBJFUNCS_H
#define CPGO_ELF_OBJFUNCS_H

/*
 * The functions an ELF file's DWARF defines and the source lines that have
 * code in each (prefix cpgo_objfuncs_). Made for compiler output: a
 * relocatable object (`cc -g -c`) is read through libdwfl, which applies
 * its relocations (plain libdw would read every string and address of an
 * unlinked object as 0). Executables and shared objects work too.
 *
 * A line-table row belongs to the function of its file whose start line
 * (DW_AT_decl_line) is the nearest at or before the row's line: C functions
 * do not nest, so this needs no addresses, and an inlined callee's rows
 * (which carry the callee's file and lines) land in the callee. Functions
 * the object only declares are left out; functions that exist only inlined
 * (an abstract DW_TAG_subprogram) are kept.
 */

#include <stddef.h>
#include <stdint.h>

/* A call instruction in a function: the callee's name and the call's line. */
struct cpgo_objcall {
	const char *callee;
	int64_t line;
};

struct cpgo_objfunc {
	const char *name;         /* DW_AT_name */
	const char *linkage_name; /* DW_AT_linkage_name, else the name */
	const char *file;         /* DW_AT_decl_file as the line table spells it, "" unknown */
	int64_t start;            /* DW_AT_decl_line, 0 unknown */
	int64_t end;              /* the last line with code, 0 when it has none */
	int64_t *lines;           /* lines with code, sorted, unique */
	size_t n_lines, alloc_lines;
	/* Calls, from an object's relocations (compiled with -ffunction-sections, so
	 * that a call to a static function of the same file has one too). */
	struct cpgo_objcall *calls;
	size_t n_calls, alloc_calls;
};

struct cpgo_objfuncs {
	struct cpgo_objfunc *fns;
	size_t n, alloc;
	void *priv; /* the open DWARF the strings live in */
};

/* Reads `path`; fails (naming it) when it cannot be read or has no DWARF. */
int cpgo_objfuncs_read(const char *path, struct cpgo_objfuncs *out);
void cpgo_objfuncs_release(struct cpgo_objfuncs *o);

/* Is `line` one of f's code lines? */
int cpgo_objfunc_has_line(const struct cpgo_objfunc *f, int64_t line);

#endif
