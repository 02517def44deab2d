/*
 * libcpgo's environment (see rtenv.h).
 */
#include "rtenv.h"

#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int rtenv_config(struct sampler_config *cfg, int hz)
{
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	if (hz == 0) {
		v = getenv("CPGO_HZ");
		hz = 100;
		if (v && *v && rtenv_parse_int(v, 1, CPGO_MAX_HZ, &hz) < 0)
			return error("CPGO_HZ=%s: not a rate in 1..%d samples per second", v,
				     CPGO_MAX_HZ);
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
	 * Not libunwind by default: it looks up unwind tables with
	 * dl_iterate_phdr() in the handler, whose loader lock can deadlock
	 * against a thread in dlopen() that waits for a lock we interrupted.
	 * The CFI tables are built outside the handler.
	 */
	v = getenv("CPGO_UNWIND");
	if (!v || !*v || !strcmp(v, "tables"))
		cfg->unwind = SAMPLER_UNWIND_TABLES;
	else if (!strcmp(v, "fp"))
		cfg->unwind = SAMPLER_UNWIND_FP;
	else if (!strcmp(v, "cfi"))
		cfg->unwind = SAMPLER_UNWIND_CFI;
	else if (!strcmp(v, "auto"))
		cfg->unwind = SAMPLER_UNWIND_AUTO;
	else if (!strcmp(v, "libunwind"))
		cfg->unwind = SAMPLER_UNWIND_LIBUNWIND;
	else
		return error("CPGO_UNWIND=%s: use tables, fp, cfi, auto or libunwind", v);
	v = getenv("CPGO_MODE");
	if (!v || !*v || !strcmp(v, "auto"))
		cfg->mode = SAMPLER_MODE_AUTO;
	else if (!strcmp(v, "ring"))
		cfg->mode = SAMPLER_MODE_RING;
	else if (!strcmp(v, "signal"))
		cfg->mode = SAMPLER_MODE_SIGNAL;
	else
		return error("CPGO_MODE=%s: use auto, ring or signal", v);
	v = getenv("CPGO_STACK_BYTES");
	if (v && *v) {
		if (rtenv_parse_int(v, 512, 65000, &cfg->stack_bytes) < 0)
			return error("CPGO_STACK_BYTES=%s: a number of bytes from 512 to 65000", v);
		/* The kernel copies the stack in 8-byte words. */
		cfg->stack_bytes &= ~7;
	}
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
