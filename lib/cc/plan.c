/*
 * Which profile each source of a `cpgo cc` run gets, and the commands that
 * build them. See plan.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cc/args.h"
#include "cc/flags.h"
#include "cc/link.h"
#include "cc/plan.h"
#include "util/error.h"
#include "util/path.h"

int cpgo_cc_find_profile(const char *source, struct cpgo_buf *out)
{
	struct cpgo_buf dir = CPGO_BUF_INIT, probe = CPGO_BUF_INIT;
	char *real = NULL;
	struct stat st;
	int ret = -1;

	if (!strcmp(source, "-") || !strchr(source, '/')) {
		real = realpath(".", NULL);
	} else {
		const char *slash = strrchr(source, '/');
		if (cpgo_buf_add(&dir, source, slash == source ? 1 : (size_t)(slash - source)) < 0)
			goto cleanup;
		real = realpath(dir.buf, NULL);
	}
	if (!real) {
		/* A missing source is the compiler's error to report, in its words. */
		if (errno == ENOENT || errno == ENOTDIR) {
			ret = 0;
			goto cleanup;
		}
		error_errno("%s: cannot resolve the source file's directory", source);
		goto cleanup;
	}
	cpgo_buf_reset(&dir);
	if (cpgo_buf_adds(&dir, real) < 0)
		goto cleanup;
	for (;;) {
		const char *sep = dir.len > 1 ? "/" : "";

		cpgo_buf_reset(&probe);
		if (cpgo_buf_addf(&probe, "%s%sdefault.pgo", dir.buf, sep) < 0)
			goto cleanup;
		if (!stat(probe.buf, &st) && !S_ISDIR(st.st_mode)) {
			cpgo_buf_reset(out);
			if (cpgo_buf_add(out, probe.buf, probe.len) < 0)
				goto cleanup;
			ret = 1;
			goto cleanup;
		}
		cpgo_buf_reset(&probe);
		if (cpgo_buf_addf(&probe, "%s%s.git", dir.buf, sep) < 0)
			goto cleanup;
		/* The repository root is the last place a program's profile can be. */
		if (!lstat(probe.buf, &st) || dir.len <= 1)
			break;
		while (dir.len > 1 && dir.buf[dir.len - 1] != '/')
			dir.len--;
		if (dir.len > 1)
			dir.len--;
		dir.buf[dir.len] = '\0';
	}
	ret = 0;
cleanup:
	free(real);
	cpgo_buf_release(&dir);
	cpgo_buf_release(&probe);
	return ret;
}

void cpgo_cc_plan_init(struct cpgo_cc_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->link_cmd = -1;
}

