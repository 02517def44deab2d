#!/usr/bin/env bash
# Crash safety under kill -9 (not a test; t0052 runs a few iterations).
# Kills, at a random moment of their run, hundreds of times each:
#   merge     cpgo merge -o OUT over an existing OUT
#   convert   cpgo convert -o OUT over an existing OUT
#   cc        cpgo cc's cache fill (the profile converted into $XDG_CACHE_HOME/cpgo)
#   program   a program profiled by libcpgo (CPGO_PROFILE=OUT) over an existing OUT
# After each kill the target must be the old file or the complete new one
# (byte-identical to an uninterrupted run where the output is
# deterministic, a valid profile where it is not); for cc, every cache
# entry must be whole, and the next build must give the object a clean
# build gives (a stale or partial entry is never used). Prints one line per
# operation: kills, how many left the old file, the new one, something
# else (must be 0), and the temporary files left behind.
# usage: bench/killsafe.sh [--iterations=N] [--ops=merge,convert,cc,program] [--work=DIR]
set -u -o pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
. "$BENCH/lib.sh"

iters=200 ops=merge,convert,cc,program work=$BENCH/work/killsafe
for a in "$@"; do
	case $a in
	--iterations=*) iters=${a#*=} ;;
	--ops=*) ops=${a#*=} ;;
	--work=*) work=${a#*=} ;;
	*) bench_die "unknown option $a (see the header of $0)" ;;
	esac
done
B=${B:-$ROOT/build}
CPGO=$B/cpgo
[ -x "$CPGO" ] || bench_die "$CPGO is not built (make)"
bench_need clang-19 cmp
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export XDG_CACHE_HOME=$work/cache

# Inputs: profiles large enough that a run lasts long enough to be cut
# anywhere, made by the test generator, and a workload for libcpgo.
# A sanitized build's library needs the sanitizer runtimes at link time.
san=
case $(nm "$B/libcpgo-core.a" 2>/dev/null | grep -c __asan_) in 0) ;; *) san="-fsanitize=address,undefined" ;; esac
cc -O1 $san -I"$ROOT/lib" -I"$B/gen" -o bigprof "$ROOT/tests/helper/bigprof.c" \
	"$B/libcpgo-core.a" $(cat "$B/link-libs") || bench_die "cannot build bigprof"
./bigprof funcs 60000 a.pprof && ./bigprof funcs 40000 b.pprof && ./bigprof deep 300 old.pprof ||
	bench_die "cannot make the input profiles"
cat >t.c <<'SRC'
int fn_1(int x) { return x * 3 + 1; }
int main(int argc, char **argv) { (void)argv; return fn_1(argc) & 1; }
SRC
clang-19 -O2 -g -fno-omit-frame-pointer -o spin "$ROOT/tests/workloads/spin.c" ||
	bench_die "cannot build the workload"

# Wall time of one uninterrupted run, in microseconds (the kills land in 0..1.3x of it).
run_us() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

