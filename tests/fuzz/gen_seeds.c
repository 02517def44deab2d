/* Writes a few small valid profiles (gzipped and raw) as the fuzzer's seed corpus. */
#include <stdio.h>
#include <stdlib.h>

#include "util/error.h"
#include "pprof/profile.h"

static int write_seed(const char *dir, const char *name, const struct cpgo_profile *p, int gz)
{
	struct cpgo_buf b = CPGO_BUF_INIT, path = CPGO_BUF_INIT;
	int ret = -1;
	if (cpgo_profile_encode(p, &b, gz) < 0 || cpgo_buf_addf(&path, "%s/%s", dir, name) < 0)
		goto cleanup;
	ret = cpgo_write_file_atomic(path.buf, b.buf, b.len);
cleanup:
	cpgo_buf_release(&b);
	cpgo_buf_release(&path);
	return ret;
}

int main(int argc, char **argv)
{
	struct cpgo_profile p;
	struct cpgo_mapping m = { 0 };
	uint64_t f[4], l[4];
	int64_t v[2] = { 1, 10000 };

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	if (cpgo_profile_init(&p) < 0 ||
	    cpgo_profile_add_sample_type(&p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(&p, "cpu", "nanoseconds") < 0)
		goto fail;
	m.filename = cpgo_profile_intern(&p, "/bin/prog");
	m.memory_start = 0x1000;
	m.memory_limit = 0x9000;
	cpgo_profile_add_mapping(&p, &m);
	for (int i = 0; i < 4; i++) {
		char name[16];
		struct cpgo_line ln[2];
		snprintf(name, sizeof(name), "fn%d", i);
		f[i] = cpgo_profile_add_function(&p, name, NULL, "a.c", 10 * i + 1);
		ln[0] = (struct cpgo_line){ f[i], 10 * i + 3, 0 };
		ln[1] = (struct cpgo_line){ f[0], 2, 0 };
		l[i] = cpgo_profile_add_location(&p, 1, 0x1000 + 16 * i, ln, i ? 2 : 1);
	}
	for (int i = 0; i < 4; i++)
		if (cpgo_profile_add_sample(&p, l + i, 4 - i, v, NULL, 0) < 0)
			goto fail;
	p.duration_nanos = 1000000000;
	if (write_seed(argv[1], "seed1.pb.gz", &p, 1) < 0 || write_seed(argv[1], "seed2.pb", &p, 0) < 0)
		goto fail;
	cpgo_profile_release(&p);
	return 0;
fail:
	fprintf(stderr, "gen_seeds: %s\n", cpgo_last_error());
	return 1;
}
