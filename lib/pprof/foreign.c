/*
 * Other profilers' files, recognized so that a reader says what they are
 * and how to convert them, not "corrupt protobuf".
 */
#include <string.h>

#include "pprof/profile_int.h"
#include "util/error.h"

/* A first line of printable text with a perf time stamp (".123456:") in it. */
static int looks_like_perf_script(const unsigned char *in, size_t len)
{
	size_t n = len < 512 ? len : 512;
	for (size_t i = 0; i < n && in[i] != '\n'; i++) {
		if ((in[i] < 0x20 || in[i] > 0x7e) && in[i] != '\t')
			return 0;
		if (in[i] == '.' && i + 7 < n && in[i + 7] == ':') {
			size_t d = 1;
			while (d < 7 && in[i + d] >= '0' && in[i + d] <= '9')
				d++;
			if (d == 7)
				return 1;
		}
	}
	return 0;
}

int cpgo_pprof_foreign_format(const unsigned char *in, size_t len, const char *name)
{
	static const unsigned char legacy64[24] = { [8] = 3 }, legacy32[12] = { [4] = 3 };
	if (len >= 8 && !memcmp(in, "PERFILE2", 8))
		return error("%s: a Linux perf.data file, not a pprof profile: convert it with "
			     "'cpgo import %s'", name, name);
	if ((len >= 24 && !memcmp(in, legacy64, 24)) || (len >= 12 && !memcmp(in, legacy32, 12)))
		return error("%s: a gperftools (legacy) CPU profile, not a pprof profile: convert it "
			     "with 'cpgo import %s'", name, name);
	if (looks_like_perf_script(in, len))
		return error("%s: perf script text, not a pprof profile: convert it with "
			     "'cpgo import %s'", name, name);
	return 0;
}

