/* cpgo cc's planning: arguments, modes, profile discovery, the cache, commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cc/args.h"
#include "cc/cache.h"
#include "cc/cmd.h"
#include "cc/compiler.h"
#include "cc/flags.h"
#include "cc/depfile.h"
#include "cc/plan.h"
#include "cc/stale.h"
#include "pprof/profile.h"
#include "util/hash.h"
#include "util/error.h"

static char tmproot[256];

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmproot, sizeof(tmproot), "%s/cpgo-ccdriver.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmproot));
	return 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	sh("rm -rf '%s'", tmproot);
	return 0;
}

/* cpgo_cc_parse with $CPGO_CC and $CPGO_PGO; frame pointers on, so plans are fixed. */
static int parse_env(struct cpgo_cc_cmd *cmd, int argc, char **argv, const char *cc,
		     const char *pgo)
{
	struct cpgo_cc_env env = { cc, pgo, "on" };
	return cpgo_cc_parse(cmd, argc, argv, &env);
}

static void test_sha256_vectors(void **state)
{
	char hex[65];
	struct cpgo_sha256 s;
	unsigned char md[32];

	(void)state;
	cpgo_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cpgo_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cpgo_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* Fed in odd pieces across block boundaries: the million-'a' vector. */
	cpgo_sha256_init(&s);
	for (int i = 0; i < 1000000; i += 7) {
		static const char a[7] = "aaaaaaa";
		cpgo_sha256_update(&s, a, 1000000 - i < 7 ? (size_t)(1000000 - i) : 7);
	}
	cpgo_sha256_final(&s, md);
	cpgo_hex(md, 32, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_compiler_arg(void **state)
{
	(void)state;
	assert_true(cpgo_cc_is_compiler_arg("clang-19"));
	assert_true(cpgo_cc_is_compiler_arg("gcc"));
	assert_true(cpgo_cc_is_compiler_arg("x86_64-linux-gnu-gcc-12"));
	assert_true(cpgo_cc_is_compiler_arg("/usr/bin/cc"));
	assert_true(cpgo_cc_is_compiler_arg("ccache"));
	assert_true(cpgo_cc_is_compiler_arg("/bin/sh")); /* any executable path */
	assert_false(cpgo_cc_is_compiler_arg("a.c"));
	assert_false(cpgo_cc_is_compiler_arg("dir/gcc.c"));
	assert_false(cpgo_cc_is_compiler_arg("main.o"));
	assert_false(cpgo_cc_is_compiler_arg("-O2"));
	assert_false(cpgo_cc_is_compiler_arg("./no-such-file"));
	assert_false(cpgo_cc_is_compiler_arg("no-such-program-cpgo"));
}

static void test_parse_mode_and_compiler(void **state)
{
	struct cpgo_cc_cmd cmd;
	char *argv1[] = { "cc", "-O2", "-pgo=off", "-c", "a.c", NULL };
	char *argv2[] = { "cc", "-pgo=x.pgo", "gcc", "-c", "a.c", "-pgo=auto", NULL };
	char *argv3[] = { "cc", "ccache", "gcc", "-c", "a.c", NULL };
	char *argv4[] = { "cc", "-pgo", "off", NULL };
	char *argv5[] = { "cc", "-pgo=", "a.c", NULL };

	(void)state;
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 5, argv1, "ccache clang-19", "FILE.pgo"), 0);
	assert_int_equal(cmd.mode, CPGO_CC_PGO_OFF); /* the flag wins over CPGO_PGO */
	assert_int_equal(cmd.compiler.n, 2);
	assert_string_equal(cmd.compiler.v[0], "ccache");
	assert_string_equal(cmd.compiler.v[1], "clang-19");
	assert_int_equal(cmd.family, CPGO_CC_CLANG);
	assert_int_equal(cmd.args.n, 3); /* -pgo= is not passed on */
	assert_string_equal(cmd.args.v[1], "-c");
	assert_int_equal(cmd.action, CPGO_CC_COMPILE);
	cpgo_cc_cmd_release(&cmd);

	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 6, argv2, NULL, "off"), 0);
	assert_int_equal(cmd.mode, CPGO_CC_PGO_AUTO); /* the last -pgo wins */
	assert_int_equal(cmd.compiler.n, 1);
	assert_string_equal(cmd.compiler.v[0], "gcc");
	assert_int_equal(cmd.family, CPGO_CC_GCC);
	assert_int_equal(cmd.args.n, 2);
	cpgo_cc_cmd_release(&cmd);

	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 5, argv3, NULL, "prof.pgo"), 0);
	assert_int_equal(cmd.mode, CPGO_CC_PGO_FILE);
	assert_string_equal(cmd.pgo_file, "prof.pgo");
	assert_int_equal(cmd.compiler.n, 2); /* ccache takes its compiler along */
	assert_int_equal(cmd.family, CPGO_CC_GCC);
	cpgo_cc_cmd_release(&cmd);

	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 3, argv4, "clang-19", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "-pgo=off"));
	cpgo_cc_cmd_release(&cmd);
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 3, argv5, "clang-19", NULL), -1);
	assert_non_null(strstr(cpgo_last_error(), "empty PGO mode"));
	cpgo_cc_cmd_release(&cmd);
}

