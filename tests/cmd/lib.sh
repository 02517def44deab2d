# Shell test library (git's t/test-lib.sh, reduced).
# Source it from tests/cmd/tNNNN-name.sh; then:
#   test_expect_success 'description' 'commands'
#   test_expect_failure_exit 'description' 'command that must fail'
# Each case runs in its own subshell with `set -e` inside $TRASH, a fresh
# directory per test file. Finish with test_done.
set -u
CPGO_ROOT=${CPGO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CPGO_BUILD=${CPGO_BUILD:-$CPGO_ROOT/build}
export PATH="$CPGO_BUILD:$PATH"
TEST_NAME=$(basename "$0" .sh)
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/cpgo-$TEST_NAME.XXXXXX")
export HOME=$TRASH/home XDG_CACHE_HOME=$TRASH/cache
mkdir -p "$HOME"
cd "$TRASH"
test_count=0 test_failed=0

test_expect_success() {
	local desc=$1 body=$2 rc
	test_count=$((test_count + 1))
	# Not inside `if`: bash ignores `set -e` in a condition, subshells included.
	( set -e; cd "$TRASH"; eval "$body" ) >"$TRASH/.test-output" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc"
		tail -30 "$TRASH/.test-output" | sed 's/^/#   /'
	fi
}

# Requires a non-zero exit that is not a crash (signal exits are >= 128).
test_must_fail() {
	local rc=0
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then echo "expected failure, got success: $*" >&2; return 1; fi
	if [ $rc -ge 128 ]; then echo "crashed (exit $rc): $*" >&2; return 1; fi
	return 0
}

# Builds a C test tool OUT from SRC against the profile library; a sanitized
# build's library needs the sanitizer runtimes at link time.
build_test_tool() { # OUT SRC
	local san=
	if nm "$CPGO_BUILD/libcpgo-core.a" 2>/dev/null | grep -q __asan_; then
		san="-fsanitize=address,undefined"
	fi
	cc -O1 $san -I"$CPGO_ROOT/lib" -I"$CPGO_BUILD/gen" -o "$1" "$2" \
		"$CPGO_BUILD/libcpgo-core.a" $(cat "$CPGO_BUILD/link-libs")
}

# tests/helper/stackprof.c as ./gen: a pprof profile from lines
# "COUNT FUNC:FILE:START:LINE ...".
make_gen() { build_test_tool gen "$CPGO_ROOT/tests/helper/stackprof.c"; }

sha() { sha256sum <"$1" | cut -c1-64; }

# For the cpgo cc tests: repo/prog, a program of eight files (main, a hot
# loop in work.c, f1.c-f6.c) with its default.pgo and a Makefile that
# builds with $(CC); repo/lib/libfn.c, a library outside it with no profile.
cc_test_repo() {
	make_gen &&
	mkdir -p repo/.git repo/prog repo/lib &&
	cat >repo/prog/work.c <<-\EOC &&
	int work(int n)
	{
		int s = 0;
		for (int i = 0; i < n; i++)
			s += i * 3;
		return s;
	}
	EOC
	for i in 1 2 3 4 5 6; do
		printf "int f$i(int x)\n{\n\treturn x * $i;\n}\n" >repo/prog/f$i.c || return 1
	done &&
	cat >repo/prog/main.c <<-\EOC &&
	int work(int n);
	int libfn(void);
	int main(void)
	{
		return (work(1000) + libfn()) & 1;
	}
	EOC
	echo "int libfn(void) { return 2; }" >repo/lib/libfn.c &&
	printf "900 work:work.c:1:5 main:main.c:3:5\n100 main:main.c:3:5\n40 f3:f3.c:1:3\n" |
		./gen repo/prog/default.pgo &&
	printf "%s\n" "OBJS = main.o work.o f1.o f2.o f3.o f4.o f5.o f6.o ../lib/libfn.o" \
		"prog: \$(OBJS)" "	\$(CC) -o \$@ \$(OBJS)" \
		"%.o: %.c" "	\$(CC) -O2 -MMD -MP -c -o \$@ \$<" \
		"-include \$(OBJS:.o=.d)" >repo/prog/Makefile
}

# For tests that need real profiles from `cpgo record`: a sanitized
# libcpgo.so cannot be preloaded into an uninstrumented program, so under a
# sanitized build record uses the plain build's library. Returns 1 when
# there is none (the caller skips).
use_plain_libcpgo() {
	nm -D "$CPGO_BUILD/libcpgo.so" 2>/dev/null | grep -q __asan_init || return 0
	local plain=$CPGO_ROOT/build/libcpgo.so
	[ -e "$plain" ] && ! nm -D "$plain" | grep -q __asan_init || return 1
	export CPGO_LIB=$plain
}

# A C function NAME(n) that spins n rounds, never inlined: a hot function
# for a profile to find.
hot_loop_c() { # NAME
	cat <<EOF_C
__attribute__((noinline)) unsigned long $1(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++) {
		s = s * 31 + (i ^ (s >> 7));
		s ^= s << 3;
	}
	return s;
}
EOF_C
}

# For a test that runs cpgo record: skips the whole test file when only a
# sanitized libcpgo.so is at hand.
need_plain_libcpgo() {
	use_plain_libcpgo && return
	test_skip "cpgo record needs a libcpgo.so without sanitizers (make all in build/ first)"
	test_done
	exit
}

# Functions an LLVM IR file defines with a non-zero function_entry_count:
# "name count" (the functions a sample profile reached).
entry_counts() { # FILE.ll
	awk '/^define / && match($0, /@[A-Za-z_0-9.]+/) {
			n = substr($0, RSTART + 1, RLENGTH - 1)
			if (match($0, /!prof ![0-9]+/)) { id = substr($0, RSTART + 6, RLENGTH - 6); fn[id] = fn[id] " " n }
		}
		/^![0-9]+ = !\{!"function_entry_count", i64 -?[0-9]+\}/ { c = $NF; sub(/\}/, "", c); cnt[$1] = c + 0 }
		END { for (id in fn) if (cnt[id] > 0) { k = split(fn[id], a, " "); for (i = 1; i <= k; i++) print a[i], cnt[id] } }' "$1" | LC_ALL=C sort
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - # SKIP $1"
}

test_done() {
	echo "# $TEST_NAME: $test_count tests, $test_failed failed"
	cd /
	[ "$test_failed" -eq 0 ] && rm -rf "$TRASH"
	[ "$test_failed" -eq 0 ]
}
