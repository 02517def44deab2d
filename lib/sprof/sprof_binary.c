/*
 * What the profiled binary adds to a profile: proof that it is the profiled
 * one (build id), the discriminators of sampled lines, explicit zeros for
 * the unsampled lines of sampled functions, and the symbol list of
 * functions never sampled (cold to clang).
 */
#include "sprof_int.h"
#include "util/error.h"
#include "util/hash.h"
#include "pprof/profile.h"
#include "elf/symbolize.h"
#include "elf/elfcode.h"
#include "elf/x86len.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

uint32_t sp_disc(const struct sp_ctx *c, uint32_t d)
{
	switch (c->o->discriminators) {
	case SPROF_DISC_PLAIN:
		return d;
	case SPROF_DISC_NONE:
		return 0;
	default:
		return sprof_base_discriminator(d);
	}
}

uint32_t sp_dup(const struct sp_ctx *c, uint32_t d)
{
	if (c->o->discriminators == SPROF_DISC_PLAIN || c->o->discriminators == SPROF_DISC_NONE)
		return 1;
	return sprof_duplication_factor(d);
}

const char *sp_find_profiled_binary(const struct cpgo_profile *p)
{
	/*
	 * The profiled binary is often still at hand (a profile taken on the
	 * build machine): use it when its build id proves it is the one.
	 */
	const struct cpgo_mapping *m = p->n_mapping ? &p->mappings[0] : NULL;
	const char *path = m ? cpgo_profile_str(p, m->filename) : "";
	const char *want = m ? cpgo_profile_str(p, m->build_id) : "";
	struct sym_dso *d = NULL;
	int same = 0;

	if (*path && *want && !access(path, R_OK) && sym_dso_open(&d, path, NULL) == 0) {
		same = !strcasecmp(want, sym_dso_build_id(d));
		sym_dso_close(d);
	}
	cpgo_clear_error();
	return same ? path : NULL;
}

int sp_open_dso_for_repair(struct sp_ctx *c)
{
	/* Like Go's pprof tools: the main mapping's file, when it is still there. */
	const struct cpgo_mapping *m = c->p->n_mapping ? &c->p->mappings[0] : NULL;
	const char *path = m ? cpgo_profile_str(c->p, m->filename) : "";
	const char *want = m ? cpgo_profile_str(c->p, m->build_id) : "";

	if (!*path || access(path, R_OK))
		return 0;
	if (sym_dso_open(&c->dso, path, NULL) < 0) {
		c->dso = NULL;
		return 0;
	}
	if (*want && *sym_dso_build_id(c->dso) && strcasecmp(want, sym_dso_build_id(c->dso))) {
		sym_dso_close(c->dso);
		c->dso = NULL;
	}
	return 0;
}

const struct cpgo_mapping *sp_binary_mapping(const struct sp_ctx *c)
{
	const char *bin = c->o->binary, *bb = strrchr(bin, '/');
	const char *bid = sym_dso_build_id(c->dso);

	bb = bb ? bb + 1 : bin;
	for (size_t i = 0; i < c->p->n_mapping; i++) {
		const struct cpgo_mapping *m = &c->p->mappings[i];
		const char *mb = cpgo_profile_str(c->p, m->build_id);
		if (*mb && *bid && !strcasecmp(mb, bid))
			return m;
	}
	for (size_t i = 0; i < c->p->n_mapping; i++) {
		const struct cpgo_mapping *m = &c->p->mappings[i];
		const char *mf = cpgo_profile_str(c->p, m->filename), *mfb = strrchr(mf, '/');
		mfb = mfb ? mfb + 1 : mf;
		if (!strcmp(mfb, bb))
			return m;
	}
	return c->p->n_mapping ? &c->p->mappings[0] : NULL;
}

static int check_mapping(struct sp_ctx *c, const struct cpgo_mapping *m)
{
	const char *want = m ? cpgo_profile_str(c->p, m->build_id) : "";
	const char *have = sym_dso_build_id(c->dso);

	if (*want && *have && strcasecmp(want, have))
		return error("%s: was recorded from a binary with build id %s, but %s has build id %s; "
			     "pass the binary that was profiled with --binary",
			     c->pname, want, c->o->binary, have);
	return 0;
}

