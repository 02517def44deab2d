#ifndef CPGO_CC_ARGS_H
#define CPGO_CC_ARGS_H

/*
 * What a compiler's arguments do, as gcc and clang read them: which are
 * inputs and in which language, which options take the next argument, and
 * whether the command compiles, links or only preprocesses.
 */

#include "cc/cmd.h"

/* Fills action, inputs and the flag facts of cmd from cmd->args. */
int cpgo_cc_classify(struct cpgo_cc_cmd *cmd);

/* True for an option whose value is the next argument (-o FILE, -I DIR, -x LANG ...). */
int cpgo_cc_arg_takes_value(const char *arg);

/* True when the name has the extension of a compiler input (source, header, object ...). */
int cpgo_cc_is_input_name(const char *arg);

#endif
