/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DOC: telemetry service.
 *
 * A 1 Hz timer on the control-plane loop reads the data plane's counters
 * (the same JSON the API serves), turns them into per-second rates and
 * stores them in a ring of AP_TELEMETRY_HISTORY samples allocated at start:
 * sampling never grows memory. Each sample also goes out as a Server-Sent
 * Event ("event: sample") to every open /api/v1/events stream; streams are
 * suspended between samples, so the loop never blocks or spins on a client.
 *
 * /metrics renders the current counters on demand (no cache: a scrape sees
 * what the API sees at that instant).
 *
 * Log settings changed at runtime are validated whole before any is applied,
 * so a bad request changes nothing.
 */
#include "svc/telemetry/telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dp/core/dp_core.h"
#include "dp/dp.h"
#include "lib/log.h"
#include "svc/api/api.h"
#include "svc/telemetry/metrics.h"

#define MOD "telemetry"

#ifndef AP_WEB_ROOT_INSTALLED
#define AP_WEB_ROOT_INSTALLED "/usr/local/share/aetherpacket/web"
#endif
#ifndef AP_WEB_ROOT_SOURCE
#define AP_WEB_ROOT_SOURCE "web"
#endif

#define SAMPLE_MS    1000
#define PORT_VALUES  5 /* rx_pps, tx_pps, rx_bps, tx_bps, drops_pps */
#define PORT_NAME    32
#define WEB_FILE_MAX (4u << 20)

static const char *const port_value_names[PORT_VALUES] = {"rx_pps", "tx_pps", "rx_bps", "tx_bps",
							  "drops_pps"};
/* Counters behind each rate; bytes become bits per second. */
static const char *const port_counter_names[PORT_VALUES] = {"rx_packets", "tx_packets", "rx_bytes",
							    "tx_bytes", "drops"};

struct telemetry {
	uv_loop_t *loop;
	struct ap_api *api;
	struct ap_dp *dp;
	uv_timer_t timer;
	uint64_t start_ns;
	char web_root[PATH_MAX];

	/* History: ring of 'cap' samples of 'stride' floats each. */
	unsigned n_ports;
	char (*port_names)[PORT_NAME];
	const char *reasons[AP_DROP_COUNT];
	unsigned n_reasons;
	unsigned stride;
	float *ring;
	int64_t *ts_ms;
	unsigned head; /* Next slot to write. */
	unsigned count;
	uint64_t *prev; /* Counters at the previous sample, 'stride' of them. */
	uint64_t prev_ns;
	bool have_prev;
	json_t *last; /* Latest sample as sent to streams. */

	struct ap_api_stream *streams[AP_TELEMETRY_MAX_STREAMS];
	unsigned n_streams;

	/* Log settings made at runtime, for GET /api/v1/log. */
	bool log_json;
	char log_modules[AP_LOG_MAX_MODULES][AP_LOG_MODULE_MAX];
	unsigned n_log_modules;
};

static double
uptime_s(const struct telemetry *t)
{
	return (double)(uv_hrtime() - t->start_ns) / 1e9;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
u64_of(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v > 0 ? (uint64_t)v : 0;
}

/* --- sampling ------------------------------------------------------------- */

/* Counters in ring order: per port PORT_VALUES, then one per drop reason. */
static void
read_counters(struct telemetry *t, const json_t *ports, const json_t *stats, uint64_t *cur)
{
	const json_t *arr = json_object_get(ports, "ports");
	const json_t *reasons = json_object_get(json_object_get(stats, "drops"), "reasons");

	memset(cur, 0, t->stride * sizeof(*cur));
	for (unsigned p = 0; p < t->n_ports; p++) {
		const json_t *o = json_array_get(arr, p);

		for (unsigned k = 0; k < PORT_VALUES; k++)
			cur[p * PORT_VALUES + k] = u64_of(o, port_counter_names[k]);
	}
	for (unsigned r = 0; r < t->n_reasons; r++)
		cur[t->n_ports * PORT_VALUES + r] = u64_of(reasons, t->reasons[r]);
}

static json_t *
sample_json(const struct telemetry *t, const float *v, int64_t ts, const json_t *ports,
	    const json_t *stats)
{
	json_t *jp = json_array(), *rates = json_object();
	const json_t *arr = json_object_get(ports, "ports");

	for (unsigned p = 0; p < t->n_ports; p++) {
		const json_t *o = json_array_get(arr, p);
		json_t *e = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "name", t->port_names[p],
				      "rx_packets", (json_int_t)u64_of(o, "rx_packets"),
				      "tx_packets", (json_int_t)u64_of(o, "tx_packets"), "rx_bytes",
				      (json_int_t)u64_of(o, "rx_bytes"), "tx_bytes",
				      (json_int_t)u64_of(o, "tx_bytes"), "drops",
				      (json_int_t)u64_of(o, "drops"));

		for (unsigned k = 0; k < PORT_VALUES; k++)
			json_object_set_new(e, port_value_names[k],
					    json_real(v[p * PORT_VALUES + k]));
		json_array_append_new(jp, e);
	}
	for (unsigned r = 0; r < t->n_reasons; r++) {
		float x = v[t->n_ports * PORT_VALUES + r];

		if (x > 0)
			json_object_set_new(rates, t->reasons[r], json_real(x));
	}
	return json_pack("{s:I,s:f,s:o,s:o,s:O}", "ts", (json_int_t)ts, "uptime_s", uptime_s(t),
			 "ports", jp, "drop_rates", rates, "drops",
			 stats ? json_object_get(stats, "drops")
			       : json_pack("{s:i,s:{}}", "total", 0, "reasons"));
}

