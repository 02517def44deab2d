#!/usr/bin/env bash
# PGO benchmark on real programs from Debian source packages (not a test).
# For each program, builds from the same sources and base flags (-O2):
#   o2       clang-19 -O2: what users build today (the baseline)
#   o2flags  -O2 with the flags cpgo cc adds to every build, no profile: the
#            cost of those flags alone (read from 'CPGO_DEBUG=1 cpgo cc -pgo=off':
#            -gline-tables-only -fdebug-info-for-profiling today, frame
#            pointers only with -pgo-frame-pointers=on)
#   ir       clang instrumented PGO: -fprofile-generate, train, -fprofile-use
#   afdo     sampled PGO as C users do it today: perf record -e cpu-clock on a
#            -gline-tables-only -fdebug-info-for-profiling build,
#            llvm-profgen --leading-ip-only, -fprofile-sample-use + profi
#   cpgo     cpgo record (libcpgo) on a 'cpgo cc -pgo=off' build, cpgo merge,
#            rebuild with 'cpgo cc -pgo=FILE'
#   cpgo@HZxN  the same trained at HZ Hz over N merged training runs (what a
#            production profile looks like: --production adds 100x20, 1000x1)
# With --compiler=gcc the same routes with gcc-12 (write to another --work):
#   o2 / o2flags  gcc-12 -O2 (+ cpgo cc's gcc flags)
#   ir       -fprofile-generate, train, -fprofile-use (both builds in one
#            directory: gcc names .gcda files after the objects)
#   afdo     perf record -e cpu-clock on a -g1 -gdwarf-4 build (autofdo 0.19
#            cannot read DWARF 5), create_gcov --use_lbr=false, its strings
#            rewritten into gcc 12's layout (fix_gcov12), -fauto-profile
#   cpgo     as above, through 'cpgo cc gcc-12' (-fauto-profile)
# Speed is reported as a ratio against o2 measured in the same interleaved
# rounds, plus callgrind instruction counts. See bench/README.md.
set -u -o pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"

usage() {
	cat <<USAGE
usage: bench/pgo.sh [options]
  --quick             small inputs, 3 rounds, 2 training runs (a smoke run)
  --programs=LIST     comma-separated: lua,zstd,bzip2,tl,tcl,sqlite,xmllint (default: all)
  --routes=LIST       comma-separated: o2,o2flags,ir,afdo,cpgo,cpgo@HZxN
                      (default: o2,o2flags,ir,afdo,cpgo; o2 always runs)
  --production        add the production-style cpgo routes cpgo@100x20,cpgo@1000x1
  --rounds=N          interleaved timing rounds (default 10)
  --train-runs=N      training runs merged for the sampled routes (default 5)
  --perf-hz=N         perf record frequency for afdo (default 20000)
  --cpgo-hz=N         CPGO_HZ / cpgo record -F for cpgo (default 20000)
  --time-only         reuse the builds of the last run: redo timing, callgrind, report
  --reuse             build only the routes that have no build yet, then measure all
  --keep-profiles     rebuild the cpgo routes from the profiles of their last run
                      (no training; the other routes as --reuse): a converter or
                      cpgo cc change measured on the same samples
  --report            only write the report from the last results of --programs
  --no-callgrind      skip the callgrind instruction counts
  --no-timing         skip the timing rounds
  --work=DIR          work directory (default bench/work, git-ignored)
  --cpgo=PATH         the cpgo binary (default build/cpgo)
  --cflags=FLAGS      base flags of every build (default "-O2")
  --compiler=clang|gcc  the compiler of every route (default clang: clang-19;
                      gcc: gcc-12, AutoFDO routes; use another --work)
Writes bench/results.md (and WORK/results.md).
USAGE
}

ARGS="$*"
QUICK=0 PROGRAMS=lua,zstd,bzip2,tl,tcl,sqlite,xmllint ROUTES=o2,o2flags,ir,afdo,cpgo PRODUCTION=0 ROUNDS= TRAIN_RUNS= PERF_HZ=20000 CPGO_HZ=20000
TIME_ONLY=0 REUSE=0 KEEP_PROFILES=0 REPORT_ONLY=0 CALLGRIND=1 TIMING=1 WORK=$BENCH/work CPGO=${CPGO:-$ROOT/build/cpgo} COMPILER=clang
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--programs=*) PROGRAMS=${a#*=} ;;
	--routes=*) ROUTES=${a#*=} ;;
	--production) PRODUCTION=1 ;;
	--rounds=*) ROUNDS=${a#*=} ;;
	--train-runs=*) TRAIN_RUNS=${a#*=} ;;
	--perf-hz=*) PERF_HZ=${a#*=} ;;
	--cpgo-hz=*) CPGO_HZ=${a#*=} ;;
	--time-only) TIME_ONLY=1 ;;
	--reuse) REUSE=1 ;;
	--keep-profiles) KEEP_PROFILES=1 REUSE=1 ;;
	--report) REPORT_ONLY=1 ;;
	--no-callgrind) CALLGRIND=0 ;;
	--no-timing) TIMING=0 ;;
	--work=*) WORK=${a#*=} ;;
	--cpgo=*) CPGO=${a#*=} ;;
	--cflags=*) BASE_CFLAGS=${a#*=} ;;
	--compiler=*) COMPILER=${a#*=} ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; bench_die "unknown option '$a'" ;;
	esac
done
[ -n "$ROUNDS" ] || ROUNDS=$([ $QUICK = 1 ] && echo 3 || echo 10)
[ -n "$TRAIN_RUNS" ] || TRAIN_RUNS=$([ $QUICK = 1 ] && echo 2 || echo 5)
for n in "$ROUNDS" "$TRAIN_RUNS" "$PERF_HZ" "$CPGO_HZ"; do
	case $n in '' | *[!0-9]* | 0) bench_die "'$n' is not a positive number" ;; esac
done
case ,$ROUTES, in *,o2,*) ;; *) ROUTES=o2,$ROUTES ;; esac
[ $PRODUCTION = 0 ] || ROUTES=$ROUTES,cpgo@100x20,cpgo@1000x1
for r in ${ROUTES//,/ }; do
	case $r in
	o2 | o2flags | ir | afdo | cpgo) ;;
	cpgo@[1-9]*x[1-9]*) case ${r#cpgo@} in *[!0-9x]* | *x*x*) bench_die "bad route '$r' (cpgo@HZxRUNS, e.g. cpgo@100x20)" ;; esac ;;
	*) bench_die "unknown route '$r' (o2, o2flags, ir, afdo, cpgo, cpgo@HZxRUNS)" ;;
	esac
