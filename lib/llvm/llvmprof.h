#ifndef CPGO_LLVMPROF_H
#define CPGO_LLVMPROF_H

/*
 * pprof -> LLVM sample profile (what clang's -fprofile-sample-use reads).
 * Prefix: llvmprof_.
 *
 * Keying follows LLVM's FunctionSamples::getOffset: a sample at source line
 * L of function F lands at offset (L - F's DW_AT_decl_line) & 0xffff, with
 * the line's base discriminator when the profiled binary is at hand.
 * Inlined frames become inline instances (callsite samples), consecutive
 * stack frames become call targets, and the call-target counts into a
 * function are its head samples (as llvm-profgen does for non-CS
 * profiles). Writes the text format or ext-binary (SPF_Ext_Binary,
 * version 103, the format llvm-profdata writes by default).
 */

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct cpgo_profile;

/* Filled by llvmprof_convert when opts->stats is set (for reports and tests). */
struct llvmprof_stats {
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
	size_t symbol_list;        /* names in the profile symbol list */
	size_t other_tu_dropped;   /* top-level functions of other source files (source_file) */
	size_t ambiguous_dropped;  /* same-named functions of several files left out */
	/* Leaf samples dropped, by reason (they add up to samples_dropped). */
	uint64_t dropped_unknown;  /* no function or name */
	uint64_t dropped_line0;    /* a frame at line 0 that no nearby line could stand for */
	uint64_t dropped_no_start; /* function without a start line */
	uint64_t dropped_other;    /* another file's function, or too deep an inline chain */
	uint64_t dropped_kernel;   /* time in the kernel (a CPGO_KERNEL_FRAME leaf) */
	size_t line0_remapped;     /* line-0 frames keyed at the nearest preceding line */
	uint64_t line0_call_samples; /* samples with a call target kept through a remapped frame */
	size_t skid_protected;     /* lines left without a zero: a sample skidded past them */
	uint64_t skid_samples;     /* samples at the addresses that protected them */
};

/* How a line's count is made from the counts of its addresses. */
enum llvmprof_line_counts {
	LLVMPROF_LINES_DEFAULT = 0,
	LLVMPROF_LINES_MAX, /* max over addresses of count x duplication factor (llvm-profgen) */
	LLVMPROF_LINES_SUM, /* sum over addresses */
};

/* What becomes of frames at line 0 (code the compiler merged or moved). */
enum llvmprof_line0 {
	LLVMPROF_LINE0_DEFAULT = 0,
	LLVMPROF_LINE0_DROP,  /* dropped, as before */
	LLVMPROF_LINE0_CALLS, /* with the binary: call sites keyed at the nearest preceding line */
	LLVMPROF_LINE0_ALL,   /* the same for body samples too (the default) */
};

/* Tri-state switches: 0 = the default chosen by measurement, 1 = on, -1 = off. */
#define LLVMPROF_ON 1
#define LLVMPROF_OFF (-1)

struct llvmprof_opts {
	int text;                /* 1: LLVM text sample format; 0: ext-binary (default) */
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
	enum llvmprof_line_counts line_counts;
	enum llvmprof_line0 line0;
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
	 * instances nested in this TU's functions are kept whatever their file).
	 * Without it, names defined in several files are left out entirely:
	 * no profile is better than another file's.
	 */
	const char *source_file;
	struct llvmprof_stats *stats; /* optional output */
};

/*
 * Converts `p` into an LLVM sample profile appended to `out`. `name` is the
 * profile's file name for error messages. Errors: no usable samples,
 * unknown sample type, sampled functions without start lines that the
 * binary cannot repair, a binary that is not the profiled one.
 */
int llvmprof_convert(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		     struct cpgo_buf *out);

/* Reads a pprof file, converts it and writes `out_path` atomically ("-" = stdout). */
int llvmprof_convert_file(const char *in_path, const char *out_path,
			  const struct llvmprof_opts *o);

/*
 * Decodes the base discriminator out of a DWARF discriminator as LLVM
 * does (DILocation::getBaseDiscriminatorFromDiscriminator without FS
 * discriminators): the line table holds base discriminator, duplication
 * factor and copy id prefix-encoded in one number.
 */
uint32_t llvmprof_base_discriminator(uint32_t d);
/* The duplication factor of the same encoding (copies made by unrolling or vectorizing; >= 1). */
uint32_t llvmprof_duplication_factor(uint32_t d);

/*
 * The name LLVM matches a profile against: drops the suffixes compilers add
 * to clones and split parts (".cold", ".part.N", ".constprop.N", ".isra.N",
 * ".llvm.N", ".lto_priv.N") so their samples count for the source function.
 * Writes into `out` (reset first).
 */
int llvmprof_canonical_name(const char *name, struct cpgo_buf *out);

#endif
