#ifndef CPGO_BUF_H
#define CPGO_BUF_H

/*
 * An owning, growable byte buffer (git's strbuf). Always NUL-terminated
 * after its `len` bytes so it can be used as a C string. Growth checks
 * for overflow before it allocates (Lua's luaM_testsize).
 */

#include <stddef.h>
#include <stdint.h>

struct cpgo_buf {
	char *buf;
	size_t len;
	size_t alloc;
};

#define CPGO_BUF_INIT { NULL, 0, 0 }

void cpgo_buf_init(struct cpgo_buf *b);
void cpgo_buf_release(struct cpgo_buf *b);
/* Ensures room for `extra` more bytes plus the NUL; returns -1 on overflow/OOM. */
int cpgo_buf_grow(struct cpgo_buf *b, size_t extra);
int cpgo_buf_add(struct cpgo_buf *b, const void *data, size_t len);
int cpgo_buf_adds(struct cpgo_buf *b, const char *s);
int cpgo_buf_addf(struct cpgo_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cpgo_buf_reset(struct cpgo_buf *b);
/* Hands the buffer to the caller (who frees it) and leaves `b` empty. */
char *cpgo_buf_detach(struct cpgo_buf *b, size_t *len);

/* Reads a whole file (or stdin for "-") with a size limit; error names the file. */
int cpgo_read_file(const char *path, struct cpgo_buf *out, size_t limit);

/* Writes all of `data` to `fd`, retrying short writes and EINTR; -1 with errno set. */
int cpgo_write_all(int fd, const void *data, size_t len);

/*
 * Durable write (Redis rdb.c): temp file in the target's directory, fsync,
 * rename. "-" writes to stdout; a device or FIFO (/dev/null) is written in
 * place, never replaced. Never leaves a half-written target.
 */
int cpgo_write_file_atomic(const char *path, const void *data, size_t len);

/* Overflow-checked size helpers. */
static inline int cpgo_mul_overflows(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out);
}

/*
 * Saturating sums for counts from untrusted profiles: a total that cannot
 * be represented stays at the end of the range instead of wrapping.
 */
static inline int64_t cpgo_sat_add_i64(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? (b < 0 ? INT64_MIN : INT64_MAX) : r;
}

static inline uint64_t cpgo_sat_add_u64(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/*
 * Grows an array `*ptr` of `*alloc` elements of `elsize` bytes to hold at
 * least `need` elements. Returns -1 (with error set) on overflow or OOM.
 */
int cpgo_array_grow(void **ptr, size_t *alloc, size_t need, size_t elsize);
/* Like cpgo_array_grow, but to exactly `need` elements (sizes known up front). */
int cpgo_array_reserve(void **ptr, size_t *alloc, size_t need, size_t elsize);
#define CPGO_GROW(ptr, alloc, need) \
	cpgo_array_grow((void **)&(ptr), &(alloc), (need), sizeof(*(ptr)))

#endif
