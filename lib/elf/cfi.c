/*
 * Unwind tables from call-frame information (see cfi.h). libdw evaluates
 * the CIE/FDE programs; this file only enumerates the FDEs (through the
 * .eh_frame_hdr search table the linker writes) and keeps, for each row
 * libdw reports, the few rules an x86-64 stack walk can follow.
 */
#include "cfi.h"
#include "elfinspect.h"

#include "util/buf.h"
#include "util/error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DWARF register numbers of x86-64 (the psABI's table). */
#define CFI_REG_RBP 6
#define CFI_REG_RSP 7
#define CFI_REG_RA 16
/* Alignment the compilers give functions: where a sweep without a search table looks next. */
#define CFI_SWEEP_STEP 16

void cpgo_cfi_init(struct cpgo_cfi_table *t)
{
	memset(t, 0, sizeof(*t));
}

void cpgo_cfi_release(struct cpgo_cfi_table *t)
{
	free(t->rows);
	cpgo_cfi_init(t);
}

/*
 * The CFA rule: a register plus offset (DW_OP_bregN), or the PLT stubs'
 * expression, which is rsp + 8 or + 16 by the stub's offset: rsp + its
 * first term, right at the stub's jump (the only instruction a bound
 * symbol runs).
 */
static void decode_cfa(Dwarf_Frame *f, struct cpgo_cfi_row *row)
{
	Dwarf_Op *ops;
	size_t nops;
	int64_t off;
	int reg;

	row->cfa = CPGO_CFI_UNKNOWN;
	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops == 0)
		return;
	/* libdw hands a register rule back as DW_OP_bregx; DW_OP_bregN in expressions. */
	if (ops[0].atom == DW_OP_bregx) {
		reg = (int)ops[0].number;
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		reg = ops[0].atom - DW_OP_breg0;
		off = (int64_t)ops[0].number;
	} else {
		return;
	}
	if ((reg != CFI_REG_RSP && reg != CFI_REG_RBP) || off < INT32_MIN || off > INT32_MAX)
		return;
	if (nops > 1) {
		/* The PLT idiom: breg7 N; breg16 0; lit15; and; litK; ge; lit3; shl; plus. */
		if (nops != 9 || reg != CFI_REG_RSP || ops[1].atom != DW_OP_breg0 + CFI_REG_RA ||
		    ops[8].atom != DW_OP_plus)
			return;
	}
	row->cfa = reg == CFI_REG_RSP ? CPGO_CFI_RSP : CPGO_CFI_RBP;
	row->cfa_off = (int32_t)off;
}

/* A saved-at-offset rule (DW_OP_call_frame_cfa [+ N]): 1 with *off = N. */
static int saved_at(const Dwarf_Op *ops, size_t nops, int64_t *off)
{
	if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
		*off = 0;
		return 1;
	}
	if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
	    (ops[1].atom == DW_OP_plus_uconst || ops[1].atom == DW_OP_consts)) {
		*off = (int64_t)ops[1].number;
		return 1;
	}
	return 0;
}

static void decode_row(Dwarf_Frame *f, struct cpgo_cfi_row *row)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;
	int64_t off;
	bool signalp = false;

	memset(row, 0, sizeof(*row));
	if (dwarf_frame_info(f, NULL, NULL, &signalp) != CFI_REG_RA || signalp)
		return;
	if (dwarf_frame_register(f, CFI_REG_RA, mem, &ops, &nops) != 0)
		return;
	if (nops == 0 && ops) {
		row->cfa = CPGO_CFI_OUTERMOST;
		return;
	}
	if (!saved_at(ops, nops, &off) || off != -8)
		return;
	decode_cfa(f, row);
	if (row->cfa == CPGO_CFI_UNKNOWN)
		return;
	if (dwarf_frame_register(f, CFI_REG_RBP, mem, &ops, &nops) != 0) {
		row->rbp = CPGO_CFI_RBP_LOST;
	} else if (nops == 0) {
		row->rbp = ops ? CPGO_CFI_RBP_LOST : CPGO_CFI_RBP_SAME;
	} else if (saved_at(ops, nops, &off) && off >= INT16_MIN && off <= INT16_MAX) {
		row->rbp = CPGO_CFI_RBP_SAVED;
		row->rbp_off = (int16_t)off;
	} else {
		row->rbp = CPGO_CFI_RBP_LOST;
	}
}