static void
broadcast(struct telemetry *t, const json_t *sample)
{
	char *data = json_dumps(sample, JSON_COMPACT);
	size_t len;
	char *msg;

	if (data == NULL)
		return;
	len = strlen(data) + sizeof("event: sample\ndata: \n\n");
	msg = malloc(len);
	if (msg != NULL) {
		int n = snprintf(msg, len, "event: sample\ndata: %s\n\n", data);

		/* A client too slow to take its samples is dropped by the server. */
		for (unsigned i = 0; i < t->n_streams; i++)
			if (ap_api_stream_send(t->streams[i], msg, (size_t)n) == -ENOBUFS)
				AP_LOG_WARN(MOD, "events client too slow: dropped");
	}
	free(msg);
	free(data);
}

static void
take_sample(struct telemetry *t)
{
	json_t *ports = t->dp ? ap_dp_ports_json(t->dp) : NULL;
	json_t *stats = t->dp ? ap_dp_stats_json(t->dp) : NULL;
	uint64_t now = uv_hrtime();
	uint64_t cur[PORT_VALUES * AP_CFG_MAX_PORTS + AP_DROP_COUNT];
	float *v = t->ring + (size_t)t->head * t->stride;
	double dt = t->have_prev ? (double)(now - t->prev_ns) / 1e9 : 0;

	read_counters(t, ports, stats, cur);
	for (unsigned i = 0; i < t->stride; i++) {
		double d = cur[i] >= t->prev[i] ? (double)(cur[i] - t->prev[i]) : 0;

		v[i] = dt > 0 ? (float)(d / dt) : 0;
	}
	for (unsigned p = 0; p < t->n_ports; p++) {
		v[p * PORT_VALUES + 2] *= 8; /* bytes/s to bits/s */
		v[p * PORT_VALUES + 3] *= 8;
	}
	memcpy(t->prev, cur, t->stride * sizeof(*cur));
	t->prev_ns = now;
	t->ts_ms[t->head] = wall_ms();
	if (t->have_prev) {
		json_decref(t->last);
		t->last = sample_json(t, v, t->ts_ms[t->head], ports, stats);
		t->head = (t->head + 1) % AP_TELEMETRY_HISTORY;
		if (t->count < AP_TELEMETRY_HISTORY)
			t->count++;
		if (t->last != NULL)
			broadcast(t, t->last);
	}
	t->have_prev = true;
	json_decref(ports);
	json_decref(stats);
}

static void
on_sample(uv_timer_t *h)
{
	take_sample(h->data);
}

/* --- handlers ------------------------------------------------------------- */

static int
h_metrics(void *ctx, const struct ap_api_req *req, struct ap_api_body *body, json_t **err)
{
	struct telemetry *t = ctx;

	if (ap_metrics_render(t->dp, uptime_s(t), &body->data, &body->len) < 0)
		return ap_api_error(err, 500, "out of memory");
	body->content_type = AP_METRICS_CONTENT_TYPE;
	body->cache = "no-store";
	return 200;
}

