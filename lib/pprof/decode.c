/*
 * Reading a profile (pprof/profile.h): gzip or raw protobuf into the flat
 * model, streamed (see stream_decode) so a large profile costs its model
 * only, then checked strictly before it is handed out.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "pprof/profile.pb-c.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

/* Decoded sizes are known up front: allocate exactly, not by doubling. */
#define RESERVE(ptr, alloc, n) cpgo_array_reserve((void **)&(ptr), &(alloc), (n), sizeof(*(ptr)))

/*
 * Copies the small top-level fields (strings, sample types, mappings,
 * header) of a decoded message into the model; samples, locations and
 * functions are streamed by stream_decode().
 */
static int from_message(struct cpgo_profile *p, const Perftools__Profiles__Profile *m,
			const char *name)
{
	/* Strings first: the decoder's table becomes ours (hashing happens lazily). */
	p->n_string = 0;
	cpgo_hashmap_clear(&p->priv->strs);
	p->priv->str_hashed = 0;
	if (m->n_string_table == 0)
		return error("%s: empty string table (not a pprof profile?)", name);
	if (RESERVE(p->strings, p->alloc_string, m->n_string_table) < 0)
		return -1;
	{
		size_t *nl = realloc(p->string_lens, p->alloc_string * sizeof(size_t));
		if (!nl)
			return error("out of memory");
		p->string_lens = nl;
	}
	for (size_t i = 0; i < m->n_string_table; i++) {
		size_t len = strlen(m->string_table[i]);
		char *c = cpgo_pprof_arena_alloc(p->priv, len + 1);
		if (!c)
			return -1;
		memcpy(c, m->string_table[i], len + 1);
		p->strings[i] = c;
		p->string_lens[i] = len;
	}
	p->n_string = m->n_string_table;

	if (RESERVE(p->sample_type, p->alloc_sample_type, m->n_sample_type) < 0)
		return -1;
	for (size_t i = 0; i < m->n_sample_type; i++) {
		p->sample_type[i].type = m->sample_type[i]->type;
		p->sample_type[i].unit = m->sample_type[i]->unit;
	}
	p->n_sample_type = m->n_sample_type;

	if (RESERVE(p->mappings, p->alloc_mapping, m->n_mapping) < 0)
		return -1;
	for (size_t i = 0; i < m->n_mapping; i++) {
		const Perftools__Profiles__Mapping *s = m->mapping[i];
		struct cpgo_mapping *d = &p->mappings[i];
		d->id = s->id;
		d->memory_start = s->memory_start;
		d->memory_limit = s->memory_limit;
		d->file_offset = s->file_offset;
		d->filename = s->filename;
		d->build_id = s->build_id;
		d->has_functions = s->has_functions;
		d->has_filenames = s->has_filenames;
		d->has_line_numbers = s->has_line_numbers;
		d->has_inline_frames = s->has_inline_frames;
	}
	p->n_mapping = m->n_mapping;

	p->drop_frames = m->drop_frames;
	p->keep_frames = m->keep_frames;
	p->time_nanos = m->time_nanos;
	p->duration_nanos = m->duration_nanos;
	if (m->period_type) {
		p->period_type.type = m->period_type->type;
		p->period_type.unit = m->period_type->unit;
	}
	p->period = m->period;
	if (RESERVE(p->comments, p->alloc_comment, m->n_comment) < 0)
		return -1;
	if (m->n_comment)
		memcpy(p->comments, m->comment, m->n_comment * sizeof(int64_t));
	p->n_comment = m->n_comment;
	p->default_sample_type = m->default_sample_type;
	cpgo_pprof_invalidate_ids(p->priv);
	return 0;
}

static void note_max_ids(struct cpgo_profile *p)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->functions[i].id > p->priv->max_fn_id)
			p->priv->max_fn_id = p->functions[i].id;
	for (size_t i = 0; i < p->n_location; i++)
		if (p->locations[i].id > p->priv->max_loc_id)
			p->priv->max_loc_id = p->locations[i].id;
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mappings[i].id > p->priv->max_map_id)
			p->priv->max_map_id = p->mappings[i].id;
}

/*
 * Streaming decode. protobuf-c unpacks a whole message tree at once, which
 * for a large profile costs several times the model. So the top level is
 * split here (only the wire framing: tag, length) and protobuf-c decodes
 * each Sample, Location and Function on its own, which is copied into the
 * model and freed at once. Every other top-level field is gathered into
 * one small Profile message that protobuf-c decodes whole (protobuf lets
 * fields of one message be concatenated in any order).
 */

