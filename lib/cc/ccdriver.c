/*
 * `cpgo cc` argument handling: compiler selection, command classification,
 * profile discovery and the flags cpgo adds. See ccdriver.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cc/ccdriver.h"
#include "util/error.h"

void ccdriver_cmd_init(struct ccdriver_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->output_arg = -1;
}

void ccdriver_cmd_release(struct ccdriver_cmd *cmd)
{
	free(cmd->compiler);
	free(cmd->args);
	free(cmd->inputs);
	free(cmd->priv_words);
	ccdriver_cmd_init(cmd);
}

int ccdriver_is_pgo_flag(const char *s)
{
	return !strncmp(s, "-pgo=", 5) || !strncmp(s, "--pgo=", 6);
}

int ccdriver_parse_mode(const char *s, enum ccdriver_mode *mode, const char **file)
{
	*file = NULL;
	if (!*s)
		return error("empty PGO mode: use auto, off or the path of a pprof profile");
	if (!strcmp(s, "auto"))
		*mode = CCDRIVER_PGO_AUTO;
	else if (!strcmp(s, "off"))
		*mode = CCDRIVER_PGO_OFF;
	else {
		*mode = CCDRIVER_PGO_FILE;
		*file = s;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char *extension(const char *path)
{
	const char *b = base_name(path), *dot = strrchr(b, '.');
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

static enum ccdriver_lang lang_of_ext(const char *path)
{
	const char *e = extension(path);

	if (!e)
		return CCDRIVER_LANG_OTHER;
	if (in_list(e, c_exts))
		return CCDRIVER_LANG_C;
	if (in_list(e, header_exts))
		return CCDRIVER_LANG_HEADER;
	if (in_list(e, asm_exts))
		return CCDRIVER_LANG_ASM;
	return CCDRIVER_LANG_OTHER;
}

static enum ccdriver_lang lang_of_x(const char *x)
{
	static const char *const c_langs[] = {
		"c", "c++", "objective-c", "objective-c++", "cpp-output", "c++-cpp-output",
		"objective-c-cpp-output", "objective-c++-cpp-output", NULL
	};
	size_t n = strlen(x);

	if (in_list(x, c_langs))
		return CCDRIVER_LANG_C;
	if (!strcmp(x, "assembler") || !strcmp(x, "assembler-with-cpp"))
		return CCDRIVER_LANG_ASM;
	if (n >= 6 && !strcmp(x + n - 6, "header"))
		return CCDRIVER_LANG_HEADER;
	return CCDRIVER_LANG_OTHER;
}

/* Strips "-19", "-12.2" version suffixes: clang-19 -> clang. */
static size_t strip_version(const char *s, size_t n)
{
	for (;;) {
		size_t i = n;
		while (i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.'))
			i--;
		if (i == n || i == 0 || s[i - 1] != '-')
			return n;
		n = i - 1;
	}
}

static int names_compiler(const char *base)
{
	static const char *const names[] = {
		"cc", "gcc", "clang", "c89", "c99", "c11", "c17", "tcc", "icc", "icx", "pcc",
		"c++", "g++", "clang++", "ccache", "distcc", "sccache", "icecc", NULL
	};
	size_t n = strlen(base), k;

	if (n > 4 && !strcmp(base + n - 4, ".exe"))
		n -= 4;
	n = strip_version(base, n);
	for (const char *const *p = names; *p; p++) {
		k = strlen(*p);
		/* The whole name, or a cross-compiler's target prefix before it. */
		if (n >= k && !strncmp(base + n - k, *p, k) &&
		    (n == k || base[n - k - 1] == '-'))
			return 1;
	}
	return 0;
}

static int is_wrapper(const char *path)
{
	static const char *const wrappers[] = { "ccache", "distcc", "sccache", "icecc", NULL };
	return in_list(base_name(path), wrappers);
}

static int is_executable_file(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/* Finds `name` on $PATH; returns 1 with the full path in `out`. */
static int find_in_path(const char *name, struct cpgo_buf *out)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/')) {
		cpgo_buf_reset(out);
		if (cpgo_buf_adds(out, name) < 0)
			return -1;
		return is_executable_file(name);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchrnul(p, ':');
		cpgo_buf_reset(out);
		if (cpgo_buf_addf(out, "%.*s/%s", end == p ? 1 : (int)(end - p),
				  end == p ? "." : p, name) < 0)
			return -1;
		if (is_executable_file(out->buf))
			return 1;
		if (!*end)
			return 0;
	}
}

