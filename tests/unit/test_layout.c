/*
 * Unit tests for function layout (lib/link/layout.c): C3 on call graphs
 * given directly (the page limit, the caller-degrade rule), the edge list
 * of a constructed profile, and names resolved against a symbol table
 * (statics by file, compiler renamings, .cold parts, inlined functions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/layout.h"
#include "pprof/profile.h"

/* Profile functions by name; each stack is leaf first. */
struct stack {
	int64_t v;
	const char *fn[4];
};

static void make_profile(struct cpgo_profile *p, const char *const (*fns)[2], size_t n_fn,
			 const struct stack *st, size_t n_st)
{
	uint64_t ids[16], locs[16];
	assert_true(n_fn <= 16);
	assert_int_equal(cpgo_profile_init(p), 0);
	assert_int_equal(cpgo_profile_add_sample_type(p, "samples", "count"), 0);
	for (size_t i = 0; i < n_fn; i++) {
		ids[i] = cpgo_profile_add_function(p, fns[i][0], fns[i][0], fns[i][1], 1);
		struct cpgo_line ln = { ids[i], 2, 0 };
		locs[i] = cpgo_profile_add_location(p, 0, 0x1000 * (i + 1), &ln, 1);
	}
	for (size_t s = 0; s < n_st; s++) {
		uint64_t sl[4];
		size_t n = 0;
		for (; n < 4 && st[s].fn[n]; n++) {
			size_t k = 0;
			while (k < n_fn && strcmp(fns[k][0], st[s].fn[n]))
				k++;
			assert_true(k < n_fn);
			sl[n] = locs[k];
		}
		assert_int_equal(cpgo_profile_add_sample(p, sl, n, &st[s].v, NULL, 0), 0);
	}
}

static void assert_edges(const struct cpgo_layout *l, const char *want)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	assert_int_equal(cpgo_layout_write_edges(l, &b), 0);
	assert_string_equal(b.buf ? b.buf : "", want);
	cpgo_buf_release(&b);
}

static void add_sym(struct cpgo_elfsyms *s, const char *name, const char *file, int local,
		    uint64_t size)
{
	s->syms = realloc(s->syms, (s->n + 1) * sizeof(*s->syms));
	assert_non_null(s->syms);
	s->syms[s->n] = (struct cpgo_elfsym){ strdup(name), strdup(file), 0, size, local };
	s->alloc = ++s->n;
}

static void add_node(struct cpgo_layout *l, const char *sym, uint64_t self, uint64_t size)
{
	l->nodes = realloc(l->nodes, (l->n_node + 1) * sizeof(*l->nodes));
	assert_non_null(l->nodes);
	l->nodes[l->n_node] = (struct cpgo_layout_node){ strdup(sym), strdup(""), self, size, 1 };
	l->alloc_node = ++l->n_node;
}

static void add_edge(struct cpgo_layout *l, size_t caller, size_t callee, uint64_t w)
{
	l->edges = realloc(l->edges, (l->n_edge + 1) * sizeof(*l->edges));
	assert_non_null(l->edges);
	l->edges[l->n_edge] = (struct cpgo_layout_edge){ caller, callee, w };
	l->alloc_edge = ++l->n_edge;
}

static void assert_order(struct cpgo_layout *l, const char *want)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	assert_int_equal(cpgo_layout_c3(l), 0);
	assert_int_equal(cpgo_layout_write_order(l, &b), 0);
	assert_string_equal(b.buf ? b.buf : "", want);
	cpgo_buf_release(&b);
}

/* Two callees that together pass a page: the second starts its own cluster. */
static void test_page_limit(void **state)
{
	struct cpgo_layout l;
	(void)state;
	cpgo_layout_init(&l);
	add_node(&l, "caller", 10, 1000);
	add_node(&l, "big", 100, 3000);
	add_node(&l, "other", 50, 200);
	add_edge(&l, 0, 1, 100);
	add_edge(&l, 0, 2, 50);
	/* big joins caller (4000 bytes); other would make 4200 > 4096. */
	assert_order(&l, "other\ncaller\nbig\n");
	cpgo_layout_release(&l);
}

/* A dense caller does not take a callee that would dilute it more than 8x. */
static void test_caller_degrade(void **state)
{
	struct cpgo_layout l;
	(void)state;
	cpgo_layout_init(&l);
	add_node(&l, "hot", 1000, 16);
	add_node(&l, "sparse", 1, 3000);
	add_node(&l, "mid", 100, 64); /* no caller: its own cluster, between the two */
	add_edge(&l, 0, 1, 1);
	assert_order(&l, "hot\nmid\nsparse\n");
	/* The same callee, dense enough: it joins hot's cluster, ahead of mid. */
	l.nodes[1].self = 900;
	l.nodes[1].size = 64;
	assert_order(&l, "hot\nsparse\nmid\n");
	cpgo_layout_release(&l);
}

