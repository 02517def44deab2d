#ifndef CPGO_H
#define CPGO_H

/*
 * libcpgo: an in-process sampling CPU profiler that writes PGO-ready pprof.
 *
 * Zero-code use: LD_PRELOAD=libcpgo.so (what `cpgo record` does), or link
 * with -lcpgo, and set
 *   CPGO_PROFILE=out.pprof   profile the whole run; written atomically when the
 *                            program exits normally (exit() or return from main);
 *                            "%p" expands to the pid. A program killed by a
 *                            signal or ending with _exit() writes no profile.
 *   CPGO_HZ=N                samples per CPU second of each thread (default 100,
 *                            max 100000). For PGO training use 10000-20000:
 *                            clang's sample PGO needs hundreds of thousands of
 *                            samples.
 *   CPGO_HTTP=[HOST]:PORT    serve /debug/pprof/profile?seconds=N (host defaults
 *                            to 127.0.0.1; port 0 picks a free one, written to
 *                            stderr and to CPGO_HTTP_PORT_FILE when set)
 *   CPGO_FORK=1              fork() children keep profiling into their own file
 *                            (the path with %p, else PATH.PID); by default a child
 *                            stops profiling and writes nothing
 *   CPGO_MODE=auto|ring|signal      how samples are taken (auto: ring where
 *                            perf events are allowed, else signal). ring: each
 *                            thread's perf task-clock event writes samples with
 *                            the user call chain (frame pointers, walked by the
 *                            kernel) into a ring buffer that libcpgo's drain
 *                            thread reads (or, without frame pointers, the user
 *                            registers and the top of the stack, unwound there
 *                            with the CFI tables): no signal per sample, and time in the
 *                            kernel is booked on a "[kernel]" leaf frame under the
 *                            calling site. signal: a signal per sample, unwound
 *                            in the handler; periods that end in the kernel are
 *                            not sampled. CPGO_TIMER=posix or CPGO_UNWIND=auto or
 *                            libunwind imply signal
 *   CPGO_TIMER=auto|perf|posix      per-thread timer (auto: perf_event task-clock,
 *                            timer_create when perf events are not allowed; the
 *                            latter fires at most at the kernel tick, ~250 Hz)
 *   CPGO_UNWIND=tables|fp|cfi|auto|libunwind   tables (default): frame pointers
 *                            if the executable keeps them, else cfi; fp: frame
 *                            pointers only; cfi: unwind tables built from each
 *                            object's .eh_frame outside the handler (at start and
 *                            when the loader adds objects); stacks the tables
 *                            cannot follow end in a "[truncated]" frame; auto: libunwind (DWARF) when
 *                            they give no caller; libunwind: always. libunwind takes
 *                            the loader's lock in the signal handler, which can
 *                            deadlock a program that dlopen()s while profiled
 *   CPGO_STACK_BYTES=N       ring mode with cfi: bytes of user stack copied with
 *                            each sample (default 8192, 512..65000); frames
 *                            deeper than that end the stack in "[truncated]"
 *   CPGO_SIGNAL=N            signal to use (default SIGPROF, or a free realtime
 *                            signal when the program handles SIGPROF itself)
 *   CPGO_DEBUG_DIR=DIR       where separate debug files are (default /usr/lib/debug)
 *
 * The environment is inherited across exec(): a new image that loads
 * libcpgo starts a new profile and, without %p in CPGO_PROFILE, overwrites
 * the same file when it exits.
 *
 * Every thread is sampled, also those created after the start (libcpgo
 * wraps pthread_create; a new thread has libcpgo's signal unblocked).
 * Threads that block the signal when profiling starts are not sampled; a
 * program that installs its own handler for the signal later stops the
 * samples (the profile's comments say so).
 *
 * Profiles have sample types samples/count and cpu/nanoseconds, period
 * type cpu/nanoseconds, and comments "cpgo.KEY=VALUE" (lib/pprof/meta.h)
 * with the requested and the achieved rate (samples per CPU second of the
 * sampled threads), the mode, timer and unwinder, and any lost samples.
 * Location addresses: the leaf is the sampled PC, callers are return
 * address - 1.
 *
 * All functions return 0 on success and -1 on failure; cpgo_strerror()
 * then says why. None of them is async-signal-safe.
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The highest sampling rate libcpgo accepts (CPGO_HZ, cpgo_start, cpgo record -F). */
#define CPGO_MAX_HZ 100000

#if defined(__GNUC__)
#define CPGO_API __attribute__((visibility("default")))
#else
#define CPGO_API
#endif

/*
 * Starts profiling every thread of the process at `hz` samples per CPU
 * second (0: CPGO_HZ or 100). Fails if a cpgo_start() profile is running;
 * the CPGO_PROFILE and HTTP profiles are independent of it.
 */
CPGO_API int cpgo_start(int hz);
/* Stops the cpgo_start() profile and writes it to `path` atomically (temp file + rename). */
CPGO_API int cpgo_stop_to_path(const char *path);
/* Stops the cpgo_start() profile and writes the gzipped pprof profile to `fd`. */
CPGO_API int cpgo_stop_to_fd(int fd);
/* Stops the cpgo_start() profile and discards what was collected. */
CPGO_API int cpgo_stop(void);
/*
 * The cpgo_start() profile collected so far (profiling continues) as
 * gzipped pprof in a malloc'd buffer the caller frees.
 */
CPGO_API int cpgo_snapshot(void **data, size_t *len);
/* The last error of this thread, as text. */
CPGO_API const char *cpgo_strerror(void);

#ifdef __cplusplus
}
#endif

#endif
