/*
 * Functions and their code lines from an object's DWARF (elf/objfuncs.h).
 */
#include "elf/objfuncs.h"
#include "elf/sym_internal.h"
#include "util/buf.h"
#include "util/error.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	/* Lays out an ET_REL file's sections so its relocations can be applied. */
	.section_address = dwfl_offline_section_address,
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_fn(const void *pa, const void *pb)
{
	const struct cpgo_objfunc *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->name, b->name);
}

static const char *attr_string(Dwarf_Die *die, unsigned name)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, name, &a) ? dwarf_formstring(&a) : NULL;
}

/* Adds the CU's top-level function definitions; returns how many. */
static int add_functions(struct cpgo_objfuncs *o, Dwarf_Die *cudie, size_t *added)
{
	Dwarf_Die die;
	bool decl;
	Dwarf_Attribute a;

	*added = 0;
	if (dwarf_child(cudie, &die) != 0)
		return 0;
	do {
		struct cpgo_objfunc *f;
		const char *name, *file;
		int line = 0;

		if (dwarf_tag(&die) != DW_TAG_subprogram)
			continue;
		if (dwarf_attr(&die, DW_AT_declaration, &a) && dwarf_formflag(&a, &decl) == 0 && decl)
			continue;
		name = attr_string(&die, DW_AT_name);
		if (!name || !*name)
			continue;
		file = sym_die_decl_file(&die);
		if (dwarf_decl_line(&die, &line) != 0)
			line = 0;
		if (CPGO_GROW(o->fns, o->alloc, o->n + 1) < 0)
			return -1;
		f = &o->fns[o->n++];
		memset(f, 0, sizeof(*f));
		f->name = name;
		f->linkage_name = attr_string(&die, DW_AT_linkage_name);
		if (!f->linkage_name)
			f->linkage_name = name;
		f->file = file ? file : "";
		f->start = line;
		(*added)++;
	} while (dwarf_siblingof(&die, &die) == 0);
	return 0;
}

/*
 * Sorts fns[first..n) by file and start line and folds duplicates (an
 * abstract inline function and its out-of-line copy are one function).
 */
static void sort_fold(struct cpgo_objfuncs *o, size_t first)
{
	size_t k = first;

	if (o->n - first < 2)
		return;
	qsort(o->fns + first, o->n - first, sizeof(*o->fns), cmp_fn);
	for (size_t i = first + 1; i < o->n; i++) {
		if (!cmp_fn(&o->fns[i], &o->fns[k]))
			continue;
		o->fns[++k] = o->fns[i];
	}
	o->n = k + 1;
}

/* The function of fns[first..last) in `file` with the greatest start <= line, or NULL. */
static struct cpgo_objfunc *owner(struct cpgo_objfuncs *o, size_t first, size_t last,
				  const char *file, int64_t line)
{
	size_t lo = first, hi = last;
	struct cpgo_objfunc *best = NULL;

	/* First function not before (file, line + 1). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o->fns[mid].file, file);
		if (c < 0 || (c == 0 && o->fns[mid].start <= line))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > first && !strcmp(o->fns[lo - 1].file, file) && o->fns[lo - 1].start > 0)
		best = &o->fns[lo - 1];
	return best;
}

/* A line-table row: where a line's code starts (line 0: a sequence ends there). */
struct row {
	uint64_t addr;
	const char *file;
	int line;
};

struct rows {
	struct row *v;
	size_t n, alloc;
};

static int cmp_row(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	/* A sequence's end before the next one's start at the same address. */
	return (a->line > 0) - (b->line > 0);
}

/* The row whose code holds `addr`, or NULL (rows sorted). */
static const struct row *row_at(const struct rows *r, uint64_t addr)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && r->v[lo - 1].line > 0 ? &r->v[lo - 1] : NULL;
}

