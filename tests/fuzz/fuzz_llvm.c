/*
 * libFuzzer target for the LLVM sample-profile writer: a fuzzed pprof
 * profile is converted into both of LLVM's formats, and each output is read
 * back by a reader that follows LLVM 19's (SampleProfReader.cpp: the text
 * reader's line grammar, the ext-binary header, section table, name table,
 * function bodies and offset table). Both must decode completely, name the
 * same profiles with the same counts, and hold no duplicate that LLVM would
 * silently merge or override. llvm-profdata cannot run in-process; t2001
 * checks real files with it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llvm/llvmprof.h"
#include "pprof/profile.h"
#include "util/error.h"

#define die(what) (fprintf(stderr, "fuzz_llvm: %s\n", what), abort())

/* The line being read, shown when the text reader fails. */
static const char *cur_line;
static size_t cur_len;
#define die_text(what)                                                                      \
	(fprintf(stderr, "fuzz_llvm: %s in line '%.*s'\n", what, (int)cur_len, cur_line), abort())

/* One function profile (top level or inlined), in the order of the file. */
struct fs {
	char *name;
	uint64_t total, head, off, disc;
	int parent;
};
struct rec {
	int fs;
	uint64_t off, disc, samples;
	char *targets; /* "name\1count\n" lines, sorted */
};
struct tree {
	struct fs *fs;
	size_t n_fs, a_fs;
	struct rec *rec;
	size_t n_rec, a_rec;
};

static void *grow(void *p, size_t *alloc, size_t n, size_t size)
{
	if (n < *alloc)
		return p;
	*alloc = *alloc ? 2 * *alloc : 16;
	p = realloc(p, *alloc * size);
	if (!p)
		die("out of memory");
	return p;
}

static int add_fs(struct tree *t, const char *name, size_t len, int parent)
{
	struct fs *f;

	t->fs = grow(t->fs, &t->a_fs, t->n_fs, sizeof(*t->fs));
	f = &t->fs[t->n_fs];
	memset(f, 0, sizeof(*f));
	f->name = strndup(name, len);
	if (!f->name)
		die("out of memory");
	f->parent = parent;
	return (int)t->n_fs++;
}

static struct rec *add_rec(struct tree *t, int fs)
{
	struct rec *r;

	t->rec = grow(t->rec, &t->a_rec, t->n_rec, sizeof(*t->rec));
	r = &t->rec[t->n_rec++];
	memset(r, 0, sizeof(*r));
	r->fs = fs;
	return r;
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n_fs; i++)
		free(t->fs[i].name);
	for (size_t i = 0; i < t->n_rec; i++)
		free(t->rec[i].targets);
	free(t->fs);
	free(t->rec);
	memset(t, 0, sizeof(*t));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted "name\1count" lines; a name twice in one record is a defect. */
static char *targets_string(char **lines, size_t n)
{
	size_t len = 1;
	char *s, *p;

	if (n)
		qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++) {
		len += strlen(lines[i]) + 1;
		if (i) {
			size_t k = strcspn(lines[i], "\1");
			if (k == strcspn(lines[i - 1], "\1") && !strncmp(lines[i], lines[i - 1], k))
				die("a call target named twice in one record");
		}
	}
	p = s = malloc(len);
	if (!s)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\n", lines[i]);
	*p = '\0';
	return s;
}

/* The whole tree, canonical, as text to compare. */
static char *dump(const struct tree *t)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		die("out of memory");
	for (size_t i = 0; i < t->n_fs; i++) {
		const struct fs *x = &t->fs[i];
		fprintf(f, "F %zu <%d> %s\1%lu %lu %lu.%lu\n", i, x->parent, x->name,
			(unsigned long)x->total, (unsigned long)(x->parent < 0 ? x->head : 0),
			(unsigned long)x->off, (unsigned long)x->disc);
		for (size_t k = 0; k < t->n_rec; k++)
			if (t->rec[k].fs == (int)i)
				fprintf(f, " R %lu.%lu %lu\n%s", (unsigned long)t->rec[k].off,
					(unsigned long)t->rec[k].disc,
					(unsigned long)t->rec[k].samples, t->rec[k].targets);
	}
	fclose(f);
	return s;
}

