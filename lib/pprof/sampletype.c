/*
 * Which of a profile's sample types PGO reads (pprof/profile.h).
 */
#include "pprof/profile.h"
#include "util/error.h"

#include <string.h>

/* The CPU sample types Go's PGO accepts; either is fine (cpu is samples * period). */
static const char *const cpu_types[][2] = {
	{ "samples", "count" },
	{ "cpu", "nanoseconds" },
};

static int is_cpu_type(const struct cpgo_profile *p, const struct cpgo_value_type *vt)
{
	const char *type = cpgo_profile_str(p, vt->type), *unit = cpgo_profile_str(p, vt->unit);

	for (size_t w = 0; w < sizeof(cpu_types) / sizeof(cpu_types[0]); w++)
		if (!strcmp(type, cpu_types[w][0]) && !strcmp(unit, cpu_types[w][1]))
			return 1;
	return 0;
}

int cpgo_profile_cpu_index(const struct cpgo_profile *p, const char *name)
{
	struct cpgo_buf have = CPGO_BUF_INIT;

	for (size_t i = 0; i < p->n_sample_type; i++)
		if (is_cpu_type(p, &p->sample_type[i]))
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
