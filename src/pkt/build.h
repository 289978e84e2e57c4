/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Builders for the router's control messages: Ethernet, ARP, ICMPv4 and
 * ICMPv6 echo replies and errors, and IPv6 Neighbor Discovery; plus the
 * parsers for the ARP and ND messages a router receives.
 *
 * Pure functions: no DPDK, no allocation, no clock. A builder writes into a
 * caller-provided buffer and returns the number of bytes written, or a
 * negative errno: -ENOSPC when @c cap is too small (nothing is written then),
 * -EINVAL for bad input, -EPERM when a standard forbids the message. Nothing
 * is ever written at or past @c out + @c cap. Checksums are filled in.
 *
 * Functions named *_l3 start at the IP header, so the caller can put the
 * Ethernet header (and VLAN tags) in front itself; the others build a whole
 * Ethernet frame (no FCS).
 *
 * Byte order: every uint16_t and uint32_t argument or struct field holds the
 * bytes of the header field it stands for, that is network byte order (IPv4
 * addresses, ethertypes, the ARP opcode, the ICMP info word, ND lifetimes
 * and timers). Single bytes (types, codes, flags, hop limits) have no order.
 * MAC addresses are 6-byte arrays and IPv6 addresses 16-byte arrays.
 */
#ifndef AP_PKT_BUILD_H
#define AP_PKT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AP_ETH_HDR_LEN	 14 /**< Ethernet header without tags. */
#define AP_ETH_MIN_FRAME 60 /**< Shortest Ethernet frame without FCS. */

/** ARP opcodes (RFC 826), host order: pass htons(AP_ARP_OP_*) to the builder. */
#define AP_ARP_OP_REQUEST 1
#define AP_ARP_OP_REPLY	  2

/** Longest ICMPv4 error built (RFC 1812 section 4.3.2.3). */
#define AP_ICMP4_ERR_MAX 576
/** Longest ICMPv6 error built: the IPv6 minimum MTU (RFC 4443 section 2.4 c). */
#define AP_ICMP6_ERR_MAX 1280

/** ICMPv4 error types built by ap_build_icmp4_error() (RFC 792). */
#define AP_ICMP4_DEST_UNREACH 3
#define AP_ICMP4_REDIRECT     5
#define AP_ICMP4_TIME_EXCEED  11
#define AP_ICMP4_PARAM_PROB   12
/** Destination unreachable code "fragmentation needed and DF set" (RFC 1191). */
#define AP_ICMP4_FRAG_NEEDED 4

/** ICMPv6 error types built by ap_build_icmp6_error() (RFC 4443 section 3). */
#define AP_ICMP6_DEST_UNREACH 1
#define AP_ICMP6_PKT_TOO_BIG  2
#define AP_ICMP6_TIME_EXCEED  3
#define AP_ICMP6_PARAM_PROB   4

/** Neighbor Discovery message types (RFC 4861 section 4). */
#define AP_ND_RS 133
#define AP_ND_RA 134
#define AP_ND_NS 135
#define AP_ND_NA 136

/** Neighbor Advertisement flags, as the first byte after the checksum. */
#define AP_ND_NA_ROUTER	   0x80
#define AP_ND_NA_SOLICITED 0x40
#define AP_ND_NA_OVERRIDE  0x20

/** Prefix Information flags (RFC 4861 section 4.6.2). */
#define AP_ND_PREFIX_ONLINK 0x80 /**< L: on-link. */
#define AP_ND_PREFIX_AUTO   0x40 /**< A: autonomous address configuration. */

/* ----------------------------------------------------------- addresses */

/** Solicited-node multicast address ff02::1:ffXX:XXXX of @p ip6 (RFC 4291 2.7.1). */
void ap_ip6_solicited_node(const uint8_t ip6[16], uint8_t out[16]);
/** Ethernet multicast MAC 33:33:XX:XX:XX:XX of IPv6 multicast @p ip6 (RFC 2464 section 7). */
void ap_ip6_mcast_mac(const uint8_t ip6[16], uint8_t mac[6]);
/** Link-local fe80::/64 address with the modified EUI-64 of @p mac (RFC 4291 appendix A). */
void ap_ip6_link_local_from_mac(const uint8_t mac[6], uint8_t out[16]);
/**
 * Whether @p ip is 255.255.255.255, multicast (224.0.0.0/4) or equal to
 * @p subnet_bcast (the directed broadcast of the receiving subnet; 0 when
 * there is none). Both in network order.
 */
bool ap_ip4_is_bcast_or_mcast(uint32_t ip, uint32_t subnet_bcast);

/* ------------------------------------------------------- Ethernet, ARP */

