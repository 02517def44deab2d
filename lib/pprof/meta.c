/*
 * The profile's cpgo metadata (see meta.h): one table of keys drives both
 * the writer and the reader, so the two cannot drift apart.
 */
#include "pprof/meta.h"

#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum meta_type { META_INT, META_REAL, META_STR };

struct meta_key {
	const char *name;
	enum meta_type type;
	size_t off, size; /* size: of a string field */
	const char *real_fmt;
};

#define INT_KEY(f) { #f, META_INT, offsetof(struct cpgo_meta, f), 0, NULL }
#define REAL_KEY(f, fmt) { #f, META_REAL, offsetof(struct cpgo_meta, f), 0, fmt }
#define STR_KEY(f) { #f, META_STR, offsetof(struct cpgo_meta, f), \
		     sizeof(((struct cpgo_meta *)0)->f), NULL }

static const struct meta_key keys[] = {
	INT_KEY(requested_hz),
	REAL_KEY(achieved_hz, "%.1f"),
	INT_KEY(samples),
	REAL_KEY(cpu_seconds, "%.6f"),
	INT_KEY(lost),
	INT_KEY(lost_buffer_full),
	INT_KEY(lost_out_of_memory),
	INT_KEY(lost_unmapped),
	REAL_KEY(kernel_share, "%.4f"),
	STR_KEY(mode),
	STR_KEY(timer),
	STR_KEY(signal),
	STR_KEY(unwinder),
	INT_KEY(libunwind_samples),
	INT_KEY(threads_blocked),
	INT_KEY(threads_failed),
	INT_KEY(handler_replaced),
	INT_KEY(stack_bytes),
	INT_KEY(drain_cpu_ms),
	STR_KEY(symbolize_error),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void cpgo_meta_init(struct cpgo_meta *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < N_KEYS; i++) {
		void *f = (char *)m + keys[i].off;
		if (keys[i].type == META_INT)
			*(int64_t *)f = -1;
		else if (keys[i].type == META_REAL)
			*(double *)f = -1;
	}
}

static int add_comment(struct cpgo_profile *p, const char *s)
{
	int64_t idx = cpgo_profile_intern(p, s);

	if (idx < 0 || CPGO_GROW(p->comments, p->alloc_comment, p->n_comment + 1) < 0)
		return -1;
	p->comments[p->n_comment++] = idx;
	return 0;
}

int cpgo_meta_write(struct cpgo_profile *p, const struct cpgo_meta *m)
{
	struct cpgo_buf b = CPGO_BUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < N_KEYS && !ret; i++) {
		const void *f = (const char *)m + keys[i].off;

		cpgo_buf_reset(&b);
		if (cpgo_buf_addf(&b, CPGO_META_PREFIX "%s=", keys[i].name) < 0) {
			ret = -1;
			break;
		}
		switch (keys[i].type) {
		case META_INT:
			if (*(const int64_t *)f < 0)
				continue;
			ret = cpgo_buf_addf(&b, "%lld", (long long)*(const int64_t *)f);
			break;
		case META_REAL:
			if (!(*(const double *)f >= 0) || !isfinite(*(const double *)f))
				continue;
			ret = cpgo_buf_addf(&b, keys[i].real_fmt, *(const double *)f);
			break;
		case META_STR:
			if (!*(const char *)f)
				continue;
			/* One comment per key: a value never spans lines. */
			for (const char *s = f; *s && !ret; s++)
				ret = cpgo_buf_add(&b, *s == '\n' ? " " : s, 1);
			break;
		}
		if (!ret)
			ret = add_comment(p, b.buf);
	}
	cpgo_buf_release(&b);
	return ret < 0 ? error_prefix("writing the profile's cpgo metadata") : 0;
}

/* Stores the text of one value; a malformed number leaves the field unknown. */
static void set_field(struct cpgo_meta *m, const struct meta_key *k, const char *v)
{
	void *f = (char *)m + k->off;
	char *end;

	errno = 0;
	if (k->type == META_INT) {
		long long x = strtoll(v, &end, 10);
		if (!errno && end != v && !*end && x >= 0)
			*(int64_t *)f = x;
	} else if (k->type == META_REAL) {
		double x = strtod(v, &end);
		if (!errno && end != v && !*end && x >= 0 && isfinite(x))
			*(double *)f = x;
	} else {
		snprintf(f, k->size, "%s", v);
	}
}

