/* The profile model and pprof codec: round trips and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libdeflate.h>

#include "util/error.h"
#include "pprof/profile.h"
#include "pprof/profile.pb-c.h"

/* A profile that uses every field of the format. */
static void build_full(struct cpgo_profile *p)
{
	struct cpgo_mapping m = { 0 };
	struct cpgo_line inl[2];
	uint64_t f1, f2, f3, l1, l2, l3, stack[3];
	int64_t v[2];
	struct cpgo_label lab[2];

	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "cpu", "nanoseconds"), 0);
	m.memory_start = 0x400000;
	m.memory_limit = 0x500000;
	m.file_offset = 0x1000;
	m.filename = cpgo_profile_intern(p, "/usr/bin/prog");
	m.build_id = cpgo_profile_intern(p, "abcdef0123");
	m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = 1;
	assert_int_equal(cpgo_profile_add_mapping(p, &m), 1);
	f1 = cpgo_profile_add_function(p, "main", "main", "main.c", 10);
	f2 = cpgo_profile_add_function(p, "hot", "hot_linkage", "hot.c", 20);
	f3 = cpgo_profile_add_function(p, "inl", NULL, "hot.c", 5);
	assert_true(f1 && f2 && f3);
	inl[0] = (struct cpgo_line){ f3, 7, 3 };
	inl[1] = (struct cpgo_line){ f2, 25, 9 };
	l1 = cpgo_profile_add_location(p, 1, 0x401000, inl, 2);
	inl[0] = (struct cpgo_line){ f1, 12, 0 };
	l2 = cpgo_profile_add_location(p, 1, 0x400500, inl, 1);
	l3 = cpgo_profile_add_location(p, 1, 0x400600, NULL, 0);
	assert_true(l1 && l2 && l3);
	p->locations[2].is_folded = 1;
	stack[0] = l1;
	stack[1] = l2;
	v[0] = 3;
	v[1] = 30000000;
	lab[0] = (struct cpgo_label){ cpgo_profile_intern(p, "thread"), cpgo_profile_intern(p, "worker"), 0, 0 };
	lab[1] = (struct cpgo_label){ cpgo_profile_intern(p, "bytes"), 0, 4096, cpgo_profile_intern(p, "bytes") };
	assert_int_equal(cpgo_profile_add_sample(p, stack, 2, v, lab, 2), 0);
	stack[0] = l3;
	v[0] = 1;
	v[1] = 10000000;
	assert_int_equal(cpgo_profile_add_sample(p, stack, 1, v, NULL, 0), 0);
	p->drop_frames = cpgo_profile_intern(p, "drop.*");
	p->keep_frames = cpgo_profile_intern(p, "keep.*");
	p->time_nanos = 1700000000000000000ll;
	p->duration_nanos = 2000000000;
	p->period_type.type = cpgo_profile_intern(p, "cpu");
	p->period_type.unit = cpgo_profile_intern(p, "nanoseconds");
	p->period = 10000000;
	p->comments = calloc(2, sizeof(int64_t));
	p->alloc_comment = 2;
	p->comments[0] = cpgo_profile_intern(p, "first comment");
	p->comments[1] = cpgo_profile_intern(p, "second");
	p->n_comment = 2;
	p->default_sample_type = cpgo_profile_intern(p, "cpu");
}

