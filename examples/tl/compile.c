/* One-pass compiler: recursive descent straight to stack bytecode. */
#include <stdlib.h>
#include <string.h>

#include "tl.h"

#define MAX_LOCALS 250

struct local {
	const char *name;
	size_t len;
};

struct compiler {
	struct tl_lexer lx;
	struct tl_proto *p;
	struct local locals[MAX_LOCALS];
	int nlocals;
	int toplevel;
	/* Where the last postfix expression's load starts, so that an
	 * assignment can turn the load into a store. */
	size_t last_load;
	int last_load_op;
};

static void error_at(struct compiler *c, const char *what)
{
	fatal("%s:%d: %s", c->lx.file, c->lx.line, what);
}

static void emit(struct compiler *c, int byte)
{
	struct tl_proto *p = c->p;
	if (p->ncode == p->capcode) {
		p->capcode = p->capcode ? p->capcode * 2 : 256;
		p->code = realloc(p->code, p->capcode);
		p->lines = realloc(p->lines, p->capcode * sizeof(int));
		if (!p->code || !p->lines)
			fatal("out of memory");
	}
	p->lines[p->ncode] = c->lx.line;
	p->code[p->ncode++] = (uint8_t)byte;
}

static void emit16(struct compiler *c, int op, unsigned v)
{
	if (v > 0xffff)
		error_at(c, "function too large");
	emit(c, op);
	emit(c, v & 0xff);
	emit(c, v >> 8);
}

static unsigned add_const(struct compiler *c, struct tl_val v)
{
	struct tl_proto *p = c->p;
	for (size_t i = 0; i < p->nk; i++)
		if (val_equal(p->k[i], v))
			return (unsigned)i;
	if (p->nk == p->capk) {
		p->capk = p->capk ? p->capk * 2 : 16;
		p->k = realloc(p->k, p->capk * sizeof(*p->k));
		if (!p->k)
			fatal("out of memory");
	}
	p->k[p->nk] = v;
	return (unsigned)p->nk++;
}

static size_t emit_jump(struct compiler *c, int op)
{
	emit16(c, op, 0);
	return c->p->ncode - 2;
}

static void patch_jump(struct compiler *c, size_t at)
{
	size_t off = c->p->ncode - (at + 2);
	if (off > 0xffff)
		error_at(c, "jump too far");
	c->p->code[at] = off & 0xff;
	c->p->code[at + 1] = (uint8_t)(off >> 8);
}

static int accept_ch(struct compiler *c, char ch)
{
	if (c->lx.tok == TK_CHAR && c->lx.ch == ch) {
		lex_next(&c->lx);
		return 1;
	}
	return 0;
}

static void expect_ch(struct compiler *c, char ch)
{
	if (!accept_ch(c, ch)) {
		char msg[32] = "expected 'x'";
		msg[10] = ch;
		error_at(c, msg);
	}
}

static int resolve_local(struct compiler *c, const char *name, size_t len)
{
	for (int i = c->nlocals - 1; i >= 0; i--)
		if (c->locals[i].len == len && !memcmp(c->locals[i].name, name, len))
			return i;
	return -1;
}

static int declare_local(struct compiler *c, const char *name, size_t len)
{
	if (c->nlocals == MAX_LOCALS)
		error_at(c, "too many locals");
	c->locals[c->nlocals].name = name;
	c->locals[c->nlocals].len = len;
	if (c->nlocals + 1 > c->p->nlocals)
		c->p->nlocals = c->nlocals + 1;
	return c->nlocals++;
}

static void expr(struct compiler *c);
static void block(struct compiler *c);

static int call_args(struct compiler *c)
{
	int n = 0;
	if (!accept_ch(c, ')')) {
		do {
			expr(c);
			n++;
		} while (accept_ch(c, ','));
		expect_ch(c, ')');
	}
	if (n > 255)
		error_at(c, "too many arguments");
	return n;
}

static void load_name(struct compiler *c, const char *name, size_t len)
{
	int slot = resolve_local(c, name, len);
	c->last_load = c->p->ncode;
	if (slot >= 0) {
		emit16(c, OP_GETL, (unsigned)slot);
		c->last_load_op = OP_GETL;
	} else {
		emit16(c, OP_GETG, add_const(c, v_obj(T_STR, str_intern(name, len))));
		c->last_load_op = OP_GETG;
	}
}

