/*
 * Context from stacks: a pre-inliner over the physical calls of the samples.
 *
 * clang's sample loader inlines only what the profile records as inline
 * instances (SampleProfileLoader::inlineHotFunctions: a call site with a
 * nested profile whose total is hot is inlined unless the inliner must
 * not), so a hot callee the profiled binary did not inline stays a call.
 * A pprof sample has the whole stack, so the samples of callee F under the
 * physical call from C at (offset, discriminator) are known: written as an
 * inline instance of F in C's profile, that call gets inlined, with F's
 * profile in that context.
 *
 * Which calls: llvm-profgen's CSPreInliner's way (processFunction), over a
 * trie of contexts. Functions are taken in top-down order of the sampled
 * call graph; each function's samples (those of every context that was not
 * inlined into a caller: its base profile) offer its physical calls as
 * candidates, hottest first; a candidate is taken while the function's
 * size with its inlinees stays within ProfileInlineGrowthLimit (12) times
 * its own size, clamped to [100, 50000] bytes (CSPreInliner's defaults),
 * and the callsite count is hot (the profile summary's 99% cutoff,
 * ProfileSummaryCutoffHot, as the sample loader's callsiteIsHot). A taken
 * call's callee's own calls become candidates in turn. A call not taken
 * sends its samples to the callee's base profile, so every sample is in
 * exactly one place and the totals stay those of the samples.
 *
 * Sizes are the symbol sizes of the profiled binary (the callee as it was
 * compiled, with its own inlinees). A call is a candidate only when
 *  - the callee is not already in the context (recursion is not unrolled;
 *    LLVM does not inline recursive calls either);
 *  - the call instruction before the caller's return address calls the
 *    callee, or is indirect (clang promotes and inlines an indirect call
 *    with a hot instance): a direct call to another function means frames
 *    are missing (a tail call), and an instance there would be matched to
 *    nothing;
 *  - the call's line is its own (not a line 0 keyed at a nearby line:
 *    clang looks an instance up at the call instruction's line, and an
 *    instance it cannot find takes its samples from the callee's profile);
 *  - the callee can be compiled in the caller's translation unit: defined
 *    in the same file as the context's top-level function, or in a header,
 *    or both in the TU being compiled (a source file it #includes)
 *    (without LTO a call into another .c file cannot be inlined, and its
 *    samples would be lost to the callee's own profile).
 * Frames above a frame that cannot be keyed (no name, line or start line)
 * are not part of the context.
 */
#include "sprof_int.h"
#include "util/error.h"
#include "util/hash.h"
#include "elf/elfcode.h"
#include "pprof/profile.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

/* CSPreInliner's defaults (ProfileInlineGrowthLimit, ProfileInlineLimitMin/Max). */
#define PI_GROWTH 12
#define PI_LIMIT_MIN 100
#define PI_LIMIT_MAX 50000
/* ProfileSummaryCutoffHot, in millionths. */
#define PI_HOT_CUTOFF 990000
/* CSPreInliner's normalization upper bound: the 10% cutoff. */
#define PI_TOP_CUTOFF 100000
/*
 * The largest callee (bytes of code) inlined at the hottest call sites,
 * scaled down linearly with the call's count below the 10% cutoff's: time
 * samples count time under a call, not calls, so a big callee that is hot
 * because it runs long per call must not pass as a hot small one would.
 * Of the order of LLVM's hot-callsite-threshold (3000 IR cost units).
 */
#ifndef PI_HOT_SIZE
#define PI_HOT_SIZE 3000
#endif

#define PI_NONE SIZE_MAX

enum { PI_TODO, PI_OPEN, PI_CLOSED };

struct pi_group {
	int64_t node; /* the caller's innermost frame in the trie */
	uint32_t off, disc, callee;
	uint64_t count; /* the callee's own samples under this call (its frame the leaf) */
	size_t head;    /* samples waiting at this call (through pi.next) */
};

