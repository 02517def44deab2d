#!/usr/bin/env bash
# libcpgo via CPGO_PROFILE: CPU shares, inline frames, start lines, shared
# libraries, the header fields, honest rates, %p.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"
LIB=$CPGO_BUILD/libcpgo.so
SRC=$CPGO_ROOT/tests/workloads

test_expect_success 'build the workloads' '
	build_workloads && test -x burn && test -f libburn.so
'

test_expect_success 'a whole run is profiled at exit' '
	CPGO_HZ=1000 CPGO_PROFILE=run.pprof LD_PRELOAD=$LIB ./burn 2 &&
	test -s run.pprof &&
	go tool pprof -raw run.pprof >raw.txt &&
	go tool pprof -top -nodecount=200 run.pprof >top.txt
'

test_expect_success 'threads burning 75/25 show 75/25 (within 5 points)' '
	a=$(pprof_pct run.pprof cum burn_a) && b=$(pprof_pct run.pprof cum burn_b) &&
	echo "burn_a $a% burn_b $b%" &&
	awk -v a="$a" -v b="$b" "BEGIN { exit !(a >= 70 && a <= 80 && b >= 20 && b <= 30) }"
'

test_expect_success 'an inlined function is its own (inline) frame inside its caller' '
	grep -q "mix (inline)" top.txt &&
	grep -A1 " mix .*burn.c" raw.txt | grep -q "^ *burn_a .*burn.c"
'

test_expect_success 'functions start at the line of their name' '
	for f in burn_a burn_b mix; do
		want=$(source_line "$SRC/burn.c" $f) &&
		got=$(grep -m1 " $f .*burn.c:[0-9]* s=" raw.txt | sed "s/.* s=\([0-9]*\).*/\1/") &&
		echo "$f: source $want profile $got" && test "$want" = "$got" || exit 1
	done &&
	want=$(source_line "$SRC/libburn.c" lib_burn) &&
	grep -q " lib_burn .*libburn.c:[0-9]* s=$want" raw.txt
'

test_expect_success 'a shared library is its own mapping and its functions are symbolized' '
	m=$(grep "libburn.so" raw.txt | grep -o "^[0-9]*:" | tr -d :) && test -n "$m" &&
	grep -q "M=$m lib_burn " raw.txt &&
	test "$(pprof_pct run.pprof flat lib_burn | cut -d. -f1)" -ge 15
'

test_expect_success 'the header: sample and period types, period, duration' '
	grep -q "^PeriodType: cpu nanoseconds" raw.txt &&
	grep -q "^Period: 1000000$" raw.txt &&
	grep -A1 "^Samples:" raw.txt | grep -q "samples/count cpu/nanoseconds" &&
	grep -q "^Duration: " raw.txt
'

test_expect_success 'the profile states the requested and the achieved rate' '
	test "$(pprof_meta raw.txt requested_hz)" = 1000 &&
	hz=$(pprof_meta raw.txt achieved_hz) && n=$(pprof_meta raw.txt samples) &&
	echo "achieved $hz Hz, $n samples" &&
	total=$(awk "/^Samples:/ {s=1; next} s && /^ *[0-9]+ +[0-9]+:/ {t += \$1} /^Locations/ {s=0} END {print t}" raw.txt) &&
	echo "samples in profile: $total" && test "$n" = "$total" &&
	if test "$(pprof_meta raw.txt timer)" = perf-task-clock; then
		awk -v h="$hz" "BEGIN { exit !(h >= 850 && h <= 1050) }"
	fi
'

test_expect_success 'the POSIX timer fallback reports the rate it really got' '
	CPGO_TIMER=posix CPGO_HZ=1000 CPGO_PROFILE=posix.pprof LD_PRELOAD=$LIB ./burn 1 &&
	go tool pprof -raw posix.pprof >praw.txt &&
	test "$(pprof_meta praw.txt timer)" = posix-cpu-timer &&
	hz=$(pprof_meta praw.txt achieved_hz) &&
	echo "posix timer achieved $hz Hz" &&
	awk -v h="$hz" "BEGIN { exit !(h > 0 && h <= 1050) }" &&
	cpu=$(awk "/^Samples:/ {s=1; next} s && /^ *[0-9]+ +[0-9]+:/ {t += \$2} /^Locations/ {s=0} END {print t}" praw.txt) &&
	echo "cpu/nanoseconds total $cpu" &&
	awk -v c="$cpu" "BEGIN { exit !(c >= 0.7e9 && c <= 1.3e9) }"
'

test_expect_success 'CPGO_UNWIND=libunwind unwinds code built without frame pointers' '
	clang-19 -O2 -g -fomit-frame-pointer -o burn-nofp "$SRC/burn.c" -L. -lburn \
		-Wl,-rpath,"\$ORIGIN" -lpthread &&
	CPGO_UNWIND=libunwind CPGO_HZ=1000 CPGO_PROFILE=nofp.pprof LD_PRELOAD=$LIB ./burn-nofp 0.8 &&
	go tool pprof -raw nofp.pprof | grep -qx "Comment: cpgo.unwinder=libunwind" &&
	a=$(pprof_pct nofp.pprof cum thread_a) && echo "thread_a cum $a%" &&
	awk -v a="$a" "BEGIN { exit !(a >= 65 && a <= 85) }"
'

test_expect_success '%p in CPGO_PROFILE is the pid' '
	CPGO_PROFILE=pid.%p.pprof LD_PRELOAD=$LIB ./burn 0.1 &&
	ls pid.*.pprof >files && test $(wc -l <files) = 1 &&
	grep -q "^pid\.[0-9][0-9]*\.pprof$" files
'

test_expect_success 'a bad CPGO_HZ is reported and the program still runs' '
	CPGO_HZ=fast CPGO_PROFILE=bad.pprof LD_PRELOAD=$LIB ./burn 0.1 2>err &&
	grep -q "CPGO_HZ=fast" err && ! test -e bad.pprof
'

test_expect_success 'an unwritable CPGO_PROFILE is reported, the exit status kept' '
	CPGO_PROFILE=/nonexistent/dir/x.pprof LD_PRELOAD=$LIB ./burn 0.1 2>err &&
	grep -q "/nonexistent/dir/x.pprof" err
'

for mode in ring signal; do
	test_expect_success "$mode mode: samples in a prologue or epilogue keep their caller" "
		clang-19 -O2 -g -fno-omit-frame-pointer -o prologue \"\$CPGO_ROOT/tests/workloads/prologue.c\" &&
		CPGO_MODE=$mode CPGO_HZ=4000 CPGO_PROFILE=pro-$mode.pprof LD_PRELOAD=\$LIB ./prologue 300 >/dev/null &&
		go tool pprof -raw pro-$mode.pprof >pro.raw && grep -qx \"Comment: cpgo.mode=\$(test $mode = ring && echo perf-ring || echo signal)\" pro.raw &&
		go tool pprof -traces pro-$mode.pprof >pro.traces &&
		awk '/^-----/ { n = 0; next } n == 0 && NF >= 2 { leaf = \$2; n = 1; next }
			n == 1 { if (leaf == \"tiny\") { t++; if (\$1 == \"tiny_caller\") ok++ } n = 2 }
			END { print ok + 0, \"of\", t + 0, \"stacks of tiny have tiny_caller as the caller\"; exit !(t > 0 && ok == t) }' pro.traces
	"
done

test_done
