/*
 * The sample-profile model's context rules (lib/sprof, sprof_preinline.c):
 * a hot physical call becomes an inline instance of the callee, the same
 * callee under a cold caller keeps its samples in its own profile, totals
 * are those of the samples, recursion is not unrolled. On a binary built
 * here, with a profile of its addresses made by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../helper/test_prog.h"

#include "util/buf.h"
#include "util/error.h"
#include "llvm/llvmprof.h"
#include "pprof/profile.h"
#include "sprof/sprof.h"
#include "elf/x86len.h"

static const char prog_src[] =
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"__attribute__((noinline)) int work(int v)\n"
	"{\n"
	"	int s = 0;\n"
	"	for (int i = 0; i < 8; i++)\n"
	"		s += (v >> i) & 3;\n"
	"	return s;\n"
	"}\n"
	"__attribute__((noinline)) int hot_caller(int n)\n"
	"{\n"
	"	int s = 0;\n"
	"	for (int i = 0; i < n; i++)\n"
	"		s += work(i);\n"
	"	return s;\n"
	"}\n"
	"__attribute__((noinline)) int cold_caller(int n)\n"
	"{\n"
	"	return work(n) + 1;\n"
	"}\n"
	"__attribute__((noinline)) int rec(int n)\n"
	"{\n"
	"	if (n <= 0)\n"
	"		return 0;\n"
	"	return rec(n - 1) + work(n) * 3;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	int n = argc > 1 ? atoi(argv[1]) : 100;\n"
	"	int s = hot_caller(n);\n"
	"	s += cold_caller(n);\n"
	"	s += rec(n & 15);\n"
	"	printf(\"%d\\n\", s);\n"
	"	return 0;\n"
	"}\n";

/*
 * Tail calls (sibling calls on): get_info jumps through a pointer,
 * direct_tail jumps to parse_cell, two_ways has a pointer jump and a jump
 * to another function (no single reading).
 */
static const char tail_src[] =
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"struct cell { int (*parse)(const unsigned char *, int); };\n"
	"static unsigned char buf[64];\n"
	"__attribute__((noinline)) int parse_cell(const unsigned char *p, int n)\n"
	"{\n"
	"	int s = 0;\n"
	"#pragma clang loop vectorize(disable) unroll(disable)\n"
	"	for (int i = 0; i < 64; i++)\n"
	"		s += p[i] * (n + i);\n"
	"	return s;\n"
	"}\n"
	"__attribute__((noinline)) int other_parse(const unsigned char *p, int n)\n"
	"{\n"
	"	return p[n & 63] + n;\n"
	"}\n"
	"__attribute__((noinline)) int get_info(struct cell *c, const unsigned char *p, int n)\n"
	"{\n"
	"	return c->parse(p, n + 1);\n"
	"}\n"
	"__attribute__((noinline)) int direct_tail(int n)\n"
	"{\n"
	"	return parse_cell(buf, n * 2);\n"
	"}\n"
	"__attribute__((noinline)) int two_ways(struct cell *c, int n)\n"
	"{\n"
	"	if (n & 1)\n"
	"		return c->parse(buf, n);\n"
	"	return other_parse(buf, n);\n"
	"}\n"
	"__attribute__((noinline)) int moveto(struct cell *c, int n)\n"
	"{\n"
	"	int s = 0;\n"
	"	for (int i = 0; i < n; i++)\n"
	"		s += get_info(c, buf, i);\n"
	"	return s;\n"
	"}\n"
	"__attribute__((noinline)) int cold_user(struct cell *c, int n)\n"
	"{\n"
	"	return get_info(c, buf, n) + 1;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	struct cell c = { argc > 5 ? other_parse : parse_cell };\n"
	"	int n = argc > 1 ? atoi(argv[1]) : 100;\n"
	"	for (int i = 0; i < 64; i++)\n"
	"		buf[i] = (unsigned char)(i * 7 + argc);\n"
	"	int s = moveto(&c, n);\n"
	"	s += direct_tail(n);\n"
	"	s += two_ways(&c, n);\n"
	"	s += cold_user(&c, n);\n"
	"	printf(\"%d\\n\", s);\n"
	"	return 0;\n"
	"}\n";

