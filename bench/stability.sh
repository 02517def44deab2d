#!/usr/bin/env bash
# bench/stability.sh: does a committed profile keep its value while the code
# and the profile move on? On a real program (bzip2 1.0.8 from Debian's
# source package, as bench/pgo.sh builds it) this measures, in callgrind
# instructions (Ir, noise-free; -O2 / route, above 1 is fewer):
#
#   source   the profile of the original code drives builds of edited code:
#            code added outside the hot functions, a function moved to
#            another file, the hot function renamed (with and without
#            `cpgo rename`), lines inserted inside the hot function. For
#            each: cpgo check's figures against the edited sources, the
#            PGO build's Ir gain against the edited code's own -O2 build,
#            and that gain as a share of the unedited PGO build's gain;
#            also with LLVM's -salvage-stale-profile/-salvage-unused-profile.
#   cycles   build -> profile -> PGO build -> profile the PGO binary -> ...
#            three times: the hot set (top functions) and the Ir gain.
#   nonrep   a profile trained on a very different input (highly
#            repetitive data, compression only) evaluated on text
#            compression and decompression, against plain -O2.
#   cross    the x86-64 profile drives clang-19 --target=aarch64-linux-gnu
#            -c of the same sources: which sampled functions get profile
#            data (!prof function_entry_count in the IR), against x86-64.
#
#   overhead what cpgo cc's stale-profile check adds to each compile.
#
# usage: bench/stability.sh [--parts=source,cycles,nonrep,cross,overhead] [--hz=N] [--runs=N]
# Results: bench/work/stability/results.md; step logs next to it.
set -u
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"
CPGO=${CPGO:-$ROOT/build/cpgo}
PARTS=source,cycles,nonrep,cross,overhead HZ=20000 RUNS=3
for a in "$@"; do
	case $a in
	--parts=*) PARTS=${a#*=} ;;
	--hz=*) HZ=${a#*=} ;;
	--runs=*) RUNS=${a#*=} ;;
	-h|--help) sed -n '2,28p' "$0"; exit 0 ;;
	*) bench_die "unknown argument '$a' (see --help)" ;;
	esac
done
bench_need clang-19 llvm-dwarfdump-19 valgrind callgrind_annotate perf strip awk "$CPGO"
W=$BENCH/work/stability
mkdir -p "$W"
LOG=$W/log.txt
: >"$LOG"
RES=$W/results.md
export XDG_CACHE_HOME=$W/cache
SRC=$(bench_fetch_source bzip2 "$BENCH/work/src") || bench_die "cannot fetch bzip2's source"
LUA=$(bench_fetch_source lua5.4 "$BENCH/work/src") || bench_die "cannot fetch lua5.4's source"
FILES="blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c"
CFLAGS="-O2 -D_FILE_OFFSET_BITS=64 -Wno-deprecated-non-prototype"
SALVAGE="-mllvm -salvage-stale-profile -mllvm -salvage-unused-profile"
part() { case ",$PARTS," in *",$1,"*) return 0 ;; esac; return 1; }
say() { printf '%s\n' "$*" | tee -a "$LOG" >&2; }
# Ratio a/b with 3 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
# Share of the gain kept: (r - 1) / (r0 - 1).
kept() { awk -v r="$1" -v r0="$2" 'BEGIN { if (r0 - 1 <= 0.0005) print "-"; else printf "%.0f%%", 100 * (r - 1) / (r0 - 1) }'; }

