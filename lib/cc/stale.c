/*
 * The stale-profile warning of cpgo cc (cc/stale.h). The per-directory log
 * takes one short line per compile through O_APPEND, which concurrent jobs
 * of `make -j` may write at once without tearing lines; the stamp is
 * created with O_EXCL so exactly one of them prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cc/cache.h"
#include "cc/stale.h"
#include "elf/check.h"
#include "elf/objfuncs.h"
#include "pprof/profile.h"
#include "util/error.h"
#include "util/hash.h"

/* Past this the log is rewritten with one line per source. */
#define LOG_COMPACT_BYTES (256u * 1024)
#define SUMMARY_LIMIT (256u * 1024 * 1024)
#define PROFILE_LIMIT (1024u * 1024 * 1024)

void cpgo_cc_stale_init(struct cpgo_cc_stale *s)
{
	memset(s, 0, sizeof(*s));
	cpgo_buf_init(&s->log);
	cpgo_buf_init(&s->stamp);
	cpgo_buf_init(&s->summary);
}

void cpgo_cc_stale_release(struct cpgo_cc_stale *s)
{
	cpgo_buf_release(&s->log);
	cpgo_buf_release(&s->stamp);
	cpgo_buf_release(&s->summary);
}

int cpgo_cc_stale_begin(struct cpgo_cc_stale *s, const char *cache_dir, const char *profile_sha,
			const char *build_dir, const char *env)
{
	struct cpgo_sha256 h;
	unsigned char key[32];
	char hex[65];
	struct stat st;
	char *end;

	s->min_match = CPGO_CC_STALE_MIN_MATCH;
	if (env && *env) {
		double v = strtod(env, &end);
		if (!*end && v >= 0 && v <= 100)
			s->min_match = v;
	}
	if (s->min_match <= 0)
		return 0;
	cpgo_sha256_init(&h);
	cpgo_sha256_update(&h, profile_sha, strlen(profile_sha) + 1);
	cpgo_sha256_update(&h, build_dir, strlen(build_dir));
	cpgo_sha256_final(&h, key);
	cpgo_hex(key, 16, hex);
	if (cpgo_buf_addf(&s->log, "%s/stale/%s.log", cache_dir, hex) < 0 ||
	    cpgo_buf_addf(&s->stamp, "%s/stale/%s.warned", cache_dir, hex) < 0 ||
	    cpgo_buf_addf(&s->summary, "%s/match/%s.txt", cache_dir, profile_sha) < 0)
		return -1;
	return stat(s->stamp.buf, &st) < 0;
}

/* The summary of the profile, made and cached on the first use. */
static int load_summary(struct cpgo_cc_stale *s, const char *profile, struct cpgo_buf *out)
{
	struct cpgo_buf data = CPGO_BUF_INIT, dir = CPGO_BUF_INIT;
	struct cpgo_profile p;
	int vi, ret = -1, have_p = 0;
	char *slash;

	if (!access(s->summary.buf, F_OK))
		return cpgo_read_file(s->summary.buf, out, SUMMARY_LIMIT);
	if (cpgo_read_file(profile, &data, PROFILE_LIMIT) < 0 ||
	    cpgo_profile_parse(&p, data.buf, data.len, profile, NULL) < 0)
		goto cleanup;
	have_p = 1;
	if ((vi = cpgo_profile_cpu_index(&p, profile)) < 0 ||
	    cpgo_check_summarize(&p, vi, out) < 0 || cpgo_buf_adds(&dir, s->summary.buf) < 0)
		goto cleanup;
	if ((slash = strrchr(dir.buf, '/')))
		*slash = '\0';
	if (cpgo_cc_mkdir_p(dir.buf) < 0 ||
	    cpgo_write_file_atomic(s->summary.buf, out->buf, out->len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	if (have_p)
		cpgo_profile_release(&p);
	cpgo_buf_release(&data);
	cpgo_buf_release(&dir);
	return ret;
}

struct log_ent {
	unsigned long long tu;
	long long total, matched;
	size_t pos;
};

static int cmp_ent(const void *pa, const void *pb)
{
	const struct log_ent *a = pa, *b = pb;
	if (a->tu != b->tu)
		return a->tu < b->tu ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The latest line of each source, sorted by source; returns the count. */
static size_t read_log(const struct cpgo_buf *b, struct log_ent **out)
{
	struct log_ent *e = NULL;
	size_t n = 0, alloc = 0, k = 0;
	const char *s = b->buf, *end = b->buf + b->len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		struct log_ent x;
		if (!nl)
			break; /* a line still being written */
		if (sscanf(s, "%llx %lld %lld", &x.tu, &x.total, &x.matched) == 3 &&
		    x.total >= x.matched && x.matched >= 0 && !CPGO_GROW(e, alloc, n + 1)) {
			x.pos = n;
			e[n++] = x;
		}
		s = nl + 1;
	}
	if (n)
		qsort(e, n, sizeof(*e), cmp_ent);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && e[i + 1].tu == e[i].tu)
			continue;
		e[k++] = e[i];
	}
	*out = e;
	return k;
}

