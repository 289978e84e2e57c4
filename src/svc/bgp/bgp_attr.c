/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UPDATE messages: path attributes, NLRI, and the RFC 7606 grading of what
 * can go wrong in them.
 *
 * The decoder walks the attribute list with one sub-cursor per attribute,
 * truncated to the attribute's declared length. Each attribute is checked
 * against its definition; a problem is graded (attribute discard,
 * treat-as-withdraw, session reset) and the message's action is the
 * strongest grade met. Only a session reset stops the walk: the other grades
 * keep going so that a later MP_REACH_NLRI, whose prefixes must be withdrawn,
 * is still found (RFC 7606 §5.3).
 */
#include "svc/bgp/bgp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Flags that must match for each known attribute (optional and transitive
 * bits only; RFC 7606 §3c). */
#define WELL_KNOWN AP_BGP_AF_TRANSITIVE
#define OPT_TRANS  (AP_BGP_AF_OPTIONAL | AP_BGP_AF_TRANSITIVE)
#define OPT_NONTR  AP_BGP_AF_OPTIONAL

static void
grade(struct ap_bgp_update *u, enum ap_bgp_action a, uint8_t type)
{
	if (a > u->action) {
		u->action = a;
		u->bad_attr = type;
	}
}

static enum ap_bgp_action
reset(struct ap_bgp_update *u, uint8_t subcode, const uint8_t *data, uint32_t len, uint8_t type)
{
	u->action = AP_BGP_ACT_SESSION_RESET;
	u->bad_attr = type;
	u->err.code = AP_BGP_ERR_UPDATE;
	u->err.subcode = subcode;
	if (len > AP_BGP_ERR_DATA_MAX)
		len = AP_BGP_ERR_DATA_MAX;
	u->err.data_len = (uint16_t)len;
	if (len)
		memcpy(u->err.data, data, len);
	return u->action;
}

/* ------------------------------------------------------------------ NLRI */

static unsigned
af_bits(uint8_t af)
{
	return af == AP_BGP_IPV6 ? 128 : 32;
}

/* Whether every prefix in the block is well formed (RFC 4271 §4.3). */
static bool
nlri_valid(const uint8_t *p, uint32_t len, uint8_t af)
{
	struct ap_wire w;

	ap_wire_init(&w, p, len);
	while (ap_wire_avail(&w) > 0) {
		uint8_t plen = ap_wire_u8(&w);

		if (plen > af_bits(af))
			return false;
		if (!ap_wire_skip(&w, (plen + 7u) / 8))
			return false;
	}
	return ap_wire_ok(&w);
}

bool
ap_bgp_nlri_next(struct ap_wire *w, uint8_t af, struct ap_bgp_prefix *p)
{
	uint8_t plen;
	uint32_t bytes;

	if (ap_wire_avail(w) == 0)
		return false;
	plen = ap_wire_u8(w);
	if (plen > af_bits(af)) {
		ap_wire_fail(w, -EINVAL);
		return false;
	}
	bytes = (plen + 7u) / 8;
	memset(p, 0, sizeof(*p));
	p->af = af;
	p->len = plen;
	if (!ap_wire_bytes(w, p->addr, bytes))
		return false;
	/* Bits beyond the length are not part of the prefix: clear them so
	 * equal prefixes compare equal. */
	if (plen % 8)
		p->addr[bytes - 1] &= (uint8_t)(0xff00u >> (plen % 8));
	return true;
}

static void
put_prefix(struct ap_wire_w *w, const struct ap_bgp_prefix *p)
{
	ap_wire_put_u8(w, p->len);
	ap_wire_put_bytes(w, p->addr, (p->len + 7u) / 8);
}

/* --------------------------------------------------------------- AS_PATH */

/* Segment syntax (RFC 7606 §7.2): known type, at least one AS, no overrun. */
static bool
aspath_valid(const uint8_t *p, uint32_t len, unsigned asz, bool confed_ok)
{
	struct ap_wire w;

	ap_wire_init(&w, p, len);
	while (ap_wire_avail(&w) > 0) {
		uint8_t type = ap_wire_u8(&w);
		uint8_t n = ap_wire_u8(&w);

		if (!ap_wire_ok(&w) || n == 0 || type < AP_BGP_AS_SET ||
		    type > AP_BGP_AS_CONFED_SET)
			return false;
		if (!confed_ok && type >= AP_BGP_AS_CONFED_SEQUENCE)
			return false;
		if (!ap_wire_skip(&w, n * asz))
			return false;
	}
	return true;
}

/* Number of ASes as RFC 6793 §4.2.3 counts them for the merge. */
static uint32_t
aspath_count_sz(const uint8_t *p, uint32_t len, unsigned asz)
{
	struct ap_wire w;
	uint32_t n = 0;

	ap_wire_init(&w, p, len);
	while (ap_wire_avail(&w) >= 2) {
		uint8_t type = ap_wire_u8(&w);
		uint8_t cnt = ap_wire_u8(&w);

		if (type == AP_BGP_AS_SEQUENCE)
			n += cnt;
		else if (type == AP_BGP_AS_SET)
			n += 1;
		if (!ap_wire_skip(&w, cnt * asz))
			break;
	}
	return n;
}

