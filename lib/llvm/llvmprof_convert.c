/* The LLVM back end's entry points: the model from lib/sprof, then a writer. */
#include "llvmprof_int.h"
#include "util/error.h"
#include "pprof/profile.h"

#include <string.h>

/* The model of `p`, then the whole profile or (summary_only) its summary section. */
static int convert(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		   struct cpgo_buf *out, int summary_only)
{
	static const struct llvmprof_opts defaults;
	struct sprof_opts so;
	struct sprof_model m;
	int ret = -1;

	if (!o)
		o = &defaults;
	so = o->sp;
	/* Only ext-binary carries the profile symbol list (SecProfileSymbolList). */
	so.symbol_list = !o->text && !summary_only;
	sprof_model_init(&m, name ? name : "profile");
	if (sprof_build(p, name, &so, &m) < 0)
		goto cleanup;
	if ((summary_only ? lp_write_summary(&m, out)
	     : o->text    ? lp_write_text(&m, out)
			  : lp_write_ext_binary(&m, o->summary, out)) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	sprof_model_release(&m);
	return ret;
}

int llvmprof_convert(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		     struct cpgo_buf *out)
{
	return convert(p, name, o, out, 0);
}

int llvmprof_summary(struct cpgo_profile *p, const char *name, const struct llvmprof_opts *o,
		     struct cpgo_buf *out)
{
	return convert(p, name, o, out, 1);
}

int llvmprof_convert_file(const char *in_path, const char *out_path,
			  const struct llvmprof_opts *o)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	int ret = -1;

	/* cpgo_profile_read starts from scratch; release is safe on whatever it leaves. */
	memset(&p, 0, sizeof(p));
	if (cpgo_profile_read(&p, in_path, NULL) < 0)
		goto cleanup;
	if (llvmprof_convert(&p, in_path, o, &out) < 0)
		goto cleanup;
	if (cpgo_write_file_atomic(out_path, out.buf, out.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&out);
	cpgo_profile_release(&p);
	return ret;
}