/* Duplicates LLVM would merge: a top-level name twice, or a record/callsite twice. */
static void check_unique(const struct tree *t)
{
	for (size_t i = 0; i < t->n_fs; i++)
		for (size_t j = i + 1; j < t->n_fs; j++) {
			const struct fs *a = &t->fs[i], *b = &t->fs[j];
			if (a->parent == b->parent && !strcmp(a->name, b->name) &&
			    (a->parent < 0 || (a->off == b->off && a->disc == b->disc)))
				die("a function profile twice at one place");
		}
	for (size_t i = 0; i < t->n_rec; i++)
		for (size_t j = i + 1; j < t->n_rec; j++)
			if (t->rec[i].fs == t->rec[j].fs && t->rec[i].off == t->rec[j].off &&
			    t->rec[i].disc == t->rec[j].disc)
				die("a body record twice in one function");
}

/* StringRef::getAsInteger(10, uint64_t): all digits, no sign, no overflow. */
static int as_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static const char *rfind(const char *s, size_t n, char c)
{
	while (n--)
		if (s[n] == c)
			return s + n;
	return NULL;
}

/* SampleProfileReaderText::readImpl's grammar (no metadata lines: cpgo writes none). */
static void read_text(const char *buf, size_t len, struct tree *t)
{
	int stack[256];
	size_t depth_n = 0;
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *le = nl ? nl : end;
		size_t n = (size_t)(le - line), depth = 0;

		p = nl ? nl + 1 : end;
		cur_line = line;
		cur_len = n;
		if (!n)
			continue; /* line_iterator skips blank lines... */
		if (line[0] == '#')
			die_text("a line that LLVM reads as a comment");
		if (line[0] != ' ') {
			/* ParseHead: name:total:head, the name up to the second-last colon. */
			const char *c2 = rfind(line, n, ':'), *c1;
			int fi;
			if (!c2 || c2 == line)
				die_text("text: a function header without two colons");
			c1 = rfind(line, (size_t)(c2 - line), ':');
			if (!c1)
				die_text("text: a function header without two colons");
			fi = add_fs(t, line, (size_t)(c1 - line), -1);
			if (as_u64(c1 + 1, (size_t)(c2 - c1 - 1), &t->fs[fi].total) ||
			    as_u64(c2 + 1, (size_t)(le - c2 - 1), &t->fs[fi].head))
				die_text("text: a function header's counts are not numbers");
			stack[0] = fi;
			depth_n = 1;
			continue;
		}
		if (!depth_n)
			die_text("text: a body line before any function");
		while (depth < n && line[depth] == ' ')
			depth++;
		if (depth == n)
			die_text("text: a line of blanks");
		if (line[depth] == '!')
			die_text("text: a metadata line (cpgo writes none)");
		if (depth > depth_n)
			die_text("text: a line indented deeper than its function");
		depth_n = depth;
		{
			const char *colon = memchr(line + depth, ':', n - depth), *dot, *rest;
			uint64_t off, disc = 0;
			size_t ln;
			if (!colon || colon + 1 >= le || colon[1] != ' ')
				die_text("text: a body line without 'offset: '");
			ln = (size_t)(colon - line - depth);
			dot = memchr(line + depth, '.', ln);
			if (dot) {
				if (as_u64(line + depth, (size_t)(dot - line - depth), &off) ||
				    as_u64(dot + 1, (size_t)(colon - dot - 1), &disc))
					die_text("text: a bad offset.discriminator");
			} else if (as_u64(line + depth, ln, &off)) {
				die_text("text: a bad line offset");
			}
			if (off > 0xffff || disc > UINT32_MAX)
				die_text("text: an offset LLVM refuses");
			rest = colon + 2;
			if (rest < le && *rest >= '0' && *rest <= '9') {
				/* A body line: samples, then target:count pairs anchored at ":digits". */
				struct rec *r = add_rec(t, stack[depth_n - 1]);
				const char *sp = memchr(rest, ' ', (size_t)(le - rest));
				char **tl = NULL;
				size_t ntl = 0, atl = 0;
				r->off = off;
				r->disc = disc;
				if (as_u64(rest, (size_t)((sp ? sp : le) - rest), &r->samples))
					die_text("text: a body count is not a number");
				while (sp) {
					const char *q = sp, *c3, *n4;
					uint64_t count;
					while (q < le && *q == ' ')
						q++;
					c3 = memchr(q, ':', (size_t)(le - q));
					if (!c3 || c3 == q)
						die_text("text: a call target without name:count");
					for (;;) {
						const char *w = c3 + 1;
						n4 = memchr(w, ' ', (size_t)(le - w));
						if (!n4)
							n4 = le;
						if (!as_u64(w, (size_t)(n4 - w), &count))
							break;
						c3 = memchr(w, ':', (size_t)(le - w));
						if (!c3)
							die_text("text: a call target's count is not a number");
					}
					tl = grow(tl, &atl, ntl, sizeof(*tl));
					if (asprintf(&tl[ntl], "%.*s\1%lu", (int)(c3 - q), q,
						     (unsigned long)count) < 0)
						die("out of memory");
					ntl++;
					sp = n4 == le ? NULL : n4;
				}
				r->targets = targets_string(tl, ntl);
				for (size_t i = 0; i < ntl; i++)
					free(tl[i]);
				free(tl);
			} else {
				/* An inline callsite: name:total, the name up to the last colon. */
				const char *c3 = rfind(rest, (size_t)(le - rest), ':');
				int fi;
				if (!c3)
					die_text("text: a callsite without name:count");
				if (depth_n >= sizeof(stack) / sizeof(stack[0]))
					die_text("text: callsites nested too deep for the checker");
				fi = add_fs(t, rest, (size_t)(c3 - rest), stack[depth_n - 1]);
				t->fs[fi].off = off;
				t->fs[fi].disc = disc;
				if (as_u64(c3 + 1, (size_t)(le - c3 - 1), &t->fs[fi].total))
					die_text("text: a callsite count is not a number");
				stack[depth_n++] = fi;
			}
		}
	}
}

