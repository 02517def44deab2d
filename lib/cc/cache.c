/*
 * The converted-profile cache of `cpgo cc`: one conversion per profile
 * content, shared by every compile (and every concurrent `make -j` job).
 * Files are content-addressed and renamed into place whole, so a reader
 * never sees a partial file and two writers of one key both succeed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cc/cache.h"
#include "util/hash.h"
#include "elf/elfnote.h"
#include "util/error.h"
#include "pprof/profile.h"

#include "gcc/gccprof.h"
#include "llvm/llvmprof.h"

#ifndef CPGO_VERSION
#define CPGO_VERSION "dev"
#endif

/* Profiles are read whole; pprof files of real services are a few MB. */
#define PROFILE_LIMIT (1024u * 1024 * 1024)

int cpgo_cc_cache_dir(struct cpgo_buf *out)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	cpgo_buf_reset(out);
	/* The XDG spec says to ignore a relative XDG_CACHE_HOME. */
	if (xdg && xdg[0] == '/')
		return cpgo_buf_addf(out, "%s/cpgo", xdg);
	if (home && *home)
		return cpgo_buf_addf(out, "%s/.cache/cpgo", home);
	return error("no cache directory for converted profiles: set HOME or XDG_CACHE_HOME");
}

int cpgo_cc_mkdir_p(const char *path)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	int ret = -1;

	if (cpgo_buf_adds(&b, path) < 0)
		return -1;
	for (size_t i = 1; i <= b.len; i++) {
		if (i < b.len && b.buf[i] != '/')
			continue;
		b.buf[i] = '\0';
		/* Another job of a parallel build may create it first: EEXIST is fine. */
		if (mkdir(b.buf, 0755) < 0 && errno != EEXIST) {
			error_errno("%s: cannot create the cache directory", b.buf);
			goto cleanup;
		}
		if (i < b.len)
			b.buf[i] = '/';
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&b);
	return ret;
}

int cpgo_cc_once(const char *key)
{
	struct cpgo_buf dir = CPGO_BUF_INIT, id = CPGO_BUF_INIT, path = CPGO_BUF_INIT;
	char hex[CPGO_SHA256_HEX_SIZE], *cwd = getcwd(NULL, 0);
	int fd, ret = -1;

	if (!cwd) {
		error_errno("cannot tell the current directory");
		goto cleanup;
	}
	if (cpgo_cc_cache_dir(&dir) < 0 || cpgo_buf_addf(&dir, "/once") < 0 ||
	    cpgo_buf_addf(&id, "%s\n%s", cwd, key) < 0)
		goto cleanup;
	cpgo_sha256_hex(id.buf, id.len, hex);
	if (cpgo_cc_mkdir_p(dir.buf) < 0 || cpgo_buf_addf(&path, "%s/%.32s", dir.buf, hex) < 0)
		goto cleanup;
	/* O_EXCL: of two concurrent jobs exactly one creates the marker, and says it. */
	fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		close(fd);
		ret = 1;
	} else if (errno == EEXIST) {
		ret = 0;
	} else {
		error_errno("%s: cannot create", path.buf);
	}
cleanup:
	free(cwd);
	cpgo_buf_release(&dir);
	cpgo_buf_release(&id);
	cpgo_buf_release(&path);
	return ret;
}

/*
 * The whole program's summary in each TU's profile, callgrind Ir ratios
 * against plain -O2, same training profile, the TU's own / the whole's:
 * tcl 1.1017 / 1.1021. -DCPGO_CC_WHOLE_SUMMARY=0 builds without.
 */
#ifndef CPGO_CC_WHOLE_SUMMARY
#define CPGO_CC_WHOLE_SUMMARY 1
#endif

/* A summary section is a few hundred bytes: more is not one. */
#define SUMMARY_LIMIT (1u << 20)

/*
 * The whole program's summary section for the TU's profile: made once per
 * profile and kept beside the TUs' profiles (`whole`.summary). None (an
 * empty buffer) when the whole profile converts to nothing: the TU's own.
 */
