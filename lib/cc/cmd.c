/*
 * The `cpgo cc` command line: cpgo's -pgo options, the compiler, and the
 * compiler's arguments. See cmd.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cc/args.h"
#include "cc/cmd.h"
#include "util/buf.h"
#include "util/error.h"

#define FRAME_POINTERS_FLAG "-pgo-frame-pointers"
#define LAYOUT_FLAG "-pgo-layout"
#define SPLIT_FLAG "-pgo-split"

void cpgo_cc_cmd_init(struct cpgo_cc_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cpgo_strvec_init(&cmd->compiler);
	cpgo_strvec_init(&cmd->args);
	cpgo_strvec_init(&cmd->unexpanded);
	cmd->output_arg = -1;
	cmd->frame_pointers = CPGO_CC_FRAME_POINTERS_DEFAULT;
	cmd->layout = CPGO_CC_LAYOUT_DEFAULT;
	cmd->split = CPGO_CC_SPLIT_DEFAULT;
}

void cpgo_cc_cmd_release(struct cpgo_cc_cmd *cmd)
{
	cpgo_strvec_release(&cmd->compiler);
	cpgo_strvec_release(&cmd->args);
	cpgo_strvec_release(&cmd->unexpanded);
	free(cmd->inputs);
	cpgo_cc_cmd_init(cmd);
}

int cpgo_cc_is_pgo_flag(const char *s)
{
	return !strncmp(s, "-pgo=", 5) || !strncmp(s, "--pgo=", 6) || !strcmp(s, "-pgo") ||
	       !strcmp(s, "--pgo") || !strncmp(s, "-pgo-", 5);
}

int cpgo_cc_parse_mode(const char *s, enum cpgo_cc_mode *mode, const char **file)
{
	*file = NULL;
	if (!*s)
		return error("empty PGO mode: use auto, off or the path of a pprof profile");
	if (!strcmp(s, "auto"))
		*mode = CPGO_CC_PGO_AUTO;
	else if (!strcmp(s, "off"))
		*mode = CPGO_CC_PGO_OFF;
	else {
		*mode = CPGO_CC_PGO_FILE;
		*file = s;
	}
	return 0;
}

/* on/off, yes/no, 1/0 (what a build system's variable is likely to hold). */
static int parse_switch(const char *what, const char *s, int *out)
{
	static const char *const on[] = { "on", "yes", "1", "true", NULL };
	static const char *const off[] = { "off", "no", "0", "false", NULL };

	for (const char *const *p = on; *p; p++)
		if (!strcmp(s, *p))
			return *out = 1, 0;
	for (const char *const *p = off; *p; p++)
		if (!strcmp(s, *p))
			return *out = 0, 0;
	return error("%s=%s: use on or off", what, s);
}

int cpgo_cc_parse_layout(const char *what, const char *s, enum cpgo_cc_layout *out)
{
	int on;

	if (!strcmp(s, "lld"))
		*out = CPGO_CC_LAYOUT_LLD;
	else if (!strcmp(s, "callgraph"))
		*out = CPGO_CC_LAYOUT_CALLGRAPH;
	else if (!strcmp(s, "order"))
		*out = CPGO_CC_LAYOUT_ORDER;
	else if (parse_switch(what, s, &on) < 0)
		return error("%s=%s: use on, off, lld, callgraph or order", what, s);
	else
		*out = on ? CPGO_CC_LAYOUT_ON : CPGO_CC_LAYOUT_OFF;
	return 0;
}

/* "-pgo-NAME" or "-pgo-NAME=VALUE": the value ("" for none), else NULL. */
static const char *flag_value(const char *a, const char *flag)
{
	size_t n = strlen(flag);

	if (strncmp(a, flag, n) || (a[n] && a[n] != '='))
		return NULL;
	return a[n] ? a + n + 1 : "";
}

