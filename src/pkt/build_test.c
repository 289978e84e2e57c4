/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-message builder tests.
 *
 * Built frames are compared byte for byte with frames made by scapy
 * (build_vectors.h, from build_vectors.py). Each table row is also built at
 * every capacity below its size, which must fail with -ENOSPC and leave the
 * buffer untouched, and parsed back with ap_pkt_parse() with its checksums
 * verified. Then the in-place echo replies, the rules on when an ICMP error
 * may be sent, every -EINVAL path, and the ND and ARP parsers.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <string.h>

#include "pkt/build.h"
#include "pkt/build_vectors.h"
#include "pkt/pkt.h"

#define CANARY 0xa5
#define BUF    2048

/* The addresses build_vectors.py uses. */
static const uint8_t MAC_R[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_H[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t R6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x01};
static const uint8_t H6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x02};
static const uint8_t R6LL[16] = {0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 0x01};
static const uint8_t H6LL[16] = {0xfe, 0x80, [11] = 0xff, [12] = 0xfe, [15] = 0x02};
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 0x01};

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d);
}

#define R4  ip4(192, 0, 2, 1)
#define H4  ip4(192, 0, 2, 2)
#define GW4 ip4(192, 0, 2, 254)

/* ------------------------------------------------------ builder table */

static const struct ap_nd_prefix ra_prefixes[] = {
	/* Host bits set on purpose: the builder must clear them. */
	{.prefix = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, [14] = 0xde, [15] = 0xad},
	 .len = 64,
	 .flags = AP_ND_PREFIX_ONLINK | AP_ND_PREFIX_AUTO},
	{.prefix = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x2f, 0xff, 0xff},
	 .len = 44,
	 .flags = AP_ND_PREFIX_ONLINK},
};

static struct ap_nd_ra
full_ra(void)
{
	static struct ap_nd_prefix p[2];

	memcpy(p, ra_prefixes, sizeof(p));
	p[0].valid = htonl(2592000);
	p[0].preferred = htonl(604800);
	p[1].valid = htonl(86400);
	p[1].preferred = 0;
	return (struct ap_nd_ra){.cur_hop_limit = 64,
				 .flags = 0x40,
				 .router_lifetime = htons(1800),
				 .reachable = htonl(30000),
				 .retrans = htonl(1000),
				 .mtu = htonl(1500),
				 .prefixes = p,
				 .n_prefixes = 2};
}

static int
b_eth(uint8_t *o, size_t c)
{
	return ap_build_eth(o, c, MAC_H, MAC_R, htons(0x86dd));
}

static int
b_arp_request(uint8_t *o, size_t c)
{
	return ap_build_arp(o, c, htons(AP_ARP_OP_REQUEST), MAC_R, R4, NULL, NULL, H4);
}

static int
b_arp_reply(uint8_t *o, size_t c)
{
	return ap_build_arp(o, c, htons(AP_ARP_OP_REPLY), MAC_R, R4, MAC_H, MAC_H, H4);
}

static int
b_arp_gratuitous(uint8_t *o, size_t c)
{
	return ap_build_arp(o, c, htons(AP_ARP_OP_REQUEST), MAC_R, R4, NULL, NULL, R4);
}

static int
b_icmp4_time_exceeded(uint8_t *o, size_t c)
{
	return ap_build_icmp4_error(o, c, R4, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp),
				    AP_ICMP4_TIME_EXCEED, 0, 0, htons(0x0101));
}

static int
b_icmp4_port_unreach(uint8_t *o, size_t c)
{
	return ap_build_icmp4_error(o, c, R4, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp),
				    AP_ICMP4_DEST_UNREACH, 3, 0, htons(0x0102));
}

static int
b_icmp4_frag_needed(uint8_t *o, size_t c)
{
	return ap_build_icmp4_error(o, c, R4, bv_icmp4_orig_tcp, sizeof(bv_icmp4_orig_tcp),
				    AP_ICMP4_DEST_UNREACH, AP_ICMP4_FRAG_NEEDED, htonl(1400),
				    htons(0x0103));
}

static int
b_icmp4_param_prob(uint8_t *o, size_t c)
{
	return ap_build_icmp4_error(o, c, R4, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp),
				    AP_ICMP4_PARAM_PROB, 0, htonl(8u << 24), htons(0x0104));
}

static int
b_icmp4_redirect(uint8_t *o, size_t c)
{
	return ap_build_icmp4_error(o, c, R4, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp),
				    AP_ICMP4_REDIRECT, 1, GW4, htons(0x0105));
}

static int
b_icmp6_time_exceeded(uint8_t *o, size_t c)
{
	return ap_build_icmp6_error(o, c, R6, bv_icmp6_orig_udp, sizeof(bv_icmp6_orig_udp),
				    AP_ICMP6_TIME_EXCEED, 0, 0);
}

static int
b_icmp6_port_unreach(uint8_t *o, size_t c)
{
	return ap_build_icmp6_error(o, c, R6, bv_icmp6_orig_udp, sizeof(bv_icmp6_orig_udp),
				    AP_ICMP6_DEST_UNREACH, 4, 0);
}

static int
b_icmp6_pkt_too_big(uint8_t *o, size_t c)
{
	return ap_build_icmp6_error(o, c, R6, bv_icmp6_orig_tcp, sizeof(bv_icmp6_orig_tcp),
				    AP_ICMP6_PKT_TOO_BIG, 0, htonl(1280));
}

static int
b_icmp6_param_prob(uint8_t *o, size_t c)
{
	return ap_build_icmp6_error(o, c, R6, bv_icmp6_orig_udp, sizeof(bv_icmp6_orig_udp),
				    AP_ICMP6_PARAM_PROB, 1, htonl(6));
}

static int
b_icmp6_pkt_too_big_mcast(uint8_t *o, size_t c)
{
	return ap_build_icmp6_error(o, c, R6, bv_icmp6_orig_mcast, sizeof(bv_icmp6_orig_mcast),
				    AP_ICMP6_PKT_TOO_BIG, 0, htonl(1400));
}

static int
b_nd_ns(uint8_t *o, size_t c)
{
	return ap_build_nd_ns(o, c, MAC_R, R6, H6, false);
}

static int
b_nd_ns_l3(uint8_t *o, size_t c)
{
	return ap_build_nd_ns_l3(o, c, MAC_R, R6, H6, false);
}

static int
b_nd_ns_dad(uint8_t *o, size_t c)
{
	return ap_build_nd_ns(o, c, MAC_R, R6, R6, true);
}

