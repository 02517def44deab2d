#!/usr/bin/env bash
# cpgo cc's function layout at link time: -ffunction-sections on profiled
# compiles, lld with the profile's call graph or C3 order, objects built with
# and without the profile in one link, GNU ld with a note once per build
# directory, the plain link when the one with the layout fails, and the
# user's own linker options.
. "$(dirname "$0")/lib.sh"

if ! command -v clang-19 >/dev/null || ! command -v ld.lld-19 >/dev/null; then
	test_skip "clang-19 and lld-19 are needed"
	test_done
	exit 0
fi

# The commands cpgo cc ran (CPGO_DEBUG's trace), one a line.
runs() { sed -n "s/^cpgo cc: run: //p" "$1"; }
link_line() { runs "$1" | grep -v -- " -c " | tail -1; }
built_by_lld() { readelf -p .comment "$1" | grep -q "Linker: .*LLD"; }

test_expect_success 'setup: three files with same-named statics, a library, a profile' '
	make_gen &&
	mkdir -p repo/.git && cd repo &&
	cat >a.c <<-\EOC &&
	__attribute__((noinline)) static int helper(int x) { return x * 3 + (x >> 2); }
	int hot_a(int n) { int s = 0; for (int i = 0; i < n; i++) s += helper(i); return s; }
	EOC
	cat >b.c <<-\EOC &&
	__attribute__((noinline)) static int helper(int x) { return x * 5 - (x >> 3); }
	int hot_b(int n) { int s = 0; for (int i = 0; i < n; i++) s += helper(i); return s; }
	int cold_b(int x) { return x + 1; }
	EOC
	cat >lib.c <<-\EOC &&
	int libfn(int x) { return x ^ 0x55; }
	EOC
	cat >main.c <<-\EOC &&
	#include <stdio.h>
	int hot_a(int), hot_b(int), cold_b(int), libfn(int);
	int main(int argc, char **argv)
	{
		(void)argv;
		printf("%d\n", hot_a(1000 * argc) + hot_b(1000) + libfn(argc) + (argc > 5 ? cold_b(argc) : 0));
		return 0;
	}
	EOC
	printf "%s\n" "500 helper:a.c:1:1 hot_a:a.c:2:2 main:main.c:3:6" \
		"300 helper:b.c:1:1 hot_b:b.c:2:2 main:main.c:3:6" \
		"100 hot_a:a.c:2:2 main:main.c:3:6" "20 libfn:lib.c:1:1 main:main.c:3:6" |
		../gen default.pgo &&
	clang-19 -O2 -o plain main.c a.c b.c lib.c && ./plain >want
'

test_expect_success 'layout=callgraph: profiled compiles get -ffunction-sections, lld gets the call graph' '
	cd repo &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=callgraph -O2 -o prog main.c a.c b.c lib.c 2>trace &&
	test "$(runs trace | grep -c -- "-ffunction-sections.* -c ")" = 4 &&
	link_line trace >link &&
	grep -q -- "-fuse-ld=lld --ld-path=[^ ]*ld.lld" link &&
	grep -q -- "-Wl,--call-graph-ordering-file=" link &&
	grep -q "layout from .*default.pgo: 6 function(s) found in 4 object(s), 0 not" trace &&
	built_by_lld prog && ./prog >out && cmp want out
'

# The binary is in the order `cpgo layout --order` computes from its own symbols.
test_expect_success 'layout=on is the C3 order: the functions sit in it, same-named statics both placed' '
	cd repo &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -O2 -o prog2 main.c a.c b.c lib.c 2>trace &&
	link_line trace | grep -q -- "-Wl,--symbol-ordering-file=.* -Wl,--no-warn-symbol-ordering" &&
	./prog2 >out && cmp want out &&
	cpgo layout --order --binary prog2 default.pgo >order &&
	test "$(grep -cx helper order)" = 2 &&
	nm -n prog2 | awk "\$2 ~ /^[tT]\$/ { print \$3 }" >byaddr &&
	grep -xF -f order byaddr >placed &&
	# helper appears twice in both lists: compare without duplicates.
	awk "!seen[\$0]++" order >o1 && awk "!seen[\$0]++" placed >o2 &&
	cmp o1 o2
'

test_expect_success 'layout=lld: lld sorts by clang'"'"'s own call-graph sections, no file' '
	cd repo &&
	CPGO_DEBUG=1 CPGO_LAYOUT=lld cpgo cc -O2 -o prog3 main.c a.c b.c lib.c 2>trace &&
	link_line trace >link && grep -q -- "-fuse-ld=lld" link && ! grep -q ordering-file link &&
	built_by_lld prog3 && ./prog3 >out && cmp want out
'

test_expect_success 'the default and off: no -ffunction-sections and no lld unless the default is on' '
	cd repo &&
	default=$(cpgo cc --help | sed -n "s/.*call graph (by default \(on\|off\)).*/\1/p") &&
	test -n "$default" &&
	CPGO_DEBUG=1 cpgo cc -O2 -o prog4 main.c a.c b.c lib.c 2>trace &&
	if test "$default" = off; then
		! grep -q -- -ffunction-sections trace && ! built_by_lld prog4
	else
		grep -q -- -ffunction-sections trace && built_by_lld prog4
	fi &&
	CPGO_DEBUG=1 CPGO_LAYOUT=on cpgo cc -pgo-layout=off -O2 -o prog4 main.c a.c b.c lib.c 2>trace &&
	! grep -q -- -ffunction-sections trace && ! built_by_lld prog4 && ./prog4 >out && cmp want out
