#!/usr/bin/env bash
# Runs every unit test binary (cmocka) and every numbered command test
# (tests/cmd/tNNNN-*.sh), then prints the closing line "N passed, N failed".
# Each shell test prints one "ok N - ..." / "not ok N - ..." line per case.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export CPGO_ROOT=$PWD CPGO_BUILD=$PWD/$B
export PATH="$PWD/$B:$PATH"
passed=0 failed=0 failures=()
logdir=$B/test-logs
mkdir -p "$logdir"
only=${1:-}
# CPGO_TEST_EXCLUDE: a regex of test names to leave out (see scripts/test.sh).
exclude=${CPGO_TEST_EXCLUDE:-}

count() { # file with TAP-ish lines
	local p f
	p=$(grep -c '^ok ' "$1" || true)
	f=$(grep -c '^not ok ' "$1" || true)
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -gt 0 ] && failures+=("$2")
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	[ -n "$only" ] && [[ $name != *$only* ]] && continue
	[ -n "$exclude" ] && [[ $name =~ $exclude ]] && continue
	log=$logdir/$name.log
	# cmocka's TAP output: one "ok"/"not ok" per test.
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" >"$log" 2>&1
	rc=$?
	count "$log" "$name"
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		failed=$((failed + 1)); failures+=("$name (exit $rc)")
	fi
	echo "$name: $(grep -c '^ok ' "$log") ok, $(grep -c '^not ok ' "$log") not ok"
done

for t in tests/cmd/t[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	[ -n "$only" ] && [[ $name != *$only* ]] && continue
	[ -n "$exclude" ] && [[ $name =~ $exclude ]] && continue
	log=$logdir/$name.log
	timeout 600 bash "$t" >"$log" 2>&1
	rc=$?
	count "$log" "$name"
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$log"; then
		failed=$((failed + 1)); failures+=("$name (exit $rc)")
	fi
	echo "$name: $(grep -c '^ok ' "$log") ok, $(grep -c '^not ok ' "$log") not ok"
done

for f in "${failures[@]}"; do
	echo "FAILED: $f (log: $logdir/${f%% *}.log)"
	grep -A15 '^not ok ' "$logdir/${f%% *}.log" | head -40
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
