/* Placeholder until the merge issue lands: fails loudly, never pretends. */
#include "builtin.h"

int cmd_merge(int argc, char **argv)
{
	(void)argc;
	return report(argv[0], "not built yet");
}
