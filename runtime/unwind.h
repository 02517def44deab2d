#ifndef CPGO_RT_UNWIND_H
#define CPGO_RT_UNWIND_H

/*
 * Stack walking for the signal handler. Prefix: unwind_. Everything here is
 * async-signal-safe except unwind_libunwind_prepare().
 */

#include <stdint.h>
#include <ucontext.h>

/*
 * Frame-pointer walk: pc is the leaf, fp/sp from the interrupted context,
 * [sp, stack_hi) the part of the stack that is mapped. Reads only 16-byte
 * frame records that lie inside it, 8-aligned, strictly ascending.
 * Returns the number of frames written (>= 1 when max >= 1).
 */
int unwind_fp(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t stack_hi, uintptr_t *out,
	      int max);

/*
 * Where the leaf's return address is when a sample hit a prologue or an
 * epilogue, where rbp still holds the caller's frame and a frame walk
 * would skip the caller: 1 = at [sp] (at endbr64, push %rbp, or ret),
 * 2 = at [sp+8] (at mov %rsp,%rbp, after the push); 0 = in the body.
 */
int unwind_leaf_ret_slot(uintptr_t pc);

/*
 * A walk with the CFI tables (cfitab.h), for code without frame pointers.
 * The registers are those of the sampled user context; the stack is read
 * only inside [stack_lo, stack_lo + stack_len), through `stack` (a copy
 * made by the kernel, or the live stack itself in the handler). `pc_is_ret`:
 * pc is where the thread returns to from a system call, booked as a call
 * site (pc - 1); a fault or an interrupt leaves pc exact. Stops at a frame without a usable rule, outside the
 * stack, when addresses do not ascend, or at max; a walk that stopped
 * before the thread's first frame ends in SAMPLE_PC_TRUNCATED (counted in
 * max). `build`: missing tables may be built (never in the handler).
 * Returns frames written (>= 1 when max >= 2). With `reach`, says how much
 * of the stack the walk read, and whether it stopped at the copy's end.
 */
struct unwind_reach {
	size_t need; /* bytes above stack_lo the walk read */
	int cut;     /* it stopped short because a read lay beyond stack_len */
};
int unwind_cfi(uintptr_t pc, uintptr_t sp, uintptr_t bp, int pc_is_ret, const unsigned char *stack,
	       uintptr_t stack_lo, size_t stack_len, uintptr_t *out, int max, int build,
	       struct unwind_reach *reach);

/* libunwind sets itself up lazily: do it outside the handler, once before sampling. */
void unwind_libunwind_prepare(void);
/*
 * DWARF unwinding of a signal context with libunwind (takes the loader's
 * lock through dl_iterate_phdr: see CPGO_UNWIND in cpgo.h). Returns frames written.
 */
int unwind_libunwind(ucontext_t *uc, uintptr_t *out, int max);

#endif