uint32_t
ap_bgp_aspath_count(const uint8_t *p, uint32_t len)
{
	return aspath_count_sz(p, len, 4);
}

uint32_t
ap_bgp_aspath_first(const uint8_t *p, uint32_t len)
{
	struct ap_wire w;

	ap_wire_init(&w, p, len);
	while (ap_wire_avail(&w) >= 2) {
		uint8_t type = ap_wire_u8(&w);
		uint8_t cnt = ap_wire_u8(&w);

		if (type == AP_BGP_AS_SEQUENCE && cnt > 0)
			return ap_wire_u32(&w);
		if (type != AP_BGP_AS_CONFED_SEQUENCE && type != AP_BGP_AS_CONFED_SET)
			return 0;
		ap_wire_skip(&w, cnt * 4u);
	}
	return 0;
}

bool
ap_bgp_aspath_contains(const uint8_t *p, uint32_t len, uint32_t asn)
{
	struct ap_wire w;

	ap_wire_init(&w, p, len);
	while (ap_wire_avail(&w) >= 2) {
		ap_wire_u8(&w);
		uint8_t cnt = ap_wire_u8(&w);

		for (uint8_t i = 0; i < cnt && ap_wire_ok(&w); i++)
			if (ap_wire_u32(&w) == asn)
				return true;
	}
	return false;
}

int
ap_bgp_aspath_prepend(const uint8_t *p, uint32_t len, uint32_t asn, unsigned times, uint8_t *out,
		      uint32_t cap)
{
	struct ap_wire_w w;
	uint8_t merge = 0;

	ap_wire_w_init(&w, out, cap);
	/* Join the first AS_SEQUENCE while it has room (255 ASes per segment). */
	if (len >= 2 && p[0] == AP_BGP_AS_SEQUENCE && p[1] + times <= 255)
		merge = p[1];
	while (times > 0) {
		unsigned room = 255u - merge, n = times > room ? room : times;

		ap_wire_put_u8(&w, AP_BGP_AS_SEQUENCE);
		ap_wire_put_u8(&w, (uint8_t)(n + merge));
		for (unsigned i = 0; i < n; i++)
			ap_wire_put_u32(&w, asn);
		times -= n;
		if (merge) {
			ap_wire_put_bytes(&w, p + 2, len - 2);
			return ap_wire_w_ok(&w) ? (int)ap_wire_w_used(&w) : -ENOSPC;
		}
	}
	ap_wire_put_bytes(&w, p, len);
	return ap_wire_w_ok(&w) ? (int)ap_wire_w_used(&w) : -ENOSPC;
}

char *
ap_bgp_aspath_str(const uint8_t *p, uint32_t len, char *buf, size_t size)
{
	struct ap_wire w;
	size_t o = 0;

	buf[0] = '\0';
	ap_wire_init(&w, p, len);
	while (ap_wire_avail(&w) >= 2 && o < size) {
		uint8_t type = ap_wire_u8(&w);
		uint8_t cnt = ap_wire_u8(&w);
		bool set = type == AP_BGP_AS_SET || type == AP_BGP_AS_CONFED_SET;
		bool confed = type >= AP_BGP_AS_CONFED_SEQUENCE;

		if (o && o < size)
			o += (size_t)snprintf(buf + o, size - o, " ");
		if (o < size && (set || confed))
			o += (size_t)snprintf(buf + o, size - o, "%s",
					      confed ? (set ? "[{" : "(") : "{");
		for (uint8_t i = 0; i < cnt && ap_wire_ok(&w) && o < size; i++)
			o += (size_t)snprintf(buf + o, size - o, "%s%" PRIu32,
					      i ? (set ? "," : " ") : "", ap_wire_u32(&w));
		if (o < size && (set || confed))
			o += (size_t)snprintf(buf + o, size - o, "%s",
					      confed ? (set ? "}]" : ")") : "}");
	}
	return buf;
}

/*
 * AS_PATH with 2-byte ASNs into 4-byte form in 'out', merging AS4_PATH per
 * RFC 6793 §4.2.3: keep the leading part of AS_PATH that AS4_PATH does not
 * cover, then AS4_PATH. Both inputs were validated. Returns the length.
 */
static uint32_t
aspath_widen(const uint8_t *p2, uint32_t len2, const uint8_t *p4, uint32_t len4, uint8_t *out,
	     uint32_t cap)
{
	uint32_t need = UINT32_MAX;
	struct ap_wire r;
	struct ap_wire_w w;

	if (p4 != NULL) {
		uint32_t n2 = aspath_count_sz(p2, len2, 2), n4 = aspath_count_sz(p4, len4, 4);

		if (n2 >= n4)
			need = n2 - n4;
		else
			p4 = NULL; /* AS4_PATH longer than AS_PATH: ignore it. */
	}
	ap_wire_w_init(&w, out, cap);
	ap_wire_init(&r, p2, len2);
	while (ap_wire_avail(&r) >= 2) {
		uint8_t type = ap_wire_u8(&r);
		uint8_t cnt = ap_wire_u8(&r);
		uint8_t take = cnt;

		if (type == AP_BGP_AS_SEQUENCE) {
			if (need == 0)
				break;
			if (take > need)
				take = (uint8_t)need;
			if (need != UINT32_MAX)
				need -= take;
		} else if (type == AP_BGP_AS_SET) {
			if (need == 0)
				break;
			if (need != UINT32_MAX)
				need -= 1;
		}
		ap_wire_put_u8(&w, type);
		ap_wire_put_u8(&w, take);
		for (uint8_t i = 0; i < cnt; i++) {
			uint16_t as = ap_wire_u16(&r);

			if (i < take)
				ap_wire_put_u32(&w, as);
		}
	}
	if (p4 != NULL)
		ap_wire_put_bytes(&w, p4, len4);
	return ap_wire_w_used(&w);
}

