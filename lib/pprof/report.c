/*
 * Computations behind `cpgo top` and `cpgo validate` (lib/report.h).
 */
#include "pprof/report.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/hashmap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sample types ------------------------------------------------------- */

static void list_types(struct cpgo_buf *b, const struct cpgo_profile *p)
{
	for (size_t i = 0; i < p->n_sample_type; i++)
		cpgo_buf_addf(b, "%s%s/%s", i ? ", " : "", cpgo_profile_str(p, p->sample_type[i].type),
			      cpgo_profile_str(p, p->sample_type[i].unit));
	if (!p->n_sample_type)
		cpgo_buf_adds(b, "none");
}

int cpgo_report_value_index(const struct cpgo_profile *p, const char *want, const char *name)
{
	struct cpgo_buf b = CPGO_BUF_INIT;

	if (!want) {
		for (size_t i = 0; p->default_sample_type && i < p->n_sample_type; i++)
			if (!strcmp(cpgo_profile_str(p, p->sample_type[i].type),
				    cpgo_profile_str(p, p->default_sample_type)))
				return (int)i;
		if (p->n_sample_type)
			return (int)p->n_sample_type - 1;
		return error("%s: the profile has no sample types, so it has no values to report",
			     name);
	}
	for (size_t i = 0; i < p->n_sample_type; i++) {
		const char *t = cpgo_profile_str(p, p->sample_type[i].type);
		const char *u = cpgo_profile_str(p, p->sample_type[i].unit);
		size_t tl = strlen(t);
		if (!strcmp(want, t) || (!strncmp(want, t, tl) && want[tl] == '/' &&
					 !strcmp(want + tl + 1, u)))
			return (int)i;
	}
	list_types(&b, p);
	error("%s: no sample type '%s'; the profile has: %s", name, want, b.buf);
	cpgo_buf_release(&b);
	return -1;
}

/* ---- top ---------------------------------------------------------------- */

struct row_key {
	const char *name, *file;
	int64_t start;
};

static int row_eq(const void *ctx, size_t pos, const void *key)
{
	const struct cpgo_report_row *r = &((const struct cpgo_report_top *)ctx)->rows[pos];
	const struct row_key *k = key;
	return r->start_line == k->start && !strcmp(r->name, k->name) &&
	       !strcmp(r->filename, k->file);
}

