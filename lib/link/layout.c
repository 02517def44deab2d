/*
 * Function layout: call graph from stack samples, C3 clustering, and the
 * linker's ordering files (lib/link/layout.h).
 */
#include "link/layout.h"

#include <stdlib.h>
#include <string.h>

#include "pprof/profile.h"
#include "util/error.h"
#include "util/hash.h"

/* C3 merges clusters up to a page (i-TLB reach), as hfsort does. */
#define LAYOUT_PAGE_SIZE 4096
/* A caller's cluster takes a callee's only if its density drops at most this much. */
#define LAYOUT_CALLER_DEGRADE 8
/* The size assumed for a function when no binary tells (16 to a page). */
#define LAYOUT_DEFAULT_SIZE 256

void cpgo_layout_init(struct cpgo_layout *l)
{
	memset(l, 0, sizeof(*l));
	cpgo_hashmap_init(&l->node_map, "layout function");
	cpgo_hashmap_init(&l->edge_map, "layout edge");
	cpgo_hashmap_init(&l->pair_map, "layout stack pair");
}

void cpgo_layout_release(struct cpgo_layout *l)
{
	for (size_t i = 0; i < l->n_node; i++) {
		free(l->nodes[i].symbol);
		free(l->nodes[i].file);
	}
	free(l->nodes);
	free(l->edges);
	free(l->order);
	cpgo_hashmap_release(&l->node_map);
	cpgo_hashmap_release(&l->edge_map);
	free(l->pairs);
	cpgo_hashmap_release(&l->pair_map);
	cpgo_layout_init(l);
}

struct node_key {
	const char *symbol, *file;
};

static int node_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_layout *l = ctx;
	const struct node_key *k = key;
	return !strcmp(l->nodes[pos].symbol, k->symbol) && !strcmp(l->nodes[pos].file, k->file);
}

static size_t node_get_exact(struct cpgo_layout *l, const char *symbol, const char *file)
{
	struct node_key k = { symbol, file };
	uint32_t h = (uint32_t)cpgo_hash_fin(cpgo_hash_str(cpgo_hash_str(CPGO_HASH_SEED, symbol), file));
	struct cpgo_layout_node *n;
	size_t slot, pos;

	if (cpgo_hashmap_reserve(&l->node_map) < 0)
		return (size_t)-1;
	slot = cpgo_hashmap_find(&l->node_map, h, node_eq, l, &k);
	if (cpgo_hashmap_pos(&l->node_map, slot, &pos))
		return pos;
	if (CPGO_GROW(l->nodes, l->alloc_node, l->n_node + 1) < 0)
		return (size_t)-1;
	n = &l->nodes[l->n_node];
	memset(n, 0, sizeof(*n));
	n->symbol = strdup(symbol);
	n->file = strdup(file);
	if (!n->symbol || !n->file) {
		free(n->symbol);
		free(n->file);
		error("out of memory building the call graph");
		return (size_t)-1;
	}
	n->found = 1;
	if (cpgo_hashmap_set(&l->node_map, slot, h, l->n_node) < 0)
		return (size_t)-1;
	return l->n_node++;
}

/*
 * Length of `sym` without a `.cold` or `.cold.N` part: samples in the part a
 * build split out are the function's, and the next build, which sees them,
 * decides anew what is cold.
 */
static size_t without_cold(const char *sym)
{
	for (const char *c = strstr(sym, ".cold"); c; c = strstr(c + 1, ".cold"))
		if (c != sym && (!c[5] || c[5] == '.'))
			return (size_t)(c - sym);
	return strlen(sym);
}

/* Returns the node's position, or (size_t)-1 with error set. */
static size_t node_get(struct cpgo_layout *l, const char *name, const char *file)
{
	char *copy = NULL;
	size_t len = without_cold(name), ret;

	if (name[len]) {
		if (!(copy = strndup(name, len))) {
			error("out of memory building the call graph");
			return (size_t)-1;
		}
		name = copy;
	}
	ret = node_get_exact(l, name, file);
	free(copy);
	return ret;
}