static int
h_history(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct telemetry *t = ctx;
	const char *q = ap_api_req_query(req, "seconds");
	unsigned n = t->count, first;
	json_t *ts, *ports, *drops;
	char *end;

	if (q != NULL) {
		unsigned long s = strtoul(q, &end, 10);

		if (q[0] < '0' || q[0] > '9' || *end != '\0' || s < 1 || s > AP_TELEMETRY_HISTORY)
			return ap_api_error(out, 400, "seconds must be an integer from 1 to %u",
					    AP_TELEMETRY_HISTORY);
		if (s < n)
			n = (unsigned)s;
	}
	first = (t->head + AP_TELEMETRY_HISTORY - n) % AP_TELEMETRY_HISTORY;
	ts = json_array();
	ports = json_array();
	drops = json_object();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(ts,
				      json_integer(t->ts_ms[(first + i) % AP_TELEMETRY_HISTORY]));
	for (unsigned p = 0; p < t->n_ports; p++) {
		json_t *e = json_pack("{s:s}", "name", t->port_names[p]);

		for (unsigned k = 0; k < PORT_VALUES; k++) {
			json_t *a = json_array();

			for (unsigned i = 0; i < n; i++) {
				const float *v =
					t->ring +
					(size_t)((first + i) % AP_TELEMETRY_HISTORY) * t->stride;

				json_array_append_new(a, json_real(v[p * PORT_VALUES + k]));
			}
			json_object_set_new(e, port_value_names[k], a);
		}
		json_array_append_new(ports, e);
	}
	/* Only reasons that dropped something in the window: most never do. */
	for (unsigned r = 0; r < t->n_reasons; r++) {
		unsigned col = t->n_ports * PORT_VALUES + r;
		bool any = false;
		json_t *a;

		for (unsigned i = 0; i < n && !any; i++)
			any = t->ring[(size_t)((first + i) % AP_TELEMETRY_HISTORY) * t->stride +
				      col] > 0;
		if (!any)
			continue;
		a = json_array();
		for (unsigned i = 0; i < n; i++)
			json_array_append_new(
				a, json_real(t->ring[(size_t)((first + i) % AP_TELEMETRY_HISTORY) *
							     t->stride +
						     col]));
		json_object_set_new(drops, t->reasons[r], a);
	}
	*out = json_pack("{s:i,s:i,s:o,s:o,s:o}", "interval_s", SAMPLE_MS / 1000, "capacity",
			 AP_TELEMETRY_HISTORY, "ts", ts, "ports", ports, "drop_rates", drops);
	return *out ? 200 : ap_api_error(out, 500, "out of memory");
}

static int
h_events_open(void *ctx, const struct ap_api_req *req, struct ap_api_stream *s, json_t **err)
{
	struct telemetry *t = ctx;
	static const char hello[] = "retry: 2000\n\n";

	if (t->n_streams == AP_TELEMETRY_MAX_STREAMS)
		return ap_api_error(err, 503, "too many event streams (at most %d)",
				    AP_TELEMETRY_MAX_STREAMS);
	t->streams[t->n_streams++] = s;
	ap_api_stream_send(s, hello, sizeof(hello) - 1);
	/* The latest sample at once, so a new page has numbers before the next tick. */
	if (t->last != NULL) {
		char *data = json_dumps(t->last, JSON_COMPACT);

		if (data != NULL) {
			ap_api_stream_send(s, "event: sample\ndata: ", 20);
			ap_api_stream_send(s, data, strlen(data));
			ap_api_stream_send(s, "\n\n", 2);
		}
		free(data);
	}
	return 200;
}

static void
h_events_close(void *ctx, struct ap_api_stream *s)
{
	struct telemetry *t = ctx;

	for (unsigned i = 0; i < t->n_streams; i++) {
		if (t->streams[i] == s) {
			t->streams[i] = t->streams[--t->n_streams];
			return;
		}
	}
}

static json_t *
log_json(const struct telemetry *t)
{
	json_t *mods = json_object();

	for (unsigned i = 0; i < t->n_log_modules; i++)
		json_object_set_new(
			mods, t->log_modules[i],
			json_string(ap_log_level_name(ap_log_get_level(t->log_modules[i]))));
	return json_pack("{s:s,s:s,s:o}", "level", ap_log_level_name(ap_log_get_level(NULL)),
			 "format", t->log_json ? "json" : "text", "modules", mods);
}

