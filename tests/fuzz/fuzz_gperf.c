/*
 * libFuzzer target for the gperftools CPU profile importer: any bytes are
 * either refused with an error or give a profile that passes the strict
 * checker and survives a re-encode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "elf/gperf_import.h"
#include "pprof/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpgo_gperf_stats st;
	struct cpgo_profile p, q;
	struct cpgo_buf out = CPGO_BUF_INIT;

	if (cpgo_gperf_import(&p, data, size, "fuzz", "/nonexistent", &st) < 0)
		return 0;
	if (cpgo_profile_check(&p, "fuzz") < 0)
		abort();
	if (st.word_size != 4 && st.word_size != 8)
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