static void assert_same(const struct cpgo_profile *a, const struct cpgo_profile *b)
{
#define S(p, i) cpgo_profile_str(p, i)
	assert_int_equal(a->n_sample_type, b->n_sample_type);
	for (size_t i = 0; i < a->n_sample_type; i++) {
		assert_string_equal(S(a, a->sample_type[i].type), S(b, b->sample_type[i].type));
		assert_string_equal(S(a, a->sample_type[i].unit), S(b, b->sample_type[i].unit));
	}
	assert_int_equal(a->n_sample, b->n_sample);
	for (size_t i = 0; i < a->n_sample; i++) {
		const struct cpgo_sample *x = &a->samples[i], *y = &b->samples[i];
		assert_int_equal(x->n_loc, y->n_loc);
		assert_memory_equal(a->sample_locs + x->loc_off, b->sample_locs + y->loc_off,
				    x->n_loc * sizeof(uint64_t));
		assert_memory_equal(cpgo_sample_values(a, i), cpgo_sample_values(b, i),
				    a->n_sample_type * sizeof(int64_t));
		assert_int_equal(x->n_label, y->n_label);
		for (size_t j = 0; j < x->n_label; j++) {
			const struct cpgo_label *la = &a->labels[x->label_off + j];
			const struct cpgo_label *lb = &b->labels[y->label_off + j];
			assert_string_equal(S(a, la->key), S(b, lb->key));
			assert_string_equal(S(a, la->str), S(b, lb->str));
			assert_int_equal(la->num, lb->num);
			assert_string_equal(S(a, la->num_unit), S(b, lb->num_unit));
		}
	}
	assert_int_equal(a->n_mapping, b->n_mapping);
	for (size_t i = 0; i < a->n_mapping; i++) {
		const struct cpgo_mapping *x = &a->mappings[i], *y = &b->mappings[i];
		assert_int_equal(x->id, y->id);
		assert_int_equal(x->memory_start, y->memory_start);
		assert_int_equal(x->memory_limit, y->memory_limit);
		assert_int_equal(x->file_offset, y->file_offset);
		assert_string_equal(S(a, x->filename), S(b, y->filename));
		assert_string_equal(S(a, x->build_id), S(b, y->build_id));
		assert_int_equal(x->has_functions, y->has_functions);
		assert_int_equal(x->has_filenames, y->has_filenames);
		assert_int_equal(x->has_line_numbers, y->has_line_numbers);
		assert_int_equal(x->has_inline_frames, y->has_inline_frames);
	}
	assert_int_equal(a->n_location, b->n_location);
	for (size_t i = 0; i < a->n_location; i++) {
		const struct cpgo_location *x = &a->locations[i], *y = &b->locations[i];
		assert_int_equal(x->id, y->id);
		assert_int_equal(x->mapping_id, y->mapping_id);
		assert_int_equal(x->address, y->address);
		assert_int_equal(x->is_folded, y->is_folded);
		assert_int_equal(x->n_line, y->n_line);
		for (size_t j = 0; j < x->n_line; j++) {
			const struct cpgo_line *la = &a->lines[x->line_off + j];
			const struct cpgo_line *lb = &b->lines[y->line_off + j];
			assert_int_equal(la->function_id, lb->function_id);
			assert_int_equal(la->line, lb->line);
			assert_int_equal(la->column, lb->column);
		}
	}
	assert_int_equal(a->n_function, b->n_function);
	for (size_t i = 0; i < a->n_function; i++) {
		const struct cpgo_function *x = &a->functions[i], *y = &b->functions[i];
		assert_int_equal(x->id, y->id);
		assert_string_equal(S(a, x->name), S(b, y->name));
		assert_string_equal(S(a, x->system_name), S(b, y->system_name));
		assert_string_equal(S(a, x->filename), S(b, y->filename));
		assert_int_equal(x->start_line, y->start_line);
	}
	assert_string_equal(S(a, a->drop_frames), S(b, b->drop_frames));
	assert_string_equal(S(a, a->keep_frames), S(b, b->keep_frames));
	assert_int_equal(a->time_nanos, b->time_nanos);
	assert_int_equal(a->duration_nanos, b->duration_nanos);
	assert_string_equal(S(a, a->period_type.type), S(b, b->period_type.type));
	assert_string_equal(S(a, a->period_type.unit), S(b, b->period_type.unit));
	assert_int_equal(a->period, b->period);
	assert_int_equal(a->n_comment, b->n_comment);
	for (size_t i = 0; i < a->n_comment; i++)
		assert_string_equal(S(a, a->comments[i]), S(b, b->comments[i]));
	assert_string_equal(S(a, a->default_sample_type), S(b, b->default_sample_type));
#undef S
}