/* Finds or adds the row for (name, file, start); returns its index or -1. */
static long row_get(struct cpgo_report_top *t, struct cpgo_hashmap *tab, const char *name,
		    const char *file, int64_t start)
{
	struct row_key k = { name, file, start };
	uint64_t hh = cpgo_hash_str(cpgo_hash_str(CPGO_HASH_SEED, name), file);
	uint32_t h = (uint32_t)cpgo_hash_fin(cpgo_hash_mix(hh, (uint64_t)start));
	struct cpgo_report_row *r;
	size_t slot, pos;

	if (cpgo_hashmap_reserve(tab) < 0)
		return -1;
	slot = cpgo_hashmap_find(tab, h, row_eq, t, &k);
	if (cpgo_hashmap_pos(tab, slot, &pos))
		return (long)pos;
	if (CPGO_GROW(t->rows, t->alloc_row, t->n_row + 1) < 0 ||
	    cpgo_hashmap_set(tab, slot, h, t->n_row) < 0)
		return -1;
	r = &t->rows[t->n_row];
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->filename = file;
	r->start_line = start;
	r->last_sample = SIZE_MAX;
	return (long)t->n_row++;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* pprof's FlatNameOrder and CumNameOrder. */
static int by_flat(const void *pa, const void *pb)
{
	const struct cpgo_report_row *a = pa, *b = pb;
	int64_t fa = llabs(a->flat), fb = llabs(b->flat), ca = llabs(a->cum), cb = llabs(b->cum);
	int c;
	if (fa != fb)
		return fa > fb ? -1 : 1;
	if ((c = strcmp(a->name, b->name)))
		return c;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	if ((c = strcmp(a->filename, b->filename)))
		return c;
	return a->start_line < b->start_line ? -1 : a->start_line > b->start_line;
}

static int by_cum(const void *pa, const void *pb)
{
	const struct cpgo_report_row *a = pa, *b = pb;
	int64_t ca = llabs(a->cum), cb = llabs(b->cum);
	int c;
	if (ca != cb)
		return ca > cb ? -1 : 1;
	if ((c = strcmp(a->name, b->name)))
		return c;
	return by_flat(pa, pb);
}

int cpgo_report_top(struct cpgo_profile *p, int value_index, int sort_cum,
		    struct cpgo_report_top *t)
{
	/* Per location: its frames' rows, innermost first, in one pool. */
	size_t *frame_off = NULL, *frame_n = NULL, n_frames = 0, alloc_frames = 0;
	long *frames = NULL;
	long *fn_row = NULL, *map_row = NULL, unknown_row = -1;
	struct cpgo_hashmap tab = CPGO_HASHMAP_INIT("report row");
	size_t nt = p->n_sample_type;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	t->value_index = value_index;
	if (value_index < 0 || (size_t)value_index >= nt)
		return error("sample type index %d out of range", value_index);
	if (cpgo_profile_index(p) < 0)
		return -1;
	/* Rows are at most functions + mappings + 1: size the table once. */
	if (cpgo_hashmap_reserve_n(&tab, p->n_function + p->n_mapping + 1) < 0)
		return -1;
	frame_off = calloc(p->n_location + 1, sizeof(*frame_off));
	frame_n = calloc(p->n_location + 1, sizeof(*frame_n));
	fn_row = malloc((p->n_function + 1) * sizeof(*fn_row));
	map_row = malloc((p->n_mapping + 1) * sizeof(*map_row));
	if (!frame_off || !frame_n || !fn_row || !map_row) {
		error("out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i <= p->n_function; i++)
		fn_row[i] = -1;
	for (size_t i = 0; i <= p->n_mapping; i++)
		map_row[i] = -1;

	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *l = &p->locations[i];
		size_t need = l->n_line ? l->n_line : 1;
		if (CPGO_GROW(frames, alloc_frames, n_frames + need) < 0)
			goto cleanup;
		frame_off[i] = n_frames;
		frame_n[i] = need;
		if (!l->n_line) {
			/* Unsymbolized: pprof names it after its binary. */
			const struct cpgo_mapping *m = cpgo_profile_mapping(p, l->mapping_id);
			long *slot = m ? &map_row[m - p->mappings] : &unknown_row;
			if (*slot < 0) {
				const char *file = m ? cpgo_profile_str(p, m->filename) : "";
				char *label = NULL;
				if (*file && asprintf(&label, "[%s]", base_name(file)) < 0) {
					error("out of memory");
					goto cleanup;
				}
				/* Interned so the row's name lives as long as the profile. */
				*slot = row_get(t, &tab, label ? cpgo_profile_str(p,
							cpgo_profile_intern(p, label)) : "<unknown>",
						"", 0);
				free(label);
				if (*slot < 0)
					goto cleanup;
			}
			frames[n_frames++] = *slot;
			continue;
		}
		for (size_t j = 0; j < l->n_line; j++) {
			const struct cpgo_line *ln = &p->lines[l->line_off + j];
			const struct cpgo_function *f = cpgo_profile_function(p, ln->function_id);
			long *slot;
			if (!f) {
				error("location %llu refers to a missing function",
				      (unsigned long long)l->id);
				goto cleanup;
			}
			slot = &fn_row[f - p->functions];
			if (*slot < 0 &&
			    (*slot = row_get(t, &tab, cpgo_profile_str(p, f->name),
					     cpgo_profile_str(p, f->filename), f->start_line)) < 0)
				goto cleanup;
			frames[n_frames++] = *slot;
		}
	}

	for (size_t s = 0; s < p->n_sample; s++) {
		const struct cpgo_sample *smp = &p->samples[s];
		int64_t v = cpgo_sample_values(p, s)[value_index];
		int leaf = 1;

		/* llabs(INT64_MIN) has no value: that one cannot be summed either. */
		if (v == INT64_MIN || __builtin_add_overflow(t->total, llabs(v), &t->total)) {
			error("sample values overflow 64 bits when summed");
			goto cleanup;
		}
		for (size_t j = 0; j < smp->n_loc; j++) {
			const struct cpgo_location *l = cpgo_profile_location(p,
						p->sample_locs[smp->loc_off + j]);
			size_t li;
			if (!l) {
				error("sample %zu refers to a missing location", s);
				goto cleanup;
			}
			li = (size_t)(l - p->locations);
			for (size_t k = 0; k < frame_n[li]; k++) {
				struct cpgo_report_row *r = &t->rows[frames[frame_off[li] + k]];
				int has_caller = k + 1 < frame_n[li] || j + 1 < smp->n_loc;
				if (leaf)
					r->flat += v;
				leaf = 0;
				if (r->last_sample != s) {
					r->cum += v;
					r->last_sample = s;
				}
				/* Lines before a location's last were inlined into the next. */
				if (k + 1 < frame_n[li])
					r->inlined = 1;
				else if (has_caller)
					r->called = 1;
			}
		}
	}
	qsort(t->rows, t->n_row, sizeof(*t->rows), sort_cum ? by_cum : by_flat);
	ret = 0;
cleanup:
	cpgo_hashmap_release(&tab);
	free(frame_off);
	free(frame_n);
	free(frames);
	free(fn_row);
	free(map_row);
	if (ret < 0)
		cpgo_report_top_release(t);
	return ret;
}

void cpgo_report_top_release(struct cpgo_report_top *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/* ---- formatting ---------------------------------------------------------- */

struct unit_scale {
	const char *name;
	double factor;
};

static const struct unit_scale time_units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "hrs", 3600e9 }, { NULL, 0 },
};
static const struct unit_scale byte_units[] = {
	{ "B", 1 }, { "kB", 1024.0 }, { "MB", 1048576.0 }, { "GB", 1073741824.0 },
	{ "TB", 1099511627776.0 }, { NULL, 0 },
};

/* Factor of `unit` in its family's base unit, or 0 if it is no time or size. */
static double unit_factor(const char *unit, const struct unit_scale **family)
{
	static const struct {
		const char *alias;
		double factor;
		int bytes;
	} aliases[] = {
		{ "nanosecond", 1, 0 }, { "nanoseconds", 1, 0 }, { "ns", 1, 0 },
		{ "microsecond", 1e3, 0 }, { "microseconds", 1e3, 0 }, { "us", 1e3, 0 },
		{ "millisecond", 1e6, 0 }, { "milliseconds", 1e6, 0 }, { "ms", 1e6, 0 },
		{ "second", 1e9, 0 }, { "seconds", 1e9, 0 }, { "s", 1e9, 0 }, { "sec", 1e9, 0 },
		{ "byte", 1, 1 }, { "bytes", 1, 1 }, { "b", 1, 1 },
		{ "kilobyte", 1024.0, 1 }, { "kilobytes", 1024.0, 1 }, { "kb", 1024.0, 1 },
		{ "megabyte", 1048576.0, 1 }, { "megabytes", 1048576.0, 1 }, { "mb", 1048576.0, 1 },
	};
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcasecmp(unit, aliases[i].alias)) {
			*family = aliases[i].bytes ? byte_units : time_units;
			return aliases[i].factor;
		}
	return 0;
}

