/* Hash maps keyed by any value (open addressing, linear probing) and
 * growable arrays. */
#include <stdlib.h>
#include <string.h>

#include "tl.h"

static uint32_t val_hash(struct tl_val k)
{
	switch (k.t) {
	case T_STR:
		return ((struct tl_str *)k.u.o)->hash;
	case T_INT: {
		uint64_t x = (uint64_t)k.u.i * 0x9E3779B97F4A7C15ull;
		return (uint32_t)(x >> 32);
	}
	case T_BOOL:
	case T_NIL:
		return (uint32_t)k.u.i + 7u * k.t;
	default:
		return (uint32_t)((uintptr_t)k.u.o >> 4);
	}
}

int val_equal(struct tl_val a, struct tl_val b)
{
	if (a.t != b.t)
		return 0;
	return a.t == T_INT || a.t == T_BOOL || a.t == T_NIL ? a.u.i == b.u.i : a.u.o == b.u.o;
}

struct tl_map *map_new(void)
{
	struct tl_map *m = gc_alloc(sizeof(*m), T_MAP);
	m->e = NULL;
	m->cap = m->count = m->used = 0;
	return m;
}

/* An empty slot has key type T_NIL and value nil; a tombstone has key nil
 * and value true. Nil keys are not allowed in maps. */
static struct tl_entry *find(struct tl_entry *e, uint32_t cap, struct tl_val k)
{
	uint32_t i = val_hash(k) & (cap - 1);
	struct tl_entry *tomb = NULL;
	for (;;) {
		struct tl_entry *x = &e[i];
		if (x->k.t == T_NIL) {
			if (x->v.t == T_NIL)
				return tomb ? tomb : x;
			if (!tomb)
				tomb = x;
		} else if (val_equal(x->k, k)) {
			return x;
		}
		i = (i + 1) & (cap - 1);
	}
}

static void grow(struct tl_map *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 8;
	if (ncap < m->cap)
		fatal("map too large");
	struct tl_entry *n = calloc(ncap, sizeof(*n));
	if (!n)
		fatal("out of memory");
	m->count = 0;
	for (uint32_t i = 0; i < m->cap; i++) {
		struct tl_entry *x = &m->e[i];
		if (x->k.t == T_NIL)
			continue;
		*find(n, ncap, x->k) = *x;
		m->count++;
	}
	free(m->e);
	m->e = n;
	m->cap = ncap;
	m->used = m->count;
}

int map_get(const struct tl_map *m, struct tl_val k, struct tl_val *out)
{
	if (!m->count)
		return 0;
	struct tl_entry *x = find(m->e, m->cap, k);
	if (x->k.t == T_NIL)
		return 0;
	*out = x->v;
	return 1;
}

void map_set(struct tl_map *m, struct tl_val k, struct tl_val v)
{
	if (k.t == T_NIL)
		fatal("map key is nil");
	if ((m->used + 1) * 4 > m->cap * 3)
		grow(m);
	struct tl_entry *x = find(m->e, m->cap, k);
	if (x->k.t == T_NIL) {
		m->count++;
		if (x->v.t == T_NIL)
			m->used++;
	}
	x->k = k;
	x->v = v;
}

int map_del(struct tl_map *m, struct tl_val k)
{
	if (!m->count)
		return 0;
	struct tl_entry *x = find(m->e, m->cap, k);
	if (x->k.t == T_NIL)
		return 0;
	x->k = v_nil();
	x->v = v_bool(1);
	m->count--;
	return 1;
}

struct tl_arr *arr_new(void)
{
	struct tl_arr *a = gc_alloc(sizeof(*a), T_ARR);
	a->v = NULL;
	a->len = a->cap = 0;
	return a;
}

void arr_push(struct tl_arr *a, struct tl_val v)
{
	if (a->len == a->cap) {
		uint32_t ncap = a->cap ? a->cap * 2 : 8;
		if (ncap < a->cap)
			fatal("array too large");
		struct tl_val *n = realloc(a->v, ncap * sizeof(*n));
		if (!n)
			fatal("out of memory");
		a->v = n;
		a->cap = ncap;
	}
	a->v[a->len++] = v;
}