/* Classifies `args` (space separated) as compiled by clang-19. */
static void classify(struct cpgo_cc_cmd *cmd, char *buf, const char *args)
{
	char *argv[64], *save = NULL;
	int argc = 1;

	strcpy(buf, args);
	argv[0] = "cc";
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	cpgo_cc_cmd_init(cmd);
	assert_int_equal(parse_env(cmd, argc, argv, "clang-19", NULL), 0);
}

static void test_classify(void **state)
{
	struct cpgo_cc_cmd cmd;
	char buf[512];

	(void)state;
	classify(&cmd, buf, "-O2 -c a.c -o a.o -I inc -MF a.d -MD");
	assert_int_equal(cmd.action, CPGO_CC_COMPILE);
	assert_int_equal(cmd.n_inputs, 1); /* inc, a.o and a.d are option values */
	assert_int_equal(cmd.n_sources, 1);
	assert_false(cmd.has_debug_level);
	cpgo_cc_cmd_release(&cmd);

	classify(&cmd, buf, "-E a.c");
	assert_int_equal(cmd.action, CPGO_CC_PREPROCESS);
	cpgo_cc_cmd_release(&cmd);
	classify(&cmd, buf, "-MM a.c");
	assert_int_equal(cmd.action, CPGO_CC_PREPROCESS);
	cpgo_cc_cmd_release(&cmd);
	classify(&cmd, buf, "a.o b.o -o prog -lm");
	assert_int_equal(cmd.action, CPGO_CC_QUERY); /* a pure link step */
	assert_int_equal(cmd.n_inputs, 2);
	cpgo_cc_cmd_release(&cmd);
	classify(&cmd, buf, "-c x.S");
	assert_int_equal(cmd.action, CPGO_CC_QUERY); /* assembly: nothing to optimize */
	cpgo_cc_cmd_release(&cmd);
	classify(&cmd, buf, "-x c gen.inc -x none main.c -o prog");
	assert_int_equal(cmd.action, CPGO_CC_COMPILE_LINK);
	assert_int_equal(cmd.n_sources, 2);
	assert_string_equal(cmd.inputs[0].x_lang, "c");
	assert_null(cmd.inputs[1].x_lang);
	cpgo_cc_cmd_release(&cmd);
	classify(&cmd, buf, "-S -gdwarf-4 a.c");
	assert_int_equal(cmd.action, CPGO_CC_COMPILE);
	assert_true(cmd.has_debug_level);
	cpgo_cc_cmd_release(&cmd);
	/* Modifiers do not choose a level: line tables are still added. */
	classify(&cmd, buf, "-c -gsplit-dwarf -gdwarf64 -gz a.c -fomit-frame-pointer -MMD -MP");
	assert_false(cmd.has_debug_level);
	assert_true(cmd.has_frame_pointer);
	assert_true(cmd.has_mp);
	cpgo_cc_cmd_release(&cmd);
	classify(&cmd, buf, "--version");
	assert_int_equal(cmd.action, CPGO_CC_QUERY);
	cpgo_cc_cmd_release(&cmd);
}

