#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "elf/elfnote.h"
#include "util/error.h"

static const char usage[] =
	"usage: cpgo version [BINARY...]\n\n"
	"Without arguments, prints cpgo's version. With binaries (programs, shared\n"
	"libraries or objects), prints which profile built each one, from the ELF\n"
	"note 'cpgo cc' records (like 'go version -m'):\n"
	"  BINARY: built with profile SHA256 (NAME)   one line per distinct profile\n"
	"  BINARY: no profile\n"
	"SHA256 is the profile file's hash: compare it with 'sha256sum default.pgo'.\n";

int cmd_version(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ret = 0, c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h')
			return usage_help(usage);
		return usage_option_error("version", c, argv, longopts);
	}
	if (optind >= argc) {
		printf("cpgo version %s\n", CPGO_VERSION);
		return 0;
	}
	for (int i = optind; i < argc; i++) {
		struct elfnote_profile *p;
		size_t n;

		if (elfnote_read(argv[i], &p, &n) < 0) {
			ret = die_lib("version");
			continue;
		}
		if (!n)
			printf("%s: no profile\n", argv[i]);
		for (size_t k = 0; k < n; k++)
			printf("%s: built with profile %s (%s)\n", argv[i], p[k].sha256, p[k].name);
		elfnote_free(p, n);
	}
	return ret;
}