/* The largest unit of the family in which |x| (base units) is at least 1. */
static const struct unit_scale *auto_unit(const struct unit_scale *fam, double x)
{
	const struct unit_scale *best = fam;
	for (const struct unit_scale *u = fam; u->name; u++)
		if (fabs(x) / u->factor >= 1.0)
			best = u;
	return best;
}

static const struct unit_scale *named_unit(const struct unit_scale *fam, const char *name)
{
	for (const struct unit_scale *u = fam; name && u->name; u++)
		if (!strcmp(u->name, name))
			return u;
	return NULL;
}

void cpgo_report_format_value(char *out, size_t size, int64_t v, const char *unit,
			      const char *to)
{
	const struct unit_scale *fam = NULL, *best;
	double f = unit_factor(unit, &fam), x;
	size_t n;

	if (!f) {
		snprintf(out, size, "%lld", (long long)v);
		return;
	}
	x = (double)v * f;
	best = named_unit(fam, to);
	if (!best)
		best = auto_unit(fam, x);
	snprintf(out, size, "%.2f", x / best->factor);
	n = strlen(out);
	if (n > 3 && !strcmp(out + n - 3, ".00"))
		out[n - 3] = '\0';
	if (!strcmp(out, "0") || !strcmp(out, "-0")) {
		snprintf(out, size, "0");
		return;
	}
	strncat(out, best->name, size - strlen(out) - 1);
}

