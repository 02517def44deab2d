/*
 * libFuzzer target for merge: the input is two profiles (a 4-byte length of
 * the first, then both) and a weight byte. Whatever two valid profiles
 * are merged, the merge either refuses them with an error or yields a
 * profile that passes the strict checker, survives a re-encode, and holds
 * no more samples than its inputs together.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pprof/merge.h"
#include "pprof/profile.h"

static const double weights[8] = { 1, 2, 0.5, 3, 1e-3, 1e9, 0.1, 7 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpgo_read_opts o = { 1 << 20, 8 << 20 };
	struct cpgo_profile a, b, out, again;
	struct cpgo_merge *m = NULL;
	struct cpgo_merge_opts mo;
	struct cpgo_buf enc = CPGO_BUF_INIT;
	uint32_t first;
	uint8_t ctl;
	int have_a = 0, have_b = 0, ok;

	if (size < 5)
		return 0;
	memcpy(&first, data, 4);
	ctl = data[4];
	data += 5;
	size -= 5;
	if (first > size)
		first = (uint32_t)(size / 2);
	have_a = cpgo_profile_parse(&a, data, first, "a", &o) == 0;
	have_b = cpgo_profile_parse(&b, data + first, size - first, "b", &o) == 0;
	if (!have_a || !have_b)
		goto cleanup;
	mo.normalize = ctl & 1;
	if (cpgo_profile_init(&out) < 0)
		abort();
	ok = cpgo_merge_begin(&m, &out, &mo) == 0 &&
	     cpgo_merge_add(m, &a, "a", weights[(ctl >> 1) & 7]) == 0 &&
	     cpgo_merge_add(m, &b, "b", weights[(ctl >> 4) & 7]) == 0 && cpgo_merge_finish(m) == 0;
	cpgo_merge_free(m);
	if (ok) {
		if (cpgo_profile_check(&out, "merged") < 0)
			abort();
		if (out.n_sample > a.n_sample + b.n_sample)
			abort();
		if (cpgo_profile_encode(&out, &enc, 1) < 0)
			abort();
		if (cpgo_profile_parse(&again, enc.buf, enc.len, "merged-reencoded", NULL) < 0)
			abort();
		if (again.n_sample != out.n_sample || again.n_location != out.n_location ||
		    again.n_function != out.n_function)
			abort();
		cpgo_profile_release(&again);
	}
	cpgo_profile_release(&out);
cleanup:
	if (have_a)
		cpgo_profile_release(&a);
	if (have_b)
		cpgo_profile_release(&b);
	cpgo_buf_release(&enc);
	return 0;
}
