#ifndef CPGO_CCDRIVER_H
#define CPGO_CCDRIVER_H

/*
 * The logic behind `cpgo cc`, kept here so it can be unit tested: which
 * compiler to run, what the command line does (compile, link, preprocess),
 * which profile each source file gets, the content-addressed cache of
 * converted profiles, and the final command lines. Prefix: ccdriver_.
 * builtin/cc.c only prints and runs what this plans.
 */

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum ccdriver_mode {
	CCDRIVER_PGO_AUTO, /* nearest default.pgo from each source's directory */
	CCDRIVER_PGO_OFF,
	CCDRIVER_PGO_FILE, /* one explicit profile for every source */
};

enum ccdriver_family {
	CCDRIVER_CC_UNKNOWN,
	CCDRIVER_CC_CLANG,
	CCDRIVER_CC_GCC,
};

enum ccdriver_action {
	CCDRIVER_QUERY,       /* no source inputs: link step, --version, -print-* ... */
	CCDRIVER_PREPROCESS,  /* -E, -M, -MM, -fsyntax-only: nothing is generated */
	CCDRIVER_COMPILE,     /* -c or -S */
	CCDRIVER_COMPILE_LINK,
};

enum ccdriver_lang {
	CCDRIVER_LANG_OTHER,  /* link input (.o, .a, .so, unknown) */
	CCDRIVER_LANG_C,      /* C, C++, Objective-C, preprocessed or not: gets PGO */
	CCDRIVER_LANG_ASM,    /* .s, .S: compiled, but there is nothing to optimize */
	CCDRIVER_LANG_HEADER, /* precompiled header: a profile would not match its users */
};

struct ccdriver_input {
	size_t arg;          /* index into cmd->args */
	enum ccdriver_lang lang;
	const char *x_lang;  /* the -x language in force, or NULL (by extension) */
	int group;           /* index into the plan's groups, -1 when it has none */
};

struct ccdriver_cmd {
	/* The compiler and its own leading words (CPGO_CC="ccache clang-19"). */
	char **compiler;
	size_t n_compiler;
	/* The user's arguments, -pgo=... removed. Pointers into argv/env copies. */
	char **args;
	size_t n_args;

	enum ccdriver_mode mode;
	const char *pgo_file; /* CCDRIVER_PGO_FILE */
	int mode_from_flag;   /* 1: -pgo=, 0: CPGO_PGO or the default */

	enum ccdriver_family family;
	enum ccdriver_action action;
	struct ccdriver_input *inputs;
	size_t n_inputs, alloc_inputs;
	size_t n_sources;     /* inputs with CCDRIVER_LANG_C */
	int output_arg;       /* index of -o's value in args, or -1 */
	int has_debug_level;  /* a -g option that sets the level (-g, -g0, -ggdb, -gdwarf-4 ...) */
	int has_frame_pointer;/* -f[no-]omit-frame-pointer */
	int has_mp;           /* -MP: safe to add the profile to the depfile */

	/* Private: owned storage. */
	char *priv_words;
};

void ccdriver_cmd_init(struct ccdriver_cmd *cmd);
void ccdriver_cmd_release(struct ccdriver_cmd *cmd);

/*
 * Parses `cpgo cc` arguments (argv[0] is "cc"): takes out every -pgo=MODE,
 * picks the compiler (a first argument that names one, like ccache, else
 * `env_cc` split on blanks, else clang-19 when on PATH, else cc), then
 * classifies the rest (ccdriver_classify). `env_pgo` is $CPGO_PGO (may be
 * NULL). Errors name the bad argument.
 */
int ccdriver_parse(struct ccdriver_cmd *cmd, int argc, char **argv,
		   const char *env_cc, const char *env_pgo);

/* Parses "auto", "off" or a path; "" is an error. */
int ccdriver_parse_mode(const char *s, enum ccdriver_mode *mode, const char **file);

/* True when `arg` (a first argument) names a compiler rather than an input or option. */
int ccdriver_is_compiler_arg(const char *arg);

/* Clang or gcc from the name (following symlinks for cc/c99), else from `--version`. */
enum ccdriver_family ccdriver_detect_family(char *const *compiler, size_t n);

/* Fills action, inputs and the flag facts from cmd->args. */
int ccdriver_classify(struct ccdriver_cmd *cmd);

/*
 * Auto mode: the nearest default.pgo walking up from the directory of
 * `source` ("-" means the current directory), stopping after a directory
 * that holds .git, or at /. Returns 1 with the absolute path in `out`,
 * 0 when there is none (or the directory does not exist: the compiler
 * will say so), -1 on error.
 */
int ccdriver_find_profile(const char *source, struct cpgo_buf *out);

/* --- The converted-profile cache (ccdriver_cache.c) --- */

/* $XDG_CACHE_HOME/cpgo, else $HOME/.cache/cpgo (not created). */
int ccdriver_cache_dir(struct cpgo_buf *out);

