#ifndef CPGO_SYMBOLIZE_H
#define CPGO_SYMBOLIZE_H

/*
 * Symbolization with elfutils libdw/libelf: addresses -> functions, lines
 * and inlined frames. Prefix: symbolize_ (whole profiles) and sym_dso_
 * (one ELF file, for the compiler back ends).
 */

#include <stdint.h>

struct cpgo_profile;

struct symbolize_opts {
	const char *debug_dir;       /* default /usr/lib/debug */
	const char *binary_override; /* use this file for the main (first executable) mapping */
};

/*
 * Fills Function/Line data for every location of `p` that has an address
 * and a mapping but no lines, using each mapping's file (DWARF in the file
 * itself, DEBUG_DIR/.build-id/xx/yyyy.debug found by the build id, or
 * .gnu_debuglink), falling back to ELF symbols when there is no DWARF.
 * One Line per frame, innermost (inlined) first; outer frames get the
 * DW_AT_call_line of the inlined subroutine. Fills Mapping.build_id when
 * empty and the has_* flags. A mapping whose file is missing, deleted or
 * belongs to another build (build id differs) is skipped, not an error.
 * Also fills start_line of already-symbolized functions whose start_line
 * is 0 when a mapping's binary knows them.
 */
int symbolize_profile(struct cpgo_profile *p, const struct symbolize_opts *opts);

struct sym_dso;

/*
 * Opens `path` and finds its DWARF (in the file, by build id under
 * `debug_dir` (NULL = /usr/lib/debug), or by .gnu_debuglink). A file with
 * neither DWARF nor symbols still opens (lookups return 0).
 */
int sym_dso_open(struct sym_dso **out, const char *path, const char *debug_dir);
void sym_dso_close(struct sym_dso *d);

/*
 * name: DW_AT_name (ELF symbol when there is no DWARF);
 * linkage_name: DW_AT_linkage_name, else for the outermost frame the ELF
 *   symbol containing the address (may be a clone, "foo.constprop.0"),
 *   else the name;
 * file: the function's DW_AT_decl_file ("" when unknown);
 * line/column: the line-table row for the innermost frame, the
 *   DW_AT_call_line/column of the inlined subroutine for outer frames;
 * start_line: the function's DW_AT_decl_line (through abstract_origin /
 *   specification), 0 when unknown;
 * discriminator: raw DWARF discriminator of the row (innermost) or
 *   DW_AT_GNU_discriminator of the inlined call site (outer frames).
 */
struct sym_frame {
	const char *name, *linkage_name, *file;
	int64_t line, column, start_line;
	uint32_t discriminator;
};

/*
 * `vaddr` is an ELF virtual address. Fills up to `max` frames innermost
 * first; returns the count (0 = unknown address), -1 on error. Strings
 * live as long as d.
 */
int sym_dso_lookup(struct sym_dso *d, uint64_t vaddr, struct sym_frame *frames, int max);

/*
 * Runtime address in a mapping -> ELF vaddr: the file offset
 * (addr - map_start + map_offset) is converted through the PT_LOAD that
 * contains it. Returns 0, or -1 (error set) when no segment holds it.
 */
int sym_dso_runtime_to_vaddr(struct sym_dso *d, uint64_t runtime_addr, uint64_t map_start,
			     uint64_t map_offset, uint64_t *vaddr);

/*
 * Start line of the function named `name` (DW_AT_name or linkage name),
 * optionally restricted to decl file `file` (basename or full path; NULL =
 * any). Returns 1 found, 0 not found, -1 error.
 */
int sym_dso_start_line(struct sym_dso *d, const char *name, const char *file,
		       int64_t *start_line);

/*
 * Calls cb once per function with code in the binary (DWARF subprograms
 * with addresses, else ELF function symbols); a non-zero return from cb
 * stops the walk and is returned.
 */
int sym_dso_each_function(struct sym_dso *d,
			  int (*cb)(const char *name, const char *linkage_name, const char *file,
				    int64_t start_line, void *arg),
			  void *arg);

/* The file's GNU build id as lowercase hex ("" when it has none). */
const char *sym_dso_build_id(const struct sym_dso *d);
/* The file DWARF was read from (the binary, a .debug file), or NULL when none. */
const char *sym_dso_debug_path(const struct sym_dso *d);

#endif
