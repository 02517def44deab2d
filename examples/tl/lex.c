/* The tokenizer. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

void fatal(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "tl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const struct {
	const char *s;
	enum tl_tok t;
} keywords[] = {
	{ "fn", TK_FN }, { "let", TK_LET }, { "if", TK_IF }, { "else", TK_ELSE },
	{ "while", TK_WHILE }, { "return", TK_RETURN }, { "and", TK_AND }, { "or", TK_OR },
	{ "not", TK_NOT }, { "nil", TK_NIL }, { "true", TK_TRUE }, { "false", TK_FALSE },
};

void lex_init(struct tl_lexer *lx, const char *file, const char *src)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = lx->p = src;
	lx->file = file;
	lx->line = 1;
	lex_next(lx);
}

void lex_next(struct tl_lexer *lx)
{
	const char *p = lx->p;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (*p == '\n')
				lx->line++;
			p++;
		}
		if (*p != '#')
			break;
		while (*p && *p != '\n')
			p++;
	}
	lx->start = p;
	if (!*p) {
		lx->tok = TK_EOF;
		lx->p = p;
		return;
	}
	if (isalpha((unsigned char)*p) || *p == '_') {
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		lx->len = (size_t)(p - lx->start);
		lx->tok = TK_NAME;
		for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
			if (strlen(keywords[i].s) == lx->len && !memcmp(keywords[i].s, lx->start, lx->len))
				lx->tok = keywords[i].t;
	} else if (isdigit((unsigned char)*p)) {
		int64_t v = 0;
		while (isdigit((unsigned char)*p)) {
			if (v > (INT64_MAX - 9) / 10)
				fatal("%s:%d: integer literal too large", lx->file, lx->line);
			v = v * 10 + (*p++ - '0');
		}
		lx->ival = v;
		lx->tok = TK_INT;
	} else if (*p == '"') {
		size_t cap = 64, n = 0;
		char *buf = malloc(cap);
		if (!buf)
			fatal("out of memory");
		p++;
		while (*p != '"') {
			if (!*p || *p == '\n')
				fatal("%s:%d: unterminated string", lx->file, lx->line);
			char c = *p++;
			if (c == '\\') {
				c = *p++;
				c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
			}
			if (n + 1 >= cap) {
				cap *= 2;
				buf = realloc(buf, cap);
				if (!buf)
					fatal("out of memory");
			}
			buf[n++] = c;
		}
		p++;
		lx->sval = str_intern(buf, n);
		free(buf);
		lx->tok = TK_STR;
	} else {
		static const char two[][3] = { "==", "!=", "<=", ">=", "+=" };
		static const enum tl_tok twotok[] = { TK_EQ, TK_NE, TK_LE, TK_GE, TK_PLUSEQ };
		lx->tok = TK_CHAR;
		lx->ch = *p;
		for (size_t i = 0; i < 5; i++)
			if (p[0] == two[i][0] && p[1] == two[i][1]) {
				lx->tok = twotok[i];
				p++;
				break;
			}
		if (lx->tok == TK_CHAR && !strchr("+-*/%<>=(){}[],;.!", *p))
			fatal("%s:%d: unexpected character '%c'", lx->file, lx->line, *p);
		p++;
	}
	lx->p = p;
}