static int
b_nd_na(uint8_t *o, size_t c)
{
	return ap_build_nd_na(o, c, MAC_R, MAC_H, R6, H6, R6,
			      AP_ND_NA_ROUTER | AP_ND_NA_SOLICITED | AP_ND_NA_OVERRIDE, MAC_R);
}

static int
b_nd_na_l3(uint8_t *o, size_t c)
{
	return ap_build_nd_na_l3(o, c, R6, H6, R6,
				 AP_ND_NA_ROUTER | AP_ND_NA_SOLICITED | AP_ND_NA_OVERRIDE, MAC_R);
}

static int
b_nd_na_unsolicited(uint8_t *o, size_t c)
{
	return ap_build_nd_na(o, c, MAC_R, NULL, R6, ALL_NODES, R6,
			      AP_ND_NA_ROUTER | AP_ND_NA_OVERRIDE, MAC_R);
}

static int
b_nd_ra(uint8_t *o, size_t c)
{
	struct ap_nd_ra ra = full_ra();

	return ap_build_nd_ra(o, c, MAC_R, NULL, R6LL, NULL, &ra);
}

static int
b_nd_ra_l3(uint8_t *o, size_t c)
{
	struct ap_nd_ra ra = full_ra();

	return ap_build_nd_ra_l3(o, c, MAC_R, R6LL, ALL_NODES, &ra);
}

static int
b_nd_ra_unicast(uint8_t *o, size_t c)
{
	struct ap_nd_ra ra = {0};

	return ap_build_nd_ra(o, c, MAC_R, MAC_H, R6LL, H6LL, &ra);
}

enum layer { FRAME, L3_IP4, L3_IP6 };

struct brow {
	const char *name;
	int (*build)(uint8_t *out, size_t cap);
	const uint8_t *want;
	size_t want_len;
	enum layer layer;
};

#define ROW(n, v, l)                                                                               \
	{                                                                                          \
#n, b_##n, v, sizeof(v), l                                                         \
	}
#define ROW_L3(n, v)                                                                               \
	{                                                                                          \
#n, b_##n, v + 14, sizeof(v) - 14, L3_IP6                                          \
	}

static const struct brow brows[] = {
	ROW(eth, bv_eth, FRAME),
	ROW(arp_request, bv_arp_request, FRAME),
	ROW(arp_reply, bv_arp_reply, FRAME),
	ROW(arp_gratuitous, bv_arp_gratuitous, FRAME),
	ROW(icmp4_time_exceeded, bv_icmp4_time_exceeded, L3_IP4),
	ROW(icmp4_port_unreach, bv_icmp4_port_unreach, L3_IP4),
	ROW(icmp4_frag_needed, bv_icmp4_frag_needed, L3_IP4),
	ROW(icmp4_param_prob, bv_icmp4_param_prob, L3_IP4),
	ROW(icmp4_redirect, bv_icmp4_redirect, L3_IP4),
	ROW(icmp6_time_exceeded, bv_icmp6_time_exceeded, L3_IP6),
	ROW(icmp6_port_unreach, bv_icmp6_port_unreach, L3_IP6),
	ROW(icmp6_pkt_too_big, bv_icmp6_pkt_too_big, L3_IP6),
	ROW(icmp6_param_prob, bv_icmp6_param_prob, L3_IP6),
	ROW(icmp6_pkt_too_big_mcast, bv_icmp6_pkt_too_big_mcast, L3_IP6),
	ROW(nd_ns, bv_nd_ns, FRAME),
	ROW_L3(nd_ns_l3, bv_nd_ns),
	ROW(nd_ns_dad, bv_nd_ns_dad, FRAME),
	ROW(nd_na, bv_nd_na, FRAME),
	ROW_L3(nd_na_l3, bv_nd_na),
	ROW(nd_na_unsolicited, bv_nd_na_unsolicited, FRAME),
	ROW(nd_ra, bv_nd_ra, FRAME),
	ROW_L3(nd_ra_l3, bv_nd_ra),
	ROW(nd_ra_unicast, bv_nd_ra_unicast, FRAME),
};

#define N_BROWS (sizeof(brows) / sizeof(brows[0]))

static void
expect_untouched(const char *name, const uint8_t *buf, size_t from, size_t cap)
{
	size_t i;

	for (i = from; i < BUF; i++)
		cr_assert_eq(buf[i], CANARY, "%s: byte %zu written (cap %zu)", name, i, cap);
}

/* Parse back as a frame and check the checksums the parser does not. */
static void
expect_parses(const struct brow *r, const uint8_t *out, size_t n)
{
	uint8_t frame[BUF + 14];
	struct ap_pkt_info pi;
	enum ap_pkt_err err;
	const uint8_t *l3, *l4;

	if (n == AP_ETH_HDR_LEN) {
		cr_assert_eq(ap_pkt_parse(out, (uint32_t)n, AP_PARSE_L2, &pi), AP_PKT_OK);
		cr_assert_eq(pi.ethertype, 0x86dd);
		return;
	}
	if (r->layer == FRAME) {
		memcpy(frame, out, n);
	} else {
		cr_assert_eq(ap_build_eth(frame, sizeof(frame), MAC_H, MAC_R,
					  htons(r->layer == L3_IP4 ? 0x0800 : 0x86dd)),
			     14);
		memcpy(frame + 14, out, n);
		n += 14;
	}
	err = ap_pkt_parse(frame, (uint32_t)n, AP_PARSE_L4 | AP_PARSE_IP4_CSUM, &pi);
	cr_assert_eq(err, AP_PKT_OK, "%s: parse: %s", r->name, ap_pkt_err_name(err));
	l3 = frame + pi.l3_off;
	l4 = frame + pi.l4_off;
	switch (pi.l3) {
	case AP_L3_ARP:
		cr_assert_eq(n, AP_ETH_MIN_FRAME);
		break;
	case AP_L3_IPV4:
		cr_assert_eq(pi.l4_proto, 1);
		cr_assert_eq(pi.l4_off + pi.l4_len, n);
		cr_assert_eq(pi.l4_sport, l4[0] << 8 | l4[1]);
		cr_assert_eq(ap_csum(l4, pi.l4_len), 0, "%s: ICMP checksum", r->name);
		cr_assert(n - 14 <= AP_ICMP4_ERR_MAX);
		break;
	case AP_L3_IPV6:
		cr_assert_eq(pi.l4_proto, 58);
		cr_assert_eq(pi.l4_off + pi.l4_len, n);
		cr_assert_eq(ap_l4_csum_ip6(l3, l4, pi.l4_len, 58), 0, "%s: ICMPv6 checksum",
			     r->name);
		cr_assert(n - pi.l3_off <= AP_ICMP6_ERR_MAX);
		break;
	default:
		cr_assert_fail("%s: unexpected l3 %u", r->name, pi.l3);
	}
}

