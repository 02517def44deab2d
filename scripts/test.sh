#!/usr/bin/env bash
# The README's test command: installs missing Debian packages, builds with
# -Werror, runs the whole suite, then the unit tests again under ASan/UBSan.
# Ends with the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
./scripts/deps.sh || { echo "cpgo: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
jobs=$(nproc)
total_p=0 total_f=0
run() { # label, build dir, make args...
	local label=$1 b=$2 out; shift 2
	if ! make -s -j"$jobs" B="$b" WERROR=1 "$@" all units fuzz >"$b.make.log" 2>&1; then
		cat "$b.make.log"
		echo "$label: build failed"
		total_f=$((total_f + 1))
		return
	fi
	# Each pass's own total is relabelled so only the grand total below reads
	# as the closing "N passed, N failed" line.
	B="$b" ./tests/run.sh ${ONLY:-} >"$b.test.log" 2>&1
	out=$(tail -1 "$b.test.log")
	sed "s/^\([0-9]* passed, [0-9]* failed\)$/[$label pass] \1/" "$b.test.log"
	if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		total_p=$((total_p + BASH_REMATCH[1])); total_f=$((total_f + BASH_REMATCH[2]))
	else
		echo "$label: test runner did not finish ($out)"; total_f=$((total_f + 1))
	fi
}
mkdir -p build build-san
run "build" build
# Under ASan/UBSan: everything except the tests that LD_PRELOAD libcpgo.so
# into uninstrumented programs (t10xx), which ASan cannot support (its
# runtime must load first); the runtime's code runs sanitized in test_runtime.
if [ "${CPGO_SKIP_SAN:-0}" != 1 ]; then
	CPGO_TEST_EXCLUDE='^t10[0-9][0-9]-' run "sanitize" build-san SANITIZE=1
fi
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