int sp_check_binary(struct sp_ctx *c)
{
	return check_mapping(c, sp_binary_mapping(c));
}

static int64_t frame_name(struct sp_ctx *c, const struct sym_frame *f, struct cpgo_buf *cn,
			  int create)
{
	const char *nm = sprof_pick_name(f->name, f->linkage_name);
	if (sprof_canonical_name(nm, cn) < 0)
		return -1;
	return create ? sprof_name_intern(c->m, cn->buf) : sprof_name_find(c->m, cn->buf);
}

/* 1 when the binary's frames at `vaddr` are the location's (same depth, same lines). */
static int frames_match(struct sp_ctx *c, const struct cpgo_location *loc, uint64_t vaddr,
			struct sym_frame *fr)
{
	int n = sym_dso_lookup(c->dso, vaddr, fr, SPROF_MAX_FRAMES);

	if (n < 0)
		return -1;
	if ((size_t)n != loc->n_line)
		return 0;
	for (size_t j = 0; j < loc->n_line; j++)
		if (fr[j].line != c->p->lines[loc->line_off + j].line)
			return 0;
	return 1;
}

/* Same function, by the name the profile keys it under. */
static int same_function(struct sp_ctx *c, const struct sym_frame *a, const struct sym_frame *b,
			 struct cpgo_buf *cn)
{
	int64_t x = frame_name(c, a, cn, 0), y;
	if (x < 0)
		return 0;
	y = frame_name(c, b, cn, 0);
	return x == y;
}

/* Is the instruction at b (len bytes) a call (E8 rel32, FF /2)? */
static int is_call(const unsigned char *b, size_t len)
{
	size_t i = 0;
	while (i < len && (b[i] == 0x66 || b[i] == 0x2e || b[i] == 0x3e || b[i] == 0xf2 ||
			   (b[i] & 0xf0) == 0x40))
		i++;
	return i < len && (b[i] == 0xe8 || (b[i] == 0xff && i + 1 < len && ((b[i + 1] >> 3) & 7) == 2));
}

/* Frames at `a` are those of `fr` but for the innermost line: the same inline instance. */
static int same_instance(struct sp_ctx *c, uint64_t a, const struct sym_frame *fr, int n,
			 struct sym_frame *pf, struct cpgo_buf *cn)
{
	int m = sym_dso_lookup(c->dso, a, pf, SPROF_MAX_FRAMES), j;

	if (m < 0)
		return -1;
	if (m != n || pf[0].line <= 0 || !same_function(c, &pf[0], &fr[0], cn))
		return 0;
	for (j = 1; j < n; j++)
		if (pf[j].line != fr[j].line || pf[j].discriminator != fr[j].discriminator)
			return 0;
	return 1;
}

