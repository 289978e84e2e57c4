/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The API server runs on a libuv loop in a second thread; requests are made
 * with libcurl over the unix socket, as aetherctl does.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "svc/api/api.h"

struct srv {
	uv_loop_t loop;
	uv_async_t stop;
	struct ap_api *api;
	pthread_t thread;
	bool running;
	char dir[64];
	char path[128];
};

struct buf {
	char *data;
	size_t len;
};

struct resp {
	long status;
	char *body;
	char *headers;
};

static void
on_stop(uv_async_t *a)
{
	struct srv *s = a->data;

	ap_api_stop(s->api);
	uv_close((uv_handle_t *)a, NULL);
}

static void *
loop_main(void *arg)
{
	struct srv *s = arg;

	uv_run(&s->loop, UV_RUN_DEFAULT);
	return NULL;
}

/* Temp dir and loop; the socket lives one level down to exercise mkdir. */
static void
srv_prepare(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/ap-api-test-XXXXXX");
	cr_assert_not_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/run/api.sock", s->dir);
	cr_assert_eq(uv_loop_init(&s->loop), 0);
	cr_assert_eq(uv_async_init(&s->loop, &s->stop, on_stop), 0);
	s->stop.data = s;
}

/* --- fake handlers ---------------------------------------------------- */

static int
h_ping(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_pack("{s:b}", "pong", 1);
	return 200;
}

static int
h_counters(void *ctx, const struct ap_api_req *req, json_t **out)
{
	const char *verbose = ap_api_req_query(req, "verbose");
	json_t *params = json_array();

	for (unsigned i = 0; i < req->n_params; i++)
		json_array_append_new(params, json_string(req->params[i]));
	*out = json_pack("{s:o,s:s?,s:s}", "params", params, "verbose", verbose, "path", req->path);
	return 200;
}

static int
h_port(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_pack("{s:s}", "port", req->params[0]);
	return 200;
}

static int
h_port_stats(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_pack("{s:b}", "stats", 1);
	return 200;
}

static int
h_echo(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_pack("{s:s,s:O*,s:I,s:s*}", "method", req->method, "json", req->json,
			 "body_len", (json_int_t)req->body_len, "raw",
			 req->json ? NULL : req->body);
	return 201;
}

static int
h_fail(void *ctx, const struct ap_api_req *req, json_t **out)
{
	return ap_api_error(out, 500, "boom %d", 42);
}

static int
h_nobody(void *ctx, const struct ap_api_req *req, json_t **out)
{
	return 204;
}

static const struct {
	const char *method;
	const char *pattern;
	ap_api_handler_fn fn;
} test_routes[] = {
	{"GET", "/api/v1/ping", h_ping},
	{"GET", "/api/v1/ports/{name}/counters/{kind}", h_counters},
	{"GET", "/api/v1/ports/{name}", h_port},
	{"PUT", "/api/v1/ports/{name}", h_echo},
	{"GET", "/api/v1/ports/stats", h_port_stats},
	{"POST", "/api/v1/echo", h_echo},
	{"GET", "/api/v1/fail", h_fail},
	{"DELETE", "/api/v1/thing", h_nobody},
};

static void
srv_start(struct srv *s)
{
	struct ap_api_config cfg = {.unix_path = s->path};

	cr_assert_eq(ap_api_start(&s->loop, &cfg, &s->api), 0);
	for (size_t i = 0; i < sizeof(test_routes) / sizeof(test_routes[0]); i++)
		cr_assert_eq(ap_api_route(s->api, test_routes[i].method, test_routes[i].pattern,
					  test_routes[i].fn, NULL),
			     0, "route %s", test_routes[i].pattern);
	cr_assert_eq(pthread_create(&s->thread, NULL, loop_main, s), 0);
	s->running = true;
}

/* Run the loop of a server started by the test itself. */
static void
srv_start_loop_only(struct srv *s)
{
	cr_assert_eq(pthread_create(&s->thread, NULL, loop_main, s), 0);
	s->running = true;
}

static void
srv_stop(struct srv *s)
{
	if (s->running) {
		uv_async_send(&s->stop);
		pthread_join(s->thread, NULL);
		s->running = false;
	}
	cr_assert_eq(uv_loop_close(&s->loop), 0, "handles left open on the loop");
}

static void
srv_cleanup(struct srv *s)
{
	char run[160];

	snprintf(run, sizeof(run), "%s/run", s->dir);
	unlink(s->path);
	rmdir(run);
	rmdir(s->dir);
}

