/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for BGP UPDATE decoding.
 *
 * The first input byte selects the session (bit 0: 4-byte ASNs, bit 1: iBGP);
 * the rest is the UPDATE body, behind a header built here so the fuzzer
 * spends its effort on the body. Every NLRI block the decoder accepts must
 * walk cleanly inside the input. An accepted UPDATE is encoded again from
 * what was decoded, and that message must decode to the same prefixes and,
 * on 4-byte sessions, the same AS_PATH.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svc/bgp/bgp.h"
#include "fuzz.h"

#define MAX_PFX 512

static struct ap_bgp_update u1, u2;
static uint8_t msg[AP_BGP_EXT_MAX_LEN], out[AP_BGP_EXT_MAX_LEN];
static struct ap_bgp_prefix pfx[MAX_PFX];

static uint32_t
walk(const struct ap_bgp_nlri *n, const uint8_t *lo, uint32_t len, struct ap_bgp_prefix *keep,
     uint32_t max)
{
	struct ap_bgp_prefix p;
	struct ap_wire w;
	uint32_t i = 0;

	if (n->len == 0 || n->af == AP_BGP_AF_NONE)
		return 0;
	CHECK(n->p >= lo && n->p + n->len <= lo + len);
	ap_wire_init(&w, n->p, n->len);
	while (ap_bgp_nlri_next(&w, n->af, &p)) {
		CHECK(p.len <= (n->af == AP_BGP_IPV6 ? 128 : 32));
		if (keep && i < max)
			keep[i] = p;
		i++;
	}
	CHECK(ap_wire_ok(&w));
	return i;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_bgp_sess_opts o = {0};
	struct ap_wire_w w;
	enum ap_bgp_action a;
	struct ap_bgp_prefix pk;
	uint32_t len, n;
	bool peeked;
	int enc;

	if (size < 1 || size - 1 > sizeof(msg) - AP_BGP_HDR_LEN)
		return 0;
	o.as4 = data[0] & 1;
	o.ibgp = data[0] & 2;
	ap_wire_w_init(&w, msg, sizeof(msg));
	ap_bgp_msg_begin(&w, AP_BGP_UPDATE);
	ap_wire_put_bytes(&w, data + 1, (uint32_t)size - 1);
	if (ap_bgp_msg_end(&w) < 0)
		return 0;
	len = ap_wire_w_used(&w);

	/* The read-ahead peek takes any bytes; what it finds of a well-formed
	 * UPDATE is what the decoder finds first. */
	peeked = ap_bgp_update_peek_prefix(msg, len, &pk);
	a = ap_bgp_update_decode(msg, len, &o, &u1);
	if (a == AP_BGP_ACT_OK && u1.nlri.len > 0) {
		struct ap_bgp_prefix first;
		struct ap_wire nw;

		ap_wire_init(&nw, u1.nlri.p, u1.nlri.len);
		CHECK(peeked == ap_bgp_nlri_next(&nw, AP_BGP_IPV4, &first));
		CHECK(!peeked || (first.len == pk.len && memcmp(first.addr, pk.addr, 16) == 0));
	}
	if (a == AP_BGP_ACT_SESSION_RESET) {
		CHECK(u1.err.code == AP_BGP_ERR_UPDATE);
		CHECK(u1.err.data_len <= AP_BGP_ERR_DATA_MAX);
		return 0;
	}
	walk(&u1.withdrawn, msg, len, NULL, 0);
	walk(&u1.mp_unreach, msg, len, NULL, 0);
	walk(&u1.mp_reach, msg, len, NULL, 0);
	n = walk(&u1.nlri, msg, len, pfx, MAX_PFX);
	if (u1.attrs.as_path_len) {
		char s[256];

		ap_bgp_aspath_str(u1.attrs.as_path, u1.attrs.as_path_len, s, sizeof(s));
		ap_bgp_aspath_count(u1.attrs.as_path, u1.attrs.as_path_len);
	}
	if (a >= AP_BGP_ACT_TREAT_AS_WITHDRAW || n == 0 || n > MAX_PFX)
		return 0;

	ap_wire_w_init(&w, out, sizeof(out));
	enc = ap_bgp_update_encode(&w, &o, &u1.attrs, AP_BGP_IPV4, pfx, n, false);
	if (enc < 0)
		return 0;
	a = ap_bgp_update_decode(out, ap_wire_w_used(&w), &o, &u2);
	CHECK(a < AP_BGP_ACT_TREAT_AS_WITHDRAW);
	{
		struct ap_bgp_prefix back[MAX_PFX];
		uint32_t m = walk(&u2.nlri, out, ap_wire_w_used(&w), back, MAX_PFX);

		CHECK(m == (uint32_t)enc);
		CHECK(memcmp(back, pfx, m * sizeof(back[0])) == 0);
	}
	if (o.as4) {
		CHECK(u2.attrs.as_path_len == u1.attrs.as_path_len);
		CHECK(memcmp(u2.attrs.as_path, u1.attrs.as_path, u1.attrs.as_path_len) == 0);
	}
	return 0;
}
