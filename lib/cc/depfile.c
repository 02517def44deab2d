/*
 * The profile in a compiler-written depfile. See depfile.h.
 */
#include <string.h>

#include "cc/args.h"
#include "cc/depfile.h"
#include "util/error.h"
#include "util/path.h"

/* Depfiles of real programs are a few KB; this is far past any. */
#define DEPFILE_LIMIT (64u * 1024 * 1024)

static void replace_suffix(struct cpgo_buf *b, size_t base_at)
{
	char *dot = strrchr(b->buf + base_at, '.');

	if (dot) {
		b->len = (size_t)(dot - b->buf);
		b->buf[b->len] = '\0';
	}
}

int cpgo_cc_depfile_path(const struct cpgo_cc_cmd *cmd, struct cpgo_buf *out)
{
	const char *mf = NULL, *o = NULL, *src = NULL;
	int md = 0;

	if (cmd->action != CPGO_CC_COMPILE || cmd->n_sources != 1)
		return 0;
	for (size_t i = 0; i < cmd->args.n; i++) {
		const char *a = cmd->args.v[i];
		if (!strcmp(a, "-MD") || !strcmp(a, "-MMD"))
			md = 1;
		else if (!strcmp(a, "-MF") && i + 1 < cmd->args.n)
			mf = cmd->args.v[++i];
		else if (!strncmp(a, "-MF", 3))
			mf = a + 3;
		else if (!strcmp(a, "-o") && i + 1 < cmd->args.n)
			o = cmd->args.v[++i];
		else if (!strncmp(a, "-o", 2))
			o = a + 2;
		else if (cpgo_cc_arg_takes_value(a))
			i++;
	}
	if (!md)
		return 0;
	for (size_t k = 0; k < cmd->n_inputs; k++)
		if (cmd->inputs[k].lang == CPGO_CC_LANG_C)
			src = cmd->args.v[cmd->inputs[k].arg];
	cpgo_buf_reset(out);
	if (mf)
		return cpgo_buf_adds(out, mf) < 0 ? -1 : 1;
	if (o) {
		const char *base = cpgo_path_basename(o);
		if (cpgo_buf_adds(out, o) < 0)
			return -1;
		replace_suffix(out, (size_t)(base - o));
	} else {
		if (!src || cpgo_buf_adds(out, cpgo_path_basename(src)) < 0)
			return -1;
		replace_suffix(out, 0);
	}
	return cpgo_buf_adds(out, ".d") < 0 ? -1 : 1;
}

int cpgo_cc_depfile_add(const char *depfile, const char *profile_abs)
{
	struct cpgo_buf d = CPGO_BUF_INIT;
	size_t t;
	int ret = -1;

	if (cpgo_read_file(depfile, &d, DEPFILE_LIMIT) < 0)
		goto cleanup;
	/* The target ends at the first ':' before blank or end of line (not a "C:" drive). */
	for (t = 0; t < d.len; t++)
		if (d.buf[t] == ':' && (t + 1 == d.len || d.buf[t + 1] == ' ' || d.buf[t + 1] == '\n' ||
					d.buf[t + 1] == '\t'))
			break;
	if (!t || t == d.len) {
		ret = error("%s: no target in the depfile", depfile);
		goto cleanup;
	}
	if (d.len && d.buf[d.len - 1] != '\n' && cpgo_buf_adds(&d, "\n") < 0)
		goto cleanup;
	{
		size_t end = d.len;
		/* The target text is copied from the start of the file: the buffer may move. */
		if (cpgo_buf_grow(&d, t + strlen(profile_abs) * 2 + 8) < 0)
			goto cleanup;
		memcpy(d.buf + end, d.buf, t);
		d.len = end + t;
		d.buf[d.len] = '\0';
	}
	if (cpgo_buf_addf(&d, ": %s\n%s:\n", profile_abs, profile_abs) < 0 ||
	    cpgo_write_file_atomic(depfile, d.buf, d.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&d);
	return ret;
}
