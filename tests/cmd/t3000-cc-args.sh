#!/usr/bin/env bash
# cpgo cc: mode selection, compiler detection, the flags it adds, pass-through.
# The compilers here are scripts that record their argv; t3001 builds for real.
. "$(dirname "$0")/lib.sh"


# A compiler that records its arguments, one per line, in $TRASH/argv.
fake() {
	mkdir -p bin
	cat >"bin/$1" <<EOC
#!/bin/sh
printf '%s\n' "\$@" >"$TRASH/argv"
exit \${FAKE_EXIT:-0}
EOC
	chmod +x "bin/$1"
}

# A gcc 12 that records its compile's arguments (and answers -dumpversion).
fake_gcc12() {
	mkdir -p bin
	cat >"bin/$1" <<EOC
#!/bin/sh
[ "\$1" = -dumpversion ] && { echo 12; exit 0; }
printf '%s\n' "\$@" >"$TRASH/argv"
exit \${FAKE_EXIT:-0}
EOC
	chmod +x "bin/$1"
}

# Whether cpgo cc adds frame pointers by default (the usage text prints the one constant).
fp_default=$(cpgo cc --help | sed -n "s/.*(default: \(on\|off\)).*/\1/p")
has_fp_default() {
	case $fp_default in
	on) has -fno-omit-frame-pointer ;;
	off) hasnt -fno-omit-frame-pointer ;;
	*) echo "cpgo cc --help names no frame-pointer default"; false ;;
	esac
}

has() { grep -qx -- "$1" argv || { echo "missing $1 in:"; cat argv; return 1; }; }
hasnt() { ! grep -q -- "$1" argv || { echo "unexpected $1 in:"; cat argv; return 1; }; }

test_expect_success 'setup: a repository with two programs, one profile each' '
	make_gen &&
	fake fake-clang && fake fake-gcc && fake mystery && fake_gcc12 gcc-12 &&
	mkdir -p repo/.git repo/prog/sub repo/other repo/lib &&
	echo "int main(void) { return 0; }" >repo/prog/main.c &&
	echo "int f(void) { return 1; }" >repo/prog/sub/f.c &&
	echo "int g(void) { return 2; }" >repo/other/g.c &&
	echo "int u(void) { return 3; }" >repo/lib/util.c &&
	printf "100 main:repo/prog/main.c:1:1\n30 f:repo/prog/sub/f.c:1:1\n" | ./gen repo/prog/default.pgo &&
	echo "50 g:repo/other/g.c:1:1" | ./gen repo/other/default.pgo &&
	echo "7 main:x.c:1:1" | ./gen default.pgo &&
	printf "100 main:repo/prog/main.c:1:1\n30 u:repo/lib/util.c:1:1\n" | ./gen explicit.pgo
'

test_expect_success 'auto: the nearest default.pgo, all of clang'"'"'s flags' '
	cpgo cc bin/fake-clang -O2 -c repo/prog/sub/f.c -o f.o &&
	has "-fprofile-sample-use=$XDG_CACHE_HOME/cpgo/llvm/$(cd $XDG_CACHE_HOME/cpgo/llvm && ls *.prof)" &&
	has -fdebug-info-for-profiling && has -fsample-profile-use-profi &&
	has -gline-tables-only && has_fp_default &&
	has -include && has "$XDG_CACHE_HOME/cpgo/note" &&
	has -O2 && has repo/prog/sub/f.c && has f.o
'

test_expect_success 'auto: each program gets its own profile' '
	CPGO_DEBUG=1 cpgo cc bin/fake-clang -c repo/other/g.c 2>trace &&
	grep "profile $TRASH/repo/other/default.pgo (sha256 $(sha256sum <repo/other/default.pgo | cut -c1-64))" trace &&
	CPGO_DEBUG=1 cpgo cc bin/fake-clang -c repo/prog/main.c 2>trace &&
	grep "profile $TRASH/repo/prog/default.pgo (sha256 $(sha256sum <repo/prog/default.pgo | cut -c1-64))" trace
'

