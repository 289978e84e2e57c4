/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * REST API server: HTTP/1.1 + JSON under /api/v1/, served by libmicrohttpd
 * and driven from the control-plane libuv loop (no extra thread).
 *
 * Subsystems register handlers for (method, path pattern); the server owns
 * transport, routing, JSON encoding and errors.
 */
#ifndef AP_API_H
#define AP_API_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

struct ap_api;

#define AP_API_MAX_PARAMS 4

/** Largest request body accepted; a larger one is answered 413. */
#define AP_API_MAX_BODY (1u << 20)

/** One request as handlers see it. Strings stay valid for the handler call only. */
struct ap_api_req {
	const char *method; /**< "GET", "POST", "PUT", "DELETE". */
	const char *path;   /**< Path, percent-decoded, without the query string. */
	const char *body;   /**< Request body (NUL terminated), may be NULL. */
	size_t body_len;
	json_t *json; /**< Parsed body when it was JSON, else NULL (owned by the server). */
	/** Values of "{name}" segments of the matched pattern, in order. */
	const char *params[AP_API_MAX_PARAMS];
	unsigned n_params;
	void *conn; /**< Opaque, for ap_api_req_query(). */
};

/** Value of query argument @p key, or NULL. */
const char *ap_api_req_query(const struct ap_api_req *req, const char *key);

/**
 * A handler fills @p *out with a JSON body (the server takes the reference)
 * and returns the HTTP status. For errors use ap_api_error().
 */
typedef int (*ap_api_handler_fn)(void *ctx, const struct ap_api_req *req, json_t **out);

/** Build the JSON error body {"error": {"status": N, "message": "..."}} and return @p status. */
int ap_api_error(json_t **out, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct ap_api_config {
	const char *unix_path; /**< Unix socket path (mode 0600, parent dir created 0700). */
};

/**
 * Start serving on @p loop. @return 0 or a negative errno; on failure *@p out
 * is untouched and nothing is left listening.
 *
 * A socket file already at the path is replaced only when nothing answers on
 * it (-EADDRINUSE otherwise); a path that is not a socket gives -EEXIST.
 * The route "GET /api/v1/" is built in: it lists every registered route as
 * {"name":"aetherd","api":"v1","routes":[{"method":M,"path":P},...]}.
 */
int ap_api_start(uv_loop_t *loop, const struct ap_api_config *cfg, struct ap_api **out);

/**
 * Register @p fn for @p method on @p pattern ("/api/v1/ports/{name}").
 * A "{name}" segment matches any one non-empty path segment; when several
 * patterns match, the one with the fewest parameters wins. A single trailing
 * slash is not significant. HEAD requests are served by the GET handler.
 * @return 0 or -ENOMEM / -EINVAL, -EEXIST when the same method and pattern
 * shape is already registered.
 */
int ap_api_route(struct ap_api *api, const char *method, const char *pattern, ap_api_handler_fn fn,
		 void *ctx);

/**
 * Stop listening, close connections, remove the socket file and free @p api.
 * Call it on the loop's thread, never from inside a handler. The memory is
 * released once the loop has run the close callbacks of the server's handles.
 */
void ap_api_stop(struct ap_api *api);

#endif
