/*
 * tl: a tiny dynamically typed language — lexer, one-pass compiler to
 * bytecode, a stack VM, interned strings, hash maps and a mark-sweep GC.
 * It is cpgo's demo program: its hot paths (dispatch, hashing, string
 * building, calls) sit in different files, the way real programs' do.
 */
#ifndef TL_H
#define TL_H

#include <stddef.h>
#include <stdint.h>

enum tl_type { T_NIL, T_BOOL, T_INT, T_STR, T_MAP, T_ARR, T_FN };

struct tl_obj;

struct tl_val {
	enum tl_type t;
	union {
		int64_t i;
		struct tl_obj *o;
	} u;
};

struct tl_obj {
	struct tl_obj *next; /* all objects, for the sweep */
	unsigned char type, marked;
};

struct tl_str {
	struct tl_obj h;
	uint32_t hash;
	uint32_t len;
	char s[];
};

struct tl_entry {
	struct tl_val k, v;
};

struct tl_map {
	struct tl_obj h;
	struct tl_entry *e;
	uint32_t cap, count, used; /* used counts tombstones too */
};

struct tl_arr {
	struct tl_obj h;
	struct tl_val *v;
	uint32_t len, cap;
};

struct tl_proto {
	const char *name;
	int nparams, nlocals;
	uint8_t *code;
	size_t ncode, capcode;
	struct tl_val *k;
	size_t nk, capk;
	int *lines;
};

struct tl_fn {
	struct tl_obj h;
	struct tl_proto *p;
};

enum tl_op {
	OP_CONST, OP_NIL, OP_TRUE, OP_FALSE,
	OP_GETL, OP_SETL, OP_GETG, OP_SETG,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG, OP_NOT,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_JMP, OP_JF, OP_JT, OP_LOOP,
	OP_CALL, OP_RET, OP_POP, OP_DUP,
	OP_INDEX, OP_SETINDEX, OP_NEWMAP, OP_NEWARR,
	OP_BUILTIN,
	OP_INCL, /* local += constant: the compiler's one superinstruction */
};

/* str.c */
struct tl_str *str_intern(const char *s, size_t len);
struct tl_str *str_concat(const struct tl_str *a, const struct tl_str *b);
struct tl_str *str_from_int(int64_t i);
struct tl_str *str_sub(const struct tl_str *s, int64_t from, int64_t to);
uint32_t str_hash(const char *s, size_t len);
void str_sweep_interned(void);

/* table.c */
struct tl_map *map_new(void);
int map_get(const struct tl_map *m, struct tl_val k, struct tl_val *out);
void map_set(struct tl_map *m, struct tl_val k, struct tl_val v);
int map_del(struct tl_map *m, struct tl_val k);
struct tl_arr *arr_new(void);
void arr_push(struct tl_arr *a, struct tl_val v);
int val_equal(struct tl_val a, struct tl_val b);

/* gc.c */
void *gc_alloc(size_t size, int type);
void gc_maybe_collect(void);
void gc_add_root_range(struct tl_val *base, struct tl_val **top);
void gc_add_root_map(struct tl_map *m);
void gc_add_proto(struct tl_proto *p);
void gc_free_all(void);

/* lex.c */
enum tl_tok {
	TK_EOF, TK_NAME, TK_INT, TK_STR,
	TK_FN, TK_LET, TK_IF, TK_ELSE, TK_WHILE, TK_RETURN, TK_AND, TK_OR, TK_NOT,
	TK_NIL, TK_TRUE, TK_FALSE,
	TK_EQ, TK_NE, TK_LE, TK_GE, TK_PLUSEQ,
	TK_CHAR, /* single-character punctuation, in lex.c */
};

struct tl_lexer {
	const char *src, *p, *file;
	int line;
	enum tl_tok tok;
	char ch;
	const char *start;
	size_t len;
	int64_t ival;
	struct tl_str *sval;
};

void lex_init(struct tl_lexer *lx, const char *file, const char *src);
void lex_next(struct tl_lexer *lx);
void fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* compile.c */
struct tl_proto *compile(const char *file, const char *src);

/* vm.c */
void vm_init(void);
void vm_run(struct tl_proto *main);
void vm_set_arg(const char *arg); /* the script's global `arg` */
int builtin_id(const char *name, size_t len);

/* helpers shared by files */
static inline struct tl_val v_int(int64_t i) { struct tl_val v = { T_INT, { .i = i } }; return v; }
static inline struct tl_val v_obj(int t, void *o) { struct tl_val v = { (enum tl_type)t, { .o = o } }; return v; }
static inline struct tl_val v_nil(void) { struct tl_val v = { T_NIL, { .i = 0 } }; return v; }
static inline struct tl_val v_bool(int b) { struct tl_val v = { T_BOOL, { .i = !!b } }; return v; }

#endif