# --- inputs: training is generated text plus Lua's sources, evaluation other
# generated text plus bzip2's own sources (as bench/pgo.sh does); "rep" is a
# highly repetitive input that sends bzip2's block sort down another path.
mkdata() {
	[ -f "$W/train.txt" ] || { awk -v seed=11 -v bytes=3000000 -f "$BENCH/gen_corpus.awk"; find "$LUA" -name '*.[ch]' | LC_ALL=C sort | xargs cat; } >"$W/train.txt"
	[ -f "$W/eval.txt" ] || { awk -v seed=22 -v bytes=700000 -f "$BENCH/gen_corpus.awk"; find "$SRC" -name '*.[ch]' | LC_ALL=C sort | xargs cat; } >"$W/eval.txt"
	[ -f "$W/rep.txt" ] || awk 'BEGIN { for (i = 0; i < 120000; i++) printf "abababababababababab%d\n", i % 7 }' >"$W/rep.txt"
}
# build OUT SRCDIR MODE [EXTRA]: MODE o2 (plain clang-19), off (cpgo cc
# -pgo=off) or a profile path (cpgo cc -pgo=PROFILE); EXTRA goes to the compiler.
build() {
	local out=$1 src=$2 mode=$3 extra=${4:-} f objs=()
	rm -rf "$out.d" && mkdir -p "$out.d"
	for f in $(cat "$src/.files"); do
		objs+=("$out.d/${f%.c}.o")
		if [ "$mode" = o2 ]; then
			# shellcheck disable=SC2086
			clang-19 $CFLAGS $extra -c -o "$out.d/${f%.c}.o" "$src/$f" || return 1
		else
			# shellcheck disable=SC2086
			CPGO_MIN_MATCH=0 "$CPGO" cc -pgo="$mode" clang-19 $CFLAGS $extra -c -o "$out.d/${f%.c}.o" "$src/$f" || return 1
		fi
	done
	clang-19 -o "$out" "${objs[@]}" || return 1
	strip --strip-debug -o "$out.strip" "$out"
}

# profile OUT BIN INPUT: cpgo record of compress -9, -1 and their
# decompression, RUNS times each, merged.
profile() {
	local out=$1 bin=$2 input=$3 i=0 parts=() r lvl
	for r in $(seq "$RUNS"); do
		for lvl in 9 1; do
			i=$((i + 1))
			"$CPGO" record -F "$HZ" -o "$out.$i" -- "$bin" -c -$lvl "$input" >"$W/t.bz2" 2>>"$LOG" || return 1
			parts+=("$out.$i")
			i=$((i + 1))
			"$CPGO" record -F "$HZ" -o "$out.$i" -- "$bin" -d -c "$W/t.bz2" >/dev/null 2>>"$LOG" || return 1
			parts+=("$out.$i")
		done
	done
	"$CPGO" merge -o "$out" "${parts[@]}" >>"$LOG" 2>&1 && rm -f "${parts[@]}"
}

# ir BIN: instructions of the evaluation (compress -9 and -1, decompress).
ir() {
	local bin=$1.strip total=0 n
	for c in "-c -9 $W/eval.txt" "-c -1 $W/eval.txt" "-d -c $W/ref9.bz2"; do
		# shellcheck disable=SC2086
		n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" $c 2>&1 >/dev/null |
			sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
		[ -n "$n" ] || return 1
		total=$((total + n))
	done
	echo "$total"
}

# checkfig PROFILE SRCDIR: "matched found moved" of cpgo check against the sources.
checkfig() {
	(cd "$2" && "$CPGO" check -n 0 "$1" $(cat .files) -- -D_FILE_OFFSET_BITS=64) >"$2/check.txt" 2>>"$LOG"
	sed -n 's/^Matched: \([0-9.]*\)% .*found \([0-9.]*\)%, line offsets inside it [0-9.]*%; start line moved for \([0-9.]*\)%.*/\1% \2% \3%/p' "$2/check.txt"
}

# The hot functions of a profile defined in the sources, hottest first (flat).
hot_functions() { # PROFILE N
	"$CPGO" top -n 0 "$1" | awk -v n="$2" -v files=" $FILES " '$1 != "0" && $NF ~ /\.c:[0-9]+$/ && NF >= 7 {
		split($NF, a, ":"); f = a[1]; sub(".*/", "", f)
		if (index(files, " " f " ") && c < n) { print $6, f, a[2]; c++ } }'
}

# --- edits of a copy of the sources: each writes the edited tree to $1.
copy_src() { rm -rf "$1" && mkdir -p "$1" && cp "$SRC"/*.c "$SRC"/*.h "$1"/ && echo "$FILES" >"$1/.files"; }

# A function's text: from the blank line before its start line (its return
# type, qualifiers and comment above it) to the brace that closes its body.
fn_range() { # FILE START -> "FIRST LAST"
	awk -v s="$2" '
		{ line[NR] = $0 }
		END {
			first = s; while (first > 1 && line[first - 1] !~ /^[ \t]*$/) first--
			depth = 0; opened = 0
			for (i = s; i <= NR; i++) {
				t = line[i]; gsub(/"([^"\\]|\\.)*"/, "", t); gsub(/'"'"'([^'"'"'\\]|\\.)*'"'"'/, "", t)
				sub(/\/\/.*/, "", t); gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", t)
				o = gsub(/\{/, "{", t); c = gsub(/\}/, "}", t)
				depth += o - c; if (o) opened = 1
				if (opened && depth == 0) { print first, i; exit }
			}
		}' "$1"
}

