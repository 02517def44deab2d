#ifndef CPGO_STRVEC_H
#define CPGO_STRVEC_H

/*
 * A NULL-terminated array of owned strings (git's strvec), for building
 * the argv and environment of a command. `v` is never NULL, so it can be
 * passed to exec or posix_spawn as it is, even when empty.
 */

#include <stddef.h>

struct cpgo_strvec {
	char **v;
	size_t n, alloc;
};

extern char *cpgo_strvec_empty[];
#define CPGO_STRVEC_INIT { cpgo_strvec_empty, 0, 0 }

void cpgo_strvec_init(struct cpgo_strvec *sv);
void cpgo_strvec_release(struct cpgo_strvec *sv);
/* Appends a copy of `s`; -1 (error set) when out of memory. */
int cpgo_strvec_push(struct cpgo_strvec *sv, const char *s);
int cpgo_strvec_pushf(struct cpgo_strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends copies of the `n` strings of `v`. */
int cpgo_strvec_pushv(struct cpgo_strvec *sv, char *const *v, size_t n);
/* Removes the last string. */
void cpgo_strvec_pop(struct cpgo_strvec *sv);

#endif