static void primary(struct compiler *c)
{
	struct tl_lexer *lx = &c->lx;
	c->last_load_op = -1;
	switch (lx->tok) {
	case TK_INT:
		emit16(c, OP_CONST, add_const(c, v_int(lx->ival)));
		lex_next(lx);
		return;
	case TK_STR:
		emit16(c, OP_CONST, add_const(c, v_obj(T_STR, lx->sval)));
		lex_next(lx);
		return;
	case TK_NIL: emit(c, OP_NIL); lex_next(lx); return;
	case TK_TRUE: emit(c, OP_TRUE); lex_next(lx); return;
	case TK_FALSE: emit(c, OP_FALSE); lex_next(lx); return;
	case TK_NAME: {
		const char *name = lx->start;
		size_t len = lx->len;
		lex_next(lx);
		int b = builtin_id(name, len);
		if (b >= 0 && resolve_local(c, name, len) < 0 && lx->tok == TK_CHAR && lx->ch == '(') {
			lex_next(lx);
			int n = call_args(c);
			emit(c, OP_BUILTIN);
			emit(c, b);
			emit(c, n);
			return;
		}
		load_name(c, name, len);
		return;
	}
	case TK_CHAR:
		if (accept_ch(c, '(')) {
			expr(c);
			expect_ch(c, ')');
			c->last_load_op = -1;
			return;
		}
		if (accept_ch(c, '[')) {
			int n = 0;
			if (!accept_ch(c, ']')) {
				do {
					expr(c);
					n++;
				} while (accept_ch(c, ','));
				expect_ch(c, ']');
			}
			emit16(c, OP_NEWARR, (unsigned)n);
			c->last_load_op = -1;
			return;
		}
		if (accept_ch(c, '{')) {
			expect_ch(c, '}');
			emit(c, OP_NEWMAP);
			return;
		}
		break;
	default:
		break;
	}
	error_at(c, "expected an expression");
}

static void postfix(struct compiler *c)
{
	primary(c);
	for (;;) {
		if (accept_ch(c, '(')) {
			int n = call_args(c);
			emit(c, OP_CALL);
			emit(c, n);
			c->last_load_op = -1;
		} else if (accept_ch(c, '[')) {
			expr(c);
			expect_ch(c, ']');
			c->last_load = c->p->ncode;
			c->last_load_op = OP_INDEX;
			emit(c, OP_INDEX);
		} else if (accept_ch(c, '.')) {
			/* m.name is m["name"] */
			if (c->lx.tok != TK_NAME)
				error_at(c, "expected a field name after '.'");
			emit16(c, OP_CONST, add_const(c, v_obj(T_STR, str_intern(c->lx.start, c->lx.len))));
			lex_next(&c->lx);
			c->last_load = c->p->ncode;
			c->last_load_op = OP_INDEX;
			emit(c, OP_INDEX);
		} else {
			return;
		}
	}
}

static void unary(struct compiler *c)
{
	if (accept_ch(c, '-')) {
		unary(c);
		emit(c, OP_NEG);
	} else if (c->lx.tok == TK_NOT || (c->lx.tok == TK_CHAR && c->lx.ch == '!')) {
		lex_next(&c->lx);
		unary(c);
		emit(c, OP_NOT);
	} else {
		postfix(c);
	}
}

static int binop(struct compiler *c, int *prec)
{
	struct tl_lexer *lx = &c->lx;
	switch (lx->tok) {
	case TK_OR: *prec = 1; return -1;
	case TK_AND: *prec = 2; return -2;
	case TK_EQ: *prec = 3; return OP_EQ;
	case TK_NE: *prec = 3; return OP_NE;
	case TK_LE: *prec = 3; return OP_LE;
	case TK_GE: *prec = 3; return OP_GE;
	case TK_CHAR:
		switch (lx->ch) {
		case '<': *prec = 3; return OP_LT;
		case '>': *prec = 3; return OP_GT;
		case '+': *prec = 4; return OP_ADD;
		case '-': *prec = 4; return OP_SUB;
		case '*': *prec = 5; return OP_MUL;
		case '/': *prec = 5; return OP_DIV;
		case '%': *prec = 5; return OP_MOD;
		}
		break;
	default:
		break;
	}
	return 0;
}

static void expr_prec(struct compiler *c, int min)
{
	unary(c);
	for (;;) {
		int prec, op = binop(c, &prec);
		if (!op || prec < min)
			return;
		lex_next(&c->lx);
		if (op < 0) {
			/* Short-circuit: keep the left value if it decides. */
			emit(c, OP_DUP);
			size_t j = emit_jump(c, op == -1 ? OP_JT : OP_JF);
			emit(c, OP_POP);
			expr_prec(c, prec + 1);
			patch_jump(c, j);
		} else {
			expr_prec(c, prec + 1);
			emit(c, op);
		}
		c->last_load_op = -1;
	}
}

static void expr(struct compiler *c)
{
	expr_prec(c, 1);
}

