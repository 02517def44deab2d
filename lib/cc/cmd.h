#ifndef CPGO_CC_CMD_H
#define CPGO_CC_CMD_H

/*
 * A `cpgo cc` command line, parsed: the compiler, the PGO mode, cpgo's own
 * -pgo options taken out, and the compiler's arguments with what they do
 * (args.h classifies them). Prefix: cpgo_cc_. The plan (plan.h) turns it
 * into commands; builtin/cc.c only prints and runs them.
 */

#include <stddef.h>

#include "cc/compiler.h"
#include "util/strvec.h"

/*
 * Whether builds keep frame pointers (-fno-omit-frame-pointer) unless the
 * user says. Off: libcpgo unwinds code built without them (CFI tables), so
 * a PGO build costs what a plain one does; on makes each sample cheaper.
 */
#define CPGO_CC_FRAME_POINTERS_DEFAULT 0

/*
 * Function layout at link time (link.h): what `-pgo-layout=on` does (C3 had
 * fewer hot pages and I1 misses than the call-graph file on sqlite), and
 * whether it is on unless the user says (off: no variant measured faster in
 * time). bench/layout.sh measures both.
 */
enum cpgo_cc_layout {
	CPGO_CC_LAYOUT_OFF,
	CPGO_CC_LAYOUT_LLD,       /* lld, sorting by clang's own call-graph sections */
	CPGO_CC_LAYOUT_CALLGRAPH, /* lld with the profile's call graph (--call-graph-ordering-file) */
	CPGO_CC_LAYOUT_ORDER,     /* lld with the profile's C3 order (--symbol-ordering-file) */
};
#define CPGO_CC_LAYOUT_ON CPGO_CC_LAYOUT_ORDER
#define CPGO_CC_LAYOUT_DEFAULT CPGO_CC_LAYOUT_OFF

/*
 * Hot/cold splitting (-fsplit-machine-functions) of profiled code: on
 * unless the user says when 1. Off: it shrank the hot pages but measured no
 * faster, and clang warns about it on every file (bench/layout.sh).
 */
#define CPGO_CC_SPLIT_DEFAULT 0

enum cpgo_cc_mode {
	CPGO_CC_PGO_AUTO, /* nearest default.pgo from each source's directory */
	CPGO_CC_PGO_OFF,
	CPGO_CC_PGO_FILE, /* one explicit profile for every source */
};

enum cpgo_cc_action {
	CPGO_CC_QUERY,       /* no source inputs: link step, --version, -print-* ... */
	CPGO_CC_PREPROCESS,  /* -E, -M, -MM, -fsyntax-only: nothing is generated */
	CPGO_CC_COMPILE,     /* -c or -S */
	CPGO_CC_COMPILE_LINK,
};

enum cpgo_cc_lang {
	CPGO_CC_LANG_OTHER,  /* link input (.o, .a, .so, unknown) */
	CPGO_CC_LANG_C,      /* C, C++, Objective-C, preprocessed or not: gets PGO */
	CPGO_CC_LANG_ASM,    /* .s, .S: compiled, but there is nothing to optimize */
	CPGO_CC_LANG_HEADER, /* precompiled header: a profile would not match its users */
};

struct cpgo_cc_input {
	size_t arg;          /* index into cmd->args */
	enum cpgo_cc_lang lang;
	const char *x_lang;  /* the -x language in force, or NULL (by extension) */
	int group;           /* index into the plan's groups, -1 when it has none */
};

struct cpgo_cc_cmd {
	/* The compiler and its own leading words (CPGO_CC="ccache clang-19"). */
	struct cpgo_strvec compiler;
	/*
	 * The user's arguments, cpgo's -pgo options removed, with response
	 * files (@FILE) expanded as gcc and clang expand them, so that inputs
	 * and options inside them are classified.
	 */
	struct cpgo_strvec args;
	/* The same before expansion; n == 0 when there was no response file. */
	struct cpgo_strvec unexpanded;

	enum cpgo_cc_mode mode;
	const char *pgo_file; /* CPGO_CC_PGO_FILE */
	int mode_from_flag;   /* 1: -pgo=, 0: CPGO_PGO or the default */
	int frame_pointers;   /* add -fno-omit-frame-pointer (unless the user chose) */
	enum cpgo_cc_layout layout;
	int split;            /* add -fsplit-machine-functions to profiled compiles */

	enum cpgo_cc_family family;
	enum cpgo_cc_action action;
	struct cpgo_cc_input *inputs;
	size_t n_inputs, alloc_inputs;
	size_t n_sources;     /* inputs with CPGO_CC_LANG_C */
	int output_arg;       /* index of -o's value in args, or -1 */
	int has_debug_level;  /* a -g option that sets the level (-g, -g0, -ggdb, -gdwarf-4 ...) */
	int has_frame_pointer;/* -f[no-]omit-frame-pointer */
	int has_mp;           /* -MP: safe to add the profile to the depfile */
	int has_md;           /* -MD (or -Wp,-MD,FILE): the depfile lists system headers too */
};

/* What the environment says; any may be NULL. */
struct cpgo_cc_env {
	const char *cc;             /* $CPGO_CC */
	const char *pgo;            /* $CPGO_PGO */
	const char *frame_pointers; /* $CPGO_FRAME_POINTERS */
	const char *layout;         /* $CPGO_LAYOUT */
	const char *split;          /* $CPGO_SPLIT */
};

void cpgo_cc_cmd_init(struct cpgo_cc_cmd *cmd);
void cpgo_cc_cmd_release(struct cpgo_cc_cmd *cmd);

/*
 * Parses `cpgo cc` arguments (argv[0] is "cc"): takes out every -pgo=MODE,
 * -pgo-frame-pointers[=on|off], -pgo-layout[=on|off|lld|callgraph|order]
 * and -pgo-split[=on|off], picks the compiler (a first argument
 * that names one, like ccache, else env->cc split on blanks, else the
 * default), then classifies the rest (args.h). A flag wins over the
 * environment. Errors name the bad argument.
 */
int cpgo_cc_parse(struct cpgo_cc_cmd *cmd, int argc, char **argv, const struct cpgo_cc_env *env);

/* Parses on, off (yes/no, 1/0 ...) or a layout method's name. */
int cpgo_cc_parse_layout(const char *what, const char *s, enum cpgo_cc_layout *out);

/* Parses "auto", "off" or a path; "" is an error. */
int cpgo_cc_parse_mode(const char *s, enum cpgo_cc_mode *mode, const char **file);

/* True for cpgo's own options (-pgo=..., -pgo-...), which are never passed on. */
int cpgo_cc_is_pgo_flag(const char *s);

#endif