'

test_expect_success 'mixed objects: built with and without the profile, an archive, linked with layout' '
	cd repo &&
	cpgo cc -pgo=off -O2 -c main.c -o main.o &&
	cpgo cc -pgo-layout=on -O2 -c a.c -o a.o &&
	clang-19 -O2 -c b.c -o b.o &&
	cpgo cc -pgo-layout=on -O2 -c lib.c -o lib.o && ar rcs libl.a lib.o &&
	readelf -SW a.o | grep -q "\.text\.hot_a" && ! readelf -SW main.o | grep -q "\.text\.main" &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -O2 -o prog5 main.o a.o b.o libl.a 2>trace &&
	grep -q "found in 4 object(s)" trace &&
	grep -q -- "-Wl,--symbol-ordering-file=" trace &&
	built_by_lld prog5 && ./prog5 >out && cmp want out
'

test_expect_success 'without lld: GNU ld links, one note per build directory' '
	cd repo &&
	CPGO_LLD= cpgo cc -pgo-layout=on -O2 -o prog6 main.c a.c b.c lib.c 2>err1 &&
	grep -q "cpgo cc: note: function layout needs lld" err1 && test "$(wc -l <err1)" = 1 &&
	! built_by_lld prog6 && ./prog6 >out && cmp want out &&
	CPGO_LLD= cpgo cc -pgo-layout=on -O2 -o prog6 main.o a.o b.o libl.a 2>err2 &&
	test ! -s err2 &&
	mkdir -p sub && cd sub &&
	CPGO_LLD= cpgo cc -pgo=../default.pgo -pgo-layout=on -O2 -o prog6 ../main.o ../a.o ../b.o \
		../libl.a 2>err3 &&
	grep -q "function layout needs lld" err3 && ./prog6 >out && cmp ../want out
'

test_expect_success 'a link that fails with the layout is rerun plainly; a real failure stays one' '
	cd repo &&
	printf "#!/bin/sh\necho \"ld.lld: error: broken on purpose\" >&2\nexit 3\n" >badlld &&
	chmod +x badlld &&
	CPGO_LLD=$PWD/badlld cpgo cc -pgo-layout=on -O2 -o prog7 main.c a.c b.c lib.c 2>err &&
	grep -q "the link with function layout failed: ld.lld: error: broken on purpose; linking again without it" err &&
	! built_by_lld prog7 && ./prog7 >out && cmp want out &&
	echo "int missing(void); int main(void) { return missing(); }" >bad.c &&
	test_must_fail cpgo cc -pgo-layout=on -O2 -o prog8 bad.c 2>err &&
	grep -q "undefined" err && test ! -e prog8
'

test_expect_success 'the user'"'"'s -fuse-ld and ordering options win' '
	cd repo &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -fuse-ld=bfd -O2 -o prog9 main.c a.c b.c lib.c 2>trace &&
	grep -q "note: function layout needs lld; the linker you chose (bfd) is kept" trace &&
	! built_by_lld prog9 &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -fuse-ld=lld -O2 -o prog9 main.c a.c b.c lib.c 2>trace &&
	link_line trace >link && ! grep -q -- --ld-path link &&
	grep -q -- "--symbol-ordering-file" link && built_by_lld prog9 &&
	echo main >mine &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -fuse-ld=lld -Wl,--symbol-ordering-file=mine -O2 \
		-o prog9 main.c a.c b.c lib.c 2>trace &&
	link_line trace >link && test "$(grep -o "ordering-file=[^ ]*" link)" = "ordering-file=mine" &&
	./prog9 >out && cmp want out
'

test_expect_success 'no link, no layout: -c, and a partial link with -r' '
	cd repo &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -O2 -c a.c -o a2.o 2>trace &&
	! grep -q -- -fuse-ld trace &&
	CPGO_DEBUG=1 cpgo cc -pgo-layout=on -r -o part.o a.o b.o 2>trace &&
	! grep -q -- -fuse-ld trace && test -s part.o
'

test_expect_success 'hot/cold splitting: -pgo-split and CPGO_SPLIT, profiled compiles only' '
	cd repo &&
	CPGO_DEBUG=1 cpgo cc -pgo-split=on -O2 -c a.c -o s.o 2>trace &&
	grep -q -- -fsplit-machine-functions trace &&
	CPGO_DEBUG=1 CPGO_SPLIT=on cpgo cc -pgo-split=off -O2 -c a.c -o s.o 2>trace &&
	! grep -q -- -fsplit-machine-functions trace &&
	CPGO_DEBUG=1 CPGO_SPLIT=on cpgo cc -pgo=off -O2 -c a.c -o s.o 2>trace &&
	! grep -q -- -fsplit-machine-functions trace
'

test_expect_success 'bad values are usage errors naming the option' '
	cd repo &&
	test_must_fail cpgo cc -pgo-layout=sideways -O2 -c a.c 2>err &&
	grep -q -- "-pgo-layout=sideways: use on, off, lld, callgraph or order" err &&
	CPGO_LAYOUT=maybe test_must_fail cpgo cc -O2 -c a.c 2>err &&
	grep -q "CPGO_LAYOUT=maybe" err &&
	test_must_fail cpgo cc -pgo-split=2 -O2 -c a.c 2>err && grep -q -- "-pgo-split=2" err
'

test_done
