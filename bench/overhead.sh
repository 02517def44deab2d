#!/usr/bin/env bash
# Overhead of libcpgo against no profiling and against perf record, on a
# fixed-work CPU-bound program (tests/workloads/spin.c), at 100 Hz and at a
# PGO-training rate. Configurations are interleaved round by round so that
# drifting machine load hits them all alike; each is reported as the ratio
# of its median wall time (and of its median CPU time, user+sys of the
# whole command incl. perf's own process) to the unprofiled median of the
# same run. CPU time is the steadier figure on a loaded machine.
#
# usage: bench/overhead.sh [ROUNDS] [STEPS]   (defaults 5 rounds, 2000M steps)
# Env: B=build dir (default build), PGO_HZ (default 10000).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${B:-build}
ROUNDS=${1:-5}
STEPS=${2:-2000}
PGO_HZ=${PGO_HZ:-10000}
LIB=$ROOT/$B/libcpgo.so
WORK=$ROOT/bench/work/overhead
[ -f "$LIB" ] || { echo "overhead.sh: $LIB missing: run make B=$B first" >&2; exit 1; }
command -v perf >/dev/null || { echo "overhead.sh: perf missing: scripts/deps.sh installs it" >&2; exit 1; }
mkdir -p "$WORK"
cd "$WORK"
clang-19 -O2 -g -fno-omit-frame-pointer -o spin "$ROOT/tests/workloads/spin.c"

names=(none cpgo-100 perf-100 "cpgo-$PGO_HZ" "perf-$PGO_HZ")
run() { # config index
	case $1 in
	0) ./spin "$STEPS" ;;
	1) CPGO_HZ=100 CPGO_PROFILE=c100.pprof LD_PRELOAD=$LIB ./spin "$STEPS" ;;
	2) perf record -q -e cpu-clock -F 100 -g -o p100.data ./spin "$STEPS" ;;
	3) CPGO_HZ=$PGO_HZ CPGO_PROFILE=chi.pprof LD_PRELOAD=$LIB ./spin "$STEPS" ;;
	4) perf record -q -e cpu-clock -F "$PGO_HZ" -g -o phi.data ./spin "$STEPS" ;;
	esac >/dev/null 2>perf.err
}
TIMEFORMAT='%R %U %S'
declare -A wall cpu
for r in $(seq "$ROUNDS"); do
	for c in 0 1 2 3 4; do
		{ time run $c; } 2>t.txt
		read -r w u s <t.txt
		wall[$c]="${wall[$c]:-} $(awk -v w="$w" 'BEGIN {printf "%d", w * 1000}')"
		cpu[$c]="${cpu[$c]:-} $(awk -v u="$u" -v s="$s" 'BEGIN {printf "%d", (u + s) * 1000}')"
	done
	echo "round $r/$ROUNDS done" >&2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wbase=$(echo "${wall[0]}" | median)
cbase=$(echo "${cpu[0]}" | median)
echo "spin $STEPS M steps, $ROUNDS interleaved rounds; medians, and ratios to 'none':"
printf "  %-12s %9s %8s %9s %8s\n" config "wall ms" ratio "CPU ms" ratio
for c in 0 1 2 3 4; do
	w=$(echo "${wall[$c]}" | median)
	u=$(echo "${cpu[$c]}" | median)
	printf "  %-12s %9s %8s %9s %8s\n" "${names[$c]}" "$w" "$(awk -v a="$w" -v b="$wbase" 'BEGIN {printf "x%.3f", a / b}')" \
		"$u" "$(awk -v a="$u" -v b="$cbase" 'BEGIN {printf "x%.3f", a / b}')"
done
samples() { go tool pprof -raw "$1" 2>/dev/null | sed -n 's/^Comment: cpgo: \(requested.*\)/\1/p' | head -1; }
echo "cpgo at 100 Hz:   $(samples c100.pprof)"
echo "cpgo at $PGO_HZ Hz: $(samples chi.pprof)"
echo "(cpgo's time includes writing and symbolizing the profile at exit; perf's includes writing perf.data)"
