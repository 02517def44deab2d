#!/usr/bin/env bash
# The layer order of lib/ and runtime/ (scripts/check-layers.sh, `make check-layers`).
. "$(dirname "$0")/lib.sh"

copy_tree() {
	mkdir tree && (cd "$CPGO_ROOT" && tar cf - lib runtime builtin cpgo.c include) | (cd tree && tar xf -)
}

test_expect_success 'the tree keeps its layers' '
	"$CPGO_ROOT/scripts/check-layers.sh" "$CPGO_ROOT" >out && grep -q "check-layers: ok" out
'

test_expect_success 'a lower layer including a higher one is refused with file and line' '
	copy_tree && n=$(wc -l <tree/lib/util/hash.c) &&
	echo "#include \"cc/ccdriver.h\"" >>tree/lib/util/hash.c &&
	test_must_fail "$CPGO_ROOT/scripts/check-layers.sh" tree >out &&
	grep -q "^lib/util/hash.c:$((n + 1)): include of \"cc/ccdriver.h\" points up" out
'

test_expect_success 'siblings (llvm, gcc) may not include each other; runtime may not use llvm' '
	rm -rf tree && copy_tree && mkdir -p tree/lib/gcc &&
	printf "#include \"llvm/llvmprof.h\"\n" >tree/lib/gcc/x.c &&
	printf "#include \"llvm/llvmprof.h\"\n" >>tree/runtime/sampler.c &&
	test_must_fail "$CPGO_ROOT/scripts/check-layers.sh" tree >out &&
	grep -q "^lib/gcc/x.c:1: .*sideways" out &&
	grep -q "^runtime/sampler.c:.*not for the runtime" out
'

test_expect_success 'a bare include must name a file of the same folder' '
	rm -rf tree && copy_tree &&
	printf "#include \"profile.h\"\n" >>tree/lib/llvm/llvmprof.c &&
	test_must_fail "$CPGO_ROOT/scripts/check-layers.sh" tree >out &&
	grep -q "^lib/llvm/llvmprof.c:.*names no file of lib/llvm/" out
'

test_done
