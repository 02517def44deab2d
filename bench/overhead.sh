#!/usr/bin/env bash
# Overhead of libcpgo against no profiling and against perf record, at
# 100 Hz, 1 kHz and 20 kHz, on two programs, each built with and without
# frame pointers:
#   spin    a small fixed-work CPU-bound program (tests/workloads/spin.c,
#           a 12-deep call chain)
#   sqlite  the sqlite3 shell (the amalgamation, ~1.5 MB of code, deep
#           stacks through the VDBE and the b-tree) over generated SQL
#           (bench/gen_sql.awk); its sources come from bench/pgo.sh's fetch
# `perf record -e cpu-clock -F N -g` runs beside cpgo in its automatic mode
# (the kernel's ring buffer; frame pointers where the binary keeps them,
# the CFI tables otherwise) and, with SIGNAL=1, cpgo's signal mode. Every
# configuration of every program and build runs once per round, rounds
# interleaved, so that drifting machine load hits them all alike; each is
# reported as the ratio of its median CPU time (user+sys of the whole
# command: perf's own process, cpgo's drain thread and its exit-time
# symbolization included) to the unprofiled median of the same build.
# "spread" is (max - min) / median of a configuration's CPU times: the
# run's noise, the figure to judge a ratio by.
#
# The fixed cost (tables at start, symbolization and writing at exit) is
# measured apart: the same program on a tiny input, cpgo at 100 Hz against
# none; it is in the long runs' figures too.
#
# usage: bench/overhead.sh [ROUNDS] [SECONDS]   (defaults 3 rounds, 10 s runs)
# Env: B=build dir (default build), RATES (default "100 1000 20000"),
#      PROGRAMS (default "spin sqlite"), BUILDS (default "fp nofp"),
#      SIGNAL=1 adds cpgo's signal mode.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
. "$ROOT/bench/lib.sh"
B=${B:-build}
ROUNDS=${1:-3}
SECS=${2:-10}
RATES=${RATES:-100 1000 20000}
PROGRAMS=${PROGRAMS:-spin sqlite}
BUILDS=${BUILDS:-fp nofp}
LIB=$ROOT/$B/libcpgo.so
WORK=$ROOT/bench/work/overhead
[ -f "$LIB" ] || bench_die "overhead.sh: $LIB missing: run make B=$B first"
command -v perf >/dev/null || bench_die "overhead.sh: perf missing: scripts/deps.sh installs it"
mkdir -p "$WORK"
cd "$WORK"

flags() { [ "$1" = fp ] && echo -fno-omit-frame-pointer || echo -fomit-frame-pointer; }
TIMEFORMAT='%R %U %S'
cpu_ms() { # CMD...: the CPU ms (user+sys) of CMD
	{ time "$@" >/dev/null 2>>"$WORK/err.log"; } 2>"$WORK/t.txt"
	awk '{ printf "%d\n", ($2 + $3) * 1000 }' "$WORK/t.txt"
}

# ---- the programs: build, and the command for N units of work ----
spin_build() { clang-19 -O2 -g "$(flags "$1")" -o "spin-$1" "$ROOT/tests/workloads/spin.c"; }
spin_cmd() { echo "./spin-$1 $2"; } # BUILD MILLIONS_OF_STEPS -> "COMMAND" (no input)
sqlite_src() {
	local d
	d=$(bench_fetch_source sqlite3 "$ROOT/bench/work/src") || return 1
	if [ ! -f "$d/bench-amalg/.done" ]; then
		rm -rf "$d/bench-amalg" && mkdir -p "$d/bench-amalg" &&
		(cd "$d/bench-amalg" && "$d/configure" CC=clang-19 --disable-tcl --disable-readline &&
			make sqlite3.c shell.c) >"$WORK/sqlite-conf.log" 2>&1 &&
		touch "$d/bench-amalg/.done" || return 1
	fi
	echo "$d/bench-amalg"
}
sqlite_build() {
	local a
	a=$(sqlite_src) || bench_die "overhead.sh: no sqlite3 sources (see $WORK/sqlite-conf.log)"
	clang-19 -O2 -g "$(flags "$1")" -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -I"$a" \
		-o "sqlite-$1" "$a/sqlite3.c" "$a/shell.c" -lm
}
sqlite_cmd() { # BUILD ROWS -> "COMMAND <INPUT"
	[ -f "sql-$2.sql" ] || awk -v seed=2 -v rows="$2" -v mix=eval -f "$ROOT/bench/gen_sql.awk" >"sql-$2.sql"
	echo "./sqlite-$1 :memory: <sql-$2.sql"
}
# Units of work per calibration run, and for the tiny (fixed-cost) run.
spin_unit=100 spin_tiny=1
sqlite_unit=10000 sqlite_tiny=200

