/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packet header parsing: Ethernet, 802.1Q/QinQ, ARP, IPv4, IPv6 (extension
 * header walk), ICMPv4/v6, TCP, UDP, and the Internet checksum.
 *
 * Pure functions over (bytes, len): no DPDK, no allocation. Every read goes
 * through the bounded wire cursor (lib/wire.h), so a malformed frame yields an
 * ap_pkt_err and never a read past @p len.
 */
#ifndef AP_PKT_H
#define AP_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/**
 * Parse errors; each doubles as a data-plane drop reason.
 * X(ENUM, "reason-name", "human description")
 */
#define AP_PKT_ERRORS(X)                                                                           \
	X(ETH_RUNT, "eth-runt", "frame shorter than an Ethernet header")                           \
	X(VLAN_TRUNC, "vlan-truncated", "truncated 802.1Q/802.1ad tag")                            \
	X(VLAN_DEPTH, "vlan-too-many-tags", "more than two VLAN tags")                             \
	X(ARP_TRUNC, "arp-truncated", "truncated ARP packet")                                      \
	X(ARP_BAD, "arp-bad-header", "ARP hardware/protocol type or length not Ethernet/IPv4")     \
	X(IP4_TRUNC, "ip4-truncated", "truncated IPv4 header")                                     \
	X(IP4_VERSION, "ip4-bad-version", "IPv4 version field is not 4")                           \
	X(IP4_IHL, "ip4-bad-ihl", "IPv4 header length below 20 bytes")                             \
	X(IP4_LEN, "ip4-bad-length", "IPv4 total length inconsistent with the frame")              \
	X(IP4_CSUM, "ip4-bad-checksum", "IPv4 header checksum mismatch")                           \
	X(IP4_OPT, "ip4-bad-option", "malformed IPv4 option")                                      \
	X(IP4_FRAG, "ip4-bad-fragment", "IPv4 fragment extends beyond 65535 bytes")                \
	X(IP6_TRUNC, "ip6-truncated", "truncated IPv6 header")                                     \
	X(IP6_VERSION, "ip6-bad-version", "IPv6 version field is not 6")                           \
	X(IP6_LEN, "ip6-bad-length", "IPv6 payload length inconsistent with the frame")            \
	X(IP6_EXT, "ip6-bad-ext-header", "truncated or malformed IPv6 extension header")           \
	X(IP6_EXT_CHAIN, "ip6-ext-chain-too-long", "too many IPv6 extension headers")              \
	X(ICMP4_TRUNC, "icmp4-truncated", "truncated ICMP header")                                 \
	X(ICMP6_TRUNC, "icmp6-truncated", "truncated ICMPv6 header")                               \
	X(TCP_TRUNC, "tcp-truncated", "truncated TCP header")                                      \
	X(TCP_DOFF, "tcp-bad-offset", "TCP data offset below 5 or beyond the segment")             \
	X(TCP_OPT, "tcp-bad-option", "malformed TCP option")                                       \
	X(UDP_TRUNC, "udp-truncated", "truncated UDP header")                                      \
	X(UDP_LEN, "udp-bad-length", "UDP length inconsistent with the IP payload")

/* The X-macro expansion confuses clang-format's indentation. */
/* clang-format off */
enum ap_pkt_err {
	AP_PKT_OK = 0,
#define AP_PKT_ERR_ENUM(e, name, desc) AP_PKT_ERR_##e,
	AP_PKT_ERRORS(AP_PKT_ERR_ENUM)
#undef AP_PKT_ERR_ENUM
	AP_PKT_ERR_COUNT
};
/* clang-format on */

/** Short kebab-case name ("eth-runt"), stable: used in counters and JSON. */
const char *ap_pkt_err_name(enum ap_pkt_err e);
/** One-line human description. */
const char *ap_pkt_err_desc(enum ap_pkt_err e);

enum ap_l3 {
	AP_L3_NONE = 0, /**< Unknown or unparsed ethertype. */
	AP_L3_ARP,
	AP_L3_IPV4,
	AP_L3_IPV6,
};

/** Parse depth/behaviour flags for ap_pkt_parse(). */
enum {
	AP_PARSE_L2 = 0,       /**< Ethernet and VLAN tags only. */
	AP_PARSE_L3 = 1u << 0, /**< Also the network header (ARP, IPv4 + options, IPv6 + ext). */
	AP_PARSE_L4 = 1u << 1, /**< Also TCP/UDP/ICMP (implies L3). */
	AP_PARSE_IP4_CSUM = 1u << 2, /**< Verify the IPv4 header checksum (with L3 or L4). */
};

#define AP_PKT_FRAG_FIRST 0x1 /**< IPv4/IPv6 fragment with offset 0. */
#define AP_PKT_FRAG_LATER 0x2 /**< Non-first fragment: no L4 header present. */

/**
 * What the parser learnt about a frame; fits in the mbuf private area.
 * Offsets are from the start of the frame. A field past the parse depth is 0.
 */
