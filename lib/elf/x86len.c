/*
 * x86-64 instruction lengths: legacy prefixes, REX, the one- and two-byte
 * opcode maps, 0F38/0F3A, VEX and EVEX. The tail-call rule of the
 * converter walks a function with it to find its jumps: scanning bytes for
 * FF /4 finds them inside immediates and displacements too.
 */
#include "x86len.h"

/* One-byte map: bit 0 ModRM, bits 1-3 immediate kind, 0x80 invalid in 64-bit mode. */
enum { M = 1, I8 = 2, I16 = 4, IZ = 6, IV = 8, I16_8 = 10, MOFFS = 12, INV = 0x80 };

static unsigned char one_byte(unsigned char op)
{
	if (op < 0x40) {
		unsigned lo = op & 7;
		if (op == 0x0f || op == 0x26 || op == 0x2e || op == 0x36 || op == 0x3e)
			return 0; /* handled by the caller */
		if (lo < 4)
			return M;
		if (lo == 4)
			return I8;
		if (lo == 5)
			return IZ;
		return INV; /* push/pop segment, daa, das, aaa, aas */
	}
	if (op < 0x60)
		return 0; /* REX (the caller's), push/pop reg */
	switch (op) {
	case 0x60: case 0x61: case 0x62: case 0x82: case 0x9a: case 0xce: case 0xd4: case 0xd5:
	case 0xd6: case 0xea:
		return INV;
	case 0x63: case 0x84: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8a:
	case 0x8b: case 0x8c: case 0x8d: case 0x8e: case 0x8f: case 0xd0: case 0xd1: case 0xd2:
	case 0xd3: case 0xfe: case 0xff:
		return M;
	case 0x68: case 0xa9:
		return IZ;
	case 0x69: case 0x81: case 0xc7:
		return M | IZ;
	case 0x6a: case 0xa8: case 0xcd: case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xeb:
	case 0xe0: case 0xe1: case 0xe2: case 0xe3:
		return I8;
	case 0x6b: case 0x80: case 0x83: case 0xc0: case 0xc1: case 0xc6:
		return M | I8;
	case 0xc2: case 0xca:
		return I16;
	case 0xc8:
		return I16_8;
	case 0xe8: case 0xe9:
		return IZ; /* rel32 (a 66 prefix is ignored for them in 64-bit mode: see below) */
	case 0xa0: case 0xa1: case 0xa2: case 0xa3:
		return MOFFS;
	}
	if (op >= 0x70 && op <= 0x7f)
		return I8;
	if (op >= 0xb0 && op <= 0xb7)
		return I8;
	if (op >= 0xb8 && op <= 0xbf)
		return IV;
	if (op >= 0xd8 && op <= 0xdf)
		return M; /* x87 */
	if (op == 0xf6 || op == 0xf7)
		return M; /* the immediate of test depends on ModRM.reg: the caller's */
	return 0;
}

/* Two-byte map (0F xx): 1 ModRM, 2 ModRM + imm8, 4 rel32, 0 neither. */
static unsigned char two_byte(unsigned char op)
{
	if (op >= 0x80 && op <= 0x8f)
		return 4;
	if ((op >= 0x70 && op <= 0x73) || op == 0xa4 || op == 0xac || op == 0xba || op == 0xc2 ||
	    (op >= 0xc4 && op <= 0xc6) || op == 0x0f)
		return 2;
	switch (op) {
	case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0b: case 0x0e: case 0x30:
	case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37: case 0x77: case 0xa0:
	case 0xa1: case 0xa2: case 0xa8: case 0xa9: case 0xaa:
		return 0;
	}
	if (op >= 0xc8 && op <= 0xcf)
		return 0; /* bswap */
	return 1;
}

/* Bytes of ModRM, SIB and displacement at b; 0 when truncated. */
static size_t modrm_len(const unsigned char *b, size_t n)
{
	unsigned mod, rm;
	size_t len = 1;

	if (n < 1)
		return 0;
	mod = b[0] >> 6;
	rm = b[0] & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (n < 2)
			return 0;
		len++;
		if (mod == 0 && (b[1] & 7) == 5)
			len += 4;
	} else if (mod == 0 && rm == 5) {
		len += 4; /* RIP-relative */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len <= n ? len : 0;
}

/* VEX (C4, C5) and EVEX (62): map and prefix bytes, then opcode, ModRM, imm8 by map. */
static size_t vex_len(const unsigned char *b, size_t n, size_t i)
{
	unsigned map;
	size_t m;
	int imm;

	if (b[i] == 0xc5) {
		map = 1;
		i += 2;
	} else if (b[i] == 0xc4) {
		if (i + 1 >= n)
			return 0;
		map = b[i + 1] & 0x1f;
		i += 3;
	} else {
		if (i + 1 >= n)
			return 0;
		map = b[i + 1] & 3;
		i += 4;
	}
	if (map < 1 || map > 3 || i >= n)
		return 0;
	if (map == 1 && b[i] == 0x77)
		return i + 1; /* vzeroupper / vzeroall */
	imm = map == 3 || (map == 1 && two_byte(b[i]) == 2);
	if (!(m = modrm_len(b + i + 1, n - i - 1)))
		return 0;
	i += 1 + m + (size_t)imm;
	return i <= n ? i : 0;
}

