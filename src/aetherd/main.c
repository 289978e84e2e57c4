/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aetherd: load the config, start the data plane and the control-plane
 * services on the main lcore's libuv loop, run until told to stop.
 *
 * Offline mode (every port a pcap port, or -r/-w) runs the captures through
 * the pipeline and exits at the end of input with a JSON summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "dp/dp.h"
#include "lib/config.h"
#include "lib/log.h"
#include "svc/api/api.h"
#include "svc/bgp/bgp.h"
#include "svc/telemetry/telemetry.h"
#include "svc/svc.h"

#define MOD "aetherd"

/* Control-plane services, started in this order and stopped in reverse. */
static const struct ap_svc_ops *const services[] = {
	&ap_telemetry_svc,
	&ap_bgp_svc,
};
#define N_SERVICES (sizeof(services) / sizeof(services[0]))

struct daemon_state {
	uv_loop_t loop;
	uv_signal_t sig_int, sig_term, sig_hup;
	uv_timer_t tick;     /* 1 s: rate sampling. */
	uv_timer_t offline;  /* 10 ms: end-of-input check. */
	uv_timer_t duration; /* --duration. */
	uv_timer_t poll;     /* 1 ms: data-plane control work (ARP, ND, ICMP errors). */
	struct ap_dp *dp;
	struct ap_api *api;
	struct ap_config cfg;
	void *svc_state[N_SERVICES];
	bool svc_running[N_SERVICES];
	int exit_code;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: aetherd [-c FILE] [--check] [--foreground] [--no-dataplane]\n"
		   "               [-r IN.pcap [-w OUT.pcap]] [--summary FILE|-] [--duration "
		   "SECONDS]\n"
		   "               [--api-socket PATH] [--pidfile PATH] [--log-level LEVEL]\n"
		   "\n"
		   "  -c, --config FILE     configuration (YAML, see docs/config.md)\n"
		   "      --check           validate the configuration and exit\n"
		   "  -f, --foreground      do not detach\n"
		   "      --no-dataplane    run the control-plane services only\n"
		   "  -r, --read IN.pcap    offline: bind the first port's input to IN.pcap\n"
		   "  -w, --write OUT.pcap  offline: bind the first port's output to OUT.pcap\n"
		   "      --summary FILE    write the run summary (JSON) there ('-': stdout);\n"
		   "                        offline mode prints it on stdout by default\n"
		   "      --duration S      stop after S seconds\n"
		   "      --api-socket PATH REST API unix socket (default from config)\n"
		   "      --pidfile PATH    write the daemon's pid there\n"
		   "      --log-level L     error, warning, info or debug\n"
		   "  -h, --help            this text\n"
		   "\n"
		   "Without -c, -r runs the built-in default: one pcap port cross-connected to\n"
		   "itself.\n");
}

static void
builtin_default(struct ap_config *cfg)
{
	struct ap_cfg_port *p;

	ap_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "<built-in>");
	p = &cfg->ports[cfg->n_ports++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "p0");
	p->driver = AP_DRV_PCAP;
	p->rxq_size = 1024;
	p->txq_size = 1024;
	/* A wire: every frame with a whole Ethernet header comes out as it went in. */
	p->validate = AP_VALIDATE_NONE;
	snprintf(cfg->xconnects[0].a, sizeof(cfg->xconnects[0].a), "p0");
	snprintf(cfg->xconnects[0].b, sizeof(cfg->xconnects[0].b), "p0");
	cfg->xconnects[0].a_idx = 0;
	cfg->xconnects[0].b_idx = 0;
	cfg->n_xconnects = 1;
}

static bool
all_pcap(const struct ap_config *cfg)
{
	if (cfg->n_ports == 0)
		return false;
	for (unsigned i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i].driver != AP_DRV_PCAP)
			return false;
	return true;
}

static int
write_json(const char *path, json_t *j)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = json_dumpf(j, f, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', f);
	if (f == stdout)
		fflush(f);
	else if (fclose(f) != 0)
		rc = -1;
	return rc < 0 ? -EIO : 0;
}

/* API handlers: the data plane's counters. */

typedef json_t *(*dp_json_fn)(struct ap_dp *dp);

static int
dp_handler(struct daemon_state *st, dp_json_fn fn, json_t **out)
{
	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	*out = fn(st->dp);
	return 200;
}

static int
h_ports(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_ports_json, out);
}

static int
h_nodes(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_nodes_json, out);
}

static int
h_stats(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_stats_json, out);
}

static int
h_interfaces(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_ifaces_json, out);
}

static int
h_routes(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	*out = ap_dp_routes_json(st->dp, ap_api_req_query(req, "prefix"));
	return 200;
}

