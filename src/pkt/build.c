/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Builders for ARP, ICMPv4, ICMPv6 and Neighbor Discovery messages, and the
 * parsers for the ARP and ND messages a router receives.
 *
 * Every builder validates its input, then computes the exact size of the
 * message and returns -ENOSPC before touching the buffer when it does not
 * fit; only then does it write, through the wire writer. So a failed call
 * leaves the buffer as it was, and nothing can land past the capacity.
 *
 * Integers given by the caller are already in network order: they are
 * copied as bytes, never swapped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/wire.h"
#include "pkt/build.h"
#include "pkt/pkt.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_ARP = 0x0806,
	ETHERTYPE_IPV6 = 0x86dd,
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_ESP = 50,
	PROTO_AH = 51,
	PROTO_ICMPV6 = 58,
	PROTO_DSTOPTS = 60,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	ICMP6_REDIRECT = 137,
	ND_OPT_SLLA = 1,
	ND_OPT_TLLA = 2,
	ND_OPT_PREFIX = 3,
	ND_OPT_MTU = 5,
};

#define IP4_HDR	     20
#define IP6_HDR	     40
#define ICMP_HDR     8
#define ARP_LEN	     28
#define ND_NS_NA_LEN 24
#define ND_RA_LEN    16
#define ND_RS_LEN    8
#define ND_LLA_OPT   8
#define ND_MTU_OPT   8
#define ND_PFX_OPT   32
/* Echo replies and errors get the usual default TTL / hop limit. */
#define DEFAULT_TTL 64
/* RFC 4861 section 6.1.2 / 7.1.1: ND is only accepted from the link itself. */
#define ND_HOP_LIMIT 255
/* RFC 1812 section 4.3.2.5: precedence 6 (internetwork control) on errors. */
#define ICMP4_ERR_TOS 0xc0
/* RFC 1191 section 3 and RFC 791: no IPv4 link MTU is below 68. */
#define IP4_MIN_MTU 68
#define IP6_MIN_MTU 1280

static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_zero[6];
static const uint8_t ip6_unspec[16];
static const uint8_t ip6_all_nodes[16] = {0xff, 0x02, [15] = 0x01};

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A size_t capacity as the writer's 32-bit length, without wrapping. */
static inline uint32_t
cap32(size_t cap)
{
	return cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
}

static inline void
store_csum(uint8_t *at, uint16_t csum)
{
	memcpy(at, &csum, 2);
}

static inline bool
ip6_is_mcast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static inline bool
ip6_is_unspec(const uint8_t *a)
{
	return memcmp(a, ip6_unspec, 16) == 0;
}

static inline bool
ip6_is_link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ff02::1:ff00:0/104 (RFC 4291 section 2.7.1). */
static inline bool
ip6_is_solicited_node(const uint8_t *a)
{
	static const uint8_t pfx[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};

	return memcmp(a, pfx, sizeof(pfx)) == 0;
}

/* First octet of a network-order IPv4 address. */
static inline uint8_t
ip4_first(uint32_t ip)
{
	return (uint8_t)(ntohl(ip) >> 24);
}

/*
 * RFC 1812 section 4.3.2.7 / 5.3.7: a source that names one host is none of
 * 0/8, 127/8, multicast, or 240/4 (which holds 255.255.255.255).
 */
static inline bool
ip4_src_is_host(uint32_t ip)
{
	uint8_t a = ip4_first(ip);

	return a != 0 && a != 127 && a < 224;
}

static inline bool
ip4_dst_is_group(uint32_t ip)
{
	return ap_ip4_is_bcast_or_mcast(ip, 0);
}

/* ----------------------------------------------------------- addresses */

void
ap_ip6_solicited_node(const uint8_t ip6[16], uint8_t out[16])
{
	uint8_t low[3];

	/* Copied first so @p out may be @p ip6. */
	memcpy(low, ip6 + 13, 3);
	memset(out, 0, 13);
	out[0] = 0xff;
	out[1] = 0x02;
	out[11] = 0x01;
	out[12] = 0xff;
	memcpy(out + 13, low, 3);
}

void
ap_ip6_mcast_mac(const uint8_t ip6[16], uint8_t mac[6])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, ip6 + 12, 4);
}

void
ap_ip6_link_local_from_mac(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 8);
	out[0] = 0xfe;
	out[1] = 0x80;
	/* Modified EUI-64: the universal/local bit inverted, ff:fe in the middle. */
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

bool
ap_ip4_is_bcast_or_mcast(uint32_t ip, uint32_t subnet_bcast)
{
	if (ip == 0xffffffffu)
		return true;
	if ((ip4_first(ip) & 0xf0) == 0xe0)
		return true;
	return subnet_bcast != 0 && ip == subnet_bcast;
}

/* ------------------------------------------------------- Ethernet, ARP */