int ccdriver_is_compiler_arg(const char *arg)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	const char *e;
	int ret;

	if (!*arg || arg[0] == '-')
		return 0;
	e = extension(arg);
	if (e && (in_list(e, c_exts) || in_list(e, header_exts) || in_list(e, asm_exts) ||
		  in_list(e, link_exts)))
		return 0;
	if (names_compiler(base_name(arg)))
		return 1;
	if (strchr(arg, '/'))
		return is_executable_file(arg);
	/* A bare name is an input when such a file is here, else a program on PATH. */
	if (!access(arg, F_OK))
		return 0;
	ret = find_in_path(arg, &path) == 1;
	cpgo_buf_release(&path);
	return ret;
}

static enum ccdriver_family family_from_name(const char *path)
{
	const char *b = base_name(path);

	if (strstr(b, "clang"))
		return CCDRIVER_CC_CLANG;
	if (strstr(b, "gcc") || strstr(b, "g++"))
		return CCDRIVER_CC_GCC;
	return CCDRIVER_CC_UNKNOWN;
}

/* Runs `compiler --version` and looks at what it says it is. */
static enum ccdriver_family probe_family(char *const *compiler, size_t n)
{
	enum ccdriver_family fam = CCDRIVER_CC_UNKNOWN;
	char out[4096];
	size_t len = 0;
	int fds[2], status;
	pid_t pid;
	char **argv;

