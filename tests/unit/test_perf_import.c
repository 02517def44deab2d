/*
 * Unit tests for the perf script importer (lib/elf/perf_import.c): text
 * made from this process's own mappings, so frames symbolize from this
 * test binary's DWARF.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "elf/perf_import.h"

static const int64_t leaf_line = __LINE__ + 1;
__attribute__((noinline)) unsigned long perf_leaf(unsigned long n)
{
	return n * 7 + 1;
}

static const int64_t caller_line = __LINE__ + 1;
__attribute__((noinline)) unsigned long perf_caller(unsigned long n)
{
	return perf_leaf(n) + 3;
}

static char exe[4096];
static unsigned long long map_start, map_len, map_off;

static int setup(void **state)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[8192];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	uintptr_t fn = (uintptr_t)&perf_leaf;
	(void)state;
	if (n <= 0 || !f)
		return -1;
	exe[n] = '\0';
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s %llx", &lo, &hi, perms, &off) == 4 && fn >= lo &&
		    fn < hi) {
			map_start = lo;
			map_len = hi - lo;
			map_off = off;
		}
	}
	fclose(f);
	return map_start ? 0 : -1;
}

static int64_t fn_start(const struct cpgo_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (!strcmp(cpgo_profile_str(p, p->functions[i].name), name))
			return p->functions[i].start_line;
	return -1;
}

static void test_import(void **state)
{
	struct cpgo_buf t = CPGO_BUF_INIT;
	struct cpgo_profile p;
	struct cpgo_perf_stats st;
	unsigned long long leaf = (uintptr_t)&perf_leaf + 2, caller = (uintptr_t)&perf_caller + 5;
	const struct cpgo_location *l;
	(void)state;

	cpgo_buf_addf(&t, "prog 42 0.5: PERF_RECORD_MMAP2 42/42: [0x%llx(0x%llx) @ 0x%llx fd:00 1 2]: "
			  "r-xp %s\n", map_start, map_len, map_off, exe);
	/* Kernel frames fold to one; the caller's return address is one past the call. */
	for (int i = 0; i < 2; i++)
		cpgo_buf_addf(&t, "42/42 1.000000: 250000 cpu-clock:\n"
				  "\tffffffff81001234 irq+0x0 ([kernel.kallsyms])\n"
				  "\tffffffff81005678 entry+0x0 ([kernel.kallsyms])\n"
				  "\t%llx perf_leaf+0x2 (%s)\n\t%llx perf_caller+0x5 (%s)\n\n",
			      leaf, exe, caller + 1, exe);
	/* The same stack with perf 6.1's map-relative caller address. */
	cpgo_buf_addf(&t, "42/42 1.5: 250000 cpu-clock:\n"
			  "\tffffffff81001234 irq+0x0 ([kernel.kallsyms])\n"
			  "\t%llx perf_leaf+0x2 (%s)\n\t%llx perf_caller+0x5 (%s)\n\n",
		      leaf, exe, caller + 1 - map_start + map_off, exe);
	cpgo_buf_addf(&t, "42/42 1.7: 1000 cycles:u:\n\t%llx perf_leaf (%s)\n\n", leaf, exe);
	/* A sample without a call graph: its frame on the header line. */
	cpgo_buf_addf(&t, "prog with spaces 42/43 [001] 2.000000: 250000 cpu-clock:  %llx perf_leaf "
			  "(%s)\n", leaf, exe);
	/* perf pads the pid: a sample line may start with blanks, right after another. */
	cpgo_buf_addf(&t, "   42/42  3.000000:     250000 cpu-clock:  %llx perf_leaf (%s)\n", leaf,
		      exe);

	assert_int_equal(cpgo_perf_import_script(&p, t.buf, t.len, "t.txt", NULL, &st), 0);
	assert_int_equal(st.n_samples, 5);
	assert_int_equal(st.n_other_event, 1);
	assert_int_equal(st.n_mmaps, 1);
	assert_int_equal(st.n_frames_guessed, 0);
	assert_string_equal(st.event, "cpu-clock");
	assert_int_equal(p.n_sample_type, 2);
	assert_string_equal(cpgo_profile_str(&p, p.sample_type[0].type), "samples");
	assert_string_equal(cpgo_profile_str(&p, p.sample_type[1].type), "cpu");
	assert_string_equal(cpgo_profile_str(&p, p.sample_type[1].unit), "nanoseconds");
	assert_string_equal(cpgo_profile_str(&p, p.period_type.type), "cpu");
	assert_int_equal(p.period, 250000);
	assert_int_equal(p.duration_nanos, 2000000000);
	/* Three stacks: [kernel] leaf caller (three samples), leaf alone. */
	assert_int_equal(p.n_sample, 2);
	assert_int_equal(p.samples[0].n_loc, 3);
	assert_int_equal(cpgo_sample_values(&p, 0)[0], 3);
	assert_int_equal(cpgo_sample_values(&p, 0)[1], 750000);
	assert_int_equal(p.samples[1].n_loc, 1);
	assert_int_equal(cpgo_sample_values(&p, 1)[0], 2);
	assert_int_equal(p.mappings[0].memory_start, map_start);
	assert_int_equal(fn_start(&p, "perf_leaf"), leaf_line);
	assert_int_equal(fn_start(&p, "perf_caller"), caller_line);
	assert_int_equal(fn_start(&p, "[kernel.kallsyms]"), 0);
	assert_int_equal(cpgo_profile_index(&p), 0);
	l = cpgo_profile_location(&p, p.sample_locs[p.samples[0].loc_off + 2]);
	assert_non_null(l);
	assert_int_equal(l->address, caller);
	assert_true(l->n_line >= 1);
	cpgo_profile_release(&p);
	cpgo_buf_release(&t);
}

