#!/usr/bin/env bash
# The long mode of tests/cmd/t1005 (libcpgo never takes its host down):
# the same hosts, bigger and at 20 kHz, in ring and in signal mode, ROUNDS
# times each. Prints one line per host and mode: runs that passed, and the
# median CPU time against the unprofiled run.
#
# usage: bench/stress.sh [ROUNDS] [SCALE]   (defaults 3 rounds, scale 10)
# Env: B=build dir (default build), HZ (default 20000).
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
. bench/lib.sh
B=${B:-build}
ROUNDS=${1:-3}
SCALE=${2:-10}
HZ=${HZ:-20000}
LIB=$ROOT/$B/libcpgo.so
WORK=$ROOT/bench/work/stress
[ -f "$LIB" ] || bench_die "$LIB missing: run make B=$B first"
bench_need clang-19 go
mkdir -p "$WORK"
cd "$WORK"
clang-19 -O2 -g -fno-omit-frame-pointer -o stress "$ROOT/tests/workloads/stress.c" -lpthread

hosts=("forks $((150 * SCALE))" "threads $((1000 * SCALE))")
TIMEFORMAT='%U %S'
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for h in "${hosts[@]}"; do
	declare -A cpu=() ok=()
	for r in $(seq "$ROUNDS"); do
		for mode in none auto signal; do
			rm -f p.pprof
			if [ $mode = none ]; then
				{ time ./stress $h >/dev/null; } 2>t.txt && ok[$mode]=$((${ok[$mode]:-0} + 1))
			else
				{ time CPGO_MODE=$mode CPGO_HZ=$HZ CPGO_PROFILE=p.pprof LD_PRELOAD=$LIB \
					./stress $h >/dev/null; } 2>t.txt &&
					go tool pprof -raw p.pprof >/dev/null 2>&1 && ok[$mode]=$((${ok[$mode]:-0} + 1))
			fi
			cpu[$mode]="${cpu[$mode]:-} $(awk '{printf "%d", ($1 + $2) * 1000}' t.txt)"
		done
	done
	base=$(echo "${cpu[none]}" | median)
	for mode in auto signal; do
		c=$(echo "${cpu[$mode]}" | median)
		printf "%-16s %-7s %d/%d runs ok, CPU %d ms (x%.2f of unprofiled %d ms)\n" "$h" "$mode" \
			"${ok[$mode]:-0}" "$ROUNDS" "$c" "$(awk -v a="$c" -v b="$base" 'BEGIN {print a / b}')" "$base"
	done
done
# dlopen/dlclose racing in two threads (t1009's long mode): samples booked
# on the other thread's library, and library samples without their callers.
clang-19 -O2 -g -fPIC -shared -o liba.so "$ROOT/tests/workloads/dlswap_a.c"
clang-19 -O2 -g -fPIC -shared -o libb.so "$ROOT/tests/workloads/dlswap_b.c"
clang-19 -O2 -g -o dlrace "$ROOT/tests/workloads/dlrace.c" -lpthread
for mode in auto signal; do
	cross=0 lone=0 own=0 lostu=0
	for r in $(seq "$ROUNDS"); do
		CPGO_MODE=$mode CPGO_HZ=$HZ CPGO_PROFILE=dl.pprof LD_PRELOAD=$LIB \
			./dlrace ./liba.so ./libb.so $((100 * SCALE)) 0.004 >/dev/null || continue
		read -r c l o < <(go tool pprof -traces -sample_index=samples dl.pprof 2>/dev/null | awk '
			function flush() { if (n) { if (lib != "-" && drv != "-" && lib != tolower(drv)) c += v
				else if (lib != "-" && drv == "-") l += v; else if (lib != "-") o += v }
				n = 0; lib = "-"; drv = "-" }
			BEGIN { lib = "-"; drv = "-" }
			/^-----/ { flush(); next }
			/^ +[0-9]+ +[^ ]/ { n = 1; v = $1; f = $2 }
			/^ +[^0-9 ]/ { f = $1 }
			{ if (f ~ /^a_/) lib = lib == "b" ? "ab" : "a"; if (f ~ /^b_/) lib = lib == "a" ? "ab" : "b"
			  if (f == "drive_a") drv = "A"; if (f == "drive_b") drv = "B" }
			END { flush(); print c + 0, l + 0, o + 0 }')
		cross=$((cross + c)) lone=$((lone + l)) own=$((own + o))
		lostu=$((lostu + $(go tool pprof -raw dl.pprof 2>/dev/null | sed -n 's/^Comment: cpgo.lost_unmapped=//p' | head -1)))
	done
	echo "dlrace $mode: $own library samples on their own thread's driver, $cross on the other's," \
		"$lone without callers, $lostu dropped as ambiguous (lost_unmapped)"
done
# SIGSTOP/SIGCONT and SIGKILL over and over during one long run.
( CPGO_HZ=$HZ CPGO_PROFILE=sig.pprof LD_PRELOAD=$LIB ./stress spin $((SCALE)) >spin.out & echo $! >pid )
for i in $(seq 50); do test -s spin.out && break; sleep 0.1; done
pid=$(cat pid) stops=0
while kill -STOP "$pid" 2>/dev/null; do
	sleep 0.05; kill -CONT "$pid" 2>/dev/null || break; stops=$((stops + 1)); sleep 0.1
done
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
go tool pprof -raw sig.pprof >/dev/null 2>&1 && echo "spin $SCALE s: $stops SIGSTOP/SIGCONT, profile ok" ||
	echo "spin $SCALE s: $stops SIGSTOP/SIGCONT, PROFILE BROKEN"
kills=0 broken=0
for i in $(seq $((ROUNDS * 5))); do
	echo old >k.pprof
	( CPGO_HZ=$HZ CPGO_PROFILE=k.pprof LD_PRELOAD=$LIB ./stress spin 2 >/dev/null & echo $! >pid )
	sleep "0.$((RANDOM % 9 + 1))"; kill -KILL "$(cat pid)" 2>/dev/null && kills=$((kills + 1)); sleep 0.2
	[ "$(cat k.pprof)" = old ] && [ "$(ls k.pprof* | wc -l)" = 1 ] || broken=$((broken + 1))
done
echo "SIGKILL mid-run: $kills kills, $broken left a changed or temporary profile"
