#include "util/hash.h"

#include <nettle/sha2.h>

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct cpgo_sha256 *)0)->ctx),
	       "struct cpgo_sha256 must hold nettle's sha256_ctx");

void cpgo_sha256_init(struct cpgo_sha256 *s)
{
	sha256_init((struct sha256_ctx *)s->ctx);
}

void cpgo_sha256_update(struct cpgo_sha256 *s, const void *data, size_t len)
{
	sha256_update((struct sha256_ctx *)s->ctx, len, data);
}

void cpgo_sha256_final(struct cpgo_sha256 *s, unsigned char out[CPGO_SHA256_SIZE])
{
	sha256_digest((struct sha256_ctx *)s->ctx, CPGO_SHA256_SIZE, out);
}

void cpgo_sha256_hex(const void *data, size_t len, char out[CPGO_SHA256_HEX_SIZE])
{
	struct cpgo_sha256 s;
	unsigned char md[CPGO_SHA256_SIZE];

	cpgo_sha256_init(&s);
	cpgo_sha256_update(&s, data, len);
	cpgo_sha256_final(&s, md);
	cpgo_hex(md, sizeof(md), out);
}

void cpgo_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}