int cpgo_meta_read(const struct cpgo_profile *p, struct cpgo_meta *m)
{
	const size_t plen = strlen(CPGO_META_PREFIX);
	int found = 0;

	cpgo_meta_init(m);
	for (size_t i = 0; i < p->n_comment; i++) {
		const char *c = cpgo_profile_str(p, p->comments[i]), *eq;
		size_t nlen;

		if (strncmp(c, CPGO_META_PREFIX, plen) || !(eq = strchr(c + plen, '=')))
			continue;
		nlen = (size_t)(eq - (c + plen));
		for (size_t k = 0; k < N_KEYS; k++) {
			if (strlen(keys[k].name) == nlen && !memcmp(keys[k].name, c + plen, nlen)) {
				set_field(m, &keys[k], eq + 1);
				found++;
				break;
			}
		}
	}
	return found;
}

int cpgo_meta_is_key(const char *c)
{
	const size_t plen = strlen(CPGO_META_PREFIX);
	const char *eq;

	if (strncmp(c, CPGO_META_PREFIX, plen) || !(eq = strchr(c + plen, '=')))
		return 0;
	for (size_t k = 0; k < N_KEYS; k++)
		if (strlen(keys[k].name) == (size_t)(eq - (c + plen)) &&
		    !memcmp(keys[k].name, c + plen, (size_t)(eq - (c + plen))))
			return 1;
	return 0;
}

/* A total is unknown once one of its parts is: a sum of the known parts would understate it. */
static void add_int(int64_t *a, int64_t b)
{
	*a = *a < 0 || b < 0 ? -1 : *a + b;
}

/* A count the runtime writes only when it has something to say: unknown reads as none. */
static void add_optional(int64_t *a, int64_t b)
{
	if (b >= 0)
		*a = (*a < 0 ? 0 : *a) + b;
}

static void same_str(char *a, const char *b, size_t size)
{
	if (strcmp(a, b))
		snprintf(a, size, "%s", "mixed");
}

void cpgo_meta_merge(struct cpgo_meta *acc, const struct cpgo_meta *in)
{
	int64_t samples = acc->samples;

	if (acc->requested_hz != in->requested_hz)
		acc->requested_hz = -1;
	add_int(&acc->samples, in->samples);
	acc->cpu_seconds = acc->cpu_seconds < 0 || in->cpu_seconds < 0 ?
				   -1 : acc->cpu_seconds + in->cpu_seconds;
	acc->achieved_hz = acc->samples >= 0 && acc->cpu_seconds > 0 ?
				   (double)acc->samples / acc->cpu_seconds : -1;
	if (acc->kernel_share >= 0 && in->kernel_share >= 0 && acc->samples > 0)
		acc->kernel_share = (acc->kernel_share * (double)samples +
				     in->kernel_share * (double)in->samples) / (double)acc->samples;
	else
		acc->kernel_share = -1;
	add_int(&acc->lost, in->lost);
	add_int(&acc->lost_buffer_full, in->lost_buffer_full);
	add_int(&acc->lost_out_of_memory, in->lost_out_of_memory);
	add_optional(&acc->lost_unmapped, in->lost_unmapped);
	same_str(acc->mode, in->mode, sizeof(acc->mode));
	same_str(acc->timer, in->timer, sizeof(acc->timer));
	same_str(acc->signal, in->signal, sizeof(acc->signal));
	same_str(acc->unwinder, in->unwinder, sizeof(acc->unwinder));
	add_optional(&acc->libunwind_samples, in->libunwind_samples);
	add_optional(&acc->threads_blocked, in->threads_blocked);
	add_optional(&acc->threads_failed, in->threads_failed);
	if (in->handler_replaced > acc->handler_replaced)
		acc->handler_replaced = in->handler_replaced;
	/* The largest copy any run needed, as each run states its threads' largest. */
	if (in->stack_bytes > acc->stack_bytes)
		acc->stack_bytes = in->stack_bytes;
	add_optional(&acc->drain_cpu_ms, in->drain_cpu_ms);
	if (!*acc->symbolize_error)
		snprintf(acc->symbolize_error, sizeof(acc->symbolize_error), "%s",
			 in->symbolize_error);
}

int cpgo_meta_summary(const struct cpgo_meta *m, struct cpgo_buf *out)
{
	int r;

	if (m->requested_hz >= 0)
		r = cpgo_buf_addf(out, "requested %lld Hz, ", (long long)m->requested_hz);
	else
		r = cpgo_buf_adds(out, "requested rate unknown, ");
	if (!r && m->achieved_hz >= 0)
		r = cpgo_buf_addf(out, "achieved %.1f Hz", m->achieved_hz);
	else if (!r)
		r = cpgo_buf_adds(out, "achieved rate unknown");
	if (!r && m->samples >= 0 && m->cpu_seconds >= 0)
		r = cpgo_buf_addf(out, " (%lld samples in %.3f CPU seconds)", (long long)m->samples,
				  m->cpu_seconds);
	if (!r && m->kernel_share >= 0)
		r = cpgo_buf_addf(out, ", %.1f%% in the kernel", 100 * m->kernel_share);
	return r;
}
