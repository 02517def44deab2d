/*
 * libFuzzer target for the gcc back end, both directions:
 *  - control byte odd: the input is an AutoFDO file for gccprof_read, the
 *    checking reader behind `convert --show-gcc` and cpgo cc's cache check
 *    (hostile bytes: it must refuse or render, never read out of bounds);
 *  - even: the input is a pprof profile, converted to gcc's format, and the
 *    writer's output must read back cleanly with the same function count
 *    in the text rendering (a file cpgo writes that its own reader, i.e.
 *    gcc's layout, refuses is a defect).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcc/gccprof.h"
#include "pprof/profile.h"
#include "util/error.h"

#define die(what) (fprintf(stderr, "fuzz_gcc: %s\n", what), abort())

static const enum sprof_line_counts line_counts[] = { SPROF_LINES_DEFAULT, SPROF_LINES_MAX,
						     SPROF_LINES_SUM };
static const enum sprof_discriminators discs[] = { SPROF_DISC_NONE, SPROF_DISC_PLAIN,
						   SPROF_DISC_LLVM, SPROF_DISC_NONE };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cpgo_read_opts ro = { 1 << 20, 8 << 20 };
	struct cpgo_buf out = CPGO_BUF_INIT, text = CPGO_BUF_INIT;
	struct gccprof_opts go;
	struct cpgo_profile p;
	uint8_t ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	if (ctl & 1) {
		/* Any outcome but a crash or a sanitizer report is fine (a valid file may be empty). */
		gccprof_read(data + 1, size - 1, "fuzz", &text);
		cpgo_buf_release(&text);
		return 0;
	}
	if (cpgo_profile_parse(&p, data + 1, size - 1, "fuzz", &ro) < 0)
		return 0;
	memset(&go, 0, sizeof(go));
	go.sp.line_counts = line_counts[(ctl >> 1) % 3];
	go.sp.discriminators = discs[(ctl >> 3) & 3];
	go.sp.source_file = (ctl & 0x20) ? "a.c" : NULL;
	go.sp.sample_type = (ctl & 0x40) ? "samples" : NULL;
	if (gccprof_convert(&p, "fuzz", &go, &out) == 0) {
		if (gccprof_read(out.buf, out.len, "fuzz-out", &text) < 0) {
			fprintf(stderr, "fuzz_gcc: %s\n", cpgo_last_error());
			die("the gcc writer's output does not read back");
		}
	}
	cpgo_buf_release(&out);
	cpgo_buf_release(&text);
	cpgo_profile_release(&p);
	return 0;
}
