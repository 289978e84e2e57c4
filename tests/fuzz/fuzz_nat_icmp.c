/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the translation of ICMP errors about translated flows
 * (ap_nat_icmp_error4) and conntrack's TCP segment reader. The input's first
 * 20 bytes make a flow's translation; the rest is an IPv4 packet, translated
 * on a copy followed by guard bytes that must stay untouched; when the
 * translation says it worked, the ICMP checksum must still verify. The same
 * bytes then go through the TCP segment reader and the window check.
 */
#include <stdint.h>
#include <string.h>

#include "dp/ct/ct.h"
#include "pkt/pkt.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_ct_flow f;
	struct ap_ct_key k;
	struct ap_ct_tcp_seg_info si;
	struct ap_ct_tcp_win w[2];
	uint8_t buf[1600];
	size_t len;

	if (size < 20 + 28 || size - 20 > sizeof(buf) - 16)
		return 0;
	memset(&f, 0, sizeof(f));
	memset(&k, 0, sizeof(k));
	k.family = 4;
	k.proto = data[0];
	f.orig_lo = data[1] & 1;
	f.nat = data[1] >> 6;
	memcpy(k.addr_lo, data + 2, 4);
	memcpy(k.addr_hi, data + 6, 4);
	f.key = k;
	memcpy(&f.nat_saddr, data + 10, 4);
	memcpy(&f.nat_daddr, data + 14, 4);
	memcpy(&f.nat_sport, data + 18, 2);
	f.nat_dport = f.nat_sport;
	data += 20;
	len = size - 20;
	memcpy(buf, data, len);
	memset(buf + len, 0xa5, 16);
	/* The outer header's length fields are the function's to check. */
	if ((buf[0] >> 4) == 4 && (buf[0] & 0xf) >= 5 &&
	    ap_nat_icmp_error4(buf, (uint32_t)len, &f, data[3] & 1)) {
		uint32_t hl = (buf[0] & 0xfu) * 4u, tot = (uint32_t)(buf[2] << 8 | buf[3]);

		CHECK(tot <= len && ap_csum(buf + hl, tot - hl) == 0);
	}
	for (int i = 0; i < 16; i++)
		CHECK(buf[len + i] == 0xa5);

	if (ap_ct_tcp_seg_parse(data, (uint32_t)len, (uint32_t)len, &si)) {
		CHECK(si.len <= len);
		memset(w, 0, sizeof(w));
		ap_ct_tcp_win_new(&w[0], &si);
		(void)ap_ct_tcp_in_window(&w[1], &w[0], AP_TCP_SYN_SENT, false, &si);
		(void)ap_ct_tcp_in_window(&w[0], &w[1], AP_TCP_ESTABLISHED, true, &si);
	}
	return 0;
}