/* --- client ----------------------------------------------------------- */

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *nb = realloc(b->data, b->len + size * n + 1);

	cr_assert_not_null(nb);
	memcpy(nb + b->len, data, size * n);
	b->len += size * n;
	nb[b->len] = '\0';
	b->data = nb;
	return size * n;
}

struct upload {
	size_t left;
};

static size_t
chunk_source(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n < u->left ? size * n : u->left;

	memset(buf, ' ', k);
	u->left -= k;
	return k;
}

/*
 * One request. 'body' NULL means no body; 'chunked' sends 'chunked' bytes
 * of whitespace with Transfer-Encoding: chunked instead.
 */
static struct resp
request(const char *sock, const char *method, const char *path, const char *ctype, const char *body,
	size_t body_len, size_t chunked)
{
	struct resp r = {0};
	struct curl_slist *hdrs = NULL;
	struct upload up = {chunked};
	struct buf body_buf = {0}, hdr_buf = {0};
	char url[512], ct[128];
	CURL *c = curl_easy_init();
	CURLcode rc;

	cr_assert_not_null(c);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, ct);
	}
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	} else if (chunked > 0) {
		hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, chunk_source);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body_buf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr_buf);
	rc = curl_easy_perform(c);
	/* The server may close while a refused upload is still being sent. */
	cr_assert(rc == CURLE_OK || rc == CURLE_SEND_ERROR, "curl: %s", curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	r.body = body_buf.data ? body_buf.data : strdup("");
	r.headers = hdr_buf.data ? hdr_buf.data : strdup("");
	return r;
}

static struct resp
get(const char *sock, const char *path)
{
	return request(sock, "GET", path, NULL, NULL, 0, 0);
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	free(r->headers);
}

static bool
has_header(const struct resp *r, const char *line)
{
	return strcasestr(r->headers, line) != NULL;
}

static json_t *
resp_json(const struct resp *r)
{
	json_error_t err;
	json_t *j = json_loads(r->body, 0, &err);

	cr_assert_not_null(j, "not JSON (%s): %s", err.text, r->body);
	return j;
}