struct prog {
	struct test_prog t;
};

static int prog_setup(void **state)
{
	static struct prog pr;

	/* Non-PIE: runtime addresses are the ELF addresses. */
	test_prog_build(&pr.t, "sprof", prog_src,
			"-O2 -g -fdebug-info-for-profiling -fno-omit-frame-pointer -no-pie "
			"-fno-optimize-sibling-calls");
	*state = &pr;
	return 0;
}

static int tail_setup(void **state)
{
	static struct prog pr;

	test_prog_build(&pr.t, "sprof-tail", tail_src,
			"-O2 -g -fdebug-info-for-profiling -no-pie");
	*state = &pr;
	return 0;
}

static int prog_teardown(void **state)
{
	struct prog *pr = *state;

	return test_prog_remove(&pr->t);
}

/*
 * In function `fn`: the address of the instruction after the call to
 * `callee` (the return address), or with callee NULL the `nth` instruction.
 */
static uint64_t insn(const struct prog *pr, const char *fn, const char *callee, int nth)
{
	char cmd[300], line[512], want[128];
	FILE *f;
	int on = 0, i = 0, after = 0;
	uint64_t found = 0;

	snprintf(cmd, sizeof(cmd), "llvm-objdump-19 -d --no-show-raw-insn %s", pr->t.bin);
	snprintf(want, sizeof(want), "<%s>:", fn);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		if (strstr(line, want)) {
			on = 1;
			continue;
		}
		if (!on)
			continue;
		if (line[0] == '\n' || sscanf(line, " %llx:", &a) != 1) {
			on = 0;
			continue;
		}
		if (found)
			continue;
		if (after) {
			found = a;
			continue;
		}
		if (callee) {
			char c[128];
			snprintf(c, sizeof(c), "<%s>", callee);
			if (strstr(line, "call") && strstr(line, c))
				after = 1;
		} else if (i++ == nth) {
			found = a;
		}
	}
	pclose(f);
	assert_true(found != 0);
	return found;
}

static void init_profile(struct cpgo_profile *p, const struct prog *pr)
{
	struct cpgo_mapping m = { 0 };

	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	m.memory_start = 0x400000;
	m.memory_limit = 0x800000;
	m.filename = cpgo_profile_intern(p, pr->t.bin);
	assert_true(cpgo_profile_add_mapping(p, &m) != 0);
}

static uint64_t at(struct cpgo_profile *p, uint64_t a)
{
	uint64_t id = cpgo_profile_add_location(p, 1, a, NULL, 0);
	assert_true(id != 0);
	return id;
}

static void sample(struct cpgo_profile *p, int64_t n, const uint64_t *locs, size_t n_loc)
{
	assert_int_equal(cpgo_profile_add_sample(p, locs, n_loc, &n, NULL, 0), 0);
}

/* convert()'s tail-frame option (sprof_opts.tail_frames). */
static int tail_frames;

static char *convert(struct cpgo_profile *p, const struct prog *pr, int context,
		     struct sprof_stats *st)
{
	struct llvmprof_opts o = { .text = 1 };
	struct cpgo_buf out = CPGO_BUF_INIT;
	char path[128], cmd[300];

	o.sp.binary = pr->t.bin;
	o.sp.context = context;
	o.sp.tail_frames = tail_frames;
	o.sp.stats = st;
	/* Constructed samples are few: the thin rule (test_llvmprof) would drop their callers. */
	o.sp.thin = SPROF_OFF;
	assert_int_equal(llvmprof_convert(p, "test.pprof", &o, &out), 0);
	snprintf(path, sizeof(path), "%s/out.txt", pr->t.dir);
	assert_int_equal(cpgo_write_file_atomic(path, out.buf, out.len), 0);
	snprintf(cmd, sizeof(cmd), "llvm-profdata-19 show --sample %s >/dev/null", path);
	assert_int_equal(system(cmd), 0);
	return cpgo_buf_detach(&out, NULL);
}

