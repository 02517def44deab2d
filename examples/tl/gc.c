/* Mark-sweep collection, triggered by bytes allocated since the last one. */
#include <stdlib.h>

#include "tl.h"

static struct tl_obj *objects;
static size_t allocated, threshold = 8u << 20;

static struct tl_val *stack_base, **stack_top;
static struct tl_map *root_map;
static struct tl_proto **protos;
static size_t nprotos, capprotos;

static struct tl_obj **gray;
static size_t ngray, capgray;

void *gc_alloc(size_t size, int type)
{
	struct tl_obj *o = malloc(size);
	if (!o)
		fatal("out of memory");
	o->type = (unsigned char)type;
	o->marked = 0;
	o->next = objects;
	objects = o;
	allocated += size;
	return o;
}

void gc_add_root_range(struct tl_val *base, struct tl_val **top)
{
	stack_base = base;
	stack_top = top;
}

void gc_add_root_map(struct tl_map *m)
{
	root_map = m;
}

void gc_add_proto(struct tl_proto *p)
{
	if (nprotos == capprotos) {
		capprotos = capprotos ? capprotos * 2 : 16;
		protos = realloc(protos, capprotos * sizeof(*protos));
		if (!protos)
			fatal("out of memory");
	}
	protos[nprotos++] = p;
}

static void mark_obj(struct tl_obj *o)
{
	if (!o || o->marked)
		return;
	o->marked = 1;
	if (o->type == T_STR || o->type == T_FN)
		return;
	if (ngray == capgray) {
		capgray = capgray ? capgray * 2 : 256;
		gray = realloc(gray, capgray * sizeof(*gray));
		if (!gray)
			fatal("out of memory");
	}
	gray[ngray++] = o;
}

static void mark_val(struct tl_val v)
{
	if (v.t >= T_STR)
		mark_obj(v.u.o);
}

static void trace(void)
{
	while (ngray) {
		struct tl_obj *o = gray[--ngray];
		if (o->type == T_MAP) {
			struct tl_map *m = (struct tl_map *)o;
			for (uint32_t i = 0; i < m->cap; i++) {
				mark_val(m->e[i].k);
				mark_val(m->e[i].v);
			}
		} else if (o->type == T_ARR) {
			struct tl_arr *a = (struct tl_arr *)o;
			for (uint32_t i = 0; i < a->len; i++)
				mark_val(a->v[i]);
		}
	}
}

static void free_obj(struct tl_obj *o)
{
	if (o->type == T_MAP)
		free(((struct tl_map *)o)->e);
	else if (o->type == T_ARR)
		free(((struct tl_arr *)o)->v);
	free(o);
}

static void collect(void)
{
	for (struct tl_val *v = stack_base; stack_top && v < *stack_top; v++)
		mark_val(*v);
	if (root_map)
		mark_obj(&root_map->h);
	for (size_t i = 0; i < nprotos; i++)
		for (size_t j = 0; j < protos[i]->nk; j++)
			mark_val(protos[i]->k[j]);
	trace();
	str_sweep_interned();
	size_t live = 0;
	struct tl_obj **pp = &objects;
	while (*pp) {
		struct tl_obj *o = *pp;
		if (o->marked) {
			o->marked = 0;
			live++;
			pp = &o->next;
		} else {
			*pp = o->next;
			free_obj(o);
		}
	}
	allocated = 0;
	threshold = live * 64 > (8u << 20) ? live * 64 : (8u << 20);
}

void gc_maybe_collect(void)
{
	if (allocated > threshold)
		collect();
}

void gc_free_all(void)
{
	while (objects) {
		struct tl_obj *o = objects;
		objects = o->next;
		free_obj(o);
	}
}
