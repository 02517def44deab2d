#ifndef CPGO_PERF_IMPORT_H
#define CPGO_PERF_IMPORT_H

/*
 * Linux perf samples into a PGO-ready pprof profile (prefix cpgo_perf_).
 * The input is `perf script` text: samples with or without call graphs,
 * best with --show-mmap-events so addresses map to the binaries exactly.
 * Frames are symbolized again with the project's libdw symbolizer, so
 * locations get inlined frames and start lines (perf's own symbols lack
 * both); perf's symbol name is kept only for code with no file to read
 * (the kernel, [vdso], deleted binaries).
 *
 * Sample types are Go's: samples/count and cpu/nanoseconds for the clock
 * events (cpu-clock, task-clock), samples/count and EVENT/count for
 * hardware events. One event is imported: the first one seen, unless
 * opts->event names another.
 */

#include <stddef.h>
#include <stdint.h>

#include "pprof/profile.h"

/* perf.data files start with this magic (file and pipe mode alike). */
#define CPGO_PERF_DATA_MAGIC "PERFILE2"

struct cpgo_perf_opts {
	const char *event;     /* import this event only (NULL: the first one) */
	const char *debug_dir; /* for the symbolizer; NULL = /usr/lib/debug */
};

struct cpgo_perf_stats {
	size_t n_samples;        /* perf samples imported */
	size_t n_other_event;    /* samples of other events, skipped */
	size_t n_frames;         /* frames imported */
	size_t n_frames_guessed; /* user frames with no mmap event: address taken as a file offset */
	size_t n_mmaps;          /* executable mmap events seen */
	const char *event;       /* the event imported (a string of the profile) */
};

/* True when `data` starts like a perf.data file. */
int cpgo_perf_is_data(const void *data, size_t len);

/*
 * Parses `perf script` output into `p` (initialized here; released on
 * failure) and symbolizes it. `name` names the input in errors (with the
 * line number).
 */
int cpgo_perf_import_script(struct cpgo_profile *p, const char *text, size_t len,
			    const char *name, const struct cpgo_perf_opts *opts,
			    struct cpgo_perf_stats *st);

#endif