ParameterizedTestParameters(build, frames)
{
	static unsigned idx[N_BROWS];
	unsigned i;

	for (i = 0; i < N_BROWS; i++)
		idx[i] = i;
	return cr_make_param_array(unsigned, idx, N_BROWS);
}

ParameterizedTest(unsigned *i, build, frames)
{
	const struct brow *r = &brows[*i];
	static uint8_t buf[BUF];
	size_t cap, k;
	int n;

	/* Exact size and a roomy buffer give the same bytes. */
	for (k = 0; k < 2; k++) {
		cap = k ? BUF : r->want_len;
		memset(buf, CANARY, sizeof(buf));
		n = r->build(buf, cap);
		cr_assert_eq(n, (int)r->want_len, "%s: built %d bytes, want %zu", r->name, n,
			     r->want_len);
		for (size_t j = 0; j < r->want_len; j++)
			cr_assert_eq(buf[j], r->want[j], "%s: byte %zu is %02x, scapy has %02x",
				     r->name, j, buf[j], r->want[j]);
		expect_untouched(r->name, buf, r->want_len, cap);
	}
	expect_parses(r, buf, r->want_len);

	/* Every capacity short of the size fails and writes nothing. */
	for (cap = 0; cap < r->want_len; cap++) {
		memset(buf, CANARY, sizeof(buf));
		cr_assert_eq(r->build(buf, cap), -ENOSPC, "%s: cap %zu", r->name, cap);
		expect_untouched(r->name, buf, 0, cap);
	}
	cr_assert_eq(r->build(NULL, 0), -ENOSPC, "%s: NULL buffer", r->name);
}

/* -------------------------------------------------------- mutations */

/* A copy of a vector to mutate; fix_* restore the checksums after a change. */
struct pkt {
	uint8_t b[BUF];
	size_t n;
};

static void
load(struct pkt *p, const uint8_t *v, size_t n)
{
	memset(p->b, 0, sizeof(p->b));
	memcpy(p->b, v, n);
	p->n = n;
}

static void
fix_ip4(struct pkt *p)
{
	uint16_t c;

	p->b[10] = p->b[11] = 0;
	c = ap_csum(p->b, (p->b[0] & 0xfu) * 4u);
	memcpy(p->b + 10, &c, 2);
}

/* Recompute the ICMPv4 checksum after the IPv4 header (total length bytes). */
static void
fix_icmp4(struct pkt *p)
{
	uint32_t hl = (p->b[0] & 0xfu) * 4u, tot = (uint32_t)(p->b[2] << 8 | p->b[3]);
	uint16_t c;

	p->b[hl + 2] = p->b[hl + 3] = 0;
	c = ap_csum(p->b + hl, tot - hl);
	memcpy(p->b + hl + 2, &c, 2);
}

static void
set_plen6(struct pkt *p, size_t plen)
{
	p->b[4] = (uint8_t)(plen >> 8);
	p->b[5] = (uint8_t)plen;
	p->n = 40 + plen;
}

static void
fix_icmp6(struct pkt *p)
{
	uint32_t plen = (uint32_t)(p->b[4] << 8 | p->b[5]);
	uint16_t c;

	p->b[42] = p->b[43] = 0;
	c = ap_l4_csum_ip6(p->b, p->b + 40, plen, 58);
	memcpy(p->b + 42, &c, 2);
}

/* ------------------------------------------------------ ICMPv4 echo */

Test(build, icmp4_echo_reply_in_place)
{
	struct pkt p;

	load(&p, bv_icmp4_echo_req, sizeof(bv_icmp4_echo_req));
	cr_assert_eq(ap_icmp4_echo_to_reply(p.b, p.n), 0);
	cr_assert_arr_eq(p.b, bv_icmp4_echo_rep, sizeof(bv_icmp4_echo_rep));
	cr_assert_eq(ap_ip4_hdr_csum_verify(p.b, 20), 0);
	cr_assert_eq(ap_csum(p.b + 20, (uint32_t)p.n - 20), 0);

	/* Link padding after the datagram is left alone. */
	load(&p, bv_icmp4_echo_req, sizeof(bv_icmp4_echo_req));
	memset(p.b + p.n, 0xee, 7);
	cr_assert_eq(ap_icmp4_echo_to_reply(p.b, p.n + 7), 0);
	cr_assert_arr_eq(p.b, bv_icmp4_echo_rep, sizeof(bv_icmp4_echo_rep));
	cr_assert_eq(p.b[p.n + 6], 0xee);
}

Test(build, icmp4_echo_reply_checksum_edges)
{
	/* RFC 1624: the incremental update must equal a full recompute on any payload. */
	struct pkt p;
	unsigned seed;

	for (seed = 0; seed < 512; seed++) {
		uint16_t want;
		size_t k;

		load(&p, bv_icmp4_echo_req, sizeof(bv_icmp4_echo_req));
		for (k = 28; k < p.n; k++)
			p.b[k] = (uint8_t)(seed * 131 + k * 7);
		/* The id byte moves the sum through carries. */
		p.b[24] = (uint8_t)seed;
		fix_icmp4(&p);
		cr_assert_eq(ap_icmp4_echo_to_reply(p.b, p.n), 0);
		cr_assert_eq(ap_csum(p.b + 20, (uint32_t)p.n - 20), 0, "seed %u", seed);
		memcpy(&want, p.b + 22, 2);
		fix_icmp4(&p);
		cr_assert(memcmp(&want, p.b + 22, 2) == 0 || want == 0 || want == 0xffff, "seed %u",
			  seed);
	}
}

struct echo4_row {
	const char *name;
	size_t off; /* byte to change, or SIZE_MAX for none */
	uint8_t val;
	size_t len_delta; /* bytes taken off the length given */
	bool fix;	  /* recompute the checksums after the change */
	int want;
};

static const struct echo4_row echo4_rows[] = {
	{"truncated-1", SIZE_MAX, 0, 1, false, -EINVAL},
	{"version-6", 0, 0x65, 0, true, -EINVAL},
	{"ihl-4", 0, 0x44, 0, false, -EINVAL},
	{"ihl-beyond", 0, 0x4f, 0, false, -EINVAL},
	{"totlen-beyond", 3, 0x60, 0, true, -EINVAL},
	{"totlen-short", 3, 27, 0, true, -EINVAL},
	{"udp", 9, 17, 0, true, -EINVAL},
	{"more-fragments", 6, 0x20, 0, true, -EINVAL},
	{"later-fragment", 7, 0x01, 0, true, -EINVAL},
	{"bad-ip-checksum", 10, 0x00, 0, false, -EINVAL},
	{"echo-reply", 20, 0, 0, true, -EINVAL},
	{"code-1", 21, 1, 0, true, -EINVAL},
	{"dst-multicast", 16, 224, 0, true, -EPERM},
	{"dst-broadcast", 16, 255, 0, true, -EPERM},
	{"src-zero-net", 12, 0, 0, true, -EPERM},
	{"src-loopback", 12, 127, 0, true, -EPERM},
	{"src-multicast", 12, 239, 0, true, -EPERM},
	{"src-class-e", 12, 240, 0, true, -EPERM},
};