static int
route_status(int rc)
{
	switch (rc) {
	case -ENOENT:
		return 404;
	case -EEXIST:
	case -EPERM:
		return 409;
	case -ENOTSUP:
		return 503;
	case -ENOSPC:
		return 507;
	default:
		return 400;
	}
}

/* POST /api/v1/interfaces/{name}/addresses {"address": "192.0.2.1/24"}
 * DELETE /api/v1/interfaces/{name}/addresses?address=192.0.2.1/24 */
static int
addr_change(struct daemon_state *st, const struct ap_api_req *req, const char *addr, bool add,
	    json_t **out)
{
	struct ap_cfg_prefix p;
	char err[256];
	int rc;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	if (!addr || ap_cfg_prefix_parse(addr, true, &p) < 0)
		return ap_api_error(out, 400,
				    "expected an address with a prefix length, "
				    "e.g. 192.0.2.1/24 or 2001:db8::1/64");
	rc = ap_dp_addr_change(st->dp, req->params[0], &p, add, err, sizeof(err));
	if (rc < 0)
		return ap_api_error(out, route_status(rc), "%s", err);
	*out = ap_dp_ifaces_json(st->dp);
	return add ? 201 : 200;
}

static int
h_addr_add(void *ctx, const struct ap_api_req *req, json_t **out)
{
	return addr_change(ctx, req, json_string_value(json_object_get(req->json, "address")), true,
			   out);
}

static int
h_addr_del(void *ctx, const struct ap_api_req *req, json_t **out)
{
	return addr_change(ctx, req, ap_api_req_query(req, "address"), false, out);
}

/* POST /api/v1/routes {"prefix": "10.0.0.0/8", "via": "192.0.2.1" | "blackhole"} */
static int
h_route_add(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	struct ap_cfg_route r = {0};
	const char *prefix = json_string_value(json_object_get(req->json, "prefix"));
	const char *via = json_string_value(json_object_get(req->json, "via"));
	char err[256];
	int rc;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	if (!prefix || !via)
		return ap_api_error(out, 400,
				    "expected {\"prefix\": \"P/LEN\", \"via\": "
				    "\"ADDRESS\" or \"blackhole\"}");
	if (ap_cfg_prefix_parse(prefix, true, &r.prefix) < 0)
		return ap_api_error(out, 400, "prefix: '%s' is not an address with a length",
				    prefix);
	for (unsigned b = r.prefix.len; b < (r.prefix.family == 4 ? 32u : 128u); b++)
		if (r.prefix.addr[b / 8] & (0x80 >> (b % 8)))
			return ap_api_error(out, 400, "prefix: host bits set beyond /%u",
					    r.prefix.len);
	if (strcmp(via, "blackhole") == 0) {
		r.blackhole = true;
	} else {
		/* One next hop, or several separated by commas (ECMP). */
		char list[512], *save = NULL;

		snprintf(list, sizeof(list), "%s", via);
		for (char *v = strtok_r(list, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
			if (r.n_via == AP_CFG_MAX_ECMP)
				return ap_api_error(out, 400, "via: at most %d next hops",
						    AP_CFG_MAX_ECMP);
			if (ap_cfg_prefix_parse(v, false, &r.via[r.n_via]) < 0 ||
			    r.via[r.n_via].family != r.prefix.family)
				return ap_api_error(out, 400, "via: '%s' is not an IPv%u address",
						    v, r.prefix.family);
			r.n_via++;
		}
		if (r.n_via == 0)
			return ap_api_error(out, 400, "via: no next hop");
	}
	rc = ap_dp_route_add(st->dp, &r, err, sizeof(err));
	if (rc < 0)
		return ap_api_error(out, route_status(rc), "%s", err);
	*out = ap_dp_routes_json(st->dp, prefix);
	return 201;
}

/* DELETE /api/v1/routes?prefix=10.0.0.0/8 */
static int
h_route_del(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	const char *prefix = ap_api_req_query(req, "prefix");
	struct ap_cfg_prefix p;
	char err[256];
	int rc;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	if (!prefix || ap_cfg_prefix_parse(prefix, true, &p) < 0)
		return ap_api_error(out, 400, "expected ?prefix=P/LEN");
	rc = ap_dp_route_del(st->dp, &p, err, sizeof(err));
	if (rc < 0)
		return ap_api_error(out, route_status(rc), "%s", err);
	*out = json_pack("{s:s}", "deleted", prefix);
	return 200;
}

/* POST /api/v1/capture {"port": "lan", "file": "/abs.pcapng", "count": N,
 * "direction": "rx"|"tx"|"both"} */
static int
h_capture_start(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	const char *port = json_string_value(json_object_get(req->json, "port"));
	const char *file = json_string_value(json_object_get(req->json, "file"));
	const char *dir = json_string_value(json_object_get(req->json, "direction"));
	json_t *c = json_object_get(req->json, "count");
	char err[512];
	int rc;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	if (!port || !file || file[0] != '/' || !json_is_integer(c) || json_integer_value(c) < 1 ||
	    json_integer_value(c) > 10000000)
		return ap_api_error(out, 400,
				    "expected {\"port\": NAME, \"file\": ABSOLUTE_PATH, "
				    "\"count\": 1..10000000, \"direction\": rx|tx|both}");
	if (dir && strcmp(dir, "rx") && strcmp(dir, "tx") && strcmp(dir, "both"))
		return ap_api_error(out, 400, "direction must be rx, tx or both");
	rc = ap_dp_capture_start(st->dp, port, file, (uint64_t)json_integer_value(c),
				 !dir || strcmp(dir, "tx") != 0, !dir || strcmp(dir, "rx") != 0,
				 json_string_value(json_object_get(req->json, "filter")), err,
				 sizeof(err));
	if (rc < 0)
		return ap_api_error(out, rc == -EBUSY ? 409 : rc == -ENOENT ? 404 : 400, "%s", err);
	*out = ap_dp_capture_json(st->dp);
	return 201;
}

static int
h_capture_show(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_capture_json, out);
}

