/*
 * cpgo_elf_inspect: class, loader and build id of an ELF file over gelf, so
 * no caller parses 32- and 64-bit headers by hand.
 */
#include "elf/elfinspect.h"
#include "util/error.h"
#include "util/hash.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

int cpgo_elf_open(const char *path, int *fd, Elf **elf)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error("%s: libelf is out of date", path);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return error_errno("%s: cannot open", path);
	*elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*elf || elf_kind(*elf) != ELF_K_ELF) {
		error("%s: not an ELF file", path);
		if (*elf)
			elf_end(*elf);
		*elf = NULL;
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

int cpgo_elf_inspect(const char *path, struct cpgo_elf_info *info)
{
	Elf *elf = NULL;
	size_t n;
	const void *id;
	ssize_t idlen;
	int fd, ret = -1;

	memset(info, 0, sizeof(*info));
	if (cpgo_elf_open(path, &fd, &elf) < 0)
		return -1;
	info->elf_class = gelf_getclass(elf);
	if (info->elf_class == ELFCLASSNONE || elf_getphdrnum(elf, &n) < 0) {
		error("%s: bad or truncated ELF header: %s", path, elf_errmsg(-1));
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			error("%s: truncated program headers (%zu of %zu readable)", path, i, n);
			goto cleanup;
		}
		if (ph.p_type == PT_INTERP)
			info->has_interp = 1;
		else if (ph.p_type == PT_DYNAMIC)
			info->has_dynamic = 1;
	}
	idlen = dwelf_elf_gnu_build_id(elf, &id);
	if (idlen > 0 && 2 * (size_t)idlen < sizeof(info->build_id))
		cpgo_hex(id, (size_t)idlen, info->build_id);
	ret = 0;
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
