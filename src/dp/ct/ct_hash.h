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
 * The keys are not stored here: a bucket holds each entry's hash and value,
 * and the caller says whether a value's key is the one looked for (its flow
 * holds it). A worker is the only reader and writer of its table.
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
#define AP_CT_HASH_SLOTS 7

/** One cache line of entries. */
struct __rte_cache_aligned ap_ct_hash_bucket {
	uint32_t sig[AP_CT_HASH_SLOTS]; /**< The entries' hashes. */
	uint32_t val[AP_CT_HASH_SLOTS];
	uint32_t used; /**< Bit i: entry i is one. */
	uint32_t out;  /**< Keys whose primary this is that sit in their secondary. */
};

_Static_assert(sizeof(struct ap_ct_hash_bucket) == 64, "a bucket is a cache line");
_Static_assert(AP_CT_HASH_SLOTS < 8 &&
		       offsetof(struct ap_ct_hash_bucket, val) == 4 * AP_CT_HASH_SLOTS,
	       "eight hashes' worth of a bucket's first bytes are its hashes and its first value");

struct ap_ct_hash {
	struct ap_ct_hash_bucket *b;
	uint32_t mask;	    /**< Buckets - 1 (a power of two). */
	uint32_t count;	    /**< Entries. */
	uint64_t full;	    /**< Adds refused: no chain of moves made room. */
	uint64_t displaced; /**< Entries moved to their other bucket to make room. */
};

/** Room for @p keys entries (at most 6 of 7 slots used), on NUMA socket
 * @p socket. 0 or -ENOMEM. */
int ap_ct_hash_init(struct ap_ct_hash *h, uint32_t keys, int socket);
void ap_ct_hash_fini(struct ap_ct_hash *h);

/** Add value @p val of a key with hash @p sig (not in the table). 0, or
 * -ENOSPC when there is no room. */
int ap_ct_hash_add(struct ap_ct_hash *h, uint32_t sig, uint32_t val);

/** Remove the entry of hash @p sig and value @p val. 0, or -ENOENT. */
int ap_ct_hash_del(struct ap_ct_hash *h, uint32_t sig, uint32_t val);

/** Remove every entry. */
void ap_ct_hash_clear(struct ap_ct_hash *h);

static __rte_always_inline uint32_t
ap_ct_hash_prim(const struct ap_ct_hash *h, uint32_t sig)
{
	return sig & h->mask;
}

/* The secondary bucket: the primary xor a mix of the hash's other bits, so
 * either bucket and the hash give the other. */
static __rte_always_inline uint32_t
ap_ct_hash_alt(const struct ap_ct_hash *h, uint32_t bkt, uint32_t sig)
{
	return (bkt ^ ((sig >> 16 | sig << 16) * 0x9e3779b1u | 1)) & h->mask;
}

static __rte_always_inline uint32_t
ap_ct_hash_sec(const struct ap_ct_hash *h, uint32_t sig)
{
	return ap_ct_hash_alt(h, ap_ct_hash_prim(h, sig), sig);
}

/** Start fetching the first bucket of a key with hash @p sig. */
static __rte_always_inline void
ap_ct_hash_prefetch(const struct ap_ct_hash *h, uint32_t sig)
{
	rte_prefetch0(&h->b[ap_ct_hash_prim(h, sig)]);
}

/** The entries of bucket @p b whose hash is @p sig, a bit each. */
static __rte_always_inline uint32_t
ap_ct_hash_match(const struct ap_ct_hash_bucket *b, uint32_t sig)
{
#if defined(RTE_ARCH_X86)
	/* Two compares of four lanes, on the bucket's first 32 bytes: the
	 * eighth lane is val[0], and @c used has no bit for it. */
	const __m128i s = _mm_set1_epi32((int)sig);
	const __m128i lo = _mm_load_si128((const __m128i *)(const void *)b->sig);
	const __m128i hi = _mm_load_si128((const __m128i *)(const void *)(b->sig + 4));
	uint32_t m = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, s))) |
		     (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, s))) << 4;
#else
	uint32_t m = 0;

	for (unsigned i = 0; i < AP_CT_HASH_SLOTS; i++)
		m |= (uint32_t)(b->sig[i] == sig) << i;
#endif
	return m & b->used;
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

	if (v >= 0 || p->out == 0)
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
		if (m == 0 && pb[i]->out != 0) {
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
		else if (v < 0 && pm[i] != 0 && pb[i]->out != 0)
			v = ap_ct_hash_lookup(h, sigs[i], keys[i], eq, ctx);
		if (v >= 0) {
			vals[i] = (uint32_t)v;
			hits |= 1ull << i;
		}
	}
	return hits;
}

/**
 * Walk the entries: the next after position @p *pos (0 to start), its hash
 * in @p sig and value in @p val. false at the end. The entry just returned
 * may be removed before the next call; adds may move entries.
 */
bool ap_ct_hash_next(const struct ap_ct_hash *h, uint32_t *pos, uint32_t *sig, uint32_t *val);

#endif