static int streamed(const struct cpgo_pb_field *f)
{
	return f->wire == 2 &&
	       (f->num == CPGO_PB_SAMPLE || f->num == CPGO_PB_LOCATION || f->num == CPGO_PB_FUNCTION);
}

/*
 * The streamed messages (Sample, Location, Function and their Label and
 * Line) are decoded here straight into the model's pools: they are
 * hundreds of thousands of tiny messages, and protobuf-c's unpack costs a
 * malloc and a free per message and per repeated element. Every field is
 * one of two wire types: varint, or length-delimited (packed repeated
 * scalars and embedded messages), as protobuf allows for repeated scalars
 * both. Unknown fields are skipped, a known field with the wrong wire type
 * is corrupt (DECODE_CORRUPT), as it is to protobuf-c.
 */
#define DECODE_CORRUPT (-2)
/* A pool would pass CPGO_PROFILE_MAX_REFS. */
#define DECODE_TOO_BIG (-3)

/* Appends a repeated varint field (one value, or a packed run) to a uint64_t/int64_t pool. */
static int add_varints(void **pool, size_t *alloc, size_t *n, const struct cpgo_pb_field *f)
{
	const unsigned char *q = f->payload, *end = q ? q + f->payload_len : q;
	uint64_t *dst;
	size_t count = 0;

	if (f->wire == 0) {
		if (*n >= CPGO_PROFILE_MAX_REFS)
			return DECODE_TOO_BIG;
		if (cpgo_array_grow(pool, alloc, *n + 1, sizeof(uint64_t)) < 0)
			return -1;
		((uint64_t *)*pool)[(*n)++] = f->value;
		return 0;
	}
	if (f->wire != 2)
		return DECODE_CORRUPT;
	/* A packed run holds one value per byte without the continuation bit. */
	for (const unsigned char *c = q; c < end; c++)
		count += !(*c & 0x80);
	/* An empty packed run adds nothing (and the pool may still be NULL). */
	if (!count)
		return q == end ? 0 : DECODE_CORRUPT;
	if (count > CPGO_PROFILE_MAX_REFS - *n)
		return DECODE_TOO_BIG;
	if (cpgo_array_grow(pool, alloc, *n + count, sizeof(uint64_t)) < 0)
		return -1;
	dst = (uint64_t *)*pool + *n;
	while (q < end)
		if (cpgo_pb_varint(&q, end, dst++) < 0)
			return DECODE_CORRUPT;
	*n += count;
	return 0;
}

/* Decodes a message of varint fields 1..n_field into out[] (last value wins). */
static int decode_varints(const unsigned char *q, size_t len, uint64_t *out, size_t n_field)
{
	const unsigned char *end = len ? q + len : q;
	struct cpgo_pb_field f;

	while (q < end) {
		if (cpgo_pb_next(&q, end, &f) < 0)
			return DECODE_CORRUPT;
		if (f.num > n_field)
			continue;
		if (f.wire != 0)
			return DECODE_CORRUPT;
		out[f.num - 1] = f.value;
	}
	return 0;
}

static int decode_sample(struct cpgo_profile *p, const unsigned char *q, size_t len,
			 const char *name)
{
	const unsigned char *end = len ? q + len : q;
	size_t loc0 = p->n_sample_locs, val0 = p->n_values, lab0 = p->n_labels;
	struct cpgo_sample *d;
	struct cpgo_pb_field f;
	int r;

	while (q < end) {
		uint64_t lab[4] = { 0, 0, 0, 0 };
		struct cpgo_label *l;

		if (cpgo_pb_next(&q, end, &f) < 0)
			return DECODE_CORRUPT;
		switch (f.num) {
		case 1:
			r = add_varints((void **)&p->sample_locs, &p->alloc_sample_locs,
					&p->n_sample_locs, &f);
			break;
		case 2:
			r = add_varints((void **)&p->values, &p->alloc_values, &p->n_values, &f);
			break;
		case 3:
			if (f.wire != 2 ||
			    decode_varints(f.payload, f.payload_len, lab, 4) < 0)
				return DECODE_CORRUPT;
			if (p->n_labels >= CPGO_PROFILE_MAX_REFS)
				return DECODE_TOO_BIG;
			if (CPGO_GROW(p->labels, p->alloc_labels, p->n_labels + 1) < 0)
				return -1;
			l = &p->labels[p->n_labels++];
			l->key = (int64_t)lab[0];
			l->str = (int64_t)lab[1];
			l->num = (int64_t)lab[2];
			l->num_unit = (int64_t)lab[3];
			r = 0;
			break;
		default:
			r = 0;
		}
		if (r < 0)
			return r;
	}
	if (p->n_values - val0 != p->n_sample_type)
		return error("%s: sample %zu has %zu values but the profile has %zu sample types",
			     name, p->n_sample, p->n_values - val0, p->n_sample_type);
	if (CPGO_GROW(p->samples, p->alloc_sample, p->n_sample + 1) < 0)
		return -1;
	d = &p->samples[p->n_sample++];
	d->loc_off = loc0;
	d->n_loc = p->n_sample_locs - loc0;
	d->label_off = lab0;
	d->n_label = p->n_labels - lab0;
	return 0;
}