	argv = calloc(n + 2, sizeof(*argv));
	if (!argv || pipe2(fds, O_CLOEXEC) < 0) {
		free(argv);
		return fam;
	}
	memcpy(argv, compiler, n * sizeof(*argv));
	argv[n] = "--version";
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(fds[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && len < sizeof(out) - 1) {
		ssize_t r = read(fds[0], out + len, sizeof(out) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = '\0';
	close(fds[0]);
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (strstr(out, "clang version"))
			fam = CCDRIVER_CC_CLANG;
		else if (strstr(out, "Free Software Foundation") || strstr(out, "(GCC)"))
			fam = CCDRIVER_CC_GCC;
	}
	free(argv);
	return fam;
}

enum ccdriver_family ccdriver_detect_family(char *const *compiler, size_t n)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	enum ccdriver_family fam = CCDRIVER_CC_UNKNOWN;
	size_t i = 0;
	char *real = NULL;

	/* ccache/distcc run the compiler named after them. */
	while (i + 1 < n && is_wrapper(compiler[i]))
		i++;
	if (i >= n)
		return fam;
	fam = family_from_name(compiler[i]);
	if (fam != CCDRIVER_CC_UNKNOWN)
		goto cleanup;
	/* cc, c99 and friends are symlinks (Debian alternatives) to the real one. */
	if (find_in_path(compiler[i], &path) == 1 && (real = realpath(path.buf, NULL))) {
		fam = family_from_name(real);
		if (fam != CCDRIVER_CC_UNKNOWN)
			goto cleanup;
	}
	fam = probe_family(compiler, n);
cleanup:
	free(real);
	cpgo_buf_release(&path);
	return fam;
}

static int push_ptr(char ***arr, size_t *n, size_t *alloc, char *s)
{
	if (CPGO_GROW(*arr, *alloc, *n + 2) < 0)
		return -1;
	(*arr)[(*n)++] = s;
	(*arr)[*n] = NULL;
	return 0;
}

int ccdriver_parse(struct ccdriver_cmd *cmd, int argc, char **argv,
		   const char *env_cc, const char *env_pgo)
{
	size_t alloc_args = 0, alloc_comp = 0;
	const char *mode = NULL;
	int i, first = 1;

	for (i = 1; i < argc; i++) {
		if (ccdriver_is_pgo_flag(argv[i])) {
			mode = strchr(argv[i], '=') + 1;
			cmd->mode_from_flag = 1;
			continue;
		}
		if (!strcmp(argv[i], "-pgo") || !strcmp(argv[i], "--pgo"))
			return error("%s needs a value: write -pgo=auto, -pgo=off or -pgo=FILE",
				     argv[i]);
		if (first && ccdriver_is_compiler_arg(argv[i])) {
			if (push_ptr(&cmd->compiler, &cmd->n_compiler, &alloc_comp, argv[i]) < 0)
				return -1;
			/* `cpgo cc ccache gcc ...`: the wrapper's compiler comes along. */
			first = is_wrapper(argv[i]);
			continue;
		}
		first = 0;
		if (push_ptr(&cmd->args, &cmd->n_args, &alloc_args, argv[i]) < 0)
			return -1;
	}
	if (!cmd->args) {
		if (CPGO_GROW(cmd->args, alloc_args, 1) < 0)
			return -1;
		cmd->args[0] = NULL;
	}

	if (!mode)
		mode = env_pgo && *env_pgo ? env_pgo : "auto";
	if (ccdriver_parse_mode(mode, &cmd->mode, &cmd->pgo_file) < 0)
		return error_prefix("%s", cmd->mode_from_flag ? "-pgo" : "CPGO_PGO");

	if (!cmd->n_compiler) {
		struct cpgo_buf path = CPGO_BUF_INIT;
		char *save = NULL, *w;

		if (env_cc && *env_cc) {
			cmd->priv_words = strdup(env_cc);
		} else {
			int has_clang = find_in_path("clang-19", &path) == 1;
			cmd->priv_words = strdup(has_clang ? "clang-19" : "cc");
		}
		cpgo_buf_release(&path);
		if (!cmd->priv_words)
			return error("out of memory");
		for (w = strtok_r(cmd->priv_words, " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save))
			if (push_ptr(&cmd->compiler, &cmd->n_compiler, &alloc_comp, w) < 0)
				return -1;
		if (!cmd->n_compiler)
			return error("CPGO_CC is blank: set it to a compiler such as clang-19");
	}
	cmd->family = ccdriver_detect_family(cmd->compiler, cmd->n_compiler);
	return ccdriver_classify(cmd);
}

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

static int add_input(struct ccdriver_cmd *cmd, size_t i, const char *x_lang)
{
	struct ccdriver_input *in;

	if (CPGO_GROW(cmd->inputs, cmd->alloc_inputs, cmd->n_inputs + 1) < 0)
		return -1;
	in = &cmd->inputs[cmd->n_inputs++];
	in->arg = i;
	in->x_lang = x_lang;
	in->lang = x_lang ? lang_of_x(x_lang) : lang_of_ext(cmd->args[i]);
	in->group = -1;
	if (in->lang == CCDRIVER_LANG_C)
		cmd->n_sources++;
	return 0;
}

int ccdriver_classify(struct ccdriver_cmd *cmd)
{
	const char *x_lang = NULL;
	int compile = 0, preprocess = 0, end_of_opts = 0;
	size_t i;

	cmd->n_inputs = cmd->n_sources = 0;
	for (i = 0; i < cmd->n_args; i++) {
		const char *a = cmd->args[i];

		if (end_of_opts || a[0] != '-' || !strcmp(a, "-")) {
			if (add_input(cmd, i, x_lang) < 0)
				return -1;
			continue;
		}
		if (!strcmp(a, "--")) {
			end_of_opts = 1;
		} else if (!strcmp(a, "-x") || !strncmp(a, "-x", 2)) {
			const char *v = a[2] ? a + 2 : (i + 1 < cmd->n_args ? cmd->args[++i] : "none");
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
		} else if (!strcmp(a, "-fomit-frame-pointer") ||
			   !strcmp(a, "-fno-omit-frame-pointer")) {
			cmd->has_frame_pointer = 1;
		} else if (debug_level_flag(a)) {
			cmd->has_debug_level = 1;
		}
	}
	if (!cmd->n_sources)
		cmd->action = CCDRIVER_QUERY;
	else if (preprocess)
		cmd->action = CCDRIVER_PREPROCESS;
	else if (compile)
		cmd->action = CCDRIVER_COMPILE;
	else
		cmd->action = CCDRIVER_COMPILE_LINK;
	return 0;
}

int ccdriver_find_profile(const char *source, struct cpgo_buf *out)
{
	struct cpgo_buf dir = CPGO_BUF_INIT, probe = CPGO_BUF_INIT;
	char *real = NULL;
	struct stat st;
	int ret = -1;

	if (!strcmp(source, "-") || !strchr(source, '/')) {
		real = realpath(".", NULL);
	} else {
		const char *slash = strrchr(source, '/');
		if (cpgo_buf_add(&dir, source, slash == source ? 1 : (size_t)(slash - source)) < 0)
			goto cleanup;
		real = realpath(dir.buf, NULL);
	}
	if (!real) {
		/* A missing source is the compiler's error to report, in its words. */
		if (errno == ENOENT || errno == ENOTDIR) {
			ret = 0;
			goto cleanup;
		}
		error_errno("%s: cannot resolve the source file's directory", source);
		goto cleanup;
	}
	cpgo_buf_reset(&dir);
	if (cpgo_buf_adds(&dir, real) < 0)
		goto cleanup;
	for (;;) {
		const char *sep = dir.len > 1 ? "/" : "";

		cpgo_buf_reset(&probe);
		if (cpgo_buf_addf(&probe, "%s%sdefault.pgo", dir.buf, sep) < 0)
			goto cleanup;
		if (!stat(probe.buf, &st) && !S_ISDIR(st.st_mode)) {
			cpgo_buf_reset(out);
			if (cpgo_buf_add(out, probe.buf, probe.len) < 0)
				goto cleanup;
			ret = 1;
			goto cleanup;
		}
		cpgo_buf_reset(&probe);
		if (cpgo_buf_addf(&probe, "%s%s.git", dir.buf, sep) < 0)
			goto cleanup;
		/* The repository root is the last place a program's profile can be. */
		if (!lstat(probe.buf, &st) || dir.len <= 1)
			break;
		while (dir.len > 1 && dir.buf[dir.len - 1] != '/')
			dir.len--;
		if (dir.len > 1)
			dir.len--;
		dir.buf[dir.len] = '\0';
	}
	ret = 0;
cleanup:
	free(real);
	cpgo_buf_release(&dir);
	cpgo_buf_release(&probe);
	return ret;
}

void ccdriver_argv_init(struct ccdriver_argv *a)
{
	memset(a, 0, sizeof(*a));
}

void ccdriver_argv_release(struct ccdriver_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->argv[i]);
	free(a->argv);
	ccdriver_argv_init(a);
}

int ccdriver_argv_push(struct ccdriver_argv *a, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		return error("out of memory");
	if (push_ptr(&a->argv, &a->n, &a->alloc, copy) < 0) {
		free(copy);
		return -1;
	}
	return 0;
}

int ccdriver_argv_pushf(struct ccdriver_argv *a, const char *fmt, ...)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || cpgo_buf_grow(&b, (size_t)n) < 0) {
		cpgo_buf_release(&b);
		return error("out of memory");
	}
	va_start(ap, fmt);
	vsnprintf(b.buf, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len = (size_t)n;
	s = cpgo_buf_detach(&b, NULL);
	if (!s || push_ptr(&a->argv, &a->n, &a->alloc, s) < 0) {
		free(s);
		return error("out of memory");
	}
	return 0;
}

int ccdriver_push_front_flags(const struct ccdriver_cmd *cmd, const struct ccdriver_prepared *pp,
			      struct ccdriver_argv *a)
{
	int clang = cmd->family == CCDRIVER_CC_CLANG;

