/*
 * The CFI tables (lib/elf/cfi.h) of functions whose call-frame rules are
 * known because they are written here in assembly, and the table-driven
 * walk (runtime/unwind.h) over a stack laid out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <link.h>

#include "elf/cfi.h"
#include "util/error.h"
#include "cfitab.h"
#include "ring.h"
#include "unwind.h"

#if defined(__x86_64__)
/*
 * A frame-pointer function, one without (a 40-byte frame), a thread's
 * first frame (return address undefined) and one whose CFA is a DWARF
 * expression. They are never called: only their addresses are used.
 */
__asm__(".text\n"
	".globl cfit_fp_fn, cfit_fp_after_push, cfit_fp_body, cfit_fp_ret\n"
	"cfit_fp_fn:\n"
	".cfi_startproc\n"
	"push %rbp\n"
	"cfit_fp_after_push:\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset %rbp, -16\n"
	"mov %rsp, %rbp\n"
	"cfit_fp_body:\n"
	".cfi_def_cfa_register %rbp\n"
	"call cfit_nofp_fn\n"
	"cfit_fp_ret:\n"
	"nop\n"
	"pop %rbp\n"
	".cfi_def_cfa %rsp, 8\n"
	"ret\n"
	".cfi_endproc\n"
	".globl cfit_nofp_fn, cfit_nofp_body\n"
	"cfit_nofp_fn:\n"
	".cfi_startproc\n"
	"sub $40, %rsp\n"
	"cfit_nofp_body:\n"
	".cfi_def_cfa_offset 48\n"
	"nop\n"
	"add $40, %rsp\n"
	".cfi_def_cfa_offset 8\n"
	"ret\n"
	".cfi_endproc\n"
	".globl cfit_outer_fn, cfit_outer_ret\n"
	"cfit_outer_fn:\n"
	".cfi_startproc\n"
	".cfi_undefined %rip\n"
	"call cfit_fp_fn\n"
	"cfit_outer_ret:\n"
	"hlt\n"
	".cfi_endproc\n"
	".globl cfit_expr_fn\n"
	"cfit_expr_fn:\n"
	".cfi_startproc\n"
	/* DW_CFA_def_cfa_expression, 3 bytes: DW_OP_breg7 8; DW_OP_deref */
	".cfi_escape 0x0f, 0x03, 0x77, 0x08, 0x06\n"
	"nop\n"
	"ret\n"
	".cfi_endproc\n");

extern char cfit_fp_fn[], cfit_fp_after_push[], cfit_fp_body[], cfit_fp_ret[];
extern char cfit_nofp_fn[], cfit_nofp_body[], cfit_outer_fn[], cfit_outer_ret[], cfit_expr_fn[];

static struct cpgo_cfi_table tab;
static uintptr_t bias;

static int main_bias(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(uintptr_t *)arg = info->dlpi_addr;
	return 1; /* the first object is the executable */
}

