/*
 * Which compiler `cpgo cc` runs, and whether it is clang or gcc. See compiler.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cc/args.h"
#include "cc/compiler.h"
#include "util/error.h"
#include "util/path.h"
#include "util/run-command.h"

/* `--version` output past this is not needed to tell clang from gcc. */
#define VERSION_OUTPUT_LIMIT 4096

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

int cpgo_cc_is_wrapper(const char *path)
{
	static const char *const wrappers[] = { "ccache", "distcc", "sccache", "icecc", NULL };
	const char *base = cpgo_path_basename(path);

	for (const char *const *w = wrappers; *w; w++)
		if (!strcmp(base, *w))
			return 1;
	return 0;
}

int cpgo_cc_is_compiler_arg(const char *arg)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	int ret;

	if (!*arg || arg[0] == '-' || cpgo_cc_is_input_name(arg))
		return 0;
	if (names_compiler(cpgo_path_basename(arg)))
		return 1;
	if (strchr(arg, '/'))
		return cpgo_path_is_executable(arg);
	/* A bare name is an input when such a file is here, else a program on PATH. */
	if (!access(arg, F_OK))
		return 0;
	ret = cpgo_path_lookup(arg, &path) == 1;
	cpgo_buf_release(&path);
	return ret;
}

const char *cpgo_cc_default_compiler(void)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	int has_clang = cpgo_path_lookup("clang-19", &path) == 1;

	cpgo_buf_release(&path);
	return has_clang ? "clang-19" : "cc";
}

static enum cpgo_cc_family family_from_name(const char *path)
{
	const char *b = cpgo_path_basename(path);

	if (strstr(b, "clang"))
		return CPGO_CC_CLANG;
	if (strstr(b, "gcc") || strstr(b, "g++"))
		return CPGO_CC_GCC;
	return CPGO_CC_UNKNOWN;
}

/* Runs `compiler --version` and looks at what it says it is. */
static enum cpgo_cc_family probe_family(char *const *compiler, size_t n)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	struct cpgo_buf out = CPGO_BUF_INIT;
	enum cpgo_cc_family fam = CPGO_CC_UNKNOWN;

	c.no_stdin = c.no_stderr = 1;
	if (cpgo_strvec_pushv(&c.args, compiler, n) < 0 ||
	    cpgo_strvec_push(&c.args, "--version") < 0)
		goto cleanup;
	/* A compiler that cannot run is unknown here; running it for real says why. */
	if (cpgo_run_command_capture(&c, &out, VERSION_OUTPUT_LIMIT) < 0 || !out.len) {
		cpgo_clear_error();
		goto cleanup;
	}
	if (strstr(out.buf, "clang version"))
		fam = CPGO_CC_CLANG;
	else if (strstr(out.buf, "Free Software Foundation") || strstr(out.buf, "(GCC)"))
		fam = CPGO_CC_GCC;
cleanup:
	cpgo_buf_release(&out);
	cpgo_child_release(&c);
	return fam;
}

enum cpgo_cc_family cpgo_cc_detect_family(char *const *compiler, size_t n)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	enum cpgo_cc_family fam = CPGO_CC_UNKNOWN;
	size_t i = 0;
	char *real = NULL;

	/* ccache/distcc run the compiler named after them. */
	while (i + 1 < n && cpgo_cc_is_wrapper(compiler[i]))
		i++;
	if (i >= n)
		return fam;
	fam = family_from_name(compiler[i]);
	if (fam != CPGO_CC_UNKNOWN)
		goto cleanup;
	/* cc, c99 and friends are symlinks (Debian alternatives) to the real one. */
	if (cpgo_path_lookup(compiler[i], &path) == 1 && (real = realpath(path.buf, NULL))) {
		fam = family_from_name(real);
		if (fam != CPGO_CC_UNKNOWN)
			goto cleanup;
	}
	fam = probe_family(compiler, n);
cleanup:
	free(real);
	cpgo_buf_release(&path);
	return fam;
}

int cpgo_cc_gcc_major(char *const *compiler, size_t n)
{
	struct cpgo_child c = CPGO_CHILD_INIT;
	struct cpgo_buf out = CPGO_BUF_INIT;
	int major = 0;

	c.no_stdin = c.no_stderr = 1;
	if (cpgo_strvec_pushv(&c.args, compiler, n) < 0 ||
	    cpgo_strvec_push(&c.args, "-dumpversion") < 0)
		goto cleanup;
	if (cpgo_run_command_capture(&c, &out, VERSION_OUTPUT_LIMIT) != 0 || !out.len) {
		cpgo_clear_error();
		goto cleanup;
	}
	major = atoi(out.buf);
cleanup:
	cpgo_buf_release(&out);
	cpgo_child_release(&c);
	return major;
}
