#!/usr/bin/env bash
# cpgo check: a real program, its profile, then the edits the Go guide
# talks about (lines added above a hot function, inside it, a hot function
# renamed, a function removed); check reports each as it should, and
# --min-match fails CI when the profile went stale.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

cat >app.c <<'EOF_C'
#include <stdlib.h>
__attribute__((noinline)) unsigned long parse(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++) {
		s = s * 31 + (i ^ (s >> 7));
		s ^= s << 3;
	}
	return s;
}

__attribute__((noinline)) unsigned long render(unsigned long n)
{
	unsigned long s = 1;
	for (unsigned long i = 0; i < n; i++)
		s = s * 17 + (i | (s >> 3));
	return s;
}

__attribute__((noinline)) unsigned long unused(unsigned long n)
{
	return n * 3;
}

int main(int argc, char **argv)
{
	unsigned long r = 0;
	for (int k = 0; k < 100; k++)
		r += parse(3000000 + k) + render(1000000 + k);
	if (argc > 5)
		r += unused(r);
	return (int)(r & 1);
}
EOF_C

# Builds an edited copy: the file keeps its name, as an edit does.
build() { # BINARY SOURCE
	mkdir -p "$1.d" && { [ "$2" = app.c ] || mv "$2" "$1.d/app.c"; } &&
	clang-19 -O2 -g -fno-omit-frame-pointer -o "$1" "$( [ "$2" = app.c ] && echo app.c || echo "$1.d/app.c")"
}
# A value of the "Matched:" line: matched, found, inside or moved.
matched() { # OUT which
	sed -n "s/^Matched: \([0-9.]*\)% .*found \([0-9.]*\)%, line offsets inside it \([0-9.]*\)%; start line moved for \([0-9.]*\)%.*/\1 \2 \3 \4/p" "$1" |
		awk -v w="$2" '{ print (w == "matched") ? $1 : (w == "found") ? $2 : (w == "inside") ? $3 : $4 }'
}
# Is x >= y (decimals)?
ge() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x + 0 >= y + 0) }'; }

test_expect_success 'a real profile of app.c' '
	build app app.c &&
	cpgo record -F 1000 -o app.pprof ./app 2>/dev/null || true &&
	test "$(cpgo top -n 0 --sample-type samples app.pprof | awk "\$6 == \"parse\" { print \$1 }")" -gt 100
'

test_expect_success 'the unchanged code matches fully; --min-match passes' '
	cpgo check --min-match 99 --binary app app.pprof >out && cat out &&
	test "$(matched out matched)" = 100.0 && test "$(matched out moved)" = 0.0 &&
	grep -q " 2  *parse  .*/app.c$" out &&
	grep -q "^New functions: 1 of the binary.s [0-9]* have no samples: unused$" out &&
	! grep -q "gone" out
'

test_expect_success 'lines added above the hot functions: start lines move, offsets still land' '
	{ printf "/* a new header comment */\n#include <stdio.h>\n\n"; cat app.c; } >above.c &&
	build above above.c &&
	cpgo check --min-match 99 --binary above app.pprof >out && cat out &&
	test "$(matched out matched)" = 100.0 && ge "$(matched out moved)" 90 &&
	grep -q " 2->5  *parse " out
'

test_expect_success 'lines inserted inside the hot function: its offsets no longer land' '
	awk "{ print } /unsigned long parse\\(/ { getline; print; for (i = 0; i < 6; i++) print \"\t/* note \" i \" */\" }" app.c >inside.c &&
	test "$(grep -c note inside.c)" = 6 &&
	build inside inside.c &&
	cpgo check --binary inside app.pprof >out && cat out &&
	awk "\$6 == \"parse\" { sub(\"%\", \"\", \$3); seen = 1; ok = (\$3 + 0 < 50) } END { exit !(seen && ok) }" out &&
	awk "\$6 == \"render\" { sub(\"%\", \"\", \$3); seen = 1; ok = (\$3 + 0 == 100) } END { exit !(seen && ok) }" out &&
	test_must_fail cpgo check --min-match 90 --binary inside app.pprof >/dev/null 2>err &&
	grep -q "under --min-match 90%" err
'

test_expect_success 'a hot function renamed: gone, the new name unsampled; cpgo rename restores it' '
	sed "s/parse/tokenize/g" app.c >renamed.c && build renamed renamed.c &&
	cpgo check --binary renamed app.pprof >out && cat out &&
	ge 60 "$(matched out found)" &&
	grep -q "^Hot functions gone" out && grep -A1 "^Hot functions gone" out | grep -q "  parse  " &&
	grep -q "have no samples: tokenize, unused$" out &&
	test_must_fail cpgo check --min-match 80 --binary renamed app.pprof >/dev/null 2>&1 &&
	cpgo rename parse=tokenize -o renamed.pprof app.pprof 2>/dev/null &&
	cpgo check --min-match 99 --binary renamed renamed.pprof >out &&
	test "$(matched out matched)" = 100.0
'

test_expect_success 'a function removed: its samples are gone, the rest still match' '
	sed "s/parse(3000000 + k)/(unsigned long)k/; /^__attribute__((noinline)) unsigned long parse/,/^}/d" app.c >removed.c &&
	! grep -q parse removed.c && build removed removed.c &&
	cpgo check --binary removed app.pprof >out && cat out &&
	grep -A1 "^Hot functions gone" out | grep -q "  parse  " &&
	awk "\$6 == \"render\" { sub(\"%\", \"\", \$3); seen = 1; ok = (\$3 + 0 == 100) } END { exit !(seen && ok) }" out &&
	ge 50 "$(matched out matched)"
'

test_expect_success 'libc samples are counted apart' '
	cat >io.c <<-\EOF_C &&
	#include <string.h>
	#include <stdlib.h>
	int main(void)
	{
		char *a = malloc(1 << 20), *b = malloc(1 << 20);
		unsigned long s = 0;
		for (int i = 0; i < 3000; i++) {
			memset(a, i, 1 << 20);
			memcpy(b, a, 1 << 20);
			for (int j = 0; j < 1 << 20; j++)
				s = s * 31 + b[j];
		}
		return (int)(s & 1);
	}
	EOF_C
	build io io.c && cpgo record -F 1000 -o io.pprof ./io 2>/dev/null || true &&
	cpgo check --binary io io.pprof >out && cat out &&
	grep -q "^Other binaries: [0-9.]*% of all samples, not checked" out &&
	test "$(matched out matched)" = 100.0
'

test_expect_success 'usage and input errors' '
	rc=0 && cpgo check app.pprof 2>err || rc=$? && test $rc = 2 && grep -q "no binary" err &&
	rc=0 && cpgo check --binary app 2>err || rc=$? && test $rc = 2 && grep -q "no profile" err &&
	rc=0 && cpgo check --min-match 101 --binary app app.pprof 2>err || rc=$? && test $rc = 2 &&
	test_must_fail cpgo check --binary nosuch app.pprof 2>err && grep -q nosuch err &&
	clang-19 -O2 -o nodebug app.c &&
	test_must_fail cpgo check --binary nodebug app.pprof 2>err && cat err && grep -q "nodebug: no DWARF" err &&
	test_must_fail cpgo check --min-match 1 --binary io app.pprof >out 2>err &&
	grep -q "^Matched: 0.0%" out && grep -q "under --min-match 1%" err &&
	cpgo check --help | grep -q "usage: cpgo check"
'

test_done
