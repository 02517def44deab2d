/*
 * Test helper for t0051 (not a test): writes profiles at and past cpgo's
 * bounds, cheaply. Hostile ones are raw protobuf declaring N messages in
 * two to four bytes each (the test gzips them into kilobytes); the others
 * are valid profiles made with the builders.
 *
 *   bigprof samples N       N empty Sample messages (raw, stdout)
 *   bigprof locations N     N Location{id: 1} messages (raw, stdout)
 *   bigprof strings N       N empty strings (raw, stdout)
 *   bigprof stackids N      one Sample whose packed location ids number N (raw, stdout)
 *   bigprof deep N OUT      one sample N frames deep (recursion of one function), and one
 *                           location N inlined frames deep
 *   bigprof funcs N OUT     N functions, each the leaf of its own sample
 *   bigprof name BYTES OUT  a sampled function whose name is BYTES long
 *   bigprof counts OUT      samples whose values sum past 2^64 on one line
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "pprof/profile.h"

static int repeat(const unsigned char *msg, size_t len, uint64_t n)
{
	enum { CHUNK = 1 << 16 };
	static unsigned char buf[CHUNK * 4];
	size_t per = CHUNK, fill = per * len;

	for (size_t i = 0; i < per; i++)
		memcpy(buf + i * len, msg, len);
	for (; n >= per; n -= per)
		if (fwrite(buf, 1, fill, stdout) != fill)
			return 1;
	return fwrite(buf, 1, n * len, stdout) != n * len;
}

static void init(struct cpgo_profile *p)
{
	if (cpgo_profile_init(p) < 0 || cpgo_profile_add_sample_type(p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(p, "cpu", "nanoseconds") < 0) {
		fprintf(stderr, "bigprof: %s\n", cpgo_last_error());
		exit(1);
	}
	p->period_type = p->sample_type[1];
	p->period = 10000000;
	p->duration_nanos = 1000000000;
}

static uint64_t loc_of(struct cpgo_profile *p, uint64_t fn, int64_t line)
{
	struct cpgo_line l = { fn, line, 0 };
	return cpgo_profile_add_location(p, 0, 0, &l, 1);
}

static int sample(struct cpgo_profile *p, const uint64_t *locs, size_t n, int64_t v)
{
	int64_t vals[2] = { v, v };
	return cpgo_profile_add_sample(p, locs, n, vals, NULL, 0);
}

static int finish(struct cpgo_profile *p, const char *out)
{
	int ret = cpgo_profile_write(p, out);
	if (ret < 0)
		fprintf(stderr, "bigprof: %s\n", cpgo_last_error());
	cpgo_profile_release(p);
	return ret < 0;
}

int main(int argc, char **argv)
{
	static const unsigned char empty_sample[] = { 0x12, 0x00 };
	static const unsigned char loc1[] = { 0x22, 0x02, 0x08, 0x01 };
	static const unsigned char empty_string[] = { 0x32, 0x00 };
	struct cpgo_profile p;
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
	const char *what = argc > 1 ? argv[1] : "";
	const char *out = argc > 3 ? argv[3] : NULL;

	if (!strcmp(what, "samples"))
		return repeat(empty_sample, 2, n);
	if (!strcmp(what, "locations"))
		return repeat(loc1, 4, n);
	if (!strcmp(what, "strings"))
		return repeat(empty_string, 2, n);
	if (!strcmp(what, "stackids")) {
		/* Sample { location_id: [1 x N] (packed) }: field 1, wire 2, inside field 2. */
		unsigned char hdr[32], lenbuf[10], one = 1;
		size_t h = 0, k = 0;
		uint64_t v;
		for (v = n; v >= 0x80; v >>= 7)
			lenbuf[k++] = (unsigned char)(v | 0x80);
		lenbuf[k++] = (unsigned char)v;
		hdr[h++] = 0x32; /* the string table's "" first */
		hdr[h++] = 0x00;
		hdr[h++] = 0x12;
		for (v = 1 + k + n; v >= 0x80; v >>= 7)
			hdr[h++] = (unsigned char)(v | 0x80);
		hdr[h++] = (unsigned char)v;
		hdr[h++] = 0x0a;
		memcpy(hdr + h, lenbuf, k);
		h += k;
		if (fwrite(hdr, 1, h, stdout) != h)
			return 1;
		return repeat(&one, 1, n);
	}
	if (!out) {
		fprintf(stderr, "usage: bigprof KIND N [OUT] (see the source)\n");
		return 2;
	}
	init(&p);
	if (!strcmp(what, "deep")) {
		uint64_t f = cpgo_profile_add_function(&p, "recurse", NULL, "deep.c", 10);
		uint64_t g = cpgo_profile_add_function(&p, "inl", NULL, "deep.c", 100);
		uint64_t *locs = calloc(n, sizeof(*locs));
		struct cpgo_line *lines = calloc(n, sizeof(*lines));
		uint64_t deep_loc;
		if (!locs || !lines)
			return 1;
		/* A few distinct return addresses, as real recursion has. */
		for (uint64_t i = 0; i < n; i++)
			locs[i] = i < 8 ? loc_of(&p, f, 11 + (int64_t)i) : locs[i % 8];
		for (uint64_t i = 0; i < n; i++)
			lines[i] = (struct cpgo_line){ g, 101 + (int64_t)(i % 50), 0 };
		deep_loc = cpgo_profile_add_location(&p, 0, 0, lines, n);
		if (sample(&p, locs, n, 5) < 0 || sample(&p, &deep_loc, 1, 7) < 0)
			return 1;
		free(locs);
		free(lines);
		return finish(&p, out);
	}
	if (!strcmp(what, "funcs")) {
		char name[32];
		for (uint64_t i = 0; i < n; i++) {
			uint64_t f, l;
			snprintf(name, sizeof(name), "fn_%" PRIu64, i);
			f = cpgo_profile_add_function(&p, name, NULL, "many.c", 10 * (int64_t)i + 1);
			l = loc_of(&p, f, 10 * (int64_t)i + 2);
			if (!f || !l || sample(&p, &l, 1, 1 + (int64_t)(i % 3)) < 0)
				return 1;
		}
		return finish(&p, out);
	}
	if (!strcmp(what, "name")) {
		char *name = malloc(n + 1);
		uint64_t f, l[2], g;
		if (!name)
			return 1;
		memset(name, 'n', n);
		name[n] = '\0';
		f = cpgo_profile_add_function(&p, name, NULL, "name.c", 1);
		g = cpgo_profile_add_function(&p, "main", NULL, "name.c", 20);
		l[0] = loc_of(&p, f, 2);
		l[1] = loc_of(&p, g, 21);
		free(name);
		if (sample(&p, l, 2, 3) < 0)
			return 1;
		return finish(&p, out);
	}
	if (!strcmp(what, "counts")) {
		uint64_t f = cpgo_profile_add_function(&p, "hot", NULL, "count.c", 1);
		uint64_t g = cpgo_profile_add_function(&p, "main", NULL, "count.c", 20);
		/* Three stacks through one line of hot: 3 x (2^63 - 1) does not fit 64 bits. */
		for (int i = 0; i < 3; i++) {
			uint64_t l[2] = { loc_of(&p, f, 2), loc_of(&p, g, 21 + i) };
			if (sample(&p, l, 2, INT64_MAX) < 0)
				return 1;
		}
		return finish(&p, out);
	}
	fprintf(stderr, "bigprof: unknown kind '%s'\n", what);
	return 2;
}
