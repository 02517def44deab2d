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

/* Appends one length-delimited top-level field holding a packed message. */
static int put_message(struct cpgo_buf *b, unsigned field, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (cpgo_pb_put_varint(b, (uint64_t)field << 3 | 2) < 0 || cpgo_pb_put_varint(b, n) < 0 ||
	    cpgo_buf_grow(b, n) < 0)
		return -1;
	protobuf_c_message_pack(msg, (uint8_t *)b->buf + b->len);
	b->len += n;
	b->buf[b->len] = '\0';
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
	Perftools__Profiles__Label *lb = NULL, **lbp = NULL;
	Perftools__Profiles__Line *ln = NULL, **lnp = NULL;
	size_t max_label = 0, max_line = 0;
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
		if (p->samples[i].n_label > max_label)
			max_label = p->samples[i].n_label;
	for (size_t i = 0; i < p->n_location; i++)
		if (p->locations[i].n_line > max_line)
			max_line = p->locations[i].n_line;
	ALLOC(lb, max_label);
	ALLOC(lbp, max_label);
	ALLOC(ln, max_line);
	ALLOC(lnp, max_line);

	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		Perftools__Profiles__Sample sm = PERFTOOLS__PROFILES__SAMPLE__INIT;
		sm.n_location_id = s->n_loc;
		sm.location_id = p->sample_locs + s->loc_off;
		sm.n_value = p->n_sample_type;
		sm.value = (int64_t *)p->values + i * p->n_sample_type;
		for (size_t j = 0; j < s->n_label; j++) {
			const struct cpgo_label *l = &p->labels[s->label_off + j];
			perftools__profiles__label__init(&lb[j]);
			lb[j].key = l->key;
			lb[j].str = l->str;
			lb[j].num = l->num;
			lb[j].num_unit = l->num_unit;
			lbp[j] = &lb[j];
		}
		sm.n_label = s->n_label;
		sm.label = lbp;
		if (put_message(out, CPGO_PB_SAMPLE, &sm.base) < 0 ||
		    (gz && !(out = cpgo_pprof_gzstream_flush(gz, 0))))
			goto cleanup;
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *s = &p->locations[i];
		Perftools__Profiles__Location lc = PERFTOOLS__PROFILES__LOCATION__INIT;
		lc.id = s->id;
		lc.mapping_id = s->mapping_id;
		lc.address = s->address;
		lc.is_folded = s->is_folded;
		for (size_t j = 0; j < s->n_line; j++) {
			const struct cpgo_line *l = &p->lines[s->line_off + j];
			perftools__profiles__line__init(&ln[j]);
			ln[j].function_id = l->function_id;
			ln[j].line = l->line;
			ln[j].column = l->column;
			lnp[j] = &ln[j];
		}
		lc.n_line = s->n_line;
		lc.line = lnp;
		if (put_message(out, CPGO_PB_LOCATION, &lc.base) < 0 ||
		    (gz && !(out = cpgo_pprof_gzstream_flush(gz, 0))))
			goto cleanup;
	}
	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *s = &p->functions[i];
		Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT;
		fn.id = s->id;
		fn.name = s->name;
		fn.system_name = s->system_name;
		fn.filename = s->filename;
		fn.start_line = s->start_line;
		if (put_message(out, CPGO_PB_FUNCTION, &fn.base) < 0 ||
		    (gz && !(out = cpgo_pprof_gzstream_flush(gz, 0))))
			goto cleanup;
	}
#undef ALLOC
	ret = 0;
cleanup:
	free(st); free(stp); free(mp); free(mpp);
	free(lb); free(lbp); free(ln); free(lnp);
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
