/*
 * Unit tests for libcpgo's runtime: the sample ring, the frame-pointer
 * walk, the maps scanner, stack aggregation, profile building, address
 * and parameter parsing, and the public API on this very process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpgo.h"
#include "pprof/meta.h"
#include "pprof/profile.h"
#include "procmaps.h"
#include "ring.h"
#include "rtenv.h"
#include "rthttp.h"
#include "rtprofile.h"
#include "sampler.h"
#include "stacks.h"
#include "unwind.h"
#include "util/error.h"

/* ---- ring ---- */

static void count_cb(const struct sample_record *r, void *arg)
{
	uint64_t *expect = arg;
	assert_int_equal(r->tid, (uint32_t)*expect);
	(*expect)++;
}

static void test_ring_order_and_full(void **state)
{
	struct ring *r = ring_new(8);
	struct sample_record *rec;
	uint64_t ticket, next = 0;
	int n;

	(void)state;
	assert_non_null(r);
	for (n = 0; (rec = ring_reserve(r, &ticket)); n++) {
		rec->tid = (uint32_t)n;
		ring_commit(r, ticket);
	}
	assert_int_equal(n, 8);
	assert_int_equal(ring_drain(r, count_cb, &next), 8);
	assert_int_equal(next, 8);
	/* Room again after the drain, and order kept across the wrap. */
	for (n = 0; n < 5; n++) {
		rec = ring_reserve(r, &ticket);
		assert_non_null(rec);
		rec->tid = (uint32_t)(8 + n);
		ring_commit(r, ticket);
	}
	assert_int_equal(ring_drain(r, count_cb, &next), 5);
	assert_int_equal(next, 13);
	ring_free(r);
}

static void test_ring_uncommitted_blocks_consumer(void **state)
{
	struct ring *r = ring_new(4);
	uint64_t t1, t2, next = 0;
	struct sample_record *a, *b;

	(void)state;
	a = ring_reserve(r, &t1);
	b = ring_reserve(r, &t2);
	a->tid = 0;
	b->tid = 1;
	ring_commit(r, t2);
	/* The older reservation is still being written: nothing may be read past it. */
	assert_int_equal(ring_drain(r, count_cb, &next), 0);
	ring_commit(r, t1);
	assert_int_equal(ring_drain(r, count_cb, &next), 2);
	ring_free(r);
}

struct producer {
	struct ring *r;
	atomic_uint_fast64_t *made, *dropped;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (int i = 0; i < 20000; i++) {
		uint64_t t;
		struct sample_record *rec = ring_reserve(p->r, &t);
		if (!rec) {
			atomic_fetch_add(p->dropped, 1);
			continue;
		}
		rec->tid = 7;
		rec->depth = 1;
		rec->pc[0] = (uintptr_t)i;
		ring_commit(p->r, t);
		atomic_fetch_add(p->made, 1);
	}
	return NULL;
}

static void sum_cb(const struct sample_record *r, void *arg)
{
	assert_int_equal(r->tid, 7);
	(*(uint64_t *)arg)++;
}

static void test_ring_concurrent(void **state)
{
	struct ring *r = ring_new(64);
	atomic_uint_fast64_t made = 0, dropped = 0;
	struct producer p = { r, &made, &dropped };
	pthread_t th[4];
	uint64_t got = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p), 0);
	for (int k = 0; k < 1000; k++)
		ring_drain(r, sum_cb, &got);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ring_drain(r, sum_cb, &got);
	assert_int_equal(made + dropped, 80000);
	assert_int_equal(got, made);
	ring_free(r);
}

/* ---- frame-pointer walk on a synthetic stack ---- */

static void test_unwind_fp_chain(void **state)
{
	uintptr_t stack[64] __attribute__((aligned(16)));
	uintptr_t base = (uintptr_t)stack, hi = base + sizeof(stack), out[16];
	int n;

	(void)state;
	memset(stack, 0, sizeof(stack));
	/* Three frames at words 4, 12, 20; the last one ends the chain (ret 0). */
	stack[4] = base + 12 * 8;
	stack[5] = 0x401000;
	stack[12] = base + 20 * 8;
	stack[13] = 0x402000;
	stack[20] = 0;
	stack[21] = 0;
	n = unwind_fp(0x400500, base + 4 * 8, base, hi, out, 16);
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 0x400500);
	assert_int_equal(out[1], 0x401000 - 1);
	assert_int_equal(out[2], 0x402000 - 1);

	/* Depth limit. */
	assert_int_equal(unwind_fp(0x400500, base + 4 * 8, base, hi, out, 2), 2);
	/* Unknown stack: the leaf only. */
	assert_int_equal(unwind_fp(0x400500, base + 4 * 8, base, 0, out, 16), 1);
}

