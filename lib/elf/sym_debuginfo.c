/*
 * Finding a file's DWARF when the file has none: the separate debug file of
 * the same build, by build id under the debug directory, else by
 * .gnu_debuglink (gdb's search order, checked by id or CRC).
 */
#include "elf/sym_internal.h"
#include "util/buf.h"
#include "util/hash.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longer "build ids" are not ids a linker wrote (GNU ld's are 16 or 20 bytes). */
#define SYM_BUILD_ID_MAX 256

int sym_elf_has_section(Elf *elf, const char *name)
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

int sym_elf_has_dwarf(Elf *elf)
{
	return sym_elf_has_section(elf, ".debug_info") || sym_elf_has_section(elf, ".zdebug_info");
}

char *sym_build_id_hex(Elf *elf)
{
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	char *s;

	if (n <= 0 || n > SYM_BUILD_ID_MAX)
		return NULL;
	s = malloc(2 * n + 1);
	if (s)
		cpgo_hex(id, (size_t)n, s);
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
	if (!sym_elf_has_dwarf(elf))
		goto cleanup;
	id = sym_build_id_hex(elf);
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

void sym_debug_find(struct sym_dso *d, const char *debug_dir)
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