struct pi {
	struct sp_ctx *c;
	struct sprof_model *t; /* the trie */
	size_t n;              /* samples */
	uint64_t *v;           /* per sample: value, 0 = not in any context */
	size_t *top, *k, *next;
	int64_t *node;
	/* Per model name. */
	size_t n_names;
	size_t *pend; /* pending samples of the name's base profile */
	unsigned char *state;
	uint64_t *size, *addr; /* symbol size, address (0: none or several) */
	uint32_t *calls;       /* direct calls to addr in the binary's code */
	unsigned char *local;  /* a file-local symbol */
	struct pi_group *g;
	size_t n_g, alloc_g, *heap, n_heap, alloc_heap, fresh_from;
	struct cpgo_hashmap g_map;
	uint64_t hot, top_count;
	/* The profiled binary's code, for the call before a return address (sp_code). */
	const struct cpgo_elf_code *code;
	unsigned char *seen; /* per model name: a symbol of it was read */
	struct cpgo_buf cn;
};

static const struct cpgo_location *stack_loc(const struct pi *pi, size_t si, size_t k)
{
	const struct cpgo_sample *s = &pi->c->p->samples[si];
	return cpgo_profile_location(pi->c->p, pi->c->p->sample_locs[s->loc_off + k]);
}

static const struct sp_fn *outer_fn(const struct pi *pi, const struct cpgo_location *loc)
{
	return sp_line_fn(pi->c, &pi->c->p->lines[loc->line_off + loc->n_line - 1]);
}

/* ---- the binary: symbol sizes and addresses, code bytes ---- */

struct pi_fa {
	uint64_t addr;
	uint32_t name;
};

