/*
 * Classifying a compiler's arguments (gcc and clang spellings). See args.h.
 */
#include <string.h>

#include "cc/args.h"
#include "util/buf.h"
#include "util/path.h"

static const char *extension(const char *path)
{
	const char *b = cpgo_path_basename(path), *dot = strrchr(b, '.');
	return (dot && dot != b) ? dot + 1 : NULL;
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static const char *const c_exts[] = {
	"c", "i", "cc", "cp", "cxx", "cpp", "CPP", "c++", "C", "ii", "m", "mi", "mm", "M", "mii", NULL
};
static const char *const header_exts[] = {
	"h", "hh", "H", "hp", "hxx", "hpp", "HPP", "h++", "tcc", NULL
};
static const char *const asm_exts[] = { "s", "S", "sx", NULL };
/* Inputs a compiler takes that are not sources (never a compiler's name). */
static const char *const link_exts[] = { "o", "a", "so", "lo", "la", "obj", "lib", "bc", "ll", NULL };

/* Options whose value is the next argument (gcc and clang spellings). */
static const char *const takes_arg[] = {
	"-o", "-x", "-I", "-D", "-U", "-L", "-l", "-include", "-imacros", "-isystem",
	"-idirafter", "-iquote", "-isysroot", "-iprefix", "-iwithprefix", "-iwithprefixbefore",
	"-imultilib", "-isystem-after", "-iframework", "-cxx-isystem", "-MF", "-MT", "-MQ",
	"-MJ", "-T", "-u", "-z", "-e", "-B", "-Xlinker", "-Xassembler", "-Xpreprocessor",
	"-Xclang", "-Xanalyzer", "-mllvm", "-aux-info", "--param", "-target", "-arch",
	"--sysroot", "-include-pch", "-serialize-diagnostics", "-resource-dir",
	"-ivfsoverlay", "-Xopenmp-target", "-working-directory", "-dumpbase", "-dumpdir",
	"-dumpbase-ext", "-wrapper", "-Xarch_host", "-Xarch_device", "-Xcuda-ptxas",
	"-Xcuda-fatbinary", "-F", "-index-store-path", NULL
};

int cpgo_cc_arg_takes_value(const char *arg)
{
	return in_list(arg, takes_arg);
}

int cpgo_cc_is_input_name(const char *arg)
{
	const char *e = extension(arg);

	return e && (in_list(e, c_exts) || in_list(e, header_exts) || in_list(e, asm_exts) ||
		     in_list(e, link_exts));
}

static enum cpgo_cc_lang lang_of_ext(const char *path)
{
	const char *e = extension(path);

	if (!e)
		return CPGO_CC_LANG_OTHER;
	if (in_list(e, c_exts))
		return CPGO_CC_LANG_C;
	if (in_list(e, header_exts))
		return CPGO_CC_LANG_HEADER;
	if (in_list(e, asm_exts))
		return CPGO_CC_LANG_ASM;
	return CPGO_CC_LANG_OTHER;
}

static enum cpgo_cc_lang lang_of_x(const char *x)
{
	static const char *const c_langs[] = {
		"c", "c++", "objective-c", "objective-c++", "cpp-output", "c++-cpp-output",
		"objective-c-cpp-output", "objective-c++-cpp-output", NULL
	};
	size_t n = strlen(x);

	if (in_list(x, c_langs))
		return CPGO_CC_LANG_C;
	if (!strcmp(x, "assembler") || !strcmp(x, "assembler-with-cpp"))
		return CPGO_CC_LANG_ASM;
	if (n >= 6 && !strcmp(x + n - 6, "header"))
		return CPGO_CC_LANG_HEADER;
	return CPGO_CC_LANG_OTHER;
}

static int debug_level_flag(const char *a)
{
	static const char *const exact[] = {
		"-g", "-g0", "-g1", "-g2", "-g3", "-gline-tables-only", "-gline-directives-only",
		"-gmlt", "-gfull", "-gused", "-glldb", "-gsce", "-gdbx", "-gdwarf", NULL
	};

	if (in_list(a, exact))
		return 1;
	if (!strncmp(a, "-ggdb", 5) || !strncmp(a, "-gstabs", 7) || !strncmp(a, "-gxcoff", 7) ||
	    !strncmp(a, "-gvms", 5))
		return 1;
	/* -gdwarf-4 sets a level too; -gdwarf64 and -gdwarf-aranges do not. */
	return !strncmp(a, "-gdwarf-", 8) && a[8] >= '0' && a[8] <= '9';
}

static int add_input(struct cpgo_cc_cmd *cmd, size_t i, const char *x_lang)
{
	struct cpgo_cc_input *in;

	if (CPGO_GROW(cmd->inputs, cmd->alloc_inputs, cmd->n_inputs + 1) < 0)
		return -1;
	in = &cmd->inputs[cmd->n_inputs++];
	in->arg = i;
	in->x_lang = x_lang;
	in->lang = x_lang ? lang_of_x(x_lang) : lang_of_ext(cmd->args.v[i]);
	in->group = -1;
	if (in->lang == CPGO_CC_LANG_C)
		cmd->n_sources++;
	return 0;
}

int cpgo_cc_classify(struct cpgo_cc_cmd *cmd)
{
	const char *x_lang = NULL;
	int compile = 0, preprocess = 0, end_of_opts = 0;
	size_t i;

	cmd->n_inputs = cmd->n_sources = 0;
	for (i = 0; i < cmd->args.n; i++) {
		const char *a = cmd->args.v[i];

		if (end_of_opts || a[0] != '-' || !strcmp(a, "-")) {
			if (add_input(cmd, i, x_lang) < 0)
				return -1;
			continue;
		}
		if (!strcmp(a, "--")) {
			end_of_opts = 1;
		} else if (!strncmp(a, "-x", 2)) {
			const char *v = a[2] ? a + 2 : (i + 1 < cmd->args.n ? cmd->args.v[++i] : "none");
			x_lang = strcmp(v, "none") ? v : NULL;
		} else if (in_list(a, takes_arg)) {
			if (!strcmp(a, "-o"))
				cmd->output_arg = (int)i;
			i++;
		} else if (!strncmp(a, "-o", 2)) {
			cmd->output_arg = (int)i;
		} else if (!strcmp(a, "-c") || !strcmp(a, "-S")) {
			compile = 1;
		} else if (!strcmp(a, "-E") || !strcmp(a, "-M") || !strcmp(a, "-MM") ||
			   !strcmp(a, "-fsyntax-only") || !strcmp(a, "--analyze") ||
			   !strcmp(a, "--precompile")) {
			preprocess = 1;
		} else if (!strcmp(a, "-MP")) {
			cmd->has_mp = 1;
		} else if (!strcmp(a, "-MD") || !strncmp(a, "-Wp,-MD,", 8)) {
			cmd->has_md = 1;
		} else if (!strcmp(a, "-fomit-frame-pointer") ||
			   !strcmp(a, "-fno-omit-frame-pointer")) {
			cmd->has_frame_pointer = 1;
		} else if (debug_level_flag(a)) {
			cmd->has_debug_level = 1;
		}
	}
	if (!cmd->n_sources)
		cmd->action = CPGO_CC_QUERY;
	else if (preprocess)
		cmd->action = CPGO_CC_PREPROCESS;
	else if (compile)
		cmd->action = CPGO_CC_COMPILE;
	else
		cmd->action = CPGO_CC_COMPILE_LINK;
	return 0;
}
