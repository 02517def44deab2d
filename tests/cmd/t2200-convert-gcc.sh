#!/usr/bin/env bash
# cpgo convert --to=gcc: gcc 12's AutoFDO file, read by gcc itself
# (-fauto-profile with -fdump-ipa-afdo: the counts land on the functions the
# profile names), statics kept apart per file, inline call sites, and damaged
# or mismatched files refused with a message that says what is wrong.
. "$(dirname "$0")/lib.sh"

if ! command -v gcc-12 >/dev/null; then
	test_skip "gcc-12 is not installed"
	test_done
	exit 0
fi

mkprof_build() { build_test_tool mkprof "$CPGO_ROOT/tests/helper/mkprof.c"; }

# fn_counts DUMP: "function count" for every block gcc annotated from the
# profile ([count: N]; blocks of functions without a profile say "local count").
fn_counts() {
	awk '/^[A-Za-z_].*\(.*\)$/ { fn = $0; sub(/ \(.*/, "", fn); n = split(fn, w, " "); fn = w[n]; sub(/^\*+/, "", fn) }
	/\[count: [0-9]+/ { c = $0; sub(/.*\[count: /, "", c); sub(/\].*/, "", c); print fn, c + 0 }' "$1"
}
# afdo_counts DUMP: "function max-count" per annotated function.
afdo_counts() {
	fn_counts "$1" | awk '!($1 in m) || $2 > m[$1] { m[$1] = $2 } END { for (f in m) print f, m[f] }' | sort
}

test_expect_success 'setup: two files with a static helper each, a profile of both' '
	mkprof_build &&
	cat >a.c <<-\EOC &&
	static int helper(int x)
	{
		return x * 3 + (x >> 2);
	}

	int hot(int n)
	{
		int s = 0;
		for (int i = 0; i < n; i++)
			s += helper(i);
		return s;
	}

	int cold(int n)
	{
		return n + 1;
	}
	EOC
	cat >b.c <<-\EOC &&
	static int helper(int x)
	{
		return x - 7;
	}

	int other(int n)
	{
		return helper(n) * 2;
	}
	EOC
	cat >spec <<-\EOS &&
	type samples count
	fn 1 hot a.c 6
	fn 2 helper a.c 1
	fn 3 other b.c 6
	fn 4 helper b.c 1
	fn 5 main main.c 3
	loc 1 0 0x1000 1:9
	loc 2 0 0x1004 2:3 1:10
	loc 3 0 0x1008 1:11
	loc 4 0 0x2000 3:8
	loc 5 0 0x2004 4:3
	loc 6 0 0x3000 5:5
	sample 700 @ 1 6
	sample 900 @ 2 6
	sample 7 @ 3 6
	sample 40 @ 5 4 6
	EOS
	./mkprof p.pb.gz <spec
'

test_expect_success 'the file as gcc 12 reads it: offsets from the start line, inline call sites, only this file' '
	cpgo convert --to=gcc --text --source-file a.c -o a.txt p.pb.gz &&
	cat >expect <<-\EOS &&
	hot:1607:700
	 3: 700
	 5: 7
	 4: helper:900
	  2: 900
	EOS
	diff -u expect a.txt &&
	cpgo convert --to=gcc -o a.afdo --source-file a.c p.pb.gz &&
	cpgo convert --show-gcc a.afdo >shown && diff -u expect shown
'

test_expect_success 'gcc reads it: the hot function is annotated with its counts, the cold one is not' '
	gcc-12 -O2 -fauto-profile=a.afdo -fdump-ipa-afdo=a.dump -c a.c -o a.o 2>err &&
	test_must_fail grep -i "afdo\|auto-profile\|error" err &&
	# The loop body (700) and the inlined helper (900) keep their counts.
	fn_counts a.dump >counts &&
	grep "^hot 700$" counts && grep "^hot 900$" counts &&
	test_must_fail grep "^cold" counts
'

test_expect_success 'statics: each file gets its own helper, not a pool of both' '
	cpgo convert --to=gcc --text --source-file b.c -o b.txt p.pb.gz &&
	cat >expect <<-\EOS &&
	helper:40:40
	 2: 40
	other:0:0
	 2: 0 helper:40
	EOS
	diff -u expect b.txt &&
	cpgo convert --to=gcc --source-file b.c -o b.afdo p.pb.gz &&
	gcc-12 -O2 -fno-inline -fauto-profile=b.afdo -fdump-ipa-afdo=b.dump -c b.c -o b.o &&
	afdo_counts b.dump >counts &&
	grep "^helper 40$" counts && grep "^other " counts &&
	# Without the file, b.c helper (not inlined) is the only top-level helper:
	# a.c helper (inlined into hot) keeps its 900 inside hot, not pooled.
	cpgo convert --to=gcc --text -o all.txt p.pb.gz &&
	grep "^helper:40:40$" all.txt && grep "^ 4: helper:900$" all.txt
'

test_expect_success 'a real run: profiled gcc build, cpgo record, counts reach the hot loop and its inlined callee' '
	use_plain_libcpgo || { echo "no plain libcpgo.so"; return 0; }
	cat >run.c <<-\EOC &&
	#include <stdio.h>
	#include <stdlib.h>
	static inline unsigned mix(unsigned x)
	{
		x ^= x >> 13;
		x *= 0x5bd1e995u;
		return x ^ (x >> 15);
	}
	unsigned spin(unsigned n)
	{
		unsigned h = 1;
		for (unsigned i = 0; i < n; i++)
			h += mix(h + i);
		return h;
	}
	int main(int argc, char **argv)
	{
		unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 300000000u;
		printf("%u\n", spin(n));
		return 0;
	}
	EOC
	cpgo cc gcc-12 -pgo=off -O2 -o run run.c &&
	cpgo record -F 2000 -o run.pprof -- ./run >/dev/null &&
	# Without contexts spin keeps a profile of its own (with them it is inlined into main).
	cpgo convert --to=gcc --no-context --text -o run.txt run.pprof &&
	grep "^spin:" run.txt &&
	awk "/^spin:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /mix:[1-9]/ { f = 1 } END { exit !f }" run.txt &&
	cpgo convert --to=gcc --no-context -o run.afdo run.pprof &&
	gcc-12 -O2 -fauto-profile=run.afdo -fdump-ipa-afdo=run.dump -c run.c -o run2.o &&
	afdo_counts run.dump >counts &&
	awk "\$1 == \"spin\" && \$2 > 100 { f = 1 } END { exit !f }" counts
'

test_expect_success 'damaged and foreign files are refused with what is wrong' '
	head -c 40 a.afdo >trunc.afdo &&
	test_must_fail cpgo convert --show-gcc trunc.afdo 2>err &&
	grep "trunc.afdo: truncated AutoFDO profile" err &&
	printf "garbage!" >bad.afdo &&
	test_must_fail cpgo convert --show-gcc bad.afdo 2>err &&
	grep "bad.afdo: not a gcc AutoFDO profile (magic" err &&
	# gcc 11 and older: version 1.
	printf "adcg\001\000\000\000" >v1.afdo && tail -c +9 a.afdo >>v1.afdo &&
	test_must_fail cpgo convert --show-gcc v1.afdo 2>err &&
	grep "AutoFDO profile version 1, gcc 12 reads version 2" err &&
	# Strings counted in words and padded (what autofdo 0.19 writes): gcc 12 crashes on them.
	printf "adcg\002\000\000\000\000\000\000\000\000\000\000\252\014\000\000\000\001\000\000\000\002\000\000\000ab\000\000\000\000\000\000" >words.afdo &&
	test_must_fail cpgo convert --show-gcc words.afdo 2>err &&
	grep "words.afdo: AutoFDO string 0 at byte 24 is not a gcc 12 string" err
'

test_expect_success 'conversion errors: not a profile, the wrong binary' '
	echo "not a profile" >junk.pgo &&
	test_must_fail cpgo convert --to=gcc -o out.afdo junk.pgo 2>err &&
	grep "junk.pgo" err && ! test -e out.afdo &&
	test_must_fail cpgo convert --to=nope -o out.afdo p.pb.gz 2>err &&
	grep "supported: llvm, gcc" err &&
	test_must_fail cpgo convert --to=gcc --discriminators=odd -o out.afdo p.pb.gz 2>err &&
	grep "discriminators is llvm, plain or none" err &&
	if [ -x run ] && [ -f run.pprof ]; then
		cpgo cc gcc-12 -pgo=off -O1 -o other run.c &&
		test_must_fail cpgo convert --to=gcc --binary other -o out.afdo run.pprof 2>err &&
		grep "build id" err && ! test -e out.afdo
	fi
'

test_done
