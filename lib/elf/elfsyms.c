#include "elf/elfsyms.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"

void cpgo_elfsyms_release(struct cpgo_elfsyms *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->syms[i].name);
		free(s->syms[i].file);
	}
	free(s->syms);
	memset(s, 0, sizeof(*s));
}

static int add_table(struct cpgo_elfsyms *out, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		     const char *path, int relocatable)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *file = "";
	size_t n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		struct cpgo_elfsym *e;
		const char *name;
		GElf_Sym s;
		int type;

		if (!gelf_getsym(data, i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (type == STT_FILE) {
			/* Locals that follow belong to this file, until the next STT_FILE. */
			file = name ? name : "";
			continue;
		}
		/* In an object file, each function of -ffunction-sections starts its section at 0. */
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
		    (!s.st_value && !relocatable) || !name || !*name)
			continue;
		if (CPGO_GROW(out->syms, out->alloc, out->n + 1) < 0)
			return error_prefix("%s", path);
		e = &out->syms[out->n];
		e->is_local = GELF_ST_BIND(s.st_info) == STB_LOCAL;
		e->name = strdup(name);
		e->file = strdup(e->is_local ? file : "");
		if (!e->name || !e->file) {
			free(e->name);
			free(e->file);
			return error("%s: out of memory reading symbols", path);
		}
		e->value = s.st_value;
		e->size = s.st_size;
		out->n++;
	}
	return 0;
}

/* Adds one ELF file's function symbols (an archive's member or a whole file). */
static int add_elf(struct cpgo_elfsyms *out, Elf *elf, const char *path)
{
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Shdr sh, dynsh;
	GElf_Ehdr eh;
	size_t before = out->n;
	int relocatable;

	if (!gelf_getehdr(elf, &eh))
		return error("%s: not an ELF file", path);
	relocatable = eh.e_type == ET_REL;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && add_table(out, elf, scn, &sh, path, relocatable) < 0)
			return -1;
		if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dynsh = sh;
		}
	}
	/* A stripped file still exports its dynamic symbols. */
	if (out->n == before && dynsym && add_table(out, elf, dynsym, &dynsh, path, 0) < 0)
		return -1;
	return 0;
}

int cpgo_elfsyms_add(struct cpgo_elfsyms *out, const char *path, int objects_only)
{
	Elf *elf = NULL, *member = NULL;
	int fd, ret = -1;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno("%s: cannot open", path);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_AR) {
		Elf_Cmd cmd = ELF_C_READ;
		while ((member = elf_begin(fd, cmd, elf))) {
			GElf_Ehdr eh;
			/* The archive's symbol index and other non-ELF members are skipped. */
			if (elf_kind(member) == ELF_K_ELF && gelf_getehdr(member, &eh) &&
			    (!objects_only || eh.e_type == ET_REL) && add_elf(out, member, path) < 0)
				goto cleanup;
			cmd = elf_next(member);
			elf_end(member);
			member = NULL;
		}
		ret = 0;
		goto cleanup;
	}
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		error("%s: not an ELF file", path);
		goto cleanup;
	}
	if (objects_only) {
		GElf_Ehdr eh;
		if (!gelf_getehdr(elf, &eh) || eh.e_type != ET_REL) {
			error("%s: not an ELF object file", path);
			goto cleanup;
		}
	}
	ret = add_elf(out, elf, path);
cleanup:
	if (member)
		elf_end(member);
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

int cpgo_elfsyms_read(struct cpgo_elfsyms *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	if (cpgo_elfsyms_add(out, path, 0) < 0) {
		cpgo_elfsyms_release(out);
		return -1;
	}
	return 0;
}