static int cmp_l0x(const void *a, const void *b)
{
	const struct sp_l0x *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

size_t sp_line0_others(const struct sp_ctx *c, size_t line, const struct sp_l0x **first)
{
	size_t lo = 0, hi = c->n_l0x, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->l0x[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = c->l0x + lo;
	while (lo + n < c->n_l0x && c->l0x[lo + n].line == line)
		n++;
	return n;
}

const struct cpgo_elf_code *sp_code(struct sp_ctx *c)
{
	if (c->code_failed) {
		error("%s: cannot read its machine code", c->o->binary);
		return NULL;
	}
	if (!c->code) {
		if (!(c->code = calloc(1, sizeof(*c->code)))) {
			error("%s: out of memory", c->pname);
			return NULL;
		}
		if (cpgo_elf_code_open(c->code, c->o->binary) < 0) {
			free(c->code);
			c->code = NULL;
			c->code_failed = 1;
			return NULL;
		}
	}
	return c->code;
}

void sp_code_release(struct sp_ctx *c)
{
	if (c->code) {
		cpgo_elf_code_close(c->code);
		free(c->code);
		c->code = NULL;
	}
	c->code_failed = 0;
}

void sp_line0_release(struct sp_ctx *c)
{
	free(c->l0x);
	c->l0x = NULL;
	c->n_l0x = c->alloc_l0x = 0;
}

/*
 * The call at `at` (line 0, its line now that of the instruction `back`
 * bytes before it) may be several source calls folded into one: clang sinks
 * the calls of several branches into one and the others jump to it (or to
 * the instructions before it that lead there), from their last real line,
 * that of their own source call's argument set-up. Those lines are recorded as more sites of the
 * call (x86-64 only: the function's code is walked from its symbol).
 */
static int folded_calls(struct sp_ctx *c, const struct cpgo_location *loc, uint64_t at,
			uint64_t back, const struct sym_frame *fr, struct cpgo_buf *cn)
{
	struct sym_frame pf[SPROF_MAX_FRAMES];
	const struct cpgo_elf_code *ec;
	const struct cpgo_elf_range *fn;
	const unsigned char *code;
	uint64_t *starts = NULL, avail, call_at = 0, tail = 0, a;
	size_t n = 0, alloc = 0;
	int ret = -1;

	/* Unreadable code: no other sites. */
	if (!(ec = sp_code(c)))
		cpgo_clear_error();
	if (!ec || ec->machine != EM_X86_64 || !(fn = cpgo_elf_code_function(ec, at)) ||
	    !(code = cpgo_elf_code_at(ec, fn->addr, &avail)) || avail < fn->size)
		return 0;
	for (a = fn->addr; a < fn->addr + fn->size;) {
		size_t len = x86_insn_len(code + (a - fn->addr), (size_t)(fn->addr + fn->size - a));
		if (!len)
			goto done; /* undecodable: no other sites */
		if (CPGO_GROW(starts, alloc, n + 1) < 0)
			goto done;
		starts[n++] = a;
		/* The real-line instruction the call's line was taken from starts its tail. */
		if (at - back >= a && at - back < a + len)
			tail = a;
		if (at >= a && at < a + len)
			call_at = is_call(code + (a - fn->addr), len) ? a : 0;
		a += len;
	}
	if (!call_at || !tail)
		goto ok;
	for (size_t i = 0; i < n; i++) {
		size_t len = (i + 1 < n ? starts[i + 1] : fn->addr + fn->size) - starts[i];
		uint64_t to;
		int r = 0;

		/* A branch from elsewhere into the code that leads to the call. */
		if (!x86_insn_branch(code + (starts[i] - fn->addr), len, starts[i], &to) ||
		    to < tail || to > call_at || (starts[i] >= tail && starts[i] <= call_at))
			continue;
		/* Its own line, or that of the instructions just before it (a jmp may be line 0). */
		for (size_t j = i + 1; j-- > 0 && starts[i] - starts[j] <= SP_LINE0_SEARCH_BYTES;)
			if ((r = same_instance(c, starts[j], fr, (int)loc->n_line, pf, cn)) != 0)
				break;
		if (r < 0)
			goto done;
		if (!r || (pf[0].line == c->line_no[loc->line_off] &&
			   sp_disc(c, pf[0].discriminator) == c->line_disc[loc->line_off]))
			continue;
		if (CPGO_GROW(c->l0x, c->alloc_l0x, c->n_l0x + 1) < 0)
			goto done;
		c->l0x[c->n_l0x++] = (struct sp_l0x){ loc->line_off, pf[0].line, sp_disc(c, pf[0].discriminator) };
		c->st.line0_folded++;
	}
ok:
	ret = 0;
done:
	if (ret < 0 && !*cpgo_last_error())
		error("%s: out of memory", c->pname);
	free(starts);
	return ret;
}

/*
 * Line 0 marks code the compiler merged or moved; a call there (two source
 * calls folded into one `call *%reg`) would lose its call targets. The
 * nearest preceding address of the same inline instance with a real line
 * (the argument set-up of that call, as a rule) stands for it.
 */
static int remap_line0(struct sp_ctx *c, const struct cpgo_location *loc, uint64_t at,
		       const struct sym_frame *fr, struct cpgo_buf *cn)
{
	struct sym_frame pf[SPROF_MAX_FRAMES];

	for (uint64_t d = 1; d <= SP_LINE0_SEARCH_BYTES && d <= at; d++) {
		int r = same_instance(c, at - d, fr, (int)loc->n_line, pf, cn);

		if (r < 0)
			return -1;
		if (!r)
			continue;
		c->line_no[loc->line_off] = pf[0].line;
		c->line_disc[loc->line_off] = sp_disc(c, pf[0].discriminator);
		c->line_dup[loc->line_off] = sp_dup(c, pf[0].discriminator);
		c->line_remapped[loc->line_off] = 1;
		c->st.line0_remapped++;
		return folded_calls(c, loc, at, d, fr, cn);
	}
	return 0;
}

int sp_resolve_discriminators(struct sp_ctx *c)
{
	const struct cpgo_mapping *m = sp_binary_mapping(c);
	struct sym_frame fr[SPROF_MAX_FRAMES];
	struct cpgo_buf cn = CPGO_BUF_INIT;
	int ret = -1;

	if (check_mapping(c, m) < 0)
		return -1;
	for (size_t i = 0; i < c->p->n_location; i++) {
		const struct cpgo_location *loc = &c->p->locations[i];
		uint64_t vaddr = loc->address, at;
		int r;

		if (!loc->n_line || !loc->address)
			continue;
		if (m && loc->mapping_id && loc->mapping_id != m->id)
			continue;
		if (m && sym_dso_runtime_to_vaddr(c->dso, loc->address, m->memory_start,
						  m->file_offset, &vaddr) < 0) {
			cpgo_clear_error();
			continue;
		}
		/*
		 * A return address points after the call: the call's own line is
		 * one byte back (what pprof symbolizers look up for non-leaf frames).
		 */
		at = vaddr;
		if ((r = frames_match(c, loc, at, fr)) == 0 && vaddr)
			r = frames_match(c, loc, at = vaddr - 1, fr);
		if (r < 0)
			goto cleanup;
		if (!r)
			continue;
		for (size_t j = 0; j < loc->n_line; j++) {
			c->line_disc[loc->line_off + j] = sp_disc(c, fr[j].discriminator);
			c->line_dup[loc->line_off + j] = sp_dup(c, fr[j].discriminator);
		}
		/* The skid rule looks one byte before a sampled instruction, not a return address. */
		if (at == vaddr)
			c->loc_vaddr[i] = vaddr;
		c->loc_ret[i] = vaddr; /* as a caller frame: the pre-inliner reads its call */
		c->st.locations_with_binary++;
		if (fr[0].line == 0 && c->line0 != SPROF_LINE0_DROP && remap_line0(c, loc, at, fr, &cn) < 0)
			goto cleanup;
	}
	if (c->n_l0x)
		qsort(c->l0x, c->n_l0x, sizeof(*c->l0x), cmp_l0x);
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}

/* ---- the skid rule ---- */

struct skid_key {
	size_t fs;
	uint32_t off, disc;
};

static uint32_t skid_hash(const struct skid_key *k)
{
	return (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(CPGO_HASH_SEED, k->fs),
						     ((uint64_t)k->off << 32) | k->disc));
}

static int skid_eq(const void *ctx, size_t pos, const void *key)
{
	const struct sp_skid *s = &((const struct sp_ctx *)ctx)->skids[pos];
	const struct skid_key *k = key;
	return s->fs == k->fs && s->off == k->off && s->disc == k->disc;
}

static struct sp_skid *skid_find(struct sp_ctx *c, size_t fs, uint32_t off, uint32_t disc)
{
	struct skid_key k = { fs, off, disc };
	size_t pos;

	if (!c->skid_map.s)
		return NULL;
	if (!cpgo_hashmap_pos(&c->skid_map, cpgo_hashmap_find(&c->skid_map, skid_hash(&k), skid_eq, c, &k), &pos))
		return NULL;
	return &c->skids[pos];
}

int sp_skid_note(struct sp_ctx *c, size_t li, size_t fs, uint64_t v)
{
	const struct cpgo_location *loc = &c->p->locations[li];
	struct sym_frame fr[SPROF_MAX_FRAMES], here[SPROF_MAX_FRAMES];
	struct cpgo_buf cn = CPGO_BUF_INIT;
	struct skid_key k;
	uint64_t a = c->loc_vaddr[li];
	size_t slot, pos;
	int n, ret = -1;

	if (!a || sym_dso_lookup(c->dso, a, here, SPROF_MAX_FRAMES) != (int)loc->n_line)
		return 0;
	n = sym_dso_lookup(c->dso, a - 1, fr, SPROF_MAX_FRAMES);
	if (n < 0)
		return -1;
	ret = 0;
	/* Only within the same inline instance: the same call sites all the way out. */
	if ((size_t)n != loc->n_line || fr[0].line <= 0 || fr[0].start_line <= 0)
		goto cleanup;
	for (size_t j = 1; j < loc->n_line; j++)
		if (fr[j].line != here[j].line || fr[j].discriminator != here[j].discriminator)
			goto cleanup;
	if (!same_function(c, &fr[0], &here[0], &cn))
		goto cleanup;
	k = (struct skid_key){ fs, sprof_line_offset(fr[0].line, fr[0].start_line),
			       sp_disc(c, fr[0].discriminator) };
	ret = -1;
	if (cpgo_hashmap_reserve(&c->skid_map) < 0)
		goto cleanup;
	slot = cpgo_hashmap_find(&c->skid_map, skid_hash(&k), skid_eq, c, &k);
	if (!cpgo_hashmap_pos(&c->skid_map, slot, &pos)) {
		if (CPGO_GROW(c->skids, c->alloc_skid, c->n_skid + 1) < 0)
			goto cleanup;
		c->skids[c->n_skid] = (struct sp_skid){ .fs = k.fs, .off = k.off, .disc = k.disc };
		if (cpgo_hashmap_set(&c->skid_map, slot, skid_hash(&k), c->n_skid) < 0)
			goto cleanup;
		pos = c->n_skid++;
	}
	c->skids[pos].samples = sprof_sat_add(c->skids[pos].samples, v);
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}


/*
 * The explicit zero of the line at the address whose frames are fr[0..n)
 * (outermost last), in the profile `root` of the outermost function: nested
 * through the binary's inline chain, unless the line has a record already
 * or the skid rule protects it.
 */
static int zero_line(struct sp_ctx *c, int64_t root, const struct sym_frame *fr, int n,
		     struct cpgo_buf *cn)
{
	int64_t fs = root, nm;
	uint32_t off, disc;
	struct sp_skid *sk;

	for (int j = n - 1; j > 0 && fs >= 0; j--) {
		if (fr[j].line <= 0 || fr[j].start_line <= 0)
			return 0;
		if ((nm = frame_name(c, &fr[j - 1], cn, 1)) < 0)
			return -1;
		fs = sprof_fs_get(c->m, (uint64_t)fs, sprof_line_offset(fr[j].line, fr[j].start_line),
				  sp_disc(c, fr[j].discriminator), (uint32_t)nm, 1);
	}
	if (fs < 0)
		return -1;
	if (fr[0].line <= 0 || fr[0].start_line <= 0)
		return 0;
	off = sprof_line_offset(fr[0].line, fr[0].start_line);
	disc = sp_disc(c, fr[0].discriminator);
	if (sprof_rec_get(c->m, (size_t)fs, off, disc, 0) >= 0)
		return 0;
	if (c->skid && (sk = skid_find(c, (size_t)fs, off, disc))) {
		if (!sk->used) {
			sk->used = 1;
			c->st.skid_protected++;
			c->st.skid_samples = sprof_sat_add(c->st.skid_samples, sk->samples);
		}
		return 0;
	}
	if (sprof_rec_get(c->m, (size_t)fs, off, disc, 1) < 0)
		return -1;
	c->st.zero_lines++;
	return 0;
}

static int cmp_root(const void *a, const void *b, void *arg)
{
	const struct sprof_model *m = arg;
	uint32_t x = m->fs[*(const size_t *)a].name, y = m->fs[*(const size_t *)b].name;
	return x < y ? -1 : x > y;
}

/* The context roots of function `name` in roots[0..n) (sorted by name): [*lo, *hi). */
static void roots_range(const struct sp_ctx *c, const size_t *roots, size_t n, uint32_t name,
			size_t *lo, size_t *hi)
{
	size_t a = 0, b = n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (c->m->fs[roots[mid]].name < name)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (a < n && c->m->fs[roots[a]].name == name)
		a++;
	*hi = a;
}

/*
 * The code of function `name` in symbol `sym`, as runs of addresses of one
 * line (of one inline frame): the units a sample can land in. Same checks
 * as the zero pass itself.
 */
static int line_ranges(struct sp_ctx *c, const struct cpgo_elf_func_sym *sym, int64_t name,
		       const char *file,
		       struct sym_frame *fr, struct cpgo_buf *cn, uint64_t *out)
{
	const char *prev_name = NULL;
	int64_t prev_line = -1;
	uint32_t prev_disc = 0;
	int prev_n = -1;

	*out = 0;
	for (uint64_t a = sym->addr; a < sym->addr + sym->size; a++) {
		int n = sym_dso_lookup(c->dso, a, fr, SPROF_MAX_FRAMES);
		const struct sym_frame *outer;

		if (n < 0)
			return -1;
		if (n == 0 || fr[0].line <= 0)
			continue;
		outer = &fr[n - 1];
		if (frame_name(c, outer, cn, 0) != name)
			continue;
		if (file && *file && *outer->file && !sprof_path_suffix_score(file, outer->file))
			continue;
		if (n != prev_n || fr[0].line != prev_line || fr[0].discriminator != prev_disc ||
		    fr[0].name != prev_name)
			(*out)++;
		prev_n = n;
		prev_line = fr[0].line;
		prev_disc = fr[0].discriminator;
		prev_name = fr[0].name;
	}
	return 0;
}

/*
 * Whether profile `fs` has samples enough to tell its cold lines from its
 * lukewarm ones. A line that takes a share q of a function's time is missed
 * by all of its S samples with probability (1 - q)^S ~ e^(-qS), so a line
 * without samples only has q < 3/S (95% confidence): cold only when that is
 * well under the average share of the function's L line ranges, 1/L, i.e.
 * S >= SP_THIN_PER_RANGE * L. Below, a line the training never ran and one
 * that ran too briefly to be sampled look the same; and clang's profile
 * inference makes every block without samples cold, zeros or not, so a
 * function the training barely touched would be compiled as cold code
 * (not inlined into, optimized for size) on a workload that runs it.
 */
static int enough_samples(struct sp_ctx *c, size_t fs, uint64_t ranges)
{
	if (ranges > SP_THIN_MAX_RANGES)
		ranges = SP_THIN_MAX_RANGES;
	return (double)c->m->fs[fs].total >= SP_THIN_PER_RANGE * (double)ranges;
}

struct zl {
	struct sp_ctx *c;
	struct cpgo_buf cn;
	struct sym_frame fr[SPROF_MAX_FRAMES];
	size_t *roots, n_roots;
	unsigned char *no_zero;
};

static int zero_sym(const struct cpgo_elf_func_sym *sym, void *arg)
{
	struct zl *z = arg;
	struct sp_ctx *c = z->c;
	struct sym_frame *fr = z->fr;
	int64_t name, top;
	size_t lo, hi;
	const char *file;

	if (sym->size > (1u << 24))
		return 0;
	if (sprof_canonical_name(sym->name, &z->cn) < 0)
		return -1;
	if ((name = sprof_name_find(c->m, z->cn.buf)) < 0)
		return 0;
	top = sprof_fs_get(c->m, SPROF_NO_PARENT, 0, 0, (uint32_t)name, 0);
	/* Also the inline instances the pre-inliner made of this function. */
	roots_range(c, z->roots, z->n_roots, (uint32_t)name, &lo, &hi);
	if (top < 0 && lo == hi)
		return 0;
	file = top >= 0 ? c->m->fs[top].file : c->m->fs[z->roots[lo]].file;
	/* A second symbol of a function left out (its .cold part): nothing to add. */
	if (top >= 0 && c->m->fs[top].dropped)
		top = -1;
	if (top < 0 && lo == hi)
		return 0;
	if (c->thin) {
		uint64_t ranges;
		if (line_ranges(c, sym, name, file, fr, &z->cn, &ranges) < 0)
			return -1;
		if (top >= 0 && !enough_samples(c, top, ranges)) {
			c->m->fs[top].dropped = 1;
			c->st.thin_dropped++;
			top = -1;
		}
		for (size_t r = lo; r < hi; r++)
			if ((z->no_zero[r] = !enough_samples(c, z->roots[r], ranges)))
				c->st.thin_instances++;
	}
	for (uint64_t a = sym->addr; a < sym->addr + sym->size; a++) {
		int n = sym_dso_lookup(c->dso, a, fr, SPROF_MAX_FRAMES);
		const struct sym_frame *outer;

		if (n < 0)
			return -1;
		if (n == 0)
			continue;
		outer = &fr[n - 1];
		if (frame_name(c, outer, &z->cn, 0) != name)
			continue;
		/* Same-named statics of other files have their own symbols. */
		if (file && *file && *outer->file && !sprof_path_suffix_score(file, outer->file))
			continue;
		if (top >= 0 && zero_line(c, top, fr, n, &z->cn) < 0)
			return -1;
		for (size_t r = lo; r < hi; r++)
			if (!z->no_zero[r] && zero_line(c, (int64_t)z->roots[r], fr, n, &z->cn) < 0)
				return -1;
	}
	return 0;
}

/*
 * llvm-profgen writes a zero count for every line of a sampled function
 * that got no sample: clang then knows the line is cold, not unknown.
 * Walks the ELF symbols of sampled functions and every address in them.
 * A binary whose code cannot be read gets no zeros.
 */
int sp_add_zero_lines(struct sp_ctx *c)
{
	struct zl z = { .c = c, .cn = CPGO_BUF_INIT };
	const struct cpgo_elf_code *code;
	int ret = -1;

	z.roots = malloc((c->m->n_fs + 1) * sizeof(*z.roots));
	z.no_zero = calloc(c->m->n_fs + 1, 1);
	if (!z.roots || !z.no_zero) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < c->m->n_fs && i < c->alloc_fs_ctx; i++)
		if (c->fs_ctx[i])
			z.roots[z.n_roots++] = i;
	if (z.n_roots)
		qsort_r(z.roots, z.n_roots, sizeof(*z.roots), cmp_root, c->m);
	ret = 0;
	if (!(code = sp_code(c)))
		cpgo_clear_error();
	else if (cpgo_elf_code_func_syms(code, zero_sym, &z) < 0 && *cpgo_last_error())
		ret = -1;
cleanup:
	free(z.roots);
	free(z.no_zero);
	cpgo_buf_release(&z.cn);
	return ret;
}

