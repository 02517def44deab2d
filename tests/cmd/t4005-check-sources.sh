#!/usr/bin/env bash
# cpgo check PROFILE SOURCES...: the same report as --binary, against C
# sources compiled the way the build compiles them (flags after --): a real
# profile of a two-file program, then the edits that keep or lose samples.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

mkdir -p src
cat >src/app.c <<'EOF_C'
#include "util.h"
#ifdef FAST_PATH
__attribute__((noinline)) unsigned long parse(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++) {
		s = s * 31 + (i ^ (s >> 7));
		s ^= s << 3;
	}
	return s;
}
#else
unsigned long parse(unsigned long n) { return n; }
#endif

int main(int argc, char **argv)
{
	unsigned long r = 0;
	for (int k = 0; k < 100; k++)
		r += parse(3000000 + k) + mix(1000000 + k);
	return r == 42 && argc > 5;
}
EOF_C
cat >src/util.h <<'EOF_C'
unsigned long mix(unsigned long n);
EOF_C
cat >src/util.c <<'EOF_C'
#include "util.h"
static inline unsigned long step(unsigned long s, unsigned long i)
{
	return s * 17 + (i | (s >> 3));
}

__attribute__((noinline)) unsigned long mix(unsigned long n)
{
	unsigned long s = 1;
	for (unsigned long i = 0; i < n; i++)
		s = step(s, i);
	return s;
}
EOF_C

matched() { # OUT -> "matched found moved"
	sed -n "s/^Matched: \([0-9.]*\)% .*found \([0-9.]*\)%, line offsets inside it [0-9.]*%; start line moved for \([0-9.]*\)%.*/\1 \2 \3/p" "$1"
}
ge() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x + 0 >= y + 0) }'; }
lines_of() { # OUT FUNCTION -> its lines% column
	awk -v f="$2" '$6 == f { sub("%", "", $3); print $3 }' "$1"
}
# A copy of the sources to edit.
edit() { rm -rf "$1" && cp -r src "$1"; }

test_expect_success 'a real profile of the program (-DFAST_PATH)' '
	(cd src && clang-19 -O2 -g -fno-omit-frame-pointer -DFAST_PATH -o ../app app.c util.c) &&
	cpgo record -F 1000 -o app.pprof ./app 2>/dev/null &&
	cpgo top -n 0 --sample-type samples app.pprof >top &&
	test "$(awk "\$6 == \"parse\" { print \$1 }" top)" -gt 100 &&
	test "$(awk "\$6 == \"mix\" || \$6 == \"step\" { s += \$1 } END { print s }" top)" -gt 20
'

test_expect_success 'the sources with the build flags match fully; --min-match passes' '
	(cd src && cpgo check --min-match 99 -n 0 ../app.pprof app.c util.c -- -DFAST_PATH) >out &&
	cat out && grep -q "^Sources: 2 files$" out &&
	test "$(matched out)" = "100.0 100.0 0.0" &&
	grep -q " 3  *parse  .*src/app.c$" out &&
	test "$(lines_of out parse)" = 100.0 &&
	! grep -q "Hot functions gone" out
'

test_expect_success 'the preprocessor decides: without -DFAST_PATH the hot parse is not that code' '
	(cd src && cpgo check -n 0 ../app.pprof app.c util.c) >out && cat out &&
	grep -q " 3->13  *parse " out &&
	ge 10 "$(lines_of out parse)" &&
	(cd src && test_must_fail cpgo check --min-match 80 ../app.pprof app.c util.c >/dev/null 2>err) &&
	grep -q "under --min-match 80%" src/err
'

test_expect_success 'the inlined static function of util.c is checked at its own lines' '
	(cd src && cpgo check -n 0 ../app.pprof util.c -- -DFAST_PATH) >out && cat out &&
	test "$(lines_of out step)" = 100.0 &&
	# mix owns only its loop control; a short run may give it no leaf
	# sample of its own ("-"), but what it has must land, at start line 7.
	case "$(lines_of out mix)" in 100.0|-) ;; *) false ;; esac &&
	grep -q " 7  *mix  .*src/util.c$" out &&
	grep -q "^Hot functions gone" out && grep -A3 "^Hot functions gone" out | grep -q "  parse  "
'

test_expect_success 'lines added above: start lines move, offsets land' '
	edit above && { printf "/* new */\n/* header */\n\n"; cat src/util.c; } >above/util.c &&
	(cd above && cpgo check --min-match 99 -n 0 ../app.pprof app.c util.c -- -DFAST_PATH) >out &&
	cat out && set -- $(matched out) && test "$1" = 100.0 && ge "$3" 10 &&
	grep -q " 7->10  *mix " out
'