static int same_rule(const struct cpgo_cfi_row *a, const struct cpgo_cfi_row *b)
{
	return a->cfa == b->cfa && a->cfa_off == b->cfa_off && a->rbp == b->rbp &&
	       a->rbp_off == b->rbp_off;
}

/* Appends the rule for [addr, ...); rows come in ascending order. */
static int add_row(struct cpgo_cfi_table *t, uint64_t addr, const struct cpgo_cfi_row *r)
{
	struct cpgo_cfi_row *last = t->n ? &t->rows[t->n - 1] : NULL;

	if (last && t->lo + last->off > addr)
		return 0; /* overlapping FDEs: the first one wins */
	if (last && same_rule(last, r))
		return 0;
	if (last && t->lo + last->off == addr) {
		*last = *r;
		last->off = (uint32_t)(addr - t->lo);
		return 0;
	}
	if (CPGO_GROW(t->rows, t->alloc, t->n + 1) < 0)
		return -1;
	t->rows[t->n] = *r;
	t->rows[t->n].off = (uint32_t)(addr - t->lo);
	t->n++;
	return 0;
}

/*
 * The rows of the FDE that covers `start`, up to `limit` (the next FDE);
 * what is left of [start, limit) after the FDE reads UNKNOWN. Returns
 * where the FDE ended (start when there was none).
 */
static int add_fde(struct cpgo_cfi_table *t, Dwarf_CFI *cfi, uint64_t start, uint64_t limit,
		   uint64_t *end_out)
{
	static const struct cpgo_cfi_row unknown;
	uint64_t pc = start;
	int fp = 0, rows = 0;

	while (pc < limit) {
		Dwarf_Frame *f = NULL;
		Dwarf_Addr s, e;
		struct cpgo_cfi_row row;

		if (dwarf_cfi_addrframe(cfi, pc, &f) != 0)
			break;
		if (dwarf_frame_info(f, &s, &e, NULL) < 0 || e <= pc || s > pc) {
			free(f);
			break;
		}
		decode_row(f, &row);
		free(f);
		if (add_row(t, pc, &row) < 0)
			return -1;
		fp |= row.cfa == CPGO_CFI_RBP;
		rows++;
		pc = e < limit ? e : limit;
	}
	if (rows) {
		t->fdes++;
		t->fp_fdes += (size_t)fp;
		t->code_bytes += pc - start;
		if (fp)
			t->fp_bytes += pc - start;
		if (add_row(t, pc, &unknown) < 0)
			return -1;
	}
	*end_out = pc;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		if (!gelf_getshdr(scn, sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/*
 * The FDE start addresses from .eh_frame_hdr's binary-search table, in the
 * encoding every linker writes (udata4 count, datarel sdata4 pairs).
 * 0 with *n = 0 when there is no usable table.
 */
static int hdr_starts(Elf *elf, uint64_t **out, size_t *n)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, ".eh_frame_hdr", &sh);
	Elf_Data *d;
	const unsigned char *p;
	uint32_t count;
	uint64_t *v = NULL;
	size_t alloc = 0;

	*n = 0;
	if (!scn || sh.sh_type == SHT_NOBITS || !(d = elf_getdata(scn, NULL)) || d->d_size < 12)
		return 0;
	p = d->d_buf;
	/* version 1; eh_frame_ptr pcrel|sdata4; fde_count udata4; table datarel|sdata4 */
	if (p[0] != 1 || p[1] != (DW_EH_PE_pcrel | DW_EH_PE_sdata4) ||
	    p[2] != DW_EH_PE_udata4 || p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return 0;
	memcpy(&count, p + 8, 4);
	if (count > (d->d_size - 12) / 8)
		return 0;
	if (count && cpgo_array_reserve((void **)&v, &alloc, count, sizeof(*v)) < 0)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		int32_t loc;
		memcpy(&loc, p + 12 + 8 * (size_t)i, 4);
		v[i] = sh.sh_addr + (uint64_t)(int64_t)loc;
	}
	qsort(v, count, sizeof(*v), cmp_u64);
	*out = v;
	*n = count;
	return 0;
}

/* The span of the executable segments: where a sweep looks, and the table's bounds. */
static int exec_span(Elf *elf, uint64_t *lo, uint64_t *hi)
{
	size_t nph;

	*lo = UINT64_MAX;
	*hi = 0;
	if (elf_getphdrnum(elf, &nph) < 0)
		return -1;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (ph.p_vaddr < *lo)
			*lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > *hi)
			*hi = ph.p_vaddr + ph.p_memsz;
	}
	return *lo < *hi ? 0 : -1;
}