/**
 * Ethernet header.
 * @param ethertype network order.
 * @return 14, or -ENOSPC.
 */
int ap_build_eth(uint8_t *out, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		 uint16_t ethertype);

/**
 * ARP request or reply for Ethernet/IPv4 (RFC 826), as a whole frame padded
 * with zeros to 60 bytes. A gratuitous ARP is a request whose @p src_ip
 * equals @p target_ip (RFC 5227 section 3).
 * @param op          htons(AP_ARP_OP_REQUEST) or htons(AP_ARP_OP_REPLY).
 * @param dst_mac_hdr Ethernet destination; NULL means broadcast, which only
 *                    a request may use.
 * @param target_mac  target hardware address; NULL means all zeros (what a
 *                    request carries).
 * @return 60, -ENOSPC, or -EINVAL (other opcode, reply without a destination).
 */
int ap_build_arp(uint8_t *out, size_t cap, uint16_t op, const uint8_t src_mac[6], uint32_t src_ip,
		 const uint8_t *dst_mac_hdr, const uint8_t *target_mac, uint32_t target_ip);

/** An ARP packet as parsed by ap_parse_arp(); integers in network order. */
struct ap_arp_msg {
	uint16_t op;	 /**< htons(1) request or htons(2) reply. */
	uint8_t sha[6];	 /**< Sender hardware address. */
	uint8_t tha[6];	 /**< Target hardware address. */
	uint32_t spa;	 /**< Sender protocol address. */
	uint32_t tpa;	 /**< Target protocol address. */
	bool gratuitous; /**< spa == tpa (RFC 5227 section 3). */
};

/**
 * Parse an ARP packet (from the ARP header on; padding after it is fine).
 * @return 0, or -EINVAL when shorter than 28 bytes, not Ethernet/IPv4, or
 *         the opcode is neither request nor reply.
 */
int ap_parse_arp(const uint8_t *arp, size_t len, struct ap_arp_msg *out);

/* --------------------------------------------------------------- ICMPv4 */

/**
 * Turn the ICMP echo request at @p ip4 (from the IPv4 header; @p len may
 * include link padding) into its echo reply, in place: addresses swapped,
 * TTL 64, type 0; the ICMP checksum is updated incrementally (RFC 1624), so a
 * corrupt request stays corrupt, and the IPv4 header checksum recomputed.
 * @return 0; -EINVAL if it is not a well-formed, unfragmented echo request
 *         with a valid header checksum; -EPERM if its destination is
 *         multicast or broadcast, or its source is not a single host (the
 *         reply cannot be sent from or to it, RFC 1122 section 3.2.2.6);
 *         -EOPNOTSUPP if it carries IP options (RFC 1122 asks to reverse
 *         source routes and extend recorded routes: punt those to the host).
 */
int ap_icmp4_echo_to_reply(uint8_t *ip4, size_t len);

/**
 * Whether an ICMPv4 error may be sent about the datagram at @p orig_ip4
 * (RFC 1812 section 4.3.2.7): false about an ICMP error (or an ICMP message
 * too short to tell), a non-first fragment, a datagram to 255.255.255.255 or
 * a multicast group, or from a source that is not one host (0/8, 127/8,
 * multicast, 240/4). False as well when the header is malformed. A directed
 * broadcast to a subnet is the caller's to check with
 * ap_ip4_is_bcast_or_mcast().
 */
bool ap_icmp4_error_allowed(const uint8_t *orig_ip4, size_t len);

/**
 * ICMPv4 error from the IPv4 header on: IPv4 header (TOS 0xc0, RFC 1812
 * section 4.3.2.5; TTL 64; DF clear; protocol 1; destination the original
 * source), ICMP header, then the original datagram from its IP header, cut
 * so the whole error stays within 576 bytes (RFC 1812 section 4.3.2.3).
 * @param src_ip   source of the error (network order), the address of the
 *                 interface that received the datagram.
 * @param orig_ip4 offending datagram from its IP header; @p orig_len bytes
 *                 are available (the IPv4 total length bounds the quote).
 * @param type     AP_ICMP4_DEST_UNREACH, _REDIRECT, _TIME_EXCEED or _PARAM_PROB.
 * @param info     the 4 bytes after the checksum, network order: the
 *                 next-hop MTU (htonl(mtu), RFC 1191) for
 *                 AP_ICMP4_FRAG_NEEDED, the gateway for a redirect,
 *                 htonl(pointer << 24) for a parameter problem, else 0.
 * @param ip_id    IPv4 identification, from the caller's counter.
 * @return bytes written; -EINVAL (malformed original, unknown type, source
 *         0, frag-needed with an MTU below 68); -EPERM when
 *         ap_icmp4_error_allowed() says no; -ENOSPC.
 */
