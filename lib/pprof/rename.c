/*
 * Renaming functions and files in a profile (pprof/rename.h).
 */
#include "pprof/rename.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"

#include <stdlib.h>
#include <string.h>

/* A map file larger than this is not a list of renames. */
#define RENAME_MAP_MAX (64u << 20)

void cpgo_rename_init(struct cpgo_rename *r)
{
	memset(r, 0, sizeof(*r));
}

void cpgo_rename_release(struct cpgo_rename *r)
{
	for (size_t i = 0; i < r->n_rule; i++) {
		free(r->rules[i].old_pat);
		free(r->rules[i].new_pat);
		free(r->rules[i].origin);
	}
	free(r->rules);
	memset(r, 0, sizeof(*r));
}

static size_t count_stars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '*';
	return n;
}

int cpgo_rename_add(struct cpgo_rename *r, const char *spec, const char *origin)
{
	struct cpgo_rename_rule *rule;
	const char *s = spec, *eq;
	int is_file = 0;

	if (!strncmp(s, "file:", 5)) {
		is_file = 1;
		s += 5;
	}
	eq = strchr(s, '=');
	if (!eq)
		return error("%s: '%s' is not a rename: write OLD=NEW (or file:OLD=NEW)", origin,
			     spec);
	if (eq == s || !eq[1])
		return error("%s: '%s' has an empty %s name", origin, spec,
			     eq == s ? "old" : "new");
	if (count_stars(eq + 1) > 1 || count_stars(s) - count_stars(eq + 1) > 1)
		return error("%s: '%s' has more than one '*' on a side; a pattern has at most one",
			     origin, spec);
	if (count_stars(eq + 1) && !memchr(s, '*', (size_t)(eq - s)))
		return error("%s: '%s' has a '*' in the new name but none in the old one", origin,
			     spec);
	if (CPGO_GROW(r->rules, r->alloc_rule, r->n_rule + 1) < 0)
		return -1;
	rule = &r->rules[r->n_rule];
	memset(rule, 0, sizeof(*rule));
	rule->is_file = is_file;
	rule->old_pat = strndup(s, (size_t)(eq - s));
	rule->new_pat = strdup(eq + 1);
	rule->origin = strdup(origin);
	if (!rule->old_pat || !rule->new_pat || !rule->origin) {
		free(rule->old_pat);
		free(rule->new_pat);
		free(rule->origin);
		return error("out of memory");
	}
	r->n_rule++;
	return 0;
}

int cpgo_rename_add_map(struct cpgo_rename *r, const char *path)
{
	struct cpgo_buf b = CPGO_BUF_INIT, origin = CPGO_BUF_INIT;
	char *line, *next;
	size_t lineno = 0;
	int ret = -1;

	if (cpgo_read_file(path, &b, RENAME_MAP_MAX) < 0)
		goto cleanup;
	if (memchr(b.buf, '\0', b.len)) {
		error("%s: not a text file of renames (it holds NUL bytes)", path);
		goto cleanup;
	}
	for (line = b.buf; line && *line; line = next) {
		char *end;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line += strspn(line, " \t");
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*line || *line == '#')
			continue;
		cpgo_buf_reset(&origin);
		if (cpgo_buf_addf(&origin, "%s:%zu", path, lineno) < 0 ||
		    cpgo_rename_add(r, line, origin.buf) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&b);
	cpgo_buf_release(&origin);
	return ret;
}

int cpgo_rename_match(const char *old_pat, const char *new_pat, const char *s, char **out)
{
	const char *star = strchr(old_pat, '*'), *nstar;
	size_t pre, suf, len = strlen(s), mid;
	struct cpgo_buf b = CPGO_BUF_INIT;

	*out = NULL;
	if (!star) {
		if (strcmp(old_pat, s))
			return 0;
		if (!(*out = strdup(new_pat)))
			return error("out of memory");
		return 1;
	}
	pre = (size_t)(star - old_pat);
	suf = strlen(star + 1);
	if (len < pre + suf || strncmp(s, old_pat, pre) || strcmp(s + len - suf, star + 1))
		return 0;
	mid = len - pre - suf;
	nstar = strchr(new_pat, '*');
	if (!nstar) {
		if (!(*out = strdup(new_pat)))
			return error("out of memory");
		return 1;
	}
	if (cpgo_buf_add(&b, new_pat, (size_t)(nstar - new_pat)) < 0 ||
	    cpgo_buf_add(&b, s + pre, mid) < 0 || cpgo_buf_adds(&b, nstar + 1) < 0) {
		cpgo_buf_release(&b);
		return -1;
	}
	*out = cpgo_buf_detach(&b, NULL);
	return 1;
}