static int whole_summary(const void *data, size_t len, const char *name, const char *whole,
			 struct cpgo_buf *sum)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	struct cpgo_profile p;
	struct llvmprof_opts o;
	int ret = -1;

	if (cpgo_buf_addf(&path, "%s.summary", whole) < 0)
		goto cleanup;
	if (!access(path.buf, R_OK)) {
		if (cpgo_read_file(path.buf, sum, SUMMARY_LIMIT) >= 0) {
			ret = 0;
			goto cleanup;
		}
		cpgo_clear_error();
		cpgo_buf_reset(sum);
	}
	memset(&o, 0, sizeof(o));
	o.sp.find_binary = 1;
	if (cpgo_profile_parse(&p, data, len, name, NULL) < 0)
		goto cleanup;
	if (llvmprof_summary(&p, name, &o, sum) < 0) {
		cpgo_clear_error();
		cpgo_buf_reset(sum);
	}
	cpgo_profile_release(&p);
	if (sum->len && cpgo_write_file_atomic(path.buf, sum->buf, sum->len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&path);
	return ret;
}

/*
 * One conversion for cpgo cc: per translation unit, with the profiled
 * binary when it is at hand. Samples that all belong to other files are
 * not an error: most files of a program are cold, this one has no profile
 * (an empty output).
 */
static int convert_for_cc(const void *data, size_t len, const char *name, const char *source,
			  const char *whole, struct cpgo_buf *out, int gcc)
{
	struct cpgo_buf summary = CPGO_BUF_INIT;
	struct cpgo_profile p;
	struct sprof_opts so;
	struct sprof_stats st;
	struct cpgo_strvec defined = CPGO_STRVEC_INIT, includes = CPGO_STRVEC_INIT;
	size_t start = out->len;
	int ret = -1, r, parsed = 0;

	memset(&so, 0, sizeof(so));
	memset(&st, 0, sizeof(st));
	/* Keeps same-named static functions of other files out of this TU's profile. */
	so.source_file = source;
	/* And finds the functions moved into it (the cache key has their names). */
	if (source && sprof_tu_scan(source, &includes, &defined) < 0)
		goto cleanup;
	so.tu_functions = &defined;
	so.tu_sources = &includes;
	so.stats = &st;
	/* Discriminators, zero counts and the symbol list when the profiled binary is here. */
	so.find_binary = 1;
	if (CPGO_CC_WHOLE_SUMMARY && !gcc && source && whole && whole_summary(data, len, name, whole, &summary) < 0)
		goto cleanup;
	if (cpgo_profile_parse(&p, data, len, name, NULL) < 0)
		goto cleanup;
	parsed = 1;
	if (gcc) {
		struct gccprof_opts o = { .sp = so };
		r = gccprof_convert(&p, name, &o, out);
	} else {
		struct llvmprof_opts o = { .sp = so, .summary = &summary };
		r = llvmprof_convert(&p, name, &o, out);
	}
	if (r < 0) {
		if (!st.none_for_source)
			goto cleanup;
		cpgo_clear_error();
		out->len = start;
	}
	ret = 0;
cleanup:
	if (parsed)
		cpgo_profile_release(&p);
	cpgo_strvec_release(&defined);
	cpgo_strvec_release(&includes);
	cpgo_buf_release(&summary);
	return ret;
}

static int llvm_convert(const void *data, size_t len, const char *name, const char *source,
			const char *whole, struct cpgo_buf *out, void *ctx)
{
	(void)ctx;
	return convert_for_cc(data, len, name, source, whole, out, 0);
}

static int gcc_convert(const void *data, size_t len, const char *name, const char *source,
		       const char *whole, struct cpgo_buf *out, void *ctx)
{
	(void)ctx;
	return convert_for_cc(data, len, name, source, whole, out, 1);
}

static int gcc_check(const void *data, size_t len, const char *name)
{
	/* Empty: this file has no samples, and gcc gets no profile at all. */
	return len ? gccprof_read(data, len, name, NULL) : 0;
}

