#!/usr/bin/env bash
# Context from stacks (the pre-inliner in lib/sprof/sprof_preinline.c): a hot
# callee that the profiled binary calls becomes an inline instance under its
# hot caller, clang's sample loader inlines it, and the PGO build runs fewer
# instructions than the profiled one. --no-context leaves the callee alone.
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a mid-sized callee that -O2 does not inline, a profile of it' '
	use_plain_libcpgo || { echo "no plain libcpgo.so to preload"; return 1; } &&
	{
		cat <<-\EOF
		#include <stdio.h>
		#include <stdlib.h>
		int classify(const unsigned char *p, int n, int mode)
		{
			int s = 0;
			for (int i = 0; i < n; i++) {
				switch (mode) {
		EOF
		for k in $(seq 0 23); do
			echo "case $k: s = (s ^ (p[i] * $((k * 7 + 3)))) + (i << $((k % 5))) - (s >> $((k % 3 + 1))) + p[(i + $k) & 15] * $k; break;"
		done
		cat <<-\EOF
				default: s += p[i]; break;
				}
			}
			return s;
		}
		static unsigned char buf[64];
		int main(int argc, char **argv)
		{
			long rounds = argc > 1 ? atol(argv[1]) : 1000;
			int mode = argc > 2 ? atoi(argv[2]) : 5, s = 0;
			for (int i = 0; i < 64; i++)
				buf[i] = (unsigned char)(i * 37 + 11);
			if (argc > 3)
				s += classify(buf, 64, atoi(argv[3]));
			for (long r = 0; r < rounds; r++) {
				buf[r & 63] ^= (unsigned char)r;
				s += classify(buf, 16, mode);
			}
			printf("%d\n", s);
			return 0;
		}
		EOF
	} >prog.c &&
	cpgo cc -pgo=off -O2 -o prof-bin prog.c &&
	llvm-objdump-19 -d prof-bin | grep -q "call.*<classify>" &&
	cpgo record -F 20000 -o prof.pprof -- ./prof-bin 30000000 >out.want
'

test_expect_success 'the hot call becomes an inline instance of classify in main' '
	cpgo convert --text --stats -o ctx.txt prof.pprof 2>stats &&
	cat stats &&
	grep -Eq "^calls inlined from stack contexts: [1-9]" stats &&
	awk "/^main:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^ [0-9.]+: classify:[0-9]+$/ { n = \$NF } END { exit !n }" FS=: ctx.txt &&
	cpgo convert --text --no-context -o flat.txt prof.pprof &&
	! grep -Eq "^ [0-9.]+: classify:[0-9]+$" flat.txt &&
	grep -Eq "^classify:[0-9]+:" flat.txt &&
	cpgo convert -o ctx.prof prof.pprof && llvm-profdata-19 show --sample ctx.prof >/dev/null
'

test_expect_success 'ext-binary: flagged pre-inlined, the pre-inliner'"'"'s instance marked' '
	llvm-profdata-19 show --sample --show-sec-info-only ctx.prof >sec &&
	grep -q "ProfileSummarySection.*preInlined" sec && grep -q "FunctionMetadata.*attr" sec &&
	llvm-profdata-19 merge --sample --text -o back.txt ctx.prof &&
	awk "/^main:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /: classify:/ { c = 1; next } c && /!Attributes: 2/ { f = 1 } END { exit !f }" back.txt &&
	cpgo convert --no-preinlined -o plain.prof prof.pprof &&
	llvm-profdata-19 show --sample --show-sec-info-only plain.prof >sec2 &&
	! grep -q preInlined sec2 &&
	cpgo convert --no-context -o flat2.prof prof.pprof &&
	llvm-profdata-19 show --sample --show-sec-info-only flat2.prof >sec3 && ! grep -q preInlined sec3
'

test_expect_success 'clang-19 inlines it to match the profiling context; fewer instructions' '
	cpgo cc -pgo=prof.pprof -O2 -Rpass=sample-profile-inline -o pgo prog.c 2>remarks &&
	grep "classify.*inlined into.*main.*to match profiling context" remarks &&
	cpgo convert --no-context -o flat.prof prof.pprof &&
	clang-19 -O2 -gline-tables-only -fdebug-info-for-profiling -fprofile-sample-use=flat.prof \
		-fsample-profile-use-profi -Rpass=sample-profile-inline -o pgo-flat prog.c 2>flat-remarks &&
	! grep -q "classify.*inlined into.*main.*to match profiling context" flat-remarks &&
	./pgo 30000000 >out && cmp out.want out &&
	if command -v valgrind >/dev/null; then
		strip --strip-debug -o a prof-bin && strip --strip-debug -o b pgo &&
		ia=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null ./a 200000 2>&1 >/dev/null |
			sed -n "s/.*refs: *//p" | tr -d ,) &&
		ib=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null ./b 200000 2>&1 >/dev/null |
			sed -n "s/.*refs: *//p" | tr -d ,) &&
		echo "Ir profiled $ia, PGO $ib" && test "$ib" -lt "$ia"
	fi
'

test_done