/* The total of top-level profile `name` ("name:total:head"), -1 if none. */
static long long top_total(const char *t, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, name, n) && l[n] == ':')
			return atoll(l + n + 1);
	return -1;
}

/* The sum of every top-level profile's total. */
static long long all_tops(const char *t)
{
	long long sum = 0;
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *c = strchr(l, ':');
		if (*l != ' ' && c)
			sum += atoll(c + 1);
	}
	return sum;
}

/* How many inline instances of `name` the text has ("  OFF[.D]: name:TOTAL"). */
static int instances(const char *t, const char *name, const char **first)
{
	char want[96];
	int n = 0;

	snprintf(want, sizeof(want), ": %s:", name);
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n'), *h = strstr(l, want), *sp;
		if (!e)
			e = l + strlen(l);
		sp = h ? strchr(h + strlen(want), ' ') : NULL;
		/* An instance line ends with its total: no call targets after it. */
		if (*l == ' ' && h && h < e && (!sp || sp > e)) {
			if (!n && first)
				*first = l;
			n++;
		}
	}
	return n;
}

static void test_contexts(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	const char *inst = NULL;
	uint64_t w = insn(pr, "work", NULL, 3), hc = insn(pr, "hot_caller", NULL, 2);
	uint64_t s[20];
	char *t, *tn;
	long long used;

	init_profile(&p, pr);
	/* Callers at return address - 1, as libcpgo records them. */
	s[0] = at(&p, w);
	s[1] = at(&p, insn(pr, "hot_caller", "work", 0) - 1);
	s[2] = at(&p, insn(pr, "main", "hot_caller", 0) - 1);
	sample(&p, 1000, s, 3); /* work, hot under hot_caller */
	s[1] = at(&p, insn(pr, "cold_caller", "work", 0) - 1);
	s[2] = at(&p, insn(pr, "main", "cold_caller", 0) - 1);
	sample(&p, 1, s, 3); /* work, cold under cold_caller */
	s[0] = at(&p, hc);
	s[1] = at(&p, insn(pr, "main", "hot_caller", 0) - 1);
	sample(&p, 500, s, 2); /* hot_caller's own loop */
	s[0] = at(&p, insn(pr, "main", NULL, 2));
	sample(&p, 200, s, 1);
	/* rec ten deep, then work: recursion must not be unrolled into instances. */
	s[0] = at(&p, w);
	s[1] = at(&p, insn(pr, "rec", "work", 0) - 1);
	for (int i = 2; i < 12; i++)
		s[i] = at(&p, insn(pr, "rec", "rec", 0) - 1);
	s[12] = at(&p, insn(pr, "main", "rec", 0) - 1);
	sample(&p, 300, s, 13);

	t = convert(&p, pr, SPROF_ON, &st);
	if (getenv("TEST_SPROF_SHOW"))
		fputs(t, stderr);
	used = (long long)st.samples_used;
	assert_int_equal(used, 1000 + 1 + 500 + 200 + 300);
	/* The totals of the top-level profiles are the samples (plus floored entry lines). */
	assert_int_equal(all_tops(t), used + (long long)st.entry_lines_floored);
	/* work under hot_caller is an instance (nested somewhere under main's profile)... */
	assert_true(st.ctx_inlined >= 1);
	assert_true(instances(t, "work", &inst) >= 1);
	assert_int_equal(instances(t, "work", NULL), 1);
	assert_int_equal(atoll(strstr(inst, ": work:") + strlen(": work:")), 1000);
	/* ...while the cold call's sample stays in work's own profile. */
	assert_true(top_total(t, "work") >= 1);
	assert_true(top_total(t, "work") < 1000);
	/* cold_caller's profile holds no instance of work with the cold sample. */
	assert_null(strstr(t, ": work:1\n"));
	/* Recursion: at most one instance of rec (main's call), never rec in rec. */
	assert_true(instances(t, "rec", NULL) <= 1);
	assert_true(top_total(t, "rec") > 0 || instances(t, "rec", NULL) == 1);
	assert_true(st.ctx_samples > 0);

	/* Without contexts: work's samples all in its own profile, the same totals. */
	tn = convert(&p, pr, SPROF_OFF, &st);
	/* (+ 1 when its entry line was floored to 1) */
	assert_true(top_total(tn, "work") == 1301 || top_total(tn, "work") == 1302);
	assert_int_equal(instances(tn, "work", NULL), 0);
	assert_int_equal((long long)st.samples_used, used);
	assert_int_equal(all_tops(tn), used + (long long)st.entry_lines_floored);
	assert_int_equal(st.ctx_inlined, 0);
	free(t);
	free(tn);
	cpgo_profile_release(&p);
}

