#ifndef CPGO_ELF_ELFINSPECT_H
#define CPGO_ELF_ELFINSPECT_H

/*
 * What a command needs to know about an ELF file before running it, read
 * with libelf/gelf (both classes, either byte order). Prefix: cpgo_elf_.
 */

#define CPGO_ELF_BUILD_ID_HEX_MAX 129 /* 64 bytes of id as hex, NUL */

struct cpgo_elf_info {
	int elf_class;   /* ELFCLASS32 or ELFCLASS64 */
	int has_interp;  /* a PT_INTERP: the dynamic loader runs it (LD_PRELOAD works) */
	int has_dynamic; /* a PT_DYNAMIC (also true of static-pie) */
	char build_id[CPGO_ELF_BUILD_ID_HEX_MAX]; /* GNU build id as hex, "" when none */
};

/*
 * Fills *info from the ELF file `path`. Returns 0, or -1 with an error naming
 * the file: cannot open, not an ELF file, truncated program headers.
 */
int cpgo_elf_inspect(const char *path, struct cpgo_elf_info *info);

typedef struct Elf Elf;
/*
 * Opens the ELF file `path` read-only (mmap): *fd and *elf for the caller to
 * elf_end and close. Returns 0, or -1 with an error naming the file (cannot
 * open, not an ELF file) and nothing left open.
 */
int cpgo_elf_open(const char *path, int *fd, Elf **elf);

#endif
