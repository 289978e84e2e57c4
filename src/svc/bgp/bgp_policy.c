/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Import and export policy: ordered rules, first match decides, no match
 * rejects (the implicit deny of route maps). Matches: prefix lists with
 * ge/le, AS-path regular expressions, communities and large communities.
 * Actions: accept or reject, set LOCAL_PREF, MED or NEXT_HOP, add and remove
 * communities, prepend to the AS_PATH.
 *
 * Pure: the caller's attributes are rewritten in place, new values going
 * into a caller-provided scratch area.
 */
#include "svc/bgp/bgp.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static bool
prefix_covers(const struct ap_bgp_prefix *e, const struct ap_bgp_prefix *p)
{
	unsigned full = e->len / 8, rest = e->len % 8;

	if (memcmp(e->addr, p->addr, full) != 0)
		return false;
	return rest == 0 || ((e->addr[full] ^ p->addr[full]) & (0xff00u >> rest)) == 0;
}

bool
ap_bgp_pfx_list_match(const struct ap_bgp_pfx_list *l, const struct ap_bgp_prefix *p)
{
	for (unsigned i = 0; i < l->n; i++) {
		const struct ap_bgp_pfx_entry *e = &l->e[i];
		unsigned max = e->pfx.af == AP_BGP_IPV6 ? 128 : 32;
		unsigned lo = e->ge ? e->ge : e->pfx.len;
		unsigned hi = e->le ? e->le : (e->ge ? max : e->pfx.len);

		if (e->pfx.af != p->af || p->len < e->pfx.len || p->len < lo || p->len > hi)
			continue;
		if (prefix_covers(&e->pfx, p))
			return true;
	}
	return false;
}

void *
ap_bgp_aspath_re_new(const char *re)
{
	/* "_" is any ASN boundary: start, end, a space or a set brace/comma. */
	static const char boundary[] = "(^|[ {},]|$)";
	size_t n = 0, len = strlen(re);
	char *ere = malloc(len * sizeof(boundary) + 1);
	regex_t *r = malloc(sizeof(*r));

	if (ere == NULL || r == NULL)
		goto fail;
	for (size_t i = 0; i < len; i++) {
		if (re[i] == '_') {
			memcpy(ere + n, boundary, sizeof(boundary) - 1);
			n += sizeof(boundary) - 1;
		} else {
			ere[n++] = re[i];
		}
	}
	ere[n] = '\0';
	if (regcomp(r, ere, REG_EXTENDED | REG_NOSUB) != 0)
		goto fail;
	free(ere);
	return r;
fail:
	free(ere);
	free(r);
	return NULL;
}

void
ap_bgp_aspath_re_free(void *re)
{
	if (re == NULL)
		return;
	regfree(re);
	free(re);
}

static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static bool
has_community(const struct ap_bgp_attrs *a, uint32_t c)
{
	for (uint16_t i = 0; i < a->n_communities; i++)
		if (get32(a->communities + 4 * i) == c)
			return true;
	return false;
}

static bool
has_large(const struct ap_bgp_attrs *a, const uint32_t v[3])
{
	for (uint16_t i = 0; i < a->n_large_communities; i++) {
		const uint8_t *c = a->large_communities + 12 * i;

		if (get32(c) == v[0] && get32(c + 4) == v[1] && get32(c + 8) == v[2])
			return true;
	}
	return false;
}

static bool
rule_matches(const struct ap_bgp_rule *r, const struct ap_bgp_prefix *pfx,
	     const struct ap_bgp_attrs *a, char *path, size_t size, bool *have_path)
{
	if (r->prefix_list && !ap_bgp_pfx_list_match(r->prefix_list, pfx))
		return false;
	if (r->has_community && !has_community(a, r->community))
		return false;
	if (r->has_large && !has_large(a, r->large))
		return false;
	if (r->as_path_re) {
		if (!*have_path) {
			ap_bgp_aspath_str(a->as_path, a->as_path_len, path, size);
			*have_path = true;
		}
		if (regexec(r->as_path_re, path, 0, NULL, 0) != 0)
			return false;
	}
	return true;
}

/* Communities minus the removed ones, plus the added ones not yet there. */
static void
rewrite_communities(const struct ap_bgp_rule *r, struct ap_bgp_attrs *a, struct ap_bgp_pol_buf *buf)
{
	unsigned n = 0, cap = sizeof(buf->comms) / 4;

	for (uint16_t i = 0; i < a->n_communities && n < cap; i++) {
		uint32_t c = get32(a->communities + 4 * i);
		bool drop = false;

		for (uint8_t k = 0; k < r->n_comm_del; k++)
			drop |= r->comm_del[k] == c;
		if (!drop)
			put32(buf->comms + 4 * n++, c);
	}
	for (uint8_t k = 0; k < r->n_comm_add && n < cap; k++) {
		bool dup = false;

		for (unsigned i = 0; i < n; i++)
			dup |= get32(buf->comms + 4 * i) == r->comm_add[k];
		if (!dup)
			put32(buf->comms + 4 * n++, r->comm_add[k]);
	}
	a->communities = buf->comms;
	a->n_communities = (uint16_t)n;
	if (n)
		a->present |= 1ull << AP_BGP_ATTR_COMMUNITIES;
	else
		a->present &= ~(1ull << AP_BGP_ATTR_COMMUNITIES);
}

bool
ap_bgp_policy_apply(const struct ap_bgp_rule *rules, unsigned n, const struct ap_bgp_prefix *pfx,
		    struct ap_bgp_attrs *a, struct ap_bgp_pol_buf *buf)
{
	char path[1024];
	bool have_path = false;

	for (unsigned i = 0; i < n; i++) {
		const struct ap_bgp_rule *r = &rules[i];

		if (!rule_matches(r, pfx, a, path, sizeof(path), &have_path))
			continue;
		if (!r->accept)
			return false;
		if (r->set_local_pref) {
			a->local_pref = r->local_pref;
			a->present |= 1ull << AP_BGP_ATTR_LOCAL_PREF;
		}
		if (r->set_med) {
			a->med = r->med;
			a->present |= 1ull << AP_BGP_ATTR_MED;
		}
		if (r->set_next_hop) {
			a->next_hop = r->next_hop;
			a->present |= 1ull << AP_BGP_ATTR_NEXT_HOP;
		}
		if (r->n_comm_add || r->n_comm_del)
			rewrite_communities(r, a, buf);
		if (r->prepend) {
			int len = ap_bgp_aspath_prepend(a->as_path, a->as_path_len, r->prepend_as,
							r->prepend, buf->as_path,
							sizeof(buf->as_path));

			/* A path that no longer fits is refused rather than sent short. */
			if (len < 0)
				return false;
			a->as_path = buf->as_path;
			a->as_path_len = (uint32_t)len;
			a->present |= 1ull << AP_BGP_ATTR_AS_PATH;
		}
		return true;
	}
	return false;
}
