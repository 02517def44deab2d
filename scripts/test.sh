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
	local label=$1 b=$2 out rc; shift 2
	if ! make -s -j"$jobs" B="$b" WERROR=1 "$@" all units fuzz >"$b.make.log" 2>&1; then
		cat "$b.make.log"
		echo "$label: build failed"
		total_f=$((total_f + 1))
		return
	fi
	out=$(B="$b" ./tests/run.sh ${ONLY:-} 2>&1 | tee /dev/stderr | tail -1)
	rc=$?
	if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		total_p=$((total_p + BASH_REMATCH[1])); total_f=$((total_f + BASH_REMATCH[2]))
	else
		echo "$label: test runner did not finish ($out)"; total_f=$((total_f + 1))
	fi
}
mkdir -p build build-san
run "build" build
# Under ASan/UBSan: the unit tests (the C code paths, fast) — command tests
# already exercise the same binaries unsanitized.
if [ "${CPGO_SKIP_SAN:-0}" != 1 ]; then
	ONLY=test_ run "sanitize" build-san SANITIZE=1
fi
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
