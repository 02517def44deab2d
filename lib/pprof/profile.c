/*
 * The profile model (pprof/profile.h): lifetime and the builders. The
 * string table, id index, checker and codec live in files of their own
 * that share profile_int.h.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

/* Strings are copied into chunks of this size, so a profile costs few mallocs. */

static uint64_t next_id(uint64_t *max, size_t n)
{
	if (*max < n)
		*max = n;
	return ++*max;
}

int cpgo_profile_init(struct cpgo_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->priv = calloc(1, sizeof(*p->priv));
	if (!p->priv)
		return error("out of memory");
	cpgo_hashmap_init(&p->priv->strs, "string");
	cpgo_hashmap_init(&p->priv->fn_map.map, "function id");
	cpgo_hashmap_init(&p->priv->loc_map.map, "location id");
	cpgo_hashmap_init(&p->priv->map_map.map, "mapping id");
	if (cpgo_profile_intern_len(p, "", 0) != 0) {
		cpgo_profile_release(p);
		return -1;
	}
	return 0;
}

void cpgo_profile_release(struct cpgo_profile *p)
{
	if (p->priv) {
		struct arena_chunk *c = p->priv->arena, *next;
		for (; c; c = next) {
			next = c->next;
			free(c);
		}
		cpgo_pprof_strtab_release(p->priv);
		cpgo_pprof_invalidate_ids(p->priv);
		free(p->priv);
	}
	free(p->sample_type);
	free(p->samples);
	free(p->values);
	free(p->sample_locs);
	free(p->labels);
	free(p->mappings);
	free(p->locations);
	free(p->lines);
	free(p->functions);
	free(p->strings);
	free(p->string_lens);
	free(p->comments);
	memset(p, 0, sizeof(*p));
}

/* ---- building --------------------------------------------------------- */

int cpgo_profile_add_sample_type(struct cpgo_profile *p, const char *type, const char *unit)
{
	int64_t t, u;
	if (p->n_sample)
		return error("sample types must be added before samples");
	t = cpgo_profile_intern(p, type);
	u = cpgo_profile_intern(p, unit);
	if (t < 0 || u < 0)
		return -1;
	if (CPGO_GROW(p->sample_type, p->alloc_sample_type, p->n_sample_type + 1) < 0)
		return -1;
	p->sample_type[p->n_sample_type].type = t;
	p->sample_type[p->n_sample_type].unit = u;
	p->n_sample_type++;
	return 0;
}

uint64_t cpgo_profile_add_function(struct cpgo_profile *p, const char *name,
				   const char *system_name, const char *filename,
				   int64_t start_line)
{
	struct cpgo_function *f;
	int64_t n = cpgo_profile_intern(p, name);
	int64_t s = cpgo_profile_intern(p, system_name ? system_name : name);
	int64_t fl = cpgo_profile_intern(p, filename);

	if (n < 0 || s < 0 || fl < 0)
		return 0;
	if (CPGO_GROW(p->functions, p->alloc_function, p->n_function + 1) < 0)
		return 0;
	f = &p->functions[p->n_function];
	f->id = next_id(&p->priv->max_fn_id, p->n_function);
	f->name = n;
	f->system_name = s;
	f->filename = fl;
	f->start_line = start_line;
	p->n_function++;
	cpgo_pprof_invalidate_ids(p->priv);
	return f->id;
}

uint64_t cpgo_profile_add_mapping(struct cpgo_profile *p, const struct cpgo_mapping *m)
{
	struct cpgo_mapping *d;
	if (CPGO_GROW(p->mappings, p->alloc_mapping, p->n_mapping + 1) < 0)
		return 0;
	d = &p->mappings[p->n_mapping];
	*d = *m;
	d->id = next_id(&p->priv->max_map_id, p->n_mapping);
	p->n_mapping++;
	cpgo_pprof_invalidate_ids(p->priv);
	return d->id;
}

uint64_t cpgo_profile_add_location(struct cpgo_profile *p, uint64_t mapping_id,
				   uint64_t address, const struct cpgo_line *lines,
				   size_t n_line)
{
	struct cpgo_location *l;
	if (CPGO_GROW(p->locations, p->alloc_location, p->n_location + 1) < 0 ||
	    CPGO_GROW(p->lines, p->alloc_lines, p->n_lines + n_line) < 0)
		return 0;
	if (n_line)
		memcpy(p->lines + p->n_lines, lines, n_line * sizeof(*lines));
	l = &p->locations[p->n_location];
	memset(l, 0, sizeof(*l));
	l->id = next_id(&p->priv->max_loc_id, p->n_location);
	l->mapping_id = mapping_id;
	l->address = address;
	l->line_off = p->n_lines;
	l->n_line = n_line;
	p->n_lines += n_line;
	p->n_location++;
	cpgo_pprof_invalidate_ids(p->priv);
	return l->id;
}

int cpgo_profile_add_sample(struct cpgo_profile *p, const uint64_t *locs, size_t n_loc,
			    const int64_t *values, const struct cpgo_label *labels,
			    size_t n_label)
{
	struct cpgo_sample *s;
	if (!p->n_sample_type)
		return error("add a sample type before adding samples");
	if (CPGO_GROW(p->samples, p->alloc_sample, p->n_sample + 1) < 0 ||
	    CPGO_GROW(p->sample_locs, p->alloc_sample_locs, p->n_sample_locs + n_loc) < 0 ||
	    CPGO_GROW(p->values, p->alloc_values, p->n_values + p->n_sample_type) < 0 ||
	    CPGO_GROW(p->labels, p->alloc_labels, p->n_labels + n_label) < 0)
		return -1;
	s = &p->samples[p->n_sample++];
	s->loc_off = p->n_sample_locs;
	s->n_loc = n_loc;
	if (n_loc)
		memcpy(p->sample_locs + p->n_sample_locs, locs, n_loc * sizeof(*locs));
	p->n_sample_locs += n_loc;
	memcpy(p->values + p->n_values, values, p->n_sample_type * sizeof(*values));
	p->n_values += p->n_sample_type;
	s->label_off = p->n_labels;
	s->n_label = n_label;
	if (n_label)
		memcpy(p->labels + p->n_labels, labels, n_label * sizeof(*labels));
	p->n_labels += n_label;
	return 0;
}