struct edge_key {
	size_t caller, callee;
};

/* An edge array with its index: the layout's call edges, or its stack pairs. */
struct edge_set {
	struct cpgo_layout_edge **v;
	size_t *n, *alloc;
	struct cpgo_hashmap *map;
};

static int edge_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_layout_edge *v = ctx;
	const struct edge_key *k = key;
	return v[pos].caller == k->caller && v[pos].callee == k->callee;
}

static int set_add(struct edge_set es, size_t caller, size_t callee, uint64_t w)
{
	struct edge_key k = { caller, callee };
	uint32_t h = (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(CPGO_HASH_SEED, caller), callee));
	size_t slot, pos;

	if (cpgo_hashmap_reserve(es.map) < 0)
		return -1;
	slot = cpgo_hashmap_find(es.map, h, edge_eq, *es.v, &k);
	if (cpgo_hashmap_pos(es.map, slot, &pos)) {
		(*es.v)[pos].weight = cpgo_sat_add_u64((*es.v)[pos].weight, w);
		return 0;
	}
	if (CPGO_GROW(*es.v, *es.alloc, *es.n + 1) < 0)
		return -1;
	(*es.v)[*es.n] = (struct cpgo_layout_edge){ caller, callee, w };
	if (cpgo_hashmap_set(es.map, slot, h, *es.n) < 0)
		return -1;
	(*es.n)++;
	return 0;
}

static int edge_add(struct cpgo_layout *l, size_t caller, size_t callee, uint64_t w)
{
	struct edge_set es = { &l->edges, &l->n_edge, &l->alloc_edge, &l->edge_map };
	return set_add(es, caller, callee, w);
}

static int pair_add(struct cpgo_layout *l, size_t caller, size_t callee, uint64_t w)
{
	struct edge_set es = { &l->pairs, &l->n_pair, &l->alloc_pair, &l->pair_map };
	return set_add(es, caller, callee, w);
}

/* The function a location's code belongs to: its outermost (not inlined) frame. */
static const struct cpgo_function *outer_function(const struct cpgo_profile *p,
						  const struct cpgo_location *loc)
{
	if (!loc->n_line)
		return NULL;
	return cpgo_profile_function(p, p->lines[loc->line_off + loc->n_line - 1].function_id);
}