/* ---------------------------------------------------------------- decode */

/* What a malformed instance of each attribute costs (RFC 7606 §7). */
static enum ap_bgp_action
malformed_grade(uint8_t type)
{
	switch (type) {
	case AP_BGP_ATTR_ATOMIC_AGGR:
	case AP_BGP_ATTR_AGGREGATOR:
	case AP_BGP_ATTR_AS4_PATH:	 /* RFC 6793 §6 */
	case AP_BGP_ATTR_AS4_AGGREGATOR: /* RFC 6793 §6 */
		return AP_BGP_ACT_DISCARD;
	case AP_BGP_ATTR_MP_REACH:
	case AP_BGP_ATTR_MP_UNREACH:
		return AP_BGP_ACT_SESSION_RESET;
	default:
		return AP_BGP_ACT_TREAT_AS_WITHDRAW;
	}
}

static uint8_t
expected_flags(uint8_t type)
{
	switch (type) {
	case AP_BGP_ATTR_ORIGIN:
	case AP_BGP_ATTR_AS_PATH:
	case AP_BGP_ATTR_NEXT_HOP:
	case AP_BGP_ATTR_LOCAL_PREF:
	case AP_BGP_ATTR_ATOMIC_AGGR:
		return WELL_KNOWN;
	case AP_BGP_ATTR_MED:
	case AP_BGP_ATTR_ORIGINATOR_ID:
	case AP_BGP_ATTR_CLUSTER_LIST:
	case AP_BGP_ATTR_MP_REACH:
	case AP_BGP_ATTR_MP_UNREACH:
		return OPT_NONTR;
	default:
		return OPT_TRANS;
	}
}

static bool
known_type(uint8_t type)
{
	return (type >= AP_BGP_ATTR_ORIGIN && type <= AP_BGP_ATTR_CLUSTER_LIST) ||
	       (type >= AP_BGP_ATTR_MP_REACH && type <= AP_BGP_ATTR_AS4_AGGREGATOR) ||
	       type == AP_BGP_ATTR_LARGE_COMMUNITIES;
}

struct dec {
	struct ap_bgp_update *u;
	const struct ap_bgp_sess_opts *o;
	const uint8_t *as_path2; /* 2-byte AS_PATH awaiting widening. */
	uint32_t as_path2_len;
	const uint8_t *as4_path;
	uint32_t as4_path_len;
	bool as4_aggr;
	uint32_t as4_aggr_as, as4_aggr_id;
};

/* Multiprotocol reach/unreach (RFC 4760 §3, §4). Any error is a session
 * reset: the NLRI cannot be located reliably (RFC 7606 §7.11). */
static int
mp_attr(struct dec *d, uint8_t type, struct ap_wire *v)
{
	struct ap_bgp_update *u = d->u;
	struct ap_bgp_nlri *n = type == AP_BGP_ATTR_MP_REACH ? &u->mp_reach : &u->mp_unreach;

	/* Some dumpers write the full attribute: tell by the length. */
	if (d->o->mrt && type == AP_BGP_ATTR_MP_REACH &&
	    ap_wire_avail(v) == 1u + ap_wire_peek_u8(v)) {
		/* RFC 6396 §4.3.4: the family comes from the record; only the
		 * next hop is kept. */
		uint8_t nhl = ap_wire_u8(v);
		const uint8_t *nh = ap_wire_ptr(v, nhl);

		if (!ap_wire_ok(v) || nhl > 32)
			return -EBADMSG;
		u->attrs.mp_nh_len = nhl;
		memcpy(u->attrs.mp_nh, nh, nhl);
		n->present = true;
		n->af = AP_BGP_AF_NONE;
		return 0;
	}
	n->afi = ap_wire_u16(v);
	n->safi = ap_wire_u8(v);
	n->af = ap_bgp_af_from(n->afi, n->safi);
	if (type == AP_BGP_ATTR_MP_REACH) {
		uint8_t nhl = ap_wire_u8(v);
		const uint8_t *nh = ap_wire_ptr(v, nhl);

		ap_wire_u8(v); /* reserved */
		if (!ap_wire_ok(v))
			return -EBADMSG;
		if (n->af == AP_BGP_IPV4 && nhl != 4)
			return -EBADMSG;
		if (n->af == AP_BGP_IPV6 && nhl != 16 && nhl != 32)
			return -EBADMSG;
		if (n->af != AP_BGP_AF_NONE) {
			u->attrs.mp_nh_len = nhl;
			memcpy(u->attrs.mp_nh, nh, nhl);
		}
	}
	if (!ap_wire_ok(v))
		return -EBADMSG;
	n->len = ap_wire_avail(v);
	n->p = ap_wire_ptr(v, n->len);
	n->present = true;
	if (n->af != AP_BGP_AF_NONE && !nlri_valid(n->p, n->len, n->af))
		return -EBADMSG;
	return 0;
}

