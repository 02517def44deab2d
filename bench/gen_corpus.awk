# Generates a deterministic, realistically compressible text corpus: web
# server logs, JSON events and CSV rows, from a Park-Miller generator (exact
# in any awk's doubles, so every awk writes the same bytes).
# usage: awk -v seed=N -v bytes=M -f gen_corpus.awk
function rnd(n) { state = (state * 16807) % 2147483647; return int(state / 2147483647 * n) }
function pick(arr, n) { return arr[rnd(n) + 1] }
BEGIN {
	state = seed > 0 ? seed : 1
	nv = split("GET GET GET POST PUT DELETE GET HEAD", verbs, " ")
	np = split("users orders items carts search login logout static/img static/css api/v1/stats api/v2/events health", paths, " ")
	nl = split("INFO INFO INFO INFO WARN ERROR DEBUG", levels, " ")
	nu = split("Mozilla/5.0 curl/7.88.1 Go-http-client/1.1 python-requests/2.28 okhttp/4.9.3", agents, " ")
	nw = split("alpha beta gamma delta kappa lambda sigma omega north south east west red green blue amber cobalt silver paris tokyo lagos lima oslo quito", words, " ")
	nc = split("200 200 200 200 200 304 404 500 201 302", codes, " ")
	out = 0
	t = 1700000000
	while (out < bytes) {
		t += rnd(3)
		k = rnd(10)
		if (k < 6) {
			line = sprintf("2023-11-%02d %02d:%02d:%02d.%03d %s [worker-%d] %s /%s/%d?page=%d %s %dB %d.%dms ua=\"%s\"",
				14 + int((t - 1700000000) / 86400) % 14, int(t / 3600) % 24, int(t / 60) % 60, t % 60, rnd(1000),
				pick(levels, nl), rnd(16), pick(verbs, nv), pick(paths, np), rnd(100000), rnd(20),
				pick(codes, nc), rnd(50000), rnd(300), rnd(10), pick(agents, nu))
		} else if (k < 9) {
			line = sprintf("{\"ts\":%d,\"event\":\"%s_%s\",\"user\":%d,\"tags\":[\"%s\",\"%s\"],\"value\":%d.%02d,\"ok\":%s}",
				t, pick(words, nw), pick(words, nw), rnd(50000), pick(words, nw), pick(words, nw),
				rnd(10000), rnd(100), rnd(4) ? "true" : "false")
		} else {
			line = sprintf("%d,%s,%s,%d,%d,%s %s %s", rnd(1000000), pick(words, nw), pick(words, nw),
				rnd(100), rnd(100000) - 50000, pick(words, nw), pick(words, nw), pick(words, nw))
		}
		print line
		out += length(line) + 1
	}
}
