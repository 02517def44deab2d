/*
 * libFuzzer target for the `perf script` importer: any text is either
 * refused with an error or gives a profile that passes the strict checker
 * and survives a re-encode. (perf.data itself is decoded by perf, which
 * `cpgo import` runs as a child; cpgo only recognizes its magic.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elf/perf_import.h"
#include "pprof/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpgo_perf_opts opts = { NULL, "/nonexistent" };
	struct cpgo_perf_stats st;
	struct cpgo_profile p, q;
	struct cpgo_buf out = CPGO_BUF_INIT;

	if (cpgo_perf_import_script(&p, (const char *)data, size, "fuzz", &opts, &st) < 0)
		return 0;
	if (cpgo_profile_check(&p, "fuzz") < 0 || !st.n_samples)
		abort();
	if (cpgo_profile_encode(&p, &out, 0) < 0 ||
	    cpgo_profile_parse(&q, out.buf, out.len, "fuzz-reencoded", NULL) < 0)
		abort();
	if (q.n_sample != p.n_sample || q.n_location != p.n_location)
		abort();
	cpgo_profile_release(&q);
	cpgo_profile_release(&p);
	cpgo_buf_release(&out);
	return 0;
}
