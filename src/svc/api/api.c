/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * REST API server. libmicrohttpd runs in "external polling" mode with its
 * own epoll set (MHD_USE_EPOLL without an internal thread): the epoll fd is
 * watched by a uv_poll_t and MHD's next deadline by a uv_timer_t, so every
 * request is handled on the control-plane loop and handlers need no locks.
 *
 * The listen socket is created here rather than by MHD because MHD only
 * binds TCP ports; MHD takes it over through MHD_OPTION_LISTEN_SOCKET.
 * AF_UNIX peers have no address: accept() returns a bare sa_family_t, which
 * MHD 0.9.75 accepts in its epoll mode (checked by the unit tests).
 *
 * Each listener (the unix socket, optionally TCP) is its own MHD daemon with
 * its own epoll fd; both share the route table. Only TCP asks for the bearer
 * token: the unix socket is guarded by its file mode.
 *
 * Streams (Server-Sent Events) use a content reader that suspends its
 * connection when it has nothing to send; ap_api_stream_send() resumes it.
 * MHD 0.9.75 in external epoll mode does not make its epoll fd readable on
 * a resume, so the resume also arms the listener's timer at 0 ms; nothing
 * ever busy-waits.
 */
#include "svc/api/api.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_SEGS       16
#define CONN_LIMIT     64
#define CONN_TIMEOUT_S 30
#define LISTEN_BACKLOG 32
#define METHOD_MAX     16
#define STREAM_BLOCK   4096
#define TLS_FILE_MAX   (1u << 20)

enum route_kind { R_JSON, R_RAW, R_STREAM };

struct route {
	char method[METHOD_MAX];
	char *pattern;
	char *segs[MAX_SEGS]; /* Point into 'segbuf'; "{x}" marks a parameter. */
	unsigned n_segs;
	unsigned n_params;
	char *segbuf;
	enum route_kind kind;
	unsigned flags;
	ap_api_handler_fn fn;
	ap_api_raw_fn raw;
	ap_api_stream_open_fn sopen;
	ap_api_stream_close_fn sclose;
	const char *ctype;
	void *ctx;
};

struct listener {
	struct ap_api *api;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	bool tcp;
};

struct ap_api_stream {
	struct MHD_Connection *conn;
	struct listener *lis;
	ap_api_stream_close_fn close;
	void *ctx;
	char *buf;
	size_t len, off, cap;
	bool suspended;
	bool ended;  /* Owner is done: flush, then end the body. */
	bool failed; /* Too slow: end with an error. */
};

struct ap_api {
	uv_loop_t *loop;
	struct listener lis[2];
	unsigned n_lis;
	unsigned open_handles;
	char token[AP_API_TOKEN_LEN + 1];
	unsigned tcp_port;
	char *tls_cert;
	char *tls_key;
	char *path;
	dev_t sock_dev;
	ino_t sock_ino;
	struct route *routes;
	size_t n_routes;
	size_t cap_routes;
};

/* Per-request state, from the first access callback to request completion. */
struct req_state {
	char *body;
	size_t len;
	size_t cap;
	bool too_big;
	bool denied; /* A 401 is queued: drain the body. */
};

