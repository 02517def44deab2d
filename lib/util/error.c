#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static __thread char last_error[1024];

int verror(const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	return -1;
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int saved = errno;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error("%s: %s", msg, strerror(saved));
}

int error_prefix(const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error, sizeof(old));
	return error("%s: %s", prefix, old);
}

const char *cpgo_last_error(void)
{
	return last_error[0] ? last_error : "unknown error";
}

void cpgo_clear_error(void)
{
	last_error[0] = '\0';
}
