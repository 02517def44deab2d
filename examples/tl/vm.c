/* The interpreter: a switch-dispatched stack machine, and the builtins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

#define STACK_MAX (1 << 16)
#define FRAMES_MAX 4096

struct frame {
	struct tl_proto *p;
	const uint8_t *ip;
	struct tl_val *base;
};

static struct tl_val stack[STACK_MAX];
static struct tl_val *sp = stack;
static struct tl_map *globals;
static struct frame frames[FRAMES_MAX];
static int nframes;

enum {
	B_PRINT, B_LEN, B_PUSH, B_POP, B_STR, B_SUB, B_ORD, B_CHR, B_HAS, B_DEL, B_KEYS, B_INT,
};
static const char *const builtin_names[] = {
	"print", "len", "push", "pop", "str", "sub", "ord", "chr", "has", "del", "keys", "int",
};

int builtin_id(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(builtin_names) / sizeof(builtin_names[0]); i++)
		if (strlen(builtin_names[i]) == len && !memcmp(builtin_names[i], name, len))
			return (int)i;
	return -1;
}

static const char *type_name(struct tl_val v)
{
	static const char *const names[] = { "nil", "bool", "int", "string", "map", "array", "function" };
	return names[v.t];
}

static void rt_error(const char *fmt, const char *a, const char *b) __attribute__((noreturn));
static void rt_error(const char *fmt, const char *a, const char *b)
{
	struct frame *f = &frames[nframes - 1];
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, a, b);
	size_t at = (size_t)(f->ip - f->p->code);
	fatal("line %d in %s: %s", f->p->lines[at ? at - 1 : 0], f->p->name, msg);
}

static struct tl_str *to_str(struct tl_val v)
{
	switch (v.t) {
	case T_STR: return (struct tl_str *)v.u.o;
	case T_INT: return str_from_int(v.u.i);
	case T_NIL: return str_intern("nil", 3);
	case T_BOOL: return v.u.i ? str_intern("true", 4) : str_intern("false", 5);
	default: {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "%s: %p", type_name(v), (void *)v.u.o);
		return str_intern(buf, (size_t)n);
	}
	}
}

static int truthy(struct tl_val v)
{
	return !(v.t == T_NIL || (v.t == T_BOOL && !v.u.i));
}

static int compare(struct tl_val a, struct tl_val b)
{
	if (a.t == T_INT && b.t == T_INT)
		return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
	if (a.t == T_STR && b.t == T_STR) {
		struct tl_str *x = (struct tl_str *)a.u.o, *y = (struct tl_str *)b.u.o;
		size_t n = x->len < y->len ? x->len : y->len;
		int r = memcmp(x->s, y->s, n);
		if (r)
			return r < 0 ? -1 : 1;
		return x->len < y->len ? -1 : x->len > y->len;
	}
	rt_error("cannot compare %s with %s", type_name(a), type_name(b));
}

static struct tl_val index_get(struct tl_val o, struct tl_val k)
{
	if (o.t == T_ARR) {
		struct tl_arr *a = (struct tl_arr *)o.u.o;
		if (k.t != T_INT)
			rt_error("array index is a %s%s", type_name(k), "");
		if (k.u.i < 0 || k.u.i >= a->len)
			rt_error("array index out of range%s%s", "", "");
		return a->v[k.u.i];
	}
	if (o.t == T_MAP) {
		struct tl_val v;
		return map_get((struct tl_map *)o.u.o, k, &v) ? v : v_nil();
	}
	if (o.t == T_STR) {
		struct tl_str *s = (struct tl_str *)o.u.o;
		if (k.t != T_INT || k.u.i < 0 || k.u.i >= s->len)
			rt_error("string index out of range%s%s", "", "");
		return v_obj(T_STR, str_intern(s->s + k.u.i, 1));
	}
	rt_error("cannot index a %s%s", type_name(o), "");
}

static void index_set(struct tl_val o, struct tl_val k, struct tl_val v)
{
	if (o.t == T_ARR) {
		struct tl_arr *a = (struct tl_arr *)o.u.o;
		if (k.t != T_INT)
			rt_error("array index is a %s%s", type_name(k), "");
		if (k.u.i == a->len)
			arr_push(a, v);
		else if (k.u.i < 0 || k.u.i > a->len)
			rt_error("array index out of range%s%s", "", "");
		else
			a->v[k.u.i] = v;
		return;
	}
	if (o.t == T_MAP) {
		if (k.t == T_NIL)
			rt_error("map key is nil%s%s", "", "");
		map_set((struct tl_map *)o.u.o, k, v);
		return;
	}
	rt_error("cannot assign into a %s%s", type_name(o), "");
}

static void print_val(FILE *f, struct tl_val v)
{
	struct tl_str *s = to_str(v);
	fwrite(s->s, 1, s->len, f);
}

static struct tl_val call_builtin(int id, struct tl_val *a, int n)
{
	static const signed char arity[] = { -1, 1, 2, 1, 1, 3, 2, 1, 2, 2, 1, 1 };
	if (arity[id] >= 0 && n != arity[id])
		rt_error("%s: wrong number of arguments%s", builtin_names[id], "");
	switch (id) {
	case B_PRINT:
		for (int i = 0; i < n; i++) {
			if (i)
				putchar(' ');
			print_val(stdout, a[i]);
		}
		putchar('\n');
		return v_nil();
	case B_LEN:
		if (a[0].t == T_STR)
			return v_int(((struct tl_str *)a[0].u.o)->len);
		if (a[0].t == T_ARR)
			return v_int(((struct tl_arr *)a[0].u.o)->len);
		if (a[0].t == T_MAP)
			return v_int(((struct tl_map *)a[0].u.o)->count);
		break;
	case B_PUSH:
		if (a[0].t == T_ARR) {
			arr_push((struct tl_arr *)a[0].u.o, a[1]);
			return a[0];
		}
		break;
	case B_POP:
		if (a[0].t == T_ARR) {
			struct tl_arr *arr = (struct tl_arr *)a[0].u.o;
			if (!arr->len)
				rt_error("pop from an empty array%s%s", "", "");
			return arr->v[--arr->len];
		}
		break;
	case B_STR:
		return v_obj(T_STR, to_str(a[0]));
	case B_SUB:
		if (a[0].t == T_STR && a[1].t == T_INT && a[2].t == T_INT)
			return v_obj(T_STR, str_sub((struct tl_str *)a[0].u.o, a[1].u.i, a[2].u.i));
		break;
	case B_ORD:
		if (a[0].t == T_STR && a[1].t == T_INT) {
			struct tl_str *s = (struct tl_str *)a[0].u.o;
			if (a[1].u.i < 0 || a[1].u.i >= s->len)
				return v_nil();
			return v_int((unsigned char)s->s[a[1].u.i]);
		}
		break;
	case B_CHR:
		if (a[0].t == T_INT) {
			char ch = (char)a[0].u.i;
			return v_obj(T_STR, str_intern(&ch, 1));
		}
		break;
	case B_HAS:
		if (a[0].t == T_MAP) {
			struct tl_val v;
			return v_bool(map_get((struct tl_map *)a[0].u.o, a[1], &v));
		}
		break;
	case B_DEL:
		if (a[0].t == T_MAP)
			return v_bool(map_del((struct tl_map *)a[0].u.o, a[1]));
		break;
	case B_KEYS:
		if (a[0].t == T_MAP) {
			struct tl_map *m = (struct tl_map *)a[0].u.o;
			struct tl_arr *r = arr_new();
			for (uint32_t i = 0; i < m->cap; i++)
				if (m->e[i].k.t != T_NIL)
					arr_push(r, m->e[i].k);
			return v_obj(T_ARR, r);
		}
		break;
	case B_INT:
		if (a[0].t == T_INT)
			return a[0];
		if (a[0].t == T_STR) {
			char *end;
			struct tl_str *s = (struct tl_str *)a[0].u.o;
			long long v = strtoll(s->s, &end, 10);
			return *end || !s->len ? v_nil() : v_int(v);
		}
		break;
	}
	rt_error("%s: bad argument type %s", builtin_names[id], type_name(a[0]));
}

#define READ16() (ip += 2, (unsigned)ip[-2] | (unsigned)ip[-1] << 8)

void vm_init(void)
{
	globals = map_new();
	gc_add_root_map(globals);
	gc_add_root_range(stack, &sp);
}

void vm_run(struct tl_proto *main)
{
	struct tl_proto *p = main;
	const uint8_t *ip = p->code;
	struct tl_val *base = sp;
	struct tl_val *k = p->k;
	nframes = 1;
	frames[0].p = p;

	for (;;) {
		uint8_t op = *ip++;
		switch (op) {
		case OP_CONST:
			*sp++ = k[READ16()];
			break;
		case OP_NIL: *sp++ = v_nil(); break;
		case OP_TRUE: *sp++ = v_bool(1); break;
		case OP_FALSE: *sp++ = v_bool(0); break;
		case OP_GETL:
			*sp++ = base[READ16()];
			break;
		case OP_SETL:
			base[READ16()] = *--sp;
			break;
		case OP_INCL: {
			unsigned slot = READ16();
			struct tl_val inc = k[READ16()];
			if (base[slot].t != T_INT)
				goto arith_error_slot;
			base[slot].u.i = (int64_t)((uint64_t)base[slot].u.i + (uint64_t)inc.u.i);
			break;
		arith_error_slot:
			frames[nframes - 1].ip = ip;
			rt_error("cannot add to a %s%s", type_name(base[slot]), "");
		}
		case OP_GETG: {
			struct tl_val name = k[READ16()];
			if (!map_get(globals, name, sp)) {
				frames[nframes - 1].ip = ip;
				rt_error("undefined variable '%s'%s", ((struct tl_str *)name.u.o)->s, "");
			}
			sp++;
			break;
		}
		case OP_SETG:
			map_set(globals, k[READ16()], *--sp);
			break;
		case OP_ADD: {
			struct tl_val b = *--sp, a = sp[-1];
			if (a.t == T_INT && b.t == T_INT) {
				sp[-1].u.i = (int64_t)((uint64_t)a.u.i + (uint64_t)b.u.i);
			} else if (a.t == T_STR || b.t == T_STR) {
				sp[-1] = v_obj(T_STR, str_concat(to_str(a), to_str(b)));
			} else {
				frames[nframes - 1].ip = ip;
				rt_error("cannot add %s and %s", type_name(a), type_name(b));
			}
			break;
		}
		case OP_SUB:
		case OP_MUL:
		case OP_DIV:
		case OP_MOD: {
			struct tl_val b = *--sp, a = sp[-1];
			if (a.t != T_INT || b.t != T_INT) {
				frames[nframes - 1].ip = ip;
				rt_error("arithmetic on %s and %s", type_name(a), type_name(b));
			}
			uint64_t x = (uint64_t)a.u.i, y = (uint64_t)b.u.i;
			if (op == OP_SUB) {
				sp[-1].u.i = (int64_t)(x - y);
			} else if (op == OP_MUL) {
				sp[-1].u.i = (int64_t)(x * y);
			} else {
				if (b.u.i == 0 || (b.u.i == -1 && a.u.i == INT64_MIN)) {
					frames[nframes - 1].ip = ip;
					rt_error("division by zero or overflow%s%s", "", "");
				}
				sp[-1].u.i = op == OP_DIV ? a.u.i / b.u.i : a.u.i % b.u.i;
			}
			break;
		}
		case OP_NEG:
			if (sp[-1].t != T_INT) {
				frames[nframes - 1].ip = ip;
				rt_error("cannot negate a %s%s", type_name(sp[-1]), "");
			}
			sp[-1].u.i = (int64_t)(0 - (uint64_t)sp[-1].u.i);
			break;
		case OP_NOT:
			sp[-1] = v_bool(!truthy(sp[-1]));
			break;
		case OP_EQ:
			sp--;
			sp[-1] = v_bool(val_equal(sp[-1], sp[0]));
			break;
		case OP_NE:
			sp--;
			sp[-1] = v_bool(!val_equal(sp[-1], sp[0]));
			break;
		case OP_LT:
		case OP_LE:
		case OP_GT:
		case OP_GE: {
			struct tl_val b = *--sp, a = sp[-1];
			frames[nframes - 1].ip = ip;
			int c = compare(a, b);
			int r = op == OP_LT ? c < 0 : op == OP_LE ? c <= 0 : op == OP_GT ? c > 0 : c >= 0;
			sp[-1] = v_bool(r);
			break;
		}
		case OP_JMP: {
			unsigned off = READ16();
			ip += off;
			break;
		}
		case OP_JF: {
			unsigned off = READ16();
			if (!truthy(*--sp))
				ip += off;
			break;
		}
		case OP_JT: {
			unsigned off = READ16();
			if (truthy(*--sp))
				ip += off;
			break;
		}
		case OP_LOOP: {
			unsigned off = READ16();
			ip -= off;
			gc_maybe_collect();
			break;
		}
		case OP_CALL: {
			int n = *ip++;
			struct tl_val fv = sp[-n - 1];
			if (fv.t != T_FN) {
				frames[nframes - 1].ip = ip;
				rt_error("cannot call a %s%s", type_name(fv), "");
			}
			struct tl_proto *np = ((struct tl_fn *)fv.u.o)->p;
			if (n != np->nparams) {
				frames[nframes - 1].ip = ip;
				rt_error("%s: wrong number of arguments%s", np->name, "");
			}
			if (nframes == FRAMES_MAX || sp + np->nlocals + 64 > stack + STACK_MAX) {
				frames[nframes - 1].ip = ip;
				rt_error("stack overflow%s%s", "", "");
			}
			frames[nframes - 1].ip = ip;
			frames[nframes - 1].base = base;
			frames[nframes].p = np;
			frames[nframes].ip = np->code;
			nframes++;
			base = sp - n;
			for (int i = n; i < np->nlocals; i++)
				base[i] = v_nil();
			sp = base + np->nlocals;
			p = np;
			k = p->k;
			ip = p->code;
			gc_maybe_collect();
			break;
		}
		case OP_RET: {
			struct tl_val r = *--sp;
			if (--nframes == 0)
				return;
			sp = base - 1;
			sp[-0] = r;
			sp++;
			struct frame *f = &frames[nframes - 1];
			p = f->p;
			k = p->k;
			ip = f->ip;
			base = f->base;
			break;
		}
		case OP_POP:
			sp--;
			break;
		case OP_DUP:
			sp[0] = sp[-1];
			sp++;
			break;
		case OP_INDEX: {
			struct tl_val key = *--sp;
			frames[nframes - 1].ip = ip;
			sp[-1] = index_get(sp[-1], key);
			break;
		}
		case OP_SETINDEX: {
			struct tl_val v = sp[-1], key = sp[-2], o = sp[-3];
			frames[nframes - 1].ip = ip;
			index_set(o, key, v);
			sp -= 3;
			break;
		}
		case OP_NEWMAP:
			*sp++ = v_obj(T_MAP, map_new());
			break;
		case OP_NEWARR: {
			unsigned n = READ16();
			struct tl_arr *a = arr_new();
			for (unsigned i = 0; i < n; i++)
				arr_push(a, sp[(int)i - (int)n]);
			sp -= n;
			*sp++ = v_obj(T_ARR, a);
			break;
		}
		case OP_BUILTIN: {
			int id = ip[0], n = ip[1];
			ip += 2;
			frames[nframes - 1].ip = ip;
			struct tl_val r = call_builtin(id, sp - n, n);
			sp -= n;
			*sp++ = r;
			break;
		}
		default:
			fatal("bad opcode %d", op);
		}
	}
}

void vm_set_arg(const char *arg)
{
	struct tl_val v = v_nil();
	if (arg) {
		char *end;
		long long i = strtoll(arg, &end, 10);
		v = *arg && !*end ? v_int(i) : v_obj(T_STR, str_intern(arg, strlen(arg)));
	}
	map_set(globals, v_obj(T_STR, str_intern("arg", 3)), v);
}
