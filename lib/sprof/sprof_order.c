/*
 * The orderings of LLVM's containers (std::map by LineLocation, call targets
 * by count then name, top-level profiles by total then name), so that the
 * writers reproduce llvm-profdata-19's output byte for byte.
 */
#include "sprof_int.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static int cmp_rec(const void *a, const void *b, void *arg)
{
	const struct sprof_model *c = arg;
	const struct sprof_rec *x = &c->rec[*(const size_t *)a], *y = &c->rec[*(const size_t *)b];
	if (x->fs != y->fs)
		return x->fs < y->fs ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->disc < y->disc ? -1 : x->disc > y->disc;
}

static int cmp_tgt(const void *a, const void *b, void *arg)
{
	const struct sprof_model *c = arg;
	const struct sprof_tgt *x = &c->tgt[*(const size_t *)a], *y = &c->tgt[*(const size_t *)b];
	if (x->rec != y->rec)
		return x->rec < y->rec ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1; /* SampleRecord::CallTargetComparator */
	return strcmp(c->names[x->name], c->names[y->name]);
}

static int cmp_child(const void *a, const void *b, void *arg)
{
	const struct sprof_model *c = arg;
	const struct sprof_fs *x = &c->fs[*(const size_t *)a], *y = &c->fs[*(const size_t *)b];
	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->disc != y->disc)
		return x->disc < y->disc ? -1 : 1;
	return strcmp(c->names[x->name], c->names[y->name]);
}

static int cmp_top(const void *a, const void *b, void *arg)
{
	const struct sprof_model *c = arg;
	const struct sprof_fs *x = &c->fs[*(const size_t *)a], *y = &c->fs[*(const size_t *)b];
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1; /* sortFuncProfiles */
	return strcmp(c->names[x->name], c->names[y->name]);
}

int sprof_model_order(struct sprof_model *c)
{
	size_t n_child = 0;

	c->rec_order = malloc((c->n_rec + 1) * sizeof(size_t));
	c->tgt_order = malloc((c->n_tgt + 1) * sizeof(size_t));
	c->child_order = malloc((c->n_fs + 1) * sizeof(size_t));
	c->top_order = malloc((c->n_fs + 1) * sizeof(size_t));
	if (!c->rec_order || !c->tgt_order || !c->child_order || !c->top_order)
		return error("%s: out of memory", c->pname);
	c->n_top = 0;
	for (size_t i = 0; i < c->n_rec; i++)
		c->rec_order[i] = i;
	for (size_t i = 0; i < c->n_tgt; i++)
		c->tgt_order[i] = i;
	for (size_t i = 0; i < c->n_fs; i++) {
		c->fs[i].n_rec = c->fs[i].n_child = 0;
		if (c->fs[i].parent == SPROF_NO_PARENT) {
			if (!c->fs[i].dropped)
				c->top_order[c->n_top++] = i;
		}
		else
			c->child_order[n_child++] = i;
	}
	for (size_t i = 0; i < c->n_rec; i++)
		c->rec[i].n_tgt = 0;
	qsort_r(c->rec_order, c->n_rec, sizeof(size_t), cmp_rec, c);
	qsort_r(c->tgt_order, c->n_tgt, sizeof(size_t), cmp_tgt, c);
	qsort_r(c->child_order, n_child, sizeof(size_t), cmp_child, c);
	qsort_r(c->top_order, c->n_top, sizeof(size_t), cmp_top, c);
	for (size_t i = c->n_rec; i-- > 0;) {
		struct sprof_fs *f = &c->fs[c->rec[c->rec_order[i]].fs];
		f->rec_first = i;
		f->n_rec++;
	}
	for (size_t i = c->n_tgt; i-- > 0;) {
		struct sprof_rec *r = &c->rec[c->tgt[c->tgt_order[i]].rec];
		r->tgt_first = i;
		r->n_tgt++;
	}
	for (size_t i = n_child; i-- > 0;) {
		struct sprof_fs *f = &c->fs[c->fs[c->child_order[i]].parent];
		f->child_first = i;
		f->n_child++;
	}
	c->n_child = n_child;
	return 0;
}
