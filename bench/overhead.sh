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
# the CFI tables otherwise) and, with SIGNAL=1, cpgo's signal mode. The
# floor at the higher rates is `perf record -e cpu-clock -F N` without -g:
# the timer interrupt and a sample record with no stack, what any sampler
# pays; cpgo's cost above it is its own (stack copies, the drain thread).
# Every
# configuration of every program and build runs once per round, rounds
# interleaved, so that drifting machine load hits them all alike; each is
# reported as the ratio of its median CPU time (user+sys of the whole
# command: perf's own process, cpgo's drain thread and its exit-time
# symbolization included) to the unprofiled median of the same build.
# "spread" is (max - min) / median of a configuration's CPU times: the
# run's noise, the figure to judge a ratio by.
#
# Runs are sized in unprofiled CPU seconds: SECONDS for 100 Hz (and its
# own 'none'), SHORT for the higher rates, whose cost is far above the
# noise. LONG_BUILDS says which builds get the long runs (default nofp,
# the new path; a shared machine cannot afford more).
#
# The fixed cost (tables at start, symbolization and writing at exit) is
# measured apart: the same program on a tiny input, cpgo at 100 Hz against
# none; it is in the runs' figures too. From the 20 kHz runs comes the
# cost per sample, and from it and the fixed cost an estimate of the
# 100 Hz cost that the noise of a direct measurement cannot resolve.
#
# usage: bench/overhead.sh [ROUNDS] [SECONDS] [SHORT]   (defaults 3, 10, 2)
# Env: B=build dir (default build), RATES (default "100 1000 20000"),
#      PROGRAMS (default "spin sqlite"), BUILDS (default "fp nofp"),
#      LONG_BUILDS (default nofp), SIGNAL=1 adds cpgo's signal mode.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
. "$ROOT/bench/lib.sh"
B=${B:-build}
ROUNDS=${1:-3}
SECS=${2:-10}
SHORT=${3:-2}
LONG_BUILDS=${LONG_BUILDS:-nofp}
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
	# Three minutes of compiling each: kept while the sources are older.
	[ "sqlite-$1" -nt "$a/sqlite3.c" ] && [ "sqlite-$1" -nt "$ROOT/bench/overhead.sh" ] && return 0
	clang-19 -O2 -g "$(flags "$1")" -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -I"$a" \
		-o "sqlite-$1" "$a/sqlite3.c" "$a/shell.c" -lm
}
sqlite_cmd() { # BUILD ROWS -> "COMMAND <INPUT"
	[ -f "sql-$2.sql" ] || awk -v seed=2 -v rows="$2" -v mix=eval -f "$ROOT/bench/gen_sql.awk" >"sql-$2.sql"
	echo "./sqlite-$1 :memory: <sql-$2.sql"
}
# Units of work per calibration run (~1 s), and for the tiny (fixed-cost) run.
spin_unit=800 spin_tiny=1
sqlite_unit=40000 sqlite_tiny=200

configs=(none)
for hz in $RATES; do
	[ "$hz" = 100 ] && continue
	configs+=("cpgo-$hz" "perf-$hz" "floor-$hz")
	[ "${SIGNAL:-0}" = 1 ] && configs+=("cpgo-signal-$hz")
done
# The 100 Hz configurations, on the long runs (short runs too for builds without long ones).
lconfigs=()
case " $RATES " in *" 100 "*) lconfigs=(none cpgo-100 perf-100) ;; esac
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
	floor-*) perf record -q -e cpu-clock -F "${2#floor-}" -o "$1-$2.data" -- $c <"$in" ;;
	esac
}

declare -A cmd long tiny
variants=()
for p in $PROGRAMS; do
	for b in $BUILDS; do
		"${p}_build" "$b" || bench_die "overhead.sh: building $p ($b) failed"
		unit=${p}_unit
		# Scale the work to the CPU seconds wanted (roughly: sqlite's work is not quite linear).
		c=$("${p}_cmd" "$b" "${!unit}")
		ms=$(cpu_ms run "$p-$b" none "$c")
		scale() { awk -v u="${!unit}" -v ms="$ms" -v s="$1" 'BEGIN { printf "%d", u * s * 1000 / (ms > 1 ? ms : 1) }'; }
		t=${p}_tiny
		cmd[$p-$b]=$("${p}_cmd" "$b" "$(scale "$SHORT")")
		case " $LONG_BUILDS " in *" $b "*) long[$p-$b]=$("${p}_cmd" "$b" "$(scale "$SECS")") ;; esac
		tiny[$p-$b]=$("${p}_cmd" "$b" "${!t}")
		variants+=("$p-$b")
		echo "$p ($b): short ${cmd[$p-$b]}, long ${long[$p-$b]:-none}" >&2
	done
done