static int
h_capture_stop(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;

	(void)req;
	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	ap_dp_capture_stop(st->dp);
	*out = ap_dp_capture_json(st->dp);
	return 200;
}

/* POST /api/v1/trace {"count": N}: trace the next N packets per worker. */
static int
h_trace_add(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	json_t *c = json_object_get(req->json, "count");
	char err[512];
	int rc;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	if (!json_is_integer(c) || json_integer_value(c) < 1 || json_integer_value(c) > 1000)
		return ap_api_error(out, 400, "expected {\"count\": 1..1000}");
	rc = ap_dp_trace_start(st->dp, (unsigned)json_integer_value(c),
			       json_string_value(json_object_get(req->json, "filter")), err,
			       sizeof(err));
	if (rc < 0)
		return ap_api_error(out, rc == -EINVAL ? 400 : 503, "%s", err);
	*out = ap_dp_trace_json(st->dp);
	return 201;
}

static int
h_trace_show(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_trace_json, out);
}

static int
h_trace_clear(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;

	(void)req;
	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	ap_dp_trace_start(st->dp, 0, NULL, NULL, 0);
	*out = ap_dp_trace_json(st->dp);
	return 200;
}

static int
h_neighbors(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_neighbors_json, out);
}

static int
h_bridges(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_bridges_json, out);
}

static int
h_macs(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	const char *name = ap_api_req_query(req, "bridge");

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	*out = ap_dp_macs_json(st->dp, name);
	if (*out == NULL)
		return ap_api_error(out, 404, "no bridge '%s'", name);
	return 200;
}

static int
h_macs_flush(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	const char *name = ap_api_req_query(req, "bridge");
	int n;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	n = ap_dp_macs_flush(st->dp, name);
	if (n < 0)
		return ap_api_error(out, 404, "no bridge '%s'", name);
	AP_LOG_INFO(MOD, "flushed %d learned MACs%s%s", n, name ? " of bridge " : "",
		    name ? name : "");
	*out = json_pack("{s:i}", "flushed", n);
	return 200;
}

/* A whole number in [0, max] from a query argument, or -1. */
static long
query_uint(const char *s, long max)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return -1;
	v = strtol(s, &end, 10);
	return v <= max ? v : -1;
}

/* The data plane and the filter of GET/DELETE /api/v1/conntrack, checked:
 * 0 or an answer. */
static int
ct_query(const struct daemon_state *st, const struct ap_api_req *req, json_t **out, long *port,
	 long *limit)
{
	const char *proto = ap_api_req_query(req, "proto"), *p = ap_api_req_query(req, "port");
	const char *l = ap_api_req_query(req, "limit");
	static const char *const protos[] = {"tcp", "udp", "icmp", "icmpv6", "other", NULL};
	bool known = proto == NULL;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	*port = p ? query_uint(p, 65535) : 0;
	*limit = l ? query_uint(l, 100000) : 1000;
	for (unsigned i = 0; proto && protos[i]; i++)
		known |= strcmp(proto, protos[i]) == 0;
	if (!known)
		return ap_api_error(out, 400, "proto must be tcp, udp, icmp, icmpv6 or other");
	if (*port < 0 || *limit < 0)
		return ap_api_error(out, 400, "port must be 0..65535 and limit 0..100000");
	return 0;
}

