/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * REST handlers of the BGP speaker: summary, neighbours, Loc-RIB routes and
 * per-neighbour Adj-RIB-In / Adj-RIB-Out. The same JSON feeds aetherctl.
 */
#include "svc/bgp/bgp_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svc/api/api.h"

#define DEFAULT_LIMIT 1000

static json_t *
ip4_json(uint32_t v)
{
	char buf[INET_ADDRSTRLEN];
	uint32_t n = htonl(v);

	inet_ntop(AF_INET, &n, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
addr_json(const uint8_t *a, bool v6)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
peer_json(struct bgp_svc *s, struct bgp_peer *p, bool detail)
{
	uint64_t rx = 0, acc = 0, now = uv_now(s->loop);
	json_t *j = json_object(), *fam;

	ap_bgp_rib_peer_counts(s->rib, p->idx, &rx, &acc);
	json_object_set_new(j, "address", addr_json(p->cfg.addr, p->cfg.v6));
	json_object_set_new(j, "remote_as", json_integer(p->cfg.remote_as));
	json_object_set_new(j, "type", json_string(p->ibgp ? "ibgp" : "ebgp"));
	json_object_set_new(j, "state", json_string(ap_bgp_state_name(p->fsm.state)));
	json_object_set_new(j, "state_seconds",
			    json_integer((json_int_t)((now - p->fsm.since) / 1000)));
	json_object_set_new(j, "prefixes_received", json_integer((json_int_t)rx));
	json_object_set_new(j, "prefixes_accepted", json_integer((json_int_t)acc));
	json_object_set_new(j, "prefixes_sent", json_integer((json_int_t)p->prefixes_out));
	json_object_set_new(j, "last_error", json_string(p->last_error));
	if (!detail)
		return j;
	fam = json_array();
	json_object_set_new(j, "port", json_integer(p->cfg.port));
	json_object_set_new(j, "passive", json_boolean(p->cfg.passive));
	json_object_set_new(j, "import",
			    json_string(p->cfg.import[0] ? p->cfg.import
					: p->import_all	 ? "all (iBGP default)"
							 : "none (RFC 8212)"));
	json_object_set_new(j, "export",
			    json_string(p->cfg.export[0] ? p->cfg.export
					: p->export_all	 ? "all (iBGP default)"
							 : "none (RFC 8212)"));
	json_object_set_new(j, "hold_time_configured", json_integer(p->cfg.hold_time));
	json_object_set_new(j, "hold_time", json_integer(p->fsm.hold_neg));
	json_object_set_new(j, "established_transitions", json_integer(p->fsm.n_established));
	json_object_set_new(j, "messages_received", json_integer((json_int_t)p->msgs_in));
	json_object_set_new(j, "messages_sent", json_integer((json_int_t)p->msgs_out));
	json_object_set_new(j, "updates_received", json_integer((json_int_t)p->updates_in));
	json_object_set_new(j, "updates_sent", json_integer((json_int_t)p->updates_out));
	if (p->fsm.state >= AP_BGP_OPENCONFIRM) {
		json_t *caps = json_object();

		json_object_set_new(j, "router_id", ip4_json(p->peer_open.router_id));
		json_object_set_new(caps, "four_octet_as", json_boolean(p->peer_open.as4));
		json_object_set_new(caps, "route_refresh",
				    json_boolean(p->peer_open.route_refresh));
		json_object_set_new(caps, "enhanced_route_refresh",
				    json_boolean(p->peer_open.enhanced_rr));
		json_object_set_new(caps, "extended_message", json_boolean(p->peer_open.ext_msg));
		json_object_set_new(caps, "graceful_restart",
				    json_boolean(p->peer_open.gr_present));
		json_object_set_new(j, "capabilities", caps);
		for (int af = 0; af < AP_BGP_N_AF; af++)
			if (p->af[af])
				json_array_append_new(fam, json_string(af ? "ipv6" : "ipv4"));
	}
	json_object_set_new(j, "families", fam);
	if (p->rx_shutdown[0])
		json_object_set_new(j, "shutdown_message", json_string(p->rx_shutdown));
	return j;
}

static json_t *
attrs_json(json_t *j, const struct ap_bgp_attrs *a, uint8_t af)
{
	static const char *const origins[] = {"igp", "egp", "incomplete"};
	char buf[1024];
	json_t *arr;

	json_object_set_new(j, "origin", json_string(a->origin <= 2 ? origins[a->origin] : "?"));
	json_object_set_new(
		j, "as_path",
		json_string(ap_bgp_aspath_str(a->as_path, a->as_path_len, buf, sizeof(buf))));
	if (af == AP_BGP_IPV4 && ap_bgp_attr_has(a, AP_BGP_ATTR_NEXT_HOP))
		json_object_set_new(j, "next_hop", ip4_json(a->next_hop));
	else if (af == AP_BGP_IPV6 && a->mp_nh_len >= 16)
		json_object_set_new(j, "next_hop", addr_json(a->mp_nh, true));
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_MED))
		json_object_set_new(j, "med", json_integer(a->med));
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_LOCAL_PREF))
		json_object_set_new(j, "local_pref", json_integer(a->local_pref));
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_ATOMIC_AGGR))
		json_object_set_new(j, "atomic_aggregate", json_true());
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_AGGREGATOR)) {
		snprintf(buf, sizeof(buf), "%" PRIu32 " ", a->aggregator_as);
		json_object_set_new(j, "aggregator_as", json_integer(a->aggregator_as));
		json_object_set_new(j, "aggregator_id", ip4_json(a->aggregator_id));
	}
	if (a->n_communities) {
		arr = json_array();
		for (uint16_t i = 0; i < a->n_communities; i++) {
			const uint8_t *c = a->communities + 4 * i;

			snprintf(buf, sizeof(buf), "%u:%u", c[0] << 8 | c[1], c[2] << 8 | c[3]);
			json_array_append_new(arr, json_string(buf));
		}
		json_object_set_new(j, "communities", arr);
	}
	if (a->n_ext_communities) {
		arr = json_array();
		for (uint16_t i = 0; i < a->n_ext_communities; i++) {
			const uint8_t *c = a->ext_communities + 8 * i;

			snprintf(buf, sizeof(buf), "%02x%02x:%02x%02x%02x%02x%02x%02x", c[0], c[1],
				 c[2], c[3], c[4], c[5], c[6], c[7]);
			json_array_append_new(arr, json_string(buf));
		}
		json_object_set_new(j, "ext_communities", arr);
	}
	if (a->n_large_communities) {
		arr = json_array();
		for (uint16_t i = 0; i < a->n_large_communities; i++) {
			const uint8_t *c = a->large_communities + 12 * i;
			uint32_t v[3];

			for (int k = 0; k < 3; k++)
				v[k] = (uint32_t)c[4 * k] << 24 | (uint32_t)c[4 * k + 1] << 16 |
				       (uint32_t)c[4 * k + 2] << 8 | c[4 * k + 3];
			snprintf(buf, sizeof(buf), "%u:%u:%u", v[0], v[1], v[2]);
			json_array_append_new(arr, json_string(buf));
		}
		json_object_set_new(j, "large_communities", arr);
	}
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_ORIGINATOR_ID))
		json_object_set_new(j, "originator_id", ip4_json(a->originator_id));
	if (a->n_cluster) {
		arr = json_array();
		for (uint16_t i = 0; i < a->n_cluster; i++) {
			const uint8_t *c = a->cluster_list + 4 * i;

			json_array_append_new(arr,
					      ip4_json((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 |
						       (uint32_t)c[2] << 8 | c[3]));
		}
		json_object_set_new(j, "cluster_list", arr);
	}
	return j;
}