struct ap_pkt_info {
	uint16_t l3_off;    /**< Start of the network header (after tags). */
	uint16_t l4_off;    /**< Start of the transport header (after IP options/ext). */
	uint16_t l4_len;    /**< Transport header + payload bytes per the IP length. */
	uint16_t ethertype; /**< Innermost ethertype, host order. */
	uint16_t vlan[2];   /**< TCI of outer [0] and inner [1] tag, host order. */
	uint16_t l4_sport;  /**< TCP/UDP ports host order; ICMP: type<<8|code, id. */
	uint16_t l4_dport;
	uint8_t n_vlan;	  /**< 0, 1 or 2 tags. */
	uint8_t l3;	  /**< enum ap_l3. */
	uint8_t l4_proto; /**< IP protocol / IPv6 upper-layer next header. */
	uint8_t frag;	  /**< AP_PKT_FRAG_* flags. */
	uint8_t ip_ttl;	  /**< TTL / hop limit. */
	uint8_t tcp_flags;
};

/**
 * Parse the Ethernet header and up to two VLAN tags (0x8100, 0x88a8, 0x9100).
 * Fast path: inline, no cursor state beyond two lengths.
 */
static inline enum ap_pkt_err
ap_pkt_parse_l2(const uint8_t *p, uint32_t len, struct ap_pkt_info *pi)
{
	uint32_t off = 14;
	uint16_t et;

	pi->n_vlan = 0;
	pi->l3 = AP_L3_NONE;
	if (len < 14)
		return AP_PKT_ERR_ETH_RUNT;
	et = (uint16_t)(p[12] << 8 | p[13]);
	while (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
		if (pi->n_vlan == 2)
			return AP_PKT_ERR_VLAN_DEPTH;
		if (len < off + 4)
			return AP_PKT_ERR_VLAN_TRUNC;
		pi->vlan[pi->n_vlan++] = (uint16_t)(p[off] << 8 | p[off + 1]);
		et = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	pi->ethertype = et;
	pi->l3_off = (uint16_t)off;
	if (et == 0x0800)
		pi->l3 = AP_L3_IPV4;
	else if (et == 0x86dd)
		pi->l3 = AP_L3_IPV6;
	else if (et == 0x0806)
		pi->l3 = AP_L3_ARP;
	return AP_PKT_OK;
}

/**
 * Parse a frame as deep as @p flags ask. @p pi is fully written (zeroed first).
 * @return AP_PKT_OK or the first error met; fields parsed before it stay valid.
 */
enum ap_pkt_err ap_pkt_parse(const uint8_t *p, uint32_t len, unsigned flags,
			     struct ap_pkt_info *pi);

/**
 * ap_pkt_parse() to L3 (@p flags without AP_PARSE_L4) that leaves the
 * transport fields (ports, TCP flags) as they were, as the fast parses below
 * do: what an earlier stage read from the transport header (conntrack, for
 * the firewall) outlives a second look at the IP header and its options or
 * extension headers.
 */
static inline enum ap_pkt_err
ap_pkt_parse_l3_keep(const uint8_t *p, uint32_t len, unsigned flags, struct ap_pkt_info *pi)
{
	const uint16_t sport = pi->l4_sport, dport = pi->l4_dport;
	const uint8_t tcp_flags = pi->tcp_flags;
	enum ap_pkt_err e = ap_pkt_parse(p, len, flags, pi);

	pi->l4_sport = sport;
	pi->l4_dport = dport;
	pi->tcp_flags = tcp_flags;
	return e;
}

/**
 * ap_pkt_parse(p, len, AP_PARSE_L3 | AP_PARSE_IP4_CSUM, pi) for a frame
 * whose L2 part @p pi already holds (ap_pkt_parse_l2): the common IPv4
 * header (20 bytes, no options) is checked inline; anything else takes the
 * full parse, which gives the same answer and the precise error. The
 * transport fields (ports, TCP flags) are left as they were.
 */
static inline enum ap_pkt_err
ap_pkt_parse_ip4_fast(const uint8_t *p, uint32_t len, struct ap_pkt_info *pi)
{
	const uint32_t l3_off = pi->l3_off;
	const uint8_t *h = p + l3_off;
	uint32_t w0, w1, w2, w3, w4, tot, foff;
	uint16_t frag;

	if (pi->l3 != AP_L3_IPV4 || len < l3_off + 20u || h[0] != 0x45)
		return ap_pkt_parse_l3_keep(p, len, AP_PARSE_L3 | AP_PARSE_IP4_CSUM, pi);
	tot = (uint32_t)h[2] << 8 | h[3];
	frag = (uint16_t)(h[6] << 8 | h[7]);
	foff = (frag & 0x1fffu) * 8;
	if (tot < 20 || tot > len - l3_off || foff + tot - 20 > 65535)
		return ap_pkt_parse_l3_keep(p, len, AP_PARSE_L3 | AP_PARSE_IP4_CSUM, pi);
	/* Read in place: a copy to the stack would be read back at once. */
	memcpy(&w0, h, 4);
	memcpy(&w1, h + 4, 4);
	memcpy(&w2, h + 8, 4);
	memcpy(&w3, h + 12, 4);
	memcpy(&w4, h + 16, 4);
	/* The one's-complement sum of a right header is 0xffff: the plain sum
	 * of its words is a multiple of 0xffff (and not 0: version 4). */
	if (((uint64_t)w0 + w1 + w2 + w3 + w4) % 0xffff != 0)
		return ap_pkt_parse_l3_keep(p, len, AP_PARSE_L3 | AP_PARSE_IP4_CSUM, pi);
	pi->ip_ttl = h[8];
	pi->l4_proto = h[9];
	pi->l4_off = (uint16_t)(l3_off + 20);
	pi->l4_len = (uint16_t)(tot - 20);
	pi->frag = (frag & 0x3fff) ? (foff ? AP_PKT_FRAG_LATER : AP_PKT_FRAG_FIRST) : 0;
	return AP_PKT_OK;
}

/**
 * ap_pkt_parse(p, len, AP_PARSE_L3, pi) for a frame whose L2 part @p pi
 * already holds: an IPv6 header followed directly by TCP, UDP or ICMPv6 is
 * checked inline; extension headers take the full parse. The transport
 * fields are left as they were.
 */
static inline enum ap_pkt_err
ap_pkt_parse_ip6_fast(const uint8_t *p, uint32_t len, struct ap_pkt_info *pi)
{
	const uint8_t *h = p + pi->l3_off;
	uint32_t plen;

	if (pi->l3 != AP_L3_IPV6 || len < pi->l3_off + 40u || (h[0] >> 4) != 6 ||
	    (h[6] != 6 && h[6] != 17 && h[6] != 58))
		return ap_pkt_parse_l3_keep(p, len, AP_PARSE_L3, pi);
	plen = (uint32_t)h[4] << 8 | h[5];
	if (plen == 0 || plen > len - pi->l3_off - 40)
		return ap_pkt_parse_l3_keep(p, len, AP_PARSE_L3, pi);
	pi->ip_ttl = h[7];
	pi->l4_proto = h[6];
	pi->l4_off = (uint16_t)(pi->l3_off + 40);
	pi->l4_len = (uint16_t)plen;
	pi->frag = 0;
	return AP_PKT_OK;
}

/* Checksums (RFC 1071, RFC 1624). Values in network byte order as on the wire. */

/**
 * One's-complement sum of @p len bytes folded to 16 bits, not inverted.
 * @p sum is a previous result (or 0) to continue from: chaining is exact when
 * every earlier piece had an even length. Any alignment of @p buf works.
 */
uint16_t ap_csum_partial(const void *buf, uint32_t len, uint32_t sum);
/** The Internet checksum of @p buf (inverted sum), as stored in a header. */
uint16_t ap_csum(const void *buf, uint32_t len);
/** IPv4 header checksum over @p ihl_bytes; 0 when the stored one is right. */
uint16_t ap_ip4_hdr_csum_verify(const void *hdr, uint32_t ihl_bytes);
/**
 * TCP/UDP/ICMPv6 checksum with the IPv4 or IPv6 pseudo-header (addresses read
 * from @p ip4hdr / @p ip6hdr, length @p l4_len, protocol @p proto). With the
 * checksum field zeroed this is the value to store (UDP sends 0 as 0xffff,
 * RFC 768); over a received segment it is 0 when the stored one is right.
 */
uint16_t ap_l4_csum_ip4(const void *ip4hdr, const void *l4, uint32_t l4_len, uint8_t proto);
uint16_t ap_l4_csum_ip6(const void *ip6hdr, const void *l4, uint32_t l4_len, uint8_t proto);

/**
 * RFC 1624 eqn. 3 incremental update: new checksum after a 16-bit field
 * changes from @p old_v to @p new_v (all network order).
 */
static inline uint16_t
ap_csum_update16(uint16_t csum, uint16_t old_v, uint16_t new_v)
{
	uint32_t s = (uint16_t)~csum + (uint16_t)~old_v + (uint32_t)new_v;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/** Same as ap_csum_update16() for a 32-bit field (e.g. an IPv4 address). */
static inline uint16_t
ap_csum_update32(uint16_t csum, uint32_t old_v, uint32_t new_v)
{
	csum = ap_csum_update16(csum, (uint16_t)(old_v >> 16), (uint16_t)(new_v >> 16));
	return ap_csum_update16(csum, (uint16_t)old_v, (uint16_t)new_v);
}

/** The big-endian 32-bit word at @p p (a sequence number, a timestamp). */
static inline uint32_t
ap_rd32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/**
 * The next option of the TCP header at @p tcp (@p hlen bytes) from offset
 * @p *i, NOPs skipped: its kind at tcp[*i], its length in @p *len.
 * @return false at the end of the list or at an option that does not fit.
 */
static inline bool
ap_tcp_opt_next(const uint8_t *tcp, uint32_t hlen, uint32_t *i, uint8_t *len)
{
	while (*i < hlen && tcp[*i] == 1) /* NOP */
		(*i)++;
	if (*i >= hlen || tcp[*i] == 0 || *i + 1 >= hlen)
		return false;
	*len = tcp[*i + 1];
	return *len >= 2 && *i + *len <= hlen;
}

#endif
