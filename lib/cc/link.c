/*
 * Function layout at link time for `cpgo cc`. See link.h.
 */
#include <string.h>

#include "cc/args.h"
#include "cc/link.h"
#include "elf/elfsyms.h"
#include "link/layout.h"
#include "pprof/profile.h"
#include "util/error.h"
#include "util/path.h"

void cpgo_cc_link_init(struct cpgo_cc_link *lk)
{
	memset(lk, 0, sizeof(*lk));
	cpgo_strvec_init(&lk->add);
	cpgo_buf_init(&lk->note);
	cpgo_buf_init(&lk->file);
}

void cpgo_cc_link_release(struct cpgo_cc_link *lk)
{
	cpgo_strvec_release(&lk->add);
	cpgo_buf_release(&lk->note);
	cpgo_buf_release(&lk->file);
	cpgo_cc_link_init(lk);
}

/* Driver options after which nothing is linked, or only part of a link is. */
static int stops_before_link(const char *a)
{
	static const char *const modes[] = {
		"-c", "-S", "-E", "-M", "-MM", "-fsyntax-only", "--analyze", "--precompile",
		"-r", "-relocatable", "--relocatable", "-###", "-emit-llvm", NULL
	};

	for (const char *const *m = modes; *m; m++)
		if (!strcmp(a, *m))
			return 1;
	return !strncmp(a, "-print-", 7) || !strncmp(a, "--print-", 8) || !strncmp(a, "-dump", 5) ||
	       !strcmp(a, "--version") || !strcmp(a, "--help");
}

static int is_partial_opt(const char *o)
{
	return !strcmp(o, "-r") || !strncmp(o, "-r,", 3) || !strncmp(o, "--relocatable", 13) ||
	       !strncmp(o, "-relocatable", 12);
}

static int is_ordering_opt(const char *o)
{
	return !strncmp(o, "--symbol-ordering-file", 22) || !strncmp(o, "-symbol-ordering-file", 21) ||
	       !strncmp(o, "--call-graph-ordering-file", 26) ||
	       !strncmp(o, "-call-graph-ordering-file", 25) || !strncmp(o, "--section-ordering-file", 23);
}

/* Whether a linker option of one -Wl, argument (split at its commas) is one `is` knows. */
static int wl_has(const char *wl, int (*is)(const char *))
{
	for (const char *p = wl + 4; *p;) {
		const char *comma = strchrnul(p, ',');
		if (is(p))
			return 1;
		p = *comma ? comma + 1 : comma;
	}
	return 0;
}

int cpgo_cc_is_link(const struct cpgo_cc_cmd *cmd)
{
	if (cmd->action == CPGO_CC_PREPROCESS || cmd->action == CPGO_CC_COMPILE || !cmd->n_inputs)
		return 0;
	for (size_t i = 0; i < cmd->args.n; i++) {
		const char *a = cmd->args.v[i];
		if (a[0] != '-')
			continue;
		if (cpgo_cc_arg_takes_value(a)) {
			/* -Xlinker -r is a partial link too. */
			if (!strcmp(a, "-Xlinker") && i + 1 < cmd->args.n &&
			    (!strcmp(cmd->args.v[i + 1], "-r") ||
			     !strcmp(cmd->args.v[i + 1], "--relocatable")))
				return 0;
			i++;
			continue;
		}
		if (stops_before_link(a))
			return 0;
		if (!strncmp(a, "-Wl,", 4) && wl_has(a, is_partial_opt))
			return 0;
	}
	return 1;
}

int cpgo_cc_find_lld(const char *env, struct cpgo_buf *out)
{
	static const char *const names[] = { "ld.lld-19", "ld.lld", NULL };

	if (env)
		return *env ? cpgo_path_lookup(env, out) : 0;
	for (const char *const *n = names; *n; n++) {
		int r = cpgo_path_lookup(*n, out);
		if (r)
			return r;
	}
	return 0;
}

/* What the user said about the linker. */
struct link_opts {
	const char *linker;  /* -fuse-ld= or --ld-path= value, NULL when none */
	int is_lld;          /* ... and it is lld */
	int has_ordering;    /* the user orders sections already */
};

static void scan_link_opts(const struct cpgo_strvec *link, size_t first, struct link_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = first; i < link->n; i++) {
		const char *a = link->v[i], *v = NULL;

		if (!strncmp(a, "-fuse-ld=", 9))
			v = a + 9;
		else if (!strncmp(a, "--ld-path=", 10))
			v = a + 10;
		else if (!strncmp(a, "-Wl,", 4) && wl_has(a, is_ordering_opt))
			o->has_ordering = 1;
		else if (!strcmp(a, "-Xlinker") && i + 1 < link->n && is_ordering_opt(link->v[++i]))
			o->has_ordering = 1;
		if (v) {
			/* The last choice wins, as in the driver. */
			o->linker = v;
			o->is_lld = !strcmp(v, "lld") || strstr(cpgo_path_basename(v), "lld") != NULL;
		}
	}
}