const char *cpgo_report_unit(const struct cpgo_report_top *t, size_t n_row, const char *unit)
{
	const struct unit_scale *fam = NULL, *lo, *hi;
	double f = unit_factor(unit, &fam);
	int64_t min = 0;

	if (!f)
		return NULL;
	for (size_t i = 0; i < n_row && i < t->n_row; i++) {
		int64_t v = llabs(t->rows[i].flat);
		if (!v)
			v = llabs(t->rows[i].cum);
		if (v && (!min || v < min))
			min = v;
	}
	if (!min)
		min = t->total;
	lo = auto_unit(fam, (double)min * f);
	hi = auto_unit(fam, (double)t->total * f);
	/* As pprof: let the smallest value go down to 0.01 of a larger unit. */
	if (lo != hi && (double)min * 100 < (double)t->total)
		lo = auto_unit(fam, (double)min * 100 * f);
	return lo->name;
}

void cpgo_report_format_percent(char *out, size_t size, int64_t v, int64_t total)
{
	double r = total ? fabs((double)v / (double)total) * 100 : 0;
	if (r >= 99.95 && r <= 100.05)
		snprintf(out, size, "  100%%");
	else if (r >= 1.0)
		snprintf(out, size, "%5.2f%%", r);
	else
		snprintf(out, size, "%5.2g%%", r);
}

/* ---- validate ------------------------------------------------------------ */