static void
assert_error_body(const struct resp *r, int status, const char *message)
{
	json_t *j = resp_json(r);
	json_t *e = json_object_get(j, "error");

	cr_assert_eq(r->status, status, "status %ld, body %s", r->status, r->body);
	cr_assert(has_header(r, "Content-Type: application/json"));
	cr_assert(json_is_object(e), "body %s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(e, "status")), status);
	if (message != NULL)
		cr_assert_str_eq(json_string_value(json_object_get(e, "message")), message);
	else
		cr_assert(json_is_string(json_object_get(e, "message")));
	json_decref(j);
}

/* --- tests ------------------------------------------------------------ */

Test(api, get_returns_compact_json)
{
	struct srv s;
	struct resp r;

	srv_prepare(&s);
	srv_start(&s);
	r = get(s.path, "/api/v1/ping");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "{\"pong\":true}\n");
	cr_assert(has_header(&r, "Content-Type: application/json"), "%s", r.headers);
	resp_free(&r);
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, params_and_query)
{
	static const struct {
		const char *path;
		const char *p0, *p1, *verbose;
	} cases[] = {
		{"/api/v1/ports/lan/counters/rx?verbose=yes", "lan", "rx", "yes"},
		{"/api/v1/ports/wan/counters/tx", "wan", "tx", NULL},
		{"/api/v1/ports/wan/counters/tx/", "wan", "tx", NULL},
		{"/api/v1/ports/a%20b/counters/x?verbose=1&other=2", "a b", "x", "1"},
	};
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r = get(s.path, cases[i].path);
		json_t *j = resp_json(&r);
		json_t *p = json_object_get(j, "params");

		cr_assert_eq(r.status, 200, "%s", cases[i].path);
		cr_assert_eq(json_array_size(p), 2);
		cr_assert_str_eq(json_string_value(json_array_get(p, 0)), cases[i].p0);
		cr_assert_str_eq(json_string_value(json_array_get(p, 1)), cases[i].p1);
		if (cases[i].verbose)
			cr_assert_str_eq(json_string_value(json_object_get(j, "verbose")),
					 cases[i].verbose);
		else
			cr_assert(json_is_null(json_object_get(j, "verbose")));
		json_decref(j);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, literal_segment_beats_parameter)
{
	static const struct {
		const char *path;
		const char *body;
	} cases[] = {
		{"/api/v1/ports/stats", "{\"stats\":true}\n"},
		{"/api/v1/ports/wan", "{\"port\":\"wan\"}\n"},
		{"/api/v1/ports/wan/", "{\"port\":\"wan\"}\n"},
	};
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r = get(s.path, cases[i].path);

		cr_assert_eq(r.status, 200);
		cr_assert_str_eq(r.body, cases[i].body, "%s", cases[i].path);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, not_found)
{
	static const char *paths[] = {"/nope", "/api/v1/ports", "/api/v1/ping/extra",
				      "/api/v1/ports/lan/counters"};
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct resp r = get(s.path, paths[i]);
		char msg[128];

		snprintf(msg, sizeof(msg), "no such resource: %s", paths[i]);
		assert_error_body(&r, 404, msg);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, method_not_allowed_lists_allow)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{"DELETE", "/api/v1/ping", "Allow: GET\r\n"},
		{"POST", "/api/v1/ports/lan", "Allow: GET, PUT\r\n"},
		{"GET", "/api/v1/thing", "Allow: DELETE\r\n"},
	};
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r = request(s.path, cases[i].method, cases[i].path, NULL, NULL, 0, 0);

		assert_error_body(&r, 405, NULL);
		cr_assert(has_header(&r, cases[i].allow), "%s %s: %s", cases[i].method,
			  cases[i].path, r.headers);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, invalid_json_body_is_400)
{
	static const struct {
		const char *ctype, *body;
		long status;
	} cases[] = {
		{"application/json", "{\"a\":", 400},
		{"application/json; charset=utf-8", "[1,2", 400},
		{"application/json", "{\"a\":1,\"a\":2}", 400},
		{"Application/JSON", "not json", 400},
		{"text/plain", "not json", 201},
		{"application/json", "{\"a\":[1,2,3]}", 201},
	};
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r = request(s.path, "POST", "/api/v1/echo", cases[i].ctype,
					cases[i].body, strlen(cases[i].body), 0);

		if (cases[i].status == 400)
			assert_error_body(&r, 400, NULL);
		else
			cr_assert_eq(r.status, cases[i].status, "case %zu: %s", i, r.body);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, json_body_reaches_handler)
{
	struct srv s;
	struct resp r;
	json_t *j;
	char *body;
	size_t len = 0, cap = 300000;

	/* Far larger than MHD's per-connection buffer: arrives over many callbacks. */
	body = malloc(cap);
	cr_assert_not_null(body);
	len += (size_t)snprintf(body, cap, "{\"name\":\"lan\",\"list\":[");
	for (int i = 0; len < cap - 64; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s%d", i ? "," : "", i);
	len += (size_t)snprintf(body + len, cap - len, "]}");

	srv_prepare(&s);
	srv_start(&s);
	r = request(s.path, "POST", "/api/v1/echo", "application/json", body, len, 0);
	cr_assert_eq(r.status, 201, "%s", r.body);
	j = resp_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "method")), "POST");
	cr_assert_eq(json_integer_value(json_object_get(j, "body_len")), (json_int_t)len);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "json"), "name")),
			 "lan");
	cr_assert_gt(json_array_size(json_object_get(json_object_get(j, "json"), "list")), 40000);
	json_decref(j);
	resp_free(&r);

	r = request(s.path, "PUT", "/api/v1/ports/lan", "application/json", "{\"up\":false}", 12,
		    0);
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(r.body, "{\"method\":\"PUT\",\"json\":{\"up\":false},\"body_len\":12}\n");
	resp_free(&r);
	srv_stop(&s);
	srv_cleanup(&s);
	free(body);
}

