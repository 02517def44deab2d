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

/* Records the message and returns -1. */
int error(const char *fmt, ...) CPGO_PRINTF(1, 2);
int verror(const char *fmt, va_list ap);
/* Like error() but appends ": strerror(errno)". */
int error_errno(const char *fmt, ...) CPGO_PRINTF(1, 2);
/* Prefixes the recorded message with "prefix: " (e.g. the file name) and returns -1. */
int error_prefix(const char *fmt, ...) CPGO_PRINTF(1, 2);

const char *cpgo_last_error(void);
void cpgo_clear_error(void);

#endif