static void test_find_profile(void **state)
{
	struct cpgo_buf out = CPGO_BUF_INIT, want = CPGO_BUF_INIT;
	char path[512];

	(void)state;
	sh("cd '%s' && mkdir -p outer/repo/.git outer/repo/prog/sub outer/repo/other "
	   "&& touch outer/default.pgo outer/repo/prog/default.pgo", tmproot);
	snprintf(path, sizeof(path), "%s/outer/repo/prog/sub/x.c", tmproot);
	assert_int_equal(cpgo_cc_find_profile(path, &out), 1);
	cpgo_buf_addf(&want, "%s/outer/repo/prog/default.pgo", tmproot);
	assert_string_equal(out.buf, want.buf);
	/* Not past the repository root, so outer/default.pgo is never taken. */
	snprintf(path, sizeof(path), "%s/outer/repo/other/y.c", tmproot);
	assert_int_equal(cpgo_cc_find_profile(path, &out), 0);
	/* The root itself is searched. */
	sh("touch '%s/outer/repo/default.pgo'", tmproot);
	assert_int_equal(cpgo_cc_find_profile(path, &out), 1);
	cpgo_buf_reset(&want);
	cpgo_buf_addf(&want, "%s/outer/repo/default.pgo", tmproot);
	assert_string_equal(out.buf, want.buf);
	snprintf(path, sizeof(path), "%s/no/such/dir/z.c", tmproot);
	assert_int_equal(cpgo_cc_find_profile(path, &out), 0);
	cpgo_buf_release(&out);
	cpgo_buf_release(&want);
}

static int n_converted;

static int fake_convert(const void *data, size_t len, const char *name, const char *source,
			const char *whole, struct cpgo_buf *out, void *ctx)
{
	(void)ctx;
	(void)whole;
	n_converted++;
	if (len >= 7 && !memcmp(data, "corrupt", 7))
		return error("%s: not a pprof profile", name);
	return cpgo_buf_addf(out, "converted %zu bytes for %s\n", len, source ? source : "-");
}

