/*
 * What every subcommand prints for help and for errors, and the one way
 * they refuse an option (after getopt_long). Builtins use only this, never
 * cpgo.c, which only holds the command table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "util/error.h"

int die_lib(const char *cmd)
{
	fprintf(stderr, "cpgo %s: %s\n", cmd, cpgo_last_error());
	return 1;
}

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "cpgo %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int report(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return 1;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "See 'cpgo %s --help'.\n", cmd);
	return 2;
}

int usage_help(const char *usage)
{
	fputs(usage, stdout);
	return fflush(stdout) ? 1 : 0;
}

int usage_option_error(const char *cmd, int c, char **argv, const struct option *longopts)
{
	const char *arg = argv[optind - 1];
	size_t n;

	/* A short option may sit in a cluster (-qx); getopt names it in optopt. */
	if (strncmp(arg, "--", 2) && optopt)
		return usage_error(cmd, c == ':' ? "option '-%c' needs a value" :
				   "unknown option '-%c'", optopt);
	if (c == ':')
		return usage_error(cmd, "option '%s' needs a value", arg);
	n = strcspn(arg + 2, "=");
	for (; arg[2 + n] == '=' && longopts && longopts->name; longopts++)
		if (strlen(longopts->name) == n && !strncmp(longopts->name, arg + 2, n) &&
		    longopts->has_arg == no_argument)
			return usage_error(cmd, "option '--%s' takes no value", longopts->name);
	return usage_error(cmd, "unknown option '%s'", arg);
}

int parse_count_arg(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 100000000)
		return -1;
	*out = v;
	return 0;
}
