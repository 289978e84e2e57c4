/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Internet checksum (RFC 1071).
 *
 * The one's-complement sum does not depend on byte order (RFC 1071 section
 * 2(B)): summing native-order words gives the checksum already in the byte
 * order it has on the wire, so no byte swap is needed anywhere. It does not
 * depend on word size either (2^16 = 1 modulo 0xffff), so we add 32-bit
 * halves of 64-bit loads into a 64-bit accumulator (no carry to track for
 * any buffer below 2^32 bytes) and fold once at the end (section 4.1).
 *
 * Loads go through memcpy, which compiles to plain unaligned loads on the
 * targets we run on: the result is the same for any alignment of the buffer.
 */
#include <string.h>

#include "pkt/pkt.h"

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t
add64(uint64_t v)
{
	return (v & 0xffffffffu) + (v >> 32);
}

static inline uint16_t
fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t
ap_csum_partial(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t s0 = sum, s1 = 0;
	uint32_t v32;
	uint16_t v16;

	/* Two accumulators keep the adds of one iteration independent. */
	while (len >= 32) {
		s0 += add64(load64(b)) + add64(load64(b + 8));
		s1 += add64(load64(b + 16)) + add64(load64(b + 24));
		b += 32;
		len -= 32;
	}
	while (len >= 8) {
		s0 += add64(load64(b));
		b += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&v32, b, 4);
		s1 += v32;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&v16, b, 2);
		s1 += v16;
		b += 2;
		len -= 2;
	}
	if (len) {
		/* An odd last byte is padded with a zero byte on its right (section 4.1). */
		uint8_t pad[2] = {b[0], 0};

		memcpy(&v16, pad, 2);
		s1 += v16;
	}
	return fold(s0 + s1);
}

uint16_t
ap_csum(const void *buf, uint32_t len)
{
	return (uint16_t)~ap_csum_partial(buf, len, 0);
}

uint16_t
ap_ip4_hdr_csum_verify(const void *hdr, uint32_t ihl_bytes)
{
	/* Summing over the stored checksum gives 0xffff when it is right. */
	return ap_csum(hdr, ihl_bytes);
}

uint16_t
ap_l4_csum_ip4(const void *ip4hdr, const void *l4, uint32_t l4_len, uint8_t proto)
{
	const uint8_t *ip = ip4hdr;
	/* RFC 793 section 3.1 / RFC 768 pseudo-header: zero, protocol, length. */
	uint8_t ph[4] = {0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len};
	uint32_t s;

	s = ap_csum_partial(ip + 12, 8, 0);
	s = ap_csum_partial(ph, sizeof(ph), s);
	return (uint16_t)~ap_csum_partial(l4, l4_len, s);
}

uint16_t
ap_l4_csum_ip6(const void *ip6hdr, const void *l4, uint32_t l4_len, uint8_t proto)
{
	const uint8_t *ip = ip6hdr;
	/* RFC 8200 section 8.1 pseudo-header: 32-bit length, 3 zero bytes, next header. */
	uint8_t ph[8] = {(uint8_t)(l4_len >> 24),
			 (uint8_t)(l4_len >> 16),
			 (uint8_t)(l4_len >> 8),
			 (uint8_t)l4_len,
			 0,
			 0,
			 0,
			 proto};
	uint32_t s;

	s = ap_csum_partial(ip + 8, 32, 0);
	s = ap_csum_partial(ph, sizeof(ph), s);
	return (uint16_t)~ap_csum_partial(l4, l4_len, s);
}