test_expect_success 'a file the profile has no samples for: built cold, still recorded' '
	echo "int cold(void) { return 4; }" >repo/prog/cold.c &&
	CPGO_DEBUG=1 cpgo cc bin/fake-clang -c repo/prog/cold.c 2>trace &&
	grep "no samples for this file" trace &&
	hasnt -fprofile-sample-use && has -include && has -gline-tables-only
'

test_expect_success 'auto: no default.pgo up to the repository root is a plain build with line tables' '
	cpgo cc bin/fake-clang -c repo/lib/util.c &&
	hasnt -fprofile-sample-use && hasnt -include &&
	has -gline-tables-only && has_fp_default
'

test_expect_success '-pgo=off, CPGO_PGO=off, and the flag wins over CPGO_PGO' '
	cpgo cc bin/fake-clang -pgo=off -c repo/prog/main.c && hasnt -fprofile-sample-use && hasnt pgo &&
	CPGO_PGO=off cpgo cc bin/fake-clang -c repo/prog/main.c && hasnt -fprofile-sample-use &&
	CPGO_PGO=off cpgo cc bin/fake-clang -c repo/prog/main.c -pgo=auto &&
	grep -q "^-fprofile-sample-use=" argv
'

test_expect_success '-pgo=FILE and CPGO_PGO=FILE apply to every source, the flag anywhere' '
	cpgo cc bin/fake-clang -c repo/lib/util.c -pgo=explicit.pgo && has -fdebug-info-for-profiling &&
	hasnt explicit.pgo &&
	CPGO_PGO=explicit.pgo cpgo cc bin/fake-clang -c repo/lib/util.c && has -fsample-profile-use-profi
'

test_expect_success 'the compiler: first argument, bare name on PATH, CPGO_CC with a wrapper, default' '
	PATH=$TRASH/bin:$PATH cpgo cc fake-clang -c repo/lib/util.c && has -gline-tables-only &&
	rm argv &&
	PATH=$TRASH/bin:$PATH CPGO_CC="fake-clang -DVIA_ENV" cpgo cc -c repo/lib/util.c &&
	has -DVIA_ENV && has repo/lib/util.c &&
	CPGO_DEBUG=1 cpgo cc -pgo=off -c repo/lib/util.c -o util.o 2>trace &&
	if command -v clang-19 >/dev/null; then grep "run: clang-19 " trace; else grep "run: cc " trace; fi
'

test_expect_success 'an explicit -g level or frame-pointer choice is left alone' '
	cpgo cc bin/fake-clang -g -fomit-frame-pointer -c repo/prog/main.c &&
	hasnt -gline-tables-only && hasnt -fno-omit-frame-pointer && has -g && has -fomit-frame-pointer &&
	cpgo cc bin/fake-clang -gsplit-dwarf -c repo/prog/main.c && has -gline-tables-only
'

test_expect_success 'frame pointers: -pgo-frame-pointers and CPGO_FRAME_POINTERS, never passed on' '
	cpgo cc bin/fake-clang -pgo-frame-pointers -c repo/lib/util.c &&
	has -fno-omit-frame-pointer && hasnt pgo-frame &&
	cpgo cc bin/fake-clang -c repo/lib/util.c -pgo-frame-pointers=off &&
	hasnt -fno-omit-frame-pointer && hasnt pgo-frame && has -gline-tables-only &&
	CPGO_FRAME_POINTERS=0 cpgo cc bin/fake-clang -c repo/lib/util.c && hasnt -fno-omit-frame-pointer &&
	CPGO_FRAME_POINTERS=1 cpgo cc bin/fake-clang -c repo/lib/util.c && has -fno-omit-frame-pointer &&
	CPGO_FRAME_POINTERS=on cpgo cc bin/fake-clang -pgo-frame-pointers=no -c repo/lib/util.c &&
	hasnt -fno-omit-frame-pointer &&
	CPGO_FRAME_POINTERS=on cpgo cc bin/fake-clang -fomit-frame-pointer -c repo/lib/util.c &&
	hasnt -fno-omit-frame-pointer && has -fomit-frame-pointer &&
	rm -f argv && test_must_fail cpgo cc bin/fake-clang -pgo-frame-pointers=maybe -c repo/lib/util.c 2>err &&
	grep -q "maybe" err && ! test -e argv &&
	CPGO_FRAME_POINTERS=sometimes test_must_fail cpgo cc bin/fake-clang -c repo/lib/util.c 2>err &&
	grep -q CPGO_FRAME_POINTERS err
