#!/usr/bin/env bash
# cpgo import: real `perf record -e cpu-clock` profiles (PIE with an inlined
# helper, non-PIE, a shared library, two threads), with and without call
# graphs, from perf.data and from perf script text, into pprof profiles that
# agree with perf's own counts, have inlined frames and start lines, and
# drive `cpgo convert`. Other commands that meet a perf file say what it is.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"

cp "$WORKLOADS/inlhot.c" p.c

FIELDS=pid,tid,time,period,event,ip,sym,dso

if ! perf record -e cpu-clock -o probe.data true >/dev/null 2>&1; then
	test_skip "perf record -e cpu-clock is not allowed here (perf_event_paranoid $(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null))"
	test_done
	exit
fi

test_expect_success 'record real perf profiles: PIE with -g, without -g, non-PIE, a library' '
	clang-19 -O2 -g -fno-omit-frame-pointer -o p p.c &&
	clang-19 -O2 -g -fno-omit-frame-pointer -no-pie -o p-nopie p.c &&
	build_workloads &&
	perf record -q -e cpu-clock -F 2000 -g -o g.data ./p >/dev/null 2>&1 &&
	perf record -q -e cpu-clock -F 2000 -o flat.data ./p >/dev/null 2>&1 &&
	perf record -q -e cpu-clock -F 2000 -g -o nopie.data ./p-nopie >/dev/null 2>&1 &&
	perf record -q -e cpu-clock -F 2000 -g -o burn.data ./burn 0.5 >/dev/null 2>&1 &&
	test -s g.data && test -s flat.data && test -s nopie.data && test -s burn.data
'

# Sample count perf itself reports.
perf_samples() { perf script -i "$1" -F event 2>/dev/null | grep -c "cpu-clock:"; }
# Raw value of a function in cpgo top (flat or cum), all rows.
top_val() { # PROFILE flat|cum FUNCTION
	cpgo top -n 0 --sample-type samples "$1" |
		awk -v f="$3" -v c="$2" '$6 == f { v += (c == "flat") ? $1 : $4 } END { print v + 0 }'
}

test_expect_success 'a perf.data with call graphs: Go sample types, every sample, start lines' '
	cpgo import -o g.pprof g.data 2>err && cat err &&
	grep -q "wrote g.pprof: [0-9]* cpu-clock samples" err &&
	n=$(perf_samples g.data) && test "$(top_val g.pprof cum main)" -gt $((n * 9 / 10)) &&
	go tool pprof -raw g.pprof >raw &&
	grep -q "^PeriodType: cpu nanoseconds" raw &&
	grep -q "^samples/count.* cpu/nanoseconds$" raw &&
	cpgo top -n 0 g.pprof | grep -q " hot  .*/p.c:$(source_line p.c hot)$" &&
	cpgo top -n 0 g.pprof | grep -q " warm  .*/p.c:$(source_line p.c warm)$" &&
	cpgo top -n 0 g.pprof | grep -q " main  .*/p.c:$(source_line p.c main)$" &&
	total=$(cpgo top --sample-type samples g.pprof | sed -n "s/.*Total = \([0-9]*\)$/\1/p") &&
	test "$total" = "$n" &&
	cpgo validate g.pprof
'

test_expect_success 'inlined frames are symbolized (perf leaves them out), callers through warm' '
	cpgo top -n 0 g.pprof >top && cat top &&
	grep -q " mix (inline)  .*/p.c:$(source_line p.c mix)$" top &&
	test "$(top_val g.pprof cum warm)" -gt 0 &&
	test "$(top_val g.pprof cum hot)" -gt "$(top_val g.pprof cum warm)"
'

test_expect_success 'shares agree with perf report' '
	perf report -i g.data --stdio --no-children --sort sym 2>/dev/null |
		awk "\$NF == \"hot\" { sub(\"%\", \"\", \$1); print \$1 }" >perf_hot &&
	ours=$(cpgo top -n 0 --sample-type samples g.pprof | awk "
		/ Total = / { t = \$NF } \$6 == \"hot\" || \$6 == \"mix\" { s += \$1 } END { print 100 * s / t }") &&
	echo "perf: $(cat perf_hot)% cpgo (hot + its inlined mix): $ours%" &&
	awk -v a="$(cat perf_hot)" -v b="$ours" "BEGIN { d = a - b; exit !(d < 1 && d > -1) }"
