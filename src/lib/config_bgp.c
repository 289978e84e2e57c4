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
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	/* Where names were used, for errors found once every name is known. */
	yaml_mark_t pol_marks[AP_CFG_BGP_MAX_NEIGHBORS][2];
	yaml_mark_t rule_marks[AP_CFG_BGP_MAX_POLICIES][AP_CFG_BGP_MAX_RULES];
	struct ap_cfg_bgp *b;
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

/* Import and export: "all", "none" or a policy defined under bgp.policies
 * (resolved once the whole section is read). */
static int
get_policy(struct bctx *c, const yaml_node_t *v, const char *what, char *dst)
{
	return get_str(c, v, what, dst, AP_NAME_MAX);
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
	if (strcmp(key, "import") == 0) {
		c->pol_marks[c->b->n_neighbors][0] = v->start_mark;
		return get_policy(c, v, what, n->import);
	}
	if (strcmp(key, "export") == 0) {
		c->pol_marks[c->b->n_neighbors][1] = v->start_mark;
		return get_policy(c, v, what, n->export);
	}
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

/* "A:B" (RFC 1997) or, with large, "A:B:C" (RFC 8092). */
static int
get_community(struct bctx *c, const yaml_node_t *v, const char *what, bool large, uint32_t *out)
{
	char s[40], *p, *end;
	unsigned parts = large ? 3 : 2;
	uint32_t val[3];

	if (get_str(c, v, what, s, sizeof(s)) < 0)
		return -EINVAL;
	p = s;
	for (unsigned i = 0; i < parts; i++) {
		unsigned long x;

		if (*p < '0' || *p > '9')
			goto bad;
		x = strtoul(p, &end, 10);
		if (x > (large ? UINT32_MAX : 0xffffu) ||
		    (i + 1 < parts ? *end != ':' : *end != '\0'))
			goto bad;
		val[i] = (uint32_t)x;
		p = end + 1;
	}
	if (large)
		memcpy(out, val, sizeof(val));
	else
		*out = val[0] << 16 | val[1];
	return 0;
bad:
	return bfail(c, v->start_mark, "invalid %s '%s' for %s (expected %s)",
		     large ? "large community" : "community", s, what,
		     large ? "ASN:N:N" : "N:N with N up to 65535");
}

static int
get_comm_list(struct bctx *c, const yaml_node_t *v, const char *what, uint32_t *out, uint8_t *n)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return bfail(c, v->start_mark, "expected a list for %s", what);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		const yaml_node_t *e = node(c, *it);

		if (e == NULL)
			return bfail(c, v->start_mark, "broken list in %s", what);
		if (*n == AP_CFG_BGP_MAX_COMM_SET)
			return bfail(c, e->start_mark, "too many communities in %s (max %d)", what,
				     AP_CFG_BGP_MAX_COMM_SET);
		if (get_community(c, e, what, false, &out[*n]) < 0)
			return -EINVAL;
		(*n)++;
	}
	return 0;
}