done
WORK=$(mkdir -p "$WORK" && cd "$WORK" && pwd)
SRCROOT=$WORK/src

CC=clang-19
# The baseline is what users build: plain -O2. Each route adds only what it
# needs (debug lines for the sampled routes); cpgo cc adds its own flags,
# which o2flags measures alone.
BASE_CFLAGS=${BASE_CFLAGS:-"-O2"}
# The sampled routes need line tables (and discriminators) to map samples.
SAMPLE_CFLAGS="-gline-tables-only -fdebug-info-for-profiling"
FMT=llvm
case $COMPILER in
clang) bench_need $CC llvm-profdata-19 ;;
gcc)
	CC=gcc-12 FMT=gcc
	SAMPLE_CFLAGS="-g1 -gdwarf-4"
	# cpgo cc runs the same compiler as the other routes.
	export CPGO_CC=$CC
	bench_need $CC perl ;;
*) bench_die "--compiler is clang or gcc, not '$COMPILER'" ;;
esac
bench_need apt-get awk cmp
command -v dpkg-source >/dev/null || bench_die "dpkg-source is missing: apt-get install dpkg-dev"
has_route() { case ,$ROUTES, in *,$1,* | *,$1@*) return 0 ;; esac; return 1; }
if has_route afdo; then
	if [ $COMPILER = gcc ]; then bench_need perf create_gcov; else bench_need perf llvm-profgen-19; fi
fi
[ $CALLGRIND = 0 ] || bench_need valgrind strip
if has_route cpgo && ! [ -x "$CPGO" ]; then
	bench_say "bench: $CPGO not found (run 'make' first, or pass --cpgo=PATH); skipping the cpgo route"
	ROUTES=$(echo ",$ROUTES," | sed 's/,cpgo\(@[0-9x]*\)\{0,1\}//g; s/^,//; s/,$//')
fi

# cpgo_cc_flags: the flags 'cpgo cc -pgo=off' puts before the user's on a
# compile, read from its CPGO_DEBUG trace ("cpgo cc: run: CC FLAGS... -c ..."),
# so o2flags measures what this cpgo adds, not a copy that goes stale.
cpgo_cc_flags() {
	local t=$WORK/cc-flags out
	mkdir -p "$t" && echo 'int main(void) { return 0; }' >"$t/t.c" || return 1
	# shellcheck disable=SC2086
	out=$(CPGO_DEBUG=1 CPGO_CC=$CC "$CPGO" cc -pgo=off $CC -c $BASE_CFLAGS -o "$t/t.o" "$t/t.c" 2>&1 >/dev/null) || {
		bench_say "bench: cpgo cc -pgo=off failed: $out"
		return 1
	}
	echo "$out" | awk '$1 == "cpgo" && $2 == "cc:" && $3 == "run:" {
		s = ""; for (i = 5; i <= NF && $i != "-c"; i++) s = s (s == "" ? "" : " ") $i; print s; exit }'
}
CPGO_CC_FLAGS=
if has_route o2flags; then
	[ -x "$CPGO" ] || bench_die "$CPGO not found: o2flags measures its flags (run 'make', or pass --cpgo=PATH)"
	CPGO_CC_FLAGS=$(cpgo_cc_flags) || bench_die "cannot read cpgo cc's flags"
fi

# ---- the programs -------------------------------------------------------
# Each program defines:
#   P_pkg                 Debian source package
#   P_build SRC OUT CC CFLAGS   compiles OUT/bin (returns non-zero on failure)
#   P_data SRC DATA       makes the inputs (once)
#   P_train / P_eval / P_cg     print one command per line, with @BIN@,
#                         @DATA@, @TMP@ and @BENCH@ placeholders; commands
#                         must be deterministic (outputs are compared).

# compile_all OUT CC "CFLAGS" LDLIBS FILE...: objects in parallel, then link.
compile_all() {
	local out=$1 cc=$2 cflags=$3 ldlibs=$4 f o objs=()
	shift 4
	mkdir -p "$out/obj"
	local jobs=0 fail=0 pids=()
	for f in "$@"; do
		o=$out/obj/$(echo "${f#$PWD/}" | tr '/' '_').o
		objs+=("$o")
		# shellcheck disable=SC2086
		$cc $cflags -c -o "$o" "$f" &
		pids+=($!)
		jobs=$((jobs + 1))
		if [ $jobs -ge 2 ]; then
			wait "${pids[0]}" || fail=1
			pids=("${pids[@]:1}")
			jobs=$((jobs - 1))
		fi
	done
	for p in "${pids[@]}"; do wait "$p" || fail=1; done
	[ $fail = 0 ] || return 1
	# shellcheck disable=SC2086
	$cc $cflags -o "$out/bin" "${objs[@]}" $ldlibs
}