# Starts CMD, kills it with SIGKILL after a random part of SPAN_US, reaps it.
# CMD must be a program, not a shell function: a function runs in a forked
# shell, and killing that shell would leave the program running.
kill_during() { # SPAN_US CMD...
	local span=$1 pid d
	shift
	"$@" >/dev/null 2>&1 &
	pid=$!
	d=$((RANDOM * 32768 + RANDOM))
	d=$((d % (span * 13 / 10 + 1)))
	sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

report() { # OP KILLS OLD NEW BAD TEMPS
	printf '%-8s kills=%d old=%d new=%d bad=%d temp_left=%d\n' "$@"
}

tmp_count() { find "$@" -name '*.tmp.*' 2>/dev/null | wc -l; }

op_file() { # OP: merge or convert, over an existing output
	local op=$1 out ref span old=0 new=0 bad=0 i
	case $op in
	merge) out=out.pprof ref=ref.pprof ;;
	convert) out=out.prof ref=ref.prof ;;
	esac
	local -a args
	if [ $op = merge ]; then args=(merge a.pprof b.pprof -o); else args=(convert a.pprof -o); fi
	"$CPGO" "${args[@]}" "$ref" >/dev/null 2>&1 || bench_die "$op does not run"
	"$CPGO" "${args[@]}" "$ref.again" >/dev/null 2>&1 && cmp -s "$ref" "$ref.again" ||
		bench_die "$op's output is not deterministic: cannot tell new from partial"
	span=$(run_us "$CPGO" "${args[@]}" "$ref.again")
	for ((i = 0; i < iters; i++)); do
		cp old.pprof "$out"
		kill_during "$span" "$CPGO" "${args[@]}" "$out"
		if cmp -s "$out" old.pprof; then old=$((old + 1))
		elif cmp -s "$out" "$ref"; then new=$((new + 1))
		else bad=$((bad + 1)); cp "$out" "bad-$op-$i"; fi
	done
	report "$op" "$iters" $old $new $bad "$(tmp_count .)"
	rm -f ./*.tmp.*
}

op_cc() {
	local span old=0 new=0 bad=0 i f ok
	local -a build=("$CPGO" cc -pgo=a.pprof -c t.c -o)
	rm -rf cache && "${build[@]}" ref.o >/dev/null 2>&1 || bench_die "cpgo cc does not build"
	cp -r cache refcache
	rm -rf cache
	span=$(run_us "${build[@]}" t.o)
	for ((i = 0; i < iters; i++)); do
		rm -rf cache t.o
		kill_during "$span" "${build[@]}" t.o
		ok=1
		# Every entry in the cache is whole: the same bytes as a clean fill's.
		for f in $(cd refcache && find . -type f); do
			[ -e "cache/$f" ] || continue
			cmp -s "cache/$f" "refcache/$f" || ok=0
		done
		if [ -n "$(find cache/cpgo/llvm -name '*.prof' 2>/dev/null)" ]; then new=$((new + 1))
		else old=$((old + 1)); fi
		# The next build over what the kill left gives the clean build's object.
		rm -f t.o
		"${build[@]}" t.o >"cc-$i.log" 2>&1 && cmp -s t.o ref.o || ok=0
		[ $ok = 1 ] || { bad=$((bad + 1)); mkdir -p "bad-cc-$i" && cp "cc-$i.log" "bad-cc-$i/" &&
			{ [ ! -e cache ] || cp -r cache "bad-cc-$i/"; }; }
		rm -f "cc-$i.log"
	done
	report cc "$iters" $old $new $bad "$(tmp_count cache)"
}

op_program() {
	local span old=0 new=0 bad=0 i lib=${CPGO_LIB:-$B/libcpgo.so}
	# The environment goes to the program alone (env execs it: the kill reaches
	# it); exported, it would make sleep, cp and cmp write the profile too.
	# CPGO_LIB: an uninstrumented libcpgo.so when $B is a sanitized build.
	prog() { # OUT: the command line of a profiled run writing OUT
		echo env LD_PRELOAD="$lib" CPGO_HZ=1000 CPGO_PROFILE="$1" ./spin 400
	}
	$(prog fresh.pprof) >/dev/null 2>&1
	"$CPGO" top fresh.pprof >/dev/null 2>&1 || bench_die "the profiled program writes no valid profile"
	span=$(run_us $(prog span.pprof))
	for ((i = 0; i < iters; i++)); do
		cp old.pprof prog.pprof
		kill_during "$span" $(prog prog.pprof)
		if cmp -s prog.pprof old.pprof; then old=$((old + 1))
		elif "$CPGO" top prog.pprof >/dev/null 2>&1; then new=$((new + 1))
		else bad=$((bad + 1)); cp prog.pprof "bad-program-$i"; fi
	done
	report program "$iters" $old $new $bad "$(tmp_count .)"
}

for op in ${ops//,/ }; do
	case $op in
	merge | convert) op_file "$op" ;;
	cc) op_cc ;;
	program) op_program ;;
	*) bench_die "unknown operation $op" ;;
	esac
done