/* Node of the location with id `id` in the main mapping; (size_t)-2 when it is not placed. */
static size_t location_node(struct cpgo_layout *l, struct cpgo_profile *p, uint64_t id,
			    uint64_t main_mapping)
{
	const struct cpgo_location *loc = cpgo_profile_location(p, id);
	const struct cpgo_function *f;
	const char *sym;

	if (!loc || (main_mapping && loc->mapping_id != main_mapping))
		return (size_t)-2;
	f = outer_function(p, loc);
	if (!f)
		return (size_t)-2;
	sym = cpgo_profile_str(p, f->system_name);
	if (!*sym)
		sym = cpgo_profile_str(p, f->name);
	if (!*sym)
		return (size_t)-2;
	return node_get(l, sym, cpgo_profile_str(p, f->filename));
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static size_t stem_len(const char *sym)
{
	const char *dot = strchr(sym, '.');
	return dot && dot != sym ? (size_t)(dot - sym) : strlen(sym);
}

/*
 * The function's own name in a symbol, which the compiler's renamings keep:
 * the part before the first '.', and in the Itanium mangling clang gives C
 * statics under -funique-internal-linkage-names (_ZL4uniqi.__uniq.N) the
 * name inside it. Sets *start; returns the length.
 */
static size_t name_key(const char *sym, const char **start)
{
	size_t stem = stem_len(sym), n = 0, i = 3;

	*start = sym;
	if (strncmp(sym, "_ZL", 3))
		return stem;
	while (i < stem && sym[i] >= '0' && sym[i] <= '9' && n < stem)
		n = n * 10 + (size_t)(sym[i++] - '0');
	if (i == 3 || !n || i + n > stem)
		return stem;
	*start = sym + i;
	return n;
}

/* Orders keys as strings: by bytes, then the shorter first. */
static int cmp_key(const char *a, size_t la, const char *b, size_t lb)
{
	int c = strncmp(a, b, la < lb ? la : lb);
	return c ? c : (la > lb) - (la < lb);
}

/*
 * How well binary symbol `s` stands for a node: the exact name first, then
 * the compiler's renamings of the same function (unique internal linkage,
 * LTO promotion, clones); a `.cold` part is never placed with the hot code,
 * and a static of another file is not this one. Negative: not a match.
 */
static int match_score(const struct cpgo_layout_node *n, const struct cpgo_elfsym *s)
{
	const char *suffix = s->name + stem_len(s->name);
	int score;

	if (!strcmp(s->name, n->symbol))
		score = 30;
	else if (strstr(suffix, ".cold"))
		return -1;
	else if (!strncmp(suffix, ".__uniq.", 8) || !strncmp(suffix, ".llvm.", 6))
		score = 20;
	else
		score = 10; /* .part.N, .constprop.N, .isra.N, ... */
	if (s->is_local && *s->file && *n->file) {
		if (strcmp(base_name(s->file), base_name(n->file)))
			return -1;
		score += 5;
	}
	return score;
}

static int cmp_sym_stem(const void *a, const void *b, void *ctx)
{
	const struct cpgo_elfsyms *syms = ctx;
	const struct cpgo_elfsym *x = &syms->syms[*(const size_t *)a];
	const struct cpgo_elfsym *y = &syms->syms[*(const size_t *)b];
	const char *kx, *ky;
	size_t lx = name_key(x->name, &kx), ly = name_key(y->name, &ky);
	return cmp_key(kx, lx, ky, ly);
}

static void count_unknown(struct cpgo_layout *l)
{
	l->n_unknown = 0;
	l->samples_unknown = 0;
	for (size_t i = 0; i < l->n_node; i++) {
		if (!l->nodes[i].found) {
			l->n_unknown++;
			l->samples_unknown = cpgo_sat_add_u64(l->samples_unknown, l->nodes[i].self);
		}
	}
}

/*
 * A function the build inlined everywhere has no symbol: its code is in its
 * callers. Its samples go to its heaviest caller that has one (following
 * callers up while they are missing too), and so do its calls, so that
 * A -> B -> C with B inlined orders C next to A.
 */
static int fold_unknown(struct cpgo_layout *l)
{
	size_t n = l->n_node, n_edge = l->n_edge, *best = NULL, *rep = NULL;
	uint64_t *best_w = NULL;
	struct cpgo_layout_edge *old = l->edges;
	int ret = -1;

	best = malloc((n ? n : 1) * sizeof(*best));
	rep = malloc((n ? n : 1) * sizeof(*rep));
	best_w = calloc(n ? n : 1, sizeof(*best_w));
	if (!best || !rep || !best_w) {
		error("out of memory folding %zu functions", n);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		best[i] = (size_t)-1;
	for (size_t e = 0; e < l->n_pair; e++) {
		const struct cpgo_layout_edge *pr = &l->pairs[e];
		if (pr->weight > best_w[pr->callee]) {
			best_w[pr->callee] = pr->weight;
			best[pr->callee] = pr->caller;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t r = i, steps = 0;
		/* A recursive chain of missing functions ends somewhere: at most n steps. */
		while (r != (size_t)-1 && !l->nodes[r].found && steps++ < n)
			r = best[r];
		rep[i] = r != (size_t)-1 && l->nodes[r].found ? r : (size_t)-1;
	}
	for (size_t i = 0; i < n; i++)
		if (!l->nodes[i].found && rep[i] != (size_t)-1)
			l->nodes[rep[i]].self = cpgo_sat_add_u64(l->nodes[rep[i]].self, l->nodes[i].self);
	l->edges = NULL;
	l->n_edge = l->alloc_edge = 0;
	cpgo_hashmap_release(&l->edge_map);
	cpgo_hashmap_init(&l->edge_map, "layout edge");
	for (size_t e = 0; e < n_edge; e++) {
		size_t a = rep[old[e].caller], b = rep[old[e].callee];
		if (a == (size_t)-1 || b == (size_t)-1 || a == b)
			continue;
		if (edge_add(l, a, b, old[e].weight) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	if (ret < 0 && !l->edges) {
		/* Keep the graph as it was. */
		l->edges = old;
		l->n_edge = l->alloc_edge = n_edge;
		old = NULL;
	}
	free(old);
	free(best);
	free(rep);
	free(best_w);
	return ret;
}

int cpgo_layout_resolve(struct cpgo_layout *l, const struct cpgo_elfsyms *syms, const char *what)
{
	size_t *by_stem = NULL;
	int ret = -1;

	by_stem = malloc((syms->n ? syms->n : 1) * sizeof(*by_stem));
	if (!by_stem)
		return error("%s: out of memory indexing symbols", what);
	for (size_t i = 0; i < syms->n; i++)
		by_stem[i] = i;
	qsort_r(by_stem, syms->n, sizeof(*by_stem), cmp_sym_stem, (void *)syms);
	for (size_t i = 0; i < l->n_node; i++) {
		struct cpgo_layout_node *n = &l->nodes[i];
		const char *key, *ks;
		size_t lo = 0, hi = syms->n, len = name_key(n->symbol, &key), best = (size_t)-1, ls;
		int best_score = -1;

		/* The first symbol whose key is not below the node's. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			ls = name_key(syms->syms[by_stem[mid]].name, &ks);
			if (cmp_key(ks, ls, key, len) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t j = lo; j < syms->n; j++) {
			const struct cpgo_elfsym *s = &syms->syms[by_stem[j]];
			int score;
			ls = name_key(s->name, &ks);
			if (cmp_key(ks, ls, key, len))
				break;
			score = match_score(n, s);
			if (score > best_score) {
				best_score = score;
				best = by_stem[j];
			}
		}
		n->found = best != (size_t)-1;
		if (!n->found)
			continue;
		n->size = syms->syms[best].size;
		if (strcmp(n->symbol, syms->syms[best].name)) {
			char *s = strdup(syms->syms[best].name);
			if (!s) {
				error("%s: out of memory", what);
				goto cleanup;
			}
			free(n->symbol);
			n->symbol = s;
		}
	}
	count_unknown(l);
	if (fold_unknown(l) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(by_stem);
	return ret;
}

static int resolve_in_binary(struct cpgo_layout *l, const char *binary)
{
	struct cpgo_elfsyms syms;
	int ret;

	if (cpgo_elfsyms_read(&syms, binary) < 0)
		return -1;
	ret = cpgo_layout_resolve(l, &syms, binary);
	cpgo_elfsyms_release(&syms);
	return ret;
}

int cpgo_layout_build(struct cpgo_layout *l, struct cpgo_profile *p,
		      const struct cpgo_layout_opts *opts)
{
	const char *name = opts && opts->name ? opts->name : "profile";
	uint64_t main_mapping = p->n_mapping ? p->mappings[0].id : 0;
	int vi = cpgo_profile_cpu_index(p, name);

	if (vi < 0 || cpgo_profile_index(p) < 0)
		return -1;
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		int64_t v = cpgo_sample_values(p, i)[vi];
		size_t leaf, caller;

		if (v <= 0 || !s->n_loc)
			continue;
		l->samples = cpgo_sat_add_u64(l->samples, (uint64_t)v);
		leaf = location_node(l, p, p->sample_locs[s->loc_off], main_mapping);
		if (leaf == (size_t)-1)
			return -1;
		if (leaf == (size_t)-2) {
			l->samples_other_mapping = cpgo_sat_add_u64(l->samples_other_mapping, (uint64_t)v);
			continue;
		}
		l->nodes[leaf].self = cpgo_sat_add_u64(l->nodes[leaf].self, (uint64_t)v);
		if (s->n_loc < 2)
			continue;
		caller = location_node(l, p, p->sample_locs[s->loc_off + 1], main_mapping);
		if (caller == (size_t)-1)
			return -1;
		if (caller != (size_t)-2 && caller != leaf && edge_add(l, caller, leaf, (uint64_t)v) < 0)
			return -1;
		/* Who calls whom anywhere on the stack: where an inlined-away function went. */
		for (size_t k = 0, callee = leaf; k + 1 < s->n_loc && caller != (size_t)-2; k++) {
			if (k) {
				callee = caller;
				caller = location_node(l, p, p->sample_locs[s->loc_off + k + 1],
						       main_mapping);
				if (caller == (size_t)-1)
					return -1;
				if (caller == (size_t)-2)
					break;
			}
			if (caller != callee && pair_add(l, caller, callee, (uint64_t)v) < 0)
				return -1;
		}
	}
	if (opts && opts->binary && resolve_in_binary(l, opts->binary) < 0)
		return -1;
	count_unknown(l);
	return 0;
}

static uint64_t node_size(const struct cpgo_layout_node *n)
{
	return n->size ? n->size : LAYOUT_DEFAULT_SIZE;
}

struct c3 {
	const struct cpgo_layout *l;
	size_t *cluster;      /* node -> its cluster (the cluster's first node) */
	size_t *next, *tail;  /* members as lists: next node, and the cluster's last */
	uint64_t *samples, *size;
	size_t *best_caller;  /* node -> heaviest caller, or (size_t)-1 */
};

static int cmp_hotness(const void *a, const void *b, void *ctx)
{
	const struct cpgo_layout *l = ctx;
	const struct cpgo_layout_node *x = &l->nodes[*(const size_t *)a];
	const struct cpgo_layout_node *y = &l->nodes[*(const size_t *)b];
	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	return strcmp(x->symbol, y->symbol);
}

/* Denser clusters first; density compared as a cross product to stay exact. */
static int cmp_density(const void *a, const void *b, void *ctx)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct c3 *c = ctx;
	unsigned __int128 dx = (unsigned __int128)c->samples[x] * c->size[y];
	unsigned __int128 dy = (unsigned __int128)c->samples[y] * c->size[x];
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(c->l->nodes[x].symbol, c->l->nodes[y].symbol);
}

int cpgo_layout_c3(struct cpgo_layout *l)
{
	struct c3 c = { l, NULL, NULL, NULL, NULL, NULL, NULL };
	size_t n = l->n_node, *hot = NULL, n_hot = 0, *heads = NULL, n_heads = 0;
	uint64_t *best_w = NULL;
	unsigned char *listed = NULL;
	int ret = -1;

	free(l->order);
	l->order = NULL;
	l->n_order = 0;
	if (!n)
		return 0;
	c.cluster = calloc(n, sizeof(*c.cluster));
	c.next = calloc(n, sizeof(*c.next));
	c.tail = calloc(n, sizeof(*c.tail));
	c.samples = calloc(n, sizeof(*c.samples));
	c.size = calloc(n, sizeof(*c.size));
	c.best_caller = calloc(n, sizeof(*c.best_caller));
	best_w = calloc(n, sizeof(*best_w));
	hot = calloc(n, sizeof(*hot));
	heads = calloc(n, sizeof(*heads));
	listed = calloc(n, 1);
	l->order = calloc(n, sizeof(*l->order));
	if (!c.cluster || !c.next || !c.tail || !c.samples || !c.size || !c.best_caller ||
	    !best_w || !hot || !heads || !listed || !l->order) {
		error("out of memory ordering %zu functions", n);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		c.cluster[i] = c.tail[i] = i;
		c.next[i] = c.best_caller[i] = (size_t)-1;
		c.samples[i] = l->nodes[i].self;
		c.size[i] = node_size(&l->nodes[i]);
	}
	for (size_t e = 0; e < l->n_edge; e++) {
		const struct cpgo_layout_edge *ed = &l->edges[e];
		if (!l->nodes[ed->caller].found || ed->weight <= best_w[ed->callee])
			continue;
		best_w[ed->callee] = ed->weight;
		c.best_caller[ed->callee] = ed->caller;
	}
	/* Placed: found functions that ran, or called what ran. */
	for (size_t i = 0; i < n; i++)
		if (l->nodes[i].found && l->nodes[i].self)
			listed[i] = 1;
	for (size_t e = 0; e < l->n_edge; e++)
		if (l->nodes[l->edges[e].caller].found && l->nodes[l->edges[e].callee].found)
			listed[l->edges[e].caller] = listed[l->edges[e].callee] = 1;
	for (size_t i = 0; i < n; i++)
		if (listed[i])
			hot[n_hot++] = i;
	qsort_r(hot, n_hot, sizeof(*hot), cmp_hotness, l);
	for (size_t i = 0; i < n_hot; i++) {
		size_t f = hot[i], p = c.best_caller[f], cf, cp;
		uint64_t ms, mz;

		if (p == (size_t)-1)
			continue;
		cf = c.cluster[f];
		cp = c.cluster[p];
		if (cf == cp || c.size[cp] + c.size[cf] > LAYOUT_PAGE_SIZE)
			continue;
		ms = c.samples[cp] + c.samples[cf];
		mz = c.size[cp] + c.size[cf];
		/* density(cp) > DEGRADE * density(merged), compared without division */
		if ((unsigned __int128)c.samples[cp] * mz >
		    (unsigned __int128)LAYOUT_CALLER_DEGRADE * ms * c.size[cp])
			continue;
		c.next[c.tail[cp]] = cf;
		c.tail[cp] = c.tail[cf];
		for (size_t m = cf; m != (size_t)-1; m = c.next[m])
			c.cluster[m] = cp;
		c.samples[cp] = ms;
		c.size[cp] = mz;
	}
	for (size_t i = 0; i < n_hot; i++)
		if (c.cluster[hot[i]] == hot[i])
			heads[n_heads++] = hot[i];
	qsort_r(heads, n_heads, sizeof(*heads), cmp_density, &c);
	for (size_t h = 0; h < n_heads; h++)
		for (size_t m = heads[h]; m != (size_t)-1; m = c.next[m])
			l->order[l->n_order++] = m;
	ret = 0;
cleanup:
	free(c.cluster);
	free(c.next);
	free(c.tail);
	free(c.samples);
	free(c.size);
	free(c.best_caller);
	free(best_w);
	free(hot);
	free(heads);
	free(listed);
	return ret;
}

static int cmp_edge(const void *a, const void *b, void *ctx)
{
	const struct cpgo_layout *nl = ctx;
	const struct cpgo_layout_edge *x = a, *y = b;
	int c;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	c = strcmp(nl->nodes[x->caller].symbol, nl->nodes[y->caller].symbol);
	return c ? c : strcmp(nl->nodes[x->callee].symbol,
			      nl->nodes[y->callee].symbol);
}

int cpgo_layout_write_edges(const struct cpgo_layout *l, struct cpgo_buf *out)
{
	struct cpgo_layout_edge *e = NULL;
	size_t n = 0;
	int ret = -1;

	if (l->n_edge && !(e = malloc(l->n_edge * sizeof(*e))))
		return error("out of memory writing %zu call edges", l->n_edge);
	for (size_t i = 0; i < l->n_edge; i++)
		if (l->nodes[l->edges[i].caller].found && l->nodes[l->edges[i].callee].found)
			e[n++] = l->edges[i];
	if (n)
		qsort_r(e, n, sizeof(*e), cmp_edge, (void *)l);
	for (size_t i = 0; i < n; i++)
		if (cpgo_buf_addf(out, "%s %s %llu\n", l->nodes[e[i].caller].symbol,
				  l->nodes[e[i].callee].symbol, (unsigned long long)e[i].weight) < 0)
			goto cleanup;
	ret = 0;
cleanup:
	free(e);
	return ret;
}

int cpgo_layout_write_order(const struct cpgo_layout *l, struct cpgo_buf *out)
{
	for (size_t i = 0; i < l->n_order; i++)
		if (cpgo_buf_addf(out, "%s\n", l->nodes[l->order[i]].symbol) < 0)
			return -1;
	return 0;
}
