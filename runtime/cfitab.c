/*
 * The loaded objects' unwind tables (see cfitab.h).
 */
#include "cfitab.h"

#include "util/buf.h"
#include "util/error.h"

#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

struct cfitab_obj {
	uintptr_t lo, hi; /* runtime span of the executable segments */
	uintptr_t bias;   /* runtime address - link-time address */
	char *path;       /* NULL: the vDSO, read from memory */
	const void *image; /* the vDSO's image */
	size_t image_size;
	_Atomic(struct cpgo_cfi_table *) table;
	_Atomic int tried; /* a build was attempted (a failed one is not retried) */
	struct cfitab_obj *retired_next;
};

struct cfitab_set {
	size_t n;
	struct cfitab_obj **obj; /* sorted by lo */
	struct cfitab_set *retired_next;
};

static struct {
	_Atomic(struct cfitab_set *) cur;
	struct cfitab_set *retired_sets;
	struct cfitab_obj *retired_objs;
	unsigned long long adds, subs;
	int synced;
	pthread_mutex_t build_lock;
} X = { .build_lock = PTHREAD_MUTEX_INITIALIZER };

static void obj_free(struct cfitab_obj *o)
{
	struct cpgo_cfi_table *t = atomic_load(&o->table);

	if (t) {
		cpgo_cfi_release(t);
		free(t);
	}
	free(o->path);
	free(o);
}

static void build(struct cfitab_obj *o)
{
	struct cpgo_cfi_table *t;
	Elf *elf;
	int rc;

	pthread_mutex_lock(&X.build_lock);
	if (atomic_load(&o->tried))
		goto out;
	t = malloc(sizeof(*t));
	if (!t)
		goto out;
	if (o->path) {
		rc = cpgo_cfi_build(t, o->path);
	} else {
		elf_version(EV_CURRENT);
		elf = elf_memory((char *)o->image, o->image_size);
		rc = elf ? cpgo_cfi_build_elf(t, elf, "[vdso]") : -1;
		if (elf)
			elf_end(elf);
	}
	if (rc < 0)
		free(t);
	else
		atomic_store_explicit(&o->table, t, memory_order_release);
out:
	atomic_store(&o->tried, 1);
	pthread_mutex_unlock(&X.build_lock);
}

struct scan {
	struct cfitab_obj **v;
	size_t n, alloc;
	const struct cfitab_set *old;
	int oom;
};

static struct cfitab_obj *find_old(const struct cfitab_set *s, const struct cfitab_obj *o)
{
	for (size_t i = 0; s && i < s->n; i++) {
		const struct cfitab_obj *p = s->obj[i];
		if (p->lo == o->lo && p->hi == o->hi && p->bias == o->bias &&
		    !p->path == !o->path && (!p->path || !strcmp(p->path, o->path)))
			return s->obj[i];
	}
	return NULL;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *sc = arg;
	struct cfitab_obj o, *keep;
	uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	size_t img = 0;
	char resolved[PATH_MAX];

	(void)size;
	memset(&o, 0, sizeof(o));
	o.lo = UINTPTR_MAX;
	o.bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset + ph->p_filesz > img)
			img = ph->p_offset + ph->p_filesz;
		if (!(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < o.lo)
			o.lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > o.hi)
			o.hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (o.lo >= o.hi)
		return 0;
	if (vdso && (uintptr_t)info->dlpi_phdr > vdso && (uintptr_t)info->dlpi_phdr < vdso + 4096) {
		o.image = (const void *)vdso;
		o.image_size = img;
	} else if (!info->dlpi_name || !info->dlpi_name[0]) {
		o.path = (char *)"/proc/self/exe";
	} else {
		/* dlopen("./lib.so") keeps the name as given: relative to the directory then. */
		o.path = info->dlpi_name[0] == '/' ? (char *)info->dlpi_name
						   : realpath(info->dlpi_name, resolved);
		if (!o.path)
			return 0;
	}
	keep = find_old(sc->old, &o);
	if (!keep) {
		keep = calloc(1, sizeof(*keep));
		if (!keep || (o.path && !(o.path = strdup(o.path)))) {
			free(keep);
			sc->oom = 1;
			return 1;
		}
		*keep = o;
	}
	if (CPGO_GROW(sc->v, sc->alloc, sc->n + 1) < 0) {
		if (!find_old(sc->old, keep))
			obj_free(keep);
		sc->oom = 1;
		return 1;
	}
	sc->v[sc->n++] = keep;
	return 0;
}