static json_t *
path_json(struct bgp_svc *s, const struct ap_bgp_dest *d, const struct ap_bgp_path *p)
{
	json_t *j = json_object();
	struct ap_bgp_attrs a;
	char buf[64];

	json_object_set_new(j, "prefix", json_string(ap_bgp_prefix_str(&d->pfx, buf, sizeof(buf))));
	if (p->peer == s->local_idx) {
		json_object_set_new(j, "from", json_string("local"));
	} else {
		const struct ap_bgp_peer_info *pi = ap_bgp_rib_peer(s->rib, p->peer);

		json_object_set_new(j, "from", addr_json(pi->addr, pi->af == AP_BGP_IPV6));
	}
	json_object_set_new(j, "best", json_boolean(d->best == p));
	json_object_set_new(j, "accepted", json_boolean(!p->rejected));
	if (p->stale)
		json_object_set_new(j, "stale", json_true());
	ap_bgp_pattr_view(p->attrs, &a);
	return attrs_json(j, &a, d->pfx.af);
}

static int
find_peer(struct bgp_svc *s, const char *text, json_t **out, struct bgp_peer **peer)
{
	uint8_t a[16] = {0};
	bool v6 = false;

	if (inet_pton(AF_INET, text, a) != 1) {
		if (inet_pton(AF_INET6, text, a) != 1)
			return ap_api_error(out, 400, "'%s' is not an IPv4 or IPv6 address", text);
		v6 = true;
	}
	for (uint16_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].cfg.v6 == v6 && memcmp(s->peers[i].cfg.addr, a, 16) == 0) {
			*peer = &s->peers[i];
			return 0;
		}
	return ap_api_error(out, 404, "no neighbor %s", text);
}

