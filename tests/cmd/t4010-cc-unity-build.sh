#!/usr/bin/env bash
# A unity build: unity.c compiles engine.c's functions with
# `#include "engine.c"`. The profile names engine.c as their file, a .c
# file other than the one compiled, yet they are unity.c's own: cpgo cc
# gives them their profiles there, and main.c's TU does not get them.
. "$(dirname "$0")/lib.sh"
need_plain_libcpgo

mkdir -p src
cat >src/main.c <<'EOF_C'
unsigned long crunch(unsigned long n);

int main(int argc, char **argv)
{
	unsigned long r = 0;
	for (int k = 0; k < 100; k++)
		r += crunch(2000000 + k);
	return r == 42 && argc > 5;
}
EOF_C
hot_loop_c crunch >src/engine.c
cat >src/unity.c <<'EOF_C'
/* Built as one translation unit. */
#include "engine.c"
EOF_C

test_expect_success 'a profile of the unity-built program names engine.c' '
	(cd src && cpgo cc -pgo=off clang-19 -O2 -o ../app main.c unity.c) &&
	cpgo record -F 1000 -o app.pprof ./app 2>/dev/null &&
	cpgo top -n 0 --sample-type samples app.pprof >top && cat top &&
	test "$(awk "\$6 == \"crunch\" { print \$1 }" top)" -gt 100 &&
	grep " crunch " top | grep -q "engine.c:"
'

test_expect_success 'cpgo cc gives unity.c the profile of the engine.c it includes' '
	(cd src && cpgo cc -pgo=../app.pprof clang-19 -O2 -S -emit-llvm -o ../unity.ll unity.c) &&
	entry_counts unity.ll >ec && cat ec && grep -q "^crunch [1-9]" ec &&
	(cd src && cpgo convert -o ../unity.prof --text --source-file unity.c ../app.pprof) &&
	grep -q "^crunch:[1-9]" unity.prof
'

test_expect_success 'main.c, which only calls crunch, gets no profile of it' '
	(cd src && cpgo convert -o ../main.prof --text --stats --source-file main.c ../app.pprof 2>../stats) &&
	cat stats main.prof && ! grep -q "^crunch:" main.prof &&
	grep -q "^other files. functions left out: [1-9]" stats
'

test_done