lua_pkg=lua5.4
lua_build() {
	local src=$1/src
	(cd "$src" && compile_all "$2" "$3" "$4 -std=gnu99 -DLUA_COMPAT_5_3 -DLUA_USE_LINUX" "-lm -ldl" \
		$(ls ./*.c | grep -v '/luac\.c$'))
}
lua_data() { :; }
# Training and evaluation use the same scripts with different sizes (and so
# different data: the scripts' generators depend on the size).
lua_cmds() {
	local bt=$1 nb=$2 st=$3 tb=$4 cl=$5
	echo "@BIN@ @BENCH@/binary_trees.lua $bt"
	echo "@BIN@ @BENCH@/nbody.lua $nb"
	echo "@BIN@ @BENCH@/strings.lua $st"
	echo "@BIN@ @BENCH@/tables.lua $tb"
	echo "@BIN@ @BENCH@/closures.lua $cl"
}
lua_train() { if [ $QUICK = 1 ]; then lua_cmds 11 50000 20000 50000 200000; else lua_cmds 13 250000 60000 200000 1000000; fi; }
lua_eval() { if [ $QUICK = 1 ]; then lua_cmds 12 100000 40000 100000 400000; else lua_cmds 14 400000 100000 300000 1500000; fi; }
lua_cg() { lua_cmds 10 30000 15000 40000 150000; }

zstd_pkg=libzstd
zstd_build() {
	local s=$1
	(cd "$s" && compile_all "$2" "$3" "$4 -Ilib -Ilib/common -DZSTD_LEGACY_SUPPORT=0 -DXXH_NAMESPACE=ZSTD_" "" \
		lib/common/*.c lib/compress/*.c lib/decompress/*.c lib/decompress/*.S lib/dictBuilder/*.c programs/*.c)
}
# corpus: generated logs/JSON/CSV plus a real source tree (training: Lua's;
# evaluation: zstd's own), so the two inputs differ in content and size.
make_corpus() { # OUT SEED BYTES SRCDIR
	{ awk -v seed="$2" -v bytes="$3" -f "$BENCH/gen_corpus.awk"; find "$4" -type f -name '*.[ch]' | LC_ALL=C sort | xargs cat; } >"$1.tmp" && mv "$1.tmp" "$1"
}
corpus_data() {
	local src=$1 data=$2 small=$3 big=$4
	local lua
	lua=$(bench_fetch_source lua5.4 "$SRCROOT") || return 1
	[ -f "$data/train.txt" ] || make_corpus "$data/train.txt" 11 "$small" "$lua" || return 1
	[ -f "$data/eval.txt" ] || make_corpus "$data/eval.txt" 22 "$big" "$src" || return 1
	[ -f "$data/cg.txt" ] || make_corpus "$data/cg.txt" 33 2000000 "$src/lib/common" 2>/dev/null || make_corpus "$data/cg.txt" 33 2000000 "$src" || return 1
	head -c 3000000 "$data/eval.txt" >"$data/eval-small.txt"
	head -c 1500000 "$data/train.txt" >"$data/train-small.txt"
}
zstd_data() {
	if [ $QUICK = 1 ]; then corpus_data "$1" "$2" 8000000 12000000; else corpus_data "$1" "$2" 24000000 40000000; fi
}
zstd_cmds() { # CORPUS SMALL
	for l in 1 3 9; do
		echo "@BIN@ -q -c -$l @DATA@/$1 >@TMP@/c$l.zst"
		echo "@BIN@ -q -d -c @TMP@/c$l.zst >@TMP@/d$l.txt"
	done
	echo "@BIN@ -q -c -19 @DATA@/$2 >@TMP@/c19.zst"
	echo "@BIN@ -q -d -c @TMP@/c19.zst >@TMP@/d19.txt"
}
zstd_train() { zstd_cmds train.txt train-small.txt; }
zstd_eval() { zstd_cmds eval.txt eval-small.txt; }
zstd_cg() { for l in 1 3 9; do echo "@BIN@ -q -c -$l @DATA@/cg.txt >@TMP@/c$l.zst"; echo "@BIN@ -q -d -c @TMP@/c$l.zst >@TMP@/d$l.txt"; done; }

# The demo program (examples/tl), not a Debian package: to compare the demo's
# cpgo result with the other routes.
tl_pkg=
tl_build() {
	(cd "$1" && compile_all "$2" "$3" "$4 -std=gnu11" "" main.c lex.c compile.c vm.c table.c str.c gc.c)
}
tl_data() { :; }
tl_train() { echo "@BIN@ $ROOT/examples/tl/workload.tl $([ $QUICK = 1 ] && echo 30 || echo 100)"; }
tl_eval() { echo "@BIN@ $ROOT/examples/tl/workload.tl $([ $QUICK = 1 ] && echo 40 || echo 120)"; }
tl_cg() { echo "@BIN@ $ROOT/examples/tl/workload.tl 10"; }

bzip2_pkg=bzip2
bzip2_build() {
	(cd "$1" && compile_all "$2" "$3" "$4 -D_FILE_OFFSET_BITS=64 -Wno-deprecated-non-prototype" "" \
		blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c)
}
bzip2_data() {
	if [ $QUICK = 1 ]; then corpus_data "$1" "$2" 3000000 4000000; else corpus_data "$1" "$2" 10000000 14000000; fi
}
bzip2_cmds() { # CORPUS
	echo "@BIN@ -c -9 @DATA@/$1 >@TMP@/c9.bz2"
	echo "@BIN@ -d -c @TMP@/c9.bz2 >@TMP@/d9.txt"
	echo "@BIN@ -c -1 @DATA@/$2 >@TMP@/c1.bz2"
	echo "@BIN@ -d -c @TMP@/c1.bz2 >@TMP@/d1.txt"
}
bzip2_train() { bzip2_cmds train.txt train-small.txt; }
bzip2_eval() { bzip2_cmds eval.txt eval-small.txt; }
bzip2_cg() { bzip2_cmds cg.txt cg.txt; }

# sqlite3's shell over generated SQL (bench/gen_sql.awk). The amalgamation
# (sqlite3.c, shell.c) is generated once from the source tree with the
# package's own configure and tclsh; every route compiles those two files.
# configure_once DIR CMD...: runs CMD (a function or program) in a new DIR,
# once: a stamp marks it done, so every route compiles the same generated files.
configure_once() {
	local d=$1
	shift
	[ -f "$d/.done" ] && return 0
	rm -rf "$d" && mkdir -p "$d" && (cd "$d" && "$@") && touch "$d/.done"
}

sqlite_pkg=sqlite3
sqlite_conf() { "$1/configure" CC=clang-19 --disable-tcl --disable-readline && make sqlite3.c shell.c; }
sqlite_build() {
	local a=$1/bench-amalg
	configure_once "$a" sqlite_conf "$1" || return 1
	(cd "$a" && compile_all "$2" "$3" "$4 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -I." "-lm" sqlite3.c shell.c)
}
sqlite_data() {
	local n
	# NAME:SEED:ROWS; the callgrind input (not train) runs the evaluation queries.
	for n in train:1:60000 eval:2:90000 cg:3:15000; do
		[ -f "$2/${n%%:*}.sql" ] && continue
		awk -v seed="$(echo "$n" | cut -d: -f2)" -v rows="${n##*:}" -v mix="${n%%:*}" -f "$BENCH/gen_sql.awk" >"$2/${n%%:*}.sql" || return 1
	done
}
sqlite_train() { echo "@BIN@ :memory: <@DATA@/train.sql"; }
sqlite_eval() { echo "@BIN@ :memory: <@DATA@/eval.sql"; }
sqlite_cg() { echo "@BIN@ :memory: <@DATA@/cg.sql"; }

# Tcl 8.6's tclsh, static, built by its own configure and make; the compiler
# and optimization flags are make variables, so configure's results are the
# same for every route.
tcl_pkg=tcl8.6
tcl_build() {
	local b=$2/build
	rm -rf "$b" && mkdir -p "$b" || return 1
	(cd "$b" && "$1/unix/configure" CC=clang-19 --disable-shared --disable-threads &&
		make -j2 CC="$3" CFLAGS_OPTIMIZE="$4" tclsh) || return 1
	cp "$b/tclsh" "$2/bin"
}
tcl_env() { export TCL_LIBRARY=$SRC/library; }
tcl_data() { :; }
# bench/workload.tcl SEED N: training and evaluation differ in seed (so in
# data) and size.
tcl_train() { echo "@BIN@ @BENCH@/workload.tcl 1 $([ $QUICK = 1 ] && echo 60 || echo 150)"; }
tcl_eval() { echo "@BIN@ @BENCH@/workload.tcl 2 $([ $QUICK = 1 ] && echo 80 || echo 250)"; }
tcl_cg() { echo "@BIN@ @BENCH@/workload.tcl 3 40"; }

# libxml2's xmllint, static: the package's configure writes config.h once;
# every route compiles the library's sources and xmllint.c.
xmllint_pkg=libxml2
xmllint_build() {
	local c=$1/bench-conf
	configure_once "$c" "$1/configure" CC=clang-19 --disable-shared --without-python --without-zlib --without-lzma \
		--without-threads --without-http --without-ftp --without-modules --without-icu || return 1
	(cd "$1" && compile_all "$2" "$3" "$4 -DHAVE_CONFIG_H -I$c -I$c/include -Iinclude" "-lm" \
		SAX.c entities.c encoding.c error.c parserInternals.c parser.c tree.c hash.c list.c xmlIO.c \
		xmlmemory.c uri.c valid.c xlink.c HTMLparser.c HTMLtree.c debugXML.c xpath.c xpointer.c \
		xinclude.c nanohttp.c nanoftp.c catalog.c globals.c threads.c c14n.c xmlstring.c buf.c \
		xmlregexp.c xmlschemas.c xmlschemastypes.c xmlunicode.c xmlreader.c relaxng.c dict.c SAX2.c \
		xmlwriter.c legacy.c chvalid.c pattern.c xmlsave.c xmlmodule.c schematron.c xzlib.c xmllint.c)
}
# Documents from bench/gen_xml.awk: training and evaluation differ in seed,
# size and in part of the work (the evaluation canonicalizes; XPath differs).
xmllint_data() {
	local n
	for n in train:1:20000 eval:2:30000 cg:3:3000; do
		[ -f "$2/${n%%:*}.xml" ] && continue
		awk -v seed="$(echo "$n" | cut -d: -f2)" -v records="${n##*:}" -f "$BENCH/gen_xml.awk" >"$2/${n%%:*}.xml" || return 1
	done
}
xmllint_train() {
	echo "@BIN@ --noout @DATA@/train.xml"
	echo "@BIN@ --valid --noout @DATA@/train.xml"
	echo "@BIN@ --format @DATA@/train.xml >@TMP@/format.xml"
	echo "@BIN@ --xpath 'count(//record[price>100])' @DATA@/train.xml"
	echo "@BIN@ --stream --noout @DATA@/train.xml"
}
xmllint_cmds() { # DOC
	echo "@BIN@ --valid --noout @DATA@/$1"
	echo "@BIN@ --format @DATA@/$1 >@TMP@/format.xml"
	echo "@BIN@ --c14n @DATA@/$1 >@TMP@/c14n.xml"
	echo "@BIN@ --xpath 'sum(//record[@kind=\"disc\"]/price)' @DATA@/$1"
	echo "@BIN@ --noent --noblanks @DATA@/$1 >@TMP@/noent.xml"
	echo "@BIN@ --stream --noout @DATA@/$1"
}
xmllint_eval() { xmllint_cmds eval.xml; }
xmllint_cg() { xmllint_cmds cg.xml; }

# mawk, an awk interpreter: the package's configure writes config.h and its
# makescan writes scancode.c once; every route compiles the sources.
mawk_pkg=mawk
mawk_conf() { "$1/configure" CC=clang-19 && make scancode.c; }
mawk_build() {
	local c=$1/bench-conf
	configure_once "$c" mawk_conf "$1" || return 1
	(cd "$1" && compile_all "$2" "$3" "$4 -I$c -I." "-lm" \
		parse.c scan.c memory.c main.c hash.c execute.c code.c da.c error.c init.c bi_vars.c \
		cast.c print.c bi_funct.c kw.c jmp.c array.c field.c split.c re_cmpl.c regexp.c zmalloc.c \
		fin.c files.c "$c/scancode.c" matherr.c fcall.c version.c)
}
mawk_data() {
	[ -f "$2/words.txt" ] || awk -v seed=5 -v bytes=8000000 -f "$BENCH/gen_corpus.awk" >"$2/words.txt" || return 1
	[ -f "$2/words-cg.txt" ] || head -c 1000000 "$2/words.txt" >"$2/words-cg.txt"
}
# Training runs the bench's SQL and XML generators; evaluation runs the
# corpus generator and a word count over a corpus: other scripts, other data.
mawk_train() {
	echo "@BIN@ -v seed=7 -v rows=60000 -v mix=train -f @BENCH@/gen_sql.awk >@TMP@/t.sql"
	echo "@BIN@ -v seed=7 -v records=15000 -f @BENCH@/gen_xml.awk >@TMP@/t.xml"
}
mawk_cmds() { # BYTES CORPUS
	echo "@BIN@ -v seed=9 -v bytes=$1 -f @BENCH@/gen_corpus.awk >@TMP@/corpus.txt"
	echo "@BIN@ '{ for (i = 1; i <= NF; i++) n[tolower(\$i)]++ } END { for (w in n) if (n[w] > 50) print n[w], w }' @DATA@/$2 >@TMP@/wc.txt"
	echo "@BIN@ -F'[ ,:=]' '/GET|POST/ { s[\$2] += length(\$0); c++ } END { for (k in s) printf \"%s %d\\n\", k, s[k]; print c }' @DATA@/$2 >@TMP@/fs.txt"
}
mawk_eval() { mawk_cmds 6000000 words.txt; }
mawk_cg() { mawk_cmds 800000 words-cg.txt; }

# ---- running commands ----------------------------------------------------

# run_cmds KIND BIN TMP PREFIX...: runs the program's KIND commands with BIN,
# each under the PREFIX command (may contain @I@, the command's index).
run_cmds() {
	local kind=$1 bin=$2 tmp=$3 i=0 line c pre
	shift 3
	mkdir -p "$tmp"
	while IFS= read -r line; do
		i=$((i + 1))
		c=${line//@BIN@/$bin}
		c=${c//@DATA@/$DATA}
		c=${c//@TMP@/$tmp}
		c=${c//@BENCH@/$BENCH}
		pre="$*"
		pre=${pre//@I@/$i}
		eval "$pre $c" >"$tmp/stdout.$i" || {
			bench_say "bench: command failed: $pre $c"
			return 1
		}
	done < <("${P}_$kind")
}

# output_sum TMP: one checksum over everything the eval commands wrote.
output_sum() {
	(cd "$1" && find . -type f | LC_ALL=C sort | xargs cat | cksum)
}

# ---- the routes ----------------------------------------------------------

# timed_build DIR DESC ARGS...: bench_step of a P_build, its seconds in DIR/build_s.
timed_build() {
	local dir=$1 desc=$2 t0 rc=0
	shift 2
	t0=$(bench_now_ns)
	bench_step "$LOG" "$desc" "$@" || rc=$?
	mkdir -p "$dir"
	echo $((($(bench_now_ns) - t0) / 1000000000)) >>"$dir/build_s"
	return $rc
}

build_o2() {
	rm -f "$OUTP/o2/build_s"
	timed_build "$OUTP/o2" "$P: -O2 build" "${P}_build" "$SRC" "$OUTP/o2" "$CC" "$BASE_CFLAGS"
}

build_o2flags() {
	rm -rf "$OUTP/o2flags"
	timed_build "$OUTP/o2flags" "$P: -O2 + cpgo cc's flags build" "${P}_build" "$SRC" "$OUTP/o2flags" "$CC" "$BASE_CFLAGS $CPGO_CC_FLAGS"
}

build_ir() {
	[ $COMPILER = clang ] || { build_ir_gcc; return; }
	local d=$OUTP/ir
	rm -rf "$d" && mkdir -p "$d/raw"
	timed_build "$d" "$P: instrumented build (-fprofile-generate)" \
		"${P}_build" "$SRC" "$d/gen" "$CC" "$BASE_CFLAGS -fprofile-generate=$d/raw" || return 1
	bench_step "$LOG" "$P: instrumented training run" run_cmds train "$d/gen/bin" "$d/tmp" || return 1
	bench_step "$LOG" "$P: llvm-profdata merge" llvm-profdata-19 merge -o "$d/ir.profdata" "$d/raw" || return 1
	timed_build "$d" "$P: -fprofile-use build" \
		"${P}_build" "$SRC" "$d/use" "$CC" "$BASE_CFLAGS -fprofile-use=$d/ir.profdata -Wno-profile-instr-unprofiled -Wno-profile-instr-out-of-date" || return 1
	ln -sfn use/bin "$d/bin"
}

build_ir_gcc() {
	local d=$OUTP/ir
	rm -rf "$d" && mkdir -p "$d/gcda"
	timed_build "$d" "$P: instrumented build (-fprofile-generate)" \
		"${P}_build" "$SRC" "$d/b" "$CC" "$BASE_CFLAGS -fprofile-generate=$d/gcda" || return 1
	cp "$d/b/bin" "$d/gen-bin" || return 1
	bench_step "$LOG" "$P: instrumented training run" run_cmds train "$d/gen-bin" "$d/tmp" || return 1
	# The same objects' paths: gcc finds each object's .gcda by its name.
	timed_build "$d" "$P: -fprofile-use build" \
		"${P}_build" "$SRC" "$d/b" "$CC" "$BASE_CFLAGS -fprofile-use=$d/gcda -Wno-missing-profile" || return 1
	ln -sfn b/bin "$d/bin"
}

# autofdo 0.19's create_gcov writes gcc 12's version number with the old
# strings (length in 4-byte words, NUL-padded), which gcc 12 misreads and
# crashes on: rewrite the string table as gcc 12 reads it (byte length with
# the NUL, no padding), the rest of the file as it is.
fix_gcov12() {
	perl -e 'local $/; my $d = <STDIN>; my ($m, $v, $z, $tag, $len, $n) = unpack("V6", $d);
		my $p = 24; my $s = "";
		for (1 .. $n) { my $w = unpack("V", substr($d, $p, 4)); my $str = substr($d, $p + 4, 4 * $w);
			$str =~ s/\0.*//s; $str .= "\0"; $s .= pack("V", length $str) . $str; $p += 4 + 4 * $w; }
		print pack("V6", $m, $v, $z, $tag, length($s) + 4, $n), $s, substr($d, $p);' <"$1" >"$2"
}

build_afdo_gcc() {
	local d=$OUTP/afdo r n f i=0
	rm -rf "$d" && mkdir -p "$d/perf"
	timed_build "$d" "$P: -g1 -gdwarf-4 build" "${P}_build" "$SRC" "$d/gen" "$CC" "$BASE_CFLAGS $SAMPLE_CFLAGS" || return 1
	for r in $(seq "$TRAIN_RUNS"); do
		bench_step "$LOG" "$P: perf record training run $r" run_cmds train "$d/gen/bin" "$d/tmp" \
			perf record -q -e cpu-clock -F "$PERF_HZ" -o "$d/perf/$r.@I@.data" -- || return 1
	done
	# create_gcov reads one perf.data at a time; profile_merger is not packaged: the
	# largest training run stands for the rest.
	n=0
	for f in "$d"/perf/*.data; do
		i=$(perf script -i "$f" -F ip 2>/dev/null | wc -l)
		n=$((n + i))
	done
	echo "$n" >"$d/samples"
	f=$(ls -S "$d"/perf/*.data | head -1)
	bench_step "$LOG" "$P: create_gcov" create_gcov --binary="$d/gen/bin" --profile="$f" \
		--gcov="$d/raw.afdo" --gcov_version=2 --use_lbr=false || return 1
	fix_gcov12 "$d/raw.afdo" "$d/afdo.afdo" || return 1
	"$CPGO" convert --show-gcc "$d/afdo.afdo" >"$d/afdo.txt" 2>&1 || true
	timed_build "$d" "$P: -fauto-profile build" "${P}_build" "$SRC" "$d/use" "$CC" \
		"$BASE_CFLAGS $SAMPLE_CFLAGS -fauto-profile=$d/afdo.afdo" || return 1
	ln -sfn use/bin "$d/bin"
}

# llvm-profgen reads LBR-shaped perf scripts only; with --leading-ip-only it
# takes each sample's IP, so every IP line gets a dummy branch record.
perf_to_profgen() {
	perf script -i "$1" --show-mmap-events -F ip 2>/dev/null |
		awk '/PERF_RECORD_MMAP/ { print; next } NF == 1 { print $1 " 0x0/0x0/P/-/-/0" }'
}

build_afdo() {
	[ $COMPILER = clang ] || { build_afdo_gcc; return; }
	local d=$OUTP/afdo r n
	rm -rf "$d" && mkdir -p "$d/perf"
	timed_build "$d" "$P: -fdebug-info-for-profiling build" \
		"${P}_build" "$SRC" "$d/gen" "$CC" "$BASE_CFLAGS $SAMPLE_CFLAGS" || return 1
	for r in $(seq "$TRAIN_RUNS"); do
		bench_step "$LOG" "$P: perf record training run $r" run_cmds train "$d/gen/bin" "$d/tmp" \
			perf record -q -e cpu-clock -F "$PERF_HZ" -o "$d/perf/$r.@I@.data" -- || return 1
	done
	: >"$d/perf.script"
	for f in "$d"/perf/*.data; do
		perf_to_profgen "$f" >>"$d/perf.script" || { bench_say "bench: $P: perf script $f failed"; return 1; }
	done
	n=$(grep -c '0x0/0x0' "$d/perf.script")
	echo "$n" >"$d/samples"
	bench_say "bench: $P: afdo: $n perf samples ($TRAIN_RUNS runs at $PERF_HZ Hz)"
	bench_step "$LOG" "$P: llvm-profgen" llvm-profgen-19 --binary="$d/gen/bin" --perfscript="$d/perf.script" \
		--leading-ip-only --output="$d/afdo.prof" || return 1
	# For comparing with cpgo's profile: the same data as text.
	llvm-profdata-19 merge --sample --text -o "$d/afdo.txt" "$d/afdo.prof" >/dev/null 2>&1 || true
	timed_build "$d" "$P: -fprofile-sample-use build" "${P}_build" "$SRC" "$d/use" "$CC" \
		"$BASE_CFLAGS $SAMPLE_CFLAGS -fprofile-sample-use=$d/afdo.prof -fsample-profile-use-profi" || return 1
	ln -sfn use/bin "$d/bin"
}

# build_cpgo [HZ RUNS]: the cpgo route, trained at HZ over RUNS runs (default
# --cpgo-hz and --train-runs), in OUTP/cpgo or OUTP/cpgo@HZxRUNS.
build_cpgo() {
	local hz=${1:-$CPGO_HZ} runs=${2:-$TRAIN_RUNS} d=$OUTP/${3:-cpgo} r
	if [ "$KEEP_PROFILES" = 1 ] && [ -s "$d/default.pgo" ] && [ -f "$OUTP/cpgo-gen/.done" ]; then
		bench_say "bench: $P: ${3:-cpgo}: rebuilt from its last profile ($(cat "$d/samples" 2>/dev/null) samples)"
		rm -rf "$d/use"
		build_cpgo_use "$d"
		return
	fi
	rm -rf "$d" && mkdir -p "$d/pprof"
	# The profiled binary is built once per program and shared by the cpgo routes.
	local gen=$OUTP/cpgo-gen
	if ! [ -x "$gen/bin" ] || ! [ -f "$gen/.done" ]; then
		rm -rf "$gen"
		timed_build "$gen" "$P: cpgo cc -pgo=off build" "${P}_build" "$SRC" "$gen" "$CPGO cc -pgo=off" "$BASE_CFLAGS" || return 1
		touch "$gen/.done"
	fi
	for r in $(seq "$runs"); do
		bench_step "$LOG" "$P: cpgo record training run $r ($hz Hz)" run_cmds train "$gen/bin" "$d/tmp" \
			"$CPGO" record -o "$d/pprof/$r.@I@.pprof" -F "$hz" -- || return 1
	done
	# cpgo record reports "...: N samples; ..." per run.
	sed -n 's/.*cpgo record: wrote .*: \([0-9][0-9]*\) samples.*/\1/p' "$LOG" | tail -n "$(ls "$d"/pprof/*.pprof | wc -l)" |
		awk '{ s += $1 } END { print s + 0 }' >"$d/samples"
	bench_say "bench: $P: ${3:-cpgo}: $(cat "$d/samples") samples ($runs runs at $hz Hz)"
	bench_step "$LOG" "$P: cpgo merge" "$CPGO" merge -o "$d/default.pgo" "$d"/pprof/*.pprof || return 1
	build_cpgo_use "$d"
}

# build_cpgo_use DIR: the PGO build from DIR/default.pgo, with cpgo's diagnostics.
build_cpgo_use() {
	local d=$1 gen=$OUTP/cpgo-gen
	# Diagnostics only (the build converts by itself): what clang will see.
	"$CPGO" top "$d/default.pgo" >"$d/top.txt" 2>&1 || true
	"$CPGO" convert --to=$FMT --text --stats --binary "$gen/bin" -o "$d/cpgo.txt" "$d/default.pgo" >"$d/convert.log" 2>&1 || true
	timed_build "$d" "$P: cpgo cc -pgo=default.pgo build" "${P}_build" "$SRC" "$d/use" \
		"$CPGO cc -pgo=$d/default.pgo" "$BASE_CFLAGS" || return 1
	ln -sfn use/bin "$d/bin"
}

# build_route R: cpgo@HZxN trains the cpgo route at HZ Hz over N runs.
build_route() {
	case $1 in
	cpgo@*) local s=${1#cpgo@}; build_cpgo "${s%x*}" "${s#*x}" "$1" ;;
	*) "build_$1" ;;
	esac
}

binpath() { echo "$OUTP/$1/bin"; }

# ---- measuring -----------------------------------------------------------

# Each program's rows are in run/PROGRAM/results.tsv, so programs can be run
# by separate invocations (even at once) and reported together (--report).
measure() {
	local routes=() r round i cpu n res=$OUTP/results.tsv
	for r in ${ROUTES//,/ }; do [ -x "$(binpath "$r")" ] && routes+=("$r"); done
	n=${#routes[@]}
	# Outputs must be identical to -O2's.
	local ref
	ref=$(run_cmds eval "$(binpath o2)" "$OUTP/check/o2" && output_sum "$OUTP/check/o2") || return 1
	for r in "${routes[@]}"; do
		[ "$r" = o2 ] && continue
		local sum
		sum=$(run_cmds eval "$(binpath "$r")" "$OUTP/check/$r" && output_sum "$OUTP/check/$r") || return 1
		if [ "$sum" != "$ref" ]; then
			bench_say "bench: $P: $r output differs from -O2's (compare $OUTP/check/o2 and $OUTP/check/$r)"
			return 1
		fi
	done
	rm -rf "$OUTP/check"
	local times=$OUTP/times.tsv
	: >"$times"
	if [ $TIMING = 1 ]; then
		bench_say "bench: $P: $ROUNDS interleaved rounds over: ${routes[*]}"
		for round in $(seq "$ROUNDS"); do
			# Rotate the order each round so no route always runs first.
			for i in $(seq 0 $((n - 1))); do
				r=${routes[$(((i + round) % n))]}
				cpu=$(bench_cpu_us run_cmds eval "$(binpath "$r")" "$OUTP/tmp") || return 1
				echo "$round $r $cpu" >>"$times"
			done
		done
		# Timings are noise on a shared machine: the report says how loaded it was.
		cut -d' ' -f1-3 /proc/loadavg >"$OUTP/load"
	fi
	: >"$res.tmp"
	for r in "${routes[@]}"; do
		local ratio=- med=- ir=- irr=-
		if [ $TIMING = 1 ]; then
			med=$(awk -v r="$r" '$2 == r { print $3 / 1e6 }' "$times" | bench_median)
			# Paired: each round's o2 time over this route's time, then the median.
			ratio=$(awk -v r="$r" '$2 == "o2" { b[$1] = $3 } $2 == r { t[$1] = $3 }
				END { for (k in t) if (k in b) print b[k] / t[k] }' "$times" | bench_median)
		fi
		if [ $CALLGRIND = 1 ]; then
			# Kept per route for bench/compare.sh.
			rm -rf "$OUTP/cg/$r" && mkdir -p "$OUTP/cg/$r" || return 1
			strip --strip-debug -o "$OUTP/cg/$r/bin" "$(binpath "$r")" || return 1
			ir=$(CGOUT=$OUTP/cg/$r run_cg "$OUTP/cg/$r/bin") || return 1
		fi
		local minr=-
		if [ $TIMING = 1 ]; then
			# Best-of-rounds ratio: noisy neighbours only ever add time.
			minr=$(awk -v r="$r" '$2 == "o2" && (!b || $3 < b) { b = $3 } $2 == r && (!t || $3 < t) { t = $3 }
				END { if (b && t) print b / t; else print "-" }' "$times")
		fi
		# A run that skips one measurement keeps the last run's figures for it,
		# so timing and callgrind can be run separately (--no-timing, --no-callgrind).
		local old
		old=$(awk -F'\t' -v r="$r" '$2 == r' "$res" 2>/dev/null)
		if [ -n "$old" ]; then
			[ $TIMING = 1 ] || { med=$(echo "$old" | cut -f3); ratio=$(echo "$old" | cut -f4); minr=$(echo "$old" | cut -f6); }
			[ $CALLGRIND = 1 ] || ir=$(echo "$old" | cut -f5)
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$P" "$r" "$med" "$ratio" "$ir" "$minr" >>"$res.tmp"
	done
	# Routes this run did not measure (--routes named others) keep their rows.
	if [ -f "$res" ]; then
		awk -F'\t' 'NR == FNR { have[$2] = 1; next } !($2 in have)' "$res.tmp" "$res" >"$res.keep" &&
			cat "$res.keep" >>"$res.tmp" && rm -f "$res.keep" || return 1
	fi
	# In the routes' order (the report's rows), whichever runs measured them.
	awk -F'\t' 'BEGIN { split("o2 o2flags ir afdo cpgo", o, " "); for (i in o) k[o[i]] = i }
		{ print (($2 in k) ? k[$2] : 9) "\t" NR "\t" $0 }' "$res.tmp" | sort -t "$(printf '\t')" -k1,1n -k2,2n |
		cut -f3- >"$res.keep" && mv "$res.keep" "$res.tmp" || return 1
	mv "$res.tmp" "$res"
}

run_cg() {
	local bin=$1 total=0 line c i=0 n
	while IFS= read -r line; do
		i=$((i + 1))
		c=${line//@BIN@/$bin}
		c=${c//@DATA@/$DATA}
		c=${c//@TMP@/$CGOUT}
		c=${c//@BENCH@/$BENCH}
		mkdir -p "$CGOUT"
		# A trailing ">FILE" is the command's output file.
		local so=$CGOUT/run$i.stdout
		case $c in *" >"*) so=${c##* >}; c=${c% >*} ;; esac
		n=$(eval "bench_callgrind_ir $CGOUT/run$i $so $c") || return 1
		total=$((total + n))
	done < <("${P}_cg")
	echo "$total"
}

report() {
	local cmdline="bench/pgo.sh${ARGS:+ $ARGS}" results=() p
	for p in ${PROGRAMS//,/ }; do
		[ -f "$WORK/run/$p/results.tsv" ] && results+=("$WORK/run/$p/results.tsv")
	done
	[ ${#results[@]} -gt 0 ] || { bench_say "bench: no results under $WORK/run for: $PROGRAMS"; return 1; }
	echo "# cpgo PGO benchmark"
	echo
	local rev
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- lib runtime builtin 2>/dev/null || echo "+changes")
	echo "Generated by \`$cmdline\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m);"
	echo "$($CC --version | head -1); cpgo at ${rev:-unknown}). $TRAIN_RUNS training runs for the sampled"
	echo "routes (perf at $PERF_HZ Hz, cpgo at $CPGO_HZ Hz; cpgo@HZxN: N runs at HZ Hz). Base flags of every"
	echo "build: \`$BASE_CFLAGS\`. o2flags adds what \`cpgo cc -pgo=off\` adds (its CPGO_DEBUG trace):"
	echo "\`${CPGO_CC_FLAGS:-(not measured)}\`. afdo: perf record -e cpu-clock on a \`$SAMPLE_CFLAGS\` build,"
	echo "$([ $COMPILER = gcc ] && echo "create_gcov, -fauto-profile" || echo "llvm-profgen --leading-ip-only, -fprofile-sample-use + -fsample-profile-use-profi")."
	echo
	if [ $TIMING = 1 ]; then
		echo "Timing: $ROUNDS interleaved rounds (noise when the machine is shared: Ir gives the direction);"
		echo "load average after each program's rounds: $(for p in ${PROGRAMS//,/ }; do
			[ -f "$WORK/run/$p/load" ] && printf '%s %s; ' "$p" "$(cat "$WORK/run/$p/load")"; done)"
	else
		echo "This run measured no time (--no-timing): time columns are an earlier run's, or '-'."
	fi
	echo
	echo "Time = CPU time (user + sys) of the evaluation commands, wall and CPU in run/PROGRAM/times.tsv."
	echo "Speedup = median over rounds of (time of -O2 / time of the route) within the same round;"
	echo "above 1 is faster. Ir = instructions executed under callgrind (smaller inputs);"
	echo "Ir ratio = Ir of -O2 / Ir of the route (above 1 is fewer instructions)."
	echo
	echo "Best-of ratio = fastest -O2 round / fastest round of the route (noise only adds time)."
	echo
	echo "Build = seconds of compiling of the route (both builds for the PGO routes; the cpgo routes"
	echo "share one profiled build, counted in each), on a shared machine."
	echo
	echo "| program | route | median time (s) | speedup vs -O2 | best-of ratio | Ir | Ir ratio vs -O2 | profile | build (s) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' -v work="$WORK" '
		function note(p, r,   f, n) {
			if (r == "afdo") { f = work "/run/" p "/afdo/samples"; if ((getline n < f) > 0) return n " perf samples"; return "" }
			if (r ~ /^cpgo/) { f = work "/run/" p "/" r "/samples"; if ((getline n < f) > 0) return n " cpgo samples"; return "" }
			if (r == "ir") return "instrumented"
			if (r == "o2flags") return "none"
			return "baseline"
		}
		function build(p, r,   f, n, t) {
			t = 0
			f = work "/run/" p "/" r "/build_s"; while ((getline n < f) > 0) t += n; close(f)
			if (r ~ /^cpgo/) { f = work "/run/" p "/cpgo-gen/build_s"; while ((getline n < f) > 0) t += n; close(f) }
			return t ? t : "-"
		}
		{ p[NR] = $1; r[NR] = $2; t[NR] = $3; s[NR] = $4; ir[NR] = $5; mr[NR] = $6 == "" ? "-" : $6; if ($2 == "o2") base[$1] = $5 }
		END {
			names["o2"] = "-O2"; names["o2flags"] = "-O2 + cpgo cc flags"; names["ir"] = "IR PGO"; names["afdo"] = "perf AutoFDO"; names["cpgo"] = "cpgo"
			for (i = 1; i <= NR; i++) {
				irr = (ir[i] != "-" && base[p[i]] != "-" && ir[i] > 0) ? sprintf("%.3f", base[p[i]] / ir[i]) : "-"
				sp = s[i] == "-" ? "-" : sprintf("%.3f", s[i])
				tm = t[i] == "-" ? "-" : sprintf("%.3f", t[i])
				bo = mr[i] == "-" ? "-" : sprintf("%.3f", mr[i])
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p[i], (r[i] in names ? names[r[i]] : r[i]), tm, sp, bo, ir[i], irr, note(p[i], r[i]), build(p[i], r[i])
			}
		}' "${results[@]}"
}

# ---- main ----
# All in a function, read whole before it runs: editing this file during a
# run cannot derail it.
main() {

	failed=
	for P in ${PROGRAMS//,/ }; do
		[ $REPORT_ONLY = 0 ] || break
		declare -F "${P}_build" >/dev/null || bench_die "unknown program '$P' (lua, zstd, bzip2, tl, tcl, sqlite, xmllint, mawk)"
		pkg_var=${P}_pkg
		OUTP=$WORK/run/$P
		LOG=$OUTP/log.txt
		mkdir -p "$OUTP"
		if [ -n "${!pkg_var}" ]; then
			bench_say "bench: == $P (Debian source package ${!pkg_var}) =="
			SRC=$(bench_fetch_source "${!pkg_var}" "$SRCROOT") || { failed="$failed $P"; continue; }
		else
			bench_say "bench: == $P (examples/$P) =="
			SRC=$ROOT/examples/$P
		fi
		! declare -F "${P}_env" >/dev/null || "${P}_env"
		DATA=$WORK/data/$P$([ $QUICK = 1 ] && echo -quick)
		mkdir -p "$DATA"
		bench_step "$LOG" "$P: input data" "${P}_data" "$SRC" "$DATA" || { failed="$failed $P"; continue; }
		if [ $TIME_ONLY = 0 ]; then
			[ $REUSE = 1 ] || { : >"$LOG"; rm -rf "$OUTP/cpgo-gen"; }
			if [ $REUSE = 0 ] || ! [ -x "$(binpath o2)" ]; then
				build_o2 || { failed="$failed $P"; continue; }
			fi
			for r in ${ROUTES//,/ }; do
				[ "$r" = o2 ] && continue
				case $KEEP_PROFILES,$r in 1,cpgo | 1,cpgo@*) ;; *) [ $REUSE = 1 ] && [ -x "$(binpath "$r")" ] && continue ;; esac
				bench_say "bench: $P: route $r"
				build_route "$r" || { failed="$failed $P/$r"; rm -f "$OUTP/$r/bin"; }
			done
		fi
		measure || failed="$failed $P/measure"
	done

	report >"$WORK/results.md.tmp" && mv "$WORK/results.md.tmp" "$WORK/results.md" || bench_die "cannot write $WORK/results.md"
	if [ "$WORK" = "$BENCH/work" ]; then
		cp "$WORK/results.md" "$BENCH/results.md.tmp" && mv "$BENCH/results.md.tmp" "$BENCH/results.md"
	fi
	cat "$WORK/results.md"
	if [ -n "$failed" ]; then
		bench_say "bench: failed:$failed (see the logs under $WORK/run/)"
		exit 1
	fi
}

main; exit $?
