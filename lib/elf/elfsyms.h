#ifndef CPGO_ELF_ELFSYMS_H
#define CPGO_ELF_ELFSYMS_H

/*
 * The function symbols of an ELF file, as the linker sees them: name,
 * address, size, binding, and for a local symbol the source file that the
 * preceding STT_FILE entry names (so same-named statics of different files
 * stay apart). Prefix: cpgo_elfsyms_.
 */

#include <stddef.h>
#include <stdint.h>

struct cpgo_elfsym {
	char *name;
	char *file;     /* STT_FILE of a local symbol ("" when none or global) */
	uint64_t value, size;
	int is_local;
};

struct cpgo_elfsyms {
	struct cpgo_elfsym *syms;
	size_t n, alloc;
};

/*
 * Reads .symtab (else .dynsym) of `path`: defined STT_FUNC/STT_GNU_IFUNC
 * symbols with a nonzero address. A file without symbols gives n = 0.
 * Errors name the file.
 */
int cpgo_elfsyms_read(struct cpgo_elfsyms *out, const char *path);
/*
 * Appends the function symbols of `path` to `out` (zeroed or filled before):
 * an executable, a shared object, an object file (where a function may sit
 * at address 0 of its section) or every ELF member of an archive. With
 * `objects_only`, only object files (and archives' object members) are
 * read; any other file is an error. Errors name the file; what was added
 * before stays.
 */
int cpgo_elfsyms_add(struct cpgo_elfsyms *out, const char *path, int objects_only);
void cpgo_elfsyms_release(struct cpgo_elfsyms *s);

#endif