Test(api, body_size_limit)
{
	struct srv s;
	struct resp r;
	char *body = malloc(AP_API_MAX_BODY + 1);

	cr_assert_not_null(body);
	memset(body, ' ', AP_API_MAX_BODY + 1);
	body[0] = '[';
	body[AP_API_MAX_BODY - 1] = ']';

	srv_prepare(&s);
	srv_start(&s);
	/* Exactly at the limit: accepted. */
	r = request(s.path, "POST", "/api/v1/echo", "application/json", body, AP_API_MAX_BODY, 0);
	cr_assert_eq(r.status, 201, "%s", r.body);
	resp_free(&r);
	/* One byte over, declared in Content-Length: refused before the body is read. */
	r = request(s.path, "POST", "/api/v1/echo", "application/json", body, AP_API_MAX_BODY + 1,
		    0);
	assert_error_body(&r, 413, "request body exceeds 1048576 bytes");
	resp_free(&r);
	/* Chunked, no length known in advance: refused once it grows too large. */
	r = request(s.path, "POST", "/api/v1/echo", "text/plain", NULL, 0, 2 * AP_API_MAX_BODY);
	assert_error_body(&r, 413, NULL);
	resp_free(&r);
	/* The server still answers afterwards. */
	r = get(s.path, "/api/v1/ping");
	cr_assert_eq(r.status, 200);
	resp_free(&r);
	srv_stop(&s);
	srv_cleanup(&s);
	free(body);
}