int cpgo_cfi_build_elf(struct cpgo_cfi_table *t, Elf *elf, const char *name)
{
	Dwarf_CFI *cfi, *eh;
	Dwarf *dw = NULL;
	uint64_t *starts = NULL, lo, hi, end;
	size_t n = 0;
	int ret = -1;

	cpgo_cfi_init(t);
	if (exec_span(elf, &lo, &hi) < 0)
		return error("%s: no executable segment to unwind", name);
	if (hi - lo > UINT32_MAX)
		return error("%s: code larger than 4 GiB", name);
	t->lo = lo;
	t->hi = hi;
	cfi = eh = dwarf_getcfi_elf(elf);
	if (cfi) {
		if (hdr_starts(elf, &starts, &n) < 0)
			goto cleanup;
	} else {
		/* No .eh_frame (-fno-asynchronous-unwind-tables): .debug_frame, if kept. */
		dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
		cfi = dw ? dwarf_getcfi(dw) : NULL;
		if (!cfi) {
			error("%s: no call-frame information (.eh_frame or .debug_frame)", name);
			goto cleanup;
		}
	}
	if (n) {
		for (size_t i = 0; i < n; i++) {
			uint64_t limit = i + 1 < n ? starts[i + 1] : hi;
			if (starts[i] < lo || starts[i] >= hi || (i && starts[i] == starts[i - 1]))
				continue;
			if (add_fde(t, cfi, starts[i], limit, &end) < 0)
				goto cleanup;
		}
	} else {
		/* No search table: walk the code, jumping from the end of one FDE to the next. */
		for (uint64_t pc = lo; pc < hi;) {
			if (add_fde(t, cfi, pc, hi, &end) < 0)
				goto cleanup;
			pc = end > pc ? end : (pc + CFI_SWEEP_STEP) & ~(uint64_t)(CFI_SWEEP_STEP - 1);
		}
	}
	if (!t->fdes) {
		error("%s: its call-frame information describes none of its code", name);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(starts);
	if (eh)
		dwarf_cfi_end(eh);
	if (dw)
		dwarf_end(dw);
	if (ret < 0)
		cpgo_cfi_release(t);
	return ret;
}

int cpgo_cfi_build(struct cpgo_cfi_table *t, const char *path)
{
	Elf *elf;
	int fd, ret;

	cpgo_cfi_init(t);
	if (cpgo_elf_open(path, &fd, &elf) < 0)
		return -1;
	ret = cpgo_cfi_build_elf(t, elf, path);
	elf_end(elf);
	close(fd);
	return ret;
}

const struct cpgo_cfi_row *cpgo_cfi_find(const struct cpgo_cfi_table *t, uint64_t addr)
{
	size_t lo = 0, hi;
	uint64_t off;

	if (!t->n || addr < t->lo || addr >= t->hi)
		return NULL;
	off = addr - t->lo;
	hi = t->n;
	/* The last row whose start is <= off. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->rows[lo - 1] : NULL;
}
