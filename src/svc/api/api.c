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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_SEGS       16
#define CONN_LIMIT     64
#define CONN_TIMEOUT_S 30
#define LISTEN_BACKLOG 32
#define METHOD_MAX     16

struct route {
	char method[METHOD_MAX];
	char *pattern;
	char *segs[MAX_SEGS]; /* Point into 'segbuf'; "{x}" marks a parameter. */
	unsigned n_segs;
	unsigned n_params;
	char *segbuf;
	ap_api_handler_fn fn;
	void *ctx;
};

struct ap_api {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned open_handles;
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

int
ap_api_route(struct ap_api *api, const char *method, const char *pattern, ap_api_handler_fn fn,
	     void *ctx)
{
	struct route r = {0};
	int n;

	if (api == NULL || method == NULL || pattern == NULL || fn == NULL)
		return -EINVAL;
	if (!valid_method(method) || pattern[0] != '/')
		return -EINVAL;
	strcpy(r.method, method);
	r.fn = fn;
	r.ctx = ctx;
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

static enum MHD_Result
send_json(struct MHD_Connection *conn, int status, json_t *body, const char *allow)
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
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *allow,
				  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
send_error(struct MHD_Connection *conn, int status, const char *allow, const char *fmt, ...)
{
	char msg[512];
	json_t *body = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ap_api_error(&body, status, "%s", msg);
	return send_json(conn, status, body, allow);
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

static enum MHD_Result
dispatch(struct ap_api *api, struct MHD_Connection *conn, const char *url, const char *method,
	 struct req_state *st)
{
	struct ap_api_req req = {0};
	const struct route *best = NULL;
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
		ret = send_error(conn, 404, NULL, "no such resource: %s", url);
		goto out;
	}

	/* The most specific match wins: fewest parameters, then registration order. */
	for (size_t i = 0; i < api->n_routes; i++) {
		const struct route *r = &api->routes[i];

		if (strcmp(r->method, want) != 0 || !route_match(r, segs, (unsigned)n, NULL))
			continue;
		if (best == NULL || r->n_params < best->n_params)
			best = r;
	}
	if (best == NULL) {
		allowed_methods(api, segs, (unsigned)n, allow, sizeof(allow));
		if (allow[0] == '\0')
			ret = send_error(conn, 404, NULL, "no such resource: %s", url);
		else
			ret = send_error(conn, 405, allow, "method %s not allowed on %s", method,
					 url);
		goto out;
	}

	req.method = method;
	req.path = url;
	req.body = st->body;
	req.body_len = st->len;
	req.conn = conn;
	route_match(best, segs, (unsigned)n, &req);
	if (st->len > 0 &&
	    (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	     strcmp(method, "PATCH") == 0) &&
	    is_json_type(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE))) {
		json_error_t err;

		req.json = json_loadb(st->body, st->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
				      &err);
		if (req.json == NULL) {
			ret = send_error(conn, 400, NULL,
					 "invalid JSON body: %s (line %d, column %d)", err.text,
					 err.line, err.column);
			goto out;
		}
	}
	status = best->fn(best->ctx, &req, &out);
	json_decref(req.json);
	ret = send_json(conn, status, out, NULL);
out:
	free(pathbuf);
	return ret;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct ap_api *api = cls;
	struct req_state *st = *con_cls;

	if (st == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		st = calloc(1, sizeof(*st));
		if (st == NULL)
			return MHD_NO;
		*con_cls = st;
		/*
		 * Refuse a declared oversize body before reading it: with
		 * "Expect: 100-continue" the client then never sends it.
		 */
		if (cl != NULL && strtoull(cl, NULL, 10) > AP_API_MAX_BODY) {
			st->too_big = true;
			return send_error(conn, 413, NULL, "request body exceeds %u bytes",
					  AP_API_MAX_BODY);
		}
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (st->too_big)
			return MHD_YES; /* Drain a chunked body that grew too large. */
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

	if (st->too_big)
		return send_error(conn, 413, NULL, "request body exceeds %u bytes",
				  AP_API_MAX_BODY);
	return dispatch(api, conn, url, method, st);
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
	fputs("aetherd: api: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static void on_timer(uv_timer_t *t);

/* Run MHD once, then arm the timer for its next deadline. */
static void
drive(struct ap_api *api)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(api->mhd);
	if (MHD_get_timeout(api->mhd, &ms) == MHD_YES)
		uv_timer_start(&api->timer, on_timer, (uint64_t)ms, 0);
	else
		uv_timer_stop(&api->timer);
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
	free(api);
}

/* The struct outlives ap_api_stop() until libuv has closed both handles. */
static void
on_handle_closed(uv_handle_t *h)
{
	struct ap_api *api = h->data;

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

int
ap_api_start(uv_loop_t *loop, const struct ap_api_config *cfg, struct ap_api **out)
{
	const union MHD_DaemonInfo *info;
	struct ap_api *api = NULL;
	int fd = -1, ret;

	if (loop == NULL || cfg == NULL || cfg->unix_path == NULL || cfg->unix_path[0] == '\0' ||
	    out == NULL)
		return -EINVAL;
	api = calloc(1, sizeof(*api));
	if (api == NULL)
		return -ENOMEM;
	api->loop = loop;
	api->path = strdup(cfg->unix_path);
	if (api->path == NULL) {
		ret = -ENOMEM;
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
	/* The logger must come first or MHD logs the options before it elsewhere. */
	api->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, api,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
		(MHD_socket)fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONN_TIMEOUT_S, MHD_OPTION_END);
	if (api->mhd == NULL) {
		ret = -EIO;
		goto fail_socket;
	}
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		ret = -EIO;
		goto fail_mhd;
	}
	ret = uv_poll_init(loop, &api->poll, info->epoll_fd);
	if (ret < 0)
		goto fail_mhd;
	api->poll.data = api;
	uv_timer_init(loop, &api->timer);
	api->timer.data = api;
	api->open_handles = 2;
	ret = uv_poll_start(&api->poll, UV_READABLE, on_poll);
	if (ret < 0) {
		/* Handles exist now: the loop frees 'api' once they are closed. */
		uv_close((uv_handle_t *)&api->poll, on_handle_closed);
		uv_close((uv_handle_t *)&api->timer, on_handle_closed);
		MHD_stop_daemon(api->mhd);
		unlink_own_socket(api);
		return ret;
	}
	drive(api);
	*out = api;
	return 0;

fail_mhd:
	MHD_stop_daemon(api->mhd); /* Closes the listen socket as well. */
	unlink_own_socket(api);
	goto fail;
fail_socket:
	close(fd);
	unlink_own_socket(api);
fail:
	free_api(api);
	return ret;
}

void
ap_api_stop(struct ap_api *api)
{
	if (api == NULL)
		return;
	/* Stop watching the epoll fd before MHD closes it. */
	uv_poll_stop(&api->poll);
	uv_timer_stop(&api->timer);
	uv_close((uv_handle_t *)&api->poll, on_handle_closed);
	uv_close((uv_handle_t *)&api->timer, on_handle_closed);
	MHD_stop_daemon(api->mhd);
	api->mhd = NULL;
	unlink_own_socket(api);
}
