#!/usr/bin/env bash
# Symbolization speed on a large binary: a generated C program (NFUNC
# functions, each inlining static helpers; -O2 -g, clang-19), a profile of
# NSAMPLES samples of DEPTH frames at random code addresses, symbolized by
# symbolize_profile(). Baseline in the same run: llvm-symbolizer-19 --inlines
# on the same unique addresses. Prints times and the ratio.
#   B=build bench/symbolize.sh [NFUNC] [NSAMPLES] [DEPTH]
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
NFUNC=${1:-6000}
NSAMPLES=${2:-100000}
DEPTH=${3:-4}
[ -f "$B/libcpgo-test.a" ] || make B="$B" all units >/dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/cpgo-bench-sym.XXXXXX")
trap 'rm -rf "$W"' EXIT

# A program shaped like real C: many functions, loops and switches, small static
# inline helpers that get inlined (two levels deep), cross-calls.
awk -v n="$NFUNC" 'BEGIN {
	print "#include <stdint.h>\n#include <stdlib.h>\n#include <stdio.h>"
	for (h = 0; h < 64; h++)
		printf "static inline uint32_t mix%d(uint32_t x)\n{\n\tx ^= x >> %d;\n\tx *= 0x%xu;\n\treturn x + %d;\n}\n\n", h, 7 + h % 9, 2654435761 + h * 2, h
	for (h = 0; h < 64; h++)
		printf "static inline uint32_t step%d(uint32_t a, uint32_t b)\n{\n\tif (a & %d)\n\t\treturn mix%d(a + b);\n\treturn mix%d(a ^ b) + mix%d(b);\n}\n\n", h, 1 + h % 5, h, (h + 1) % 64, (h + 7) % 64
	for (i = 0; i < n; i++)
		printf "uint32_t f%d(uint32_t s, int k);\n", i
	for (i = 0; i < n; i++) {
		h = i % 64
		printf "__attribute__((noinline)) uint32_t f%d(uint32_t s, int k)\n{\n", i
		printf "\tuint32_t acc = s;\n\tfor (int j = 0; j < k; j++) {\n"
		printf "\t\tswitch ((acc + j) & 3) {\n"
		printf "\t\tcase 0:\n\t\t\tacc = step%d(acc, j);\n\t\t\tbreak;\n", h
		printf "\t\tcase 1:\n\t\t\tacc = mix%d(acc) ^ step%d(j, acc);\n\t\t\tbreak;\n", (h + 3) % 64, (h + 5) % 64
		printf "\t\tcase 2:\n\t\t\tacc += %d * j;\n\t\t\tbreak;\n", i
		printf "\t\tdefault:\n\t\t\tacc = step%d(acc ^ %d, acc);\n\t\t}\n\t}\n", (h + 11) % 64, i
		if (i > 0)
			printf "\tif (k > 1 && (acc & 7) == 0)\n\t\tacc += f%d(acc, k - 1);\n", (i * 7919) % i
		printf "\treturn acc;\n}\n\n"
	}
	print "int main(int argc, char **argv)\n{\n\tuint32_t s = argc;\n\tint k = argc > 1 ? atoi(argv[1]) : 3;"
	for (i = 0; i < n; i += 97)
		printf "\ts += f%d(s, k);\n", i
	print "\tprintf(\"%u\\n\", s);\n\treturn 0;\n}"
}' >"$W/big.c"