static void
put_eth(struct ap_wire_w *w, const uint8_t *dst, const uint8_t *src, uint16_t ethertype_be)
{
	ap_wire_put_bytes(w, dst, 6);
	ap_wire_put_bytes(w, src, 6);
	ap_wire_put_bytes(w, &ethertype_be, 2);
}

int
ap_build_eth(uint8_t *out, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
	     uint16_t ethertype)
{
	struct ap_wire_w w;

	if (cap < AP_ETH_HDR_LEN)
		return -ENOSPC;
	ap_wire_w_init(&w, out, cap32(cap));
	put_eth(&w, dst_mac, src_mac, ethertype);
	return (int)ap_wire_w_used(&w);
}

int
ap_build_arp(uint8_t *out, size_t cap, uint16_t op, const uint8_t src_mac[6], uint32_t src_ip,
	     const uint8_t *dst_mac_hdr, const uint8_t *target_mac, uint32_t target_ip)
{
	struct ap_wire_w w;
	uint16_t hop = ntohs(op);

	if (hop != AP_ARP_OP_REQUEST && hop != AP_ARP_OP_REPLY)
		return -EINVAL;
	/* A reply goes to the one who asked (RFC 826, "packet reception"). */
	if (hop == AP_ARP_OP_REPLY && dst_mac_hdr == NULL)
		return -EINVAL;
	if (cap < AP_ETH_MIN_FRAME)
		return -ENOSPC;
	ap_wire_w_init(&w, out, cap32(cap));
	put_eth(&w, dst_mac_hdr ? dst_mac_hdr : mac_bcast, src_mac, htons(ETHERTYPE_ARP));
	ap_wire_put_u16(&w, 1); /* hardware type Ethernet */
	ap_wire_put_u16(&w, ETHERTYPE_IPV4);
	ap_wire_put_u8(&w, 6);
	ap_wire_put_u8(&w, 4);
	ap_wire_put_bytes(&w, &op, 2);
	ap_wire_put_bytes(&w, src_mac, 6);
	ap_wire_put_bytes(&w, &src_ip, 4);
	ap_wire_put_bytes(&w, target_mac ? target_mac : mac_zero, 6);
	ap_wire_put_bytes(&w, &target_ip, 4);
	ap_wire_put_zero(&w, AP_ETH_MIN_FRAME - AP_ETH_HDR_LEN - ARP_LEN);
	return (int)ap_wire_w_used(&w);
}

int
ap_parse_arp(const uint8_t *arp, size_t len, struct ap_arp_msg *out)
{
	uint16_t op;

	memset(out, 0, sizeof(*out));
	if (len < ARP_LEN)
		return -EINVAL;
	/* RFC 826: Ethernet hardware, IPv4 protocol, their lengths, then the opcode. */
	if (rd16(arp) != 1 || rd16(arp + 2) != ETHERTYPE_IPV4 || arp[4] != 6 || arp[5] != 4)
		return -EINVAL;
	op = rd16(arp + 6);
	if (op != AP_ARP_OP_REQUEST && op != AP_ARP_OP_REPLY)
		return -EINVAL;
	memcpy(&out->op, arp + 6, 2);
	memcpy(out->sha, arp + 8, 6);
	memcpy(&out->spa, arp + 14, 4);
	memcpy(out->tha, arp + 18, 6);
	memcpy(&out->tpa, arp + 24, 4);
	out->gratuitous = out->spa == out->tpa;
	return 0;
}

/* --------------------------------------------------------------- ICMPv4 */

/*
 * Header length of a well-formed IPv4 header at @p ip: version 4, IHL of 5
 * or more, the header within @p len and the total length covering it.
 * -EINVAL otherwise. The total length may exceed @p len (a clipped datagram).
 */
static int
ip4_hdr_len(const uint8_t *ip, size_t len)
{
	uint32_t hl;

	if (len < IP4_HDR || ip[0] >> 4 != 4)
		return -EINVAL;
	hl = (ip[0] & 0xfu) * 4;
	if (hl < IP4_HDR || hl > len || rd16(ip + 2) < hl)
		return -EINVAL;
	return (int)hl;
}

/* RFC 792 / RFC 1122 section 3.2.2: the query (non-error) message types. */
static bool
icmp4_is_query(uint8_t type)
{
	switch (type) {
	case 0:	 /* echo reply */
	case 8:	 /* echo request */
	case 9:	 /* router advertisement (RFC 1256) */
	case 10: /* router solicitation */
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request (RFC 950) */
	case 18: /* address mask reply */
		return true;
	default:
		/* Unknown types count as errors: never answer what we cannot classify. */
		return false;
	}
}

