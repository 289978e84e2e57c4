/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bgp: section. A small walker of its own over the libyaml document that
 * config.c loaded, with the same rules as the rest of the file: unknown and
 * duplicate keys are errors, integers are plain decimal, every error is
 * "file:line:col: message".
 */
#include "lib/config_bgp_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
};

static int __attribute__((format(printf, 3, 4)))
bfail(struct bctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, AP_CFG_ERR_MAX, "%s:%zu:%zu: ", c->name, m.line + 1, m.column + 1);
	if (n >= 0 && n < AP_CFG_ERR_MAX) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, AP_CFG_ERR_MAX - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const yaml_node_t *
node(struct bctx *c, yaml_node_item_t i)
{
	return yaml_document_get_node(c->doc, i);
}

static bool
is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

/* A non-empty scalar without control bytes, copied into dst[size]. */
static int
get_str(struct bctx *c, const yaml_node_t *v, const char *what, char *dst, size_t size)
{
	size_t len;

	if (v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0)
		return bfail(c, v->start_mark, "expected a string for %s", what);
	len = v->data.scalar.length;
	for (size_t i = 0; i < len; i++)
		if (v->data.scalar.value[i] < 0x20 || v->data.scalar.value[i] == 0x7f)
			return bfail(c, v->start_mark, "%s contains a control character", what);
	if (len >= size)
		return bfail(c, v->start_mark, "%s is too long (max %zu bytes)", what, size - 1);
	memcpy(dst, v->data.scalar.value, len + 1);
	return 0;
}

static int
get_u32(struct bctx *c, const yaml_node_t *v, const char *what, uint64_t min, uint64_t max,
	uint32_t *out)
{
	const char *s = (const char *)v->data.scalar.value;
	uint64_t x = 0;
	size_t len;

	if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		goto bad;
	len = v->data.scalar.length;
	if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x < min || x > max)
		return bfail(c, v->start_mark, "%s must be between %llu and %llu", what,
			     (unsigned long long)min, (unsigned long long)max);
	*out = (uint32_t)x;
	return 0;
bad:
	return bfail(c, v->start_mark, "expected an integer for %s", what);
}

static int
get_u16(struct bctx *c, const yaml_node_t *v, const char *what, uint32_t min, uint32_t max,
	uint16_t *out)
{
	uint32_t x;
	int rc = get_u32(c, v, what, min, max, &x);

	if (rc == 0)
		*out = (uint16_t)x;
	return rc;
}

static int
get_bool(struct bctx *c, const yaml_node_t *v, const char *what, bool *out)
{
	char s[8];

	if (get_str(c, v, what, s, sizeof(s)) < 0 || (strcmp(s, "true") && strcmp(s, "false")))
		return bfail(c, v->start_mark, "%s must be true or false", what);
	*out = s[0] == 't';
	return 0;
}

static int
get_ipv4(struct bctx *c, const yaml_node_t *v, const char *what, uint32_t *out)
{
	char s[AP_CFG_ADDR_MAX];
	struct in_addr a;

	if (get_str(c, v, what, s, sizeof(s)) < 0 || inet_pton(AF_INET, s, &a) != 1)
		return bfail(c, v->start_mark, "%s must be an IPv4 address", what);
	*out = ntohl(a.s_addr);
	return 0;
}

/* An address of either family, kept as text and parsed. */
static int
get_addr(struct bctx *c, const yaml_node_t *v, const char *what, char *text, uint8_t *bytes,
	 bool *v6)
{
	uint8_t tmp[16] = {0};

	if (get_str(c, v, what, text, AP_CFG_ADDR_MAX) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, text, tmp) == 1)
		*v6 = false;
	else if (inet_pton(AF_INET6, text, tmp) == 1)
		*v6 = true;
	else
		return bfail(c, v->start_mark, "%s must be an IPv4 or IPv6 address", what);
	if (bytes)
		memcpy(bytes, tmp, 16);
	return 0;
}

/*
 * Walk a mapping: for each pair call fn(c, key, value, obj), which returns 0,
 * a negative errno, or 1 for "not my key". Duplicate keys are found here.
 */
typedef int (*pair_fn)(struct bctx *c, const char *key, const yaml_node_t *v, void *obj,
		       const char *where);

static int
walk_map(struct bctx *c, const yaml_node_t *map, const char *where, const char *keys, pair_fn fn,
	 void *obj)
{
	const yaml_node_pair_t *p, *q;

	if (map->type != YAML_MAPPING_NODE)
		return bfail(c, map->start_mark, "expected a mapping for %s", where);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		char key[32];
		int rc;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return bfail(c, map->start_mark, "expected a scalar key in %s", where);
		snprintf(key, sizeof(key), "%.*s", (int)k->data.scalar.length,
			 (const char *)k->data.scalar.value);
		for (q = map->data.mapping.pairs.start; q < p; q++) {
			const yaml_node_t *k2 = node(c, q->key);

			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    k2->data.scalar.length == k->data.scalar.length &&
			    memcmp(k2->data.scalar.value, k->data.scalar.value,
				   k->data.scalar.length) == 0)
				return bfail(c, k->start_mark,
					     "duplicate key '%s' in %s (first at %zu:%zu)", key,
					     where, k2->start_mark.line + 1,
					     k2->start_mark.column + 1);
		}
		rc = fn(c, key, v, obj, where);
		if (rc > 0)
			return bfail(c, k->start_mark,
				     "unknown key '%s' in %s (expected one of: %s)", key, where,
				     keys);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Import and export: "all" or "none"; named policies come with the policy engine. */