static void test_round_trip_every_field(void **state)
{
	struct cpgo_profile a, b, c;
	struct cpgo_buf gz = CPGO_BUF_INIT, raw = CPGO_BUF_INIT;

	build_full(&a);
	assert_int_equal(cpgo_profile_check(&a, "built"), 0);
	assert_int_equal(cpgo_profile_encode(&a, &gz, 1), 0);
	assert_int_equal((unsigned char)gz.buf[0], 0x1f);
	assert_int_equal(cpgo_profile_parse(&b, gz.buf, gz.len, "gz", NULL), 0);
	assert_same(&a, &b);
	/* Raw protobuf input is accepted too. */
	assert_int_equal(cpgo_profile_encode(&b, &raw, 0), 0);
	assert_int_equal(cpgo_profile_parse(&c, raw.buf, raw.len, "raw", NULL), 0);
	assert_same(&a, &c);
	/* The writer packs Sample/Location/Function itself: protobuf-c must read them alike. */
	{
		Perftools__Profiles__Profile *m = perftools__profiles__profile__unpack(
			NULL, raw.len, (const uint8_t *)raw.buf);
		assert_non_null(m);
		assert_int_equal(m->n_sample, a.n_sample);
		assert_int_equal(m->n_location, a.n_location);
		assert_int_equal(m->n_function, a.n_function);
		for (size_t i = 0; i < a.n_sample; i++) {
			const struct cpgo_sample *s = &a.samples[i];
			assert_int_equal(m->sample[i]->n_location_id, s->n_loc);
			assert_memory_equal(m->sample[i]->location_id, a.sample_locs + s->loc_off,
					    s->n_loc * sizeof(uint64_t));
			assert_memory_equal(m->sample[i]->value, cpgo_sample_values(&a, i),
					    a.n_sample_type * sizeof(int64_t));
			assert_int_equal(m->sample[i]->n_label, s->n_label);
			for (size_t j = 0; j < s->n_label; j++) {
				assert_int_equal(m->sample[i]->label[j]->key, a.labels[s->label_off + j].key);
				assert_int_equal(m->sample[i]->label[j]->str, a.labels[s->label_off + j].str);
				assert_int_equal(m->sample[i]->label[j]->num, a.labels[s->label_off + j].num);
				assert_int_equal(m->sample[i]->label[j]->num_unit,
						 a.labels[s->label_off + j].num_unit);
			}
		}
		for (size_t i = 0; i < a.n_location; i++) {
			const struct cpgo_location *l = &a.locations[i];
			assert_int_equal(m->location[i]->id, l->id);
			assert_int_equal(m->location[i]->address, l->address);
			assert_int_equal(m->location[i]->is_folded, !!l->is_folded);
			assert_int_equal(m->location[i]->n_line, l->n_line);
			for (size_t j = 0; j < l->n_line; j++) {
				assert_int_equal(m->location[i]->line[j]->function_id,
						 a.lines[l->line_off + j].function_id);
				assert_int_equal(m->location[i]->line[j]->line, a.lines[l->line_off + j].line);
				assert_int_equal(m->location[i]->line[j]->column,
						 a.lines[l->line_off + j].column);
			}
		}
		for (size_t i = 0; i < a.n_function; i++) {
			assert_int_equal(m->function[i]->id, a.functions[i].id);
			assert_int_equal(m->function[i]->system_name, a.functions[i].system_name);
			assert_int_equal(m->function[i]->start_line, a.functions[i].start_line);
		}
		perftools__profiles__profile__free_unpacked(m, NULL);
	}
	cpgo_profile_release(&a);
	cpgo_profile_release(&b);
	cpgo_profile_release(&c);
	cpgo_buf_release(&gz);
	cpgo_buf_release(&raw);
}

static void test_write_read_file(void **state)
{
	struct cpgo_profile a, b;
	char dir[] = "/tmp/cpgo-test-XXXXXX", path[128];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.pprof", dir);
	build_full(&a);
	assert_int_equal(cpgo_profile_write(&a, path), 0);
	assert_int_equal(cpgo_profile_read(&b, path, NULL), 0);
	assert_same(&a, &b);
	cpgo_profile_release(&a);
	cpgo_profile_release(&b);
	unlink(path);
	rmdir(dir);
}

