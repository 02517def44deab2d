#!/usr/bin/env bash
# Function layout on sqlite's shell (1.2 MB of text), on top of the cpgo
# PGO build: GNU ld (no ordering), lld without sorting, lld with clang's own
# call-graph profile (cdsort, lld's default), lld with `cpgo layout`'s
# call-graph file, lld with cpgo's C3 order, and BOLT's no-LBR mode
# (perf2bolt -nl on the same build linked with --emit-relocs).
# Reported: callgrind --cache-sim=yes I1 misses and instructions (noise-free
# proxies), and CPU time over interleaved rounds.
# Needs a finished `bench/pgo.sh --programs=sqlite --routes=cpgo` (its
# profile, inputs and amalgamation) and lld-19, bolt-19, linux-perf.
# usage: bench/layout.sh [ROUNDS]   (default 6)
set -eu -o pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"
ROUNDS=${1:-6}
WORK=${WORK:-$BENCH/work}
CPGO=${CPGO:-$ROOT/build/cpgo}
S=$WORK/src/sqlite3/bench-amalg
P=$WORK/run/sqlite/cpgo/default.pgo
GEN=$WORK/run/sqlite/cpgo-gen/bin
D=$WORK/data/sqlite
O=$WORK/run/sqlite-layout
bench_need clang-19 ld.lld-19 llvm-bolt-19 perf valgrind strip
for f in "$S/sqlite3.c" "$P" "$GEN" "$D/eval.sql"; do
	[ -e "$f" ] || bench_die "$f is missing: run 'bench/pgo.sh --programs=sqlite --routes=cpgo' first"
done
mkdir -p "$O" && cd "$O"
F="-O2 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -I$S -ffunction-sections"
for f in sqlite3 shell; do "$CPGO" cc -pgo="$P" $F -c -o $f.o "$S/$f.c" & done
wait
"$CPGO" layout --binary "$GEN" "$P" >cg.txt
"$CPGO" layout --order --binary "$GEN" "$P" >c3.txt
L="sqlite3.o shell.o -lm"
# Names the PGO build inlined away are unknown to lld: its warnings are expected.
clang-19 -O2 -o bfd $L
clang-19 -O2 -fuse-ld=lld -Wl,--no-call-graph-profile-sort -o lldnone $L
clang-19 -O2 -fuse-ld=lld -o lld $L
clang-19 -O2 -fuse-ld=lld -Wl,--call-graph-ordering-file=cg.txt -o lldcg $L 2>/dev/null
clang-19 -O2 -fuse-ld=lld -Wl,--symbol-ordering-file=c3.txt -Wl,--no-warn-symbol-ordering -o lldc3 $L
clang-19 -O2 -Wl,--emit-relocs -o relocs $L
perf record -q -e cpu-clock -F 20000 -o perf.data ./relocs :memory: <"$D/train.sql" >/dev/null
llvm-bolt-19 relocs -p perf.data -nl -aggregate-only -o perf.fdata >p2b.log 2>&1
llvm-bolt-19 relocs -o bolt -data=perf.fdata -reorder-blocks=ext-tsp -reorder-functions=cdsort \
	-split-functions -split-all-cold >bolt.log 2>&1
V="bfd lldnone lld lldcg lldc3 bolt"
want=$(./bfd :memory: <"$D/cg.sql" | cksum)
for v in $V; do
	[ "$(./$v :memory: <"$D/cg.sql" | cksum)" = "$want" ] || bench_die "$v's output differs"
done
echo "variant Ir I1_misses LL_instr_misses"
for v in $V; do
	# BOLT's output has no debug info left, and strip breaks it; the rest are stripped for valgrind.
	if [ $v = bolt ]; then cp bolt $v.s; else strip --strip-debug -o $v.s $v; fi
	valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file=cg.$v ./$v.s :memory: <"$D/cg.sql" >/dev/null 2>cg.$v.err &
done
wait
for v in $V; do awk -v v=$v '/^summary:/ { print v, $2, $5, $8 }' cg.$v; done
: >times
for r in $(seq "$ROUNDS"); do
	for v in $V; do echo "$r $v $(bench_cpu_us ./$v :memory: <"$D/eval.sql")" >>times; done
	V="${V#* } ${V%% *}" # rotate the order each round
done
echo "variant median_cpu_s ratio_vs_bfd"
for v in bfd lldnone lld lldcg lldc3 bolt; do
	m=$(awk -v v=$v '$2 == v { print $3 / 1e6 }' times | bench_median)
	r=$(awk -v v=$v '$2 == "bfd" { b[$1] = $3 } $2 == v { t[$1] = $3 } END { for (k in t) print b[k] / t[k] }' times | bench_median)
	echo "$v $m $r"
done