Test(build, icmp4_echo_reply_rejects)
{
	struct pkt p, orig;
	size_t i;

	for (i = 0; i < sizeof(echo4_rows) / sizeof(echo4_rows[0]); i++) {
		const struct echo4_row *r = &echo4_rows[i];

		load(&p, bv_icmp4_echo_req, sizeof(bv_icmp4_echo_req));
		if (r->off != SIZE_MAX)
			p.b[r->off] = r->val;
		if (!strcmp(r->name, "dst-broadcast"))
			memset(p.b + 16, 0xff, 4);
		if (r->fix) {
			fix_ip4(&p);
			if (p.b[9] == 1 && p.b[3] >= 28 && p.b[3] <= p.n)
				fix_icmp4(&p);
		}
		orig = p;
		cr_assert_eq(ap_icmp4_echo_to_reply(p.b, p.n - r->len_delta), r->want, "%s",
			     r->name);
		cr_assert_arr_eq(p.b, orig.b, sizeof(p.b), "%s: modified on error", r->name);
	}

	/* Every length short of the datagram. */
	for (i = 0; i < sizeof(bv_icmp4_echo_req); i++) {
		load(&p, bv_icmp4_echo_req, sizeof(bv_icmp4_echo_req));
		cr_assert_eq(ap_icmp4_echo_to_reply(p.b, i), -EINVAL, "len %zu", i);
	}

	/* IP options: left to the host stack (RFC 1122 section 3.2.2.6). */
	load(&p, bv_icmp4_echo_req, 20);
	p.b[0] = 0x46;
	memset(p.b + 20, 1, 4); /* four NOPs */
	memcpy(p.b + 24, bv_icmp4_echo_req + 20, sizeof(bv_icmp4_echo_req) - 20);
	p.n = sizeof(bv_icmp4_echo_req) + 4;
	p.b[3] = (uint8_t)p.n;
	fix_ip4(&p);
	cr_assert_eq(ap_icmp4_echo_to_reply(p.b, p.n), -EOPNOTSUPP);
}

/* ------------------------------------------------------ ICMPv4 errors */

struct err4_row {
	const char *name;
	size_t off;
	uint8_t val[4];
	size_t nval;
	bool allowed;
};

static const struct err4_row err4_rows[] = {
	{"udp", SIZE_MAX, {0}, 0, true},
	{"dst-broadcast", 16, {255, 255, 255, 255}, 4, false},
	{"dst-multicast", 16, {224, 0, 0, 5}, 4, false},
	{"dst-host-dot-255", 16, {198, 51, 100, 255}, 4, true},
	{"src-zero", 12, {0, 0, 0, 0}, 4, false},
	{"src-loopback", 12, {127, 0, 0, 1}, 4, false},
	{"src-multicast", 12, {224, 1, 1, 1}, 4, false},
	{"src-class-e", 12, {240, 0, 0, 1}, 4, false},
	{"src-broadcast", 12, {255, 255, 255, 255}, 4, false},
	{"first-fragment", 6, {0x20, 0x00}, 2, true},
	{"later-fragment", 6, {0x20, 0x01}, 2, false},
	{"last-fragment", 6, {0x00, 0x10}, 2, false},
	{"icmp-echo", 9, {1}, 1, true},
	{"icmp-unreach", 9, {1}, 1, false},
	{"icmp-unknown-type", 9, {1}, 1, false},
};

Test(build, icmp4_error_rules)
{
	static uint8_t out[BUF];
	struct pkt p;
	size_t i;

	for (i = 0; i < sizeof(err4_rows) / sizeof(err4_rows[0]); i++) {
		const struct err4_row *r = &err4_rows[i];
		int n;

		load(&p, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp));
		if (r->off != SIZE_MAX)
			memcpy(p.b + r->off, r->val, r->nval);
		/* The ICMP type sits where the UDP source port was. */
		if (!strcmp(r->name, "icmp-echo"))
			p.b[20] = 8;
		else if (!strcmp(r->name, "icmp-unreach"))
			p.b[20] = 3;
		else if (!strcmp(r->name, "icmp-unknown-type"))
			p.b[20] = 42;
		fix_ip4(&p);
		cr_assert_eq(ap_icmp4_error_allowed(p.b, p.n), r->allowed, "%s", r->name);
		memset(out, CANARY, sizeof(out));
		n = ap_build_icmp4_error(out, sizeof(out), R4, p.b, p.n, AP_ICMP4_TIME_EXCEED, 0, 0,
					 0);
		if (r->allowed) {
			cr_assert_eq(n, (int)(28 + p.n), "%s", r->name);
		} else {
			cr_assert_eq(n, -EPERM, "%s", r->name);
			expect_untouched(r->name, out, 0, sizeof(out));
		}
	}

	/* An ICMP datagram cut before its type cannot be classified. */
	load(&p, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp));
	p.b[9] = 1;
	fix_ip4(&p);
	p.b[20] = 8;
	cr_assert_not(ap_icmp4_error_allowed(p.b, 20));
	cr_assert(ap_icmp4_error_allowed(p.b, 21));
}

Test(build, icmp4_error_quote)
{
	static uint8_t out[BUF];
	struct pkt p;
	int n;

	/* Link padding after the datagram is not quoted. */
	load(&p, bv_icmp4_orig_udp, sizeof(bv_icmp4_orig_udp));
	memset(p.b + p.n, 0xee, 6);
	n = ap_build_icmp4_error(out, sizeof(out), R4, p.b, p.n + 6, AP_ICMP4_TIME_EXCEED, 0, 0,
				 htons(0x0101));
	cr_assert_eq(n, (int)sizeof(bv_icmp4_time_exceeded));
	cr_assert_arr_eq(out, bv_icmp4_time_exceeded, sizeof(bv_icmp4_time_exceeded));

	/* A clipped datagram is quoted as far as it goes. */
	n = ap_build_icmp4_error(out, sizeof(out), R4, bv_icmp4_orig_tcp, 100, AP_ICMP4_TIME_EXCEED,
				 0, 0, 0);
	cr_assert_eq(n, 128);
	cr_assert_eq(out[2] << 8 | out[3], 128);
	cr_assert_arr_eq(out + 28, bv_icmp4_orig_tcp, 100);
	cr_assert_eq(ap_ip4_hdr_csum_verify(out, 20), 0);
	cr_assert_eq(ap_csum(out + 20, 108), 0);

	/* Header only: still a valid error. */
	n = ap_build_icmp4_error(out, sizeof(out), R4, bv_icmp4_orig_tcp, 20, AP_ICMP4_TIME_EXCEED,
				 0, 0, 0);
	cr_assert_eq(n, 48);
}