static int
h_log_get(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = log_json(ctx);
	return *out ? 200 : ap_api_error(out, 500, "out of memory");
}

static bool
valid_module(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n >= AP_LOG_MODULE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= '0' && m[i] <= '9') || m[i] == '-' ||
		      m[i] == '_' || m[i] == '.'))
			return false;
	return true;
}

/* GET /api/v1/logs?max=N&level=L&module=M: the newest records kept by the logger, newest
 * last. A record is kept only when it was written, so the level in force bounds what shows. */
static int
h_logs_get(void *ctx, const struct ap_api_req *req, json_t **out)
{
	const char *qmax = ap_api_req_query(req, "max");
	const char *qlevel = ap_api_req_query(req, "level");
	const char *module = ap_api_req_query(req, "module");
	unsigned max = AP_TELEMETRY_LOGS_DEFAULT;
	int level = AP_LOG_LEVEL_DEBUG;
	char *end;

	(void)ctx;
	if (qmax != NULL) {
		unsigned long n = strtoul(qmax, &end, 10);

		if (qmax[0] < '0' || qmax[0] > '9' || *end != '\0' || n < 1 ||
		    n > AP_LOG_RECENT_MAX)
			return ap_api_error(out, 400, "max must be an integer from 1 to %u",
					    AP_LOG_RECENT_MAX);
		max = (unsigned)n;
	}
	if (qlevel != NULL) {
		level = ap_log_level_parse(qlevel);
		if (level < 0)
			return ap_api_error(out, 400,
					    "level must be one of error, warning, info, debug");
	}
	if (module != NULL && !valid_module(module))
		return ap_api_error(out, 400,
				    "module must be a module name (1 to %d of a-z, 0-9, '-', '_', "
				    "'.')",
				    AP_LOG_MODULE_MAX - 1);
	*out = ap_log_recent_json(max, level, module);
	return *out ? 200 : ap_api_error(out, 500, "out of memory");
}

static int
find_module(const struct telemetry *t, const char *m)
{
	for (unsigned i = 0; i < t->n_log_modules; i++)
		if (strcmp(t->log_modules[i], m) == 0)
			return (int)i;
	return -1;
}

/*
 * {"level": L, "format": "text"|"json", "modules": {"bgp": L, "api": null}}:
 * every member optional; a module set to null goes back to the default level.
 */
static int
h_log_put(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct telemetry *t = ctx;
	const json_t *body = req->json, *mods, *v;
	int level = -1, format = -1, lv;
	unsigned adds = 0;
	const char *key;

	if (!json_is_object(body))
		return ap_api_error(out, 400, "expected a JSON object with level, format, modules");
	json_object_foreach((json_t *)body, key, v)
	{
		if (strcmp(key, "level") != 0 && strcmp(key, "format") != 0 &&
		    strcmp(key, "modules") != 0)
			return ap_api_error(out, 400,
					    "unknown member '%s' (expected level, format, "
					    "modules)",
					    key);
	}
	v = json_object_get(body, "level");
	if (v != NULL &&
	    (!json_is_string(v) || (level = ap_log_level_parse(json_string_value(v))) < 0))
		return ap_api_error(out, 400, "level must be one of error, warning, info, debug");
	v = json_object_get(body, "format");
	if (v != NULL &&
	    (!json_is_string(v) || (format = ap_log_format_parse(json_string_value(v))) < 0))
		return ap_api_error(out, 400, "format must be text or json");
	mods = json_object_get(body, "modules");
	if (mods != NULL && !json_is_object(mods))
		return ap_api_error(out, 400, "modules must be an object of module: level");
	json_object_foreach((json_t *)mods, key, v)
	{
		if (!valid_module(key))
			return ap_api_error(out, 400,
					    "invalid module name '%s' (1 to %d of a-z, 0-9, '-', "
					    "'_', '.')",
					    key, AP_LOG_MODULE_MAX - 1);
		if (json_is_null(v))
			continue;
		if (!json_is_string(v) || ap_log_level_parse(json_string_value(v)) < 0)
			return ap_api_error(out, 400,
					    "level of module '%s' must be one of error, warning, "
					    "info, debug or null",
					    key);
		if (find_module(t, key) < 0)
			adds++;
	}
	if (t->n_log_modules + adds > AP_LOG_MAX_MODULES)
		return ap_api_error(out, 409, "too many modules with their own level (at most %d)",
				    AP_LOG_MAX_MODULES);

	/* Everything is valid: apply. */
	if (level >= 0)
		ap_log_set_level(NULL, (enum ap_log_level)level);
	if (format >= 0) {
		ap_log_set_format((enum ap_log_format)format);
		t->log_json = format == AP_LOG_FORMAT_JSON;
	}
	json_object_foreach((json_t *)mods, key, v)
	{
		int i = find_module(t, key);

		if (json_is_null(v)) {
			if (i >= 0) {
				memcpy(t->log_modules[i], t->log_modules[--t->n_log_modules],
				       AP_LOG_MODULE_MAX);
			}
			continue;
		}
		if (i < 0) {
			snprintf(t->log_modules[t->n_log_modules++], AP_LOG_MODULE_MAX, "%s", key);
		}
	}
	if (mods != NULL) {
		/* log.h forgets per-module levels only all at once: rebuild the table. */
		enum ap_log_level def = ap_log_get_level(NULL);
		enum ap_log_level keep[AP_LOG_MAX_MODULES];

		for (unsigned i = 0; i < t->n_log_modules; i++) {
			const json_t *nv = json_object_get(mods, t->log_modules[i]);

			lv = nv != NULL ? ap_log_level_parse(json_string_value(nv))
					: (int)ap_log_get_level(t->log_modules[i]);
			keep[i] = (enum ap_log_level)lv;
		}
		ap_log_reset_levels();
		ap_log_set_level(NULL, def);
		for (unsigned i = 0; i < t->n_log_modules; i++)
			ap_log_set_level(t->log_modules[i], keep[i]);
	}
	AP_LOG_INFO(MOD, "log settings changed: level %s, format %s, %u module levels",
		    ap_log_level_name(ap_log_get_level(NULL)), t->log_json ? "json" : "text",
		    t->n_log_modules);
	*out = log_json(t);
	return *out ? 200 : ap_api_error(out, 500, "out of memory");
}

