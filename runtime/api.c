/*
 * libcpgo's public API (include/cpgo.h), the whole-run CPGO_PROFILE
 * profile, fork handling and the constructor.
 */
#include "cpgo.h"

#include "cfitab.h"
#include "collector.h"
#include "interpose.h"
#include "pprof/meta.h"
#include "rtenv.h"
#include "rthttp.h"
#include "sampler.h"
#include "util/buf.h"
#include "util/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	pthread_mutex_t lock;
	struct collector_session *api; /* cpgo_start() */
	struct collector_session *env; /* CPGO_PROFILE */
	char *env_pattern;             /* CPGO_PROFILE as given */
	char *env_path;                /* expanded for this process */
	int env_hz;
} A = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- public API ---- */

CPGO_API int cpgo_start(int hz)
{
	struct sampler_config cfg;
	int ret = -1;

	pthread_mutex_lock(&A.lock);
	if (A.api) {
		error("cpgo_start: a profile is already running; stop it first");
		goto cleanup;
	}
	if (hz < 0 || hz > CPGO_MAX_HZ) {
		error("cpgo_start: rate %d Hz is out of range (0..%d)", hz, CPGO_MAX_HZ);
		goto cleanup;
	}
	if (rtenv_config(&cfg, hz) < 0 || collector_begin(&A.api, &cfg) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	pthread_mutex_unlock(&A.lock);
	return ret;
}

/* Ends the cpgo_start() session into p (or discards it when p is NULL). */
static int finish_api(struct cpgo_profile *p)
{
	struct collector_session *s;

	pthread_mutex_lock(&A.lock);
	s = A.api;
	A.api = NULL;
	pthread_mutex_unlock(&A.lock);
	if (!s)
		return error("no profile is running: call cpgo_start() first");
	return collector_finish(s, p);
}

CPGO_API int cpgo_stop_to_path(const char *path)
{
	struct cpgo_profile p;
	int ret;

	if (!path || !*path) {
		finish_api(NULL);
		return error("cpgo_stop_to_path: no file name given");
	}
	if (finish_api(&p) < 0)
		return -1;
	ret = cpgo_profile_write(&p, path);
	cpgo_profile_release(&p);
	return ret;
}

static int write_fd(int fd, const char *data, size_t len)
{
	if (cpgo_write_all(fd, data, len) < 0)
		return error_errno("cannot write the profile to fd %d", fd);
	return 0;
}

CPGO_API int cpgo_stop_to_fd(int fd)
{
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct cpgo_profile p;
	int ret = -1;

	if (finish_api(&p) < 0)
		return -1;
	if (cpgo_profile_encode(&p, &out, 1) < 0)
		goto cleanup;
	ret = write_fd(fd, out.buf, out.len);
cleanup:
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
	return ret;
}

CPGO_API int cpgo_stop(void)
{
	return finish_api(NULL);
}

CPGO_API int cpgo_snapshot(void **data, size_t *len)
{
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct cpgo_profile p;
	int ret;

	if (!data || !len)
		return error("cpgo_snapshot: data and len must not be NULL");
	pthread_mutex_lock(&A.lock);
	/* Holding A.lock keeps cpgo_stop*() from freeing the session meanwhile. */
	ret = A.api ? collector_snapshot(A.api, &p)
		    : error("no profile is running: call cpgo_start() first");
	pthread_mutex_unlock(&A.lock);
	if (ret < 0)
		return -1;
	ret = cpgo_profile_encode(&p, &out, 1);
	cpgo_profile_release(&p);
	if (ret < 0) {
		cpgo_buf_release(&out);
		return -1;
	}
	*data = cpgo_buf_detach(&out, len);
	return *data ? 0 : error("out of memory");
}

CPGO_API const char *cpgo_strerror(void)
{
	return cpgo_last_error();
}

/* ---- CPGO_PROFILE: the whole run ---- */

static int env_start(void)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	struct sampler_config cfg;

	if (rtenv_expand_path(A.env_pattern, (int)getpid(), &path) < 0 ||
	    rtenv_config(&cfg, 0) < 0 || collector_begin(&A.env, &cfg) < 0) {
		cpgo_buf_release(&path);
		return -1;
	}
	free(A.env_path);
	A.env_path = cpgo_buf_detach(&path, NULL);
	A.env_hz = cfg.hz;
	return 0;
}