Test(build, icmp4_error_invalid)
{
	static uint8_t out[BUF];
	struct pkt p;
	const uint8_t *o = bv_icmp4_orig_udp;
	size_t on = sizeof(bv_icmp4_orig_udp);
	unsigned t;

	for (t = 0; t < 256; t++) {
		int n = ap_build_icmp4_error(out, sizeof(out), R4, o, on, (uint8_t)t, 0, 0, 0);

		if (t == 3 || t == 5 || t == 11 || t == 12)
			cr_assert_gt(n, 0, "type %u", t);
		else
			cr_assert_eq(n, -EINVAL, "type %u", t);
	}
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), 0, o, on, 11, 0, 0, 0), -EINVAL);
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), ip4(224, 0, 0, 1), o, on, 11, 0, 0, 0),
		     -EINVAL);
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, o, on, 3, 4, 0, 0), -EINVAL);
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, o, on, 3, 4, htonl(67), 0),
		     -EINVAL);
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, o, on, 3, 4, htonl(68), 0),
		     (int)(28 + on));
	/* Malformed originals. */
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, o, 19, 11, 0, 0, 0), -EINVAL);
	load(&p, o, on);
	p.b[0] = 0x65;
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, p.b, p.n, 11, 0, 0, 0), -EINVAL);
	cr_assert_not(ap_icmp4_error_allowed(p.b, p.n));
	p.b[0] = 0x44;
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, p.b, p.n, 11, 0, 0, 0), -EINVAL);
	p.b[0] = 0x46;
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, p.b, 23, 11, 0, 0, 0), -EINVAL);
	load(&p, o, on);
	p.b[2] = 0;
	p.b[3] = 19;
	cr_assert_eq(ap_build_icmp4_error(out, sizeof(out), R4, p.b, p.n, 11, 0, 0, 0), -EINVAL);
	cr_assert_not(ap_icmp4_error_allowed(p.b, p.n));
}

/* ------------------------------------------------------ ICMPv6 echo */

Test(build, icmp6_echo_reply_in_place)
{
	static const uint8_t ff01[16] = {0xff, 0x01, [15] = 0x01};
	struct pkt p;

	load(&p, bv_icmp6_echo_req, sizeof(bv_icmp6_echo_req));
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n + 5, NULL), 0);
	cr_assert_arr_eq(p.b, bv_icmp6_echo_rep, sizeof(bv_icmp6_echo_rep));

	load(&p, bv_icmp6_echo_req_mcast, sizeof(bv_icmp6_echo_req_mcast));
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, NULL), -EINVAL);
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, ff01), -EINVAL);
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, ALL_NODES), -EINVAL);
	cr_assert_arr_eq(p.b, bv_icmp6_echo_req_mcast, sizeof(bv_icmp6_echo_req_mcast));
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, R6), 0);
	cr_assert_arr_eq(p.b, bv_icmp6_echo_rep_mcast, sizeof(bv_icmp6_echo_rep_mcast));

	/* The override may name the reply's source for a unicast request too. */
	load(&p, bv_icmp6_echo_req, sizeof(bv_icmp6_echo_req));
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, R6LL), 0);
	cr_assert_arr_eq(p.b + 8, R6LL, 16);
	cr_assert_arr_eq(p.b + 24, H6, 16);
	cr_assert_eq(ap_l4_csum_ip6(p.b, p.b + 40, (uint32_t)p.n - 40, 58), 0);
}

Test(build, icmp6_echo_reply_rejects)
{
	static const struct {
		const char *name;
		size_t off;
		uint8_t val;
		bool fix;
		int want;
	} rows[] = {
		{"version-4", 0, 0x40, false, -EINVAL},
		{"payload-beyond", 5, 0xff, false, -EINVAL},
		{"udp", 6, 17, false, -EINVAL},
		{"hop-by-hop", 6, 0, false, -EOPNOTSUPP},
		{"fragment", 6, 44, false, -EOPNOTSUPP},
		{"echo-reply", 40, 129, true, -EINVAL},
		{"code-1", 41, 1, true, -EINVAL},
		{"bad-checksum", 42, 0, false, -EINVAL},
		{"src-multicast", 8, 0xff, true, -EPERM},
	};
	struct pkt p, orig;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		load(&p, bv_icmp6_echo_req, sizeof(bv_icmp6_echo_req));
		p.b[rows[i].off] = rows[i].val;
		if (rows[i].fix)
			fix_icmp6(&p);
		orig = p;
		cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, NULL), rows[i].want, "%s",
			     rows[i].name);
		cr_assert_arr_eq(p.b, orig.b, sizeof(p.b), "%s: modified on error", rows[i].name);
	}

	load(&p, bv_icmp6_echo_req, sizeof(bv_icmp6_echo_req));
	memset(p.b + 8, 0, 16);
	fix_icmp6(&p);
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, NULL), -EPERM);

	load(&p, bv_icmp6_echo_req, sizeof(bv_icmp6_echo_req));
	set_plen6(&p, 7);
	cr_assert_eq(ap_icmp6_echo_to_reply(p.b, p.n, NULL), -EINVAL);

	for (i = 0; i < sizeof(bv_icmp6_echo_req); i++) {
		load(&p, bv_icmp6_echo_req, sizeof(bv_icmp6_echo_req));
		cr_assert_eq(ap_icmp6_echo_to_reply(p.b, i, NULL), -EINVAL, "len %zu", i);
	}
}

/* ------------------------------------------------------ ICMPv6 errors */