/* A tail call (a frame missing): the caller's call reaches another function; no instance. */
static void test_tail_call_no_instance(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile p;
	struct sprof_stats st;
	uint64_t s[3];
	char *t;

	init_profile(&p, pr);
	/* work's samples seen as called from main's call of cold_caller: cold_caller is missing. */
	s[0] = at(&p, insn(pr, "work", NULL, 3));
	s[1] = at(&p, insn(pr, "main", "cold_caller", 0) - 1);
	sample(&p, 2000, s, 2);
	s[0] = at(&p, insn(pr, "main", NULL, 2));
	sample(&p, 10, s, 1);
	t = convert(&p, pr, SPROF_ON, &st);
	assert_int_equal(instances(t, "work", NULL), 0);
	assert_true(top_total(t, "work") >= 2000); /* + 1 if its entry line was floored */
	assert_int_equal(st.ctx_inlined, 0);
	free(t);
	cpgo_profile_release(&p);
}

/* Does function `fn` jump (`jmp`) to `target` (NULL: through a pointer)? The test's premise. */
static int jumps(const struct prog *pr, const char *fn, const char *target)
{
	char cmd[300], line[512], want[128], tw[128];
	FILE *f;
	int on = 0, found = 0;

	snprintf(cmd, sizeof(cmd), "llvm-objdump-19 -d --no-show-raw-insn %s", pr->t.bin);
	snprintf(want, sizeof(want), "<%s>:", fn);
	snprintf(tw, sizeof(tw), "<%s>", target ? target : "");
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, want)) {
			on = 1;
			continue;
		}
		if (on && line[0] == '\n')
			on = 0;
		if (on && strstr(line, "jmp") && (target ? strstr(line, tw) != NULL : strchr(line, '*') != NULL))
			found = 1;
	}
	pclose(f);
	return found;
}

static struct cpgo_profile *tail_profile(const struct prog *pr)
{
	static struct cpgo_profile p;
	uint64_t s[3], leaf = insn(pr, "parse_cell", NULL, 0);

	init_profile(&p, pr);
	/* parse_cell's samples seen from calls to three other functions (their frames gone). */
	s[0] = at(&p, leaf);
	s[1] = at(&p, insn(pr, "moveto", "get_info", 0) - 1);
	s[2] = at(&p, insn(pr, "main", "moveto", 0) - 1);
	sample(&p, 3000, s, 3);
	s[1] = at(&p, insn(pr, "main", "direct_tail", 0) - 1);
	sample(&p, 2000, s, 2);
	s[1] = at(&p, insn(pr, "main", "two_ways", 0) - 1);
	sample(&p, 700, s, 2);
	/* Once through cold_user: get_info's frame is put back but not inlined there. */
	s[1] = at(&p, insn(pr, "cold_user", "get_info", 0) - 1);
	s[2] = at(&p, insn(pr, "main", "cold_user", 0) - 1);
	sample(&p, 1, s, 3);
	s[0] = at(&p, insn(pr, "moveto", NULL, 3));
	s[1] = at(&p, insn(pr, "main", "moveto", 0) - 1);
	sample(&p, 300, s, 2);
	s[0] = at(&p, insn(pr, "main", NULL, 2));
	sample(&p, 10, s, 1);
	return &p;
}