int cpgo_cc_plan_tmpdir(struct cpgo_cc_plan *plan)
{
	const char *tmp = getenv("TMPDIR");
	struct cpgo_buf tmpl = CPGO_BUF_INIT;

	if (plan->tmpdir)
		return 0;
	if (cpgo_buf_addf(&tmpl, "%s/cpgo-cc.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return -1;
	if (!mkdtemp(tmpl.buf)) {
		error_errno("%s: cannot create a temporary directory", tmpl.buf);
		cpgo_buf_release(&tmpl);
		return -1;
	}
	plan->tmpdir = cpgo_buf_detach(&tmpl, NULL);
	return 0;
}

void cpgo_cc_plan_release(struct cpgo_cc_plan *plan)
{
	for (size_t i = 0; i < plan->n_groups; i++) {
		free(plan->groups[i].profile);
		free(plan->groups[i].profile_abs);
		cpgo_cc_prepared_release(&plan->groups[i].pp);
	}
	free(plan->groups);
	for (size_t i = 0; i < plan->n_cmds; i++)
		cpgo_strvec_release(&plan->cmds[i]);
	free(plan->cmds);
	if (plan->tmpdir) {
		cpgo_path_remove_tmpdir(plan->tmpdir);
		free(plan->tmpdir);
	}
	cpgo_cc_plan_init(plan);
}

static int group_for(struct cpgo_cc_plan *plan, const char *profile, const char *source)
{
	struct cpgo_cc_group *g;
	size_t i;

	for (i = 0; i < plan->n_groups; i++) {
		g = &plan->groups[i];
		if (!g->profile != !profile || (profile && strcmp(g->profile, profile)))
			continue;
		if (g->source != source && (!g->source || !source || strcmp(g->source, source)))
			continue;
		return (int)i;
	}
	if (CPGO_GROW(plan->groups, plan->alloc_groups, plan->n_groups + 1) < 0)
		return -1;
	g = &plan->groups[plan->n_groups];
	memset(g, 0, sizeof(*g));
	cpgo_cc_prepared_init(&g->pp);
	g->source = source;
	if (profile) {
		g->profile = strdup(profile);
		if (!g->profile)
			return error("out of memory");
		/* A missing file has no absolute path; preparing it reports that. */
		g->profile_abs = realpath(profile, NULL);
	}
	return (int)plan->n_groups++;
}

int cpgo_cc_plan_groups(struct cpgo_cc_cmd *cmd, int per_source, struct cpgo_cc_plan *plan)
{
	struct cpgo_buf found = CPGO_BUF_INIT;
	int ret = -1;

	if (cmd->action != CPGO_CC_COMPILE && cmd->action != CPGO_CC_COMPILE_LINK)
		return 0;
	for (size_t i = 0; i < cmd->n_inputs; i++) {
		struct cpgo_cc_input *in = &cmd->inputs[i];
		const char *src = cmd->args.v[in->arg], *profile = NULL;
		int g;

		if (in->lang != CPGO_CC_LANG_C)
			continue;
		if (cmd->mode == CPGO_CC_PGO_FILE) {
			profile = cmd->pgo_file;
		} else if (cmd->mode == CPGO_CC_PGO_AUTO) {
			int r = cpgo_cc_find_profile(src, &found);
			if (r < 0)
				goto cleanup;
			if (r)
				profile = found.buf;
		}
		g = group_for(plan, profile, profile && per_source ? src : NULL);
		if (g < 0)
			goto cleanup;
		in->group = g;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&found);
	return ret;
}

static const struct cpgo_cc_prepared *group_pp(const struct cpgo_cc_plan *plan, int g)
{
	if (g < 0 || (size_t)g >= plan->n_groups || !plan->groups[g].prepared)
		return NULL;
	return &plan->groups[g].pp;
}

static struct cpgo_strvec *new_cmd(struct cpgo_cc_plan *plan)
{
	struct cpgo_strvec *a;

	if (CPGO_GROW(plan->cmds, plan->alloc_cmds, plan->n_cmds + 1) < 0)
		return NULL;
	a = &plan->cmds[plan->n_cmds++];
	cpgo_strvec_init(a);
	return a;
}

static int push_compiler(const struct cpgo_cc_cmd *cmd, struct cpgo_strvec *a)
{
	return cpgo_strvec_pushv(a, cmd->compiler.v, cmd->compiler.n);
}

/* The input record of args[i], or NULL when it is not an input. */
static const struct cpgo_cc_input *input_at(const struct cpgo_cc_cmd *cmd, size_t i)
{
	for (size_t k = 0; k < cmd->n_inputs; k++)
		if (cmd->inputs[k].arg == i)
			return &cmd->inputs[k];
	return NULL;
}

/*
 * Copies the user's options (not inputs) to `a`. `drop_lang_output` drops
 * -x and -o, which the split commands set per file.
 */
static int push_options(const struct cpgo_cc_cmd *cmd, int drop_lang_output,
			struct cpgo_strvec *a)
{
	for (size_t i = 0; i < cmd->args.n; i++) {
		const char *s = cmd->args.v[i];
		int has_value = cpgo_cc_arg_takes_value(s) || !strcmp(s, "-x");

		if (input_at(cmd, i))
			continue;
		if (drop_lang_output && (!strncmp(s, "-x", 2) || !strncmp(s, "-o", 2))) {
			if (has_value)
				i++;
			continue;
		}
		if (cpgo_strvec_push(a, s) < 0)
			return -1;
		if (has_value && i + 1 < cmd->args.n && cpgo_strvec_push(a, cmd->args.v[++i]) < 0)
			return -1;
	}
	return 0;
}

/* One command: every argument in its place, with group g's flags around. */
static int whole_command(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan, int g,
			 int only_group)
{
	const struct cpgo_cc_prepared *pp = group_pp(plan, g);
	int compile = cmd->action == CPGO_CC_COMPILE || cmd->action == CPGO_CC_COMPILE_LINK;
	struct cpgo_strvec *a = new_cmd(plan);

	if (!a || push_compiler(cmd, a) < 0)
		return -1;
	if (compile && cpgo_cc_push_front_flags(cmd, pp, a) < 0)
		return -1;
	if (!only_group && cmd->unexpanded.n) {
		/* The compiler reads the response files itself, as it would without cpgo. */
		if (cpgo_strvec_pushv(a, cmd->unexpanded.v, cmd->unexpanded.n) < 0)
			return -1;
	}
	for (size_t i = 0; i < cmd->args.n && !(!only_group && cmd->unexpanded.n); i++) {
		const struct cpgo_cc_input *in = only_group ? input_at(cmd, i) : NULL;

		/* Other groups' sources; inputs without a group go with the first. */
		if (in && in->group != g && !(in->group < 0 && g == 0))
			continue;
		if (cpgo_strvec_push(a, cmd->args.v[i]) < 0)
			return -1;
	}
	if (compile && cpgo_cc_push_back_flags(cmd, pp, pp ? plan->groups[g].profile_abs : NULL,
						a) < 0)
		return -1;
	return 0;
}

/* The object of a source in a split compile: unique by input number, named after it. */
static int object_path(const struct cpgo_cc_plan *plan, const struct cpgo_cc_cmd *cmd,
		       const struct cpgo_cc_input *in, struct cpgo_buf *obj)
{
	cpgo_buf_reset(obj);
	return cpgo_buf_addf(obj, "%s/%zu-%s.o", plan->tmpdir, (size_t)(in - cmd->inputs),
			     cpgo_path_basename(cmd->args.v[in->arg]));
}

static int split_compile_link(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	struct cpgo_buf obj = CPGO_BUF_INIT;
	struct cpgo_strvec *link;
	int clang = cmd->family == CPGO_CC_CLANG, ret = -1;
	size_t i, k;

	if (cpgo_cc_plan_tmpdir(plan) < 0)
		goto cleanup;

	for (k = 0; k < cmd->n_inputs; k++) {
		const struct cpgo_cc_input *in = &cmd->inputs[k];
		const struct cpgo_cc_prepared *pp = group_pp(plan, in->group);
		const char *src = cmd->args.v[in->arg];
		struct cpgo_strvec *a;

		if (in->lang != CPGO_CC_LANG_C)
			continue;
		a = new_cmd(plan);
		if (!a || push_compiler(cmd, a) < 0 || cpgo_cc_push_front_flags(cmd, pp, a) < 0 ||
		    push_options(cmd, 1, a) < 0)
			goto cleanup;
		/* Link flags are unused in a compile; -Werror must not turn that into a failure. */
		if (clang && cpgo_strvec_push(a, "-Wno-unused-command-line-argument") < 0)
			goto cleanup;
		if (in->x_lang && (cpgo_strvec_push(a, "-x") < 0 ||
				   cpgo_strvec_push(a, in->x_lang) < 0))
			goto cleanup;
		if (object_path(plan, cmd, in, &obj) < 0 || cpgo_strvec_push(a, src) < 0 || cpgo_strvec_push(a, "-c") < 0 ||
		    cpgo_strvec_push(a, "-o") < 0 || cpgo_strvec_push(a, obj.buf) < 0 ||
		    cpgo_cc_push_back_flags(cmd, pp, pp ? plan->groups[in->group].profile_abs : NULL,
					     a) < 0)
			goto cleanup;
	}

	link = new_cmd(plan);
	if (!link || push_compiler(cmd, link) < 0)
		goto cleanup;
	if (clang && cpgo_strvec_push(link, "-Wno-unused-command-line-argument") < 0)
		goto cleanup;
	for (i = 0; i < cmd->args.n; i++) {
		const char *s = cmd->args.v[i];
		const struct cpgo_cc_input *in = input_at(cmd, i);
		int has_value = cpgo_cc_arg_takes_value(s) || !strcmp(s, "-x");

		if (in && in->lang == CPGO_CC_LANG_C) {
			if (object_path(plan, cmd, in, &obj) < 0 ||
			    cpgo_strvec_push(link, obj.buf) < 0)
				goto cleanup;
			continue;
		}
		if (in) {
			/* The -x options are gone: restate the language of this input alone. */
			if (in->x_lang && (cpgo_strvec_push(link, "-x") < 0 ||
					   cpgo_strvec_push(link, in->x_lang) < 0))
				goto cleanup;
			if (cpgo_strvec_push(link, s) < 0)
				goto cleanup;
			if (in->x_lang && (cpgo_strvec_push(link, "-x") < 0 ||
					   cpgo_strvec_push(link, "none") < 0))
				goto cleanup;
			continue;
		}
		if (!strncmp(s, "-x", 2)) {
			if (!strcmp(s, "-x"))
				i++;
			continue;
		}
		if (cpgo_strvec_push(link, s) < 0)
			goto cleanup;
		if (has_value && i + 1 < cmd->args.n && cpgo_strvec_push(link, cmd->args.v[++i]) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&obj);
	return ret;
}

static int plan_commands(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	if (cmd->action == CPGO_CC_COMPILE_LINK && (plan->n_groups > 1 || plan->split_link))
		return split_compile_link(cmd, plan);
	if (plan->n_groups <= 1)
		return whole_command(cmd, plan, 0, 0);
	/* -c -o with several sources is the compiler's error to report, unchanged. */
	if (cmd->output_arg >= 0)
		return whole_command(cmd, plan, -1, 0);
	for (size_t g = 0; g < plan->n_groups; g++)
		if (whole_command(cmd, plan, (int)g, 1) < 0)
			return -1;
	return 0;
}

int cpgo_cc_plan_without_profiles(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	for (size_t i = 0; i < plan->n_groups; i++)
		plan->groups[i].prepared = 0;
	for (size_t i = 0; i < plan->n_cmds; i++)
		cpgo_strvec_release(&plan->cmds[i]);
	plan->n_cmds = 0;
	if (plan->tmpdir) {
		cpgo_path_remove_tmpdir(plan->tmpdir);
		free(plan->tmpdir);
		plan->tmpdir = NULL;
	}
	return cpgo_cc_plan_commands(cmd, plan);
}

int cpgo_cc_plan_commands(const struct cpgo_cc_cmd *cmd, struct cpgo_cc_plan *plan)
{
	if (plan_commands(cmd, plan) < 0)
		return -1;
	/* The link is the last command: alone, or after the split compiles. */
	plan->link_cmd = plan->n_cmds && cpgo_cc_is_link(cmd) ? (int)plan->n_cmds - 1 : -1;
	return 0;
}
