/*
 * `perf script` text into pprof (elf/perf_import.h).
 *
 * Addresses: perf prints a sample's own ip as the runtime address, but
 * perf 6.1-6.5 print call-graph entries of user code relative to their
 * binary (ip - map start + map offset, a file offset for a shared object
 * or PIE; the runtime address again for a non-PIE executable), and later
 * versions the runtime address. Each frame is therefore looked up first as
 * a runtime address in the mmaps of its binary, then as a file offset in
 * them, and with no mmap event at all taken as a file offset.
 */
#include "elf/perf_import.h"
#include "elf/symbolize.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A call graph deeper than this is cut (perf's own default limit is 127). */
#define PERF_MAX_FRAMES 1024
/* Addresses from here up are the kernel's on every 64-bit Linux port perf runs on. */
#define PERF_KERNEL_START 0xffff800000000000ull

/* One executable mmap event. */
struct pmap {
	long pid;
	uint64_t start, len, pgoff;
	int64_t file;     /* string index */
	uint64_t map_id;  /* pprof mapping, 0 until a frame uses it */
};

/* One pprof location, by (mapping, address) or, without a mapping, by function name. */
struct ploc {
	uint64_t map_id, addr; /* addr: the function's name index when map_id is 0 */
	uint64_t loc_id;
};

struct imp {
	struct cpgo_profile *p;
	const char *name;
	size_t lineno;
	struct pmap *maps;
	size_t n_map, alloc_map;
	struct ploc *locs;
	size_t n_loc, alloc_loc;
	struct cpgo_hashmap loc_map, sample_map;
	uint64_t *frames;   /* the sample being read: location ids, leaf first */
	size_t n_frame, alloc_frame;
	int in_sample, keep, have_types, clock, last_kernel;
	long pid;
	int64_t period;
	int64_t event;      /* string index of the event imported, 0 until the first sample */
	uint64_t t_first, t_last; /* sample times in ns */
	struct cpgo_perf_stats *st;
	const struct cpgo_perf_opts *opts;
};

int cpgo_perf_is_data(const void *data, size_t len)
{
	return len >= 8 && !memcmp(data, CPGO_PERF_DATA_MAGIC, 8);
}

