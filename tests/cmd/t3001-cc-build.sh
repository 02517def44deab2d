#!/usr/bin/env bash
# cpgo cc with real compilers: the profile reaches clang, the cache, make -j,
# CMake's launcher, and `cpgo version` reading the note back.
. "$(dirname "$0")/lib.sh"

if ! command -v clang-19 >/dev/null; then
	test_skip "clang-19 is not installed"
	test_done
	exit 0
fi

test_expect_success 'setup: a program of eight files with a profile, a library without' 'cc_test_repo'

test_expect_success 'the profile reaches clang: sample-profile remarks, the note in the object' '
	cd repo/prog &&
	cpgo cc clang-19 -O2 -Rpass=sample-profile -c work.c -o work.o 2>remarks &&
	grep "remark: .*\[-Rpass=sample-profile\]" remarks &&
	cpgo version work.o >out &&
	echo "work.o: built with profile $(sha default.pgo) (default.pgo)" >want &&
	cmp want out
'

test_expect_success 'concurrent compiles of one file on a cold cache all succeed' '
	rm -rf "$XDG_CACHE_HOME" && cd repo/prog &&
	for i in 1 2 3 4 5 6; do cpgo cc -O2 -c work.c -o w$i.o & done &&
	fail=0 && for i in 1 2 3 4 5 6; do wait %$i || fail=1; done && test $fail = 0 &&
	for i in 2 3 4 5 6; do cmp w1.o w$i.o || return 1; done &&
	test -z "$(find "$XDG_CACHE_HOME" -name "*.tmp.*")"
'

test_expect_success 'make -j4 CC="cpgo cc": one profile, every object records it' '
	rm -rf "$XDG_CACHE_HOME" && cd repo/prog && rm -f *.o &&
	make -j4 CC="cpgo cc" >log 2>&1 && ./prog; test $? = 0 &&
	cpgo version prog >out &&
	echo "prog: built with profile $(sha default.pgo) (default.pgo)" >want && cmp want out &&
	cpgo version ../lib/libfn.o >out && echo "../lib/libfn.o: no profile" >want && cmp want out &&
	test $(ls "$XDG_CACHE_HOME/cpgo/llvm" | grep -c "\.prof$") = 8 &&
	test $(ls "$XDG_CACHE_HOME/cpgo/llvm" | wc -l) = 9 &&
	for f in "$XDG_CACHE_HOME"/cpgo/llvm/*.prof; do
		test ! -s "$f" || llvm-profdata-19 show --sample --detailed-summary "$f" || return 1
	done >summaries &&
	# Every TU profile carries the summary of the whole program: one total count.
	test $(grep -c "^Total count: [1-9]" summaries) -ge 2 &&
	test $(sed -n "s/^Total count: //p" summaries | sort -u | wc -l) = 1 &&
	test -z "$(find "$XDG_CACHE_HOME" -name "*.tmp.*")" &&
	! grep -q cpgo-note work.d && grep -q "default.pgo" work.d
'

test_expect_success 'a rebuild converts nothing: every profile is a cache hit' '
	cd repo/prog &&
	ls --full-time "$XDG_CACHE_HOME/cpgo/llvm" >before &&
	rm -f *.o prog && CPGO_DEBUG=1 make -j4 CC="cpgo cc" >log 2>&1 &&
	test $(grep -c "cache hit" log) = 8 && ! grep "converted into" log &&
	ls --full-time "$XDG_CACHE_HOME/cpgo/llvm" >after && cmp before after
'

test_expect_success 'a new default.pgo rebuilds (through the depfile) with the new profile' '
	cd repo/prog &&
	printf "500 work:work.c:1:5 main:main.c:3:5\n" | ../../gen default.pgo &&
	make CC="cpgo cc" >log 2>&1 && grep "work.c" log &&
	cpgo version prog >out &&
	echo "prog: built with profile $(sha default.pgo) (default.pgo)" >want && cmp want out
'

test_expect_success 'one command line, sources with and without a profile: as if compiled apart' '
	mkdir -p own-tmp &&
	TMPDIR=$PWD/own-tmp cpgo cc -O2 -o mixed repo/prog/main.c repo/prog/work.c repo/lib/libfn.c &&
	./mixed; test $? = 0 &&
	cpgo version mixed >out &&
	echo "mixed: built with profile $(sha repo/prog/default.pgo) (default.pgo)" >want &&
	cmp want out && test -z "$(ls own-tmp)"
'

test_expect_success 'cpgo version: plain builds, stripped binaries, files that are not ELF' '
	cpgo cc -pgo=off -O2 -o plain repo/prog/main.c repo/prog/work.c repo/lib/libfn.c &&
	cpgo version plain >out && echo "plain: no profile" >want && cmp want out &&
	strip -o stripped mixed && cpgo version stripped | grep "built with profile $(sha repo/prog/default.pgo)" &&
	echo "text" >notelf &&
	test_must_fail cpgo version notelf 2>err && grep "notelf: not an ELF file" err &&
	test_must_fail cpgo version nosuch 2>err && grep "nosuch: cannot open" err
'

test_expect_success 'gcc gets the profile too (its driver is tested in t3010)' '
	cd repo/prog &&
	cpgo cc gcc -O2 -c work.c -o gwork.o 2>err &&
	! grep "is not used" err &&
	cpgo version gwork.o | grep "built with profile $(sha default.pgo)"
'

if command -v cmake >/dev/null; then
test_expect_success 'CMake: -DCMAKE_C_COMPILER_LAUNCHER="cpgo;cc"' '
	cat >repo/prog/CMakeLists.txt <<-\EOC &&
	cmake_minimum_required(VERSION 3.10)
	project(prog C)
	add_executable(prog main.c work.c ../lib/libfn.c)
	EOC
	cmake -S repo/prog -B cmbuild -DCMAKE_C_COMPILER=clang-19 \
		-DCMAKE_C_COMPILER_LAUNCHER="cpgo;cc" -DCMAKE_BUILD_TYPE=Release >log 2>&1 &&
	cmake --build cmbuild >>log 2>&1 &&
	cpgo version cmbuild/prog >out &&
	echo "cmbuild/prog: built with profile $(sha repo/prog/default.pgo) (default.pgo)" >want &&
	cmp want out
'
else
	test_skip "cmake is not installed"
fi

test_done