/* One attribute whose flags and uniqueness were checked. Returns the grade. */
static enum ap_bgp_action
attr_value(struct dec *d, uint8_t flags, uint8_t type, struct ap_wire *v, const uint8_t *tlv,
	   uint32_t tlv_len)
{
	struct ap_bgp_attrs *a = &d->u->attrs;
	uint32_t len = ap_wire_avail(v);

	switch (type) {
	case AP_BGP_ATTR_ORIGIN:
		a->origin = ap_wire_u8(v);
		if (len != 1 || a->origin > AP_BGP_ORIGIN_INCOMPLETE)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		break;
	case AP_BGP_ATTR_AS_PATH: {
		const uint8_t *p = ap_wire_ptr(v, len);

		if (!aspath_valid(p, len, d->o->as4 ? 4 : 2, true))
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		if (d->o->as4) {
			a->as_path = p;
			a->as_path_len = len;
		} else {
			d->as_path2 = p;
			d->as_path2_len = len;
		}
		break;
	}
	case AP_BGP_ATTR_NEXT_HOP:
		a->next_hop = ap_wire_u32(v);
		if (len != 4)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		/* RFC 4271 §6.3: not a host address (0/8, multicast, broadcast). */
		if ((a->next_hop >> 24) == 0 || (a->next_hop >> 28) == 0xe ||
		    a->next_hop == 0xffffffffu)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		break;
	case AP_BGP_ATTR_MED:
		a->med = ap_wire_u32(v);
		if (len != 4)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		break;
	case AP_BGP_ATTR_LOCAL_PREF:
		a->local_pref = ap_wire_u32(v);
		if (len != 4)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		/* RFC 7606 §7.5: from an external peer it is discarded. */
		if (!d->o->ibgp)
			return AP_BGP_ACT_DISCARD;
		break;
	case AP_BGP_ATTR_ATOMIC_AGGR:
		if (len != 0)
			return AP_BGP_ACT_DISCARD;
		break;
	case AP_BGP_ATTR_AGGREGATOR:
		if (len != (d->o->as4 ? 8u : 6u))
			return AP_BGP_ACT_DISCARD;
		a->aggregator_as = d->o->as4 ? ap_wire_u32(v) : ap_wire_u16(v);
		a->aggregator_id = ap_wire_u32(v);
		break;
	case AP_BGP_ATTR_COMMUNITIES:
		if (len == 0 || len % 4)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		a->communities = ap_wire_ptr(v, len);
		a->n_communities = (uint16_t)(len / 4);
		break;
	case AP_BGP_ATTR_ORIGINATOR_ID:
		a->originator_id = ap_wire_u32(v);
		if (len != 4)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		/* Route reflection attributes mean nothing across AS borders (RFC 4456 §8). */
		if (!d->o->ibgp)
			return AP_BGP_ACT_DISCARD;
		break;
	case AP_BGP_ATTR_CLUSTER_LIST:
		if (len == 0 || len % 4)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		if (!d->o->ibgp)
			return AP_BGP_ACT_DISCARD;
		a->cluster_list = ap_wire_ptr(v, len);
		a->n_cluster = (uint16_t)(len / 4);
		break;
	case AP_BGP_ATTR_MP_REACH:
	case AP_BGP_ATTR_MP_UNREACH:
		if (mp_attr(d, type, v) < 0) {
			reset(d->u, AP_BGP_UPD_OPT_ATTR, tlv, tlv_len, type);
			return AP_BGP_ACT_SESSION_RESET;
		}
		break;
	case AP_BGP_ATTR_EXT_COMMUNITIES:
		if (len == 0 || len % 8)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		a->ext_communities = ap_wire_ptr(v, len);
		a->n_ext_communities = (uint16_t)(len / 8);
		break;
	case AP_BGP_ATTR_AS4_PATH: {
		const uint8_t *p = ap_wire_ptr(v, len);

		/* RFC 6793 §4.1: between two 4-byte speakers it is ignored. */
		if (d->o->as4 || !aspath_valid(p, len, 4, false))
			return AP_BGP_ACT_DISCARD;
		d->as4_path = p;
		d->as4_path_len = len;
		break;
	}
	case AP_BGP_ATTR_AS4_AGGREGATOR:
		if (d->o->as4 || len != 8)
			return AP_BGP_ACT_DISCARD;
		d->as4_aggr = true;
		d->as4_aggr_as = ap_wire_u32(v);
		d->as4_aggr_id = ap_wire_u32(v);
		break;
	case AP_BGP_ATTR_LARGE_COMMUNITIES:
		/* RFC 8092 §5. */
		if (len == 0 || len % 12)
			return AP_BGP_ACT_TREAT_AS_WITHDRAW;
		a->large_communities = ap_wire_ptr(v, len);
		a->n_large_communities = (uint16_t)(len / 12);
		break;
	default:
		/* RFC 4271 §5: unknown optional transitive attributes travel on;
		 * unknown optional non-transitive ones are quietly dropped. */
		if ((flags & AP_BGP_AF_TRANSITIVE) && a->n_unknown < AP_BGP_MAX_UNKNOWN) {
			a->unknown[a->n_unknown].p = tlv;
			a->unknown[a->n_unknown].len = (uint16_t)tlv_len;
			a->n_unknown++;
		}
		return AP_BGP_ACT_OK;
	}
	if (type < 64)
		a->present |= 1ull << type;
	return AP_BGP_ACT_OK;
}

