#!/usr/bin/env bash
# cpgo import of gperftools' legacy CPU profiles: a real CPUPROFILE= run of
# a real program (skipped when libprofiler is not installed), symbolized
# with inlined frames and start lines, agreeing with go tool pprof's own
# reading of the same file.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"

LIBPROFILER=$(ls /usr/lib/*/libprofiler.so.0 /usr/lib/libprofiler.so.0 2>/dev/null | head -1)
if [ -z "$LIBPROFILER" ]; then
	test_skip "gperftools' libprofiler.so.0 is not installed (Debian: libgoogle-perftools4)"
	test_done
	exit
fi

cp "$WORKLOADS/inlhot.c" g.c

test_expect_success 'a real gperftools CPU profile' '
	clang-19 -O2 -g -fno-omit-frame-pointer -o g g.c &&
	CPUPROFILE=g.prof CPUPROFILE_FREQUENCY=500 LD_PRELOAD=$LIBPROFILER ./g 600000000 >/dev/null &&
	test -s g.prof
'

test_expect_success 'pprof commands say what it is and to run cpgo import' '
	test_must_fail cpgo top g.prof 2>err && cat err &&
	grep -q "g.prof: a gperftools (legacy) CPU profile, not a pprof profile: convert it with .cpgo import g.prof." err
'

test_expect_success 'imported: Go sample types, start lines, inlined frames' '
	cpgo import -o g.pprof g.prof 2>err && cat err && grep -q "gperftools samples" err &&
	go tool pprof -raw g.pprof >raw && grep -q "^PeriodType: cpu nanoseconds" raw &&
	cpgo top -n 0 g.pprof >top && cat top &&
	grep -q " hot  .*/g.c:$(source_line g.c hot)$" top &&
	grep -q " mix (inline)  .*/g.c:$(source_line g.c mix)$" top &&
	grep -q " main  .*/g.c:$(source_line g.c main)$" top &&
	cpgo validate g.pprof
'

test_expect_success 'the same samples as go tool pprof reads from the file' '
	theirs=$(go tool pprof -top -sample_index=0 g g.prof 2>/dev/null | sed -n "s/.* of \([0-9]*\) total$/\1/p") &&
	ours=$(cpgo top --sample-type samples g.pprof | sed -n "s/.*Total = \([0-9]*\)$/\1/p") &&
	echo "go tool pprof: $theirs, cpgo: $ours" && test -n "$ours" && test "$ours" = "$theirs" &&
	hot_theirs=$(go tool pprof -top -sample_index=0 g g.prof 2>/dev/null | awk "\$6 == \"hot\" { print \$1 }") &&
	hot_ours=$(cpgo top -n 0 --sample-type samples g.pprof | awk "\$6 == \"hot\" || \$6 == \"mix\" { s += \$1 } END { print s }") &&
	echo "hot: $hot_theirs vs $hot_ours (with its inlined mix)" && test "$hot_ours" = "$hot_theirs"
'

test_expect_success 'a truncated profile is refused with its name' '
	head -c 200 g.prof >cut.prof &&
	test_must_fail cpgo import -o cut.pprof cut.prof 2>err && cat err &&
	grep -q "cut.prof: truncated gperftools profile" err && ! test -e cut.pprof
'

test_done
