/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs the built aetherctl binary against an ap_api server with fake
 * handlers on a temp socket, and checks its output and exit codes.
 * The binary is $AETHERCTL, else "aetherctl" next to this test binary.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svc/api/api.h"

extern char **environ;

static const char ports_json[] =
	"{\"ports\":["
	"{\"name\":\"lan\",\"id\":0,\"driver\":\"af_packet\",\"mac\":\"02:00:00:00:00:01\","
	"\"link_up\":true,\"speed_mbps\":10000,\"rx_packets\":1234567,\"rx_bytes\":98765432,"
	"\"tx_packets\":1200000,\"tx_bytes\":87654321,\"rx_missed\":0,\"rx_errors\":0,"
	"\"tx_errors\":0,\"drops\":34567,\"queues\":[{\"id\":0}]},"
	"{\"name\":\"wan\",\"id\":1,\"driver\":\"af_xdp\",\"mac\":\"02:00:00:00:00:02\","
	"\"link_up\":false,\"speed_mbps\":0,\"rx_packets\":5,\"rx_bytes\":300,"
	"\"tx_packets\":7,\"tx_bytes\":420,\"rx_missed\":0,\"rx_errors\":1,"
	"\"tx_errors\":0,\"drops\":0}]}";

static const char ports_human[] =
	"NAME  DRIVER     LINK  RX-PKTS  RX-BYTES  TX-PKTS  TX-BYTES  DROPS\n"
	"lan   af_packet  up    1234567  98765432  1200000  87654321  34567\n"
	"wan   af_xdp     down        5       300        7       420      0\n";

static const char nodes_json[] =
	"{\"nodes\":["
	"{\"name\":\"eth-input\",\"calls\":1000,\"packets\":32000,\"cycles\":640000,"
	"\"cycles_per_packet\":20.0},"
	"{\"name\":\"ip4-lookup\",\"calls\":900,\"packets\":28800,\"cycles\":1296000,"
	"\"cycles_per_packet\":45.25,\"extra\":true}]}";

static const char nodes_human[] = "NAME        CALLS  PACKETS  CYCLES/PKT\n"
				  "eth-input    1000    32000        20.0\n"
				  "ip4-lookup    900    28800        45.2\n";

static const char qos_json[] =
	"{\"enabled\":true,\"interfaces\":[{\"name\":\"wan\",\"rate_bps\":100000000}],"
	"\"policers\":[{\"name\":\"cap\",\"type\":\"trtcm\",\"cir_bps\":10000000,\"cbs\":32768,"
	"\"pir_bps\":20000000,\"pbs\":65536,\"exceed\":\"remark\",\"violate\":\"drop\"}],"
	"\"classes\":[{\"name\":\"bulk\",\"out\":\"wan\",\"rate_bps\":20000000,"
	"\"ceil_bps\":1500000000,\"weight\":1,\"queue_limit\":256,\"queue_depth\":12,"
	"\"counters\":{\"packets\":1000,\"bytes\":1500000,\"tx_packets\":980,"
	"\"tx_bytes\":1470000,\"colors\":{\"green\":0,\"yellow\":0,\"red\":0},"
	"\"drops\":{\"policer\":0,\"host_limit\":0,\"queue_full\":8},\"remarked\":0}},"
	"{\"name\":\"udp\",\"policer\":\"cap\",\"counters\":{\"packets\":50,\"bytes\":70000,"
	"\"tx_packets\":30,\"tx_bytes\":42000,\"colors\":{\"green\":20,\"yellow\":10,\"red\":20},"
	"\"drops\":{\"policer\":20,\"host_limit\":0,\"queue_full\":0},\"remarked\":10}}]}";

static const char qos_human[] =
	"CLASS  OUT  RATE  CEIL  PKTS    BYTES  SENT     G/Y/R  POLICED  HOSTLIM  QFULL   QUEUE\n"
	"bulk   wan   20M  1.5G  1000  1500000   980     0/0/0        0        0      8  12/256\n"
	"udp    -       -     -    50    70000    30  20/10/20       20        0      0       -\n"
	"policer cap: trtcm cir 10M pir 20M, exceed remark, violate drop\n";

static const char stats_json[] =
	"{\"uptime_s\":3723.5,\"workers\":1,\"rx_packets\":1000,\"tx_packets\":990,"
	"\"packets_per_second\":12.5,\"drops\":{\"total\":10,\"reasons\":"
	"{\"eth-runt\":3,\"ip4-ttl-expired\":6,\"acl-deny\":1}},\"build\":\"x\"}";

