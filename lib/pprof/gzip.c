/*
 * gzip for the codec (profile_int.h), through libdeflate: whole buffers,
 * which is what a profile is, and several times faster than zlib.
 */
#include "pprof/profile_int.h"
#include "util/error.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Level 1: profiles are written often (merge, runtime); size is secondary. */
#define GZIP_LEVEL 1
/*
 * The parallel writer's raw chunks, one gzip member each: large enough that
 * a thread hand-off per chunk costs nothing, small enough that two of them
 * beside the compressed output keep the write's peak low.
 */
#define GZIP_CHUNK ((size_t)4 << 20)

int cpgo_pprof_gunzip(const unsigned char *in, size_t len, const char *name, size_t limit,
		      struct cpgo_buf *out)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	size_t pos = 0, prev_got = 0;
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
		/*
		 * With several members (cpgo's parallel writer) the trailer is the
		 * last member's size only: guess no less than the member before
		 * and a few times the compressed bytes left. Room not written to
		 * costs address space, not memory.
		 */
		if (guess < 2 * prev_got)
			guess = 2 * prev_got;
		if (guess / 4 < len - pos)
			guess = (len - pos) > SIZE_MAX / 4 ? SIZE_MAX : (len - pos) * 4;
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
		prev_got = out_got;
	}
	ret = 0;
cleanup:
	libdeflate_free_decompressor(d);
	return ret;
}

/* Compresses in[0, len) as one gzip member at the end of `out`; -1 (error set) on failure. */
static int gzip_member(struct libdeflate_compressor *c, const void *in, size_t len,
		       struct cpgo_buf *out)
{
	size_t bound = libdeflate_gzip_compress_bound(c, len), n;

	if (cpgo_buf_grow(out, bound) < 0)
		return -1;
	n = libdeflate_gzip_compress(c, in, len, out->buf + out->len, bound);
	if (!n)
		return error("gzip compression failed");
	out->len += n;
	out->buf[out->len] = '\0';
	return 0;
}

int cpgo_pprof_gzip(const void *in, size_t len, struct cpgo_buf *out)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(GZIP_LEVEL);
	int ret;

	if (!c)
		return error("out of memory for the compressor");
	ret = gzip_member(c, in, len, out);
	libdeflate_free_compressor(c);
	return ret;
}

static void *gzip_job_run(void *arg)
{
	struct cpgo_pprof_gzjob *j = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(GZIP_LEVEL);
	size_t bound;

	j->out_len = 0;
	if (!c)
		return NULL;
	bound = libdeflate_gzip_compress_bound(c, j->len);
	j->out = malloc(bound);
	if (j->out)
		j->out_len = libdeflate_gzip_compress(c, j->in, j->len, j->out, bound);
	libdeflate_free_compressor(c);
	return NULL;
}

void cpgo_pprof_gzstream_init(struct cpgo_pprof_gzstream *s, struct cpgo_buf *out)
{
	memset(s, 0, sizeof(*s));
	s->out = out;
	cpgo_buf_init(&s->raw[0]);
	cpgo_buf_init(&s->raw[1]);
}

/* Waits for the chunk on the worker and appends its member; -1 if it failed. */
static int gzstream_join(struct cpgo_pprof_gzstream *s)
{
	int ret = 0;

	if (!s->running)
		return 0;
	pthread_join(s->thread, NULL);
	s->running = 0;
	if (!s->job.out_len)
		ret = error("gzip compression failed (out of memory?)");
	else
		ret = cpgo_buf_add(s->out, s->job.out, s->job.out_len);
	free(s->job.out);
	s->job.out = NULL;
	return ret;
}

struct cpgo_buf *cpgo_pprof_gzstream_flush(struct cpgo_pprof_gzstream *s, int final)
{
	struct cpgo_buf *raw = &s->raw[s->cur];

	if (!final && raw->len < GZIP_CHUNK)
		return raw;
	if (gzstream_join(s) < 0)
		return NULL;
	if (!final) {
		s->job.in = (const unsigned char *)raw->buf;
		s->job.len = raw->len;
		s->running = !pthread_create(&s->thread, NULL, gzip_job_run, &s->job);
	}
	/* The last chunk, or one no thread could be started for, is compressed here. */
	if (!s->running && raw->len && cpgo_pprof_gzip(raw->buf, raw->len, s->out) < 0)
		return NULL;
	s->cur ^= 1;
	s->raw[s->cur].len = 0;
	return &s->raw[s->cur];
}

void cpgo_pprof_gzstream_release(struct cpgo_pprof_gzstream *s)
{
	if (s->running) {
		pthread_join(s->thread, NULL);
		s->running = 0;
	}
	free(s->job.out);
	s->job.out = NULL;
	cpgo_buf_release(&s->raw[0]);
	cpgo_buf_release(&s->raw[1]);
}