int
ap_api_error(json_t **out, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*out = json_pack("{s:{s:i,s:s}}", "error", "status", status, "message", msg);
	if (*out == NULL) {
		/* Not UTF-8 (a path from the client, say): keep the ASCII part readable. */
		for (char *p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		*out = json_pack("{s:{s:i,s:s}}", "error", "status", status, "message", msg);
	}
	return status;
}

const char *
ap_api_req_query(const struct ap_api_req *req, const char *key)
{
	if (req == NULL || req->conn == NULL || key == NULL)
		return NULL;
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

/*
 * Split 'path' in place into segments. A single trailing slash is not
 * significant, so "/api/v1" and "/api/v1/" name the same resource.
 * Returns the number of segments or -1 when there are too many.
 */
static int
split_path(char *path, char **segs)
{
	size_t len = strlen(path);
	unsigned n = 0;
	char *p;

	if (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	if (strcmp(path, "/") == 0)
		return 0;
	p = path + 1;
	for (;;) {
		char *slash = strchr(p, '/');

		if (n == MAX_SEGS)
			return -1;
		segs[n++] = p;
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	return (int)n;
}

static bool
seg_is_param(const char *seg)
{
	size_t len = strlen(seg);

	return len >= 3 && seg[0] == '{' && seg[len - 1] == '}';
}

static bool
valid_method(const char *method)
{
	size_t len = strlen(method);

	if (len == 0 || len >= METHOD_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (method[i] < 'A' || method[i] > 'Z')
			return false;
	return true;
}

static void
route_free(struct route *r)
{
	free(r->pattern);
	free(r->segbuf);
}

static int
route_add(struct ap_api *api, const char *method, const char *pattern, const struct route *tmpl)
{
	struct route r = *tmpl;
	int n;

	if (api == NULL || method == NULL || pattern == NULL)
		return -EINVAL;
	if (!valid_method(method) || pattern[0] != '/')
		return -EINVAL;
	strcpy(r.method, method);
	r.n_params = 0;
	r.pattern = strdup(pattern);
	r.segbuf = strdup(pattern);
	if (r.pattern == NULL || r.segbuf == NULL)
		goto nomem;
	n = split_path(r.segbuf, r.segs);
	if (n < 0)
		goto inval;
	r.n_segs = (unsigned)n;
	for (unsigned i = 0; i < r.n_segs; i++) {
		if (r.segs[i][0] == '\0' && i + 1 < r.n_segs)
			goto inval; /* "//" inside a pattern */
		if (seg_is_param(r.segs[i]))
			r.n_params++;
		else if (strpbrk(r.segs[i], "{}") != NULL)
			goto inval;
	}
	if (r.n_params > AP_API_MAX_PARAMS)
		goto inval;

	for (size_t i = 0; i < api->n_routes; i++) {
		const struct route *o = &api->routes[i];
		bool same = o->n_segs == r.n_segs && strcmp(o->method, r.method) == 0;

		for (unsigned s = 0; same && s < r.n_segs; s++) {
			bool p1 = seg_is_param(o->segs[s]), p2 = seg_is_param(r.segs[s]);

			same = (p1 && p2) || (!p1 && !p2 && strcmp(o->segs[s], r.segs[s]) == 0);
		}
		if (same) {
			route_free(&r);
			return -EEXIST;
		}
	}

	if (api->n_routes == api->cap_routes) {
		size_t cap = api->cap_routes ? api->cap_routes * 2 : 16;
		struct route *nr = realloc(api->routes, cap * sizeof(*nr));

		if (nr == NULL)
			goto nomem;
		api->routes = nr;
		api->cap_routes = cap;
	}
	api->routes[api->n_routes++] = r;
	return 0;
nomem:
	route_free(&r);
	return -ENOMEM;
inval:
	route_free(&r);
	return -EINVAL;
}

int
ap_api_route(struct ap_api *api, const char *method, const char *pattern, ap_api_handler_fn fn,
	     void *ctx)
{
	struct route r = {.kind = R_JSON, .fn = fn, .ctx = ctx};

	if (fn == NULL)
		return -EINVAL;
	return route_add(api, method, pattern, &r);
}

int
ap_api_route_raw(struct ap_api *api, const char *method, const char *pattern, unsigned flags,
		 ap_api_raw_fn fn, void *ctx)
{
	struct route r = {.kind = R_RAW, .flags = flags, .raw = fn, .ctx = ctx};

	if (fn == NULL)
		return -EINVAL;
	return route_add(api, method, pattern, &r);
}

int
ap_api_route_stream(struct ap_api *api, const char *pattern, unsigned flags,
		    const char *content_type, ap_api_stream_open_fn open,
		    ap_api_stream_close_fn close, void *ctx)
{
	struct route r = {.kind = R_STREAM,
			  .flags = flags,
			  .sopen = open,
			  .sclose = close,
			  .ctype = content_type,
			  .ctx = ctx};

	if (open == NULL || close == NULL || content_type == NULL)
		return -EINVAL;
	return route_add(api, "GET", pattern, &r);
}

/* True when 'r' matches the split request path; fills the parameters. */
static bool
route_match(const struct route *r, char **segs, unsigned n_segs, struct ap_api_req *req)
{
	unsigned np = 0;

	if (r->n_segs != n_segs)
		return false;
	for (unsigned i = 0; i < n_segs; i++) {
		if (seg_is_param(r->segs[i])) {
			if (segs[i][0] == '\0')
				return false;
			if (req != NULL)
				req->params[np] = segs[i];
			np++;
		} else if (strcmp(r->segs[i], segs[i]) != 0) {
			return false;
		}
	}
	if (req != NULL)
		req->n_params = np;
	return true;
}

/* Discovery document: every registered route, in registration order. */
static int
index_handler(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct ap_api *api = ctx;
	json_t *routes = json_array();

	for (size_t i = 0; i < api->n_routes; i++)
		json_array_append_new(routes,
				      json_pack("{s:s,s:s}", "method", api->routes[i].method,
						"path", api->routes[i].pattern));
	*out = json_pack("{s:s,s:s,s:o}", "name", "aetherd", "api", "v1", "routes", routes);
	return *out ? 200 : ap_api_error(out, 500, "out of memory");
}

/* 'hname' names one extra header (Allow, WWW-Authenticate) when 'hval' is set. */
static enum MHD_Result
send_json(struct MHD_Connection *conn, int status, json_t *body, const char *hname,
	  const char *hval)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;

	if (status < 100 || status > 599) {
		json_decref(body);
		body = NULL;
		ap_api_error(&body, 500, "handler returned invalid status %d", status);
		status = 500;
	}
	if (body == NULL && status != 204 && status != 304) {
		if (status >= 400)
			ap_api_error(&body, status, "%s", MHD_get_reason_phrase_for(status));
		else
			body = json_object();
	}
	if (body != NULL) {
		size_t need = json_dumpb(body, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

		buf = need ? malloc(need + 1) : NULL;
		if (buf == NULL) {
			json_decref(body);
			return MHD_NO;
		}
		len = json_dumpb(body, buf, need, JSON_COMPACT | JSON_ENCODE_ANY);
		buf[len++] = '\n';
		json_decref(body);
	}
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(buf);
		return MHD_NO;
	}
	if (len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (hval != NULL)
		MHD_add_response_header(resp, hname, hval);
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *hname,
				  const char *hval, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum MHD_Result
send_error(struct MHD_Connection *conn, int status, const char *hname, const char *hval,
	   const char *fmt, ...)
{
	char msg[512];
	json_t *body = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ap_api_error(&body, status, "%s", msg);
	return send_json(conn, status, body, hname, hval);
}

static bool
is_json_type(const char *ctype)
{
	size_t n = strlen("application/json");

	if (ctype == NULL || strncasecmp(ctype, "application/json", n) != 0)
		return false;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

/* Append the methods of every route matching the path to 'allow' (deduplicated). */
static void
allowed_methods(const struct ap_api *api, char **segs, unsigned n_segs, char *allow, size_t size)
{
	allow[0] = '\0';
	for (size_t i = 0; i < api->n_routes; i++) {
		const struct route *r = &api->routes[i];
		size_t used = strlen(allow);
		bool seen = false;

		if (!route_match(r, segs, n_segs, NULL))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(api->routes[j].method, r->method) == 0 &&
			       route_match(&api->routes[j], segs, n_segs, NULL);
		if (!seen)
			snprintf(allow + used, size - used, "%s%s", used ? ", " : "", r->method);
	}
}

/* The route that answers 'method' on 'segs': fewest parameters, then registration order. */
static const struct route *
find_route(const struct ap_api *api, const char *method, char **segs, unsigned n_segs)
{
	const struct route *best = NULL;

	for (size_t i = 0; i < api->n_routes; i++) {
		const struct route *r = &api->routes[i];

		if (strcmp(r->method, method) != 0 || !route_match(r, segs, n_segs, NULL))
			continue;
		if (best == NULL || r->n_params < best->n_params)
			best = r;
	}
	return best;
}

/* --- streams ---------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ap_api_stream *s = cls;
	size_t n;

	if (s->failed)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (s->off < s->len) {
		n = s->len - s->off < max ? s->len - s->off : max;
		memcpy(buf, s->buf + s->off, n);
		s->off += n;
		if (s->off == s->len)
			s->off = s->len = 0;
		return (ssize_t)n;
	}
	if (s->ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to send: park the connection until ap_api_stream_send(). */
	MHD_suspend_connection(s->conn);
	s->suspended = true;
	return 0;
}

static void
stream_free(void *cls)
{
	struct ap_api_stream *s = cls;

	if (!s->ended && s->close != NULL)
		s->close(s->ctx, s);
	free(s->buf);
	free(s);
}

static void
stream_wake(struct ap_api_stream *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
		/* Run MHD soon even if its epoll fd does not wake the poll watcher. */
		uv_timer_start(&s->lis->timer, on_timer, 0, 0);
	}
}

int
ap_api_stream_send(struct ap_api_stream *s, const void *data, size_t len)
{
	if (s == NULL || s->ended || s->failed)
		return -EPIPE;
	if (s->len + len > AP_API_STREAM_MAX_PENDING) {
		s->failed = true;
		stream_wake(s);
		return -ENOBUFS;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : STREAM_BLOCK;
		char *nb;

		while (cap < s->len + len)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (nb == NULL)
			return -ENOMEM;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	stream_wake(s);
	return 0;
}

void
ap_api_stream_end(struct ap_api_stream *s)
{
	if (s == NULL)
		return;
	s->ended = true;
	stream_wake(s);
}

static enum MHD_Result
open_stream(struct listener *lis, struct MHD_Connection *conn, const struct route *r,
	    const struct ap_api_req *req)
{
	struct ap_api_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	enum MHD_Result ret;
	json_t *err = NULL;
	int status;

	if (s == NULL)
		return MHD_NO;
	s->conn = conn;
	s->lis = lis;
	s->ctx = r->ctx;
	status = r->sopen(r->ctx, req, s, &err);
	if (status != 200) {
		free(s->buf);
		free(s);
		return send_json(conn, status, err, NULL, NULL);
	}
	json_decref(err);
	/* From here the close callback owns the owner's side of the stream. */
	s->close = r->sclose;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, s,
						 stream_free);
	if (resp == NULL) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* --- requests --------------------------------------------------------- */

static enum MHD_Result
send_raw(struct MHD_Connection *conn, int status, struct ap_api_body *b)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(b->data);
		return MHD_NO;
	}
	if (b->content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, b->content_type);
	if (b->cache != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, b->cache);
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
dispatch(struct listener *lis, struct MHD_Connection *conn, const char *url, const char *method,
	 struct req_state *st)
{
	struct ap_api *api = lis->api;
	struct ap_api_req req = {0};
	const struct route *best;
	char *segs[MAX_SEGS];
	char allow[256];
	char *pathbuf;
	json_t *out = NULL;
	const char *want = method;
	enum MHD_Result ret;
	int n, status;

	/* HEAD is GET without a body (RFC 9110 9.3.2); MHD drops the body itself. */
	if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		want = MHD_HTTP_METHOD_GET;
	pathbuf = strdup(url);
	if (pathbuf == NULL)
		return MHD_NO;
	n = split_path(pathbuf, segs);
	if (n < 0) {
		ret = send_error(conn, 404, NULL, NULL, "no such resource: %s", url);
		goto out;
	}
	best = find_route(api, want, segs, (unsigned)n);
	if (best == NULL) {
		allowed_methods(api, segs, (unsigned)n, allow, sizeof(allow));
		if (allow[0] == '\0')
			ret = send_error(conn, 404, NULL, NULL, "no such resource: %s", url);
		else
			ret = send_error(conn, 405, MHD_HTTP_HEADER_ALLOW, allow,
					 "method %s not allowed on %s", method, url);
		goto out;
	}

	req.method = method;
	req.path = url;
	req.body = st->body;
	req.body_len = st->len;
	req.conn = conn;
	route_match(best, segs, (unsigned)n, &req);
	if (best->kind == R_STREAM) {
		ret = open_stream(lis, conn, best, &req);
		goto out;
	}
	if (st->len > 0 &&
	    (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	     strcmp(method, "PATCH") == 0) &&
	    is_json_type(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE))) {
		json_error_t err;

		req.json = json_loadb(st->body, st->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				      &err);
		if (req.json == NULL) {
			ret = send_error(conn, 400, NULL, NULL,
					 "invalid JSON body: %s (line %d, column %d)", err.text,
					 err.line, err.column);
			goto out;
		}
	}
	if (best->kind == R_RAW) {
		struct ap_api_body body = {0};

		status = best->raw(best->ctx, &req, &body, &out);
		json_decref(req.json);
		if (status >= 200 && status < 300 && out == NULL) {
			ret = send_raw(conn, status, &body);
			goto out;
		}
		free(body.data);
		ret = send_json(conn, status, out, NULL, NULL);
		goto out;
	}
	status = best->fn(best->ctx, &req, &out);
	json_decref(req.json);
	ret = send_json(conn, status, out, NULL, NULL);
out:
	free(pathbuf);
	return ret;
}

/* Compare in time independent of where the strings differ. */
static bool
token_equal(const char *given, size_t len, const char *token)
{
	unsigned char diff = len != AP_API_TOKEN_LEN;

	for (size_t i = 0; i < AP_API_TOKEN_LEN; i++)
		diff |= (unsigned char)((i < len ? given[i] : 0) ^ token[i]);
	return diff == 0;
}

/*
 * RFC 6750 section 2.1: "Authorization: Bearer <token>", scheme case-insensitive.
 * Routes flagged AP_API_TOKEN_QUERY also take "?token=" because a browser's
 * EventSource cannot set headers.
 */
static bool
authorized(const struct listener *lis, struct MHD_Connection *conn, const char *url,
	   const char *method)
{
	const struct ap_api *api = lis->api;
	const struct route *r = NULL;
	const char *h, *q;
	char *segs[MAX_SEGS];
	char *pathbuf;
	unsigned flags = 0;
	int n;

	if (!lis->tcp)
		return true;
	pathbuf = strdup(url);
	if (pathbuf == NULL)
		return false;
	n = split_path(pathbuf, segs);
	if (n >= 0)
		r = find_route(api, strcmp(method, "HEAD") == 0 ? "GET" : method, segs,
			       (unsigned)n);
	if (r != NULL)
		flags = r->flags;
	free(pathbuf);
	if (flags & AP_API_PUBLIC)
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		size_t len;

		h += 7;
		while (*h == ' ')
			h++;
		len = strlen(h);
		while (len > 0 && h[len - 1] == ' ')
			len--;
		return token_equal(h, len, api->token);
	}
	q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
	if ((flags & AP_API_TOKEN_QUERY) && q != NULL)
		return token_equal(q, strlen(q), api->token);
	return false;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct listener *lis = cls;
	struct req_state *st = *con_cls;

	if (st == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return MHD_NO;
		*con_cls = st;
		if (!authorized(lis, conn, url, method)) {
			st->denied = true;
			return send_error(conn, 401, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					  "Bearer realm=\"aetherd\"",
					  "missing or invalid bearer token");
		}
		/*
		 * Refuse a declared oversize body before reading it: with
		 * "Expect: 100-continue" the client then never sends it.
		 */
		if (cl != NULL && strtoull(cl, NULL, 10) > AP_API_MAX_BODY) {
			st->too_big = true;
			return send_error(conn, 413, NULL, NULL, "request body exceeds %u bytes",
					  AP_API_MAX_BODY);
		}
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (st->too_big || st->denied)
			return MHD_YES; /* Drain a body that will not be used. */
		if (st->len + n > AP_API_MAX_BODY) {
			st->too_big = true;
			free(st->body);
			st->body = NULL;
			st->len = st->cap = 0;
			return MHD_YES;
		}
		if (st->len + n + 1 > st->cap) {
			size_t cap = st->cap ? st->cap : 4096;
			char *nb;

			while (cap < st->len + n + 1)
				cap *= 2;
			nb = realloc(st->body, cap);
			if (nb == NULL)
				return MHD_NO;
			st->body = nb;
			st->cap = cap;
		}
		memcpy(st->body + st->len, upload_data, n);
		st->len += n;
		st->body[st->len] = '\0';
		return MHD_YES;
	}

	if (st->denied)
		return MHD_YES;
	if (st->too_big)
		return send_error(conn, 413, NULL, NULL, "request body exceeds %u bytes",
				  AP_API_MAX_BODY);
	return dispatch(lis, conn, url, method, st);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct req_state *st = *con_cls;

	if (st != NULL) {
		free(st->body);
		free(st);
		*con_cls = NULL;
	}
}

__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* An event-stream client that hangs up is how streams end: not an error. */
	if (strstr(msg, "no longer available for sending") != NULL)
		return;
	fprintf(stderr, "aetherd: api: %s", msg);
}

static void on_timer(uv_timer_t *t);

/* Run MHD once, then arm the timer for its next deadline. */
static void
drive(struct listener *lis)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(lis->mhd);
	if (MHD_get_timeout(lis->mhd, &ms) == MHD_YES)
		uv_timer_start(&lis->timer, on_timer, (uint64_t)ms, 0);
	else
		uv_timer_stop(&lis->timer);
}

static void
on_timer(uv_timer_t *t)
{
	drive(t->data);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	drive(p->data);
}

static void
free_api(struct ap_api *api)
{
	for (size_t i = 0; i < api->n_routes; i++)
		route_free(&api->routes[i]);
	free(api->routes);
	free(api->path);
	free(api->tls_cert);
	free(api->tls_key);
	free(api);
}

/* The struct outlives ap_api_stop() until libuv has closed every handle. */
static void
on_handle_closed(uv_handle_t *h)
{
	struct listener *lis = h->data;
	struct ap_api *api = lis->api;

	if (--api->open_handles == 0)
		free_api(api);
}

/* mkdir -p for the directory part of 'path', new components mode 0700. */
static int
make_parent_dirs(const char *path)
{
	char *dir = strdup(path);
	char *slash;
	int ret = 0;

	if (dir == NULL)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		goto out;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
out:
	free(dir);
	return ret;
}

/*
 * A socket file left by a crashed daemon is reused; one that a live server
 * still answers on is not. Anything that is not a socket is never removed.
 */
static int
clear_stale_socket(const struct sockaddr_un *sa)
{
	struct stat sb;
	int fd, ret;

	if (lstat(sa->sun_path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		return -EADDRINUSE;
	}
	ret = errno;
	close(fd);
	if (ret != ECONNREFUSED)
		return -ret;
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int
listen_unix(const char *path, dev_t *dev, ino_t *ino)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd = -1, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	ret = make_parent_dirs(path);
	if (ret < 0)
		return ret;
	ret = clear_stale_socket(&sa);
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Linux gives the socket file the mode of the socket inode: no window at 0777. */
	if (fchmod(fd, 0600) < 0)
		goto fail_errno;
	if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail_errno;
	if (chmod(path, 0600) < 0 || stat(path, &sb) < 0)
		goto fail_unlink;
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto fail_unlink;
	*dev = sb.st_dev;
	*ino = sb.st_ino;
	return fd;
fail_unlink:
	ret = -errno;
	unlink(path);
	close(fd);
	return ret;
fail_errno:
	ret = -errno;
	close(fd);
	return ret;
}

/* Remove the socket file only if it is still the one this server bound. */
static void
unlink_own_socket(const struct ap_api *api)
{
	struct stat sb;

	if (lstat(api->path, &sb) == 0 && sb.st_dev == api->sock_dev && sb.st_ino == api->sock_ino)
		unlink(api->path);
}

/* "127.0.0.1:8080", "[::1]:8080" into a socket address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sl = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

static bool
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int
listen_tcp(const struct sockaddr_storage *ss, socklen_t sl, unsigned *port)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, one = 1, ret;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)ss, sl) < 0 || listen(fd, LISTEN_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) < 0)
		goto fail;
	*port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
						 : ((struct sockaddr_in6 *)&bound)->sin6_port);
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

/* Whole file into a NUL-terminated buffer (PEM for MHD). */
static int
read_small_file(const char *path, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(TLS_FILE_MAX + 1);
	if (buf == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	while ((n = read(fd, buf + len, TLS_FILE_MAX - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		ret = -errno;
		goto fail;
	}
	if (len == TLS_FILE_MAX) {
		ret = -EFBIG;
		goto fail;
	}
	buf[len] = '\0';
	close(fd);
	*out = buf;
	return 0;
fail:
	free(buf);
	close(fd);
	return ret;
}

bool
ap_api_tls_supported(void)
{
	return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

unsigned
ap_api_tcp_port(const struct ap_api *api)
{
	return api ? api->tcp_port : 0;
}

static bool
valid_token(const char *t)
{
	if (strlen(t) != AP_API_TOKEN_LEN)
		return false;
	for (const char *p = t; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int
ap_api_token_load(const char *path, char token[AP_API_TOKEN_LEN + 1])
{
	unsigned char raw[AP_API_TOKEN_LEN / 2];
	char buf[AP_API_TOKEN_LEN + 2];
	size_t got = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		while (got < sizeof(buf) - 1 &&
		       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += (size_t)n;
		close(fd);
		buf[got] = '\0';
		if (got > 0 && buf[got - 1] == '\n')
			buf[--got] = '\0';
		if (!valid_token(buf))
			return -EINVAL;
		memcpy(token, buf, AP_API_TOKEN_LEN + 1);
		return 0;
	}
	if (errno != ENOENT)
		return -errno;

	ret = make_parent_dirs(path);
	if (ret < 0)
		return ret;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	/* O_EXCL: two daemons starting at once must not each write their own token. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == EEXIST ? ap_api_token_load(path, token) : -errno;
	buf[AP_API_TOKEN_LEN] = '\n';
	if (write(fd, buf, AP_API_TOKEN_LEN + 1) != AP_API_TOKEN_LEN + 1 || fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		close(fd);
		unlink(path);
		return ret;
	}
	close(fd);
	buf[AP_API_TOKEN_LEN] = '\0';
	memcpy(token, buf, AP_API_TOKEN_LEN + 1);
	return 0;
}

static struct MHD_Daemon *
start_mhd(struct ap_api *api, struct listener *lis, int fd, bool tls)
{
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	lis->api = api;
	if (tls)
		/* The logger must come first or MHD logs the options before it elsewhere. */
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_access, lis,
					MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
					MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
					MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
					MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
					MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
					MHD_OPTION_HTTPS_MEM_CERT, api->tls_cert,
					MHD_OPTION_HTTPS_MEM_KEY, api->tls_key, MHD_OPTION_END);
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_access, lis, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		api, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S, MHD_OPTION_END);
}

static bool
tcp_wanted(const struct ap_api_config *cfg)
{
	return cfg->tcp_listen != NULL && cfg->tcp_listen[0] != '\0' &&
	       strcmp(cfg->tcp_listen, "none") != 0;
}

int
ap_api_start(uv_loop_t *loop, const struct ap_api_config *cfg, struct ap_api **out)
{
	struct sockaddr_storage ss;
	struct ap_api *api = NULL;
	socklen_t sl = 0;
	bool tls = false;
	int fd = -1, ret;

	if (loop == NULL || cfg == NULL || cfg->unix_path == NULL || cfg->unix_path[0] == '\0' ||
	    out == NULL)
		return -EINVAL;
	if (tcp_wanted(cfg)) {
		if (cfg->token == NULL || !valid_token(cfg->token) ||
		    parse_listen(cfg->tcp_listen, &ss, &sl) < 0)
			return -EINVAL;
		tls = cfg->tls_cert != NULL && cfg->tls_cert[0] != '\0';
		if (tls != (cfg->tls_key != NULL && cfg->tls_key[0] != '\0'))
			return -EINVAL;
		/* A token in clear text must not cross a network. */
		if (!tls && !is_loopback(&ss))
			return -EPERM;
		if (tls && !ap_api_tls_supported())
			return -ENOTSUP;
	}
	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return -ENOMEM;
	api->loop = loop;
	api->path = strdup(cfg->unix_path);
	if (api->path == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	if (cfg->token != NULL)
		snprintf(api->token, sizeof(api->token), "%s", cfg->token);
	if (tls) {
		ret = read_small_file(cfg->tls_cert, &api->tls_cert);
		if (ret == 0)
			ret = read_small_file(cfg->tls_key, &api->tls_key);
		if (ret < 0)
			goto fail;
	}
	ret = ap_api_route(api, "GET", "/api/v1/", index_handler, api);
	if (ret < 0)
		goto fail;

	fd = listen_unix(api->path, &api->sock_dev, &api->sock_ino);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	api->lis[0].mhd = start_mhd(api, &api->lis[0], fd, false);
	if (api->lis[0].mhd == NULL) {
		close(fd);
		ret = -EIO;
		goto fail_unix;
	}
	api->n_lis = 1;
	if (tcp_wanted(cfg)) {
		fd = listen_tcp(&ss, sl, &api->tcp_port);
		if (fd < 0) {
			ret = fd;
			goto fail_mhd;
		}
		api->lis[1].tcp = true;
		api->lis[1].mhd = start_mhd(api, &api->lis[1], fd, tls);
		if (api->lis[1].mhd == NULL) {
			close(fd);
			ret = -EIO;
			goto fail_mhd;
		}
		api->n_lis = 2;
	}
	for (unsigned i = 0; i < api->n_lis; i++) {
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(api->lis[i].mhd, MHD_DAEMON_INFO_EPOLL_FD);

		if (info == NULL || info->epoll_fd < 0) {
			ret = -EIO;
			goto fail_mhd;
		}
	}
	for (unsigned i = 0; i < api->n_lis; i++) {
		struct listener *lis = &api->lis[i];
		const union MHD_DaemonInfo *info =
			MHD_get_daemon_info(lis->mhd, MHD_DAEMON_INFO_EPOLL_FD);

		ret = uv_poll_init(loop, &lis->poll, info->epoll_fd);
		if (ret == 0) {
			lis->poll.data = lis;
			uv_timer_init(loop, &lis->timer);
			lis->timer.data = lis;
			api->open_handles += 2;
			ret = uv_poll_start(&lis->poll, UV_READABLE, on_poll);
		}
		if (ret < 0) {
			/* Some handles exist: the loop frees 'api' once they are closed. */
			if (api->open_handles == 0)
				goto fail_mhd;
			ap_api_stop(api);
			return ret;
		}
	}
	for (unsigned i = 0; i < api->n_lis; i++)
		drive(&api->lis[i]);
	*out = api;
	return 0;

fail_mhd:
	for (unsigned i = 0; i < 2; i++)
		if (api->lis[i].mhd != NULL)
			MHD_stop_daemon(api->lis[i].mhd); /* Closes the listen socket as well. */
fail_unix:
	unlink_own_socket(api);
fail:
	free_api(api);
	return ret;
}

void
ap_api_stop(struct ap_api *api)
{
	unsigned n;

	if (api == NULL)
		return;
	n = api->n_lis;
	for (unsigned i = 0; i < n; i++) {
		struct listener *lis = &api->lis[i];

		/* Stop watching the epoll fd before MHD closes it. */
		if (uv_is_active((uv_handle_t *)&lis->poll) || lis->poll.data != NULL) {
			uv_poll_stop(&lis->poll);
			uv_timer_stop(&lis->timer);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (api->lis[i].mhd != NULL)
			MHD_stop_daemon(api->lis[i].mhd);
		api->lis[i].mhd = NULL;
	}
	unlink_own_socket(api);
	for (unsigned i = 0; i < n; i++) {
		struct listener *lis = &api->lis[i];

		if (lis->poll.data != NULL) {
			uv_close((uv_handle_t *)&lis->poll, on_handle_closed);
			uv_close((uv_handle_t *)&lis->timer, on_handle_closed);
		}
	}
}