static void test_unwind_fp_prologue_keeps_caller(void **state)
{
	/* Code bytes the leaf pc points at: the prologue and epilogue forms. */
	static const unsigned char push_rbp[] = { 0x55, 0x48, 0x89, 0xe5 };
	static const unsigned char mov_rbp[] = { 0x48, 0x89, 0xe5, 0x90 };
	static const unsigned char endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa };
	static const unsigned char ret[] = { 0xc3, 0x90, 0x90, 0x90 };
	static const unsigned char body[] = { 0x48, 0x01, 0xd8, 0x90 };
	uintptr_t stack[32] __attribute__((aligned(16)));
	uintptr_t base = (uintptr_t)stack, hi = base + sizeof(stack), out[16];

	(void)state;
	memset(stack, 0, sizeof(stack));
	/* sp -> the return address into the caller; rbp -> the caller's frame record. */
	stack[0] = 0x401000;
	stack[1] = 0x401000; /* after a push: [sp] = old rbp slot, [sp+8] = return address */
	stack[8] = base + 16 * 8;
	stack[9] = 0x402000;
	assert_int_equal(unwind_fp((uintptr_t)push_rbp, base + 8 * 8, base, hi, out, 16), 3);
	assert_int_equal(out[1], 0x401000 - 1);
	assert_int_equal(out[2], 0x402000 - 1);
	assert_int_equal(unwind_fp((uintptr_t)endbr, base + 8 * 8, base, hi, out, 16), 3);
	assert_int_equal(out[1], 0x401000 - 1);
	assert_int_equal(unwind_fp((uintptr_t)ret, base + 8 * 8, base, hi, out, 16), 3);
	assert_int_equal(out[1], 0x401000 - 1);
	stack[0] = 0x7777; /* the pushed rbp */
	assert_int_equal(unwind_fp((uintptr_t)mov_rbp, base + 8 * 8, base, hi, out, 16), 3);
	assert_int_equal(out[1], 0x401000 - 1);
	assert_int_equal(out[2], 0x402000 - 1);
	/* In the body the frame record is the function's own: no extra frame. */
	assert_int_equal(unwind_fp((uintptr_t)body, base + 8 * 8, base, hi, out, 16), 2);
	assert_int_equal(out[1], 0x402000 - 1);
}

static void test_unwind_fp_rejects_bad_frames(void **state)
{
	uintptr_t stack[64] __attribute__((aligned(16)));
	uintptr_t base = (uintptr_t)stack, hi = base + sizeof(stack), out[16];

	(void)state;
	memset(stack, 0, sizeof(stack));
	/* A chain that points back down (a loop) stops after one frame. */
	stack[8] = base + 8 * 8;
	stack[9] = 0x401000;
	assert_int_equal(unwind_fp(1, base + 8 * 8, base, hi, out, 16), 2);
	/* Misaligned frame pointer: not read. */
	assert_int_equal(unwind_fp(1, base + 8 * 8 + 3, base, hi, out, 16), 1);
	/* Below the stack pointer: not read. */
	assert_int_equal(unwind_fp(1, base + 8, base + 64, hi, out, 16), 1);
	/* A record straddling the end of the stack: not read. */
	assert_int_equal(unwind_fp(1, hi - 8, base, hi, out, 16), 1);
	/* Far outside (garbage rbp in code without frame pointers): not read. */
	assert_int_equal(unwind_fp(1, 0x10, base, hi, out, 16), 1);
	/* Next frame pointing outside the stack: the walk stops there. */
	stack[8] = hi + 4096;
	assert_int_equal(unwind_fp(1, base + 8 * 8, base, hi, out, 16), 2);
}

/* ---- maps scanner ---- */

static void test_maps_find_end(void **state)
{
	char path[] = "/tmp/cpgo-test-maps.XXXXXX", longname[3000];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	f = fdopen(fd, "w+");
	fprintf(f, "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/%s\n", longname);
	fprintf(f, "7ffd1000-7ffd3000 rw-p 00000000 00:00 0 [stack]\n");
	fflush(f);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(procmaps_find_end(fd, 0x7ffd2000), 0x7ffd3000);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(procmaps_find_end(fd, 0x400000), 0x452000);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(procmaps_find_end(fd, 0x7ffd3000), 0);
	fclose(f);
	unlink(path);
}

/* ---- aggregation and building ---- */

