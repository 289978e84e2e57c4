/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the SYN proxy's TCP option code. The input is a TCP
 * header (its data offset is taken from the bytes, capped by the input).
 * The options are parsed; what was understood is written back as a segment
 * and must parse to the same; the sequence shifts run on a copy with guard
 * bytes after it, and shifting back must give the header back bit for bit
 * (checksum included).
 */
#include <stdint.h>
#include <string.h>

#include "dp/syn/syn.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap_syn_opts o, back;
	struct ap_syn_seg s = {.family = 4};
	uint8_t hdr[60 + 8], out[128];
	uint32_t hlen, len, delta, tsoff;

	if (size < 28)
		return 0;
	/* Eight bytes of shift amounts, then the header. */
	memcpy(&delta, data, 4);
	memcpy(&tsoff, data + 4, 4);
	data += 8;
	size -= 8;
	hlen = (uint32_t)(data[12] >> 4) * 4;
	if (hlen < 20 || hlen > size)
		hlen = size < 60 ? (uint32_t)size : 60;
	hlen &= ~3u;
	if (hlen < 20)
		return 0;
	ap_syn_parse_opts(data, hlen, &o);
	CHECK(!(o.has & AP_SYN_OPT_WSCALE) || o.wscale <= 14);

	s.o = o;
	len = ap_syn_emit(out, sizeof(out), &s);
	CHECK(len >= 40 && len <= sizeof(out));
	ap_syn_parse_opts(out + 20, len - 20, &back);
	CHECK(back.has == o.has);
	CHECK(!(o.has & AP_SYN_OPT_MSS) || back.mss == o.mss);
	CHECK(!(o.has & AP_SYN_OPT_TS) || (back.tsval == o.tsval && back.tsecr == o.tsecr));

	for (int dir = 0; dir < 2; dir++) {
		memcpy(hdr, data, hlen);
		memset(hdr + hlen, 0xa5, 8);
		ap_syn_seqadj(hdr, hlen, dir == 0, delta, tsoff);
		ap_syn_seqadj(hdr, hlen, dir == 0, -delta, -tsoff);
		for (int i = 0; i < 8; i++)
			CHECK(hdr[hlen + i] == 0xa5);
		/* Back where it started, but the checksum may have become the
		 * other zero (0x0000 / 0xffff) of one's complement. */
		CHECK(memcmp(hdr, data, 16) == 0 && memcmp(hdr + 18, data + 18, hlen - 18) == 0);
	}
	return 0;
}