/* Destinations in address order, at most 'limit' of them. */
struct walk {
	const struct ap_bgp_dest **d;
	size_t n, cap;
};

static int
walk_add(void *ctx, const struct ap_bgp_dest *d)
{
	struct walk *w = ctx;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		const struct ap_bgp_dest **nd = realloc(w->d, cap * sizeof(*nd));

		if (nd == NULL)
			return -ENOMEM;
		w->d = nd;
		w->cap = cap;
	}
	w->d[w->n++] = d;
	return 0;
}

static int
dest_cmp(const void *a, const void *b)
{
	const struct ap_bgp_dest *x = *(const struct ap_bgp_dest *const *)a;
	const struct ap_bgp_dest *y = *(const struct ap_bgp_dest *const *)b;
	int c;

	if (x->pfx.af != y->pfx.af)
		return x->pfx.af < y->pfx.af ? -1 : 1;
	c = memcmp(x->pfx.addr, y->pfx.addr, 16);
	if (c)
		return c;
	return x->pfx.len < y->pfx.len ? -1 : x->pfx.len > y->pfx.len;
}

static size_t
query_limit(const struct ap_api_req *req)
{
	const char *l = ap_api_req_query(req, "limit");
	char *end;
	unsigned long v;

	if (l == NULL)
		return DEFAULT_LIMIT;
	v = strtoul(l, &end, 10);
	return *end || v == 0 ? DEFAULT_LIMIT : v;
}

/* Sorted destinations, or the one for ?prefix=. */
static int
dests(struct bgp_svc *s, const struct ap_api_req *req, struct walk *w, json_t **out)
{
	const char *pf = ap_api_req_query(req, "prefix");

	memset(w, 0, sizeof(*w));
	if (pf) {
		struct ap_bgp_prefix p;
		const struct ap_bgp_dest *d;

		if (ap_bgp_prefix_parse(pf, &p) < 0)
			return ap_api_error(out, 400, "invalid prefix '%s'", pf);
		d = ap_bgp_rib_lookup(s->rib, &p);
		if (d)
			walk_add(w, d);
		return 0;
	}
	if (ap_bgp_rib_walk(s->rib, walk_add, w) < 0) {
		free(w->d);
		return ap_api_error(out, 500, "out of memory");
	}
	qsort(w->d, w->n, sizeof(*w->d), dest_cmp);
	return 0;
}

static int
h_summary(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	struct ap_bgp_rib_stats st;
	json_t *j = json_object(), *rib = json_object(), *ns = json_array();

	(void)req;
	ap_bgp_rib_stats(s->rib, &st);
	json_object_set_new(j, "asn", json_integer(s->cfg.asn));
	json_object_set_new(j, "router_id", ip4_json(s->cfg.router_id));
	json_object_set_new(j, "listen_address", json_string(s->cfg.listen_address));
	json_object_set_new(j, "listen_port", json_integer(s->cfg.listen_port));
	json_object_set_new(rib, "prefixes", json_integer((json_int_t)st.best));
	json_object_set_new(rib, "destinations", json_integer((json_int_t)st.dests));
	json_object_set_new(rib, "paths", json_integer((json_int_t)st.paths));
	json_object_set_new(rib, "attribute_sets", json_integer((json_int_t)st.attrs));
	json_object_set_new(j, "rib", rib);
	for (uint16_t i = 0; i < s->n_peers; i++)
		json_array_append_new(ns, peer_json(s, &s->peers[i], false));
	json_object_set_new(j, "neighbors", ns);
	*out = j;
	return 200;
}

static int
h_neighbors(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	json_t *ns = json_array();

	(void)req;
	for (uint16_t i = 0; i < s->n_peers; i++)
		json_array_append_new(ns, peer_json(s, &s->peers[i], true));
	*out = json_pack("{s:o}", "neighbors", ns);
	return 200;
}

