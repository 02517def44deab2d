/*
 * What the pprof endpoint does with a request, apart from the server
 * (rthttp.h): the fuzz target drives it through libmicrohttpd's own parser
 * without a listening socket or a profiler.
 */
#include "rthttp.h"

#include "rtenv.h"
#include "util/error.h"

#include <string.h>

#define RTHTTP_DEFAULT_SECONDS 30

int rthttp_parse_seconds(const char *s, int *out)
{
	if (!s || !*s) {
		*out = RTHTTP_DEFAULT_SECONDS;
		return 0;
	}
	if (rtenv_parse_int(s, 1, RTHTTP_MAX_SECONDS, out) < 0)
		return error("seconds=%s: must be a whole number of seconds in 1..%d", s,
			     RTHTTP_MAX_SECONDS);
	return 0;
}

enum rthttp_route rthttp_route(const char *method, const char *url, size_t upload_size,
			       const char *seconds_arg, int *seconds)
{
	*seconds = 0;
	if (upload_size)
		return RTHTTP_ROUTE_BODY;
	if (!method || strcmp(method, "GET"))
		return RTHTTP_ROUTE_METHOD;
	if (!url)
		return RTHTTP_ROUTE_NOT_FOUND;
	if (!strcmp(url, "/debug/pprof/profile"))
		return rthttp_parse_seconds(seconds_arg, seconds) < 0 ? RTHTTP_ROUTE_BAD_SECONDS :
									 RTHTTP_ROUTE_PROFILE;
	if (!strcmp(url, "/debug/pprof/") || !strcmp(url, "/debug/pprof"))
		return RTHTTP_ROUTE_INDEX;
	return RTHTTP_ROUTE_NOT_FOUND;
}
