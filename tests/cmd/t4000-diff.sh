#!/usr/bin/env bash
# cpgo diff: per-function change of flat and cum shares between two real
# profiles of one program run with two different mixes of work.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

cat >mix.c <<'EOF_C'
#include <stdlib.h>
__attribute__((noinline)) unsigned long alpha(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++)
		s = s * 31 + (i ^ (s >> 7));
	return s;
}

__attribute__((noinline)) unsigned long beta(unsigned long n)
{
	unsigned long s = 1;
	for (unsigned long i = 0; i < n; i++)
		s = s * 17 + (i | (s >> 3));
	return s;
}

int main(int argc, char **argv)
{
	unsigned long a = strtoul(argv[1], 0, 10), b = strtoul(argv[2], 0, 10), r = 0;
	for (int k = 0; k < 100; k++)
		r += alpha(a * 100000 + k) + beta(b * 100000 + k);
	return (int)(r & 1);
}
EOF_C

test_expect_success 'two real profiles: alpha-heavy, then beta-heavy' '
	clang-19 -O2 -g -fno-omit-frame-pointer -o mix mix.c &&
	cpgo record -F 1000 -o old.pprof ./mix 30 10 2>/dev/null || true &&
	cpgo record -F 1000 -o new.pprof ./mix 10 30 2>/dev/null || true &&
	test -s old.pprof && test -s new.pprof
'

test_expect_success 'the largest changes come first, with file:start_line' '
	cpgo diff old.pprof new.pprof >out && cat out &&
	grep -q "^Type: cpu/nanoseconds" out &&
	sed -n 6,7p out >top2 &&
	grep -q " alpha  .*mix.c:$(grep -n "^__attribute__.*alpha(" mix.c | cut -d: -f1)" top2 &&
	grep -q " beta  .*mix.c:" top2 &&
	awk "/ alpha /{ if (\$3 + 0 >= -30) exit 1 } / beta /{ if (\$3 + 0 <= 30) exit 1 }" top2
'

test_expect_success 'the changes agree with the two profiles as pprof reads them' '
	. "$CPGO_ROOT/tests/workloads/build.sh" &&
	for f in alpha beta; do
		old=$(pprof_pct old.pprof flat $f) new=$(pprof_pct new.pprof flat $f) &&
		got=$(awk -v f=$f "\$7 == f { sub(\"%\", \"\", \$3); print \$3 }" out) &&
		echo "$f: pprof $old -> $new, diff says $got" &&
		awk -v o=$old -v n=$new -v g=$got "BEGIN { d = n - o - g; exit !(d < 0.02 && d > -0.02) }"
	done
'

test_expect_success 'a profile against itself changes nothing' '
	cpgo diff -n 0 old.pprof old.pprof >same &&
	! grep -v "^Type\|^Old\|^New\|^Showing\|old flat" same | grep -v " +0.00% .* +0.00% "
'

test_expect_success 'functions only in one profile are new or gone; a moved start line shows' '
	mkdir v2 && sed "s/^__attribute__((noinline)) unsigned long beta/\n\n&/; s/alpha/gamma/g" mix.c >v2/mix.c &&
	clang-19 -O2 -g -fno-omit-frame-pointer -o mix v2/mix.c &&
	cpgo record -F 1000 -o moved.pprof ./mix 20 20 2>/dev/null || true &&
	cpgo diff -n 0 old.pprof moved.pprof >moved && cat moved &&
	grep -q " gamma (new)" moved && grep -q " alpha (gone)" moved &&
	old=$(grep -n "unsigned long beta" mix.c | cut -d: -f1) new=$(grep -n "unsigned long beta" v2/mix.c | cut -d: -f1) &&
	grep -q " beta  .*/v2/mix.c:$old->$new" moved && grep -q " main  " moved
'

test_expect_success 'usage and input errors' '
	rc=0 && cpgo diff old.pprof 2>err || rc=$? && test $rc = 2 && grep -q "two profiles" err &&
	rc=0 && cpgo diff -n x old.pprof new.pprof 2>err || rc=$? && test $rc = 2 &&
	echo garbage >bad.pprof && test_must_fail cpgo diff old.pprof bad.pprof 2>err &&
	grep -q "bad.pprof" err &&
	test_must_fail cpgo diff --sample-type nosuch old.pprof new.pprof 2>err && grep -q "nosuch" err &&
	cpgo diff --help | grep -q "usage: cpgo diff"
'

test_done
