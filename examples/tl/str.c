/* Interned immutable strings: equal strings are the same object, so map
 * lookups compare pointers; building a string costs one intern lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

static struct tl_str **itab;
static size_t icap, icount;

uint32_t str_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void itab_grow(void)
{
	size_t ncap = icap ? icap * 2 : 1024;
	struct tl_str **n = calloc(ncap, sizeof(*n));
	if (!n)
		fatal("out of memory");
	for (size_t i = 0; i < icap; i++) {
		struct tl_str *s = itab[i];
		if (!s)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (n[j])
			j = (j + 1) & (ncap - 1);
		n[j] = s;
	}
	free(itab);
	itab = n;
	icap = ncap;
}

static struct tl_str *intern_hashed(const char *s, size_t len, uint32_t h)
{
	if ((icount + 1) * 4 > icap * 3)
		itab_grow();
	size_t j = h & (icap - 1);
	for (;;) {
		struct tl_str *e = itab[j];
		if (!e)
			break;
		if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
			return e;
		j = (j + 1) & (icap - 1);
	}
	if (len > UINT32_MAX - 1)
		fatal("string too long");
	struct tl_str *n = gc_alloc(sizeof(*n) + len + 1, T_STR);
	n->hash = h;
	n->len = (uint32_t)len;
	memcpy(n->s, s, len);
	n->s[len] = 0;
	itab[j] = n;
	icount++;
	return n;
}

struct tl_str *str_intern(const char *s, size_t len)
{
	return intern_hashed(s, len, str_hash(s, len));
}

struct tl_str *str_concat(const struct tl_str *a, const struct tl_str *b)
{
	size_t len = (size_t)a->len + b->len;
	char stackbuf[256];
	char *buf = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
	if (!buf)
		fatal("out of memory");
	memcpy(buf, a->s, a->len);
	memcpy(buf + a->len, b->s, b->len);
	struct tl_str *r = str_intern(buf, len);
	if (buf != stackbuf)
		free(buf);
	return r;
}

struct tl_str *str_from_int(int64_t i)
{
	char buf[32];
	char *p = buf + sizeof(buf);
	uint64_t u = i < 0 ? -(uint64_t)i : (uint64_t)i;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		*--p = '-';
	return str_intern(p, (size_t)(buf + sizeof(buf) - p));
}

/* sub(s, from, to): 0-based, end exclusive, clamped like Python slices. */
struct tl_str *str_sub(const struct tl_str *s, int64_t from, int64_t to)
{
	if (from < 0)
		from = 0;
	if (to > (int64_t)s->len)
		to = s->len;
	if (to < from)
		to = from;
	return str_intern(s->s + from, (size_t)(to - from));
}

/* The intern table holds strings weakly: drop the ones the GC will free. */
void str_sweep_interned(void)
{
	size_t live = 0;
	struct tl_str **old = itab;
	size_t ocap = icap;
	itab = calloc(ocap, sizeof(*itab));
	if (!itab)
		fatal("out of memory");
	for (size_t i = 0; i < ocap; i++) {
		struct tl_str *s = old[i];
		if (!s || !s->h.marked)
			continue;
		size_t j = s->hash & (icap - 1);
		while (itab[j])
			j = (j + 1) & (icap - 1);
		itab[j] = s;
		live++;
	}
	free(old);
	icount = live;
}