static void test_errors(void **state)
{
	struct cpgo_profile p;
	struct cpgo_perf_stats st;
	struct cpgo_perf_opts o = { .event = "cycles" };
	static const char no_period[] = "1/1 1.000000: cpu-clock:\n\t1234 f (/bin/true)\n";
	static const char bad_frame[] = "1/1 1.000000: 1 cpu-clock:\n\tzz (/bin/true)\n";
	static const char ok[] = "1/1 1.000000: 1 cpu-clock:\n\t1234 f (/nonexistent)\n";
	static const char far_time[] = "1/1 177777777777777777777.0: 1 cpu-clock:\n\t1234 f (/x)\n";
	static const char empty_ev[] = "1/1 1.0: 1 :\n\t1234 f (/nonexistent)\n"
				       "1/1 2.0: 1 :\n\t1234 f (/nonexistent)\n";
	(void)state;

	assert_int_equal(cpgo_perf_import_script(&p, "hello\n", 6, "h.txt", NULL, &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "h.txt:1: not perf script output"));
	assert_int_equal(cpgo_perf_import_script(&p, no_period, sizeof(no_period) - 1, "n", NULL,
						 &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "-F +period"));
	assert_int_equal(cpgo_perf_import_script(&p, bad_frame, sizeof(bad_frame) - 1, "b", NULL,
						 &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "b:2: a frame line"));
	assert_int_equal(cpgo_perf_import_script(&p, ok, sizeof(ok) - 1, "o", &o, &st), -1);
	assert_non_null(strstr(cpgo_last_error(), "no samples of event 'cycles'"));
	assert_int_equal(cpgo_perf_import_script(&p, "PERFILE2xxxx", 12, "d", NULL, &st), -1);
	/* An empty event name once took the second sample for the first event (fuzz_perf_script). */
	assert_int_equal(cpgo_perf_import_script(&p, empty_ev, sizeof(empty_ev) - 1, "e", NULL, &st),
			 -1);
	assert_non_null(strstr(cpgo_last_error(), "e:1: an empty event name"));
	/* A time stamp past 64-bit nanoseconds was converted with undefined behavior. */
	assert_int_equal(cpgo_perf_import_script(&p, far_time, sizeof(far_time) - 1, "t", NULL, &st),
			 -1);
	assert_non_null(strstr(cpgo_last_error(), "t:1: a sample time out of range"));
	/* A binary that is gone keeps perf's symbol name. */
	if (cpgo_perf_import_script(&p, ok, sizeof(ok) - 1, "o", NULL, &st) < 0)
		fail_msg("%s", cpgo_last_error());
	assert_int_equal(fn_start(&p, "f"), 0);
	assert_int_equal(st.n_frames_guessed, 1);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
