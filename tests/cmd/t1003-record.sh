#!/usr/bin/env bash
# cpgo record: preload libcpgo into a command, pass its exit status through.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"

test_expect_success 'build the workloads and small programs' '
	build_workloads &&
	printf "int main(void) { volatile long x = 0; for (long i = 0; i < 100000000; i++) x += i; return 3; }\n" >three.c &&
	clang-19 -O1 -o three three.c &&
	printf "#include <signal.h>\nint main(void) { raise(SIGSEGV); return 0; }\n" >crash.c &&
	clang-19 -o crash crash.c &&
	printf "int main(void) { return 0; }\n" >static.c &&
	clang-19 -static -o static static.c
'

test_expect_success 'record writes cpgo.pprof by default and says what it holds' '
	cpgo record -F 1000 -- ./burn 0.5 2>err && cat err &&
	test -s cpgo.pprof &&
	grep -q "wrote cpgo.pprof: [0-9]* samples; requested 1000 Hz, achieved" err &&
	go tool pprof -top cpgo.pprof | grep -q burn_a
'

test_expect_success 'record -o FILE, and the exit status passes through' '
	rc=0 && cpgo record -o three.pprof ./three 2>err || rc=$? &&
	test $rc = 3 && test -s three.pprof
'

test_expect_success 'a program killed by a signal: 128+N, a message, the old profile kept' '
	cp three.pprof keep.pprof &&
	rc=0 && cpgo record -o keep.pprof ./crash 2>err || rc=$? &&
	cat err && test $rc = $((128 + 11)) && grep -q "killed by signal 11" err &&
	cmp keep.pprof three.pprof
'

test_expect_success 'a static binary is refused with the reason and the fix' '
	test_must_fail cpgo record ./static 2>err && cat err &&
	grep -q "statically linked" err && grep -q "lcpgo" err
'

test_expect_success 'a setuid binary is refused' '
	cp three suid && chmod u+s suid &&
	test_must_fail cpgo record ./suid 2>err && grep -q "set-user/group-ID" err
'

test_expect_success 'usage errors' '
	rc=0 && cpgo record 2>err || rc=$? && test $rc = 2 && grep -q "no command" err &&
	rc=0 && cpgo record -F 0 ./three 2>err || rc=$? && test $rc = 2 && grep -q "1..100000" err &&
	rc=0 && cpgo record -- ./no-such-program 2>err || rc=$? && test $rc = 127 && grep -q "not found" err
'

test_expect_success 'a FIFO as -o is written into, not replaced (as /dev/null must not be)' '
	mkfifo pipe.pprof &&
	{ cat pipe.pprof >got.pprof & } &&
	rc=0 && cpgo record -o pipe.pprof ./three 2>err || rc=$? &&
	wait && test $rc = 3 &&
	test -p pipe.pprof && test -s got.pprof && go tool pprof -top got.pprof >/dev/null
'

test_expect_success 'CPGO_LIB pointing nowhere is a clear error' '
	CPGO_LIB=/nonexistent/libcpgo.so test_must_fail cpgo record ./three 2>err &&
	grep -q "/nonexistent/libcpgo.so" err
'

test_expect_success 'only the recorded process writes: grandchildren do not overwrite it' '
	cpgo record -o tree.pprof -- sh -c "./three; ./burn 0.3" 2>err || true &&
	! test -e tree.pprof.cpgo-record.* &&
	if test -e tree.pprof; then ! go tool pprof -top tree.pprof | grep -q burn_a; fi
'

test_expect_success '--children: every process of a script, merged into one profile' '
	cpgo record --children -F 1000 -o tree2.pprof -- sh -c "./three; ./burn 0.3; true" 2>err &&
	cat err &&
	grep -q "wrote tree2.pprof: [0-9]* samples from [2-9] processes; requested 1000 Hz" err &&
	! test -e tree2.pprof.cpgo-record.* &&
	go tool pprof -top tree2.pprof >top &&
	grep -q burn_a top && grep -q " main$" top &&
	go tool pprof -raw tree2.pprof >raw &&
	test $(grep -c "^Comment: cpgo.samples=" raw) = 1 &&
	n=$(sed -n "s/^Comment: cpgo.samples=//p" raw) &&
	sum=$(awk "/^Samples:/ { on = 1; next } on && /^ *[0-9]+ +[0-9]+:/ { s += \$1 } /^Locations/ { on = 0 } END { print s }" raw) &&
	echo "meta $n, samples $sum" && test "$n" = "$sum"
'

test_expect_success '--children: a command whose processes write nothing leaves no file' '
	test_must_fail cpgo record --children -o none.pprof -- sh -c "exec ./static" 2>err &&
	grep -q "wrote no profile" err &&
	! test -e none.pprof && ! test -e none.pprof.cpgo-record.*
'

test_done
