#!/usr/bin/env bash
# Which of gcc's profile-driven passes fire, per route of a `bench/pgo.sh
# --compiler=gcc` run (not a test): recompiles one program's sources the way
# each route built them, with -fopt-info-optimized, and counts the messages
# by kind (inlining, unrolling, vectorizing, indirect-call promotion, ...).
# usage: bench/gcc-passes.sh WORK PROGRAM FILE...   (FILE: sources, relative
#        to the program's source tree, as bench/pgo.sh compiles them)
#   e.g. bench/gcc-passes.sh bench/work/gcc bzip2 blocksort.c compress.c ...
# Reuses the run's profiles: WORK/run/P/{ir/gcda,afdo/afdo.afdo,cpgo/default.pgo}.
set -u -o pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"
[ $# -ge 3 ] || bench_die "usage: bench/gcc-passes.sh WORK PROGRAM FILE..."
WORK=$(cd "$1" && pwd) P=$2
shift 2
CPGO=${CPGO:-$ROOT/build/cpgo}
RUN=$WORK/run/$P
SRC=$(ls -d "$WORK"/src/*/ | while read -r d; do [ -f "$d/.bench-unpacked" ] && [ -f "$d/$1" ] && echo "$d"; done | head -1)
[ -n "$SRC" ] || bench_die "no unpacked source tree under $WORK/src has $1"
EXTRA=${EXTRA_CFLAGS:-}
OUT=$RUN/passes
rm -rf "$OUT" && mkdir -p "$OUT"

# route FLAGS: each file compiled to the object path pgo.sh used (gcc finds
# .gcda files by it), messages into OUT/ROUTE.txt.
compile() { # ROUTE OBJDIR CC FLAGS
	local r=$1 objdir=$2 cc=$3 flags=$4 f
	for f in "${FILES[@]}"; do
		# shellcheck disable=SC2086
		(cd "$SRC" && $cc -O2 $EXTRA $flags -fopt-info-optimized -c -o "$objdir/$(echo "$f" | tr '/' '_').o" "$f") 2>>"$OUT/$r.txt" >/dev/null ||
			bench_say "bench: $r: $f failed (see $OUT/$r.txt)"
	done
}
FILES=("$@")
T=$OUT/obj
mkdir -p "$T"
compile o2 "$T" gcc-12 ""
[ -d "$RUN/ir/gcda" ] && compile ir "$RUN/ir/b/obj" gcc-12 "-fprofile-use=$RUN/ir/gcda -Wno-missing-profile"
[ -f "$RUN/afdo/afdo.afdo" ] && compile afdo "$T" gcc-12 "-g1 -gdwarf-4 -fauto-profile=$RUN/afdo/afdo.afdo"
[ -f "$RUN/cpgo/default.pgo" ] && compile cpgo "$T" "$CPGO cc gcc-12" "-pgo=$RUN/cpgo/default.pgo"

# The kind of a message: the pass that wrote it, names and numbers left out.
kinds() {
	sed -n 's/.*optimized: *//p' "$1" | awk '
		/^Inlining .* into /        { k = "early inline (einline; afdo: hot call sites)"; n[k]++; next }
		/^Inlined .* into /         { k = "IPA inline"; n[k]++; next }
		/^Indirect call -> direct/  { k = "indirect call promoted"; n[k]++; next }
		/completely unrolled/       { k = "loop completely unrolled"; n[k]++; next }
		/^loop unrolled/            { k = "loop unrolled"; n[k]++; next }
		/^loop vectorized/          { k = "loop vectorized"; n[k]++; next }
		/^loop versioned/           { k = "loop versioned"; n[k]++; next }
		/^loop turned into non-loop/ { k = "loop peeled away (never loops)"; n[k]++; next }
		/^loop with .* peeled|^peeled/ { k = "loop peeled"; n[k]++; next }
		/^Unswitching loop/         { k = "loop unswitched"; n[k]++; next }
		/^basic block part vectorized/ { k = "basic block part vectorized"; n[k]++; next }
		{ k = $1 " " $2 " " $3; gsub(/[0-9]+/, "N", k); n[k]++ }
		END { for (k in n) print n[k] "\t" k }' | sort -t'	' -k2
}
for r in o2 ir afdo cpgo; do [ -f "$OUT/$r.txt" ] && kinds "$OUT/$r.txt" >"$OUT/$r.kinds"; done
# One table: kind, then the count per route.
awk -F'\t' '{ k = $2; r = FILENAME; sub(/.*\//, "", r); sub(/\.kinds$/, "", r); c[k, r] = $1; keys[k] = 1; routes[r] = 1 }
	END {
		printf "| message kind |"; split("o2 ir afdo cpgo", order, " ")
		for (i = 1; i <= 4; i++) if (order[i] in routes) printf " %s |", order[i]; print ""
		printf "|---|"; for (i = 1; i <= 4; i++) if (order[i] in routes) printf "---|"; print ""
		for (k in keys) { printf "| %s |", k; for (i = 1; i <= 4; i++) if (order[i] in routes) printf " %s |", ((k, order[i]) in c) ? c[k, order[i]] : 0; print "" }
	}' "$OUT"/*.kinds | { read -r h; read -r s; echo "$h"; echo "$s"; sort; }
