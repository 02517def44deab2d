/*
 * libFuzzer target for `cpgo cc`'s argument handling (lib/cc: cmd, args,
 * plan, flags). The input is a command line, arguments separated by NUL
 * bytes, after a control byte (compiler, frame pointers, per-source
 * profiles, empty profile). The property, for every argument list:
 *  - cpgo refuses it only for a malformed -pgo option of its own;
 *  - a command that compiles nothing (a link, a query, -E, -M) runs as the
 *    plain compiler would: the compiler and the user's arguments, unchanged;
 *  - one compile command is the plain command plus cpgo's flags only:
 *    the user's arguments, in order and untouched, between flags from
 *    cpgo's own set;
 *  - several commands (sources with different profiles) compile each
 *    source exactly once and keep every option in order.
 * The profile is not read: groups are marked prepared as cpgo_cc_prepare
 * would leave them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc/args.h"
#include "cc/cmd.h"
#include "cc/flags.h"
#include "cc/plan.h"
#include "util/buf.h"

#define die(what) (fprintf(stderr, "fuzz_cc_args: %s\n", what), abort())

#define CACHED "/fuzz-cache/p.prof"
#define NOTE_DIR "/fuzz-cache/notes"
#define NOTE_HDR "cpgo-note-fuzz.h"

static int is_front_flag(const char *s)
{
	static const char *const f[] = { "-gline-tables-only", "-g1", "-fno-omit-frame-pointer",
					 "-fdebug-info-for-profiling",
					 "-fprofile-sample-use=" CACHED,
					 "-fsample-profile-use-profi", "-fauto-profile=" CACHED,
					 "-ffunction-sections", "-fsplit-machine-functions", NULL };
	for (const char *const *p = f; *p; p++)
		if (!strcmp(s, *p))
			return 1;
	return 0;
}

static int is_note(char **v, size_t k)
{
	return k >= 4 && !strcmp(v[k - 4], "-isystem") && !strcmp(v[k - 3], NOTE_DIR) &&
	       !strcmp(v[k - 2], "-include") && !strcmp(v[k - 1], NOTE_HDR);
}

/*
 * Strips cpgo's back flags from the end of v[0..*n): the note header, then
 * -MP (when the user's -MD lists system headers), then the profile's
 * depfile entry.
 */
static void strip_back(char **v, size_t *n)
{
	size_t k = *n;
	int dep = 0, mp = 0;

	if (k >= 2 && !strcmp(v[k - 2], "-Xclang") && !strncmp(v[k - 1], "-fdepfile-entry=", 16)) {
		k -= 2;
		dep = 1;
	}
	if (k >= 1 && !strcmp(v[k - 1], "-MP") && is_note(v, k - 1)) {
		k--;
		mp = 1;
	}
	if (!is_note(v, k)) {
		if (dep || mp)
			die("a depfile entry or -MP without the note header");
		return;
	}
	*n = k - 4;
}

/*
 * Where the user's arguments start in command `a` of group g: after the
 * compiler and exactly the front flags cpgo adds for that group, each of
 * them one of cpgo's own.
 */
static size_t skip_front(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_plan *plan, int g,
			 const struct cpgo_strvec *a, size_t n_comp)
{
	const struct cpgo_cc_prepared *pp = NULL;
	struct cpgo_strvec f;
	size_t k = n_comp;

	if (g >= 0 && (size_t)g < plan->n_groups && plan->groups[g].prepared)
		pp = &plan->groups[g].pp;
	cpgo_strvec_init(&f);
	if (cpgo_cc_push_front_flags(cmd, pp, &f) < 0)
		die("out of memory");
	for (size_t i = 0; i < f.n; i++, k++) {
		if (!is_front_flag(f.v[i]))
			die("a flag that is not one of cpgo's");
		if (k >= a->n || strcmp(a->v[k], f.v[i]))
			die("a compile does not start with cpgo's flags");
	}
	cpgo_strvec_release(&f);
	return k;
}

static int is_input(const struct cpgo_cc_cmd *cmd, size_t arg)
{
	for (size_t i = 0; i < cmd->n_inputs; i++)
		if (cmd->inputs[i].arg == arg)
			return 1;
	return 0;
}

static int is_source(const struct cpgo_cc_cmd *cmd, size_t arg)
{
	for (size_t i = 0; i < cmd->n_inputs; i++)
		if (cmd->inputs[i].arg == arg)
			return cmd->inputs[i].lang == CPGO_CC_LANG_C;
	return 0;
}

