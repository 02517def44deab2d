#!/usr/bin/env bash
# cpgo rename: a refactoring keeps its profile. Real profiles of a real
# program; exact, glob and file renames; merges refused unless asked; the
# output validates, round-trips through go tool pprof and is never half-written.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

cat >net.c <<'EOF_C'
#include <stdlib.h>
__attribute__((noinline)) unsigned long net_read(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++)
		s = s * 31 + (i ^ (s >> 7));
	return s;
}

__attribute__((noinline)) unsigned long net_write(unsigned long n)
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
		r += net_read(3000000 + k) + net_write(1000000 + k);
	return (int)(r & 1);
}
EOF_C

# "flat cum" of a function in cpgo top's output (its raw values), over all
# its rows (two functions merged into one name keep their own start lines).
top_of() { # PROFILE FUNCTION
	cpgo top -n 0 --sample-type samples "$1" |
		awk -v f="$2" '$6 == f { n++; fl += $1; c += $4 } END { if (n) print fl, c }'
}

test_expect_success 'a real profile of net.c' '
	clang-19 -O2 -g -fno-omit-frame-pointer -o net net.c &&
	cpgo record -F 1000 -o old.pprof ./net 2>/dev/null || true &&
	test -n "$(top_of old.pprof net_read)" && test -n "$(top_of old.pprof net_write)"
'

test_expect_success 'an exact rename keeps the samples, start line and file' '
	cpgo rename net_read=recv_all -o r1.pprof old.pprof 2>err && cat err &&
	grep -q "1 function name(s) and 0 file name(s) renamed; wrote r1.pprof" err &&
	test "$(top_of r1.pprof recv_all)" = "$(top_of old.pprof net_read)" &&
	test -z "$(top_of r1.pprof net_read)" &&
	test "$(top_of r1.pprof net_write)" = "$(top_of old.pprof net_write)" &&
	cpgo top -n 0 r1.pprof | grep " recv_all .*net.c:2$" &&
	cpgo validate r1.pprof &&
	go tool pprof -top r1.pprof | grep -q " recv_all$"
'

test_expect_success 'a glob renames a module, files too; go tool pprof agrees' '
	cpgo rename "net_*=io_*" "file:net.c=io.c" -o r2.pprof old.pprof 2>err && cat err &&
	grep -q "2 function name(s) and 3 file name(s) renamed" err &&
	test "$(top_of r2.pprof io_read)" = "$(top_of old.pprof net_read)" &&
	test "$(top_of r2.pprof io_write)" = "$(top_of old.pprof net_write)" &&
	cpgo top -n 0 r2.pprof | grep " io_write .*/io.c:10$" &&
	! cpgo top -n 0 r2.pprof | grep -q "net\.c" &&
	go tool pprof -raw r2.pprof | grep -q "io_read.*io.c" &&
	! go tool pprof -raw r2.pprof | grep -q "net_read"
'

test_expect_success 'the renamed profile drives the renamed code' '
	sed "s/net_/io_/g" net.c >io.c &&
	clang-19 -O2 -g -fno-omit-frame-pointer -o io io.c &&
	cpgo convert --no-binary --text -o r2.prof r2.pprof &&
	grep -q "^io_read:" r2.prof && grep -q "^io_write:" r2.prof &&
	cpgo convert --no-binary --text -o old.prof old.pprof &&
	! grep -q "^io_read:" old.prof
'

test_expect_success 'a merge of two live functions is refused, the old output kept' '
	cp r1.pprof keep.pprof &&
	test_must_fail cpgo rename net_read=net_write -o keep.pprof old.pprof 2>err && cat err &&
	grep -q "would merge .net_read. .*and .net_write. .* into .net_write." err &&
	grep -q -- "--allow-merge" err && cmp keep.pprof r1.pprof &&
	test_must_fail cpgo rename "net_*=net" -o keep.pprof old.pprof 2>err &&
	grep -q "would merge" err && cmp keep.pprof r1.pprof
'

test_expect_success '--allow-merge adds the two up' '
	cpgo rename --allow-merge net_read=net_write -o m.pprof old.pprof 2>err && cat err &&
	grep -q "1 function(s) merged" err &&
	set -- $(top_of old.pprof net_read) && a=$1 &&
	set -- $(top_of old.pprof net_write) && b=$1 &&
	set -- $(top_of m.pprof net_write) && test "$1" = $((a + b)) && test $a -gt 100 &&
	cpgo validate m.pprof
'

test_expect_success 'a --map file, with comments, and a suffix glob' '
	printf "# refactoring of 2026\n\n  *_read=*_recv  \nfile:net.c=sock.c\r\n" >map.txt &&
	cpgo rename --map map.txt -o r3.pprof old.pprof &&
	test "$(top_of r3.pprof net_recv)" = "$(top_of old.pprof net_read)" &&
	cpgo top -n 0 r3.pprof | grep -q " net_recv .*/sock.c:2$"
'

test_expect_success 'a rule that matches nothing warns; no change at all writes nothing' '
	cpgo rename net_read=a nosuch=b -o r4.pprof old.pprof 2>err &&
	grep -q "warning: nosuch=b (argument .nosuch=b.) matched nothing" err &&
	test_must_fail cpgo rename nosuch=b -o r5.pprof old.pprof 2>err &&
	grep -q "nothing written" err && ! test -e r5.pprof
'

test_expect_success 'usage and input errors' '
	rc=0 && cpgo rename a=b old.pprof 2>err || rc=$? && test $rc = 2 && grep -q "no output" err &&
	rc=0 && cpgo rename -o x.pprof old.pprof 2>err || rc=$? && test $rc = 2 && grep -q "no renames" err &&
	rc=0 && cpgo rename -o x.pprof ab old.pprof 2>err || rc=$? && test $rc = 2 && grep -q "OLD=NEW" err &&
	rc=0 && cpgo rename -o x.pprof "a*b*=c" old.pprof 2>err || rc=$? && test $rc = 2 && grep -q "one .\*." err &&
	rc=0 && cpgo rename -o x.pprof "a=c*" old.pprof 2>err || rc=$? && test $rc = 2 &&
	test_must_fail cpgo rename --map nosuch.txt -o x.pprof old.pprof 2>err && grep -q nosuch.txt err &&
	printf "ok=fine\nbroken\n" >bad.txt &&
	test_must_fail cpgo rename --map bad.txt -o x.pprof old.pprof 2>err && grep -q "bad.txt:2" err &&
	echo junk >junk.pprof && test_must_fail cpgo rename a=b -o x.pprof junk.pprof 2>err &&
	grep -q junk.pprof err && ! test -e x.pprof &&
	cpgo rename --help | grep -q "usage: cpgo rename"
'

test_done