static void test_prepare_cache(void **state)
{
	struct cpgo_cc_converter conv = { "fake/1", fake_convert, NULL, 0, "llvm", NULL };
	struct cpgo_cc_prepared a, b;
	struct cpgo_buf cache = CPGO_BUF_INIT, prof = CPGO_BUF_INIT, text = CPGO_BUF_INIT;

	(void)state;
	cpgo_buf_addf(&cache, "%s/cache", tmproot);
	cpgo_buf_addf(&prof, "%s/p.pgo", tmproot);
	put(prof.buf, "abc");
	n_converted = 0;
	cpgo_cc_prepared_init(&a);
	cpgo_cc_prepared_init(&b);
	assert_int_equal(cpgo_cc_prepare(prof.buf, NULL, cache.buf, &conv, NULL, &a), 0);
	assert_int_equal(a.converted, 1);
	assert_string_equal(a.sha256,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(cpgo_read_file(a.cached.buf, &text, 1 << 20), 0);
	assert_string_equal(text.buf, "converted 3 bytes for -\n");
	assert_non_null(strstr(a.note_hdr.buf, "cpgo-note-"));

	/* Same content, same converter: a cache hit, the same file. */
	assert_int_equal(cpgo_cc_prepare(prof.buf, NULL, cache.buf, &conv, NULL, &b), 0);
	assert_int_equal(b.converted, 0);
	assert_int_equal(n_converted, 1);
	assert_string_equal(a.cached.buf, b.cached.buf);
	assert_string_equal(a.note_hdr.buf, b.note_hdr.buf);
	cpgo_cc_prepared_release(&b);

	/* Another converter version or translation unit is another entry. */
	conv.id = "fake/2";
	cpgo_cc_prepared_init(&b);
	assert_int_equal(cpgo_cc_prepare(prof.buf, NULL, cache.buf, &conv, NULL, &b), 0);
	assert_int_equal(b.converted, 1);
	assert_string_not_equal(a.cached.buf, b.cached.buf);
	cpgo_cc_prepared_release(&b);
	conv.per_source = 1;
	cpgo_cc_prepared_init(&b);
	assert_int_equal(cpgo_cc_prepare(prof.buf, "/src/x.c", cache.buf, &conv, NULL, &b), 0);
	assert_int_equal(b.converted, 1);
	cpgo_buf_reset(&text);
	assert_int_equal(cpgo_read_file(b.cached.buf, &text, 1 << 20), 0);
	assert_string_equal(text.buf, "converted 3 bytes for /src/x.c\n");
	cpgo_cc_prepared_release(&b);

	/* New content under the same name converts again. */
	put(prof.buf, "abcd");
	cpgo_cc_prepared_init(&b);
	assert_int_equal(cpgo_cc_prepare(prof.buf, "/src/x.c", cache.buf, &conv, NULL, &b), 0);
	assert_int_equal(b.converted, 1);
	cpgo_cc_prepared_release(&b);

	/* Errors name the file and carry the hint; nothing is cached. */
	put(prof.buf, "corrupt!");
	cpgo_cc_prepared_init(&b);
	assert_int_equal(cpgo_cc_prepare(prof.buf, NULL, cache.buf, &conv, "use -pgo=off", &b), -1);
	assert_non_null(strstr(cpgo_last_error(), "p.pgo: not a pprof profile (use -pgo=off)"));
	cpgo_cc_prepared_release(&b);
	cpgo_cc_prepared_init(&b);
	assert_int_equal(cpgo_cc_prepare("/no/such.pgo", NULL, cache.buf, &conv, "hint", &b), -1);
	assert_non_null(strstr(cpgo_last_error(), "/no/such.pgo"));
	cpgo_cc_prepared_release(&b);

	cpgo_cc_prepared_release(&a);
	cpgo_buf_release(&cache);
	cpgo_buf_release(&prof);
	cpgo_buf_release(&text);
}

/* Writes a big output slowly, so that concurrent writers overlap. */
static int slow_convert(const void *data, size_t len, const char *name, const char *source,
			const char *whole, struct cpgo_buf *out, void *ctx)
{
	(void)data; (void)len; (void)name; (void)source; (void)whole; (void)ctx;
	usleep(20000);
	for (int i = 0; i < 100000; i++)
		if (cpgo_buf_addf(out, "line %d\n", i) < 0)
			return -1;
	return 0;
}

static void test_prepare_concurrent(void **state)
{
	struct cpgo_cc_converter conv = { "slow/1", slow_convert, NULL, 0, "llvm", NULL };
	struct cpgo_buf cache = CPGO_BUF_INIT, prof = CPGO_BUF_INIT, text = CPGO_BUF_INIT;
	struct cpgo_cc_prepared pp;
	pid_t pids[8];
	int status;

	(void)state;
	cpgo_buf_addf(&cache, "%s/cache-concurrent", tmproot);
	cpgo_buf_addf(&prof, "%s/c.pgo", tmproot);
	put(prof.buf, "content");
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct cpgo_cc_prepared p;
			cpgo_cc_prepared_init(&p);
			_exit(cpgo_cc_prepare(prof.buf, NULL, cache.buf, &conv, NULL, &p) ? 1 : 0);
		}
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cpgo_cc_prepared_init(&pp);
	assert_int_equal(cpgo_cc_prepare(prof.buf, NULL, cache.buf, &conv, NULL, &pp), 0);
	assert_int_equal(pp.converted, 0);
	assert_int_equal(cpgo_read_file(pp.cached.buf, &text, 1 << 24), 0);
	assert_true(text.len > 1000000);
	assert_non_null(strstr(text.buf, "line 99999\n"));
	/* No temporary files are left behind. */
	sh("test $(ls '%s/llvm' | wc -l) -eq 1", cache.buf);
	cpgo_cc_prepared_release(&pp);
	cpgo_buf_release(&cache);
	cpgo_buf_release(&prof);
	cpgo_buf_release(&text);
}

static int argv_has(const struct cpgo_strvec *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strncmp(a->v[i], s, strlen(s)))
			return 1;
	return 0;
}

