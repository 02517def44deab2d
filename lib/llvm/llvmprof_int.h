#ifndef CPGO_LLVMPROF_INT_H
#define CPGO_LLVMPROF_INT_H

/* The writers, shared by lib/llvm's files and nothing else. Both read an ordered model. */

#include "llvmprof.h"

int lp_write_text(const struct sprof_model *m, struct cpgo_buf *out);
/* With `summary` (may be NULL or empty: the model's own) as its summary section. */
int lp_write_ext_binary(const struct sprof_model *m, const struct cpgo_buf *summary,
			struct cpgo_buf *out);
int lp_write_summary(const struct sprof_model *m, struct cpgo_buf *out);

#endif
