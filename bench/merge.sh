#!/usr/bin/env bash
# Benchmark (not a test): `cpgo merge` against `go tool pprof -proto` on two
# large generated CPU profiles (bench/gen_profile.c: 200k distinct stacks
# over 20k functions with inlined frames, ~17 MB gzipped each), same inputs,
# same run, rounds interleaved. Reports wall time, CPU time (user+sys) and
# peak memory (maximum resident set size) as ratios against pprof.
#
#   bench/merge.sh [ROUNDS]        (B=build dir, default build; STACKS, FUNCTIONS)
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
ROUNDS=${1:-3}
STACKS=${STACKS:-200000}
FUNCTIONS=${FUNCTIONS:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/cpgo-bench-merge.XXXXXX")
trap 'rm -rf "$work"' EXIT

make -s B="$B" "$B/cpgo" "$B/libcpgo-core.a" "$B/link-libs" >/dev/null
${CC:-cc} -O2 -g -D_GNU_SOURCE -Iinclude -Ilib -I"$B/gen" bench/gen_profile.c \
	"$B/libcpgo-core.a" $(cat "$B/link-libs") -o "$work/gen_profile"
"$work/gen_profile" "$work/a.pprof" 0 "$STACKS" "$FUNCTIONS"
"$work/gen_profile" "$work/b.pprof" 1 "$STACKS" "$FUNCTIONS"
echo "inputs: $(du -m "$work/a.pprof" | cut -f1) MB + $(du -m "$work/b.pprof" | cut -f1) MB gzipped," \
	"$STACKS stacks over $FUNCTIONS functions each"
export GOCACHE=$work/gocache HOME=$work

# measure NAME CMD...: appends "wall cpu maxrss_kb" to $work/NAME.
measure() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$@" >"$work/$name.pprof" 2>"$work/$name.err" ||
		{ cat "$work/$name.err" >&2; exit 1; }
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time.out" >>"$work/$name"
}

for r in $(seq "$ROUNDS"); do
	measure cpgo "$B/cpgo" merge -q -o - "$work/a.pprof" "$work/b.pprof"
	measure pprof go tool pprof -proto "$work/a.pprof" "$work/b.pprof"
	echo "round $r: cpgo $(tail -1 "$work/cpgo")  pprof $(tail -1 "$work/pprof")  (wall s, cpu s, KB)"
done

# Both outputs must describe the same profile before speed means anything.
go tool pprof -top -nodecount=25 "$work/cpgo.pprof" 2>/dev/null | sed -n '/flat%/,$p' >"$work/c.top"
go tool pprof -top -nodecount=25 "$work/pprof.pprof" 2>/dev/null | sed -n '/flat%/,$p' >"$work/p.top"
if ! diff -q "$work/c.top" "$work/p.top" >/dev/null; then
	echo "bench/merge.sh: cpgo's and pprof's merged profiles differ:" >&2
	diff "$work/c.top" "$work/p.top" | head -20 >&2
	exit 1
fi

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$work/$1" | median; }
cw=$(col cpgo 1) cc=$(col cpgo 2) cm=$(col cpgo 3)
pw=$(col pprof 1) pc=$(col pprof 2) pm=$(col pprof 3)
echo "median of $ROUNDS rounds:"
echo "  go tool pprof -proto: ${pw} s wall, ${pc} s CPU, $((pm / 1024)) MB peak"
echo "  cpgo merge:           ${cw} s wall, ${cc} s CPU, $((cm / 1024)) MB peak"
awk -v cw="$cw" -v cc="$cc" -v cm="$cm" -v pw="$pw" -v pc="$pc" -v pm="$pm" 'BEGIN {
	printf "  cpgo is %.1fx faster (wall), %.1fx less CPU, peak memory %.2f of pprof'"'"'s\n",
		pw / cw, pc / cc, cm / pm
	printf "  target: >= 10x faster, <= 0.25 of the memory: %s\n",
		(pw / cw >= 10 && cm / pm <= 0.25) ? "met" : "NOT met"
}'