static int
get_policy(struct bctx *c, const yaml_node_t *v, const char *what, char *dst)
{
	if (get_str(c, v, what, dst, AP_NAME_MAX) < 0)
		return -EINVAL;
	if (strcmp(dst, "all") != 0 && strcmp(dst, "none") != 0)
		return bfail(c, v->start_mark,
			     "invalid value '%s' for %s (expected one of: all, none)", dst, what);
	return 0;
}

static int
neighbor_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp_neighbor *n = obj;
	char what[96];

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "address") == 0)
		return get_addr(c, v, what, n->address, n->addr, &n->v6);
	if (strcmp(key, "remote_as") == 0)
		return get_u32(c, v, what, 1, UINT32_MAX, &n->remote_as);
	if (strcmp(key, "port") == 0)
		return get_u16(c, v, what, 1, 65535, &n->port);
	if (strcmp(key, "passive") == 0)
		return get_bool(c, v, what, &n->passive);
	if (strcmp(key, "hold_time") == 0) {
		int rc = get_u16(c, v, what, 0, 65535, &n->hold_time);

		/* RFC 4271 §4.2: zero, or at least three seconds. */
		if (rc == 0 && (n->hold_time == 1 || n->hold_time == 2))
			return bfail(c, v->start_mark, "%s must be 0 or at least 3", what);
		return rc;
	}
	if (strcmp(key, "connect_retry") == 0)
		return get_u16(c, v, what, 1, 65535, &n->connect_retry);
	if (strcmp(key, "import") == 0)
		return get_policy(c, v, what, n->import);
	if (strcmp(key, "export") == 0)
		return get_policy(c, v, what, n->export);
	if (strcmp(key, "rr_client") == 0)
		return get_bool(c, v, what, &n->rr_client);
	if (strcmp(key, "next_hop_v6") == 0) {
		bool v6;
		int rc = get_addr(c, v, what, n->next_hop_v6, NULL, &v6);

		if (rc == 0 && !v6)
			return bfail(c, v->start_mark, "%s must be an IPv6 address", what);
		return rc;
	}
	if (strcmp(key, "families") == 0) {
		n->families[0] = n->families[1] = false;
		if (v->type != YAML_SEQUENCE_NODE ||
		    v->data.sequence.items.start == v->data.sequence.items.top)
			return bfail(c, v->start_mark, "expected a non-empty list for %s", what);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			const yaml_node_t *f = node(c, *it);
			char s[8];

			if (f == NULL || get_str(c, f, what, s, sizeof(s)) < 0 ||
			    (strcmp(s, "ipv4") && strcmp(s, "ipv6")))
				return bfail(c, f ? f->start_mark : v->start_mark,
					     "invalid family in %s (expected ipv4 or ipv6)", what);
			n->families[s[3] == '6'] = true;
		}
		return 0;
	}
	return 1;
}

static int
parse_neighbors(struct bctx *c, const yaml_node_t *v, struct ap_cfg_bgp *b, const char *what)
{
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return bfail(c, v->start_mark, "expected a list for %s", what);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		const yaml_node_t *item = node(c, *it);
		struct ap_cfg_bgp_neighbor *n;
		char where[80];
		int rc;

		if (item == NULL)
			return bfail(c, v->start_mark, "broken list in %s", what);
		if (b->n_neighbors == AP_CFG_BGP_MAX_NEIGHBORS)
			return bfail(c, item->start_mark, "too many neighbors (max %d)",
				     AP_CFG_BGP_MAX_NEIGHBORS);
		n = &b->neighbors[b->n_neighbors];
		memset(n, 0, sizeof(*n));
		n->port = 179;
		n->hold_time = 90;
		n->connect_retry = 120;
		n->families[0] = n->families[1] = true;
		n->line = (uint32_t)item->start_mark.line + 1;
		n->col = (uint32_t)item->start_mark.column + 1;
		snprintf(where, sizeof(where), "%s[%u]", what, b->n_neighbors);
		rc = walk_map(c, item, where,
			      "address, remote_as, port, passive, hold_time, connect_retry, "
			      "import, export, families, rr_client, next_hop_v6",
			      neighbor_pair, n);
		if (rc < 0)
			return rc;
		if (n->address[0] == '\0')
			return bfail(c, item->start_mark, "missing key 'address' in %s", where);
		if (n->remote_as == 0)
			return bfail(c, item->start_mark, "missing key 'remote_as' in %s", where);
		for (uint16_t i = 0; i < b->n_neighbors; i++)
			if (b->neighbors[i].v6 == n->v6 &&
			    memcmp(b->neighbors[i].addr, n->addr, 16) == 0)
				return bfail(c, item->start_mark,
					     "duplicate neighbor %s (first defined at %u:%u)",
					     n->address, b->neighbors[i].line, b->neighbors[i].col);
		b->n_neighbors++;
	}
	return 0;
}

