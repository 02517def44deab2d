#ifndef CPGO_SPROF_INT_H
#define CPGO_SPROF_INT_H

/*
 * Internals of the model builder, shared by its files and by nothing else:
 *   sprof_model.c   the model (names, function samples, records, call
 *                   targets), name canonicalization, discriminators
 *   sprof_funcs.c   the pprof function table: names, one top-level
 *                   profile per name, start lines
 *   sprof_build.c   pprof samples -> the model; sprof_build
 *   sprof_binary.c  what the profiled binary adds: build id check,
 *                   discriminators, zero lines, the symbol list
 *   sprof_order.c   the model's one ordering (LLVM's containers'), which
 *                   the writers walk
 */
#include <stddef.h>
#include <stdint.h>

#include "sprof.h"
#include "util/buf.h"
#include "util/hashmap.h"

struct cpgo_profile;
struct cpgo_line;
struct cpgo_location;
struct sym_dso;

/* Samples per line range a profile needs to be more than thin (enough_samples). */
/*
 * The thin rule counts at most this many line ranges: 3 per range of a big
 * function asked thousands of samples of sqlite3VdbeExec and left out the
 * profiles of sqlite's hottest code (Ir ratio 1.164 -> 1.093). Measured on
 * the same sqlite profile / bzip2's non-representative one: 32 ranges
 * 1.171 / 0.985, 64 1.164 / 0.985, 128 1.159 / 0.998, no cap 1.093 / 0.998.
 * Representative profiles decide: 32.
 */
#ifndef SP_THIN_MAX_RANGES
#define SP_THIN_MAX_RANGES 32
#endif
/*
 * The thin rule is for a well-sampled profile's few thin functions: past
 * this unseen share (sparse_profile) every function is thin, the hottest
 * too, and leaving them out leaves the program without a profile. Callgrind
 * Ir ratios against plain -O2, same production-style profiles (100 Hz x 20
 * runs / one 1 kHz run), thin rule on / off: sqlite 0.964 / 1.018 and
 * 0.999 / 1.022, xmllint 0.996 / 1.045 and 1.009 / 1.030. Their unseen
 * shares: sqlite 0.46 / 0.55, xmllint 0.21 / 0.31, tcl 0.19 / 0.30; lua
 * 0.07 / 0.11, bzip2 0.04 / 0.09, tl 0.02 / 0.02; every 20 kHz x 5 profile
 * of the bench 0.014 or less.
 */
#ifndef SP_THIN_MAX_UNSEEN
#define SP_THIN_MAX_UNSEEN 0.15
#endif
#ifndef SP_THIN_PER_RANGE
#define SP_THIN_PER_RANGE 3.0
#endif

/* How far back a line-0 address looks for a real line of its inline instance. */
#define SP_LINE0_SEARCH_BYTES 64

/* ---- the builder: one pprof profile -> the model ---- */

struct sp_skid {
	size_t fs;
	uint32_t off, disc;
	uint64_t samples; /* at the addresses after the line */
	int used;         /* counted once in the stats */
};

/* Per pprof function. */
struct sp_l0x {
	size_t line;     /* into p->lines: the remapped line-0 frame */
	int64_t line_no; /* another source line the folded call stands for */
	uint32_t disc;
};

struct cpgo_elf_code;

struct sp_fn {
	int64_t name; /* into the model's names, -1 = unusable */
	int64_t start;
	const char *file;
	unsigned outer_used : 1, keep_top : 1, needs_start : 2, kernel : 1;
};

struct sp_ctx {
	struct cpgo_profile *p;
	const char *pname;
	const struct sprof_opts *o;
	int vi;       /* the sample value used */
	uint64_t div; /* period that turns values into sample counts */
	struct sprof_stats st;
	struct sprof_model *m; /* the caller's */

	/* The options with their defaults resolved (sprof_build.c). */
	int zero, skid, max, ctx, preinlined, thin, tail;
	enum sprof_line0 line0;

	struct sp_fn *fn;
	/* Parallel to p->lines: the line keyed (a line 0 may be remapped), its base
	 * discriminator and duplication factor from the binary. */
	int64_t *line_no;
	uint32_t *line_disc, *line_dup;
	unsigned char *line_remapped;
	/* Parallel to p->locations: leaf samples, and the ELF address when the
	 * binary confirmed the location's frames (0 = not resolved). */
	uint64_t *leaf, *loc_vaddr;
	unsigned char *loc_sampled; /* in the stack of a sample with a positive value */

	/*
	 * A line-0 call remapped to the line before it may be several source
	 * calls folded into one: the lines of the other branches that jump to
	 * it, by line index (sorted), get its call targets too.
	 */
	struct sp_l0x *l0x;
	size_t n_l0x, alloc_l0x;
	/* The profiled binary's code, read once for all who walk it (sp_code). */
	struct cpgo_elf_code *code;
	int code_failed;

	/* Lines protected from a zero by the skid rule: (fs, off, disc). */
	struct sp_skid *skids;
	size_t n_skid, alloc_skid;
	struct cpgo_hashmap skid_map;

