/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet header parser: L2 through the inline parser in pkt.h, then L3/L4
 * through the bounded wire cursor.
 *
 * Everything below ap_pkt_parse() is static inline so the compiler builds one
 * straight function: no dispatch through pointers, one switch per layer.
 * Each layer works on a sub-cursor cut to the length its header declares, so
 * a bad length field cannot make a later layer read past the datagram.
 */
#include <stddef.h>

#include "lib/wire.h"
#include "pkt/pkt.h"

/* IP protocol numbers (IANA); named here to stay independent of libc headers. */
enum {
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_ESP = 50,
	PROTO_AH = 51,
	PROTO_ICMPV6 = 58,
	PROTO_NONE = 59,
	PROTO_DSTOPTS = 60,
};

/* Extension headers followed before giving up (RFC 8200 section 4.1 order has 7). */
#define IP6_MAX_EXT 8

/* clang-format off */
#define ERR_NAME(e, name, desc) [AP_PKT_ERR_##e] = name,
#define ERR_DESC(e, name, desc) [AP_PKT_ERR_##e] = desc,
static const char *const err_names[AP_PKT_ERR_COUNT] = {
	[AP_PKT_OK] = "ok",
	AP_PKT_ERRORS(ERR_NAME)
};
static const char *const err_descs[AP_PKT_ERR_COUNT] = {
	[AP_PKT_OK] = "no error",
	AP_PKT_ERRORS(ERR_DESC)
};
#undef ERR_NAME
#undef ERR_DESC
/* clang-format on */

const char *
ap_pkt_err_name(enum ap_pkt_err e)
{
	if ((unsigned)e >= AP_PKT_ERR_COUNT)
		return "unknown";
	return err_names[e];
}

const char *
ap_pkt_err_desc(enum ap_pkt_err e)
{
	if ((unsigned)e >= AP_PKT_ERR_COUNT)
		return "unknown error";
	return err_descs[e];
}

/* RFC 826, restricted to what an Ethernet/IPv4 appliance answers. */
static inline enum ap_pkt_err
parse_arp(struct ap_wire *w)
{
	uint16_t htype, ptype;
	uint8_t hlen, plen;

	if (ap_wire_avail(w) < 28)
		return AP_PKT_ERR_ARP_TRUNC;
	htype = ap_wire_u16(w);
	ptype = ap_wire_u16(w);
	hlen = ap_wire_u8(w);
	plen = ap_wire_u8(w);
	if (htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4)
		return AP_PKT_ERR_ARP_BAD;
	return AP_PKT_OK;
}

/*
 * Walk a type-length option list (IPv4 options, RFC 791 section 3.1).
 * EOL ends the list; NOP is one byte; every other option carries a length
 * that counts its type and length bytes and must stay within the header.
 */
static inline bool
ip4_opts_ok(struct ap_wire *o)
{
	while (ap_wire_avail(o)) {
		uint8_t type = ap_wire_u8(o);
		uint8_t olen;

		if (type == 0)
			return true;
		if (type == 1)
			continue;
		if (ap_wire_avail(o) < 1)
			return false;
		olen = ap_wire_u8(o);
		if (olen < 2 || !ap_wire_skip(o, olen - 2u))
			return false;
	}
	return true;
}

static inline enum ap_pkt_err
parse_ip4(struct ap_wire *w, unsigned flags, struct ap_pkt_info *pi)
{
	const uint8_t *h = ap_wire_ptr(w, 20);
	const uint8_t *opt;
	uint32_t hl, tot, payload, foff;
	uint16_t frag;
	struct ap_wire o;

	if (h == NULL)
		return AP_PKT_ERR_IP4_TRUNC;
	if (h[0] >> 4 != 4)
		return AP_PKT_ERR_IP4_VERSION;
	hl = (h[0] & 0xfu) * 4;
	if (hl < 20)
		return AP_PKT_ERR_IP4_IHL;
	opt = ap_wire_ptr(w, hl - 20);
	if (opt == NULL)
		return AP_PKT_ERR_IP4_TRUNC;
	/* The frame may end with Ethernet padding past the total length. */
	tot = (uint32_t)h[2] << 8 | h[3];
	if (tot < hl || tot - hl > ap_wire_avail(w))
		return AP_PKT_ERR_IP4_LEN;
	if ((flags & AP_PARSE_IP4_CSUM) && ap_ip4_hdr_csum_verify(h, hl) != 0)
		return AP_PKT_ERR_IP4_CSUM;
	if (hl > 20) {
		ap_wire_init(&o, opt, hl - 20);
		if (!ip4_opts_ok(&o))
			return AP_PKT_ERR_IP4_OPT;
	}
	payload = tot - hl;
	pi->ip_ttl = h[8];
	pi->l4_proto = h[9];
	pi->l4_off = (uint16_t)(pi->l3_off + hl);
	pi->l4_len = (uint16_t)payload;

	/* RFC 791 section 3.2: MF flag and a 13-bit offset in 8-byte units. */
	frag = (uint16_t)(h[6] << 8 | h[7]);
	if (frag & 0x3fff) {
		foff = (frag & 0x1fffu) * 8;
		pi->frag = foff ? AP_PKT_FRAG_LATER : AP_PKT_FRAG_FIRST;
		if (foff + payload > 65535)
			return AP_PKT_ERR_IP4_FRAG;
	}
	return AP_PKT_OK;
}

