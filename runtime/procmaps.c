/*
 * /proc/self/maps: the handler's stack-end lookup and the profile's mappings.
 */
#include "procmaps.h"

#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"

#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes of a GNU build id we keep (SHA-1 ids are 20; longer ones are not real). */
#define PROCMAPS_MAX_BUILD_ID 64

uintptr_t procmaps_find_end(int fd, uintptr_t addr)
{
	char buf[1024];
	uintptr_t start = 0, end = 0;
	int state = 0; /* 0: start, 1: end, 2: rest of line */

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

			if (c == '\n') {
				state = 0;
				start = end = 0;
			} else if (state == 0) {
				if (v >= 0)
					start = start * 16 + (uintptr_t)v;
				else
					state = c == '-' ? 1 : 2;
			} else if (state == 1) {
				if (v >= 0) {
					end = end * 16 + (uintptr_t)v;
				} else {
					if (start <= addr && addr < end)
						return end;
					state = 2;
				}
			}
		}
	}
}

struct build_id_ctx {
	struct cpgo_profile *p;
	struct procmaps_entry *maps;
	size_t n;
};

/* Build ids come from the loaded objects' PT_NOTE segments: no file I/O. */
static int build_id_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct build_id_ctx *c = arg;
	char hex[2 * PROCMAPS_MAX_BUILD_ID + 1];
	int found = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum && !found; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t namesz = (nh->n_namesz + 3) & ~(size_t)3;
			size_t descsz = (nh->n_descsz + 3) & ~(size_t)3;
			const unsigned char *desc = p + sizeof(*nh) + namesz;

			if (desc + descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4) && nh->n_descsz <= PROCMAPS_MAX_BUILD_ID) {
				cpgo_hex(desc, nh->n_descsz, hex);
				found = 1;
				break;
			}
			p = desc + descsz;
		}
	}
	if (!found)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo, hi;

		if (ph->p_type != PT_LOAD)
			continue;
		lo = info->dlpi_addr + ph->p_vaddr;
		hi = lo + ph->p_memsz;
		for (size_t k = 0; k < c->n; k++) {
			struct cpgo_mapping *m = &c->p->mappings[c->maps[k].id - 1];
			if (c->maps[k].start >= lo && c->maps[k].start < hi && !m->build_id)
				m->build_id = cpgo_profile_intern(c->p, hex);
		}
	}
	return 0;
}

static int map_cmp(const void *a, const void *b)
{
	const struct procmaps_entry *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int procmaps_read(struct cpgo_profile *p, struct procmaps_entry **out, size_t *n_out)
{
	char exe[4096], *line = NULL;
	size_t cap = 0, n = 0, alloc = 0;
	struct procmaps_entry *maps = NULL;
	struct build_id_ctx ctx;
	ssize_t len, elen;
	FILE *f;
	int ret = -1;

	elen = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[elen > 0 ? elen : 0] = '\0';
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return error_errno("/proc/self/maps: cannot open");
	for (int pass = 0; pass < 2; pass++) {
		rewind(f);
		while ((len = getline(&line, &cap, f)) > 0) {
			unsigned long start, end, offset;
			char perms[8];
			int path_at = 0;
			struct cpgo_mapping m;
			const char *path;

			if (line[len - 1] == '\n')
				line[--len] = '\0';
			if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &offset,
				   &path_at) < 4 || !path_at)
				continue;
			path = line + path_at;
			if (!strchr(perms, 'x') || path[0] != '/')
				continue;
			if ((pass == 0) != !strcmp(path, exe))
				continue;
			memset(&m, 0, sizeof(m));
			m.memory_start = start;
			m.memory_limit = end;
			m.file_offset = offset;
			m.filename = cpgo_profile_intern(p, path);
			if (m.filename < 0 || CPGO_GROW(maps, alloc, n + 1) < 0)
				goto cleanup;
			maps[n].start = start;
			maps[n].limit = end;
			maps[n].offset = offset;
			maps[n].id = cpgo_profile_add_mapping(p, &m);
			if (!maps[n].id)
				goto cleanup;
			n++;
		}
	}
	ctx.p = p;
	ctx.maps = maps;
	ctx.n = n;
	dl_iterate_phdr(build_id_cb, &ctx);
	qsort(maps, n, sizeof(*maps), map_cmp);
	*out = maps;
	*n_out = n;
	maps = NULL;
	ret = 0;
cleanup:
	free(maps);
	free(line);
	fclose(f);
	return ret;
}

uint64_t procmaps_lookup(const struct procmaps_entry *maps, size_t n, uintptr_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < maps[mid].start)
			hi = mid;
		else if (addr >= maps[mid].limit)
			lo = mid + 1;
		else
			return maps[mid].id;
	}
	return 0;
}

int procmaps_files(struct procmaps_file **out, size_t *n_out)
{
	struct procmaps_file *v = NULL;
	size_t n = 0, alloc = 0, cap = 0;
	char *line = NULL;
	ssize_t len;
	FILE *f;
	int ret = -1;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return error_errno("/proc/self/maps: cannot open");
	while ((len = getline(&line, &cap, f)) > 0) {
		unsigned long start, end, offset;
		char perms[8];
		int path_at = 0;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &offset,
			   &path_at) < 4 || !path_at || !strchr(perms, 'x') || line[path_at] != '/')
			continue;
		if (CPGO_GROW(v, alloc, n + 1) < 0 || !(v[n].path = strdup(line + path_at)))
			goto cleanup;
		v[n].start = start;
		v[n].limit = end;
		v[n].offset = offset;
		n++;
	}
	*out = v;
	*n_out = n;
	v = NULL;
	n = 0;
	ret = 0;
cleanup:
	procmaps_files_free(v, n);
	free(line);
	fclose(f);
	return ret;
}

void procmaps_files_free(struct procmaps_file *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int procmaps_add_retired(struct cpgo_profile *p, struct procmaps_entry **maps, size_t *n,
			 const struct procmaps_file *f, uintptr_t at)
{
	struct cpgo_mapping m;
	size_t alloc = *n;

	memset(&m, 0, sizeof(m));
	m.memory_start = at;
	m.memory_limit = at + (f->limit - f->start);
	m.file_offset = f->offset;
	m.filename = cpgo_profile_intern(p, f->path);
	if (m.filename < 0 || CPGO_GROW(*maps, alloc, *n + 1) < 0)
		return -1;
	(*maps)[*n].start = m.memory_start;
	(*maps)[*n].limit = m.memory_limit;
	(*maps)[*n].offset = m.file_offset;
	(*maps)[*n].id = cpgo_profile_add_mapping(p, &m);
	if (!(*maps)[*n].id)
		return -1;
	(*n)++;
	qsort(*maps, *n, sizeof(**maps), map_cmp);
	return 0;
}
