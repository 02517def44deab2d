#ifndef CPGO_LLVMPROF_INT_H
#define CPGO_LLVMPROF_INT_H

/*
 * Internals of the sample-profile converter, shared by its files and by
 * nothing else:
 *   llvmprof_model.c   the model (names, function samples, records, call
 *                      targets), name canonicalization, discriminators
 *   llvmprof_funcs.c   the pprof function table: names, one top-level
 *                      profile per name, start lines
 *   llvmprof_build.c   pprof samples -> the model; the entry points
 *   llvmprof_binary.c  what the profiled binary adds: build id check,
 *                      discriminators, zero lines, the symbol list
 *   llvmprof_order.c   the orderings LLVM's containers give
 *   llvmprof_text.c, llvmprof_extbin.c   the writers
 *
 * The model is the compiler-neutral part: per function, body records keyed
 * by (line offset, discriminator) with call targets, and inline instances
 * nested under call sites. A writer reads only struct lp_model (after
 * lp_model_order), so another compiler's format is one more writer.
 */

#include <stddef.h>
#include <stdint.h>

#include "llvmprof.h"
#include "util/buf.h"
#include "util/hashmap.h"

struct cpgo_profile;
struct cpgo_line;
struct cpgo_location;
struct sym_dso;

/* Deepest inline chain of one address that is kept (deeper ones are dropped). */
#define LP_MAX_FRAMES 64
#define LP_NO_PARENT UINT64_MAX
/* How far back a line-0 address looks for a real line of its inline instance. */
#define LP_LINE0_SEARCH_BYTES 64

/* One FunctionSamples: top level (parent LP_NO_PARENT) or an inline instance. */
struct lp_fs {
	uint32_t name;
	uint64_t parent; /* fs index, LP_NO_PARENT for top level */
	uint32_t off, disc; /* call site in the parent */
	uint64_t total, head;
	size_t rec_first, n_rec, child_first, n_child; /* into the sorted orders */
	const char *file; /* pprof file of a top-level function, for zero lines */
};

/* One body line: SampleRecord at LineLocation(off, disc). */
struct lp_rec {
	size_t fs;
	uint32_t off, disc;
	uint64_t samples;
	size_t tgt_first, n_tgt;
};

struct lp_tgt {
	size_t rec;
	uint32_t name;
	uint64_t count;
};

struct lp_model {
	const char *pname; /* the profile's name, for errors */

	char **names;
	size_t n_names, alloc_names;
	struct cpgo_hashmap name_map;

	struct lp_fs *fs;
	size_t n_fs, alloc_fs;
	struct lp_rec *rec;
	size_t n_rec, alloc_rec;
	struct lp_tgt *tgt;
	size_t n_tgt, alloc_tgt;
	struct cpgo_hashmap fs_map, rec_map, tgt_map;

	char **psl; /* profile symbol list: functions of the binary never sampled */
	size_t n_psl, alloc_psl;

	/* Filled by lp_model_order. */
	size_t *rec_order, *child_order, *tgt_order, *top_order;
	size_t n_top, n_child;
};

void lp_model_init(struct lp_model *m, const char *pname);
void lp_model_release(struct lp_model *m);
uint64_t lp_sat_add(uint64_t a, uint64_t b);
/* FunctionSamples::getOffset. */
uint32_t lp_line_offset(int64_t line, int64_t start);

int64_t lp_name_find(const struct lp_model *m, const char *s);
int64_t lp_name_intern(struct lp_model *m, const char *s);
/* The function samples (parent, off, disc, name), created when `create`; -1 = none/error. */
int64_t lp_fs_get(struct lp_model *m, uint64_t parent, uint32_t off, uint32_t disc,
		  uint32_t name, int create);
/* The body record (fs, off, disc), created when `create`; -1 = none/error. */
int64_t lp_rec_get(struct lp_model *m, size_t fs, uint32_t off, uint32_t disc, int create);
int lp_tgt_add(struct lp_model *m, size_t rec, uint32_t name, uint64_t v);

/* Sorts records, targets, inline instances and top-level profiles as LLVM does. */
int lp_model_order(struct lp_model *m);
int lp_write_text(const struct lp_model *m, struct cpgo_buf *out);
int lp_write_ext_binary(const struct lp_model *m, struct cpgo_buf *out);

/* The name a frame is profiled under: a mangled linkage name wins. */
const char *lp_pick_name(const char *name, const char *sys);

/* ---- the builder: one pprof profile -> the model ---- */

struct lp_skid {
	size_t fs;
	uint32_t off, disc;
	uint64_t samples; /* at the addresses after the line */
	int used;         /* counted once in the stats */
};

/* Per pprof function. */
struct lp_fn {
	int64_t name; /* into the model's names, -1 = unusable */
	int64_t start;
	const char *file;
	unsigned outer_used : 1, keep_top : 1, needs_start : 2, kernel : 1;
};

struct lp_ctx {
	struct cpgo_profile *p;
	const char *pname;
	const struct llvmprof_opts *o;
	int vi;       /* the sample value used */
	uint64_t div; /* period that turns values into sample counts */
	struct llvmprof_stats st;
	struct lp_model m;

	/* The options with their defaults resolved (llvmprof_build.c). */
	int zero, skid, max;
	enum llvmprof_line0 line0;

	struct lp_fn *fn;
	/* Parallel to p->lines: the line keyed (a line 0 may be remapped), its base
	 * discriminator and duplication factor from the binary. */
	int64_t *line_no;
	uint32_t *line_disc, *line_dup;
	unsigned char *line_remapped;
	/* Parallel to p->locations: leaf samples, and the ELF address when the
	 * binary confirmed the location's frames (0 = not resolved). */
	uint64_t *leaf, *loc_vaddr;
	unsigned char *loc_sampled; /* in the stack of a sample with a positive value */

	/* Lines protected from a zero by the skid rule: (fs, off, disc). */
	struct lp_skid *skids;
	size_t n_skid, alloc_skid;
	struct cpgo_hashmap skid_map;

	struct sym_dso *dso;
	char *seen_name; /* per model name: appears in a sampled stack */
	size_t n_seen;
};

/* llvmprof_funcs.c */
int lp_mark_sampled(struct lp_ctx *c);
int lp_fn_setup(struct lp_ctx *c);
int lp_choose_tops(struct lp_ctx *c);
int lp_check_start_lines(struct lp_ctx *c);
/* How many trailing path components two paths share. */
int lp_path_suffix_score(const char *a, const char *b);

/* llvmprof_binary.c */
/* The profile's main mapping file when it exists and its build id matches, else NULL. */
const char *lp_find_profiled_binary(const struct cpgo_profile *p);
int lp_open_dso_for_repair(struct lp_ctx *c);
int lp_check_binary(struct lp_ctx *c);
int lp_resolve_discriminators(struct lp_ctx *c);
int lp_add_zero_lines(struct lp_ctx *c);
int lp_build_psl(struct lp_ctx *c);
/* The skid rule for the sampled leaf location `li` (v samples) whose line is in `fs`. */
int lp_skid_note(struct lp_ctx *c, size_t li, size_t fs, uint64_t v);

#endif
