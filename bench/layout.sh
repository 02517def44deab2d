#!/usr/bin/env bash
# Function layout and hot/cold splitting on the cpgo PGO build, all from the
# same profile and the same objects (built once by `cpgo cc -pgo-layout=on`,
# which adds -ffunction-sections; once more with -pgo-split=on):
#   bfd      GNU ld, no ordering (what Debian links with)
#   lldnone  lld without sorting (--no-call-graph-profile-sort)
#   lld      cpgo cc -pgo-layout=lld: lld's cdsort over clang's own call-graph sections
#   cg       cpgo cc -pgo-layout=callgraph: the profile's call graph, named after the objects
#   c3       cpgo cc -pgo-layout=order: the profile's C3 order
#   bolt     BOLT's no-LBR mode: perf2bolt -nl on the bfd link with --emit-relocs
#   split    the -pgo-split=on objects, GNU ld
#   spliton  the -pgo-split=on objects, -pgo-layout=on
# on sqlite's shell (the amalgamation) and Tcl's static tclsh (its own make,
# relinked per variant). Reported: .text size, the hot code's pages, callgrind --cache-sim=yes
# instructions and I1 misses (noise-free proxies), and the median CPU time of
# interleaved rounds with the median of its per-round ratio to bfd's (below 1:
# faster).
# BOLT's .text holds only the code it moved (the rest stays in bolt.org.text).
# Needs a finished `bench/pgo.sh --programs=sqlite,tcl --routes=cpgo` (the
# profiles, inputs and sources) and lld-19, bolt-19, linux-perf, valgrind.
# usage: bench/layout.sh [ROUNDS [PROGRAMS]]   (default 6 "sqlite tcl")
# REUSE=1 keeps the objects of an earlier run (an interrupted Tcl build resumes);
# VARIANTS="bfd lld ..." measures only those (no split variant: no split build).
set -eu -o pipefail
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"
ROUNDS=${1:-6}
PROGRAMS=${2:-sqlite tcl}
WORK=${WORK:-$BENCH/work}
CPGO=${CPGO:-$ROOT/build/cpgo}
V=${VARIANTS:-bfd lldnone lld cg c3 bolt split spliton}
# bfd is the baseline of every ratio: always measured, first.
V=$(echo bfd $V | tr ' ' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
bench_need clang-19 ld.lld-19 llvm-bolt-19 perf valgrind strip
export CPGO_CC=clang-19

# hot_pages BIN CGFILE: how many 4 KiB pages the functions of BIN that run 99%
# of its own instructions under callgrind (CGFILE) span, by their symbols'
# ranges: the hot code's footprint (i-TLB, L2), which callgrind's I1 does not
# model. A split function's hot part is its symbol, its .cold part another.
hot_pages() {
	local bin=$1 cg=$2 base
	base=$(basename "$bin")
	callgrind_annotate --show=Ir --threshold=100 "$cg" 2>/dev/null |
		awk -v b="$base" 'index($0, "/" b "]") { sub(/\([^)]*\)/, "")
			ir = $1; gsub(",", "", ir); fn = $2; sub(/^[^:]*:/, "", fn); sub(/'"'"'[0-9]+$/, "", fn)
			print ir, fn }' | sort -k1,1nr >"$cg.fn"
	nm -S -t d --defined-only "$bin" | awk '$3 ~ /^[tTwW]$/ { print $4, $1, $2 }' >"$cg.syms"
	awk 'NR == FNR { ir[NR] = $1; fn[NR] = $2; tot += $1; n = NR; next }
		{ addr[$1] = addr[$1] " " $2 ":" $3 }
		END {
			for (i = 1; i <= n && cum < 0.99 * tot; i++) {
				cum += ir[i]; k = split(addr[fn[i]], a, " ")
				for (j = 1; j <= k; j++) {
					split(a[j], p, ":"); s = p[1] + 0; z = p[2] + 0
					for (pg = int(s / 4096); pg <= int((s + (z ? z - 1 : 0)) / 4096); pg++) hot[pg] = 1
				}
			}
			for (pg in hot) c++
			print c + 0
		}' "$cg.fn" "$cg.syms"
}

# Per program: PROG_setup (sets P, the profile), PROG_objs DIR SPLIT,
# PROG_link NAME DIR CPGO-OPTIONS..., and PROG_train/cg/eval BIN, which print
# the shell command that runs BIN on that input.
sqlite_setup() {
	S=$WORK/src/sqlite3/bench-amalg D=$WORK/data/sqlite P=$WORK/run/sqlite/cpgo/default.pgo
	for f in "$S/sqlite3.c" "$P" "$D/eval.sql"; do
		[ -e "$f" ] || bench_die "$f is missing: run 'bench/pgo.sh --programs=sqlite --routes=cpgo' first"
	done
}
sqlite_objs() { # DIR SPLIT
	local f
	mkdir -p "$1"
	[ "${REUSE:-0}" = 1 ] && [ -f "$1/shell.o" ] && return 0
	for f in sqlite3 shell; do
		"$CPGO" cc -pgo="$P" -pgo-layout=on -pgo-split="$2" -O2 -DSQLITE_THREADSAFE=0 \
			-DSQLITE_OMIT_LOAD_EXTENSION -I"$S" -c -o "$1/$f.o" "$S/$f.c" &
	done
	wait
}
sqlite_link() { # NAME DIR OPTIONS...
	local n=$1 d=$2
	shift 2
	"$CPGO" cc -pgo="$P" "$@" -O2 -o "$n" "$d/sqlite3.o" "$d/shell.o" -lm
}
sqlite_train() { echo "$1 :memory: <$D/train.sql"; }
sqlite_cg() { echo "$1 :memory: <$D/cg.sql"; }
sqlite_eval() { echo "$1 :memory: <$D/eval.sql"; }

tcl_setup() {
	S=$WORK/src/tcl8.6 P=$WORK/run/tcl/cpgo/default.pgo
	for f in "$S/unix/configure" "$P"; do
		[ -e "$f" ] || bench_die "$f is missing: run 'bench/pgo.sh --programs=tcl --routes=cpgo' first"
	done
	export TCL_LIBRARY=$S/library
}
tcl_objs() { # DIR SPLIT
	if [ "${REUSE:-0}" != 1 ] || [ ! -f "$1/Makefile" ]; then
		rm -rf "$1" && mkdir -p "$1" &&
			(cd "$1" && "$S/unix/configure" CC=clang-19 --disable-shared --disable-threads >configure.log 2>&1) ||
			return 1
	fi
	(cd "$1" && make -j2 CC="$CPGO cc -pgo=$P -pgo-layout=on -pgo-split=$2" CFLAGS_OPTIMIZE=-O2 tclsh >>make.log 2>&1)
}
tcl_link() { # NAME DIR OPTIONS...: make relinks tclsh alone with cpgo cc's link options
	local n=$1 d=$2
	shift 2
	rm -f "$d/tclsh"
	(cd "$d" && make CC="$CPGO cc -pgo=$P $*" CFLAGS_OPTIMIZE=-O2 tclsh >link.log 2>&1)
	mv "$d/tclsh" "$n"
}
tcl_train() { echo "$1 $BENCH/workload.tcl 1 150"; }
tcl_cg() { echo "$1 $BENCH/workload.tcl 3 40"; }
tcl_eval() { echo "$1 $BENCH/workload.tcl 2 250"; }

for prog in $PROGRAMS; do
	declare -F "${prog}_setup" >/dev/null || bench_die "unknown program '$prog' (sqlite, tcl)"
	O=$WORK/run/$prog-layout
	mkdir -p "$O"
	"${prog}_setup"
	cd "$O"
	bench_say "bench: $prog: objects (layout on, split off and on)"
	want_split=0
	case " $V " in *" split"*) want_split=1 ;; esac
	"${prog}_objs" "$O/obj" off &
	[ $want_split = 0 ] || "${prog}_objs" "$O/objsplit" on &
	wait
	[ -e "$O/obj" ] || bench_die "$prog: the objects did not build"
	bench_say "bench: $prog: links"
	link_variant() { # NAME
		case $1 in
		bfd) "${prog}_link" bfd obj -pgo-layout=off ;;
		lldnone) "${prog}_link" lldnone obj -pgo-layout=off -fuse-ld=lld -Wl,--no-call-graph-profile-sort ;;
		lld) "${prog}_link" lld obj -pgo-layout=lld ;;
		cg) "${prog}_link" cg obj -pgo-layout=callgraph ;;
		c3) "${prog}_link" c3 obj -pgo-layout=order ;;
		bolt) "${prog}_link" relocs obj -pgo-layout=off -Wl,--emit-relocs ;;
		split) "${prog}_link" split objsplit -pgo-layout=off ;;
		spliton) "${prog}_link" spliton objsplit -pgo-layout=on ;;
		*) bench_die "unknown variant '$1'" ;;
		esac
	}
	for v in $V; do link_variant $v; done
	for v in $V; do
		case $v in lld | cg | c3 | spliton)
			readelf -p .comment $v | grep -q "Linker: .*LLD" || bench_die "$prog: $v was not linked by lld" ;;
		esac
	done
	case " $V " in *" bolt "*)
	bench_say "bench: $prog: BOLT -nl"
	perf record -q -e cpu-clock -F 20000 -o perf.data -- bash -c "$("${prog}_train" ./relocs)" >/dev/null 2>perf.log
	llvm-bolt-19 relocs -p perf.data -nl -aggregate-only -o perf.fdata >p2b.log 2>&1
	llvm-bolt-19 relocs -o bolt -data=perf.fdata -reorder-blocks=ext-tsp -reorder-functions=cdsort \
		-split-functions -split-all-cold >bolt.log 2>&1 ;;
	esac
	want=$(bash -c "$("${prog}_cg" ./bfd)" | cksum)
	for v in $V; do
		[ "$(bash -c "$("${prog}_cg" ./$v)" | cksum)" = "$want" ] || bench_die "$prog: $v's output differs"
	done
	bench_say "bench: $prog: callgrind"
	# BOLT's output has no debug info left, and strip breaks it; the rest are stripped for valgrind.
	n=0
	for v in $V; do
		if [ $v = bolt ]; then cp bolt $v.s; else strip --strip-debug -o $v.s $v; fi
		bash -c "$("${prog}_cg" "valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file=cg.$v ./$v.s")" \
			>/dev/null 2>cg.$v.err &
		n=$((n + 1))
		[ $((n % 2)) = 0 ] && wait
	done
	wait
	bench_say "bench: $prog: $ROUNDS interleaved timing rounds"
	: >times
	order=$V
	for r in $(seq "$ROUNDS"); do
		for v in $order; do echo "$r $v $(bench_cpu_us bash -c "$("${prog}_eval" ./$v)")" >>times; done
		order="${order#* } ${order%% *}" # rotate the order each round
	done
	{
		echo "## $prog ($ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg))"
		echo
		echo "| variant | .text bytes | hot 4K pages | Ir | I1 misses | median CPU s | time vs bfd |"
		echo "|---|---|---|---|---|---|---|"
		for v in $V; do
			m=$(awk -v v=$v '$2 == v { print $3 / 1e6 }' times | bench_median)
			r=$(awk -v v=$v '$2 == "bfd" { b[$1] = $3 } $2 == v { t[$1] = $3 } END { for (k in t) print t[k] / b[k] }' times | bench_median)
			awk -v v=$v -v m=$m -v r=$r -v t="$(size -A $v | awk '$1 == ".text" { print $2 }')" \
				-v h="$(hot_pages $v.s cg.$v)" \
				'/^summary:/ { printf "| %s | %s | %s | %s | %s | %.3f | %.3f |\n", v, t, h, $2, $5, m, r }' cg.$v
		done
		echo
	} | tee "$O/results.md"
done