'

test_expect_success 'without call graphs: leaf samples, still inline frames and start lines' '
	cpgo import -o flat.pprof flat.data &&
	test "$(top_val flat.pprof flat hot)" -gt 0 &&
	cpgo top -n 0 flat.pprof | grep -q " hot  .*/p.c:$(source_line p.c hot)$" &&
	test "$(top_val flat.pprof cum main)" = 0 &&
	cpgo validate flat.pprof
'

test_expect_success 'a non-PIE binary, and a shared library with two threads' '
	cpgo import -o nopie.pprof nopie.data &&
	cpgo top -n 0 nopie.pprof | grep -q " hot  .*/p.c:$(source_line p.c hot)$" &&
	test "$(top_val nopie.pprof cum warm)" -gt 0 &&
	cpgo import -o burn.pprof burn.data &&
	cpgo top -n 0 burn.pprof >btop && cat btop &&
	grep -q " burn_a " btop && grep -q " lib_burn " btop
'

test_expect_success 'perf script text, from a file and from stdin, gives the same profile' '
	perf script -i g.data -F $FIELDS --show-mmap-events >g.txt 2>/dev/null &&
	cpgo import -o t1.pprof g.txt &&
	cpgo import -o t2.pprof - <g.txt &&
	cpgo top -n 0 g.pprof >a && cpgo top -n 0 t1.pprof | sed 1d >b && sed 1d a >a1 &&
	cmp a1 b && cpgo top -n 0 t2.pprof | sed 1d | cmp - a1
'

test_expect_success 'plain perf script output (no mmap events) still symbolizes, with a warning' '
	perf script -i g.data >plain.txt 2>/dev/null &&
	cpgo import -o plain.pprof plain.txt 2>err && cat err &&
	grep -q "no mmap event" err &&
	test "$(top_val plain.pprof flat hot)" = "$(top_val g.pprof flat hot)" &&
	cpgo top -n 0 plain.pprof | grep -q " mix (inline)  .*/p.c:"
'

test_expect_success 'the imported profile drives cpgo convert and a PGO build' '
	cpgo convert --text -o g.prof g.pprof &&
	# hot has a profile of its own, or an inline instance in its caller (stack contexts).
	grep -Eq "^( *[0-9.]+: )?hot:[0-9]" g.prof && grep -q "^ *[0-9]*: [0-9]*" g.prof &&
	cp g.pprof default.pgo && cpgo cc -O2 -o p-pgo p.c 2>err && cat err && ./p-pgo 1000 >/dev/null
'

test_expect_success 'pprof commands name a perf file and say to run cpgo import' '
	test_must_fail cpgo top g.data 2>err && cat err &&
	grep -q "g.data: a Linux perf.data file, not a pprof profile: convert it with .cpgo import g.data." err &&
	test_must_fail cpgo merge -o m.pprof g.pprof g.data 2>err && grep -q "cpgo import" err &&
	test_must_fail cpgo validate g.txt 2>err && grep -q "g.txt: perf script text" err &&
	test_must_fail cpgo convert plain.txt 2>err && grep -q "cpgo import plain.txt" err
'

test_expect_success 'errors: not perf output, another event, no perf' '
	printf "hello world\n" >junk.txt &&
	test_must_fail cpgo import -o j.pprof junk.txt 2>err && cat err && grep -q "junk.txt:1: not perf script output" err &&
	! test -e j.pprof &&
	test_must_fail cpgo import --event cycles -o j.pprof g.txt 2>err && grep -q "no samples of event .cycles." err &&
	test_must_fail cpgo import --perf /nonexistent/perf -o j.pprof g.data 2>err && grep -q "/nonexistent/perf.*install perf" err &&
	printf "p 1/1 1.000000: 250000 cpu-clock:\n\tzz hot (/x)\n" >badframe.txt &&
	test_must_fail cpgo import -o j.pprof badframe.txt 2>err && grep -q "badframe.txt:2:" err &&
	rc=0 && cpgo import 2>err || rc=$? && test $rc = 2 &&
	cpgo import --help | grep -q "usage: cpgo import"
'

test_done