/* The line of `fn`'s top-level profile or instance whose call targets include `target`. */
static const char *target_line(const char *t, const char *target)
{
	char want[96];

	snprintf(want, sizeof(want), " %s:", target);
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n'), *h = strstr(l, want), *c = strchr(l, ':');
		if (!e)
			e = l + strlen(l);
		/* A body line with targets: "  OFF[.D]: COUNT name:N ..." (a digit after the colon). */
		if (*l == ' ' && h && h < e && c && c < h && c[1] == ' ' && c[2] >= '0' && c[2] <= '9')
			return l;
	}
	return NULL;
}

static void test_tail_frames(void **state)
{
	struct prog *pr = *state;
	struct cpgo_profile *p;
	struct sprof_stats st;
	const char *inst = NULL;
	char *t, *tn;
	long long used;

	/* The premise: clang made the sibling calls jumps. */
	assert_true(jumps(pr, "get_info", NULL));
	assert_true(jumps(pr, "direct_tail", "parse_cell"));
	assert_true(jumps(pr, "two_ways", "other_parse"));
	p = tail_profile(pr);
	tail_frames = SPROF_ON;
	t = convert(p, pr, SPROF_ON, &st);
	tail_frames = 0;
	if (getenv("TEST_SPROF_SHOW"))
		fputs(t, stderr);
	used = (long long)st.samples_used;
	assert_int_equal(used, 3000 + 2000 + 700 + 1 + 300 + 10);
	assert_int_equal(all_tops(t), used + (long long)st.entry_lines_floored);
	/* get_info's and direct_tail's jumps are put back; two_ways has two ways out. */
	assert_int_equal(st.tail_frames, 2);
	assert_int_equal((long long)st.tail_samples, 3000 + 2000 + 1);
	assert_int_equal((long long)st.tail_left, 700);
	/* get_info is an instance in moveto with parse_cell under it... */
	assert_int_equal(instances(t, "get_info", &inst), 1);
	assert_int_equal(atoll(strstr(inst, ": get_info:") + strlen(": get_info:")), 3000);
	assert_true(strstr(inst, ": parse_cell:3000") != NULL);
	/* ...and direct_tail's call in main holds parse_cell's 2000 as a call target. */
	assert_non_null(target_line(t, "direct_tail"));
	/* two_ways: no frame, no instance, its samples stay parse_cell's own. */
	assert_int_equal(instances(t, "two_ways", NULL), 0);
	assert_true(top_total(t, "parse_cell") >= 701);
	assert_true(top_total(t, "parse_cell") < 2000);
	/* The frame not inlined into cold_user is left out: no profile of get_info's own. */
	assert_int_equal(top_total(t, "get_info"), -1);
	cpgo_profile_release(p);

	/* Kept at top level too: get_info's own profile has the jump's target. */
	p = tail_profile(pr);
	{
		struct llvmprof_opts o = { .text = 1 };
		struct cpgo_buf out = CPGO_BUF_INIT;
		o.sp.binary = pr->t.bin;
		o.sp.context = SPROF_ON;
		o.sp.tail_frames = SPROF_ON;
		o.sp.tail_top = 1;
		/* get_info's own profile is one sample: too thin to keep by default. */
		o.sp.thin = SPROF_OFF;
		o.sp.stats = &st;
		assert_int_equal(llvmprof_convert(p, "test.pprof", &o, &out), 0);
		tn = cpgo_buf_detach(&out, NULL);
	}
	assert_true(top_total(tn, "get_info") >= 0);
	assert_non_null(strstr(strstr(tn, "\nget_info:"), " parse_cell:1"));
	free(tn);
	cpgo_profile_release(p);

	/* Off (the default): the stacks as recorded, no instance of get_info. */
	p = tail_profile(pr);
	{
		struct llvmprof_opts o = { .text = 1 };
		struct cpgo_buf out = CPGO_BUF_INIT;
		o.sp.binary = pr->t.bin;
		o.sp.context = SPROF_ON;
		o.sp.stats = &st;
		assert_int_equal(llvmprof_convert(p, "test.pprof", &o, &out), 0);
		tn = cpgo_buf_detach(&out, NULL);
	}
	assert_int_equal(st.tail_frames, 0);
	assert_int_equal(instances(tn, "get_info", NULL), 0);
	assert_int_equal((long long)st.samples_used, used);
	free(t);
	free(tn);
	cpgo_profile_release(p);
}

