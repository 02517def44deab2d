#!/usr/bin/env bash
# Iteration stability: build -> profile -> PGO build -> profile the PGO
# binary -> PGO build, three cycles. The hot set stays the same (functions
# the PGO build inlined are still symbolized back to themselves through
# their inline frames) and the instruction count does not oscillate.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi

cat >app.c <<'EOF_C'
#include <stdlib.h>
static unsigned long step(unsigned long s, unsigned long i)
{
	if (i % 7 == 3)
		return s * 33 + (i >> 2);
	return s * 31 + (i ^ (s >> 7));
}

__attribute__((noinline)) unsigned long parse(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++)
		s = step(s, i);
	return s;
}

__attribute__((noinline)) unsigned long render(unsigned long n)
{
	unsigned long s = 1;
	for (unsigned long i = 0; i < n; i++)
		s = s * 17 + (i | (s >> 3));
	return s;
}

int main(int argc, char **argv)
{
	unsigned long r = 0, n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	for (unsigned long k = 0; k < n; k++)
		r += parse(2000000 + k) + render(1000000 + k);
	return r == 42;
}
EOF_C

# The flat share (%) of each of parse, step and render.
shares() { # PROFILE
	cpgo top -n 0 --sample-type samples "$1" | awk '
		/^ *flat/ { go = 1; next }
		go && ($6 == "parse" || $6 == "step" || $6 == "render") { sub("%", "", $2); s[$6] = $2 }
		END { printf "%s %s %s\n", s["parse"] + 0, s["step"] + 0, s["render"] + 0 }'
}
close_to() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { x = a - b; if (x < 0) x = -x; exit !(x <= d) }'; }
ir() { # BIN
	strip --strip-debug -o "$1.strip" "$1" &&
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "./$1.strip" 3 2>&1 |
		sed -n "s/.*Collected : \([0-9]*\).*/\1/p"
}

test_expect_success 'cycle 0: a profile of the cpgo cc -pgo=off build' '
	cpgo cc -pgo=off clang-19 -O2 -o b0 app.c &&
	cpgo record -F 2000 -o p0.pprof ./b0 2>/dev/null &&
	shares p0.pprof >s0 && cat s0 && read a b c <s0 &&
	awk -v a="$a" -v b="$b" -v c="$c" "BEGIN { exit !(a + b > 40 && c > 10) }"
'

test_expect_success 'three cycles of PGO build and profile of the PGO binary' '
	for c in 1 2 3; do
		cpgo cc -pgo=p$((c - 1)).pprof clang-19 -O2 -o b$c app.c &&
		cpgo record -F 2000 -o p$c.pprof ./b$c 2>/dev/null &&
		shares p$c.pprof >s$c && cat s$c || return 1
	done
'

test_expect_success 'the PGO builds inlined step, and its samples still name it' '
	! llvm-nm-19 b3 | grep -q " t step$" &&
	for c in 1 2 3; do
		read a b r <s$c && awk -v b="$b" "BEGIN { exit !(b > 5) }" || return 1
	done
'

test_expect_success 'the hot set keeps its shares from cycle to cycle (within 12 points)' '
	read a0 b0 c0 <s0 &&
	for c in 1 2 3; do
		read a b r <s$c &&
		close_to "$(awk -v x="$a" -v y="$b" "BEGIN { print x + y }")" \
			"$(awk -v x="$a0" -v y="$b0" "BEGIN { print x + y }")" 12 &&
		close_to "$r" "$c0" 12 || return 1
	done
'

test_expect_success 'the instruction count does not oscillate: cycles 2 and 3 within 6% of cycle 1' '
	i1=$(ir b1) && i2=$(ir b2) && i3=$(ir b3) && echo "$i1 $i2 $i3" &&
	test -n "$i1" && test -n "$i3" &&
	awk -v a="$i1" -v b="$i2" -v c="$i3" "BEGIN { exit !(b < a * 1.06 && b > a * 0.94 && c < a * 1.06 && c > a * 0.94) }"
'

test_done
