#!/usr/bin/env bash
# The cpgo command itself: help, version, unknown commands and flags.
. "$(dirname "$0")/lib.sh"

test_expect_success 'cpgo help lists every subcommand' '
	cpgo help >out &&
	for c in cc convert layout merge record top validate version; do
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
	for c in cc convert layout merge record top validate version; do
		cpgo $c --help >out 2>&1 || { echo "$c --help failed"; cat out; false; }
		grep -qi "usage" out || { echo "$c --help has no usage"; cat out; false; }
	done
'

test_expect_success 'every subcommand refuses an unknown flag with a hint, status 2' '
	for c in convert layout merge record top validate version; do
		rc=0; cpgo $c --frobnicate x >out 2>err || rc=$?
		test $rc = 2 || { echo "$c: status $rc"; cat err; return 1; }
		grep -q "unknown option .--frobnicate." err && grep -q "See .cpgo $c --help." err ||
			{ echo "$c:"; cat err; return 1; }
	done &&
	test_must_fail cpgo top -x a.pprof 2>err && grep -q "unknown option .-x." err &&
	test_must_fail cpgo top --cum=3 a.pprof 2>err && grep -q "takes no value" err &&
	test_must_fail cpgo top a.pprof -n 2>err && grep -q "needs a count" err &&
	test_must_fail cpgo convert p.pprof --binary 2>err && grep -q "option .--binary. needs a value" err &&
	test_must_fail cpgo cc -pgo-frobnicate -c x.c 2>err && grep -q "pgo-frobnicate" err &&
	grep -q "See .cpgo cc --help." err
'

test_expect_success 'options and -- follow getopt_long: long =VALUE, clusters, record stops at COMMAND' '
	cpgo help --help | grep -q "usage: cpgo" &&
	test_must_fail cpgo version -- --help 2>err && grep -q "cannot open" err &&
	test_must_fail cpgo record -- --help 2>err && grep -q "command not found" err &&
	test_must_fail cpgo record --output=x.pprof --freq=0 true 2>err && grep -q "1..100000" err &&
	test_must_fail cpgo record sh -c "exit 0" --frobnicate 2>err && ! grep -q "unknown option" err
'

test_expect_success 'cpgo help CMD is CMD --help' '
	cpgo help merge >a && cpgo merge --help >b && cmp a b
'

test_done
