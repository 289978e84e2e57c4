/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet parser and the checksum code.
 *
 * The input is one Ethernet frame. It is parsed at every depth and with and
 * without checksum verification; the results must be in bounds and agree
 * with each other. The checksum functions run over the same bytes and are
 * compared with a byte-at-a-time reference, at two alignments.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): it must hold in every build type. */
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > 65535 + 64 ? 65535 + 64 : (uint32_t)size;

	fuzz_parse(data, len);
	fuzz_csum(data, len);
	return 0;
}
