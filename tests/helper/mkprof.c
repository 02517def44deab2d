/*
 * Test helper for the t2xxx tests (not a test): builds a pprof profile from a small
 * text description with lib/profile.h's builders, so the shell tests can
 * generate exactly the stacks they assert on.
 *
 *   type NAME UNIT               sample type (in order)
 *   period TYPE UNIT N           period type and period
 *   map ID START LIMIT OFFSET FILE [BUILDID]
 *   fn ID NAME FILE START [SYSNAME]
 *   loc ID MAPID ADDR [FNID:LINE ...]   lines innermost first
 *   sample V1 [V2 ...] @ LOCID ...      values, then locations leaf first
 *
 * usage: mkprof OUT.pb.gz < spec
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "pprof/profile.h"

static int fail(int line, const char *what)
{
	fprintf(stderr, "mkprof: line %d: %s (%s)\n", line, what, cpgo_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	struct cpgo_profile p;
	char buf[4096];
	int ln = 0;

	if (argc != 2 || cpgo_profile_init(&p) < 0)
		return 2;
	while (fgets(buf, sizeof(buf), stdin)) {
		char *tok[64], *s = buf, *save = NULL;
		int n = 0;

		ln++;
		while (n < 64 && (tok[n] = strtok_r(s, " \t\n", &save))) {
			s = NULL;
			n++;
		}
		if (!n || tok[0][0] == '#')
			continue;
		if (!strcmp(tok[0], "type") && n == 3) {
			if (cpgo_profile_add_sample_type(&p, tok[1], tok[2]) < 0)
				return fail(ln, "type");
		} else if (!strcmp(tok[0], "period") && n == 4) {
			p.period_type.type = cpgo_profile_intern(&p, tok[1]);
			p.period_type.unit = cpgo_profile_intern(&p, tok[2]);
			p.period = strtoll(tok[3], NULL, 0);
		} else if (!strcmp(tok[0], "map") && (n == 6 || n == 7)) {
			struct cpgo_mapping m = { 0 };
			m.memory_start = strtoull(tok[2], NULL, 0);
			m.memory_limit = strtoull(tok[3], NULL, 0);
			m.file_offset = strtoull(tok[4], NULL, 0);
			m.filename = cpgo_profile_intern(&p, tok[5]);
			m.build_id = cpgo_profile_intern(&p, n == 7 ? tok[6] : "");
			m.has_functions = m.has_line_numbers = 1;
			if (cpgo_profile_add_mapping(&p, &m) != strtoull(tok[1], NULL, 0))
				return fail(ln, "map ids must be 1, 2, ...");
		} else if (!strcmp(tok[0], "fn") && (n == 5 || n == 6)) {
			if (cpgo_profile_add_function(&p, tok[2], n == 6 ? tok[5] : tok[2], tok[3],
						      strtoll(tok[4], NULL, 0)) !=
			    strtoull(tok[1], NULL, 0))
				return fail(ln, "fn ids must be 1, 2, ...");
		} else if (!strcmp(tok[0], "loc") && n >= 4) {
			struct cpgo_line lines[60];
			int nl = 0;
			for (int i = 4; i < n; i++) {
				char *colon = strchr(tok[i], ':');
				if (!colon)
					return fail(ln, "want FNID:LINE");
				lines[nl++] = (struct cpgo_line){ strtoull(tok[i], NULL, 0),
								  strtoll(colon + 1, NULL, 0), 0 };
			}
			if (cpgo_profile_add_location(&p, strtoull(tok[2], NULL, 0),
						      strtoull(tok[3], NULL, 0), lines, (size_t)nl) !=
			    strtoull(tok[1], NULL, 0))
				return fail(ln, "loc ids must be 1, 2, ...");
		} else if (!strcmp(tok[0], "sample")) {
			int64_t v[16];
			uint64_t locs[48];
			int nv = 0, nloc = 0, i = 1;
			for (; i < n && strcmp(tok[i], "@") && nv < 16; i++)
				v[nv++] = strtoll(tok[i], NULL, 0);
			for (i++; i < n && nloc < 48; i++)
				locs[nloc++] = strtoull(tok[i], NULL, 0);
			if ((size_t)nv != p.n_sample_type ||
			    cpgo_profile_add_sample(&p, locs, (size_t)nloc, v, NULL, 0) < 0)
				return fail(ln, "sample");
		} else {
			return fail(ln, "unknown line");
		}
	}
	if (cpgo_profile_write(&p, argv[1]) < 0)
		return fail(ln, "write");
	cpgo_profile_release(&p);
	return 0;
}
