/* SPDX-License-Identifier: BSD-3-Clause */
/* Community ID v1, written from the specification; SHA-1 and base64 from
 * OpenSSL's libcrypto. */
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/community_id.h"

/* ICMP and ICMPv6 request/response pairs: such a flow is two-way, its
 * "ports" the type and the counterpart's type; other messages are one-way
 * with the type and the code. */
static int
icmp_counterpart(uint8_t proto, uint16_t type)
{
	static const uint8_t v4[][2] = {{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}};
	static const uint8_t v6[][2] = {{128, 129}, {130, 131}, {133, 134},
					{135, 136}, {139, 140}, {144, 145}};
	const uint8_t(*t)[2] = proto == 1 ? v4 : v6;
	unsigned n = proto == 1 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);

	for (unsigned i = 0; i < n; i++) {
		if (t[i][0] == type)
			return t[i][1];
		if (t[i][1] == type)
			return t[i][0];
	}
	return -1;
}

const char *
ap_community_id(uint16_t seed, uint8_t family, uint8_t proto, const uint8_t *src,
		const uint8_t *dst, uint16_t sport, uint16_t dport, char out[AP_COMMUNITY_ID_LEN])
{
	size_t alen = family == 4 ? 4 : 16, n = 0;
	bool ports = proto == 6 || proto == 17 || proto == 132 || proto == 1 || proto == 58;
	bool one_way = false;
	uint8_t buf[2 + 32 + 2 + 4], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int c;

	if (proto == 1 || proto == 58) {
		int cp = icmp_counterpart(proto, sport);

		if (cp < 0)
			one_way = true;
		else
			dport = (uint16_t)cp;
	}
	c = memcmp(src, dst, alen);
	if (!one_way && (c > 0 || (c == 0 && sport > dport))) {
		const uint8_t *ta = src;
		uint16_t tp = sport;

		src = dst;
		dst = ta;
		sport = dport;
		dport = tp;
	}
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, src, alen);
	n += alen;
	memcpy(buf + n, dst, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}
	out[0] = '1';
	out[1] = ':';
	if (EVP_Digest(buf, n, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
		out[2] = '\0';
		return out;
	}
	EVP_EncodeBlock((unsigned char *)out + 2, md, 20);
	return out;
}
