/*
 * The interposed calls (see interpose.h): the pthread_create wrapper that
 * lets new threads register, and exec*() wrappers that pause sampling
 * around the exec.
 */
#include "interpose.h"

#include "cpgo.h"
#include "sampler.h"
#include "threads.h"

#include <alloca.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>

extern char **environ;

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
				 void *);

struct start_args {
	void *(*fn)(void *);
	void *arg;
	int internal;
};

static struct {
	pthread_key_t key; /* its destructor unregisters an exiting thread */
	int key_ok;
} I;

static void thread_exit_cb(void *v)
{
	(void)v;
	threads_unregister();
}

void interpose_init(void)
{
	I.key_ok = pthread_key_create(&I.key, thread_exit_cb) == 0;
}

static void *start_trampoline(void *p)
{
	struct start_args a = *(struct start_args *)p;
	int signo;

	free(p);
	threads_set_internal(a.internal);
	signo = sampler_signal();
	if (signo && !a.internal) {
		/* Threads inherit their creator's mask; a profiler signal must get through. */
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, signo);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	}
	if (I.key_ok)
		pthread_setspecific(I.key, (void *)1);
	threads_register();
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

int interpose_real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
				  void *(*start)(void *), void *arg)
{
	pthread_create_fn real = real_create();

	return real ? real(thread, attr, start, arg) : EAGAIN;
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
	a->internal = threads_is_internal();
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
