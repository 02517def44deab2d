/*
 * libFuzzer target for the HTTP endpoint's request handling: the input is
 * a raw request, fed through libmicrohttpd's own parser (a daemon with no
 * listening socket, one socketpair connection per input) into
 * rthttp_route, the decision runtime/rthttp.c's handler makes. A profile
 * is only ever started for GET /debug/pprof/profile with seconds in
 * 1..RTHTTP_MAX_SECONDS; nothing crashes, leaks or hangs.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "rthttp.h"

#define die(what) (fprintf(stderr, "fuzz_http: %s\n", what), abort())

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seconds");
	static char body[] = "fuzz";
	struct MHD_Response *r;
	enum MHD_Result ret;
	int seconds = -1;
	unsigned status = 200;

	(void)cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	switch (rthttp_route(method, url, *upload_size, arg, &seconds)) {
	case RTHTTP_ROUTE_PROFILE:
		if (seconds < 1 || seconds > RTHTTP_MAX_SECONDS || strcmp(method, "GET") ||
		    strcmp(url, "/debug/pprof/profile"))
			die("a profile for a request that must not start one");
		break;
	case RTHTTP_ROUTE_INDEX:
		if (strcmp(method, "GET"))
			die("the index for a method other than GET");
		break;
	case RTHTTP_ROUTE_BAD_SECONDS:
		if (!arg || !*arg)
			die("bad seconds without a seconds value");
		status = 400;
		break;
	case RTHTTP_ROUTE_BODY:
		status = 400;
		*upload_size = 0;
		break;
	case RTHTTP_ROUTE_METHOD:
		status = 405;
		break;
	case RTHTTP_ROUTE_NOT_FOUND:
		status = 404;
		break;
	default:
		die("an unknown route");
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Daemon *daemon_get(void)
{
	static struct MHD_Daemon *d;

	if (!d) {
		d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, handle, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)1, MHD_OPTION_END);
		if (!d)
			die("cannot start the daemon");
	}
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Daemon *d = daemon_get();
	struct sockaddr_storage ss;
	char reply[4096];
	int sv[2];
	size_t sent = 0;

	if (size > 16384)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		die("socketpair");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	if (MHD_add_connection(d, sv[0], (struct sockaddr *)&ss, sizeof(sa_family_t)) != MHD_YES) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	/* The request, then end of input; serve until the daemon closes its end. */
	for (int round = 0; round < 2000; round++) {
		struct pollfd pf = { sv[1], POLLIN, 0 };
		ssize_t n;
		if (sent < size) {
			n = write(sv[1], data + sent, size - sent);
			if (n > 0)
				sent += (size_t)n;
			if (sent == size)
				shutdown(sv[1], SHUT_WR);
		} else if (size == 0 && round == 0) {
			shutdown(sv[1], SHUT_WR);
		}
		MHD_run(d);
		if (poll(&pf, 1, 0) > 0) {
			n = read(sv[1], reply, sizeof(reply));
			if (n == 0)
				break;
			if (n < 0 && errno != EAGAIN)
				break;
		}
	}
	close(sv[1]);
	/* The daemon notices the closed peer and frees the connection. */
	for (int i = 0; i < 4; i++)
		MHD_run(d);
	return 0;
}