'

test_expect_success 'preprocessing, dependency listing and link steps are passed through unchanged' '
	for args in "-E repo/prog/main.c" "-M repo/prog/main.c" "-MM repo/prog/main.c" \
		    "a.o b.o -o prog -lm" "--version"; do
		cpgo cc bin/fake-clang $args -pgo=explicit.pgo &&
		printf "%s\n" $args >want && cmp want argv || return 1
	done
'

test_expect_success 'compiler failures pass through: exit status and output' '
	rc=0; FAKE_EXIT=3 cpgo cc bin/fake-clang -c repo/prog/main.c || rc=$?; test $rc = 3 &&
	rm -f argv && cpgo cc bin/fake-clang -c nodir/missing.c && has nodir/missing.c &&
	printf "int main(void) { return undeclared; }\n" >broken.c &&
	if command -v clang-19 >/dev/null; then
		rc=0; clang-19 -c broken.c -o b1.o 2>want || rc=$?
		rc2=0; cpgo cc clang-19 -c broken.c -o b2.o 2>got || rc2=$?
		test $rc -ne 0 && test $rc = $rc2 && cmp want got
	fi
'

test_expect_success 'a missing -pgo=FILE is an error naming it; the compiler does not run' '
	rm -f argv &&
	test_must_fail cpgo cc bin/fake-clang -pgo=nosuch.pgo -c repo/prog/main.c 2>err &&
	grep "nosuch.pgo" err && grep "check the profile given with -pgo=" err && ! test -e argv
'

test_expect_success 'a corrupt default.pgo under auto is an error that suggests -pgo=off' '
	mkdir -p bad/.git && echo "int x;" >bad/x.c && echo "not a profile" >bad/default.pgo &&
	test_must_fail cpgo cc bin/fake-clang -c bad/x.c 2>err &&
	grep "bad/default.pgo" err && grep -- "-pgo=off" err &&
	cpgo cc bin/fake-clang -pgo=off -c bad/x.c
'

test_expect_success 'a gcc that does not say its version: one warning, a plain build with -g1' '
	cpgo cc bin/fake-gcc -c repo/prog/main.c repo/prog/sub/f.c 2>err &&
	test $(grep -c "is not used: .*-dumpversion" err) = 1 &&
	hasnt -fauto-profile && hasnt -include && has -g1 && has_fp_default
'

test_expect_success 'gcc 12: -fauto-profile, the note, -g1, no clang flags (t3010 builds for real)' '
	cpgo cc bin/gcc-12 -O2 -c repo/prog/sub/f.c -o f.o 2>err &&
	! grep "is not used" err &&
	has "-fauto-profile=$XDG_CACHE_HOME/cpgo/gcc/$(ls $XDG_CACHE_HOME/cpgo/gcc)" &&
	has -include && has -g1 && has_fp_default &&
	hasnt -fdebug-info-for-profiling && hasnt -fprofile-sample-use && hasnt -Xclang
'

test_expect_success 'an unknown compiler gets no flags at all' '
	cpgo cc bin/mystery -c repo/lib/util.c && printf "%s\n" -c repo/lib/util.c >want && cmp want argv
'

test_expect_success 'usage errors and a compiler that is cpgo itself' '
	test_must_fail cpgo cc -pgo off -c x.c 2>err && grep "pgo=off" err &&
	test_must_fail cpgo cc -pgo= -c x.c 2>err && grep "empty PGO mode" err &&
	CPGO_CC=cpgo test_must_fail cpgo cc -c repo/lib/util.c 2>err && grep "is cpgo itself" err &&
	cpgo cc --help | grep -- "-pgo=auto"
'

test_done