static void
put_ip4(struct ap_wire_w *w, uint8_t tos, uint16_t tot, uint16_t id_be, uint8_t proto, uint32_t src,
	uint32_t dst)
{
	ap_wire_put_u8(w, 0x45);
	ap_wire_put_u8(w, tos);
	ap_wire_put_u16(w, tot);
	ap_wire_put_bytes(w, &id_be, 2);
	ap_wire_put_u16(w, 0); /* DF clear, not a fragment */
	ap_wire_put_u8(w, DEFAULT_TTL);
	ap_wire_put_u8(w, proto);
	ap_wire_put_u16(w, 0); /* checksum, filled in last */
	ap_wire_put_bytes(w, &src, 4);
	ap_wire_put_bytes(w, &dst, 4);
}

int
ap_icmp4_echo_to_reply(uint8_t *ip4, size_t len)
{
	int hl = ip4_hdr_len(ip4, len);
	uint32_t src, dst;
	uint16_t tot, old_w, new_w, csum;
	uint8_t *icmp;

	if (hl < 0)
		return hl;
	tot = rd16(ip4 + 2);
	if (tot > len || tot < (uint32_t)hl + ICMP_HDR || ip4[9] != PROTO_ICMP)
		return -EINVAL;
	/* A fragment is answered only once reassembled. */
	if (rd16(ip4 + 6) & 0x3fff)
		return -EINVAL;
	if (ap_ip4_hdr_csum_verify(ip4, (uint32_t)hl) != 0)
		return -EINVAL;
	icmp = ip4 + hl;
	if (icmp[0] != 8 || icmp[1] != 0)
		return -EINVAL;
	memcpy(&src, ip4 + 12, 4);
	memcpy(&dst, ip4 + 16, 4);
	/* RFC 1122 section 3.2.2.6: a reply's source is ours and names one host. */
	if (!ip4_src_is_host(src) || ip4_dst_is_group(dst))
		return -EPERM;
	if (hl > IP4_HDR)
		return -EOPNOTSUPP;

	memcpy(&old_w, icmp, 2);
	icmp[0] = 0; /* echo reply, code 0 */
	memcpy(&new_w, icmp, 2);
	memcpy(&csum, icmp + 2, 2);
	store_csum(icmp + 2, ap_csum_update16(csum, old_w, new_w));

	memcpy(ip4 + 12, &dst, 4);
	memcpy(ip4 + 16, &src, 4);
	ip4[8] = DEFAULT_TTL;
	ip4[10] = ip4[11] = 0;
	store_csum(ip4 + 10, ap_csum(ip4, (uint32_t)hl));
	return 0;
}

bool
ap_icmp4_error_allowed(const uint8_t *orig_ip4, size_t len)
{
	int hl = ip4_hdr_len(orig_ip4, len);
	uint32_t src, dst;

	if (hl < 0)
		return false;
	memcpy(&src, orig_ip4 + 12, 4);
	memcpy(&dst, orig_ip4 + 16, 4);
	if (!ip4_src_is_host(src) || ip4_dst_is_group(dst))
		return false;
	if (rd16(orig_ip4 + 6) & 0x1fff)
		return false;
	if (orig_ip4[9] == PROTO_ICMP)
		return (size_t)hl < len && icmp4_is_query(orig_ip4[hl]);
	return true;
}

int
ap_build_icmp4_error(uint8_t *out, size_t cap, uint32_t src_ip, const uint8_t *orig_ip4,
		     size_t orig_len, uint8_t type, uint8_t code, uint32_t info, uint16_t ip_id)
{
	struct ap_wire_w w;
	size_t quote;
	uint32_t dst, need;
	int hl;

	if (type != AP_ICMP4_DEST_UNREACH && type != AP_ICMP4_REDIRECT &&
	    type != AP_ICMP4_TIME_EXCEED && type != AP_ICMP4_PARAM_PROB)
		return -EINVAL;
	if (!ip4_src_is_host(src_ip))
		return -EINVAL;
	if (type == AP_ICMP4_DEST_UNREACH && code == AP_ICMP4_FRAG_NEEDED &&
	    (ntohl(info) & 0xffff) < IP4_MIN_MTU)
		return -EINVAL;
	hl = ip4_hdr_len(orig_ip4, orig_len);
	if (hl < 0)
		return hl;
	if (!ap_icmp4_error_allowed(orig_ip4, orig_len))
		return -EPERM;

	/* Quote the datagram, not the link padding after it; RFC 1812 4.3.2.3 cap. */
	quote = rd16(orig_ip4 + 2);
	if (quote > orig_len)
		quote = orig_len;
	if (quote > AP_ICMP4_ERR_MAX - IP4_HDR - ICMP_HDR)
		quote = AP_ICMP4_ERR_MAX - IP4_HDR - ICMP_HDR;
	need = (uint32_t)(IP4_HDR + ICMP_HDR + quote);
	if (cap < need)
		return -ENOSPC;

	memcpy(&dst, orig_ip4 + 12, 4);
	ap_wire_w_init(&w, out, cap32(cap));
	put_ip4(&w, ICMP4_ERR_TOS, (uint16_t)need, ip_id, PROTO_ICMP, src_ip, dst);
	ap_wire_put_u8(&w, type);
	ap_wire_put_u8(&w, code);
	ap_wire_put_u16(&w, 0);
	ap_wire_put_bytes(&w, &info, 4);
	ap_wire_put_bytes(&w, orig_ip4, (uint32_t)quote);
	store_csum(out + IP4_HDR + 2, ap_csum(out + IP4_HDR, need - IP4_HDR));
	store_csum(out + 10, ap_csum(out, IP4_HDR));
	return (int)ap_wire_w_used(&w);
}

