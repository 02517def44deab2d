#!/usr/bin/env bash
# A long fuzzing session (not part of the tests): each named target for
# SECONDS of wall time from its generated seeds, one after another, going
# on past a finding. Prints per target: executions, coverage, CPU seconds
# and the finding, if any. Usage: B=build tests/fuzz/long.sh SECONDS TARGET...
set -u
B=${B:-build}
secs=$1
shift
for t in "$@"; do
	# FUZZ_INSTANCE=N: a second run of a target beside the first, starting from its corpus.
	d=$B/fuzz/long${FUZZ_INSTANCE:+-$FUZZ_INSTANCE}/$t
	mkdir -p "$d/corpus" "$d/artifacts"
	[ -n "${FUZZ_INSTANCE:-}" ] && [ -d "$B/fuzz/long/$t/corpus" ] && cp -n "$B/fuzz/long/$t/corpus/"* "$d/corpus/" 2>/dev/null
	"$B/fuzz/gen_seeds" "$t" "$d/corpus"
	start=$(awk '{print $14 + $15}' /proc/self/stat)
	TIMEFORMAT="%U %S"
	{ time "$B/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$d/artifacts/" -print_final_stats=1 \
		"$d/corpus" >"$d/log" 2>&1; } 2>"$d/cpu"
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$d/log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$d/log" | tail -1)
	cpu=$(awk '{printf "%.0f", $1 + $2}' "$d/cpu")
	finding=none
	[ $rc -ne 0 ] && finding=$(grep -m1 -E 'ERROR|runtime error|fuzz_[a-z_]*:' "$d/log")
	echo "$t runs=${runs:-?} $cov cpu_s=$cpu corpus=$(ls "$d/corpus" | wc -l) finding=$finding"
done
