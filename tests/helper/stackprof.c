/*
 * Test helper for the t3xxx tests: writes a pprof CPU profile from lines
 * "COUNT FUNC:FILE:START_LINE:LINE ..." (leaf first), so the cc tests can
 * make profiles of the programs they build without running a profiler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pprof/profile.h"
int main(int argc, char **argv)
{
	struct cpgo_profile p;
	char line[4096];
	if (argc != 2 || cpgo_profile_init(&p) < 0 ||
	    cpgo_profile_add_sample_type(&p, "samples", "count") < 0)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t locs[64];
		size_t n = 0;
		char *save, *tok = strtok_r(line, " \n", &save);
		int64_t v;
		if (!tok)
			continue;
		v = atoll(tok);
		while ((tok = strtok_r(NULL, " \n", &save)) && n < 64) {
			char *fn = strtok(tok, ":"), *file = strtok(NULL, ":");
			long start = atol(strtok(NULL, ":")), ln = atol(strtok(NULL, ":"));
			struct cpgo_line l = { cpgo_profile_add_function(&p, fn, fn, file, start), ln, 0 };
			locs[n++] = cpgo_profile_add_location(&p, 0, 0, &l, 1);
		}
		if (cpgo_profile_add_sample(&p, locs, n, &v, NULL, 0) < 0) {
			cpgo_profile_release(&p);
			return 1;
		}
	}
	int rc = cpgo_profile_write(&p, argv[1]) < 0;
	cpgo_profile_release(&p);
	return rc;
}
