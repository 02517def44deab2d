/*
 * Unit tests for lib/pprof/meta: the profile's cpgo metadata survives a
 * write, an encode/parse round trip and a read; readers skip what they do
 * not know and never take a malformed number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "pprof/meta.h"
#include "pprof/profile.h"
#include "util/buf.h"

static void add_raw_comment(struct cpgo_profile *p, const char *s)
{
	int64_t idx = cpgo_profile_intern(p, s);
	assert_true(idx > 0);
	assert_int_equal(CPGO_GROW(p->comments, p->alloc_comment, p->n_comment + 1), 0);
	p->comments[p->n_comment++] = idx;
}

static void test_round_trip(void **state)
{
	struct cpgo_profile p, q;
	struct cpgo_meta m, r;
	struct cpgo_buf enc = CPGO_BUF_INIT;

	(void)state;
	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "count"), 0);
	cpgo_meta_init(&m);
	m.requested_hz = 20000;
	m.achieved_hz = 19876.54;
	m.samples = 123456;
	m.cpu_seconds = 6.2113;
	m.lost = 3;
	m.kernel_share = 0.25;
	strcpy(m.mode, "perf-ring");
	strcpy(m.unwinder, "kernel-fp");
	strcpy(m.symbolize_error, "a.out: no symbols\nsecond line");
	assert_int_equal(cpgo_meta_write(&p, &m), 0);
	/* Unknown fields are not written: lost_buffer_full, timer, signal, ... */
	for (size_t i = 0; i < p.n_comment; i++) {
		const char *c = cpgo_profile_str(&p, p.comments[i]);
		assert_null(strstr(c, "lost_buffer_full"));
		assert_null(strchr(c, '\n'));
	}
	assert_int_equal(p.n_comment, 9);
	assert_string_equal(cpgo_profile_str(&p, p.comments[1]), "cpgo.achieved_hz=19876.5");
	assert_int_equal(cpgo_profile_encode(&p, &enc, 1), 0);
	assert_int_equal(cpgo_profile_parse(&q, enc.buf, enc.len, "enc", NULL), 0);
	assert_int_equal(cpgo_meta_read(&q, &r), 9);
	assert_int_equal(r.requested_hz, 20000);
	assert_true(r.achieved_hz > 19876.4 && r.achieved_hz < 19876.6);
	assert_int_equal(r.samples, 123456);
	assert_int_equal(r.lost, 3);
	assert_int_equal(r.lost_buffer_full, -1);
	assert_true(r.kernel_share > 0.2499 && r.kernel_share < 0.2501);
	assert_string_equal(r.mode, "perf-ring");
	assert_string_equal(r.timer, "");
	assert_string_equal(r.symbolize_error, "a.out: no symbols second line");
	cpgo_buf_release(&enc);
	cpgo_profile_release(&p);
	cpgo_profile_release(&q);
}

static void test_read_skips_foreign_and_malformed(void **state)
{
	struct cpgo_profile p;
	struct cpgo_meta m;
	struct cpgo_buf s = CPGO_BUF_INIT;

	(void)state;
	assert_int_equal(cpgo_profile_init(&p), 0);
	add_raw_comment(&p, "cpgo: requested 1000 Hz, achieved 5 Hz"); /* prose: not a key */
	add_raw_comment(&p, "cpgo.future_key=7");
	add_raw_comment(&p, "cpgo.samples=12x");
	add_raw_comment(&p, "cpgo.lost=-4");
	add_raw_comment(&p, "cpgo.achieved_hz=nan");
	add_raw_comment(&p, "cpgo.requested_hz=1000");
	add_raw_comment(&p, "cpgo.samplesX=9");
	assert_int_equal(cpgo_meta_read(&p, &m), 4);
	assert_int_equal(m.requested_hz, 1000);
	assert_int_equal(m.samples, -1);
	assert_int_equal(m.lost, -1);
	assert_true(m.achieved_hz < 0);
	assert_int_equal(cpgo_meta_summary(&m, &s), 0);
	assert_string_equal(s.buf, "requested 1000 Hz, achieved rate unknown");
	cpgo_buf_release(&s);
	cpgo_profile_release(&p);
}

static void test_summary(void **state)
{
	struct cpgo_meta m;
	struct cpgo_buf s = CPGO_BUF_INIT;

	(void)state;
	cpgo_meta_init(&m);
	m.requested_hz = 1000;
	m.achieved_hz = 998.4;
	m.samples = 1234;
	m.cpu_seconds = 1.236;
	m.kernel_share = 0.5;
	assert_int_equal(cpgo_meta_summary(&m, &s), 0);
	assert_string_equal(s.buf, "requested 1000 Hz, achieved 998.4 Hz (1234 samples in 1.236 "
			    "CPU seconds), 50.0% in the kernel");
	cpgo_buf_release(&s);
}

/* Two runs' facts: sums, the rate from the sums, settings they disagree on unknown. */
static void test_merge(void **state)
{
	struct cpgo_meta a, b, none;

	(void)state;
	cpgo_meta_init(&a);
	a.requested_hz = 20000;
	a.achieved_hz = 19000;
	a.samples = 1900;
	a.cpu_seconds = 0.1;
	a.lost = 10;
	a.kernel_share = 0.5;
	strcpy(a.mode, "perf-ring");
	strcpy(a.unwinder, "cfi");
	b = a;
	b.achieved_hz = 18000;
	b.samples = 5400;
	b.cpu_seconds = 0.3;
	b.lost = 0;
	b.kernel_share = 0.1;
	b.threads_failed = 2;
	a.stack_bytes = 8192;
	b.stack_bytes = 16384;
	a.drain_cpu_ms = 3;
	b.drain_cpu_ms = 4;
	strcpy(b.unwinder, "kernel-fp");
	cpgo_meta_merge(&a, &b);
	assert_int_equal(a.requested_hz, 20000);
	assert_int_equal(a.samples, 7300);
	assert_true(a.cpu_seconds > 0.3999 && a.cpu_seconds < 0.4001);
	/* 7300 samples in 0.4 s, not the mean of the two rates */
	assert_true(a.achieved_hz > 18249 && a.achieved_hz < 18251);
	assert_int_equal(a.lost, 10);
	/* (0.5 * 1900 + 0.1 * 5400) / 7300 */
	assert_true(a.kernel_share > 0.2041 && a.kernel_share < 0.2042);
	assert_string_equal(a.mode, "perf-ring");
	assert_string_equal(a.unwinder, "mixed");
	assert_int_equal(a.threads_failed, 2);
	assert_int_equal(a.stack_bytes, 16384);
	assert_int_equal(a.drain_cpu_ms, 7);
	/* A run without metadata leaves nothing it did not share. */
	cpgo_meta_init(&none);
	cpgo_meta_merge(&a, &none);
	assert_int_equal(a.requested_hz, -1);
	assert_int_equal(a.samples, -1);
	assert_true(a.achieved_hz < 0 && a.cpu_seconds < 0 && a.kernel_share < 0);
	assert_string_equal(a.mode, "mixed");
	assert_int_equal(a.threads_failed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_read_skips_foreign_and_malformed),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
