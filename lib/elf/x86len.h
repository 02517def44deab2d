#ifndef CPGO_ELF_X86LEN_H
#define CPGO_ELF_X86LEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length of the x86-64 instruction at b (at most n bytes readable), or
 * 0 when it cannot be decoded (truncated, invalid in 64-bit mode, or an
 * encoding this decoder does not know). Enough to walk a function's code
 * instruction by instruction (compilers put jump tables in data sections),
 * not a disassembler.
 */
size_t x86_insn_len(const unsigned char *b, size_t n);

enum x86_jump {
	X86_NOT_JUMP = 0,
	X86_JUMP_DIRECT,   /* jmp rel8 / rel32 (*target set) */
	X86_JUMP_INDIRECT, /* jmp *r/m (FF /4) */
};

/*
 * What the instruction of `len` bytes at b, at address `addr`, is as an
 * unconditional jump; *target gets a direct jump's destination.
 */
enum x86_jump x86_insn_jump(const unsigned char *b, size_t len, uint64_t addr, uint64_t *target);

/*
 * A direct jump, conditional (jcc rel8 / rel32) or not: 1 with *target its
 * destination, else 0.
 */
int x86_insn_branch(const unsigned char *b, size_t len, uint64_t addr, uint64_t *target);

#endif