/* Takes one of cpgo's own options; `mode` gets the -pgo= value. */
static int take_pgo_flag(struct cpgo_cc_cmd *cmd, const char *a, const char **mode,
			 int *fp_flag, int *layout_flag, int *split_flag)
{
	size_t n = strlen(FRAME_POINTERS_FLAG);
	const char *v;

	if (!strncmp(a, "-pgo=", 5) || !strncmp(a, "--pgo=", 6)) {
		*mode = strchr(a, '=') + 1;
		cmd->mode_from_flag = 1;
		return 0;
	}
	if (!strcmp(a, "-pgo") || !strcmp(a, "--pgo"))
		return error("%s needs a value: write -pgo=auto, -pgo=off or -pgo=FILE", a);
	if (!strncmp(a, FRAME_POINTERS_FLAG, n) && (!a[n] || a[n] == '=')) {
		*fp_flag = 1;
		if (!a[n])
			return cmd->frame_pointers = 1, 0;
		return parse_switch(FRAME_POINTERS_FLAG, a + n + 1, &cmd->frame_pointers);
	}
	if ((v = flag_value(a, LAYOUT_FLAG))) {
		*layout_flag = 1;
		if (!*v)
			return cmd->layout = CPGO_CC_LAYOUT_ON, 0;
		return cpgo_cc_parse_layout(LAYOUT_FLAG, v, &cmd->layout);
	}
	if ((v = flag_value(a, SPLIT_FLAG))) {
		*split_flag = 1;
		if (!*v)
			return cmd->split = 1, 0;
		return parse_switch(SPLIT_FLAG, v, &cmd->split);
	}
	return error("unknown cpgo option '%s' (cpgo's are -pgo=MODE, "
		     FRAME_POINTERS_FLAG "[=on|off], " LAYOUT_FLAG "[=on|off] and "
		     SPLIT_FLAG "[=on|off])", a);
}

static int split_words(struct cpgo_strvec *sv, const char *words)
{
	char *copy = strdup(words), *save = NULL, *w;
	int ret = 0;

	if (!copy)
		return error("out of memory");
	for (w = strtok_r(copy, " \t\n", &save); w && !ret; w = strtok_r(NULL, " \t\n", &save))
		ret = cpgo_strvec_push(sv, w);
	free(copy);
	return ret;
}

/* Response files past these are left to the compiler (which refuses a loop itself). */
#define RSP_MAX_FILES 64
#define RSP_MAX_BYTES ((size_t)1 << 22)