static int cmp_fa(const void *a, const void *b)
{
	const struct pi_fa *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * How many direct calls (E8 rel32) reach each function: a file-local
 * function called from one place costs no code to inline there (its
 * out-of-line copy goes), as LLVM's last-call-to-static bonus has it. A
 * stray E8 byte can only add calls, which errs on the side of not inlining.
 */
static int count_calls(struct pi *pi)
{
	struct pi_fa *fa = malloc((pi->n_names + 1) * sizeof(*fa));
	size_t n = 0;

	if (!fa)
		return error("%s: out of memory", pi->c->pname);
	for (size_t i = 0; i < pi->n_names; i++)
		if (pi->addr[i])
			fa[n++] = (struct pi_fa){ pi->addr[i], (uint32_t)i };
	qsort(fa, n, sizeof(*fa), cmp_fa);
	for (size_t t = 0; t < pi->code->n_text && n; t++) {
		const struct cpgo_elf_range *x = &pi->code->text[t];
		for (uint64_t i = 0; i + 5 <= x->size; i++) {
			const unsigned char *b = x->data + i;
			int32_t rel;
			uint64_t to;
			size_t lo = 0, hi = n;

			if (b[0] != 0xe8)
				continue;
			rel = (int32_t)((uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 |
					(uint32_t)b[4] << 24);
			to = x->addr + i + 5 + (uint64_t)(int64_t)rel;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (fa[mid].addr < to)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < n && fa[lo].addr == to && pi->calls[fa[lo].name] < UINT32_MAX)
				pi->calls[fa[lo].name]++;
		}
	}
	free(fa);
	return 0;
}

static int read_sym(const struct cpgo_elf_func_sym *sym, void *arg)
{
	struct pi *pi = arg;
	int64_t id;

	if (sprof_canonical_name(sym->name, &pi->cn) < 0)
		return -1;
	if ((id = sprof_name_find(pi->c->m, pi->cn.buf)) < 0 || (size_t)id >= pi->n_names)
		return 0;
	/* A split-off cold part is not what inlining the hot path costs. */
	if (strstr(sym->name, ".cold"))
		return 0;
	if (sym->size > pi->size[id])
		pi->size[id] = sym->size;
	/* Same-named statics of several files: no one address to check against. */
	pi->addr[id] = pi->seen[id] && pi->addr[id] != sym->addr ? 0 : sym->addr;
	pi->local[id] = !pi->seen[id] && sym->local;
	pi->seen[id] = 1;
	return 0;
}

static int read_binary(struct pi *pi)
{
	int ret = -1;

	if (!(pi->code = sp_code(pi->c)))
		return -1;
	if (!(pi->seen = calloc(pi->n_names + 1, 1)))
		return error("%s: out of memory", pi->c->pname);
	if (cpgo_elf_code_func_syms(pi->code, read_sym, pi) < 0 || count_calls(pi) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(pi->seen);
	pi->seen = NULL;
	cpgo_buf_release(&pi->cn);
	return ret;
}

static const unsigned char *code_at(const struct pi *pi, uint64_t a, uint64_t len)
{
	uint64_t avail;
	const unsigned char *b = cpgo_elf_code_at(pi->code, a, &avail);
	return b && avail >= len ? b : NULL;
}

/* The target of a direct call (E8 rel32) that returns to `ret`; 0 when there is none. */
static uint64_t direct_target(const struct pi *pi, uint64_t ret)
{
	const unsigned char *b;
	int32_t rel;

	if (ret < 5 || !(b = code_at(pi, ret - 5, 5)) || b[0] != 0xe8)
		return 0;
	rel = (int32_t)((uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24);
	return ret + (uint64_t)(int64_t)rel;
}

/*
 * Does the call of the caller frame at `a` reach `callee`? The frame's
 * address is its return address or, as libcpgo and perf record callers,
 * the return address - 1. x86-64: a direct call is E8 rel32 ending at the
 * return address; anything else there is taken for an indirect call.
 * Other machines: no check.
 */
static int call_reaches(const struct pi *pi, uint64_t a, uint32_t callee)
{
	uint64_t t1, t0;

	if (pi->code->machine != EM_X86_64)
		return 1;
	if (!a)
		return 0;
	/* A frame the tail-call rule put back: its jump reaches the callee. */
	if (pi->c->n_tail && bsearch(&a, pi->c->tail_at, pi->c->n_tail, sizeof(a), sp_cmp_u64))
		return 1;
	t1 = direct_target(pi, a + 1);
	t0 = direct_target(pi, a);
	if (pi->addr[callee] && (t1 == pi->addr[callee] || t0 == pi->addr[callee]))
		return 1;
	return !t1 && !t0 && code_at(pi, a, 1);
}

/* ---- the hot count threshold ---- */

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

/*
 * What the summary's 99% cutoff will be, from the leaf samples per location
 * times the duplication factor (the line counts are made that way).
 */
static int hot_threshold(struct pi *pi)
{
	struct sp_ctx *c = pi->c;
	size_t nloc = c->p->n_location, n = 0;
	uint64_t *cnt = calloc(nloc + 1, sizeof(*cnt)), total = 0, sum = 0, want;

	if (!cnt)
		return error("%s: out of memory", c->pname);
	for (size_t si = 0; si < pi->n; si++)
		if (pi->v[si]) {
			const struct cpgo_location *leaf = stack_loc(pi, si, 0);
			cnt[leaf - c->p->locations] += pi->v[si];
		}
	for (size_t i = 0; i < nloc; i++) {
		if (!cnt[i])
			continue;
		if (c->max) {
			uint32_t dup = c->line_dup[c->p->locations[i].line_off];
			cnt[i] *= dup ? dup : 1;
		}
		total = sprof_sat_add(total, cnt[i]);
		cnt[n++] = cnt[i];
	}
	qsort(cnt, n, sizeof(*cnt), cmp_u64_desc);
	want = (uint64_t)((unsigned __int128)total * PI_HOT_CUTOFF / 1000000);
	pi->hot = pi->top_count = 1;
	for (size_t i = 0; i < n && sum < want; i++) {
		if (sum < (uint64_t)((unsigned __int128)total * PI_TOP_CUTOFF / 1000000))
			pi->top_count = cnt[i];
		sum += cnt[i];
		pi->hot = cnt[i];
	}
	free(cnt);
	return 0;
}

/* ---- candidate groups: (trie node, call site, callee) ---- */

struct g_key {
	int64_t node;
	uint32_t off, disc, callee;
};

static uint32_t g_hash(const struct g_key *k)
{
	return (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(cpgo_hash_mix(CPGO_HASH_SEED,
										   (uint64_t)k->node),
								   ((uint64_t)k->off << 32) | k->disc),
						     k->callee));
}

static int g_eq(const void *ctx, size_t pos, const void *key)
{
	const struct pi_group *g = &((const struct pi *)ctx)->g[pos];
	const struct g_key *k = key;
	return g->node == k->node && g->off == k->off && g->disc == k->disc && g->callee == k->callee;
}

/*
 * Is stack frame k of sample si one the tail-call rule put back? Its
 * function ran just before the function it jumped to, once per jump: the
 * jumped-to function's own samples count for it too (it has few of its own,
 * and inlining it is what lets clang promote and inline the jump).
 */
static int tail_frame(const struct pi *pi, size_t si, size_t k)
{
	const struct sp_ctx *c = pi->c;
	uint64_t a = c->loc_ret[stack_loc(pi, si, k) - c->p->locations];

	return c->n_tail && a && bsearch(&a, c->tail_at, c->n_tail, sizeof(a), sp_cmp_u64);
}

static int group_add(struct pi *pi, size_t si, uint32_t off, uint32_t disc, uint32_t callee)
{
	struct g_key k = { pi->node[si], off, disc, callee };
	uint32_t h = g_hash(&k);
	size_t slot, pos;

	if (cpgo_hashmap_reserve(&pi->g_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&pi->g_map, h, g_eq, pi, &k);
	if (!cpgo_hashmap_pos(&pi->g_map, slot, &pos)) {
		if (CPGO_GROW(pi->g, pi->alloc_g, pi->n_g + 1) < 0)
			return -1;
		pi->g[pi->n_g] = (struct pi_group){ k.node, off, disc, callee, 0, PI_NONE };
		if (cpgo_hashmap_set(&pi->g_map, slot, h, pi->n_g) < 0)
			return -1;
		pos = pi->n_g++;
	}
	/*
	 * Hotness counts the callee's own samples, not the time under it: what
	 * inlining saves grows with the calls, and a callee whose own code is
	 * hot is called often or runs long per call (the size rule takes care
	 * of the second); a driver that is hot only through what it calls
	 * (a main loop, a parser's entry) gains nothing from being inlined.
	 */
	if (pi->k[si] == 1 || (pi->k[si] == 2 && tail_frame(pi, si, 1)))
		pi->g[pos].count = sprof_sat_add(pi->g[pos].count, pi->v[si]);
	pi->next[si] = pi->g[pos].head;
	pi->g[pos].head = si;
	return 0;
}

/* Hotter first, then the smaller callee, then the older group (a stable order). */
static int g_before(const struct pi *pi, size_t a, size_t b)
{
	const struct pi_group *x = &pi->g[a], *y = &pi->g[b];
	if (x->count != y->count)
		return x->count > y->count;
	if (pi->size[x->callee] != pi->size[y->callee])
		return pi->size[x->callee] < pi->size[y->callee];
	return a < b;
}

static int heap_push(struct pi *pi, size_t gi)
{
	size_t i;

	if (CPGO_GROW(pi->heap, pi->alloc_heap, pi->n_heap + 1) < 0)
		return -1;
	i = pi->n_heap++;
	while (i && g_before(pi, gi, pi->heap[(i - 1) / 2])) {
		pi->heap[i] = pi->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	pi->heap[i] = gi;
	return 0;
}

static size_t heap_pop(struct pi *pi)
{
	size_t top = pi->heap[0], last = pi->heap[--pi->n_heap], i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = l;
		if (l >= pi->n_heap)
			break;
		if (r < pi->n_heap && g_before(pi, pi->heap[r], pi->heap[l]))
			m = r;
		if (!g_before(pi, pi->heap[m], last))
			break;
		pi->heap[i] = pi->heap[m];
		i = m;
	}
	if (pi->n_heap)
		pi->heap[i] = last;
	return top;
}

/* Groups made since the last call go into the queue. */
static int push_fresh(struct pi *pi)
{
	for (; pi->fresh_from < pi->n_g; pi->fresh_from++)
		if (heap_push(pi, pi->fresh_from) < 0)
			return -1;
	return 0;
}

/* ---- walking samples through the decisions ---- */

static uint32_t base_name(const struct pi *pi, size_t si)
{
	return (uint32_t)outer_fn(pi, stack_loc(pi, si, pi->top[si]))->name;
}

/* Is `name` a function of the context that `node` is in? */
static int in_context(const struct pi *pi, int64_t node, uint32_t name)
{
	for (uint64_t a = (uint64_t)node; a != SPROF_NO_PARENT; a = pi->t->fs[a].parent)
		if (pi->t->fs[a].name == name)
			return 1;
	return 0;
}

static int has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);
	return n >= e && !strcmp(path + n - e, ext);
}

/* The call from stack frame k of sample si to frame k - 1 may be inlined (see the top). */
static int candidate(const struct pi *pi, size_t si, size_t k, const struct sp_fn *callee)
{
	const struct sp_ctx *c = pi->c;
	const struct cpgo_location *loc = stack_loc(pi, si, k);
	const struct sp_fn *base = outer_fn(pi, stack_loc(pi, si, pi->top[si]));

	if (!pi->size[callee->name] || in_context(pi, pi->node[si], (uint32_t)callee->name))
		return 0;
	/* A call at line 0 keyed at a nearby line: clang would look the instance up elsewhere. */
	if (c->line_remapped[loc->line_off])
		return 0;
	if (strcmp(callee->file, base->file) && (has_ext(callee->file, ".c") || !*callee->file) &&
	    !(sp_tu_score(c, base->file) && sp_tu_score(c, callee->file)))
		return 0;
	return call_reaches(pi, c->loc_ret[loc - c->p->locations], (uint32_t)callee->name);
}

static int move_to_callee(struct pi *pi, size_t si);

/*
 * Takes sample si down its stack from frame k through the calls already
 * inlined; at the first other call it waits in that call's group (its base
 * open) or goes to the callee's base profile.
 */
static int advance(struct pi *pi, size_t si)
{
	struct sp_ctx *c = pi->c;

	while (pi->k[si] >= 1) {
		size_t k = pi->k[si];
		const struct cpgo_location *loc = stack_loc(pi, si, k), *cl = stack_loc(pi, si, k - 1);
		const struct sp_fn *callee = outer_fn(pi, cl);
		uint32_t off, disc;
		int64_t child;

		sp_loc_site(c, loc, &off, &disc);
		child = sprof_fs_get(pi->t, (uint64_t)pi->node[si], off, disc, (uint32_t)callee->name, 0);
		if (child >= 0 && pi->t->fs[child].head) {
			if ((pi->node[si] = sp_loc_chain(c, pi->t, cl, (uint64_t)pi->node[si], off, disc, 0,
							 NULL)) < 0)
				return -1;
			pi->k[si] = k - 1;
			continue;
		}
		if (pi->state[base_name(pi, si)] == PI_OPEN && candidate(pi, si, k, callee))
			return group_add(pi, si, off, disc, (uint32_t)callee->name);
		return move_to_callee(pi, si);
	}
	return 0;
}

/* The sample starts at its base frame, at the top of its base profile. */
static int start(struct pi *pi, size_t si)
{
	pi->k[si] = pi->top[si];
	pi->node[si] = sp_loc_chain(pi->c, pi->t, stack_loc(pi, si, pi->top[si]), SPROF_NO_PARENT, 0, 0,
				    0, NULL);
	return pi->node[si] < 0 ? -1 : advance(pi, si);
}

/* The call at the sample's frame k is not inlined: its callee's base profile gets it. */
static int move_to_callee(struct pi *pi, size_t si)
{
	uint32_t b;

	pi->top[si] = pi->k[si] - 1;
	b = base_name(pi, si);
	if (pi->state[b] == PI_CLOSED)
		return start(pi, si); /* late (a cycle): the decisions made stand */
	pi->next[si] = pi->pend[b];
	pi->pend[b] = si;
	return 0;
}

static int process(struct pi *pi, uint32_t f)
{
	uint64_t size = pi->size[f], limit = size * PI_GROWTH;

	/*
	 * CSPreInliner's cap on the final size. It matters most for the giant
	 * dispatch loops of interpreters: an earlier version capped the growth
	 * instead, inlined 50 kB more into sqlite's sqlite3VdbeExec and cost
	 * 2.5% of sqlite's instructions (register pressure in the loop).
	 */
	if (limit > PI_LIMIT_MAX)
		limit = PI_LIMIT_MAX;
	if (limit < PI_LIMIT_MIN)
		limit = PI_LIMIT_MIN;
	pi->state[f] = PI_OPEN;
	pi->n_heap = 0;
	pi->fresh_from = pi->n_g;
	/* Recursive calls come back to this list while it is being taken. */
	while (pi->pend[f] != PI_NONE) {
		size_t si = pi->pend[f];
		pi->pend[f] = pi->next[si];
		if (start(pi, si) < 0)
			return -1;
	}
	if (push_fresh(pi) < 0)
		return -1;
	while (pi->n_heap) {
		struct pi_group g = pi->g[heap_pop(pi)];
		uint64_t cost = pi->size[g.callee], most;
		size_t si, nx;
		int take;

		/* Hotness in [0, 1] between the hot and the 10% counts, as CSPreInliner normalizes. */
		most = g.count >= pi->top_count ? PI_HOT_SIZE
		       : pi->top_count > pi->hot && g.count > pi->hot
			       ? (uint64_t)((double)PI_HOT_SIZE * (double)(g.count - pi->hot) /
					    (double)(pi->top_count - pi->hot))
			       : 0;
		if (pi->local[g.callee] && pi->calls[g.callee] == 1)
			cost = 0, most = UINT64_MAX;
		take = g.count >= pi->hot && pi->size[g.callee] <= most && size + cost <= limit;

		if (take) {
			int64_t child = sprof_fs_get(pi->t, (uint64_t)g.node, g.off, g.disc, g.callee, 1);
			if (child < 0)
				return -1;
			pi->t->fs[child].head = 1;
			pi->c->st.ctx_inlined++;
			size += cost;
			for (si = g.head; si != PI_NONE; si = nx) {
				nx = pi->next[si];
				if (advance(pi, si) < 0)
					return -1;
			}
			if (push_fresh(pi) < 0)
				return -1;
		} else {
			for (si = g.head; si != PI_NONE; si = nx) {
				nx = pi->next[si];
				if (move_to_callee(pi, si) < 0)
					return -1;
			}
		}
	}
	pi->state[f] = PI_CLOSED;
	while (pi->pend[f] != PI_NONE) {
		size_t si = pi->pend[f];
		pi->pend[f] = pi->next[si];
		if (start(pi, si) < 0)
			return -1;
	}
	return 0;
}

/* ---- top-down order of the sampled call graph ---- */

struct pi_edge {
	uint32_t from, to;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct pi_edge *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/* Reverse postorder of a depth-first walk: callers before callees, cycles aside. */
static int top_down(struct pi *pi, uint32_t **order_out)
{
	struct sp_ctx *c = pi->c;
	struct pi_edge *e = NULL;
	size_t n_e = 0, alloc_e = 0, *first = NULL, n = pi->n_names, n_ord = 0, sp = 0;
	uint32_t *order = NULL;
	size_t *stack = NULL, *it = NULL;
	unsigned char *seen = NULL;
	int ret = -1;

	for (size_t si = 0; si < pi->n; si++)
		for (size_t k = pi->top[si]; pi->v[si] && k >= 1; k--) {
			if (CPGO_GROW(e, alloc_e, n_e + 1) < 0)
				goto cleanup;
			e[n_e++] = (struct pi_edge){ (uint32_t)outer_fn(pi, stack_loc(pi, si, k))->name,
						     (uint32_t)outer_fn(pi, stack_loc(pi, si, k - 1))->name };
		}
	if (n_e)
		qsort(e, n_e, sizeof(*e), cmp_edge);
	first = calloc(n + 1, sizeof(*first));
	order = malloc((n + 1) * sizeof(*order));
	stack = malloc((n + 1) * sizeof(*stack));
	it = malloc((n + 1) * sizeof(*it));
	seen = calloc(n + 1, 1);
	if (!first || !order || !stack || !it || !seen) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < n_e; i++)
		first[e[i].from + 1]++;
	for (size_t i = 0; i < n; i++)
		first[i + 1] += first[i];
	for (size_t r = 0; r < n; r++) {
		if (seen[r])
			continue;
		seen[r] = 1;
		stack[sp] = r;
		it[sp++] = first[r];
		while (sp) {
			size_t u = stack[sp - 1];
			if (it[sp - 1] < first[u + 1]) {
				uint32_t w = e[it[sp - 1]++].to;
				if (!seen[w]) {
					seen[w] = 1;
					stack[sp] = w;
					it[sp++] = first[w];
				}
				continue;
			}
			order[n_ord++] = (uint32_t)u;
			sp--;
		}
	}
	for (size_t i = 0; i < n_ord / 2; i++) {
		uint32_t t = order[i];
		order[i] = order[n_ord - 1 - i];
		order[n_ord - 1 - i] = t;
	}
	*order_out = order;
	order = NULL;
	ret = 0;
cleanup:
	free(e);
	free(first);
	free(order);
	free(stack);
	free(it);
	free(seen);
	return ret;
}

int sp_preinline(struct sp_ctx *c)
{
	struct pi pi = { .c = c, .cn = CPGO_BUF_INIT };
	uint32_t *order = NULL;
	int ret = -1;

	sprof_model_init(&c->ctx_trie, c->pname);
	c->have_trie = 1;
	pi.t = &c->ctx_trie;
	pi.n = c->p->n_sample;
	pi.n_names = c->m->n_names;
	cpgo_hashmap_init(&pi.g_map, "inline candidate");
	pi.v = calloc(pi.n + 1, sizeof(*pi.v));
	pi.top = calloc(pi.n + 1, sizeof(*pi.top));
	pi.k = calloc(pi.n + 1, sizeof(*pi.k));
	pi.next = calloc(pi.n + 1, sizeof(*pi.next));
	pi.node = calloc(pi.n + 1, sizeof(*pi.node));
	pi.pend = malloc((pi.n_names + 1) * sizeof(*pi.pend));
	pi.state = calloc(pi.n_names + 1, 1);
	pi.size = calloc(pi.n_names + 1, sizeof(*pi.size));
	pi.addr = calloc(pi.n_names + 1, sizeof(*pi.addr));
	pi.calls = calloc(pi.n_names + 1, sizeof(*pi.calls));
	pi.local = calloc(pi.n_names + 1, 1);
	c->smp_base = malloc((pi.n + 1) * sizeof(*c->smp_base));
	if (!pi.v || !pi.top || !pi.k || !pi.next || !pi.node || !pi.pend || !pi.state || !pi.size ||
	    !pi.addr || !pi.calls || !pi.local || !c->smp_base) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < pi.n_names; i++)
		pi.pend[i] = PI_NONE;
	if (read_binary(&pi) < 0)
		goto cleanup;
	/* A sample takes part from its leaf up to the first frame that cannot be keyed. */
	for (size_t si = 0; si < pi.n; si++) {
		const struct cpgo_sample *s = &c->p->samples[si];
		size_t k = 1;

		c->smp_base[si] = SIZE_MAX;
		if (!s->n_loc || !sp_loc_usable(c, stack_loc(&pi, si, 0), 1))
			continue;
		if (!(pi.v[si] = sp_sample_value(c, si)))
			continue;
		while (k < s->n_loc && sp_loc_usable(c, stack_loc(&pi, si, k), 0))
			k++;
		pi.top[si] = k - 1;
	}
	if (hot_threshold(&pi) < 0 || top_down(&pi, &order) < 0)
		goto cleanup;
	c->st.ctx_hot = pi.hot;
	for (size_t si = 0; si < pi.n; si++) {
		if (!pi.v[si])
			continue;
		uint32_t b = base_name(&pi, si);
		pi.next[si] = pi.pend[b];
		pi.pend[b] = si;
	}
	for (size_t i = 0; i < pi.n_names; i++)
		if (process(&pi, order[i]) < 0)
			goto cleanup;
	for (size_t si = 0; si < pi.n; si++)
		if (pi.v[si])
			c->smp_base[si] = pi.top[si];
	ret = 0;
cleanup:
	free(order);
	free(pi.v);
	free(pi.top);
	free(pi.k);
	free(pi.next);
	free(pi.node);
	free(pi.pend);
	free(pi.state);
	free(pi.size);
	free(pi.addr);
	free(pi.calls);
	free(pi.local);
	free(pi.g);
	free(pi.heap);
	cpgo_hashmap_release(&pi.g_map);
	return ret;
}
