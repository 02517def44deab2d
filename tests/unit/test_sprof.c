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

static char *convert(struct cpgo_profile *p, const struct prog *pr, int context,
		     struct sprof_stats *st)
{
	struct llvmprof_opts o = { .text = 1 };
	struct cpgo_buf out = CPGO_BUF_INIT;
	char path[128], cmd[300];

	o.sp.binary = pr->t.bin;
	o.sp.context = context;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_tail_call_no_instance),
	};
	return cmocka_run_group_tests(tests, prog_setup, prog_teardown);
}
