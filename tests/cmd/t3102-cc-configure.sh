#!/usr/bin/env bash
# Build-system probes see cpgo cc as they see the plain compiler: an autoconf
# configure script and CMake's try-compiles find the same headers,
# functions, types and compiler features, with a profile in the tree (the
# probes' conftest files are compiled with it in force).
. "$(dirname "$0")/lib.sh"

if ! command -v clang-19 >/dev/null; then
	test_skip "clang-19 is not installed"
	test_done
	exit 0
fi
export CPGO_CC=clang-19

test_expect_success 'setup: a profile at the top of the tree' '
	make_gen &&
	mkdir -p .git && printf "900 main:conftest.c:1:2\n" | ./gen default.pgo
'

if command -v autoconf >/dev/null; then
	test_expect_success 'autoconf configure: the same results as with clang-19' '
		mkdir -p ac && cd ac &&
		cat >configure.ac <<-\EOF &&
		AC_INIT([probe], [1])
		AC_CONFIG_HEADERS([config.h])
		AC_PROG_CC
		AC_C_BIGENDIAN
		AC_C_INLINE
		AC_C_CONST
		AC_TYPE_SIZE_T
		AC_TYPE_INT64_T
		AC_CHECK_SIZEOF([long])
		AC_CHECK_HEADERS([stdint.h unistd.h no_such_header.h sys/epoll.h])
		AC_CHECK_FUNCS([strndup memmem no_such_function_xyz])
		AC_CHECK_LIB([m], [cos])
		AC_SEARCH_LIBS([clock_gettime], [rt])
		AC_RUN_IFELSE([AC_LANG_PROGRAM([], [return 3 - 3;])], [AC_DEFINE([RUNS], 1, [runs])])
		AC_CACHE_CHECK([whether -Werror fails on a warning], [my_cv_werror],
			[save=$CFLAGS; CFLAGS="$CFLAGS -Werror -Wall"
			 AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [int unused;])],
				[my_cv_werror=no], [my_cv_werror=yes]); CFLAGS=$save])
		AC_OUTPUT
		EOF
		autoconf && autoheader &&
		mkdir plain cpgo &&
		(cd plain && ../configure -C CC=clang-19 >out) &&
		(cd cpgo && ../configure -C CC="cpgo cc" >out) &&
		cmp plain/config.h cpgo/config.h &&
		grep -v -e "_CC" -e "ac_ct_CC" plain/config.cache >plain.cache &&
		grep -v -e "_CC" -e "ac_ct_CC" cpgo/config.cache >cpgo.cache &&
		diff plain.cache cpgo.cache &&
		grep "HAVE_STDINT_H 1" cpgo/config.h && ! grep "define HAVE_NO_SUCH_HEADER_H" cpgo/config.h &&
		grep "my_cv_werror=yes" cpgo/config.cache &&
		grep "define RUNS 1" cpgo/config.h
	'
else
	test_skip "autoconf is not installed"
fi

if command -v cmake >/dev/null; then
	test_expect_success 'CMake try-compiles: the same results as with clang-19' '
		mkdir -p cm && cd cm &&
		cat >CMakeLists.txt <<-\EOF &&
		cmake_minimum_required(VERSION 3.13)
		project(probe C)
		include(CheckIncludeFile)
		include(CheckSymbolExists)
		include(CheckCSourceCompiles)
		include(CheckCSourceRuns)
		include(CheckTypeSize)
		include(CheckCCompilerFlag)
		check_include_file(stdint.h HAVE_STDINT_H)
		check_include_file(no_such_header.h HAVE_NO_SUCH_HEADER_H)
		check_symbol_exists(strndup string.h HAVE_STRNDUP)
		check_symbol_exists(no_such_function_xyz string.h HAVE_NO_SUCH_FUNCTION)
		check_type_size(long SIZEOF_LONG)
		check_c_compiler_flag(-Wall HAVE_WALL)
		check_c_compiler_flag(-fno-such-flag HAVE_NO_SUCH_FLAG)
		check_c_source_compiles("int main(void) { return __builtin_expect(1, 1) - 1; }" HAVE_EXPECT)
		check_c_source_runs("int main(void) { return 0; }" RUNS)
		file(WRITE ${CMAKE_BINARY_DIR}/probe.txt
		  "${HAVE_STDINT_H} ${HAVE_NO_SUCH_HEADER_H} ${HAVE_STRNDUP} ${HAVE_NO_SUCH_FUNCTION} "
		  "${SIZEOF_LONG} ${HAVE_WALL} ${HAVE_NO_SUCH_FLAG} ${HAVE_EXPECT} ${RUNS}\n")
		EOF
		cmake -S . -B plain -DCMAKE_C_COMPILER=clang-19 >plain.log &&
		cmake -S . -B launch -DCMAKE_C_COMPILER=clang-19 -DCMAKE_C_COMPILER_LAUNCHER="cpgo;cc" \
			>launch.log &&
		CC="$CPGO_BUILD/cpgo-cc" cmake -S . -B cc >cc.log &&
		cat plain/probe.txt && cmp plain/probe.txt launch/probe.txt &&
		cmp plain/probe.txt cc/probe.txt &&
		grep "^1  1  8 1  1 1" plain/probe.txt
	'
else
	test_skip "cmake is not installed"
fi

test_done
