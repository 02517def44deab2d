#ifndef CPGO_BUILTIN_H
#define CPGO_BUILTIN_H

/*
 * One file per subcommand (git's builtin/). Each cmd_* gets argv with
 * argv[0] = the subcommand name and returns the process exit status.
 * Only builtin/ prints to the user and decides exit codes.
 */

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_cc(int argc, char **argv);
int cmd_layout(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_import(int argc, char **argv);

/*
 * builtin/usage.c: what every subcommand prints. Options are parsed with
 * getopt_long, its optstring starting with ':' (after '+' or '-') so that
 * errors come here, worded one way.
 */
struct option;
/* Prints "cpgo <cmd>: <last library error>" to stderr; returns 1. */
int die_lib(const char *cmd);
/* Prints "cpgo <cmd>: message" to stderr; returns 1. */
int report(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "cpgo <cmd>: message" and the "See 'cpgo <cmd> --help'" hint; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a command's usage text to stdout (for --help); returns 0. */
int usage_help(const char *usage);
/* The usage error for the option getopt_long refused with '?' or ':' (c); returns 2. */
int usage_option_error(const char *cmd, int c, char **argv, const struct option *longopts);
/* A count option's value: 0..100000000; -1 when it is not one. */
int parse_count_arg(const char *s, long *out);

#endif
