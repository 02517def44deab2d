/*
 * libcpgo's public API (include/cpgo.h), the CPGO_* environment, fork
 * handling and the pthread_create wrapper that lets new threads register.
 */
#include "cpgo.h"

#include "util/buf.h"
#include "collector.h"
#include "util/error.h"
#include "rthttp.h"
#include "rtenv.h"
#include "sampler.h"

#include <alloca.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static struct {
	pthread_mutex_t lock;
	struct collector_session *api; /* cpgo_start() */
	struct collector_session *env; /* CPGO_PROFILE */
	char *env_pattern;             /* CPGO_PROFILE as given */
	char *env_path;                /* expanded for this process */
	int env_hz;
	pthread_key_t key;
	int key_ok;
} A = { .lock = PTHREAD_MUTEX_INITIALIZER };

int rtenv_config(struct sampler_config *cfg, int hz)
{
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	if (hz == 0) {
		v = getenv("CPGO_HZ");
		hz = 100;
		if (v && *v && rtenv_parse_int(v, 1, SAMPLER_MAX_HZ, &hz) < 0)
			return error("CPGO_HZ=%s: not a rate in 1..%d samples per second", v,
				     SAMPLER_MAX_HZ);
	}
	cfg->hz = hz;
	v = getenv("CPGO_TIMER");
	if (!v || !*v || !strcmp(v, "auto"))
		cfg->timer = SAMPLER_TIMER_AUTO;
	else if (!strcmp(v, "perf"))
		cfg->timer = SAMPLER_TIMER_PERF;
	else if (!strcmp(v, "posix"))
		cfg->timer = SAMPLER_TIMER_POSIX;
	else
		return error("CPGO_TIMER=%s: use auto, perf or posix", v);
	/*
	 * Frame pointers by default: libunwind looks up unwind tables with
	 * dl_iterate_phdr() in the handler, whose loader lock can deadlock
	 * against a thread in dlopen() that waits for a lock we interrupted.
	 */
	v = getenv("CPGO_UNWIND");
	if (!v || !*v || !strcmp(v, "fp"))
		cfg->unwind = SAMPLER_UNWIND_FP;
	else if (!strcmp(v, "auto"))
		cfg->unwind = SAMPLER_UNWIND_AUTO;
	else if (!strcmp(v, "libunwind"))
		cfg->unwind = SAMPLER_UNWIND_LIBUNWIND;
	else
		return error("CPGO_UNWIND=%s: use auto, fp or libunwind", v);
	v = getenv("CPGO_SIGNAL");
	if (v && *v && rtenv_parse_int(v, 1, 64, &cfg->signo) < 0)
		return error("CPGO_SIGNAL=%s: not a signal number", v);
	return 0;
}

int rtenv_parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