static void plan_for(struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan, char *buf,
		     const char *args, int prepare)
{
	classify(cmd, buf, args);
	cpgo_cc_plan_init(plan);
	assert_int_equal(cpgo_cc_plan_groups(cmd, 0, plan), 0);
	for (size_t g = 0; g < plan->n_groups && prepare; g++) {
		struct cpgo_cc_group *grp = &plan->groups[g];
		if (!grp->profile)
			continue;
		/* Stand-in for cpgo_cc_prepare: only the paths matter for planning. */
		cpgo_buf_addf(&grp->pp.cached, "/cache/%zu.prof", g);
		cpgo_buf_adds(&grp->pp.note_dir, "/cache/note");
		cpgo_buf_adds(&grp->pp.note_hdr, "cpgo-note-x.h");
		grp->prepared = 1;
	}
	assert_int_equal(cpgo_cc_plan_commands(cmd, plan), 0);
}

static void test_plan(void **state)
{
	struct cpgo_cc_cmd cmd;
	struct cpgo_cc_plan plan;
	char buf[1024], args[1024], cwd[512];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	sh("cd '%s' && mkdir -p plan/.git plan/a plan/b && touch plan/a/default.pgo "
	   "plan/a/x.c plan/b/y.c plan/a/z.c", tmproot);
	assert_int_equal(chdir(tmproot), 0);

	/* One profile: one command, flags before the user's, the note after. */
	plan_for(&cmd, &plan, buf, "-O2 -c plan/a/x.c plan/a/z.c", 1);
	assert_int_equal(plan.n_groups, 1);
	assert_int_equal(plan.n_cmds, 1);
	assert_string_equal(plan.cmds[0].v[0], "clang-19");
	assert_string_equal(plan.cmds[0].v[1], "-gline-tables-only");
	assert_string_equal(plan.cmds[0].v[2], "-fno-omit-frame-pointer");
	assert_string_equal(plan.cmds[0].v[3], "-fdebug-info-for-profiling");
	assert_string_equal(plan.cmds[0].v[4], "-fprofile-sample-use=/cache/0.prof");
	assert_string_equal(plan.cmds[0].v[5], "-fsample-profile-use-profi");
	assert_string_equal(plan.cmds[0].v[6], "-O2");
	assert_string_equal(plan.cmds[0].v[plan.cmds[0].n - 1], "cpgo-note-x.h");
	/* A file the profile has nothing for: no sample profile, but the note. */
	plan.groups[0].pp.empty = 1;
	cpgo_strvec_release(&plan.cmds[0]);
	plan.n_cmds = 0;
	assert_int_equal(cpgo_cc_plan_commands(&cmd, &plan), 0);
	assert_false(argv_has(&plan.cmds[0], "-fprofile-sample-use="));
	assert_false(argv_has(&plan.cmds[0], "-fsample-profile-use-profi"));
	assert_string_equal(plan.cmds[0].v[plan.cmds[0].n - 1], "cpgo-note-x.h");
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);

	/* -c with sources of two profiles (one of them none): one command each. */
	plan_for(&cmd, &plan, buf, "-c plan/a/x.c plan/b/y.c -Wall", 1);
	assert_int_equal(plan.n_groups, 2);
	assert_int_equal(plan.n_cmds, 2);
	assert_true(argv_has(&plan.cmds[0], "plan/a/x.c"));
	assert_false(argv_has(&plan.cmds[0], "plan/b/y.c"));
	assert_true(argv_has(&plan.cmds[0], "-fprofile-sample-use="));
	assert_true(argv_has(&plan.cmds[1], "plan/b/y.c"));
	assert_false(argv_has(&plan.cmds[1], "plan/a/x.c"));
	assert_false(argv_has(&plan.cmds[1], "-fprofile-sample-use="));
	assert_true(argv_has(&plan.cmds[1], "-gline-tables-only"));
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);

	/* Compile and link with two profiles: objects in a temporary dir, then the link. */
	plan_for(&cmd, &plan, buf, "-O2 plan/a/x.c lib.o plan/b/y.c -o prog -lm", 1);
	assert_int_equal(plan.n_cmds, 3);
	assert_non_null(plan.tmpdir);
	assert_true(argv_has(&plan.cmds[0], "-c"));
	assert_true(argv_has(&plan.cmds[0], "-fprofile-sample-use="));
	assert_false(argv_has(&plan.cmds[0], "prog"));
	assert_false(argv_has(&plan.cmds[0], "lib.o"));
	assert_false(argv_has(&plan.cmds[1], "-fprofile-sample-use="));
	snprintf(args, sizeof(args), "%s/0-x.c.o", plan.tmpdir);
	assert_true(argv_has(&plan.cmds[2], args));
	assert_true(argv_has(&plan.cmds[2], "lib.o"));
	assert_true(argv_has(&plan.cmds[2], "prog"));
	assert_true(argv_has(&plan.cmds[2], "-lm"));
	assert_false(argv_has(&plan.cmds[2], "plan/a/x.c"));
	assert_false(argv_has(&plan.cmds[2], "-fprofile-sample-use="));
	snprintf(args, sizeof(args), "%s", plan.tmpdir);
	cpgo_cc_plan_release(&plan);
	assert_int_equal(access(args, F_OK), -1); /* the temporary dir is gone */
	cpgo_cc_cmd_release(&cmd);

	/* Preprocessing and -pgo=off: the user's command untouched, or just line tables. */
	plan_for(&cmd, &plan, buf, "-E plan/a/x.c", 1);
	assert_int_equal(plan.n_cmds, 1);
	assert_int_equal(plan.cmds[0].n, 3);
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);
	plan_for(&cmd, &plan, buf, "-pgo=off -g -c plan/a/x.c", 1);
	assert_int_equal(plan.n_groups, 1);
	assert_null(plan.groups[0].profile);
	assert_false(argv_has(&plan.cmds[0], "-gline-tables-only"));
	assert_false(argv_has(&plan.cmds[0], "-fprofile-sample-use="));
	assert_true(argv_has(&plan.cmds[0], "-fno-omit-frame-pointer"));
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);

	assert_int_equal(chdir(cwd), 0);
}