static enum ap_bgp_action
attrs_decode(struct dec *d, struct ap_wire *attrs)
{
	struct ap_bgp_update *u = d->u;
	uint64_t seen[4] = {0};

	while (ap_wire_avail(attrs) > 0) {
		const uint8_t *tlv = ap_wire_cur(attrs);
		uint32_t start = ap_wire_tell(attrs);
		uint8_t flags, type;
		uint16_t len;
		struct ap_wire v;
		enum ap_bgp_action g;

		flags = ap_wire_u8(attrs);
		type = ap_wire_u8(attrs);
		len = (flags & AP_BGP_AF_EXTLEN) ? ap_wire_u16(attrs) : ap_wire_u8(attrs);
		v = ap_wire_sub(attrs, len);
		if (!ap_wire_ok(attrs)) {
			/* RFC 7606 §4: an attribute header or value overrunning the
			 * attribute list; Total Path Attribute Length still locates
			 * the NLRI, which are withdrawn. */
			grade(u, AP_BGP_ACT_TREAT_AS_WITHDRAW, type);
			return u->action;
		}
		uint32_t tlv_len = ap_wire_tell(attrs) - start;

		if (seen[type / 64] >> (type % 64) & 1) {
			/* RFC 7606 §3g: repeats are discarded, except MP_REACH and
			 * MP_UNREACH, which reset the session. */
			if (type == AP_BGP_ATTR_MP_REACH || type == AP_BGP_ATTR_MP_UNREACH)
				return reset(u, AP_BGP_UPD_MALFORMED_ATTRS, NULL, 0, type);
			u->n_discarded++;
			grade(u, AP_BGP_ACT_DISCARD, type);
			continue;
		}
		seen[type / 64] |= 1ull << (type % 64);

		if (!known_type(type) && !(flags & AP_BGP_AF_OPTIONAL))
			/* RFC 4271 §6.3: unrecognized well-known attribute. */
			return reset(u, AP_BGP_UPD_UNKNOWN_WELLKNOWN, tlv, tlv_len, type);
		if (known_type(type) &&
		    (flags & (AP_BGP_AF_OPTIONAL | AP_BGP_AF_TRANSITIVE)) != expected_flags(type)) {
			/* RFC 7606 §3c: a flags conflict makes the attribute malformed. */
			g = malformed_grade(type);
			if (g == AP_BGP_ACT_SESSION_RESET)
				return reset(u, AP_BGP_UPD_ATTR_FLAGS, tlv, tlv_len, type);
		} else {
			g = attr_value(d, flags, type, &v, tlv, tlv_len);
			if (g == AP_BGP_ACT_SESSION_RESET)
				return u->action;
		}
		if (g == AP_BGP_ACT_DISCARD)
			u->n_discarded++;
		grade(u, g, type);
	}
	return u->action;
}

/* RFC 6793 §4.2.3: rebuild the 4-byte AS_PATH and AGGREGATOR of a 2-byte session. */
static void
as4_merge(struct dec *d)
{
	struct ap_bgp_attrs *a = &d->u->attrs;
	bool use4 = true;

	if (d->o->as4)
		return;
	/* The AS4 attributes are folded into the 4-byte view, not kept beside it. */
	a->present &= ~(1ull << AP_BGP_ATTR_AS4_PATH | 1ull << AP_BGP_ATTR_AS4_AGGREGATOR);
	/* An AGGREGATOR from a 4-byte speaker would carry AS_TRANS; any other
	 * value means a 2-byte speaker aggregated, and the AS4 attributes are stale. */
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_AGGREGATOR) && a->aggregator_as != AP_BGP_AS_TRANS)
		use4 = false;
	else if (d->as4_aggr) {
		a->aggregator_as = d->as4_aggr_as;
		a->aggregator_id = d->as4_aggr_id;
	}
	if (d->as_path2 == NULL)
		return;
	a->as_path = d->u->scratch;
	a->as_path_len = aspath_widen(d->as_path2, d->as_path2_len, use4 ? d->as4_path : NULL,
				      d->as4_path_len, d->u->scratch, sizeof(d->u->scratch));
}

enum ap_bgp_action
ap_bgp_attrs_decode(const uint8_t *p, uint32_t len, const struct ap_bgp_sess_opts *opts,
		    struct ap_bgp_update *u)
{
	struct dec d = {.u = u, .o = opts};
	struct ap_wire w;

	memset(u, 0, offsetof(struct ap_bgp_update, scratch));
	ap_wire_init(&w, p, len);
	if (attrs_decode(&d, &w) == AP_BGP_ACT_SESSION_RESET)
		return u->action;
	as4_merge(&d);
	return u->action;
}

enum ap_bgp_action
ap_bgp_update_decode(const uint8_t *msg, uint32_t len, const struct ap_bgp_sess_opts *opts,
		     struct ap_bgp_update *u)
{
	struct dec d = {.u = u, .o = opts};
	struct ap_wire w, wd, attrs;
	uint16_t wlen, alen;
	bool reach;