static int add_lines(struct cpgo_objfuncs *o, size_t first, Dwarf_Die *cudie, struct rows *rows)
{
	Dwarf_Lines *lines;
	size_t nl;

	if (dwarf_getsrclines(cudie, &lines, &nl) != 0)
		return 0; /* a CU without a line table has no code lines to give */
	for (size_t i = 0; i < nl; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		struct cpgo_objfunc *f;
		const char *file;
		Dwarf_Addr addr;
		bool end = false;
		int line;

		if (!l || dwarf_lineendsequence(l, &end) != 0 || dwarf_lineaddr(l, &addr) != 0)
			continue;
		file = NULL;
		line = 0;
		if (!end && (dwarf_lineno(l, &line) != 0 || line <= 0 ||
			     !(file = dwarf_linesrc(l, NULL, NULL))))
			continue;
		if (CPGO_GROW(rows->v, rows->alloc, rows->n + 1) < 0)
			return -1;
		rows->v[rows->n++] = (struct row){ addr, file, line };
		if (end)
			continue;
		f = owner(o, first, o->n, file, line);
		if (!f)
			continue;
		if (f->n_lines && f->lines[f->n_lines - 1] == line)
			continue;
		if (CPGO_GROW(f->lines, f->alloc_lines, f->n_lines + 1) < 0)
			return -1;
		f->lines[f->n_lines++] = line;
	}
	return 0;
}

static void finish_lines(struct cpgo_objfunc *f)
{
	size_t k = 1;

	if (!f->n_lines)
		return;
	qsort(f->lines, f->n_lines, sizeof(*f->lines), cmp_i64);
	for (size_t j = 1; j < f->n_lines; j++)
		if (f->lines[j] != f->lines[k - 1])
			f->lines[k++] = f->lines[j];
	f->n_lines = k;
	f->end = f->lines[k - 1];
}

/* The name of the function symbol at `value` in section `shndx`, or NULL. */
static const char *func_at(Elf *elf, Elf_Data *syms, size_t n, size_t strtab, size_t shndx,
			   uint64_t value)
{
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		if (gelf_getsym(syms, (int)i, &sym) && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    sym.st_shndx == shndx && sym.st_value == value)
			return elf_strptr(elf, strtab, sym.st_name);
	}
	return NULL;
}

/*
 * The callee of relocation `r` if it is a call's: x86-64's call rel32
 * (PLT32 or PC32 after an 0xe8 opcode byte; *at = the opcode's offset), or
 * aarch64's BL (CALL26). A local callee may be named by its section's
 * symbol plus the addend.
 */
static const char *call_target(Elf *elf, int machine, const GElf_Rela *r, Elf_Data *code,
			       Elf_Data *syms, size_t n_syms, size_t strtab, uint64_t *at)
{
	GElf_Sym sym;
	int64_t bias;
	unsigned type = GELF_R_TYPE(r->r_info);

	if (machine == EM_X86_64) {
		if ((type != R_X86_64_PLT32 && type != R_X86_64_PC32) || !r->r_offset ||
		    !code || !code->d_buf || r->r_offset > code->d_size ||
		    ((const unsigned char *)code->d_buf)[r->r_offset - 1] != 0xe8)
			return NULL;
		*at = r->r_offset - 1;
		bias = 4; /* the displacement counts from the end of its 4 bytes */
	} else if (machine == EM_AARCH64) {
		if (type != R_AARCH64_CALL26)
			return NULL;
		*at = r->r_offset;
		bias = 0;
	} else {
		return NULL;
	}
	if (!gelf_getsym(syms, (int)GELF_R_SYM(r->r_info), &sym))
		return NULL;
	if (GELF_ST_TYPE(sym.st_info) == STT_SECTION)
		return func_at(elf, syms, n_syms, strtab, sym.st_shndx,
			       (uint64_t)(r->r_addend + bias));
	return elf_strptr(elf, strtab, sym.st_name);
}

/*
 * Every call of the object, at the line of its call instruction, in the
 * function that line belongs to (the CUs' ranges of fns, cus[0..n_cu]).
 */