static int
h_neighbor(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	struct bgp_peer *p = NULL;
	int rc = find_peer(s, req->params[0], out, &p);

	if (rc)
		return rc;
	*out = peer_json(s, p, true);
	return 200;
}

static int
h_routes(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	size_t limit = query_limit(req), shown = 0, total = 0;
	struct walk w;
	json_t *arr;
	int rc = dests(s, req, &w, out);

	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < w.n; i++) {
		const struct ap_bgp_dest *d = w.d[i];

		if (d->best == NULL)
			continue;
		total++;
		if (shown == limit)
			continue;
		shown++;
		json_array_append_new(arr, path_json(s, d, d->best));
		for (const struct ap_bgp_path *p = d->paths; p; p = p->next)
			if (p != d->best && !p->rejected)
				json_array_append_new(arr, path_json(s, d, p));
	}
	free(w.d);
	*out = json_pack("{s:o,s:I,s:b}", "routes", arr, "total", (json_int_t)total, "truncated",
			 shown < total);
	return 200;
}

static int
h_adj_in(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	struct bgp_peer *peer = NULL;
	size_t limit = query_limit(req), shown = 0, total = 0;
	struct walk w;
	json_t *arr;
	int rc;

	rc = find_peer(s, req->params[0], out, &peer);
	if (rc)
		return rc;
	rc = dests(s, req, &w, out);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < w.n; i++)
		for (const struct ap_bgp_path *p = w.d[i]->paths; p; p = p->next) {
			if (p->peer != peer->idx)
				continue;
			total++;
			if (shown < limit) {
				shown++;
				json_array_append_new(arr, path_json(s, w.d[i], p));
			}
		}
	free(w.d);
	*out = json_pack("{s:o,s:I,s:b}", "routes", arr, "total", (json_int_t)total, "truncated",
			 shown < total);
	return 200;
}

static int
h_adj_out(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	struct bgp_peer *peer = NULL;
	size_t limit = query_limit(req), shown = 0, total = 0;
	uint8_t scratch[4096];
	struct ap_bgp_pol_buf pb;
	struct walk w;
	json_t *arr;
	int rc;

	rc = find_peer(s, req->params[0], out, &peer);
	if (rc)
		return rc;
	rc = dests(s, req, &w, out);
	if (rc)
		return rc;
	arr = json_array();
	for (size_t i = 0; i < w.n; i++) {
		struct ap_bgp_attrs a;
		char buf[64];
		json_t *j;

		if (peer->fsm.state != AP_BGP_ESTABLISHED ||
		    !bgp_export_attrs(s, peer, w.d[i], &a, scratch, sizeof(scratch), &pb))
			continue;
		total++;
		if (shown == limit)
			continue;
		shown++;
		j = json_object();
		json_object_set_new(j, "prefix",
				    json_string(ap_bgp_prefix_str(&w.d[i]->pfx, buf, sizeof(buf))));
		json_array_append_new(arr, attrs_json(j, &a, w.d[i]->pfx.af));
	}
	free(w.d);
	*out = json_pack("{s:o,s:I,s:b}", "routes", arr, "total", (json_int_t)total, "truncated",
			 shown < total);
	return 200;
}

/*
 * The Loc-RIB as an MRT TABLE_DUMP_V2 file (RFC 6396 §4.3): the peer table
 * (this speaker first, for the routes it originates, then every neighbour),
 * then one RIB record per destination with its best path, in address order.
 * Written next to 'file' and renamed over it, so a reader never sees half a
 * dump. The loop is busy meanwhile: about a second for a full table.
 */