	/* The scratch area is written before it is read: clear the rest only. */
	memset(u, 0, offsetof(struct ap_bgp_update, scratch));
	ap_wire_init(&w, msg, len);
	ap_wire_skip(&w, AP_BGP_HDR_LEN);
	wlen = ap_wire_u16(&w);
	wd = ap_wire_sub(&w, wlen);
	alen = ap_wire_u16(&w);
	attrs = ap_wire_sub(&w, alen);
	/* RFC 7606 §5.3 / RFC 4271 §6.3: the field lengths must add up. */
	if (!ap_wire_ok(&w))
		return reset(u, AP_BGP_UPD_MALFORMED_ATTRS, NULL, 0, 0);
	u->withdrawn = (struct ap_bgp_nlri){.p = wd.p,
					    .len = wlen,
					    .af = AP_BGP_IPV4,
					    .afi = AP_BGP_AFI_IPV4,
					    .safi = AP_BGP_SAFI_UNICAST,
					    .present = wlen > 0};
	u->nlri = (struct ap_bgp_nlri){.len = ap_wire_avail(&w),
				       .af = AP_BGP_IPV4,
				       .afi = AP_BGP_AFI_IPV4,
				       .safi = AP_BGP_SAFI_UNICAST};
	u->nlri.p = ap_wire_ptr(&w, u->nlri.len);
	u->nlri.present = u->nlri.len > 0;
	if (!nlri_valid(u->withdrawn.p, u->withdrawn.len, AP_BGP_IPV4) ||
	    !nlri_valid(u->nlri.p, u->nlri.len, AP_BGP_IPV4))
		return reset(u, AP_BGP_UPD_BAD_NETWORK, NULL, 0, 0);

	if (attrs_decode(&d, &attrs) == AP_BGP_ACT_SESSION_RESET)
		return u->action;
	as4_merge(&d);

	reach = u->nlri.len > 0 ||
		(u->mp_reach.present && u->mp_reach.af != AP_BGP_AF_NONE && u->mp_reach.len > 0);
	if (reach && u->action < AP_BGP_ACT_TREAT_AS_WITHDRAW) {
		/* RFC 7606 §3d: a missing well-known mandatory attribute.
		 * NEXT_HOP is needed only for IPv4 NLRI (RFC 4760 §3). */
		static const uint8_t mand[] = {AP_BGP_ATTR_ORIGIN, AP_BGP_ATTR_AS_PATH};

		for (size_t i = 0; i < sizeof(mand); i++)
			if (!ap_bgp_attr_has(&u->attrs, mand[i]))
				grade(u, AP_BGP_ACT_TREAT_AS_WITHDRAW, mand[i]);
		if (u->nlri.len > 0 && !ap_bgp_attr_has(&u->attrs, AP_BGP_ATTR_NEXT_HOP))
			grade(u, AP_BGP_ACT_TREAT_AS_WITHDRAW, AP_BGP_ATTR_NEXT_HOP);
	}
	/* RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4) or
	 * only an empty MP_UNREACH_NLRI. */
	if (wlen == 0 && alen == 0 && u->nlri.len == 0) {
		u->eor = true;
		u->eor_af = AP_BGP_IPV4;
	} else if (wlen == 0 && u->nlri.len == 0 && u->attrs.present == 1ull << 15 &&
		   u->mp_unreach.len == 0 && u->mp_unreach.af != AP_BGP_AF_NONE &&
		   u->attrs.n_unknown == 0) {
		u->eor = true;
		u->eor_af = u->mp_unreach.af;
	}
	return u->action;
}

/* ---------------------------------------------------------------- encode */

static void
put_attr_hdr(struct ap_wire_w *w, uint8_t flags, uint8_t type, uint32_t len)
{
	if (len > 255) {
		ap_wire_put_u8(w, flags | AP_BGP_AF_EXTLEN);
		ap_wire_put_u8(w, type);
		ap_wire_put_u16(w, (uint16_t)len);
	} else {
		ap_wire_put_u8(w, flags);
		ap_wire_put_u8(w, type);
		ap_wire_put_u8(w, (uint8_t)len);
	}
}

static void
put_attr(struct ap_wire_w *w, uint8_t flags, uint8_t type, const void *v, uint32_t len)
{
	if (len > 0xffff) {
		ap_wire_w_fail(w, -ENOSPC);
		return;
	}
	put_attr_hdr(w, flags, type, len);
	ap_wire_put_bytes(w, v, len);
}

static void
put_u32_attr(struct ap_wire_w *w, uint8_t flags, uint8_t type, uint32_t v)
{
	put_attr_hdr(w, flags, type, 4);
	ap_wire_put_u32(w, v);
}

static bool
aspath_needs_as4(const uint8_t *p, uint32_t len)
{
	struct ap_wire r;

	ap_wire_init(&r, p, len);
	while (ap_wire_avail(&r) >= 2) {
		ap_wire_u8(&r);
		uint8_t cnt = ap_wire_u8(&r);

		for (uint8_t i = 0; i < cnt && ap_wire_ok(&r); i++)
			if (ap_wire_u32(&r) > 0xffff)
				return true;
	}
	return false;
}