/*
 * Turns pprof bytes into the compiler's profile. `source` is the
 * translation unit when the converter keeps a per-file view (else NULL);
 * empty output means the profile is fine but has nothing for `source`.
 * `id` names the converter and its options; it is part of the cache key.
 */
struct ccdriver_converter {
	const char *id;
	int (*convert)(const void *data, size_t len, const char *name,
		       const char *source, struct cpgo_buf *out, void *ctx);
	void *ctx;
	int per_source; /* the output depends on `source` */
};

/* The LLVM back end (lib/llvmprof.h); `id` includes cpgo's build identity. */
const struct ccdriver_converter *ccdriver_llvm_converter(void);

struct ccdriver_prepared {
	char sha256[65];          /* hex of the pprof file's bytes */
	struct cpgo_buf cached;   /* the converted profile in the cache */
	struct cpgo_buf note_dir; /* -isystem this ... */
	struct cpgo_buf note_hdr; /* ... and -include this (a bare file name) */
	int converted;            /* 1: converted now, 0: cache hit */
	int empty;                /* the profile has no samples for this source (an empty file) */
};

void ccdriver_prepared_init(struct ccdriver_prepared *pp);
void ccdriver_prepared_release(struct ccdriver_prepared *pp);

/*
 * Reads the pprof `profile`, and unless the cache has it, converts and
 * stores it atomically (safe for concurrent builds: each writer renames a
 * complete file into place). Also writes the header that puts the ELF note
 * (lib/elfnote.h) into the object. `hint` is appended to parse errors
 * (e.g. how to turn PGO off).
 */
int ccdriver_prepare(const char *profile, const char *source, const char *cache_dir,
		     const struct ccdriver_converter *conv, const char *hint,
		     struct ccdriver_prepared *pp);

/* --- Command lines --- */

struct ccdriver_argv {
	char **argv; /* always NULL-terminated; every string is an owned copy */
	size_t n, alloc;
};

void ccdriver_argv_init(struct ccdriver_argv *a);
void ccdriver_argv_release(struct ccdriver_argv *a);
int ccdriver_argv_push(struct ccdriver_argv *a, const char *s);
int ccdriver_argv_pushf(struct ccdriver_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The flags cpgo adds when compiling: line tables unless a -g level is
 * given, frame pointers unless told, and with `pp` (a profile, clang only)
 * the sample-profile flags. Pushed before the user's arguments so that an
 * explicit user flag wins; the note header goes after them (a precompiled
 * header must stay the first -include).
 */
int ccdriver_push_front_flags(const struct ccdriver_cmd *cmd, const struct ccdriver_prepared *pp,
			      struct ccdriver_argv *a);
int ccdriver_push_back_flags(const struct ccdriver_cmd *cmd, const struct ccdriver_prepared *pp,
			     const char *profile_abs, struct ccdriver_argv *a);

/* Returns 1 when `s` looks like the value of a -pgo flag (starts with "-pgo="). */
int ccdriver_is_pgo_flag(const char *s);


/* --- The plan: which sources share a profile, and the commands to run --- */

struct ccdriver_group {
	char *profile;       /* as found or given; NULL: built without a profile */
	char *profile_abs;   /* absolute, for the depfile; NULL when unknown */
	const char *source;  /* the translation unit, when the converter is per source */
	struct ccdriver_prepared pp;
	int prepared;        /* pp is filled (ccdriver_prepare succeeded) */
};

struct ccdriver_plan {
	struct ccdriver_group *groups;
	size_t n_groups, alloc_groups;
	struct ccdriver_argv *cmds; /* run in order; stop at the first failure */
	size_t n_cmds, alloc_cmds;
	char *tmpdir;               /* objects of a split compile+link; removed by release */
};

void ccdriver_plan_init(struct ccdriver_plan *plan);
/* Removes the tmpdir and what is in it. */
void ccdriver_plan_release(struct ccdriver_plan *plan);

/*
 * Gives each source of a compile its profile by cmd->mode and groups the
 * sources that share one (and the translation unit when `per_source`).
 * Nothing for -pgo=off, preprocessing or link steps. Errors name the file.
 */
int ccdriver_plan_groups(struct ccdriver_cmd *cmd, int per_source, struct ccdriver_plan *plan);

/*
 * Builds the commands once the groups with a profile are prepared (use
 * the profile only when it is prepared and the compiler is clang). One
 * group: one command. Several, with -c/-S: one command per group. Several,
 * compile and link: each source to an object in a temporary directory
 * (created here), then the link — the same result as compiling each file
 * on its own, as `make` does.
 */
int ccdriver_plan_commands(const struct ccdriver_cmd *cmd, struct ccdriver_plan *plan);

/* Finds `name` on $PATH (or checks a path); 1 with the path in `out`, 0 if not found. */
int ccdriver_which(const char *name, struct cpgo_buf *out);

#endif
