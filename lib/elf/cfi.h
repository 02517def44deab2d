#ifndef CPGO_ELF_CFI_H
#define CPGO_ELF_CFI_H

/*
 * Compact unwind tables from an ELF file's call-frame information
 * (.eh_frame, else .debug_frame), for unwinding code built without frame
 * pointers. Prefix: cpgo_cfi_.
 *
 * For each address range the table keeps only what an x86-64 stack walk
 * needs: CFA = rsp|rbp + offset, the return address at CFA - 8, and where
 * the caller's rbp was saved (if it was). Ranges whose rules are anything
 * else (DWARF expressions, signal frames, no FDE) read as UNKNOWN: the
 * walk stops there instead of guessing. Building parses with libdw and
 * allocates; cpgo_cfi_find() does neither and may run in a signal handler.
 */

#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

enum cpgo_cfi_cfa {
	CPGO_CFI_UNKNOWN = 0, /* no usable rule: stop, the stack is cut short */
	CPGO_CFI_RSP,         /* CFA = rsp + cfa_off */
	CPGO_CFI_RBP,         /* CFA = rbp + cfa_off */
	CPGO_CFI_OUTERMOST,   /* return address undefined: the first frame of a thread */
};

enum cpgo_cfi_rbp {
	CPGO_CFI_RBP_SAME = 0, /* the caller's rbp is the current one */
	CPGO_CFI_RBP_SAVED,    /* the caller's rbp is at CFA + rbp_off */
	CPGO_CFI_RBP_LOST,     /* not recoverable (undefined or an expression) */
};

struct cpgo_cfi_row {
	uint32_t off;    /* start of the range, from the table's lo */
	int32_t cfa_off;
	uint8_t cfa;     /* enum cpgo_cfi_cfa */
	uint8_t rbp;     /* enum cpgo_cfi_rbp */
	int16_t rbp_off;
};

struct cpgo_cfi_table {
	uint64_t lo, hi; /* link-time addresses covered; a row ends where the next starts */
	struct cpgo_cfi_row *rows;
	size_t n, alloc;
	/* FDEs, and those whose CFA moves to rbp (the function keeps a frame pointer). */
	size_t fdes, fp_fdes;
	/* Bytes of code the FDEs cover, and those of the FDEs that keep a frame pointer. */
	uint64_t code_bytes, fp_bytes;
};

void cpgo_cfi_init(struct cpgo_cfi_table *t);
void cpgo_cfi_release(struct cpgo_cfi_table *t);
/* Builds the table of an ELF file (executable or shared object); errors name the file. */
int cpgo_cfi_build(struct cpgo_cfi_table *t, const char *path);
/* The same from an open ELF handle; `name` is for messages. */
int cpgo_cfi_build_elf(struct cpgo_cfi_table *t, Elf *elf, const char *name);
/* The row that covers link-time address `addr`, NULL outside the table. Async-signal-safe. */
const struct cpgo_cfi_row *cpgo_cfi_find(const struct cpgo_cfi_table *t, uint64_t addr);

#endif
