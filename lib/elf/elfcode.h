#ifndef CPGO_ELF_ELFCODE_H
#define CPGO_ELF_ELFCODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * An ELF file's machine code as its file has it: the executable sections
 * and the function symbols' ranges, for walking a function's instructions.
 * Prefix: cpgo_elf_code_.
 */
typedef struct Elf Elf;

struct cpgo_elf_range {
	uint64_t addr, size;
	const unsigned char *data; /* sections only */
};

struct cpgo_elf_code {
	int fd;
	Elf *elf;
	int machine; /* e_machine (EM_X86_64, ...) */
	struct cpgo_elf_range *text, *fn; /* fn: sorted by address, one per address */
	size_t n_text, alloc_text, n_fn, alloc_fn;
};

/* A defined function symbol with a size, as the symbol table has it (aliases included). */
struct cpgo_elf_func_sym {
	const char *name;
	uint64_t addr, size;
	int local; /* STB_LOCAL */
};

/* Returns 0, or -1 with an error naming the file; *code is released either way on error. */
int cpgo_elf_code_open(struct cpgo_elf_code *code, const char *path);
void cpgo_elf_code_close(struct cpgo_elf_code *code);
/* The bytes at address a and how many follow in its section; NULL when a is in none. */
const unsigned char *cpgo_elf_code_at(const struct cpgo_elf_code *code, uint64_t a, uint64_t *avail);
/* The function symbol whose range holds a; NULL when none does. */
const struct cpgo_elf_range *cpgo_elf_code_function(const struct cpgo_elf_code *code, uint64_t a);
/*
 * Calls fn for each function symbol of .symtab (.dynsym when stripped), in
 * table order; stops at and returns fn's first non-zero result, else 0.
 */
int cpgo_elf_code_func_syms(const struct cpgo_elf_code *code,
			    int (*fn)(const struct cpgo_elf_func_sym *sym, void *arg), void *arg);

#endif