struct rd {
	const unsigned char *p, *end;
};

static uint64_t uleb(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		if (r->p >= r->end)
			die("binary: a number runs past its section");
		if (shift >= 64 || (shift == 63 && (*r->p & 0x7e)))
			die("binary: a ULEB128 number over 64 bits");
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		shift += 7;
		if (!(*r->p++ & 0x80))
			return v;
	}
}

static uint64_t u64le(struct rd *r)
{
	uint64_t v = 0;
	if (r->end - r->p < 8)
		die("binary: the section table is cut short");
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	return v;
}

struct names {
	const char **v;
	size_t n;
};

static const char *name_at(const struct names *nt, struct rd *r)
{
	uint64_t i = uleb(r);
	if (i >= nt->n)
		die("binary: a name index past the name table");
	return nt->v[i];
}

static void read_body(struct rd *r, const struct names *nt, struct tree *t, int parent,
		      uint64_t off, uint64_t disc, uint64_t head, unsigned depth)
{
	const char *name = name_at(nt, r);
	int fi = add_fs(t, name, strlen(name), parent);
	uint64_t n_rec, n_child;

	if (depth > 200)
		die("binary: callsites nested too deep for the checker");
	t->fs[fi].off = off;
	t->fs[fi].disc = disc;
	t->fs[fi].head = head;
	t->fs[fi].total = uleb(r);
	n_rec = uleb(r);
	if (n_rec > (uint64_t)(r->end - r->p))
		die("binary: more records than bytes");
	for (uint64_t i = 0; i < n_rec; i++) {
		struct rec *x = add_rec(t, fi);
		uint64_t n_tgt;
		char **tl;
		x->off = uleb(r);
		x->disc = uleb(r);
		if (x->off > 0xffff || x->disc > UINT32_MAX)
			die("binary: an offset LLVM refuses");
		x->samples = uleb(r);
		n_tgt = uleb(r);
		if (n_tgt > (uint64_t)(r->end - r->p))
			die("binary: more call targets than bytes");
		tl = calloc(n_tgt + 1, sizeof(*tl));
		if (!tl)
			die("out of memory");
		for (uint64_t k = 0; k < n_tgt; k++) {
			const char *tn = name_at(nt, r);
			if (asprintf(&tl[k], "%s\1%lu", tn, (unsigned long)uleb(r)) < 0)
				die("out of memory");
		}
		x->targets = targets_string(tl, n_tgt);
		for (uint64_t k = 0; k < n_tgt; k++)
			free(tl[k]);
		free(tl);
	}
	n_child = uleb(r);
	if (n_child > (uint64_t)(r->end - r->p))
		die("binary: more callsites than bytes");
	for (uint64_t i = 0; i < n_child; i++) {
		uint64_t co = uleb(r), cd = uleb(r);
		if (co > 0xffff || cd > UINT32_MAX)
			die("binary: a callsite offset LLVM refuses");
		read_body(r, nt, t, fi, co, cd, 0, depth + 1);
	}
}