static void test_stacks_aggregate(void **state)
{
	struct stacks t;
	uintptr_t a[3] = { 1, 2, 3 }, b[2] = { 1, 2 };

	(void)state;
	stacks_init(&t);
	assert_int_equal(stacks_add(&t, a, 3, 1, 1), 0);
	assert_int_equal(stacks_add(&t, a, 3, 1, 4), 0);
	assert_int_equal(stacks_add(&t, b, 2, 1, 1), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.samples, 3);
	assert_int_equal(t.periods, 6);
	for (uintptr_t i = 0; i < 5000; i++) {
		uintptr_t s[2] = { 100 + i, 7 };
		assert_int_equal(stacks_add(&t, s, 2, 1, 1), 0);
	}
	assert_int_equal(t.n, 5002);
	/* After growth the first stack is still found, not duplicated. */
	assert_int_equal(stacks_add(&t, a, 3, 1, 1), 0);
	assert_int_equal(t.n, 5002);
	assert_int_equal(t.v[0].depth, 3);
	assert_int_equal(t.v[0].count, 3);
	assert_int_equal(t.v[0].periods, 6);
	stacks_release(&t);
}

__attribute__((noinline)) static int marker_function(int x)
{
	return x * 3 + 1;
}

static void test_build_profile(void **state)
{
	struct stacks t;
	struct rtprofile_meta m;
	struct cpgo_profile p;
	uintptr_t s[2] = { (uintptr_t)marker_function + 1, (uintptr_t)test_build_profile + 1 };
	struct cpgo_meta meta;
	int found = 0;

	(void)state;
	stacks_init(&t);
	assert_int_equal(stacks_add(&t, s, 2, 5, 5), 0);
	memset(&m, 0, sizeof(m));
	m.hz = 100;
	m.duration_nanos = 1000000000;
	m.info.timer = SAMPLER_TIMER_PERF;
	m.info.signo = 27;
	m.stats.samples = 5;
	m.stats.cpu_ns = 50000000;
	assert_int_equal(rtprofile_build(&p, &t, &m, 1), 0);
	assert_int_equal(cpgo_profile_check(&p, "built"), 0);
	assert_int_equal(p.n_sample_type, 2);
	assert_string_equal(cpgo_profile_str(&p, p.sample_type[0].type), "samples");
	assert_string_equal(cpgo_profile_str(&p, p.sample_type[1].unit), "nanoseconds");
	assert_string_equal(cpgo_profile_str(&p, p.period_type.type), "cpu");
	assert_int_equal(p.period, 10000000);
	assert_int_equal(p.n_sample, 1);
	assert_int_equal(cpgo_sample_values(&p, 0)[0], 5);
	assert_int_equal(cpgo_sample_values(&p, 0)[1], 50000000);
	/* The test binary itself is the first mapping, and both locations fall in it. */
	assert_true(p.n_mapping >= 1);
	assert_true(strstr(cpgo_profile_str(&p, p.mappings[0].filename), "test_runtime") != NULL);
	assert_int_equal(p.n_location, 2);
	assert_int_equal(p.locations[0].mapping_id, 1);
	for (size_t i = 0; i < p.n_function; i++)
		if (!strcmp(cpgo_profile_str(&p, p.functions[i].name), "marker_function"))
			found = 1;
	assert_true(found);
	assert_true(cpgo_meta_read(&p, &meta) > 0);
	assert_int_equal(meta.requested_hz, 100);
	assert_true(meta.achieved_hz > 99.9 && meta.achieved_hz < 100.1);
	assert_int_equal(meta.samples, 5);
	assert_string_equal(meta.timer, "perf-task-clock");
	assert_string_equal(meta.mode, "signal");
	cpgo_profile_release(&p);
	stacks_release(&t);
}

/* ---- parsing ---- */