configs=(none)
for hz in $RATES; do
	configs+=("cpgo-$hz" "perf-$hz")
	[ "${SIGNAL:-0}" = 1 ] && configs+=("cpgo-signal-$hz")
done
run() { # VARIANT CONFIG "COMMAND [<INPUT]": LD_PRELOAD and perf see the program alone
	local c=${3%%<*} in=/dev/null
	case $3 in *'<'*) in=${3#*<} ;; esac
	# $c is split into words on purpose: a program and its arguments.
	case $2 in
	none) $c <"$in" ;;
	cpgo-signal-*) CPGO_MODE=signal CPGO_HZ=${2#cpgo-signal-} CPGO_PROFILE=$1-$2.pprof \
		LD_PRELOAD=$LIB $c <"$in" ;;
	cpgo-*) CPGO_HZ=${2#cpgo-} CPGO_PROFILE=$1-$2.pprof LD_PRELOAD=$LIB $c <"$in" ;;
	perf-*) perf record -q -e cpu-clock -F "${2#perf-}" -g -o "$1-$2.data" -- $c <"$in" ;;
	esac
}

declare -A cmd tiny
variants=()
for p in $PROGRAMS; do
	for b in $BUILDS; do
		"${p}_build" "$b" || bench_die "overhead.sh: building $p ($b) failed"
		unit=${p}_unit
		# Scale the work so that an unprofiled run takes about SECS CPU seconds.
		c=$("${p}_cmd" "$b" "${!unit}")
		ms=$(cpu_ms run "$p-$b" none "$c")
		n=$(awk -v u="${!unit}" -v ms="$ms" -v s="$SECS" 'BEGIN { printf "%d", u * s * 1000 / (ms > 1 ? ms : 1) }')
		t=${p}_tiny
		cmd[$p-$b]=$("${p}_cmd" "$b" "$n")
		tiny[$p-$b]=$("${p}_cmd" "$b" "${!t}")
		variants+=("$p-$b")
		echo "$p ($b): $n units (~$SECS s): ${cmd[$p-$b]}" >&2
	done
done

declare -A cpu
for r in $(seq "$ROUNDS"); do
	for v in "${variants[@]}"; do
		for c in "${configs[@]}"; do
			cpu[$v/$c]="${cpu[$v/$c]:-} $(cpu_ms run "$v" "$c" "${cmd[$v]}")"
		done
		for c in none cpgo-100; do
			cpu[$v/tiny-$c]="${cpu[$v/tiny-$c]:-} $(cpu_ms run "$v-tiny" "$c" "${tiny[$v]}")"
		done
	done
	echo "round $r/$ROUNDS done" >&2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f%%", 100 * (a[NR] - a[1]) / m}'; }
meta() { go tool pprof -raw "$1" 2>/dev/null | sed -n "s/^Comment: cpgo\.$2=//p" | head -1; }
echo "CPU time (user+sys), medians of $ROUNDS interleaved rounds; ratio to 'none' of the same build"
for v in "${variants[@]}"; do
	base=$(echo "${cpu[$v/none]}" | median)
	echo
	echo "$v: ${cmd[$v]}"
	printf "  %-16s %9s %8s %8s  %s\n" config "CPU ms" ratio spread "cpgo: mode/unwinder, achieved Hz, lost, truncated"
	for c in "${configs[@]}"; do
		u=$(echo "${cpu[$v/$c]}" | median)
		extra=
		case $c in cpgo-*)
			f=$v-$c.pprof
			tr=$(go tool pprof -top -nodecount=1000 "$f" 2>/dev/null | awk '$6 == "[truncated]" { print $5 }')
			extra="$(meta "$f" mode)/$(meta "$f" unwinder), $(meta "$f" achieved_hz) Hz, lost $(meta "$f" lost), truncated ${tr:-0%}" ;;
		esac
		printf "  %-16s %9s %8s %8s  %s\n" "$c" "$u" "$(awk -v a="$u" -v b="$base" 'BEGIN {printf "x%.3f", a / b}')" \
			"$(echo "${cpu[$v/$c]}" | spread)" "$extra"
	done
	t0=$(echo "${cpu[$v/tiny-none]}" | median)
	t1=$(echo "${cpu[$v/tiny-cpgo-100]}" | median)
	echo "  fixed cost (tiny input, cpgo 100 Hz - none): $((t1 - t0)) ms CPU (${tiny[$v]})"
done
