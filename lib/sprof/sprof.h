#ifndef CPGO_SPROF_H
#define CPGO_SPROF_H

/*
 * The sample-profile model shared by the compiler back ends (lib/llvm,
 * lib/gcc): pprof samples -> per function, body counts keyed by
 * (line offset from the function's start line, discriminator) with call
 * targets, and inline instances nested under call sites. Every sample rule
 * (skid, line 0, zero lines, start-line repair, per-TU selection) lives
 * here once; a back end is a writer over struct sprof_model. Prefix: sprof_.
 *
 * Keying follows LLVM's FunctionSamples::getOffset (gcc's auto-profile keys
 * the same way: (line - DECL_SOURCE_LINE) << 16 | discriminator): a sample
 * at source line L of function F lands at offset (L - F's DW_AT_decl_line)
 * & 0xffff, with the line's base discriminator when the profiled binary is
 * at hand. Inlined frames become inline instances, consecutive stack frames
 * become call targets, and the call-target counts into a function are its
 * head samples (as llvm-profgen does for non-CS profiles).
 */

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/hashmap.h"
#include "util/strvec.h"

struct cpgo_profile;

/* Filled by sprof_build (and the writers' convert calls) when opts->stats is set (for reports and tests). */
struct sprof_stats {
	size_t functions;          /* top-level profiles written */
	size_t inline_instances;   /* nested (inlined) profiles written */
	size_t call_targets;       /* (call site, callee) pairs */
	uint64_t samples_used;     /* sum of the chosen value over the samples attributed */
	uint64_t samples_dropped;  /* leaf location had no line/function information */
	size_t start_lines_repaired;
	size_t start_lines_missing; /* functions left out: no start line, a minority */
	int none_for_source; /* failed only because every sample is in other source files */
	int binary_found;    /* find_binary found the profiled binary */
	size_t entry_lines_floored; /* zero entry lines raised to 1 (see entry_heads) */
	size_t locations_with_binary; /* locations resolved through the profiled binary */
	size_t zero_lines;         /* explicit zero-count lines added from the binary */
	size_t thin_dropped;       /* top-level profiles left out: too few samples for their code */
	size_t line0_folded;       /* more source lines found for remapped line-0 calls (folded calls) */
	size_t thin_instances;     /* inline instances left without zeros, for the same reason */
	unsigned unseen_permille;  /* samples on lines sampled once, per mille (the sparse test) */
	int thin_off_sparse;       /* the thin rule was off: a sparse profile (sparse_profile) */
	size_t symbol_list;        /* names in the profile symbol list */
	size_t other_tu_dropped;   /* top-level functions of other source files (source_file) */
	size_t ambiguous_dropped;  /* same-named functions of several files left out */
	size_t moved_kept;         /* other files' functions kept: no other file defines the name */
	/* Leaf samples dropped, by reason (they add up to samples_dropped). */
	uint64_t dropped_unknown;  /* no function or name */
	uint64_t dropped_line0;    /* a frame at line 0 that no nearby line could stand for */
	uint64_t dropped_no_start; /* function without a start line */
	uint64_t dropped_other;    /* another file's function, or too deep an inline chain */
	uint64_t dropped_kernel;   /* time in the kernel (a CPGO_KERNEL_FRAME leaf) */
	size_t line0_remapped;     /* line-0 frames keyed at the nearest preceding line */
	/*
	 * Samples with a remapped frame anywhere among their callers (an outer
	 * driver's line-0 call puts nearly all samples here), and those whose
	 * leaf's own caller is one (the call target it kept is the leaf's).
	 */
	uint64_t line0_call_samples;
	uint64_t line0_leaf_call_samples;
	size_t skid_protected;     /* lines left without a zero: a sample skidded past them */
	uint64_t skid_samples;     /* samples at the addresses that protected them */
	/* Contexts from stacks (the pre-inliner, sprof_preinline.c). */
	size_t ctx_inlined;        /* physical calls written as inline instances (decisions) */
	size_t ctx_instances;      /* such instances in the model (after nesting) */
	uint64_t ctx_samples;      /* leaf samples that landed in them */
	uint64_t ctx_hot;          /* the hot count threshold the decisions used */
	/* Frames that tail calls removed, put back (sprof_tailcall.c). */
	size_t tail_frames;        /* jumps that became frames */
	uint64_t tail_samples;     /* samples whose stacks got one */
	uint64_t tail_left;        /* samples with a tail call no single jump explains */
};