/* Not found in the binary: never placed, and no edge names it. */
static void test_unknown_left_out(void **state)
{
	struct cpgo_layout l;
	struct cpgo_buf b = CPGO_BUF_INIT;
	(void)state;
	cpgo_layout_init(&l);
	add_node(&l, "main", 0, 64);
	add_node(&l, "gone", 40, 64);
	add_node(&l, "f", 20, 64);
	l.nodes[1].found = 0;
	add_edge(&l, 0, 1, 40);
	add_edge(&l, 0, 2, 20);
	assert_order(&l, "main\nf\n");
	assert_int_equal(cpgo_layout_write_edges(&l, &b), 0);
	assert_string_equal(b.buf, "main f 20\n");
	cpgo_buf_release(&b);
	cpgo_layout_release(&l);
}

/*
 * Edges from a constructed profile: leaf and caller per sample, summed,
 * heaviest first; a sample in a split-out .cold part is its function's.
 */
static void test_edges_from_profile(void **state)
{
	static const char *const fns[][2] = {
		{ "main", "main.c" }, { "parse", "p.c" }, { "lex", "l.c" },
		{ "lex.cold", "l.c" }, { "emit", "e.c" },
	};
	static const struct stack st[] = {
		{ 50, { "lex", "parse", "main" } },
		{ 30, { "parse", "main" } },
		{ 20, { "lex.cold", "parse", "main" } },
		{ 15, { "emit", "main" } },
		{ 5, { "main" } },
	};
	struct cpgo_profile p;
	struct cpgo_layout l;
	(void)state;
	make_profile(&p, fns, 5, st, 5);
	cpgo_layout_init(&l);
	assert_int_equal(cpgo_layout_build(&l, &p, NULL), 0);
	assert_int_equal(l.samples, 120);
	assert_int_equal(l.n_unknown, 0);
	assert_edges(&l, "parse lex 70\nmain parse 30\nmain emit 15\n");
	assert_int_equal(cpgo_layout_c3(&l), 0);
	assert_int_equal(l.n_order, 4);
	cpgo_layout_release(&l);
	cpgo_profile_release(&p);
}

/*
 * The objects' symbols name the functions: a static by its file among
 * same-named ones, .__uniq./.llvm./.part renamings, never a .cold part;
 * a function the build inlined away gives its samples and calls to its
 * caller; what is missing is counted, not fatal.
 */
static void test_resolve_symbols(void **state)
{
	static const char *const fns[][2] = {
		{ "main", "/src/main.c" }, { "helper", "/src/b.c" }, { "step", "/src/b.c" },
		{ "tiny", "/src/b.c" }, { "leaf", "/src/c.c" }, { "work", "/src/c.c" },
		{ "gone", "/src/old.c" },
	};
	static const struct stack st[] = {
		{ 40, { "helper", "step", "main" } },
		{ 30, { "leaf", "tiny", "step", "main" } }, /* tiny is inlined into step */
		{ 20, { "work", "main" } },
		{ 10, { "gone", "main" } },
	};
	struct cpgo_profile p;
	struct cpgo_layout l;
	struct cpgo_elfsyms syms = { NULL, 0, 0 };
	(void)state;
	make_profile(&p, fns, 7, st, 4);
	add_sym(&syms, "main", "", 0, 100);
	add_sym(&syms, "helper", "a.c", 1, 10);
	add_sym(&syms, "helper", "b.c", 1, 20);
	add_sym(&syms, "step.__uniq.99", "b.c", 1, 30);
	add_sym(&syms, "leaf.cold", "c.c", 1, 5);
	add_sym(&syms, "leaf.llvm.123", "", 0, 40);
	add_sym(&syms, "work.cold", "c.c", 1, 5);
	add_sym(&syms, "work.part.0", "c.c", 1, 50);
	cpgo_layout_init(&l);
	assert_int_equal(cpgo_layout_build(&l, &p, NULL), 0);
	assert_int_equal(cpgo_layout_resolve(&l, &syms, "objects"), 0);
	assert_int_equal(l.n_unknown, 2); /* tiny, gone */
	assert_int_equal(l.samples_unknown, 10);
	assert_edges(&l, "step.__uniq.99 helper 40\nstep.__uniq.99 leaf.llvm.123 30\n"
		     "main work.part.0 20\n");
	for (size_t i = 0; i < l.n_node; i++) {
		if (!strcmp(l.nodes[i].symbol, "helper"))
			assert_int_equal(l.nodes[i].size, 20); /* b.c's, not a.c's */
		if (!strcmp(l.nodes[i].symbol, "main"))
			assert_int_equal(l.nodes[i].self, 10); /* gone's samples */
	}
	cpgo_elfsyms_release(&syms);
	cpgo_layout_release(&l);
	cpgo_profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges_from_profile),
		cmocka_unit_test(test_resolve_symbols),
		cmocka_unit_test(test_page_limit),
		cmocka_unit_test(test_caller_degrade),
		cmocka_unit_test(test_unknown_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
