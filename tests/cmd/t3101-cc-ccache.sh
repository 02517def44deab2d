#!/usr/bin/env bash
# ccache behind cpgo cc (CPGO_CC="ccache clang-19", cpgo cc ccache clang-19)
# and in front of it (ccache cpgo cc, CCACHE_PREFIX=cpgo-cc): the objects are
# those cpgo cc makes alone, the second build is a cache hit, and a changed
# profile is never answered with an object built from the old one (behind:
# the converted profile's path names its content; in front: ccache is told
# to hash the profile with CCACHE_EXTRAFILES, as it cannot see it).
. "$(dirname "$0")/lib.sh"

if ! command -v clang-19 >/dev/null || ! command -v ccache >/dev/null; then
	test_skip "clang-19 or ccache is not installed"
	test_done
	exit 0
fi
export CPGO_CC=clang-19 CCACHE_DIR=$TRASH/ccache CCACHE_NOHASHDIR=1

hits() { ccache --print-stats | awk '$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { n += $2 } END { print n + 0 }'; }

test_expect_success 'setup: a source and two profiles of it' '
	make_gen &&
	mkdir -p repo/.git && cd repo &&
	printf "%s\n" "int work(int n)" "{" "	int s = 0;" "	for (int i = 0; i < n; i++)" \
		"		s += i * 3;" "	return s;" "}" "int cold(int x)" "{" "	return x + 1;" "}" >work.c &&
	printf "900 work:work.c:1:5\n" | ../gen ../p1.pgo &&
	printf "900 cold:work.c:8:10\n10 work:work.c:1:3\n" | ../gen ../p2.pgo &&
	cp ../p1.pgo default.pgo && cpgo cc -O2 -c work.c -o ref1.o &&
	cp ../p2.pgo default.pgo && cpgo cc -O2 -c work.c -o ref2.o &&
	! cmp -s ref1.o ref2.o
'

# check_route NAME CMD...: build, build again (a hit), change the profile, build.
check_route() {
	local name=$1 h0
	shift
	ccache -C >/dev/null && ccache -z >/dev/null &&
	cp ../p1.pgo default.pgo &&
	"$@" -O2 -c work.c -o "$name-a.o" && cmp ref1.o "$name-a.o" &&
	h0=$(hits) && "$@" -O2 -c work.c -o "$name-b.o" && cmp ref1.o "$name-b.o" &&
	test "$(hits)" -gt "$h0" &&
	cp ../p2.pgo default.pgo &&
	"$@" -O2 -c work.c -o "$name-c.o" && cmp ref2.o "$name-c.o"
}

test_expect_success 'ccache behind: CPGO_CC="ccache clang-19"' '
	cd repo && CPGO_CC="ccache clang-19" check_route env cpgo cc
'

test_expect_success 'ccache behind: cpgo cc ccache clang-19' '
	cd repo && check_route arg cpgo cc ccache clang-19
'

test_expect_success 'ccache in front: ccache cpgo cc, the profile hashed' '
	cd repo && CCACHE_EXTRAFILES=$PWD/default.pgo check_route front ccache cpgo cc
'

test_expect_success 'ccache in front: CCACHE_PREFIX=cpgo-cc ccache clang-19, the profile hashed' '
	cd repo && CCACHE_PREFIX=cpgo-cc CCACHE_EXTRAFILES=$PWD/default.pgo \
		check_route prefix ccache clang-19
'

test_done