	/* An unknown compiler may not take any of these; leave it alone. */
	if (cmd->family == CCDRIVER_CC_UNKNOWN)
		return 0;
	/* Line tables let profiles name lines; libcpgo's fast unwinder walks frame pointers. */
	if (!cmd->has_debug_level && ccdriver_argv_push(a, clang ? "-gline-tables-only" : "-g1") < 0)
		return -1;
	if (!cmd->has_frame_pointer && ccdriver_argv_push(a, "-fno-omit-frame-pointer") < 0)
		return -1;
	if (!clang)
		return 0;
	/*
	 * Every clang build, profiled or not: the binary that will be profiled
	 * then carries discriminators, which the converter reads from it.
	 */
	if (ccdriver_argv_push(a, "-fdebug-info-for-profiling") < 0)
		return -1;
	if (!pp)
		return 0;
	/* A file the profile has no samples for is built as if cold, which it is. */
	if (pp->empty)
		return 0;
	if (ccdriver_argv_pushf(a, "-fprofile-sample-use=%s", pp->cached.buf) < 0 ||
	    ccdriver_argv_push(a, "-fsample-profile-use-profi") < 0)
		return -1;
	return 0;
}

int ccdriver_push_back_flags(const struct ccdriver_cmd *cmd, const struct ccdriver_prepared *pp,
			     const char *profile_abs, struct ccdriver_argv *a)
{
	if (!pp || cmd->family != CCDRIVER_CC_CLANG)
		return 0;
	/* A system directory keeps the note header out of -MMD depfiles and warnings. */
	if (ccdriver_argv_push(a, "-isystem") < 0 || ccdriver_argv_push(a, pp->note_dir.buf) < 0 ||
	    ccdriver_argv_push(a, "-include") < 0 || ccdriver_argv_push(a, pp->note_hdr.buf) < 0)
		return -1;
	/* With -MP a vanished entry is harmless, so make rebuilds when the profile changes. */
	if (cmd->has_mp && profile_abs &&
	    (ccdriver_argv_push(a, "-Xclang") < 0 ||
	     ccdriver_argv_pushf(a, "-fdepfile-entry=%s", profile_abs) < 0))
		return -1;
	return 0;
}

int ccdriver_which(const char *name, struct cpgo_buf *out)
{
	return find_in_path(name, out);
}

void ccdriver_plan_init(struct ccdriver_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
}

static void remove_tmpdir(const char *dir)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		cpgo_buf_reset(&path);
		if (cpgo_buf_addf(&path, "%s/%s", dir, e->d_name) == 0)
			unlink(path.buf);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	cpgo_buf_release(&path);
}

