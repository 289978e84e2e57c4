/* SPDX-License-Identifier: BSD-3-Clause */
/* SipHash-2-4, from the paper's description: four 64-bit lanes, two
 * compression rounds per 8-byte word, four finalisation rounds. */
#include <string.h>

#include "lib/siphash.h"

static inline uint64_t
rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void
round1(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13) ^ s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17) ^ s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void
absorb(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	round1(s);
	round1(s);
	s->v0 ^= m;
}

uint64_t
ap_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8), last;
	struct sip s = {
		.v0 = k0 ^ 0x736f6d6570736575ull,
		.v1 = k1 ^ 0x646f72616e646f6dull,
		.v2 = k0 ^ 0x6c7967656e657261ull,
		.v3 = k1 ^ 0x7465646279746573ull,
	};
	uint8_t tail[8] = {0};
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		absorb(&s, le64(p + i));
	memcpy(tail, p + i, len - i);
	last = le64(tail) | (uint64_t)(len & 0xff) << 56;
	absorb(&s, last);
	s.v2 ^= 0xff;
	for (int r = 0; r < 4; r++)
		round1(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
