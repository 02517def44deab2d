#!/usr/bin/env bash
# Fuzzes each named target for SECONDS from its generated seed corpus (kept
# and grown in $B/fuzz/corpus/NAME), one after another. A crash, leak,
# timeout or failed property stops the run with the reproducer's path.
# Usage: B=build tests/fuzz/run.sh SECONDS TARGET...
set -u
B=${B:-build}
secs=$1
shift
status=0
for t in "$@"; do
	bin=$B/fuzz/fuzz_$t corpus=$B/fuzz/corpus/$t art=$B/fuzz/artifacts/$t/
	mkdir -p "$corpus" "$art"
	"$B/fuzz/gen_seeds" "$t" "$corpus" || { status=1; continue; }
	log=$B/fuzz/$t.log
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$art" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
		echo "fuzz $t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
			grep -o '[0-9]*$') runs, $(grep -o 'cov: [0-9]*' "$log" | tail -1)"
	else
		echo "fuzz $t: FINDING (see $log, reproducer in $art)"
		tail -30 "$log"
		status=1
	fi
done
exit $status
