/*
 * Which of a profile's sample types a consumer reads (pprof/profile.h).
 */
#include "pprof/profile.h"
#include "util/error.h"

#include <string.h>

int cpgo_profile_pgo_value_index(const struct cpgo_profile *p, const char *name)
{
	struct cpgo_buf have = CPGO_BUF_INIT;
	static const char *const wanted[][2] = {
		{ "samples", "count" }, { "cpu", "nanoseconds" },
	};

	if (p->default_sample_type) {
		for (size_t i = 0; i < p->n_sample_type; i++)
			if (p->sample_type[i].type == p->default_sample_type)
				return (int)i;
	}
	for (size_t w = 0; w < 2; w++)
		for (size_t i = 0; i < p->n_sample_type; i++)
			if (!strcmp(cpgo_profile_str(p, p->sample_type[i].type), wanted[w][0]) &&
			    !strcmp(cpgo_profile_str(p, p->sample_type[i].unit), wanted[w][1]))
				return (int)i;
	for (size_t i = 0; i < p->n_sample_type; i++)
		cpgo_buf_addf(&have, "%s%s/%s", i ? ", " : "",
			      cpgo_profile_str(p, p->sample_type[i].type),
			      cpgo_profile_str(p, p->sample_type[i].unit));
	error("%s: no samples/count or cpu/nanoseconds sample type (profile has: %s); "
	      "is this a CPU profile?", name, have.len ? have.buf : "none");
	cpgo_buf_release(&have);
	return -1;
}