cat >"$W/drive.c" <<'EOF'
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "util/error.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* usage: drive BIN TEXT_LO TEXT_HI NSAMPLES DEPTH ADDRS_OUT */
int main(int argc, char **argv)
{
	struct cpgo_profile p;
	struct cpgo_mapping m = { 0 };
	const uint64_t bias = 0x555555554000ull;
	uint64_t lo = strtoull(argv[2], 0, 16), hi = strtoull(argv[3], 0, 16);
	size_t ns = strtoul(argv[4], 0, 10), depth = strtoul(argv[5], 0, 10), nu = 0, nlines = 0;
	uint64_t *addrs = malloc(ns * depth * sizeof(*addrs)), *uniq, stack[64];
	int64_t one = 1;
	FILE *out = fopen(argv[6], "w");
	double t0, t1;

	srand(1);
	for (size_t i = 0; i < ns * depth; i++)
		addrs[i] = lo + ((uint64_t)rand() * RAND_MAX + rand()) % (hi - lo);
	uniq = malloc(ns * depth * sizeof(*uniq));
	for (size_t i = 0; i < ns * depth; i++)
		uniq[i] = addrs[i];
	qsort(uniq, ns * depth, sizeof(*uniq), cmp_u64);
	for (size_t i = 0; i < ns * depth; i++)
		if (!nu || uniq[nu - 1] != uniq[i])
			uniq[nu++] = uniq[i];
	cpgo_profile_init(&p);
	cpgo_profile_add_sample_type(&p, "samples", "count");
	m.memory_start = bias;
	m.memory_limit = bias + hi + 0x1000;
	m.filename = cpgo_profile_intern(&p, argv[1]);
	cpgo_profile_add_mapping(&p, &m);
	for (size_t i = 0; i < nu; i++) {
		cpgo_profile_add_location(&p, 1, bias + uniq[i], NULL, 0);
		fprintf(out, "0x%" PRIx64 "\n", uniq[i]);
	}
	fclose(out);
	for (size_t i = 0; i < ns; i++) {
		for (size_t k = 0; k < depth && k < 64; k++) {
			uint64_t *u = bsearch(&addrs[i * depth + k], uniq, nu, sizeof(*uniq), cmp_u64);
			stack[k] = (uint64_t)(u - uniq) + 1;
		}
		cpgo_profile_add_sample(&p, stack, depth, &one, NULL, 0);
	}
	t0 = now();
	if (symbolize_profile(&p, NULL) < 0) {
		fprintf(stderr, "symbolize: %s\n", cpgo_last_error());
		return 1;
	}
	t1 = now();
	for (size_t i = 0; i < p.n_location; i++)
		nlines += p.locations[i].n_line;
	printf("samples=%zu unique_addresses=%zu lines=%zu functions=%zu symbolize_s=%.3f\n", ns, nu,
	       nlines, p.n_function, t1 - t0);
	cpgo_profile_release(&p);
	return 0;
}
EOF

echo "# compiling $NFUNC functions ($(wc -l <"$W/big.c") lines) with clang-19 -O2 -g" >&2
clang-19 -O2 -g -w -o "$W/big" "$W/big.c"
cc -O2 -Ilib -Iinclude -I"$B/gen" -o "$W/drive" "$W/drive.c" "$B/libcpgo-test.a" $(cat "$B/link-libs")
read -r lo hi < <(nm -n "$W/big" | awk '$2 ~ /^[Tt]$/ { if (!lo) lo = $1; hi = $1 } END { print lo, hi }')
text_kb=$(size -A "$W/big" | awk '$1 == ".text" { printf "%d", $2 / 1024 }')
debug_kb=$(size -A "$W/big" | awk '$1 == ".debug_info" { printf "%d", $2 / 1024 }')
echo "binary: .text ${text_kb} KiB, .debug_info ${debug_kb} KiB"
res=$("$W/drive" "$W/big" "$lo" "$hi" "$NSAMPLES" "$DEPTH" "$W/addrs")
echo "cpgo: $res"
ours=$(printf '%s\n' "$res" | sed 's/.*symbolize_s=//')
t0=$(date +%s.%N)
llvm-symbolizer-19 --inlines --obj="$W/big" <"$W/addrs" >"$W/llvm.out"
t1=$(date +%s.%N)
base=$(echo "$t1 - $t0" | bc -l)
printf 'llvm-symbolizer-19 --inlines (same unique addresses): %.3f s\n' "$base"
printf 'ratio llvm-symbolizer / cpgo: %.1fx\n' "$(echo "$base / $ours" | bc -l)"