/* AS_PATH for a 2-byte peer (AS_TRANS for large ASNs), or the AS4_PATH that
 * goes with it (the same path without confederation segments, RFC 6793 §4.2.2). */
static void
put_aspath_narrow(struct ap_wire_w *w, const uint8_t *p, uint32_t len, bool as4_path)
{
	uint32_t len_at, start;
	struct ap_wire r;

	ap_wire_put_u8(w, as4_path ? OPT_TRANS | AP_BGP_AF_EXTLEN : WELL_KNOWN | AP_BGP_AF_EXTLEN);
	ap_wire_put_u8(w, as4_path ? AP_BGP_ATTR_AS4_PATH : AP_BGP_ATTR_AS_PATH);
	len_at = ap_wire_w_used(w);
	ap_wire_put_u16(w, 0);
	start = ap_wire_w_used(w);
	ap_wire_init(&r, p, len);
	while (ap_wire_avail(&r) >= 2) {
		uint8_t type = ap_wire_u8(&r);
		uint8_t cnt = ap_wire_u8(&r);
		bool skip = as4_path && type >= AP_BGP_AS_CONFED_SEQUENCE;

		if (!skip) {
			ap_wire_put_u8(w, type);
			ap_wire_put_u8(w, cnt);
		}
		for (uint8_t i = 0; i < cnt && ap_wire_ok(&r); i++) {
			uint32_t as = ap_wire_u32(&r);

			if (skip)
				continue;
			if (as4_path)
				ap_wire_put_u32(w, as);
			else
				ap_wire_put_u16(w, as > 0xffff ? AP_BGP_AS_TRANS : (uint16_t)as);
		}
	}
	ap_wire_poke_u16(w, len_at, (uint16_t)(ap_wire_w_used(w) - start));
}

static void
put_attrs(struct ap_wire_w *w, const struct ap_bgp_sess_opts *o, const struct ap_bgp_attrs *a,
	  uint8_t af)
{
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_ORIGIN)) {
		put_attr_hdr(w, WELL_KNOWN, AP_BGP_ATTR_ORIGIN, 1);
		ap_wire_put_u8(w, a->origin);
	}
	if (o->as4)
		put_attr(w, WELL_KNOWN, AP_BGP_ATTR_AS_PATH, a->as_path, a->as_path_len);
	else
		put_aspath_narrow(w, a->as_path, a->as_path_len, false);
	if (af == AP_BGP_IPV4 && ap_bgp_attr_has(a, AP_BGP_ATTR_NEXT_HOP))
		put_u32_attr(w, WELL_KNOWN, AP_BGP_ATTR_NEXT_HOP, a->next_hop);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_MED))
		put_u32_attr(w, OPT_NONTR, AP_BGP_ATTR_MED, a->med);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_LOCAL_PREF))
		put_u32_attr(w, WELL_KNOWN, AP_BGP_ATTR_LOCAL_PREF, a->local_pref);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_ATOMIC_AGGR))
		put_attr_hdr(w, WELL_KNOWN, AP_BGP_ATTR_ATOMIC_AGGR, 0);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_AGGREGATOR)) {
		put_attr_hdr(w, OPT_TRANS, AP_BGP_ATTR_AGGREGATOR, o->as4 ? 8 : 6);
		if (o->as4)
			ap_wire_put_u32(w, a->aggregator_as);
		else
			ap_wire_put_u16(w, a->aggregator_as > 0xffff ? AP_BGP_AS_TRANS
								     : (uint16_t)a->aggregator_as);
		ap_wire_put_u32(w, a->aggregator_id);
	}
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_COMMUNITIES) && a->n_communities)
		put_attr(w, OPT_TRANS, AP_BGP_ATTR_COMMUNITIES, a->communities,
			 4u * a->n_communities);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_ORIGINATOR_ID))
		put_u32_attr(w, OPT_NONTR, AP_BGP_ATTR_ORIGINATOR_ID, a->originator_id);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_CLUSTER_LIST) && a->n_cluster)
		put_attr(w, OPT_NONTR, AP_BGP_ATTR_CLUSTER_LIST, a->cluster_list,
			 4u * a->n_cluster);
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_EXT_COMMUNITIES) && a->n_ext_communities)
		put_attr(w, OPT_TRANS, AP_BGP_ATTR_EXT_COMMUNITIES, a->ext_communities,
			 8u * a->n_ext_communities);
	if (!o->as4 && aspath_needs_as4(a->as_path, a->as_path_len))
		put_aspath_narrow(w, a->as_path, a->as_path_len, true);
	if (!o->as4 && ap_bgp_attr_has(a, AP_BGP_ATTR_AGGREGATOR) && a->aggregator_as > 0xffff) {
		put_attr_hdr(w, OPT_TRANS, AP_BGP_ATTR_AS4_AGGREGATOR, 8);
		ap_wire_put_u32(w, a->aggregator_as);
		ap_wire_put_u32(w, a->aggregator_id);
	}
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_LARGE_COMMUNITIES) && a->n_large_communities)
		put_attr(w, OPT_TRANS, AP_BGP_ATTR_LARGE_COMMUNITIES, a->large_communities,
			 12u * a->n_large_communities);
	/* RFC 4271 §5: an unrecognized transitive attribute passed on gets
	 * the Partial bit. */
	for (uint8_t i = 0; i < a->n_unknown; i++) {
		const uint8_t *t = a->unknown[i].p;

		if (a->unknown[i].len < 3)
			continue;
		ap_wire_put_u8(w, t[0] | AP_BGP_AF_PARTIAL);
		ap_wire_put_bytes(w, t + 1, a->unknown[i].len - 1u);
	}
}

