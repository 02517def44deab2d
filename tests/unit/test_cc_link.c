/*
 * cpgo cc's link-time layout decisions (lib/cc/link.c): which commands are
 * links, the -pgo-layout values, finding lld, and what the user's own linker
 * options leave to cpgo. The links themselves run in t3002.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cc/cmd.h"
#include "cc/link.h"

/* Parses "cc" plus the words of `line` with clang-19 as the compiler. */
static void parse(struct cpgo_cc_cmd *cmd, const char *line, const char *layout)
{
	struct cpgo_cc_env env = { "clang-19", "off", NULL, layout, NULL };
	char *copy = strdup(line), *argv[32], *save = NULL;
	int argc = 0;

	argv[argc++] = "cc";
	for (char *w = strtok_r(copy, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	cpgo_cc_cmd_init(cmd);
	assert_int_equal(cpgo_cc_parse(cmd, argc, argv, &env), 0);
	/* cmd->args holds copies: the words may go. */
	free(copy);
}

static int is_link(const char *line)
{
	struct cpgo_cc_cmd cmd;
	int r;
	parse(&cmd, line, NULL);
	r = cpgo_cc_is_link(&cmd);
	cpgo_cc_cmd_release(&cmd);
	return r;
}

static void test_is_link(void **state)
{
	(void)state;
	assert_true(is_link("-O2 -o prog main.c a.c"));
	assert_true(is_link("-o prog main.o libx.a -lm"));
	assert_true(is_link("-shared -o libx.so a.o"));
	assert_true(is_link("-Wl,-rpath,/opt/lib -o prog a.o"));
	assert_false(is_link("-O2 -c a.c -o a.o"));
	assert_false(is_link("-S a.c"));
	assert_false(is_link("-E a.c"));
	assert_false(is_link("-r -o part.o a.o b.o"));
	assert_false(is_link("-Wl,-r -o part.o a.o b.o"));
	assert_false(is_link("-Xlinker --relocatable -o part.o a.o"));
	assert_false(is_link("--version"));
	assert_false(is_link("-print-prog-name=ld"));
	assert_false(is_link("-v"));
}

static void test_parse_layout(void **state)
{
	enum cpgo_cc_layout l;
	struct cpgo_cc_cmd cmd;
	(void)state;
	assert_int_equal(cpgo_cc_parse_layout("x", "on", &l), 0);
	assert_int_equal(l, CPGO_CC_LAYOUT_ON);
	assert_int_equal(cpgo_cc_parse_layout("x", "no", &l), 0);
	assert_int_equal(l, CPGO_CC_LAYOUT_OFF);
	assert_int_equal(cpgo_cc_parse_layout("x", "callgraph", &l), 0);
	assert_int_equal(l, CPGO_CC_LAYOUT_CALLGRAPH);
	assert_int_equal(cpgo_cc_parse_layout("x", "order", &l), 0);
	assert_int_equal(l, CPGO_CC_LAYOUT_ORDER);
	assert_int_equal(cpgo_cc_parse_layout("x", "lld", &l), 0);
	assert_int_equal(l, CPGO_CC_LAYOUT_LLD);
	assert_int_equal(cpgo_cc_parse_layout("x", "sideways", &l), -1);
	/* The flag wins over the environment; the default is the constant. */
	parse(&cmd, "-pgo-layout=callgraph -o p a.o", "order");
	assert_int_equal(cmd.layout, CPGO_CC_LAYOUT_CALLGRAPH);
	cpgo_cc_cmd_release(&cmd);
	parse(&cmd, "-o p a.o", "order");
	assert_int_equal(cmd.layout, CPGO_CC_LAYOUT_ORDER);
	cpgo_cc_cmd_release(&cmd);
	parse(&cmd, "-o p a.o", NULL);
	assert_int_equal(cmd.layout, CPGO_CC_LAYOUT_DEFAULT);
	cpgo_cc_cmd_release(&cmd);
	parse(&cmd, "-pgo-layout -o p a.o", "off");
	assert_int_equal(cmd.layout, CPGO_CC_LAYOUT_ON);
	cpgo_cc_cmd_release(&cmd);
}

static void test_find_lld(void **state)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	(void)state;
	assert_int_equal(cpgo_cc_find_lld("", &b), 0);
	assert_int_equal(cpgo_cc_find_lld("/nonexistent/ld.lld", &b), 0);
	assert_int_equal(cpgo_cc_find_lld("/bin/sh", &b), 1);
	assert_string_equal(b.buf, "/bin/sh");
	cpgo_buf_release(&b);
}

/* Plans the link of `line` (which names no real objects) and returns lk. */
static void plan(const char *line, const char *lld, struct cpgo_cc_link *lk)
{
	struct cpgo_cc_cmd cmd;
	parse(&cmd, line, "on");
	cpgo_cc_link_init(lk);
	struct cpgo_strvec link = CPGO_STRVEC_INIT;
	assert_int_equal(cpgo_strvec_pushv(&link, cmd.compiler.v, cmd.compiler.n), 0);
	assert_int_equal(cpgo_strvec_pushv(&link, cmd.args.v, cmd.args.n), 0);
	/* A missing profile is never read on these paths: they decide before reading. */
	assert_int_equal(cpgo_cc_link_plan(&cmd, &link, "/nonexistent.pgo", lld, "/nonexistent", lk), 0);
	cpgo_strvec_release(&link);
	cpgo_cc_cmd_release(&cmd);
}

static void test_user_choices(void **state)
{
	struct cpgo_cc_link lk;
	(void)state;
	plan("-fuse-ld=bfd -o p a.o", "/usr/bin/ld.lld-19", &lk);
	assert_int_equal(lk.add.n, 0);
	assert_string_equal(lk.note_key, "layout-linker");
	assert_non_null(strstr(lk.note.buf, "(bfd)"));
	cpgo_cc_link_release(&lk);

	plan("-o p a.o", NULL, &lk);
	assert_int_equal(lk.add.n, 0);
	assert_string_equal(lk.note_key, "layout-no-lld");
	cpgo_cc_link_release(&lk);

	/* The user orders the sections already: nothing added, nothing said. */
	plan("-fuse-ld=lld -Wl,--gc-sections,--symbol-ordering-file=mine -o p a.o", NULL, &lk);
	assert_int_equal(lk.add.n, 0);
	assert_null(lk.note_key);
	cpgo_cc_link_release(&lk);
	plan("-Xlinker --call-graph-ordering-file=cg.txt -o p a.o", "/usr/bin/ld.lld-19", &lk);
	assert_int_equal(lk.add.n, 0);
	assert_null(lk.note_key);
	cpgo_cc_link_release(&lk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_link),
		cmocka_unit_test(test_parse_layout),
		cmocka_unit_test(test_find_lld),
		cmocka_unit_test(test_user_choices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