static int tmp_ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const compilers[] = { "clang-19", "gcc-12", "ccache", "cc" };
	struct cpgo_cc_cmd cmd;
	struct cpgo_cc_plan plan;
	const struct cpgo_strvec *kept;
	struct cpgo_cc_env env = { NULL, "/nonexistent/fuzz.pgo", NULL };
	char **argv = NULL, *copy = NULL, **user = NULL;
	size_t argc = 0, n_user = 0, n_comp;
	int has_pgo_flag = 0, rc;
	uint8_t ctl;

	if (size < 1 || size > 4096)
		return 0;
	ctl = data[0];
	copy = malloc(size);
	argv = calloc(size + 4, sizeof(*argv));
	user = calloc(size + 1, sizeof(*user));
	if (!copy || !argv || !user)
		die("out of memory");
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	argv[argc++] = "cc";
	argv[argc++] = (char *)compilers[ctl & 3];
	if ((ctl & 3) == 2)
		argv[argc++] = "clang-19"; /* ccache clang-19 */
	n_comp = argc - 1;
	for (char *p = copy; p < copy + size - 1; p += strlen(p) + 1) {
		argv[argc++] = p;
		if (cpgo_cc_is_pgo_flag(p))
			has_pgo_flag = 1;
		else
			user[n_user++] = p;
	}
	env.frame_pointers = (ctl & 4) ? "off" : NULL;

	cpgo_cc_cmd_init(&cmd);
	cpgo_cc_plan_init(&plan);
	rc = cpgo_cc_parse(&cmd, (int)argc, argv, &env);
	if (rc < 0) {
		if (!has_pgo_flag)
			die("refused a command line without a -pgo option");
		goto cleanup;
	}
	/* Response files are expanded for classifying; the unexpanded list is what runs. */
	kept = cmd.unexpanded.n ? &cmd.unexpanded : &cmd.args;
	if (cmd.compiler.n != n_comp || kept->n != n_user)
		die("the compiler or the user's arguments were not kept");
	for (size_t i = 0; i < n_user; i++)
		if (strcmp(kept->v[i], user[i]))
			die("a user argument was changed or moved");
	if (cpgo_cc_plan_groups(&cmd, (ctl >> 3) & 1, &plan) < 0)
		goto cleanup;
	for (size_t g = 0; g < plan.n_groups; g++) {
		struct cpgo_cc_group *grp = &plan.groups[g];
		if (!grp->profile)
			continue;
		if (cpgo_buf_adds(&grp->pp.cached, CACHED) < 0 ||
		    cpgo_buf_adds(&grp->pp.note_dir, NOTE_DIR) < 0 ||
		    cpgo_buf_adds(&grp->pp.note_hdr, NOTE_HDR) < 0)
			die("out of memory");
		grp->pp.empty = (ctl >> 4) & 1;
		grp->prepared = 1;
	}
	/* Split compiles make a temporary directory: ours, not the machine's /tmp. */
	if (!tmp_ready) {
		char tmpl[] = "/tmp/fuzz-cc-args.XXXXXX";
		if (!mkdtemp(tmpl))
			die("mkdtemp");
		setenv("TMPDIR", tmpl, 1);
		tmp_ready = 1;
	}
	if (cpgo_cc_plan_commands(&cmd, &plan) < 0)
		die("no commands planned for a parsed command line");
	if (!plan.n_cmds)
		die("no command");
	for (size_t c = 0; c < plan.n_cmds; c++) {
		struct cpgo_strvec *a = &plan.cmds[c];
		for (size_t i = 0; i < n_comp; i++)
			if (a->n <= i || strcmp(a->v[i], cmd.compiler.v[i]))
				die("a command does not start with the compiler");
	}
	if (cmd.action == CPGO_CC_QUERY || cmd.action == CPGO_CC_PREPROCESS) {
		struct cpgo_strvec *a = &plan.cmds[0];
		if (plan.n_cmds != 1 || a->n != n_comp + n_user)
			die("a command that compiles nothing is not passed through");
		for (size_t i = 0; i < n_user; i++)
			if (strcmp(a->v[n_comp + i], user[i]))
				die("a command that compiles nothing is not passed through");
	} else if (plan.n_cmds == 1) {
		struct cpgo_strvec *a = &plan.cmds[0];
		size_t n = a->n;
		size_t k = skip_front(&cmd, &plan, plan.n_groups <= 1 ? 0 : -1, a, n_comp);
		strip_back(a->v, &n);
		if (n - k != n_user)
			die("a compile is not the plain command plus cpgo's flags");
		for (size_t i = 0; i < n_user; i++)
			if (strcmp(a->v[k + i], user[i]))
				die("a compile is not the plain command plus cpgo's flags");
	} else {
		/* Each C source exactly once over all commands; options in their order. */
		for (size_t i = 0; i < n_user; i++) {
			size_t seen = 0;
			if (!is_source(&cmd, i))
				continue;
			for (size_t c = 0; c < plan.n_cmds; c++)
				for (size_t j = n_comp; j < plan.cmds[c].n; j++)
					if (!strcmp(plan.cmds[c].v[j], user[i]))
						seen++;
			if (!seen)
				die("a source is compiled by no command");
		}
		if (!plan.tmpdir) {
			/*
			 * -c/-S with groups: each command is the plain one less the other
			 * groups' sources (inputs of no group go with the first).
			 */
			for (size_t c = 0; c < plan.n_cmds; c++) {
				struct cpgo_strvec *a = &plan.cmds[c];
				size_t n = a->n, u = 0;
				size_t k = skip_front(&cmd, &plan, (int)c, a, n_comp);
				strip_back(a->v, &n);
				for (; k < n; k++, u++) {
					while (u < n_user && strcmp(a->v[k], user[u]) && is_input(&cmd, u))
						u++;
					if (u >= n_user || strcmp(a->v[k], user[u]))
						die("a per-group compile changed the user's options");
				}
				for (; u < n_user; u++)
					if (!is_input(&cmd, u))
						die("a per-group compile dropped an option");
			}
		}
	}
cleanup:
	cpgo_cc_plan_release(&plan);
	cpgo_cc_cmd_release(&cmd);
	free(user);
	free(argv);
	free(copy);
	return 0;
}