test_expect_success 'lines inserted inside the hot step: its offsets no longer land' '
	edit inside &&
	awk "{ print } /^static inline unsigned long step\\(/ { getline; print; for (i = 0; i < 4; i++) print \"\t/* note */\" }" src/util.c >inside/util.c &&
	test "$(grep -c note inside/util.c)" = 4 &&
	(cd inside && cpgo check -n 0 ../app.pprof app.c util.c -- -DFAST_PATH) >out && cat out &&
	ge 50 "$(lines_of out step)" && test "$(lines_of out parse)" = 100.0 &&
	set -- $(matched out) && ge 90 "$1" && test "$2" = 100.0
'

calls_of() { # OUT FUNCTION -> its calls column
	awk -v f="$2" '$6 == f { print $4 }' "$1"
}

test_expect_success 'call sites: where the code still calls them, nothing moved' '
	(cd src && cpgo check -n 0 ../app.pprof app.c util.c -- -DFAST_PATH) >out && cat out &&
	grep -q "^Call sites: 0.0% of the samples at calls sit at a line that moved" out &&
	test "$(calls_of out mix)" = ok && test "$(calls_of out main)" = ok &&
	test "$(calls_of out parse)" = -
'

test_expect_success 'code lines inserted inside mix above its call: the call is reported moved by +3' '
	edit code && awk "{ print } /^__attribute__.*mix\\(/ { getline; print; for (i = 0; i < 3; i++) print \"\tn += n & 1;\" }" src/util.c >code/util.c &&
	test "$(grep -c "n += n & 1" code/util.c)" = 3 &&
	(cd code && cpgo check -n 0 ../app.pprof app.c util.c -- -DFAST_PATH) >out && cat out &&
	test "$(calls_of out mix)" = +3 && test "$(calls_of out main)" = ok &&
	grep -q "^Call sites: [1-9][0-9.]*% of the samples at calls .*(1 function:" out
'

test_expect_success 'a function moved to another file: gone, and said where it went' '
	edit moved &&
	sed -n "/^__attribute__.*mix(/,/^}/p" src/util.c >body &&
	sed "/^__attribute__.*mix(/,/^}/d" src/util.c >moved/util.c && cat body >>moved/app.c &&
	sed -i "s/^static inline unsigned long step/unsigned long step/" moved/util.c &&
	sed -i "1i unsigned long step(unsigned long s, unsigned long i);" moved/app.c &&
	(cd moved && cpgo check -n 0 ../app.pprof app.c util.c -- -DFAST_PATH) >out && cat out &&
	grep -A3 "^Hot functions gone" out | grep -q "  mix  .*src/util.c (.*): moved to .*moved/app.c$"
'

test_expect_success 'a hot function renamed, then cpgo rename: matched again' '
	edit ren && sed -i "s/\bparse\b/tokenize/g" ren/app.c &&
	(cd ren && test_must_fail cpgo check --min-match 90 -n 0 ../app.pprof app.c util.c -- -DFAST_PATH >../out) &&
	grep -q "have no samples: tokenize" out &&
	cpgo rename parse=tokenize -o ren.pprof app.pprof 2>/dev/null &&
	(cd ren && cpgo check --min-match 99 ../ren.pprof app.c util.c -- -DFAST_PATH) >out &&
	test "$(matched out)" = "100.0 100.0 0.0"
'

test_expect_success 'usage and input errors' '
	rc=0 && cpgo check app.pprof 2>err || rc=$? && test $rc = 2 && grep -q "no binary or sources" err &&
	rc=0 && cpgo check --binary app app.pprof src/app.c 2>err || rc=$? && test $rc = 2 &&
	rc=0 && cpgo check --binary app app.pprof -- -DX 2>err || rc=$? && test $rc = 2 &&
	test_must_fail cpgo check app.pprof src/nosuch.c 2>err && grep -q "src/nosuch.c: the compiler failed" err &&
	echo "int broken(" >bad.c && test_must_fail cpgo check app.pprof bad.c 2>err &&
	grep -q "bad.c: the compiler failed" err &&
	test_must_fail cpgo check --cc /nonexistent/cc app.pprof src/app.c 2>err && grep -q "nonexistent" err &&
	test_must_fail cpgo check nosuch.pprof src/app.c 2>err && grep -q nosuch.pprof err
'

test_expect_success 'the temporary objects are removed, after a failure too' '
	mkdir -p tmp && TMPDIR=$PWD/tmp cpgo check app.pprof src/app.c src/util.c -- -DFAST_PATH >/dev/null &&
	TMPDIR=$PWD/tmp test_must_fail cpgo check app.pprof src/app.c bad.c 2>/dev/null &&
	test -z "$(ls tmp)"
'

test_done