declare -A cpu
for r in $(seq "$ROUNDS"); do
	for v in "${variants[@]}"; do
		for c in "${configs[@]}"; do
			cpu[$v/$c]="${cpu[$v/$c]:-} $(cpu_ms run "$v" "$c" "${cmd[$v]}")"
		done
		for c in "${lconfigs[@]}"; do
			if [ -n "${long[$v]:-}" ]; then
				cpu[$v/long-$c]="${cpu[$v/long-$c]:-} $(cpu_ms run "$v-long" "$c" "${long[$v]}")"
			elif [ "$c" != none ]; then
				cpu[$v/$c]="${cpu[$v/$c]:-} $(cpu_ms run "$v" "$c" "${cmd[$v]}")"
			fi
		done
		for c in none cpgo-100; do
			cpu[$v/tiny-$c]="${cpu[$v/tiny-$c]:-} $(cpu_ms run "$v-tiny" "$c" "${tiny[$v]}")"
		done
	done
	echo "round $r/$ROUNDS done" >&2
done

minimum() { tr ' ' '\n' | grep . | sort -n | head -1; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f%%", 100 * (a[NR] - a[1]) / m}'; }
meta() { go tool pprof -raw "$1" 2>/dev/null | sed -n "s/^Comment: cpgo\.$2=//p" | head -1; }
echo "CPU time (user+sys), medians of $ROUNDS interleaved rounds; ratio to 'none' of the same build and length"
row() { # NAME BASE-KEY KEY PROFILE
	local u base extra= f=$4 tr
	u=$(echo "${cpu[$3]}" | median)
	base=$(echo "${cpu[$2]}" | median)
	if [ -n "$f" ] && [ -f "$f" ]; then
		tr=$(go tool pprof -top -nodecount=1000 "$f" 2>/dev/null | awk '$6 == "[truncated]" { print $5 }')
		extra="$(meta "$f" mode)/$(meta "$f" unwinder), $(meta "$f" achieved_hz) Hz, $(meta "$f" samples) samples, lost $(meta "$f" lost), truncated ${tr:-0%}, copy $(meta "$f" stack_bytes) B, drain $(meta "$f" drain_cpu_ms) ms"
	fi
	printf "  %-16s %9s %8s %8s %9s  %s\n" "$1" "$u" "$(awk -v a="$u" -v b="$base" 'BEGIN {printf "x%.3f", a / b}')" \
		"$(echo "${cpu[$3]}" | spread)" "$(echo "${cpu[$3]}" | minimum)" "$extra"
}
for v in "${variants[@]}"; do
	echo
	echo "$v: short runs ${cmd[$v]}${long[$v]:+, long runs ${long[$v]}}"
	printf "  %-16s %9s %8s %8s %9s  %s\n" config "CPU ms" ratio spread "min ms" \
		"cpgo: mode/unwinder, achieved Hz, samples, lost, truncated, stack copy, drain thread CPU"
	for c in "${configs[@]}"; do
		case $c in cpgo-*) f=$v-$c.pprof ;; *) f= ;; esac
		row "$c" "$v/none" "$v/$c" "$f"
	done
	for c in "${lconfigs[@]}"; do
		case $c in cpgo-*) f=$v-long-$c.pprof ;; *) f= ;; esac
		if [ -n "${long[$v]:-}" ]; then
			row "long $c" "$v/long-none" "$v/long-$c" "$f"
		elif [ "$c" != none ]; then
			row "$c" "$v/none" "$v/$c" "${f/-long/}"
		fi
	done
	t0=$(echo "${cpu[$v/tiny-none]}" | median)
	t1=$(echo "${cpu[$v/tiny-cpgo-100]}" | median)
	fixed=$((t1 - t0))
	echo "  fixed cost (tiny input, cpgo 100 Hz - none): $fixed ms CPU (${tiny[$v]})"
	if [ -n "${cpu[$v/cpgo-20000]:-}" ]; then
		b=$(echo "${cpu[$v/none]}" | median)
		u=$(echo "${cpu[$v/cpgo-20000]}" | median)
		n=$(meta "$v-cpgo-20000.pprof" samples)
		awk -v u="$u" -v b="$b" -v n="${n:-0}" -v f="$fixed" -v s="$SECS" 'BEGIN {
			if (n <= 0) exit
			per = (u - b - f) / n
			printf "  per sample (20 kHz runs): %.1f us CPU; estimated 100 Hz cost on a %d s run: %.2f%% (samples %.2f%% + fixed %.2f%%)\n",
				per * 1000, s, (per * 100 * s + f) / (s * 10), per * 100 / 10, f / (s * 10) }'
		fl=$(echo "${cpu[$v/floor-20000]}" | median)
		pg=$(echo "${cpu[$v/perf-20000]}" | median)
		awk -v u="$u" -v b="$b" -v fl="$fl" -v pg="$pg" -v n="${n:-0}" -v f="$fixed" 'BEGIN {
			if (n <= 0) exit
			printf "  floor (perf -F 20000, no -g): %.1f us CPU a sample; cpgo above it: %.1f us, perf -g above it: %.1f us\n",
				(fl - b) * 1000 / n, (u - fl - f) * 1000 / n, (pg - fl) * 1000 / n }'
	fi
done
