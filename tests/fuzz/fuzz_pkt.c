/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet parser, the checksum code and the
 * control-message builders.
 *
 * The input is one Ethernet frame. It is parsed at every depth and with and
 * without checksum verification; the results must be in bounds and agree
 * with each other. The checksum functions run over the same bytes and are
 * compared with a byte-at-a-time reference, at two alignments. The bytes
 * after the Ethernet header then go through the ARP and ND parsers, the
 * in-place echo replies (on a copy) and the ICMP error builders, each into a
 * buffer of exactly the capacity given, followed by guard bytes that must
 * stay untouched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/build.h"
#include "pkt/pkt.h"
#include "fuzz.h"

static uint16_t
ref_sum(const uint8_t *b, uint32_t len)
{
	uint32_t s = 0, i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t
wire16(uint16_t native)
{
	uint8_t b[2];

	memcpy(b, &native, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void
check_info(const struct ap_pkt_info *pi, enum ap_pkt_err err, uint32_t len)
{
	CHECK((unsigned)err < AP_PKT_ERR_COUNT);
	CHECK(ap_pkt_err_name(err) != NULL && ap_pkt_err_desc(err) != NULL);
	CHECK(pi->l3_off <= len);
	CHECK(pi->n_vlan <= 2);
	CHECK(pi->l3 <= AP_L3_IPV6);
	CHECK(pi->frag == 0 || pi->frag == AP_PKT_FRAG_FIRST || pi->frag == AP_PKT_FRAG_LATER);
	if (pi->l4_off) {
		CHECK(pi->l4_off >= pi->l3_off);
		CHECK((uint32_t)pi->l4_off + pi->l4_len <= len);
	}
}

static void
fuzz_parse(const uint8_t *data, uint32_t len)
{
	static const unsigned depth[] = {AP_PARSE_L2, AP_PARSE_L3, AP_PARSE_L4};
	struct ap_pkt_info pi[3], pc;
	enum ap_pkt_err err[3], errc = AP_PKT_OK;
	const uint8_t *l3, *l4;
	unsigned i;

	for (i = 0; i < 3; i++) {
		err[i] = ap_pkt_parse(data, len, depth[i], &pi[i]);
		check_info(&pi[i], err[i], len);
	}
	/* Deeper parses see the same L2; an L3 error is an L4 error too. */
	if (err[0] == AP_PKT_OK) {
		CHECK(pi[1].l3_off == pi[0].l3_off && pi[2].l3_off == pi[0].l3_off);
		CHECK(pi[1].ethertype == pi[0].ethertype && pi[2].n_vlan == pi[0].n_vlan);
		CHECK(pi[0].l4_off == 0 && pi[0].l4_proto == 0);
	} else {
		CHECK(err[1] == err[0] && err[2] == err[0]);
	}
	if (err[1] != AP_PKT_OK)
		CHECK(err[2] == err[1]);
	else if (pi[1].l4_off)
		CHECK(pi[2].l4_off == pi[1].l4_off && pi[2].l4_len == pi[1].l4_len);

	/* Checksum verification can only add an error, never remove one. */
	for (i = 1; i < 3; i++) {
		errc = ap_pkt_parse(data, len, depth[i] | AP_PARSE_IP4_CSUM, &pc);
		check_info(&pc, errc, len);
		if (err[i] != AP_PKT_OK)
			CHECK(errc == err[i] || errc == AP_PKT_ERR_IP4_CSUM);
		if (errc == AP_PKT_OK)
			CHECK(err[i] == AP_PKT_OK);
	}
	CHECK(ap_pkt_parse(data, len, AP_PARSE_IP4_CSUM, &pc) == err[0]);

	if (err[2] != AP_PKT_OK || pi[2].l4_off == 0)
		return;
	/* An accepted transport header fits in what the IP length gave it. */
	if (!(pi[2].frag & AP_PKT_FRAG_LATER)) {
		if (pi[2].l4_proto == 6)
			CHECK(pi[2].l4_len >= 20);
		else if (pi[2].l4_proto == 17)
			CHECK(pi[2].l4_len >= 8);
	}
	/* Checksums over the headers the parser found. */
	l3 = data + pi[2].l3_off;
	l4 = data + pi[2].l4_off;
	if (pi[2].l3 == AP_L3_IPV4) {
		uint32_t hl = (uint32_t)pi[2].l4_off - pi[2].l3_off;

		/* errc is the L4 parse with verification: it failed iff the sum is wrong. */
		CHECK((ap_ip4_hdr_csum_verify(l3, hl) == 0) == (errc == AP_PKT_OK));
		(void)ap_l4_csum_ip4(l3, l4, pi[2].l4_len, pi[2].l4_proto);
	} else if (pi[2].l3 == AP_L3_IPV6) {
		(void)ap_l4_csum_ip6(l3, l4, pi[2].l4_len, pi[2].l4_proto);
	}
}

static void
fuzz_csum(const uint8_t *data, uint32_t len)
{
	uint8_t *b = malloc(len + 1);
	uint16_t want = ref_sum(data, len);
	uint8_t w[64];
	uint32_t n, k, i;
	uint16_t c, c2, old_v, new_v;
	bool zero = true;

	/* The same bytes at an odd address give the same sum. */
	CHECK(b != NULL);
	memcpy(b + 1, data, len);
	CHECK(wire16(ap_csum_partial(data, len, 0)) == want);
	CHECK(wire16(ap_csum_partial(b + 1, len, 0)) == want);
	CHECK(ap_csum(b + 1, len) == (uint16_t)~ap_csum_partial(data, len, 0));
	free(b);

	/* RFC 1624 update of one word equals a recompute (except all-zero data). */
	n = len < sizeof(w) ? len & ~1u : sizeof(w);
	if (n < 4)
		return;
	memcpy(w, data, n);
	k = (data[0] % (n / 2)) * 2;
	c = ap_csum(w, n);
	memcpy(&old_v, w + k, 2);
	memcpy(&new_v, data + n - 2, 2);
	memcpy(w + k, &new_v, 2);
	c = ap_csum_update16(c, old_v, new_v);
	c2 = ap_csum(w, n);
	for (i = 0; i < n; i++)
		zero &= w[i] == 0;
	CHECK(c == c2 || (zero && c == 0 && c2 == 0xffff));
}

#define GUARD	   32
#define GUARD_BYTE 0x5a

/* A buffer of @p cap bytes plus a guard, in one allocation so ASan sees overruns too. */
static uint8_t *
guarded(size_t cap)
{
	uint8_t *b = malloc(cap + GUARD);

	CHECK(b != NULL);
	memset(b + cap, GUARD_BYTE, GUARD);
	return b;
}

static void
check_guard(const uint8_t *b, size_t cap)
{
	size_t i;

	for (i = 0; i < GUARD; i++)
		CHECK(b[cap + i] == GUARD_BYTE);
}

/* The IPv4 header checksum the fuzzer cannot guess, so deeper code is reached. */
static void
fix_ip4_csum(uint8_t *ip, size_t len)
{
	size_t hl;
	uint16_t c;

	if (len < 20)
		return;
	hl = (ip[0] & 0xfu) * 4u;
	if (hl < 20 || hl > len)
		return;
	ip[10] = ip[11] = 0;
	c = ap_csum(ip, (uint32_t)hl);
	memcpy(ip + 10, &c, 2);
}

/* Likewise the ICMPv6 checksum of a packet without extension headers. */
static void
fix_icmp6_csum(uint8_t *ip, size_t len)
{
	size_t plen;
	uint16_t c;

	if (len < 44)
		return;
	plen = (size_t)(ip[4] << 8 | ip[5]);
	if (plen < 4 || 40 + plen > len)
		return;
	ip[42] = ip[43] = 0;
	c = ap_l4_csum_ip6(ip, ip + 40, (uint32_t)plen, 58);
	memcpy(ip + 42, &c, 2);
}

static void
fuzz_echo(const uint8_t *l3, size_t len)
{
	uint8_t *b = guarded(len);
	uint16_t tot;
	int rc;

	memcpy(b, l3, len);
	fix_ip4_csum(b, len);
	rc = ap_icmp4_echo_to_reply(b, len);
	check_guard(b, len);
	CHECK(rc == 0 || rc == -EINVAL || rc == -EPERM || rc == -EOPNOTSUPP);
	if (rc == 0) {
		tot = (uint16_t)(b[2] << 8 | b[3]);
		CHECK(ap_ip4_hdr_csum_verify(b, 20) == 0);
		CHECK(b[8] == 64 && b[20] == 0 && tot <= len);
		CHECK(memcmp(b + 12, l3 + 16, 4) == 0 && memcmp(b + 16, l3 + 12, 4) == 0);
		/* The update keeps the ICMP checksum as right or wrong as it was. */
		CHECK((ap_csum(b + 20, tot - 20u) == 0) == (ap_csum(l3 + 20, tot - 20u) == 0));
	}

	memcpy(b, l3, len);
	fix_icmp6_csum(b, len);
	rc = ap_icmp6_echo_to_reply(b, len, len > 60 ? l3 + len - 16 : NULL);
	check_guard(b, len);
	CHECK(rc == 0 || rc == -EINVAL || rc == -EPERM || rc == -EOPNOTSUPP);
	if (rc == 0) {
		CHECK(b[7] == 64 && b[40] == 129);
		CHECK(ap_l4_csum_ip6(b, b + 40, (uint32_t)(b[4] << 8 | b[5]), 58) == 0);
		CHECK(memcmp(b + 24, l3 + 8, 16) == 0);
	}
	free(b);
}

static void
fuzz_errors(const uint8_t *l3, size_t len, uint8_t sel)
{
	static const uint8_t types4[] = {3, 5, 11, 12, 0, 8};
	static const uint8_t types6[] = {1, 2, 3, 4, 0, 128};
	static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	/* A capacity from the input: short, exact, roomy. */
	size_t cap = (size_t)sel * 7;
	uint8_t t4 = types4[sel % 6], t6 = types6[sel % 6], code = (uint8_t)(sel >> 4);
	uint8_t *b = guarded(cap);
	int n;

	n = ap_build_icmp4_error(b, cap, htonl(0xc0000201), l3, len, t4, code, htonl(1400), 7);
	check_guard(b, cap);
	CHECK(n <= (int)cap && n <= AP_ICMP4_ERR_MAX);
	CHECK(n > 0 || n == -EINVAL || n == -EPERM || n == -ENOSPC);
	if (n == -EPERM)
		CHECK(!ap_icmp4_error_allowed(l3, len));
	if (n > 0) {
		CHECK(ap_icmp4_error_allowed(l3, len));
		CHECK(ap_ip4_hdr_csum_verify(b, 20) == 0 && ap_csum(b + 20, (uint32_t)n - 20) == 0);
		CHECK(memcmp(b + 28, l3, (size_t)n - 28) == 0);
	}

	n = ap_build_icmp6_error(b, cap, src6, l3, len, t6, code, htonl(1500));
	check_guard(b, cap);
	CHECK(n <= (int)cap && n <= AP_ICMP6_ERR_MAX);
	CHECK(n > 0 || n == -EINVAL || n == -EPERM || n == -ENOSPC);
	if (n == -EPERM)
		CHECK(!ap_icmp6_error_allowed(l3, len, t6, code));
	if (n > 0) {
		CHECK(ap_icmp6_error_allowed(l3, len, t6, code));
		CHECK(ap_l4_csum_ip6(b, b + 40, (uint32_t)n - 40, 58) == 0);
		CHECK(memcmp(b + 48, l3, (size_t)n - 48) == 0);
	}
	free(b);
}

static void
fuzz_nd(const uint8_t *l3, size_t len)
{
	struct ap_nd_msg m;
	struct ap_arp_msg a;
	uint8_t *b;
	size_t plen;
	int rc;

	rc = ap_parse_arp(l3, len, &a);
	CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		CHECK(ntohs(a.op) == 1 || ntohs(a.op) == 2);

	/* An IPv6 packet carrying ND: its checksum fixed so the options get parsed. */
	if (len < 44)
		return;
	b = guarded(len);
	memcpy(b, l3, len);
	fix_icmp6_csum(b, len);
	plen = (size_t)(b[4] << 8 | b[5]);
	if (plen > len - 40)
		plen = len - 40;
	rc = ap_parse_nd(b + 40, plen, b + 8, b + 24, 255, &m);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMSG);
	if (rc == 0) {
		CHECK(m.type >= AP_ND_RS && m.type <= AP_ND_NA);
		if (m.type == AP_ND_NS || m.type == AP_ND_NA)
			CHECK(m.target[0] != 0xff);
		/* Hop limit and checksum are both required. */
		CHECK(ap_parse_nd(b + 40, plen, b + 8, b + 24, 254, &m) == -EINVAL);
	} else {
		CHECK(m.type == 0);
	}
	rc = ap_parse_nd(l3, len, l3, l3, l3[0], &m);
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMSG);
	check_guard(b, len);
	free(b);
}

static void
fuzz_build(const uint8_t *data, uint32_t len)
{
	struct ap_pkt_info pi = {0};
	const uint8_t *l3;
	size_t n;

	if (ap_pkt_parse_l2(data, len, &pi) != AP_PKT_OK)
		return;
	l3 = data + pi.l3_off;
	n = len - pi.l3_off;
	fuzz_echo(l3, n);
	fuzz_errors(l3, n, data[5]);
	fuzz_nd(l3, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > 65535 + 64 ? 65535 + 64 : (uint32_t)size;

	fuzz_parse(data, len);
	fuzz_csum(data, len);
	fuzz_build(data, len);
	return 0;
}
