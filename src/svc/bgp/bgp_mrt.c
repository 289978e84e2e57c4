/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MRT RIB dumps (RFC 6396): TABLE_DUMP (type 12) and TABLE_DUMP_V2 (type 13:
 * PEER_INDEX_TABLE, RIB_IPV4/IPV6_UNICAST and their RFC 8050 ADD-PATH
 * forms), read one route at a time through the same attribute decoder as
 * UPDATEs, and printed the way `bgpdump -m` prints them so dumps can be
 * compared line by line.
 */
#include "svc/bgp/bgp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	MRT_TABLE_DUMP = 12,
	MRT_TABLE_DUMP_V2 = 13,
	TD2_PEER_INDEX = 1,
	TD2_RIB_IPV4 = 2,
	TD2_RIB_IPV6 = 4,
	TD2_RIB_IPV4_AP = 8,
	TD2_RIB_IPV6_AP = 10,
};

struct mrt_peer {
	uint8_t addr[16];
	bool v6;
	uint32_t as;
};

struct ap_bgp_mrt_reader {
	struct ap_wire file;
	/* The TABLE_DUMP_V2 record being walked, entry by entry. */
	struct ap_wire rec;
	uint16_t entries_left;
	uint32_t ts;
	uint16_t subtype;
	struct ap_bgp_prefix pfx;
	struct mrt_peer *peers;
	uint16_t n_peers;
	struct ap_bgp_update *u;
};

struct ap_bgp_mrt_reader *
ap_bgp_mrt_open(const uint8_t *buf, size_t len)
{
	struct ap_bgp_mrt_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->u = malloc(sizeof(*r->u));
	if (r->u == NULL || len > UINT32_MAX) {
		free(r->u);
		free(r);
		return NULL;
	}
	ap_wire_init(&r->file, buf, (uint32_t)len);
	return r;
}

void
ap_bgp_mrt_close(struct ap_bgp_mrt_reader *r)
{
	if (r == NULL)
		return;
	free(r->peers);
	free(r->u);
	free(r);
}

static int
peer_index(struct ap_bgp_mrt_reader *r, struct ap_wire *w)
{
	uint16_t n;

	ap_wire_u32(w); /* collector BGP id */
	ap_wire_skip(w, ap_wire_u16(w));
	n = ap_wire_u16(w);
	free(r->peers);
	r->peers = calloc(n ? n : 1, sizeof(*r->peers));
	r->n_peers = 0;
	if (r->peers == NULL)
		return -ENOMEM;
	for (uint16_t i = 0; i < n; i++) {
		uint8_t type = ap_wire_u8(w);
		struct mrt_peer *p = &r->peers[i];

		ap_wire_u32(w); /* peer BGP id */
		p->v6 = type & 1;
		ap_wire_bytes(w, p->addr, p->v6 ? 16 : 4);
		p->as = (type & 2) ? ap_wire_u32(w) : ap_wire_u16(w);
	}
	if (!ap_wire_ok(w))
		return -EBADMSG;
	r->n_peers = n;
	return 0;
}

/* Prefix as written in RIB records: length, then the significant bytes. */
static bool
read_prefix(struct ap_wire *w, uint8_t af, struct ap_bgp_prefix *p)
{
	return ap_bgp_nlri_next(w, af, p) && ap_wire_ok(w);
}

static int
attrs(struct ap_bgp_mrt_reader *r, struct ap_wire *w, bool as4, struct ap_bgp_mrt_entry *e)
{
	struct ap_bgp_sess_opts o = {.as4 = as4, .ibgp = true, .mrt = true};
	uint16_t alen = ap_wire_u16(w);
	const uint8_t *p = ap_wire_ptr(w, alen);

	if (!ap_wire_ok(w))
		return -EBADMSG;
	if (ap_bgp_attrs_decode(p, alen, &o, r->u) == AP_BGP_ACT_SESSION_RESET)
		return -EBADMSG;
	e->attrs = &r->u->attrs;
	return 0;
}

/* One entry of the current TABLE_DUMP_V2 RIB record. */
static int
v2_entry(struct ap_bgp_mrt_reader *r, struct ap_bgp_mrt_entry *e)
{
	uint16_t idx = ap_wire_u16(&r->rec);

	r->entries_left--;
	ap_wire_u32(&r->rec); /* originated time */
	e->ts = r->ts;
	e->type = MRT_TABLE_DUMP_V2;
	e->subtype = r->subtype;
	e->pfx = r->pfx;
	e->has_path_id = r->subtype == TD2_RIB_IPV4_AP || r->subtype == TD2_RIB_IPV6_AP;
	e->path_id = e->has_path_id ? ap_wire_u32(&r->rec) : 0;
	if (!ap_wire_ok(&r->rec) || idx >= r->n_peers)
		return -EBADMSG;
	memcpy(e->peer_addr, r->peers[idx].addr, 16);
	e->peer_v6 = r->peers[idx].v6;
	e->peer_as = r->peers[idx].as;
	/* RFC 6396 §4.3.4: attributes in TABLE_DUMP_V2 always carry 4-byte ASNs. */
	return attrs(r, &r->rec, true, e) < 0 ? -EBADMSG : 1;
}