static void test_frame_pointers(void **state)
{
	struct cpgo_cc_cmd cmd;
	struct cpgo_cc_env env = { "clang-19", NULL, NULL };
	char *plain[] = { "cc", "-c", "a.c", NULL };
	char *on[] = { "cc", "-pgo-frame-pointers", "-c", "a.c", NULL };
	char *off[] = { "cc", "-c", "-pgo-frame-pointers=off", "a.c", NULL };
	char *user[] = { "cc", "-fomit-frame-pointer", "-c", "a.c", NULL };
	char *bad[] = { "cc", "-pgo-frame-pointers=maybe", "a.c", NULL };
	char *unknown[] = { "cc", "-pgo-frobnicate", "a.c", NULL };
	struct cpgo_strvec a = CPGO_STRVEC_INIT;

	(void)state;
	/* The default is the one constant. */
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 3, plain, &env), 0);
	assert_int_equal(cmd.frame_pointers, CPGO_CC_FRAME_POINTERS_DEFAULT);
	cpgo_cc_cmd_release(&cmd);

	/* The environment, then the flag (anywhere, not passed on) over it. */
	env.frame_pointers = "0";
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 3, plain, &env), 0);
	assert_int_equal(cmd.frame_pointers, 0);
	assert_int_equal(cpgo_cc_push_front_flags(&cmd, NULL, &a), 0);
	assert_false(argv_has(&a, "-fno-omit-frame-pointer"));
	assert_true(argv_has(&a, "-gline-tables-only"));
	cpgo_strvec_release(&a);
	cpgo_cc_cmd_release(&cmd);
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 4, on, &env), 0);
	assert_int_equal(cmd.frame_pointers, 1);
	assert_int_equal(cmd.args.n, 2);
	assert_int_equal(cpgo_cc_push_front_flags(&cmd, NULL, &a), 0);
	assert_true(argv_has(&a, "-fno-omit-frame-pointer"));
	cpgo_strvec_release(&a);
	cpgo_cc_cmd_release(&cmd);
	env.frame_pointers = "yes";
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 4, off, &env), 0);
	assert_int_equal(cmd.frame_pointers, 0);
	assert_int_equal(cmd.args.n, 2);
	cpgo_cc_cmd_release(&cmd);

	/* The user's own choice is never overridden nor doubled. */
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 4, user, &env), 0);
	assert_int_equal(cpgo_cc_push_front_flags(&cmd, NULL, &a), 0);
	assert_false(argv_has(&a, "-fno-omit-frame-pointer"));
	cpgo_strvec_release(&a);
	cpgo_cc_cmd_release(&cmd);

	/* Bad values and unknown cpgo options name themselves. */
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 3, bad, &env), -1);
	assert_non_null(strstr(cpgo_last_error(), "maybe"));
	cpgo_cc_cmd_release(&cmd);
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 3, unknown, &env), -1);
	assert_non_null(strstr(cpgo_last_error(), "-pgo-frobnicate"));
	cpgo_cc_cmd_release(&cmd);
	env.frame_pointers = "sometimes";
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(cpgo_cc_parse(&cmd, 3, plain, &env), -1);
	assert_non_null(strstr(cpgo_last_error(), "CPGO_FRAME_POINTERS"));
	cpgo_cc_cmd_release(&cmd);
}

