#!/usr/bin/env bash
# Symbolization end to end: every instruction of generated programs (clang-19
# with discriminators, gcc-12) agrees with llvm-symbolizer-19 on names, start
# lines, lines, inline order and discriminators; a live process's own
# /proc/self/maps (PIE + shared library) is symbolized through real mappings.
. "$(dirname "$0")/lib.sh"

LIBS=$(cat "$CPGO_BUILD/link-libs")
INC="-I$CPGO_ROOT/lib -I$CPGO_ROOT/include -I$CPGO_BUILD/gen"
# A SANITIZE=1 build's library needs the sanitizer runtimes at link time.
SAN=
if nm "$CPGO_BUILD/libcpgo-test.a" 2>/dev/null | grep -q __asan_report; then
	SAN="-fsanitize=address,undefined"
fi

# Prints, per address on stdin, "name|start_line|line|discriminator" per frame
# (innermost first), then a blank line: llvm-symbolizer --verbose's facts.
cat >frames.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "util/error.h"
#include "elf/symbolize.h"
int main(int argc, char **argv)
{
	struct sym_dso *d;
	struct sym_frame fr[32];
	char line[128];

	if (sym_dso_open(&d, argv[1], NULL) < 0) {
		fprintf(stderr, "%s\n", cpgo_last_error());
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		int n = sym_dso_lookup(d, strtoull(line, NULL, 16), fr, 32);
		if (n < 0)
			return 1;
		if (n == 0)
			printf("??|0|0|0\n");
		for (int i = 0; i < n; i++)
			printf("%s|%lld|%lld|%u\n", fr[i].name, (long long)fr[i].start_line,
			       (long long)fr[i].line, fr[i].discriminator);
		printf("\n");
	}
	sym_dso_close(d);
	return 0;
}
EOF

# A program with nested static inline helpers, loops (discriminators) and switches.
gen_prog() {
	awk 'BEGIN {
		print "#include <stdlib.h>"
		for (h = 0; h < 8; h++)
			printf "static inline unsigned mix%d(unsigned x)\n{\n\tx ^= x >> %d;\n\treturn x * 2654435761u + %d;\n}\n", h, 5 + h, h
		for (h = 0; h < 8; h++)
			printf "static inline unsigned step%d(unsigned a, unsigned b)\n{\n\tif (a & 1)\n\t\treturn mix%d(a + b);\n\treturn mix%d(a) ^ mix%d(b);\n}\n", h, h, (h + 1) % 8, (h + 3) % 8
		for (i = 0; i < 40; i++) {
			printf "__attribute__((noinline)) unsigned f%d(unsigned s, int k)\n{\n\tfor (int j = 0; j < k; j++) {\n", i
			printf "\t\ts = (j & 1) ? step%d(s, j) : mix%d(s) + j;\n\t\tif (s & 8)\n\t\t\ts += step%d(j, s);\n\t}\n", i % 8, (i + 2) % 8, (i + 5) % 8
			printf "\treturn s;\n}\n"
		}
		print "int main(int argc, char **argv)\n{\n\tunsigned s = argc;"
		for (i = 0; i < 40; i++)
			printf "\ts += f%d(s, argc + %d);\n", i, i
		print "\treturn (int)(s & 1);\n}"
	}' >prog.c
}

# llvm-symbolizer --verbose output in frames.c's format. Alignment padding
# between functions is "??" with the line table's last line there; a pprof
# Line needs a Function, so cpgo reports no line: compare names only.
oracle() {
	llvm-symbolizer-19 --verbose --inlines --obj="$1" <addrs | awk '
		function flush() {
			if (name == "??") line = 0
			if (name != "") printf "%s|%d|%d|%d\n", name, start, line, disc
			name = ""
		}
		/^$/ { flush(); print ""; next }
		/^[^ ]/ { flush(); name = $0; start = 0; line = 0; disc = 0; next }
		/^  Function start line:/ { start = $NF }
		/^  Line:/ { line = $NF }
		/^  Discriminator:/ { disc = $NF }
		END { flush() }'
}

instructions() {
	objdump -d --no-show-raw-insn "$1" |
		awk '/^ +[0-9a-f]+:/ { sub(":", "", $1); print "0x" $1 }' >addrs
	test "$(wc -l <addrs)" -gt 500
}

test_expect_success 'build the frame printer against libcpgo' '
	cc -O1 -g $SAN $INC -o "$TRASH/frames" "$TRASH/frames.c" "$CPGO_BUILD/libcpgo-test.a" $LIBS
'

