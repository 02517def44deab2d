#!/usr/bin/env bash
# cpgo's demo, the Go workflow on a C program (examples/tl, a small
# bytecode interpreter): build it as users do today (plain clang-19 -O2, the
# baseline), build it with 'cpgo cc' and profile representative runs with
# libcpgo, commit the profile as default.pgo next to the sources, rebuild with
# 'cpgo cc' (which finds default.pgo by itself), check the output is the same,
# and measure the speedup against the plain build. Run by `make demo`.
#
# Environment: B (cpgo's build dir, default build), DEMO_RUNS (profiled runs,
# default 5), DEMO_HZ (sampling rate, default 20000), DEMO_ROUNDS (timing
# rounds, default 10), DEMO_CALLGRIND=0 to skip the instruction counts.
set -eu -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=$ROOT/${B:-build}
CPGO=$BUILD/cpgo
SRC=$ROOT/examples/tl
OUT=$ROOT/examples/out
RUNS=${DEMO_RUNS:-5} HZ=${DEMO_HZ:-20000} ROUNDS=${DEMO_ROUNDS:-10}
TRAIN_ARG=100 EVAL_ARG=120 CG_ARG=10

[ -x "$CPGO" ] && [ -f "$BUILD/libcpgo.so" ] || bench_die "$CPGO or $BUILD/libcpgo.so is missing: run 'make' first"
bench_need make clang-19
say() { printf '\n== %s\n' "$*"; }

rm -rf "$OUT"
mkdir -p "$OUT/profiles"
if [ -f "$SRC/default.pgo" ]; then
	echo "demo: moving the existing $SRC/default.pgo to $OUT/default.pgo.old"
	mv "$SRC/default.pgo" "$OUT/default.pgo.old"
fi

say "1. the baseline, as users build today: make CC=clang-19 CFLAGS=-O2"
make -s -C "$SRC" O="$OUT/plain" CC=clang-19 CFLAGS=-O2
echo "   and the build to profile, with cpgo's flags and no profile: make CC=\"cpgo cc -pgo=off\""
make -s -C "$SRC" O="$OUT/flags" CC="$CPGO cc -pgo=off" CFLAGS=-O2

say "2. profile $RUNS representative runs: cpgo record -F $HZ -o run.pprof -- tl workload.tl $TRAIN_ARG"
for i in $(seq "$RUNS"); do
	"$CPGO" record -F "$HZ" -o "$OUT/profiles/run$i.pprof" -- \
		"$OUT/flags/tl" "$SRC/workload.tl" "$TRAIN_ARG" >"$OUT/profiles/run$i.out" 2>"$OUT/profiles/run$i.err" ||
		{ cat "$OUT/profiles/run$i.err" >&2; bench_die "profiled run $i failed"; }
	grep -h 'wrote' "$OUT/profiles/run$i.err" | sed 's/^/   /'
done

say "3. merge them into default.pgo next to the sources: cpgo merge -o examples/tl/default.pgo"
"$CPGO" merge -o "$SRC/default.pgo" "$OUT"/profiles/run*.pprof
"$CPGO" top -n 8 "$SRC/default.pgo" | sed 's/^/   /'

say "4. rebuild with the profile: make CC=\"cpgo cc\" (finds default.pgo itself)"
make -s -C "$SRC" O="$OUT/pgo" CC="$CPGO cc" CFLAGS=-O2
"$CPGO" version "$OUT/pgo/tl" 2>&1 | sed 's/^/   /' || true

say "5. same output?"
"$OUT/plain/tl" "$SRC/workload.tl" "$EVAL_ARG" >"$OUT/plain.out"
"$OUT/pgo/tl" "$SRC/workload.tl" "$EVAL_ARG" >"$OUT/pgo.out"
cmp "$OUT/plain.out" "$OUT/pgo.out" || bench_die "the PGO build's output differs (see $OUT/plain.out, $OUT/pgo.out)"
echo "   yes ($(wc -l <"$OUT/plain.out") lines of checksums)"

say "6. speed: $ROUNDS interleaved rounds of 'tl workload.tl $EVAL_ARG' (an input the profile did not see)"
: >"$OUT/times"
for r in $(seq "$ROUNDS"); do
	order="plain flags pgo"
	[ $((r % 2)) = 0 ] && order="pgo flags plain"
	for v in $order; do
		echo "$r $v $(bench_cpu_us "$OUT/$v/tl" "$SRC/workload.tl" "$EVAL_ARG")" >>"$OUT/times"
	done
done
# paired_ratio V: median over rounds of plain's CPU time / V's, same round.
paired_ratio() {
	awk -v v="$1" '$2 == "plain" { b[$1] = $3 } $2 == v { t[$1] = $3 } END { for (k in t) print b[k] / t[k] }' "$OUT/times" | bench_median
}
ratio=$(paired_ratio pgo)
fratio=$(paired_ratio flags)
printf '   cpgo cc without a profile: %.3fx the speed of plain -O2 (the cost of its flags)\n' "$fratio"

irline=
if [ "${DEMO_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
	say "7. instructions executed (callgrind, 'tl workload.tl $CG_ARG'): noise-free"
	for v in plain flags pgo; do
		strip --strip-debug -o "$OUT/$v.stripped" "$OUT/$v/tl"
		bench_callgrind_ir "$OUT/cg-$v" /dev/null "$OUT/$v.stripped" "$SRC/workload.tl" "$CG_ARG" >"$OUT/ir-$v"
		echo "   $v: $(cat "$OUT/ir-$v") instructions"
	done
	irline=$(awk -v a="$(cat "$OUT/ir-plain")" -v b="$(cat "$OUT/ir-pgo")" 'BEGIN { printf "%.3fx fewer instructions", a / b }')
fi

say "result"
printf '   PGO speedup over plain clang-19 -O2: %.3fx (median of %d paired rounds of plain CPU time / PGO CPU time)%s\n' "$ratio" "$ROUNDS" "${irline:+; $irline}"
echo "   The profile stays in examples/tl/default.pgo: commit it, and every 'make CC=\"cpgo cc\"' uses it."