int
ap_bgp_mrt_next(struct ap_bgp_mrt_reader *r, struct ap_bgp_mrt_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (r->entries_left)
		return v2_entry(r, e);
	while (ap_wire_avail(&r->file) > 0) {
		uint32_t ts = ap_wire_u32(&r->file);
		uint16_t type = ap_wire_u16(&r->file);
		uint16_t sub = ap_wire_u16(&r->file);
		uint32_t len = ap_wire_u32(&r->file);
		struct ap_wire w = ap_wire_sub(&r->file, len);

		if (!ap_wire_ok(&r->file))
			return -EBADMSG;
		if (type == MRT_TABLE_DUMP && (sub == 1 || sub == 2)) {
			uint8_t af = sub == 2 ? AP_BGP_IPV6 : AP_BGP_IPV4;
			unsigned alen = af == AP_BGP_IPV6 ? 16 : 4;

			ap_wire_skip(&w, 4); /* view, sequence */
			e->pfx.af = af;
			ap_wire_bytes(&w, e->pfx.addr, alen);
			e->pfx.len = ap_wire_u8(&w);
			ap_wire_skip(&w, 1 + 4); /* status, originated time */
			e->peer_v6 = af == AP_BGP_IPV6;
			ap_wire_bytes(&w, e->peer_addr, alen);
			e->peer_as = ap_wire_u16(&w);
			if (!ap_wire_ok(&w) || e->pfx.len > (af == AP_BGP_IPV6 ? 128 : 32))
				return -EBADMSG;
			e->ts = ts;
			e->type = type;
			e->subtype = sub;
			/* TABLE_DUMP predates 4-byte ASNs (RFC 6396 §4.2). */
			return attrs(r, &w, false, e) < 0 ? -EBADMSG : 1;
		}
		if (type != MRT_TABLE_DUMP_V2)
			continue;
		if (sub == TD2_PEER_INDEX) {
			int rc = peer_index(r, &w);

			if (rc < 0)
				return rc;
			continue;
		}
		if (sub != TD2_RIB_IPV4 && sub != TD2_RIB_IPV6 && sub != TD2_RIB_IPV4_AP &&
		    sub != TD2_RIB_IPV6_AP)
			continue;
		ap_wire_u32(&w); /* sequence */
		if (!read_prefix(&w,
				 sub == TD2_RIB_IPV6 || sub == TD2_RIB_IPV6_AP ? AP_BGP_IPV6
									       : AP_BGP_IPV4,
				 &r->pfx))
			return -EBADMSG;
		r->entries_left = ap_wire_u16(&w);
		r->rec = w;
		r->ts = ts;
		r->subtype = sub;
		if (!ap_wire_ok(&w))
			return -EBADMSG;
		if (r->entries_left)
			return v2_entry(r, e);
	}
	return ap_wire_ok(&r->file) ? 0 : -EBADMSG;
}

static size_t put(char *buf, size_t size, size_t o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t
put(char *buf, size_t size, size_t o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o >= size)
		return o;
	va_start(ap, fmt);
	n = vsnprintf(buf + o, size - o, fmt, ap);
	va_end(ap);
	return n < 0 ? o : o + (size_t)n;
}

char *
ap_bgp_mrt_line(const struct ap_bgp_mrt_entry *e, char *buf, size_t size)
{
	static const char *const origins[] = {"IGP", "EGP", "INCOMPLETE"};
	const struct ap_bgp_attrs *a = e->attrs;
	char addr[INET6_ADDRSTRLEN], pfx[64], path[4096];
	size_t o = 0;

	inet_ntop(e->peer_v6 ? AF_INET6 : AF_INET, e->peer_addr, addr, sizeof(addr));
	o = put(buf, size, o, "%s|%" PRIu32 "|B|%s|%" PRIu32 "|%s|",
		e->type == MRT_TABLE_DUMP ? "TABLE_DUMP"
		: e->has_path_id	  ? "TABLE_DUMP2_AP"
					  : "TABLE_DUMP2",
		e->ts, addr, e->peer_as, ap_bgp_prefix_str(&e->pfx, pfx, sizeof(pfx)));
	if (e->has_path_id)
		o = put(buf, size, o, "%" PRIu32 "|", e->path_id);
	ap_bgp_aspath_str(a->as_path, a->as_path_len, path, sizeof(path));
	/* Without ORIGIN or NEXT_HOP, bgpdump prints INCOMPLETE and
	 * 255.255.255.255: do the same so outputs compare. */
	o = put(buf, size, o, "%s|%s|", path,
		!ap_bgp_attr_has(a, AP_BGP_ATTR_ORIGIN) ? "INCOMPLETE"
		: a->origin <= 2			? origins[a->origin]
							: "?");
	if (e->pfx.af == AP_BGP_IPV6 && a->mp_nh_len >= 16)
		inet_ntop(AF_INET6, a->mp_nh, addr, sizeof(addr));
	else if (e->pfx.af == AP_BGP_IPV4 && ap_bgp_attr_has(a, AP_BGP_ATTR_NEXT_HOP)) {
		uint32_t nh = htonl(a->next_hop);

		inet_ntop(AF_INET, &nh, addr, sizeof(addr));
	} else if (a->mp_nh_len == 4) {
		inet_ntop(AF_INET, a->mp_nh, addr, sizeof(addr));
	} else {
		snprintf(addr, sizeof(addr), "%s",
			 e->pfx.af == AP_BGP_IPV4 ? "255.255.255.255" : "");
	}
	o = put(buf, size, o, "%s|%" PRIu32 "|%" PRIu32 "|", addr,
		ap_bgp_attr_has(a, AP_BGP_ATTR_LOCAL_PREF) ? a->local_pref : 0,
		ap_bgp_attr_has(a, AP_BGP_ATTR_MED) ? a->med : 0);
	for (uint16_t i = 0; i < a->n_communities; i++) {
		const uint8_t *c = a->communities + 4 * i;

		o = put(buf, size, o, "%s%u:%u", i ? " " : "", c[0] << 8 | c[1], c[2] << 8 | c[3]);
	}
	o = put(buf, size, o, "|%s|", ap_bgp_attr_has(a, AP_BGP_ATTR_ATOMIC_AGGR) ? "AG" : "NAG");
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_AGGREGATOR)) {
		uint32_t id = htonl(a->aggregator_id);

		inet_ntop(AF_INET, &id, addr, sizeof(addr));
		o = put(buf, size, o, "%" PRIu32 " %s", a->aggregator_as, addr);
	}
	put(buf, size, o, "|");
	return buf;
}