static void env_finish(void)
{
	struct collector_session *s;
	struct cpgo_profile p;
	struct cpgo_meta meta;

	pthread_mutex_lock(&A.lock);
	s = A.env;
	A.env = NULL;
	pthread_mutex_unlock(&A.lock);
	if (!s)
		return;
	if (collector_finish(s, &p) < 0) {
		fprintf(stderr, "cpgo: %s: profile not written: %s\n", A.env_path,
			cpgo_last_error());
		return;
	}
	cpgo_meta_read(&p, &meta);
	if (cpgo_profile_write(&p, A.env_path) < 0)
		fprintf(stderr, "cpgo: profile not written: %s\n", cpgo_last_error());
	else if (meta.lost > 0)
		fprintf(stderr, "cpgo: %s: %lld samples were lost (buffer full: %lld, out of "
			"memory: %lld); lower CPGO_HZ\n", A.env_path, (long long)meta.lost,
			(long long)meta.lost_buffer_full, (long long)meta.lost_out_of_memory);
	cpgo_profile_release(&p);
}

static void cpgo_atexit(void)
{
	sampler_set_exiting();
	rthttp_stop();
	env_finish();
}

/* ---- fork ---- */

static void atfork_prepare(void)
{
	collector_atfork_prepare();
	sampler_atfork_prepare();
}

static void atfork_parent(void)
{
	sampler_atfork_parent();
	collector_atfork_parent();
}

static void atfork_child(void)
{
	const char *v = getenv("CPGO_FORK");
	int had_env = A.env != NULL;

	sampler_atfork_child();
	cfitab_atfork_child();
	collector_atfork_child();
	rthttp_atfork_child();
	pthread_mutex_init(&A.lock, NULL);
	A.api = NULL;
	A.env = NULL;
	if (!had_env || !v || strcmp(v, "1"))
		return;
	/* Without %p the child would overwrite the parent's file: PATH.PID instead. */
	if (!strstr(A.env_pattern, "%p")) {
		struct cpgo_buf pat = CPGO_BUF_INIT;
		if (cpgo_buf_addf(&pat, "%s.%%p", A.env_pattern) < 0)
			return;
		free(A.env_pattern);
		A.env_pattern = cpgo_buf_detach(&pat, NULL);
	}
	if (env_start() < 0)
		fprintf(stderr, "cpgo: CPGO_FORK: not profiling child %d: %s\n", (int)getpid(),
			cpgo_last_error());
}

/* ---- start-up ---- */

__attribute__((constructor)) static void cpgo_init(void)
{
	const char *v = getenv("CPGO_PROFILE"), *ppid = getenv("CPGO_PROFILE_PPID"), *http;
	int profile = v && *v;

	interpose_init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	/*
	 * cpgo record profiles its child (and what it exec()s), not the
	 * grandchildren; it starts the child with posix_spawn, so it names itself.
	 */
	if (profile && ppid && *ppid && atoi(ppid) != (int)getppid())
		profile = 0;
	if (profile) {
		A.env_pattern = strdup(v);
		if (!A.env_pattern || env_start() < 0)
			fprintf(stderr, "cpgo: CPGO_PROFILE=%s: not profiling: %s\n", v,
				cpgo_last_error());
	}
	http = getenv("CPGO_HTTP");
	if (http && *http && rthttp_start(http) < 0)
		fprintf(stderr, "cpgo: CPGO_HTTP=%s: not serving: %s\n", http, cpgo_last_error());
	if (profile || (http && *http))
		atexit(cpgo_atexit);
}