static int
listen_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp *b = obj;
	char what[64];
	bool v6;

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "address") == 0) {
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 4 &&
		    memcmp(v->data.scalar.value, "none", 4) == 0)
			return get_str(c, v, what, b->listen_address, sizeof(b->listen_address));
		return get_addr(c, v, what, b->listen_address, NULL, &v6);
	}
	if (strcmp(key, "port") == 0)
		return get_u16(c, v, what, 1, 65535, &b->listen_port);
	return 1;
}

static int
bgp_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp *b = obj;
	char what[64];

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "asn") == 0)
		return get_u32(c, v, what, 1, UINT32_MAX, &b->asn);
	if (strcmp(key, "router_id") == 0) {
		int rc = get_ipv4(c, v, what, &b->router_id);

		if (rc == 0 && b->router_id == 0)
			return bfail(c, v->start_mark, "%s must not be 0.0.0.0", what);
		return rc;
	}
	if (strcmp(key, "listen") == 0)
		return is_null(v) ? 0 : walk_map(c, v, what, "address, port", listen_pair, b);
	if (strcmp(key, "always_compare_med") == 0)
		return get_bool(c, v, what, &b->always_compare_med);
	if (strcmp(key, "cluster_id") == 0)
		return get_ipv4(c, v, what, &b->cluster_id);
	if (strcmp(key, "neighbors") == 0)
		return parse_neighbors(c, v, b, what);
	if (strcmp(key, "networks") == 0) {
		if (is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return bfail(c, v->start_mark, "expected a list for %s", what);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			const yaml_node_t *n = node(c, *it);
			char s[AP_CFG_ADDR_MAX], a[AP_CFG_ADDR_MAX], *slash, *end;
			uint8_t tmp[16];
			long len;
			bool v6;

			if (n == NULL || get_str(c, n, what, s, sizeof(s)) < 0)
				return -EINVAL;
			if (b->n_networks == AP_CFG_BGP_MAX_NETWORKS)
				return bfail(c, n->start_mark, "too many networks (max %d)",
					     AP_CFG_BGP_MAX_NETWORKS);
			snprintf(a, sizeof(a), "%s", s);
			slash = strchr(a, '/');
			if (slash == NULL)
				goto bad_pfx;
			*slash = '\0';
			v6 = strchr(a, ':') != NULL;
			len = strtol(slash + 1, &end, 10);
			if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || len < 0 ||
			    len > (v6 ? 128 : 32) ||
			    inet_pton(v6 ? AF_INET6 : AF_INET, a, tmp) != 1)
				goto bad_pfx;
			memcpy(b->networks[b->n_networks++], s, sizeof(s));
			continue;
		bad_pfx:
			return bfail(c, n->start_mark,
				     "invalid prefix '%s' in %s (expected ADDR/LEN)", s, what);
		}
		return 0;
	}
	return 1;
}

int
ap_config_bgp_parse(const char *name, yaml_document_t *doc, const yaml_node_t *v,
		    struct ap_cfg_bgp *out, char err[AP_CFG_ERR_MAX])
{
	struct bctx c = {.name = name, .doc = doc, .err = err};
	struct ap_cfg_bgp b;
	int rc;

	memset(&b, 0, sizeof(b));
	snprintf(b.listen_address, sizeof(b.listen_address), "0.0.0.0");
	b.listen_port = 179;
	if (is_null(v))
		return bfail(&c, v->start_mark, "bgp needs at least 'asn' and 'router_id'");
	rc = walk_map(&c, v, "bgp",
		      "asn, router_id, listen, always_compare_med, cluster_id, neighbors, networks",
		      bgp_pair, &b);
	if (rc < 0)
		return rc;
	if (b.asn == 0)
		return bfail(&c, v->start_mark, "missing key 'asn' in bgp");
	if (b.router_id == 0)
		return bfail(&c, v->start_mark, "missing key 'router_id' in bgp");
	for (uint16_t i = 0; i < b.n_neighbors; i++) {
		const struct ap_cfg_bgp_neighbor *n = &b.neighbors[i];

		if (n->rr_client && n->remote_as != b.asn) {
			yaml_mark_t m = {.line = n->line - 1, .column = n->col - 1};

			return bfail(&c, m,
				     "bgp.neighbors[%u].rr_client needs an internal peer "
				     "(remote_as %u)",
				     i, b.asn);
		}
	}
	b.enabled = true;
	*out = b;
	return 0;
}
