#!/usr/bin/env bash
# Profiles at and past cpgo's bounds (issue: 10^8 samples or locations,
# 10^5-deep stacks, 10^6 functions, 1 MB names, counts near 2^64). Each is
# refused with a message that names the file and the bound, or handled; no
# crash, no wrapped sum. The inputs are generated here: the hostile ones
# declare 10^8 messages in 2-4 bytes each and gzip into kilobytes.
. "$(dirname "$0")/lib.sh"

# Peak memory (KB) of a command, when GNU time is installed and the build
# is not sanitized (ASan's shadow memory is not the program's).
peak_ok() { # LIMIT_KB CMD...
	local limit=$1
	shift
	if [ ! -x /usr/bin/time ] || nm "$CPGO_BUILD/cpgo" | grep -q __asan_init; then
		"$@"
		return
	fi
	/usr/bin/time -f %M -o peak.kb "$@" || return
	echo "peak $(cat peak.kb) KB (limit $limit)"
	[ "$(cat peak.kb)" -le "$limit" ]
}

test_expect_success 'setup: the profile generator' '
	build_test_tool bigprof "$CPGO_ROOT/tests/helper/bigprof.c"
'

for kind in samples locations strings; do
	test_expect_success "10^8 $kind are refused with the bound, in bounded memory" '
		./bigprof '$kind' 100000000 | gzip -1 >'$kind'.pb.gz &&
		test $(stat -c %s '$kind'.pb.gz) -lt 4000000 &&
		test_must_fail peak_ok 1200000 cpgo top '$kind'.pb.gz 2>err &&
		cat err &&
		grep "'$kind'.pb.gz: more than 16777216 '$kind': refused" err &&
		test_must_fail cpgo convert -o out.prof '$kind'.pb.gz 2>err &&
		grep "more than 16777216 '$kind'" err && test ! -e out.prof
	'
done

test_expect_success 'one sample of 2x10^8 location ids is refused with the bound' '
	./bigprof stackids 200000000 | gzip -1 >ids.pb.gz &&
	test_must_fail peak_ok 1200000 cpgo top ids.pb.gz 2>err &&
	grep "ids.pb.gz: more than 134217728 location ids" err
'

test_expect_success 'a 10^5-deep stack and a 10^5-deep inline chain are handled' '
	./bigprof deep 100000 deep.pb.gz &&
	cpgo top deep.pb.gz >top.out &&
	grep " recurse " top.out && grep " inl " top.out &&
	cpgo merge -o merged.pb.gz deep.pb.gz deep.pb.gz &&
	cpgo top merged.pb.gz >top2.out && grep "Total = 24ns" top2.out &&
	cpgo convert --text -o deep.txt deep.pb.gz &&
	grep "^recurse:" deep.txt &&
	cpgo convert -o deep.prof deep.pb.gz && test -s deep.prof
'

test_expect_success '10^6 functions convert, every one of them' '
	./bigprof funcs 1000000 many.pb.gz &&
	cpgo convert --text -o many.txt many.pb.gz &&
	test $(grep -c "^fn_" many.txt) -eq 1000000 &&
	grep "^fn_999999:1:" many.txt && grep "^fn_1:2:" many.txt
'

test_expect_success 'a 1 MB function name is kept whole' '
	./bigprof name 1048576 name.pb.gz &&
	cpgo convert --text -o name.txt name.pb.gz &&
	test "$(awk -F: "length(\$1) == 1048576 && \$1 ~ /^n+\$/" name.txt | wc -l)" -eq 1 &&
	cpgo top name.pb.gz >/dev/null &&
	cpgo merge -o name2.pb.gz name.pb.gz name.pb.gz
'

test_expect_success 'counts near 2^64: the converter saturates, merge and top refuse' '
	./bigprof counts 0 counts.pb.gz &&
	cpgo convert --text -o counts.txt counts.pb.gz &&
	grep "^hot:18446744073709551615:" counts.txt &&
	test_must_fail cpgo merge -o m.pb.gz counts.pb.gz counts.pb.gz 2>err &&
	grep "counts.pb.gz: sample values overflow 64 bits" err && test ! -e m.pb.gz &&
	test_must_fail cpgo top counts.pb.gz 2>err &&
	grep "counts.pb.gz: sample values overflow 64 bits" err &&
	cpgo validate counts.pb.gz >val.out &&
	grep "samples: *9223372036854775807 in 3 stacks" val.out
'

test_done
