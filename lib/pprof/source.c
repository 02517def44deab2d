/*
 * Profile sources (pprof/source.h): files and standard input through the
 * codec, URLs through libcurl into memory, then the same parser.
 *
 * libcurl is loaded with dlopen on the first URL, not linked: it pulls in
 * some thirty shared libraries (TLS, Kerberos, LDAP, ...), and loading them
 * made every `cpgo cc` run, once per compiled file, four times slower to
 * start (8.7 ms against 2.1 ms) for a feature compiles never use.
 */
#include "pprof/source.h"
#include "util/error.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <string.h>

/* The libcurl entry points used, resolved once. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	int ready;
} curl;

static int curl_load(const char *url)
{
	void *h;

	if (curl.ready)
		return 0;
	h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return error("%s: reading a profile from a URL needs libcurl (Debian package "
			     "libcurl4): %s", url, dlerror());
#define CURL_SYM(field, name)                                                              \
	do {                                                                               \
		*(void **)&curl.field = dlsym(h, name);                                    \
		if (!curl.field)                                                           \
			return error("%s: libcurl.so.4 lacks %s; install Debian's libcurl4", \
				     url, name);                                           \
	} while (0)
	CURL_SYM(global_init, "curl_global_init");
	CURL_SYM(easy_init, "curl_easy_init");
	CURL_SYM(easy_setopt, "curl_easy_setopt");
	CURL_SYM(easy_perform, "curl_easy_perform");
	CURL_SYM(easy_getinfo, "curl_easy_getinfo");
	CURL_SYM(easy_strerror, "curl_easy_strerror");
	CURL_SYM(easy_cleanup, "curl_easy_cleanup");
#undef CURL_SYM
	if (curl.global_init(CURL_GLOBAL_DEFAULT))
		return error("%s: cannot initialize libcurl", url);
	curl.ready = 1;
	return 0;
}

struct fetch_ctx {
	struct cpgo_buf *buf;
	size_t limit;
	int too_big, oom;
};

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_ctx *c = arg;
	size_t n = size * nmemb;

	if (n > c->limit - c->buf->len) {
		c->too_big = 1;
		return 0;
	}
	if (cpgo_buf_add(c->buf, data, n) < 0) {
		c->oom = 1;
		return 0;
	}
	return n;
}

int cpgo_source_is_url(const char *src)
{
	return !strncmp(src, "http://", 7) || !strncmp(src, "https://", 8);
}

static int fetch_url(const char *url, struct cpgo_buf *out, size_t limit)
{
	struct fetch_ctx ctx = { out, limit, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode rc;
	long status = 0;
	int ret = -1;

	if (curl_load(url) < 0)
		return -1;
	c = curl.easy_init();
	if (!c)
		return error("%s: cannot initialize libcurl", url);
	curl.easy_setopt(c, CURLOPT_URL, url);
	curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl.easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
	curl.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl.easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(c, CURLOPT_USERAGENT, "cpgo");
	rc = curl.easy_perform(c);
	if (ctx.too_big) {
		error("%s: response is over the limit of %zu bytes", url, limit);
		goto cleanup;
	}
	if (ctx.oom) {
		error("%s: out of memory reading the response", url);
		goto cleanup;
	}
	if (rc != CURLE_OK) {
		error("%s: fetch failed: %s; check the address and that the server is up",
		      url, errbuf[0] ? errbuf : curl.easy_strerror(rc));
		goto cleanup;
	}
	curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		error("%s: server answered HTTP %ld, not a profile; check the path "
		      "(e.g. /debug/pprof/profile?seconds=30)", url, status);
		goto cleanup;
	}
	ret = 0;
cleanup:
	curl.easy_cleanup(c);
	return ret;
}

int cpgo_source_read(struct cpgo_profile *p, const char *src, const struct cpgo_read_opts *opts)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	size_t limit = opts && opts->max_compressed ? opts->max_compressed : CPGO_PROFILE_READ_LIMIT;
	int ret;

	if (!cpgo_source_is_url(src))
		return cpgo_profile_read(p, src, opts);
	memset(p, 0, sizeof(*p));
	if (fetch_url(src, &b, limit) < 0) {
		cpgo_buf_release(&b);
		return -1;
	}
	ret = cpgo_profile_parse(p, b.buf, b.len, src, opts);
	cpgo_buf_release(&b);
	return ret;
}