/* The AS-path regex dialect of the speaker: "_" is an ASN boundary. */
static bool
aspath_re_ok(const char *re)
{
	static const char boundary[] = "(^|[ {},]|$)";
	char ere[128 * sizeof(boundary)];
	size_t n = 0;
	regex_t r;

	for (const char *p = re; *p; p++) {
		if (*p == '_') {
			memcpy(ere + n, boundary, sizeof(boundary) - 1);
			n += sizeof(boundary) - 1;
		} else {
			ere[n++] = *p;
		}
	}
	ere[n] = '\0';
	if (regcomp(&r, ere, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	regfree(&r);
	return true;
}

static int
rule_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp_rule *r = obj;
	char what[128], act[8];
	int rc;

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "prefix_list") == 0)
		return get_str(c, v, what, r->prefix_list, sizeof(r->prefix_list));
	if (strcmp(key, "as_path") == 0) {
		rc = get_str(c, v, what, r->as_path, sizeof(r->as_path));
		if (rc == 0 && !aspath_re_ok(r->as_path))
			return bfail(c, v->start_mark, "%s is not a valid regular expression",
				     what);
		return rc;
	}
	if (strcmp(key, "community") == 0) {
		r->has_community = true;
		return get_community(c, v, what, false, &r->community);
	}
	if (strcmp(key, "large_community") == 0) {
		r->has_large = true;
		return get_community(c, v, what, true, r->large);
	}
	if (strcmp(key, "action") == 0) {
		if (get_str(c, v, what, act, sizeof(act)) < 0 ||
		    (strcmp(act, "accept") && strcmp(act, "reject")))
			return bfail(c, v->start_mark, "%s must be accept or reject", what);
		r->accept = act[0] == 'a';
		return 0;
	}
	if (strcmp(key, "local_pref") == 0) {
		r->set_local_pref = true;
		return get_u32(c, v, what, 0, UINT32_MAX, &r->local_pref);
	}
	if (strcmp(key, "med") == 0) {
		r->set_med = true;
		return get_u32(c, v, what, 0, UINT32_MAX, &r->med);
	}
	if (strcmp(key, "next_hop") == 0) {
		r->set_next_hop = true;
		return get_ipv4(c, v, what, &r->next_hop);
	}
	if (strcmp(key, "community_add") == 0)
		return get_comm_list(c, v, what, r->comm_add, &r->n_comm_add);
	if (strcmp(key, "community_remove") == 0)
		return get_comm_list(c, v, what, r->comm_del, &r->n_comm_del);
	if (strcmp(key, "prepend") == 0) {
		uint32_t x;

		rc = get_u32(c, v, what, 1, 16, &x);
		r->prepend = (uint8_t)x;
		return rc;
	}
	return 1;
}

/* A list of named objects: each item is a mapping walked with 'fn'. */
typedef int (*item_fn)(struct bctx *c, const yaml_node_t *item, unsigned i, const char *where);

static int
walk_list(struct bctx *c, const yaml_node_t *v, const char *what, unsigned max, item_fn fn)
{
	unsigned i = 0;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return bfail(c, v->start_mark, "expected a list for %s", what);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, i++) {
		const yaml_node_t *item = node(c, *it);
		char where[96];
		int rc;

		if (item == NULL)
			return bfail(c, v->start_mark, "broken list in %s", what);
		if (i == max)
			return bfail(c, item->start_mark, "too many entries in %s (max %u)", what,
				     max);
		snprintf(where, sizeof(where), "%s[%u]", what, i);
		rc = fn(c, item, i, where);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
entry_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp_pfx_entry *e = obj;
	char what[128];
	uint32_t x;
	int rc;

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "prefix") == 0)
		return get_str(c, v, what, e->prefix, sizeof(e->prefix));
	if (strcmp(key, "ge") == 0 || strcmp(key, "le") == 0) {
		rc = get_u32(c, v, what, 1, 128, &x);
		if (key[0] == 'g')
			e->ge = (uint8_t)x;
		else
			e->le = (uint8_t)x;
		return rc;
	}
	return 1;
}

static int
plist_entry(struct bctx *c, const yaml_node_t *item, unsigned i, const char *where)
{
	struct ap_cfg_bgp_plist *l = &c->b->plists[c->b->n_plists];
	struct ap_cfg_bgp_pfx_entry *e = &l->e[i];
	char a[AP_CFG_ADDR_MAX], *slash, *end;
	uint8_t tmp[16];
	long len;
	bool v6;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = walk_map(c, item, where, "prefix, ge, le", entry_pair, e);
	if (rc < 0)
		return rc;
	if (e->prefix[0] == '\0')
		return bfail(c, item->start_mark, "missing key 'prefix' in %s", where);
	snprintf(a, sizeof(a), "%s", e->prefix);
	slash = strchr(a, '/');
	if (slash == NULL)
		goto bad;
	*slash = '\0';
	v6 = strchr(a, ':') != NULL;
	len = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || len < 0 || len > (v6 ? 128 : 32) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, a, tmp) != 1)
		goto bad;
	/* FRR's rule: len <= ge <= le <= the family's length. */
	if ((e->ge && e->ge < len) || (e->le && e->le < (e->ge ? e->ge : len)) ||
	    e->ge > (v6 ? 128 : 32) || e->le > (v6 ? 128 : 32))
		return bfail(c, item->start_mark, "%s needs prefix length <= ge <= le <= %d", where,
			     v6 ? 128 : 32);
	l->n = (uint16_t)(i + 1);
	return 0;
