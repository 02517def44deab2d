#!/usr/bin/env bash
# Crash safety: a few iterations of bench/killsafe.sh (kill -9 of cpgo merge,
# cpgo convert, cpgo cc's cache fill and a profiled program at random
# moments) leave the old file or the complete new one, never a partial
# one; and a cache entry of an older profile is never used for a new one.
. "$(dirname "$0")/lib.sh"

# The profiled program needs a libcpgo.so it can preload (not a sanitized one).
OPS=merge,convert,cc,program
use_plain_libcpgo || OPS=merge,convert,cc

test_expect_success 'kill -9 at random moments never leaves a partial output' '
	B=$CPGO_BUILD "$CPGO_ROOT/bench/killsafe.sh" --iterations=4 --ops=$OPS --work="$TRASH/ks" \
		>ks.out 2>&1 || { cat ks.out; false; }
	cat ks.out &&
	for op in ${OPS//,/ }; do
		grep -E "^$op +kills=4 old=[0-9]+ new=[0-9]+ bad=0 " ks.out || return 1
	done
'

test_expect_success 'a changed profile never reuses the cache entry of the old one' '
	cd ks &&
	cc_obj() { cpgo cc -pgo=prof.pprof -c t.c -o "$1"; } &&
	cp a.pprof prof.pprof && cc_obj a1.o &&
	cp b.pprof prof.pprof && cc_obj b1.o &&
	rm -rf cache && cc_obj b2.o && cmp b1.o b2.o &&
	cp a.pprof prof.pprof && rm -rf cache && cc_obj a2.o && cmp a1.o a2.o &&
	! cmp -s a1.o b1.o
'

test_done