/* How a line's count is made from the counts of its addresses. */
enum sprof_line_counts {
	SPROF_LINES_DEFAULT = 0,
	SPROF_LINES_MAX, /* max over addresses of count x duplication factor (llvm-profgen) */
	SPROF_LINES_SUM, /* sum over addresses */
};

/* What becomes of frames at line 0 (code the compiler merged or moved). */
enum sprof_line0 {
	SPROF_LINE0_DEFAULT = 0,
	SPROF_LINE0_DROP,  /* dropped, as before */
	SPROF_LINE0_CALLS, /* with the binary: call sites keyed at the nearest preceding line */
	SPROF_LINE0_ALL,   /* the same for body samples too (the default) */
};

/*
 * How the line table's discriminators are read. LLVM packs base
 * discriminator, duplication factor and copy id into one number; gcc
 * writes plain numbers, and gcc 12's auto-profile ignores them (it keys
 * body lines and call sites by line offset alone, and a second record of
 * one line overwrites the first), so its profile must merge them.
 */
enum sprof_discriminators {
	SPROF_DISC_DEFAULT = 0, /* LLVM's encoding */
	SPROF_DISC_LLVM,
	SPROF_DISC_PLAIN, /* the number as it is, duplication factor 1 */
	SPROF_DISC_NONE,  /* all 0: one record per line (gcc 12) */
};

/* Tri-state switches: 0 = the default chosen by measurement, 1 = on, -1 = off. */
#define SPROF_ON 1
#define SPROF_OFF (-1)

struct sprof_opts {
	/* The profile symbol list (names of the binary never sampled), for ext-binary. */
	int symbol_list;
	const char *binary;      /* the profiled binary, optional: discriminators, zero lines,
				    symbol list and start-line repair */
	int find_binary;         /* no binary given: use the profile's main mapping file when it
				    exists and its build id matches */
	/*
	 * With a binary: explicit zero counts for the unsampled lines of sampled
	 * functions (inline instances included), as llvm-profgen writes, so
	 * profi treats unsampled blocks as cold rather than unknown.
	 */
	int zero_lines;
	/*
	 * With zero lines: a timer sample lands on the instruction after the one
	 * that ran, so the line at (sampled address - 1), when it lies in the same
	 * inline instance, gets no zero (a one-instruction line before a jump is
	 * never sampled however hot it is).
	 */
	int skid;
	/*
	 * With zero lines: a function with fewer samples than 3 per line range
	 * of its code (its unsampled lines cannot be told cold) gets no profile
	 * at all, and an inline instance that thin no zeros, so that a profile
	 * of other inputs does not make code cold that it merely did not see.
	 * Unless SPROF_ON, off for a sparse profile (most lines sampled once:
	 * every function is that thin, the hottest too).
	 */
	int thin;
	enum sprof_line_counts line_counts;
	enum sprof_line0 line0;
	enum sprof_discriminators discriminators;
	/*
	 * With the binary: context from whole stacks. A hot physical call that
	 * the profiled binary did not inline becomes an inline instance of the
	 * callee at that call site (its samples under that caller only), so
	 * clang's sample loader inlines it; the decisions are made top-down
	 * with a size budget per function, like llvm-profgen's CS pre-inliner,
	 * and the samples of calls left alone stay in the callee's own profile.
	 */
	int context;
	/*
	 * With contexts: flag the profile pre-inlined (SecFlagIsPreInlined), so
	 * that clang's sample loader inlines every instance marked for it
	 * (-sample-profile-use-preinliner) whatever its own cost threshold says.
	 */
	int preinlined;
	/*
	 * With contexts: put back the frames tail calls removed from the
	 * stacks where the binary's code leaves one reading (sprof_tailcall.c;
	 * SPROF_ON: --tail-frames; off by default, see sprof_build.c).
	 */
	int tail_frames;
	/* Keep put-back frames at top level too (their call targets; a measurement switch). */
	int tail_top;
	const char *sample_type; /* which sample type to use, e.g. "samples" or "cpu";
				    NULL = cpgo_profile_cpu_index() */
	/*
	 * The translation unit being compiled, optional. LLVM keys profiles by
	 * function name only, so same-named `static` functions of different
	 * files would pool their samples. With source_file set, a name defined
	 * in several files keeps only the function of the file that best
	 * matches source_file (most trailing path components in common), and
	 * top-level profiles of functions defined in other .c files are left
	 * out (clang only uses the profiles of functions the TU defines; inline
	 * instances nested in this TU's functions are kept whatever their file),
	 * except a function the TU's source defines now (tu_functions) whose
	 * name no other file defines (in the profile and, when it is at hand,
	 * the profiled binary): it moved here since it was profiled.
	 * Without it, names defined in several files are left out entirely:
	 * no profile is better than another file's.
	 */
	const char *source_file;
	/* With source_file: the functions its text defines (sprof_source_functions), sorted. */
	const struct cpgo_strvec *tu_functions;
	/*
	 * With source_file: the source files it includes (sprof_source_file_includes).
	 * Their functions are this TU's own: kept, and the pre-inliner's
	 * candidates when the context's top-level function is the TU's too.
	 */
	const struct cpgo_strvec *tu_sources;
	struct sprof_stats *stats; /* optional output */
};

