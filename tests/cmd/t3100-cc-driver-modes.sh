#!/usr/bin/env bash
# cpgo cc as build systems call compilers: response files, -E, -M/-MD/-MF,
# -x c, -, several sources in one call, assembler, -c with and without -o,
# --version and -print-* queries, -Werror. Everything that compiles nothing
# gives exactly the plain compiler's output; compiles succeed where plain
# ones do and get the profile.
. "$(dirname "$0")/lib.sh"

if ! command -v clang-19 >/dev/null; then
	test_skip "clang-19 is not installed"
	test_done
	exit 0
fi
export CPGO_CC=clang-19

test_expect_success 'setup: two sources, assembler, a profile at the top' '
	make_gen &&
	mkdir -p repo/.git && cd repo &&
	printf "%s\n" "#include <stdio.h>" "int work(int n);" \
		"int main(int argc, char **argv)" "{" "	(void)argv;" \
		"	printf(\"%d\\n\", work(argc * 10));" "	return 0;" "}" >main.c &&
	printf "%s\n" "int work(int n)" "{" "	int s = 0;" "	for (int i = 0; i < n; i++)" \
		"		s += i * 3;" "	return s;" "}" >work.c &&
	printf ".text\n.globl f_s\nf_s:\n\tret\n" >f.s &&
	printf "#define R ret\n.text\n.globl f_S\nf_S:\n\tR\n" >g.S &&
	printf "900 work:work.c:1:5 main:main.c:3:6\n" | ../gen default.pgo
'

# Same stdout, stderr and status as the plain compiler (stdin: $IN, or none).
same_as_plain() {
	local rc1=0 rc2=0
	clang-19 "$@" <"${IN:-/dev/null}" >plain.out 2>plain.err || rc1=$?
	cpgo cc "$@" <"${IN:-/dev/null}" >cpgo.out 2>cpgo.err || rc2=$?
	test $rc1 = $rc2 && cmp plain.out cpgo.out && cmp plain.err cpgo.err
}

test_expect_success 'queries print what the plain compiler prints' '
	cd repo &&
	same_as_plain --version && grep "clang version" cpgo.out &&
	same_as_plain -print-prog-name=ld && same_as_plain -print-search-dirs &&
	same_as_plain -print-file-name=libc.so && same_as_plain -dumpmachine &&
	same_as_plain -dumpversion && same_as_plain -print-resource-dir &&
	same_as_plain -v 2>/dev/null
'

test_expect_success '-E, -M, -MM and -fsyntax-only are the plain compiler'"'"'s' '
	cd repo &&
	same_as_plain -E main.c && grep "int work(int n);" cpgo.out &&
	same_as_plain -M main.c && grep "^main.o: main.c" cpgo.out &&
	same_as_plain -MM main.c work.c &&
	IN=work.c same_as_plain -E -x c - &&
	same_as_plain -fsyntax-only -Wall main.c &&
	same_as_plain -E -dM -x c /dev/null
'

test_expect_success 'response files: the same object as the arguments given directly' '
	cd repo &&
	cpgo cc -O2 -c work.c -o direct.o &&
	printf "%s\n" "-O2 -c" "\"work.c\" -o rsp.o" >args.rsp &&
	CPGO_DEBUG=1 cpgo cc @args.rsp 2>trace && cmp direct.o rsp.o &&
	grep -- "-fprofile-sample-use=" trace && grep " @args.rsp " trace &&
	printf "main.c work.c -o prog_rsp\n" >link.rsp &&
	cpgo cc -O2 @link.rsp && ./prog_rsp >out && test "$(cat out)" = 135 &&
	printf "@args.rsp\n" >nested.rsp && rm rsp.o && cpgo cc @nested.rsp && cmp direct.o rsp.o
'

test_expect_success '-c without -o names the object after the source; several sources' '
	mkdir -p out && cd out && cp ../repo/*.c ../repo/default.pgo . && mkdir -p .git &&
	cpgo cc -O2 -c work.c && test -s work.o &&
	cpgo cc -O2 -c main.c work.c && test -s main.o &&
	cpgo cc -O2 main.c work.c -o prog && ./prog >o && test "$(cat o)" = 135 &&
	cpgo cc -O2 main.c work.o -o prog2 && ./prog2 >o && test "$(cat o)" = 135
'

# The profile keys functions by file: a source named otherwise (or stdin)
# finds no samples of its own, and is built as cold, but with the note.
test_expect_success '-x c and - (the source on stdin) compile, the profile recorded' '
	cd repo &&
	cp work.c work.txt &&
	CPGO_DEBUG=1 cpgo cc -O2 -x c -c work.txt -o x.o 2>trace && test -s x.o &&
	CPGO_DEBUG=1 cpgo cc -O2 -x c -c - -o stdin.o <work.c 2>>trace && test -s stdin.o &&
	test $(grep -c "^cpgo cc: profile .*default.pgo" trace) -eq 2 &&
	cpgo version stdin.o | grep "built with profile"
'

test_expect_success 'assembler sources: the very object the plain compiler makes' '
	cd repo &&
	clang-19 -c f.s -o plain_s.o && cpgo cc -c f.s -o cpgo_s.o && cmp plain_s.o cpgo_s.o &&
	clang-19 -c g.S -o plain_S.o && cpgo cc -c g.S -o cpgo_S.o && cmp plain_S.o cpgo_S.o &&
	cpgo cc -O2 main.c work.c f.s g.S -o mixed && ./mixed >o && test "$(cat o)" = 135
'

test_expect_success '-MD -MF: the depfile survives a cleaned cache; -MMD lists no cache file' '
	cd repo &&
	printf "%s\n" "prog: main.o work.o" "	\$(CC) -o \$@ main.o work.o" \
		"%.o: %.c" "	\$(CC) -O2 -MD -MF \$*.d -c -o \$@ \$<" \
		"-include main.d work.d" >Makefile &&
	make CC="cpgo cc" >/dev/null && test -s work.d &&
	grep "default.pgo" work.d &&
	rm -rf "$XDG_CACHE_HOME" && touch work.c && make CC="cpgo cc" >/dev/null &&
	cpgo cc -O2 -MMD -MF mmd.d -c work.c -o w.o && ! grep "$XDG_CACHE_HOME" mmd.d
'

test_expect_success '-Werror builds pass where the plain compiler passes' '
	cd repo &&
	clang-19 -Werror -Wall -Wextra -O2 main.c work.c -o p_plain &&
	cpgo cc -Werror -Wall -Wextra -O2 main.c work.c -o p_cpgo &&
	cpgo cc -Werror -Wall -Wextra -O2 -c work.c -o w_err.o &&
	same_as_plain -Werror -Weverything -O2 -c work.c -o w_ev.o &&
	same_as_plain -Werror -Weverything -O2 main.c work.c -o w_ev
'

test_expect_success 'a failing compile fails the same way' '
	cd repo &&
	printf "int f(void) { return undeclared; }\n" >bad.c &&
	same_as_plain -c bad.c -o bad.o; test ! -e bad.o &&
	grep "undeclared" cpgo.err
'

test_done
