/*
 * Frames that tail calls removed from the stacks, put back.
 *
 * When F ends in a tail call (`jmp callee` or `jmp *ptr`), F's frame is
 * gone by the time callee runs: a stack shows C -> callee although C
 * called F. The pre-inliner must refuse that call (an inline instance of
 * callee in C matches no call of C's), so the hot pair (F inlined into C,
 * F's indirect call promoted to callee) that instrumented PGO finds is
 * lost, and F's indirect call gets no call target either.
 *
 * Where the profiled binary leaves one reading, the frame is put back: the
 * call instruction before C's return address is a direct call to F (not
 * to the sampled callee), F's code (walked instruction by instruction) has
 * exactly one jump that can reach callee (a direct jmp to callee's start;
 * else its only indirect jmp, when F jumps directly to no other function)
 * and the binary's line table knows the jump's line. The stack becomes
 * C -> F (at the jump's line and inline chain) -> callee. Only x86-64; a
 * chain of several tail calls (F jumps to G, which jumps to callee) is
 * left alone, as is any F with two candidate jumps.
 */
#include "sprof_int.h"
#include "util/error.h"
#include "pprof/profile.h"
#include "elf/elfinspect.h"
#include "elf/symbolize.h"
#include "elf/x86len.h"
#include "elf/elfcode.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tc_sym {
	uint64_t addr, size;
	size_t jump_first, n_jump;
	unsigned char walked, ok; /* ok: the whole body decoded */
};

struct tc_jump {
	uint64_t at, len, target;
	enum x86_jump kind;
	uint64_t loc;   /* the location made for it (0: none) */
	uint64_t delta; /* runtime address - ELF address in the mapping */
	int used;
};

struct tc_ins {
	size_t sample, k, jump; /* a frame for `jump` goes between stack frames k - 1 and k */
};

struct tc {
	struct sp_ctx *c;
	const struct cpgo_elf_code *code; /* the context's (sp_code) */
	struct tc_sym *sym;
	size_t n_sym;
	struct tc_jump *jump;
	size_t n_jump, alloc_jump;
	struct tc_ins *ins;
	size_t n_ins, alloc_ins;
	uint64_t *va; /* per location: ELF address, 0 = not in the binary */
};

/* Code sections and function symbols; 0 with nothing read when not x86-64. */
static int tc_read(struct tc *t)
{
	if (!(t->code = sp_code(t->c)))
		return -1;
	if (t->code->machine != EM_X86_64 || !t->code->n_fn)
		return 0;
	if (!(t->sym = calloc(t->code->n_fn, sizeof(*t->sym))))
		return error("%s: out of memory", t->c->pname);
	for (size_t i = 0; i < t->code->n_fn; i++)
		t->sym[i] = (struct tc_sym){ .addr = t->code->fn[i].addr, .size = t->code->fn[i].size };
	t->n_sym = t->code->n_fn;
	return 0;
}

static const unsigned char *code_at(const struct tc *t, uint64_t a, uint64_t *avail)
{
	return cpgo_elf_code_at(t->code, a, avail);
}

/* The symbol containing `a` (exact: starting at it), or -1; t->sym is parallel to code->fn. */
static long sym_find(const struct tc *t, uint64_t a, int exact)
{
	const struct cpgo_elf_range *fn = t->n_sym ? cpgo_elf_code_function(t->code, a) : NULL;

	if (!fn || (exact && fn->addr != a))
		return -1;
	return (long)(fn - t->code->fn);
}

/* The function's unconditional jumps that leave it, found once. */
static int walk(struct tc *t, size_t si)
{
	struct tc_sym *s = &t->sym[si];
	uint64_t avail, a = s->addr, end = s->addr + s->size;
	const unsigned char *b = code_at(t, a, &avail);

	s->walked = 1;
	s->jump_first = t->n_jump;
	if (!b || avail < s->size)
		return 0;
	while (a < end) {
		size_t len = x86_insn_len(b + (a - s->addr), (size_t)(end - a));
		uint64_t to = 0;
		enum x86_jump k;

		if (!len)
			return 0; /* not decodable: no reading of this function is safe */
		k = x86_insn_jump(b + (a - s->addr), len, a, &to);
		if (k == X86_JUMP_INDIRECT || (k == X86_JUMP_DIRECT && (to < s->addr || to >= end))) {
			if (CPGO_GROW(t->jump, t->alloc_jump, t->n_jump + 1) < 0)
				return -1;
			t->jump[t->n_jump++] = (struct tc_jump){ a, len, to, k, 0, 0, 0 };
		}
		a += len;
	}
	s = &t->sym[si];
	s->n_jump = t->n_jump - s->jump_first;
	s->ok = 1;
	return 0;
}

