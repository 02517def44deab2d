/*
 * The dlclose() wrapper (exported by libcpgo.so, see libcpgo.map): the
 * samples taken in an object that dlclose unmaps are put aside before
 * another object can be loaded at its address (collector_retire).
 * dlopen is not wrapped: glibc finds the caller's RUNPATH and $ORIGIN from
 * dlopen's return address, which a wrapper would change. The drain thread
 * notices new objects instead (cfitab_sync).
 */
#include "collector.h"
#include "cpgo.h"
#include "procmaps.h"
#include "sampler.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef int (*dlclose_fn)(void *);

/* One dlclose through the wrapper at a time: the before/after lists must pair up. */
static pthread_mutex_t dlwatch_lock = PTHREAD_MUTEX_INITIALIZER;

static int still_mapped(const struct procmaps_file *f, const struct procmaps_file *now, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (now[i].start == f->start && now[i].limit == f->limit &&
		    now[i].offset == f->offset && !strcmp(now[i].path, f->path))
			return 1;
	return 0;
}

CPGO_API int dlclose(void *handle)
{
	static dlclose_fn real;
	struct procmaps_file *before = NULL, *after = NULL, *gone = NULL;
	size_t n_before = 0, n_after = 0, n_gone = 0;
	int rc;

	if (!real && !(real = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose")))
		return -1;
	if (!sampler_running() || !collector_active())
		return real(handle);
	pthread_mutex_lock(&dlwatch_lock);
	if (procmaps_files(&before, &n_before) < 0)
		n_before = 0;
	collector_retire_begin();
	rc = real(handle);
	if (n_before && procmaps_files(&after, &n_after) == 0 &&
	    (gone = calloc(n_before, sizeof(*gone)))) {
		for (size_t i = 0; i < n_before; i++)
			if (!still_mapped(&before[i], after, n_after))
				gone[n_gone++] = before[i];
	}
	collector_retire(gone, n_gone);
	free(gone);
	procmaps_files_free(after, n_after);
	procmaps_files_free(before, n_before);
	pthread_mutex_unlock(&dlwatch_lock);
	return rc;
}