/* --------------------------------------------------------------- ICMPv6 */

/*
 * Bytes of the IPv6 packet at @p ip that belong to it: the header plus its
 * payload length, clipped to @p len (a jumbogram's 0 takes all of @p len).
 * -EINVAL when the header itself is not there.
 */
static int
ip6_pkt_len(const uint8_t *ip, size_t len)
{
	size_t plen;

	if (len < IP6_HDR || ip[0] >> 4 != 6)
		return -EINVAL;
	plen = rd16(ip + 4);
	if (plen == 0 || IP6_HDR + plen > len)
		return len > INT32_MAX ? INT32_MAX : (int)len;
	return (int)(IP6_HDR + plen);
}

/*
 * RFC 8200 section 4: offset of the upper-layer header in the first @p len
 * bytes of @p ip, its protocol in @p nh; -1 when it cannot be known (ESP, No
 * Next Header, a non-first fragment, a chain too long or cut short).
 */
static long
ip6_upper(const uint8_t *ip, size_t len, uint8_t *nh)
{
	size_t off = IP6_HDR;
	uint8_t h = ip[6];
	unsigned n;

	for (n = 0; n < 8; n++) {
		switch (h) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (off + 8 > len)
				return -1;
			h = ip[off];
			off += (ip[off + 1] + 1u) * 8;
			break;
		case PROTO_AH:
			/* RFC 4302 section 2.2: length in 4-byte units, minus 2. */
			if (off + 8 > len)
				return -1;
			h = ip[off];
			off += (ip[off + 1] + 2u) * 4;
			break;
		case PROTO_FRAGMENT:
			if (off + 8 > len || (rd16(ip + off + 2) & 0xfff8))
				return -1;
			h = ip[off];
			off += 8;
			break;
		case PROTO_ESP:
		case 59: /* No Next Header */
			return -1;
		default:
			*nh = h;
			return (long)off;
		}
	}
	return -1;
}

static void
put_ip6(struct ap_wire_w *w, uint16_t plen, uint8_t hop_limit, const uint8_t *src,
	const uint8_t *dst)
{
	ap_wire_put_u32(w, 0x60000000); /* version 6, traffic class and flow label 0 */
	ap_wire_put_u16(w, plen);
	ap_wire_put_u8(w, PROTO_ICMPV6);
	ap_wire_put_u8(w, hop_limit);
	ap_wire_put_bytes(w, src, 16);
	ap_wire_put_bytes(w, dst, 16);
}

/* Checksum of the ICMPv6 message following the IPv6 header at @p ip6. */
static void
icmp6_fill_csum(uint8_t *ip6, uint32_t icmp_len)
{
	ip6[IP6_HDR + 2] = ip6[IP6_HDR + 3] = 0;
	store_csum(ip6 + IP6_HDR + 2, ap_l4_csum_ip6(ip6, ip6 + IP6_HDR, icmp_len, PROTO_ICMPV6));
}

