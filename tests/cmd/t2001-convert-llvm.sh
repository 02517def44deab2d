#!/usr/bin/env bash
# cpgo convert --to=llvm: LLVM sample profiles that llvm-profdata-19 reads
# back to the same counts, written byte for byte as llvm-profdata writes them.
. "$(dirname "$0")/lib.sh"

# Builds profiles from text specs (see tests/helper/mkprof.c).
mkprof_build() { build_test_tool mkprof "$CPGO_ROOT/tests/helper/mkprof.c"; }

test_expect_success 'setup: a profile with inlining, calls and a line before the start' '
	mkprof_build &&
	cat >spec <<-\EOS &&
	type samples count
	type cpu nanoseconds
	period cpu nanoseconds 10000000
	fn 1 main main.c 10
	fn 2 foo a.c 20
	fn 3 inl a.h 5
	fn 4 bar a.c 40
	loc 1 0 0x1000 1:12
	loc 2 0 0x1004 1:15
	loc 3 0 0x2000 3:7 2:25
	loc 4 0 0x2004 2:22
	loc 5 0 0x1008 1:13
	loc 6 0 0x3000 4:41
	loc 7 0 0x1010 1:9
	sample 5 50000000 @ 1
	sample 3 30000000 @ 2
	sample 4 40000000 @ 3 5
	sample 6 60000000 @ 4 5
	sample 2 20000000 @ 6 5
	sample 1 10000000 @ 7
	EOS
	./mkprof p.pb.gz <spec
'

# Head samples are the entry (lowest offset) line's count: time samples
# cannot count calls.
test_expect_success 'text: offsets, inline instance, call targets, head samples' '
	cpgo convert --to=llvm --text -o p.txt p.pb.gz &&
	cat >expect <<-\EOS &&
	foo:10:6
	 2: 6
	 5: inl:4
	  2: 4
	main:9:5
	 2: 5
	 3: 0 foo:10 bar:2
	 5: 3
	 65535: 1
	bar:2:2
	 1: 2
	EOS
	diff -u expect p.txt
'

test_expect_success 'llvm-profdata-19 reads the text profile with the same counts' '
	llvm-profdata-19 show --sample p.txt >show &&
	grep -q "Function: foo: 10, 6, 1 sampled lines" show &&
	grep -q "inlined callee: inl: 4" show &&
	grep -q "3: 0, calls: foo:10 bar:2" show
'

test_expect_success 'ext-binary (default) is byte-identical to llvm-profdata-19 merge --extbinary' '
	cpgo convert -o p.prof p.pb.gz &&
	llvm-profdata-19 merge --sample --extbinary p.txt -o ref.prof &&
	cmp p.prof ref.prof &&
	llvm-profdata-19 merge --sample --text p.prof -o back.txt &&
	diff -u p.txt back.txt
'

# A name with clang's .__uniq. suffix sets the name table's flag, which
# (like every section-specific flag) sits in the upper 32 bits.
test_expect_success 'a .__uniq. name: name table flagged as llvm-profdata-19 does it' '
	cat >uspec <<-\EOS &&
	type samples count
	type cpu nanoseconds
	period cpu nanoseconds 10000000
	fn 1 main main.c 10
	fn 2 helper.__uniq.1234 a.c 20
	loc 1 0 0x1000 1:12
	loc 2 0 0x2000 2:22
	sample 5 50000000 @ 1
	sample 3 30000000 @ 2 1
	EOS
	./mkprof u.pb.gz <uspec &&
	cpgo convert --text -o u.txt u.pb.gz &&
	cpgo convert -o u.prof u.pb.gz &&
	llvm-profdata-19 merge --sample --extbinary u.txt -o uref.prof &&
	cmp u.prof uref.prof &&
	llvm-profdata-19 show --sample --show-sec-info-only u.prof >sec &&
	grep "NameTableSection" sec | grep -q "Flags: {uniq}"
'

test_expect_success '--sample-type cpu scales nanoseconds back to samples' '
	cpgo convert --text --sample-type cpu p.pb.gz >cpu.txt &&
	diff -u p.txt cpu.txt &&
	cpgo convert --text --sample-type=cpu/nanoseconds p.pb.gz >cpu2.txt &&
	diff -u p.txt cpu2.txt
'

test_expect_success 'an unknown sample type is refused and the types are listed' '
	test_must_fail cpgo convert --text --sample-type alloc_space p.pb.gz 2>err &&
	grep -q "p.pb.gz" err && grep -q "alloc_space" err && grep -q "samples/count" err