static int add_calls(struct cpgo_objfuncs *o, Dwfl_Module *mod, const size_t *cus, size_t n_cu,
		     struct rows *rows)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	GElf_Ehdr eh;

	if (rows->n)
		qsort(rows->v, rows->n, sizeof(*rows->v), cmp_row);
	Elf_Scn *scn = NULL;

	if (!elf || !gelf_getehdr(elf, &eh))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, tsh, ssh;
		Elf_Scn *target, *symscn;
		Elf_Data *rel, *code, *syms;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !sh.sh_entsize)
			continue;
		if (!(target = elf_getscn(elf, sh.sh_info)) || !gelf_getshdr(target, &tsh) ||
		    !(tsh.sh_flags & SHF_EXECINSTR))
			continue;
		if (!(symscn = elf_getscn(elf, sh.sh_link)) || !gelf_getshdr(symscn, &ssh) ||
		    !ssh.sh_entsize || !(syms = elf_getdata(symscn, NULL)))
			continue;
		if (!(rel = elf_getdata(scn, NULL)))
			continue;
		code = elf_getdata(target, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			const char *callee;
			const struct row *row;
			uint64_t at;
			struct cpgo_objfunc *f = NULL;

			if (!gelf_getrela(rel, (int)i, &r))
				continue;
			callee = call_target(elf, eh.e_machine, &r, code, syms,
					     ssh.sh_size / ssh.sh_entsize, ssh.sh_link, &at);
			if (!callee || !*callee)
				continue;
			/* libdwfl laid the sections out: sh_addr is where the line table has them. */
			if (!(row = row_at(rows, tsh.sh_addr + at)))
				continue;
			for (size_t k = 0; k < n_cu && !f; k++)
				f = owner(o, cus[k], cus[k + 1], row->file, row->line);
			if (!f)
				continue;
			if (CPGO_GROW(f->calls, f->alloc_calls, f->n_calls + 1) < 0)
				return -1;
			f->calls[f->n_calls++] = (struct cpgo_objcall){ callee, row->line };
		}
	}
	return 0;
}

int cpgo_objfuncs_read(const char *path, struct cpgo_objfuncs *out)
{
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf *dw;
	Dwarf_Addr bias;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	Dwarf_Half version;
	uint8_t unit_type;
	size_t *cus = NULL, n_cu = 0, alloc_cu = 0; /* where each CU's functions start */
	struct rows rows = { NULL, 0, 0 };

	memset(out, 0, sizeof(*out));
	dwfl = dwfl_begin(&offline_callbacks);
	if (!dwfl)
		return error("%s: cannot start libdwfl: %s", path, dwfl_errmsg(-1));
	out->priv = dwfl;
	mod = dwfl_report_offline(dwfl, path, path, -1);
	if (!mod) {
		error("%s: cannot read: %s", path, dwfl_errmsg(-1));
		goto fail;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	dw = dwfl_module_getdwarf(mod, &bias);
	if (!dw) {
		error("%s: no DWARF debug info (compile with -g): %s", path, dwfl_errmsg(-1));
		goto fail;
	}
	while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		size_t first = out->n, added;
		if (add_functions(out, &cudie, &added) < 0)
			goto fail;
		sort_fold(out, first);
		if (add_lines(out, first, &cudie, &rows) < 0)
			goto fail;
		if (CPGO_GROW(cus, alloc_cu, n_cu + 2) < 0)
			goto fail;
		cus[n_cu++] = first;
	}
	if (n_cu) {
		cus[n_cu] = out->n;
		if (add_calls(out, mod, cus, n_cu, &rows) < 0)
			goto fail;
	}
	for (size_t i = 0; i < out->n; i++)
		finish_lines(&out->fns[i]);
	free(cus);
	free(rows.v);
	return 0;
fail:
	free(cus);
	free(rows.v);
	cpgo_objfuncs_release(out);
	return -1;
}

void cpgo_objfuncs_release(struct cpgo_objfuncs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->fns[i].lines);
		free(o->fns[i].calls);
	}
	free(o->fns);
	if (o->priv)
		dwfl_end(o->priv);
	memset(o, 0, sizeof(*o));
}

int cpgo_objfunc_has_line(const struct cpgo_objfunc *f, int64_t line)
{
	return bsearch(&line, f->lines, f->n_lines, sizeof(*f->lines), cmp_i64) != NULL;
}
