#!/usr/bin/env bash
# libcpgo never takes its host down: fork, programs that own or block
# SIGPROF, dlclose, and the API linked statically.
. "$(dirname "$0")/lib.sh"
. "$CPGO_ROOT/tests/workloads/build.sh"
LIB=$CPGO_BUILD/libcpgo.so

test_expect_success 'build the workloads' '
	build_workloads && build_api_workload
'

test_expect_success 'a fork child does not inherit the profile' '
	CPGO_HZ=500 CPGO_PROFILE=fork.%p.pprof LD_PRELOAD=$LIB ./burn 0.6 fork &&
	ls fork.*.pprof >files && cat files && test $(wc -l <files) = 1
'

test_expect_success 'CPGO_FORK=1: the child writes its own profile' '
	CPGO_FORK=1 CPGO_HZ=500 CPGO_PROFILE=kid.%p.pprof LD_PRELOAD=$LIB ./burn 0.6 fork &&
	ls kid.*.pprof >files && test $(wc -l <files) = 2 &&
	for f in $(cat files); do go tool pprof -top $f >$f.top && grep -q burn_b $f.top || exit 1; done
'

test_expect_success 'CPGO_FORK=1 without %p: the child writes PATH.PID' '
	CPGO_FORK=1 CPGO_HZ=500 CPGO_PROFILE=same.pprof LD_PRELOAD=$LIB ./burn 0.4 fork &&
	test -s same.pprof && ls same.pprof.[0-9]* >files && test $(wc -l <files) = 1
'

test_expect_success 'ring mode: a program with its own SIGPROF handler meets no signal of ours' '
	CPGO_HZ=1000 CPGO_PROFILE=hr.pprof LD_PRELOAD=$LIB ./burn 0.5 handler >out &&
	cat out && grep -q "handler calls: [0-9]" out &&
	go tool pprof -raw hr.pprof >hr.raw && test "$(pprof_meta hr.raw mode)" = perf-ring &&
	test -z "$(pprof_meta hr.raw handler_replaced)" &&
	test "$(pprof_pct hr.pprof cum burn_a | cut -d. -f1)" -ge 50
'

test_expect_success 'signal mode: a program that installs its own SIGPROF handler keeps running' '
	CPGO_MODE=signal CPGO_HZ=1000 CPGO_PROFILE=h.pprof LD_PRELOAD=$LIB ./burn 0.5 handler >out &&
	cat out && grep -q "handler calls: [0-9]" out &&
	go tool pprof -raw h.pprof >h.raw && test "$(pprof_meta h.raw handler_replaced)" = 1
'

test_expect_success 'a program that blocks SIGPROF keeps running; its new threads are sampled' '
	CPGO_HZ=1000 CPGO_PROFILE=b.pprof LD_PRELOAD=$LIB ./burn 0.6 block &&
	test "$(pprof_pct b.pprof cum burn_a | cut -d. -f1)" -ge 60
'

test_expect_success 'a program that owns SIGPROF first: libcpgo takes another signal, both work' '
	CPGO_MODE=signal ./api api.pprof sigprof >out && cat out &&
	go tool pprof -raw api.pprof >api.raw &&
	pprof_meta api.raw signal | grep -q "^SIGRTMIN+" && grep -q " api_spin " api.raw
'

test_expect_success 'samples in a dlclose()d library do not break writing' '
	./api dl.pprof dlopen &&
	go tool pprof -top dl.pprof >dl.top && grep -q api_spin dl.top
'

test_expect_success 'exec() of the profiled program re-triggers profiling in the new image' '
	for i in 1 2 3 4 5; do
		rm -f exec.*.pprof &&
		CPGO_HZ=5000 CPGO_PROFILE=exec.%p.pprof LD_PRELOAD=$LIB sh -c "exec ./burn 0.2" &&
		ls exec.*.pprof >files && test $(wc -l <files) = 1 || exit 1
	done &&
	go tool pprof -top $(cat files) | grep -q burn_a
'

test_expect_success 'a failed exec() leaves the profile running' '
	CPGO_HZ=1000 CPGO_PROFILE=ef.pprof LD_PRELOAD=$LIB ./burn 0.6 execfail &&
	a=$(pprof_pct ef.pprof cum burn_a) && echo "burn_a after failed exec: $a%" &&
	test "${a%.*}" -ge 50
'

test_done