	/* Leaf samples per (location, context): see struct sp_leaf. */
	struct sp_leaf *leaves;
	size_t n_leaf, alloc_leaf;
	struct cpgo_hashmap leaf_map;
	/* Parallel to p->locations: the ELF address of a location the binary confirmed
	 * (a caller frame's return address, or return address - 1 as libcpgo records it). */
	uint64_t *loc_ret;

	/*
	 * Contexts (sprof_preinline.c). ctx_trie holds the decisions: nodes keyed
	 * like the model's function samples, `head` 1 on a node made by an
	 * accepted physical call. smp_base: per sample, the stack index where its
	 * profile starts (SIZE_MAX: no context, every frame at top level).
	 * fs_ctx: per model fs, 1 when an accepted call made it (a context root).
	 */
	struct sprof_model ctx_trie;
	int have_trie;
	size_t *smp_base;
	unsigned char *fs_ctx;
	size_t alloc_fs_ctx;

	/*
	 * Frames the tail-call rule put back (sprof_tailcall.c): the ELF
	 * addresses of their jumps' last bytes, sorted, for the pre-inliner,
	 * which finds a jump there instead of a call.
	 */
	uint64_t *tail_at;
	size_t n_tail;

	struct sym_dso *dso;
	char *seen_name; /* per model name: appears in a sampled stack */
	size_t n_seen;
};

/* Leaf samples of one location in one context (the parent its frames nest under). */
struct sp_leaf {
	size_t loc;
	uint64_t parent;
	uint32_t off, disc;
	uint64_t v;
};

/* sprof_build.c */
const struct sp_fn *sp_line_fn(const struct sp_ctx *c, const struct cpgo_line *ln);
/* 1 when the location's frames can all be keyed (as a leaf when `body`). */
int sp_loc_usable(const struct sp_ctx *c, const struct cpgo_location *loc, int body);
/* A sample's value in sample counts (0 = none). */
uint64_t sp_sample_value(const struct sp_ctx *c, size_t si);
/*
 * The fs of the innermost frame of `loc` in model `m`, its outermost
 * function nested under (parent, off, disc) (top level when parent is
 * SPROF_NO_PARENT), created as needed; `add` goes to the total of every fs
 * on the way and of parent's ancestors. *outer gets the outermost one.
 */
int64_t sp_loc_chain(struct sp_ctx *c, struct sprof_model *m, const struct cpgo_location *loc,
		     uint64_t parent, uint32_t off, uint32_t disc, uint64_t add, int64_t *outer);
/* The call site (line offset, discriminator) of the innermost frame of `loc`. */
void sp_loc_site(const struct sp_ctx *c, const struct cpgo_location *loc, uint32_t *off,
		 uint32_t *disc);

/* sprof_tailcall.c */
int sp_cmp_u64(const void *a, const void *b);
/* Puts back the frames that tail calls removed from the samples' stacks, where unambiguous. */
int sp_tailcall_frames(struct sp_ctx *c);

/* sprof_preinline.c */
/* Decides which physical calls become inline instances; fills smp_base and ctx_trie. */
int sp_preinline(struct sp_ctx *c);

/* sprof_funcs.c */
int sp_mark_sampled(struct sp_ctx *c);
int sp_fn_setup(struct sp_ctx *c);
int sp_choose_tops(struct sp_ctx *c);
/* The other lines of remapped line-0 frame `line` (see sp_ctx.l0x): [*first, *first + n). */
size_t sp_line0_others(const struct sp_ctx *c, size_t line, const struct sp_l0x **first);
void sp_line0_release(struct sp_ctx *c);
int sp_tu_score(const struct sp_ctx *c, const char *file);
int sp_check_start_lines(struct sp_ctx *c);
/* How many trailing path components two paths share. */
int sprof_path_suffix_score(const char *a, const char *b);

/* sprof_binary.c */
/* A DWARF discriminator as the options read it: the key's part, the duplication factor. */
uint32_t sp_disc(const struct sp_ctx *c, uint32_t d);
uint32_t sp_dup(const struct sp_ctx *c, uint32_t d);
/* The profile's main mapping file when it exists and its build id matches, else NULL. */
const char *sp_find_profiled_binary(const struct cpgo_profile *p);
int sp_open_dso_for_repair(struct sp_ctx *c);
int sp_check_binary(struct sp_ctx *c);
/* The profile's mapping of the profiled binary (by build id, then file name), or the first. */
const struct cpgo_mapping *sp_binary_mapping(const struct sp_ctx *c);
/* The --binary's code, opened on first use; NULL with an error when it cannot be read. */
const struct cpgo_elf_code *sp_code(struct sp_ctx *c);
void sp_code_release(struct sp_ctx *c);
int sp_resolve_discriminators(struct sp_ctx *c);
int sp_add_zero_lines(struct sp_ctx *c);
int sp_build_psl(struct sp_ctx *c);
/* The skid rule for the sampled leaf location `li` (v samples) whose line is in `fs`. */
int sp_skid_note(struct sp_ctx *c, size_t li, size_t fs, uint64_t v);

#endif
