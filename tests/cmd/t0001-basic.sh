#!/usr/bin/env bash
# The cpgo command itself: help, version, unknown commands and flags.
. "$(dirname "$0")/lib.sh"

test_expect_success 'cpgo help lists every subcommand' '
	cpgo help >out &&
	for c in cc convert merge record top validate version; do
		grep -q "^   $c " out || { echo "missing $c"; false; }
	done
'

test_expect_success 'cpgo without a command shows usage and fails' '
	test_must_fail cpgo 2>err && grep -q "usage: cpgo" err
'

test_expect_success 'cpgo version prints the version from VERSION' '
	cpgo version >out && grep -qx "cpgo version $(cat "$CPGO_ROOT/VERSION")" out &&
	cpgo --version | grep -q "cpgo version"
'

test_expect_success 'an unknown command is refused with a hint' '
	test_must_fail cpgo frobnicate 2>err &&
	grep -q "frobnicate" err && grep -q "cpgo help" err
'

test_expect_success 'every subcommand has --help that exits 0 and shows usage' '
	for c in cc convert merge record top validate version; do
		cpgo $c --help >out 2>&1 || { echo "$c --help failed"; cat out; false; }
		grep -qi "usage" out || { echo "$c --help has no usage"; cat out; false; }
	done
'

test_expect_success 'cpgo help CMD is CMD --help' '
	cpgo help merge >a && cpgo merge --help >b && cmp a b
'

test_done