void ccdriver_plan_release(struct ccdriver_plan *plan)
{
	for (size_t i = 0; i < plan->n_groups; i++) {
		free(plan->groups[i].profile);
		free(plan->groups[i].profile_abs);
		ccdriver_prepared_release(&plan->groups[i].pp);
	}
	free(plan->groups);
	for (size_t i = 0; i < plan->n_cmds; i++)
		ccdriver_argv_release(&plan->cmds[i]);
	free(plan->cmds);
	if (plan->tmpdir) {
		remove_tmpdir(plan->tmpdir);
		free(plan->tmpdir);
	}
	ccdriver_plan_init(plan);
}

static int group_for(struct ccdriver_plan *plan, const char *profile, const char *source)
{
	struct ccdriver_group *g;
	size_t i;

	for (i = 0; i < plan->n_groups; i++) {
		g = &plan->groups[i];
		if (!g->profile != !profile || (profile && strcmp(g->profile, profile)))
			continue;
		if (g->source != source && (!g->source || !source || strcmp(g->source, source)))
			continue;
		return (int)i;
	}
	if (CPGO_GROW(plan->groups, plan->alloc_groups, plan->n_groups + 1) < 0)
		return -1;
	g = &plan->groups[plan->n_groups];
	memset(g, 0, sizeof(*g));
	ccdriver_prepared_init(&g->pp);
	g->source = source;
	if (profile) {
		g->profile = strdup(profile);
		if (!g->profile)
			return error("out of memory");
		/* A missing file has no absolute path; preparing it reports that. */
		g->profile_abs = realpath(profile, NULL);
	}
	return (int)plan->n_groups++;
}

int ccdriver_plan_groups(struct ccdriver_cmd *cmd, int per_source, struct ccdriver_plan *plan)
{
	struct cpgo_buf found = CPGO_BUF_INIT;
	int ret = -1;

	if (cmd->action != CCDRIVER_COMPILE && cmd->action != CCDRIVER_COMPILE_LINK)
		return 0;
	for (size_t i = 0; i < cmd->n_inputs; i++) {
		struct ccdriver_input *in = &cmd->inputs[i];
		const char *src = cmd->args[in->arg], *profile = NULL;
		int g;

		if (in->lang != CCDRIVER_LANG_C)
			continue;
		if (cmd->mode == CCDRIVER_PGO_FILE) {
			profile = cmd->pgo_file;
		} else if (cmd->mode == CCDRIVER_PGO_AUTO) {
			int r = ccdriver_find_profile(src, &found);
			if (r < 0)
				goto cleanup;
			if (r)
				profile = found.buf;
		}
		g = group_for(plan, profile, profile && per_source ? src : NULL);
		if (g < 0)
			goto cleanup;
		in->group = g;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&found);
	return ret;
}