int ap_build_icmp4_error(uint8_t *out, size_t cap, uint32_t src_ip, const uint8_t *orig_ip4,
			 size_t orig_len, uint8_t type, uint8_t code, uint32_t info,
			 uint16_t ip_id);

/* --------------------------------------------------------------- ICMPv6 */

/**
 * Turn the ICMPv6 echo request at @p ip6 (from the IPv6 header, no
 * extension headers) into its echo reply, in place: addresses swapped, hop
 * limit 64, type 129, checksum recomputed after the old one was verified.
 * @param src_override source of the reply; required when the request went
 *                     to a multicast address (RFC 4443 section 4.2), may
 *                     replace the request's destination otherwise; NULL
 *                     keeps it.
 * @return 0; -EINVAL if it is not a well-formed echo request with a right
 *         checksum, or it went to a multicast address and @p src_override
 *         is NULL; -EPERM if its source is unspecified or multicast;
 *         -EOPNOTSUPP if extension headers precede the ICMPv6 header.
 */
int ap_icmp6_echo_to_reply(uint8_t *ip6, size_t len, const uint8_t *src_override);

/**
 * Whether an ICMPv6 error of @p type / @p code may be sent about the packet
 * at @p orig_ip6 (RFC 4443 section 2.4 e): false about an ICMPv6 error or a
 * Redirect (or an ICMPv6 message too short to tell), a packet from the
 * unspecified or a multicast address, or to a multicast address unless the
 * error is Packet Too Big or Parameter Problem code 2. False as well when
 * the header is malformed.
 */
bool ap_icmp6_error_allowed(const uint8_t *orig_ip6, size_t len, uint8_t type, uint8_t code);

/**
 * ICMPv6 error from the IPv6 header on: IPv6 header (hop limit 64,
 * destination the original source), ICMPv6 header, then as much of the
 * original packet as fits in 1280 bytes (RFC 4443 section 2.4 c).
 * @param src      source of the error (RFC 4443 section 2.2).
 * @param type     AP_ICMP6_DEST_UNREACH, _PKT_TOO_BIG, _TIME_EXCEED or _PARAM_PROB.
 * @param info     the 4 bytes after the checksum, network order: htonl(mtu)
 *                 for Packet Too Big, htonl(pointer) for Parameter Problem,
 *                 else 0.
 * @return bytes written; -EINVAL (malformed original, unknown type,
 *         unspecified or multicast @p src, Packet Too Big with an MTU below
 *         1280); -EPERM when ap_icmp6_error_allowed() says no; -ENOSPC.
 */
int ap_build_icmp6_error(uint8_t *out, size_t cap, const uint8_t src[16], const uint8_t *orig_ip6,
			 size_t orig_len, uint8_t type, uint8_t code, uint32_t info);

/* ----------------------------------------------------- Neighbor Discovery */

/**
 * Neighbor Solicitation to the solicited-node group of @p target_ip6 (RFC
 * 4861 section 4.3), hop limit 255, with the source link-layer address
 * option; for Duplicate Address Detection (@p dad) the source is :: and the
 * option is left out (RFC 4862 section 5.4.2). The _l3 form starts at the
 * IPv6 header; the other is the whole frame to 33:33:ff:XX:XX:XX.
 * @return bytes written (86, or 78 for DAD; 72 or 64 for _l3), -EINVAL
 *         (multicast target; unspecified or multicast source unless DAD),
 *         or -ENOSPC.
 */
int ap_build_nd_ns(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t src_ip6[16],
		   const uint8_t target_ip6[16], bool dad);
int ap_build_nd_ns_l3(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t src_ip6[16],
		      const uint8_t target_ip6[16], bool dad);

/**
 * Neighbor Advertisement (RFC 4861 section 4.4), hop limit 255.
 * @param dst_mac   Ethernet destination; NULL derives it from a multicast
 *                  @p dst_ip6 (not used by the _l3 form).
 * @param flags     AP_ND_NA_* bits.
 * @param tlla_mac  target link-layer address option; NULL leaves it out.
 * @return bytes written; -EINVAL (multicast target, unspecified or
 *         multicast source, unspecified destination, Solicited set towards a
 *         multicast destination (section 7.2.4), no @p dst_mac for a unicast
 *         destination, flag bits outside AP_ND_NA_*); -ENOSPC.
 */
int ap_build_nd_na(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t *dst_mac,
		   const uint8_t src_ip6[16], const uint8_t dst_ip6[16],
		   const uint8_t target_ip6[16], uint8_t flags, const uint8_t *tlla_mac);
