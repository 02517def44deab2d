#!/usr/bin/env bash
# Overhead of libcpgo against no profiling and against perf record, on a
# fixed-work CPU-bound program (tests/workloads/spin.c), at 100 Hz, 1 kHz
# and 20 kHz: `perf record -e cpu-clock -F N -g` beside cpgo in its
# automatic mode (the kernel's ring buffer where allowed) and, with
# SIGNAL=1, cpgo's signal mode. Configurations are interleaved round by
# round so that drifting machine load hits them all alike; each is reported
# as the ratio of its median CPU time (user+sys of the whole command, perf's
# own process and cpgo's drain thread and exit-time symbolization included)
# and of its median wall time to the unprofiled median of the same run.
# CPU time is the steadier figure on a shared machine; "spread" is
# (max - min) / median of a configuration's CPU times, the run's noise.
#
# usage: bench/overhead.sh [ROUNDS] [STEPS]   (defaults 5 rounds, 1000M steps)
# Env: B=build dir (default build), RATES (default "100 1000 20000"),
#      SIGNAL=1 adds cpgo's signal mode, CC_FLAGS (default -fno-omit-frame-pointer).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
B=${B:-build}
ROUNDS=${1:-5}
STEPS=${2:-1000}
RATES=${RATES:-100 1000 20000}
LIB=$ROOT/$B/libcpgo.so
WORK=$ROOT/bench/work/overhead
[ -f "$LIB" ] || { echo "overhead.sh: $LIB missing: run make B=$B first" >&2; exit 1; }
command -v perf >/dev/null || { echo "overhead.sh: perf missing: scripts/deps.sh installs it" >&2; exit 1; }
mkdir -p "$WORK"
cd "$WORK"
clang-19 -O2 -g ${CC_FLAGS--fno-omit-frame-pointer} -o spin "$ROOT/tests/workloads/spin.c"

names=(none)
for hz in $RATES; do
	names+=("cpgo-$hz" "perf-$hz")
	[ "${SIGNAL:-0}" = 1 ] && names+=("cpgo-signal-$hz")
done
run() { # config name
	case $1 in
	none) ./spin "$STEPS" ;;
	cpgo-signal-*) CPGO_MODE=signal CPGO_HZ=${1#cpgo-signal-} CPGO_PROFILE=$1.pprof \
		LD_PRELOAD=$LIB ./spin "$STEPS" ;;
	cpgo-*) CPGO_HZ=${1#cpgo-} CPGO_PROFILE=$1.pprof LD_PRELOAD=$LIB ./spin "$STEPS" ;;
	perf-*) perf record -q -e cpu-clock -F "${1#perf-}" -g -o "$1.data" ./spin "$STEPS" ;;
	esac >/dev/null 2>"$1.err"
}
TIMEFORMAT='%R %U %S'
declare -A wall cpu
for r in $(seq "$ROUNDS"); do
	for c in "${names[@]}"; do
		{ time run "$c"; } 2>t.txt
		read -r w u s <t.txt
		wall[$c]="${wall[$c]:-} $(awk -v w="$w" 'BEGIN {printf "%d", w * 1000}')"
		cpu[$c]="${cpu[$c]:-} $(awk -v u="$u" -v s="$s" 'BEGIN {printf "%d", (u + s) * 1000}')"
	done
	echo "round $r/$ROUNDS done" >&2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.1f%%", 100 * (a[NR] - a[1]) / m}'; }
wbase=$(echo "${wall[none]}" | median)
cbase=$(echo "${cpu[none]}" | median)
echo "spin $STEPS M steps (${CC_FLAGS--fno-omit-frame-pointer}), $ROUNDS interleaved rounds; medians, and ratios to 'none':"
printf "  %-18s %9s %8s %8s %9s %8s\n" config "CPU ms" ratio spread "wall ms" ratio
for c in "${names[@]}"; do
	w=$(echo "${wall[$c]}" | median)
	u=$(echo "${cpu[$c]}" | median)
	printf "  %-18s %9s %8s %8s %9s %8s\n" "$c" "$u" "$(awk -v a="$u" -v b="$cbase" 'BEGIN {printf "x%.3f", a / b}')" \
		"$(echo "${cpu[$c]}" | spread)" "$w" "$(awk -v a="$w" -v b="$wbase" 'BEGIN {printf "x%.3f", a / b}')"
done
meta() { go tool pprof -raw "$1" 2>/dev/null | sed -n "s/^Comment: cpgo\.$2=//p" | head -1; }
for c in "${names[@]}"; do
	case $c in cpgo-*) echo "$c: mode $(meta "$c.pprof" mode), achieved $(meta "$c.pprof" achieved_hz) Hz, $(meta "$c.pprof" samples) samples, lost $(meta "$c.pprof" lost)" ;; esac
done
