#ifndef CPGO_H
#define CPGO_H

/*
 * libcpgo: an in-process sampling CPU profiler that writes PGO-ready pprof.
 *
 * Zero-code use: link with -lcpgo (or LD_PRELOAD=libcpgo.so) and set
 *   CPGO_PROFILE=out.pprof   profile the whole run, write at exit (%p = pid)
 *   CPGO_HZ=N                sampling rate (default 100)
 *   CPGO_HTTP=127.0.0.1:6060 serve /debug/pprof/profile?seconds=N
 *
 * All functions return 0 on success and -1 on failure; cpgo_strerror()
 * then says why. None of them is async-signal-safe.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CPGO_API __attribute__((visibility("default")))
#else
#define CPGO_API
#endif

/* Starts profiling every thread of the process at `hz` samples per CPU second (0: default). */
CPGO_API int cpgo_start(int hz);
/* Stops profiling and writes the profile to `path` atomically (temp file + rename). */
CPGO_API int cpgo_stop_to_path(const char *path);
/* Stops profiling and writes the gzipped pprof profile to `fd`. */
CPGO_API int cpgo_stop_to_fd(int fd);
/* Stops profiling and discards what was collected. */
CPGO_API int cpgo_stop(void);
/* Convenience: cpgo_start(hz) now; the profile goes to `path` at cpgo_stop_to_path(path). */
/*
 * Writes the profile collected so far (profiling continues) as gzipped
 * pprof into a malloc'd buffer the caller frees.
 */
CPGO_API int cpgo_snapshot(void **data, size_t *len);
/* The last error of this thread, as text. */
CPGO_API const char *cpgo_strerror(void);

#ifdef __cplusplus
}
#endif

#endif