/*
 * RFC 8200 section 4: walk the extension headers inside the payload @p w
 * (already cut to the payload length) until an upper-layer header, ESP,
 * No Next Header, or a non-first fragment.
 */
static inline enum ap_pkt_err
parse_ip6_ext(struct ap_wire *w, uint8_t nh, struct ap_pkt_info *pi)
{
	unsigned n;

	for (n = 0;; n++) {
		uint32_t elen;
		uint16_t fo;

		switch (nh) {
		case PROTO_HOPOPTS:
			/* Section 4.3: hop-by-hop only right after the IPv6 header. */
			if (n != 0)
				return AP_PKT_ERR_IP6_EXT;
			/* fall through */
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (n == IP6_MAX_EXT)
				return AP_PKT_ERR_IP6_EXT_CHAIN;
			if (ap_wire_avail(w) < 8)
				return AP_PKT_ERR_IP6_EXT;
			nh = ap_wire_u8(w);
			elen = (ap_wire_u8(w) + 1u) * 8;
			if (!ap_wire_skip(w, elen - 2))
				return AP_PKT_ERR_IP6_EXT;
			break;
		case PROTO_AH:
			/* RFC 4302 section 2.2: length in 4-byte units, minus 2. */
			if (n == IP6_MAX_EXT)
				return AP_PKT_ERR_IP6_EXT_CHAIN;
			if (ap_wire_avail(w) < 12)
				return AP_PKT_ERR_IP6_EXT;
			nh = ap_wire_u8(w);
			elen = (ap_wire_u8(w) + 2u) * 4;
			/* The fixed part (next header to sequence number) is 12 bytes. */
			if (elen < 12 || !ap_wire_skip(w, elen - 2))
				return AP_PKT_ERR_IP6_EXT;
			break;
		case PROTO_FRAGMENT:
			/* Section 4.5: fixed 8 bytes; offset in 8-byte units, M flag. */
			if (n == IP6_MAX_EXT)
				return AP_PKT_ERR_IP6_EXT_CHAIN;
			if (ap_wire_avail(w) < 8)
				return AP_PKT_ERR_IP6_EXT;
			nh = ap_wire_u8(w);
			ap_wire_skip(w, 1);
			fo = ap_wire_u16(w);
			ap_wire_skip(w, 4);
			/* An atomic fragment (offset 0, no M) is a whole packet (RFC 6946). */
			if (fo & 0xfff9) {
				if (fo & 0xfff8) {
					pi->frag = AP_PKT_FRAG_LATER;
					goto done;
				}
				pi->frag = AP_PKT_FRAG_FIRST;
			}
			break;
		case PROTO_ESP:	 /* the rest is encrypted (RFC 4303) */
		case PROTO_NONE: /* nothing follows (RFC 8200 section 4.7) */
		default:	 /* an upper-layer protocol */
			goto done;
		}
	}
done:
	pi->l4_proto = nh;
	return AP_PKT_OK;
}

static inline enum ap_pkt_err
parse_ip6(struct ap_wire *w, struct ap_pkt_info *pi)
{
	const uint8_t *h = ap_wire_ptr(w, 40);
	uint32_t plen;
	struct ap_wire pw;
	enum ap_pkt_err err;

	if (h == NULL)
		return AP_PKT_ERR_IP6_TRUNC;
	if (h[0] >> 4 != 6)
		return AP_PKT_ERR_IP6_VERSION;
	/* Payload length 0 means a jumbogram (RFC 2675): not carried here. */
	plen = (uint32_t)h[4] << 8 | h[5];
	if (plen == 0 || plen > ap_wire_avail(w))
		return AP_PKT_ERR_IP6_LEN;
	pi->ip_ttl = h[7];
	pw = ap_wire_sub(w, plen);
	err = parse_ip6_ext(&pw, h[6], pi);
	if (err != AP_PKT_OK)
		return err;
	pi->l4_off = (uint16_t)(pi->l3_off + 40 + ap_wire_tell(&pw));
	pi->l4_len = (uint16_t)(plen - ap_wire_tell(&pw));
	return AP_PKT_OK;
}