/* A profile big enough to be compressed on two threads: two gzip members, read as one. */
static void test_write_parallel_two_members(void **state)
{
	struct cpgo_profile a, b;
	struct cpgo_buf file = CPGO_BUF_INIT;
	char dir[] = "/tmp/cpgo-test-XXXXXX", path[128];
	size_t members = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/big.pprof", dir);
	build_full(&a);
	for (uint64_t i = 0; i < 400000; i++) {
		uint64_t stack[3] = { 1 + i % 3, 1 + (i / 3) % 3, 1 + (i / 9) % 3 };
		int64_t v[2] = { (int64_t)i + 1, (int64_t)(i * 1000003) };
		assert_int_equal(cpgo_profile_add_sample(&a, stack, 3, v, NULL, 0), 0);
	}
	assert_int_equal(cpgo_profile_write_parallel(&a, path), 0);
	assert_int_equal(cpgo_read_file(path, &file, (size_t)1 << 30), 0);
	/* Walk the members: each one inflates on its own and ends where the next starts. */
	{
		struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
		size_t pos = 0, cap = (size_t)64 << 20;
		char *tmp = malloc(cap);
		assert_non_null(d);
		assert_non_null(tmp);
		while (pos < file.len) {
			size_t used = 0, got = 0;
			assert_int_equal(libdeflate_gzip_decompress_ex(d, file.buf + pos, file.len - pos,
								       tmp, cap, &used, &got),
					 LIBDEFLATE_SUCCESS);
			assert_true(got > 0);
			pos += used;
			members++;
		}
		libdeflate_free_decompressor(d);
		free(tmp);
	}
	assert_true(members >= 2);
	assert_int_equal(cpgo_profile_read(&b, path, NULL), 0);
	assert_same(&a, &b);
	cpgo_profile_release(&a);
	cpgo_profile_release(&b);
	cpgo_buf_release(&file);
	unlink(path);
	rmdir(dir);
}

static void test_intern_dedups(void **state)
{
	struct cpgo_profile p;
	int64_t a, b, c;

	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_intern(&p, ""), 0);
	a = cpgo_profile_intern(&p, "foo");
	b = cpgo_profile_intern(&p, "bar");
	c = cpgo_profile_intern(&p, "foo");
	assert_int_equal(a, c);
	assert_int_not_equal(a, b);
	/* Many strings force rehashing; all stay findable. */
	for (int i = 0; i < 5000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "s%d", i);
		assert_int_equal(cpgo_profile_intern(&p, s), 3 + i);
	}
	for (int i = 0; i < 5000; i++) {
		char s[32];
		snprintf(s, sizeof(s), "s%d", i);
		assert_int_equal(cpgo_profile_intern(&p, s), 3 + i);
	}
	cpgo_profile_release(&p);
}

static int parse_fails_with(const void *data, size_t len, const char *needle)
{
	struct cpgo_profile p;
	int r = cpgo_profile_parse(&p, data, len, "bad.pprof", NULL);
	if (r == 0) {
		cpgo_profile_release(&p);
		return 0;
	}
	if (!strstr(cpgo_last_error(), "bad.pprof") || !strstr(cpgo_last_error(), needle)) {
		print_error("unexpected error: %s\n", cpgo_last_error());
		return 0;
	}
	return 1;
}

static void test_truncated_and_garbage(void **state)
{
	struct cpgo_profile a;
	struct cpgo_buf gz = CPGO_BUF_INIT, raw = CPGO_BUF_INIT;

	build_full(&a);
	assert_int_equal(cpgo_profile_encode(&a, &gz, 1), 0);
	assert_int_equal(cpgo_profile_encode(&a, &raw, 0), 0);
	assert_true(parse_fails_with(gz.buf, gz.len / 2, "gzip"));
	assert_true(parse_fails_with(raw.buf, raw.len - 3, "not a valid pprof"));
	assert_true(parse_fails_with("hello world, not a profile", 26, "not a valid pprof"));
	assert_true(parse_fails_with("", 0, "empty"));
	cpgo_profile_release(&a);
	cpgo_buf_release(&gz);
	cpgo_buf_release(&raw);
}

/* Encodes a message built by hand, so invalid references can be expressed. */
static void encode_msg(Perftools__Profiles__Profile *m, struct cpgo_buf *out)
{
	size_t n = perftools__profiles__profile__get_packed_size(m);
	assert_int_equal(cpgo_buf_grow(out, n), 0);
	perftools__profiles__profile__pack(m, (uint8_t *)out->buf);
	out->len = n;
}