/* F's one jump that can reach the function starting at `callee`, or -1. */
static long tail_jump(struct tc *t, size_t f, uint64_t callee)
{
	long direct = -1, indirect = -1;
	size_t n_direct = 0, n_indirect = 0, n_other = 0;

	if (!t->sym[f].walked && walk(t, f) < 0)
		return -2;
	if (!t->sym[f].ok)
		return -1;
	for (size_t i = 0; i < t->sym[f].n_jump; i++) {
		size_t j = t->sym[f].jump_first + i;
		if (t->jump[j].kind == X86_JUMP_INDIRECT)
			indirect = (long)j, n_indirect++;
		else if (t->jump[j].target == callee)
			direct = (long)j, n_direct++;
		else
			n_other++;
	}
	if (n_direct)
		return n_direct == 1 ? direct : -1;
	/* A jump table's jmp looks the same: F must offer no other way out. */
	return n_indirect == 1 && !n_other ? indirect : -1;
}

/* The target of a direct call (E8 rel32) that returns to `ret`, or 0. */
static uint64_t call_target(const struct tc *t, uint64_t ret)
{
	uint64_t avail;
	const unsigned char *b;
	int32_t rel;

	if (ret < 5 || !(b = code_at(t, ret - 5, &avail)) || avail < 5 || b[0] != 0xe8)
		return 0;
	rel = (int32_t)((uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24);
	return ret + (uint64_t)(int64_t)rel;
}

/*
 * A frame missing between stack frames k - 1 (callee) and k (caller): the
 * jump to put back; -1 none missing, -3 missing but no single jump, -2 error.
 */
static long missing_frame(struct tc *t, const struct cpgo_location *caller,
			  const struct cpgo_location *callee)
{
	const struct cpgo_profile *p = t->c->p;
	uint64_t vc = t->va[caller - p->locations], ve = t->va[callee - p->locations], to;
	long s, f;

	if (!vc || !ve || (s = sym_find(t, ve, 0)) < 0)
		return -1;
	/* libcpgo and perf record a caller at its return address - 1; others at the return address. */
	if (!(to = call_target(t, vc + 1)) && !(to = call_target(t, vc)))
		return -1;
	if (to == t->sym[s].addr)
		return -1;
	if ((f = sym_find(t, to, 1)) < 0 || f == s)
		return -3;
	f = tail_jump(t, (size_t)f, t->sym[s].addr);
	return f == -1 ? -3 : f;
}

static int cmp_ins(const void *a, const void *b)
{
	const struct tc_ins *x = a, *y = b;
	if (x->sample != y->sample)
		return x->sample < y->sample ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

int sp_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The stacks with the new frames: appended to sample_locs, the old slices abandoned. */
static int rewrite(struct tc *t)
{
	struct cpgo_profile *p = t->c->p;

	qsort(t->ins, t->n_ins, sizeof(*t->ins), cmp_ins);
	for (size_t i = 0, j; i < t->n_ins; i = j) {
		struct cpgo_sample *s = &p->samples[t->ins[i].sample];
		size_t off = s->loc_off, n = s->n_loc, at = p->n_sample_locs, e = i;

		for (j = i; j < t->n_ins && t->ins[j].sample == t->ins[i].sample; j++)
			;
		if (CPGO_GROW(p->sample_locs, p->alloc_sample_locs, at + n + (j - i)) < 0)
			return -1;
		for (size_t k = 0; k < n; k++) {
			if (e < j && t->ins[e].k == k)
				p->sample_locs[p->n_sample_locs++] = t->jump[t->ins[e++].jump].loc;
			p->sample_locs[p->n_sample_locs++] = p->sample_locs[off + k];
		}
		s = &p->samples[t->ins[i].sample];
		s->loc_off = at;
		s->n_loc = p->n_sample_locs - at;
		t->c->st.tail_samples = sprof_sat_add(t->c->st.tail_samples, sp_sample_value(t->c, t->ins[i].sample));
	}
	return 0;
}

/* Locations for the jumps used, symbolized through the binary; 0 where it knows no line. */
static int make_locations(struct tc *t, uint64_t mapping_id)
{
	struct sp_ctx *c = t->c;
	struct cpgo_profile *p = c->p;
	struct symbolize_opts so = { .binary_override = c->o->binary };
	size_t first = p->n_location, alloc = 0;

	for (size_t j = 0; j < t->n_jump; j++) {
		struct tc_jump *x = &t->jump[j];
		/* Symbolized as a caller frame is: the last byte of the instruction. */
		if (x->used && !(x->loc = cpgo_profile_add_location(p, mapping_id,
								      x->at + x->len - 1 + x->delta,
								      NULL, 0)))
			return -1;
	}
	if (p->n_location == first)
		return 0;
	if (symbolize_profile(p, &so) < 0 || cpgo_profile_index(p) < 0)
		return -1;
	for (size_t j = 0; j < t->n_jump; j++) {
		struct tc_jump *x = &t->jump[j];
		const struct cpgo_location *l = x->loc ? cpgo_profile_location(p, x->loc) : NULL;
		if (!x->loc)
			continue;
		if (!l || !l->n_line || p->lines[l->line_off].line <= 0) {
			x->loc = 0;
			continue;
		}
		if (CPGO_GROW(c->tail_at, alloc, c->n_tail + 1) < 0)
			return -1;
		c->tail_at[c->n_tail++] = x->at + x->len - 1;
		c->st.tail_frames++;
	}
	if (c->n_tail)
		qsort(c->tail_at, c->n_tail, sizeof(*c->tail_at), sp_cmp_u64);
	return 0;
}

int sp_tailcall_frames(struct sp_ctx *c)
{
	struct tc t = { .c = c };
	struct cpgo_profile *p = c->p;
	const struct cpgo_mapping *m = sp_binary_mapping(c);
	uint64_t mid;
	int ret = -1;

	if (!m)
		return 0;
	mid = m->id;
	if (tc_read(&t) < 0)
		goto cleanup;
	if (!t.code->n_text || !t.n_sym) {
		ret = 0;
		goto cleanup;
	}
	if (!(t.va = calloc(p->n_location + 1, sizeof(*t.va)))) {
		error("%s: out of memory", c->pname);
		goto cleanup;
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *l = &p->locations[i];
		if (l->address && (!l->mapping_id || l->mapping_id == mid) &&
		    sym_dso_runtime_to_vaddr(c->dso, l->address, m->memory_start, m->file_offset,
					     &t.va[i]) < 0) {
			cpgo_clear_error();
			t.va[i] = 0;
		}
	}
	for (size_t si = 0; si < p->n_sample; si++) {
		const struct cpgo_sample *s = &p->samples[si];
		int refused = 0;

		if (!sp_sample_value(c, si))
			continue;
		for (size_t k = 1; k < s->n_loc; k++) {
			const struct cpgo_location *caller = cpgo_profile_location(p, p->sample_locs[s->loc_off + k]);
			const struct cpgo_location *callee =
				cpgo_profile_location(p, p->sample_locs[s->loc_off + k - 1]);
			long j;

			if (!caller || !callee)
				continue;
			if ((j = missing_frame(&t, caller, callee)) == -2)
				goto cleanup;
			if (j < 0) {
				refused |= j == -3;
				continue;
			}
			if (!t.jump[j].used)
				t.jump[j].delta = caller->address - t.va[caller - p->locations];
			t.jump[j].used = 1;
			if (CPGO_GROW(t.ins, t.alloc_ins, t.n_ins + 1) < 0)
				goto cleanup;
			t.ins[t.n_ins++] = (struct tc_ins){ si, k, (size_t)j };
		}
		if (refused)
			c->st.tail_left = sprof_sat_add(c->st.tail_left, sp_sample_value(c, si));
	}
	if (!t.n_ins) {
		ret = 0;
		goto cleanup;
	}
	if (make_locations(&t, mid) < 0)
		goto cleanup;
	{
		size_t n = 0;
		for (size_t i = 0; i < t.n_ins; i++)
			if (t.jump[t.ins[i].jump].loc)
				t.ins[n++] = t.ins[i];
		t.n_ins = n;
	}
	if (rewrite(&t) < 0 || cpgo_profile_index(p) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	free(t.sym);
	free(t.jump);
	free(t.ins);
	free(t.va);
	return ret;
}