/* --- dashboard files ------------------------------------------------------ */

static const char *
content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return NULL;
}

static int
serve_file(const struct telemetry *t, const char *name, struct ap_api_body *body, json_t **err)
{
	char path[PATH_MAX + 64];
	const char *type = content_type(name);
	struct stat sb;
	char *buf;
	ssize_t n;
	int fd;

	/* One plain file name: no dot files, no path separators, no "..". */
	if (name[0] == '.' ||
	    name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
			      "VWXYZ0123456789._-")] != '\0' ||
	    type == NULL)
		return ap_api_error(err, 404, "no such file: %s", name);
	snprintf(path, sizeof(path), "%s/%s", t->web_root, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ap_api_error(err, 404, "no such file: %s", name);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > WEB_FILE_MAX) {
		close(fd);
		return ap_api_error(err, 404, "no such file: %s", name);
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return ap_api_error(err, 500, "out of memory");
	}
	n = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (n != sb.st_size) {
		free(buf);
		return ap_api_error(err, 500, "cannot read %s", name);
	}
	body->data = buf;
	body->len = (size_t)n;
	body->content_type = type;
	body->cache = "no-cache";
	return 200;
}

static int
h_index(void *ctx, const struct ap_api_req *req, struct ap_api_body *body, json_t **err)
{
	return serve_file(ctx, "index.html", body, err);
}

static int
h_static(void *ctx, const struct ap_api_req *req, struct ap_api_body *body, json_t **err)
{
	return serve_file(ctx, req->params[0], body, err);
}

/* --- service hooks -------------------------------------------------------- */

static bool
has_index(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/index.html", dir);
	return access(path, R_OK) == 0;
}

