/* The machine code of an ELF file, by section and by function (elfcode.h). */
#include "elf/elfcode.h"
#include "elf/elfinspect.h"
#include "util/buf.h"
#include "util/error.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_range(const void *a, const void *b)
{
	const struct cpgo_elf_range *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->size > y->size ? -1 : x->size < y->size;
}

int cpgo_elf_code_func_syms(const struct cpgo_elf_code *code,
			    int (*fn)(const struct cpgo_elf_func_sym *sym, void *arg), void *arg)
{
	Elf_Scn *scn = NULL;
	int have_symtab = 0, r;

	while ((scn = elf_nextscn(code->elf, scn))) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			have_symtab = 1;
	}
	while ((scn = elf_nextscn(code->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != (have_symtab ? SHT_SYMTAB : SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t k = 0; k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Sym s;
			const char *name;
			if (!gelf_getsym(data, (int)k, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    s.st_shndx == SHN_UNDEF || !s.st_size)
				continue;
			if (!(name = elf_strptr(code->elf, sh.sh_link, s.st_name)))
				name = "";
			struct cpgo_elf_func_sym fs = { name, s.st_value, s.st_size,
							GELF_ST_BIND(s.st_info) == STB_LOCAL };
			if ((r = fn(&fs, arg)))
				return r;
		}
	}
	return 0;
}

static int add_fn(const struct cpgo_elf_func_sym *s, void *arg)
{
	struct cpgo_elf_code *code = arg;
	if (CPGO_GROW(code->fn, code->alloc_fn, code->n_fn + 1) < 0)
		return -1;
	code->fn[code->n_fn++] = (struct cpgo_elf_range){ s->addr, s->size, NULL };
	return 0;
}

int cpgo_elf_code_open(struct cpgo_elf_code *code, const char *path)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t n = 0;

	memset(code, 0, sizeof(*code));
	code->fd = -1;
	if (cpgo_elf_open(path, &code->fd, &code->elf) < 0)
		return -1;
	if (gelf_getehdr(code->elf, &eh))
		code->machine = eh.e_machine;
	while ((scn = elf_nextscn(code->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS &&
		    (sh.sh_flags & SHF_EXECINSTR) && sh.sh_size &&
		    (d = elf_getdata(scn, NULL)) && d->d_buf && d->d_size == sh.sh_size) {
			if (CPGO_GROW(code->text, code->alloc_text, code->n_text + 1) < 0)
				goto fail;
			code->text[code->n_text++] =
				(struct cpgo_elf_range){ sh.sh_addr, sh.sh_size, d->d_buf };
		}
	}
	if (cpgo_elf_code_func_syms(code, add_fn, code) < 0)
		goto fail;
	if (code->n_fn)
		qsort(code->fn, code->n_fn, sizeof(*code->fn), cmp_range);
	/* Aliases: one entry per address, the largest. */
	for (size_t i = 0; i < code->n_fn; i++)
		if (!n || code->fn[i].addr != code->fn[n - 1].addr)
			code->fn[n++] = code->fn[i];
	code->n_fn = n;
	return 0;
fail:
	cpgo_elf_code_close(code);
	return error("%s: out of memory", path);
}

void cpgo_elf_code_close(struct cpgo_elf_code *code)
{
	if (code->elf)
		elf_end(code->elf);
	if (code->fd >= 0)
		close(code->fd);
	free(code->text);
	free(code->fn);
	memset(code, 0, sizeof(*code));
	code->fd = -1;
}

const unsigned char *cpgo_elf_code_at(const struct cpgo_elf_code *code, uint64_t a, uint64_t *avail)
{
	for (size_t i = 0; i < code->n_text; i++)
		if (a >= code->text[i].addr && a - code->text[i].addr < code->text[i].size) {
			*avail = code->text[i].size - (a - code->text[i].addr);
			return code->text[i].data + (a - code->text[i].addr);
		}
	return NULL;
}

const struct cpgo_elf_range *cpgo_elf_code_function(const struct cpgo_elf_code *code, uint64_t a)
{
	size_t lo = 0, hi = code->n_fn;

	/* The last symbol starting at or before a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (code->fn[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || a - code->fn[lo - 1].addr >= code->fn[lo - 1].size)
		return NULL;
	return &code->fn[lo - 1];
}