size_t x86_insn_len(const unsigned char *b, size_t n)
{
	size_t i = 0, m;
	int opsize = 0, addrsize = 0, rexw = 0;
	unsigned char op, k;
	size_t imm = 0;

	for (; i < n && i < 15; i++) {
		unsigned char p = b[i];
		if (p == 0x66)
			opsize = 1;
		else if (p == 0x67)
			addrsize = 1;
		else if (!(p == 0xf0 || p == 0xf2 || p == 0xf3 || p == 0x2e || p == 0x36 ||
			   p == 0x3e || p == 0x26 || p == 0x64 || p == 0x65))
			break;
	}
	if (i < n && (b[i] & 0xf0) == 0x40) {
		rexw = (b[i] & 8) != 0;
		i++;
	}
	if (i >= n)
		return 0;
	op = b[i];
	if (op == 0xc4 || op == 0xc5 || op == 0x62)
		return vex_len(b, n, i);
	if (op == 0x0f) {
		if (++i >= n)
			return 0;
		op = b[i];
		if (op == 0x38 || op == 0x3a) {
			if (++i >= n || !(m = modrm_len(b + i + 1, n - i - 1)))
				return 0;
			i += 1 + m + (op == 0x3a);
			return i <= n ? i : 0;
		}
		k = two_byte(op);
		i++;
		if (k == 4)
			return i + 4 <= n ? i + 4 : 0;
		if (k) {
			if (!(m = modrm_len(b + i, n - i)))
				return 0;
			i += m + (k == 2);
		}
		return i <= n ? i : 0;
	}
	k = one_byte(op);
	if (k & INV)
		return 0;
	i++;
	if (k & M) {
		if (!(m = modrm_len(b + i, n - i)))
			return 0;
		if ((op == 0xf6 || op == 0xf7) && ((b[i] >> 3) & 7) < 2)
			imm = op == 0xf6 ? 1 : opsize ? 2 : 4;
		i += m;
	}
	switch (k & 0x0e) {
	case I8: imm = 1; break;
	case I16: imm = 2; break;
	case IZ: imm = opsize && op != 0xe8 && op != 0xe9 ? 2 : 4; break;
	case IV: imm = rexw ? 8 : opsize ? 2 : 4; break;
	case I16_8: imm = 3; break;
	case MOFFS: imm = addrsize ? 4 : 8; break;
	}
	i += imm;
	return i <= n ? i : 0;
}

enum x86_jump x86_insn_jump(const unsigned char *b, size_t len, uint64_t addr, uint64_t *target)
{
	size_t i = 0;

	/* Prefixes a jump may carry: operand/segment (notrack 3E), bnd (F2), REX. */
	while (i < len && (b[i] == 0x66 || b[i] == 0x2e || b[i] == 0x3e || b[i] == 0xf2))
		i++;
	if (i < len && (b[i] & 0xf0) == 0x40)
		i++;
	if (i >= len)
		return X86_NOT_JUMP;
	if (b[i] == 0xeb && i + 2 == len) {
		*target = addr + len + (uint64_t)(int64_t)(int8_t)b[i + 1];
		return X86_JUMP_DIRECT;
	}
	if (b[i] == 0xe9 && i + 5 == len) {
		int32_t rel = (int32_t)((uint32_t)b[i + 1] | (uint32_t)b[i + 2] << 8 |
					(uint32_t)b[i + 3] << 16 | (uint32_t)b[i + 4] << 24);
		*target = addr + len + (uint64_t)(int64_t)rel;
		return X86_JUMP_DIRECT;
	}
	if (b[i] == 0xff && i + 1 < len && ((b[i + 1] >> 3) & 7) == 4)
		return X86_JUMP_INDIRECT;
	return X86_NOT_JUMP;
}

int x86_insn_branch(const unsigned char *b, size_t len, uint64_t addr, uint64_t *target)
{
	size_t i = 0;

	if (x86_insn_jump(b, len, addr, target) == X86_JUMP_DIRECT)
		return 1;
	/* Branch hints (2E/3E) and bnd (F2) may precede a jcc. */
	while (i < len && (b[i] == 0x2e || b[i] == 0x3e || b[i] == 0xf2))
		i++;
	if (i + 2 == len && (b[i] & 0xf0) == 0x70) {
		*target = addr + len + (uint64_t)(int64_t)(int8_t)b[i + 1];
		return 1;
	}
	if (i + 6 == len && b[i] == 0x0f && (b[i + 1] & 0xf0) == 0x80) {
		int32_t rel = (int32_t)((uint32_t)b[i + 2] | (uint32_t)b[i + 3] << 8 |
					(uint32_t)b[i + 4] << 16 | (uint32_t)b[i + 5] << 24);
		*target = addr + len + (uint64_t)(int64_t)rel;
		return 1;
	}
	return 0;
}
