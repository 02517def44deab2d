/*
 * One ELF file's symbolizer: finds its DWARF, builds an address -> function
 * index once, and an inline-frame tree per function on first use, so that a
 * lookup costs a few binary searches however big the function is.
 */
#include "elf/symbolize.h"
#include "util/buf.h"
#include "util/error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <gelf.h>
#include <libdeflate.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DW_AT_GNU_discriminator
#define DW_AT_GNU_discriminator 0x2136
#endif

/* Hostile DWARF can nest without end; real code stays far below this. */
#define SYM_MAX_DEPTH 256

struct sym_seg {
	uint64_t offset, filesz, vaddr;
};

struct sym_sym {
	uint64_t lo, hi;
	const char *name;
};

struct sym_node {
	const char *name, *linkage, *file;
	int64_t start_line, call_line, call_column;
	uint32_t discriminator;
	uint32_t parent;
	size_t rfirst, rcount; /* children's ranges in sym_tree.ranges */
};

struct sym_nrange {
	uint64_t lo, hi;
	uint32_t parent, node;
};

struct sym_tree {
	struct sym_node *nodes;
	size_t n_node, alloc_node;
	struct sym_nrange *ranges; /* sorted by (parent, lo) */
	size_t n_range, alloc_range;
};

struct sym_func {
	Dwarf_Off die_off, cu_off;
	const char *name, *linkage, *file;
	int64_t start_line;
	int has_code;
	struct sym_tree *tree; /* built on first lookup */
};

struct sym_frange {
	uint64_t lo, hi, maxhi; /* maxhi: largest hi up to here, for nested ranges */
	size_t func;
};

struct sym_dso {
	char *path;
	int fd;
	Elf *elf;
	char *dbg_path; /* separate debug file, or NULL */
	int dbg_fd;
	Elf *dbg_elf;
	Dwarf *dwarf;
	char *build_id;

	struct sym_seg *segs;
	size_t n_seg, alloc_seg;
	struct sym_sym *syms;
	size_t n_sym, alloc_sym;

	int indexed;            /* the full index (every CU, functions sorted by name) */
	int aranges;            /* has .debug_aranges: 1, no: 0, not looked yet: -1 */
	Dwarf_Off *cus;         /* before it: the CUs indexed for lookups, sorted */
	size_t n_cu, alloc_cu;
	struct sym_func *funcs; /* every subprogram definition, sorted by name after indexing */
	size_t n_func, alloc_func;
	struct sym_frange *franges;
	size_t n_frange, alloc_frange;
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

static int elf_has_section(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *n;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name))
			return 1;
	}
	return 0;
}

static int elf_has_dwarf(Elf *elf)
{
	return elf_has_section(elf, ".debug_info") || elf_has_section(elf, ".zdebug_info");
}

