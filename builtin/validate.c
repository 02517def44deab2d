/* Placeholder until the validate issue lands: fails loudly, never pretends. */
#include "builtin.h"

int cmd_validate(int argc, char **argv)
{
	(void)argc;
	return report(argv[0], "not built yet");
}
