/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The flow table's hash: 32-bit hashes to 32-bit values (a flow index, with
 * AP_CT_NAT_KEY for a reply key), in buckets of one cache line. A key has two
 * candidate buckets (cuckoo hashing, as rte_hash), both a function of its
 * hash: it goes to the first (its primary) while that has room, else to the
 * second, else keys are moved to their other bucket to make room (a bounded
 * breadth-first search for the shortest chain of moves). A bucket counts the
 * keys it sent to their secondary bucket, so a lookup reads the secondary
 * only when the primary says some went there: most lookups read one line.
 *
 * The keys are not stored here: a bucket holds each entry's tag (16 bits of
 * its hash) and value, ten to a line, and the caller says whether a value's
 * key is the one looked for (its flow holds it); a tag that matches another
 * key's costs a read of that flow about once in 7000 lookups of a full
 * table (9.5 other tags a bucket, 65536 values). The buckets number keys / 8.5, not a power of two:
 * at 1.25M keys, 9 MiB of buckets, against 16 MiB at seven 32-bit hashes a line and a power of two.
 * A worker is the only reader and writer of its table.
 */
#ifndef AP_CT_HASH_H
#define AP_CT_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_prefetch.h>
#include <rte_vect.h>

/** Entries per bucket. */
#define AP_CT_HASH_SLOTS 10

/** One cache line of entries: each entry's tag (16 bits of its hash) and
 * value, and in @c meta which slots are used (bits 0-9), which of those hold
 * an entry in its secondary bucket (bits 10-19), and how many keys whose
 * primary this is sit in their secondary (bits 20-31). */
struct __rte_cache_aligned ap_ct_hash_bucket {
	uint16_t tag[AP_CT_HASH_SLOTS];
	uint32_t val[AP_CT_HASH_SLOTS];
	uint32_t meta;
};

#define AP_CT_HASH_USED	     ((1u << AP_CT_HASH_SLOTS) - 1)
#define AP_CT_HASH_SEC_SHIFT AP_CT_HASH_SLOTS
#define AP_CT_HASH_OUT_SHIFT (2 * AP_CT_HASH_SLOTS)
/** Keys a primary counts out at which adds and moves out of it stop. An add's
 * chain of moves (at most CT_HASH_SEARCH buckets, three moves deep) may
 * take a count started below it a few past: the 12 bits hold that. */
#define AP_CT_HASH_OUT_MAX ((1u << (32 - AP_CT_HASH_OUT_SHIFT)) - 8)

_Static_assert(sizeof(struct ap_ct_hash_bucket) == 64, "a bucket is a cache line");
_Static_assert(offsetof(struct ap_ct_hash_bucket, val) == 20 && AP_CT_HASH_SLOTS > 8 &&
		       AP_CT_HASH_SLOTS <= 16,
	       "a bucket's first 32 bytes hold its tags, 16 lanes of them compared");

struct ap_ct_hash {
	struct ap_ct_hash_bucket *b;
	uint32_t nb;	    /**< Buckets (any number from 2). */
	uint32_t count;	    /**< Entries. */
	uint64_t full;	    /**< Adds refused: no chain of moves made room. */
	uint64_t displaced; /**< Entries moved to their other bucket to make room. */
};

/** Room for @p keys entries (at most 8.5 of 10 slots used), on NUMA socket
 * @p socket. 0 or -ENOMEM. */
int ap_ct_hash_init(struct ap_ct_hash *h, uint32_t keys, int socket);
void ap_ct_hash_fini(struct ap_ct_hash *h);

/** Add value @p val of a key with hash @p sig (not in the table). 0, or
 * -ENOSPC when there is no room (or its primary counts AP_CT_HASH_OUT_MAX
 * keys out already and is full). */
int ap_ct_hash_add(struct ap_ct_hash *h, uint32_t sig, uint32_t val);

/** Remove the entry of hash @p sig and value @p val. 0, or -ENOENT. */
int ap_ct_hash_del(struct ap_ct_hash *h, uint32_t sig, uint32_t val);

/** Remove every entry. */
void ap_ct_hash_clear(struct ap_ct_hash *h);

