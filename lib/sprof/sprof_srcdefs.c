/*
 * The functions a C source file defines, from its text (sprof.h): what
 * decides whether a function profiled in another file may have moved into
 * the translation unit being compiled. No preprocessor runs: a definition
 * is an identifier at file scope followed by a parenthesized parameter
 * list and a '{' (or, for a name wrapped in a macro as in
 * `int BZ_API(name) (params) {`, the identifier inside the first
 * parentheses). Comments, strings, character literals and preprocessor
 * lines are skipped. Names may come out that are not functions (a macro's
 * arguments); a function defined only through a macro is missed: a missed
 * one keeps the old rule (another file's function is left out).
 */
#include "sprof.h"
#include "util/buf.h"
#include "util/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct scan {
	const char *s, *end;
};

static int ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static int ident_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Skips blanks, comments and preprocessor lines; returns the next character or -1. */
static int skip_space(struct scan *sc)
{
	while (sc->s < sc->end) {
		const char *p = sc->s;
		if (isspace((unsigned char)*p)) {
			sc->s++;
		} else if (*p == '/' && p + 1 < sc->end && p[1] == '*') {
			const char *e = p + 2;
			while (e + 1 < sc->end && !(e[0] == '*' && e[1] == '/'))
				e++;
			sc->s = e + 1 < sc->end ? e + 2 : sc->end;
		} else if (*p == '/' && p + 1 < sc->end && p[1] == '/') {
			while (sc->s < sc->end && *sc->s != '\n')
				sc->s++;
		} else if (*p == '#') {
			/* A directive to the end of its line, continuations included. */
			while (sc->s < sc->end && *sc->s != '\n') {
				if (*sc->s == '\\' && sc->s + 1 < sc->end)
					sc->s++;
				sc->s++;
			}
		} else {
			return (unsigned char)*p;
		}
	}
	return -1;
}

/* Skips a string or character literal starting at sc->s. */
static void skip_literal(struct scan *sc)
{
	char q = *sc->s++;
	while (sc->s < sc->end && *sc->s != q && *sc->s != '\n') {
		if (*sc->s == '\\' && sc->s + 1 < sc->end)
			sc->s++;
		sc->s++;
	}
	if (sc->s < sc->end)
		sc->s++;
}

/* At '(': to just after its matching ')'. Returns 0, or -1 when the text ends first. */
static int skip_parens(struct scan *sc)
{
	int depth = 0;
	while (skip_space(sc) >= 0) {
		char c = *sc->s;
		if (c == '"' || c == '\'') {
			skip_literal(sc);
			continue;
		}
		sc->s++;
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return 0;
	}
	return -1;
}

