#ifndef CPGO_ERROR_H
#define CPGO_ERROR_H

/*
 * Library error reporting, git style: code says `return error("...")`.
 * Library code never prints; it records the message in a thread-local
 * buffer that builtin/ prints (cpgo_last_error) before it exits.
 */

#include <stdarg.h>

#if defined(__GNUC__)
#define CPGO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CPGO_PRINTF(a, b)
#endif

/*
 * The symbols carry the cpgo_ prefix: this library is linked into host
 * programs, and a global `error` would interpose glibc's error(3) there.
 */
/* Records the message and returns -1. */
int cpgo_error(const char *fmt, ...) CPGO_PRINTF(1, 2);
int cpgo_verror(const char *fmt, va_list ap);
/* Like error() but appends ": strerror(errno)". */
int cpgo_error_errno(const char *fmt, ...) CPGO_PRINTF(1, 2);
/* Prefixes the recorded message with "prefix: " (e.g. the file name) and returns -1. */
int cpgo_error_prefix(const char *fmt, ...) CPGO_PRINTF(1, 2);

#define error cpgo_error
#define verror cpgo_verror
#define error_errno cpgo_error_errno
#define error_prefix cpgo_error_prefix

const char *cpgo_last_error(void);
void cpgo_clear_error(void);

#endif