static const char stats_human[] = "uptime               1h 2m 3s\n"
				  "workers              1\n"
				  "rx packets           1000\n"
				  "tx packets           990\n"
				  "packets/s            12.5\n"
				  "drops                10\n"
				  "\n"
				  "REASON           COUNT\n"
				  "ip4-ttl-expired      6\n"
				  "eth-runt             3\n"
				  "acl-deny             1\n";

/* How /api/v1/ports answers: the normal shape, an API error, or a wrong shape. */
enum { PORTS_OK, PORTS_404, PORTS_BAD_SHAPE };
static atomic_int ports_mode;

static int
h_ports(void *ctx, const struct ap_api_req *req, json_t **out)
{
	switch (atomic_load(&ports_mode)) {
	case PORTS_404:
		return ap_api_error(out, 404, "ports are not configured");
	case PORTS_BAD_SHAPE:
		*out = json_pack("{s:i}", "ports", 5);
		return 200;
	default:
		*out = json_loads(ctx, 0, NULL);
		return 200;
	}
}

static int
h_fixed(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_loads(ctx, 0, NULL);
	return 200;
}

static int
h_boom(void *ctx, const struct ap_api_req *req, json_t **out)
{
	return ap_api_error(out, 500, "disk on fire");
}

static int
h_echo(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_pack("{s:s,s:O?}", "method", req->method, "got", req->json);
	return 200;
}

static int
h_delete(void *ctx, const struct ap_api_req *req, json_t **out)
{
	return 204;
}

/* Fake log settings: PUT merges the body, GET shows them. */
static json_t *log_state;

static int
h_log_get(void *ctx, const struct ap_api_req *req, json_t **out)
{
	*out = json_deep_copy(log_state);
	return 200;
}

static int
h_log_put(void *ctx, const struct ap_api_req *req, json_t **out)
{
	json_t *lv = json_object_get(req->json, "level");
	json_t *mods = json_object_get(req->json, "modules");

	if (lv != NULL && strcmp(json_string_value(lv), "loud") == 0)
		return ap_api_error(out, 400, "level must be one of error, warning, info, debug");
	if (lv != NULL)
		json_object_set(log_state, "level", lv);
	if (mods != NULL)
		json_object_update(json_object_get(log_state, "modules"), mods);
	*out = json_deep_copy(log_state);
	return 200;
}

static const char test_token[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct srv {
	uv_loop_t loop;
	uv_async_t stop;
	struct ap_api *api;
	pthread_t thread;
	char dir[64];
	char path[128];
	char url[64];
};

static struct srv srv;

static void
on_stop(uv_async_t *a)
{
	ap_api_stop(srv.api);
	uv_close((uv_handle_t *)a, NULL);
}

static void *
loop_main(void *arg)
{
	uv_run(&srv.loop, UV_RUN_DEFAULT);
	return NULL;
}

static void
srv_up(void)
{
	struct ap_api_config cfg = {
		.unix_path = srv.path, .tcp_listen = "127.0.0.1:0", .token = test_token};
	static const struct {
		const char *method, *path;
		ap_api_handler_fn fn;
		const char *ctx;
	} routes[] = {
		{"GET", "/api/v1/ports", h_ports, ports_json},
		{"GET", "/api/v1/nodes", h_fixed, nodes_json},
		{"GET", "/api/v1/stats", h_fixed, stats_json},
		{"GET", "/api/v1/qos", h_fixed, qos_json},
		{"GET", "/api/v1/boom", h_boom, NULL},
		{"POST", "/api/v1/echo", h_echo, NULL},
		{"DELETE", "/api/v1/things/{id}", h_delete, NULL},
		{"GET", "/api/v1/log", h_log_get, NULL},
		{"PUT", "/api/v1/log", h_log_put, NULL},
	};

	strcpy(srv.dir, "/tmp/ap-ctl-test-XXXXXX");
	cr_assert_not_null(mkdtemp(srv.dir));
	snprintf(srv.path, sizeof(srv.path), "%s/api.sock", srv.dir);
	cr_assert_eq(uv_loop_init(&srv.loop), 0);
	cr_assert_eq(uv_async_init(&srv.loop, &srv.stop, on_stop), 0);
	cr_assert_eq(ap_api_start(&srv.loop, &cfg, &srv.api), 0);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		cr_assert_eq(ap_api_route(srv.api, routes[i].method, routes[i].path, routes[i].fn,
					  (void *)routes[i].ctx),
			     0);
	atomic_store(&ports_mode, PORTS_OK);
	log_state = json_pack("{s:s,s:s,s:{}}", "level", "info", "format", "text", "modules");
	snprintf(srv.url, sizeof(srv.url), "http://127.0.0.1:%u", ap_api_tcp_port(srv.api));
	cr_assert_eq(pthread_create(&srv.thread, NULL, loop_main, NULL), 0);
}

static void
srv_down(void)
{
	uv_async_send(&srv.stop);
	pthread_join(srv.thread, NULL);
	uv_loop_close(&srv.loop);
	rmdir(srv.dir);
}

TestSuite(aetherctl, .init = srv_up, .fini = srv_down);

/* --- running the client ----------------------------------------------- */

struct result {
	int code;
	char *out;
	char *err;
};

static const char *
ctl_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("AETHERCTL");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && env[0] != '\0')
		return env;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/aetherctl", dirname(self));
	return path;
}