/*
 * The instruction lengths the tail-call rule walks functions with agree
 * with llvm-objdump's on every instruction of the test binary's code and
 * on some encodings compilers emit (VEX, EVEX, prefixes, moffs, imm64).
 */
static void test_x86_lengths(void **state)
{
	static const struct { const char *hex; size_t len; } known[] = {
		{ "c5f877", 3 },               /* vzeroupper */
		{ "c4e27d18c0", 5 },           /* vbroadcastss %xmm0,%ymm0 */
		{ "62f1fe487f07", 6 },         /* vmovdqu64 %zmm0,(%rdi) */
		{ "62f37d4819c101", 7 },       /* vextractf32x4 $1,%zmm0,%xmm1 */
		{ "48b88877665544332211", 10 },/* movabs $imm64,%rax */
		{ "a12211443388776655", 9 },   /* movabs moffs64,%eax */
		{ "66c7400c3412", 6 },         /* movw $0x1234,0xc(%rax) */
		{ "f7c100010000", 6 },         /* test $0x100,%ecx */
		{ "f6c101", 3 },               /* test $1,%cl */
		{ "3effe0", 3 },               /* notrack jmp *%rax */
		{ "41ff6408f8", 5 },           /* jmp *-8(%r8,%rcx) */
		{ "660f3a0fc108", 6 },         /* palignr $8,%xmm1,%xmm0 */
		{ "0f1f840000000000", 8 },     /* nopl 0(%rax,%rax) */
		{ "06", 0 },                   /* push %es: invalid in 64-bit mode */
	};
	struct prog *pr = *state;
	char cmd[300], line[512];
	FILE *f;
	size_t checked = 0;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		unsigned char b[16];
		size_t n = strlen(known[i].hex) / 2;
		for (size_t j = 0; j < n; j++)
			sscanf(known[i].hex + 2 * j, "%2hhx", &b[j]);
		assert_int_equal(x86_insn_len(b, n), known[i].len);
		/* One byte short: never a length past the end. */
		assert_true(x86_insn_len(b, n - 1) == 0 || known[i].len == 0);
	}
	/* "  401136: 48 89 e5 \tmovq ..." : the bytes llvm-objdump decoded, per instruction. */
	snprintf(cmd, sizeof(cmd), "llvm-objdump-19 -d --section=.text %s", pr->t.bin);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f)) {
		unsigned char b[16];
		size_t n = 0;
		unsigned x;
		char *p = strchr(line, ':'), *tab;
		if (!p || line[0] != ' ' || !(tab = strchr(p, '\t')))
			continue;
		*tab = 0;
		for (p++; n < sizeof(b) && sscanf(p, " %2x", &x) == 1; n++) {
			b[n] = (unsigned char)x;
			p = strchr(p + 1, ' ') ? strchr(p + 1, ' ') : p + strlen(p);
			while (*p == ' ' && p[1] == ' ')
				p++;
		}
		if (!n)
			continue;
		assert_int_equal(x86_insn_len(b, n), n);
		checked++;
	}
	pclose(f);
	assert_true(checked > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_tail_call_no_instance),
	};
	const struct CMUnitTest tail_tests[] = {
		cmocka_unit_test(test_tail_frames),
		cmocka_unit_test(test_x86_lengths),
	};
	int r = cmocka_run_group_tests(tests, prog_setup, prog_teardown);
	return r | cmocka_run_group_tests(tail_tests, tail_setup, prog_teardown);
}