static void test_parse_addr(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	(void)state;
	assert_int_equal(rthttp_parse_addr(":6060", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 6060);
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(rthttp_parse_addr("127.0.0.1:0", &ss, &len), 0);
	assert_int_equal(rthttp_parse_addr("[::1]:8080", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(rthttp_parse_addr("127.0.0.1", &ss, &len), -1);
	assert_true(strstr(cpgo_last_error(), "HOST:PORT") != NULL);
	assert_int_equal(rthttp_parse_addr("127.0.0.1:70000", &ss, &len), -1);
	assert_int_equal(rthttp_parse_addr("127.0.0.1:60x", &ss, &len), -1);
	assert_int_equal(rthttp_parse_addr("[::1:80", &ss, &len), -1);
}

static void test_parse_seconds_and_env(void **state)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	struct sampler_config cfg;
	int s = 0;

	(void)state;
	assert_int_equal(rthttp_parse_seconds(NULL, &s), 0);
	assert_int_equal(s, 30);
	assert_int_equal(rthttp_parse_seconds("3600", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(rthttp_parse_seconds("0", &s), -1);
	assert_int_equal(rthttp_parse_seconds("3601", &s), -1);
	assert_int_equal(rthttp_parse_seconds("5x", &s), -1);
	assert_int_equal(rthttp_parse_seconds("-2", &s), -1);
	assert_int_equal(rtenv_expand_path("out.%p.pprof%%", 123, &b), 0);
	assert_string_equal(b.buf, "out.123.pprof%");
	cpgo_buf_release(&b);
	setenv("CPGO_HZ", "abc", 1);
	assert_int_equal(rtenv_config(&cfg, 0), -1);
	assert_true(strstr(cpgo_last_error(), "CPGO_HZ=abc") != NULL);
	setenv("CPGO_HZ", "250", 1);
	setenv("CPGO_UNWIND", "auto", 1);
	assert_int_equal(rtenv_config(&cfg, 0), 0);
	assert_int_equal(cfg.hz, 250);
	assert_int_equal(cfg.unwind, SAMPLER_UNWIND_AUTO);
	setenv("CPGO_TIMER", "bogus", 1);
	assert_int_equal(rtenv_config(&cfg, 0), -1);
	unsetenv("CPGO_HZ");
	unsetenv("CPGO_UNWIND");
	unsetenv("CPGO_TIMER");
}

/* ---- the API on this process ---- */

static volatile double sink;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void spin_in_thread(double secs)
{
	double x = 1, t0 = thread_cpu();
	while (thread_cpu() - t0 < secs)
		for (int i = 0; i < 10000; i++)
			x = x * 1.0000001 + 0.1;
	sink = x;
}

static void *spinner(void *arg)
{
	(void)arg;
	spin_in_thread(0.3);
	return NULL;
}

static int profile_has_function(struct cpgo_profile *p, const char *name, int64_t *samples)
{
	int found = 0;

	*samples = 0;
	assert_int_equal(cpgo_profile_index(p), 0);
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		int hit = 0;
		for (size_t k = 0; k < s->n_loc && !hit; k++) {
			const struct cpgo_location *l =
				cpgo_profile_location(p, p->sample_locs[s->loc_off + k]);
			for (size_t j = 0; l && j < l->n_line; j++) {
				const struct cpgo_function *f =
					cpgo_profile_function(p, p->lines[l->line_off + j].function_id);
				if (f && !strcmp(cpgo_profile_str(p, f->name), name))
					hit = 1;
			}
		}
		if (hit) {
			found = 1;
			*samples += cpgo_sample_values(p, i)[0];
		}
	}
	return found;
}

static void test_api_live(void **state)
{
	char path[] = "/tmp/cpgo-test-api.XXXXXX";
	struct cpgo_profile p;
	pthread_t th;
	void *data = NULL;
	size_t len = 0;
	int64_t n;
	int fd;

	(void)state;
	assert_int_equal(cpgo_stop(), -1);
	assert_true(strstr(cpgo_strerror(), "cpgo_start") != NULL);
	assert_int_equal(cpgo_start(-5), -1);
	assert_int_equal(cpgo_start(1000), 0);
	assert_int_equal(cpgo_start(1000), -1);
	assert_true(strstr(cpgo_strerror(), "already running") != NULL);
	/* A thread created after the start is sampled too. */
	assert_int_equal(pthread_create(&th, NULL, spinner, NULL), 0);
	pthread_join(th, NULL);
	assert_int_equal(cpgo_snapshot(&data, &len), 0);
	assert_true(len > 0);
	assert_int_equal(cpgo_profile_parse(&p, data, len, "snapshot", NULL), 0);
	assert_true(profile_has_function(&p, "spin_in_thread", &n));
	/* 0.3 CPU seconds at 1000 Hz: a loose bound that still catches a dead timer. */
	assert_true(n >= 60);
	cpgo_profile_release(&p);
	free(data);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cpgo_stop_to_path(path), 0);
	assert_int_equal(cpgo_profile_read(&p, path, NULL), 0);
	assert_true(profile_has_function(&p, "spin_in_thread", &n));
	cpgo_profile_release(&p);
	unlink(path);
	assert_int_equal(cpgo_stop_to_path(path), -1);
	/* And it can start again after a stop. */
	assert_int_equal(cpgo_start(100), 0);
	assert_int_equal(cpgo_stop(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_order_and_full),
		cmocka_unit_test(test_ring_uncommitted_blocks_consumer),
		cmocka_unit_test(test_ring_concurrent),
		cmocka_unit_test(test_unwind_fp_chain),
		cmocka_unit_test(test_unwind_fp_prologue_keeps_caller),
		cmocka_unit_test(test_unwind_fp_rejects_bad_frames),
		cmocka_unit_test(test_maps_find_end),
		cmocka_unit_test(test_stacks_aggregate),
		cmocka_unit_test(test_build_profile),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_parse_seconds_and_env),
		cmocka_unit_test(test_api_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