bad:
	return bfail(c, item->start_mark, "invalid prefix '%s' in %s (expected ADDR/LEN)",
		     e->prefix, where);
}

static int
plist_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp_plist *l = obj;
	char what[128];

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "name") == 0)
		return get_str(c, v, what, l->name, sizeof(l->name));
	if (strcmp(key, "entries") == 0)
		return walk_list(c, v, what, AP_CFG_BGP_MAX_PLIST_LEN, plist_entry);
	return 1;
}

static int
plist_item(struct bctx *c, const yaml_node_t *item, unsigned i, const char *where)
{
	struct ap_cfg_bgp_plist *l = &c->b->plists[i];
	int rc;

	memset(l, 0, sizeof(*l));
	rc = walk_map(c, item, where, "name, entries", plist_pair, l);
	if (rc < 0)
		return rc;
	if (l->name[0] == '\0')
		return bfail(c, item->start_mark, "missing key 'name' in %s", where);
	for (unsigned k = 0; k < i; k++)
		if (strcmp(c->b->plists[k].name, l->name) == 0)
			return bfail(c, item->start_mark, "duplicate prefix list '%s'", l->name);
	c->b->n_plists = (uint16_t)(i + 1);
	return 0;
}

static int
rule_item(struct bctx *c, const yaml_node_t *item, unsigned i, const char *where)
{
	struct ap_cfg_bgp_policy *p = &c->b->policies[c->b->n_policies];
	struct ap_cfg_bgp_rule *r = &p->r[i];
	int rc;

	memset(r, 0, sizeof(*r));
	r->accept = true;
	c->rule_marks[c->b->n_policies][i] = item->start_mark;
	rc = walk_map(c, item, where,
		      "prefix_list, as_path, community, large_community, action, local_pref, med, "
		      "next_hop, community_add, community_remove, prepend",
		      rule_pair, r);
	if (rc < 0)
		return rc;
	p->n = (uint16_t)(i + 1);
	return 0;
}

static int
policy_pair(struct bctx *c, const char *key, const yaml_node_t *v, void *obj, const char *where)
{
	struct ap_cfg_bgp_policy *p = obj;
	char what[128];

	snprintf(what, sizeof(what), "%s.%s", where, key);
	if (strcmp(key, "name") == 0)
		return get_str(c, v, what, p->name, sizeof(p->name));
	if (strcmp(key, "rules") == 0)
		return walk_list(c, v, what, AP_CFG_BGP_MAX_RULES, rule_item);
	return 1;
}

static int
policy_item(struct bctx *c, const yaml_node_t *item, unsigned i, const char *where)
{
	struct ap_cfg_bgp_policy *p = &c->b->policies[i];
	int rc;

	memset(p, 0, sizeof(*p));
	rc = walk_map(c, item, where, "name, rules", policy_pair, p);
	if (rc < 0)
		return rc;
	if (p->name[0] == '\0')
		return bfail(c, item->start_mark, "missing key 'name' in %s", where);
	if (strcmp(p->name, "all") == 0 || strcmp(p->name, "none") == 0)
		return bfail(c, item->start_mark, "'%s' is reserved: name the policy otherwise",
			     p->name);
	for (unsigned k = 0; k < i; k++)
		if (strcmp(c->b->policies[k].name, p->name) == 0)
			return bfail(c, item->start_mark, "duplicate policy '%s'", p->name);
	c->b->n_policies = (uint16_t)(i + 1);
	return 0;
}