/* libiberty's buildargv: blanks separate, quotes group, a backslash takes the next byte. */
static int split_rsp(const char *s, size_t len, struct cpgo_strvec *out)
{
	struct cpgo_buf w = CPGO_BUF_INIT;
	int sq = 0, dq = 0, bs = 0, in_word = 0, ret = -1;

	for (size_t i = 0; i <= len; i++) {
		int c = i < len ? (unsigned char)s[i] : -1;

		if (c < 0 || (!sq && !dq && !bs && isspace(c))) {
			if (in_word && cpgo_strvec_push(out, w.buf ? w.buf : "") < 0)
				goto cleanup;
			cpgo_buf_reset(&w);
			in_word = 0;
			continue;
		}
		in_word = 1;
		if (bs)
			bs = 0;
		else if (c == '\\') {
			bs = 1;
			continue;
		} else if (sq) {
			if (c == '\'') {
				sq = 0;
				continue;
			}
		} else if (dq) {
			if (c == '"') {
				dq = 0;
				continue;
			}
		} else if (c == '\'') {
			sq = 1;
			continue;
		} else if (c == '"') {
			dq = 1;
			continue;
		}
		if (cpgo_buf_add(&w, (const char *)&s[i], 1) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&w);
	return ret;
}

/*
 * Expands @FILE arguments in place, nested ones too, as the compiler will:
 * an unreadable FILE stays as the argument it is.
 */
static int expand_response_files(struct cpgo_cc_cmd *cmd)
{
	struct cpgo_buf data = CPGO_BUF_INIT;
	struct cpgo_strvec next;
	size_t files = 0, i = 0;
	int ret = -1;

	cpgo_strvec_init(&next);
	while (i < cmd->args.n) {
		const char *a = cmd->args.v[i];

		struct stat st;

		cpgo_buf_reset(&data);
		/* Only a regular file: reading a FIFO or /dev/stdin would take the compiler's input. */
		if (a[0] != '@' || files >= RSP_MAX_FILES || stat(a + 1, &st) < 0 ||
		    !S_ISREG(st.st_mode) || cpgo_read_file(a + 1, &data, RSP_MAX_BYTES) < 0) {
			cpgo_clear_error();
			i++;
			continue;
		}
		if (!files++ && cpgo_strvec_pushv(&cmd->unexpanded, cmd->args.v, cmd->args.n) < 0)
			goto cleanup;
		/* Its words take its place, and are looked at in turn (nested @FILE). */
		if (cpgo_strvec_pushv(&next, cmd->args.v, i) < 0 ||
		    split_rsp(data.buf ? data.buf : "", data.len, &next) < 0 ||
		    cpgo_strvec_pushv(&next, cmd->args.v + i + 1, cmd->args.n - i - 1) < 0)
			goto cleanup;
		cpgo_strvec_release(&cmd->args);
		cmd->args = next;
		cpgo_strvec_init(&next);
	}
	ret = 0;
cleanup:
	cpgo_strvec_release(&next);
	cpgo_buf_release(&data);
	return ret;
}

int cpgo_cc_parse(struct cpgo_cc_cmd *cmd, int argc, char **argv, const struct cpgo_cc_env *env)
{
	static const struct cpgo_cc_env no_env;
	const char *mode = NULL;
	int i, first = 1, fp_flag = 0, layout_flag = 0, split_flag = 0;

	if (!env)
		env = &no_env;
	for (i = 1; i < argc; i++) {
		if (cpgo_cc_is_pgo_flag(argv[i])) {
			if (take_pgo_flag(cmd, argv[i], &mode, &fp_flag, &layout_flag, &split_flag) < 0)
				return -1;
			continue;
		}
		if (first && cpgo_cc_is_compiler_arg(argv[i])) {
			if (cpgo_strvec_push(&cmd->compiler, argv[i]) < 0)
				return -1;
			/* `cpgo cc ccache gcc ...`: the wrapper's compiler comes along. */
			first = cpgo_cc_is_wrapper(argv[i]);
			continue;
		}
		first = 0;
		if (cpgo_strvec_push(&cmd->args, argv[i]) < 0)
			return -1;
	}

	if (!mode)
		mode = env->pgo && *env->pgo ? env->pgo : "auto";
	if (cpgo_cc_parse_mode(mode, &cmd->mode, &cmd->pgo_file) < 0)
		return error_prefix("%s", cmd->mode_from_flag ? "-pgo" : "CPGO_PGO");
	if (!fp_flag && env->frame_pointers && *env->frame_pointers &&
	    parse_switch("CPGO_FRAME_POINTERS", env->frame_pointers, &cmd->frame_pointers) < 0)
		return -1;
	if (!layout_flag && env->layout && *env->layout &&
	    cpgo_cc_parse_layout("CPGO_LAYOUT", env->layout, &cmd->layout) < 0)
		return -1;
	if (!split_flag && env->split && *env->split &&
	    parse_switch("CPGO_SPLIT", env->split, &cmd->split) < 0)
		return -1;

	if (!cmd->compiler.n) {
		if (split_words(&cmd->compiler, env->cc && *env->cc ? env->cc :
				cpgo_cc_default_compiler()) < 0)
			return -1;
		if (!cmd->compiler.n)
			return error("CPGO_CC is blank: set it to a compiler such as clang-19");
	}
	cmd->family = cpgo_cc_detect_family(cmd->compiler.v, cmd->compiler.n);
	if (expand_response_files(cmd) < 0)
		return -1;
	return cpgo_cc_classify(cmd);
}