static int bad(struct imp *m, const char *what)
{
	return error("%s:%zu: %s", m->name, m->lineno, what);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "PERF_RECORD_MMAP2 PID/TID: [0xSTART(0xLEN) @ 0xPGOFF ...]: PROT FILE" (MMAP alike). */
static int parse_mmap(struct imp *m, const char *rec)
{
	const char *s = rec, *q;
	char *end;
	struct pmap pm = { 0 };

	s += strcspn(s, " ");
	s = skip_ws(s);
	pm.pid = strtol(s, &end, 10);
	if (end == s)
		return bad(m, "mmap event without a pid");
	s = strchr(end, '[');
	if (!s)
		return bad(m, "mmap event without [start(len) @ offset]");
	pm.start = strtoull(s + 1, &end, 16);
	if (*end != '(')
		return bad(m, "mmap event without (len)");
	pm.len = strtoull(end + 1, &end, 16);
	q = strstr(end, "@ ");
	if (!q)
		return bad(m, "mmap event without '@ offset'");
	pm.pgoff = strtoull(q + 2, &end, 16);
	q = strstr(end, "]: ");
	if (!q)
		return bad(m, "mmap event without ']: prot file'");
	q += 3;
	s = q + strcspn(q, " ");
	/* MMAP2 says "r-xp", MMAP just "x" for executable maps. */
	if (!memchr(q, 'x', (size_t)(s - q)))
		return 0;
	s = skip_ws(s);
	if (!*s || *s == '[' || pm.pid < 0)
		return 0; /* the kernel, [vdso]: nothing to symbolize from a file */
	if (pm.start >= PERF_KERNEL_START || pm.start + pm.len < pm.start)
		return 0;
	q = s + strlen(s);
	while (q > s && isspace((unsigned char)q[-1]))
		q--;
	if ((pm.file = cpgo_profile_intern_len(m->p, s, (size_t)(q - s))) < 0)
		return -1;
	if (CPGO_GROW(m->maps, m->alloc_map, m->n_map + 1) < 0)
		return -1;
	m->maps[m->n_map++] = pm;
	m->st->n_mmaps++;
	return 0;
}

static uint64_t map_id(struct imp *m, struct pmap *pm)
{
	struct cpgo_mapping mp = { 0 };
	if (pm->map_id)
		return pm->map_id;
	mp.memory_start = pm->start;
	mp.memory_limit = pm->start + pm->len;
	mp.file_offset = pm->pgoff;
	mp.filename = pm->file;
	pm->map_id = cpgo_profile_add_mapping(m->p, &mp);
	return pm->map_id;
}

/*
 * The mmap of `file` that holds `addr` for `pid` (else for any process: a
 * child forked after the event shares its parent's maps). as_offset: match
 * addr against file offsets instead of runtime addresses.
 */
static struct pmap *find_map(struct imp *m, int64_t file, uint64_t addr, int as_offset)
{
	struct pmap *any = NULL;
	const char *f = cpgo_profile_str(m->p, file);
	for (size_t i = m->n_map; i-- > 0;) {
		struct pmap *pm = &m->maps[i];
		uint64_t lo = as_offset ? pm->pgoff : pm->start;
		if (pm->pid == -1)
			continue; /* offset_map's: not an mmap perf saw */
		if (addr < lo || addr - lo >= pm->len || strcmp(cpgo_profile_str(m->p, pm->file), f))
			continue;
		if (pm->pid == m->pid)
			return pm;
		if (!any)
			any = pm;
	}
	return any;
}

struct loc_key {
	uint64_t map_id, addr;
};

static int loc_eq(const void *ctx, size_t pos, const void *k)
{
	const struct ploc *l = (const struct ploc *)ctx + pos;
	const struct loc_key *key = k;
	return l->map_id == key->map_id && l->addr == key->addr;
}

/* Location for (map, addr); with map 0, `fn_name` makes a function of its own. */
static uint64_t get_loc(struct imp *m, uint64_t map, uint64_t addr, const char *fn_name)
{
	struct loc_key k = { map, addr };
	uint32_t h = (uint32_t)cpgo_hash_fin(cpgo_hash_mix(cpgo_hash_mix(CPGO_HASH_SEED, map), addr));
	size_t slot, pos;
	uint64_t id;

	if (cpgo_hashmap_reserve(&m->loc_map) < 0)
		return 0;
	slot = cpgo_hashmap_find(&m->loc_map, h, loc_eq, m->locs, &k);
	if (cpgo_hashmap_pos(&m->loc_map, slot, &pos))
		return m->locs[pos].loc_id;
	if (map) {
		id = cpgo_profile_add_location(m->p, map, addr, NULL, 0);
	} else {
		struct cpgo_line ln = { 0 };
		ln.function_id = cpgo_profile_add_function(m->p, fn_name, fn_name, "", 0);
		id = ln.function_id ? cpgo_profile_add_location(m->p, 0, 0, &ln, 1) : 0;
	}
	if (!id || CPGO_GROW(m->locs, m->alloc_loc, m->n_loc + 1) < 0)
		return 0;
	m->locs[m->n_loc] = (struct ploc){ map, addr, id };
	if (cpgo_hashmap_set(&m->loc_map, slot, h, m->n_loc++) < 0)
		return 0;
	return id;
}

/* A pseudo mapping for a binary perf saw no mmap of: addresses are file offsets. */
static struct pmap *offset_map(struct imp *m, int64_t file)
{
	for (size_t i = 0; i < m->n_map; i++)
		if (m->maps[i].pid == -1 && m->maps[i].file == file)
			return &m->maps[i];
	if (CPGO_GROW(m->maps, m->alloc_map, m->n_map + 1) < 0)
		return NULL;
	m->maps[m->n_map] = (struct pmap){ -1, 0, UINT64_MAX, 0, file, 0 };
	return &m->maps[m->n_map++];
}

/* "  ADDR SYM+0xOFF (DSO)" or, on a sample's own line, "ADDR SYM (DSO)". */
static int parse_frame(struct imp *m, const char *s)
{
	const char *dso, *dso_end, *sym, *sym_end;
	char *end;
	uint64_t addr, loc = 0;
	int64_t file;
	int leaf = m->n_frame == 0;
	struct pmap *pm;
	char name[256];

	s = skip_ws(s);
	addr = strtoull(s, &end, 16);
	if (end == s)
		return bad(m, "a frame line that does not start with a hex address (run perf "
			      "script with -F ip,sym,dso)");
	sym = skip_ws(end);
	dso_end = sym + strlen(sym);
	while (dso_end > sym && isspace((unsigned char)dso_end[-1]))
		dso_end--;
	if (dso_end == sym || dso_end[-1] != ')')
		return bad(m, "a frame without '(dso)' at its end (run perf script with -F ip,sym,dso)");
	dso = dso_end - 1;
	while (dso > sym && *dso != '(')
		dso--;
	if (*dso != '(')
		return bad(m, "a frame without '(dso)' at its end");
	sym_end = dso;
	while (sym_end > sym && isspace((unsigned char)sym_end[-1]))
		sym_end--;
	/* perf's own inline expansion: we symbolize inlined frames ourselves. */
	if (sym_end - sym >= 9 && !memcmp(sym_end - 9, "(inlined)", 9))
		return 0;
	if (m->n_frame >= PERF_MAX_FRAMES)
		return 0;
	m->st->n_frames++;
	dso++;
	dso_end--;
	if (!m->keep)
		return 0;
	if (addr >= PERF_KERNEL_START || *dso == '[' || dso == dso_end) {
		/* The kernel and [vdso]: one frame named by perf; kernel chains fold to one. */
		int kernel = addr >= PERF_KERNEL_START || !strncmp(dso, "[kernel", 7);
		if (kernel && m->last_kernel)
			return 0;
		m->last_kernel = kernel;
		snprintf(name, sizeof(name), "%.*s", kernel ? (int)(dso_end - dso) : (int)(sym_end - sym),
			 kernel ? dso : sym);
		if (!kernel && (!strcmp(name, "[unknown]") || !*name))
			snprintf(name, sizeof(name), "%.*s", (int)(dso_end - dso), dso);
		loc = get_loc(m, 0, kernel ? 1 : (uint64_t)cpgo_profile_intern(m->p, name) + 2, name);
	} else {
		if ((file = cpgo_profile_intern_len(m->p, dso, (size_t)(dso_end - dso))) < 0)
			return -1;
		m->last_kernel = 0;
		if ((pm = find_map(m, file, addr, 0))) {
			/* a runtime address */
		} else if ((pm = find_map(m, file, addr, 1))) {
			addr = pm->start + (addr - pm->pgoff);
		} else {
			if (!(pm = offset_map(m, file)))
				return -1;
			m->st->n_frames_guessed++;
		}
		/* Callers hold return addresses: the call is the byte before. */
		if (!leaf && addr)
			addr--;
		if (access(cpgo_profile_str(m->p, file), R_OK) != 0) {
			/* No file to symbolize from (deleted, another machine): perf's name. */
			const char *e = sym_end;
			for (const char *p = sym; p + 3 < sym_end; p++)
				if (!memcmp(p, "+0x", 3))
					e = p;
			snprintf(name, sizeof(name), "%.*s", (int)(e - sym), sym);
			loc = get_loc(m, 0, (uint64_t)cpgo_profile_intern(m->p, name) + 2, name);
		} else {
			uint64_t id = map_id(m, pm);
			loc = id ? get_loc(m, id, addr, NULL) : 0;
		}
	}
	if (!loc)
		return -1;
	if (CPGO_GROW(m->frames, m->alloc_frame, m->n_frame + 1) < 0)
		return -1;
	m->frames[m->n_frame++] = loc;
	return 0;
}

static int sample_eq(const void *ctx, size_t pos, const void *k)
{
	const struct imp *m = ctx;
	const struct cpgo_sample *s = &m->p->samples[pos];
	return s->n_loc == m->n_frame &&
	       !memcmp(&m->p->sample_locs[s->loc_off], m->frames, m->n_frame * sizeof(*m->frames));
}

/* Adds the sample read so far, summed into an earlier one with the same stack. */
static int finish_sample(struct imp *m)
{
	int64_t v[2];
	uint32_t h;
	size_t slot, pos;

	if (!m->in_sample || !m->keep) {
		m->in_sample = 0;
		return 0;
	}
	m->in_sample = 0;
	m->st->n_samples++;
	if (!m->n_frame)
		return 0; /* a sample with no frames at all: nothing to attribute it to */
	v[0] = 1;
	v[1] = m->period;
	h = (uint32_t)cpgo_hash_fin(
		cpgo_hash_bytes(CPGO_HASH_SEED, m->frames, m->n_frame * sizeof(*m->frames)));
	if (cpgo_hashmap_reserve(&m->sample_map) < 0)
		return -1;
	slot = cpgo_hashmap_find(&m->sample_map, h, sample_eq, m, NULL);
	if (cpgo_hashmap_pos(&m->sample_map, slot, &pos)) {
		int64_t *pv = m->p->values + pos * m->p->n_sample_type;
		if (__builtin_add_overflow(pv[0], v[0], &pv[0]) ||
		    __builtin_add_overflow(pv[1], v[1], &pv[1]))
			return bad(m, "sample values overflow");
		return 0;
	}
	if (cpgo_profile_add_sample(m->p, m->frames, m->n_frame, v, NULL, 0) < 0)
		return -1;
	return cpgo_hashmap_set(&m->sample_map, slot, h, m->p->n_sample - 1);
}

static int is_clock(const char *ev, size_t len)
{
	return (len >= 9 && !strncmp(ev, "cpu-clock", 9) && (len == 9 || ev[9] == ':')) ||
	       (len >= 10 && !strncmp(ev, "task-clock", 10) && (len == 10 || ev[10] == ':'));
}

/* The first sample's event decides the sample types. */
static int set_types(struct imp *m, const char *ev, size_t len)
{
	struct cpgo_profile *p = m->p;
	char type[128];

	m->clock = is_clock(ev, len);
	snprintf(type, sizeof(type), "%.*s", (int)len, ev);
	/* "cycles:u" -> "cycles": the modifiers say what was counted, not a unit. */
	if (!m->clock)
		type[strcspn(type, ":")] = '\0';
	if (cpgo_profile_add_sample_type(p, "samples", "count") < 0 ||
	    cpgo_profile_add_sample_type(p, m->clock ? "cpu" : type,
					 m->clock ? "nanoseconds" : "count") < 0)
		return -1;
	p->period_type = p->sample_type[1];
	p->default_sample_type = p->sample_type[0].type;
	m->have_types = 1;
	return 0;
}

/* The time stamp of a sample line: a token "DIGITS.DIGITS:". */
static int is_time(const char *tok, const char *end)
{
	const char *d = tok;
	while (d < end && isdigit((unsigned char)*d))
		d++;
	return d > tok && d < end && *d == '.' && end[-1] == ':' && end - d > 2;
}

static int is_header(const char *line)
{
	const char *s = line, *tok;
	while (*(s = skip_ws(s))) {
		tok = s;
		s += strcspn(s, " \t");
		if (is_time(tok, s))
			return 1;
	}
	return 0;
}

/*
 * A sample's first line: "[COMM] PID[/TID] [CPU] TIME: [PERIOD] EVENT: [ADDR SYM (DSO)]".
 * TIME is the first token "digits.digits:"; COMM may hold spaces.
 */
static int parse_header(struct imp *m, const char *line)
{
	const char *s = line, *tok, *ev = NULL, *time_tok = NULL, *pid_tok = NULL, *prev = NULL;
	size_t ev_len = 0;
	char *end;
	int64_t period = 0;
	int have_period = 0;

	while (*(s = skip_ws(s))) {
		tok = s;
		s += strcspn(s, " \t");
		if (!time_tok) {
			if (is_time(tok, s)) {
				time_tok = tok;
				pid_tok = prev;
			}
			if (*tok != '[')
				prev = tok;
			continue;
		}
		if (!ev && !have_period && isdigit((unsigned char)*tok) && s[-1] != ':') {
			period = strtoll(tok, &end, 10);
			if (end != s || period < 0)
				return bad(m, "a sample period that is not a number");
			have_period = 1;
			continue;
		}
		if (!ev) {
			if (s[-1] != ':')
				return bad(m, "no 'EVENT:' after the sample time");
			ev = tok;
			ev_len = (size_t)(s - tok - 1);
			break;
		}
	}
	if (!time_tok || !ev)
		return bad(m, "not perf script output (a sample line needs 'PID/TID TIME: PERIOD "
			      "EVENT:'; run perf script -F pid,tid,time,period,event,ip,sym,dso)");
	m->pid = pid_tok ? strtol(pid_tok, NULL, 10) : -1;
	{
		double secs = strtod(time_tok, NULL);
		uint64_t t;
		/* Nanoseconds in 64 bits: about 584 years since boot. */
		if (!(secs >= 0 && secs < 1.8e10))
			return bad(m, "a sample time out of range");
		t = (uint64_t)(secs * 1e9);
		if (!m->t_first || t < m->t_first)
			m->t_first = t;
		if (t > m->t_last)
			m->t_last = t;
	}
	m->in_sample = 1;
	m->n_frame = 0;
	m->last_kernel = 0;
	/* An empty name would intern as string 0, which reads as "no event yet". */
	if (!ev_len)
		return bad(m, "an empty event name before ':'");
	if (!m->have_types) {
		if (m->opts && m->opts->event &&
		    (strlen(m->opts->event) != ev_len || strncmp(ev, m->opts->event, ev_len))) {
			m->keep = 0;
		} else {
			if ((m->event = cpgo_profile_intern_len(m->p, ev, ev_len)) < 0 ||
			    set_types(m, ev, ev_len) < 0)
				return -1;
		}
	}
	if (m->have_types) {
		const char *e = cpgo_profile_str(m->p, m->event);
		m->keep = strlen(e) == ev_len && !strncmp(e, ev, ev_len);
	}
	if (!m->keep) {
		m->st->n_other_event++;
		return 0;
	}
	if (m->clock && !have_period)
		return bad(m, "a cpu-clock sample without its period, so its CPU time is unknown "
			      "(run perf script -F +period)");
	m->period = have_period ? period : 1;
	if (!m->p->n_mapping && m->n_map) {
		/* pprof's main binary is the first mapping: the process's first executable mmap. */
		struct pmap *main_map = &m->maps[0];
		for (size_t i = 0; i < m->n_map; i++)
			if (m->maps[i].pid == m->pid) {
				main_map = &m->maps[i];
				break;
			}
		if (!map_id(m, main_map))
			return -1;
	}
	if (have_period && period > m->p->period)
		m->p->period = period;
	s = skip_ws(s);
	return *s ? parse_frame(m, s) : 0;
}

static int parse_lines(struct imp *m, char *text)
{
	char *line, *next;

	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		m->lineno++;
		if (strstr(line, "PERF_RECORD_")) {
			if (finish_sample(m) < 0)
				return -1;
			if (strstr(line, "PERF_RECORD_MMAP") && parse_mmap(m, strstr(line, "PERF_RECORD_MMAP")) < 0)
				return -1;
			continue;
		}
		if (!*skip_ws(line)) {
			if (finish_sample(m) < 0)
				return -1;
			continue;
		}
		/* perf pads the pid, so a header may start with blanks too: its time stamp tells. */
		if ((*line == ' ' || *line == '\t') && m->in_sample && !is_header(line)) {
			if (parse_frame(m, line) < 0)
				return -1;
			continue;
		}
		if (finish_sample(m) < 0 || parse_header(m, line) < 0)
			return -1;
	}
	return finish_sample(m);
}