/* A file rule: the whole path, else the longest tail after a '/'. */
static int match_file(const char *old_pat, const char *new_pat, const char *path, char **out)
{
	for (const char *t = path; t; t = strchr(t, '/') ? strchr(t, '/') + 1 : NULL) {
		char *tail;
		int m = cpgo_rename_match(old_pat, new_pat, t, &tail);
		if (m <= 0) {
			if (m < 0)
				return -1;
			continue;
		}
		if (t == path) {
			*out = tail;
			return 1;
		}
		struct cpgo_buf b = CPGO_BUF_INIT;
		if (cpgo_buf_add(&b, path, (size_t)(t - path)) < 0 || cpgo_buf_adds(&b, tail) < 0) {
			free(tail);
			cpgo_buf_release(&b);
			return -1;
		}
		free(tail);
		*out = cpgo_buf_detach(&b, NULL);
		return 1;
	}
	*out = NULL;
	return 0;
}

/*
 * The first rule of the kind `is_file` that renames `s`: the new string's
 * index in p's string table, or `idx` itself when no rule matches; -1 on error.
 */
static int64_t rename_one(struct cpgo_profile *p, struct cpgo_rename *r, int is_file,
			  int64_t idx)
{
	const char *s = cpgo_profile_str(p, idx);
	if (!*s)
		return idx;
	for (size_t i = 0; i < r->n_rule; i++) {
		struct cpgo_rename_rule *rule = &r->rules[i];
		char *out;
		int m;
		int64_t n;
		if (rule->is_file != is_file)
			continue;
		m = is_file ? match_file(rule->old_pat, rule->new_pat, s, &out) :
			      cpgo_rename_match(rule->old_pat, rule->new_pat, s, &out);
		if (m < 0)
			return -1;
		if (!m)
			continue;
		rule->n_matched++;
		n = cpgo_profile_intern(p, out);
		free(out);
		return n;
	}
	return idx;
}

/* The functions any sample with a nonzero value passes through. */
static int mark_live(struct cpgo_profile *p, unsigned char *live)
{
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		const int64_t *v = cpgo_sample_values(p, i);
		int nonzero = 0;
		for (size_t k = 0; k < p->n_sample_type; k++)
			nonzero |= v[k] != 0;
		if (!nonzero)
			continue;
		for (size_t j = 0; j < s->n_loc; j++) {
			const struct cpgo_location *l =
				cpgo_profile_location(p, p->sample_locs[s->loc_off + j]);
			for (size_t k = 0; l && k < l->n_line; k++) {
				const struct cpgo_function *f =
					cpgo_profile_function(p, p->lines[l->line_off + k].function_id);
				if (f)
					live[f - p->functions] = 1;
			}
		}
	}
	return 0;
}

struct merge_ctx {
	const struct cpgo_profile *p;
	const int64_t *name, *file; /* new string indexes, per function */
	const size_t *fn;           /* map position -> function position */
};

struct merge_key {
	const char *name, *file;
};

static int merge_eq(const void *c, size_t pos, const void *k)
{
	const struct merge_ctx *ctx = c;
	const struct merge_key *key = k;
	size_t f = ctx->fn[pos];
	return !strcmp(cpgo_profile_str(ctx->p, ctx->name[f]), key->name) &&
	       !strcmp(cpgo_profile_str(ctx->p, ctx->file[f]), key->file);
}

static int same_origin(const struct cpgo_profile *p, const struct cpgo_function *a,
		       const struct cpgo_function *b)
{
	return !strcmp(cpgo_profile_str(p, a->name), cpgo_profile_str(p, b->name)) &&
	       !strcmp(cpgo_profile_str(p, a->filename), cpgo_profile_str(p, b->filename));
}

/*
 * Finds live functions that end up with one name and file though they were
 * different functions before; the first such pair is an error unless
 * allow_merge, which only counts them.
 */
static int check_merges(struct cpgo_profile *p, const unsigned char *live, const int64_t *name,
			const int64_t *file, int allow_merge, const char *pname,
			struct cpgo_rename_stats *st)
{
	struct cpgo_hashmap map = CPGO_HASHMAP_INIT("rename targets");
	size_t *fn = NULL, n_fn = 0;
	struct merge_ctx ctx = { p, name, file, NULL };
	int ret = -1;

