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
void cpgo_elfsyms_release(struct cpgo_elfsyms *s);

#endif