/* RFC 793 section 3.1 options, with the lengths fixed by RFC 7323 and RFC 2018. */
static inline bool
tcp_opts_ok(struct ap_wire *o)
{
	while (ap_wire_avail(o)) {
		uint8_t kind = ap_wire_u8(o);
		uint8_t olen;

		if (kind == 0)
			return true;
		if (kind == 1)
			continue;
		if (ap_wire_avail(o) < 1)
			return false;
		olen = ap_wire_u8(o);
		switch (kind) {
		case 2: /* MSS */
			if (olen != 4)
				return false;
			break;
		case 3: /* window scale */
			if (olen != 3)
				return false;
			break;
		case 4: /* SACK permitted */
			if (olen != 2)
				return false;
			break;
		case 5: /* SACK: 1 to 4 blocks of 8 bytes */
			if (olen < 10 || olen > 34 || (olen - 2) % 8 != 0)
				return false;
			break;
		case 8: /* timestamps */
			if (olen != 10)
				return false;
			break;
		default:
			if (olen < 2)
				return false;
			break;
		}
		if (!ap_wire_skip(o, olen - 2u))
			return false;
	}
	return true;
}

static inline enum ap_pkt_err
parse_tcp(struct ap_wire *w, struct ap_pkt_info *pi)
{
	const uint8_t *h = ap_wire_ptr(w, 20);
	uint32_t doff;
	struct ap_wire o;

	if (h == NULL)
		return AP_PKT_ERR_TCP_TRUNC;
	pi->l4_sport = (uint16_t)(h[0] << 8 | h[1]);
	pi->l4_dport = (uint16_t)(h[2] << 8 | h[3]);
	pi->tcp_flags = h[13];
	doff = (h[12] >> 4) * 4u;
	if (doff < 20 || doff - 20 > ap_wire_avail(w))
		return AP_PKT_ERR_TCP_DOFF;
	if (doff > 20) {
		o = ap_wire_sub(w, doff - 20);
		if (!tcp_opts_ok(&o))
			return AP_PKT_ERR_TCP_OPT;
	}
	return AP_PKT_OK;
}

/* RFC 768; in a first fragment the UDP length covers the whole datagram. */
static inline enum ap_pkt_err
parse_udp(struct ap_wire *w, bool ip6, struct ap_pkt_info *pi)
{
	uint32_t avail = ap_wire_avail(w);
	uint16_t ulen;

	if (avail < 8)
		return AP_PKT_ERR_UDP_TRUNC;
	pi->l4_sport = ap_wire_u16(w);
	pi->l4_dport = ap_wire_u16(w);
	ulen = ap_wire_u16(w);
	if (ulen < 8)
		return AP_PKT_ERR_UDP_LEN;
	if (pi->frag)
		return AP_PKT_OK;
	if (ip6 ? ulen > avail : ulen != avail)
		return AP_PKT_ERR_UDP_LEN;
	return AP_PKT_OK;
}

/* RFC 792 / RFC 4443: type, code, checksum, then 4 bytes (id, seq for echo). */
static inline enum ap_pkt_err
parse_icmp(struct ap_wire *w, uint8_t echo_req, uint8_t echo_rep, enum ap_pkt_err trunc,
	   struct ap_pkt_info *pi)
{
	uint8_t type, code;

	if (ap_wire_avail(w) < 8)
		return trunc;
	type = ap_wire_u8(w);
	code = ap_wire_u8(w);
	ap_wire_skip(w, 2);
	pi->l4_sport = (uint16_t)(type << 8 | code);
	if (type == echo_req || type == echo_rep)
		pi->l4_dport = ap_wire_u16(w);
	return AP_PKT_OK;
}

enum ap_pkt_err
ap_pkt_parse(const uint8_t *p, uint32_t len, unsigned flags, struct ap_pkt_info *pi)
{
	struct ap_wire w, l4;
	enum ap_pkt_err err;

	*pi = (struct ap_pkt_info){0};
	err = ap_pkt_parse_l2(p, len, pi);
	if (err != AP_PKT_OK || !(flags & (AP_PARSE_L3 | AP_PARSE_L4)))
		return err;

	ap_wire_init(&w, p + pi->l3_off, len - pi->l3_off);
	switch (pi->l3) {
	case AP_L3_IPV4:
		err = parse_ip4(&w, flags, pi);
		break;
	case AP_L3_IPV6:
		err = parse_ip6(&w, pi);
		break;
	case AP_L3_ARP:
		return parse_arp(&w);
	default:
		return AP_PKT_OK;
	}
	if (err != AP_PKT_OK || !(flags & AP_PARSE_L4) || (pi->frag & AP_PKT_FRAG_LATER))
		return err;

	/* The transport sees exactly the bytes the IP length fields give it. */
	ap_wire_init(&l4, p + pi->l4_off, pi->l4_len);
	switch (pi->l4_proto) {
	case PROTO_TCP:
		return parse_tcp(&l4, pi);
	case PROTO_UDP:
		return parse_udp(&l4, pi->l3 == AP_L3_IPV6, pi);
	case PROTO_ICMP:
		if (pi->l3 != AP_L3_IPV4)
			return AP_PKT_OK;
		return parse_icmp(&l4, 8, 0, AP_PKT_ERR_ICMP4_TRUNC, pi);
	case PROTO_ICMPV6:
		if (pi->l3 != AP_L3_IPV6)
			return AP_PKT_OK;
		return parse_icmp(&l4, 128, 129, AP_PKT_ERR_ICMP6_TRUNC, pi);
	default:
		return AP_PKT_OK;
	}
}