static char *
slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;

	cr_assert_not_null(f);
	cr_assert_not_null(m);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	unlink(file);
	return buf;
}

/* "@SOCK" and "@URL" stand for the test server's socket and TCP address. */
static const char *
placeholder(const char *arg)
{
	if (strcmp(arg, "@SOCK") == 0)
		return srv.path;
	if (strcmp(arg, "@URL") == 0)
		return srv.url;
	return arg;
}

/*
 * Run aetherctl with 'args' (NULL terminated; "@SOCK" stands for the test
 * server's socket). 'env_sock' sets AETHER_SOCKET, NULL unsets it.
 */
static struct result
ctl(const char *env_sock, const char *const *args)
{
	posix_spawn_file_actions_t fa;
	struct result r = {0};
	char out[128], err[128];
	const char *argv[16];
	unsigned n = 0;
	pid_t pid;
	int status;

	argv[n++] = "aetherctl";
	for (; *args && n < 15; args++)
		argv[n++] = placeholder(*args);
	argv[n] = NULL;
	if (env_sock)
		setenv("AETHER_SOCKET", env_sock, 1);
	else
		unsetenv("AETHER_SOCKET");
	snprintf(out, sizeof(out), "%s/out", srv.dir);
	snprintf(err, sizeof(err), "%s/err", srv.dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_eq(posix_spawn(&pid, ctl_path(), &fa, NULL, (char *const *)argv, environ), 0,
		     "cannot run %s", ctl_path());
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "aetherctl died (status %d)", status);
	r.code = WEXITSTATUS(status);
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* --- tests ------------------------------------------------------------ */

Test(aetherctl, human_tables)
{
	static const struct {
		const char *word;
		const char *want;
	} cases[] = {
		{"ports", ports_human},
		{"nodes", nodes_human},
		{"stats", stats_human},
		{"qos", qos_human},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = ctl(NULL, ARGS("-s", "@SOCK", "show", cases[i].word));

		cr_assert_eq(r.code, 0, "show %s: %s", cases[i].word, r.err);
		cr_assert_str_eq(r.out, cases[i].want);
		cr_assert_str_eq(r.err, "");
		result_free(&r);
	}
}

Test(aetherctl, json_output_is_the_api_reply)
{
	static const struct {
		const char *word;
		const char *json;
	} cases[] = {
		{"ports", ports_json},
		{"nodes", nodes_json},
		{"stats", stats_json},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = ctl(NULL, ARGS("-j", "-s", "@SOCK", "show", cases[i].word));
		json_t *got = json_loads(r.out, 0, NULL);
		json_t *want = json_loads(cases[i].json, 0, NULL);

		cr_assert_eq(r.code, 0);
		cr_assert_not_null(got, "not JSON: %s", r.out);
		cr_assert(json_equal(got, want), "show %s -j: %s", cases[i].word, r.out);
		cr_assert(strchr(r.out, '\n') < r.out + strlen(r.out) - 1, "not pretty-printed");
		json_decref(got);
		json_decref(want);
		result_free(&r);
	}
}

Test(aetherctl, socket_from_environment)
{
	struct result r = ctl(srv.path, ARGS("show", "ports"));

	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, ports_human);
	result_free(&r);
	/* -s wins over the environment. */
	r = ctl("/nonexistent/api.sock", ARGS("--socket", "@SOCK", "show", "nodes"));
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, nodes_human);
	result_free(&r);
}