static void function(struct compiler *c)
{
	struct tl_lexer *lx = &c->lx;
	if (lx->tok != TK_NAME)
		error_at(c, "expected a function name");
	struct tl_str *name = str_intern(lx->start, lx->len);
	lex_next(lx);

	struct tl_proto *outer = c->p;
	int outer_nlocals = c->nlocals, outer_top = c->toplevel;
	struct tl_proto *p = calloc(1, sizeof(*p));
	if (!p)
		fatal("out of memory");
	p->name = name->s;
	gc_add_proto(p);
	c->p = p;
	c->nlocals = 0;
	c->toplevel = 0;
	expect_ch(c, '(');
	if (!accept_ch(c, ')')) {
		do {
			if (lx->tok != TK_NAME)
				error_at(c, "expected a parameter name");
			declare_local(c, lx->start, lx->len);
			p->nparams++;
			lex_next(lx);
		} while (accept_ch(c, ','));
		expect_ch(c, ')');
	}
	block(c);
	emit(c, OP_NIL);
	emit(c, OP_RET);
	c->p = outer;
	c->nlocals = outer_nlocals;
	c->toplevel = outer_top;

	struct tl_fn *fn = gc_alloc(sizeof(*fn), T_FN);
	fn->p = p;
	emit16(c, OP_CONST, add_const(c, v_obj(T_FN, fn)));
	emit16(c, OP_SETG, add_const(c, v_obj(T_STR, name)));
}

static void statement(struct compiler *c)
{
	struct tl_lexer *lx = &c->lx;
	switch (lx->tok) {
	case TK_FN:
		if (!c->toplevel)
			error_at(c, "functions are defined at the top level only");
		lex_next(lx);
		function(c);
		return;
	case TK_LET: {
		lex_next(lx);
		if (lx->tok != TK_NAME)
			error_at(c, "expected a name after 'let'");
		const char *name = lx->start;
		size_t len = lx->len;
		lex_next(lx);
		expect_ch(c, '=');
		expr(c);
		if (c->toplevel)
			emit16(c, OP_SETG, add_const(c, v_obj(T_STR, str_intern(name, len))));
		else
			emit16(c, OP_SETL, (unsigned)declare_local(c, name, len));
		return;
	}
	case TK_IF: {
		lex_next(lx);
		expr(c);
		size_t jf = emit_jump(c, OP_JF);
		block(c);
		if (lx->tok == TK_ELSE) {
			lex_next(lx);
			size_t jend = emit_jump(c, OP_JMP);
			patch_jump(c, jf);
			if (lx->tok == TK_IF)
				statement(c);
			else
				block(c);
			patch_jump(c, jend);
		} else {
			patch_jump(c, jf);
		}
		return;
	}
	case TK_WHILE: {
		lex_next(lx);
		size_t top = c->p->ncode;
		expr(c);
		size_t jf = emit_jump(c, OP_JF);
		block(c);
		emit16(c, OP_LOOP, (unsigned)(c->p->ncode + 3 - top));
		patch_jump(c, jf);
		return;
	}
	case TK_RETURN:
		lex_next(lx);
		if (lx->tok == TK_CHAR && lx->ch == '}')
			emit(c, OP_NIL);
		else
			expr(c);
		emit(c, OP_RET);
		return;
	default:
		break;
	}

	postfix(c);
	int op = c->last_load_op;
	size_t at = c->last_load;
	if (accept_ch(c, '=')) {
		if (op < 0 || at + (op == OP_INDEX ? 1 : 3) != c->p->ncode)
			error_at(c, "cannot assign to this expression");
		if (op == OP_INDEX) {
			c->p->ncode = at;
			expr(c);
			emit(c, OP_SETINDEX);
		} else {
			unsigned arg = c->p->code[at + 1] | (unsigned)c->p->code[at + 2] << 8;
			c->p->ncode = at;
			expr(c);
			emit16(c, op == OP_GETL ? OP_SETL : OP_SETG, arg);
		}
	} else if (lx->tok == TK_PLUSEQ) {
		if (op != OP_GETL && op != OP_GETG)
			error_at(c, "'+=' needs a variable");
		lex_next(lx);
		unsigned arg = c->p->code[at + 1] | (unsigned)c->p->code[at + 2] << 8;
		if (op == OP_GETL && lx->tok == TK_INT) {
			/* A counter bump: one instruction instead of four. */
			c->p->ncode = at;
			emit16(c, OP_INCL, arg);
			unsigned k = add_const(c, v_int(lx->ival));
			emit(c, k & 0xff);
			emit(c, k >> 8);
			lex_next(lx);
		} else {
			expr(c);
			emit(c, OP_ADD);
			emit16(c, op == OP_GETL ? OP_SETL : OP_SETG, arg);
		}
	} else {
		emit(c, OP_POP);
	}
}

static void block(struct compiler *c)
{
	int saved = c->nlocals;
	expect_ch(c, '{');
	while (!accept_ch(c, '}')) {
		if (c->lx.tok == TK_EOF)
			error_at(c, "expected '}' before end of file");
		statement(c);
	}
	c->nlocals = saved;
}

struct tl_proto *compile(const char *file, const char *src)
{
	static struct compiler c;
	struct tl_proto *p = calloc(1, sizeof(*p));
	if (!p)
		fatal("out of memory");
	p->name = "main";
	gc_add_proto(p);
	c.p = p;
	c.toplevel = 1;
	lex_init(&c.lx, file, src);
	while (c.lx.tok != TK_EOF)
		statement(&c);
	emit(&c, OP_NIL);
	emit(&c, OP_RET);
	return p;
}
