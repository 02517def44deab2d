#include "util/strvec.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cpgo_strvec_empty[] = { NULL };

void cpgo_strvec_init(struct cpgo_strvec *sv)
{
	sv->v = cpgo_strvec_empty;
	sv->n = sv->alloc = 0;
}

void cpgo_strvec_release(struct cpgo_strvec *sv)
{
	if (sv->alloc) {
		for (size_t i = 0; i < sv->n; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	cpgo_strvec_init(sv);
}

/* Takes ownership of `s` (freed on failure). */
static int push_owned(struct cpgo_strvec *sv, char *s)
{
	if (!s)
		return error("out of memory");
	if (!sv->alloc)
		sv->v = NULL;
	if (CPGO_GROW(sv->v, sv->alloc, sv->n + 2) < 0) {
		if (!sv->v)
			sv->v = cpgo_strvec_empty;
		free(s);
		return -1;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return 0;
}

int cpgo_strvec_push(struct cpgo_strvec *sv, const char *s)
{
	return push_owned(sv, strdup(s));
}

int cpgo_strvec_pushf(struct cpgo_strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return push_owned(sv, n < 0 ? NULL : s);
}

int cpgo_strvec_pushv(struct cpgo_strvec *sv, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cpgo_strvec_push(sv, v[i]) < 0)
			return -1;
	return 0;
}

void cpgo_strvec_pop(struct cpgo_strvec *sv)
{
	if (!sv->n)
		return;
	free(sv->v[--sv->n]);
	sv->v[sv->n] = NULL;
}
