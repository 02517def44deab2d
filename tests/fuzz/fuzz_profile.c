/*
 * libFuzzer target for the pprof reader: any input must either parse into a
 * profile that passes the strict checker and survives a re-encode, or be
 * refused with an error; never crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pprof/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small limits keep each run fast; the bomb logic is what is under test. */
	struct cpgo_read_opts o = { 1 << 20, 8 << 20 };
	struct cpgo_profile p, q;
	struct cpgo_buf out = CPGO_BUF_INIT;

	if (cpgo_profile_parse(&p, data, size, "fuzz", &o) < 0)
		return 0;
	if (cpgo_profile_check(&p, "fuzz") < 0)
		abort();
	for (size_t i = 0; i < p.n_location; i++)
		if (cpgo_profile_location(&p, p.locations[i].id) == NULL)
			abort();
	if (cpgo_profile_encode(&p, &out, 1) < 0)
		abort();
	if (cpgo_profile_parse(&q, out.buf, out.len, "fuzz-reencoded", NULL) < 0)
		abort();
	if (q.n_sample != p.n_sample || q.n_location != p.n_location ||
	    q.n_function != p.n_function || q.n_string != p.n_string)
		abort();
	cpgo_profile_release(&q);
	cpgo_profile_release(&p);
	cpgo_buf_release(&out);
	return 0;
}