int
ap_icmp6_echo_to_reply(uint8_t *ip6, size_t len, const uint8_t *src_override)
{
	uint8_t src[16];
	uint32_t plen;
	uint8_t *icmp = ip6 + IP6_HDR;

	if (len < IP6_HDR || ip6[0] >> 4 != 6)
		return -EINVAL;
	plen = rd16(ip6 + 4);
	if (plen < ICMP_HDR || IP6_HDR + plen > len)
		return -EINVAL;
	switch (ip6[6]) {
	case PROTO_ICMPV6:
		break;
	case PROTO_HOPOPTS:
	case PROTO_ROUTING:
	case PROTO_FRAGMENT:
	case PROTO_DSTOPTS:
	case PROTO_AH:
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
	if (icmp[0] != ICMP6_ECHO_REQUEST || icmp[1] != 0)
		return -EINVAL;
	if (ap_l4_csum_ip6(ip6, icmp, plen, PROTO_ICMPV6) != 0)
		return -EINVAL;
	if (ip6_is_unspec(ip6 + 8) || ip6_is_mcast(ip6 + 8))
		return -EPERM;
	/* RFC 4443 section 4.2: a reply to a group comes from one of our unicast addresses. */
	if (ip6_is_mcast(ip6 + 24) && src_override == NULL)
		return -EINVAL;
	if (src_override && (ip6_is_unspec(src_override) || ip6_is_mcast(src_override)))
		return -EINVAL;

	memcpy(src, ip6 + 8, 16);
	memmove(ip6 + 8, src_override ? src_override : ip6 + 24, 16);
	memcpy(ip6 + 24, src, 16);
	ip6[7] = DEFAULT_TTL;
	icmp[0] = ICMP6_ECHO_REPLY;
	icmp6_fill_csum(ip6, plen);
	return 0;
}

bool
ap_icmp6_error_allowed(const uint8_t *orig_ip6, size_t len, uint8_t type, uint8_t code)
{
	int plen = ip6_pkt_len(orig_ip6, len);
	long off;
	uint8_t nh;

	if (plen < 0)
		return false;
	/* RFC 4443 section 2.4 (e.6): the source must name one node. */
	if (ip6_is_unspec(orig_ip6 + 8) || ip6_is_mcast(orig_ip6 + 8))
		return false;
	/* (e.3): not about packets to a group, but for PMTU discovery and code 2. */
	if (ip6_is_mcast(orig_ip6 + 24) && type != AP_ICMP6_PKT_TOO_BIG &&
	    !(type == AP_ICMP6_PARAM_PROB && code == 2))
		return false;
	/* (e.1), (e.2): not about an ICMPv6 error or a Redirect. */
	off = ip6_upper(orig_ip6, (size_t)plen, &nh);
	if (off >= 0 && nh == PROTO_ICMPV6) {
		if (off >= plen)
			return false;
		return orig_ip6[off] >= ICMP6_ECHO_REQUEST && orig_ip6[off] != ICMP6_REDIRECT;
	}
	return true;
}

int
ap_build_icmp6_error(uint8_t *out, size_t cap, const uint8_t src[16], const uint8_t *orig_ip6,
		     size_t orig_len, uint8_t type, uint8_t code, uint32_t info)
{
	struct ap_wire_w w;
	uint32_t quote, need;
	int plen;

	if (type < AP_ICMP6_DEST_UNREACH || type > AP_ICMP6_PARAM_PROB)
		return -EINVAL;
	if (ip6_is_unspec(src) || ip6_is_mcast(src))
		return -EINVAL;
	if (type == AP_ICMP6_PKT_TOO_BIG && ntohl(info) < IP6_MIN_MTU)
		return -EINVAL;
	plen = ip6_pkt_len(orig_ip6, orig_len);
	if (plen < 0)
		return plen;
	if (!ap_icmp6_error_allowed(orig_ip6, orig_len, type, code))
		return -EPERM;

	quote = (uint32_t)plen;
	if (quote > AP_ICMP6_ERR_MAX - IP6_HDR - ICMP_HDR)
		quote = AP_ICMP6_ERR_MAX - IP6_HDR - ICMP_HDR;
	need = IP6_HDR + ICMP_HDR + quote;
	if (cap < need)
		return -ENOSPC;

	ap_wire_w_init(&w, out, cap32(cap));
	put_ip6(&w, (uint16_t)(ICMP_HDR + quote), DEFAULT_TTL, src, orig_ip6 + 8);
	ap_wire_put_u8(&w, type);
	ap_wire_put_u8(&w, code);
	ap_wire_put_u16(&w, 0);
	ap_wire_put_bytes(&w, &info, 4);
	ap_wire_put_bytes(&w, orig_ip6, quote);
	icmp6_fill_csum(out, ICMP_HDR + quote);
	return (int)ap_wire_w_used(&w);
}

/* ----------------------------------------------------- Neighbor Discovery */

static void
put_lla_opt(struct ap_wire_w *w, uint8_t type, const uint8_t *mac)
{
	ap_wire_put_u8(w, type);
	ap_wire_put_u8(w, 1); /* 8 bytes on Ethernet (RFC 4861 section 4.6.1) */
	ap_wire_put_bytes(w, mac, 6);
}

/*
 * Whole-frame form of an ND builder: the L3 message goes 14 bytes in, then
 * the Ethernet header in front once it is known to fit. A capacity below 14
 * hands the L3 builder no room, so it still validates, then says -ENOSPC.
 */
static int
frame_around(uint8_t *out, size_t cap, int l3_len, const uint8_t *dst_mac, const uint8_t *src_mac)
{
	if (l3_len < 0)
		return l3_len;
	ap_build_eth(out, cap, dst_mac, src_mac, htons(ETHERTYPE_IPV6));
	return AP_ETH_HDR_LEN + l3_len;
}

static inline uint8_t *
l3_start(uint8_t *out, size_t cap)
{
	return cap < AP_ETH_HDR_LEN ? NULL : out + AP_ETH_HDR_LEN;
}

static inline size_t
l3_cap(size_t cap)
{
	return cap < AP_ETH_HDR_LEN ? 0 : cap - AP_ETH_HDR_LEN;
}

int
ap_build_nd_ns_l3(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t src_ip6[16],
		  const uint8_t target_ip6[16], bool dad)
{
	struct ap_wire_w w;
	uint8_t dst[16];
	uint32_t icmp_len = ND_NS_NA_LEN + (dad ? 0 : ND_LLA_OPT);

	if (ip6_is_mcast(target_ip6))
		return -EINVAL;
	if (!dad && (ip6_is_unspec(src_ip6) || ip6_is_mcast(src_ip6)))
		return -EINVAL;
	if (cap < IP6_HDR + icmp_len)
		return -ENOSPC;

	ap_ip6_solicited_node(target_ip6, dst);
	ap_wire_w_init(&w, out, cap32(cap));
	put_ip6(&w, (uint16_t)icmp_len, ND_HOP_LIMIT, dad ? ip6_unspec : src_ip6, dst);
	ap_wire_put_u8(&w, AP_ND_NS);
	ap_wire_put_u8(&w, 0);
	ap_wire_put_u16(&w, 0);
	ap_wire_put_u32(&w, 0); /* reserved */
	ap_wire_put_bytes(&w, target_ip6, 16);
	/* RFC 4861 section 4.3: no source link-layer option from the unspecified address. */
	if (!dad)
		put_lla_opt(&w, ND_OPT_SLLA, src_mac);
	icmp6_fill_csum(out, icmp_len);
	return (int)ap_wire_w_used(&w);
}

int
ap_build_nd_ns(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t src_ip6[16],
	       const uint8_t target_ip6[16], bool dad)
{
	uint8_t group[16], dst_mac[6];
	int n = ap_build_nd_ns_l3(l3_start(out, cap), l3_cap(cap), src_mac, src_ip6, target_ip6,
				  dad);

	ap_ip6_solicited_node(target_ip6, group);
	ap_ip6_mcast_mac(group, dst_mac);
	return frame_around(out, cap, n, dst_mac, src_mac);
}

int
ap_build_nd_na_l3(uint8_t *out, size_t cap, const uint8_t src_ip6[16], const uint8_t dst_ip6[16],
		  const uint8_t target_ip6[16], uint8_t flags, const uint8_t *tlla_mac)
{
	struct ap_wire_w w;
	uint32_t icmp_len = ND_NS_NA_LEN + (tlla_mac ? ND_LLA_OPT : 0);

	if (flags & ~(AP_ND_NA_ROUTER | AP_ND_NA_SOLICITED | AP_ND_NA_OVERRIDE))
		return -EINVAL;
	if (ip6_is_mcast(target_ip6) || ip6_is_unspec(src_ip6) || ip6_is_mcast(src_ip6) ||
	    ip6_is_unspec(dst_ip6))
		return -EINVAL;
	/* RFC 4861 section 4.4: never Solicited towards a group. */
	if (ip6_is_mcast(dst_ip6) && (flags & AP_ND_NA_SOLICITED))
		return -EINVAL;
	if (cap < IP6_HDR + icmp_len)
		return -ENOSPC;

	ap_wire_w_init(&w, out, cap32(cap));
	put_ip6(&w, (uint16_t)icmp_len, ND_HOP_LIMIT, src_ip6, dst_ip6);
	ap_wire_put_u8(&w, AP_ND_NA);
	ap_wire_put_u8(&w, 0);
	ap_wire_put_u16(&w, 0);
	ap_wire_put_u8(&w, flags);
	ap_wire_put_zero(&w, 3);
	ap_wire_put_bytes(&w, target_ip6, 16);
	if (tlla_mac)
		put_lla_opt(&w, ND_OPT_TLLA, tlla_mac);
	icmp6_fill_csum(out, icmp_len);
	return (int)ap_wire_w_used(&w);
}

int
ap_build_nd_na(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t *dst_mac,
	       const uint8_t src_ip6[16], const uint8_t dst_ip6[16], const uint8_t target_ip6[16],
	       uint8_t flags, const uint8_t *tlla_mac)
{
	uint8_t group_mac[6];
	int n;

	if (dst_mac == NULL) {
		if (!ip6_is_mcast(dst_ip6))
			return -EINVAL;
		ap_ip6_mcast_mac(dst_ip6, group_mac);
		dst_mac = group_mac;
	}
	n = ap_build_nd_na_l3(l3_start(out, cap), l3_cap(cap), src_ip6, dst_ip6, target_ip6, flags,
			      tlla_mac);
	return frame_around(out, cap, n, dst_mac, src_mac);
}

static void
put_prefix_opt(struct ap_wire_w *w, const struct ap_nd_prefix *p)
{
	uint8_t pfx[16] = {0};
	unsigned full = p->len / 8u, rest = p->len % 8u;

	/* Section 4.6.2: bits past the prefix length are zero on the wire. */
	memcpy(pfx, p->prefix, full);
	if (rest)
		pfx[full] = p->prefix[full] & (uint8_t)(0xff << (8 - rest));
	ap_wire_put_u8(w, ND_OPT_PREFIX);
	ap_wire_put_u8(w, 4);
	ap_wire_put_u8(w, p->len);
	ap_wire_put_u8(w, p->flags);
	ap_wire_put_bytes(w, &p->valid, 4);
	ap_wire_put_bytes(w, &p->preferred, 4);
	ap_wire_put_u32(w, 0); /* reserved */
	ap_wire_put_bytes(w, pfx, 16);
}

int
ap_build_nd_ra_l3(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t src_ip6[16],
		  const uint8_t *dst_ip6, const struct ap_nd_ra *ra)
{
	struct ap_wire_w w;
	size_t i, icmp_len;

	/* RFC 4861 section 6.1.2: hosts drop an RA whose source is not link-local. */
	if (!ip6_is_link_local(src_ip6))
		return -EINVAL;
	if (dst_ip6 == NULL)
		dst_ip6 = ip6_all_nodes;
	if (ip6_is_unspec(dst_ip6) || (ra->flags & ~0xc0))
		return -EINVAL;
	if (ra->n_prefixes > (UINT16_MAX - ND_RA_LEN - ND_LLA_OPT - ND_MTU_OPT) / ND_PFX_OPT)
		return -EINVAL;
	if (ra->n_prefixes && ra->prefixes == NULL)
		return -EINVAL;
	for (i = 0; i < ra->n_prefixes; i++) {
		const struct ap_nd_prefix *p = &ra->prefixes[i];

		if (p->len > 128 || (p->flags & ~(AP_ND_PREFIX_ONLINK | AP_ND_PREFIX_AUTO)))
			return -EINVAL;
		/* RFC 4862 section 5.5.3 c: hosts ignore such a prefix. */
		if (ntohl(p->preferred) > ntohl(p->valid))
			return -EINVAL;
	}
	icmp_len =
		ND_RA_LEN + ND_LLA_OPT + (ra->mtu ? ND_MTU_OPT : 0) + ra->n_prefixes * ND_PFX_OPT;
	if (cap < IP6_HDR + icmp_len)
		return -ENOSPC;

	ap_wire_w_init(&w, out, cap32(cap));
	put_ip6(&w, (uint16_t)icmp_len, ND_HOP_LIMIT, src_ip6, dst_ip6);
	ap_wire_put_u8(&w, AP_ND_RA);
	ap_wire_put_u8(&w, 0);
	ap_wire_put_u16(&w, 0);
	ap_wire_put_u8(&w, ra->cur_hop_limit);
	ap_wire_put_u8(&w, ra->flags);
	ap_wire_put_bytes(&w, &ra->router_lifetime, 2);
	ap_wire_put_bytes(&w, &ra->reachable, 4);
	ap_wire_put_bytes(&w, &ra->retrans, 4);
	put_lla_opt(&w, ND_OPT_SLLA, src_mac);
	if (ra->mtu) {
		ap_wire_put_u8(&w, ND_OPT_MTU);
		ap_wire_put_u8(&w, 1);
		ap_wire_put_u16(&w, 0);
		ap_wire_put_bytes(&w, &ra->mtu, 4);
	}
	for (i = 0; i < ra->n_prefixes; i++)
		put_prefix_opt(&w, &ra->prefixes[i]);
	icmp6_fill_csum(out, (uint32_t)icmp_len);
	return (int)ap_wire_w_used(&w);
}

int
ap_build_nd_ra(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t *dst_mac,
	       const uint8_t src_ip6[16], const uint8_t *dst_ip6, const struct ap_nd_ra *ra)
{
	uint8_t group_mac[6];
	int n;

	if (dst_mac == NULL) {
		if (dst_ip6 && !ip6_is_mcast(dst_ip6))
			return -EINVAL;
		ap_ip6_mcast_mac(dst_ip6 ? dst_ip6 : ip6_all_nodes, group_mac);
		dst_mac = group_mac;
	}
	n = ap_build_nd_ra_l3(l3_start(out, cap), l3_cap(cap), src_mac, src_ip6, dst_ip6, ra);
	return frame_around(out, cap, n, dst_mac, src_mac);
}

/* RFC 4861 section 4.6: walk the options; each has a length in 8-byte units. */
static int
nd_parse_opts(struct ap_wire *o, struct ap_nd_msg *m)
{
	while (ap_wire_avail(o)) {
		uint8_t type, olen;
		const uint8_t *body;

		if (ap_wire_avail(o) < 2)
			return -EINVAL;
		type = ap_wire_u8(o);
		olen = ap_wire_u8(o);
		/* Sections 6.1.1, 6.1.2, 7.1.1, 7.1.2: a zero length is invalid. */
		if (olen == 0)
			return -EINVAL;
		body = ap_wire_ptr(o, olen * 8u - 2);
		if (body == NULL)
			return -EINVAL;
		switch (type) {
		case ND_OPT_SLLA:
		case ND_OPT_TLLA:
			if (olen != 1)
				return -EINVAL;
			/* A repeated option is ignored: the first one wins. */
			if (type == ND_OPT_SLLA && !m->has_slla) {
				memcpy(m->slla, body, 6);
				m->has_slla = true;
			} else if (type == ND_OPT_TLLA && !m->has_tlla) {
				memcpy(m->tlla, body, 6);
				m->has_tlla = true;
			}
			break;
		case ND_OPT_MTU:
			if (olen != 1)
				return -EINVAL;
			if (m->type == AP_ND_RA && m->mtu == 0)
				memcpy(&m->mtu, body + 2, 4);
			break;
		default:
			/* Unknown options are skipped (section 4.6). */
			break;
		}
	}
	return 0;
}

static int
nd_check(const uint8_t *icmp6, uint32_t len, const uint8_t *src, const uint8_t *dst,
	 struct ap_nd_msg *m)
{
	/* RFC 8200 section 8.1 pseudo-header: length, three zero bytes, next header. */
	const uint8_t ph[8] = {(uint8_t)(len >> 24),
			       (uint8_t)(len >> 16),
			       (uint8_t)(len >> 8),
			       (uint8_t)len,
			       0,
			       0,
			       0,
			       PROTO_ICMPV6};
	uint32_t hdr_len, s;
	struct ap_wire o;
	int rc;

	switch (m->type) {
	case AP_ND_RS:
		hdr_len = ND_RS_LEN;
		break;
	case AP_ND_RA:
		hdr_len = ND_RA_LEN;
		break;
	default:
		hdr_len = ND_NS_NA_LEN;
		break;
	}
	if (len < hdr_len)
		return -EINVAL;
	s = ap_csum_partial(src, 16, 0);
	s = ap_csum_partial(dst, 16, s);
	s = ap_csum_partial(ph, sizeof(ph), s);
	if (ap_csum_partial(icmp6, len, s) != 0xffff)
		return -EINVAL;
	if (ip6_is_mcast(src))
		return -EINVAL;

	switch (m->type) {
	case AP_ND_RA:
		if (!ip6_is_link_local(src))
			return -EINVAL;
		m->cur_hop_limit = icmp6[4];
		m->flags = icmp6[5];
		memcpy(&m->router_lifetime, icmp6 + 6, 2);
		memcpy(&m->reachable, icmp6 + 8, 4);
		memcpy(&m->retrans, icmp6 + 12, 4);
		break;
	case AP_ND_NS:
	case AP_ND_NA:
		memcpy(m->target, icmp6 + 8, 16);
		if (ip6_is_mcast(m->target))
			return -EINVAL;
		if (m->type == AP_ND_NA) {
			m->flags = icmp6[4] &
				   (AP_ND_NA_ROUTER | AP_ND_NA_SOLICITED | AP_ND_NA_OVERRIDE);
			/* Section 7.1.2: an NA comes from an address; to a group, not Solicited. */
			if (ip6_is_unspec(src))
				return -EINVAL;
			if (ip6_is_mcast(dst) && (m->flags & AP_ND_NA_SOLICITED))
				return -EINVAL;
		}
		break;
	default:
		break;
	}

	ap_wire_init(&o, icmp6 + hdr_len, len - hdr_len);
	rc = nd_parse_opts(&o, m);
	if (rc < 0)
		return rc;
	/* Sections 6.1.1, 7.1.1: from :: no source link-layer option, and a DAD NS
	 * goes to a solicited-node group. */
	if (ip6_is_unspec(src)) {
		if (m->has_slla)
			return -EINVAL;
		if (m->type == AP_ND_NS && !ip6_is_solicited_node(dst))
			return -EINVAL;
	}
	return 0;
}

int
ap_parse_nd(const uint8_t *icmp6, size_t len, const uint8_t ip6_src[16], const uint8_t ip6_dst[16],
	    uint8_t hop_limit, struct ap_nd_msg *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 4 || len > UINT16_MAX)
		return -EINVAL;
	if (icmp6[0] < AP_ND_RS || icmp6[0] > AP_ND_NA)
		return -ENOMSG;
	if (hop_limit != ND_HOP_LIMIT || icmp6[1] != 0)
		return -EINVAL;
	out->type = icmp6[0];
	rc = nd_check(icmp6, (uint32_t)len, ip6_src, ip6_dst, out);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	return 0;
}