static int
h_conntrack(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	long pn, ln;
	int rc = ct_query(st, req, out, &pn, &ln);

	if (rc != 0)
		return rc;
	*out = ap_dp_conntrack_json(st->dp, ap_api_req_query(req, "proto"),
				    ap_api_req_query(req, "address"), (unsigned)pn, (unsigned)ln);
	return 200;
}

static int
h_conntrack_flush(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	long pn, ln;
	int rc = ct_query(st, req, out, &pn, &ln);

	if (rc != 0)
		return rc;
	rc = ap_dp_conntrack_flush(st->dp, ap_api_req_query(req, "proto"),
				   ap_api_req_query(req, "address"), (unsigned)pn);
	if (rc < 0)
		return ap_api_error(out, 400, "address is not an IPv4 or IPv6 address");
	*out = json_pack("{s:i}", "flushed", rc);
	return 200;
}

static int
h_conntrack_events(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct daemon_state *st = ctx;
	const char *l = ap_api_req_query(req, "limit");
	long ln = l ? query_uint(l, 1024) : 100;

	if (!st->dp)
		return ap_api_error(out, 503, "the data plane is not running");
	if (ln < 0)
		return ap_api_error(out, 400, "limit must be 0..1024");
	*out = ap_dp_conntrack_events_json(st->dp, (unsigned)ln);
	return 200;
}

static int
h_firewall(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_firewall_json, out);
}

static int
h_synproxy(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_synproxy_json, out);
}

static int
h_qos(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_qos_json, out);
}

/* GET /api/v1/firewall/log */
static int
h_firewall_log(void *ctx, const struct ap_api_req *req, json_t **out)
{
	(void)req;
	return dp_handler(ctx, ap_dp_firewall_log_json, out);
}

static void
on_poll(uv_timer_t *t)
{
	struct daemon_state *st = t->data;

	ap_dp_poll(st->dp);
}

static void
on_stop_signal(uv_signal_t *h, int signum)
{
	struct daemon_state *st = h->data;

	AP_LOG_INFO(MOD, "%s: stopping", strsignal(signum));
	uv_stop(&st->loop);
}

/* What a reload may not change without a restart: everything but routes,
 * the firewall's rules, zones and policies,
 * logging and service sections whose service takes a reconfigure. Positions
 * of objects in the file do not count. */
static const char *
restart_needed(const struct ap_config *a, const struct ap_config *b)
{
	struct ap_cfg_port pa, pb;

	if (a->workers != b->workers || a->mbufs != b->mbufs || a->burst != b->burst ||
	    a->hugepages != b->hugepages || strcmp(a->eal_args, b->eal_args) != 0 ||
	    a->node_cycles != b->node_cycles || a->neigh_reachable_s != b->neigh_reachable_s)
		return "dataplane";
	if (a->n_ports != b->n_ports)
		return "ports";
	for (unsigned i = 0; i < a->n_ports; i++) {
		pa = a->ports[i];
		pb = b->ports[i];
		pa.line = pb.line = pa.col = pb.col = 0;
		if (memcmp(&pa, &pb, sizeof(pa)) != 0)
			return "ports";
	}
	if (a->n_xconnects != b->n_xconnects ||
	    memcmp(a->xconnects, b->xconnects, sizeof(a->xconnects[0]) * a->n_xconnects) != 0)
		return "xconnect";
	if (memcmp(&a->conntrack, &b->conntrack, sizeof(a->conntrack)) != 0)
		return "conntrack";
	/* Rules, sets, zones and policies reload; the section's presence does not. */
	if (a->firewall.enabled != b->firewall.enabled)
		return "firewall";
	if (memcmp(&a->qos, &b->qos, sizeof(a->qos)) != 0)
		return "qos";
	if (a->n_bridges != b->n_bridges || a->mac_table_size != b->mac_table_size)
		return "bridges";
	for (unsigned i = 0; i < a->n_bridges; i++) {
		struct ap_cfg_bridge ba = a->bridges[i], bb = b->bridges[i];

		ba.line = bb.line = ba.col = bb.col = 0;
		for (unsigned k = 0; k < AP_CFG_BRIDGE_MAX_MEMBERS; k++)
			ba.members[k].line = bb.members[k].line = ba.members[k].col =
				bb.members[k].col = 0;
		for (unsigned k = 0; k < AP_CFG_BRIDGE_MAX_STATIC; k++)
			ba.static_macs[k].line = bb.static_macs[k].line = ba.static_macs[k].col =
				bb.static_macs[k].col = 0;
		if (memcmp(&ba, &bb, sizeof(ba)) != 0)
			return "bridges";
	}
	if (a->n_ifaces != b->n_ifaces ||
	    memcmp(a->ifaces, b->ifaces, sizeof(a->ifaces[0]) * a->n_ifaces) != 0)
		return "interfaces";
	if (a->n_neighbors != b->n_neighbors ||
	    memcmp(a->neighbors, b->neighbors, sizeof(a->neighbors[0]) * a->n_neighbors) != 0)
		return "neighbors";
	if (strcmp(a->api_socket, b->api_socket) != 0 ||
	    strcmp(a->api_listen, b->api_listen) != 0 ||
	    strcmp(a->api_token_file, b->api_token_file) != 0 ||
	    strcmp(a->api_tls_cert, b->api_tls_cert) != 0 ||
	    strcmp(a->api_tls_key, b->api_tls_key) != 0 ||
	    strcmp(a->api_web_root, b->api_web_root) != 0)
		return "api";
	return NULL;
}

