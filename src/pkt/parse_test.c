/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser tests: one table row per frame, built from hex pieces
 * (Ethernet + tags, network header, transport + payload, padding). Unless a
 * row says otherwise, the builder fills in the IPv4 total length and header
 * checksum or the IPv6 payload length, so rows only spell out what they test.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt.h"

#define L2   AP_PARSE_L2
#define L3   AP_PARSE_L3
#define L4   AP_PARSE_L4
#define CSUM AP_PARSE_IP4_CSUM

#define RAW_LEN	 0x1 /* keep the IP length field as written */
#define RAW_CSUM 0x2 /* keep the IPv4 checksum as written */
#define RAW	 (RAW_LEN | RAW_CSUM)

/* Hex pieces; spaces are ignored. */
#define MACS  "020000000002 020000000001 "
#define E4    MACS "0800"
#define E6    MACS "86dd"
#define EARP  MACS "0806"
#define ADDR4 " c0000201 c6336401"
#define SRC6  " 20010db8000000000000000000000001"
#define DST6  " 20010db8000000000000000000000002"
/* IPv4 without options: flags/fragment word, protocol. */
#define IP4(frag, proto) "4500 0000 abcd " frag " 40" proto " 0000" ADDR4
/* IPv4 with options: IHL nibble, protocol, option bytes. */
#define IP4O(ihl, proto, opts) "4" ihl "00 0000 abcd 0000 40" proto " 0000" ADDR4 " " opts
#define IP6(nh)		       "6000 0000 0000 " nh " 40" SRC6 DST6
/* TCP: sport 54321, dport 80; data-offset byte and flags byte. */
#define TCP(doff, flags) "d431 0050 00000001 00000000 " doff flags " ffff 0000 0000 "
#define UDP(len)	 "3039 0035 " len " 0000 "
#define ARP_BODY(htype, ptype, hlen, plen)                                                         \
	htype ptype hlen plen "0001 020000000001 c0000201 000000000000 c0000202"
#define PAD18 "000000000000000000000000000000000000"

struct prow {
	const char *name;
	const char *l2, *l3, *l4, *pad;
	unsigned flags;
	unsigned raw;
	enum ap_pkt_err err;
	bool fields; /* compare every field of want, not only the error */
	struct ap_pkt_info want;
};

#define OK	  AP_PKT_OK
#define E(x)	  AP_PKT_ERR_##x
#define WANT(...) .fields = true, .want = {__VA_ARGS__}
#define V4	  .l3 = AP_L3_IPV4, .ethertype = 0x0800, .l3_off = 14, .ip_ttl = 64
#define V6	  .l3 = AP_L3_IPV6, .ethertype = 0x86dd, .l3_off = 14, .ip_ttl = 64

