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
#include <stdbool.h>
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

/** Length of a bearer token: 32 random bytes in lowercase hex. */
#define AP_API_TOKEN_LEN 64

struct ap_api_config {
	const char *unix_path; /**< Unix socket path (mode 0600, parent dir created 0700). */
	/**
	 * TCP listener, "ADDR:PORT" or "[ADDR6]:PORT"; NULL, "" or "none": no TCP.
	 * Port 0 takes a free port (see ap_api_tcp_port()). Every request on TCP needs
	 * "Authorization: Bearer <token>"; the unix socket needs none (file mode guards it).
	 */
	const char *tcp_listen;
	const char *token;    /**< Required when tcp_listen is set. */
	const char *tls_cert; /**< PEM certificate chain; with tls_key, TCP speaks HTTPS. */
	const char *tls_key;  /**< PEM private key. */
};

/**
 * Read the token stored at @p path, or create it: 32 bytes from getrandom() in
 * hex, file mode 0600, missing parent directories mode 0700.
 * @return 0, -EINVAL when the file holds no valid token, or another negative errno.
 */
int ap_api_token_load(const char *path, char token[AP_API_TOKEN_LEN + 1]);

/** True when HTTPS is available (libmicrohttpd built with TLS). */
bool ap_api_tls_supported(void);

/** Port the TCP listener is bound to, 0 when there is none. */
unsigned ap_api_tcp_port(const struct ap_api *api);

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

/** Route flags. */
#define AP_API_PUBLIC	   (1u << 0) /**< No token needed on TCP (static dashboard files). */
#define AP_API_TOKEN_QUERY (1u << 1) /**< The token may also come as "?token=" (EventSource). */

/** A non-JSON reply body. */
struct ap_api_body {
	char *data; /**< malloc()ed; the server frees it. */
	size_t len;
	const char *content_type; /**< Static string, e.g. "text/plain; version=0.0.4". */
	const char *cache;	  /**< Cache-Control value, or NULL. */
};

/**
 * A handler with a non-JSON reply: on success fills @p body and returns 2xx;
 * on failure returns the status from ap_api_error(@p err, ...).
 */
typedef int (*ap_api_raw_fn)(void *ctx, const struct ap_api_req *req, struct ap_api_body *body,
			     json_t **err);

/** Like ap_api_route() for a handler with a non-JSON reply; @p flags: AP_API_*. */
int ap_api_route_raw(struct ap_api *api, const char *method, const char *pattern, unsigned flags,
		     ap_api_raw_fn fn, void *ctx);

/** An open streaming reply (Server-Sent Events). */
struct ap_api_stream;

/**
 * Called when a client opens a stream route. Return 200 to accept (@p s then
 * stays valid until ap_api_stream_end() or the close callback), or an error
 * status from ap_api_error(@p err, ...).
 */
typedef int (*ap_api_stream_open_fn)(void *ctx, const struct ap_api_req *req,
				     struct ap_api_stream *s, json_t **err);
/** Called once when the client went away or the server stops; @p s is freed after. */
typedef void (*ap_api_stream_close_fn)(void *ctx, struct ap_api_stream *s);

/** Largest amount of unsent data a stream may hold; beyond it the client is dropped. */
#define AP_API_STREAM_MAX_PENDING (1u << 20)

/**
 * Register a GET route answered by a never-ending body of @p content_type,
 * fed with ap_api_stream_send(). Streams never block the loop: a stream with
 * nothing to send is suspended until the next send.
 */
int ap_api_route_stream(struct ap_api *api, const char *pattern, unsigned flags,
			const char *content_type, ap_api_stream_open_fn open,
			ap_api_stream_close_fn close, void *ctx);

/**
 * Queue @p len bytes on @p s. @return 0, or -ENOBUFS when the client is too
 * slow (the stream is then closed and its close callback runs later).
 */
int ap_api_stream_send(struct ap_api_stream *s, const void *data, size_t len);

/** End @p s after what is queued; its close callback is not called. */
void ap_api_stream_end(struct ap_api_stream *s);

/**
 * Stop listening, close connections, remove the socket file and free @p api.
 * Call it on the loop's thread, never from inside a handler. The memory is
 * released once the loop has run the close callbacks of the server's handles.
 */
void ap_api_stop(struct ap_api *api);

#endif