int cpgo_perf_import_script(struct cpgo_profile *p, const char *text, size_t len,
			    const char *name, const struct cpgo_perf_opts *opts,
			    struct cpgo_perf_stats *st)
{
	struct imp m = { 0 };
	struct cpgo_buf copy = CPGO_BUF_INIT;
	struct symbolize_opts so = { 0 };
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (cpgo_profile_init(p) < 0)
		return -1;
	m.p = p;
	m.name = name;
	m.st = st;
	m.opts = opts;
	cpgo_hashmap_init(&m.loc_map, "perf locations");
	cpgo_hashmap_init(&m.sample_map, "perf samples");
	if (cpgo_perf_is_data(text, len)) {
		error("%s: a perf.data file, not perf script text (cpgo import runs perf script on it)",
		      name);
		goto cleanup;
	}
	if (memchr(text, '\0', len)) {
		error("%s: not perf script output (binary data)", name);
		goto cleanup;
	}
	if (cpgo_buf_add(&copy, text, len) < 0 || parse_lines(&m, copy.buf) < 0)
		goto cleanup;
	if (!p->n_sample) {
		if (st->n_other_event && opts && opts->event)
			error("%s: no samples of event '%s' (%zu of other events)", name, opts->event,
			      st->n_other_event);
		else
			error("%s: no samples with frames in it (is it perf script output?)", name);
		goto cleanup;
	}
	st->event = cpgo_profile_str(p, m.event);
	if (m.t_last > m.t_first)
		p->duration_nanos = (int64_t)(m.t_last - m.t_first);
	if (!p->period)
		p->period = 1;
	so.debug_dir = opts ? opts->debug_dir : NULL;
	if (symbolize_profile(p, &so) < 0 || cpgo_profile_check(p, name) < 0)
		goto cleanup;
	ret = 0;
cleanup:
	cpgo_buf_release(&copy);
	cpgo_hashmap_release(&m.loc_map);
	cpgo_hashmap_release(&m.sample_map);
	free(m.maps);
	free(m.locs);
	free(m.frames);
	if (ret < 0)
		cpgo_profile_release(p);
	return ret;
}