Test(api, handler_errors_and_empty_bodies)
{
	struct srv s;
	struct resp r;

	srv_prepare(&s);
	srv_start(&s);
	r = get(s.path, "/api/v1/fail");
	assert_error_body(&r, 500, "boom 42");
	cr_assert_str_eq(r.body, "{\"error\":{\"status\":500,\"message\":\"boom 42\"}}\n");
	resp_free(&r);
	r = get(s.path, "/api/v1/%FFx");
	assert_error_body(&r, 404, "no such resource: /api/v1/?x");
	resp_free(&r);
	r = request(s.path, "DELETE", "/api/v1/thing", NULL, NULL, 0, 0);
	cr_assert_eq(r.status, 204);
	cr_assert_str_eq(r.body, "");
	resp_free(&r);
	r = request(s.path, "HEAD", "/api/v1/ping", NULL, NULL, 0, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "");
	resp_free(&r);
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, discovery_lists_routes)
{
	static const char *paths[] = {"/api/v1/", "/api/v1"};
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	for (size_t k = 0; k < 2; k++) {
		struct resp r = get(s.path, paths[k]);
		json_t *j = resp_json(&r);
		json_t *routes = json_object_get(j, "routes");
		size_t n = sizeof(test_routes) / sizeof(test_routes[0]);

		cr_assert_eq(r.status, 200);
		cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "aetherd");
		cr_assert_str_eq(json_string_value(json_object_get(j, "api")), "v1");
		cr_assert_eq(json_array_size(routes), n + 1);
		cr_assert_str_eq(
			json_string_value(json_object_get(json_array_get(routes, 0), "path")),
			"/api/v1/");
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(routes, i + 1);

			cr_assert_str_eq(json_string_value(json_object_get(e, "method")),
					 test_routes[i].method);
			cr_assert_str_eq(json_string_value(json_object_get(e, "path")),
					 test_routes[i].pattern);
		}
		json_decref(j);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, socket_modes_and_stop_removes_socket)
{
	struct srv s;
	struct stat sb;
	char run[160];

	srv_prepare(&s);
	srv_start(&s);
	cr_assert_eq(stat(s.path, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", sb.st_mode & 07777);
	snprintf(run, sizeof(run), "%s/run", s.dir);
	cr_assert_eq(stat(run, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700, "dir mode %o", sb.st_mode & 07777);
	srv_stop(&s);
	cr_assert_eq(stat(s.path, &sb), -1, "socket still there after stop");
	cr_assert_eq(errno, ENOENT);
	srv_cleanup(&s);
}

Test(api, stale_socket_is_reused)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct srv s;
	struct resp r;
	char run[160];
	int fd;

	srv_prepare(&s);
	snprintf(run, sizeof(run), "%s/run", s.dir);
	cr_assert_eq(mkdir(run, 0700), 0);
	/* A socket file whose server is gone: bound, then closed without unlink. */
	strcpy(sa.sun_path, s.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	srv_start(&s);
	r = get(s.path, "/api/v1/ping");
	cr_assert_eq(r.status, 200);
	resp_free(&r);
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, live_socket_and_foreign_file_are_kept)
{
	struct ap_api_config cfg = {0};
	struct ap_api *other = NULL;
	uv_loop_t loop2;
	struct srv s;
	struct resp r;
	struct stat sb;
	char file[200];
	FILE *f;

	srv_prepare(&s);
	srv_start(&s);
	cr_assert_eq(uv_loop_init(&loop2), 0);
	cfg.unix_path = s.path;
	cr_assert_eq(ap_api_start(&loop2, &cfg, &other), -EADDRINUSE);
	cr_assert_null(other);
	r = get(s.path, "/api/v1/ping");
	cr_assert_eq(r.status, 200, "the live server lost its socket");
	resp_free(&r);

	snprintf(file, sizeof(file), "%s/run/plain", s.dir);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	cfg.unix_path = file;
	cr_assert_eq(ap_api_start(&loop2, &cfg, &other), -EEXIST);
	cr_assert_eq(stat(file, &sb), 0);
	cr_assert(S_ISREG(sb.st_mode));
	unlink(file);

	cfg.unix_path = "/tmp/ap-api-test-this-path-is-far-too-long-for-a-unix-socket-address-"
			"because-sun-path-holds-only-108-bytes.sock";
	cr_assert_eq(ap_api_start(&loop2, &cfg, &other), -ENAMETOOLONG);
	cr_assert_eq(uv_loop_close(&loop2), 0);
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, route_registration_is_validated)
{
	static const struct {
		const char *method, *pattern;
		int ret;
	} cases[] = {
		{"GET", "/api/v1/a", 0},
		{"GET", "/api/v1/a", -EEXIST},
		{"GET", "/api/v1/a/", -EEXIST},
		{"POST", "/api/v1/a", 0},
		{"GET", "/api/v1/{x}/{y}", 0},
		{"GET", "/api/v1/{a}/{b}", -EEXIST},
		{"GET", "/api/v1/{a}/{b}/{c}/{d}", 0},
		{"GET", "/api/v1/{a}/{b}/{c}/{d}/{e}", -EINVAL},
		{"get", "/api/v1/b", -EINVAL},
		{"GET", "api/v1/b", -EINVAL},
		{"GET", "/api/v1/x{y}", -EINVAL},
		{"GET", "/api//v1", -EINVAL},
		{"", "/api/v1/b", -EINVAL},
	};
	struct srv s;

	srv_prepare(&s);
	cr_assert_eq(ap_api_start(&s.loop, &(struct ap_api_config){.unix_path = s.path}, &s.api),
		     0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(ap_api_route(s.api, cases[i].method, cases[i].pattern, h_ping, NULL),
			     cases[i].ret, "case %zu: %s %s", i, cases[i].method, cases[i].pattern);
	cr_assert_eq(ap_api_route(s.api, "GET", "/x", NULL, NULL), -EINVAL);
	/* Stop without ever running the loop in a thread: the loop frees the server. */
	uv_async_send(&s.stop);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	srv_stop(&s);
	srv_cleanup(&s);
}

struct hammer {
	const char *sock;
	int ok;
};

/* One keep-alive connection per thread, many requests on each. */
static void *
hammer_main(void *arg)
{
	struct hammer *h = arg;
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->sock);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	for (int i = 0; i < 50; i++) {
		struct buf b = {0};
		char url[128];
		long status = 0;

		snprintf(url, sizeof(url), "http://localhost/api/v1/ports/p%d", i);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		if (curl_easy_perform(c) == CURLE_OK) {
			char want[64];

			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			snprintf(want, sizeof(want), "{\"port\":\"p%d\"}\n", i);
			if (status == 200 && b.data && strcmp(b.data, want) == 0)
				h->ok++;
		}
		free(b.data);
	}
	curl_easy_cleanup(c);
	return NULL;
}

Test(api, concurrent_keepalive_clients)
{
	enum { N = 8 };
	struct hammer h[N];
	pthread_t th[N];
	struct srv s;

	srv_prepare(&s);
	srv_start(&s);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < N; i++) {
		h[i] = (struct hammer){.sock = s.path};
		cr_assert_eq(pthread_create(&th[i], NULL, hammer_main, &h[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(h[i].ok, 50, "client %d: %d of 50 answered right", i, h[i].ok);
	}
	curl_global_cleanup();
	srv_stop(&s);
	srv_cleanup(&s);
}

/* --- TCP, bearer token, raw and streamed replies ------------------------ */

static const char test_token[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static struct resp
tcp_get(unsigned port, const char *path, const char *auth)
{
	struct resp r = {0};
	struct curl_slist *hdrs = NULL;
	struct buf body_buf = {0}, hdr_buf = {0};
	char url[512];
	CURL *c = curl_easy_init();
	CURLcode rc;

	cr_assert_not_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (auth != NULL)
		hdrs = curl_slist_append(hdrs, auth);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body_buf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr_buf);
	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "curl: %s", curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	r.body = body_buf.data ? body_buf.data : strdup("");
	r.headers = hdr_buf.data ? hdr_buf.data : strdup("");
	return r;
}

static int
h_text(void *ctx, const struct ap_api_req *req, struct ap_api_body *body, json_t **err)
{
	if (ap_api_req_query(req, "fail") != NULL)
		return ap_api_error(err, 503, "not now");
	body->data = strdup("hello\n");
	body->len = 6;
	body->content_type = "text/plain; charset=utf-8";
	return 200;
}

/* Stream test state: the loop thread owns it. */
static struct ap_api_stream *the_stream;
static int ticks, closed;
static uv_timer_t tick_timer;

static void
on_tick(uv_timer_t *t)
{
	if (the_stream == NULL)
		return;
	if (ticks == 3) {
		ap_api_stream_end(the_stream);
		the_stream = NULL;
		uv_timer_stop(t);
		return;
	}
	ticks++;
	cr_assert_eq(ap_api_stream_send(the_stream, "tick\n", 5), 0);
}

static int
h_stream_open(void *ctx, const struct ap_api_req *req, struct ap_api_stream *s, json_t **err)
{
	if (ap_api_req_query(req, "refuse") != NULL)
		return ap_api_error(err, 409, "refused");
	the_stream = s;
	ticks = 0;
	cr_assert_eq(ap_api_stream_send(s, "open\n", 5), 0);
	/* A pause longer than a tick: the stream must wait suspended, not spin. */
	uv_timer_start(&tick_timer, on_tick, 100, 100);
	return 200;
}

static void
h_stream_close(void *ctx, struct ap_api_stream *s)
{
	cr_assert_eq(s, the_stream);
	the_stream = NULL;
	closed++;
}

static void
tcp_start(struct srv *s, const char *listen)
{
	struct ap_api_config cfg = {
		.unix_path = s->path, .tcp_listen = listen, .token = test_token};

	cr_assert_eq(ap_api_start(&s->loop, &cfg, &s->api), 0);
	cr_assert_eq(ap_api_route(s->api, "GET", "/api/v1/ping", h_ping, NULL), 0);
	cr_assert_eq(ap_api_route_raw(s->api, "GET", "/public", AP_API_PUBLIC, h_text, NULL), 0);
	cr_assert_eq(ap_api_route_raw(s->api, "GET", "/api/v1/text", 0, h_text, NULL), 0);
	cr_assert_eq(ap_api_route_stream(s->api, "/api/v1/events", AP_API_TOKEN_QUERY,
					 "text/event-stream", h_stream_open, h_stream_close, NULL),
		     0);
	cr_assert_eq(uv_timer_init(&s->loop, &tick_timer), 0);
	cr_assert_eq(pthread_create(&s->thread, NULL, loop_main, s), 0);
	s->running = true;
}

static void
on_stop_tcp(uv_async_t *a)
{
	struct srv *s = a->data;

	uv_close((uv_handle_t *)&tick_timer, NULL);
	ap_api_stop(s->api);
	uv_close((uv_handle_t *)a, NULL);
}

Test(api, tcp_needs_the_bearer_token)
{
	static const struct {
		const char *path, *auth;
		long status;
	} cases[] = {
		{"/api/v1/ping", NULL, 401},
		{"/api/v1/ping", "Authorization: Bearer wrong", 401},
		{"/api/v1/ping",
		 "Authorization: Bearer 00112233445566778899aabbccddeeff"
		 "00112233445566778899aabbccddeefe",
		 401},
		{"/api/v1/ping", "Authorization: Basic YWRtaW46YWRtaW4=", 401},
		{"/api/v1/ping",
		 "Authorization: Bearer 00112233445566778899aabbccddeeff"
		 "00112233445566778899aabbccddeeff",
		 200},
		{"/api/v1/ping",
		 "Authorization: bearer 00112233445566778899aabbccddeeff"
		 "00112233445566778899aabbccddeeff",
		 200},
		{"/api/v1/nothing", NULL, 401},
		{"/api/v1/"
		 "ping?token=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		 NULL, 401},
		{"/public", NULL, 200},
		{"/api/v1/text", NULL, 401},
	};
	struct srv s;
	unsigned port;

	srv_prepare(&s);
	s.stop.data = &s;
	uv_close((uv_handle_t *)&s.stop, NULL);
	uv_run(&s.loop, UV_RUN_NOWAIT);
	cr_assert_eq(uv_async_init(&s.loop, &s.stop, on_stop_tcp), 0);
	s.stop.data = &s;
	tcp_start(&s, "127.0.0.1:0");
	port = ap_api_tcp_port(s.api);
	cr_assert_gt(port, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct resp r = tcp_get(port, cases[i].path, cases[i].auth);

		cr_assert_eq(r.status, cases[i].status, "case %zu: %s: status %ld body %s", i,
			     cases[i].path, r.status, r.body);
		if (r.status == 401) {
			assert_error_body(&r, 401, "missing or invalid bearer token");
			cr_assert(has_header(&r, "WWW-Authenticate: Bearer"));
		}
		resp_free(&r);
	}
	/* The unix socket needs no token. */
	{
		struct resp r = get(s.path, "/api/v1/ping");

		cr_assert_eq(r.status, 200);
		resp_free(&r);
	}
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, raw_replies_and_streams)
{
	char auth[128];
	struct srv s;
	struct resp r;
	unsigned port;

	srv_prepare(&s);
	uv_close((uv_handle_t *)&s.stop, NULL);
	uv_run(&s.loop, UV_RUN_NOWAIT);
	cr_assert_eq(uv_async_init(&s.loop, &s.stop, on_stop_tcp), 0);
	s.stop.data = &s;
	tcp_start(&s, "127.0.0.1:0");
	port = ap_api_tcp_port(s.api);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", test_token);

	r = tcp_get(port, "/api/v1/text", auth);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello\n");
	cr_assert(has_header(&r, "Content-Type: text/plain; charset=utf-8"));
	resp_free(&r);
	r = get(s.path, "/api/v1/text?fail=1");
	assert_error_body(&r, 503, "not now");
	resp_free(&r);

	/* Three ticks 100 ms apart, then the owner ends the stream. */
	r = tcp_get(port, "/api/v1/events", auth);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "open\ntick\ntick\ntick\n");
	cr_assert(has_header(&r, "Content-Type: text/event-stream"));
	cr_assert(has_header(&r, "Cache-Control: no-cache"));
	resp_free(&r);
	cr_assert_eq(closed, 0, "close callback after ap_api_stream_end()");

	/* The stream route takes the token as a query argument too. */
	r = tcp_get(port,
		    "/api/v1/events?token="
		    "00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff",
		    NULL);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "open\ntick\ntick\ntick\n");
	resp_free(&r);
	r = tcp_get(port, "/api/v1/events?refuse=1", auth);
	assert_error_body(&r, 409, "refused");
	resp_free(&r);
	srv_stop(&s);
	srv_cleanup(&s);
}

static void
on_stop_with_stream(uv_async_t *a)
{
	uv_timer_stop(&tick_timer);
	on_stop_tcp(a);
}

static size_t
abort_after_open(char *data, size_t size, size_t n, void *arg)
{
	return 0; /* Hang up at the first byte. */
}

Test(api, stream_close_callback_when_client_leaves)
{
	struct srv s;
	char url[128];
	CURL *c;

	srv_prepare(&s);
	uv_close((uv_handle_t *)&s.stop, NULL);
	uv_run(&s.loop, UV_RUN_NOWAIT);
	cr_assert_eq(uv_async_init(&s.loop, &s.stop, on_stop_with_stream), 0);
	s.stop.data = &s;
	tcp_start(&s, "127.0.0.1:0");
	closed = 0;
	c = curl_easy_init();
	snprintf(url, sizeof(url), "http://localhost/api/v1/events");
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, s.path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, abort_after_open);
	cr_assert_eq(curl_easy_perform(c), CURLE_WRITE_ERROR);
	curl_easy_cleanup(c);
	/* The server notices at its next write, at most one tick later. */
	for (int i = 0; i < 50 && closed == 0; i++)
		usleep(20000);
	cr_assert_eq(closed, 1);
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, tcp_listen_is_validated)
{
	static const struct {
		const char *listen, *token;
		int ret;
	} cases[] = {
		{"0.0.0.0:8080", test_token, -EPERM},	  {"192.0.2.1:8080", test_token, -EPERM},
		{"[::]:8080", test_token, -EPERM},	  {"127.0.0.1", test_token, -EINVAL},
		{"127.0.0.1:99999", test_token, -EINVAL}, {"localhost:8080", test_token, -EINVAL},
		{"127.0.0.1:0", NULL, -EINVAL},		  {"127.0.0.1:0", "short", -EINVAL},
	};
	struct srv s;

	srv_prepare(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ap_api_config cfg = {.unix_path = s.path,
					    .tcp_listen = cases[i].listen,
					    .token = cases[i].token};

		cr_assert_eq(ap_api_start(&s.loop, &cfg, &s.api), cases[i].ret, "case %zu: %s", i,
			     cases[i].listen);
	}
	/* "none" and an IPv6 loopback listener. */
	{
		struct ap_api_config cfg = {.unix_path = s.path, .tcp_listen = "none"};

		cr_assert_eq(ap_api_start(&s.loop, &cfg, &s.api), 0);
		cr_assert_eq(ap_api_tcp_port(s.api), 0);
		ap_api_stop(s.api);
		uv_run(&s.loop, UV_RUN_NOWAIT);
		cfg.tcp_listen = "[::1]:0";
		cfg.token = test_token;
		cr_assert_eq(ap_api_start(&s.loop, &cfg, &s.api), 0);
		cr_assert_gt(ap_api_tcp_port(s.api), 0);
	}
	srv_start_loop_only(&s);
	srv_stop(&s);
	srv_cleanup(&s);
}

Test(api, token_file_is_created_0600_and_reused)
{
	char dir[64] = "/tmp/ap-token-test-XXXXXX", path[160], sub[128];
	char t1[AP_API_TOKEN_LEN + 1], t2[AP_API_TOKEN_LEN + 1];
	struct stat sb;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/lib", dir);
	snprintf(path, sizeof(path), "%s/api.token", sub);
	cr_assert_eq(ap_api_token_load(path, t1), 0);
	cr_assert_eq(strlen(t1), AP_API_TOKEN_LEN);
	cr_assert_eq(strspn(t1, "0123456789abcdef"), AP_API_TOKEN_LEN);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600, "token file mode %o", sb.st_mode & 0777);
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700, "token dir mode %o", sb.st_mode & 0777);
	cr_assert_eq(ap_api_token_load(path, t2), 0);
	cr_assert_str_eq(t1, t2, "a second start must reuse the token");

	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("not a token\n", f);
	fclose(f);
	cr_assert_eq(ap_api_token_load(path, t2), -EINVAL);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

/* testdata/test-{cert,key}.pem: a self-signed pair for 127.0.0.1, for tests only. */
Test(api, https_with_tls_cert_and_key)
{
	struct ap_api_config cfg = {0};
	struct buf body = {0};
	char url[128], auth[128];
	struct curl_slist *hdrs = NULL;
	struct srv s;
	long status = 0;
	CURL *c;

	if (!ap_api_tls_supported())
		cr_skip_test("libmicrohttpd built without TLS");
	srv_prepare(&s);
	cfg.unix_path = s.path;
	cfg.tcp_listen = "0.0.0.0:0"; /* Beyond loopback: allowed with TLS. */
	cfg.token = test_token;
	cfg.tls_cert = "src/svc/api/testdata/test-cert.pem";
	cfg.tls_key = "src/svc/api/testdata/test-missing-key.pem";
	cr_assert_eq(ap_api_start(&s.loop, &cfg, &s.api), -ENOENT);
	cfg.tls_key = NULL;
	cr_assert_eq(ap_api_start(&s.loop, &cfg, &s.api), -EINVAL, "a cert without a key");
	cfg.tls_key = "src/svc/api/testdata/test-key.pem";
	cr_assert_eq(ap_api_start(&s.loop, &cfg, &s.api), 0);
	cr_assert_eq(ap_api_route(s.api, "GET", "/api/v1/ping", h_ping, NULL), 0);
	srv_start_loop_only(&s);

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/ping", ap_api_tcp_port(s.api));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", test_token);
	for (int with_token = 0; with_token < 2; with_token++) {
		c = curl_easy_init();
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_CAINFO, "src/svc/api/testdata/test-cert.pem");
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
		hdrs = with_token ? curl_slist_append(NULL, auth) : NULL;
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
		cr_assert_eq(curl_easy_perform(c), CURLE_OK, "TLS handshake with the test cert");
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		cr_assert_eq(status, with_token ? 200 : 401, "%s", body.data);
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(c);
		free(body.data);
		body = (struct buf){0};
	}
	/* Plain HTTP to the TLS port gets no HTTP answer. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/ping", ap_api_tcp_port(s.api));
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	cr_assert_neq(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	free(body.data);
	srv_stop(&s);
	srv_cleanup(&s);
}