static int decode_location(struct cpgo_profile *p, const unsigned char *q, size_t len)
{
	const unsigned char *end = len ? q + len : q;
	struct cpgo_location *d;
	struct cpgo_pb_field f;

	if (CPGO_GROW(p->locations, p->alloc_location, p->n_location + 1) < 0)
		return -1;
	d = &p->locations[p->n_location];
	memset(d, 0, sizeof(*d));
	d->line_off = p->n_lines;
	while (q < end) {
		uint64_t ln[3] = { 0, 0, 0 };
		struct cpgo_line *l;

		if (cpgo_pb_next(&q, end, &f) < 0)
			return DECODE_CORRUPT;
		if (f.num > 5)
			continue;
		if (f.wire != (f.num == 4 ? 2u : 0u))
			return DECODE_CORRUPT;
		switch (f.num) {
		case 1: d->id = f.value; break;
		case 2: d->mapping_id = f.value; break;
		case 3: d->address = f.value; break;
		case 5: d->is_folded = f.value != 0; break;
		case 4:
			if (decode_varints(f.payload, f.payload_len, ln, 3) < 0)
				return DECODE_CORRUPT;
			if (p->n_lines >= CPGO_PROFILE_MAX_REFS)
				return DECODE_TOO_BIG;
			if (CPGO_GROW(p->lines, p->alloc_lines, p->n_lines + 1) < 0)
				return -1;
			l = &p->lines[p->n_lines++];
			l->function_id = ln[0];
			l->line = (int64_t)ln[1];
			l->column = (int64_t)ln[2];
			break;
		}
	}
	d->n_line = p->n_lines - d->line_off;
	p->n_location++;
	return 0;
}

static int decode_function(struct cpgo_profile *p, const unsigned char *q, size_t len)
{
	uint64_t v[5] = { 0, 0, 0, 0, 0 };
	struct cpgo_function *d;

	if (decode_varints(q, len, v, 5) < 0)
		return DECODE_CORRUPT;
	if (CPGO_GROW(p->functions, p->alloc_function, p->n_function + 1) < 0)
		return -1;
	d = &p->functions[p->n_function++];
	d->id = v[0];
	d->name = (int64_t)v[1];
	d->system_name = (int64_t)v[2];
	d->filename = (int64_t)v[3];
	d->start_line = (int64_t)v[4];
	return 0;
}

