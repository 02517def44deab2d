/* The LLVM text sample format (SampleProfileWriterText), for reading and tests. */
#include "llvmprof_int.h"

#include "util/error.h"

#include <inttypes.h>
#include <string.h>

enum name_use { NAME_FUNCTION, NAME_CALLSITE, NAME_TARGET };

/*
 * Whether LLVM's text reader (SampleProfileReaderText) reads `name` back
 * as written, where it is used. A hostile profile can hold any name; the
 * ext-binary format stores every one of them, the text format cannot.
 */
static const char *text_name_problem(const char *name, enum name_use use)
{
	if (strpbrk(name, "\n\r"))
		return "it holds a line break";
	if (use == NAME_FUNCTION && (name[0] == ' ' || name[0] == '#'))
		return "a line starting with a blank or '#' is not a function header";
	if (use == NAME_CALLSITE && name[0] >= '0' && name[0] <= '9')
		return "an inlined function's name starting with a digit reads as a line count";
	if (use == NAME_TARGET) {
		if (!name[0] || name[0] == ' ' || name[0] == ':')
			return "a call target's name is empty or starts with a blank or ':'";
		/* The reader anchors each target at ':' + digits + blank or end. */
		for (const char *c = strchr(name, ':'); c; c = strchr(c + 1, ':')) {
			size_t d = strspn(c + 1, "0123456789");
			if (d && (c[1 + d] == ' ' || !c[1 + d]))
				return "a call target's name holds ':' and a number";
		}
	}
	return NULL;
}

static int check_name(const struct sprof_model *c, const char *name, enum name_use use)
{
	const char *why = text_name_problem(name, use);

	if (why)
		return error("%s: the function name '%.*s%s' cannot be written in LLVM's text "
			     "format (%s); write the ext-binary format (without --text)",
			     c->pname, 40, name, strlen(name) > 40 ? "..." : "", why);
	return 0;
}

static int put_loc(struct cpgo_buf *out, int indent, uint32_t off, uint32_t disc)
{
	if (cpgo_buf_addf(out, "%*s%" PRIu32, indent, "", off) < 0)
		return -1;
	return disc ? cpgo_buf_addf(out, ".%" PRIu32, disc) : 0;
}

static int write_text_fs(const struct sprof_model *c, size_t fi, int indent, struct cpgo_buf *out)
{
	const struct sprof_fs *f = &c->fs[fi];

	if (check_name(c, c->names[f->name], indent ? NAME_CALLSITE : NAME_FUNCTION) < 0)
		return -1;
	if (cpgo_buf_addf(out, "%s:%" PRIu64, c->names[f->name], f->total) < 0)
		return -1;
	if (!indent && cpgo_buf_addf(out, ":%" PRIu64, f->head) < 0)
		return -1;
	if (cpgo_buf_adds(out, "\n") < 0)
		return -1;
	for (size_t i = 0; i < f->n_rec; i++) {
		const struct sprof_rec *r = &c->rec[c->rec_order[f->rec_first + i]];
		if (put_loc(out, indent + 1, r->off, r->disc) < 0 ||
		    cpgo_buf_addf(out, ": %" PRIu64, r->samples) < 0)
			return -1;
		for (size_t t = 0; t < r->n_tgt; t++) {
			const struct sprof_tgt *g = &c->tgt[c->tgt_order[r->tgt_first + t]];
			if (check_name(c, c->names[g->name], NAME_TARGET) < 0)
				return -1;
			if (cpgo_buf_addf(out, " %s:%" PRIu64, c->names[g->name], g->count) < 0)
				return -1;
		}
		if (cpgo_buf_adds(out, "\n") < 0)
			return -1;
	}
	for (size_t i = 0; i < f->n_child; i++) {
		size_t ci = c->child_order[f->child_first + i];
		if (put_loc(out, indent + 1, c->fs[ci].off, c->fs[ci].disc) < 0 ||
		    cpgo_buf_adds(out, ": ") < 0 || write_text_fs(c, ci, indent + 1, out) < 0)
			return -1;
	}
	return 0;
}

int lp_write_text(const struct sprof_model *m, struct cpgo_buf *out)
{
	for (size_t i = 0; i < m->n_top; i++)
		if (write_text_fs(m, m->top_order[i], 0, out) < 0)
			return -1;
	return 0;
}