/** The tag a bucket keeps of hash @p sig: its low 16 bits (the primary
 * bucket comes from the high ones). */
static __rte_always_inline uint16_t
ap_ct_hash_tag(uint32_t sig)
{
	return (uint16_t)sig;
}

/** The primary bucket of hash @p sig: its high bits scaled to the buckets
 * (a multiply, not a modulo). */
static __rte_always_inline uint32_t
ap_ct_hash_prim(const struct ap_ct_hash *h, uint32_t sig)
{
	return (uint32_t)(((uint64_t)sig * h->nb) >> 32);
}

/* The other bucket of an entry with tag @p tag in bucket @p bkt: g - bkt
 * modulo the buckets, for a g made of the tag alone, so that either bucket
 * and the tag give the other (partial-key cuckoo hashing, without the
 * power-of-two size an exclusive or would need). */
static __rte_always_inline uint32_t
ap_ct_hash_alt(const struct ap_ct_hash *h, uint32_t bkt, uint16_t tag)
{
	uint32_t g = (uint32_t)(((uint64_t)(uint32_t)((tag + 1u) * 0x9e3779b1u) * h->nb) >> 32);

	return g >= bkt ? g - bkt : g + h->nb - bkt;
}

static __rte_always_inline uint32_t
ap_ct_hash_sec(const struct ap_ct_hash *h, uint32_t sig)
{
	return ap_ct_hash_alt(h, ap_ct_hash_prim(h, sig), ap_ct_hash_tag(sig));
}

/** Keys whose primary is bucket @p b that sit in their secondary. */
static __rte_always_inline uint32_t
ap_ct_hash_out(const struct ap_ct_hash_bucket *b)
{
	return b->meta >> AP_CT_HASH_OUT_SHIFT;
}

/** Start fetching the first bucket of a key with hash @p sig. */
static __rte_always_inline void
ap_ct_hash_prefetch(const struct ap_ct_hash *h, uint32_t sig)
{
	rte_prefetch0(&h->b[ap_ct_hash_prim(h, sig)]);
}

/** The entries of bucket @p b whose tag is @p sig's, a bit each. */
static __rte_always_inline uint32_t
ap_ct_hash_match(const struct ap_ct_hash_bucket *b, uint32_t sig)
{
#if defined(RTE_ARCH_X86)
	/* Two compares of eight 16-bit lanes, on the bucket's first 32 bytes,
	 * packed to a byte a lane: lanes past the tenth are values, and @c meta
	 * has no used bit for them. */
	const __m128i s = _mm_set1_epi16((short)ap_ct_hash_tag(sig));
	const __m128i lo = _mm_load_si128((const __m128i *)(const void *)b->tag);
	const __m128i hi = _mm_load_si128((const __m128i *)(const void *)(b->tag + 8));
	uint32_t m = (uint32_t)_mm_movemask_epi8(
		_mm_packs_epi16(_mm_cmpeq_epi16(lo, s), _mm_cmpeq_epi16(hi, s)));
#else
	uint32_t m = 0;

	for (unsigned i = 0; i < AP_CT_HASH_SLOTS; i++)
		m |= (uint32_t)(b->tag[i] == ap_ct_hash_tag(sig)) << i;
#endif
	return m & b->meta & AP_CT_HASH_USED;
}

/** Does value @p val's key equal @p key? (@p ctx: the caller's.) */
typedef bool (*ap_ct_hash_eq_t)(const void *ctx, uint32_t val, const void *key);

/* The value of @p key among the entries @p m of bucket @p b, or -1. */
static __rte_always_inline int64_t
ap_ct_hash_pick(const struct ap_ct_hash_bucket *b, uint32_t m, const void *key, ap_ct_hash_eq_t eq,
		const void *ctx)
{
	while (m) {
		unsigned i = (unsigned)__builtin_ctz(m);

		if (eq(ctx, b->val[i], key))
			return b->val[i];
		m &= m - 1;
	}
	return -1;
}

/** The value of @p key (hash @p sig), or -1. @p eq and @p ctx: as for
 * ap_ct_hash_lookup_bulk(). */
