/*
 * Reads a gcc AutoFDO file the way gcc 12's read_profile does, but checks
 * what gcc takes on trust (every length, every index into the string
 * table, the nesting depth), so a damaged file is an error that says where
 * instead of gcc reading past it. Optionally renders it as text.
 */
#include "gccprof.h"
#include "util/error.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Deeper nesting than any real inline chain: a hostile file, not a profile. */
#define GR_MAX_DEPTH 256

struct gr {
	const unsigned char *p;
	size_t len, pos;
	const char *name;
	struct cpgo_buf *text;
	const char **strings; /* into the data; NULL until the table is read */
	uint32_t n_strings;
};

static int need(struct gr *r, size_t n, const char *what)
{
	if (r->len - r->pos < n)
		return error("%s: truncated AutoFDO profile: %s at byte %zu needs %zu bytes, %zu left",
			     r->name, what, r->pos, n, r->len - r->pos);
	return 0;
}

static int get_u32(struct gr *r, const char *what, uint32_t *v)
{
	if (need(r, sizeof(*v), what) < 0)
		return -1;
	memcpy(v, r->p + r->pos, sizeof(*v));
	r->pos += sizeof(*v);
	return 0;
}

static int get_count(struct gr *r, const char *what, uint64_t *v)
{
	uint32_t lo, hi;

	if (get_u32(r, what, &lo) < 0 || get_u32(r, what, &hi) < 0)
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	if (*v > INT64_MAX)
		return error("%s: AutoFDO %s at byte %zu is negative to gcc (%" PRIu64 ")", r->name,
			     what, r->pos - 8, *v);
	return 0;
}

static int get_index(struct gr *r, uint64_t idx, const char *what, const char **s)
{
	if (idx >= r->n_strings)
		return error("%s: AutoFDO %s at byte %zu names string %" PRIu64
			     " of a table of %" PRIu32, r->name, what, r->pos, idx, r->n_strings);
	*s = r->strings[idx];
	return 0;
}

static int tag(struct gr *r, uint32_t want, const char *what)
{
	uint32_t t, len;

	if (get_u32(r, what, &t) < 0)
		return -1;
	if (t != want)
		return error("%s: not an AutoFDO profile of gcc 12: expected the %s section "
			     "(tag 0x%08" PRIx32 ") at byte %zu, found 0x%08" PRIx32,
			     r->name, what, want, r->pos - 4, t);
	return get_u32(r, what, &len);
}

static int read_strings(struct gr *r)
{
	uint32_t n;

	if (tag(r, GCCPROF_TAG_NAMES, "string table") < 0 || get_u32(r, "string count", &n) < 0)
		return -1;
	/* Each string takes at least 5 bytes: a bound before allocating. */
	if (n > (r->len - r->pos) / 5)
		return error("%s: AutoFDO string table claims %" PRIu32 " strings in %zu bytes",
			     r->name, n, r->len - r->pos);
	if (!(r->strings = calloc(n ? n : 1, sizeof(*r->strings))))
		return error("%s: out of memory", r->name);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t sl;
		if (get_u32(r, "string length", &sl) < 0 || need(r, sl, "string") < 0)
			return -1;
		/* gcc 12 writes the byte length with the NUL (older gcc: words, padded). */
		if (!sl || r->p[r->pos + sl - 1] != '\0' || memchr(r->p + r->pos, '\0', sl) !=
							      r->p + r->pos + sl - 1)
			return error("%s: AutoFDO string %" PRIu32 " at byte %zu is not a gcc 12 string "
				     "(byte length with its NUL, no padding)", r->name, i, r->pos - 4);
		r->strings[i] = (const char *)r->p + r->pos;
		r->pos += sl;
	}
	r->n_strings = n;
	return 0;
}

static int put_pos(struct gr *r, int depth, uint32_t pos)
{
	if (!r->text)
		return 0;
	if (cpgo_buf_addf(r->text, "%*s%" PRIu32, depth + 1, "", pos >> 16) < 0)
		return -1;
	return (pos & 0xffff) ? cpgo_buf_addf(r->text, ".%" PRIu32, pos & 0xffff) : 0;
}

