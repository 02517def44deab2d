/*
 * Strict validation of a profile (pprof/profile.h), run on every profile
 * read, so the rest of cpgo can trust ids and string indexes.
 */
#include "pprof/profile.h"
#include "pprof/profile_int.h"
#include "util/error.h"

#define STR_OK(p, i) ((i) >= 0 && (uint64_t)(i) < (p)->n_string)

int cpgo_profile_check(const struct cpgo_profile *p, const char *name)
{
	struct cpgo_profile *mp = (struct cpgo_profile *)p;
	uint64_t dups[3] = { 0, 0, 0 };

	if (!p->n_string || p->string_lens[0] != 0)
		return error("%s: string table must start with the empty string", name);
	if (p->priv->fn_map.built)
		cpgo_pprof_invalidate_ids(p->priv);
	if (cpgo_pprof_index_all(mp, dups) < 0)
		return error_prefix("%s", name);
	if (dups[0])
		return error("%s: function id %llu is used twice", name, (unsigned long long)dups[0]);
	if (dups[1])
		return error("%s: location id %llu is used twice", name, (unsigned long long)dups[1]);
	if (dups[2])
		return error("%s: mapping id %llu is used twice", name, (unsigned long long)dups[2]);

	for (size_t i = 0; i < p->n_sample_type; i++)
		if (!STR_OK(p, p->sample_type[i].type) || !STR_OK(p, p->sample_type[i].unit))
			return error("%s: sample type %zu has a string index out of range", name, i);
	if (!STR_OK(p, p->period_type.type) || !STR_OK(p, p->period_type.unit))
		return error("%s: period type has a string index out of range", name);
	if (!STR_OK(p, p->drop_frames) || !STR_OK(p, p->keep_frames) ||
	    !STR_OK(p, p->default_sample_type))
		return error("%s: drop_frames/keep_frames/default_sample_type string index out of range", name);
	for (size_t i = 0; i < p->n_comment; i++)
		if (!STR_OK(p, p->comments[i]))
			return error("%s: comment %zu has a string index out of range", name, i);

	for (size_t i = 0; i < p->n_function; i++) {
		const struct cpgo_function *f = &p->functions[i];
		if (!f->id)
			return error("%s: function #%zu has id 0", name, i);
		if (!STR_OK(p, f->name) || !STR_OK(p, f->system_name) || !STR_OK(p, f->filename))
			return error("%s: function %llu has a string index out of range",
				     name, (unsigned long long)f->id);
	}
	for (size_t i = 0; i < p->n_mapping; i++) {
		const struct cpgo_mapping *m = &p->mappings[i];
		if (!m->id)
			return error("%s: mapping #%zu has id 0", name, i);
		if (!STR_OK(p, m->filename) || !STR_OK(p, m->build_id))
			return error("%s: mapping %llu has a string index out of range",
				     name, (unsigned long long)m->id);
	}
	for (size_t i = 0; i < p->n_location; i++) {
		const struct cpgo_location *l = &p->locations[i];
		if (!l->id)
			return error("%s: location #%zu has id 0", name, i);
		if (l->mapping_id && !cpgo_profile_mapping(p, l->mapping_id))
			return error("%s: location %llu refers to mapping %llu, which does not exist",
				     name, (unsigned long long)l->id, (unsigned long long)l->mapping_id);
		if (l->line_off > p->n_lines || l->n_line > p->n_lines - l->line_off)
			return error("%s: location %llu has lines out of range", name,
				     (unsigned long long)l->id);
		for (size_t j = 0; j < l->n_line; j++) {
			uint64_t fid = p->lines[l->line_off + j].function_id;
			if (!cpgo_profile_function(p, fid))
				return error("%s: location %llu refers to function %llu, which does not exist",
					     name, (unsigned long long)l->id, (unsigned long long)fid);
		}
	}
	if (p->n_values != p->n_sample * p->n_sample_type)
		return error("%s: %zu values for %zu samples of %zu types", name,
			     p->n_values, p->n_sample, p->n_sample_type);
	for (size_t i = 0; i < p->n_sample; i++) {
		const struct cpgo_sample *s = &p->samples[i];
		if (s->loc_off > p->n_sample_locs || s->n_loc > p->n_sample_locs - s->loc_off ||
		    s->label_off > p->n_labels || s->n_label > p->n_labels - s->label_off)
			return error("%s: sample %zu is out of range", name, i);
		for (size_t j = 0; j < s->n_loc; j++) {
			uint64_t lid = p->sample_locs[s->loc_off + j];
			/* The common case inline: ids 1..n need no lookup. */
			if (p->priv->loc_map.dense ? lid - 1 >= p->n_location
						   : !cpgo_profile_location(p, lid))
				return error("%s: sample %zu refers to location %llu, which does not exist",
					     name, i, (unsigned long long)lid);
		}
		for (size_t j = 0; j < s->n_label; j++) {
			const struct cpgo_label *lb = &p->labels[s->label_off + j];
			if (!STR_OK(p, lb->key) || !STR_OK(p, lb->str) || !STR_OK(p, lb->num_unit))
				return error("%s: sample %zu has a label string index out of range",
					     name, i);
		}
	}
	return 0;
}
