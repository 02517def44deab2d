#!/usr/bin/env bash
# A profile is about source, not machine code: one taken on x86-64 drives
# an aarch64 cross-compile (the same functions get the same entry counts in
# the IR, and sample-profile remarks), and profiles of the two
# architectures merge into one that keeps both's samples.
. "$(dirname "$0")/lib.sh"
if ! use_plain_libcpgo; then
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
fi
if ! clang-19 --target=aarch64-linux-gnu -c -x c -o /dev/null /dev/null 2>/dev/null; then
	test_skip "clang-19 has no aarch64 target here"
	test_done
	exit
fi

# No #include: the cross-compile needs no aarch64 C library headers.
cat >app.c <<'EOF_C'
__attribute__((noinline)) unsigned long parse(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++) {
		s = s * 31 + (i ^ (s >> 7));
		s ^= s << 3;
	}
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
	unsigned long r = 0;
	for (int k = 0; k < 100; k++)
		r += parse(3000000 + k) + render(1000000 + k);
	return r == 42 && argc > 5;
}
EOF_C

# The total of a function in LLVM's text sample profile.
llvm_total() { # FILE NAME
	awk -F: -v f="$2" '$1 == f { print $2 }' "$1"
}

test_expect_success 'an x86-64 profile' '
	clang-19 -O2 -g -fno-omit-frame-pointer -o app app.c &&
	cpgo record -F 1000 -o x86.pprof ./app 2>/dev/null &&
	cpgo top -n 0 --sample-type samples x86.pprof >top &&
	test "$(awk "\$6 == \"parse\" { print \$1 }" top)" -gt 100
'

test_expect_success 'it drives the aarch64 compile: the same functions, the same entry counts' '
	cpgo cc -pgo=x86.pprof clang-19 -O2 -S -emit-llvm -o x86.ll app.c &&
	cpgo cc -pgo=x86.pprof clang-19 --target=aarch64-linux-gnu -O2 -S -emit-llvm -o arm.ll app.c &&
	grep -q "^target triple = \"aarch64" arm.ll &&
	entry_counts x86.ll >x86.counts && entry_counts arm.ll >arm.counts &&
	# parse and render may be inlined into main by the profile (stack contexts):
	# what matters is that both targets read the same counts.
	cat x86.counts && grep -q "^main " x86.counts && cmp x86.counts arm.counts &&
	cpgo cc -pgo=off clang-19 --target=aarch64-linux-gnu -O2 -S -emit-llvm -o plain.ll app.c &&
	test -z "$(entry_counts plain.ll)"
'

test_expect_success 'sample-profile remarks name the sampled loops on aarch64' '
	cpgo cc -pgo=x86.pprof clang-19 --target=aarch64-linux-gnu -O2 -c -o arm.o \
		-Rpass=sample-profile app.c 2>remarks && cat remarks &&
	line=$(grep -n "s = s \* 31" app.c | cut -d: -f1) &&
	grep -q "^app.c:$line:.*remark: .*\[-Rpass=sample-profile\]" remarks &&
	llvm-readelf-19 -h arm.o | grep -q "Machine: *AArch64"
'

test_expect_success 'an aarch64 profile (test helper, mapping for the aarch64 object) merges with it' '
	build_test_tool mkprof "$CPGO_ROOT/tests/helper/mkprof.c" &&
	file=$(awk "\$6 == \"parse\" { sub(\":[0-9]*$\", \"\", \$7); print \$7 }" top) &&
	ps=$(grep -n "unsigned long parse(" app.c | cut -d: -f1) &&
	rs=$(grep -n "unsigned long render(" app.c | cut -d: -f1) &&
	ms=$(grep -n "^int main" app.c | cut -d: -f1) &&
	pa=$(llvm-nm-19 arm.o | awk "\$3 == \"parse\" { print \$1 }") &&
	ra=$(llvm-nm-19 arm.o | awk "\$3 == \"render\" { print \$1 }") &&
	test -n "$pa" && test -n "$ra" &&
	cat >arm.spec <<-EOF &&
	type samples count
	type cpu nanoseconds
	period cpu nanoseconds 1000000
	map 1 0x400000 0x500000 0 $PWD/arm.o
	fn 1 parse $file $ps
	fn 2 render $file $rs
	fn 3 main $file $ms
	loc 1 1 0x$(printf %x $((0x400000 + 0x$pa + 16))) 1:$((ps + 4))
	loc 2 1 0x$(printf %x $((0x400000 + 0x$ra + 16))) 2:$((rs + 3))
	loc 3 1 0x400010 3:$((ms + 4))
	sample 300 300000000 @ 1 3
	sample 100 100000000 @ 2 3
	EOF
	./mkprof arm.pprof <arm.spec &&
	cpgo merge -o both.pprof x86.pprof arm.pprof &&
	cpgo top -n 0 --sample-type samples both.pprof >both.top &&
	x=$(awk "\$6 == \"parse\" { print \$1 }" top) && b=$(awk "\$6 == \"parse\" { print \$1 }" both.top) &&
	test "$b" = $((x + 300)) &&
	x=$(awk "\$6 == \"render\" { print \$1 }" top) && b=$(awk "\$6 == \"render\" { print \$1 }" both.top) &&
	test "$b" = $((x + 100)) &&
	cpgo convert --to=llvm --text --no-binary --sample-type samples -o x86.txt x86.pprof &&
	cpgo convert --to=llvm --text --no-binary --sample-type samples -o both.txt both.pprof &&
	test "$(llvm_total both.txt parse)" = $(( $(llvm_total x86.txt parse) + 300 )) &&
	test "$(llvm_total both.txt render)" = $(( $(llvm_total x86.txt render) + 100 ))
'

test_expect_success 'the merged profile drives both targets alike' '
	cpgo cc -pgo=both.pprof clang-19 -O2 -S -emit-llvm -o x86m.ll app.c &&
	cpgo cc -pgo=both.pprof clang-19 --target=aarch64-linux-gnu -O2 -S -emit-llvm -o armm.ll app.c &&
	entry_counts x86m.ll >x86m.counts && entry_counts armm.ll >armm.counts &&
	cmp x86m.counts armm.counts && grep -q "^parse " armm.counts && grep -q "^render " armm.counts
'

test_done