static const struct ccdriver_prepared *group_pp(const struct ccdriver_plan *plan, int g)
{
	if (g < 0 || (size_t)g >= plan->n_groups || !plan->groups[g].prepared)
		return NULL;
	return &plan->groups[g].pp;
}

static struct ccdriver_argv *new_cmd(struct ccdriver_plan *plan)
{
	struct ccdriver_argv *a;

	if (CPGO_GROW(plan->cmds, plan->alloc_cmds, plan->n_cmds + 1) < 0)
		return NULL;
	a = &plan->cmds[plan->n_cmds++];
	ccdriver_argv_init(a);
	return a;
}

static int push_compiler(const struct ccdriver_cmd *cmd, struct ccdriver_argv *a)
{
	for (size_t i = 0; i < cmd->n_compiler; i++)
		if (ccdriver_argv_push(a, cmd->compiler[i]) < 0)
			return -1;
	return 0;
}

/* The input record of args[i], or NULL when it is not an input. */
static const struct ccdriver_input *input_at(const struct ccdriver_cmd *cmd, size_t i)
{
	for (size_t k = 0; k < cmd->n_inputs; k++)
		if (cmd->inputs[k].arg == i)
			return &cmd->inputs[k];
	return NULL;
}

/*
 * Copies the user's options (not inputs) to `a`. `drop_lang_output` drops
 * -x and -o, which the split commands set per file.
 */
static int push_options(const struct ccdriver_cmd *cmd, int drop_lang_output,
			struct ccdriver_argv *a)
{
	for (size_t i = 0; i < cmd->n_args; i++) {
		const char *s = cmd->args[i];
		int has_value = in_list(s, takes_arg) || !strcmp(s, "-x");

		if (input_at(cmd, i))
			continue;
		if (drop_lang_output && (!strncmp(s, "-x", 2) || !strncmp(s, "-o", 2))) {
			if (has_value)
				i++;
			continue;
		}
		if (ccdriver_argv_push(a, s) < 0)
			return -1;
		if (has_value && i + 1 < cmd->n_args && ccdriver_argv_push(a, cmd->args[++i]) < 0)
			return -1;
	}
	return 0;
}

/* One command: every argument in its place, with group g's flags around. */
static int whole_command(const struct ccdriver_cmd *cmd, struct ccdriver_plan *plan, int g,
			 int only_group)
{
	const struct ccdriver_prepared *pp = group_pp(plan, g);
	int compile = cmd->action == CCDRIVER_COMPILE || cmd->action == CCDRIVER_COMPILE_LINK;
	struct ccdriver_argv *a = new_cmd(plan);

	if (!a || push_compiler(cmd, a) < 0)
		return -1;
	if (compile && ccdriver_push_front_flags(cmd, pp, a) < 0)
		return -1;
	for (size_t i = 0; i < cmd->n_args; i++) {
		const struct ccdriver_input *in = only_group ? input_at(cmd, i) : NULL;

		/* Other groups' sources; inputs without a group go with the first. */
		if (in && in->group != g && !(in->group < 0 && g == 0))
			continue;
		if (ccdriver_argv_push(a, cmd->args[i]) < 0)
			return -1;
	}
	if (compile && ccdriver_push_back_flags(cmd, pp, pp ? plan->groups[g].profile_abs : NULL,
						a) < 0)
		return -1;
	return 0;
}