static int add_check(struct cpgo_report_validate *v, enum cpgo_check_level level,
		     const char *fix, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int add_check(struct cpgo_report_validate *v, enum cpgo_check_level level,
		     const char *fix, const char *fmt, ...)
{
	struct cpgo_check *c;
	va_list ap;
	int n;

	if (CPGO_GROW(v->checks, v->alloc_check, v->n_check + 1) < 0)
		return -1;
	c = &v->checks[v->n_check];
	c->level = level;
	c->fix = fix ? strdup(fix) : NULL;
	va_start(ap, fmt);
	n = vasprintf(&c->what, fmt, ap);
	va_end(ap);
	if (n < 0 || (fix && !c->fix)) {
		free(c->fix);
		return error("out of memory");
	}
	v->n_check++;
	if (level == CPGO_CHECK_FAIL)
		v->usable = 0;
	return 0;
}

static int find_type(const struct cpgo_profile *p, const char *type, const char *unit)
{
	for (size_t i = 0; i < p->n_sample_type; i++)
		if (!strcmp(cpgo_profile_str(p, p->sample_type[i].type), type) &&
		    !strcmp(cpgo_profile_str(p, p->sample_type[i].unit), unit))
			return (int)i;
	return -1;
}

/* Shares above these fail the check; above the warn levels, warn. */
#define UNSYM_FAIL 0.5
#define UNSYM_WARN 0.05
#define NOSTART_FAIL 0.5
#define NOSTART_WARN 0.05

int cpgo_report_validate(struct cpgo_profile *p, struct cpgo_report_validate *v)
{
	struct cpgo_buf types = CPGO_BUF_INIT;
	unsigned char *fn_used = NULL;
	int ic, icpu, vi, ret = -1;
	double total = 0, unsym = 0, nostart = 0;
	const char *ptype = cpgo_profile_str(p, p->period_type.type);
	const char *punit = cpgo_profile_str(p, p->period_type.unit);

	memset(v, 0, sizeof(*v));
	v->usable = 1;
	v->value_index = -1;
	if (cpgo_profile_index(p) < 0)
		return -1;
	fn_used = calloc(p->n_function + 1, 1);
	if (!fn_used)
		return error("out of memory");
	list_types(&types, p);
	ic = find_type(p, "samples", "count");
	icpu = find_type(p, "cpu", "nanoseconds");
	vi = cpgo_profile_cpu_index(p, "profile");
	cpgo_clear_error();
	v->value_index = vi;
	v->n_stack = p->n_sample;
	v->duration_nanos = p->duration_nanos;
	v->period = p->period;
	for (size_t s = 0; s < p->n_sample; s++) {
		const int64_t *val = cpgo_sample_values(p, s);
		if (ic >= 0)
			v->n_samples = cpgo_sat_add_i64(v->n_samples, val[ic]);
		if (icpu >= 0)
			v->cpu_nanos = cpgo_sat_add_i64(v->cpu_nanos, val[icpu]);
	}
	if (ic < 0 && icpu >= 0 && p->period > 0)
		v->n_samples = v->cpu_nanos / p->period;
	if (icpu < 0 && ic >= 0 && p->period > 0 && !strcmp(punit, "nanoseconds"))
		v->cpu_nanos = v->n_samples * p->period;
	if (v->duration_nanos > 0 && v->n_samples > 0)
		v->rate_hz = (double)v->n_samples / ((double)v->duration_nanos / 1e9);

	/* 1. A sample type PGO reads. */
	if (vi < 0) {
		if (add_check(v, CPGO_CHECK_FAIL,
			      "record a CPU profile: CPGO_PROFILE=out.pprof ./prog, 'cpgo record "
			      "-- ./prog', or convert perf data with 'cpgo convert'",
			      "no samples/count or cpu/nanoseconds sample type (has: %s)",
			      types.buf) < 0)
			goto cleanup;
	} else if (add_check(v, CPGO_CHECK_OK, NULL, "sample type %s/%s (has: %s)",
			     cpgo_profile_str(p, p->sample_type[vi].type),
			     cpgo_profile_str(p, p->sample_type[vi].unit), types.buf) < 0) {
		goto cleanup;
	}

	/* 2. Samples of CPU time. */
	if (!strcmp(ptype, "cpu")) {
		if (add_check(v, CPGO_CHECK_OK, NULL, "samples are CPU time (period type %s/%s)",
			      ptype, punit) < 0)
			goto cleanup;
	} else if (!*ptype) {
		if (add_check(v, CPGO_CHECK_WARN,
			      "have the profiler set period_type to cpu/nanoseconds",
			      "no period type: cannot tell whether samples are CPU time") < 0)
			goto cleanup;
	} else if (add_check(v, CPGO_CHECK_FAIL,
			     "PGO needs CPU samples; record a CPU profile instead (heap, mutex or "
			     "wall-clock profiles describe something else)",
			     "samples are %s/%s, not CPU time", ptype, punit) < 0) {
		goto cleanup;
	}

	/* 3-5. Symbols, start lines and inlined frames, weighted by the PGO value. */
	for (size_t i = 0; i < p->n_mapping; i++)
		if (p->mappings[i].has_inline_frames)
			v->has_inline = 1;
	for (size_t i = 0; i < p->n_location; i++)
		if (p->locations[i].n_line > 1)
			v->has_inline = 1;
	for (size_t s = 0; vi >= 0 && s < p->n_sample; s++) {
		const struct cpgo_sample *smp = &p->samples[s];
		double w = fabs((double)cpgo_sample_values(p, s)[vi]);
		const struct cpgo_location *leaf;
		const struct cpgo_function *f = NULL;

		total += w;
		for (size_t j = 0; j < smp->n_loc; j++) {
			const struct cpgo_location *l = cpgo_profile_location(p,
						p->sample_locs[smp->loc_off + j]);
			for (size_t k = 0; l && k < l->n_line; k++) {
				const struct cpgo_function *g = cpgo_profile_function(p,
							p->lines[l->line_off + k].function_id);
				if (g)
					fn_used[g - p->functions] = 1;
			}
		}
		leaf = smp->n_loc ? cpgo_profile_location(p, p->sample_locs[smp->loc_off]) : NULL;
		if (leaf && leaf->n_line)
			f = cpgo_profile_function(p, p->lines[leaf->line_off].function_id);
		if (!f || !*cpgo_profile_str(p, f->name))
			unsym += w;
		else if (f->start_line <= 0)
			nostart += w;
	}
	for (size_t i = 0; i < p->n_function; i++)
		if (fn_used[i]) {
			v->n_fn_used++;
			if (p->functions[i].start_line <= 0 && *cpgo_profile_str(p, p->functions[i].name))
				v->n_fn_no_start++;
		}
	if (total > 0) {
		v->unsymbolized_share = unsym / total;
		v->no_start_share = nostart / total;
	}

	if (vi >= 0 && total <= 0) {
		if (add_check(v, CPGO_CHECK_FAIL,
			      "profile the program while it does representative work, for longer",
			      "no samples: the profile is empty") < 0)
			goto cleanup;
		ret = 0;
		goto cleanup;
	}
	if (vi < 0) {
		ret = 0;
		goto cleanup;
	}
	if (add_check(v, v->unsymbolized_share > UNSYM_FAIL ? CPGO_CHECK_FAIL :
			 v->unsymbolized_share > UNSYM_WARN ? CPGO_CHECK_WARN : CPGO_CHECK_OK,
		      v->unsymbolized_share > UNSYM_WARN ?
			      "build with -g (or keep the debug info: do not strip), and record "
			      "with cpgo, which symbolizes with DWARF" : NULL,
		      "symbolized: %.1f%% of the samples are in code without a function name",
		      100 * v->unsymbolized_share) < 0)
		goto cleanup;
	if (add_check(v, v->no_start_share > NOSTART_FAIL ? CPGO_CHECK_FAIL :
			 v->no_start_share > NOSTART_WARN ? CPGO_CHECK_WARN : CPGO_CHECK_OK,
		      v->no_start_share > NOSTART_WARN ?
			      "PGO matches samples by line offset from the function's first line "
			      "(Function.start_line); record with cpgo (it reads DW_AT_decl_line), or "
			      "use a converter that sets it (Go runtime/pprof sets it since Go 1.20)" :
			      NULL,
		      "start lines: %.1f%% of the samples are in functions without "
		      "Function.start_line (%zu of %zu functions lack it)",
		      100 * v->no_start_share, v->n_fn_no_start, v->n_fn_used) < 0)
		goto cleanup;
	if (add_check(v, v->has_inline ? CPGO_CHECK_OK : CPGO_CHECK_WARN,
		      v->has_inline ? NULL :
			      "if the program was built with optimization, the profiler dropped "
			      "inlined frames; record with a symbolizer that reports them (cpgo "
			      "does), or PGO cannot tell inlined copies apart",
		      v->has_inline ? "inlined frames are kept" :
				      "no inlined frames (no location has more than one line)") < 0)
		goto cleanup;
	if (v->n_samples < CPGO_REPORT_FEW_SAMPLES) {
		if (add_check(v, CPGO_CHECK_WARN,
			      "profile for longer, at a higher rate, or merge several profiles "
			      "('cpgo merge'); ~400k samples gave most of the gain in our tests",
			      "only %lld samples: below %d, PGO gains will be limited",
			      (long long)v->n_samples, CPGO_REPORT_FEW_SAMPLES) < 0)
			goto cleanup;
	} else if (add_check(v, CPGO_CHECK_OK, NULL, "%lld samples", (long long)v->n_samples) < 0) {
		goto cleanup;
	}
	ret = 0;
cleanup:
	free(fn_used);
	cpgo_buf_release(&types);
	if (ret < 0)
		cpgo_report_validate_release(v);
	return ret;
}

void cpgo_report_validate_release(struct cpgo_report_validate *v)
{
	for (size_t i = 0; i < v->n_check; i++) {
		free(v->checks[i].what);
		free(v->checks[i].fix);
	}
	free(v->checks);
	v->checks = NULL;
	v->n_check = v->alloc_check = 0;
}
