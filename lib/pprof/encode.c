/*
 * Writing a profile (pprof/profile.h): the model into protobuf, packed one
 * large repeated message at a time like the decoder reads them, then
 * gzipped and written durably.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "pprof/profile.pb-c.h"
#include "util/error.h"

#include <stdlib.h>

/*
 * The streamed messages (Sample, Location, Function and their Label and
 * Line) are written here directly, as protobuf-c would pack them (fields in
 * number order, proto3 zeros left out, repeated scalars packed): sizing and
 * packing each of hundreds of thousands of tiny messages through
 * protobuf-c's generic descriptors costs more than the rest of the write.
 * Field numbers are profile.proto's; all of them are below 16, so every
 * tag is one byte.
 */
static size_t vsize(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static unsigned char *put_v(unsigned char *q, uint64_t v)
{
	while (v >= 0x80) {
		*q++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*q++ = (unsigned char)v;
	return q;
}

/* A varint field: its size, and writing it (nothing for 0, as proto3). */
static size_t fsize(uint64_t v)
{
	return v ? 1 + vsize(v) : 0;
}

static unsigned char *put_f(unsigned char *q, unsigned num, uint64_t v)
{
	if (!v)
		return q;
	*q++ = (unsigned char)(num << 3);
	return put_v(q, v);
}

/* A length-delimited field's tag and length. */
static unsigned char *put_len(unsigned char *q, unsigned num, size_t len)
{
	*q++ = (unsigned char)(num << 3 | 2);
	return put_v(q, len);
}

static size_t label_size(const struct cpgo_label *l)
{
	return fsize((uint64_t)l->key) + fsize((uint64_t)l->str) + fsize((uint64_t)l->num) +
	       fsize((uint64_t)l->num_unit);
}

static size_t line_size(const struct cpgo_line *l)
{
	return fsize(l->function_id) + fsize((uint64_t)l->line) + fsize((uint64_t)l->column);
}

/* Room for one top-level field of `len` bytes; returns where its payload goes. */
static unsigned char *begin_field(struct cpgo_buf *b, unsigned num, size_t len)
{
	if (cpgo_buf_grow(b, 1 + 10 + len) < 0)
		return NULL;
	return put_len((unsigned char *)b->buf + b->len, num, len);
}

static void end_field(struct cpgo_buf *b, unsigned char *q)
{
	b->len = (size_t)((char *)q - b->buf);
	b->buf[b->len] = '\0';
}

static int put_sample(const struct cpgo_profile *p, size_t i, struct cpgo_buf *b)
{
	const struct cpgo_sample *s = &p->samples[i];
	/* A profile without labels (or locations) has NULL pools: no pointer arithmetic on them. */
	const uint64_t *locs = s->n_loc ? p->sample_locs + s->loc_off : NULL;
	const int64_t *vals = cpgo_sample_values(p, i);
	const struct cpgo_label *labels = s->n_label ? p->labels + s->label_off : NULL;
	size_t nl = 0, nv = 0, len = 0;
	unsigned char *q;

	for (size_t j = 0; j < s->n_loc; j++)
		nl += vsize(locs[j]);
	for (size_t j = 0; j < p->n_sample_type; j++)
		nv += vsize((uint64_t)vals[j]);
	if (nl)
		len += 1 + vsize(nl) + nl;
	if (nv)
		len += 1 + vsize(nv) + nv;
	for (size_t j = 0; j < s->n_label; j++) {
		size_t n = label_size(&labels[j]);
		len += 1 + vsize(n) + n;
	}
	if (!(q = begin_field(b, CPGO_PB_SAMPLE, len)))
		return -1;
	if (nl) {
		q = put_len(q, 1, nl);
		for (size_t j = 0; j < s->n_loc; j++)
			q = put_v(q, locs[j]);
	}
	if (nv) {
		q = put_len(q, 2, nv);
		for (size_t j = 0; j < p->n_sample_type; j++)
			q = put_v(q, (uint64_t)vals[j]);
	}
	for (size_t j = 0; j < s->n_label; j++) {
		const struct cpgo_label *l = &labels[j];
		q = put_len(q, 3, label_size(l));
		q = put_f(q, 1, (uint64_t)l->key);
		q = put_f(q, 2, (uint64_t)l->str);
		q = put_f(q, 3, (uint64_t)l->num);
		q = put_f(q, 4, (uint64_t)l->num_unit);
	}
	end_field(b, q);
	return 0;
}

static int put_location(const struct cpgo_profile *p, const struct cpgo_location *l,
			struct cpgo_buf *b)
{
	const struct cpgo_line *lines = l->n_line ? p->lines + l->line_off : NULL;
	size_t len = fsize(l->id) + fsize(l->mapping_id) + fsize(l->address) + fsize(!!l->is_folded);
	unsigned char *q;

	for (size_t j = 0; j < l->n_line; j++) {
		size_t n = line_size(&lines[j]);
		len += 1 + vsize(n) + n;
	}
	if (!(q = begin_field(b, CPGO_PB_LOCATION, len)))
		return -1;
	q = put_f(q, 1, l->id);
	q = put_f(q, 2, l->mapping_id);
	q = put_f(q, 3, l->address);
	for (size_t j = 0; j < l->n_line; j++) {
		q = put_len(q, 4, line_size(&lines[j]));
		q = put_f(q, 1, lines[j].function_id);
		q = put_f(q, 2, (uint64_t)lines[j].line);
		q = put_f(q, 3, (uint64_t)lines[j].column);
	}
	q = put_f(q, 5, !!l->is_folded);
	end_field(b, q);
	return 0;
}

static int put_function(const struct cpgo_function *f, struct cpgo_buf *b)
{
	size_t len = fsize(f->id) + fsize((uint64_t)f->name) + fsize((uint64_t)f->system_name) +
		     fsize((uint64_t)f->filename) + fsize((uint64_t)f->start_line);
	unsigned char *q = begin_field(b, CPGO_PB_FUNCTION, len);

	if (!q)
		return -1;
	q = put_f(q, 1, f->id);
	q = put_f(q, 2, (uint64_t)f->name);
	q = put_f(q, 3, (uint64_t)f->system_name);
	q = put_f(q, 4, (uint64_t)f->filename);
	q = put_f(q, 5, (uint64_t)f->start_line);
	end_field(b, q);
	return 0;
}

/*
 * Encodes the raw protobuf into `out`, or chunk by chunk into `gz`. Like
 * the decoder, it packs the large repeated messages one at a time (no
 * message tree of the whole profile).
 */
static int encode_raw(const struct cpgo_profile *p, struct cpgo_buf *out,
		      struct cpgo_pprof_gzstream *gz)
{
	Perftools__Profiles__Profile m = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType *st = NULL, **stp = NULL, pt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	Perftools__Profiles__Mapping *mp = NULL, **mpp = NULL;
	int ret = -1;

#define ALLOC(ptr, n) \
	do { \
		ptr = calloc((n) ? (n) : 1, sizeof(*(ptr))); \
		if (!ptr) { \
			error("out of memory encoding a profile"); \
			goto cleanup; \
		} \
	} while (0)

	/* Small fields first, as one message: sample types, mappings, strings, header. */
	ALLOC(st, p->n_sample_type);
	ALLOC(stp, p->n_sample_type);
	for (size_t i = 0; i < p->n_sample_type; i++) {
		perftools__profiles__value_type__init(&st[i]);
		st[i].type = p->sample_type[i].type;
		st[i].unit = p->sample_type[i].unit;
		stp[i] = &st[i];
	}
	m.n_sample_type = p->n_sample_type;
	m.sample_type = stp;
	ALLOC(mp, p->n_mapping);
	ALLOC(mpp, p->n_mapping);
	for (size_t i = 0; i < p->n_mapping; i++) {
		const struct cpgo_mapping *s = &p->mappings[i];
		perftools__profiles__mapping__init(&mp[i]);
		mp[i].id = s->id;
		mp[i].memory_start = s->memory_start;
		mp[i].memory_limit = s->memory_limit;
		mp[i].file_offset = s->file_offset;
		mp[i].filename = s->filename;
		mp[i].build_id = s->build_id;
		mp[i].has_functions = s->has_functions;
		mp[i].has_filenames = s->has_filenames;
		mp[i].has_line_numbers = s->has_line_numbers;
		mp[i].has_inline_frames = s->has_inline_frames;
		mpp[i] = &mp[i];
	}
	m.n_mapping = p->n_mapping;
	m.mapping = mpp;
	m.n_string_table = p->n_string;
	m.string_table = p->strings;
	m.drop_frames = p->drop_frames;
	m.keep_frames = p->keep_frames;
	m.time_nanos = p->time_nanos;
	m.duration_nanos = p->duration_nanos;
	pt.type = p->period_type.type;
	pt.unit = p->period_type.unit;
	m.period_type = &pt;
	m.period = p->period;
	m.n_comment = p->n_comment;
	m.comment = p->comments;
	m.default_sample_type = p->default_sample_type;
	{
		size_t n = perftools__profiles__profile__get_packed_size(&m);
		if (gz)
			out = cpgo_pprof_gzstream_flush(gz, 0);
		if (cpgo_buf_grow(out, n) < 0)
			goto cleanup;
		perftools__profiles__profile__pack(&m, (uint8_t *)out->buf + out->len);
		out->len += n;
	}

	for (size_t i = 0; i < p->n_sample; i++)
		if (put_sample(p, i, out) < 0 || (gz && !(out = cpgo_pprof_gzstream_flush(gz, 0))))
			goto cleanup;
	for (size_t i = 0; i < p->n_location; i++)
		if (put_location(p, &p->locations[i], out) < 0 ||
		    (gz && !(out = cpgo_pprof_gzstream_flush(gz, 0))))
			goto cleanup;
	for (size_t i = 0; i < p->n_function; i++)
		if (put_function(&p->functions[i], out) < 0 ||
		    (gz && !(out = cpgo_pprof_gzstream_flush(gz, 0))))
			goto cleanup;
#undef ALLOC
	ret = 0;
cleanup:
	free(st); free(stp); free(mp); free(mpp);
	return ret;
}

static int encode(const struct cpgo_profile *p, struct cpgo_buf *out, int gzip, int parallel)
{
	struct cpgo_buf raw = CPGO_BUF_INIT;
	struct cpgo_pprof_gzstream gz;
	int ret = -1;

	if (!gzip)
		return encode_raw(p, out, NULL);
	if (parallel) {
		cpgo_pprof_gzstream_init(&gz, out);
		ret = encode_raw(p, NULL, &gz) < 0 || !cpgo_pprof_gzstream_flush(&gz, 1) ? -1 : 0;
		cpgo_pprof_gzstream_release(&gz);
		return ret;
	}
	if (encode_raw(p, &raw, NULL) < 0)
		goto cleanup;
	if (cpgo_pprof_gzip(raw.buf, raw.len, out) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&raw);
	return ret;
}

int cpgo_profile_encode(const struct cpgo_profile *p, struct cpgo_buf *out, int gzip)
{
	return encode(p, out, gzip, 0);
}

static int write_profile(const struct cpgo_profile *p, const char *path, int parallel)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	int ret = -1;

	if (encode(p, &b, 1, parallel) < 0)
		goto cleanup;
	if (cpgo_write_file_atomic(path, b.buf, b.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&b);
	return ret;
}

int cpgo_profile_write(const struct cpgo_profile *p, const char *path)
{
	return write_profile(p, path, 0);
}

int cpgo_profile_write_parallel(const struct cpgo_profile *p, const char *path)
{
	return write_profile(p, path, 1);
}