/* Deepest inline chain of one address that is kept (deeper ones are dropped). */
#define SPROF_MAX_FRAMES 64
#define SPROF_NO_PARENT UINT64_MAX

/* One FunctionSamples: top level (parent SPROF_NO_PARENT) or an inline instance. */
struct sprof_fs {
	uint32_t name;
	uint64_t parent; /* fs index, SPROF_NO_PARENT for top level */
	uint32_t off, disc; /* call site in the parent */
	uint64_t total, head;
	size_t rec_first, n_rec, child_first, n_child; /* into the sorted orders */
	const char *file; /* pprof file of a top-level function, for zero lines */
	uint32_t attr;    /* LLVM's ContextAttributeMask (SPROF_CTX_*), for pre-inlined profiles */
	unsigned dropped : 1; /* a top-level profile left out of the output */
};

/* LLVM's ContextAttributeMask (SampleProf.h). */
#define SPROF_CTX_WAS_INLINED 0x1    /* the profiled binary inlined it */
#define SPROF_CTX_SHOULD_INLINE 0x2  /* the pre-inliner decided to inline it */

/* One body line: SampleRecord at LineLocation(off, disc). */
struct sprof_rec {
	size_t fs;
	uint32_t off, disc;
	uint64_t samples;
	size_t tgt_first, n_tgt;
};

struct sprof_tgt {
	size_t rec;
	uint32_t name;
	uint64_t count;
};

struct sprof_model {
	const char *pname; /* the profile's name, for errors */

	char **names;
	size_t n_names, alloc_names;
	struct cpgo_hashmap name_map;

	struct sprof_fs *fs;
	size_t n_fs, alloc_fs;
	struct sprof_rec *rec;
	size_t n_rec, alloc_rec;
	struct sprof_tgt *tgt;
	size_t n_tgt, alloc_tgt;
	struct cpgo_hashmap fs_map, rec_map, tgt_map;

	int preinlined; /* the instances carry the pre-inliner's decisions (attr) */
	char **psl; /* profile symbol list: functions of the binary never sampled */
	size_t n_psl, alloc_psl;

	/* Filled by sprof_model_order. */
	size_t *rec_order, *child_order, *tgt_order, *top_order;
	size_t n_top, n_child;
};

