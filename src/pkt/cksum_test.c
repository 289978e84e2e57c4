/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internet checksum tests: published vectors, a naive reference on random
 * data at every alignment, and RFC 1624 incremental updates against a full
 * recompute.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/pkt.h"

/* The checksum as the two bytes it occupies on the wire. */
static uint16_t
wire16(uint16_t native)
{
	uint8_t b[2];

	memcpy(b, &native, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint16_t
native16(uint16_t wire)
{
	uint8_t b[2] = {(uint8_t)(wire >> 8), (uint8_t)wire};
	uint16_t v;

	memcpy(&v, b, 2);
	return v;
}

/* Byte-at-a-time reference: big-endian 16-bit words, end-around carry. */
static uint16_t
ref_sum(const uint8_t *b, uint32_t len, uint32_t init_wire)
{
	uint32_t s = init_wire;
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2) {
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
		s = (s & 0xffff) + (s >> 16);
	}
	if (len & 1) {
		s += (uint32_t)b[len - 1] << 8;
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

static size_t
unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*h && n < cap) {
		if (*h == ' ') {
			h++;
			continue;
		}
		cr_assert(sscanf(h, "%2x", &v) == 1, "bad hex near '%s'", h);
		out[n++] = (uint8_t)v;
		h += 2;
	}
	return n;
}

Test(cksum, rfc1071_example)
{
	/* RFC 1071 section 3: these bytes sum to 0xddf2 (in wire order). */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	cr_assert_eq(wire16(ap_csum_partial(b, sizeof(b), 0)), 0xddf2);
	cr_assert_eq(wire16(ap_csum(b, sizeof(b))), (uint16_t)~0xddf2);
}

Test(cksum, short_and_odd_lengths)
{
	static const uint8_t b[] = {0xab, 0xcd, 0x12};

	cr_assert_eq(ap_csum_partial(b, 0, 0), 0);
	cr_assert_eq(wire16(ap_csum(b, 0)), 0xffff);
	/* A lone byte is the high half of a word padded with zero. */
	cr_assert_eq(wire16(ap_csum_partial(b, 1, 0)), 0xab00);
	cr_assert_eq(wire16(ap_csum_partial(b, 2, 0)), 0xabcd);
	cr_assert_eq(wire16(ap_csum_partial(b, 3, 0)), 0xbdcd);
}

Test(cksum, carry_folds)
{
	uint8_t b[4096];

	/* All ones: every partial sum is 0xffff, the inverted checksum 0. */
	memset(b, 0xff, sizeof(b));
	cr_assert_eq(wire16(ap_csum_partial(b, sizeof(b), 0)), 0xffff);
	cr_assert_eq(ap_csum(b, sizeof(b)), 0);
	/* Initial sum carries into the result. */
	cr_assert_eq(wire16(ap_csum_partial(b, 0, native16(0x1234))), 0x1234);
}

Test(cksum, ip4_header_vector)
{
	/* A well-known header whose checksum is 0xb861. */
	uint8_t h[20];

	unhex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7", h, sizeof(h));
	cr_assert_eq(ap_ip4_hdr_csum_verify(h, 20), 0);
	h[10] = h[11] = 0;
	cr_assert_eq(wire16(ap_csum(h, 20)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x62;
	cr_assert_neq(ap_ip4_hdr_csum_verify(h, 20), 0);
}

/* Transport checksums computed by an independent implementation. */
struct l4_vector {
	const char *name;
	const char *hex;
	bool ip6;
	uint8_t proto;
	uint16_t csum;	  /* wire order */
	uint32_t csum_at; /* offset of the checksum field from the L4 header */
};

static const struct l4_vector l4_vectors[] = {
	{"udp4", "450000270001000040118e89c0000201c6336407303900350013514f68656c6c6f20776f726c64",
	 false, 17, 0x514f, 6},
	{"tcp4",
	 "4500002f0001000040068e8cc0000201c63364079c4000500000000100000000600220002af30000020405b4"
	 "616263",
	 false, 6, 0x2af3, 16},
	{"tcp6",
	 "600000000019064020010db800000000000000000000000120010db8000000000000000000000002"
	 "9c4001bb00000007000000005018200071a5000078797a3132",
	 true, 6, 0x71a5, 16},
	{"icmp6",
	 "60000000000c3a4020010db800000000000000000000000120010db8000000000000000000000002"
	 "8000333e1234000170696e67",
	 true, 58, 0x333e, 2},
	{"udp6-odd",
	 "60000000000b114020010db800000000000000000000000120010db8000000000000000000000002"
	 "00010002000bd0fb6f6464",
	 true, 17, 0xd0fb, 6},
};

Test(cksum, l4_pseudo_header_vectors)
{
	size_t i;

	for (i = 0; i < sizeof(l4_vectors) / sizeof(l4_vectors[0]); i++) {
		const struct l4_vector *v = &l4_vectors[i];
		uint8_t pkt[256];
		size_t n = unhex(v->hex, pkt, sizeof(pkt));
		uint32_t hl = v->ip6 ? 40 : (pkt[0] & 0xfu) * 4;
		uint8_t *l4 = pkt + hl;
		uint32_t l4_len = (uint32_t)n - hl;
		uint16_t got;

		got = v->ip6 ? ap_l4_csum_ip6(pkt, l4, l4_len, v->proto)
			     : ap_l4_csum_ip4(pkt, l4, l4_len, v->proto);
		cr_expect_eq(got, 0, "%s: verify over a good segment gives %#x", v->name, got);
		l4[v->csum_at] = l4[v->csum_at + 1] = 0;
		got = v->ip6 ? ap_l4_csum_ip6(pkt, l4, l4_len, v->proto)
			     : ap_l4_csum_ip4(pkt, l4, l4_len, v->proto);
		cr_expect_eq(wire16(got), v->csum, "%s: computed %#x, want %#x", v->name,
			     wire16(got), v->csum);
	}
}

Test(cksum, random_vs_reference_all_alignments)
{
	static uint8_t buf[2100];
	uint32_t len, align, init;
	unsigned i;

	srand(1071);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (len = 0; len <= 2048; len += (len < 80 ? 1 : 37)) {
		for (align = 0; align < 8; align++) {
			const uint8_t *b = buf + align;
			uint16_t want = ref_sum(b, len, 0);
			uint16_t got = wire16(ap_csum_partial(b, len, 0));

			cr_assert_eq(got, want, "len %u align %u: got %#x want %#x", len, align,
				     got, want);
			init = (uint32_t)rand() & 0xffff;
			want = ref_sum(b, len, init);
			got = wire16(ap_csum_partial(b, len, native16((uint16_t)init)));
			cr_assert_eq(got, want, "len %u align %u init %#x", len, align, init);
		}
	}
}

Test(cksum, chaining_even_pieces)
{
	static uint8_t buf[1500];
	unsigned i, cut;

	srand(7);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (cut = 0; cut <= sizeof(buf); cut += 2) {
		uint16_t a = ap_csum_partial(buf, cut, 0);
		uint16_t s = ap_csum_partial(buf + cut, (uint32_t)sizeof(buf) - cut, a);

		cr_assert_eq(s, ap_csum_partial(buf, sizeof(buf), 0), "cut %u", cut);
	}
}

/* Random IPv4 header with options, correct checksum stored. */
static uint32_t
random_ip4(uint8_t *h)
{
	uint32_t ihl = 5 + (uint32_t)rand() % 11;
	uint32_t i;
	uint16_t c;

	for (i = 0; i < ihl * 4; i++)
		h[i] = (uint8_t)rand();
	h[0] = (uint8_t)(0x40 | ihl);
	h[10] = h[11] = 0;
	c = ap_csum(h, ihl * 4);
	memcpy(h + 10, &c, 2);
	return ihl * 4;
}

Test(cksum, ip4_random_headers_vs_reference)
{
	uint8_t h[60];
	unsigned i;

	srand(791);
	for (i = 0; i < 20000; i++) {
		uint32_t hl = random_ip4(h);
		uint16_t stored;

		/* The reference checksum is the inverse of the sum with the field zeroed. */
		memcpy(&stored, h + 10, 2);
		h[10] = h[11] = 0;
		cr_assert_eq(wire16(stored), (uint16_t)~ref_sum(h, hl, 0));
		memcpy(h + 10, &stored, 2);
		cr_assert_eq(ap_ip4_hdr_csum_verify(h, hl), 0);
		h[rand() % (int)hl] ^= (uint8_t)(1u << (rand() % 8));
		cr_assert_neq(ap_ip4_hdr_csum_verify(h, hl), 0, "single bit flip not detected");
	}
}

static uint16_t
full_csum(uint8_t *h, uint32_t hl)
{
	uint16_t c;

	h[10] = h[11] = 0;
	c = ap_csum(h, hl);
	memcpy(h + 10, &c, 2);
	return c;
}

Test(cksum, incremental_update_matches_recompute)
{
	uint8_t h[60];
	unsigned i;

	srand(1624);
	for (i = 0; i < 50000; i++) {
		uint32_t hl = random_ip4(h);
		uint16_t c, old16, new16 = (uint16_t)rand();
		uint32_t old32, new32 = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		/* 16-bit fields: TTL/protocol word or identification; 32-bit: an address. */
		uint32_t at16 = (i & 1) ? 8 : 4;
		uint32_t at32 = (i & 2) ? 12 : 16;

		memcpy(&c, h + 10, 2);
		memcpy(&old16, h + at16, 2);
		memcpy(h + at16, &new16, 2);
		c = ap_csum_update16(c, old16, new16);
		cr_assert_eq(c, full_csum(h, hl), "update16 #%u", i);

		memcpy(&old32, h + at32, 4);
		memcpy(h + at32, &new32, 4);
		c = ap_csum_update32(c, old32, new32);
		cr_assert_eq(c, full_csum(h, hl), "update32 #%u", i);
	}
}

Test(cksum, incremental_rfc1624_example)
{
	/* RFC 1624 section 3: eqn. 3 gives 0x0000 where eqn. 2 would give -0 (0xffff). */
	uint16_t c = ap_csum_update16(native16(0xdd2f), native16(0x5555), native16(0x3285));

	cr_assert_eq(wire16(c), 0x0000);
}

Test(cksum, incremental_through_zero_checksum)
{
	uint8_t h[60];
	unsigned i;

	srand(1141);
	for (i = 0; i < 5000; i++) {
		uint32_t hl = random_ip4(h);
		uint16_t c, old_id, want_id, rest;

		/*
		 * Pick the identification that makes the header sum 0xffff, so the
		 * stored checksum is 0x0000, then move away from it again. A header
		 * always has a non-zero word, so 0xffff (-0) can never be right.
		 */
		memcpy(&c, h + 10, 2);
		memcpy(&old_id, h + 4, 2);
		h[4] = h[5] = 0;
		h[10] = h[11] = 0;
		rest = wire16(ap_csum_partial(h, hl, 0));
		want_id = native16((uint16_t)~rest);
		memcpy(h + 4, &want_id, 2);
		c = ap_csum_update16(c, old_id, want_id);
		cr_assert_eq(full_csum(h, hl), 0x0000, "construction");
		cr_assert_eq(c, 0x0000, "update into a zero checksum #%u: %#x", i, c);
		cr_assert_eq(ap_ip4_hdr_csum_verify(h, hl), 0);

		c = ap_csum_update16(c, want_id, old_id);
		memcpy(h + 4, &old_id, 2);
		cr_assert_eq(c, full_csum(h, hl), "update out of a zero checksum #%u", i);
		cr_assert_neq(c, 0xffff);
	}
}

Test(cksum, update_no_change_is_identity)
{
	uint8_t h[60];
	unsigned i;

	srand(3);
	for (i = 0; i < 1000; i++) {
		uint32_t hl = random_ip4(h);
		uint16_t c, v;

		memcpy(&c, h + 10, 2);
		memcpy(&v, h + 8, 2);
		cr_assert_eq(ap_csum_update16(c, v, v), full_csum(h, hl));
	}
}