/* gcc's depfile name and the profile appended to its first target. */
static void test_depfile(void **state)
{
	struct cpgo_cc_cmd cmd;
	struct cpgo_buf path = CPGO_BUF_INIT, d = CPGO_BUF_INIT;
	char *with_o[] = { "cc", "gcc-12", "-O2", "-MMD", "-MP", "-c", "-o", "obj/work.o", "src/work.c" };
	char *with_mf[] = { "cc", "gcc-12", "-MD", "-MF", "deps/w.d", "-c", "src/work.c" };
	char *bare[] = { "cc", "gcc-12", "-MD", "-c", "src/work.c" };
	char *none[] = { "cc", "gcc-12", "-c", "src/work.c" };
	char dep[512];

	(void)state;
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 9, with_o, NULL, NULL), 0);
	assert_int_equal(cpgo_cc_depfile_path(&cmd, &path), 1);
	assert_string_equal(path.buf, "obj/work.d");
	cpgo_cc_cmd_release(&cmd);
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 7, with_mf, NULL, NULL), 0);
	assert_int_equal(cpgo_cc_depfile_path(&cmd, &path), 1);
	assert_string_equal(path.buf, "deps/w.d");
	cpgo_cc_cmd_release(&cmd);
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 5, bare, NULL, NULL), 0);
	assert_int_equal(cpgo_cc_depfile_path(&cmd, &path), 1);
	assert_string_equal(path.buf, "work.d");
	cpgo_cc_cmd_release(&cmd);
	cpgo_cc_cmd_init(&cmd);
	assert_int_equal(parse_env(&cmd, 4, none, NULL, NULL), 0);
	assert_int_equal(cpgo_cc_depfile_path(&cmd, &path), 0);
	cpgo_cc_cmd_release(&cmd);

	snprintf(dep, sizeof(dep), "%s/work.d", tmproot);
	put(dep, "obj/work.o: src/work.c \\\n src/work.h\nsrc/work.h:\n");
	assert_int_equal(cpgo_cc_depfile_add(dep, "/p/default.pgo"), 0);
	assert_int_equal(cpgo_read_file(dep, &d, 4096), 0);
	assert_string_equal(d.buf, "obj/work.o: src/work.c \\\n src/work.h\nsrc/work.h:\n"
				   "obj/work.o: /p/default.pgo\n/p/default.pgo:\n");
	put(dep, "no target here\n");
	assert_int_equal(cpgo_cc_depfile_add(dep, "/p/default.pgo"), -1);
	cpgo_buf_release(&path);
	cpgo_buf_release(&d);
}

static const int64_t hot_start = __LINE__ + 1;
__attribute__((noinline)) unsigned long stale_hot(unsigned long n)
{
	unsigned long s = 0;
	for (unsigned long i = 0; i < n; i++)
		s = s * 31 + i;
	return s;
}
static const int64_t hot_loop = __LINE__ - 4;

