#ifndef CPGO_CC_FLAGS_H
#define CPGO_CC_FLAGS_H

/*
 * The flags `cpgo cc` adds to a compile: line tables unless a -g level is
 * given, frame pointers when cmd->frame_pointers and the user did not
 * choose, discriminators for clang, and with a prepared profile the
 * compiler's profile flag (clang: -fprofile-sample-use, gcc:
 * -fauto-profile) and the note header.
 */

#include "cc/cache.h"
#include "cc/cmd.h"
#include "util/strvec.h"

/* Whether this compile's target takes -fsplit-machine-functions (the host's, x86-64 ELF). */
int cpgo_cc_split_supported(const struct cpgo_cc_cmd *cmd);

/* Pushed before the user's arguments, so that an explicit user flag wins. */
int cpgo_cc_push_front_flags(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_prepared *pp,
			     struct cpgo_strvec *a);
/* Pushed after them: the note header (a precompiled header must stay the first -include). */
int cpgo_cc_push_back_flags(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_prepared *pp,
			    const char *profile_abs, struct cpgo_strvec *a);

#endif