static int stream_decode(struct cpgo_profile *p, const unsigned char *in, size_t len,
			 const char *name)
{
	const unsigned char *q = in, *end = in + len;
	struct cpgo_buf rest = CPGO_BUF_INIT;
	Perftools__Profiles__Profile *m = NULL;
	struct cpgo_pb_field f;
	static const char *const kinds[7] = { NULL, NULL, "samples", "mappings", "locations",
					      "functions", "strings" };
	size_t counts[7] = { 0 };
	int ret = -1;

	/* Pass 1: gather the small fields, count the streamed ones. */
	while (q < end) {
		if (cpgo_pb_next(&q, end, &f) < 0) {
			error("%s: not a valid pprof profile (truncated or corrupt protobuf; "
			      "expected gzipped or raw profile.proto data)", name);
			goto cleanup;
		}
		if (f.num >= 2 && f.num <= 6 && ++counts[f.num] > CPGO_PROFILE_MAX_ITEMS) {
			error("%s: more than %zu %s: refused (over cpgo's bound on a profile; a real "
			      "CPU profile has far fewer)", name, CPGO_PROFILE_MAX_ITEMS,
			      kinds[f.num]);
			goto cleanup;
		}
		if (!streamed(&f) && cpgo_buf_add(&rest, f.start, (size_t)(f.end - f.start)) < 0)
			goto cleanup;
	}
	m = perftools__profiles__profile__unpack(NULL, rest.len, (const uint8_t *)rest.buf);
	if (!m) {
		error("%s: not a valid pprof profile (corrupt protobuf fields)", name);
		goto cleanup;
	}
	cpgo_buf_release(&rest);
	if (from_message(p, m, name) < 0)
		goto cleanup;
	if (RESERVE(p->samples, p->alloc_sample, counts[CPGO_PB_SAMPLE]) < 0 ||
	    RESERVE(p->locations, p->alloc_location, counts[CPGO_PB_LOCATION]) < 0 ||
	    RESERVE(p->functions, p->alloc_function, counts[CPGO_PB_FUNCTION]) < 0)
		goto cleanup;

	/* Pass 2: decode the streamed messages one at a time. */
	for (q = in; q < end;) {
		const char *what = NULL;
		int r = 0;

		if (cpgo_pb_next(&q, end, &f) < 0 || !streamed(&f))
			continue;
		if (f.num == CPGO_PB_SAMPLE) {
			what = "sample";
			r = decode_sample(p, f.payload, f.payload_len, name);
		} else if (f.num == CPGO_PB_LOCATION) {
			what = "location";
			r = decode_location(p, f.payload, f.payload_len);
		} else {
			what = "function";
			r = decode_function(p, f.payload, f.payload_len);
		}
		if (r == DECODE_CORRUPT)
			goto bad;
		if (r == DECODE_TOO_BIG) {
			error("%s: more than %zu location ids, values, lines or labels in all: refused "
			      "(over cpgo's bound on a profile; a real CPU profile has far fewer)", name,
			      CPGO_PROFILE_MAX_REFS);
			goto cleanup;
		}
		if (r < 0)
			goto cleanup;
		continue;
bad:
		error("%s: not a valid pprof profile (corrupt %s message at byte %zu)", name, what,
		      (size_t)(f.start - in));
		goto cleanup;
	}
	note_max_ids(p);
	cpgo_pprof_invalidate_ids(p->priv);
	ret = 0;
cleanup:
	if (m)
		perftools__profiles__profile__free_unpacked(m, NULL);
	cpgo_buf_release(&rest);
	return ret;
}

/*
 * Decodes `in` (gzip or raw). When `owned` is given it holds `in` and is
 * released as soon as it is no longer needed, to keep the peak low.
 */
static int parse_impl(struct cpgo_profile *p, const unsigned char *in, size_t len,
		      struct cpgo_buf *owned, const char *name, const struct cpgo_read_opts *opts)
{
	size_t limit = opts && opts->max_decompressed ? opts->max_decompressed : CPGO_PROFILE_READ_LIMIT;
	struct cpgo_buf raw = CPGO_BUF_INIT;
	int ret = -1;

	if (cpgo_profile_init(p) < 0)
		return -1;
	if (len == 0) {
		error("%s: empty file, not a pprof profile", name);
		goto cleanup;
	}
	if (cpgo_pprof_foreign_format(in, len, name) < 0)
		goto cleanup;
	if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
		if (cpgo_pprof_gunzip(in, len, name, limit, &raw) < 0)
			goto cleanup;
		if (owned)
			cpgo_buf_release(owned);
		in = (const unsigned char *)raw.buf;
		len = raw.len;
	} else if (len > limit) {
		error("%s: %zu bytes is over the limit of %zu", name, len, limit);
		goto cleanup;
	}
	if (stream_decode(p, in, len, name) < 0)
		goto cleanup;
	cpgo_buf_release(&raw);
	if (owned)
		cpgo_buf_release(owned);
	if (cpgo_profile_check(p, name) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&raw);
	if (ret < 0)
		cpgo_profile_release(p);
	return ret;
}

int cpgo_profile_parse(struct cpgo_profile *p, const void *data, size_t len,
		       const char *name, const struct cpgo_read_opts *opts)
{
	return parse_impl(p, data, len, NULL, name, opts);
}

int cpgo_profile_read(struct cpgo_profile *p, const char *path,
		      const struct cpgo_read_opts *opts)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	size_t limit = opts && opts->max_compressed ? opts->max_compressed : CPGO_PROFILE_READ_LIMIT;
	int ret;

	memset(p, 0, sizeof(*p));
	if (cpgo_read_file(path, &b, limit) < 0) {
		cpgo_buf_release(&b);
		return -1;
	}
	ret = parse_impl(p, (const unsigned char *)b.buf, b.len, &b,
			 strcmp(path, "-") ? path : "<stdin>", opts);
	cpgo_buf_release(&b);
	return ret;
}