/* Reads the function symbols of the link's object and archive inputs; others are skipped. */
static void read_inputs(const struct cpgo_strvec *link, size_t first, struct cpgo_elfsyms *syms,
			size_t *n_objects)
{
	for (size_t i = first; i < link->n; i++) {
		const char *a = link->v[i];

		if (a[0] == '-') {
			if (cpgo_cc_arg_takes_value(a) || !strcmp(a, "-x"))
				i++;
			continue;
		}
		/* Shared objects, linker scripts and bitcode have nothing to order: not errors. */
		if (cpgo_elfsyms_add(syms, a, 1) == 0)
			(*n_objects)++;
	}
}

static int set_note(struct cpgo_cc_link *lk, const char *key, const char *fmt, const char *arg)
{
	lk->note_key = key;
	cpgo_buf_reset(&lk->note);
	return cpgo_buf_addf(&lk->note, fmt, arg);
}

int cpgo_cc_link_plan(const struct cpgo_cc_cmd *cmd, const struct cpgo_strvec *link,
		      const char *profile, const char *lld, const char *dir,
		      struct cpgo_cc_link *lk)
{
	struct cpgo_layout_opts lopts = { NULL, profile };
	struct cpgo_elfsyms syms = { NULL, 0, 0 };
	struct cpgo_buf out = CPGO_BUF_INIT;
	struct link_opts o;
	struct cpgo_profile p;
	struct cpgo_layout l;
	int have_profile = 0, ret = -1;

	cpgo_layout_init(&l);
	if (cmd->layout == CPGO_CC_LAYOUT_OFF || cmd->family != CPGO_CC_CLANG)
		goto done;
	scan_link_opts(link, cmd->compiler.n, &o);
	if (o.has_ordering)
		goto done;
	if (o.linker && !o.is_lld) {
		if (set_note(lk, "layout-linker", "function layout needs lld; the linker you chose "
			     "(%s) is kept, without it (-pgo-layout=off or CPGO_LAYOUT=off silences "
			     "this)", o.linker) < 0)
			goto cleanup;
		goto done;
	}
	if (!o.linker && !lld) {
		if (set_note(lk, "layout-no-lld", "%s", "function layout needs lld, which is not "
			     "installed (apt-get install lld-19); linking with the default linker "
			     "without it (-pgo-layout=off or CPGO_LAYOUT=off silences this)") < 0)
			goto cleanup;
		goto done;
	}

	if (cmd->layout != CPGO_CC_LAYOUT_LLD) {
		if (cpgo_profile_read(&p, profile, NULL) < 0)
			goto cleanup;
		have_profile = 1;
		if (cpgo_layout_build(&l, &p, &lopts) < 0)
			goto cleanup;
		read_inputs(link, cmd->compiler.n, &syms, &lk->n_objects);
		/* Inputs cpgo cannot read (LTO bitcode): the profile's names, which lld matches or skips. */
		if (lk->n_objects && cpgo_layout_resolve(&l, &syms, "the link's objects") < 0)
			goto cleanup;
		lk->n_found = l.n_node - l.n_unknown;
		lk->n_unknown = l.n_unknown;
		lk->samples = l.samples;
		lk->samples_unknown = l.samples_unknown;
		if (cmd->layout == CPGO_CC_LAYOUT_ORDER) {
			if (cpgo_layout_c3(&l) < 0 || cpgo_layout_write_order(&l, &out) < 0)
				goto cleanup;
		} else if (cpgo_layout_write_edges(&l, &out) < 0) {
			goto cleanup;
		}
		/* Nothing of the profile is in this link (another program's, or all inlined). */
		if (!out.len)
			goto done;
		if (cpgo_buf_addf(&lk->file, "%s/layout.txt", dir) < 0 ||
		    cpgo_write_file_atomic(lk->file.buf, out.buf, out.len) < 0)
			goto cleanup;
	}
	if (!o.linker && (cpgo_strvec_push(&lk->add, "-fuse-ld=lld") < 0 ||
			  cpgo_strvec_pushf(&lk->add, "--ld-path=%s", lld) < 0))
		goto cleanup;
	if (cmd->layout == CPGO_CC_LAYOUT_CALLGRAPH &&
	    cpgo_strvec_pushf(&lk->add, "-Wl,--call-graph-ordering-file=%s", lk->file.buf) < 0)
		goto cleanup;
	/* Names inlined away in this build are expected to be missing. */
	if (cmd->layout == CPGO_CC_LAYOUT_ORDER &&
	    (cpgo_strvec_pushf(&lk->add, "-Wl,--symbol-ordering-file=%s", lk->file.buf) < 0 ||
	     cpgo_strvec_push(&lk->add, "-Wl,--no-warn-symbol-ordering") < 0))
		goto cleanup;
done:
	ret = 0;
cleanup:
	if (ret < 0) {
		cpgo_strvec_release(&lk->add);
		cpgo_strvec_init(&lk->add);
	}
	cpgo_elfsyms_release(&syms);
	cpgo_layout_release(&l);
	if (have_profile)
		cpgo_profile_release(&p);
	cpgo_buf_release(&out);
	return ret;
}
