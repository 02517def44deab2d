/*
 * LLVM's ext-binary sample format (SampleProfileWriterExtBinary with the
 * default section layout, version 103), what llvm-profdata writes by
 * default; the summary is SampleProfileSummaryBuilder's.
 */
#include "llvmprof_int.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

/* LLVM 19: SampleProf.h */
#define SPF_EXT_BINARY 0x4
#define SP_VERSION 103
#define SEC_PROF_SUMMARY 1
#define SEC_NAME_TABLE 2
#define SEC_PROFILE_SYMBOL_LIST 3
#define SEC_FUNC_OFFSET_TABLE 4
#define SEC_FUNC_METADATA 5
#define SEC_CS_NAME_TABLE 6
#define SEC_LBR_PROFILE 32
/* Section-specific flags live in the upper 32 bits (addSecFlag). */
#define SEC_FLAG_UNIQ_SUFFIX ((uint64_t)(1 << 2) << 32) /* SecNameTableFlags */
#define SEC_FLAG_IS_PREINLINED ((uint64_t)(1 << 4) << 32) /* SecProfSummaryFlags */
#define SEC_FLAG_HAS_ATTRIBUTE ((uint64_t)(1 << 1) << 32) /* SecFuncMetadataFlags */

/* ProfileSummaryBuilder::DefaultCutoffs */
static const uint32_t summary_cutoffs[] = {
	10000, 100000, 200000, 300000, 400000, 500000, 600000, 700000,
	800000, 900000, 950000, 990000, 999000, 999900, 999990, 999999,
};

static int uleb(struct cpgo_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return cpgo_buf_add(b, tmp, n);
}

static int u64le(struct cpgo_buf *b, uint64_t v)
{
	unsigned char tmp[8];
	for (int i = 0; i < 8; i++)
		tmp[i] = (unsigned char)(v >> (8 * i));
	return cpgo_buf_add(b, tmp, 8);
}

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