/* Names used before they were defined: neighbours' policies, rules' prefix lists. */
static int
resolve_names(struct bctx *c, struct ap_cfg_bgp *b)
{
	for (uint16_t i = 0; i < b->n_neighbors; i++) {
		const char *names[2] = {b->neighbors[i].import, b->neighbors[i].export};

		for (int k = 0; k < 2; k++) {
			bool found = names[k][0] == '\0' || strcmp(names[k], "all") == 0 ||
				     strcmp(names[k], "none") == 0;

			for (uint16_t p = 0; p < b->n_policies && !found; p++)
				found = strcmp(b->policies[p].name, names[k]) == 0;
			if (!found)
				return bfail(c, c->pol_marks[i][k],
					     "unknown policy '%s' in bgp.neighbors[%u].%s (all, "
					     "none, or a name from bgp.policies)",
					     names[k], i, k ? "export" : "import");
		}
	}
	for (uint16_t p = 0; p < b->n_policies; p++)
		for (uint16_t r = 0; r < b->policies[p].n; r++) {
			const char *pl = b->policies[p].r[r].prefix_list;
			bool found = pl[0] == '\0';

			for (uint16_t l = 0; l < b->n_plists && !found; l++)
				found = strcmp(b->plists[l].name, pl) == 0;
			if (!found)
				return bfail(
					c, c->rule_marks[p][r],
					"unknown prefix list '%s' in bgp.policies[%u].rules[%u]",
					pl, p, r);
		}
	return 0;
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
	if (strcmp(key, "prefix_lists") == 0)
		return walk_list(c, v, what, AP_CFG_BGP_MAX_PLISTS, plist_item);
	if (strcmp(key, "policies") == 0)
		return walk_list(c, v, what, AP_CFG_BGP_MAX_POLICIES, policy_item);
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
			/* Only the string: bytes past it would make two loads of the
			 * same file differ (reload compares sections). */
			snprintf(b->networks[b->n_networks], sizeof(b->networks[0]), "%s", s);
			b->n_networks++;
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
	struct bctx *c = calloc(1, sizeof(*c));
	/* Large (policies, prefix lists): on the heap. */
	struct ap_cfg_bgp *b = calloc(1, sizeof(*b));
	int rc = -EINVAL;

	if (c == NULL || b == NULL) {
		snprintf(err, AP_CFG_ERR_MAX, "%s: out of memory", name);
		rc = -ENOMEM;
		goto out;
	}
	c->name = name;
	c->doc = doc;
	c->err = err;
	c->b = b;
	snprintf(b->listen_address, sizeof(b->listen_address), "0.0.0.0");
	b->listen_port = 179;
	if (is_null(v)) {
		rc = bfail(c, v->start_mark, "bgp needs at least 'asn' and 'router_id'");
		goto out;
	}
	rc = walk_map(
		c, v, "bgp",
		"asn, router_id, listen, always_compare_med, cluster_id, neighbors, networks, "
		"prefix_lists, policies",
		bgp_pair, b);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	if (b->asn == 0) {
		bfail(c, v->start_mark, "missing key 'asn' in bgp");
		goto out;
	}
	if (b->router_id == 0) {
		bfail(c, v->start_mark, "missing key 'router_id' in bgp");
		goto out;
	}
	for (uint16_t i = 0; i < b->n_neighbors; i++) {
		const struct ap_cfg_bgp_neighbor *n = &b->neighbors[i];

		if (n->rr_client && n->remote_as != b->asn) {
			yaml_mark_t m = {.line = n->line - 1, .column = n->col - 1};

			bfail(c, m,
			      "bgp.neighbors[%u].rr_client needs an internal peer (remote_as %u)",
			      i, b->asn);
			goto out;
		}
	}
	rc = resolve_names(c, b);
	if (rc < 0)
		goto out;
	b->enabled = true;
	*out = *b;
	rc = 0;
out:
	free(b);
	free(c);
	return rc;
}
