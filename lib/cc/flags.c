/*
 * The flags cpgo adds to a compile. See flags.h.
 */
#include "cc/flags.h"

#include <string.h>

int cpgo_cc_split_supported(const struct cpgo_cc_cmd *cmd)
{
#if defined(__x86_64__) && defined(__ELF__)
	for (size_t i = 0; i < cmd->args.n; i++)
		if (!strcmp(cmd->args.v[i], "-target") || !strncmp(cmd->args.v[i], "--target=", 9) ||
		    !strncmp(cmd->args.v[i], "-m32", 4) || !strcmp(cmd->args.v[i], "-mx32"))
			return 0;
	return 1;
#else
	(void)cmd;
	return 0;
#endif
}

int cpgo_cc_push_front_flags(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_prepared *pp,
			     struct cpgo_strvec *a)
{
	int clang = cmd->family == CPGO_CC_CLANG;

	/* An unknown compiler may not take any of these; leave it alone. */
	if (cmd->family == CPGO_CC_UNKNOWN)
		return 0;
	/* Line tables let profiles name lines. */
	if (!cmd->has_debug_level && cpgo_strvec_push(a, clang ? "-gline-tables-only" : "-g1") < 0)
		return -1;
	/* Asked for (-pgo-frame-pointers=on): with frame pointers a sample costs libcpgo less. */
	if (cmd->frame_pointers && !cmd->has_frame_pointer &&
	    cpgo_strvec_push(a, "-fno-omit-frame-pointer") < 0)
		return -1;
	if (!clang) {
		/*
		 * gcc's line tables carry discriminators already; auto-profile
		 * reads the profile, keyed by line offsets from DECL_SOURCE_LINE.
		 */
		if (!pp || pp->empty)
			return 0;
		return cpgo_strvec_pushf(a, "-fauto-profile=%s", pp->cached.buf);
	}
	/*
	 * Every clang build, profiled or not: the binary that will be profiled
	 * then carries discriminators, which the converter reads from it.
	 */
	if (cpgo_strvec_push(a, "-fdebug-info-for-profiling") < 0)
		return -1;
	if (!pp)
		return 0;
	/* The linker orders sections: each function needs its own (link.h). */
	if (cmd->layout != CPGO_CC_LAYOUT_OFF && cpgo_strvec_push(a, "-ffunction-sections") < 0)
		return -1;
	/* A file the profile has no samples for is built as if cold, which it is. */
	if (pp->empty)
		return 0;
	if (cpgo_strvec_pushf(a, "-fprofile-sample-use=%s", pp->cached.buf) < 0 ||
	    cpgo_strvec_push(a, "-fsample-profile-use-profi") < 0)
		return -1;
	/*
	 * Blocks the profile says never ran move to .text.split. (a .cold
	 * symbol); clang implements it for x86-64 ELF, and a -target may not be.
	 */
	if (cmd->split && cpgo_cc_split_supported(cmd) &&
	    cpgo_strvec_push(a, "-fsplit-machine-functions") < 0)
		return -1;
	return 0;
}

int cpgo_cc_push_back_flags(const struct cpgo_cc_cmd *cmd, const struct cpgo_cc_prepared *pp,
			    const char *profile_abs, struct cpgo_strvec *a)
{
	if (!pp || cmd->family == CPGO_CC_UNKNOWN)
		return 0;
	/* A system directory keeps the note header out of -MMD depfiles and warnings. */
	if (cpgo_strvec_push(a, "-isystem") < 0 || cpgo_strvec_push(a, pp->note_dir.buf) < 0 ||
	    cpgo_strvec_push(a, "-include") < 0 || cpgo_strvec_push(a, pp->note_hdr.buf) < 0)
		return -1;
	/*
	 * -MD (unlike -MMD) lists system headers, so the note header in the
	 * cache lands in the depfile: without -MP, make would stop with "No rule
	 * to make target" once the cache is cleaned. -MP makes a vanished
	 * header harmless, as it makes a vanished profile.
	 */
	if (cmd->has_md && !cmd->has_mp && cpgo_strvec_push(a, "-MP") < 0)
		return -1;
	/*
	 * With -MP a vanished entry is harmless, so make rebuilds when the
	 * profile changes (gcc has no such flag: builtin/cc.c appends the entry
	 * to gcc's depfile after the compile).
	 */
	if (cmd->family == CPGO_CC_CLANG && (cmd->has_mp || cmd->has_md) && profile_abs &&
	    (cpgo_strvec_push(a, "-Xclang") < 0 ||
	     cpgo_strvec_pushf(a, "-fdepfile-entry=%s", profile_abs) < 0))
		return -1;
	return 0;
}
