/*
 * cpgo: profile-guided optimization for C, the Go way.
 * The command table (git.c style): every subcommand lives in builtin/.
 */
#include <stdio.h>
#include <string.h>

#include "builtin/builtin.h"
#include "util/error.h"

struct cmd_struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct cmd_struct commands[] = {
	{ "cc", cmd_cc, "compile C with the profile in default.pgo (drop-in CC)" },
	{ "check", cmd_check, "show how much of a profile still matches a binary's code" },
	{ "convert", cmd_convert, "turn a pprof profile into a compiler's profile format" },
	{ "diff", cmd_diff, "compare two profiles per function (what a release changed)" },
	{ "help", cmd_help, "show help for cpgo or a subcommand" },
	{ "import", cmd_import, "turn a perf or gperftools profile into a pprof profile for PGO" },
	{ "layout", cmd_layout, "print the call graph and function order for the linker" },
	{ "merge", cmd_merge, "merge pprof profiles (weighted, duration-normalized)" },
	{ "record", cmd_record, "profile a program run and write a pprof profile" },
	{ "rename", cmd_rename, "rename functions and files in a profile after a refactoring" },
	{ "top", cmd_top, "show the functions that use the most CPU" },
	{ "validate", cmd_validate, "check that a profile can drive PGO" },
	{ "version", cmd_version, "show cpgo's version, or which profile built a binary" },
};

static void list_commands(FILE *f)
{
	fprintf(f, "usage: cpgo <command> [<args>]\n\n"
		   "cpgo brings Go-style profile-guided optimization to C:\n"
		   "profile with libcpgo, commit default.pgo, build with 'cpgo cc'.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "   %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee 'cpgo <command> --help' for a command's options.\n");
}

static const struct cmd_struct *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int cmd_help(int argc, char **argv)
{
	const struct cmd_struct *c;
	char *hargv[] = { NULL, "--help", NULL };

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		list_commands(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c || c->fn == cmd_help)
		return usage_error("help", "'%s' is not a cpgo command", argv[1]);
	hargv[0] = argv[1];
	return c->fn(2, hargv);
}

int main(int argc, char **argv)
{
	const struct cmd_struct *c;
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	/*
	 * Installed as cpgo-cc (a link to cpgo), it is `cpgo cc`: for tools that
	 * take one program, such as ccache's CCACHE_PREFIX, which looks each of
	 * its words up on PATH and so would turn "cpgo cc" into cpgo /usr/bin/cc.
	 */
	if (!strcmp(self, "cpgo-cc")) {
		argv[0] = "cc";
		return find_command("cc")->fn(argc, argv);
	}
	if (argc < 2) {
		list_commands(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "cpgo: '%s' is not a cpgo command. See 'cpgo help'.\n", argv[1]);
		return 2;
	}
	return c->fn(argc - 1, argv + 1);
}