static int psl_cb(const char *name, const char *linkage, const char *file, int64_t start,
		  void *arg)
{
	struct sp_ctx *c = arg;
	struct cpgo_buf cn = CPGO_BUF_INIT;
	int64_t id;
	int ret = -1;

	if (sprof_canonical_name(sprof_pick_name(name, linkage), &cn) < 0)
		goto cleanup;
	ret = 0;
	if (!cn.len)
		goto cleanup;
	/* A name seen in any sampled stack is not cold, whatever became of its samples. */
	id = sprof_name_find(c->m, cn.buf);
	if (id >= 0 && ((size_t)id < c->n_seen ? c->seen_name[id] : 0))
		goto cleanup;
	if (id >= 0 && sprof_fs_get(c->m, SPROF_NO_PARENT, 0, 0, (uint32_t)id, 0) >= 0)
		goto cleanup;
	ret = -1;
	if (CPGO_GROW(c->m->psl, c->m->alloc_psl, c->m->n_psl + 1) < 0)
		goto cleanup;
	c->m->psl[c->m->n_psl] = cpgo_buf_detach(&cn, NULL);
	c->m->n_psl++;
	ret = 0;
cleanup:
	cpgo_buf_release(&cn);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sp_build_psl(struct sp_ctx *c)
{
	size_t w = 0;

	if (sym_dso_each_function(c->dso, psl_cb, c) < 0)
		return -1;
	if (c->m->n_psl)
		qsort(c->m->psl, c->m->n_psl, sizeof(*c->m->psl), cmp_str);
	for (size_t i = 0; i < c->m->n_psl; i++) {
		if (w && !strcmp(c->m->psl[w - 1], c->m->psl[i])) {
			free(c->m->psl[i]);
			continue;
		}
		c->m->psl[w++] = c->m->psl[i];
	}
	c->m->n_psl = w;
	c->st.symbol_list = w;
	return 0;
}