static void test_dangling_references(void **state)
{
	Perftools__Profiles__Profile m = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vtp = &vt;
	Perftools__Profiles__Sample s = PERFTOOLS__PROFILES__SAMPLE__INIT, *sp = &s;
	Perftools__Profiles__Location l = PERFTOOLS__PROFILES__LOCATION__INIT, *lp = &l;
	Perftools__Profiles__Line ln = PERFTOOLS__PROFILES__LINE__INIT, *lnp = &ln;
	char *strs[] = { "", "samples", "count" };
	uint64_t locs[] = { 7 };
	int64_t vals[] = { 1, 2 };
	struct cpgo_buf b = CPGO_BUF_INIT;

	vt.type = 1;
	vt.unit = 2;
	m.n_sample_type = 1;
	m.sample_type = &vtp;
	m.n_string_table = 3;
	m.string_table = strs;
	m.n_sample = 1;
	m.sample = &sp;
	s.n_location_id = 1;
	s.location_id = locs;
	s.n_value = 1;
	s.value = vals;
	/* Location 7 does not exist. */
	encode_msg(&m, &b);
	assert_true(parse_fails_with(b.buf, b.len, "location 7"));

	/* Value count differs from the sample type count. */
	s.n_location_id = 0;
	s.n_value = 2;
	encode_msg(&m, &b);
	assert_true(parse_fails_with(b.buf, b.len, "2 values"));

	/* A location's line names a missing function. */
	s.n_value = 1;
	l.id = 1;
	l.n_line = 1;
	l.line = &lnp;
	ln.function_id = 99;
	m.n_location = 1;
	m.location = &lp;
	encode_msg(&m, &b);
	assert_true(parse_fails_with(b.buf, b.len, "function 99"));

	/* A string index out of range. */
	m.n_location = 0;
	vt.unit = 40;
	encode_msg(&m, &b);
	assert_true(parse_fails_with(b.buf, b.len, "string index"));

	/* Duplicate location ids. */
	{
		Perftools__Profiles__Location l2 = PERFTOOLS__PROFILES__LOCATION__INIT;
		Perftools__Profiles__Location *two[2] = { &l2, &l2 };
		vt.unit = 2;
		l2.id = 5;
		m.n_location = 2;
		m.location = two;
		encode_msg(&m, &b);
		assert_true(parse_fails_with(b.buf, b.len, "used twice"));
	}
	cpgo_buf_release(&b);
}

static void test_gzip_bomb_refused_quickly(void **state)
{
	/* 200 MB of zeros compresses to ~200 KB; with a 16 MB limit it must be refused. */
	size_t big = 200u << 20;
	unsigned char *zeros = calloc(1, big);
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	size_t bound = libdeflate_gzip_compress_bound(c, big);
	unsigned char *gz = malloc(bound);
	size_t n = libdeflate_gzip_compress(c, zeros, big, gz, bound);
	struct cpgo_read_opts o = { 0, 16u << 20 };
	struct cpgo_profile p;

	assert_true(n > 0);
	free(zeros);
	assert_int_equal(cpgo_profile_parse(&p, gz, n, "bomb.pprof", &o), -1);
	assert_non_null(strstr(cpgo_last_error(), "over the limit"));
	/* A trailer that lies about the size is caught by the bounded retries. */
	gz[n - 4] = gz[n - 3] = gz[n - 2] = gz[n - 1] = 0;
	gz[n - 4] = 100;
	assert_int_equal(cpgo_profile_parse(&p, gz, n, "bomb.pprof", &o), -1);
	assert_non_null(strstr(cpgo_last_error(), "over the limit"));
	libdeflate_free_compressor(c);
	free(gz);
}

static void test_sparse_ids_lookup(void **state)
{
	struct cpgo_profile p;
	build_full(&p);
	/* Renumber to sparse ids; lookups must follow. */
	p.functions[0].id = 1000;
	for (size_t i = 0; i < p.n_lines; i++)
		if (p.lines[i].function_id == 1)
			p.lines[i].function_id = 1000;
	assert_int_equal(cpgo_profile_check(&p, "sparse"), 0);
	assert_ptr_equal(cpgo_profile_function(&p, 1000), &p.functions[0]);
	assert_null(cpgo_profile_function(&p, 1));
	assert_ptr_equal(cpgo_profile_function(&p, 2), &p.functions[1]);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_field),
		cmocka_unit_test(test_write_read_file),
		cmocka_unit_test(test_write_parallel_two_members),
		cmocka_unit_test(test_intern_dedups),
		cmocka_unit_test(test_truncated_and_garbage),
		cmocka_unit_test(test_dangling_references),
		cmocka_unit_test(test_gzip_bomb_refused_quickly),
		cmocka_unit_test(test_sparse_ids_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
