#include "util/path.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cpgo_path_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int cpgo_path_is_executable(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

int cpgo_path_lookup(const char *name, struct cpgo_buf *out)
{
	const char *path = getenv("PATH"), *p, *end;

	cpgo_buf_reset(out);
	if (!*name)
		return 0;
	if (strchr(name, '/')) {
		if (cpgo_buf_adds(out, name) < 0)
			return -1;
		return cpgo_path_is_executable(name);
	}
	if (!path)
		path = CPGO_PATH_DEFAULT;
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		cpgo_buf_reset(out);
		if (cpgo_buf_addf(out, "%.*s/%s", end == p ? 1 : (int)(end - p),
				  end == p ? "." : p, name) < 0)
			return -1;
		if (cpgo_path_is_executable(out->buf))
			return 1;
		if (!*end)
			break;
	}
	cpgo_buf_reset(out);
	return 0;
}

void cpgo_path_remove_tmpdir(const char *dir)
{
	struct cpgo_buf path = CPGO_BUF_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		cpgo_buf_reset(&path);
		if (cpgo_buf_addf(&path, "%s/%s", dir, e->d_name) == 0)
			unlink(path.buf);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	cpgo_buf_release(&path);
}