int rtenv_expand_path(const char *pattern, int pid, struct cpgo_buf *out)
{
	for (const char *p = pattern; *p; p++) {
		int r;
		if (p[0] == '%' && p[1] == 'p') {
			r = cpgo_buf_addf(out, "%d", pid);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			r = cpgo_buf_add(out, "%", 1);
			p++;
		} else {
			r = cpgo_buf_add(out, p, 1);
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

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
	if (hz < 0 || hz > SAMPLER_MAX_HZ) {
		error("cpgo_start: rate %d Hz is out of range (0..%d)", hz, SAMPLER_MAX_HZ);
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
	uint64_t lost = 0;

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
	for (size_t i = 0; i < p.n_comment; i++) {
		const char *c = cpgo_profile_str(&p, p.comments[i]);
		if (!strncmp(c, "cpgo: lost ", 11))
			lost = strtoull(c + 11, NULL, 10);
	}
	if (cpgo_profile_write(&p, A.env_path) < 0)
		fprintf(stderr, "cpgo: profile not written: %s\n", cpgo_last_error());
	else if (lost)
		fprintf(stderr, "cpgo: %s: %llu samples were lost (sample buffer full); "
			"lower CPGO_HZ\n", A.env_path, (unsigned long long)lost);
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

/* ---- threads ---- */

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
				 void *);

struct start_args {
	void *(*fn)(void *);
	void *arg;
	int internal;
};

static void thread_exit_cb(void *v)
{
	(void)v;
	sampler_thread_unregister();
}

static void *start_trampoline(void *p)
{
	struct start_args a = *(struct start_args *)p;
	int signo;

	free(p);
	sampler_thread_set_internal(a.internal);
	signo = sampler_signal();
	if (signo && !a.internal) {
		/* Threads inherit their creator's mask; a profiler signal must get through. */
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, signo);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	}
	if (A.key_ok)
		pthread_setspecific(A.key, (void *)1);
	sampler_thread_register();
	return a.fn(a.arg);
}

static pthread_create_fn real_create(void)
{
	static pthread_create_fn fn;
	if (!fn) {
		/* Under ASan its interceptor must still see every thread. */
		fn = (pthread_create_fn)dlsym(RTLD_DEFAULT, "__interceptor_pthread_create");
		if (!fn)
			fn = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
	}
	return fn;
}

CPGO_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			    void *(*start)(void *), void *arg)
{
	pthread_create_fn real = real_create();
	struct start_args *a;
	int rc;

	if (!real)
		return EAGAIN;
	a = malloc(sizeof(*a));
	if (!a)
		return real(thread, attr, start, arg);
	a->fn = start;
	a->arg = arg;
	a->internal = sampler_thread_is_internal();
	rc = real(thread, attr, start_trampoline, a);
	if (rc)
		free(a);
	return rc;
}

/* ---- exec: the new image must not inherit a pending profiling signal ---- */

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

static int exec_with(int fd, const char *path, char *const argv[], char *const envp[], int search)
{
	execve_fn ve = REAL("execve", execve_fn);
	execvpe_fn vpe = REAL("execvpe", execvpe_fn);
	fexecve_fn fve = REAL("fexecve", fexecve_fn);
	int paused, ret, e;

	if (!ve || !vpe || !fve) {
		errno = ENOSYS;
		return -1;
	}
	paused = sampler_exec_prepare();
	if (fd >= 0)
		ret = fve(fd, argv, envp);
	else if (search)
		ret = vpe(path, argv, envp);
	else
		ret = ve(path, argv, envp);
	e = errno;
	sampler_exec_failed(paused);
	errno = e;
	return ret;
}

CPGO_API int execve(const char *path, char *const argv[], char *const envp[])
{
	return exec_with(-1, path, argv, envp, 0);
}

CPGO_API int execv(const char *path, char *const argv[])
{
	return exec_with(-1, path, argv, environ, 0);
}

CPGO_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return exec_with(-1, file, argv, envp, 1);
}

CPGO_API int execvp(const char *file, char *const argv[])
{
	return exec_with(-1, file, argv, environ, 1);
}

CPGO_API int fexecve(int fd, char *const argv[], char *const envp[])
{
	return exec_with(fd, NULL, argv, envp, 0);
}

/* execl*(): collect the variadic arguments, as glibc does, on the stack. */
#define COLLECT_ARGS(arg0, ap, argv, extra)                                    \
	do {                                                                   \
		va_list ap2;                                                   \
		size_t n_ = 1;                                                 \
		va_copy(ap2, ap);                                              \
		while (va_arg(ap2, char *))                                    \
			n_++;                                                  \
		va_end(ap2);                                                   \
		argv = alloca((n_ + 1) * sizeof(char *));                      \
		argv[0] = (char *)(arg0);                                      \
		for (size_t i_ = 1; i_ <= n_; i_++)                            \
			argv[i_] = va_arg(ap, char *);                         \
		extra;                                                         \
	} while (0)

CPGO_API int execl(const char *path, const char *arg, ...)
{
	char **argv;
	va_list ap;

	va_start(ap, arg);
	COLLECT_ARGS(arg, ap, argv, (void)0);
	va_end(ap);
	return exec_with(-1, path, argv, environ, 0);
}

CPGO_API int execlp(const char *file, const char *arg, ...)
{
	char **argv;
	va_list ap;

	va_start(ap, arg);
	COLLECT_ARGS(arg, ap, argv, (void)0);
	va_end(ap);
	return exec_with(-1, file, argv, environ, 1);
}

CPGO_API int execle(const char *path, const char *arg, ...)
{
	char **argv, **envp;
	va_list ap;

	va_start(ap, arg);
	COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char **));
	va_end(ap);
	return exec_with(-1, path, argv, envp, 0);
}

/* ---- start-up ---- */

__attribute__((constructor)) static void cpgo_init(void)
{
	const char *v = getenv("CPGO_PROFILE"), *ppid = getenv("CPGO_PROFILE_PPID"), *http;
	int profile = v && *v;

	A.key_ok = pthread_key_create(&A.key, thread_exit_cb) == 0;
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