static const struct prow rows[] = {
	/* Ethernet and VLAN tags. */
	{"eth-runt", MACS "08", "", "", "", L4, 0, E(ETH_RUNT)},
	{"eth-empty", "", "", "", "", L4, 0, E(ETH_RUNT)},
	{"eth-lldp", MACS "88cc", "0000 0000", "", "", L4, 0, OK,
	 WANT(.ethertype = 0x88cc, .l3_off = 14)},
	{"eth-only-ip4-l2", E4, IP4("0000", "06"), TCP("50", "02"), "", L2, 0, OK,
	 WANT(.l3 = AP_L3_IPV4, .ethertype = 0x0800, .l3_off = 14)},
	{"vlan-ip4-udp", MACS "8100 0064 0800", IP4("0000", "11"), UDP("000c") "deadbeef", "", L4,
	 0, OK,
	 WANT(.l3 = AP_L3_IPV4, .ethertype = 0x0800, .n_vlan = 1, .vlan = {0x0064}, .l3_off = 18,
	      .l4_off = 38, .l4_len = 12, .l4_proto = 17, .ip_ttl = 64, .l4_sport = 12345,
	      .l4_dport = 53)},
	{"qinq-88a8-ip4-tcp", MACS "88a8 a00a 8100 2014 0800", IP4("4000", "06"), TCP("50", "02"),
	 "", L4 | CSUM, 0, OK,
	 WANT(.l3 = AP_L3_IPV4, .ethertype = 0x0800, .n_vlan = 2, .vlan = {0xa00a, 0x2014},
	      .l3_off = 22, .l4_off = 42, .l4_len = 20, .l4_proto = 6, .ip_ttl = 64,
	      .l4_sport = 54321, .l4_dport = 80, .tcp_flags = 0x02)},
	{"qinq-9100-ip6-udp", MACS "9100 0001 8100 0002 86dd", IP6("11"), UDP("000c") "deadbeef",
	 "", L4, 0, OK,
	 WANT(.l3 = AP_L3_IPV6, .ethertype = 0x86dd, .n_vlan = 2, .vlan = {1, 2}, .l3_off = 22,
	      .l4_off = 62, .l4_len = 12, .l4_proto = 17, .ip_ttl = 64, .l4_sport = 12345,
	      .l4_dport = 53)},
	{"vlan-unknown-inner", MACS "8100 0005 88cc", "00", "", "", L4, 0, OK,
	 WANT(.ethertype = 0x88cc, .n_vlan = 1, .vlan = {5}, .l3_off = 18)},
	{"vlan-three-tags", MACS "8100 0001 8100 0002 8100 0003 0800", IP4("0000", "06"),
	 TCP("50", "02"), "", L4, 0, E(VLAN_DEPTH)},
	{"vlan-truncated", MACS "8100 00", "", "", "", L4, 0, E(VLAN_TRUNC)},
	{"qinq-inner-truncated", MACS "88a8 0001 8100 0002 08", "", "", "", L4, 0, E(VLAN_TRUNC)},

	/* ARP. */
	{"arp-request", EARP, ARP_BODY("0001", "0800", "06", "04"), "", "", L4, 0, OK,
	 WANT(.l3 = AP_L3_ARP, .ethertype = 0x0806, .l3_off = 14)},
	{"arp-padded", EARP, ARP_BODY("0001", "0800", "06", "04"), "", PAD18, L3, 0, OK,
	 WANT(.l3 = AP_L3_ARP, .ethertype = 0x0806, .l3_off = 14)},
	{"vlan-arp", MACS "8100 000a 0806", ARP_BODY("0001", "0800", "06", "04"), "", "", L3, 0, OK,
	 WANT(.l3 = AP_L3_ARP, .ethertype = 0x0806, .n_vlan = 1, .vlan = {10}, .l3_off = 18)},
	{"arp-truncated", EARP, "0001 0800 06 04 0001 020000000001 c0000201 000000000000 c00002",
	 "", "", L4, 0, E(ARP_TRUNC)},
	{"arp-htype-ieee802", EARP, ARP_BODY("0006", "0800", "06", "04"), "", "", L4, 0,
	 E(ARP_BAD)},
	{"arp-ptype-ip6", EARP, ARP_BODY("0001", "86dd", "06", "04"), "", "", L4, 0, E(ARP_BAD)},
	{"arp-hlen-8", EARP, ARP_BODY("0001", "0800", "08", "04"), "", "", L4, 0, E(ARP_BAD)},
	{"arp-plen-16", EARP, ARP_BODY("0001", "0800", "06", "10"), "", "", L4, 0, E(ARP_BAD)},

	/* IPv4 header. */
	{"ip4-tcp-syn", E4, IP4("4000", "06"), TCP("50", "02"), "", L4 | CSUM, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 20, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x02)},
	{"ip4-truncated", E4, "4500 0014 abcd 0000 4006 0000 c0000201 c63364", "", "", L4, RAW,
	 E(IP4_TRUNC)},
	{"ip4-ihl-beyond-frame", E4, "4f00 0014 abcd 0000 4006 0000" ADDR4, "", "", L4, RAW,
	 E(IP4_TRUNC)},
	{"ip4-version-6", E4, "6500 0014 abcd 0000 4006 0000" ADDR4, "", "", L4, RAW,
	 E(IP4_VERSION)},
	{"ip4-ihl-4", E4, "4400 0014 abcd 0000 4006 0000" ADDR4, "", "", L4, RAW, E(IP4_IHL)},
	{"ip4-totlen-below-ihl", E4, "4500 0013 abcd 0000 4006 0000" ADDR4, "", "", L4, RAW_LEN,
	 E(IP4_LEN)},
	{"ip4-totlen-beyond-frame", E4, "4500 0100 abcd 0000 4006 0000" ADDR4, TCP("50", "02"), "",
	 L4, RAW_LEN, E(IP4_LEN)},
	{"ip4-bad-checksum", E4, IP4("0000", "06"), TCP("50", "02"), "", L4 | CSUM, RAW_CSUM,
	 E(IP4_CSUM), WANT(.l3 = AP_L3_IPV4, .ethertype = 0x0800, .l3_off = 14)},
	{"ip4-bad-checksum-unchecked", E4, IP4("0000", "06"), TCP("50", "02"), "", L4, RAW_CSUM, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 20, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x02)},
	{"ip4-ethernet-padding", E4, IP4("0000", "01"), "0800 0000 1234 0001", PAD18, L4 | CSUM, 0,
	 OK,
	 WANT(V4, .l4_off = 34, .l4_len = 8, .l4_proto = 1, .l4_sport = 0x0800,
	      .l4_dport = 0x1234)},
	{"ip4-options", E4, IP4O("9", "11", "0101 070704 00000000 94040000 000000"),
	 UDP("000c") "deadbeef", "", L4 | CSUM, 0, OK,
	 WANT(V4, .l4_off = 50, .l4_len = 12, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	{"ip4-opt-eol-then-garbage", E4, IP4O("6", "11", "00 ffffff"), UDP("0008"), "", L4, 0, OK,
	 WANT(V4, .l4_off = 38, .l4_len = 8, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	{"ip4-opt-len-1", E4, IP4O("6", "11", "0701 0000"), UDP("0008"), "", L4, 0, E(IP4_OPT)},
	{"ip4-opt-len-0", E4, IP4O("6", "11", "8300 0000"), UDP("0008"), "", L4, 0, E(IP4_OPT)},
	{"ip4-opt-beyond-header", E4, IP4O("6", "11", "0709 0400"), UDP("0008"), "", L4, 0,
	 E(IP4_OPT)},
	{"ip4-opt-missing-length", E4, IP4O("6", "11", "010101 07"), UDP("0008"), "", L4, 0,
	 E(IP4_OPT)},

	/* IPv4 fragments: 0x2000 is MF, the low 13 bits the offset in 8-byte units. */
	{"ip4-frag-first", E4, IP4("2000", "11"), UDP("03e8") "00112233445566778899aabbccddeeff",
	 "", L4 | CSUM, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 24, .l4_proto = 17, .frag = AP_PKT_FRAG_FIRST,
	      .l4_sport = 12345, .l4_dport = 53)},
	{"ip4-frag-middle", E4, IP4("20b9", "11"),
	 "000102030405060708090a0b0c0d0e0f1011121314151617", "", L4 | CSUM, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 24, .l4_proto = 17, .frag = AP_PKT_FRAG_LATER)},
	{"ip4-frag-last", E4, IP4("00b9", "06"), "0001020304", "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 5, .l4_proto = 6, .frag = AP_PKT_FRAG_LATER)},
	{"ip4-frag-ends-at-65535", E4, IP4("1fff", "11"), "00010203040506", "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 7, .l4_proto = 17, .frag = AP_PKT_FRAG_LATER)},
	{"ip4-frag-beyond-65535", E4, IP4("1fff", "11"), "0001020304050607", "", L4, 0, E(IP4_FRAG),
	 WANT(V4, .l4_off = 34, .l4_len = 8, .l4_proto = 17, .frag = AP_PKT_FRAG_LATER)},
	{"ip4-l3-only", E4, IP4("0000", "06"), TCP("40", "02"), "", L3, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 20, .l4_proto = 6)},
	{"ip4-gre", E4, IP4("0000", "2f"), "0000 0800", "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 4, .l4_proto = 47)},

	/* ICMP. */
	{"icmp4-echo-reply", E4, IP4("0000", "01"), "0000 0000 beef 0007 6869", "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 10, .l4_proto = 1, .l4_sport = 0, .l4_dport = 0xbeef)},
	{"icmp4-unreachable", E4, IP4("0000", "01"), "0301 0000 00000000 4500", "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 10, .l4_proto = 1, .l4_sport = 0x0301)},
	{"icmp4-truncated", E4, IP4("0000", "01"), "0800 0000", PAD18, L4, 0, E(ICMP4_TRUNC)},
	{"icmp6-echo-reply", E6, IP6("3a"), "8100 0000 1234 0001", "", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 8, .l4_proto = 58, .l4_sport = 0x8100,
	      .l4_dport = 0x1234)},
	{"icmp6-neighbor-solicit", E6, IP6("3a"), "8700 0000 00000000" DST6, "", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 24, .l4_proto = 58, .l4_sport = 0x8700)},
	{"icmp6-truncated", E6, IP6("3a"), "8000 0000", "", L4, 0, E(ICMP6_TRUNC)},
	{"icmp4-proto-in-ip6", E6, IP6("01"), "0800", "", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 2, .l4_proto = 1)},

	/* TCP and its options. */
	{"tcp-opts-mss-nop-ws-sackok-ts", E4, IP4("4000", "06"),
	 TCP("a0", "12") "020405b4 01 030307 0402 080a0000000100000002", "", L4 | CSUM, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 40, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x12)},
	{"tcp-opts-ts-sack3-eol", E4, IP4("4000", "06"),
	 TCP("f0", "10") "0101 080a0000000100000002 051a"
			 "000000010000000200000003000000040000000500000006"
			 "0000",
	 "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 60, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x10)},
	{"tcp-opts-sack4-unknown", E4, IP4("4000", "06"),
	 TCP("f0", "10") "0522"
			 "0000000100000002000000030000000400000005000000060000000700000008"
			 "1e04abcd 0000",
	 "", L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 60, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x10)},
	{"tcp-opts-sack1-sack2", E6, IP6("06"),
	 TCP("d0", "10") "0101 050a 0000000100000002 0512 00000001000000020000000300000004 0000",
	 "", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 52, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x10)},
	{"tcp-opt-eol-then-garbage", E4, IP4("4000", "06"), TCP("60", "02") "00ffffff", "", L4, 0,
	 OK,
	 WANT(V4, .l4_off = 34, .l4_len = 24, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x02)},
	{"tcp-mss-len-3", E4, IP4("4000", "06"), TCP("60", "02") "020305 00", "", L4, 0, E(TCP_OPT),
	 WANT(V4, .l4_off = 34, .l4_len = 24, .l4_proto = 6, .l4_sport = 54321, .l4_dport = 80,
	      .tcp_flags = 0x02)},
	{"tcp-ws-len-4", E4, IP4("4000", "06"), TCP("60", "02") "03040700", "", L4, 0, E(TCP_OPT)},
	{"tcp-sackok-len-3", E4, IP4("4000", "06"), TCP("60", "02") "04030000", "", L4, 0,
	 E(TCP_OPT)},
	{"tcp-sack-len-12", E4, IP4("4000", "06"), TCP("80", "10") "050c 00000001000000020000", "",
	 L4, 0, E(TCP_OPT)},
	{"tcp-sack-len-2", E4, IP4("4000", "06"), TCP("60", "10") "0502 0000", "", L4, 0,
	 E(TCP_OPT)},
	{"tcp-ts-len-8", E4, IP4("4000", "06"), TCP("70", "10") "0808 000000000000", "", L4, 0,
	 E(TCP_OPT)},
	{"tcp-opt-len-1", E4, IP4("4000", "06"), TCP("60", "10") "1e01 0000", "", L4, 0,
	 E(TCP_OPT)},
	{"tcp-opt-beyond-header", E4, IP4("4000", "06"), TCP("60", "10") "1e08 0000", "", L4, 0,
	 E(TCP_OPT)},
	{"tcp-opt-missing-length", E4, IP4("4000", "06"), TCP("60", "10") "010101 02", "", L4, 0,
	 E(TCP_OPT)},
	{"tcp-doff-4", E4, IP4("4000", "06"), TCP("40", "02"), "", L4, 0, E(TCP_DOFF)},
	{"tcp-doff-beyond-segment", E4, IP4("4000", "06"), TCP("f0", "02"), "", L4, 0, E(TCP_DOFF)},
	{"tcp-doff-into-padding", E4, IP4("4000", "06"), TCP("60", "02"), "01010101", L4, 0,
	 E(TCP_DOFF)},
	{"tcp-truncated", E4, IP4("4000", "06"), "d431 0050 00000001 00000000 5002 ffff 0000 00",
	 PAD18, L4, 0, E(TCP_TRUNC)},

	/* UDP length rules (RFC 768; IPv6 accepts a UDP length below the payload). */
	{"udp4-padding", E4, IP4("0000", "11"), UDP("0008"), PAD18, L4, 0, OK,
	 WANT(V4, .l4_off = 34, .l4_len = 8, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	{"udp-truncated", E4, IP4("0000", "11"), "3039 0035 0008 00", "", L4, 0, E(UDP_TRUNC)},
	{"udp-len-7", E4, IP4("0000", "11"), UDP("0007") "00", "", L4, 0, E(UDP_LEN)},
	{"udp4-len-above-payload", E4, IP4("0000", "11"), UDP("000d") "deadbeef", "", L4, 0,
	 E(UDP_LEN)},
	{"udp4-len-below-payload", E4, IP4("0000", "11"), UDP("0008") "deadbeef", "", L4, 0,
	 E(UDP_LEN)},
	{"udp4-len-counts-padding", E4, IP4("0000", "11"), UDP("000c"), "deadbeef", L4, 0,
	 E(UDP_LEN)},
	{"udp6-len-below-payload", E6, IP6("11"), UDP("0008") "deadbeef", "", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 12, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	{"udp6-len-above-payload", E6, IP6("11"), UDP("0010") "deadbeef", "", L4, 0, E(UDP_LEN)},

	/* IPv6 header and extension headers. */
	{"ip6-truncated", E6, "6000 0000 0008 1140" SRC6 " 20010db80000000000000000000000", "", "",
	 L4, RAW, E(IP6_TRUNC)},
	{"ip6-version-4", E6, "4000 0000 0008 1140" SRC6 DST6, UDP("0008"), "", L4, RAW,
	 E(IP6_VERSION)},
	{"ip6-jumbo-length-0", E6, "6000 0000 0000 1140" SRC6 DST6, UDP("0008"), "", L4, RAW,
	 E(IP6_LEN)},
	{"ip6-length-beyond-frame", E6, "6000 0000 0100 1140" SRC6 DST6, UDP("0008"), "", L4, RAW,
	 E(IP6_LEN)},
	{"ip6-ethernet-padding", E6, IP6("11"), UDP("0008"), "00000000", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 8, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	/* hop-by-hop, destination, routing, fragment (first), AH, destination, TCP */
	{"ip6-ext-chain-first-fragment", E6,
	 IP6("00") " 3c00 010400000000"
		   " 2b00 010400000000"
		   " 2c00 0000 00000000"
		   " 3300 0001 12345678"
		   " 3c04 0000 00000100 00000001 00112233445566778899aabb"
		   " 0600 010400000000",
	 TCP("50", "18") "6869", "", L4, 0, OK,
	 WANT(V6, .l4_off = 118, .l4_len = 22, .l4_proto = 6, .frag = AP_PKT_FRAG_FIRST,
	      .l4_sport = 54321, .l4_dport = 80, .tcp_flags = 0x18)},
	{"ip6-eight-ext-headers", E6,
	 IP6("00") " 3c00 010400000000 3c00 010400000000 3c00 010400000000 3c00 010400000000"
		   " 3c00 010400000000 3c00 010400000000 3c00 010400000000 1100 010400000000",
	 UDP("0008"), "", L4, 0, OK,
	 WANT(V6, .l4_off = 118, .l4_len = 8, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	{"ip6-nine-ext-headers", E6,
	 IP6("00") " 3c00 010400000000 3c00 010400000000 3c00 010400000000 3c00 010400000000"
		   " 3c00 010400000000 3c00 010400000000 3c00 010400000000 3c00 010400000000"
		   " 1100 010400000000",
	 UDP("0008"), "", L4, 0, E(IP6_EXT_CHAIN)},
	{"ip6-hop-by-hop-not-first", E6, IP6("3c") " 0000 010400000000 1100 010400000000",
	 UDP("0008"), "", L4, 0, E(IP6_EXT)},
	{"ip6-ext-beyond-payload", E6, IP6("00") " 1101 010400000000", "", "", L4, 0, E(IP6_EXT),
	 WANT(V6)},
	{"ip6-ext-truncated", E6, IP6("2b") " 1100 0104", "", "", L4, 0, E(IP6_EXT)},
	{"ip6-frag-header-truncated", E6, IP6("2c") " 1100 0001", "", "", L4, 0, E(IP6_EXT)},
	{"ip6-ah-length-0", E6, IP6("33") " 1100 0000 00000100 00000001", UDP("0008"), "", L4, 0,
	 E(IP6_EXT)},
	{"ip6-frag-later", E6, IP6("2c") " 1100 0539 12345678", "000102030405060708090a0b0c0d0e0f",
	 "", L4, 0, OK,
	 WANT(V6, .l4_off = 62, .l4_len = 16, .l4_proto = 17, .frag = AP_PKT_FRAG_LATER)},
	{"ip6-atomic-fragment", E6, IP6("2c") " 1100 0000 12345678", UDP("0008"), "", L4, 0, OK,
	 WANT(V6, .l4_off = 62, .l4_len = 8, .l4_proto = 17, .l4_sport = 12345, .l4_dport = 53)},
	{"ip6-esp-stops-walk", E6, IP6("32"), "00000100 00000001 deadbeefdeadbeef", "", L4, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 16, .l4_proto = 50)},
	{"ip6-no-next-header", E6, IP6("00") " 3b00 010400000000", "", "", L4, 0, OK,
	 WANT(V6, .l4_off = 62, .l4_len = 0, .l4_proto = 59)},
	{"ip6-l3-only", E6, IP6("06"), TCP("40", "02"), "", L3, 0, OK,
	 WANT(V6, .l4_off = 54, .l4_len = 20, .l4_proto = 6)},
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

struct frame {
	uint8_t b[512];
	uint32_t n;
};

static uint32_t
put_hex(struct frame *f, const char *h)
{
	uint32_t start = f->n;
	unsigned v;

	while (*h) {
		if (*h == ' ') {
			h++;
			continue;
		}
		cr_assert(f->n < sizeof(f->b), "frame too long");
		cr_assert(sscanf(h, "%2x", &v) == 1 && h[1] != '\0' && h[1] != ' ',
			  "bad hex near '%s'", h);
		f->b[f->n++] = (uint8_t)v;
		h += 2;
	}
	return f->n - start;
}

/* Reference IPv4 header checksum, written independently of cksum.c. */
static uint16_t
ref_ip4_csum(const uint8_t *h, uint32_t hl)
{
	uint32_t s = 0, i;

	for (i = 0; i < hl; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
build(const struct prow *r, struct frame *f)
{
	uint32_t l2, l3, l4, ip;
	uint16_t et;

	f->n = 0;
	l2 = put_hex(f, r->l2);
	ip = f->n;
	l3 = put_hex(f, r->l3);
	l4 = put_hex(f, r->l4);
	put_hex(f, r->pad);
	if (l2 < 14)
		return;
	et = (uint16_t)(f->b[l2 - 2] << 8 | f->b[l2 - 1]);
	if (et == 0x0800 && l3 >= 20) {
		uint8_t *h = f->b + ip;
		uint32_t hl = (h[0] & 0xfu) * 4;

		if (!(r->raw & RAW_LEN)) {
			h[2] = (uint8_t)((l3 + l4) >> 8);
			h[3] = (uint8_t)(l3 + l4);
		}
		if (!(r->raw & RAW_CSUM) && hl >= 20 && hl <= l3) {
			uint16_t c;

			h[10] = h[11] = 0;
			c = ref_ip4_csum(h, hl);
			h[10] = (uint8_t)(c >> 8);
			h[11] = (uint8_t)c;
		}
	} else if (et == 0x86dd && l3 >= 40 && !(r->raw & RAW_LEN)) {
		f->b[ip + 4] = (uint8_t)((l3 - 40 + l4) >> 8);
		f->b[ip + 5] = (uint8_t)(l3 - 40 + l4);
	}
}

/* Parse from an exactly sized heap copy so ASan catches any read past len. */
static enum ap_pkt_err
parse_exact(const struct frame *f, uint32_t len, unsigned flags, struct ap_pkt_info *pi)
{
	uint8_t *b = malloc(len ? len : 1);
	enum ap_pkt_err err;

	cr_assert_not_null(b);
	memcpy(b, f->b, len);
	err = ap_pkt_parse(b, len, flags, pi);
	free(b);
	return err;
}

static void
expect_info(const char *name, const struct ap_pkt_info *got, const struct ap_pkt_info *want)
{
#define F(field)                                                                                   \
	cr_expect_eq(got->field, want->field, "%s: " #field " is %u, want %u", name,               \
		     (unsigned)got->field, (unsigned)want->field)
	F(l3_off);
	F(l4_off);
	F(l4_len);
	F(ethertype);
	F(vlan[0]);
	F(vlan[1]);
	F(l4_sport);
	F(l4_dport);
	F(n_vlan);
	F(l3);
	F(l4_proto);
	F(frag);
	F(ip_ttl);
	F(tcp_flags);
#undef F
}

ParameterizedTestParameters(parse, table)
{
	/* Indices, not rows: parameters are copied into the test process. */
	static unsigned idx[N_ROWS];
	unsigned i;

	for (i = 0; i < N_ROWS; i++)
		idx[i] = i;
	return cr_make_param_array(unsigned, idx, N_ROWS);
}

ParameterizedTest(unsigned *i, parse, table)
{
	const struct prow *r = &rows[*i];
	struct frame f;
	struct ap_pkt_info pi;
	enum ap_pkt_err err;

	build(r, &f);
	memset(&pi, 0xa5, sizeof(pi));
	err = parse_exact(&f, f.n, r->flags, &pi);
	cr_assert_eq(err, r->err, "%s: got %s, want %s", r->name, ap_pkt_err_name(err),
		     ap_pkt_err_name(r->err));
	if (r->fields)
		expect_info(r->name, &pi, &r->want);
}

Test(parse, table_reaches_every_error)
{
	bool seen[AP_PKT_ERR_COUNT] = {false};
	unsigned i;

	for (i = 0; i < N_ROWS; i++)
		seen[rows[i].err] = true;
	for (i = 0; i < AP_PKT_ERR_COUNT; i++)
		cr_expect(seen[i], "no table row expects %s", ap_pkt_err_name(i));
}

static bool
in_bounds(const struct ap_pkt_info *pi, uint32_t len)
{
	if (pi->l3_off > len)
		return false;
	if (pi->l4_off && (uint32_t)pi->l4_off + pi->l4_len > len)
		return false;
	return pi->n_vlan <= 2;
}

Test(parse, every_prefix_of_every_row_stays_in_bounds)
{
	static const unsigned all_flags[] = {L2, L3, L4, L3 | CSUM, L4 | CSUM};
	struct frame f;
	struct ap_pkt_info pi;
	unsigned i, k;
	uint32_t len;

	for (i = 0; i < N_ROWS; i++) {
		build(&rows[i], &f);
		for (len = 0; len <= f.n; len++) {
			for (k = 0; k < sizeof(all_flags) / sizeof(all_flags[0]); k++) {
				enum ap_pkt_err err = parse_exact(&f, len, all_flags[k], &pi);

				cr_assert((unsigned)err < AP_PKT_ERR_COUNT);
				cr_assert(in_bounds(&pi, len), "%s cut at %u: fields out of bounds",
					  rows[i].name, len);
				/* A cut inside the headers cannot parse cleanly as the full frame
				 * did. */
				if (len < 14)
					cr_assert_eq(err, AP_PKT_ERR_ETH_RUNT);
			}
		}
	}
}

Test(parse, deeper_parse_agrees_with_shallower)
{
	struct frame f;
	struct ap_pkt_info a, b;
	unsigned i;

	for (i = 0; i < N_ROWS; i++) {
		const struct prow *r = &rows[i];

		if (r->err != AP_PKT_OK || !(r->flags & L4))
			continue;
		build(r, &f);
		cr_assert_eq(ap_pkt_parse(f.b, f.n, L2, &a), AP_PKT_OK, "%s", r->name);
		cr_assert_eq(ap_pkt_parse(f.b, f.n, L4, &b), AP_PKT_OK, "%s", r->name);
		cr_expect_eq(a.l3_off, b.l3_off, "%s", r->name);
		cr_expect_eq(a.l3, b.l3, "%s", r->name);
		cr_expect_eq(a.ethertype, b.ethertype, "%s", r->name);
		cr_expect_eq(a.n_vlan, b.n_vlan, "%s", r->name);
		cr_expect_eq(a.l4_off, 0, "%s: L2 parse set l4_off", r->name);
		cr_expect_eq(a.l4_proto, 0, "%s", r->name);
		cr_assert_eq(ap_pkt_parse(f.b, f.n, L3, &a), AP_PKT_OK, "%s", r->name);
		cr_expect_eq(a.l4_off, b.l4_off, "%s", r->name);
		cr_expect_eq(a.l4_len, b.l4_len, "%s", r->name);
		cr_expect_eq(a.l4_proto, b.l4_proto, "%s", r->name);
		cr_expect_eq(a.frag, b.frag, "%s", r->name);
		cr_expect_eq(a.l4_sport, 0, "%s: L3 parse set ports", r->name);
		cr_expect_eq(a.tcp_flags, 0, "%s", r->name);
	}
}

/* The inline IPv4/IPv6 checks of ip4-input and ip6-input give what the full
 * parse gives, for every row and every prefix of it, and leave the transport
 * fields an earlier stage read as they were, IPv4 options and IPv6 extension
 * headers (the full parse inside) included. */
Test(parse, fast_l3_paths_agree_with_the_full_parse)
{
	struct frame f;
	unsigned i, n = 0;

	for (i = 0; i < N_ROWS; i++) {
		build(&rows[i], &f);
		for (uint32_t len = 0; len <= f.n; len++) {
			struct ap_pkt_info a, b;
			enum ap_pkt_err ea, eb;

			memset(&a, 0, sizeof(a));
			if (ap_pkt_parse_l2(f.b, len, &a) != AP_PKT_OK)
				continue;
			a.l4_sport = 0x1234;
			a.l4_dport = 0x5678;
			a.tcp_flags = 0x12;
			if (a.l3 == AP_L3_IPV4) {
				ea = ap_pkt_parse_ip4_fast(f.b, len, &a);
				eb = ap_pkt_parse(f.b, len, L3 | AP_PARSE_IP4_CSUM, &b);
			} else if (a.l3 == AP_L3_IPV6) {
				ea = ap_pkt_parse_ip6_fast(f.b, len, &a);
				eb = ap_pkt_parse(f.b, len, L3, &b);
			} else {
				continue;
			}
			n++;
			cr_assert_eq(ea, eb, "%s, %u bytes: %s vs %s", rows[i].name, len,
				     ap_pkt_err_name(ea), ap_pkt_err_name(eb));
			if (ea != AP_PKT_OK)
				continue;
			cr_expect_eq(a.l3_off, b.l3_off, "%s", rows[i].name);
			cr_expect_eq(a.l4_off, b.l4_off, "%s", rows[i].name);
			cr_expect_eq(a.l4_len, b.l4_len, "%s", rows[i].name);
			cr_expect_eq(a.l4_proto, b.l4_proto, "%s", rows[i].name);
			cr_expect_eq(a.frag, b.frag, "%s", rows[i].name);
			cr_expect_eq(a.ip_ttl, b.ip_ttl, "%s", rows[i].name);
			cr_expect(a.l4_sport == 0x1234 && a.l4_dport == 0x5678 &&
					  a.tcp_flags == 0x12,
				  "%s, %u bytes: transport fields changed", rows[i].name, len);
		}
	}
	cr_assert_gt(n, 100, "only %u IP frames checked", n);
}

Test(parse, error_names_are_stable_and_unique)
{
	unsigned i, j;

	cr_assert_str_eq(ap_pkt_err_name(AP_PKT_OK), "ok");
	cr_assert_str_eq(ap_pkt_err_name(AP_PKT_ERR_ETH_RUNT), "eth-runt");
	cr_assert_str_eq(ap_pkt_err_name(AP_PKT_ERR_UDP_LEN), "udp-bad-length");
	cr_assert_str_eq(ap_pkt_err_desc(AP_PKT_ERR_IP4_CSUM), "IPv4 header checksum mismatch");
	cr_assert_str_eq(ap_pkt_err_name(AP_PKT_ERR_COUNT), "unknown");
	cr_assert_str_eq(ap_pkt_err_name((enum ap_pkt_err) - 1), "unknown");
	cr_assert_str_eq(ap_pkt_err_desc(AP_PKT_ERR_COUNT), "unknown error");
	for (i = 0; i < AP_PKT_ERR_COUNT; i++) {
		const char *n = ap_pkt_err_name(i);

		cr_assert_not_null(n);
		cr_assert_not_null(ap_pkt_err_desc(i));
		cr_assert_gt(strlen(ap_pkt_err_desc(i)), 0);
		cr_assert_eq(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-"), strlen(n),
			     "%s is not kebab-case", n);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(n, ap_pkt_err_name(j));
	}
}