static int add_name(struct cpgo_strvec *out, const char *s, size_t n)
{
	return cpgo_strvec_pushf(out, "%.*s", (int)n, s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sprof_source_functions(const char *text, size_t len, struct cpgo_strvec *out)
{
	struct scan sc = { text, text + len };
	int depth = 0, c;
	size_t w = 0;

	while ((c = skip_space(&sc)) >= 0) {
		const char *id, *inner = NULL;
		size_t n, n_inner = 0;

		if (c == '"' || c == '\'') {
			skip_literal(&sc);
			continue;
		}
		if (!ident_start(c)) {
			if (c == '{')
				depth++;
			else if (c == '}' && depth > 0)
				depth--;
			sc.s++;
			continue;
		}
		id = sc.s;
		while (sc.s < sc.end && ident_char((unsigned char)*sc.s))
			sc.s++;
		n = (size_t)(sc.s - id);
		if (depth || skip_space(&sc) != '(')
			continue;
		/* `MACRO(name) (params)`: the inner identifier, if the parentheses hold just one. */
		{
			struct scan in = { sc.s + 1, sc.end };
			if (skip_space(&in) >= 0 && ident_start((unsigned char)*in.s)) {
				const char *b = in.s;
				while (in.s < in.end && ident_char((unsigned char)*in.s))
					in.s++;
				if (skip_space(&in) == ')') {
					inner = b;
					n_inner = (size_t)(in.s - b);
				}
			}
		}
		if (skip_parens(&sc) < 0)
			break;
		c = skip_space(&sc);
		if (c == '(' && inner) {
			if (skip_parens(&sc) < 0)
				break;
			if (skip_space(&sc) == '{' && add_name(out, inner, n_inner) < 0)
				return -1;
			continue;
		}
		if (c == '{' && add_name(out, id, n) < 0)
			return -1;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	for (size_t i = 0; i < out->n; i++) {
		if (w && !strcmp(out->v[w - 1], out->v[i])) {
			free(out->v[i]);
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
	return 0;
}

/* A source is text a person wrote: past this it is not one (and scanning it would cost). */
#define SOURCE_LIMIT (64u << 20)

int sprof_source_file_functions(const char *path, struct cpgo_strvec *out)
{
	struct cpgo_buf text = CPGO_BUF_INIT;
	int ret;

	if (cpgo_read_file(path, &text, SOURCE_LIMIT) < 0) {
		/* Unreadable (a generated or piped source): no names, the old rule. */
		cpgo_clear_error();
		return 0;
	}
	ret = sprof_source_functions(text.buf, text.len, out);
	cpgo_buf_release(&text);
	return ret;
}

/* Unity builds nest a few levels at most; a cycle of includes stops here too. */
#define INCLUDE_DEPTH 8

static int has_string(const struct cpgo_strvec *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

static int scan_includes(const char *root, const char *path, struct cpgo_strvec *out, int depth)
{
	struct cpgo_buf text = CPGO_BUF_INIT, inc = CPGO_BUF_INIT;
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	int ret = -1;

	if (cpgo_read_file(path, &text, SOURCE_LIMIT) < 0) {
		cpgo_clear_error();
		return 0;
	}
	for (const char *s = text.buf, *end = text.buf + text.len; s < end;) {
		const char *eol = memchr(s, '\n', (size_t)(end - s)), *q;
		const char *line_end = eol ? eol : end;

		while (s < line_end && (*s == ' ' || *s == '\t'))
			s++;
		if (s < line_end && *s == '#') {
			s++;
			while (s < line_end && (*s == ' ' || *s == '\t'))
				s++;
			if ((size_t)(line_end - s) > 7 && !memcmp(s, "include", 7)) {
				s += 7;
				while (s < line_end && (*s == ' ' || *s == '\t'))
					s++;
				if (s < line_end && *s == '"' &&
				    (q = memchr(s + 1, '"', (size_t)(line_end - s - 1))) && q > s + 1) {
					cpgo_buf_reset(&inc);
					if ((s[1] != '/' && cpgo_buf_add(&inc, path, dir_len) < 0) ||
					    cpgo_buf_add(&inc, s + 1, (size_t)(q - s - 1)) < 0)
						goto cleanup;
					if (sprof_is_source_ext(inc.buf) && strcmp(inc.buf, root) &&
					    !has_string(out, inc.buf) &&
					    !access(inc.buf, R_OK)) {
						if (cpgo_strvec_push(out, inc.buf) < 0 ||
						    (depth < INCLUDE_DEPTH &&
						     scan_includes(root, inc.buf, out, depth + 1) < 0))
							goto cleanup;
					}
				}
			}
		}
		s = eol ? eol + 1 : end;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&text);
	cpgo_buf_release(&inc);
	return ret;
}

int sprof_source_file_includes(const char *path, struct cpgo_strvec *out)
{
	return scan_includes(path, path, out, 0);
}

int sprof_tu_scan(const char *source, struct cpgo_strvec *includes, struct cpgo_strvec *defined)
{
	if (sprof_source_file_includes(source, includes) < 0 ||
	    sprof_source_file_functions(source, defined) < 0)
		return -1;
	for (size_t i = 0; i < includes->n; i++)
		if (sprof_source_file_functions(includes->v[i], defined) < 0)
			return -1;
	return 0;
}