static char *hex_build_id(Elf *elf)
{
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	char *s;

	if (n <= 0 || n > 256)
		return NULL;
	s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (ssize_t i = 0; i < n; i++) {
		static const char hex[] = "0123456789abcdef";
		s[2 * i] = hex[((const unsigned char *)id)[i] >> 4];
		s[2 * i + 1] = hex[((const unsigned char *)id)[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static Elf *open_elf(const char *path, int *fdp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;

	if (fd < 0)
		return NULL;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return NULL;
	}
	*fdp = fd;
	return elf;
}

static uint32_t file_crc32(int fd)
{
	struct stat st;
	void *map;
	uint32_t crc;

	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		return 0;
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return 0;
	crc = libdeflate_crc32(0, map, st.st_size);
	munmap(map, st.st_size);
	return crc;
}

/*
 * Accepts a candidate debug file when it carries DWARF and belongs to this
 * build: same build id, or (for debuglink without ids) the recorded CRC.
 */
static int try_debug_file(struct sym_dso *d, const char *cand, int check_crc, uint32_t crc)
{
	int fd = -1;
	Elf *elf = open_elf(cand, &fd);
	char *id = NULL;
	int ok = 0;

	if (!elf)
		return 0;
	if (!elf_has_dwarf(elf))
		goto cleanup;
	id = hex_build_id(elf);
	if (d->build_id && id)
		ok = !strcmp(d->build_id, id);
	else if (check_crc)
		ok = file_crc32(fd) == crc;
	else
		ok = 1;
	if (ok) {
		d->dbg_path = strdup(cand);
		if (!d->dbg_path) {
			ok = 0;
			goto cleanup;
		}
		d->dbg_elf = elf;
		d->dbg_fd = fd;
		elf = NULL;
	}
cleanup:
	free(id);
	if (elf) {
		elf_end(elf);
		close(fd);
	}
	return ok;
}

static void find_debug_file(struct sym_dso *d, const char *debug_dir)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	const char *link;
	GElf_Word crc = 0;
	char *real = NULL, *slash;

	if (d->build_id && strlen(d->build_id) > 2) {
		if (cpgo_buf_addf(&b, "%s/.build-id/%.2s/%s.debug", debug_dir, d->build_id,
				  d->build_id + 2) == 0 &&
		    try_debug_file(d, b.buf, 0, 0))
			goto cleanup;
	}
	link = dwelf_elf_gnu_debuglink(d->elf, &crc);
	if (!link || !*link || strchr(link, '/'))
		goto cleanup;
	real = realpath(d->path, NULL);
	if (!real || !(slash = strrchr(real, '/')))
		goto cleanup;
	*slash = '\0';
	/* gdb's order: next to the file, in .debug/ beside it, then under the debug dir. */
	cpgo_buf_reset(&b);
	if (cpgo_buf_addf(&b, "%s/%s", real, link) == 0 && strcmp(b.buf, d->path) &&
	    try_debug_file(d, b.buf, 1, crc))
		goto cleanup;
	cpgo_buf_reset(&b);
	if (cpgo_buf_addf(&b, "%s/.debug/%s", real, link) == 0 && try_debug_file(d, b.buf, 1, crc))
		goto cleanup;
	cpgo_buf_reset(&b);
	if (cpgo_buf_addf(&b, "%s%s/%s", debug_dir, real, link) == 0)
		try_debug_file(d, b.buf, 1, crc);
cleanup:
	free(real);
	cpgo_buf_release(&b);
}

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
	d->build_id = hex_build_id(d->elf);
	if (elf_has_dwarf(d->elf))
		d->dwarf = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	if (!d->dwarf) {
		find_debug_file(d, debug_dir);
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

static void tree_free(struct sym_tree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->ranges);
	free(t);
}

void sym_dso_close(struct sym_dso *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_func; i++)
		tree_free(d->funcs[i].tree);
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

/* ---- DWARF index ---- */

static const char *die_linkage(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(die, DW_AT_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

/*
 * DW_AT_decl_file through abstract_origin/specification. Not dwarf_decl_file():
 * elfutils 0.188 treats index 0 as "no file", but DWARF 5 (clang's default)
 * numbers the primary source file 0.
 */
static const char *die_decl_file(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word idx;
	Dwarf_Die cudie;
	Dwarf_Files *files;
	size_t nfiles;
	uint8_t addr_size, off_size;
	Dwarf_Half version = 0;

	if (!dwarf_attr_integrate(die, DW_AT_decl_file, &a) || dwarf_formudata(&a, &idx) != 0)
		return "";
	if (!dwarf_cu_die(a.cu, &cudie, &version, NULL, &addr_size, &off_size, NULL, NULL))
		return "";
	if (idx == 0 && version < 5)
		return "";
	if (dwarf_getsrcfiles(&cudie, &files, &nfiles) != 0 || idx >= nfiles)
		return "";
	return nz(dwarf_filesrc(files, idx, NULL, NULL));
}

static int64_t die_udata(Dwarf_Die *die, unsigned attr)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (!dwarf_attr(die, attr, &a) || dwarf_formudata(&a, &w) != 0)
		return 0;
	return w > INT64_MAX ? 0 : (int64_t)w;
}

/* Dead code in linked binaries keeps low_pc 0 (or a tombstone); no real function lives there. */
static int range_ok(Dwarf_Addr lo, Dwarf_Addr hi)
{
	return lo && lo < hi && lo < (Dwarf_Addr)-2;
}

static int index_subprogram(struct sym_dso *d, Dwarf_Die *die, Dwarf_Off cu_off)
{
	struct sym_func *f;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	int line = 0;

	if (dwarf_hasattr(die, DW_AT_declaration))
		return 0;
	if (CPGO_GROW(d->funcs, d->alloc_func, d->n_func + 1) < 0)
		return error_prefix("%s", d->path);
	f = &d->funcs[d->n_func];
	memset(f, 0, sizeof(*f));
	f->name = die_name(die);
	if (!f->name)
		return 0; /* an artificial or broken DIE: the ELF symbol will name its code */
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (!range_ok(lo, hi))
			continue;
		if (CPGO_GROW(d->franges, d->alloc_frange, d->n_frange + 1) < 0)
			return error_prefix("%s", d->path);
		d->franges[d->n_frange].lo = lo;
		d->franges[d->n_frange].hi = hi;
		d->franges[d->n_frange].func = d->n_func;
		d->n_frange++;
		f->has_code = 1;
	}
	f->die_off = dwarf_dieoffset(die);
	f->cu_off = cu_off;
	f->linkage = die_linkage(die);
	f->file = die_decl_file(die);
	if (dwarf_decl_line(die, &line) == 0 && line > 0)
		f->start_line = line;
	d->n_func++;
	return 0;
}

static int index_children(struct sym_dso *d, Dwarf_Die *parent, Dwarf_Off cu_off, int depth)
{
	Dwarf_Die child;

	if (depth > SYM_MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			if (index_subprogram(d, &child, cu_off) < 0)
				return -1;
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_module:
			if (index_children(d, &child, cu_off, depth + 1) < 0)
				return -1;
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int cmp_frange(const void *a, const void *b)
{
	const struct sym_frange *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? 1 : x->hi > y->hi ? -1 : 0;
}

static int cmp_func_name(const void *a, const void *b)
{
	const struct sym_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if ((c = strcmp(nz(x->linkage), nz(y->linkage))))
		return c;
	if ((c = strcmp(x->file, y->file)))
		return c;
	if (x->start_line != y->start_line)
		return x->start_line < y->start_line ? -1 : 1;
	return x->die_off < y->die_off ? -1 : x->die_off > y->die_off;
}

static void franges_maxhi(struct sym_dso *d, size_t from)
{
	for (size_t i = from; i < d->n_frange; i++) {
		uint64_t prev = i ? d->franges[i - 1].maxhi : 0;
		d->franges[i].maxhi = d->franges[i].hi > prev ? d->franges[i].hi : prev;
	}
}

static int build_index(struct sym_dso *d)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	size_t *perm = NULL;
	int ret = -1;

	if (d->indexed)
		return 0;
	d->indexed = 1;
	if (!d->dwarf)
		return 0;
	/* What lookups indexed CU by CU is redone whole, in name order. */
	for (size_t i = 0; i < d->n_func; i++)
		tree_free(d->funcs[i].tree);
	d->n_func = d->n_frange = d->n_cu = 0;
	while (dwarf_get_units(d->dwarf, cu, &next, &version, &unit_type, &cudie, &subdie) == 0) {
		cu = next;
		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial &&
		    unit_type != DW_UT_skeleton)
			continue;
		if (index_children(d, &cudie, dwarf_dieoffset(&cudie), 0) < 0)
			goto cleanup;
	}
	/* Sort functions by name (for start-line lookups) and renumber the ranges. */
	for (size_t i = 0; i < d->n_func; i++)
		d->funcs[i].tree = (struct sym_tree *)(uintptr_t)i; /* old index, restored below */
	if (d->n_func)
		qsort(d->funcs, d->n_func, sizeof(*d->funcs), cmp_func_name);
	if (d->n_func) {
		perm = calloc(d->n_func, sizeof(*perm));
		if (!perm) {
			error("%s: out of memory indexing DWARF", d->path);
			goto cleanup;
		}
	}
	for (size_t i = 0; i < d->n_func; i++) {
		perm[(uintptr_t)d->funcs[i].tree] = i;
		d->funcs[i].tree = NULL;
	}
	for (size_t i = 0; i < d->n_frange; i++)
		d->franges[i].func = perm[d->franges[i].func];
	if (d->n_frange)
		qsort(d->franges, d->n_frange, sizeof(*d->franges), cmp_frange);
	franges_maxhi(d, 0);
	ret = 0;
cleanup:
	if (ret < 0) {
		/* A half-built index must not be used: forget the DWARF functions. */
		d->n_func = d->n_frange = 0;
	}
	free(perm);
	return ret;
}

/*
 * Lookups before the full index index only the compile unit that holds the
 * address: a profile touches few of a library's CUs, and indexing all of
 * libc's separate debug info cost ~140 ms at every profiled exit. The new
 * CU's ranges are sorted and merged into the sorted ones (linear).
 */
static int index_cu_of(struct sym_dso *d, uint64_t vaddr, int *added)
{
	Dwarf_Die cudie;
	Dwarf_Off off;
	size_t lo = 0, hi = d->n_cu, old = d->n_frange;
	struct sym_frange *merged = NULL;

	*added = 0;
	if (!d->dwarf)
		return 0;
	if (d->aranges < 0)
		d->aranges = elf_has_section(d->dbg_elf ? d->dbg_elf : d->elf, ".debug_aranges");
	if (!d->aranges) {
		/* Without aranges (clang's default) libdw cannot find a CU by address. */
		if (build_index(d) < 0)
			return -1;
		*added = 1;
		return 0;
	}
	if (!dwarf_addrdie(d->dwarf, vaddr, &cudie))
		return 0;
	off = dwarf_dieoffset(&cudie);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->cus[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < d->n_cu && d->cus[lo] == off)
		return 0;
	if (CPGO_GROW(d->cus, d->alloc_cu, d->n_cu + 1) < 0)
		return error_prefix("%s", d->path);
	memmove(d->cus + lo + 1, d->cus + lo, (d->n_cu - lo) * sizeof(*d->cus));
	d->cus[lo] = off;
	d->n_cu++;
	if (index_children(d, &cudie, off, 0) < 0)
		return -1;
	if (d->n_frange == old)
		return 0;
	qsort(d->franges + old, d->n_frange - old, sizeof(*d->franges), cmp_frange);
	if (old) {
		size_t i = 0, j = old, k = 0;
		merged = malloc(d->n_frange * sizeof(*merged));
		if (!merged)
			return error("%s: out of memory indexing DWARF", d->path);
		while (i < old || j < d->n_frange) {
			if (j == d->n_frange ||
			    (i < old && cmp_frange(&d->franges[i], &d->franges[j]) <= 0))
				merged[k++] = d->franges[i++];
			else
				merged[k++] = d->franges[j++];
		}
		memcpy(d->franges, merged, d->n_frange * sizeof(*merged));
		free(merged);
	}
	franges_maxhi(d, 0);
	*added = 1;
	return 0;
}

/* ---- inline trees ---- */

static int tree_add_node(struct sym_dso *d, struct sym_tree *t, Dwarf_Die *die, uint32_t parent,
			 uint32_t *idx)
{
	struct sym_node *n;
	int line = 0;

	if (t->n_node >= UINT32_MAX)
		return error("%s: too many inlined frames", d->path);
	if (CPGO_GROW(t->nodes, t->alloc_node, t->n_node + 1) < 0)
		return error_prefix("%s", d->path);
	n = &t->nodes[t->n_node];
	memset(n, 0, sizeof(*n));
	n->name = die_name(die);
	n->linkage = die_linkage(die);
	n->file = die_decl_file(die);
	if (dwarf_decl_line(die, &line) == 0 && line > 0)
		n->start_line = line;
	n->call_line = die_udata(die, DW_AT_call_line);
	n->call_column = die_udata(die, DW_AT_call_column);
	n->discriminator = (uint32_t)die_udata(die, DW_AT_GNU_discriminator);
	n->parent = parent;
	*idx = (uint32_t)t->n_node++;
	return 0;
}

static int tree_walk(struct sym_dso *d, struct sym_tree *t, Dwarf_Die *parent_die, uint32_t parent,
		     int depth)
{
	Dwarf_Die child;

	if (depth > SYM_MAX_DEPTH || dwarf_child(parent_die, &child) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			uint32_t idx;

			if (tree_add_node(d, t, &child, parent, &idx) < 0)
				return -1;
			while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
				if (!range_ok(lo, hi))
					continue;
				if (CPGO_GROW(t->ranges, t->alloc_range, t->n_range + 1) < 0)
					return error_prefix("%s", d->path);
				t->ranges[t->n_range++] = (struct sym_nrange){ lo, hi, parent, idx };
			}
			if (tree_walk(d, t, &child, idx, depth + 1) < 0)
				return -1;
		} else if (tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
			   tag == DW_TAG_catch_block) {
			/* Blocks are not frames: their inlined calls belong to the enclosing one. */
			if (tree_walk(d, t, &child, parent, depth + 1) < 0)
				return -1;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int cmp_nrange(const void *a, const void *b)
{
	const struct sym_nrange *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static struct sym_tree *func_tree(struct sym_dso *d, struct sym_func *f)
{
	struct sym_tree *t;
	Dwarf_Die die;
	uint32_t root;

	if (f->tree)
		return f->tree;
	t = calloc(1, sizeof(*t));
	if (!t) {
		error("%s: out of memory", d->path);
		return NULL;
	}
	if (!dwarf_offdie(d->dwarf, f->die_off, &die)) {
		error("%s: bad DWARF DIE offset 0x%" PRIx64 ": %s", d->path, (uint64_t)f->die_off,
		      dwarf_errmsg(-1));
		goto fail;
	}
	if (tree_add_node(d, t, &die, 0, &root) < 0 || tree_walk(d, t, &die, root, 0) < 0)
		goto fail;
	if (t->n_range)
		qsort(t->ranges, t->n_range, sizeof(*t->ranges), cmp_nrange);
	for (size_t i = 0; i < t->n_range; i++) {
		struct sym_node *p = &t->nodes[t->ranges[i].parent];
		if (!p->rcount)
			p->rfirst = i;
		p->rcount++;
	}
	f->tree = t;
	return t;
fail:
	tree_free(t);
	return NULL;
}

/* The child of `n` whose range holds addr, or -1. */
static int64_t tree_child_at(const struct sym_tree *t, const struct sym_node *n, uint64_t addr)
{
	size_t lo = n->rfirst, hi = n->rfirst + n->rcount;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Siblings rarely overlap; look back a little in case they do. */
	for (size_t k = 0; k < 4 && lo > n->rfirst; k++, lo--)
		if (addr < t->ranges[lo - 1].hi)
			return t->ranges[lo - 1].node;
	return -1;
}

static const struct sym_sym *sym_at(const struct sym_dso *d, uint64_t addr)
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

static struct sym_func *func_at(struct sym_dso *d, uint64_t addr)
{
	size_t lo = 0, hi = d->n_frange;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->franges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The innermost (latest-starting) range that holds addr wins: nested functions. */
	while (lo && d->franges[lo - 1].maxhi > addr) {
		if (addr < d->franges[lo - 1].hi)
			return &d->funcs[d->franges[lo - 1].func];
		lo--;
	}
	return NULL;
}

int sym_dso_lookup(struct sym_dso *d, uint64_t vaddr, struct sym_frame *frames, int max)
{
	const struct sym_sym *sym;
	struct sym_func *f;
	struct sym_tree *t;
	uint32_t chain[SYM_MAX_DEPTH + 2];
	int n = 0, count;
	int64_t c;
	Dwarf_Die cudie;
	Dwarf_Line *row;

	if (max <= 0)
		return 0;
	sym = sym_at(d, vaddr);
	f = func_at(d, vaddr);
	if (!f && !d->indexed) {
		int added;
		if (index_cu_of(d, vaddr, &added) < 0)
			return -1;
		if (added)
			f = func_at(d, vaddr);
	}
	if (!f) {
		if (!sym)
			return 0;
		frames[0] = (struct sym_frame){ .name = sym->name, .linkage_name = sym->name,
						.file = "" };
		return 1;
	}
	if (!(t = func_tree(d, f)))
		return -1;
	/* Walk from the function down to the innermost inlined call holding vaddr. */
	chain[n++] = 0;
	while (n < (int)(sizeof(chain) / sizeof(chain[0])) &&
	       (c = tree_child_at(t, &t->nodes[chain[n - 1]], vaddr)) >= 0)
		chain[n++] = (uint32_t)c;
	count = n < max ? n : max;
	for (int i = 0; i < count; i++) {
		const struct sym_node *node = &t->nodes[chain[n - 1 - i]];
		struct sym_frame *fr = &frames[i];

		fr->name = node->name ? node->name : "??";
		fr->linkage_name = node->linkage;
		fr->file = node->file;
		fr->start_line = node->start_line;
		if (i == 0) {
			fr->line = fr->column = 0;
			fr->discriminator = 0;
		} else {
			const struct sym_node *callee = &t->nodes[chain[n - i]];
			fr->line = callee->call_line;
			fr->column = callee->call_column;
			fr->discriminator = callee->discriminator;
		}
		if (!fr->linkage_name)
			fr->linkage_name = (i == n - 1 && sym) ? sym->name : fr->name;
	}
	if (dwarf_offdie(d->dwarf, f->cu_off, &cudie) && (row = dwarf_getsrc_die(&cudie, vaddr))) {
		int line = 0, col = 0;
		unsigned disc = 0;

		dwarf_lineno(row, &line);
		dwarf_linecol(row, &col);
		dwarf_linediscriminator(row, &disc);
		frames[0].line = line > 0 ? line : 0;
		frames[0].column = col > 0 ? col : 0;
		frames[0].discriminator = disc;
	}
	return count;
}

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');
	return b ? b + 1 : s;
}

/*
 * How well a function's decl file matches the wanted one: 3 same path,
 * 2 one is a whole-component suffix of the other ("dir/x.c" and
 * "/abs/dir/x.c"), 1 same base name (built in another directory), 0 no.
 */
static int file_score(const char *have, const char *want)
{
	size_t hl, wl;

	if (!want)
		return 3;
	if (!strcmp(have, want))
		return 3;
	hl = strlen(have);
	wl = strlen(want);
	if (hl > wl && have[hl - wl - 1] == '/' && !strcmp(have + hl - wl, want))
		return 2;
	if (wl > hl && want[wl - hl - 1] == '/' && !strcmp(want + wl - hl, have))
		return 2;
	if (*have && !strcmp(base_name(have), base_name(want)))
		return 1;
	return 0;
}

int sym_dso_start_line(struct sym_dso *d, const char *name, const char *file,
		       int64_t *start_line)
{
	size_t lo = 0, hi;
	int best = 0, sc;

	if (build_index(d) < 0)
		return -1;
	hi = d->n_func;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(d->funcs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < d->n_func && !strcmp(d->funcs[i].name, name); i++) {
		if (d->funcs[i].start_line > 0 && (sc = file_score(d->funcs[i].file, file)) > best) {
			best = sc;
			*start_line = d->funcs[i].start_line;
		}
	}
	if (best)
		return 1;
	/* Linkage names (C++, renamed symbols) are rare: a linear scan is fine. */
	for (size_t i = 0; i < d->n_func; i++) {
		const struct sym_func *f = &d->funcs[i];
		if (f->linkage && f->start_line > 0 && !strcmp(f->linkage, name) &&
		    (sc = file_score(f->file, file)) > best) {
			best = sc;
			*start_line = f->start_line;
		}
	}
	return best > 0;
}

int sym_dso_each_function(struct sym_dso *d,
			  int (*cb)(const char *name, const char *linkage_name, const char *file,
				    int64_t start_line, void *arg),
			  void *arg)
{
	const struct sym_func *prev = NULL;
	int r;

	if (build_index(d) < 0)
		return -1;
	if (!d->n_frange) {
		for (size_t i = 0; i < d->n_sym; i++)
			if ((r = cb(d->syms[i].name, d->syms[i].name, "", 0, arg)))
				return r;
		return 0;
	}
	/* funcs is sorted by (name, linkage, file, start_line): duplicates are adjacent. */
	for (size_t i = 0; i < d->n_func; i++) {
		const struct sym_func *f = &d->funcs[i];

		if (!f->has_code)
			continue;
		if (prev && !strcmp(prev->name, f->name) &&
		    !strcmp(nz(prev->linkage), nz(f->linkage)) && !strcmp(prev->file, f->file) &&
		    prev->start_line == f->start_line)
			continue;
		prev = f;
		if ((r = cb(f->name, f->linkage ? f->linkage : f->name, f->file, f->start_line, arg)))
			return r;
	}
	return 0;
}