static __rte_always_inline int64_t
ap_ct_hash_lookup(const struct ap_ct_hash *h, uint32_t sig, const void *key, ap_ct_hash_eq_t eq,
		  const void *ctx)
{
	const struct ap_ct_hash_bucket *p = &h->b[ap_ct_hash_prim(h, sig)], *s;
	int64_t v = ap_ct_hash_pick(p, ap_ct_hash_match(p, sig), key, eq, ctx);

	if (v >= 0 || ap_ct_hash_out(p) == 0)
		return v;
	s = &h->b[ap_ct_hash_sec(h, sig)];
	return ap_ct_hash_pick(s, ap_ct_hash_match(s, sig), key, eq, ctx);
}

/** Prefetch what ap_ct_hash_eq_t reads of value @p val. */
typedef void (*ap_ct_hash_prefetch_t)(const void *ctx, uint32_t val);

/** Most keys per bulk lookup. */
#define AP_CT_HASH_BULK_MAX 64

/**
 * Look up @p n (at most AP_CT_HASH_BULK_MAX) keys at once, their misses
 * overlapped: every primary bucket is prefetched, then the values whose
 * hash matches (@p pf, before @p eq compares them), and the secondary
 * buckets that may hold a key. Bit i of the return: @p keys[i] was found,
 * its value in @p vals[i]. @p eq and @p pf are inlined: pass functions the
 * compiler sees.
 */
static __rte_always_inline uint64_t
ap_ct_hash_lookup_bulk(const struct ap_ct_hash *h, const void *const *keys, const uint32_t *sigs,
		       unsigned n, uint32_t *vals, ap_ct_hash_eq_t eq, ap_ct_hash_prefetch_t pf,
		       const void *ctx)
{
	const struct ap_ct_hash_bucket *pb[AP_CT_HASH_BULK_MAX], *sb[AP_CT_HASH_BULK_MAX];
	uint32_t pm[AP_CT_HASH_BULK_MAX], sm[AP_CT_HASH_BULK_MAX];
	uint64_t hits = 0;

	for (unsigned i = 0; i < n; i++) {
		pb[i] = &h->b[ap_ct_hash_prim(h, sigs[i])];
		rte_prefetch0(pb[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t m = ap_ct_hash_match(pb[i], sigs[i]);

		pm[i] = m;
		sb[i] = NULL;
		/* A hash that matches is the key's but for a 1 in 2^32 chance
		 * (times the bucket's other bits): the secondary is read only
		 * when the primary has none. */
		if (m == 0 && ap_ct_hash_out(pb[i]) != 0) {
			sb[i] = &h->b[ap_ct_hash_sec(h, sigs[i])];
			rte_prefetch0(sb[i]);
		}
		for (; m; m &= m - 1)
			pf(ctx, pb[i]->val[__builtin_ctz(m)]);
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t m;

		sm[i] = 0;
		if (sb[i] == NULL)
			continue;
		sm[i] = m = ap_ct_hash_match(sb[i], sigs[i]);
		for (; m; m &= m - 1)
			pf(ctx, sb[i]->val[__builtin_ctz(m)]);
	}
	for (unsigned i = 0; i < n; i++) {
		int64_t v = ap_ct_hash_pick(pb[i], pm[i], keys[i], eq, ctx);

		if (v < 0 && sb[i] != NULL)
			v = ap_ct_hash_pick(sb[i], sm[i], keys[i], eq, ctx);
		else if (v < 0 && pm[i] != 0 && ap_ct_hash_out(pb[i]) != 0)
			v = ap_ct_hash_lookup(h, sigs[i], keys[i], eq, ctx);
		if (v >= 0) {
			vals[i] = (uint32_t)v;
			hits |= 1ull << i;
		}
	}
	return hits;
}

/**
 * Walk the entries: the next after position @p *pos (0 to start), its value
 * in @p val. false at the end. The entry just returned may be removed before
 * the next call; adds may move entries.
 */
bool ap_ct_hash_next(const struct ap_ct_hash *h, uint32_t *pos, uint32_t *val);

#endif
