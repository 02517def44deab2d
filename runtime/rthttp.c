/*
 * /debug/pprof/ over libmicrohttpd, one thread per connection so that a
 * second request gets its answer (409) while a profile is being taken.
 */
#include "rthttp.h"

#include "collector.h"
#include "rtenv.h"
#include "threads.h"
#include "util/buf.h"
#include "util/error.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct MHD_Daemon *daemon;
	int port;
	int shutdown;
	_Atomic int busy;
} H = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

int rthttp_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints, *res = NULL;
	int p, rc;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host))
			return error("'%s': use HOST:PORT, [IPv6]:PORT or :PORT", spec);
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = '\0';
		port = close + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host))
			return error("'%s': use HOST:PORT or :PORT (e.g. 127.0.0.1:6060)", spec);
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	if (rtenv_parse_int(port, 0, 65535, &p) < 0)
		return error("'%s': port '%s' is not a number in 0..65535", spec, port);
	/* Profiles reveal code structure: loopback unless a host is named. */
	if (!host[0])
		strcpy(host, "127.0.0.1");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res)
		return error("'%s': cannot resolve host '%s': %s", spec, host, gai_strerror(rc));
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       void *body, size_t len, int must_free)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body,
					    must_free ? MHD_RESPMEM_MUST_FREE :
							MHD_RESPMEM_MUST_COPY);
	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (!strcmp(type, "application/octet-stream"))
		MHD_add_response_header(r, "Content-Disposition", "attachment; filename=\"profile\"");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *fmt,
				    ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *fmt,
				    ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	return respond(c, status, "text/plain; charset=utf-8", msg, (size_t)n, 0);
}

static const char index_page[] =
	"<html><head><title>/debug/pprof/</title></head><body>\n"
	"<h1>/debug/pprof/ (libcpgo)</h1>\n"
	"<p><a href=\"profile?seconds=30\">profile</a>: CPU profile. Add ?seconds=N "
	"(1..3600, default 30). Fetch it with<br>\n"
	"<code>go tool pprof http://HOST:PORT/debug/pprof/profile?seconds=30</code></p>\n"
	"</body></html>\n";

/* Sleeps `seconds` unless the server shuts down first. */
static void wait_seconds(int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	pthread_mutex_lock(&H.lock);
	while (!H.shutdown) {
		if (pthread_cond_timedwait(&H.cond, &H.lock, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&H.lock);
}

static enum MHD_Result serve_profile(struct MHD_Connection *c, int seconds)
{
	struct collector_session *s;
	struct sampler_config cfg;
	struct cpgo_profile p;
	struct cpgo_buf out = CPGO_BUF_INIT;
	int expected = 0, rc;
	char *body;
	size_t len;

	if (!atomic_compare_exchange_strong(&H.busy, &expected, 1))
		return respond_text(c, MHD_HTTP_CONFLICT,
				    "a CPU profile is already being collected; retry when it "
				    "finishes\n");
	/* Register as internal so that a sampler started now does not sample us. */
	threads_set_internal(1);
	threads_register();
	rc = rtenv_config(&cfg, 0) < 0 ? -1 : collector_begin(&s, &cfg);
	if (rc < 0) {
		atomic_store(&H.busy, 0);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "could not start profiling: %s\n", cpgo_last_error());
	}
	wait_seconds(seconds);
	rc = collector_finish(s, &p);
	if (rc == 0) {
		rc = cpgo_profile_encode(&p, &out, 1);
		cpgo_profile_release(&p);
	}
	atomic_store(&H.busy, 0);
	if (rc < 0) {
		cpgo_buf_release(&out);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				    "could not write the profile: %s\n", cpgo_last_error());
	}
	body = cpgo_buf_detach(&out, &len);
	if (!body)
		return MHD_NO;
	return respond(c, MHD_HTTP_OK, "application/octet-stream", body, len, 1);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seconds");
	int seconds;

	(void)cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	switch (rthttp_route(method, url, *upload_size, arg, &seconds)) {
	case RTHTTP_ROUTE_PROFILE:
		return serve_profile(c, seconds);
	case RTHTTP_ROUTE_INDEX:
		return respond(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_page,
			       sizeof(index_page) - 1, 0);
	case RTHTTP_ROUTE_BAD_SECONDS:
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "%s\n", cpgo_last_error());
	case RTHTTP_ROUTE_BODY:
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "no request body expected\n");
	case RTHTTP_ROUTE_METHOD:
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is supported\n");
	case RTHTTP_ROUTE_NOT_FOUND:
		break;
	}
	return respond_text(c, MHD_HTTP_NOT_FOUND,
			    "%s: not found; libcpgo serves /debug/pprof/ and "
			    "/debug/pprof/profile?seconds=N\n", url);
}

int rthttp_start(const char *spec)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	const char *port_file = getenv("CPGO_HTTP_PORT_FILE");
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	sigset_t all, old;
	socklen_t len;
	int old_internal;

	if (H.daemon)
		return error("the HTTP endpoint is already running on port %d", H.port);
	if (rthttp_parse_addr(spec, &ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	H.shutdown = 0;
	/* Server threads are libcpgo's: never sampled, and the program's signals go elsewhere. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	old_internal = threads_set_internal(1);
	H.daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
				    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
				    (unsigned)16, MHD_OPTION_END);
	threads_set_internal(old_internal);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!H.daemon)
		return error("cannot listen on %s (port in use? try another port or :0)", spec);
	info = MHD_get_daemon_info(H.daemon, MHD_DAEMON_INFO_BIND_PORT);
	H.port = info ? info->port : 0;
	if (port_file && *port_file) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d\n", H.port);
		if (cpgo_write_file_atomic(port_file, buf, (size_t)n) < 0)
			return error_prefix("CPGO_HTTP_PORT_FILE");
	} else {
		/* The one message libcpgo prints unasked: the caller asked for any port. */
		const char *colon = strrchr(spec, ':');
		if (colon && !strcmp(colon, ":0"))
			fprintf(stderr, "cpgo: serving http://%s:%d/debug/pprof/\n",
				ss.ss_family == AF_INET6 ? "[::1]" : "127.0.0.1", H.port);
	}
	return 0;
}

void rthttp_stop(void)
{
	if (!H.daemon)
		return;
	pthread_mutex_lock(&H.lock);
	H.shutdown = 1;
	pthread_cond_broadcast(&H.cond);
	pthread_mutex_unlock(&H.lock);
	MHD_stop_daemon(H.daemon);
	H.daemon = NULL;
	H.port = 0;
}

void rthttp_atfork_child(void)
{
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&H.lock, NULL);
	pthread_cond_init(&H.cond, NULL);
	atomic_store(&H.busy, 0);
	if (!H.daemon)
		return;
	/* The server's threads stayed in the parent; the child must not hold its port. */
	info = MHD_get_daemon_info(H.daemon, MHD_DAEMON_INFO_LISTEN_FD);
	if (info && info->listen_fd >= 0)
		close(info->listen_fd);
	H.daemon = NULL;
	H.port = 0;
}
