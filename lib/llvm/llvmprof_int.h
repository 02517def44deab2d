#ifndef CPGO_LLVMPROF_INT_H
#define CPGO_LLVMPROF_INT_H

/* The writers, shared by lib/llvm's files and nothing else. Both read an ordered model. */

#include "llvmprof.h"

int lp_write_text(const struct sprof_model *m, struct cpgo_buf *out);
int lp_write_ext_binary(const struct sprof_model *m, struct cpgo_buf *out);

#endif