Test(aetherctl, raw_api_command)
{
	struct result r = ctl(NULL, ARGS("-s", "@SOCK", "api", "post", "/api/v1/echo",
					 "{\"port\":\"lan\",\"up\":true}"));
	json_t *got = json_loads(r.out, 0, NULL);
	json_t *want =
		json_pack("{s:s,s:{s:s,s:b}}", "method", "POST", "got", "port", "lan", "up", 1);

	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(json_equal(got, want), "%s", r.out);
	json_decref(got);
	json_decref(want);
	result_free(&r);

	r = ctl(NULL, ARGS("-s", "@SOCK", "api", "GET", "/api/v1/"));
	cr_assert_eq(r.code, 0);
	cr_assert_not_null(strstr(r.out, "\"path\": \"/api/v1/ports\""), "%s", r.out);
	result_free(&r);

	/* 204: nothing printed, success. */
	r = ctl(NULL, ARGS("-s", "@SOCK", "api", "DELETE", "/api/v1/things/7"));
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	result_free(&r);
}

Test(aetherctl, api_errors_exit_1)
{
	const struct {
		int mode;
		const char *const *args;
		const char *msg;
	} cases[] = {
		{PORTS_OK, ARGS("-s", "@SOCK", "api", "GET", "/api/v1/nope"),
		 "aetherctl: GET /api/v1/nope: error 404: no such resource: /api/v1/nope\n"},
		{PORTS_OK, ARGS("-s", "@SOCK", "api", "GET", "/api/v1/boom"),
		 "aetherctl: GET /api/v1/boom: error 500: disk on fire\n"},
		{PORTS_OK, ARGS("-s", "@SOCK", "-j", "api", "PUT", "/api/v1/echo"),
		 "aetherctl: PUT /api/v1/echo: error 405: method PUT not allowed on "
		 "/api/v1/echo\n"},
		{PORTS_OK, ARGS("-s", "@SOCK", "api", "POST", "/api/v1/echo", "[1,2,3]"), NULL},
		{PORTS_404, ARGS("-s", "@SOCK", "show", "ports"),
		 "aetherctl: GET /api/v1/ports: error 404: ports are not configured\n"},
		{PORTS_BAD_SHAPE, ARGS("-s", "@SOCK", "show", "ports"),
		 "aetherctl: GET /api/v1/ports: unexpected reply from aetherd (try -j)\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r;

		atomic_store(&ports_mode, cases[i].mode);
		r = ctl(NULL, cases[i].args);
		if (cases[i].msg == NULL) {
			cr_assert_eq(r.code, 0, "case %zu: %s", i, r.err);
		} else {
			cr_assert_eq(r.code, 1, "case %zu: exit %d", i, r.code);
			cr_assert_str_eq(r.err, cases[i].msg, "case %zu", i);
			cr_assert_str_eq(r.out, "");
		}
		result_free(&r);
	}
}

Test(aetherctl, usage_errors_exit_2)
{
	const struct {
		const char *const *args;
		const char *msg;
	} cases[] = {
		{ARGS("-s", "@SOCK"), "usage: aetherctl"},
		{ARGS("-s", "@SOCK", "show"), "expected show ports|nodes|stats"},
		{ARGS("-s", "@SOCK", "bogus"), "unknown command 'bogus'; expected show|"},
		{ARGS("-s", "@SOCK", "show", "ports", "extra"), "usage: aetherctl"},
		{ARGS("-s", "@SOCK", "api", "GET"), "api METHOD PATH [JSON]"},
		{ARGS("-s", "@SOCK", "api", "GET", "no-slash"), "path must start with '/'"},
		{ARGS("-s", "@SOCK", "api", "G3T", "/api/v1/"), "invalid method"},
		{ARGS("-s", "@SOCK", "api", "POST", "/api/v1/echo", "{oops"),
		 "invalid JSON argument"},
		{ARGS("-x", "show", "ports"), "unknown option -x"},
		{ARGS("--bogus", "show", "ports"), "unknown option --bogus"},
		{ARGS("-s"), "option -s needs a socket path"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = ctl(NULL, cases[i].args);

		cr_assert_eq(r.code, 2, "case %zu: exit %d, %s", i, r.code, r.err);
		cr_assert_not_null(strstr(r.err, cases[i].msg), "case %zu: %s", i, r.err);
		cr_assert_str_eq(r.out, "");
		result_free(&r);
	}
}

Test(aetherctl, help_exits_0)
{
	struct result r = ctl(NULL, ARGS("-h"));

	cr_assert_eq(r.code, 0);
	cr_assert_not_null(strstr(r.out, "show ports"));
	cr_assert_not_null(strstr(r.out, "api METHOD PATH [JSON]"));
	cr_assert_str_eq(r.err, "");
	result_free(&r);
}

Test(aetherctl, unreachable_exits_3)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char missing[160], stale[160], want[300];
	struct result r;
	int fd;

	snprintf(missing, sizeof(missing), "%s/missing.sock", srv.dir);
	r = ctl(NULL, ARGS("-s", missing, "show", "ports"));
	snprintf(want, sizeof(want),
		 "aetherctl: cannot reach aetherd at %s: no such socket (is aetherd running?)\n",
		 missing);
	cr_assert_eq(r.code, 3);
	cr_assert_str_eq(r.err, want);
	cr_assert_str_eq(r.out, "");
	result_free(&r);

	/* A socket file with nobody listening. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", srv.dir);
	strcpy(sa.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	r = ctl(stale, ARGS("show", "stats"));
	snprintf(want, sizeof(want),
		 "aetherctl: cannot reach aetherd at %s: connection refused (is aetherd "
		 "running?)\n",
		 stale);
	cr_assert_eq(r.code, 3);
	cr_assert_str_eq(r.err, want);
	result_free(&r);
	unlink(stale);
}

Test(aetherctl, tcp_url_needs_the_token)
{
	char file[160];
	struct result r;
	FILE *f;

	unsetenv("AETHER_TOKEN");
	r = ctl(NULL, ARGS("-u", "@URL", "-t", "/nonexistent/token", "show", "ports"));
	cr_assert_eq(r.code, 2, "unreadable token file: %s", r.err);
	cr_assert(strstr(r.err, "/nonexistent/token") != NULL, "%s", r.err);
	result_free(&r);

	setenv("AETHER_TOKEN", "wrong", 1);
	r = ctl(NULL, ARGS("-u", "@URL", "show", "ports"));
	cr_assert_eq(r.code, 1, "wrong token: exit %d", r.code);
	cr_assert(strstr(r.err, "error 401: missing or invalid bearer token") != NULL, "%s", r.err);
	result_free(&r);

	setenv("AETHER_TOKEN", test_token, 1);
	r = ctl(NULL, ARGS("-u", "@URL", "show", "ports"));
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, ports_human);
	result_free(&r);
	unsetenv("AETHER_TOKEN");

	snprintf(file, sizeof(file), "%s/token", srv.dir);
	f = fopen(file, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", test_token);
	fclose(f);
	r = ctl(NULL, ARGS("--url", "@URL", "--token-file", file, "-j", "show", "nodes"));
	unlink(file);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"ip4-lookup\"") != NULL, "%s", r.out);
	result_free(&r);

	/* Nothing listens there: exit 3. */
	r = ctl(NULL, ARGS("-u", "http://127.0.0.1:1", "show", "ports"));
	cr_assert_eq(r.code, 3, "%s", r.err);
	result_free(&r);
}

Test(aetherctl, log_levels)
{
	struct result r;

	r = ctl(NULL, ARGS("-s", "@SOCK", "log", "level", "debug"));
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "level    debug\nformat   text\n");
	result_free(&r);

	r = ctl(NULL, ARGS("-s", "@SOCK", "log", "level", "bgp", "warning"));
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out,
			 "level    debug\nformat   text\n\nMODULE  LEVEL\nbgp     warning\n");
	result_free(&r);

	r = ctl(NULL, ARGS("-s", "@SOCK", "-j", "show", "log"));
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"bgp\": \"warning\"") != NULL, "%s", r.out);
	result_free(&r);

	r = ctl(NULL, ARGS("-s", "@SOCK", "log", "level", "loud"));
	cr_assert_eq(r.code, 1);
	cr_assert(strstr(r.err, "error 400: level must be one of") != NULL, "%s", r.err);
	result_free(&r);

	r = ctl(NULL, ARGS("-s", "@SOCK", "log", "level"));
	cr_assert_eq(r.code, 2);
	result_free(&r);
}
