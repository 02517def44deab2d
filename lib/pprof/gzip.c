/*
 * gzip for the codec (profile_int.h), through libdeflate: whole buffers,
 * which is what a profile is, and several times faster than zlib.
 */
#include "pprof/profile_int.h"
#include "util/error.h"

#include <libdeflate.h>

/* Level 1: profiles are written often (merge, runtime); size is secondary. */
#define GZIP_LEVEL 1

int cpgo_pprof_gunzip(const unsigned char *in, size_t len, const char *name, size_t limit,
		      struct cpgo_buf *out)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t pos = 0;
	int ret = -1;

	if (!d)
		return error("%s: out of memory for the decompressor", name);
	/*
	 * The last member's trailer holds the uncompressed size mod 2^32; use it
	 * as a first guess and refuse a claimed size over the limit at once, so
	 * a gzip bomb costs nothing. A lying trailer only costs retries bounded
	 * by the limit.
	 */
	while (pos < len) {
		size_t guess, in_used = 0, out_got = 0;
		enum libdeflate_result r;

		if (len - pos < 18) {
			error("%s: truncated gzip data", name);
			goto cleanup;
		}
		if (in[pos] != 0x1f || in[pos + 1] != 0x8b) {
			/* Trailing garbage after a complete member: what gzip(1) warns about. */
			if (pos)
				break;
			error("%s: not gzip data", name);
			goto cleanup;
		}
		guess = (size_t)in[len - 4] | (size_t)in[len - 3] << 8 |
			(size_t)in[len - 2] << 16 | (size_t)in[len - 1] << 24;
		if (guess > limit - out->len) {
			error("%s: gzip trailer claims %zu bytes decompressed, over the limit of "
			      "%zu bytes (a gzip bomb, or truncated data)", name, guess, limit);
			goto cleanup;
		}
		if (guess < 4096)
			guess = 4096;
		for (;;) {
			if (guess > limit - out->len)
				guess = limit - out->len;
			if (cpgo_buf_grow(out, guess) < 0)
				goto cleanup;
			r = libdeflate_gzip_decompress_ex(d, in + pos, len - pos, out->buf + out->len,
							  guess, &in_used, &out_got);
			if (r == LIBDEFLATE_SUCCESS)
				break;
			if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
				if (guess >= limit - out->len) {
					error("%s: decompressed data is over the limit of %zu bytes",
					      name, limit);
					goto cleanup;
				}
				guess = guess > (SIZE_MAX / 4) ? limit : guess * 4;
				continue;
			}
			error("%s: corrupt or truncated gzip data", name);
			goto cleanup;
		}
		out->len += out_got;
		out->buf[out->len] = '\0';
		pos += in_used;
	}
	ret = 0;
cleanup:
	libdeflate_free_decompressor(d);
	return ret;
}

int cpgo_pprof_gzip(const void *in, size_t len, struct cpgo_buf *out)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(GZIP_LEVEL);
	size_t bound, n;
	int ret = -1;

	if (!c)
		return error("out of memory for the compressor");
	bound = libdeflate_gzip_compress_bound(c, len);
	if (cpgo_buf_grow(out, bound) < 0)
		goto cleanup;
	n = libdeflate_gzip_compress(c, in, len, out->buf + out->len, bound);
	if (!n) {
		error("gzip compression failed");
		goto cleanup;
	}
	out->len += n;
	out->buf[out->len] = '\0';
	ret = 0;
cleanup:
	libdeflate_free_compressor(c);
	return ret;
}