test_expect_success 'clang-19 -fdebug-info-for-profiling: every instruction matches llvm-symbolizer' '
	gen_prog &&
	clang-19 -O2 -g -fdebug-info-for-profiling -o prog prog.c &&
	instructions prog &&
	./frames prog <addrs >ours &&
	oracle prog >theirs &&
	diff -u theirs ours >diff.out &&
	grep -q "^step[0-9]|" ours &&
	grep -q "^mix[0-9]|" ours &&
	awk -F"|" "\$4 > 0" ours | grep -q . &&
	grep -q "^f12|" ours
'

test_expect_success 'gcc-12 -O2 -g: every instruction matches llvm-symbolizer' '
	gen_prog &&
	gcc-12 -O2 -g -o gprog prog.c &&
	instructions gprog &&
	./frames gprog <addrs >ours &&
	oracle gprog >theirs &&
	diff -u theirs ours &&
	grep -q "^mix[0-9]|" ours
'

cat >lib.c <<'EOF'
static inline int lib_helper(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int lib_func(int x)
{
	return lib_helper(x) + 7;
}
EOF

# Symbolizes its own addresses through its live mappings, as a profiler would.
cat >live.c <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/error.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

int lib_func(int x);

__attribute__((noinline)) int exe_func(int x)
{
	return x + 2;
}

static uint64_t mapping_for(struct cpgo_profile *p, uintptr_t a)
{
	for (size_t i = 0; i < p->n_mapping; i++)
		if (a >= p->mappings[i].memory_start && a < p->mappings[i].memory_limit)
			return p->mappings[i].id;
	return 0;
}

int main(int argc, char **argv)
{
	struct cpgo_profile p;
	char line[4096], path[4096];
	FILE *maps;
	uintptr_t addrs[2] = { (uintptr_t)exe_func + 1, (uintptr_t)lib_func + 1 };

	/* A dlclose'd or upgraded library: maps says "(deleted)". */
	if (argc > 1 && unlink("libsymt.so") < 0)
		return 1;
	maps = fopen("/proc/self/maps", "r");
	cpgo_profile_init(&p);
	cpgo_profile_add_sample_type(&p, "samples", "count");
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long lo, hi, off;
		char perm[8];
		struct cpgo_mapping m = { 0 };
		path[0] = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095[^\n]", &lo, &hi, perm, &off, path) < 4 ||
		    perm[2] != 'x')
			continue;
		m.memory_start = lo;
		m.memory_limit = hi;
		m.file_offset = off;
		m.filename = cpgo_profile_intern(&p, path);
		cpgo_profile_add_mapping(&p, &m);
	}
	fclose(maps);
	for (int i = 0; i < 2; i++)
		if (!cpgo_profile_add_location(&p, mapping_for(&p, addrs[i]), addrs[i], NULL, 0))
			return 1;
	if (symbolize_profile(&p, NULL) < 0) {
		fprintf(stderr, "%s\n", cpgo_last_error());
		return 1;
	}
	for (size_t i = 0; i < p.n_location; i++) {
		const struct cpgo_location *l = &p.locations[i];
		const struct cpgo_mapping *m = &p.mappings[l->mapping_id - 1];
		printf("loc %zu: %s", i, strrchr(cpgo_profile_str(&p, m->filename), '/') + 1);
		for (size_t k = 0; k < l->n_line; k++) {
			const struct cpgo_line *ln = &p.lines[l->line_off + k];
			const struct cpgo_function *f = &p.functions[ln->function_id - 1];
			printf(" %s:%lld:%lld", cpgo_profile_str(&p, f->name), (long long)f->start_line,
			       (long long)ln->line);
		}
		printf(" build_id=%d\n", *cpgo_profile_str(&p, m->build_id) != 0);
	}
	cpgo_profile_release(&p);
	return 0;
}
EOF

test_expect_success 'a live PIE and its shared library symbolize through /proc/self/maps' '
	clang-19 -O2 -g -fPIC -shared -o libsymt.so lib.c &&
	cc -O2 -g -fPIE -pie $SAN $INC -o live live.c -L. -lsymt -Wl,-rpath,"$TRASH" \
		"$CPGO_BUILD/libcpgo-test.a" $LIBS &&
	./live >out &&
	cat out &&
	grep -q "^loc 0: live exe_func:11:13 build_id=1$" out &&
	grep -Eq "^loc 1: libsymt.so( lib_helper:1:3)? lib_func:6:[78] build_id=1$" out
'

test_expect_success 'a deleted library is skipped: its address stays, the rest symbolizes' '
	./live delete >out &&
	cat out &&
	grep -q "^loc 0: live exe_func:11:13 build_id=1$" out &&
	grep -q "^loc 1: libsymt.so (deleted) build_id=0$" out
'

test_done
