#ifndef CPGO_PPROF_PROFILE_INT_H
#define CPGO_PPROF_PROFILE_INT_H

/*
 * Hidden internals of the profile model, shared by its files only
 * (profile.c, strtab.c, idindex.c, check.c, decode.c, encode.c): the private
 * state behind struct cpgo_profile, and the pieces of the codec that the
 * decoder and the encoder share. Nothing outside lib/pprof includes this.
 */

#include "pprof/profile.h"
#include "util/hashmap.h"

#include <pthread.h>

/* An id -> array position index (idindex.c). */
struct idmap {
	struct cpgo_hashmap map;
	int dense; /* ids are exactly 1..n in order: no table needed */
	int built;
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

struct cpgo_profile_priv {
	struct arena_chunk *arena;
	/* String interning: positions in the string table. */
	struct cpgo_hashmap strs;
	size_t str_hashed; /* strings [0, str_hashed) are in the table */
	struct idmap fn_map, loc_map, map_map;
	/* Largest ids seen, so added elements never reuse an id read from a file. */
	uint64_t max_fn_id, max_loc_id, max_map_id;
};

/* profile.c: string storage that lives as long as the profile. */
char *cpgo_pprof_arena_alloc(struct cpgo_profile_priv *pv, size_t n);

/* strtab.c: frees the interning table. */
void cpgo_pprof_strtab_release(struct cpgo_profile_priv *pv);

/* idindex.c: drops the id indexes (after additions); builds them reporting duplicates. */
void cpgo_pprof_invalidate_ids(struct cpgo_profile_priv *pv);
int cpgo_pprof_index_all(struct cpgo_profile *p, uint64_t dups[3]);

/* Top-level Profile fields that are streamed one message at a time (wire.c). */
enum { CPGO_PB_SAMPLE = 2, CPGO_PB_LOCATION = 4, CPGO_PB_FUNCTION = 5 };

/* One top-level protobuf field: number, wire type, whole field bytes, payload. */
struct cpgo_pb_field {
	uint64_t num;
	unsigned wire;
	const unsigned char *start, *end; /* the whole field, tag included */
	const unsigned char *payload;     /* for length-delimited fields */
	size_t payload_len;
	uint64_t value;                   /* for varint fields */
};

/* wire.c: protobuf framing (tag, length), not the messages themselves. */
int cpgo_pb_varint(const unsigned char **pp, const unsigned char *end, uint64_t *v);
int cpgo_pb_next(const unsigned char **pp, const unsigned char *end, struct cpgo_pb_field *f);

/* gzip.c: libdeflate, with a decompressed-size limit that a gzip bomb cannot pass. */
int cpgo_pprof_gunzip(const unsigned char *in, size_t len, const char *name, size_t limit,
		      struct cpgo_buf *out);
int cpgo_pprof_gzip(const void *in, size_t len, struct cpgo_buf *out);
/*
 * Compression on a second thread, for the command-line tools (never the
 * runtime: it must not start threads in its host). The encoder writes raw
 * protobuf into the buffer the stream hands out and calls flush after each
 * message; a full chunk goes to a worker thread as one gzip member while
 * the next is filled (gzip readers read concatenated members as one
 * stream). flush(final = 1) compresses the rest; NULL on error.
 */
struct cpgo_pprof_gzjob {
	const unsigned char *in;
	size_t len;
	unsigned char *out;
	size_t out_len; /* 0: failed */
};

struct cpgo_pprof_gzstream {
	struct cpgo_buf *out;
	struct cpgo_buf raw[2]; /* one filled by the encoder, one on the worker */
	int cur, running;
	pthread_t thread;
	struct cpgo_pprof_gzjob job;
};

void cpgo_pprof_gzstream_init(struct cpgo_pprof_gzstream *s, struct cpgo_buf *out);
struct cpgo_buf *cpgo_pprof_gzstream_flush(struct cpgo_pprof_gzstream *s, int final);
void cpgo_pprof_gzstream_release(struct cpgo_pprof_gzstream *s);

/* -1 (error set, naming `name` and the `cpgo import` to run) for perf.data, perf script or gperftools input. */
int cpgo_pprof_foreign_format(const unsigned char *in, size_t len, const char *name);

#endif
