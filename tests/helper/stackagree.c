/*
 * Test helper for t1006: how far the stacks of profile B agree with those
 * of profile A. A stack is the leaf's function, then each caller's
 * function and call line (inline frames included; the leaf's own line is
 * left out: two builds' leaf instructions need not line up), from the leaf
 * to the ROOT function (the frames outside it are the C library's start-up
 * code, which the two unwinders end differently). Frames in objects other
 * than the named ones are left out; frames without an object ([kernel],
 * [truncated]) are kept.
 *
 *   stackagree A.pprof B.pprof ROOT OBJECT...
 * prints "agree PCT whole PCT samples N stacks S maxdepth D": agree is the
 * share of B's samples whose every caller edge (callee function, caller
 * function and line) and whose root frame A also has; whole, the share of
 * B's samples whose whole stack is one of A's. Exit 2 on bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pprof/profile.h"
#include "util/buf.h"
#include "util/error.h"

struct keys {
	char **v;
	size_t n, alloc;
};

static int keep_mapping(const struct cpgo_profile *p, uint64_t mid, char **objs, int n_objs)
{
	const struct cpgo_mapping *m;
	const char *f, *base;

	if (!mid || !(m = cpgo_profile_mapping(p, mid)))
		return 1;
	f = cpgo_profile_str(p, m->filename);
	base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
	for (int i = 0; i < n_objs; i++)
		if (!strcmp(base, objs[i]))
			return 1;
	return 0;
}

static const char *root;

/* The key of sample i, frames separated by ';'; *depth gets the number of frames it kept. */
static char *sample_key(const struct cpgo_profile *p, size_t i, char **objs, int n_objs,
			size_t *depth)
{
	const struct cpgo_sample *s = &p->samples[i];
	struct cpgo_buf b = CPGO_BUF_INIT;
	int leaf = 1, at_root = 0;

	*depth = 0;
	for (size_t k = 0; k < s->n_loc && !at_root; k++) {
		const struct cpgo_location *loc = cpgo_profile_location(p, p->sample_locs[s->loc_off + k]);
		if (!loc || !keep_mapping(p, loc->mapping_id, objs, n_objs))
			continue;
		for (size_t j = 0; j < loc->n_line; j++) {
			const struct cpgo_line *l = &p->lines[loc->line_off + j];
			const struct cpgo_function *f = cpgo_profile_function(p, l->function_id);
			char tmp[64];
			const char *name = f ? cpgo_profile_str(p, f->name) : "?";
			at_root |= !strcmp(name, root);
			cpgo_buf_adds(&b, name);
			snprintf(tmp, sizeof(tmp), leaf ? ";" : ":%lld;", (long long)l->line);
			cpgo_buf_adds(&b, tmp);
			/* Under [kernel] the first user frame is where the thread entered it: a leaf line. */
			leaf = cpgo_is_kernel_frame(name);
			(*depth)++;
		}
		if (!loc->n_line) {
			cpgo_buf_adds(&b, "?;");
			leaf = 0;
			(*depth)++;
		}
	}
	cpgo_buf_adds(&b, "");
	return cpgo_buf_detach(&b, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds key's edges ("callee>caller:line") and its root ("^frame") to e. */
static int add_edges(struct keys *e, const char *key)
{
	const char *p = key, *semi;
	char prev[512] = "";

	while ((semi = strchr(p, ';'))) {
		char frame[512], *colon, edge[1100];
		size_t len = (size_t)(semi - p) < sizeof(frame) - 1 ? (size_t)(semi - p) : sizeof(frame) - 1;
		memcpy(frame, p, len);
		frame[len] = '\0';
		if (prev[0]) {
			snprintf(edge, sizeof(edge), "%s>%s", prev, frame);
			if (CPGO_GROW(e->v, e->alloc, e->n + 1) < 0 || !(e->v[e->n++] = strdup(edge)))
				return -1;
		}
		snprintf(prev, sizeof(prev), "%s", frame);
		if ((colon = strchr(prev, ':')))
			*colon = '\0';
		p = semi + 1;
		if (!*p) {
			snprintf(edge, sizeof(edge), "^%s", frame);
			if (CPGO_GROW(e->v, e->alloc, e->n + 1) < 0 || !(e->v[e->n++] = strdup(edge)))
				return -1;
		}
	}
	return 0;
}

static int has(const struct keys *k, const char *s)
{
	return bsearch(&s, k->v, k->n, sizeof(*k->v), cmp_str) != NULL;
}

int main(int argc, char **argv)
{
	struct cpgo_profile a, b;
	struct keys ka = { 0 }, ea = { 0 }, eb;
	double agree = 0, whole = 0, total = 0;
	size_t distinct = 0, maxdepth = 0, depth;
	int va, vb;

	if (argc < 5 || cpgo_profile_read(&a, argv[1], NULL) < 0 ||
	    cpgo_profile_read(&b, argv[2], NULL) < 0 || cpgo_profile_index(&a) < 0 ||
	    cpgo_profile_index(&b) < 0) {
		fprintf(stderr, "usage: stackagree A.pprof B.pprof ROOT OBJECT... (%s)\n", cpgo_last_error());
		return 2;
	}
	root = argv[3];
	va = cpgo_profile_cpu_index(&a, argv[1]);
	vb = cpgo_profile_cpu_index(&b, argv[2]);
	if (va < 0 || vb < 0)
		return 2;
	for (size_t i = 0; i < a.n_sample; i++) {
		if (CPGO_GROW(ka.v, ka.alloc, ka.n + 1) < 0)
			return 2;
		ka.v[ka.n] = sample_key(&a, i, argv + 4, argc - 4, &depth);
		if (add_edges(&ea, ka.v[ka.n++]) < 0)
			return 2;
	}
	qsort(ka.v, ka.n, sizeof(*ka.v), cmp_str);
	qsort(ea.v, ea.n, sizeof(*ea.v), cmp_str);
	for (size_t i = 0; i < b.n_sample; i++) {
		char *k = sample_key(&b, i, argv + 4, argc - 4, &depth);
		double v = (double)cpgo_sample_values(&b, i)[vb];
		int ok = 1;

		memset(&eb, 0, sizeof(eb));
		if (add_edges(&eb, k) < 0)
			return 2;
		for (size_t j = 0; j < eb.n; j++) {
			ok &= has(&ea, eb.v[j]);
			free(eb.v[j]);
		}
		free(eb.v);
		total += v;
		agree += ok ? v : 0;
		whole += has(&ka, k) ? v : 0;
		if (!ok && getenv("STACKAGREE_VERBOSE"))
			fprintf(stderr, "disagrees (%.0f): %s\n", v, k);
		distinct++;
		if (depth > maxdepth)
			maxdepth = depth;
		free(k);
	}
	printf("agree %.2f whole %.2f samples %.0f stacks %zu maxdepth %zu\n",
	       total > 0 ? 100.0 * agree / total : 0.0, total > 0 ? 100.0 * whole / total : 0.0,
	       total, distinct, maxdepth);
	return 0;
}