/* ---------------------------------------------------------------- writing */

/* MRT common header (RFC 6396 §2); the length is filled by mrt_end(). */
static uint32_t
mrt_begin(struct ap_wire_w *w, uint32_t ts, uint16_t subtype)
{
	uint32_t at;

	ap_wire_put_u32(w, ts);
	ap_wire_put_u16(w, MRT_TABLE_DUMP_V2);
	ap_wire_put_u16(w, subtype);
	at = ap_wire_w_used(w);
	ap_wire_put_u32(w, 0);
	return at;
}

static int
mrt_end(struct ap_wire_w *w, uint32_t len_at)
{
	uint32_t len = ap_wire_w_used(w) - len_at - 4;

	ap_wire_poke_u16(w, len_at, (uint16_t)(len >> 16));
	ap_wire_poke_u16(w, len_at + 2, (uint16_t)len);
	return ap_wire_w_ok(w) ? 0 : -ENOSPC;
}

int
ap_bgp_mrt_write_peers(struct ap_wire_w *w, uint32_t ts, uint32_t collector_id, const char *view,
		       const struct ap_bgp_mrt_peer *peers, uint16_t n)
{
	uint32_t at = mrt_begin(w, ts, TD2_PEER_INDEX);
	size_t vlen = strlen(view);

	if (vlen > UINT16_MAX)
		return -ENOSPC;
	ap_wire_put_u32(w, collector_id);
	ap_wire_put_u16(w, (uint16_t)vlen);
	ap_wire_put_bytes(w, view, (uint32_t)vlen);
	ap_wire_put_u16(w, n);
	for (uint16_t i = 0; i < n; i++) {
		/* Peer type: bit 0 an IPv6 address, bit 1 a 4-byte AS. */
		ap_wire_put_u8(w, (uint8_t)(2 | (peers[i].v6 ? 1 : 0)));
		ap_wire_put_u32(w, peers[i].bgp_id);
		ap_wire_put_bytes(w, peers[i].addr, peers[i].v6 ? 16 : 4);
		ap_wire_put_u32(w, peers[i].as);
	}
	return mrt_end(w, at);
}

int
ap_bgp_mrt_write_rib(struct ap_wire_w *w, uint32_t ts, uint32_t seq,
		     const struct ap_bgp_prefix *pfx, const struct ap_bgp_mrt_rib_entry *e,
		     uint16_t n)
{
	uint32_t at = mrt_begin(w, ts, pfx->af == AP_BGP_IPV6 ? TD2_RIB_IPV6 : TD2_RIB_IPV4);

	ap_wire_put_u32(w, seq);
	ap_wire_put_u8(w, pfx->len);
	ap_wire_put_bytes(w, pfx->addr, (pfx->len + 7u) / 8);
	ap_wire_put_u16(w, n);
	for (uint16_t i = 0; i < n; i++) {
		uint32_t alen_at;
		int len;

		ap_wire_put_u16(w, e[i].peer);
		ap_wire_put_u32(w, e[i].originated);
		alen_at = ap_wire_w_used(w);
		ap_wire_put_u16(w, 0);
		len = ap_bgp_attrs_encode_mrt(w, e[i].attrs, pfx->af);
		if (len < 0 || len > UINT16_MAX)
			return -ENOSPC;
		ap_wire_poke_u16(w, alen_at, (uint16_t)len);
	}
	return mrt_end(w, at);
}