/*
 * A rebuilt cpgo may convert differently under the same version number,
 * so the executable's identity is part of the key.
 */
static void converter_id(char *id, size_t size, const char *format)
{
	struct stat st;

	if (stat("/proc/self/exe", &st) < 0)
		memset(&st, 0, sizeof(st));
	snprintf(id, size, "%s/%s/%lld.%lld.%ld", format, CPGO_VERSION, (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
}

const struct cpgo_cc_converter *cpgo_cc_llvm_converter(void)
{
	static char id[256];
	static struct cpgo_cc_converter conv = { id, llvm_convert, NULL, 1, "llvm", NULL };

	if (!id[0])
		converter_id(id, sizeof(id), "llvm-sample");
	return &conv;
}

const struct cpgo_cc_converter *cpgo_cc_gcc_converter(void)
{
	static char id[256];
	static struct cpgo_cc_converter conv = { id, gcc_convert, NULL, 1, "gcc", gcc_check };

	if (!id[0])
		converter_id(id, sizeof(id), "gcc-afdo-12");
	return &conv;
}

void cpgo_cc_prepared_init(struct cpgo_cc_prepared *pp)
{
	memset(pp, 0, sizeof(*pp));
	cpgo_buf_init(&pp->cached);
	cpgo_buf_init(&pp->note_dir);
	cpgo_buf_init(&pp->note_hdr);
}

void cpgo_cc_prepared_release(struct cpgo_cc_prepared *pp)
{
	cpgo_buf_release(&pp->cached);
	cpgo_buf_release(&pp->note_dir);
	cpgo_buf_release(&pp->note_hdr);
	cpgo_cc_prepared_init(pp);
}

/* Replaces the recorded error "msg" with "msg (hint)". */
static int add_hint(const char *hint)
{
	char msg[1024];

	if (!hint || !*hint)
		return -1;
	snprintf(msg, sizeof(msg), "%s", cpgo_last_error());
	return error("%s (%s)", msg, hint);
}

static int write_note_header(const unsigned char sha[32], const char *profile,
			     const char *cache_dir, struct cpgo_cc_prepared *pp)
{
	struct cpgo_buf text = CPGO_BUF_INIT, path = CPGO_BUF_INIT;
	const char *base = strrchr(profile, '/');
	char hex[65];
	struct stat st;
	int ret = -1;

	if (elfnote_header(sha, base ? base + 1 : profile, &text) < 0)
		goto cleanup;
	cpgo_sha256_hex(text.buf, text.len, hex);
	hex[16] = '\0';
	if (cpgo_buf_addf(&pp->note_dir, "%s/note", cache_dir) < 0 ||
	    cpgo_buf_addf(&pp->note_hdr, "cpgo-note-%s.h", hex) < 0 ||
	    cpgo_buf_addf(&path, "%s/%s", pp->note_dir.buf, pp->note_hdr.buf) < 0)
		goto cleanup;
	/* Named by its content: when it exists, it is right. */
	if (!stat(path.buf, &st)) {
		ret = 0;
		goto cleanup;
	}
	if (cpgo_cc_mkdir_p(pp->note_dir.buf) < 0 ||
	    cpgo_write_file_atomic(path.buf, text.buf, text.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&text);
	cpgo_buf_release(&path);
	return ret;
}

/* A cached file that fails the converter's check is converted again (and replaced). */
static int cached_ok(const struct cpgo_cc_converter *conv, struct cpgo_cc_prepared *pp)
{
	struct cpgo_buf data = CPGO_BUF_INIT;
	int ok;

	if (!conv->check)
		return 1;
	ok = cpgo_read_file(pp->cached.buf, &data, PROFILE_LIMIT) == 0 &&
	     conv->check(data.buf, data.len, pp->cached.buf) == 0;
	cpgo_buf_release(&data);
	if (!ok) {
		cpgo_clear_error();
		pp->repaired = 1;
	}
	return ok;
}

int cpgo_cc_prepare(const char *profile, const char *source, const char *cache_dir,
		    const struct cpgo_cc_converter *conv, const char *hint,
		    struct cpgo_cc_prepared *pp)
{
	struct cpgo_buf data = CPGO_BUF_INIT, out = CPGO_BUF_INIT, dir = CPGO_BUF_INIT;
	struct cpgo_buf whole = CPGO_BUF_INIT;
	struct cpgo_sha256 s;
	unsigned char sha[32], key[32];
	char key_hex[65];
	struct stat st;
	int ret = -1;

	if (cpgo_read_file(profile, &data, PROFILE_LIMIT) < 0) {
		add_hint(hint);
		goto cleanup;
	}
	cpgo_sha256_init(&s);
	cpgo_sha256_update(&s, data.buf, data.len);
	cpgo_sha256_final(&s, sha);
	cpgo_hex(sha, 32, pp->sha256);

	/* Key: converter and options, the translation unit when it matters, the content. */
	cpgo_sha256_init(&s);
	cpgo_sha256_update(&s, conv->id, strlen(conv->id) + 1);
	if (conv->per_source && source) {
		/* The files it includes and the functions it defines decide which other files' functions it gets. */
		struct cpgo_strvec defined = CPGO_STRVEC_INIT, includes = CPGO_STRVEC_INIT;
		int r = sprof_tu_scan(source, &includes, &defined);

		cpgo_sha256_update(&s, source, strlen(source) + 1);
		for (size_t i = 0; i < includes.n; i++)
			cpgo_sha256_update(&s, includes.v[i], strlen(includes.v[i]) + 1);
		cpgo_sha256_update(&s, "", 1);
		for (size_t i = 0; i < defined.n; i++)
			cpgo_sha256_update(&s, defined.v[i], strlen(defined.v[i]) + 1);
		cpgo_strvec_release(&defined);
		cpgo_strvec_release(&includes);
		if (r < 0)
			goto cleanup;
	}
	cpgo_sha256_update(&s, sha, sizeof(sha));
	cpgo_sha256_final(&s, key);
	cpgo_hex(key, 32, key_hex);

	if (cpgo_buf_addf(&dir, "%s/%s", cache_dir, conv->dir) < 0 ||
	    cpgo_buf_addf(&pp->cached, "%s/%s.prof", dir.buf, key_hex) < 0)
		goto cleanup;
	if (!stat(pp->cached.buf, &st) && S_ISREG(st.st_mode) && cached_ok(conv, pp)) {
		pp->converted = 0;
		pp->empty = st.st_size == 0;
	} else {
		/* What every TU of this profile shares: keyed by converter and content only. */
		cpgo_sha256_init(&s);
		cpgo_sha256_update(&s, conv->id, strlen(conv->id) + 1);
		cpgo_sha256_update(&s, sha, sizeof(sha));
		cpgo_sha256_final(&s, key);
		cpgo_hex(key, 32, key_hex);
		if (cpgo_cc_mkdir_p(dir.buf) < 0 || cpgo_buf_addf(&whole, "%s/%s", dir.buf, key_hex) < 0)
			goto cleanup;
		if (conv->convert(data.buf, data.len, profile, source, whole.buf, &out, conv->ctx) < 0) {
			add_hint(hint);
			goto cleanup;
		}
		/* What cpgo wrote must pass the same check as what it reads back. */
		if (conv->check && conv->check(out.buf, out.len, profile) < 0)
			goto cleanup;
		if (cpgo_cc_mkdir_p(dir.buf) < 0 ||
		    cpgo_write_file_atomic(pp->cached.buf, out.buf, out.len) < 0)
			goto cleanup;
		pp->converted = 1;
		pp->empty = out.len == 0;
	}
	if (write_note_header(sha, profile, cache_dir, pp) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&data);
	cpgo_buf_release(&out);
	cpgo_buf_release(&dir);
	cpgo_buf_release(&whole);
	return ret;
}