int
ap_bgp_attrs_encode_mrt(struct ap_wire_w *w, const struct ap_bgp_attrs *a, uint8_t af)
{
	const struct ap_bgp_sess_opts as4 = {.as4 = true};
	uint32_t start = ap_wire_w_used(w);

	put_attrs(w, &as4, a, af);
	if (af == AP_BGP_IPV6) {
		/* RFC 6396 §4.3.4: only the next hop's length and value. */
		uint8_t nhl = a->mp_nh_len == 32 ? 32 : 16;

		put_attr_hdr(w, OPT_NONTR, AP_BGP_ATTR_MP_REACH, 1u + nhl);
		ap_wire_put_u8(w, nhl);
		ap_wire_put_bytes(w, a->mp_nh, nhl);
	}
	return ap_wire_w_ok(w) ? (int)(ap_wire_w_used(w) - start) : -ENOSPC;
}

static void
reverse(uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n / 2; i++) {
		uint8_t t = p[i];

		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

/* Rotate p[0..n) so that p[k..n) comes first. */
static void
rotate(uint8_t *p, uint32_t n, uint32_t k)
{
	reverse(p, k);
	reverse(p + k, n - k);
	reverse(p, n);
}

/* Append prefixes while they fit. Returns how many. */
static uint32_t
put_prefixes(struct ap_wire_w *w, const struct ap_bgp_prefix *pfx, uint32_t n, uint32_t keep,
	     uint32_t limit)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t need = 1 + (pfx[i].len + 7u) / 8;

		if (ap_wire_w_avail(w) < keep + need || ap_wire_w_used(w) + need > limit)
			break;
		put_prefix(w, &pfx[i]);
	}
	return i;
}

int
ap_bgp_update_encode(struct ap_wire_w *w, const struct ap_bgp_sess_opts *opts,
		     const struct ap_bgp_attrs *attrs, uint8_t af, const struct ap_bgp_prefix *pfx,
		     uint32_t n, bool withdraw)
{
	uint32_t wlen_at, alen_at, attrs_start, done = 0, limit;

	ap_bgp_msg_begin(w, AP_BGP_UPDATE);
	/* The writer's capacity is the session's maximum message size, but a
	 * 16-bit length field caps any message and attribute. */
	limit = w->len < AP_BGP_EXT_MAX_LEN ? w->len : AP_BGP_EXT_MAX_LEN;
	wlen_at = ap_wire_w_used(w);
	ap_wire_put_u16(w, 0);
	if (withdraw && af == AP_BGP_IPV4) {
		done = put_prefixes(w, pfx, n, 2, limit);
		ap_wire_poke_u16(w, wlen_at, (uint16_t)(ap_wire_w_used(w) - wlen_at - 2));
		ap_wire_put_u16(w, 0);
		goto out;
	}
	alen_at = ap_wire_w_used(w);
	ap_wire_put_u16(w, 0);
	attrs_start = ap_wire_w_used(w);
	if (!withdraw)
		put_attrs(w, opts, attrs, af);
	if (af == AP_BGP_IPV6) {
		uint32_t mp_start = ap_wire_w_used(w), len_at;

		ap_wire_put_u8(w, OPT_NONTR | AP_BGP_AF_EXTLEN);
		ap_wire_put_u8(w, withdraw ? AP_BGP_ATTR_MP_UNREACH : AP_BGP_ATTR_MP_REACH);
		len_at = ap_wire_w_used(w);
		ap_wire_put_u16(w, 0);
		ap_wire_put_u16(w, AP_BGP_AFI_IPV6);
		ap_wire_put_u8(w, AP_BGP_SAFI_UNICAST);
		if (!withdraw) {
			uint8_t nhl = attrs->mp_nh_len == 32 ? 32 : 16;

			ap_wire_put_u8(w, nhl);
			ap_wire_put_bytes(w, attrs->mp_nh, nhl);
			ap_wire_put_u8(w, 0);
		}
		done = put_prefixes(w, pfx, n, 0, limit);
		ap_wire_poke_u16(w, len_at, (uint16_t)(ap_wire_w_used(w) - len_at - 2));
		if (!withdraw && ap_wire_w_ok(w))
			rotate(w->p + attrs_start, ap_wire_w_used(w) - attrs_start,
			       mp_start - attrs_start);
		ap_wire_poke_u16(w, alen_at, (uint16_t)(ap_wire_w_used(w) - attrs_start));
	} else {
		ap_wire_poke_u16(w, alen_at, (uint16_t)(ap_wire_w_used(w) - attrs_start));
		done = put_prefixes(w, pfx, n, 0, limit);
	}
out:
	if (!ap_wire_w_ok(w) || (n > 0 && done == 0))
		return -ENOSPC;
	if (ap_bgp_msg_end(w) < 0)
		return -ENOSPC;
	return (int)done;
}