static void add_leaf(struct cpgo_profile *p, int64_t line, int64_t count)
{
	uint64_t f = cpgo_profile_add_function(p, "stale_hot", "stale_hot", "/src/test_cc.c",
					       hot_start);
	struct cpgo_line l = { f, line, 0 };
	uint64_t loc = cpgo_profile_add_location(p, 0, 0, &l, 1);
	assert_int_equal(cpgo_profile_add_sample(p, &loc, 1, &count, NULL, 0), 0);
}

/* The per-directory log: the latest figures of each source count, once. */
static void test_stale(void **state)
{
	struct cpgo_cc_stale s;
	struct cpgo_profile p;
	struct cpgo_buf msg = CPGO_BUF_INIT;
	char prof[512], cache[512];
	(void)state;

	assert_true(stale_hot(3) != 1);
	snprintf(prof, sizeof(prof), "%s/stale.pgo", tmproot);
	snprintf(cache, sizeof(cache), "%s/stale-cache", tmproot);
	assert_int_equal(cpgo_profile_init(&p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(&p, "samples", "count"), 0);
	add_leaf(&p, hot_loop, 60);
	add_leaf(&p, hot_loop + 500, 40); /* past the function's end: lost */
	assert_int_equal(cpgo_profile_write(&p, prof), 0);
	cpgo_profile_release(&p);

	/* 60% match, threshold 50: quiet, however often the file is rebuilt. */
	cpgo_cc_stale_init(&s);
	assert_int_equal(cpgo_cc_stale_begin(&s, cache, "sha1", "/build/one", "50"), 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cpgo_cc_stale_after(&s, prof, "x/test_cc.c", "/proc/self/exe",
						     "/build/one", &msg), 0);
	assert_int_equal(msg.len, 0);
	/* Another file of the profile's code that is not in this object: nothing to add. */
	assert_int_equal(cpgo_cc_stale_after(&s, prof, "x/other.c", "/proc/self/exe",
					     "/build/one", &msg), 0);
	cpgo_cc_stale_release(&s);

	/* Threshold 70: one warning, then the stamp keeps the directory quiet. */
	cpgo_cc_stale_init(&s);
	assert_int_equal(cpgo_cc_stale_begin(&s, cache, "sha1", "/build/one", "70"), 1);
	assert_int_equal(cpgo_cc_stale_after(&s, prof, "x/test_cc.c", "/proc/self/exe",
					     "/build/one", &msg), 1);
	assert_non_null(strstr(msg.buf, "at most 60% of its samples"));
	assert_non_null(strstr(msg.buf, "stale_hot in x/test_cc.c lost 40%"));
	assert_null(strchr(msg.buf, '\n'));
	cpgo_cc_stale_release(&s);
	cpgo_cc_stale_init(&s);
	assert_int_equal(cpgo_cc_stale_begin(&s, cache, "sha1", "/build/one", "70"), 0);
	cpgo_cc_stale_release(&s);
	/* Another directory, or another profile: checked on its own. */
	cpgo_cc_stale_init(&s);
	assert_int_equal(cpgo_cc_stale_begin(&s, cache, "sha1", "/build/two", "70"), 1);
	cpgo_cc_stale_release(&s);
	cpgo_cc_stale_init(&s);
	assert_int_equal(cpgo_cc_stale_begin(&s, cache, "sha2", "/build/one", "70"), 1);
	/* An object that is not ELF: an error the build ignores, no warning. */
	cpgo_buf_reset(&msg);
	assert_int_equal(cpgo_cc_stale_after(&s, prof, "x/test_cc.c", prof, "/build/one", &msg),
			 -1);
	assert_int_equal(msg.len, 0);
	cpgo_cc_stale_release(&s);
	cpgo_cc_stale_init(&s);
	assert_int_equal(cpgo_cc_stale_begin(&s, cache, "sha1", "/build/three", "0"), 0);
	cpgo_cc_stale_release(&s);
	cpgo_buf_release(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_compiler_arg),
		cmocka_unit_test(test_parse_mode_and_compiler),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_find_profile),
		cmocka_unit_test(test_prepare_cache),
		cmocka_unit_test(test_prepare_concurrent),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_frame_pointers),
		cmocka_unit_test(test_stale),
		cmocka_unit_test_setup_teardown(test_depfile, setup_tmp, teardown_tmp),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