Test(build, icmp6_error_rules)
{
	static uint8_t out[BUF];
	struct pkt p;
	int n;

	/* (e.3): to a group, only Packet Too Big and Parameter Problem code 2. */
	load(&p, bv_icmp6_orig_mcast, sizeof(bv_icmp6_orig_mcast));
	cr_assert(ap_icmp6_error_allowed(p.b, p.n, AP_ICMP6_PKT_TOO_BIG, 0));
	cr_assert(ap_icmp6_error_allowed(p.b, p.n, AP_ICMP6_PARAM_PROB, 2));
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, AP_ICMP6_PARAM_PROB, 1));
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, AP_ICMP6_TIME_EXCEED, 0));
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, AP_ICMP6_DEST_UNREACH, 4));
	memset(out, CANARY, sizeof(out));
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), R6, p.b, p.n, 3, 0, 0), -EPERM);
	expect_untouched("mcast", out, 0, sizeof(out));

	/* (e.6): the source must name one node. */
	load(&p, bv_icmp6_orig_udp, sizeof(bv_icmp6_orig_udp));
	cr_assert(ap_icmp6_error_allowed(p.b, p.n, 3, 0));
	memset(p.b + 8, 0, 16);
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, 3, 0));
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, 2, 0));
	p.b[8] = 0xff;
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, 2, 0));
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), R6, p.b, p.n, 2, 0, htonl(1280)),
		     -EPERM);

	/* (e.1), (e.2): not about ICMPv6 errors or redirects, directly or behind options. */
	load(&p, bv_icmp6_orig_udp, sizeof(bv_icmp6_orig_udp));
	p.b[6] = 58;
	for (unsigned t = 0; t < 256; t++) {
		p.b[40] = (uint8_t)t;
		cr_assert_eq(ap_icmp6_error_allowed(p.b, p.n, 3, 0), t >= 128 && t != 137,
			     "type %u", t);
	}
	/* Destination options header (8 bytes) then an ICMPv6 time exceeded. */
	load(&p, bv_icmp6_orig_udp, 40);
	p.b[6] = 60;
	memcpy(p.b + 40, "\x3a\x00\x01\x04\x00\x00\x00\x00", 8);
	memcpy(p.b + 48, "\x03\x00\x00\x00\x00\x00\x00\x00", 8);
	set_plen6(&p, 16);
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, 1, 0));
	p.b[48] = 128;
	cr_assert(ap_icmp6_error_allowed(p.b, p.n, 1, 0));
	/* Cut before the ICMPv6 type: cannot tell, so no error. */
	cr_assert_not(ap_icmp6_error_allowed(p.b, 48, 1, 0));
	/* A non-first fragment: its upper layer is unknown, errors are allowed. */
	p.b[6] = 44;
	memcpy(p.b + 40, "\x3a\x00\x00\x08\x00\x00\x00\x01", 8);
	p.b[48] = 3;
	cr_assert(ap_icmp6_error_allowed(p.b, p.n, 4, 0));
	/* The same as a first fragment exposes the ICMPv6 error. */
	p.b[43] = 0x01;
	p.b[42] = 0x00;
	cr_assert_not(ap_icmp6_error_allowed(p.b, p.n, 4, 0));

	/* The quote stops at the payload length, not at link padding. */
	load(&p, bv_icmp6_orig_udp, sizeof(bv_icmp6_orig_udp));
	n = ap_build_icmp6_error(out, sizeof(out), R6, p.b, p.n + 10, 3, 0, 0);
	cr_assert_eq(n, (int)sizeof(bv_icmp6_time_exceeded));
	cr_assert_arr_eq(out, bv_icmp6_time_exceeded, sizeof(bv_icmp6_time_exceeded));
}

Test(build, icmp6_error_invalid)
{
	static uint8_t out[BUF];
	static const uint8_t ff02_1[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t unspec[16];
	const uint8_t *o = bv_icmp6_orig_udp;
	size_t on = sizeof(bv_icmp6_orig_udp);
	struct pkt p;
	unsigned t;

	for (t = 0; t < 256; t++) {
		int n = ap_build_icmp6_error(out, sizeof(out), R6, o, on, (uint8_t)t, 0,
					     htonl(1500));

		if (t >= 1 && t <= 4)
			cr_assert_gt(n, 0, "type %u", t);
		else
			cr_assert_eq(n, -EINVAL, "type %u", t);
	}
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), ff02_1, o, on, 3, 0, 0), -EINVAL);
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), unspec, o, on, 3, 0, 0), -EINVAL);
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), R6, o, on, 2, 0, htonl(1279)), -EINVAL);
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), R6, o, 39, 3, 0, 0), -EINVAL);
	cr_assert_not(ap_icmp6_error_allowed(o, 39, 3, 0));
	load(&p, o, on);
	p.b[0] = 0x45;
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), R6, p.b, p.n, 3, 0, 0), -EINVAL);
	/* A clipped original (payload length beyond the bytes) is quoted as given. */
	cr_assert_eq(ap_build_icmp6_error(out, sizeof(out), R6, o, 50, 3, 0, 0), 98);
	cr_assert_eq(ap_l4_csum_ip6(out, out + 40, 58, 58), 0);
}

/* ----------------------------------------------------------- ND build */

Test(build, nd_invalid)
{
	static uint8_t out[BUF];
	static const uint8_t ff02_2[16] = {0xff, 0x02, [15] = 2};
	static const uint8_t unspec[16];
	struct ap_nd_ra ra = full_ra();
	struct ap_nd_prefix bad[1];

	cr_assert_eq(ap_build_nd_ns(out, sizeof(out), MAC_R, R6, ff02_2, false), -EINVAL);
	cr_assert_eq(ap_build_nd_ns(out, sizeof(out), MAC_R, unspec, H6, false), -EINVAL);
	cr_assert_eq(ap_build_nd_ns(out, sizeof(out), MAC_R, ff02_2, H6, false), -EINVAL);
	cr_assert_eq(ap_build_nd_ns(out, 3, MAC_R, R6, ff02_2, false), -EINVAL);

	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, NULL, R6, H6, R6, 0, NULL), -EINVAL);
	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, NULL, R6, ALL_NODES, R6,
				    AP_ND_NA_SOLICITED, NULL),
		     -EINVAL);
	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, MAC_H, R6, H6, R6, 0x10, NULL),
		     -EINVAL);
	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, MAC_H, R6, H6, ff02_2, 0, NULL),
		     -EINVAL);
	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, MAC_H, unspec, H6, R6, 0, NULL),
		     -EINVAL);
	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, MAC_H, R6, unspec, R6, 0, NULL),
		     -EINVAL);
	/* Without the TLLA option the NA is 24 bytes of ICMPv6. */
	cr_assert_eq(ap_build_nd_na(out, sizeof(out), MAC_R, MAC_H, R6, H6, R6, 0, NULL), 78);

	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6, NULL, &ra), -EINVAL);
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, H6LL, &ra), -EINVAL);
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, MAC_H, R6LL, unspec, &ra), -EINVAL);
	ra.flags = 0x20;
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), -EINVAL);
	ra = full_ra();
	ra.n_prefixes = 1;
	ra.prefixes = bad;
	bad[0] = ra_prefixes[0];
	bad[0].len = 129;
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), -EINVAL);
	bad[0].len = 128;
	bad[0].flags = 0x20;
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), -EINVAL);
	bad[0].flags = 0;
	bad[0].valid = htonl(10);
	bad[0].preferred = htonl(11);
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), -EINVAL);
	bad[0].preferred = htonl(10);
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra),
		     14 + 40 + 16 + 8 + 8 + 32);
	/* A /128 is copied whole; a /0 sends no prefix bits. */
	cr_assert_arr_eq(out + 14 + 40 + 16 + 8 + 8 + 16, ra_prefixes[0].prefix, 16);
	bad[0].len = 0;
	cr_assert_gt(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), 0);
	for (size_t k = 0; k < 16; k++)
		cr_assert_eq(out[14 + 40 + 16 + 8 + 8 + 16 + k], 0);
	ra.prefixes = NULL;
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), -EINVAL);
	ra.n_prefixes = 5000;
	ra.prefixes = bad;
	cr_assert_eq(ap_build_nd_ra(out, sizeof(out), MAC_R, NULL, R6LL, NULL, &ra), -EINVAL);
}