/*
 * Reload: parse and validate the file again, refuse what needs a restart,
 * then apply (routes as a diff, logging, services). A bad file changes
 * nothing: the running configuration stays.
 */
static int
reload(struct daemon_state *st, char *msg, size_t len)
{
	struct ap_config *cfg;
	const char *what;
	int rc, lvl;

	if (strcmp(st->cfg.path, "<built-in>") == 0) {
		snprintf(msg, len, "running the built-in configuration: nothing to reload");
		return -EINVAL;
	}
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	rc = ap_config_load_file(st->cfg.path, cfg, msg);
	if (rc < 0)
		goto out;
	what = restart_needed(&st->cfg, cfg);
	if (what) {
		snprintf(msg, len, "%s: changes to '%s' need a restart; nothing applied",
			 st->cfg.path, what);
		rc = -EPERM;
		goto out;
	}
	/* The bgp: section belongs to the BGP service. */
	if (memcmp(&st->cfg.bgp, &cfg->bgp, sizeof(cfg->bgp)) != 0) {
		rc = -EOPNOTSUPP;
		for (unsigned i = 0; i < N_SERVICES; i++)
			if (st->svc_running[i] && strcmp(services[i]->name, "bgp") == 0 &&
			    services[i]->reconfigure)
				rc = services[i]->reconfigure(st->svc_state[i], cfg);
		if (rc < 0) {
			snprintf(msg, len,
				 "%s: the BGP service cannot apply this change (%s); "
				 "restart to apply it",
				 st->cfg.path, strerror(-rc));
			rc = -EPERM;
			goto out;
		}
	}
	if (st->dp) {
		rc = ap_dp_reconfigure(st->dp, cfg, msg, len);
		if (rc < 0)
			goto out;
	}
	lvl = ap_log_level_parse(cfg->log_level);
	if (lvl >= 0 && strcmp(cfg->log_level, st->cfg.log_level) != 0)
		ap_log_set_level(NULL, (enum ap_log_level)lvl);
	if (cfg->log_json != st->cfg.log_json)
		ap_log_set_format(cfg->log_json ? AP_LOG_FORMAT_JSON : AP_LOG_FORMAT_TEXT);
	st->cfg = *cfg;
	snprintf(msg, len, "%s: reloaded (%u static routes)", st->cfg.path, st->cfg.n_routes);
	rc = 0;
out:
	free(cfg);
	if (rc < 0)
		AP_LOG_ERR(MOD, "reload refused: %s", msg);
	else
		AP_LOG_INFO(MOD, "%s", msg);
	return rc;
}

static void
on_hup(uv_signal_t *h, int signum)
{
	char msg[AP_CFG_ERR_MAX];

	(void)signum;
	reload(h->data, msg, sizeof(msg));
}

/* POST /api/v1/reload */
static int
h_reload(void *ctx, const struct ap_api_req *req, json_t **out)
{
	char msg[AP_CFG_ERR_MAX];
	int rc;

	(void)req;
	rc = reload(ctx, msg, sizeof(msg));
	if (rc == -EPERM)
		return ap_api_error(out, 409, "%s", msg);
	if (rc < 0)
		return ap_api_error(out, rc == -ENOMEM ? 500 : 400, "%s", msg);
	*out = json_pack("{s:s}", "message", msg);
	return 200;
}

static void
on_tick(uv_timer_t *t)
{
	struct daemon_state *st = t->data;

	if (st->dp)
		ap_dp_sample(st->dp);
}

