#!/usr/bin/env bash
# Tail calls (lib/sprof/sprof_tailcall.c): a wrapper that ends in a jump
# through a function pointer leaves no frame in the stacks; --tail-frames
# puts it back from the profiled binary's code, so the wrapper gets an inline
# instance under its hot caller with the jump's target under it. Off by
# default: the stacks are used as recorded (get_info itself may still be
# inlined into main for its own samples; parse_cell is not).
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a wrapper tail-calling through a pointer, a profile of it' '
	use_plain_libcpgo || { echo "no plain libcpgo.so to preload"; return 1; } &&
	cat >prog.c <<-\EOF &&
	#include <stdio.h>
	#include <stdlib.h>
	struct page { int (*parse)(const unsigned char *, int); };
	static unsigned char buf[256];
	__attribute__((noinline)) int parse_cell(const unsigned char *p, int n)
	{
		int s = 0;
		for (int i = 0; i < 48; i++)
			s = (s ^ (p[(i + n) & 255] * 31)) + (s >> 3);
		return s;
	}
	__attribute__((noinline)) int parse_other(const unsigned char *p, int n)
	{
		return p[n & 255] - n;
	}
	__attribute__((noinline)) int get_info(struct page *pg, int n)
	{
		return pg->parse(buf, n * 3 + 1);
	}
	int main(int argc, char **argv)
	{
		long rounds = argc > 1 ? atol(argv[1]) : 1000;
		struct page pg = { argc > 2 ? parse_other : parse_cell };
		int s = 0;
		for (int i = 0; i < 256; i++)
			buf[i] = (unsigned char)(i * 37 + 11);
		for (long r = 0; r < rounds; r++)
			s += get_info(&pg, (int)r);
		printf("%d\n", s);
		return 0;
	}
	EOF
	cpgo cc -pgo=off -O2 -o prof-bin prog.c &&
	llvm-objdump-19 -d --no-show-raw-insn prof-bin >dis &&
	awk "/<get_info>:/ { on = 1; next } /^$/ { on = 0 } on && /jmp.*\*/ { f = 1 } END { exit !f }" dis &&
	cpgo record -F 20000 -o prof.pprof -- ./prof-bin 3000000 >out.want
'

test_expect_success '--tail-frames: get_info is put back and inlined into main with parse_cell under it' '
	cpgo convert --text --stats --tail-frames -o tail.txt prof.pprof 2>stats &&
	cat stats &&
	grep -Eq "^tail-call frames put back: 1$" stats &&
	grep -Eq "^  samples whose stacks got one: [1-9]" stats &&
	awk "/^main:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^ [0-9.]+: get_info:[0-9]+$/ { g = 1 } on && g && /^  [0-9.]+: parse_cell:[0-9]+$/ { f = 1 } END { exit !f }" tail.txt &&
	cpgo convert --tail-frames -o tail.prof prof.pprof && llvm-profdata-19 show --sample tail.prof >/dev/null
'

test_expect_success 'default: the stacks as recorded, parse_cell in no instance' '
	cpgo convert --text --stats -o plain.txt prof.pprof 2>stats2 &&
	grep -Eq "^tail-call frames put back: 0$" stats2 &&
	! grep -Eq "^ +[0-9.]+: parse_cell:[0-9]+$" plain.txt &&
	grep -Eq "^parse_cell:[0-9]+:" plain.txt &&
	cpgo convert --text --no-tail-frames -o off.txt prof.pprof &&
	cmp plain.txt off.txt
'

test_done
