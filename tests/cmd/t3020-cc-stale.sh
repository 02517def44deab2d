#!/usr/bin/env bash
# cpgo cc's stale-profile warning: one line per build directory when the
# code no longer matches default.pgo, nothing when it does, and never a
# changed build (exit status, objects) whatever happens.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

mkdir -p orig
hot_loop_c parse >orig/hot.c
cat >orig/main.c <<'EOF_C'
unsigned long parse(unsigned long n);
__attribute__((noinline)) unsigned long render(unsigned long n)
{
	unsigned long s = 1;
	for (unsigned long i = 0; i < n; i++)
		s = s * 17 + (i | (s >> 3));
	return s;
}

int main(int argc, char **argv)
{
	unsigned long r = 0;
	for (int k = 0; k < 100; k++)
		r += parse(3000000 + k) + render(600000 + k);
	return r == 42 && argc > 5;
}
EOF_C

# build DIR: compiles each file as make does (one cpgo cc per object) and links.
build() {
	(cd "$1" && cpgo cc -O2 -c hot.c 2>>build.err && cpgo cc -O2 -c -o main.o main.c 2>>build.err &&
	 clang-19 -o prog hot.o main.o)
}
warnings() { grep -c "^cpgo cc: warning: .* is stale" "$1" || true; }

test_expect_success 'a real profile of the program, committed as default.pgo' '
	(cd orig && clang-19 -O2 -g -fno-omit-frame-pointer -o prog hot.c main.c) &&
	cpgo record -F 1000 -o orig/default.pgo orig/prog 2>/dev/null &&
	cpgo top -n 0 orig/default.pgo | grep -q " parse "
'

test_expect_success 'the code it was taken from: no warning' '
	build orig && test "$(warnings orig/build.err)" = 0 && test ! -s orig/build.err
'

test_expect_success 'lines inserted inside the hot function: one line for the whole directory' '
	cp -r orig edited && rm -f edited/build.err edited/*.o &&
	awk "{ print } NR == 2 { for (i = 0; i < 6; i++) print \"\t/* note */\" }" orig/hot.c >edited/hot.c &&
	build edited && cat edited/build.err &&
	test "$(warnings edited/build.err)" = 1 &&
	test "$(wc -l <edited/build.err)" = 1 &&
	grep -q "default.pgo is stale: at most [0-9]*% of its samples match the code built in .*/edited (under 80%; parse in hot.c lost [0-9]*%); run .cpgo check" edited/build.err &&
	: >edited/build.err && build edited && test ! -s edited/build.err
'

test_expect_success 'another build directory warns once for itself' '
	cp -r edited other && rm -f other/build.err other/*.o && build other &&
	test "$(warnings other/build.err)" = 1
'

test_expect_success 'only lines added above the functions: start lines moved, no warning' '
	cp -r orig above && rm -f above/build.err above/*.o &&
	{ printf "/* a new comment */\n\n"; cat orig/hot.c; } >above/hot.c &&
	{ printf "/* a new comment */\n\n"; cat orig/main.c; } >above/main.c &&
	build above && test ! -s above/build.err
'

test_expect_success 'CPGO_MIN_MATCH sets the threshold; 0 turns the check off' '
	cp -r edited quiet && rm -f quiet/build.err quiet/*.o &&
	(export CPGO_MIN_MATCH=0 && build quiet) && test ! -s quiet/build.err &&
	cp -r edited low && rm -f low/build.err low/*.o &&
	(export CPGO_MIN_MATCH=5 && build low) && test ! -s low/build.err
'

test_expect_success 'the check changes nothing in the objects, -Werror builds still pass' '
	(cd edited && CPGO_MIN_MATCH=0 cpgo cc -O2 -c -o off.o hot.c && CPGO_MIN_MATCH=99 cpgo cc -O2 -Werror -c -o on.o hot.c 2>/dev/null) &&
	cmp edited/off.o edited/on.o
'

test_expect_success 'a failing compile keeps its exit status and says nothing of the profile' '
	cp -r edited broken && rm -rf broken/*.o broken/build.err "$XDG_CACHE_HOME/cpgo/stale" &&
	echo "int broken(" >>broken/hot.c &&
	rc=0 && (cd broken && cpgo cc -O2 -c hot.c 2>err) || rc=$? && test $rc = 1 &&
	grep -q "error:" broken/err && ! grep -q "is stale" broken/err
'

test_expect_success 'a stale-check cache that cannot be written never breaks the build' '
	cp -r edited nocache && rm -f nocache/*.o nocache/build.err &&
	rm -rf "$XDG_CACHE_HOME/cpgo/stale" "$XDG_CACHE_HOME/cpgo/match" &&
	echo not-a-directory >"$XDG_CACHE_HOME/cpgo/stale" &&
	echo not-a-directory >"$XDG_CACHE_HOME/cpgo/match" &&
	build nocache && test -s nocache/prog && test ! -s nocache/build.err &&
	rm -f "$XDG_CACHE_HOME/cpgo/match" && rm -f nocache/*.o && build nocache &&
	test -s nocache/prog && test ! -s nocache/build.err
'

test_done
