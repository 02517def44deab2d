/* The gcc back end's entry points: the model from lib/sprof, then the writer. */
#include "gccprof.h"
#include "util/error.h"
#include "pprof/profile.h"

#include <string.h>

int gccprof_convert(struct cpgo_profile *p, const char *name, const struct gccprof_opts *o,
		    struct cpgo_buf *out)
{
	static const struct gccprof_opts defaults;
	struct sprof_opts so;
	struct sprof_model m;
	int ret = -1;

	if (!o)
		o = &defaults;
	so = o->sp;
	/* gcc has no profile symbol list. */
	so.symbol_list = 0;
	if (!so.discriminators)
		so.discriminators = SPROF_DISC_NONE;
	sprof_model_init(&m, name ? name : "profile");
	if (sprof_build(p, name, &so, &m) < 0 || gccprof_write(&m, out) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	sprof_model_release(&m);
	return ret;
}

int gccprof_convert_file(const char *in_path, const char *out_path, const struct gccprof_opts *o)
{
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT, text = CPGO_BUF_INIT;
	int ret = -1;

	/* cpgo_profile_read starts from scratch; release is safe on whatever it leaves. */
	memset(&p, 0, sizeof(p));
	if (cpgo_profile_read(&p, in_path, NULL) < 0 || gccprof_convert(&p, in_path, o, &out) < 0)
		goto cleanup;
	/* The text is read back from the bytes written: it shows what gcc will get. */
	if (o && o->text && gccprof_read(out.buf, out.len, in_path, &text) < 0)
		goto cleanup;
	if (o && o->text ? cpgo_write_file_atomic(out_path, text.buf, text.len) < 0
			 : cpgo_write_file_atomic(out_path, out.buf, out.len) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&out);
	cpgo_buf_release(&text);
	cpgo_profile_release(&p);
	return ret;
}