edit_outside() { # DIR: a new function and comment block at the top of every source
	local f
	for f in $(cat "$1/.files"); do
		awk 'NR == 1 { print "/* Added outside the hot code: a helper and its comment. */"
			print "static int added_helper_" FILENAME_ID "(int x)"; print "{"; print "\tint y = x * 3;"
			print "\tif (y > 100)"; print "\t\ty -= 7;"; print "\treturn y;"; print "}"; print "" } { print }' FILENAME_ID="$(echo "$f" | tr -c 'a-z0-9\n' _)" "$1/$f" >"$1/$f.new" &&
			mv "$1/$f.new" "$1/$f"
	done
}
edit_inside() { # DIR FUNC FILE START: comment lines after the opening brace of FUNC
	awk -v s="$4" 'NR >= s && !done && /\{/ { print; for (i = 0; i < 5; i++) print "   /* inserted line " i " */"; done = 1; next } { print }' "$1/$3" >"$1/$3.new" && mv "$1/$3.new" "$1/$3"
}
edit_rename() { # DIR FUNC NEW
	local f
	for f in "$1"/*.c "$1"/*.h; do sed -i -E "s/\\b$2\\b/$3/g" "$f"; done
}
# Moves FUNC from FILE to a new file made of FILE's preamble (everything
# before its first function: includes, macros, types) and FUNC's text.
edit_move() { # DIR FUNC FILE START FIRST_FN_START -> the new file's name
	local d=$1 r first last pre new
	r=$(fn_range "$d/$3" "$4") || return 1
	first=${r% *} last=${r#* }
	pre=$(fn_range "$d/$3" "$5")
	pre=${pre% *}
	new=${3%.c}_moved.c
	{ head -n $((pre - 1)) "$d/$3"; sed -n "${first},${last}p" "$d/$3"; } >"$d/$new"
	sed -i "${first},${last}d" "$d/$3"
	echo "$(cat "$d/.files") $new" >"$d/.files"
	echo "$new"
}

# The start line of the first function a file defines (from its DWARF at -O0).
first_function() { # FILE
	clang-19 $CFLAGS -O0 -g -c -o "$W/ff.o" "$1" 2>>"$LOG" &&
		llvm-dwarfdump-19 --debug-info "$W/ff.o" | awk -v f="$(basename "$1")" '
			function flush() { if (sub_ && !decl && line && index(file, "/" f "\"")) print line }
			/DW_TAG_/ { flush(); sub_ = ($0 ~ /DW_TAG_subprogram/); decl = 0; file = ""; line = 0 }
			/DW_AT_declaration/ { decl = 1 }
			/DW_AT_decl_file/ { file = $0 }
			/DW_AT_decl_line/ { v = $2; gsub(/[()]/, "", v); line = v + 0 }
			END { flush() }' | sort -n | head -1
}

# Each part writes its own section, so a part can be re-run alone.
SEC=head
section() { SEC=$1; : >"$W/res.$SEC.md"; }
emit() { printf '%s\n' "$*" >>"$W/res.$SEC.md"; }
mkdata
section head
emit "# bench/stability.sh on bzip2 1.0.8 ($(date -u +%Y-%m-%d), cpgo $(git -C "$ROOT" describe --always --dirty 2>/dev/null))"
emit ""
emit "Profiles: cpgo record -F $HZ, $RUNS runs of each training command, merged. Ir: callgrind on"
emit "debug-stripped binaries, compress -9 and -1 of a $(($(wc -c <"$W/eval.txt") / 1000)) kB text, decompress; ratio = Ir(-O2) / Ir(route)."
emit ""

say "== base builds and profile"
copy_src "$W/base"
build "$W/o2" "$W/base" o2 >>"$LOG" 2>&1 || bench_die "the -O2 build failed (see $LOG)"
"$W/o2" -c -9 "$W/eval.txt" >"$W/ref9.bz2"
build "$W/off" "$W/base" off >>"$LOG" 2>&1 || bench_die "the cpgo cc -pgo=off build failed"
[ -f "$W/p0.pprof" ] || profile "$W/p0.pprof" "$W/off" "$W/train.txt" || bench_die "profiling failed (see $LOG)"
build "$W/pgo" "$W/base" "$W/p0.pprof" >>"$LOG" 2>&1 || bench_die "the PGO build failed"
IR_O2=$(ir "$W/o2") IR_PGO=$(ir "$W/pgo")
R0=$(ratio "$IR_O2" "$IR_PGO")
say "o2 $IR_O2, pgo $IR_PGO: $R0"
# Rows "function file start", hottest first, for the edits.
hot_functions "$W/p0.pprof" 20 >"$W/hot.txt"
cat "$W/hot.txt" >>"$LOG"
read -r HOT HOTFILE HOTSTART <"$W/hot.txt"

if part source; then
	section source
	say "== source stability"
	emit "## Source stability: the original profile, edited code"
	emit ""
	emit "Hot function: \`$HOT\` ($HOTFILE:$HOTSTART). Gain: Ir(-O2 of the edited code) / Ir(PGO build of it);"
	emit "kept: that gain as a share of the unedited PGO build's ($R0). cpgo check: against the edited sources."
	emit ""
	emit "| edit | cpgo check: matched / found / start moved | Ir gain | kept | with LLVM salvage flags | kept |"
	emit "|---|---|---|---|---|---|"
	row() { # NAME DIR PROFILE
		local o2 pgo sal r rs fig
		fig=$(checkfig "$3" "$2")
		build "$W/e.o2" "$2" o2 >>"$LOG" 2>&1 && build "$W/e.pgo" "$2" "$3" >>"$LOG" 2>&1 &&
			build "$W/e.sal" "$2" "$3" "$SALVAGE" >>"$LOG" 2>&1 || { emit "| $1 | build failed | | | | |"; return; }
		o2=$(ir "$W/e.o2") pgo=$(ir "$W/e.pgo") sal=$(ir "$W/e.sal")
		r=$(ratio "$o2" "$pgo") rs=$(ratio "$o2" "$sal")
		say "$1: check $fig; o2 $o2 pgo $pgo salvage $sal"
		emit "| $1 | $fig | $r | $(kept "$r" "$R0") | $rs | $(kept "$rs" "$R0") |"
	}
	row "none (the profiled code)" "$W/base" "$W/p0.pprof"
	copy_src "$W/ed1" && edit_outside "$W/ed1" && row "code added outside hot functions (every file)" "$W/ed1" "$W/p0.pprof"
	copy_src "$W/ed2" && edit_inside "$W/ed2" "$HOT" "$HOTFILE" "$HOTSTART" &&
		row "5 lines inserted inside \`$HOT\`" "$W/ed2" "$W/p0.pprof"
	copy_src "$W/ed3" && edit_rename "$W/ed3" "$HOT" "${HOT}_renamed" &&
		row "\`$HOT\` renamed" "$W/ed3" "$W/p0.pprof"
	"$CPGO" rename "$HOT=${HOT}_renamed" -o "$W/p0.renamed.pprof" "$W/p0.pprof" >>"$LOG" 2>&1 &&
		row "\`$HOT\` renamed, then \`cpgo rename\`" "$W/ed3" "$W/p0.renamed.pprof"
	# The hottest function whose move to a file of its own still builds (a
	# static one called from its old file does not).
	moved=
	while read -r fn file start; do
		copy_src "$W/ed4"
		firstfn=$(first_function "$W/ed4/$file")
		new=$(edit_move "$W/ed4" "$fn" "$file" "$start" "$firstfn") || continue
		if build "$W/e.try" "$W/ed4" o2 >>"$LOG" 2>&1; then moved=$fn; break; fi
	done <"$W/hot.txt"
	if [ -n "$moved" ]; then
		row "\`$moved\` moved from $file to a new $new" "$W/ed4" "$W/p0.pprof"
	else
		emit "| a function moved to another file | no hot function could be moved and still build | | | | |"
	fi
	emit ""
fi

if part cycles; then
	section cycles
	say "== iteration stability"
	emit "## Iteration stability: build, profile the PGO binary, rebuild"
	emit ""
	emit "Cycle 0 is the profile of the cpgo cc -pgo=off build; cycle N's profile was recorded on the"
	emit "binary built with cycle N-1's. Top 5: the five hottest functions (flat); overlap: how many of"
	emit "cycle 0's top 10 are in this cycle's top 10."
	emit ""
	emit "| cycle | built with | Ir gain vs -O2 | top 5 (flat share) | overlap of top 10 |"
	emit "|---|---|---|---|---|"
	prev=$W/p0.pprof
	hot_functions "$W/p0.pprof" 10 | awk '{ print $1 }' >"$W/top0.txt"
	for c in 1 2 3; do
		build "$W/cy$c" "$W/base" "$prev" >>"$LOG" 2>&1 || { emit "| $c | build failed | | | |"; break; }
		r=$(ratio "$IR_O2" "$(ir "$W/cy$c")")
		profile "$W/p$c.pprof" "$W/cy$c" "$W/train.txt" || { emit "| $c | profiling failed | | | |"; break; }
		top=$("$CPGO" top -n 0 "$W/p$((c - 1)).pprof" | awk '$NF ~ /\.c:[0-9]+$/ && NF >= 7 && c < 5 { printf "%s%s %s", (c ? ", " : ""), $6, $2; c++ }')
		hot_functions "$W/p$((c - 1)).pprof" 10 | awk '{ print $1 }' >"$W/top.txt"
		ov=$(grep -cxFf "$W/top0.txt" "$W/top.txt")
		say "cycle $c: $r; $top; overlap $ov"
		emit "| $c | p$((c - 1)) | $r | $top | $ov/10 |"
		prev=$W/p$c.pprof
	done
	top=$("$CPGO" top -n 0 "$prev" | awk '$NF ~ /\.c:[0-9]+$/ && NF >= 7 && c < 5 { printf "%s%s %s", (c ? ", " : ""), $6, $2; c++ }')
	hot_functions "$prev" 10 | awk '{ print $1 }' >"$W/top.txt"
	emit "| (profile of cycle 3's binary) | | | $top | $(grep -cxFf "$W/top0.txt" "$W/top.txt")/10 |"
	emit ""
fi

if part nonrep; then
	section nonrep
	say "== non-representative profile"
	emit "## A profile that does not represent the workload"
	emit ""
	[ -f "$W/prep.pprof" ] || {
		i=0; parts=()
		for r in $(seq "$RUNS"); do
			i=$((i + 1))
			"$CPGO" record -F "$HZ" -o "$W/prep.$i" -- "$W/off" -c -1 "$W/rep.txt" >/dev/null 2>>"$LOG" && parts+=("$W/prep.$i")
		done
		"$CPGO" merge -o "$W/prep.pprof" "${parts[@]}" >>"$LOG" 2>&1
	}
	build "$W/nonrep" "$W/base" "$W/prep.pprof" >>"$LOG" 2>&1 || bench_die "the non-representative PGO build failed"
	r=$(ratio "$IR_O2" "$(ir "$W/nonrep")")
	top=$("$CPGO" top -n 0 "$W/prep.pprof" | awk '$NF ~ /\.c:[0-9]+$/ && NF >= 7 && c < 3 { printf "%s%s %s", (c ? ", " : ""), $6, $2; c++ }')
	say "non-representative: $r ($top)"
	emit "Trained on \`bzip2 -1\` of a highly repetitive $(($(wc -c <"$W/rep.txt") / 1000)) kB input only (hot: $top), evaluated"
	emit "on text compression at -9 and -1 and decompression: Ir gain vs -O2 **$r** (the representative"
	emit "profile: $R0)."
	emit ""
fi

if part cross; then
	section cross
	say "== cross-platform"
	emit "## Cross-platform: the x86-64 profile drives an aarch64 compile"
	emit ""
	# "name count" for the functions defined with a non-zero function_entry_count.
	prof_fns() { # TARGET_FLAGS FILE
		# shellcheck disable=SC2086
		CPGO_MIN_MATCH=0 "$CPGO" cc -pgo="$W/p0.pprof" clang-19 $1 $CFLAGS -S -emit-llvm -o "$W/x.ll" "$W/base/$2" 2>>"$LOG" &&
		awk '/^define / && match($0, /@[A-Za-z_0-9.]+/) {
				n = substr($0, RSTART + 1, RLENGTH - 1)
				if (match($0, /!prof ![0-9]+/)) { id = substr($0, RSTART + 6, RLENGTH - 6); fn[id] = fn[id] " " n }
			}
			/^![0-9]+ = !\{!"function_entry_count", i64 -?[0-9]+\}/ { c = $NF; sub(/\}/, "", c); cnt[$1] = c + 0 }
			END { for (id in fn) if (cnt[id] > 0) { k = split(fn[id], a, " "); for (i = 1; i <= k; i++) print a[i], cnt[id] } }' "$W/x.ll" | LC_ALL=C sort
	}
	# Debian's aarch64 C library headers (libc6-dev-arm64-cross); clang finds them only
	# next to a cross gcc, so they are named.
	ARM="--target=aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include"
	tot_x=0 tot_a=0 same=0
	for f in $FILES; do
		prof_fns "" "$f" >"$W/x86.$f.txt"
		prof_fns "$ARM" "$f" >"$W/arm.$f.txt"
		tot_x=$((tot_x + $(wc -l <"$W/x86.$f.txt"))) tot_a=$((tot_a + $(wc -l <"$W/arm.$f.txt")))
		same=$((same + $(LC_ALL=C comm -12 "$W/x86.$f.txt" "$W/arm.$f.txt" | wc -l)))
	done
	say "cross: x86 $tot_x, aarch64 $tot_a, same name and count $same"
	emit "Functions defined with a non-zero \`function_entry_count\` in the IR of \`cpgo cc -pgo=p0 clang-19 ... -S"
	emit "-emit-llvm\` over bzip2's $(echo $FILES | wc -w) files: x86-64 **$tot_x**, \`--target=aarch64-linux-gnu\` **$tot_a**,"
	emit "the same function with the same count on both: **$same**."
	emit ""
fi

if part overhead; then
	section overhead
	say "== cpgo cc's stale-profile check: cost per compile"
	emit "## What the stale-profile check adds to a compile"
	emit ""
	emit "Each bzip2 file compiled by \`cpgo cc -pgo=p0 $CFLAGS -c\` with the check on (the code matches, so"
	emit "no stamp ever stops it). Instructions of the cpgo process itself (callgrind, the compiler not"
	emit "traced): all of cpgo cc, and the check (\`cpgo_cc_stale_after\`, inclusive). CPU time (perf stat"
	emit "task-clock, cpgo and the compiler): median of 9 interleaved runs with the check off (CPGO_MIN_MATCH=0) and on."
	emit ""
	emit "| file | object | cpgo cc Ir | check Ir | CPU ms, check off | CPU ms, check on |"
	emit "|---|---|---|---|---|---|"
	mkdir -p "$W/ov" && cp "$W"/base/*.[ch] "$W/ov/" && cp "$W/p0.pprof" "$W/ov/default.pgo"
	for f in $FILES; do
		(cd "$W/ov" && "$CPGO" cc $CFLAGS -c "$f") >>"$LOG" 2>&1 # the conversion, cached
		# Twice: under valgrind cpgo is another executable to the cache key, so
		# the first run converts the profile again.
		for i in 1 2; do
			(cd "$W/ov" && valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$W/ov/cg.out" "$CPGO" cc $CFLAGS -c "$f") >>"$LOG" 2>&1
		done
		all=$(callgrind_annotate --auto=no "$W/ov/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
		chk=$(callgrind_annotate --auto=no --inclusive=yes "$W/ov/cg.out" 2>/dev/null | awk '/cpgo_cc_stale_after \[/ { gsub(",", "", $1); print $1; exit }')
		for m in 0 80; do : >"$W/ov/t$m"; done
		for i in $(seq 9); do
			for m in 0 80; do
				(cd "$W/ov" && CPGO_MIN_MATCH=$m perf stat -x, -e task-clock "$CPGO" cc $CFLAGS -c "$f" 2>&1 >/dev/null) |
					awk -F, '/task-clock/ { print $1 }' >>"$W/ov/t$m"
			done
		done
		med() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] }'; }
		say "$f: cpgo $all check ${chk:-0} off $(med "$W/ov/t0") on $(med "$W/ov/t80")"
		emit "| $f | $(($(wc -c <"$W/ov/${f%.c}.o") / 1024)) kB | $all | ${chk:-0} | $(med "$W/ov/t0") | $(med "$W/ov/t80") |"
	done
	emit ""
fi

for sec in head source cycles nonrep cross overhead; do
	[ -f "$W/res.$sec.md" ] && cat "$W/res.$sec.md"
done >"$RES"
say "results: $RES"
cat "$RES"
