#include <stdio.h>
#include <string.h>

#include "builtin.h"

static const char usage[] =
	"usage: cpgo version [BINARY...]\n\n"
	"Without arguments, prints cpgo's version. With binaries, prints which\n"
	"profile built each one (the hash 'cpgo cc' recorded in its ELF note).\n";

int cmd_version(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 1) {
		printf("cpgo version %s\n", CPGO_VERSION);
		return 0;
	}
	return report("version", "reading binaries is not built yet");
}
