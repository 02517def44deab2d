/* tl SCRIPT [ARG]: runs SCRIPT with the global `arg` set to ARG (an int
 * if it parses as one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fatal("%s: cannot open", path);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf)
			fatal("out of memory");
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (ferror(f))
		fatal("%s: read error", path);
	fclose(f);
	buf[n] = 0;
	if (strlen(buf) != n)
		fatal("%s: contains a NUL byte", path);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: tl SCRIPT [ARG]\n");
		return 2;
	}
	char *src = read_file(argv[1]);
	vm_init();
	struct tl_proto *p = compile(argv[1], src);
	vm_set_arg(argc == 3 ? argv[2] : NULL);
	vm_run(p);
	fflush(stdout);
	gc_free_all();
	free(src);
	return ferror(stdout) ? 1 : 0;
}