/* SampleProfileSummaryBuilder over every body record, then the detailed summary. */
int lp_write_summary(const struct sprof_model *c, struct cpgo_buf *b)
{
	uint64_t *counts = malloc((c->n_rec + 1) * sizeof(*counts));
	uint64_t total = 0, max = 0, max_head = 0;
	size_t it = 0;
	uint64_t cur_sum = 0, count = 0, seen = 0;
	int ret = -1;

	if (!counts)
		return error("%s: out of memory", c->pname);
	for (size_t i = 0; i < c->n_rec; i++) {
		counts[i] = c->rec[i].samples;
		total = sprof_sat_add(total, counts[i]);
		if (counts[i] > max)
			max = counts[i];
	}
	for (size_t i = 0; i < c->n_top; i++)
		if (c->fs[c->top_order[i]].head > max_head)
			max_head = c->fs[c->top_order[i]].head;
	if (c->n_rec)
		qsort(counts, c->n_rec, sizeof(*counts), cmp_u64_desc);
	if (uleb(b, total) < 0 || uleb(b, max) < 0 || uleb(b, max_head) < 0 ||
	    uleb(b, c->n_rec) < 0 || uleb(b, c->n_top) < 0 ||
	    uleb(b, sizeof(summary_cutoffs) / sizeof(summary_cutoffs[0])) < 0)
		goto cleanup;
	for (size_t k = 0; k < sizeof(summary_cutoffs) / sizeof(summary_cutoffs[0]); k++) {
		uint64_t desired = (uint64_t)((unsigned __int128)total * summary_cutoffs[k] / 1000000);
		/* CountFrequencies walks distinct counts: a whole run of equal counts at once. */
		while (cur_sum < desired && it < c->n_rec) {
			count = counts[it];
			while (it < c->n_rec && counts[it] == count) {
				cur_sum = sprof_sat_add(cur_sum, count);
				seen++;
				it++;
			}
		}
		if (uleb(b, summary_cutoffs[k]) < 0 || uleb(b, count) < 0 || uleb(b, seen) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	free(counts);
	return ret;
}

static int write_bin_body(const struct sprof_model *c, size_t fi, const uint32_t *idx,
			  struct cpgo_buf *b)
{
	const struct sprof_fs *f = &c->fs[fi];

	if (uleb(b, idx[f->name]) < 0 || uleb(b, f->total) < 0 || uleb(b, f->n_rec) < 0)
		return -1;
	for (size_t i = 0; i < f->n_rec; i++) {
		const struct sprof_rec *r = &c->rec[c->rec_order[f->rec_first + i]];
		if (uleb(b, r->off) < 0 || uleb(b, r->disc) < 0 || uleb(b, r->samples) < 0 ||
		    uleb(b, r->n_tgt) < 0)
			return -1;
		for (size_t t = 0; t < r->n_tgt; t++) {
			const struct sprof_tgt *g = &c->tgt[c->tgt_order[r->tgt_first + t]];
			if (uleb(b, idx[g->name]) < 0 || uleb(b, g->count) < 0)
				return -1;
		}
	}
	if (uleb(b, f->n_child) < 0)
		return -1;
	for (size_t i = 0; i < f->n_child; i++) {
		size_t ci = c->child_order[f->child_first + i];
		if (uleb(b, c->fs[ci].off) < 0 || uleb(b, c->fs[ci].disc) < 0 ||
		    write_bin_body(c, ci, idx, b) < 0)
			return -1;
	}
	return 0;
}

/*
 * SampleProfileWriterExtBinaryBase::writeFuncMetadata for a non-CS,
 * non-probe profile with attributes: the context's attributes, then every
 * inline instance's call site, name and metadata, recursively.
 */
static int write_meta(const struct sprof_model *c, size_t fi, const uint32_t *idx,
		      struct cpgo_buf *b)
{
	const struct sprof_fs *f = &c->fs[fi];

	if (uleb(b, f->attr) < 0 || uleb(b, f->n_child) < 0)
		return -1;
	for (size_t i = 0; i < f->n_child; i++) {
		size_t ci = c->child_order[f->child_first + i];
		if (uleb(b, c->fs[ci].off) < 0 || uleb(b, c->fs[ci].disc) < 0 ||
		    uleb(b, idx[c->fs[ci].name]) < 0 || write_meta(c, ci, idx, b) < 0)
			return -1;
	}
	return 0;
}

static int cmp_name_id(const void *a, const void *b, void *arg)
{
	const struct sprof_model *c = arg;
	return strcmp(c->names[*(const uint32_t *)a], c->names[*(const uint32_t *)b]);
}

int lp_write_ext_binary(const struct sprof_model *c, const struct cpgo_buf *summary,
			struct cpgo_buf *out)
{
	enum { S_SUMMARY, S_NAMES, S_CSNAMES, S_OFFSETS, S_LBR, S_PSL, S_META, N_SEC };
	static const uint64_t sec_type[N_SEC] = { SEC_PROF_SUMMARY,      SEC_NAME_TABLE,
						  SEC_CS_NAME_TABLE,     SEC_FUNC_OFFSET_TABLE,
						  SEC_LBR_PROFILE,       SEC_PROFILE_SYMBOL_LIST,
						  SEC_FUNC_METADATA };
	/* File order: the offset table follows the profiles it points into. */
	static const int file_order[N_SEC] = { S_SUMMARY, S_NAMES, S_CSNAMES, S_LBR,
					       S_PSL,     S_OFFSETS, S_META };
	struct cpgo_buf sec[N_SEC];
	uint64_t flags[N_SEC] = { 0 }, off[N_SEC], pos;
	char *used = calloc(c->n_names + 1, 1);
	uint32_t *ids = malloc((c->n_names + 1) * sizeof(*ids));
	uint32_t *idx = calloc(c->n_names + 1, sizeof(*idx));
	size_t n_used = 0;
	struct cpgo_buf hdr = CPGO_BUF_INIT;
	int ret = -1;

	for (int i = 0; i < N_SEC; i++)
		cpgo_buf_init(&sec[i]);
	if (!used || !ids || !idx) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->n_fs; i++)
		used[c->fs[i].name] = 1;
	for (size_t i = 0; i < c->n_tgt; i++)
		used[c->tgt[i].name] = 1;
	for (size_t i = 0; i < c->n_names; i++)
		if (used[i])
			ids[n_used++] = (uint32_t)i;
	if (n_used)
		qsort_r(ids, n_used, sizeof(*ids), cmp_name_id, (void *)c);
	if ((summary && summary->len
		     ? cpgo_buf_add(&sec[S_SUMMARY], summary->buf, summary->len)
		     : lp_write_summary(c, &sec[S_SUMMARY])) < 0 ||
	    uleb(&sec[S_NAMES], n_used) < 0)
		goto cleanup;
	for (size_t i = 0; i < n_used; i++) {
		idx[ids[i]] = (uint32_t)i;
		if (cpgo_buf_add(&sec[S_NAMES], c->names[ids[i]], strlen(c->names[ids[i]]) + 1) < 0)
			goto cleanup;
		/* Tells clang not to strip the suffix when it matches names. */
		if (strstr(c->names[ids[i]], ".__uniq."))
			flags[S_NAMES] |= SEC_FLAG_UNIQ_SUFFIX;
	}
	if (uleb(&sec[S_CSNAMES], 0) < 0 || uleb(&sec[S_OFFSETS], c->n_top) < 0)
		goto cleanup;
	for (size_t i = 0; i < c->n_top; i++) {
		size_t fi = c->top_order[i];
		if (uleb(&sec[S_OFFSETS], idx[c->fs[fi].name]) < 0 ||
		    uleb(&sec[S_OFFSETS], sec[S_LBR].len) < 0 || uleb(&sec[S_LBR], c->fs[fi].head) < 0 ||
		    write_bin_body(c, fi, idx, &sec[S_LBR]) < 0)
			goto cleanup;
	}
	if (c->preinlined) {
		flags[S_SUMMARY] |= SEC_FLAG_IS_PREINLINED;
		flags[S_META] |= SEC_FLAG_HAS_ATTRIBUTE;
		for (size_t i = 0; i < c->n_top; i++)
			if (uleb(&sec[S_META], idx[c->fs[c->top_order[i]].name]) < 0 ||
			    write_meta(c, c->top_order[i], idx, &sec[S_META]) < 0)
				goto cleanup;
	}
	for (size_t i = 0; i < c->n_psl; i++)
		if (cpgo_buf_add(&sec[S_PSL], c->psl[i], strlen(c->psl[i]) + 1) < 0)
			goto cleanup;
	if (uleb(&hdr, ((uint64_t)'S' << 56) | ((uint64_t)'P' << 48) | ((uint64_t)'R' << 40) |
			       ((uint64_t)'O' << 32) | ((uint64_t)'F' << 24) | ((uint64_t)'4' << 16) |
			       ((uint64_t)'2' << 8) | SPF_EXT_BINARY) < 0 ||
	    uleb(&hdr, SP_VERSION) < 0 || u64le(&hdr, N_SEC) < 0)
		goto cleanup;
	pos = hdr.len + N_SEC * 32;
	for (int i = 0; i < N_SEC; i++) {
		off[file_order[i]] = pos;
		pos += sec[file_order[i]].len;
	}
	for (int i = 0; i < N_SEC; i++)
		if (u64le(&hdr, sec_type[i]) < 0 || u64le(&hdr, flags[i]) < 0 ||
		    u64le(&hdr, off[i]) < 0 || u64le(&hdr, sec[i].len) < 0)
			goto cleanup;
	if (cpgo_buf_add(out, hdr.buf, hdr.len) < 0)
		goto cleanup;
	for (int i = 0; i < N_SEC; i++)
		if (cpgo_buf_add(out, sec[file_order[i]].buf, sec[file_order[i]].len) < 0)
			goto cleanup;
	ret = 0;
cleanup:
	for (int i = 0; i < N_SEC; i++)
		cpgo_buf_release(&sec[i]);
	cpgo_buf_release(&hdr);
	free(used);
	free(ids);
	free(idx);
	return ret;
}

