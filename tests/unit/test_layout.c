/*
 * Unit tests for C3 function ordering (lib/link/layout.c) on call graphs
 * given directly: the page limit and the caller-degrade rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/layout.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_limit),
		cmocka_unit_test(test_caller_degrade),
		cmocka_unit_test(test_unknown_left_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