static void read_binary(const unsigned char *buf, size_t len, struct tree *t)
{
	struct rd r = { buf, buf + len };
	struct names nt = { NULL, 0 };
	uint64_t magic = uleb(&r), n_sec, lbr_off = 0, lbr_len = 0, fot_off = 0, fot_len = 0;
	uint64_t so[16], ss[16];
	int seen[64] = { 0 };

	if (magic != (((uint64_t)'S' << 56) | ((uint64_t)'P' << 48) | ((uint64_t)'R' << 40) |
		      ((uint64_t)'O' << 32) | ((uint64_t)'F' << 24) | ((uint64_t)'4' << 16) |
		      ((uint64_t)'2' << 8) | 4))
		die("binary: not the ext-binary magic");
	if (uleb(&r) != 103)
		die("binary: not version 103");
	n_sec = u64le(&r);
	if (n_sec > 16)
		die("binary: too many sections");
	for (uint64_t s = 0; s < n_sec; s++) {
		uint64_t type = u64le(&r), flags = u64le(&r), off = u64le(&r), size = u64le(&r);
		struct rd sec;
		(void)flags;
		if (off > len || size > len - off)
			die("binary: a section outside the file");
		for (uint64_t k = 0; k < s; k++)
			if (size && ss[k] && off < so[k] + ss[k] && so[k] < off + size)
				die("binary: two sections overlap");
		so[s] = off;
		ss[s] = size;
		if (type >= 64 || seen[type]++)
			die("binary: a section type twice");
		sec.p = buf + off;
		sec.end = buf + off + size;
		switch (type) {
		case 2: { /* name table: count, then NUL-terminated names */
			uint64_t n = uleb(&sec);
			if (n > size)
				die("binary: more names than bytes");
			nt.v = calloc(n + 1, sizeof(*nt.v));
			nt.n = n;
			for (uint64_t i = 0; i < n; i++) {
				const unsigned char *z = memchr(sec.p, 0, (size_t)(sec.end - sec.p));
				if (!z)
					die("binary: a name without its NUL");
				nt.v[i] = (const char *)sec.p;
				sec.p = z + 1;
			}
			for (uint64_t i = 1; i < n; i++)
				if (strcmp(nt.v[i - 1], nt.v[i]) >= 0)
					die("binary: the name table is not sorted and unique");
			if (sec.p != sec.end)
				die("binary: bytes after the name table");
			break;
		}
		case 32:
			lbr_off = off;
			lbr_len = size;
			break;
		case 4:
			fot_off = off;
			fot_len = size;
			break;
		case 6:
			if (uleb(&sec) != 0 || sec.p != sec.end)
				die("binary: a context-sensitive name table");
			break;
		case 1: { /* summary: six numbers, then (cutoff, min count, count) entries */
			uint64_t v[6];
			for (int i = 0; i < 6; i++)
				v[i] = uleb(&sec);
			for (uint64_t i = 0; i < v[5]; i++) {
				uleb(&sec);
				uleb(&sec);
				uleb(&sec);
			}
			if (sec.p != sec.end)
				die("binary: bytes after the summary");
			break;
		}
		default:
			break;
		}
	}
	if (!seen[2] || !seen[32] || !seen[4] || !seen[1])
		die("binary: a required section is missing");
	{
		/* The offset table: every function, where its profile starts in the LBR section. */
		struct rd f = { buf + fot_off, buf + fot_off + fot_len };
		uint64_t n = uleb(&f), expect = 0;
		for (uint64_t i = 0; i < n; i++) {
			const char *name = name_at(&nt, &f);
			uint64_t o = uleb(&f);
			struct rd b;
			size_t before = t->n_fs;
			if (o != expect || o >= lbr_len)
				die("binary: an offset table entry not at its function");
			b.p = buf + lbr_off + o;
			b.end = buf + lbr_off + lbr_len;
			{
				uint64_t head = uleb(&b);
				read_body(&b, &nt, t, -1, 0, 0, head, 0);
			}
			if (strcmp(t->fs[before].name, name))
				die("binary: the offset table names another function");
			expect = (uint64_t)(b.p - (buf + lbr_off));
		}
		if (f.p != f.end || expect != lbr_len)
			die("binary: the offset table does not cover the profiles exactly");
	}
	free(nt.v);
}