static int
mrt_dump(struct bgp_svc *s, const char *file, size_t *routes, size_t *bytes)
{
	uint16_t n_rib = (uint16_t)(s->n_peers + 1u), *index = calloc(n_rib, sizeof(*index));
	struct ap_bgp_mrt_peer *peers = calloc(n_rib, sizeof(*peers));
	uint32_t now = (uint32_t)time(NULL), up = (uint32_t)(uv_now(s->loop) / 1000);
	uint8_t *buf = malloc(AP_BGP_EXT_MAX_LEN + 4096);
	char tmp[AP_PATH_MAX + 8];
	struct walk w = {0};
	struct ap_wire_w ww;
	FILE *f = NULL;
	int rc = -ENOMEM;

	*routes = *bytes = 0;
	if (index == NULL || peers == NULL || buf == NULL ||
	    ap_bgp_rib_walk(s->rib, walk_add, &w) < 0)
		goto out;
	qsort(w.d, w.n, sizeof(*w.d), dest_cmp);
	peers[0] = (struct ap_bgp_mrt_peer){.bgp_id = s->cfg.router_id, .as = s->cfg.asn};
	index[s->local_idx] = 0;
	for (uint16_t i = 0; i < s->n_peers; i++) {
		const struct bgp_peer *p = &s->peers[i];

		peers[i + 1] = (struct ap_bgp_mrt_peer){
			.bgp_id = p->peer_open.router_id, .v6 = p->cfg.v6, .as = p->cfg.remote_as};
		memcpy(peers[i + 1].addr, p->cfg.addr, 16);
		if (p->idx < n_rib)
			index[p->idx] = (uint16_t)(i + 1);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "wb");
	if (f == NULL) {
		rc = -errno;
		goto out;
	}
	ap_wire_w_init(&ww, buf, AP_BGP_EXT_MAX_LEN + 4096);
	rc = ap_bgp_mrt_write_peers(&ww, now, s->cfg.router_id, "", peers, n_rib);
	if (rc == 0 && fwrite(buf, 1, ap_wire_w_used(&ww), f) != ap_wire_w_used(&ww))
		rc = -EIO;
	*bytes += ap_wire_w_used(&ww);
	for (size_t i = 0; i < w.n && rc == 0; i++) {
		const struct ap_bgp_path *b = w.d[i]->best;
		struct ap_bgp_mrt_rib_entry e;
		struct ap_bgp_attrs a;

		if (b == NULL)
			continue;
		ap_bgp_pattr_view(b->attrs, &a);
		/* Paths carry the loop's clock in seconds: back to Unix time. */
		e = (struct ap_bgp_mrt_rib_entry){
			.peer = b->peer < n_rib ? index[b->peer] : 0,
			.originated = now - (up > b->since ? up - b->since : 0),
			.attrs = &a,
		};
		ap_wire_w_init(&ww, buf, AP_BGP_EXT_MAX_LEN + 4096);
		rc = ap_bgp_mrt_write_rib(&ww, now, (uint32_t)*routes, &w.d[i]->pfx, &e, 1);
		if (rc == 0 && fwrite(buf, 1, ap_wire_w_used(&ww), f) != ap_wire_w_used(&ww))
			rc = -EIO;
		*bytes += ap_wire_w_used(&ww);
		(*routes)++;
	}
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	f = NULL;
	if (rc == 0 && rename(tmp, file) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	free(w.d);
	free(buf);
	free(peers);
	free(index);
	return rc;
}

/* POST /api/v1/bgp/mrt-dump {"file": ABSOLUTE_PATH} */
static int
h_mrt_dump(void *ctx, const struct ap_api_req *req, json_t **out)
{
	struct bgp_svc *s = ctx;
	const char *file = json_string_value(json_object_get(req->json, "file"));
	size_t routes, bytes;
	int rc;

	if (file == NULL || file[0] != '/' || strlen(file) >= AP_PATH_MAX)
		return ap_api_error(out, 400, "expected {\"file\": ABSOLUTE_PATH}");
	rc = mrt_dump(s, file, &routes, &bytes);
	if (rc < 0)
		return ap_api_error(out, 500, "cannot write %s: %s", file, strerror(-rc));
	*out = json_pack("{s:s,s:s,s:I,s:I,s:I}", "file", file, "format", "TABLE_DUMP_V2", "peers",
			 (json_int_t)s->n_peers + 1, "routes", (json_int_t)routes, "bytes",
			 (json_int_t)bytes);
	return 200;
}

int
bgp_api_register(struct bgp_svc *s, struct ap_api *api)
{
	static const struct {
		const char *path;
		ap_api_handler_fn fn;
	} routes[] = {
		{"/api/v1/bgp/summary", h_summary},
		{"/api/v1/bgp/neighbors", h_neighbors},
		{"/api/v1/bgp/neighbors/{addr}", h_neighbor},
		{"/api/v1/bgp/routes", h_routes},
		{"/api/v1/bgp/neighbors/{addr}/adj-rib-in", h_adj_in},
		{"/api/v1/bgp/neighbors/{addr}/adj-rib-out", h_adj_out},
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int rc = ap_api_route(api, "GET", routes[i].path, routes[i].fn, s);

		if (rc < 0)
			return rc;
	}
	return ap_api_route(api, "POST", "/api/v1/bgp/mrt-dump", h_mrt_dump, s);
}