static int split_compile_link(const struct ccdriver_cmd *cmd, struct ccdriver_plan *plan)
{
	const char *tmp = getenv("TMPDIR");
	struct cpgo_buf obj = CPGO_BUF_INIT, tmpl = CPGO_BUF_INIT;
	struct ccdriver_argv *link;
	int clang = cmd->family == CCDRIVER_CC_CLANG, ret = -1;
	size_t i, k;

	if (cpgo_buf_addf(&tmpl, "%s/cpgo-cc.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		goto cleanup;
	if (!mkdtemp(tmpl.buf)) {
		error_errno("%s: cannot create a temporary directory for objects", tmpl.buf);
		goto cleanup;
	}
	plan->tmpdir = cpgo_buf_detach(&tmpl, NULL);

	for (k = 0; k < cmd->n_inputs; k++) {
		const struct ccdriver_input *in = &cmd->inputs[k];
		const struct ccdriver_prepared *pp = group_pp(plan, in->group);
		const char *src = cmd->args[in->arg], *b = strrchr(src, '/');
		struct ccdriver_argv *a;

		if (in->lang != CCDRIVER_LANG_C)
			continue;
		a = new_cmd(plan);
		if (!a || push_compiler(cmd, a) < 0 || ccdriver_push_front_flags(cmd, pp, a) < 0 ||
		    push_options(cmd, 1, a) < 0)
			goto cleanup;
		/* Link flags are unused in a compile; -Werror must not turn that into a failure. */
		if (clang && ccdriver_argv_push(a, "-Wno-unused-command-line-argument") < 0)
			goto cleanup;
		if (in->x_lang && (ccdriver_argv_push(a, "-x") < 0 ||
				   ccdriver_argv_push(a, in->x_lang) < 0))
			goto cleanup;
		cpgo_buf_reset(&obj);
		if (cpgo_buf_addf(&obj, "%s/%zu-%s.o", plan->tmpdir, k, b ? b + 1 : src) < 0 ||
		    ccdriver_argv_push(a, src) < 0 || ccdriver_argv_push(a, "-c") < 0 ||
		    ccdriver_argv_push(a, "-o") < 0 || ccdriver_argv_push(a, obj.buf) < 0 ||
		    ccdriver_push_back_flags(cmd, pp, pp ? plan->groups[in->group].profile_abs : NULL,
					     a) < 0)
			goto cleanup;
	}

	link = new_cmd(plan);
	if (!link || push_compiler(cmd, link) < 0)
		goto cleanup;
	if (clang && ccdriver_argv_push(link, "-Wno-unused-command-line-argument") < 0)
		goto cleanup;
	for (i = 0; i < cmd->n_args; i++) {
		const char *s = cmd->args[i];
		const struct ccdriver_input *in = input_at(cmd, i);
		int has_value = in_list(s, takes_arg) || !strcmp(s, "-x");

		if (in && in->lang == CCDRIVER_LANG_C) {
			const char *b = strrchr(s, '/');
			cpgo_buf_reset(&obj);
			if (cpgo_buf_addf(&obj, "%s/%zu-%s.o", plan->tmpdir,
					  (size_t)(in - cmd->inputs), b ? b + 1 : s) < 0 ||
			    ccdriver_argv_push(link, obj.buf) < 0)
				goto cleanup;
			continue;
		}
		if (in) {
			/* The -x options are gone: restate the language of this input alone. */
			if (in->x_lang && (ccdriver_argv_push(link, "-x") < 0 ||
					   ccdriver_argv_push(link, in->x_lang) < 0))
				goto cleanup;
			if (ccdriver_argv_push(link, s) < 0)
				goto cleanup;
			if (in->x_lang && (ccdriver_argv_push(link, "-x") < 0 ||
					   ccdriver_argv_push(link, "none") < 0))
				goto cleanup;
			continue;
		}
		if (!strncmp(s, "-x", 2)) {
			if (!strcmp(s, "-x"))
				i++;
			continue;
		}
		if (ccdriver_argv_push(link, s) < 0)
			goto cleanup;
		if (has_value && i + 1 < cmd->n_args && ccdriver_argv_push(link, cmd->args[++i]) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	cpgo_buf_release(&obj);
	cpgo_buf_release(&tmpl);
	return ret;
}

int ccdriver_plan_commands(const struct ccdriver_cmd *cmd, struct ccdriver_plan *plan)
{
	if (plan->n_groups <= 1)
		return whole_command(cmd, plan, 0, 0);
	if (cmd->action == CCDRIVER_COMPILE_LINK)
		return split_compile_link(cmd, plan);
	/* -c -o with several sources is the compiler's error to report, unchanged. */
	if (cmd->output_arg >= 0)
		return whole_command(cmd, plan, -1, 0);
	for (size_t g = 0; g < plan->n_groups; g++)
		if (whole_command(cmd, plan, (int)g, 1) < 0)
			return -1;
	return 0;
}
