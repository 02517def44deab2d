#ifndef CPGO_UTIL_HASH_H
#define CPGO_UTIL_HASH_H

/*
 * The project's hash functions, one of each kind, so that every table hashes
 * the same way: FNV-1a for strings, a multiply-xorshift step to fold in
 * integers, and the murmur3 finalizer to spread the result before masking.
 * SHA-256 (content hashes for the cache key and the ELF note) is nettle's.
 */

#include <stddef.h>
#include <stdint.h>

#define CPGO_HASH_SEED 0xcbf29ce484222325ull /* FNV-1a 64-bit offset basis */

static inline uint64_t cpgo_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static inline uint64_t cpgo_hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	/* The terminator keeps ("ab","c") and ("a","bc") apart when chained. */
	return (h ^ 0xff) * 0x100000001b3ull;
}

static inline uint64_t cpgo_hash_mix(uint64_t h, uint64_t x)
{
	h = (h ^ x) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* murmur3's fmix64: every input bit reaches the low bits used as a table index. */
static inline uint64_t cpgo_hash_fin(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

#define CPGO_SHA256_SIZE 32
#define CPGO_SHA256_HEX_SIZE 65

struct cpgo_sha256 {
	/* nettle's sha256_ctx, kept opaque so callers need no nettle header. */
	_Alignas(8) unsigned char ctx[128];
};

void cpgo_sha256_init(struct cpgo_sha256 *s);
void cpgo_sha256_update(struct cpgo_sha256 *s, const void *data, size_t len);
void cpgo_sha256_final(struct cpgo_sha256 *s, unsigned char out[CPGO_SHA256_SIZE]);
/* One-shot SHA-256 of a buffer, as lowercase hex. */
void cpgo_sha256_hex(const void *data, size_t len, char out[CPGO_SHA256_HEX_SIZE]);

/* Lowercase hex of `n` bytes into `out` (2n + 1 bytes). */
void cpgo_hex(const unsigned char *in, size_t n, char *out);

#endif
