#ifndef CPGO_RTENV_H
#define CPGO_RTENV_H

/*
 * libcpgo's environment: CPGO_HZ, CPGO_MODE, CPGO_TIMER, CPGO_UNWIND, CPGO_SIGNAL and
 * CPGO_PROFILE's %p. Prefix: rtenv_.
 */

#include "util/buf.h"
#include "sampler.h"

/* Fills cfg from the environment; hz != 0 overrides CPGO_HZ. Errors name the variable. */
int rtenv_config(struct sampler_config *cfg, int hz);
/* A whole decimal number in [min, max]; -1 otherwise (no error set). */
int rtenv_parse_int(const char *s, int min, int max, int *out);
/* Appends pattern with "%p" -> pid and "%%" -> "%". */
int rtenv_expand_path(const char *pattern, int pid, struct cpgo_buf *out);

#endif
