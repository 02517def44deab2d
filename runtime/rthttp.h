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

#endif