/* ----------------------------------------------------------- ND parse */

/* IPv6 packet of an ND frame vector, to mutate. */
static void
load_nd(struct pkt *p, const uint8_t *frame, size_t n)
{
	load(p, frame + 14, n - 14);
}

static int
parse_nd(const struct pkt *p, struct ap_nd_msg *m)
{
	uint32_t plen = (uint32_t)(p->b[4] << 8 | p->b[5]);

	return ap_parse_nd(p->b + 40, plen, p->b + 8, p->b + 24, p->b[7], m);
}

Test(build, nd_parse_round_trip)
{
	struct ap_nd_msg m;
	struct pkt p;

	load_nd(&p, bv_nd_ns, sizeof(bv_nd_ns));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_eq(m.type, AP_ND_NS);
	cr_assert_arr_eq(m.target, H6, 16);
	cr_assert(m.has_slla && !m.has_tlla);
	cr_assert_arr_eq(m.slla, MAC_R, 6);

	load_nd(&p, bv_nd_ns_dad, sizeof(bv_nd_ns_dad));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_eq(m.type, AP_ND_NS);
	cr_assert_arr_eq(m.target, R6, 16);
	cr_assert_not(m.has_slla);

	load_nd(&p, bv_nd_na, sizeof(bv_nd_na));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_eq(m.type, AP_ND_NA);
	cr_assert_eq(m.flags, AP_ND_NA_ROUTER | AP_ND_NA_SOLICITED | AP_ND_NA_OVERRIDE);
	cr_assert_arr_eq(m.target, R6, 16);
	cr_assert(m.has_tlla && !m.has_slla);
	cr_assert_arr_eq(m.tlla, MAC_R, 6);

	load_nd(&p, bv_nd_na_unsolicited, sizeof(bv_nd_na_unsolicited));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_eq(m.flags, AP_ND_NA_ROUTER | AP_ND_NA_OVERRIDE);

	load_nd(&p, bv_nd_ra, sizeof(bv_nd_ra));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_eq(m.type, AP_ND_RA);
	cr_assert_eq(m.cur_hop_limit, 64);
	cr_assert_eq(m.flags, 0x40);
	cr_assert_eq(m.router_lifetime, htons(1800));
	cr_assert_eq(m.reachable, htonl(30000));
	cr_assert_eq(m.retrans, htonl(1000));
	cr_assert_eq(m.mtu, htonl(1500));
	cr_assert(m.has_slla);
	cr_assert_arr_eq(m.slla, MAC_R, 6);

	load_nd(&p, bv_nd_rs, sizeof(bv_nd_rs));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_eq(m.type, AP_ND_RS);
	cr_assert_arr_eq(m.slla, MAC_H, 6);

	load_nd(&p, bv_nd_ns_from_host, sizeof(bv_nd_ns_from_host));
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_arr_eq(m.target, R6, 16);
	cr_assert_arr_eq(m.slla, MAC_H, 6);
}

Test(build, nd_parse_options)
{
	struct ap_nd_msg m;
	struct pkt p;

	/* An unknown option (nonce, RFC 3971) is skipped; a second SLLA is ignored. */
	load_nd(&p, bv_nd_ns_from_host, sizeof(bv_nd_ns_from_host));
	memcpy(p.b + p.n, "\x0e\x01\x01\x02\x03\x04\x05\x06", 8);
	memcpy(p.b + p.n + 8, "\x01\x01\x0a\x0b\x0c\x0d\x0e\x0f", 8);
	set_plen6(&p, p.n - 40 + 16);
	fix_icmp6(&p);
	cr_assert_eq(parse_nd(&p, &m), 0);
	cr_assert_arr_eq(m.slla, MAC_H, 6);
}

struct nd_bad {
	const char *name;
	const uint8_t *frame;
	size_t n;
	size_t off; /* offset in the IPv6 packet, SIZE_MAX for none */
	uint8_t val;
	int plen_delta; /* added to the payload length */
	bool fix;	/* recompute the checksum */
	int want;
};

#define NDV(v) v, sizeof(v)

static const struct nd_bad nd_bad_rows[] = {
	{"ns-hop-limit-254", NDV(bv_nd_ns), 7, 254, 0, true, -EINVAL},
	{"ns-code-1", NDV(bv_nd_ns), 41, 1, 0, true, -EINVAL},
	{"ns-bad-checksum", NDV(bv_nd_ns), 43, 0, 0, false, -EINVAL},
	{"ns-short-23", NDV(bv_nd_ns), SIZE_MAX, 0, -9, true, -EINVAL},
	{"ns-target-multicast", NDV(bv_nd_ns), 48, 0xff, 0, true, -EINVAL},
	{"ns-opt-len-0", NDV(bv_nd_ns), 65, 0, 0, true, -EINVAL},
	{"ns-opt-len-2", NDV(bv_nd_ns), 65, 2, 0, true, -EINVAL},
	{"ns-opt-cut", NDV(bv_nd_ns), SIZE_MAX, 0, -2, true, -EINVAL},
	{"ns-opt-1-byte", NDV(bv_nd_ns), SIZE_MAX, 0, -7, true, -EINVAL},
	{"ns-src-multicast", NDV(bv_nd_ns), 8, 0xff, 0, true, -EINVAL},
	{"dad-ns-with-slla", NDV(bv_nd_ns), 8, 0, 0, true, -EINVAL},
	{"dad-ns-to-all-nodes", NDV(bv_nd_ns_dad), 37, 0, 0, true, -EINVAL},
	{"na-short", NDV(bv_nd_na), SIZE_MAX, 0, -16, true, -EINVAL},
	{"na-target-multicast", NDV(bv_nd_na), 48, 0xff, 0, true, -EINVAL},
	{"na-solicited-to-group", NDV(bv_nd_na_unsolicited), 44, 0xe0, 0, true, -EINVAL},
	{"na-from-unspecified", NDV(bv_nd_na), 8, 0, 0, true, -EINVAL},
	{"ra-from-global", NDV(bv_nd_ra), 8, 0x20, 0, true, -EINVAL},
	{"ra-mtu-len-2", NDV(bv_nd_ra), 65, 2, 0, true, -EINVAL},
	{"ra-hop-limit-64", NDV(bv_nd_ra), 7, 64, 0, true, -EINVAL},
	{"rs-short", NDV(bv_nd_rs), SIZE_MAX, 0, -9, true, -EINVAL},
	{"rs-unspecified-with-slla", NDV(bv_nd_rs), 8, 0, 0, true, -EINVAL},
	{"echo-request", NDV(bv_nd_ns), 40, 128, 0, true, -ENOMSG},
	{"redirect", NDV(bv_nd_ns), 40, 137, 0, true, -ENOMSG},
};