'

test_expect_success 'setup: same-named statics in two files' '
	cat >spec2 <<-\EOS &&
	type samples count
	fn 1 hash /src/proj/a.c 10
	fn 2 hash /src/proj/b.c 100
	fn 3 main /src/proj/b.c 200
	loc 1 0 0x10 1:12
	loc 2 0 0x20 2:103
	loc 3 0 0x30 3:205
	sample 40 @ 1 3
	sample 9 @ 2 3
	EOS
	./mkprof statics.pb.gz <spec2
'

test_expect_success '--source-file keeps only that file'"'"'s static, never a pooled one' '
	cpgo convert --text --source-file /home/me/proj/a.c statics.pb.gz >a.txt &&
	printf "hash:40:40\n 2: 40\n" >expect &&
	diff -u expect a.txt &&
	cpgo convert --text --source-file proj/b.c statics.pb.gz >b.txt &&
	printf "hash:9:9\n 3: 9\nmain:0:0\n 5: 0 hash:49\n" >expect &&
	diff -u expect b.txt &&
	cpgo convert --text statics.pb.gz >all.txt &&
	! grep -q "^hash" all.txt && grep -q "^main:0:0" all.txt
'

test_expect_success 'a profile without start lines is refused, naming the functions' '
	sed -e "s/^\(fn [0-9]* [a-z]* [a-z.]*\) [0-9]*$/\1 0/" spec >spec3 &&
	! grep -q "^fn .* [1-9][0-9]*$" spec3 &&
	./mkprof nostart.pb.gz <spec3 &&
	test_must_fail cpgo convert --text -o out.txt nostart.pb.gz 2>err &&
	grep -q "nostart.pb.gz" err && grep -q "foo" err && grep -q -- "--binary" err &&
	test ! -e out.txt
'

test_expect_success 'a minority without start lines (libc assembly) is left out, not fatal' '
	sed "s/^fn 4 bar a.c 40/fn 4 bar a.c 0/" spec >spec4 &&
	./mkprof fewstart.pb.gz <spec4 &&
	cpgo convert --text --stats -o few.txt fewstart.pb.gz 2>stats &&
	grep -q "functions without start line left out: 1" stats &&
	grep -q "^foo:" few.txt && ! grep -q "^bar:" few.txt
'

test_expect_success 'hostile input: missing, truncated, not a profile, no samples' '
	test_must_fail cpgo convert -o o.prof missing.pb.gz 2>err && grep -q missing.pb.gz err &&
	head -c 40 p.pb.gz >trunc.pb.gz &&
	test_must_fail cpgo convert -o o.prof trunc.pb.gz 2>err && grep -q trunc.pb.gz err &&
	echo "hello" >junk.pb.gz &&
	test_must_fail cpgo convert -o o.prof junk.pb.gz 2>err && grep -q junk.pb.gz err &&
	printf "type samples count\n" | ./mkprof empty.pb.gz &&
	test_must_fail cpgo convert -o o.prof empty.pb.gz 2>err && grep -q "no samples" err &&
	test ! -e o.prof
'

# --to=gcc is tested in t2200.
test_expect_success 'bad flags are usage errors' '
	test_must_fail cpgo convert --to=msvc p.pb.gz 2>err && grep -q "msvc" err &&
	test_must_fail cpgo convert --frob p.pb.gz 2>err && grep -q "frob" err &&
	test_must_fail cpgo convert 2>err && grep -q "which profile" err
'

# libcpgo books time in the kernel on a "[kernel]" leaf (perf import: "[kernel.kallsyms]"):
# people see it, the compiler must not (it is not the program's code).
test_expect_success 'kernel time is left out: no samples, no call target, counted in --stats' '
	cat >kspec <<-\EOS &&
	type samples count
	fn 1 main main.c 10
	fn 2 work main.c 20
	fn 3 [kernel] - 0
	fn 4 [kernel.kallsyms] - 0
	loc 1 0 0x1000 1:12
	loc 2 0 0x2000 2:22
	loc 3 0 0 3:0
	loc 4 0 0 4:0
	sample 30 @ 2 1
	sample 50 @ 3 2 1
	sample 20 @ 4 1
	EOS
	./mkprof k.pb.gz <kspec &&
	cpgo convert --text --stats -o k.txt k.pb.gz 2>stats &&
	! grep -q kernel k.txt &&
	grep -q "^work:30:" k.txt && grep -qx " 2: 0 work:30" k.txt &&
	grep -q "kernel time: 70 (70.0% of samples)" stats
'

test_done