void sprof_model_init(struct sprof_model *m, const char *pname);
void sprof_model_release(struct sprof_model *m);
uint64_t sprof_sat_add(uint64_t a, uint64_t b);
/* FunctionSamples::getOffset. */
uint32_t sprof_line_offset(int64_t line, int64_t start);

int64_t sprof_name_find(const struct sprof_model *m, const char *s);
int64_t sprof_name_intern(struct sprof_model *m, const char *s);
/* The function samples (parent, off, disc, name), created when `create`; -1 = none/error. */
int64_t sprof_fs_get(struct sprof_model *m, uint64_t parent, uint32_t off, uint32_t disc,
		  uint32_t name, int create);
/* The body record (fs, off, disc), created when `create`; -1 = none/error. */
int64_t sprof_rec_get(struct sprof_model *m, size_t fs, uint32_t off, uint32_t disc, int create);
int sprof_tgt_add(struct sprof_model *m, size_t rec, uint32_t name, uint64_t v);

/* Sorts records, targets, inline instances and top-level profiles as LLVM does. */
int sprof_model_order(struct sprof_model *m);

/* The name a frame is profiled under: a mangled linkage name wins. */
const char *sprof_pick_name(const char *name, const char *sys);

/*
 * Builds the model of `p` into `m` (initialized with sprof_model_init by the
 * caller, released by it whatever the outcome) and orders it. `name` is the
 * profile's file name for error messages. Errors: no usable samples, unknown
 * sample type, sampled functions without start lines that the binary cannot
 * repair, a binary that is not the profiled one. Fills o->stats if set.
 */
int sprof_build(struct cpgo_profile *p, const char *name, const struct sprof_opts *o,
		struct sprof_model *m);

/*
 * The names of the functions C source `text` defines at file scope, sorted
 * and unique, appended to `out` (sprof_srcdefs.c: a scan of the text, no
 * preprocessor).
 */
int sprof_source_functions(const char *text, size_t len, struct cpgo_strvec *out);
/* The same of the file at `path`; a file that cannot be read gives none (not an error). */
int sprof_source_file_functions(const char *path, struct cpgo_strvec *out);
/*
 * The source files (by their extension: .c, .cc, ...) that the C source at
 * `path` includes with `#include "name"`, transitively, each found beside
 * the file that includes it: appended to `out`, once each. A unity build
 * (`#include "rege_dfa.c"`) compiles their functions in this translation
 * unit. Files that cannot be read are left out (not an error); a
 * commented-out or #if 0 include is taken too, which only adds profiles
 * clang will not look up.
 */
int sprof_source_file_includes(const char *path, struct cpgo_strvec *out);
/*
 * What a translation unit's text says, for sprof_opts.tu_sources and
 * tu_functions: the source files `source` includes and the functions they
 * and the source define (sorted, unique).
 */
int sprof_tu_scan(const char *source, struct cpgo_strvec *includes, struct cpgo_strvec *defined);
/* Does the path end in a source file's extension (.c, .cc, .cpp, ...)? */
int sprof_is_source_ext(const char *path);

/*
 * Decodes the base discriminator out of a DWARF discriminator as LLVM
 * does (DILocation::getBaseDiscriminatorFromDiscriminator without FS
 * discriminators): the line table holds base discriminator, duplication
 * factor and copy id prefix-encoded in one number.
 */
uint32_t sprof_base_discriminator(uint32_t d);
/* The duplication factor of the same encoding (copies made by unrolling or vectorizing; >= 1). */
uint32_t sprof_duplication_factor(uint32_t d);

/*
 * The name LLVM matches a profile against: drops the suffixes compilers add
 * to clones and split parts (".cold", ".part.N", ".constprop.N", ".isra.N",
 * ".llvm.N", ".lto_priv.N") so their samples count for the source function.
 * Writes into `out` (reset first).
 */
int sprof_canonical_name(const char *name, struct cpgo_buf *out);

#endif
