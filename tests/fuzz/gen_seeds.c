/*
 * Writes the seed corpus of one fuzz target into DIR: small valid inputs of
 * each format, so that the fuzzer starts from deep paths rather than from
 * the first byte check. Usage: gen_seeds TARGET DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "gcc/gccprof.h"
#include "pprof/profile.h"

static int write_seed(const char *dir, const char *name, const void *data, size_t len)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	int ret = -1;

	if (cpgo_buf_addf(&path, "%s/%s", dir, name) < 0)
		goto cleanup;
	ret = cpgo_write_file_atomic(path.buf, data, len);
cleanup:
	cpgo_buf_release(&path);
	return ret;
}

/* A small CPU profile: four functions with start lines, an inlined frame, one mapping. */
static int make_profile(struct cpgo_profile *p, int variant)
{
	struct cpgo_mapping m = { 0 };
	uint64_t f[4], l[4];
	int64_t v[2] = { 1, 10000 };

	if (cpgo_profile_init(p) < 0 || cpgo_profile_add_sample_type(p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(p, "cpu", "nanoseconds") < 0)
		return -1;
	m.filename = cpgo_profile_intern(p, variant ? "/bin/other" : "/bin/prog");
	m.memory_start = 0x1000;
	m.memory_limit = 0x9000;
	cpgo_profile_add_mapping(p, &m);
	for (int i = 0; i < 4; i++) {
		char name[16];
		struct cpgo_line ln[2];
		snprintf(name, sizeof(name), "fn%d", i + variant);
		f[i] = cpgo_profile_add_function(p, name, NULL, i & 1 ? "b.c" : "a.c", 10 * i + 1);
		ln[0] = (struct cpgo_line){ f[i], 10 * i + 3, 0 };
		ln[1] = (struct cpgo_line){ f[0], 2, 0 };
		l[i] = cpgo_profile_add_location(p, 1, 0x1000 + 16 * i, ln, i ? 2 : 1);
	}
	for (int i = 0; i < 4; i++) {
		v[0] = i + 1;
		v[1] = 10000 * (i + 1);
		if (cpgo_profile_add_sample(p, l + i, 4 - i, v, NULL, 0) < 0)
			return -1;
	}
	p->duration_nanos = 1000000000;
	p->period = 10000;
	return 0;
}

static int encode(int variant, int gz, struct cpgo_buf *out)
{
	struct cpgo_profile p;
	int ret = -1;

	if (make_profile(&p, variant) < 0)
		return -1;
	ret = cpgo_profile_encode(&p, out, gz);
	cpgo_profile_release(&p);
	return ret;
}

static int seeds_profile(const char *dir, int ctl_byte)
{
	for (int gz = 0; gz < 2; gz++) {
		struct cpgo_buf b = CPGO_BUF_INIT;
		char name[32];
		int ret;
		if (ctl_byte >= 0 && cpgo_buf_add(&b, "\0", 1) < 0)
			return -1;
		if (ctl_byte > 0)
			b.buf[0] = (char)ctl_byte;
		ret = encode(gz, gz, &b);
		snprintf(name, sizeof(name), "seed%d.pb%s", gz + 1, gz ? ".gz" : "");
		if (ret == 0)
			ret = write_seed(dir, name, b.buf, b.len);
		cpgo_buf_release(&b);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* An AutoFDO file cpgo writes, behind an odd control byte (the reader's half of fuzz_gcc). */
static int seeds_gcc(const char *dir)
{
	struct cpgo_buf pb = CPGO_BUF_INIT, out = CPGO_BUF_INIT;
	struct gccprof_opts go = { 0 };
	struct cpgo_profile p;
	int ret = -1;

	memset(&p, 0, sizeof(p));
	if (cpgo_buf_add(&out, "\1", 1) < 0 || encode(0, 0, &pb) < 0 ||
	    cpgo_profile_parse(&p, pb.buf, pb.len, "seed", NULL) < 0 ||
	    gccprof_convert(&p, "seed", &go, &out) < 0 ||
	    write_seed(dir, "seed.afdo", out.buf, out.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_profile_release(&p);
	cpgo_buf_release(&pb);
	cpgo_buf_release(&out);
	return ret;
}

static int seeds_merge(const char *dir)
{
	struct cpgo_buf a = CPGO_BUF_INIT, b = CPGO_BUF_INIT, s = CPGO_BUF_INIT;
	uint32_t n;
	int ret = -1;

	if (encode(0, 0, &a) < 0 || encode(1, 1, &b) < 0)
		goto cleanup;
	n = (uint32_t)a.len;
	for (int ctl = 0; ctl < 2; ctl++) {
		char name[16], c = (char)(ctl ? 0x13 : 0);
		cpgo_buf_reset(&s);
		if (cpgo_buf_add(&s, &n, 4) < 0 || cpgo_buf_add(&s, &c, 1) < 0 ||
		    cpgo_buf_add(&s, a.buf, a.len) < 0 || cpgo_buf_add(&s, b.buf, b.len) < 0)
			goto cleanup;
		snprintf(name, sizeof(name), "pair%d", ctl);
		if (write_seed(dir, name, s.buf, s.len) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&a);
	cpgo_buf_release(&b);
	cpgo_buf_release(&s);
	return ret;
}

static int seeds_text(const char *dir, const char *const *seeds, size_t n, int nul_split)
{
	for (size_t i = 0; i < n; i++) {
		char name[16];
		size_t len = strlen(seeds[i]);
		char *copy = strdup(seeds[i]);
		int ret;
		if (!copy)
			return error("out of memory");
		/* '|' stands for the NUL between arguments. */
		for (size_t k = 0; nul_split && k < len; k++)
			if (copy[k] == '|')
				copy[k] = '\0';
		snprintf(name, sizeof(name), "seed%zu", i);
		ret = write_seed(dir, name, copy, len);
		free(copy);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static const char *const perf_seeds[] = {
	"prog 42 0.5: PERF_RECORD_MMAP2 42/42: [0x400000(0x10000) @ 0x1000 fd:00 1 2]: "
	"r-xp /nonexistent/prog\n"
	"42/42 1.000000: 250000 cpu-clock:\n"
	"\tffffffff81001234 irq+0x0 ([kernel.kallsyms])\n"
	"\t401234 leaf+0x2 (/nonexistent/prog)\n\t405678 caller+0x5 (/nonexistent/prog)\n\n"
	"42/42 1.5: 250000 cpu-clock:\n\t401234 leaf+0x2 (/nonexistent/prog)\n\n",
	"prog with spaces 42/43 [001] 2.000000: 250000 cpu-clock:  401234 leaf (/nonexistent/prog)\n"
	"   42/42  3.000000:     1000 cycles:u:  7f0000001000 memcpy (/lib/libc.so.6)\n",
	"p 1/1 1.0: 1 task-clock:\n\t1 [unknown] ([unknown])\n\tdeadbeef main+0x10 ([vdso])\n\n",
};

static const char *const http_seeds[] = {
	"GET /debug/pprof/profile?seconds=5 HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /debug/pprof/profile?seconds=%33%30&seconds=9 HTTP/1.0\r\n\r\n",
	"POST /debug/pprof/profile HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd",
	"GET /debug/pprof/profile?seconds=99999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
};

/* Control byte (compiler, switches), then NUL-separated arguments ('|' here). */
static const char *const cc_seeds[] = {
	"\x08-c|a.c|-o|a.o", "\x08a.c|b.c|-o|prog|-lm", "\x18-O2|-c|a.c|b.c|-MD|-MP|-MF|x.d",
	"\x01-E|-x|c|-", "\x00--version", "\x02-print-prog-name=ld", "\x08-x|c|a.h|-x|none|b.c|c.s",
	"\x08@rsp|a.c", "\x0c-pgo=off|-c|a.c", "\x08-pgo=fuzz.pgo|-g|-fomit-frame-pointer|a.c|x.o",
	"\x08-S|a.c|b.c", "\x03-Werror|-c|a.S|-o|a.o", "\x08--|-a.c|b.c",
};

int main(int argc, char **argv)
{
	const char *what, *dir;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: gen_seeds TARGET DIR\n");
		return 2;
	}
	what = argv[1];
	dir = argv[2];
	if (!strcmp(what, "profile"))
		ret = seeds_profile(dir, -1);
	else if (!strcmp(what, "llvm"))
		ret = seeds_profile(dir, 0x10);
	else if (!strcmp(what, "gcc"))
		ret = seeds_profile(dir, 0x20) < 0 || seeds_gcc(dir) < 0 ? -1 : 0;
	else if (!strcmp(what, "merge"))
		ret = seeds_merge(dir);
	else if (!strcmp(what, "perf_script"))
		ret = seeds_text(dir, perf_seeds, sizeof(perf_seeds) / sizeof(*perf_seeds), 0);
	else if (!strcmp(what, "http"))
		ret = seeds_text(dir, http_seeds, sizeof(http_seeds) / sizeof(*http_seeds), 0);
	else if (!strcmp(what, "cc_args"))
		ret = seeds_text(dir, cc_seeds, sizeof(cc_seeds) / sizeof(*cc_seeds), 1);
	else if (!strcmp(what, "gperf")) {
		static const char maps[] = "00400000-00500000 r-xp 00001000 00:00 0 /nonexistent/prog\n"
					   "7f0000000000-7f0000100000 r-xp 00000000 08:01 5 /lib/libc.so.6\n";
		uint64_t w64[] = { 0, 3, 0, 4000, 0, 2, 3, 0x401000, 0x402005, 0x403009,
				   1, 1, 0x7f0000000100, 0, 1, 0 };
		uint32_t w32[] = { 0, 3, 0, 10000, 0, 5, 2, 0x401000, 0x402005, 0, 1, 0 };
		struct cpgo_buf b = CPGO_BUF_INIT;
		ret = cpgo_buf_add(&b, w64, sizeof(w64)) < 0 || cpgo_buf_adds(&b, maps) < 0 ||
		      write_seed(dir, "seed64", b.buf, b.len) < 0;
		cpgo_buf_reset(&b);
		ret = ret || cpgo_buf_add(&b, w32, sizeof(w32)) < 0 || cpgo_buf_adds(&b, maps) < 0 ||
		      write_seed(dir, "seed32", b.buf, b.len) < 0;
		cpgo_buf_release(&b);
		ret = -ret;
	} else {
		fprintf(stderr, "gen_seeds: unknown target '%s'\n", what);
		return 2;
	}
	if (ret < 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", what, cpgo_last_error());
		return 1;
	}
	return 0;
}