static int counters_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *c = arg;

	if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
		c[0] = c[1] = ~0ull; /* no counters: always rescan */
		return 1;
	}
	c[0] = info->dlpi_adds;
	c[1] = info->dlpi_subs;
	return 1;
}

static int obj_cmp(const void *a, const void *b)
{
	const struct cfitab_obj *x = *(const struct cfitab_obj *const *)a;
	const struct cfitab_obj *y = *(const struct cfitab_obj *const *)b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

int cfitab_sync(int build_all)
{
	unsigned long long c[2] = { 0, 0 };
	struct cfitab_set *old = atomic_load(&X.cur), *s;
	struct scan sc;

	dl_iterate_phdr(counters_cb, c);
	if (!X.synced || c[0] != X.adds || c[1] != X.subs || c[0] == ~0ull) {
		memset(&sc, 0, sizeof(sc));
		sc.old = old;
		dl_iterate_phdr(scan_cb, &sc);
		s = sc.oom ? NULL : calloc(1, sizeof(*s));
		if (!s) {
			for (size_t i = 0; i < sc.n; i++)
				if (!find_old(old, sc.v[i]))
					obj_free(sc.v[i]);
			free(sc.v);
			return error("out of memory listing the loaded objects");
		}
		qsort(sc.v, sc.n, sizeof(*sc.v), obj_cmp);
		s->n = sc.n;
		s->obj = sc.v;
		atomic_store_explicit(&X.cur, s, memory_order_release);
		/* Readers may still hold the old set and the objects it alone had. */
		for (size_t i = 0; old && i < old->n; i++) {
			if (!find_old(s, old->obj[i])) {
				old->obj[i]->retired_next = X.retired_objs;
				X.retired_objs = old->obj[i];
			}
		}
		if (old) {
			old->retired_next = X.retired_sets;
			X.retired_sets = old;
		}
		X.adds = c[0];
		X.subs = c[1];
		X.synced = 1;
		old = s;
	}
	for (size_t i = 0; build_all && old && i < old->n; i++)
		if (!atomic_load(&old->obj[i]->tried))
			build(old->obj[i]);
	return 0;
}

int cfitab_exe_fp_permille(void)
{
	struct cfitab_set *s = atomic_load(&X.cur);
	struct cpgo_cfi_table *t;

	for (size_t i = 0; s && i < s->n; i++) {
		struct cfitab_obj *o = s->obj[i];
		if (!o->path || strcmp(o->path, "/proc/self/exe"))
			continue;
		if (!atomic_load(&o->tried))
			build(o);
		t = atomic_load(&o->table);
		return t && t->code_bytes ? (int)(t->fp_bytes * 1000 / t->code_bytes) : -1;
	}
	return -1;
}

const struct cpgo_cfi_row *cfitab_find(uintptr_t pc, int build_missing)
{
	struct cfitab_set *s = atomic_load_explicit(&X.cur, memory_order_acquire);
	size_t lo = 0, hi;

	if (!s)
		return NULL;
	hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct cfitab_obj *o = s->obj[mid];
		struct cpgo_cfi_table *t;

		if (pc < o->lo) {
			hi = mid;
		} else if (pc >= o->hi) {
			lo = mid + 1;
		} else {
			t = atomic_load_explicit(&o->table, memory_order_acquire);
			if (!t && build_missing && !atomic_load(&o->tried)) {
				build(o);
				t = atomic_load_explicit(&o->table, memory_order_acquire);
			}
			return t ? cpgo_cfi_find(t, (uint64_t)(pc - o->bias)) : NULL;
		}
	}
	return NULL;
}

void cfitab_free_retired(void)
{
	while (X.retired_objs) {
		struct cfitab_obj *o = X.retired_objs;
		X.retired_objs = o->retired_next;
		obj_free(o);
	}
	while (X.retired_sets) {
		struct cfitab_set *s = X.retired_sets;
		X.retired_sets = s->retired_next;
		free(s->obj);
		free(s);
	}
}

void cfitab_atfork_child(void)
{
	pthread_mutex_init(&X.build_lock, NULL);
}
