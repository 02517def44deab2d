#!/usr/bin/env bash
# Real Debian source packages built with CC="cpgo cc" and with the plain
# compiler, each running its own test suite (not a test). Three build
# systems: bzip2 (a Makefile), popt (autotools configure + make check),
# jansson (CMake try-compiles + ctest). Per package:
#   plain    clang-19, its own flags
#   train    cpgo cc -pgo=off, the test suite run under libcpgo
#            (CPGO_PROFILE=prof/%p.pprof, every process), merged into default.pgo
#   cpgo     cpgo cc with that default.pgo at the top of the tree (-pgo=auto)
# and compares the suites' results (exit status, counts of passed/failed
# tests) of plain and cpgo, and how many translation units the profile had
# samples for (the converted profiles in a fresh cache).
# usage: bench/packages.sh [--packages=bzip2,popt,jansson] [--hz=N] [--work=DIR]
#   --hz   the training profiler's rate (default 1000; test processes that run
#          for milliseconds need more to leave samples in the package's code)
set -u -o pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"

pkgs=bzip2,popt,jansson work=$BENCH/work/packages hz=1000
for a in "$@"; do
	case $a in
	--packages=*) pkgs=${a#*=} ;;
	--work=*) work=${a#*=} ;;
	--hz=*) hz=${a#*=} ;;
	*) bench_die "unknown option $a (see the header of $0)" ;;
	esac
done
B=${B:-$ROOT/build}
CPGO=$B/cpgo
[ -x "$CPGO" ] || bench_die "$CPGO is not built (make)"
bench_need clang-19 cmake make dpkg-source
mkdir -p "$work" && work=$(cd "$work" && pwd)
export XDG_CACHE_HOME=$work/cache CPGO_CC=clang-19 PATH=$B:$PATH

# build PKG DIR CC: configure and build in DIR with CC (a command line).
build() {
	local pkg=$1 dir=$2 cc=$3
	case $pkg in
	bzip2) make -C "$dir" -j2 CC="$cc" ;;
	popt) (cd "$dir" && ./configure CC="$cc" --disable-nls && make -j2) ;;
	jansson)
		local launch=()
		[ "$cc" = clang-19 ] || launch=(-DCMAKE_C_COMPILER_LAUNCHER="cpgo;cc")
		cmake -S "$dir" -B "$dir/_b" -DCMAKE_C_COMPILER=clang-19 "${launch[@]}" \
			-DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build "$dir/_b" -j2 ;;
	esac
}

# check PKG DIR CC: runs the test suite; its log is DIR.check.log.
check() {
	local pkg=$1 dir=$2 cc=$3
	case $pkg in
	bzip2) make -C "$dir" CC="$cc" test ;;
	popt) make -C "$dir" check ;;
	jansson) (cd "$dir/_b" && ctest --output-on-failure) ;;
	esac
}

# A one-line summary of a suite's log: its pass/fail counts as it prints them.
summary() { # PKG LOG
	case $1 in
	bzip2) printf 'checks_ok=%d' "$(grep -c '^cmp ' "$2" 2>/dev/null)" ;;
	popt) printf '%s' "$(grep -E '^# (TOTAL|PASS|FAIL|ERROR):' "$2" | tr -s ' ' | tr '\n' ' ')" ;;
	jansson) printf '%s' "$(grep -E 'tests passed' "$2")" ;;
	esac
}

printf '%-8s %-6s %-6s %-9s %s\n' package build build_rc check_rc "suite summary / compiles with the profile"
for pkg in ${pkgs//,/ }; do
	src=$(bench_fetch_source "$pkg" "$work") || bench_die "cannot fetch $pkg"
	for route in plain train cpgo; do
		dir=$work/$pkg-$route
		rm -rf "$dir" && cp -r "$src" "$dir" && rm -f "$dir/.bench-unpacked"
		case $route in
		plain) cc=clang-19 ;;
		train) cc="cpgo cc -pgo=off" ;;
		cpgo) cc="cpgo cc"; "$CPGO" merge -o "$dir/default.pgo" "$work/$pkg-prof"/*.pprof \
			>"$dir.merge.log" 2>&1 || bench_die "$pkg: merging the training profiles failed" ;;
		esac
		# A fresh cache per build: its entries tell how many sources got samples.
		# (Not CPGO_DEBUG: libtool takes any compiler stderr for a failed probe.)
		rm -rf "$XDG_CACHE_HOME"
		build "$pkg" "$dir" "$cc" >"$dir.build.log" 2>&1
		brc=$?
		if [ $route = train ]; then
			rm -rf "$work/$pkg-prof" && mkdir -p "$work/$pkg-prof"
			LD_PRELOAD=$B/libcpgo.so CPGO_HZ=$hz CPGO_PROFILE=$work/$pkg-prof/%p.pprof \
				check "$pkg" "$dir" "$cc" >"$dir.check.log" 2>&1
			crc=$?
			printf '%-8s %-6s %-6s %-9s %s\n' "$pkg" "$route" $brc $crc \
				"profiles=$(ls "$work/$pkg-prof" | wc -l)"
			continue
		fi
		check "$pkg" "$dir" "$cc" >"$dir.check.log" 2>&1
		crc=$?
		extra=
		[ $route = cpgo ] && extra=" | sources with samples: $(find "$XDG_CACHE_HOME/cpgo/llvm" -name '*.prof' -size +0 | wc -l) of $(find "$XDG_CACHE_HOME/cpgo/llvm" -name '*.prof' | wc -l) converted"
		printf '%-8s %-6s %-6s %-9s %s\n' "$pkg" "$route" $brc $crc "$(summary "$pkg" "$dir.check.log")$extra"
	done
done