/* One function instance; its total is the sum of its and its call sites' counts, as gcc adds. */
static int read_instance(struct gr *r, int depth, uint64_t head, int top, uint64_t *total)
{
	uint32_t name, n_pos, n_call;
	const char *fname = NULL;
	size_t text_at = r->text ? r->text->len : 0;
	uint64_t sum = 0;

	if (depth > GR_MAX_DEPTH)
		return error("%s: AutoFDO call sites nest deeper than %d at byte %zu", r->name,
			     GR_MAX_DEPTH, r->pos);
	if (get_u32(r, "function name", &name) < 0 || get_index(r, name, "function", &fname) < 0 ||
	    get_u32(r, "position count", &n_pos) < 0 || get_u32(r, "call site count", &n_call) < 0)
		return -1;
	for (uint32_t i = 0; i < n_pos; i++) {
		uint32_t pos, n_tgt;
		uint64_t count;
		if (get_u32(r, "position", &pos) < 0 || get_u32(r, "target count", &n_tgt) < 0 ||
		    get_count(r, "count", &count) < 0)
			return -1;
		sum = sum + count < sum ? UINT64_MAX : sum + count;
		if (put_pos(r, depth, pos) < 0 ||
		    (r->text && cpgo_buf_addf(r->text, ": %" PRIu64, count) < 0))
			return -1;
		for (uint32_t t = 0; t < n_tgt; t++) {
			uint32_t hist;
			uint64_t idx, tc;
			const char *tn = NULL;
			if (get_u32(r, "histogram type", &hist) < 0 ||
			    get_count(r, "target name", &idx) < 0 ||
			    get_index(r, idx, "call target", &tn) < 0 || get_count(r, "target count", &tc) < 0)
				return -1;
			if (r->text && cpgo_buf_addf(r->text, " %s:%" PRIu64, tn, tc) < 0)
				return -1;
		}
		if (r->text && cpgo_buf_adds(r->text, "\n") < 0)
			return -1;
	}
	for (uint32_t i = 0; i < n_call; i++) {
		uint32_t pos;
		uint64_t sub = 0;
		if (get_u32(r, "call site", &pos) < 0 || put_pos(r, depth, pos) < 0 ||
		    (r->text && cpgo_buf_adds(r->text, ": ") < 0) ||
		    read_instance(r, depth + 1, 0, 0, &sub) < 0)
			return -1;
		sum = sum + sub < sum ? UINT64_MAX : sum + sub;
	}
	*total = sum;
	if (r->text) {
		/* The header goes before the body, now that the total is known. */
		struct cpgo_buf h = CPGO_BUF_INIT;
		int bad = cpgo_buf_addf(&h, "%s:%" PRIu64, fname, sum) < 0 ||
			  (top && cpgo_buf_addf(&h, ":%" PRIu64, head) < 0) || cpgo_buf_adds(&h, "\n") < 0 ||
			  cpgo_buf_grow(r->text, h.len) < 0;
		if (!bad) {
			memmove(r->text->buf + text_at + h.len, r->text->buf + text_at,
				r->text->len - text_at);
			memcpy(r->text->buf + text_at, h.buf, h.len);
			r->text->len += h.len;
			r->text->buf[r->text->len] = '\0';
		}
		cpgo_buf_release(&h);
		if (bad)
			return -1;
	}
	return 0;
}

int gccprof_read(const void *data, size_t len, const char *name, struct cpgo_buf *text)
{
	struct gr r = { .p = data, .len = len, .name = name ? name : "profile", .text = text };
	uint32_t magic, version, stamp, n_fn, n_mod;
	int ret = -1;

	if (get_u32(&r, "magic", &magic) < 0)
		goto cleanup;
	if (magic != GCCPROF_MAGIC) {
		error("%s: not a gcc AutoFDO profile (magic 0x%08" PRIx32 ", want 0x%08x 'gcda')",
		      r.name, magic, GCCPROF_MAGIC);
		goto cleanup;
	}
	if (get_u32(&r, "version", &version) < 0 || get_u32(&r, "header", &stamp) < 0)
		goto cleanup;
	if (version != GCCPROF_VERSION) {
		error("%s: AutoFDO profile version %" PRIu32 ", gcc 12 reads version %u", r.name,
		      version, GCCPROF_VERSION);
		goto cleanup;
	}
	if (read_strings(&r) < 0 || tag(&r, GCCPROF_TAG_FUNCTIONS, "function") < 0 ||
	    get_u32(&r, "function count", &n_fn) < 0)
		goto cleanup;
	for (uint32_t i = 0; i < n_fn; i++) {
		uint64_t head, total;
		if (get_count(&r, "head count", &head) < 0 || read_instance(&r, 0, head, 1, &total) < 0)
			goto cleanup;
	}
	if (tag(&r, GCCPROF_TAG_MODULES, "module") < 0 || get_u32(&r, "module count", &n_mod) < 0)
		goto cleanup;
	if (n_mod) {
		/* gcc_assert (total_module_num == 0): gcc would stop with an internal error. */
		error("%s: AutoFDO profile lists %" PRIu32 " modules; gcc reads only profiles "
		      "without (LIPO is gone)", r.name, n_mod);
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(r.strings);
	return ret;
}
