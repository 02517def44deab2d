/*
 * The handler's unwinders: frame pointers (with a fix-up for samples that
 * land in a prologue or epilogue) and libunwind.
 */
#include "unwind.h"

#include "cfitab.h"
#include "ring.h"

#include <string.h>

#include <sys/uio.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

/*
 * The code bytes are read with process_vm_readv on ourselves, which fails
 * cleanly instead of faulting if pc is not readable.
 */
int unwind_leaf_ret_slot(uintptr_t pc)
{
#if defined(__x86_64__)
	unsigned char c[4];
	struct iovec local = { c, sizeof(c) }, remote = { (void *)pc, sizeof(c) };

	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)sizeof(c))
		return 0;
	if (c[0] == 0x55 || c[0] == 0xc3 ||
	    (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa))
		return 1;
	if (c[0] == 0x48 && ((c[1] == 0x89 && c[2] == 0xe5) || (c[1] == 0x8b && c[2] == 0xec)))
		return 2;
#else
	(void)pc;
#endif
	return 0;
}

int unwind_fp(uintptr_t pc, uintptr_t fp, uintptr_t sp, uintptr_t stack_hi, uintptr_t *out,
	      int max)
{
	const uintptr_t rec = 2 * sizeof(uintptr_t);
	uintptr_t lo = sp;
	int n = 0, slot;

	if (max <= 0)
		return 0;
	out[n++] = pc;
	if (stack_hi < rec || sp >= stack_hi)
		return n;
	if (n < max && (slot = unwind_leaf_ret_slot(pc)) != 0) {
		uintptr_t at = sp + (uintptr_t)(slot - 1) * sizeof(uintptr_t), ret;
		if (!(at & (sizeof(uintptr_t) - 1)) && at <= stack_hi - sizeof(uintptr_t)) {
			ret = *(const volatile uintptr_t *)at;
			if (ret >= 4096)
				out[n++] = ret - 1;
		}
	}
	while (n < max) {
		const volatile uintptr_t *frame;
		uintptr_t next, ret;

		/* The whole record must lie in the mapped part [sp, stack_hi) of the stack. */
		if (fp < lo || fp > stack_hi - rec || (fp & (sizeof(uintptr_t) - 1)))
			break;
		frame = (const volatile uintptr_t *)fp;
		next = frame[0];
		ret = frame[1];
		if (ret < 4096)
			break;
		out[n++] = ret - 1;
		/* Frames grow towards higher addresses; anything else is a broken chain. */
		if (next <= fp)
			break;
		lo = fp + rec;
		fp = next;
	}
	return n;
}

/*
 * The 8 bytes at address a, if they lie inside the stack [lo, lo + len);
 * *need grows to the end of what was read, *beyond says a read lay past the end.
 */
static int stack_read(const unsigned char *stack, uintptr_t lo, size_t len, uintptr_t a,
		      uintptr_t *v, size_t *need, int *beyond)
{
	if (a < lo)
		return 0;
	if (a - lo > len || len - (a - lo) < sizeof(*v)) {
		*beyond = 1;
		return 0;
	}
	memcpy(v, stack + (a - lo), sizeof(*v));
	if (a - lo + sizeof(*v) > *need)
		*need = a - lo + sizeof(*v);
	return 1;
}

int unwind_cfi(uintptr_t pc, uintptr_t sp, uintptr_t bp, int pc_is_ret, const unsigned char *stack,
	       uintptr_t stack_lo, size_t stack_len, uintptr_t *out, int max, int build,
	       struct unwind_reach *reach)
{
	int n = 0, bp_ok = 1, done = 0, beyond = 0;
	uintptr_t look = pc;
	size_t need = 0;

	if (max < 2)
		return 0;
	if (pc_is_ret)
		look = --pc;
	out[n++] = pc;
	/* One slot is kept for the truncation mark. */
	while (n < max - 1) {
		const struct cpgo_cfi_row *r = cfitab_find(look, build);
		uintptr_t cfa, ra, nbp = bp, slot;

		if (!r || r->cfa == CPGO_CFI_UNKNOWN)
			break;
		if (r->cfa == CPGO_CFI_OUTERMOST) {
			done = 1;
			break;
		}
		if (r->cfa == CPGO_CFI_RBP && !bp_ok)
			break;
		cfa = (r->cfa == CPGO_CFI_RSP ? sp : bp) + (uintptr_t)(intptr_t)r->cfa_off;
		/* The caller's frame is above ours: anything else is a broken walk. */
		if (cfa <= sp ||
		    !stack_read(stack, stack_lo, stack_len, cfa - 8, &ra, &need, &beyond))
			break;
		if (r->rbp == CPGO_CFI_RBP_SAVED) {
			slot = cfa + (uintptr_t)(intptr_t)r->rbp_off;
			/* Below sp (an epilogue after the pop): rbp already holds the caller's value. */
			if (slot >= sp &&
			    !stack_read(stack, stack_lo, stack_len, slot, &nbp, &need, &beyond))
				bp_ok = 0;
		} else if (r->rbp == CPGO_CFI_RBP_LOST) {
			bp_ok = 0;
		}
		if (ra < 4096) {
			/* A zeroed return address is how thread start routines end the chain. */
			done = ra == 0;
			break;
		}
		out[n++] = ra - 1;
		look = ra - 1;
		sp = cfa;
		bp = nbp;
	}
	if (!done)
		out[n++] = SAMPLE_PC_TRUNCATED;
	if (reach) {
		reach->need = need;
		reach->cut = !done && beyond;
	}
	return n;
}

int unwind_libunwind(ucontext_t *uc, uintptr_t *out, int max)
{
	unw_cursor_t c;
	int n = 0;

	if (unw_init_local2(&c, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) < 0)
		return 0;
	do {
		unw_word_t ip;
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		out[n] = n == 0 ? (uintptr_t)ip : (uintptr_t)ip - 1;
		n++;
	} while (n < max && unw_step(&c) > 0);
	return n;
}

void unwind_libunwind_prepare(void)
{
	void *dummy[4];

	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
	unw_backtrace(dummy, 4);
}
