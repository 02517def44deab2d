/*
 * gcc's AutoFDO writer over the ordered model (the layout is in gccprof.h).
 * The string table holds every name a function instance or a call target
 * uses, in the order they are first met, so the file is a function of the
 * model alone. Index 0 is an empty name no function has: gcc's
 * string_table::get_name asserts index > 0 when it looks up the callee of
 * an indirect call, so no name a target or call site refers to may be 0.
 */
#include "gccprof.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

struct gw {
	const struct sprof_model *m;
	struct cpgo_buf *out;
	int64_t *index; /* per model name: its string-table index, -1 = not used */
	uint32_t n_strings;
};

static int put_u32(struct cpgo_buf *out, uint32_t v)
{
	return cpgo_buf_add(out, &v, sizeof(v));
}

/* gcov_write_counter: the low word first; gcc holds counts as signed 64-bit. */
static int put_count(struct cpgo_buf *out, uint64_t v)
{
	if (v > INT64_MAX)
		v = INT64_MAX;
	return put_u32(out, (uint32_t)v) < 0 ? -1 : put_u32(out, (uint32_t)(v >> 32));
}

/* Fills in a section's byte length once its payload is written. */
static int end_section(struct cpgo_buf *out, size_t len_at)
{
	size_t n = out->len - len_at - sizeof(uint32_t);
	uint32_t v;

	if (n > UINT32_MAX)
		return error("AutoFDO section of %zu bytes is too large for gcc", n);
	v = (uint32_t)n;
	memcpy(out->buf + len_at, &v, sizeof(v));
	return 0;
}


static void use_name(struct gw *w, uint32_t name)
{
	if (w->index[name] < 0)
		w->index[name] = w->n_strings++;
}

static void collect_names(struct gw *w, size_t fi)
{
	const struct sprof_model *m = w->m;
	const struct sprof_fs *f = &m->fs[fi];

	use_name(w, f->name);
	for (size_t i = 0; i < f->n_rec; i++) {
		const struct sprof_rec *r = &m->rec[m->rec_order[f->rec_first + i]];
		for (size_t t = 0; t < r->n_tgt; t++)
			use_name(w, m->tgt[m->tgt_order[r->tgt_first + t]].name);
	}
	for (size_t i = 0; i < f->n_child; i++)
		collect_names(w, m->child_order[f->child_first + i]);
}

static uint32_t position(uint32_t off, uint32_t disc)
{
	return (off & 0xffff) << 16 | (disc & 0xffff);
}

static int write_instance(struct gw *w, size_t fi)
{
	const struct sprof_model *m = w->m;
	const struct sprof_fs *f = &m->fs[fi];
	struct cpgo_buf *out = w->out;
	size_t n_child = f->n_child;

	if (put_u32(out, (uint32_t)w->index[f->name]) < 0 || put_u32(out, (uint32_t)f->n_rec) < 0 ||
	    put_u32(out, (uint32_t)n_child) < 0)
		return -1;
	for (size_t i = 0; i < f->n_rec; i++) {
		const struct sprof_rec *r = &m->rec[m->rec_order[f->rec_first + i]];
		if (put_u32(out, position(r->off, r->disc)) < 0 || put_u32(out, (uint32_t)r->n_tgt) < 0 ||
		    put_count(out, r->samples) < 0)
			return -1;
		for (size_t t = 0; t < r->n_tgt; t++) {
			const struct sprof_tgt *g = &m->tgt[m->tgt_order[r->tgt_first + t]];
			if (put_u32(out, GCCPROF_HIST_INDIR_CALL) < 0 ||
			    put_count(out, (uint64_t)w->index[g->name]) < 0 || put_count(out, g->count) < 0)
				return -1;
		}
	}
	for (size_t i = 0; i < f->n_child; i++) {
		size_t ci = m->child_order[f->child_first + i];
		if (put_u32(out, position(m->fs[ci].off, m->fs[ci].disc)) < 0 || write_instance(w, ci) < 0)
			return -1;
	}
	return 0;
}

int gccprof_write(const struct sprof_model *m, struct cpgo_buf *out)
{
	struct gw w = { .m = m, .out = out, .n_strings = 1 };
	size_t len_at;
	int ret = -1;

	if (m->n_names > UINT32_MAX || m->n_top > UINT32_MAX)
		return error("%s: too many functions for an AutoFDO profile", m->pname);
	if (!(w.index = malloc((m->n_names ? m->n_names : 1) * sizeof(*w.index))))
		return error("%s: out of memory", m->pname);
	for (size_t i = 0; i < m->n_names; i++)
		w.index[i] = -1;
	for (size_t i = 0; i < m->n_top; i++)
		collect_names(&w, m->top_order[i]);

	if (put_u32(out, GCCPROF_MAGIC) < 0 || put_u32(out, GCCPROF_VERSION) < 0 || put_u32(out, 0) < 0)
		goto cleanup;

	/* gcov_write_string of gcc 12: the byte length with the NUL, then the bytes. */
	if (put_u32(out, GCCPROF_TAG_NAMES) < 0)
		goto cleanup;
	len_at = out->len;
	if (put_u32(out, 0) < 0 || put_u32(out, w.n_strings) < 0)
		goto cleanup;
	{
		/* In index order: each name once, where it was first used. */
		const char **by_index = calloc(w.n_strings ? w.n_strings : 1, sizeof(*by_index));
		int bad = !by_index;
		if (by_index)
			by_index[0] = "";
		for (size_t i = 0; !bad && i < m->n_names; i++)
			if (w.index[i] >= 0)
				by_index[w.index[i]] = m->names[i];
		for (uint32_t i = 0; !bad && i < w.n_strings; i++) {
			size_t n = strlen(by_index[i]) + 1;
			bad = n > UINT32_MAX || put_u32(out, (uint32_t)n) < 0 ||
			      cpgo_buf_add(out, by_index[i], n) < 0;
		}
		free(by_index);
		if (bad) {
			error("%s: out of memory writing the AutoFDO string table", m->pname);
			goto cleanup;
		}
	}
	if (end_section(out, len_at) < 0)
		goto cleanup;

	if (put_u32(out, GCCPROF_TAG_FUNCTIONS) < 0)
		goto cleanup;
	len_at = out->len;
	if (put_u32(out, 0) < 0 || put_u32(out, (uint32_t)m->n_top) < 0)
		goto cleanup;
	for (size_t i = 0; i < m->n_top; i++) {
		size_t fi = m->top_order[i];
		if (put_count(out, m->fs[fi].head) < 0 || write_instance(&w, fi) < 0)
			goto cleanup;
	}
	if (end_section(out, len_at) < 0)
		goto cleanup;

	/* gcc asserts that there are no modules (LIPO is gone). */
	if (put_u32(out, GCCPROF_TAG_MODULES) < 0 || put_u32(out, sizeof(uint32_t)) < 0 ||
	    put_u32(out, 0) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(w.index);
	return ret;
}