static int
history_init(struct telemetry *t)
{
	json_t *ports = t->dp ? ap_dp_ports_json(t->dp) : NULL;
	const json_t *arr = json_object_get(ports, "ports");
	size_t np = json_array_size(arr);

	if (np > AP_CFG_MAX_PORTS)
		np = AP_CFG_MAX_PORTS;
	t->n_ports = (unsigned)np;
	t->port_names = calloc(np ? np : 1, sizeof(*t->port_names));
	for (unsigned p = 0; p < t->n_ports && t->port_names; p++)
		snprintf(t->port_names[p], PORT_NAME, "%s",
			 json_string_value(json_object_get(json_array_get(arr, p), "name")));
	json_decref(ports);
	if (t->dp != NULL) {
		for (unsigned r = 0; r < AP_DROP_COUNT; r++)
			t->reasons[r] = ap_drop_name((enum ap_drop_reason)r);
		t->n_reasons = AP_DROP_COUNT;
	}
	t->stride = t->n_ports * PORT_VALUES + t->n_reasons;
	t->ring = calloc((size_t)AP_TELEMETRY_HISTORY * (t->stride ? t->stride : 1),
			 sizeof(*t->ring));
	t->ts_ms = calloc(AP_TELEMETRY_HISTORY, sizeof(*t->ts_ms));
	t->prev = calloc(t->stride ? t->stride : 1, sizeof(*t->prev));
	if (t->port_names == NULL || t->ring == NULL || t->ts_ms == NULL || t->prev == NULL)
		return -ENOMEM;
	return 0;
}

static void
telemetry_free(struct telemetry *t)
{
	json_decref(t->last);
	free(t->port_names);
	free(t->ring);
	free(t->ts_ms);
	free(t->prev);
	free(t);
}

static void
on_timer_closed(uv_handle_t *h)
{
	telemetry_free(h->data);
}

static int
telemetry_start(const struct ap_svc_env *env, const struct ap_config *cfg, void **state)
{
	struct telemetry *t;
	int ret;

	*state = NULL;
	if (env->api == NULL)
		return 0; /* Offline batch run without an API: nothing to serve. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->loop = env->loop;
	t->api = env->api;
	t->dp = env->dp;
	t->start_ns = uv_hrtime();
	t->log_json = cfg->log_json;
	if (cfg->api_web_root[0] != '\0')
		snprintf(t->web_root, sizeof(t->web_root), "%s", cfg->api_web_root);
	else if (has_index(AP_WEB_ROOT_INSTALLED))
		snprintf(t->web_root, sizeof(t->web_root), "%s", AP_WEB_ROOT_INSTALLED);
	else
		snprintf(t->web_root, sizeof(t->web_root), "%s", AP_WEB_ROOT_SOURCE);
	ret = history_init(t);
	if (ret < 0)
		goto fail;
	if ((ret = ap_api_route_raw(t->api, "GET", "/metrics", 0, h_metrics, t)) < 0 ||
	    (ret = ap_api_route(t->api, "GET", "/api/v1/history", h_history, t)) < 0 ||
	    (ret = ap_api_route_stream(t->api, "/api/v1/events", AP_API_TOKEN_QUERY,
				       "text/event-stream", h_events_open, h_events_close, t)) <
		    0 ||
	    (ret = ap_api_route(t->api, "GET", "/api/v1/log", h_log_get, t)) < 0 ||
	    (ret = ap_api_route(t->api, "PUT", "/api/v1/log", h_log_put, t)) < 0 ||
	    (ret = ap_api_route(t->api, "GET", "/api/v1/logs", h_logs_get, t)) < 0 ||
	    (ret = ap_api_route_raw(t->api, "GET", "/", AP_API_PUBLIC, h_index, t)) < 0 ||
	    (ret = ap_api_route_raw(t->api, "GET", "/static/{file}", AP_API_PUBLIC, h_static, t)) <
		    0)
		goto fail;
	if (!has_index(t->web_root))
		AP_LOG_WARN(MOD, "no dashboard files in %s (set api.web_root)", t->web_root);
	uv_timer_init(t->loop, &t->timer);
	t->timer.data = t;
	take_sample(t); /* The baseline for the first rates. */
	uv_timer_start(&t->timer, on_sample, SAMPLE_MS, SAMPLE_MS);
	*state = t;
	return 0;
fail:
	/* Routes cannot be unregistered; aetherd exits when a service fails to start. */
	telemetry_free(t);
	return ret;
}

static void
telemetry_stop(void *state)
{
	struct telemetry *t = state;

	if (t == NULL)
		return;
	uv_timer_stop(&t->timer);
	for (unsigned i = 0; i < t->n_streams; i++)
		ap_api_stream_end(t->streams[i]);
	t->n_streams = 0;
	/* Routes still point at 't': the loop frees it only after the API stopped. */
	uv_close((uv_handle_t *)&t->timer, on_timer_closed);
}

const struct ap_svc_ops ap_telemetry_svc = {
	.name = "telemetry",
	.start = telemetry_start,
	.stop = telemetry_stop,
};
