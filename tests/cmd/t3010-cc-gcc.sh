#!/usr/bin/env bash
# cpgo cc with gcc: the profile reaches gcc 12 as -fauto-profile (its
# -fdump-ipa-afdo shows the counts), the cache, make -j, the depfile, the
# ELF note, `cc` and `gcc-12` recognized as gcc, a damaged cache entry
# converted again, and a profile gcc refuses: a plain build with a note.
. "$(dirname "$0")/lib.sh"

if ! command -v gcc-12 >/dev/null; then
	test_skip "gcc-12 is not installed"
	test_done
	exit 0
fi

# The largest count gcc annotated on FUNCTION from the profile (empty: none).
afdo_max() { # DUMP FUNCTION
	awk -v want="$2" '/^[A-Za-z_].*\(.*\)$/ { fn = $0; sub(/ \(.*/, "", fn); n = split(fn, w, " "); fn = w[n]; sub(/^\*+/, "", fn) }
	fn == want && /\[count: [0-9]+/ { c = $0; sub(/.*\[count: /, "", c); sub(/\].*/, "", c); if (c + 0 >= m) { m = c + 0; f = 1 } }
	END { if (f) print m }' "$1"
}

test_expect_success 'setup: a program of eight files with a profile, a library without' 'cc_test_repo'

test_expect_success 'the profile reaches gcc: -fauto-profile, counts on the hot loop, the note in the object' '
	cd repo/prog &&
	CPGO_DEBUG=1 cpgo cc gcc-12 -O2 -fdump-ipa-afdo=work.dump -c work.c -o work.o 2>log &&
	grep "run: gcc-12 .*-fauto-profile=$XDG_CACHE_HOME/cpgo/gcc/" log &&
	# The loop body has the 900 samples (propagation may raise the header above).
	test "$(afdo_max work.dump work)" -ge 900 && grep -q "\[count: 900\]" work.dump &&
	cpgo version work.o >out &&
	echo "work.o: built with profile $(sha default.pgo) (default.pgo)" >want &&
	cmp want out
'

test_expect_success '`cc` (gcc on Debian) and `gcc` are gcc too' '
	cd repo/prog &&
	if readlink -f "$(command -v cc)" | grep -q gcc; then
		CPGO_DEBUG=1 cpgo cc cc -O2 -c work.c -o cwork.o 2>log &&
		grep "run: cc .*-fauto-profile=" log
	fi &&
	CPGO_DEBUG=1 CPGO_CC=gcc cpgo cc -O2 -c work.c -o gwork.o 2>log &&
	grep "run: gcc .*-fauto-profile=" log
'

test_expect_success 'a source without samples builds without -fauto-profile' '
	cd repo/prog &&
	CPGO_DEBUG=1 cpgo cc gcc-12 -O2 -c f1.c -o f1.o 2>log &&
	grep "no samples for this file" log && ! grep -- "-fauto-profile" log
'

test_expect_success 'concurrent compiles of one file on a cold cache all succeed' '
	rm -rf "$XDG_CACHE_HOME" && cd repo/prog &&
	for i in 1 2 3 4 5 6; do cpgo cc gcc-12 -O2 -c work.c -o w$i.o & done &&
	fail=0 && for i in 1 2 3 4 5 6; do wait %$i || fail=1; done && test $fail = 0 &&
	for i in 2 3 4 5 6; do cmp w1.o w$i.o || return 1; done &&
	test -z "$(find "$XDG_CACHE_HOME" -name "*.tmp.*")"
'

test_expect_success 'make -j4 CC="cpgo cc gcc-12": every object records the profile, depfiles name it' '
	rm -rf "$XDG_CACHE_HOME" && cd repo/prog && rm -f *.o *.d &&
	make -j4 CC="cpgo cc gcc-12" >log 2>&1 && ./prog; test $? = 0 &&
	cpgo version prog >out &&
	echo "prog: built with profile $(sha default.pgo) (default.pgo)" >want && cmp want out &&
	cpgo version ../lib/libfn.o >out && echo "../lib/libfn.o: no profile" >want && cmp want out &&
	test $(ls "$XDG_CACHE_HOME/cpgo/gcc" | wc -l) = 8 &&
	test -z "$(find "$XDG_CACHE_HOME" -name "*.tmp.*")" &&
	! grep -q cpgo-note work.d && grep -q "^work.o: .*default.pgo$" work.d &&
	grep -q "default.pgo:$" work.d
'

test_expect_success 'a rebuild converts nothing; a new default.pgo rebuilds through the depfile' '
	cd repo/prog &&
	rm -f *.o prog && CPGO_DEBUG=1 make -j4 CC="cpgo cc gcc-12" >log 2>&1 &&
	test $(grep -c "cache hit" log) = 8 && ! grep "converted into" log &&
	printf "500 work:work.c:1:5 main:main.c:3:5\n" | ../../gen default.pgo &&
	make CC="cpgo cc gcc-12" >log 2>&1 && grep "work.c" log &&
	cpgo version prog >out &&
	echo "prog: built with profile $(sha default.pgo) (default.pgo)" >want && cmp want out
'

test_expect_success 'a damaged cache entry is converted again, not given to gcc (which crashes on one)' '
	cd repo/prog &&
	for f in "$XDG_CACHE_HOME"/cpgo/gcc/*; do
		test -s "$f" || continue
		head -c 30 "$f" >"$f.cut" && mv "$f.cut" "$f" || return 1
	done &&
	CPGO_DEBUG=1 cpgo cc gcc-12 -O2 -c work.c -o work.o 2>log &&
	grep "damaged in the cache, converted again" log &&
	cpgo convert --show-gcc "$(sed -n "s/.*-fauto-profile=\([^ ]*\).*/\1/p" log)" >shown &&
	grep "^work:" shown
'

test_expect_success 'a profile gcc refuses: a plain build with a note, no profile recorded' '
	mkdir -p fake && cat >fake/gcc <<-\EOS &&
	#!/bin/sh
	# gcc-12 that speaks a newer AutoFDO version than cpgo writes.
	for a in "$@"; do
		case $a in -fauto-profile=*)
			echo "cc1: error: AutoFDO profile version 2 does not match 3" >&2
			exit 1 ;;
		esac
	done
	exec gcc-12 "$@"
	EOS
	chmod +x fake/gcc &&
	cd repo/prog &&
	PATH=$TRASH/fake:$PATH cpgo cc gcc -O2 -c work.c -o fw.o 2>err &&
	grep "cpgo cc: note: gcc refused the converted profile (cc1: error: AutoFDO profile version 2 does not match 3); building without PGO" err &&
	cpgo version fw.o | grep "fw.o: no profile" &&
	# A real error of the source is gcc'"'"'s, shown once, not retried.
	echo "int broken(void) { return }" >bad.c &&
	printf "10 broken:bad.c:1:1\n" | ../../gen bad.pgo &&
	test_must_fail cpgo cc gcc-12 -pgo=bad.pgo -O2 -c bad.c -o bad.o 2>err &&
	test $(grep -c "error:" err) = 1 && ! grep "cpgo cc: note" err
'

test_expect_success 'one command line, sources with and without a profile, -pgo=off' '
	cpgo cc gcc-12 -O2 -o mixed repo/prog/main.c repo/prog/work.c repo/lib/libfn.c &&
	./mixed; test $? = 0 &&
	cpgo version mixed | grep "built with profile $(sha repo/prog/default.pgo)" &&
	CPGO_DEBUG=1 cpgo cc gcc-12 -pgo=off -O2 -o plain repo/prog/main.c repo/prog/work.c repo/lib/libfn.c 2>log &&
	! grep -- "-fauto-profile" log && cpgo version plain | grep "plain: no profile"
'

test_done
