/*
 * Protobuf wire framing (profile_int.h): tags, varints and lengths of the
 * top-level Profile fields, so the codec can stream the large repeated
 * messages one at a time while protobuf-c decodes and encodes each one.
 */
#include "pprof/profile_int.h"

int cpgo_pb_varint(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *q = *pp;
	uint64_t r = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (q >= end)
			return -1;
		r |= (uint64_t)(*q & 0x7f) << shift;
		if (!(*q++ & 0x80)) {
			*v = r;
			*pp = q;
			return 0;
		}
	}
	return -1;
}

int cpgo_pb_next(const unsigned char **pp, const unsigned char *end, struct cpgo_pb_field *f)
{
	const unsigned char *q = *pp;
	uint64_t key, v;

	f->start = q;
	if (cpgo_pb_varint(&q, end, &key) < 0)
		return -1;
	f->num = key >> 3;
	f->wire = key & 7;
	f->payload = NULL;
	f->payload_len = 0;
	f->value = 0;
	switch (f->wire) {
	case 0:
		if (cpgo_pb_varint(&q, end, &v) < 0)
			return -1;
		f->value = v;
		break;
	case 1:
		if (end - q < 8)
			return -1;
		q += 8;
		break;
	case 2:
		if (cpgo_pb_varint(&q, end, &v) < 0 || v > (uint64_t)(end - q))
			return -1;
		f->payload = q;
		f->payload_len = v;
		q += v;
		break;
	case 5:
		if (end - q < 4)
			return -1;
		q += 4;
		break;
	default:
		return -1; /* groups are not used by profile.proto */
	}
	if (!f->num)
		return -1;
	f->end = q;
	*pp = q;
	return 0;
}
