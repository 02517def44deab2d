#!/usr/bin/env bash
# Per-function instruction counts of two builds of a program, side by side:
# where one build's gain over the other is won or lost (not a test).
#
#   bench/compare.sh [options] PROGRAM ROUTE_A ROUTE_B
#       the callgrind runs bench/pgo.sh kept for two routes of a program
#       (WORK/run/PROGRAM/cg/ROUTE), e.g. bench/compare.sh sqlite ir cpgo
#   bench/compare.sh [options] BIN_A BIN_B -- CMD [ARG...]
#       runs CMD under callgrind once with @BIN@ replaced by each binary (debug
#       info stripped first: valgrind 3.19 cannot read clang-19's DWARF 5);
#       CMD runs through sh -c, so it may redirect (<input, >output)
#
# Prints self Ir (instructions executed in the function itself, over every
# callgrind.out of the run: children and every command) per function for A
# and B, B - A, and A / B (above 1: B runs fewer), sorted by |B - A|, then the
# totals and the share of the total difference the listed rows explain.
set -u -o pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH/lib.sh"

usage() {
	cat <<USAGE
usage: bench/compare.sh [options] PROGRAM ROUTE_A ROUTE_B
       bench/compare.sh [options] BIN_A BIN_B -- CMD [ARG...]
  --top=N       rows to print (default 30; 0 = all)
  --work=DIR    bench/pgo.sh's work directory (default bench/work)
  --out=DIR     where the second form keeps its callgrind runs (default: a temporary directory)
USAGE
}

TOP=30 WORK=$BENCH/work OUT= TMPOUT=
trap 'rm -rf ${TMPOUT:+"$TMPOUT"} ${ta:+"$ta"} ${tb:+"$tb"}' EXIT
while [ $# -gt 0 ]; do
	case $1 in
	--top=*) TOP=${1#*=} ;;
	--work=*) WORK=${1#*=} ;;
	--out=*) OUT=${1#*=} ;;
	-h | --help) usage; exit 0 ;;
	--) break ;;
	-*) usage >&2; bench_die "unknown option '$1'" ;;
	*) break ;;
	esac
	shift
done
case $TOP in '' | *[!0-9]*) bench_die "--top: '$TOP' is not a number" ;; esac

# self_ir DIR...: "function<TAB>self Ir" summed over the callgrind.out.* files
# under each DIR. callgrind compresses names ("fn=(7) name" defines id 7,
# "fn=(7)" reuses it; cfn= shares the table); the cost line after a calls=
# line is the callee's inclusive cost and is not the caller's own.
self_ir() {
	local files
	files=$(find "$@" -name 'callgrind.out.*' -type f | LC_ALL=C sort)
	[ -n "$files" ] || { bench_say "bench: no callgrind.out.* under: $*"; return 1; }
	# shellcheck disable=SC2086
	awk '
		FNR == 1 { delete name; fn = ""; skip = 0 }
		function ident(s,   id, rest) {
			if (s ~ /^\([0-9]+\)/) {
				id = substr(s, 1, index(s, ")"))
				rest = substr(s, length(id) + 1); sub(/^ /, "", rest)
				if (rest != "") name[id] = rest
				return name[id]
			}
			return s
		}
		/^fn=/ { fn = ident(substr($0, 4)); next }
		/^cfn=/ { ident(substr($0, 5)); next }
		/^calls=/ { skip = 1; next }
		/^[0-9+*-]/ {
			if (skip) { skip = 0; next }
			if (fn != "" && NF >= 2) ir[fn] += $2
			next
		}
		END { for (f in ir) printf "%s\t%d\n", f, ir[f] }' $files
}

if [ $# -ge 4 ] && [ "$3" = -- ]; then
	A=$1 B=$2
	shift 3
	for b in "$A" "$B"; do [ -x "$b" ] || bench_die "'$b' is not an executable"; done
	bench_need valgrind strip
	if [ -z "$OUT" ]; then
		OUT=$(mktemp -d "${TMPDIR:-/tmp}/cpgo-compare.XXXXXX") || bench_die "cannot make a temporary directory"
		TMPOUT=$OUT
	fi
	cmd="$*"
	for side in a b; do
		bin=$([ $side = a ] && echo "$A" || echo "$B")
		rm -rf "${OUT:?}/$side" && mkdir -p "$OUT/$side" || exit 1
		strip --strip-debug -o "$OUT/$side/bin" "$bin" || bench_die "strip $bin failed"
		c=${cmd//@BIN@/$OUT/$side/bin}
		bench_callgrind_ir "$OUT/$side/cg" "$OUT/$side/stdout" sh -c "$c" >/dev/null ||
			bench_die "callgrind run of $bin failed"
	done
	if ! cmp -s "$OUT/a/stdout" "$OUT/b/stdout"; then
		bench_say "bench: warning: the two builds printed different output (see $OUT/a/stdout and $OUT/b/stdout)"
	fi
	DIR_A=$OUT/a/cg DIR_B=$OUT/b/cg
elif [ $# -eq 3 ]; then
	DIR_A=$WORK/run/$1/cg/$2 DIR_B=$WORK/run/$1/cg/$3
	for d in "$DIR_A" "$DIR_B"; do
		[ -d "$d" ] || bench_die "no callgrind runs in $d (run bench/pgo.sh --programs=$1 with both routes, callgrind on)"
	done
	A="$1 $2" B="$1 $3"
else
	usage >&2
	exit 2
fi

ta=$(mktemp) && tb=$(mktemp) || exit 1
self_ir "$DIR_A" >"$ta" || exit 1
self_ir "$DIR_B" >"$tb" || exit 1

echo "A = $A"
echo "B = $B"
awk -F'\t' -v top="$TOP" '
	FNR == NR { a[$1] = $2; all[$1] = 1; next }
	{ b[$1] = $2; all[$1] = 1 }
	function abs(x) { return x < 0 ? -x : x }
	END {
		n = 0
		for (f in all) { d = b[f] - a[f]; ta += a[f]; tb += b[f]; if (d) { n++; key[n] = f; dd[n] = d } }
		# Sort the differing functions by |B - A|, largest first.
		for (i = 2; i <= n; i++) {
			k = key[i]; v = dd[i]
			for (j = i - 1; j >= 1 && abs(dd[j]) < abs(v); j--) { key[j + 1] = key[j]; dd[j + 1] = dd[j] }
			key[j + 1] = k; dd[j + 1] = v
		}
		printf "%15s %15s %14s %7s  %s\n", "Ir A", "Ir B", "B - A", "A/B", "function"
		shown = 0
		for (i = 1; i <= n && (top == 0 || i <= top); i++) {
			f = key[i]
			r = b[f] > 0 ? sprintf("%.3f", a[f] / b[f]) : "-"
			printf "%15d %15d %+14d %7s  %s\n", a[f], b[f], dd[i], r, f
			shown += dd[i]
		}
		printf "%15d %15d %+14d %7s  %s\n", ta, tb, tb - ta, (tb > 0 ? sprintf("%.3f", ta / tb) : "-"), "TOTAL"
		if (tb != ta)
			printf "the %d rows shown explain %.1f%% of the total difference; %d functions differ\n", \
				(top == 0 || top > n) ? n : top, 100 * shown / (tb - ta), n
	}' "$ta" "$tb"