	if (p->n_function && !(fn = malloc(p->n_function * sizeof(*fn)))) {
		error("out of memory");
		goto cleanup;
	}
	ctx.fn = fn;
	for (size_t i = 0; i < p->n_function; i++) {
		struct merge_key k = { cpgo_profile_str(p, name[i]), cpgo_profile_str(p, file[i]) };
		uint32_t h;
		size_t slot, pos;
		const struct cpgo_function *a, *b;

		if (!live[i])
			continue;
		h = (uint32_t)cpgo_hash_fin(cpgo_hash_str(cpgo_hash_str(CPGO_HASH_SEED, k.name),
							  k.file));
		if (cpgo_hashmap_reserve(&map) < 0)
			goto cleanup;
		slot = cpgo_hashmap_find(&map, h, merge_eq, &ctx, &k);
		if (!cpgo_hashmap_pos(&map, slot, &pos)) {
			fn[n_fn] = i;
			if (cpgo_hashmap_set(&map, slot, h, n_fn++) < 0)
				goto cleanup;
			continue;
		}
		a = &p->functions[fn[pos]];
		b = &p->functions[i];
		if (same_origin(p, a, b))
			continue;
		/* Name the renamed function first, so the message reads the same every run. */
		if (!strcmp(cpgo_profile_str(p, a->name), k.name) &&
		    (strcmp(cpgo_profile_str(p, b->name), k.name) ||
		     strcmp(cpgo_profile_str(p, a->name), cpgo_profile_str(p, b->name)) > 0)) {
			const struct cpgo_function *t = a;
			a = b;
			b = t;
		}
		if (!allow_merge) {
			error("%s: the renames would merge '%s' (%s) and '%s' (%s) into '%s' (%s); both "
			      "have samples, so their profiles would add up. If the refactoring merged "
			      "them, pass --allow-merge",
			      pname, cpgo_profile_str(p, a->name), cpgo_profile_str(p, a->filename),
			      cpgo_profile_str(p, b->name), cpgo_profile_str(p, b->filename), k.name,
			      k.file);
			goto cleanup;
		}
		st->n_merged++;
	}
	ret = 0;
cleanup:
	cpgo_hashmap_release(&map);
	free(fn);
	return ret;
}

int cpgo_rename_apply(struct cpgo_profile *p, struct cpgo_rename *r, int allow_merge,
		      const char *pname, struct cpgo_rename_stats *st)
{
	size_t n = p->n_function;
	unsigned char *live = NULL;
	int64_t *name = NULL, *sys = NULL, *file = NULL;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < r->n_rule; i++)
		r->rules[i].n_matched = 0;
	if (cpgo_profile_index(p) < 0)
		goto cleanup;
	live = calloc(n ? n : 1, 1);
	name = calloc(n ? n : 1, sizeof(*name));
	sys = calloc(n ? n : 1, sizeof(*sys));
	file = calloc(n ? n : 1, sizeof(*file));
	if (!live || !name || !sys || !file) {
		error("out of memory");
		goto cleanup;
	}
	mark_live(p, live);
	/* New names first, into side arrays, so a refusal leaves `p` as it was. */
	for (size_t i = 0; i < n; i++) {
		const struct cpgo_function *f = &p->functions[i];
		if ((name[i] = rename_one(p, r, 0, f->name)) < 0 ||
		    (file[i] = rename_one(p, r, 1, f->filename)) < 0)
			goto cleanup;
		/* The linkage name of a C function is its name: keep them in step. */
		if (!strcmp(cpgo_profile_str(p, f->system_name), cpgo_profile_str(p, f->name)))
			sys[i] = name[i];
		else if ((sys[i] = rename_one(p, r, 0, f->system_name)) < 0)
			goto cleanup;
	}
	if (check_merges(p, live, name, file, allow_merge, pname, st) < 0)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		struct cpgo_function *f = &p->functions[i];
		st->n_fn_renamed += strcmp(cpgo_profile_str(p, f->name),
					   cpgo_profile_str(p, name[i])) != 0;
		st->n_file_renamed += strcmp(cpgo_profile_str(p, f->filename),
					     cpgo_profile_str(p, file[i])) != 0;
		f->name = name[i];
		f->system_name = sys[i];
		f->filename = file[i];
	}
	ret = cpgo_profile_check(p, pname);
cleanup:
	free(live);
	free(name);
	free(sys);
	free(file);
	return ret;
}