static const enum sprof_line_counts line_counts[] = { SPROF_LINES_DEFAULT, SPROF_LINES_MAX,
						      SPROF_LINES_SUM };
static const enum sprof_line0 line0[] = { SPROF_LINE0_DEFAULT, SPROF_LINE0_DROP,
					   SPROF_LINE0_CALLS, SPROF_LINE0_ALL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpgo_read_opts o = { 1 << 20, 8 << 20 };
	struct llvmprof_opts lo;
	struct sprof_stats st;
	struct cpgo_profile p, q;
	struct cpgo_buf text = CPGO_BUF_INIT, bin = CPGO_BUF_INIT;
	struct tree tt = { 0 }, tb = { 0 };
	int rt, rb, unwritable;
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	if (cpgo_profile_parse(&p, data + 1, size - 1, "fuzz", &o) < 0)
		return 0;
	/* The converter indexes its input: the second run gets a fresh copy. */
	if (cpgo_profile_parse(&q, data + 1, size - 1, "fuzz", &o) < 0)
		abort();
	memset(&lo, 0, sizeof(lo));
	lo.sp.line_counts = line_counts[ctl % 3];
	lo.sp.line0 = line0[(ctl >> 2) & 3];
	lo.sp.source_file = (ctl & 0x10) ? "a.c" : NULL;
	lo.sp.sample_type = (ctl & 0x20) ? "samples" : NULL;
	lo.sp.stats = &st;
	lo.text = 1;
	rt = llvmprof_convert(&p, "fuzz", &lo, &text);
	/* Only a name the text format cannot hold fails the text writer alone. */
	/* The profile's own strings may hold those words: the message must start as the writer's. */
	unwritable = rt < 0 && !strncmp(cpgo_last_error(), "fuzz: the function name '", 25) &&
		     strstr(cpgo_last_error(), "cannot be written in LLVM's text format");
	lo.text = 0;
	rb = llvmprof_convert(&q, "fuzz", &lo, &bin);
	if (unwritable) {
		if (rb < 0) {
			fprintf(stderr, "fuzz_llvm: %s\n", cpgo_last_error());
			die("the binary writer failed where only the text format cannot name a function");
		}
		read_binary((const unsigned char *)bin.buf, bin.len, &tb);
	} else if (rt != rb) {
		die("the text and binary writers disagree on success");
	} else if (rt == 0) {
		char *a, *b;
		read_text(text.buf, text.len, &tt);
		read_binary((const unsigned char *)bin.buf, bin.len, &tb);
		check_unique(&tt);
		a = dump(&tt);
		b = dump(&tb);
		if (strcmp(a, b)) {
			fprintf(stderr, "text:\n%s\nbinary:\n%s\n", a, b);
			die("the text and binary outputs hold different profiles");
		}
		free(a);
		free(b);
	}
	tree_free(&tt);
	tree_free(&tb);
	cpgo_buf_release(&text);
	cpgo_buf_release(&bin);
	cpgo_profile_release(&p);
	cpgo_profile_release(&q);
	return 0;
}
