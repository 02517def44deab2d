#include "util/buf.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char empty_buf[1];

void cpgo_buf_init(struct cpgo_buf *b)
{
	b->buf = empty_buf;
	b->len = 0;
	b->alloc = 0;
}

void cpgo_buf_release(struct cpgo_buf *b)
{
	if (b->alloc)
		free(b->buf);
	cpgo_buf_init(b);
}

void cpgo_buf_reset(struct cpgo_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

int cpgo_buf_grow(struct cpgo_buf *b, size_t extra)
{
	size_t need, nalloc;
	char *nb;

	if (!b->buf)
		cpgo_buf_init(b);
	if (__builtin_add_overflow(b->len, extra, &need) ||
	    __builtin_add_overflow(need, 1, &need))
		return error("buffer size overflow");
	if (need <= b->alloc)
		return 0;
	/* Double for amortized appends, but a large reservation is taken exactly. */
	nalloc = b->alloc ? b->alloc : 64;
	nalloc = nalloc > SIZE_MAX / 2 ? need : nalloc * 2;
	if (nalloc < need)
		nalloc = need;
	nb = realloc(b->alloc ? b->buf : NULL, nalloc);
	if (!nb)
		return error("out of memory growing a buffer to %zu bytes", nalloc);
	if (!b->alloc)
		nb[0] = '\0';
	b->buf = nb;
	b->alloc = nalloc;
	return 0;
}

int cpgo_buf_add(struct cpgo_buf *b, const void *data, size_t len)
{
	if (cpgo_buf_grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return 0;
}

int cpgo_buf_adds(struct cpgo_buf *b, const char *s)
{
	return cpgo_buf_add(b, s, strlen(s));
}

int cpgo_buf_addf(struct cpgo_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return error("bad format string");
	if (cpgo_buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *cpgo_buf_detach(struct cpgo_buf *b, size_t *len)
{
	char *r;
	if (len)
		*len = b->len;
	if (!b->alloc) {
		r = calloc(1, 1);
	} else {
		r = b->buf;
	}
	cpgo_buf_init(b);
	return r;
}

int cpgo_read_file(const char *path, struct cpgo_buf *out, size_t limit)
{
	int fd, ret = -1;
	struct stat st;

	if (!strcmp(path, "-"))
		fd = 0;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return error_errno("%s: cannot open", path);
	if (fstat(fd, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (S_ISDIR(st.st_mode)) {
		error("%s: is a directory", path);
		goto cleanup;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > limit) {
			error("%s: file is %lld bytes, over the limit of %zu",
			      path, (long long)st.st_size, limit);
			goto cleanup;
		}
		if (cpgo_buf_grow(out, (size_t)st.st_size) < 0)
			goto cleanup;
	}
	for (;;) {
		ssize_t n;
		/* A regular file was sized exactly above: stop at its size. */
		if (S_ISREG(st.st_mode) && st.st_size > 0 && out->len == (size_t)st.st_size)
			break;
		if (out->alloc - out->len <= 1 && cpgo_buf_grow(out, 65536) < 0)
			goto cleanup;
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			error_errno("%s: read failed", path);
			goto cleanup;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > limit) {
			error("%s: input is over the limit of %zu bytes", path, limit);
			goto cleanup;
		}
	}
	out->buf[out->len] = '\0';
	ret = 0;
cleanup:
	if (fd > 0)
		close(fd);
	return ret;
}

int cpgo_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Best effort: a file system that cannot fsync a directory has nothing to flush. */
static void fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : NULL;
	int fd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int cpgo_write_file_atomic(const char *path, const void *data, size_t len)
{
	struct cpgo_buf tmp = CPGO_BUF_INIT;
	struct stat st;
	int fd = -1, ret = -1;

	if (!strcmp(path, "-")) {
		if (cpgo_write_all(1, data, len) < 0)
			return error_errno("cannot write to standard output");
		return 0;
	}
	/*
	 * A device or FIFO (/dev/null, /dev/stdout, a pipe) is written in
	 * place: renaming over it would replace it with a regular file, which
	 * for /dev/null run as root breaks the whole machine.
	 */
	if (!stat(path, &st) && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return error_errno("%s: cannot open for writing", path);
		if (cpgo_write_all(fd, data, len) < 0) {
			error_errno("%s: write failed", path);
			close(fd);
			return -1;
		}
		if (close(fd) < 0)
			return error_errno("%s: close failed", path);
		return 0;
	}
	if (cpgo_buf_addf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		goto cleanup;
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		error_errno("%s: cannot create temporary file", path);
		goto cleanup;
	}
	if (cpgo_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		error_errno("%s: write failed", path);
		goto cleanup;
	}
	/* mkstemp makes 0600; profiles are ordinary build inputs. */
	if (fchmod(fd, 0644) < 0) {
		error_errno("%s: chmod failed", path);
		goto cleanup;
	}
	if (close(fd) < 0) {
		fd = -1;
		error_errno("%s: close failed", path);
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp.buf, path) < 0) {
		error_errno("%s: cannot rename temporary file into place", path);
		goto cleanup;
	}
	tmp.len = 0; /* renamed: nothing to unlink */
	/* The rename itself survives a power cut only once its directory is on disk. */
	fsync_parent(path);
	ret = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (ret < 0 && tmp.len)
		unlink(tmp.buf);
	cpgo_buf_release(&tmp);
	return ret;
}

int cpgo_array_reserve(void **ptr, size_t *alloc, size_t need, size_t elsize)
{
	size_t bytes;
	void *np;

	if (need <= *alloc)
		return 0;
	if (cpgo_mul_overflows(need, elsize, &bytes))
		return error("array size overflow");
	np = realloc(*ptr, bytes);
	if (!np)
		return error("out of memory growing an array to %zu bytes", bytes);
	*ptr = np;
	*alloc = need;
	return 0;
}

int cpgo_array_grow(void **ptr, size_t *alloc, size_t need, size_t elsize)
{
	size_t nalloc;

	if (need <= *alloc)
		return 0;
	nalloc = *alloc ? *alloc : 16;
	while (nalloc < need) {
		if (nalloc > SIZE_MAX / 2)
			return error("array size overflow");
		nalloc *= 2;
	}
	return cpgo_array_reserve(ptr, alloc, nalloc, elsize);
}
