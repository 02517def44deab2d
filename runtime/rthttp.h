#ifndef CPGO_RTHTTP_H
#define CPGO_RTHTTP_H

/*
 * The pprof HTTP endpoint of libcpgo (libmicrohttpd, its own threads).
 * Prefix: rthttp_.
 *   GET /debug/pprof/                  index
 *   GET /debug/pprof/profile?seconds=N CPU profile of the next N seconds
 *                                      (default 30, 1..3600; one at a time: 409)
 */

#include <sys/socket.h>

/* spec: "[HOST]:PORT"; HOST defaults to 127.0.0.1, PORT 0 picks a free port. */
int rthttp_start(const char *spec);
void rthttp_stop(void);
void rthttp_atfork_child(void);

/* Exposed for unit tests. */
int rthttp_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len);
/* NULL or "" -> 30; else a whole number 1..3600, or -1 with error set. */
int rthttp_parse_seconds(const char *s, int *out);

#define RTHTTP_MAX_SECONDS 3600

/* What a request gets (rthttp_route.c: no server needed, so it can be fuzzed). */
enum rthttp_route {
	RTHTTP_ROUTE_INDEX,       /* 200, the index page */
	RTHTTP_ROUTE_PROFILE,     /* a CPU profile of *seconds (1..RTHTTP_MAX_SECONDS) */
	RTHTTP_ROUTE_BAD_SECONDS, /* 400, the error is set */
	RTHTTP_ROUTE_BODY,        /* 400, a request body */
	RTHTTP_ROUTE_METHOD,      /* 405, not GET */
	RTHTTP_ROUTE_NOT_FOUND,   /* 404 */
};

/*
 * Routes a request as libmicrohttpd parsed it: `url` without the query,
 * `seconds_arg` the decoded ?seconds= value or NULL.
 */
enum rthttp_route rthttp_route(const char *method, const char *url, size_t upload_size,
			       const char *seconds_arg, int *seconds);

#endif
