#ifndef CPGO_TEST_BUILD_PROFILE_H
#define CPGO_TEST_BUILD_PROFILE_H

/*
 * Small CPU profiles built with the add_* API, for the unit tests of the
 * modules that read profiles (merge, report). Include after <cmocka.h>.
 */

#include "pprof/profile.h"

/* A CPU profile: samples/count + cpu/nanoseconds, period 10ms. */
static inline void cpu_profile(struct cpgo_profile *p, int64_t duration)
{
	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "cpu", "nanoseconds"), 0);
	p->period_type.type = cpgo_profile_intern(p, "cpu");
	p->period_type.unit = cpgo_profile_intern(p, "nanoseconds");
	p->period = 10000000;
	p->duration_nanos = duration;
}

static inline uint64_t mapping(struct cpgo_profile *p, const char *build_id, uint64_t start)
{
	struct cpgo_mapping m = { 0 };
	m.memory_start = start;
	m.memory_limit = start + 0x10000;
	m.filename = cpgo_profile_intern(p, "/usr/bin/prog");
	m.build_id = cpgo_profile_intern(p, build_id);
	m.has_functions = 1;
	return cpgo_profile_add_mapping(p, &m);
}

static inline uint64_t loc1(struct cpgo_profile *p, uint64_t map, uint64_t addr, uint64_t fn,
		     int64_t line)
{
	struct cpgo_line l = { fn, line, 0 };
	uint64_t id = cpgo_profile_add_location(p, map, addr, &l, 1);
	assert_true(id != 0);
	return id;
}

static inline void sample(struct cpgo_profile *p, const uint64_t *locs, size_t n, int64_t count)
{
	int64_t v[2] = { count, count * 10000000 };
	assert_int_equal(cpgo_profile_add_sample(p, locs, n, v, NULL, 0), 0);
}

#endif
