/* The LLVM text sample format (SampleProfileWriterText), for reading and tests. */
#include "llvmprof_int.h"

#include <inttypes.h>

static int put_loc(struct cpgo_buf *out, int indent, uint32_t off, uint32_t disc)
{
	if (cpgo_buf_addf(out, "%*s%" PRIu32, indent, "", off) < 0)
		return -1;
	return disc ? cpgo_buf_addf(out, ".%" PRIu32, disc) : 0;
}

static int write_text_fs(const struct sprof_model *c, size_t fi, int indent, struct cpgo_buf *out)
{
	const struct sprof_fs *f = &c->fs[fi];

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