static void
on_offline_check(uv_timer_t *t)
{
	struct daemon_state *st = t->data;

	if (ap_dp_input_done(st->dp)) {
		AP_LOG_INFO(MOD, "end of input");
		uv_stop(&st->loop);
	}
}

static void
on_duration(uv_timer_t *t)
{
	struct daemon_state *st = t->data;

	AP_LOG_INFO(MOD, "duration elapsed: stopping");
	uv_stop(&st->loop);
}

static void
close_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Detach; the parent waits until the child reports its start-up result so
 * that a failing start still exits non-zero with the message on stderr. */
static int
daemonize(int *notify_fd)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(1);
		_exit(c == 0 ? 0 : 1);
	}
	close(fds[0]);
	setsid();
	*notify_fd = fds[1];
	return 0;
}

static void
notify_parent(int *fd, char status)
{
	if (*fd < 0)
		return;
	if (write(*fd, &status, 1) != 1)
		AP_LOG_WARN(MOD, "cannot notify the parent process");
	close(*fd);
	*fd = -1;
	if (status == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			close(null);
		}
	}
}

int
main(int argc, char **argv)
{
	enum { O_CHECK = 256, O_NODP, O_SUMMARY, O_DURATION, O_API, O_PID, O_LOG };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, O_CHECK},
		{"foreground", no_argument, NULL, 'f'},
		{"no-dataplane", no_argument, NULL, O_NODP},
		{"read", required_argument, NULL, 'r'},
		{"write", required_argument, NULL, 'w'},
		{"summary", required_argument, NULL, O_SUMMARY},
		{"duration", required_argument, NULL, O_DURATION},
		{"api-socket", required_argument, NULL, O_API},
		{"pidfile", required_argument, NULL, O_PID},
		{"log-level", required_argument, NULL, O_LOG},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct daemon_state st;
	const char *config = NULL, *rpath = NULL, *wpath = NULL, *summary = NULL;
	const char *api_socket = NULL, *pidfile = NULL, *log_level = NULL;
	bool check = false, foreground = false, no_dp = false, offline;
	double duration = 0;
	char err[AP_CFG_ERR_MAX];
	int c, rc, notify_fd = -1;

	while ((c = getopt_long(argc, argv, "c:fr:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case O_CHECK:
			check = true;
			break;
		case 'f':
			foreground = true;
			break;
		case O_NODP:
			no_dp = true;
			break;
		case 'r':
			rpath = optarg;
			break;
		case 'w':
			wpath = optarg;
			break;
		case O_SUMMARY:
			summary = optarg;
			break;
		case O_DURATION: {
			char *end;

			duration = strtod(optarg, &end);
			if (*end || duration <= 0) {
				fprintf(stderr, "aetherd: --duration: not a positive number: %s\n",
					optarg);
				return 2;
			}
			break;
		}
		case O_API:
			api_socket = optarg;
			break;
		case O_PID:
			pidfile = optarg;
			break;
		case O_LOG:
			log_level = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aetherd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (wpath && !rpath) {
		fprintf(stderr, "aetherd: -w needs -r\n");
		return 2;
	}

	if (config) {
		if (ap_config_load_file(config, &st.cfg, err) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	} else if (rpath || check) {
		builtin_default(&st.cfg);
	} else {
		fprintf(stderr, "aetherd: nothing to run: give -c CONFIG, or -r IN.pcap\n");
		usage(stderr);
		return 2;
	}
	if (rpath) {
		struct ap_cfg_port *p = &st.cfg.ports[0];

		if (st.cfg.n_ports == 0) {
			fprintf(stderr, "%s: -r needs at least one port in the configuration\n",
				st.cfg.path);
			return 1;
		}
		p->driver = AP_DRV_PCAP;
		p->iface[0] = p->devargs[0] = '\0';
		snprintf(p->rx_pcap, sizeof(p->rx_pcap), "%s", rpath);
		snprintf(p->tx_pcap, sizeof(p->tx_pcap), "%s", wpath ? wpath : "/dev/null");
	}
	if (check) {
		printf("%s: OK\n", st.cfg.path);
		return 0;
	}

	if (log_level) {
		int lvl = ap_log_level_parse(log_level);

		if (lvl < 0) {
			fprintf(stderr, "aetherd: --log-level: unknown level '%s'\n", log_level);
			return 2;
		}
		ap_log_set_level(NULL, (enum ap_log_level)lvl);
	} else {
		int lvl = ap_log_level_parse(st.cfg.log_level);

		ap_log_set_level(NULL, lvl < 0 ? AP_LOG_LEVEL_INFO : (enum ap_log_level)lvl);
	}
	ap_log_set_format(st.cfg.log_json ? AP_LOG_FORMAT_JSON : AP_LOG_FORMAT_TEXT);

	offline = !no_dp && all_pcap(&st.cfg);
	if (!foreground && !offline && !duration) {
		rc = daemonize(&notify_fd);
		if (rc < 0) {
			fprintf(stderr, "aetherd: cannot detach: %s\n", strerror(-rc));
			return 1;
		}
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
			fprintf(stderr, "aetherd: cannot write %s: %s\n", pidfile, strerror(errno));
			notify_parent(&notify_fd, 1);
			return 1;
		}
	}

	uv_loop_init(&st.loop);
	if (!no_dp && st.cfg.n_ports > 0) {
		struct ap_dp_opts dopts = {
			.prog = argv[0],
			.log_level =
				log_level && strcmp(log_level, "debug") == 0 ? "info" : "warning",
			.offline = offline,
		};

		rc = ap_dp_start(&st.cfg, &dopts, &st.dp, err, sizeof(err));
		if (rc < 0) {
			AP_LOG_ERR(MOD, "data plane: %s", err);
			fprintf(stderr, "aetherd: %s\n", err);
			notify_parent(&notify_fd, 1);
			return 1;
		}
	}

	/* Offline runs are batch jobs: no API unless asked for. */
	if (!offline || api_socket) {
		static char token[AP_API_TOKEN_LEN + 1];
		bool tcp = !offline && strcmp(st.cfg.api_listen, "none") != 0;
		struct ap_api_config acfg = {
			.unix_path = api_socket ? api_socket : st.cfg.api_socket,
			.tcp_listen = tcp ? st.cfg.api_listen : NULL,
			.token = token,
			.tls_cert = st.cfg.api_tls_cert,
			.tls_key = st.cfg.api_tls_key,
		};

		if (tcp) {
			rc = ap_api_token_load(st.cfg.api_token_file, token);
			/* As for the port below: only the built-in default is best effort. */
			if ((rc == -EACCES || rc == -EPERM || rc == -EROFS) &&
			    strcmp(st.cfg.api_token_file, "/var/lib/aetherd/api.token") == 0) {
				AP_LOG_WARN(MOD, "API token %s: %s: TCP API disabled",
					    st.cfg.api_token_file, strerror(-rc));
				tcp = false;
				acfg.tcp_listen = NULL;
				rc = 0;
			}
			if (rc < 0) {
				fprintf(stderr, "aetherd: API token %s: %s\n",
					st.cfg.api_token_file,
					rc == -EINVAL ? "not a 64-digit hex token" : strerror(-rc));
				st.exit_code = 1;
				goto out;
			}
		}
		rc = ap_api_start(&st.loop, &acfg, &st.api);
		/*
		 * The built-in TCP default is best effort (several daemons may share a
		 * host, each in its own role); a listener the config asks for is not.
		 */
		if (rc == -EADDRINUSE && tcp && strcmp(st.cfg.api_listen, "127.0.0.1:8080") == 0) {
			AP_LOG_WARN(MOD, "API: 127.0.0.1:8080 is in use: TCP API disabled");
			acfg.tcp_listen = NULL;
			rc = ap_api_start(&st.loop, &acfg, &st.api);
		}
		if (rc < 0) {
			fprintf(stderr, "aetherd: API on %s%s%s: %s\n", acfg.unix_path,
				acfg.tcp_listen ? " and " : "",
				acfg.tcp_listen ? acfg.tcp_listen : "", strerror(-rc));
			st.exit_code = 1;
			goto out;
		}
		if (ap_api_route(st.api, "GET", "/api/v1/ports", h_ports, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/nodes", h_nodes, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/stats", h_stats, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/interfaces", h_interfaces, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/routes", h_routes, &st) < 0 ||
		    ap_api_route(st.api, "POST", "/api/v1/routes", h_route_add, &st) < 0 ||
		    ap_api_route(st.api, "POST", "/api/v1/interfaces/{name}/addresses", h_addr_add,
				 &st) < 0 ||
		    ap_api_route(st.api, "DELETE", "/api/v1/interfaces/{name}/addresses",
				 h_addr_del, &st) < 0 ||
		    ap_api_route(st.api, "DELETE", "/api/v1/routes", h_route_del, &st) < 0 ||
		    ap_api_route(st.api, "POST", "/api/v1/trace", h_trace_add, &st) < 0 ||
		    ap_api_route(st.api, "POST", "/api/v1/reload", h_reload, &st) < 0 ||
		    ap_api_route(st.api, "POST", "/api/v1/capture", h_capture_start, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/capture", h_capture_show, &st) < 0 ||
		    ap_api_route(st.api, "DELETE", "/api/v1/capture", h_capture_stop, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/trace", h_trace_show, &st) < 0 ||
		    ap_api_route(st.api, "DELETE", "/api/v1/trace", h_trace_clear, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/neighbors", h_neighbors, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/bridges", h_bridges, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/bridges/macs", h_macs, &st) < 0 ||
		    ap_api_route(st.api, "DELETE", "/api/v1/bridges/macs", h_macs_flush, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/conntrack", h_conntrack, &st) < 0 ||
		    ap_api_route(st.api, "DELETE", "/api/v1/conntrack", h_conntrack_flush, &st) <
			    0 ||
		    ap_api_route(st.api, "GET", "/api/v1/conntrack/events", h_conntrack_events,
				 &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/firewall", h_firewall, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/synproxy", h_synproxy, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/qos", h_qos, &st) < 0 ||
		    ap_api_route(st.api, "GET", "/api/v1/firewall/log", h_firewall_log, &st) < 0) {
			fprintf(stderr, "aetherd: cannot register API routes\n");
			st.exit_code = 1;
			goto out;
		}
		AP_LOG_INFO(MOD, "API on unix:%s", acfg.unix_path);
		if (acfg.tcp_listen != NULL)
			AP_LOG_INFO(MOD, "API on %s://%s (token in %s)",
				    acfg.tls_cert[0] ? "https" : "http", acfg.tcp_listen,
				    st.cfg.api_token_file);
	}

	for (unsigned i = 0; i < N_SERVICES; i++) {
		const struct ap_svc_ops *ops = services[i];
		struct ap_svc_env env = {.loop = &st.loop,
					 .api = st.api,
					 .dp = st.dp,
					 .fib = st.dp ? ap_dp_fib(st.dp) : NULL};

		if (!ops || (ops->wanted && !ops->wanted(&st.cfg)))
			continue;
		rc = ops->start(&env, &st.cfg, &st.svc_state[i]);
		if (rc < 0) {
			fprintf(stderr, "aetherd: service %s: %s\n", ops->name, strerror(-rc));
			st.exit_code = 1;
			goto out;
		}
		st.svc_running[i] = true;
		AP_LOG_INFO(MOD, "service %s started", ops->name);
	}

	/* The loop's clock was read before the (slow) data-plane start. */
	uv_update_time(&st.loop);
	uv_signal_init(&st.loop, &st.sig_int);
	uv_signal_init(&st.loop, &st.sig_term);
	uv_signal_init(&st.loop, &st.sig_hup);
	st.sig_int.data = st.sig_term.data = st.sig_hup.data = &st;
	uv_signal_start(&st.sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&st.sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&st.sig_hup, on_hup, SIGHUP);
	uv_timer_init(&st.loop, &st.tick);
	st.tick.data = &st;
	uv_timer_start(&st.tick, on_tick, 1000, 1000);
	if (offline) {
		uv_timer_init(&st.loop, &st.offline);
		st.offline.data = &st;
		uv_timer_start(&st.offline, on_offline_check, 0, 10);
	}
	if (st.dp) {
		uv_timer_init(&st.loop, &st.poll);
		st.poll.data = &st;
		uv_timer_start(&st.poll, on_poll, 1, 1);
	}
	if (duration > 0) {
		uv_timer_init(&st.loop, &st.duration);
		st.duration.data = &st;
		uv_timer_start(&st.duration, on_duration, (uint64_t)(duration * 1000), 0);
	}

	notify_parent(&notify_fd, 0);
	AP_LOG_INFO(MOD, "running%s", offline ? " (offline)" : "");
	uv_run(&st.loop, UV_RUN_DEFAULT);

out:
	for (unsigned i = N_SERVICES; i-- > 0;)
		if (st.svc_running[i])
			services[i]->stop(st.svc_state[i]);
	if (st.dp) {
		ap_dp_stop(st.dp);
		if (summary || offline) {
			json_t *j = ap_dp_summary_json(st.dp);

			if (write_json(summary ? summary : "-", j) < 0) {
				fprintf(stderr, "aetherd: cannot write summary to %s\n",
					summary ? summary : "stdout");
				st.exit_code = 1;
			}
			json_decref(j);
		}
	}
	if (st.api)
		ap_api_stop(st.api);
	uv_walk(&st.loop, close_cb, NULL);
	uv_run(&st.loop, UV_RUN_DEFAULT);
	uv_loop_close(&st.loop);
	if (st.dp)
		ap_dp_destroy(st.dp);
	if (pidfile)
		unlink(pidfile);
	notify_parent(&notify_fd, (char)(st.exit_code ? 1 : 0));
	return st.exit_code;
}