Test(build, nd_parse_rejects)
{
	struct ap_nd_msg m;
	struct pkt p;
	size_t i;

	for (i = 0; i < sizeof(nd_bad_rows) / sizeof(nd_bad_rows[0]); i++) {
		const struct nd_bad *r = &nd_bad_rows[i];

		load_nd(&p, r->frame, r->n);
		if (r->off != SIZE_MAX) {
			/* The unspecified source: zero the whole address. */
			if (r->off == 8 && r->val == 0)
				memset(p.b + 8, 0, 16);
			else if (r->off == 37 && r->val == 0)
				memcpy(p.b + 24, ALL_NODES, 16);
			else
				p.b[r->off] = r->val;
		}
		if (r->plen_delta)
			set_plen6(&p, (size_t)((int)p.n - 40 + r->plen_delta));
		if (r->fix)
			fix_icmp6(&p);
		memset(&m, 0xa5, sizeof(m));
		cr_assert_eq(parse_nd(&p, &m), r->want, "%s", r->name);
		cr_assert_eq(m.type, 0, "%s: output not cleared", r->name);
	}
	cr_assert_eq(ap_parse_nd(bv_nd_ns + 54, 3, R6, H6, 255, &m), -EINVAL);
	cr_assert_eq(ap_parse_nd(bv_nd_ns + 54, 70000, R6, H6, 255, &m), -EINVAL);
}

/* ---------------------------------------------------------------- ARP */

Test(build, arp_parse)
{
	static const struct {
		const uint8_t *v;
		uint16_t op;
		bool grat;
	} rows[] = {
		{bv_arp_request, AP_ARP_OP_REQUEST, false},
		{bv_arp_reply, AP_ARP_OP_REPLY, false},
		{bv_arp_gratuitous, AP_ARP_OP_REQUEST, true},
	};
	struct ap_arp_msg m;
	uint8_t b[60];
	size_t i, k;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(ap_parse_arp(rows[i].v + 14, 46, &m), 0);
		cr_assert_eq(ntohs(m.op), rows[i].op);
		cr_assert_arr_eq(m.sha, MAC_R, 6);
		cr_assert_eq(m.spa, R4);
		cr_assert_eq(m.gratuitous, rows[i].grat);
		cr_assert_eq(m.tpa, rows[i].grat ? R4 : H4);
	}
	cr_assert_arr_eq(m.tha, (uint8_t[6]){0}, 6);
	cr_assert_eq(ap_parse_arp(bv_arp_reply + 14, 28, &m), 0);
	cr_assert_arr_eq(m.tha, MAC_H, 6);
	cr_assert_eq(ap_parse_arp(bv_arp_reply + 14, 27, &m), -EINVAL);

	/* Hardware type, protocol type, lengths, opcode: each byte of them wrong. */
	for (k = 0; k < 8; k++) {
		memcpy(b, bv_arp_request + 14, 46);
		b[k] ^= 0x40;
		cr_assert_eq(ap_parse_arp(b, 46, &m), -EINVAL, "byte %zu", k);
		cr_assert_eq(m.op, 0);
	}
}

/* ----------------------------------------------------------- addresses */

Test(build, ip6_addresses)
{
	static const uint8_t mac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
	static const uint8_t ll[16] = {0xfe, 0x80, [8] = 0x02, 0x11, 0x22,
				       0xff, 0xfe, 0x33,       0x44, 0x55};
	static const uint8_t sn[16] = {0xff, 0x02, [11] = 0x01, 0xff, 0x33, 0x44, 0x55};
	uint8_t a[16], m[6];

	ap_ip6_link_local_from_mac(mac, a);
	cr_assert_arr_eq(a, ll, 16);
	ap_ip6_link_local_from_mac(MAC_R, a);
	cr_assert_arr_eq(a, R6LL, 16);
	/* In place, as the node does with a scratch address. */
	ap_ip6_solicited_node(a, a);
	cr_assert_arr_eq(a, ((uint8_t[16]){0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x01}), 16);
	ap_ip6_solicited_node(ll, a);
	cr_assert_arr_eq(a, sn, 16);
	ap_ip6_mcast_mac(sn, m);
	cr_assert_arr_eq(m, ((uint8_t[6]){0x33, 0x33, 0xff, 0x33, 0x44, 0x55}), 6);
	ap_ip6_mcast_mac(ALL_NODES, m);
	cr_assert_arr_eq(m, ((uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}), 6);
}

Test(build, ip4_bcast_or_mcast)
{
	static const struct {
		uint8_t a[4];
		bool want;
	} rows[] = {
		{{255, 255, 255, 255}, true}, {{224, 0, 0, 1}, true},
		{{239, 255, 255, 250}, true}, {{192, 0, 2, 255}, true},
		{{192, 0, 2, 1}, false},      {{223, 255, 255, 255}, false},
		{{240, 0, 0, 1}, false},      {{10, 255, 255, 255}, false},
		{{0, 0, 0, 0}, false},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t ip = ip4(rows[i].a[0], rows[i].a[1], rows[i].a[2], rows[i].a[3]);

		cr_assert_eq(ap_ip4_is_bcast_or_mcast(ip, ip4(192, 0, 2, 255)), rows[i].want,
			     "row %zu", i);
	}
	/* Without a subnet, only the limited broadcast and groups. */
	cr_assert_not(ap_ip4_is_bcast_or_mcast(0, 0));
	cr_assert_not(ap_ip4_is_bcast_or_mcast(ip4(192, 0, 2, 255), 0));
}
