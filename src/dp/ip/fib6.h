/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The IPv6 FIB: a multibit trie for longest-prefix match, with a bulk lookup
 * that walks a burst of addresses level by level.
 *
 * The trie has a first level of 2^24 entries indexed by the top 24 bits of
 * the address and, below it, groups of 256 entries, one level a byte (13 at
 * most, for a /128). An entry is 4 bytes: a next hop id, or (its low bit set)
 * the index of the group that resolves the next byte. The groups come from a
 * pool of fixed size, taken when a route needs a level that is not there and
 * given back when a delete leaves a group uniform and no route ends inside it.
 *
 * The prefixes themselves live in a DPDK rte_rib6 tree: it tells a write which
 * more specific routes to leave alone and a delete which covering route to put
 * back.
 *
 * One writer (the control plane), any number of readers (the workers) with no
 * lock. An entry is written with a single aligned store, a group is filled
 * before the entry that points to it is published, and a group that leaves the
 * trie is not reused until every reader registered with the QSBR variable
 * given at creation has passed a quiescent state.
 *
 * The lookup of a burst goes a round at a time: it fetches an entry for every
 * address, then, for the addresses that go on, the entry of the next level,
 * and so on, so the cache misses of a burst overlap instead of following one
 * another. Its first round reads a hash of the groups of level 3 (byte 5) by
 * the 40 bits above them: an address whose path goes that deep (a /48, half
 * of the Internet's IPv6 table) gets its level-3 entry in one read when the
 * index summarises the group, two when it names it, instead of four; any other
 * walks the trie from its first level.
 */
#ifndef AP_FIB6_H
#define AP_FIB6_H

#include <stdint.h>

#include <string.h>

#include <rte_byteorder.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

struct ap_fib6;

/** The start of every FIB: what ap_fib6_prefetch() reads of it. */
struct ap_fib6_head {
	uint64_t *jump;	    /**< The jump index (fib6.c): lines of 4 slots. */
	uint32_t jump_mask; /**< Lines - 1. */
};

/** The jump index's line of the 40-bit @p key (fib6.c). */
static inline const uint64_t *
ap_fib6_jump_line(const struct ap_fib6_head *h, uint64_t key)
{
	return &h->jump[(size_t)((key * 0x9e3779b97f4a7c15ull) >> 32 & h->jump_mask) * 8];
}

/**
 * Fetch what the lookup of @p dst in @p f reads first (its jump index line),
 * ahead of ap_fib6_lookup_bulk(): for a node that has the address a while
 * before the lookup, so the miss overlaps its own work.
 */
static inline void
ap_fib6_prefetch(const struct ap_fib6 *f, const uint8_t *dst)
{
	uint64_t w;

	memcpy(&w, dst, sizeof(w));
	rte_prefetch0(ap_fib6_jump_line((const struct ap_fib6_head *)f, rte_be_to_cpu_64(w) >> 24));
}

/** Sizes and defaults of a FIB. */
struct ap_fib6_conf {
	uint32_t max_routes; /**< Prefixes it holds at most. */
	uint32_t groups;     /**< 256-entry groups in the pool (1 KiB each). */
	uint32_t default_nh; /**< What an address no route covers gets. */
	/**
	 * Readers' QSBR variable: a group that leaves the trie waits for a grace
	 * period before it is reused. NULL: there are no concurrent readers.
	 */
	struct rte_rcu_qsbr *qsbr;
};

/** Largest next hop id an entry holds. */
#define AP_FIB6_NH_MAX ((1u << 31) - 1)

/** Group counts of a FIB (see ap_fib6_stats()). */
struct ap_fib6_stats {
	uint32_t routes;  /**< Prefixes held. */
	uint32_t groups;  /**< Size of the pool. */
	uint32_t used;	  /**< Groups in the trie. */
	uint32_t retired; /**< Out of the trie, waiting for a grace period. */
	uint32_t indexed; /**< Level-3 groups in the jump index. */
	uint32_t runs;	  /**< Of those, the ones it resolves itself (fib6.c). */
};

/**
 * A FIB named @p name (unique: its prefix tree is a DPDK object) in the memory
 * of @p socket. NULL with rte_errno set on failure.
 */
struct ap_fib6 *ap_fib6_create(const char *name, int socket, const struct ap_fib6_conf *conf);

/** Free @p f (NULL is fine). No reader may use it any more. */
void ap_fib6_free(struct ap_fib6 *f);

/**
 * Route @p prefix/@p len (bits past @p len ignored) to @p nh, replacing the
 * next hop of the same prefix if present. 0; -EINVAL for a bad length or next
 * hop; -ENOSPC when the FIB holds max_routes prefixes or has not the groups
 * the route needs (the FIB is then unchanged); -ENOMEM when the prefix tree
 * has no room.
 */
int ap_fib6_add(struct ap_fib6 *f, const uint8_t prefix[16], uint8_t len, uint32_t nh);

/** Remove @p prefix/@p len. 0, or -ENOENT when it is not there. */
int ap_fib6_delete(struct ap_fib6 *f, const uint8_t prefix[16], uint8_t len);

/** Next hops of @p n addresses, into @p nhs. Safe against a concurrent writer. */
void ap_fib6_lookup_bulk(const struct ap_fib6 *f, uint8_t ips[][16], uint64_t *nhs, unsigned n);

/** Counts of @p f. */
void ap_fib6_stats(const struct ap_fib6 *f, struct ap_fib6_stats *s);

/** DPDK memory a FIB of @p conf takes, in bytes. */
uint64_t ap_fib6_mem_bytes(const struct ap_fib6_conf *conf);

#endif
