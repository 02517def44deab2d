#ifndef CPGO_RT_CFITAB_H
#define CPGO_RT_CFITAB_H

/*
 * The unwind tables (lib/elf/cfi.h) of the loaded objects, for unwinding
 * code built without frame pointers. Prefix: cfitab_.
 *
 * The set of objects is published by an atomic pointer swap; a set or a
 * table that was replaced (an object unloaded) is kept until
 * cfitab_free_retired(), which runs only when no reader can be left.
 * Writers (cfitab_sync, cfitab_build_all, cfitab_free_retired) are
 * serialized by the caller (the collector's lock). cfitab_find(pc, 0) is
 * async-signal-safe; with `build` it builds a missing table (never in a
 * signal handler).
 */

#include <stdint.h>

#include "elf/cfi.h"

/*
 * Re-reads the list of loaded objects if the loader added or removed any
 * since the last call (dl_iterate_phdr's counters), keeping the tables
 * already built. With `build_all` every table is built now (for readers
 * that cannot build: the signal handler). 0, or -1 when out of memory.
 */
int cfitab_sync(int build_all);
/*
 * Frame pointers in the main executable: per thousand bytes of its code, those of
 * functions whose CFA moves to rbp; -1 unknown.
 */
int cfitab_exe_fp_permille(void);
/* The row for runtime address pc, NULL when no loaded object's table covers it. */
const struct cpgo_cfi_row *cfitab_find(uintptr_t pc, int build);
/* Frees what was replaced; only while nothing can be unwinding. */
void cfitab_free_retired(void);
/* In a fork child: nothing changes (same mappings), the build lock is reset. */
void cfitab_atfork_child(void);

#endif