int ap_build_nd_na_l3(uint8_t *out, size_t cap, const uint8_t src_ip6[16],
		      const uint8_t dst_ip6[16], const uint8_t target_ip6[16], uint8_t flags,
		      const uint8_t *tlla_mac);

/** One Prefix Information option of a Router Advertisement (RFC 4861 section 4.6.2). */
struct ap_nd_prefix {
	uint8_t prefix[16]; /**< Bits past @c len are sent as zero. */
	uint8_t len;	    /**< Prefix length, 0..128. */
	uint8_t flags;	    /**< AP_ND_PREFIX_* bits. */
	uint32_t valid;	    /**< Valid lifetime, seconds, network order. */
	uint32_t preferred; /**< Preferred lifetime, <= valid, network order. */
};

/** What a Router Advertisement carries besides its options' addresses. */
struct ap_nd_ra {
	uint8_t cur_hop_limit;	  /**< 0: unspecified. */
	uint8_t flags;		  /**< M 0x80, O 0x40 (RFC 4861 section 4.2). */
	uint16_t router_lifetime; /**< Seconds, network order; 0: not a default router. */
	uint32_t reachable;	  /**< Reachable time, ms, network order. */
	uint32_t retrans;	  /**< Retransmission timer, ms, network order. */
	uint32_t mtu;		  /**< MTU option value, network order; 0: no option. */
	const struct ap_nd_prefix *prefixes; /**< Prefix Information options. */
	size_t n_prefixes;
};

/**
 * Router Advertisement (RFC 4861 section 4.2), hop limit 255, with the
 * source link-layer address option, then the MTU option if any, then the
 * prefixes in order.
 * @param dst_mac Ethernet destination; NULL derives it from a multicast
 *                destination (not used by the _l3 form).
 * @param src_ip6 link-local address of the interface (section 6.1.2).
 * @param dst_ip6 NULL for all-nodes ff02::1; a unicast solicitor otherwise.
 * @return bytes written; -EINVAL (source not link-local, prefix length over
 *         128, preferred over valid lifetime, unknown flags, no @p dst_mac
 *         for a unicast destination); -ENOSPC.
 */
int ap_build_nd_ra(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t *dst_mac,
		   const uint8_t src_ip6[16], const uint8_t *dst_ip6, const struct ap_nd_ra *ra);
int ap_build_nd_ra_l3(uint8_t *out, size_t cap, const uint8_t src_mac[6], const uint8_t src_ip6[16],
		      const uint8_t *dst_ip6, const struct ap_nd_ra *ra);

/** A received ND message as parsed by ap_parse_nd(); integers in network order. */
struct ap_nd_msg {
	uint8_t type;	    /**< AP_ND_RS, _RA, _NS or _NA. */
	uint8_t flags;	    /**< NA: AP_ND_NA_* bits; RA: its flags byte (M 0x80, O 0x40, ...). */
	bool has_slla;	    /**< Source link-layer address option seen. */
	bool has_tlla;	    /**< Target link-layer address option seen. */
	uint8_t slla[6];    /**< First source link-layer address option. */
	uint8_t tlla[6];    /**< First target link-layer address option. */
	uint8_t target[16]; /**< NS/NA target address. */
	/* Router Advertisement fields. */
	uint8_t cur_hop_limit;
	uint16_t router_lifetime;
	uint32_t reachable;
	uint32_t retrans;
	uint32_t mtu; /**< MTU option, 0 if absent. */
};

/**
 * Validate and parse a Router Solicitation, Router Advertisement, Neighbor
 * Solicitation or Neighbor Advertisement (RFC 4861 sections 6.1.1, 6.1.2,
 * 7.1.1, 7.1.2): hop limit 255, code 0, right checksum, long enough, every
 * option of non-zero length and within the message, target not multicast;
 * from the unspecified address only an NS to a solicited-node group or an
 * RS, neither with a source link-layer address option; an RA only from a
 * link-local source; an NA to a multicast group never Solicited.
 * Link-layer address options must have length 1 (Ethernet, RFC 4861 section
 * 4.6.1); unknown options are skipped.
 * @param icmp6   the ICMPv6 message, @p len bytes (the IPv6 payload length).
 * @param ip6_src IPv6 source, @p ip6_dst destination (checksum and rules).
 * @return 0; -ENOMSG when not one of those four types; -EINVAL when invalid.
 */
int ap_parse_nd(const uint8_t *icmp6, size_t len, const uint8_t ip6_src[16],
		const uint8_t ip6_dst[16], uint8_t hop_limit, struct ap_nd_msg *out);

#endif