static int append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	size_t len = strlen(line);
	ssize_t w;

	if (fd < 0)
		return error_errno("%s: cannot open", path);
	w = write(fd, line, len);
	close(fd);
	return w == (ssize_t)len ? 0 : error("%s: short write", path);
}

static void compact_log(const char *path, const struct log_ent *e, size_t n)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		cpgo_buf_addf(&b, "%016llx %lld %lld\n", e[i].tu, e[i].total, e[i].matched);
	/* Lines appended meanwhile are lost: their sources add them again next time. */
	cpgo_write_file_atomic(path, b.buf ? b.buf : "", b.len);
	cpgo_buf_release(&b);
}

int cpgo_cc_stale_after(struct cpgo_cc_stale *s, const char *profile, const char *source,
			const char *object, const char *build_dir, struct cpgo_buf *msg)
{
	struct cpgo_buf sum = CPGO_BUF_INIT, log = CPGO_BUF_INIT, dir = CPGO_BUF_INIT;
	struct cpgo_objfuncs obj;
	struct cpgo_check_tu tu;
	struct log_ent *e = NULL;
	char line[96], *abs = NULL, *slash;
	long long lost = 0;
	double bound;
	size_t n;
	int fd, ret = -1, have_obj = 0;

	if (load_summary(s, profile, &sum) < 0 || cpgo_objfuncs_read(object, &obj) < 0)
		goto cleanup;
	have_obj = 1;
	if (cpgo_check_tu_match(sum.buf, sum.len, &obj, source, &tu) < 0)
		goto cleanup;
	ret = 0;
	if (!tu.total || tu.profile_total <= 0)
		goto cleanup; /* the profile has nothing of this file */
	abs = realpath(source, NULL);
	snprintf(line, sizeof(line), "%016llx %lld %lld\n",
		 (unsigned long long)cpgo_hash_fin(cpgo_hash_str(CPGO_HASH_SEED, abs ? abs : source)),
		 (long long)tu.total, (long long)tu.matched);
	ret = -1;
	if (cpgo_buf_adds(&dir, s->log.buf) < 0)
		goto cleanup;
	if ((slash = strrchr(dir.buf, '/')))
		*slash = '\0';
	if (cpgo_cc_mkdir_p(dir.buf) < 0 || append_line(s->log.buf, line) < 0 ||
	    cpgo_read_file(s->log.buf, &log, SUMMARY_LIMIT) < 0)
		goto cleanup;
	n = read_log(&log, &e);
	for (size_t i = 0; i < n; i++)
		lost += e[i].total - e[i].matched;
	if (log.len > LOG_COMPACT_BYTES)
		compact_log(s->log.buf, e, n);
	ret = 0;
	bound = 100.0 * (double)(tu.profile_total - lost) / (double)tu.profile_total;
	if (bound >= s->min_match)
		goto cleanup;
	fd = open(s->stamp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		goto cleanup; /* another compile of this build said it */
	close(fd);
	cpgo_buf_addf(msg, "cpgo cc: warning: %s is stale: at most %.0f%% of its samples match "
		      "the code built in %s (under %g%%", profile, bound, build_dir, s->min_match);
	if (tu.worst_lost)
		cpgo_buf_addf(msg, "; %s in %s lost %.0f%%", tu.worst, source,
			      100.0 * (double)tu.worst_lost / (double)tu.profile_total);
	cpgo_buf_addf(msg, "); run 'cpgo check %s SOURCES...' and record a fresh profile "
		      "(CPGO_MIN_MATCH=0 turns this off)", profile);
	ret = 1;
cleanup:
	if (have_obj)
		cpgo_objfuncs_release(&obj);
	free(e);
	free(abs);
	cpgo_buf_release(&sum);
	cpgo_buf_release(&log);
	cpgo_buf_release(&dir);
	return ret;
}
