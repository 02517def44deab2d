/*
 * Deterministic generator of large CPU profiles for bench/merge.sh:
 *
 *   gen_profile OUT VARIANT [STACKS] [FUNCTIONS]
 *
 * One program (one mapping, FUNCTIONS functions, ~15 addresses each, a
 * third of them carrying 1-2 inlined frames) sampled STACKS distinct
 * stacks 8-48 frames deep. VARIANT 0 and 1 are two runs of that program:
 * they share half of their stacks (the same seed) and differ in the rest
 * and in all values, so merging them exercises both dedup and addition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "pprof/profile.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: fixed seeds make every run produce the same bytes. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

#define LOCS_PER_FN 15

int main(int argc, char **argv)
{
	struct cpgo_profile p;
	struct cpgo_mapping m = { 0 };
	struct cpgo_line lines[3];
	uint64_t map, *fn, *locs = NULL, stack[48], shared_seed = 0x5eed, own_seed;
	size_t n_stack, n_fn, n_loc;
	int variant;
	char name[64], file[64];

	if (argc < 3) {
		fprintf(stderr, "usage: gen_profile OUT VARIANT [STACKS] [FUNCTIONS]\n");
		return 2;
	}
	variant = atoi(argv[2]);
	n_stack = argc > 3 ? strtoul(argv[3], NULL, 10) : 200000;
	n_fn = argc > 4 ? strtoul(argv[4], NULL, 10) : 20000;
	n_loc = n_fn * LOCS_PER_FN;
	own_seed = 0x1234567 + (uint64_t)variant * 7919;

	if (cpgo_profile_init(&p) < 0 ||
	    cpgo_profile_add_sample_type(&p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(&p, "cpu", "nanoseconds") < 0)
		goto fail;
	p.period_type.type = cpgo_profile_intern(&p, "cpu");
	p.period_type.unit = cpgo_profile_intern(&p, "nanoseconds");
	p.period = 1000000;
	p.duration_nanos = 60000000000LL;
	p.time_nanos = 1700000000000000000LL + variant;
	m.memory_start = 0x400000;
	m.memory_limit = 0x400000 + n_loc * 16 + 0x1000;
	m.filename = cpgo_profile_intern(&p, "/usr/bin/bigserver");
	m.build_id = cpgo_profile_intern(&p, "0123456789abcdef0123456789abcdef01234567");
	m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = 1;
	if (!(map = cpgo_profile_add_mapping(&p, &m)))
		goto fail;

	fn = malloc(n_fn * sizeof(*fn));
	locs = malloc(n_loc * sizeof(*locs));
	if (!fn || !locs) {
		error("out of memory");
		goto fail;
	}
	rng_state = 42; /* the program is the same in both variants */
	for (size_t i = 0; i < n_fn; i++) {
		snprintf(name, sizeof(name), "subsystem%zu::module%zu::function_%zu", i % 97,
			 i % 1013, i);
		snprintf(file, sizeof(file), "src/subsystem%zu/module%zu.c", i % 97, i % 1013);
		if (!(fn[i] = cpgo_profile_add_function(&p, name, NULL, file,
							(int64_t)(rnd() % 5000) + 1)))
			goto fail;
	}
	for (size_t i = 0; i < n_loc; i++) {
		size_t f = i / LOCS_PER_FN, n = 1;
		if (rnd() % 3 == 0)
			n += 1 + rnd() % 2;
		for (size_t k = 0; k + 1 < n; k++) {
			lines[k].function_id = fn[rnd() % n_fn];
			lines[k].line = (int64_t)(rnd() % 5000) + 1;
			lines[k].column = 0;
		}
		lines[n - 1].function_id = fn[f];
		lines[n - 1].line = (int64_t)(rnd() % 5000) + 1;
		lines[n - 1].column = 0;
		if (!(locs[i] = cpgo_profile_add_location(&p, map, 0x400000 + i * 16, lines, n)))
			goto fail;
	}
	for (size_t s = 0; s < n_stack; s++) {
		int64_t v[2];
		size_t depth;
		/* Even stacks come from the shared sequence, odd ones are this run's own. */
		rng_state = (s % 2 ? own_seed : shared_seed) ^ (s * 0x9e3779b97f4a7c15ull);
		rnd();
		depth = 8 + rnd() % 33;
		for (size_t d = 0; d < depth; d++)
			stack[d] = locs[rnd() % n_loc];
		rng_state = own_seed ^ (s * 0x2545f4914f6cdd1dull);
		v[0] = 1 + (int64_t)(rnd() % 50);
		v[1] = v[0] * p.period;
		if (cpgo_profile_add_sample(&p, stack, depth, v, NULL, 0) < 0)
			goto fail;
	}
	if (cpgo_profile_write(&p, argv[1]) < 0)
		goto fail;
	free(fn);
	free(locs);
	cpgo_profile_release(&p);
	return 0;
fail:
	fprintf(stderr, "gen_profile: %s\n", cpgo_last_error());
	return 1;
}