static int setup(void **state)
{
	(void)state;
	dl_iterate_phdr(main_bias, &bias);
	if (cpgo_cfi_build(&tab, "/proc/self/exe") < 0) {
		fprintf(stderr, "%s\n", cpgo_last_error());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cpgo_cfi_release(&tab);
	return 0;
}

static const struct cpgo_cfi_row *at_addr(uintptr_t a)
{
	return cpgo_cfi_find(&tab, (uint64_t)(a - bias));
}
#define at(sym) at_addr((uintptr_t)(sym))

static void test_frame_pointer_rules(void **state)
{
	const struct cpgo_cfi_row *r;

	(void)state;
	r = at(cfit_fp_fn);
	assert_non_null(r);
	assert_int_equal(r->cfa, CPGO_CFI_RSP);
	assert_int_equal(r->cfa_off, 8);
	assert_int_equal(r->rbp, CPGO_CFI_RBP_SAME);
	r = at(cfit_fp_after_push);
	assert_int_equal(r->cfa, CPGO_CFI_RSP);
	assert_int_equal(r->cfa_off, 16);
	assert_int_equal(r->rbp, CPGO_CFI_RBP_SAVED);
	assert_int_equal(r->rbp_off, -16);
	r = at(cfit_fp_body);
	assert_int_equal(r->cfa, CPGO_CFI_RBP);
	assert_int_equal(r->cfa_off, 16);
	/* Inside the call instruction, where a caller's return address - 1 points. */
	r = at_addr((uintptr_t)cfit_fp_ret - 1);
	assert_int_equal(r->cfa, CPGO_CFI_RBP);
	r = at_addr((uintptr_t)cfit_fp_ret + 2); /* after the pop: back to rsp */
	assert_int_equal(r->cfa, CPGO_CFI_RSP);
	assert_int_equal(r->cfa_off, 8);
}

static void test_no_frame_pointer_rules(void **state)
{
	const struct cpgo_cfi_row *r;

	(void)state;
	r = at(cfit_nofp_fn);
	assert_int_equal(r->cfa, CPGO_CFI_RSP);
	assert_int_equal(r->cfa_off, 8);
	r = at(cfit_nofp_body);
	assert_int_equal(r->cfa, CPGO_CFI_RSP);
	assert_int_equal(r->cfa_off, 48);
	assert_int_equal(r->rbp, CPGO_CFI_RBP_SAME);
}

static void test_outermost_and_unknown(void **state)
{
	(void)state;
	assert_int_equal(at(cfit_outer_fn)->cfa, CPGO_CFI_OUTERMOST);
	assert_int_equal(at_addr((uintptr_t)cfit_outer_ret - 1)->cfa, CPGO_CFI_OUTERMOST);
	/* An expression the walk cannot follow: the stack will be cut there. */
	assert_int_equal(at(cfit_expr_fn)->cfa, CPGO_CFI_UNKNOWN);
	/* Outside the code: no row at all. */
	assert_null(cpgo_cfi_find(&tab, tab.hi));
	assert_null(cpgo_cfi_find(&tab, tab.lo - 1));
	assert_true(tab.fdes >= 4);
	assert_true(tab.fp_fdes >= 1 && tab.fp_fdes < tab.fdes);
}

static void test_bad_files(void **state)
{
	struct cpgo_cfi_table t;

	(void)state;
	assert_int_equal(cpgo_cfi_build(&t, "/nonexistent/cfi"), -1);
	assert_non_null(strstr(cpgo_last_error(), "/nonexistent/cfi"));
	assert_int_equal(cpgo_cfi_build(&t, "/proc/self/status"), -1);
	assert_non_null(strstr(cpgo_last_error(), "not an ELF file"));
}

/*
 * A stack as the three functions leave it: cfit_nofp_fn's 40-byte frame
 * (its return address into cfit_fp_fn at sp + 40), then cfit_fp_fn's saved
 * rbp and return address into cfit_outer_fn, the thread's first frame.
 */
static void lay_out(uint64_t *st, uintptr_t *bp)
{
	memset(st, 0, 16 * sizeof(*st));
	st[5] = (uintptr_t)cfit_fp_ret;
	st[8] = 0x1234; /* cfit_fp_fn's caller's rbp */
	st[9] = (uintptr_t)cfit_outer_ret;
	*bp = (uintptr_t)&st[8];
}

static void test_walk(void **state)
{
	uint64_t st[16];
	uintptr_t out[8], bp, sp = (uintptr_t)st;
	struct unwind_reach reach;
	int n;

	(void)state;
	assert_int_equal(cfitab_sync(1), 0);
	lay_out(st, &bp);
	n = unwind_cfi((uintptr_t)cfit_nofp_body, sp, bp, 0, (const unsigned char *)st, sp,
		       sizeof(st), out, 8, 0, &reach);
	assert_int_equal(n, 3);
	/* A complete walk read up to the outer frame's slot (its zero return address). */
	assert_int_equal(reach.cut, 0);
	assert_true(reach.need >= 10 * sizeof(*st) && reach.need <= sizeof(st));
	assert_int_equal(out[0], (uintptr_t)cfit_nofp_body);
	assert_int_equal(out[1], (uintptr_t)cfit_fp_ret - 1);
	assert_int_equal(out[2], (uintptr_t)cfit_outer_ret - 1);

	/* A system-call return address is booked as its call site. */
	n = unwind_cfi((uintptr_t)cfit_nofp_body + 1, sp, bp, 1, (const unsigned char *)st, sp,
		       sizeof(st), out, 8, 0, NULL);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], (uintptr_t)cfit_nofp_body);
}

static void test_walk_cut_short(void **state)
{
	uint64_t st[16];
	uintptr_t out[8], bp, sp = (uintptr_t)st;
	struct unwind_reach reach;
	int n;

	(void)state;
	lay_out(st, &bp);
	/* The copy ends before cfit_fp_fn's return address. */
	n = unwind_cfi((uintptr_t)cfit_nofp_body, sp, bp, 0, (const unsigned char *)st, sp,
		       9 * sizeof(*st), out, 8, 0, &reach);
	assert_int_equal(n, 3);
	assert_int_equal(out[1], (uintptr_t)cfit_fp_ret - 1);
	assert_int_equal(out[2], SAMPLE_PC_TRUNCATED);
	/* Cut by the copy's size (a bigger copy would help), and what it read fits in it. */
	assert_int_equal(reach.cut, 1);
	assert_true(reach.need <= 9 * sizeof(*st));

	/* The depth limit: the mark takes the last slot. */
	n = unwind_cfi((uintptr_t)cfit_nofp_body, sp, bp, 0, (const unsigned char *)st, sp,
		       sizeof(st), out, 2, 0, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(out[1], SAMPLE_PC_TRUNCATED);

	/* A frame pointer below the stack pointer: no frame is made up from it. */
	bp = sp - 64;
	n = unwind_cfi((uintptr_t)cfit_nofp_body, sp, bp, 0, (const unsigned char *)st, sp,
		       sizeof(st), out, 8, 0, NULL);
	assert_int_equal(n, 3);
	assert_int_equal(out[2], SAMPLE_PC_TRUNCATED);

	/* No table covers the pc (a heap address): the leaf alone, marked. */
	n = unwind_cfi((uintptr_t)st, sp, bp, 0, (const unsigned char *)st, sp, sizeof(st), out,
		       8, 0, NULL);
	assert_int_equal(n, 2);
	assert_int_equal(out[1], SAMPLE_PC_TRUNCATED);

	/* A rule that cannot be followed cuts the walk there: not the copy's fault. */
	n = unwind_cfi((uintptr_t)cfit_expr_fn, sp, bp, 0, (const unsigned char *)st, sp,
		       sizeof(st), out, 8, 0, &reach);
	assert_int_equal(n, 2);
	assert_int_equal(out[1], SAMPLE_PC_TRUNCATED);
	assert_int_equal(reach.cut, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_pointer_rules),
		cmocka_unit_test(test_no_frame_pointer_rules),
		cmocka_unit_test(test_outermost_and_unknown),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_cut_short),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
#else
int main(void)
{
	return 0;
}
#endif
