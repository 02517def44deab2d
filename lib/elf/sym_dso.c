/*
 * One ELF file's symbolizer: opens the file and its DWARF, reads the
 * PT_LOAD segments (runtime address -> ELF vaddr) and the ELF function
 * symbols (names where DWARF has none). The DWARF index and the lookups are
 * in sym_index.c and sym_lookup.c.
 */
#include "elf/sym_internal.h"
#include "util/buf.h"
#include "util/error.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_segments(struct sym_dso *d)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(d->elf, &n) < 0)
		return error("%s: cannot read program headers: %s", d->path, elf_errmsg(-1));
	/* Executable segments first: code addresses should resolve through them. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (!gelf_getphdr(d->elf, i, &ph) || ph.p_type != PT_LOAD || !ph.p_filesz)
				continue;
			if (!!(ph.p_flags & PF_X) != (pass == 0))
				continue;
			if (CPGO_GROW(d->segs, d->alloc_seg, d->n_seg + 1) < 0)
				return error_prefix("%s", d->path);
			d->segs[d->n_seg].offset = ph.p_offset;
			d->segs[d->n_seg].filesz = ph.p_filesz;
			d->segs[d->n_seg].vaddr = ph.p_vaddr;
			d->n_seg++;
		}
	}
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym_sym *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	/* Prefer sized symbols, then global-looking (shorter) names: stable choice among aliases. */
	if ((x->hi > x->lo) != (y->hi > y->lo))
		return x->hi > x->lo ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int add_symtab(struct sym_dso *d, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym s;
		const char *name;
		int type;

		if (!gelf_getsym(data, i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
		    !s.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		if (CPGO_GROW(d->syms, d->alloc_sym, d->n_sym + 1) < 0)
			return error_prefix("%s", d->path);
		d->syms[d->n_sym].lo = s.st_value;
		d->syms[d->n_sym].hi = s.st_value + s.st_size;
		d->syms[d->n_sym].name = name;
		d->n_sym++;
	}
	return 0;
}

static int read_symbols(struct sym_dso *d)
{
	Elf *cands[2] = { d->elf, d->dbg_elf };
	Elf_Scn *dynsym = NULL;
	GElf_Shdr dynsh;
	size_t j = 0;

	/* .symtab (the binary's, else the debug file's) knows static functions; .dynsym is the fallback. */
	for (int c = 0; c < 2 && !d->n_sym; c++) {
		Elf_Scn *scn = NULL;
		GElf_Shdr sh;

		if (!cands[c])
			continue;
		while ((scn = elf_nextscn(cands[c], scn))) {
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == SHT_SYMTAB && add_symtab(d, cands[c], scn, &sh) < 0)
				return -1;
			if (sh.sh_type == SHT_DYNSYM && c == 0) {
				dynsym = scn;
				dynsh = sh;
			}
		}
	}
	if (!d->n_sym && dynsym && add_symtab(d, d->elf, dynsym, &dynsh) < 0)
		return -1;
	if (!d->n_sym)
		return 0;
	qsort(d->syms, d->n_sym, sizeof(*d->syms), cmp_sym);
	/* Drop aliases at one address; sizeless symbols (assembly) run to the next one. */
	for (size_t i = 0; i < d->n_sym; i++) {
		if (j && d->syms[j - 1].lo == d->syms[i].lo)
			continue;
		d->syms[j++] = d->syms[i];
	}
	d->n_sym = j;
	for (size_t i = 0; i < d->n_sym; i++) {
		struct sym_sym *s = &d->syms[i];
		uint64_t end = s->lo + 1;

		if (s->hi > s->lo)
			continue;
		for (size_t k = 0; k < d->n_seg; k++)
			if (s->lo >= d->segs[k].vaddr && s->lo - d->segs[k].vaddr < d->segs[k].filesz)
				end = d->segs[k].vaddr + d->segs[k].filesz;
		s->hi = i + 1 < d->n_sym && d->syms[i + 1].lo < end ? d->syms[i + 1].lo : end;
	}
	return 0;
}

int sym_dso_open(struct sym_dso **out, const char *path, const char *debug_dir)
{
	struct sym_dso *d;
	int ret = -1;

	*out = NULL;
	if (!debug_dir || !*debug_dir)
		debug_dir = "/usr/lib/debug";
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error("%s: libelf is out of date", path);
	d = calloc(1, sizeof(*d));
	if (!d)
		return error("%s: out of memory", path);
	d->fd = d->dbg_fd = -1;
	d->aranges = -1;
	d->path = strdup(path);
	if (!d->path) {
		error("%s: out of memory", path);
		goto cleanup;
	}
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		error_errno("%s: cannot open", path);
		goto cleanup;
	}
	d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF) {
		error("%s: not an ELF file", path);
		goto cleanup;
	}
	if (read_segments(d) < 0)
		goto cleanup;
	d->build_id = sym_build_id_hex(d->elf);
	if (sym_elf_has_dwarf(d->elf))
		d->dwarf = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dwarf) {
		sym_debug_find(d, debug_dir);
		if (d->dbg_elf)
			d->dwarf = dwarf_begin_elf(d->dbg_elf, DWARF_C_READ, NULL);
	}
	if (read_symbols(d) < 0)
		goto cleanup;
	*out = d;
	d = NULL;
	ret = 0;
cleanup:
	sym_dso_close(d);
	return ret;
}

void sym_dso_close(struct sym_dso *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_func; i++)
		sym_tree_free(d->funcs[i].tree);
	free(d->funcs);
	free(d->franges);
	free(d->cus);
	free(d->syms);
	free(d->segs);
	if (d->dwarf)
		dwarf_end(d->dwarf);
	if (d->dbg_elf)
		elf_end(d->dbg_elf);
	if (d->dbg_fd >= 0)
		close(d->dbg_fd);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d->build_id);
	free(d->dbg_path);
	free(d->path);
	free(d);
}

const char *sym_dso_build_id(const struct sym_dso *d)
{
	return d->build_id ? d->build_id : "";
}

const char *sym_dso_debug_path(const struct sym_dso *d)
{
	if (!d->dwarf)
		return NULL;
	return d->dbg_path ? d->dbg_path : d->path;
}

int sym_dso_runtime_to_vaddr(struct sym_dso *d, uint64_t runtime_addr, uint64_t map_start,
			     uint64_t map_offset, uint64_t *vaddr)
{
	uint64_t off = runtime_addr - map_start + map_offset;

	if (runtime_addr < map_start)
		return error("%s: address 0x%" PRIx64 " is below its mapping's start 0x%" PRIx64,
			     d->path, runtime_addr, map_start);
	for (size_t i = 0; i < d->n_seg; i++) {
		const struct sym_seg *s = &d->segs[i];
		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = off - s->offset + s->vaddr;
			return 0;
		}
	}
	return error("%s: file offset 0x%" PRIx64 " (address 0x%" PRIx64
		     ") is in no loadable segment; is this the binary that was profiled?",
		     d->path, off, runtime_addr);
}

const struct sym_sym *sym_elf_sym_at(const struct sym_dso *d, uint64_t addr)
{
	size_t lo = 0, hi = d->n_sym;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->syms[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < d->syms[lo - 1].hi)
		return &d->syms[lo - 1];
	return NULL;
}

