/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPv6 FIB (see fib6.h).
 *
 * Levels: level 0 is the first-level table, indexed by bytes 0-2 of the
 * address; level j (1..13) is a group indexed by byte 2 + j. A prefix of
 * length len ends in level 0 when len <= 24, else in level (len - 17) / 8, and
 * there covers 2^(24 + 8 * level - len) consecutive entries.
 *
 * Writing a prefix writes its range minus the ranges of the more specific
 * routes inside it (the prefix tree's "cover" children: each keeps its own
 * next hop), as maximal aligned blocks, each block being a prefix with no
 * route inside: its entries take the next hop and any group below them leaves
 * the trie.
 *
 * The invariant that makes the group count of an add exact: the entries on the
 * path of every route longer than /24, down to the level above its own, point
 * to groups. A group leaves the trie only when its entries are one next hop and
 * no route longer than its level's start ends inside it. An add then needs
 * new groups only on its own path (any other block of its range lies next to
 * a more specific route, whose path is there), and a delete none.
 *
 * The jump index: a hash of the level-3 groups (those indexed by byte 5, the
 * last level of a /41-/48) by the 40 bits above them. Half of the Internet's
 * IPv6 table is /48s, each four dependent reads by the trie alone; the lookup
 * reads an address's index line first. A slot is two 8-byte words, four a
 * line: the first holds the key, the slot's kind and a write count, the second
 * what the kind says. A "run" slot summarises its group when the group's
 * entries are one value but for one run of consecutive entries of another
 * (a /48 or a /44 alone in its /40, beside the covering route: most level-3
 * groups), so a hit is the level-3 entry itself, one read in all; a "group"
 * slot names its group, whose entry is read next: two rounds of misses
 * instead of four. A key that finds its line full is not indexed, and a
 * reader that does not find a key walks the trie from the top (a miss walks
 * one round more), so a miss is always right.
 *
 * A slot is rewritten in place, seqlock-style: its first word loses its used
 * bit, the second is written, then the first again with the used bit and the
 * next write count; a reader reads first, second, first, and walks the trie
 * unless both reads of the first word agree. A summary is written before any
 * group its old value pointed to is retired, so a reader that took the old
 * value holds up that group's reuse like any other reader of the trie.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rib6.h>

#include "dp/ip/fib6.h"

#define TBL24_SIZE  (1u << 24)
#define GROUP_SIZE  256u
#define EXT	    1u /* An entry's low bit: it points to a group. */
#define BURST	    64u
#define NO_GROUP    UINT32_MAX
#define RIB_NODE_SZ 432u /* Two prefix tree nodes a route, mempool headers included. */
#define JUMP_LEVEL  3u	 /* The level whose groups the jump index holds. */
#define JUMP_LINE   8u	 /* Words in a line of the index. */
#define JUMP_SLOTS  4u	 /* Slots in a line: two words each. */
#define JUMP_GMAX   ((1u << 24) - 1) /* The index is sized for this many groups at most. */
/* A slot's first word: key << 24 | lo << 16 | hi << 8 | count << 2 | kind | used. */
#define SLOT_USED  1ull
#define SLOT_RUN   2ull	   /* Kind: a run (else a group). */
#define SLOT_COUNT 0xfcull /* The write count's bits. */

typedef unsigned __int128 u128;

struct retired {
	uint32_t group;
	uint64_t token;
};

struct ap_fib6 {
	struct ap_fib6_head head; /* First: fib6.h reads it. */
	uint32_t *tbl24;
	uint32_t *groups; /* n_groups x GROUP_SIZE entries. */
	struct rte_rib6 *rib;
	struct rte_rcu_qsbr *qsbr;
	uint32_t default_nh;
	uint32_t max_routes;
	uint32_t n_routes;
	uint32_t n_groups;
	uint32_t *free; /* A stack of free groups. */
	uint32_t n_free;
	struct retired *retired; /* A FIFO of n_groups slots, oldest first. */
	uint32_t ret_head;
	uint32_t n_retired;
	uint32_t *jump_of;  /* Per group: its slot in the index + 1, or 0. */
	uint32_t n_jump;    /* Groups in the index. */
	uint32_t n_runs;    /* Of those, in run slots. */
};

static inline uint32_t
ent_nh(uint32_t nh)
{
	return nh << 1;
}

static inline uint32_t *
group_at(const struct ap_fib6 *f, uint32_t e)
{
	return &f->groups[(size_t)(e >> 1) * GROUP_SIZE];
}

static u128
addr_load(const uint8_t a[16])
{
	u128 v = 0;

	for (unsigned i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

static void
addr_store(u128 v, uint8_t a[16])
{
	for (unsigned i = 16; i-- > 0; v >>= 8)
		a[i] = (uint8_t)v;
}

static inline unsigned
addr_byte(u128 a, unsigned i)
{
	return (uint8_t)(a >> (120 - 8 * i));
}

/* The host bits of a /len: all ones past len. */
static inline u128
host_mask(unsigned len)
{
	return len == 0 ? ~(u128)0 : ((u128)1 << (128 - len)) - 1;
}

static inline unsigned
level_of(unsigned len)
{
	return len <= 24 ? 0 : (len - 17) / 8;
}

static unsigned
ctz128(u128 v)
{
	uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);

	if (lo)
		return (unsigned)__builtin_ctzll(lo);
	if (hi)
		return 64 + (unsigned)__builtin_ctzll(hi);
	return 128;
}

/* The jump index's key of address @p a: its top 40 bits. */
static inline uint64_t
jump_key(u128 a)
{
	return (uint64_t)(a >> 88);
}

/* The line of @p key (its first word). */
static inline uint64_t *
jump_line(const struct ap_fib6 *f, uint64_t key)
{
	RTE_BUILD_BUG_ON(JUMP_LINE != 2 * JUMP_SLOTS);
	return (uint64_t *)(uintptr_t)ap_fib6_jump_line(&f->head, key);
}

/* The first word of slot @p slot (its second follows). */
static inline uint64_t *
slot_at(const struct ap_fib6 *f, uint32_t slot)
{
	return &f->head.jump[(size_t)slot * 2];
}

/*
 * The slot words of group @p g: a run when its entries are one value (its
 * first entry's) but for the run lo..hi of another (lo = hi = 0 and the same
 * value when they are all one), else the group itself.
 */
static void
slot_words(const struct ap_fib6 *f, uint32_t g, uint64_t *w0, uint64_t *w1)
{
	const uint32_t *grp = &f->groups[(size_t)g * GROUP_SIZE];
	unsigned t[2], nt = 0, lo = 0, hi = 0;
	uint32_t exc = grp[0];

	for (unsigned i = 1; i < GROUP_SIZE; i++) {
		if (grp[i] == grp[i - 1])
			continue;
		if (nt == 2) {
			*w0 = 0;
			*w1 = g + 1;
			return;
		}
		t[nt++] = i;
	}
	if (nt == 1) {
		lo = t[0];
		hi = GROUP_SIZE - 1;
		exc = grp[lo];
	} else if (nt == 2) {
		if (grp[GROUP_SIZE - 1] != grp[0]) {
			*w0 = 0;
			*w1 = g + 1;
			return;
		}
		lo = t[0];
		hi = t[1] - 1;
		exc = grp[lo];
	}
	*w0 = (uint64_t)lo << 16 | (uint64_t)hi << 8 | SLOT_RUN;
	*w1 = (uint64_t)exc << 32 | grp[0];
}

/* Slot @p slot takes first word @p w0 (used bit and count aside) and second
 * @p w1, so that a reader sees the old words or the new ones, never a mix. */
static void
slot_write(struct ap_fib6 *f, uint32_t slot, uint64_t w0, uint64_t w1)
{
	uint64_t *w = slot_at(f, slot), old = w[0];
	uint64_t count = (old + 4) & SLOT_COUNT;

	if ((old & ~SLOT_COUNT) == (w0 | SLOT_USED) && w[1] == w1)
		return;
	if ((old & (SLOT_USED | SLOT_RUN)) == (SLOT_USED | SLOT_RUN))
		f->n_runs--;
	if (w0 & SLOT_RUN)
		f->n_runs++;
	__atomic_store_n(&w[0], old & ~SLOT_USED, __ATOMIC_RELEASE);
	__atomic_store_n(&w[1], w1, __ATOMIC_RELEASE);
	__atomic_store_n(&w[0], w0 | count | SLOT_USED, __ATOMIC_RELEASE);
}

/* Level-3 group @p g's slot, if it has one, follows its entries. */
static void
jump_refresh(struct ap_fib6 *f, uint32_t g)
{
	uint32_t slot = f->jump_of[g];
	uint64_t w0, w1;

	if (slot == 0)
		return;
	slot_words(f, g, &w0, &w1);
	slot_write(f, slot - 1, (slot_at(f, slot - 1)[0] & ~0xffffffull) | w0, w1);
}

/* The slot of the group that holds entry @p e, if it is a level-3 group in
 * the index, follows its entries. */
static void
jump_refresh_at(struct ap_fib6 *f, const uint32_t *e)
{
	if (f->groups == NULL || e < f->groups || e >= f->groups + (size_t)f->n_groups * GROUP_SIZE)
		return;
	jump_refresh(f, (uint32_t)((size_t)(e - f->groups) / GROUP_SIZE));
}

/* Level-3 group @p g, reached by @p key, goes into the index (when its line
 * has room: else the lookup walks to it). Called once @p g is filled. */
static void
jump_insert(struct ap_fib6 *f, uint64_t key, uint32_t g)
{
	uint64_t *line = jump_line(f, key);
	uint32_t first = (uint32_t)((size_t)(line - f->head.jump) / 2);

	for (unsigned s = 0; s < JUMP_SLOTS; s++)
		if (!(line[2 * s] & SLOT_USED)) {
			/* Its key, with the count the slot had. */
			__atomic_store_n(&line[2 * s], key << 24 | (line[2 * s] & SLOT_COUNT),
					 __ATOMIC_RELAXED);
			f->jump_of[g] = first + s + 1;
			f->n_jump++;
			jump_refresh(f, g);
			return;
		}
}

/* Group @p g leaves the index (before its grace period starts). */
static void
jump_remove(struct ap_fib6 *f, uint32_t g)
{
	uint64_t *w;

	if (f->jump_of[g] == 0)
		return;
	w = slot_at(f, f->jump_of[g] - 1);
	if (w[0] & SLOT_RUN)
		f->n_runs--;
	__atomic_store_n(&w[0], w[0] & SLOT_COUNT, __ATOMIC_RELEASE);
	f->jump_of[g] = 0;
	f->n_jump--;
}

/* ---- the group pool -------------------------------------------------------- */

/* Retired groups whose grace period is over go back to the free stack; with
 * @p wait, after waiting for one. */
static void
reclaim(struct ap_fib6 *f, bool wait)
{
	if (f->n_retired && wait)
		rte_rcu_qsbr_synchronize(f->qsbr, RTE_QSBR_THRID_INVALID);
	while (f->n_retired) {
		struct retired *r = &f->retired[f->ret_head];

		if (!wait && rte_rcu_qsbr_check(f->qsbr, r->token, false) != 1)
			break;
		f->free[f->n_free++] = r->group;
		f->ret_head = (f->ret_head + 1) % f->n_groups;
		f->n_retired--;
	}
}

static uint32_t
group_alloc(struct ap_fib6 *f)
{
	if (f->n_free == 0)
		reclaim(f, false);
	if (f->n_free == 0)
		reclaim(f, true);
	return f->n_free ? f->free[--f->n_free] : NO_GROUP;
}

/* Group @p g and the groups below it have left the trie (no entry points to
 * g any more): they are reused after a grace period. */
static void
group_retire(struct ap_fib6 *f, uint32_t g)
{
	const uint32_t *grp = &f->groups[(size_t)g * GROUP_SIZE];

	/* Out of the index first: it is the last way to g and below. */
	jump_remove(f, g);
	for (unsigned i = 0; i < GROUP_SIZE; i++)
		if (grp[i] & EXT)
			group_retire(f, grp[i] >> 1);
	if (f->qsbr == NULL) {
		f->free[f->n_free++] = g;
		return;
	}
	f->retired[(f->ret_head + f->n_retired) % f->n_groups] = (struct retired){
		.group = g,
		.token = rte_rcu_qsbr_start(f->qsbr),
	};
	f->n_retired++;
}

/* ---- writing the trie ------------------------------------------------------ */

/* One store a reader sees whole; what @p e pointed to leaves the trie. */
static void
ent_write(struct ap_fib6 *f, uint32_t *e, uint32_t v)
{
	uint32_t old = *e;

	if (old == v)
		return;
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
	if (old & EXT) {
		/* No index slot may point below @p e once that group retires. */
		jump_refresh_at(f, e);
		group_retire(f, old >> 1);
	}
}

/* Entry @p e, on the path of @p a, gets a group of level @p level whose
 * entries all hold its next hop. */
static int
ent_extend(struct ap_fib6 *f, uint32_t *e, u128 a, unsigned level)
{
	uint32_t g = group_alloc(f), *grp;

	if (g == NO_GROUP)
		return -ENOSPC;
	grp = &f->groups[(size_t)g * GROUP_SIZE];
	for (unsigned i = 0; i < GROUP_SIZE; i++)
		grp[i] = *e;
	if (level == JUMP_LEVEL)
		jump_insert(f, jump_key(a), g);
	/* Filled before it is published. */
	__atomic_store_n(e, g << 1 | EXT, __ATOMIC_RELEASE);
	if (level == JUMP_LEVEL + 1)
		jump_refresh_at(f, e);
	return 0;
}

/* Groups an add of @p a/@p len takes: the missing levels of its path. */
static unsigned
groups_missing(const struct ap_fib6 *f, u128 a, unsigned len)
{
	unsigned last = level_of(len);
	uint32_t e;

	if (last == 0)
		return 0;
	e = f->tbl24[a >> 104];
	for (unsigned j = 1;; j++) {
		if (!(e & EXT))
			return last - j + 1;
		if (j == last)
			return 0;
		e = group_at(f, e)[addr_byte(a, 2 + j)];
	}
}

/* Block @p a/@p len, with no route inside, to next hop entry @p v. */
static int
block_write(struct ap_fib6 *f, u128 a, unsigned len, uint32_t v)
{
	unsigned last = level_of(len);
	uint32_t *e, *grp;

	if (last == 0) {
		e = &f->tbl24[a >> 104];
		for (uint32_t i = 0; i < 1u << (24 - len); i++)
			ent_write(f, &e[i], v);
		return 0;
	}
	e = &f->tbl24[a >> 104];
	for (unsigned j = 1;; j++) {
		if (!(*e & EXT) && ent_extend(f, e, a, j) < 0)
			return -ENOSPC;
		grp = group_at(f, *e);
		if (j == last)
			break;
		e = &grp[addr_byte(a, 2 + j)];
	}
	e = &grp[addr_byte(a, 2 + last)];
	for (uint32_t i = 0; i < 1u << (24 + 8 * last - len); i++)
		ent_write(f, &e[i], v);
	if (last == JUMP_LEVEL)
		jump_refresh_at(f, grp);
	return 0;
}

/* Addresses @p lo..@p hi (inclusive) to @p v, as maximal aligned blocks. */
static int
range_write(struct ap_fib6 *f, u128 lo, u128 hi, uint32_t v)
{
	for (;;) {
		unsigned k = ctz128(lo);
		int rc;

		while (k > 0 && host_mask(128 - k) > hi - lo)
			k--;
		rc = block_write(f, lo, 128 - k, v);
		if (rc < 0)
			return rc;
		if (hi - lo == host_mask(128 - k))
			return 0;
		lo += host_mask(128 - k) + 1;
	}
}

/* Prefix @p a/@p len to @p v but for the routes inside it. */
static int
prefix_write(struct ap_fib6 *f, u128 a, unsigned len, uint32_t v)
{
	struct rte_rib6_node *c = NULL;
	u128 cur = a, last = a | host_mask(len);
	uint8_t ip[16];
	int rc;

	addr_store(a, ip);
	while ((c = rte_rib6_get_nxt(f->rib, ip, (uint8_t)len, c, RTE_RIB6_GET_NXT_COVER))) {
		uint8_t cip[16], clen;
		u128 clo, chi;

		rte_rib6_get_ip(c, cip);
		rte_rib6_get_depth(c, &clen);
		clo = addr_load(cip);
		chi = clo | host_mask(clen);
		if (clo > cur) {
			rc = range_write(f, cur, clo - 1, v);
			if (rc < 0)
				return rc;
		}
		if (chi == last)
			return 0;
		cur = chi + 1;
	}
	return range_write(f, cur, last, v);
}

/* After a delete of @p a/@p len: the groups of its path that are uniform and
 * have no route ending inside leave the trie, deepest first. */
static void
path_collapse(struct ap_fib6 *f, u128 a, unsigned len)
{
	uint32_t *path[14];
	unsigned last = level_of(len);
	uint8_t ip[16];

	if (last == 0)
		return;
	path[0] = &f->tbl24[a >> 104];
	for (unsigned j = 1; j < last; j++)
		path[j] = &group_at(f, *path[j - 1])[addr_byte(a, 2 + j)];
	addr_store(a, ip);
	for (unsigned j = last; j >= 1; j--) {
		const uint32_t *grp = group_at(f, *path[j - 1]);
		uint32_t v = grp[0];

		if (v & EXT)
			return;
		for (unsigned i = 1; i < GROUP_SIZE; i++)
			if (grp[i] != v)
				return;
		if (rte_rib6_get_nxt(f->rib, ip, (uint8_t)(24 + 8 * (j - 1)), NULL,
				     RTE_RIB6_GET_NXT_COVER))
			return;
		ent_write(f, path[j - 1], v);
	}
}

/* ---- the API ----------------------------------------------------------------- */

int
ap_fib6_add(struct ap_fib6 *f, const uint8_t prefix[16], uint8_t len, uint32_t nh)
{
	struct rte_rib6_node *node;
	uint8_t ip[16];
	uint64_t old;
	u128 a;
	int rc;

	if (len > 128 || nh > AP_FIB6_NH_MAX)
		return -EINVAL;
	a = addr_load(prefix) & ~host_mask(len);
	addr_store(a, ip);
	node = rte_rib6_lookup_exact(f->rib, ip, len);
	if (node) {
		/* A new next hop for a route: its path is there already. */
		rte_rib6_get_nh(node, &old);
		if (old == nh)
			return 0;
		rte_rib6_set_nh(node, nh);
		return prefix_write(f, a, len, ent_nh(nh));
	}
	if (f->n_routes >= f->max_routes || groups_missing(f, a, len) > f->n_free + f->n_retired)
		return -ENOSPC;
	node = rte_rib6_insert(f->rib, ip, len);
	if (node == NULL)
		return rte_errno == ENOSPC ? -ENOSPC : -ENOMEM;
	rte_rib6_set_nh(node, nh);
	f->n_routes++;
	rc = prefix_write(f, a, len, ent_nh(nh));
	if (rc < 0)
		ap_fib6_delete(f, ip, len);
	return rc;
}

int
ap_fib6_delete(struct ap_fib6 *f, const uint8_t prefix[16], uint8_t len)
{
	struct rte_rib6_node *node, *parent;
	uint64_t nh = f->default_nh;
	uint8_t ip[16];
	u128 a;

	if (len > 128)
		return -EINVAL;
	a = addr_load(prefix) & ~host_mask(len);
	addr_store(a, ip);
	node = rte_rib6_lookup_exact(f->rib, ip, len);
	if (node == NULL)
		return -ENOENT;
	parent = rte_rib6_lookup_parent(node);
	if (parent)
		rte_rib6_get_nh(parent, &nh);
	rte_rib6_remove(f->rib, ip, len);
	f->n_routes--;
	/* Its path is there (the invariant): no group to take. */
	prefix_write(f, a, len, ent_nh((uint32_t)nh));
	path_collapse(f, a, len);
	return 0;
}

void
ap_fib6_lookup_bulk(const struct ap_fib6 *f, uint8_t ips[][16], uint64_t *nhs, unsigned n)
{
	const uint32_t *p[BURST];
	const uint64_t *jl[BURST];
	uint64_t key[BURST];
	uint8_t live[BURST], byte[BURST];

	for (unsigned base = 0; base < n; base += BURST) {
		uint8_t(*ip)[16] = ips + base;
		uint64_t *nh = nhs + base;
		unsigned m = RTE_MIN(n - base, BURST), n_live = 0;

		/* Every index line of the burst, then the next entry of every
		 * address the index did not resolve: below its level-3 entry,
		 * at its level-3 entry where the index knows its group, else
		 * its first-level entry; and so on. The misses of a round
		 * overlap. The first level is read only after a miss in the
		 * index: the lookup is bound by how many misses the core has
		 * in flight, and an address the index knows would not use it. */
		for (unsigned i = 0; i < m; i++) {
			uint64_t w;

			memcpy(&w, ip[i], sizeof(w));
			key[i] = rte_be_to_cpu_64(w) >> 24;
			jl[i] = jump_line(f, key[i]);
			rte_prefetch0(jl[i]);
		}
		for (unsigned i = 0; i < m; i++) {
			const uint64_t *line = jl[i];
			const uint32_t *q = NULL;
			unsigned b = 3;

			for (unsigned s = 0; s < JUMP_SLOTS; s++) {
				uint64_t w0 = __atomic_load_n(&line[2 * s], __ATOMIC_ACQUIRE), w1;

				if (w0 >> 24 != key[i] || !(w0 & SLOT_USED))
					continue;
				w1 = __atomic_load_n(&line[2 * s + 1], __ATOMIC_ACQUIRE);
				if (__atomic_load_n(&line[2 * s], __ATOMIC_RELAXED) != w0)
					break; /* Being rewritten: walk. */
				if (w0 & SLOT_RUN) {
					uint8_t lo = (uint8_t)(w0 >> 16), hi = (uint8_t)(w0 >> 8);
					uint32_t e = (uint8_t)(ip[i][2 + JUMP_LEVEL] - lo) <=
								     (uint8_t)(hi - lo)
							     ? (uint32_t)(w1 >> 32)
							     : (uint32_t)w1;

					nh[i] = e >> 1;
					if (!(e & EXT))
						goto resolved;
					q = group_at(f, e) + ip[i][3 + JUMP_LEVEL];
					b = 4 + JUMP_LEVEL;
				} else {
					q = &f->groups[(size_t)(w1 - 1) * GROUP_SIZE +
						       ip[i][2 + JUMP_LEVEL]];
					b = 3 + JUMP_LEVEL;
				}
				break;
			}
			if (q == NULL)
				q = &f->tbl24[key[i] >> 16];
			rte_prefetch0(q);
			p[n_live] = q;
			byte[n_live] = (uint8_t)b;
			live[n_live++] = (uint8_t)i;
		resolved:;
		}
		while (n_live) {
			unsigned still = 0;

			for (unsigned k = 0; k < n_live; k++) {
				unsigned i = live[k], b = byte[k];
				uint32_t e = __atomic_load_n(p[k], __ATOMIC_ACQUIRE);

				nh[i] = e >> 1;
				/* No group below the last level (byte 15). */
				if (!(e & EXT) || b > 15)
					continue;
				p[still] = group_at(f, e) + ip[i][b];
				rte_prefetch0(p[still]);
				byte[still] = (uint8_t)(b + 1);
				live[still++] = (uint8_t)i;
			}
			n_live = still;
		}
	}
}

void
ap_fib6_stats(const struct ap_fib6 *f, struct ap_fib6_stats *s)
{
	s->routes = f->n_routes;
	s->groups = f->n_groups;
	s->retired = f->n_retired;
	s->used = f->n_groups - f->n_free - f->n_retired;
	s->indexed = f->n_jump;
	s->runs = f->n_runs;
}

/* Lines of the jump index of a pool of @p groups: a slot for every two groups
 * at least, a power of two. */
static uint32_t
jump_lines(uint32_t groups)
{
	uint32_t lines = 1;

	while ((uint64_t)lines * JUMP_LINE < RTE_MIN(groups, JUMP_GMAX))
		lines <<= 1;
	return lines;
}

uint64_t
ap_fib6_mem_bytes(const struct ap_fib6_conf *conf)
{
	return (uint64_t)TBL24_SIZE * sizeof(uint32_t) + (uint64_t)conf->max_routes * RIB_NODE_SZ +
	       (uint64_t)conf->groups * (GROUP_SIZE * sizeof(uint32_t) + sizeof(uint32_t) +
					 sizeof(struct retired) + sizeof(uint32_t)) +
	       (uint64_t)jump_lines(conf->groups) * JUMP_LINE * sizeof(uint64_t);
}

struct ap_fib6 *
ap_fib6_create(const char *name, int socket, const struct ap_fib6_conf *conf)
{
	struct rte_rib6_conf rc = {.ext_sz = 0, .max_nodes = (int)conf->max_routes * 2};
	struct ap_fib6 *f;

	if (conf->default_nh > AP_FIB6_NH_MAX || conf->max_routes == 0 ||
	    conf->max_routes > INT32_MAX / 2 || conf->groups > AP_FIB6_NH_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	f = rte_zmalloc_socket("ap_fib6", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	f->qsbr = conf->qsbr;
	f->default_nh = conf->default_nh;
	f->max_routes = conf->max_routes;
	f->n_groups = conf->groups;
	f->rib = rte_rib6_create(name, socket, &rc);
	f->tbl24 = rte_malloc_socket("ap_fib6_tbl24", TBL24_SIZE * sizeof(uint32_t),
				     RTE_CACHE_LINE_SIZE, socket);
	if (conf->groups) {
		f->groups = rte_malloc_socket("ap_fib6_groups",
					      (size_t)conf->groups * GROUP_SIZE * sizeof(uint32_t),
					      RTE_CACHE_LINE_SIZE, socket);
		f->free = rte_malloc_socket("ap_fib6_free", conf->groups * sizeof(uint32_t), 0,
					    socket);
		f->retired = rte_malloc_socket("ap_fib6_retired",
					       conf->groups * sizeof(struct retired), 0, socket);
		f->jump_of = rte_zmalloc_socket("ap_fib6_jump_of",
						(size_t)conf->groups * sizeof(uint32_t), 0, socket);
	}
	f->head.jump_mask = jump_lines(conf->groups) - 1;
	f->head.jump = rte_zmalloc_socket(
		"ap_fib6_jump", (size_t)(f->head.jump_mask + 1) * JUMP_LINE * sizeof(uint64_t),
		RTE_CACHE_LINE_SIZE, socket);
	if (!f->rib || !f->tbl24 || !f->head.jump ||
	    (conf->groups && (!f->groups || !f->free || !f->retired || !f->jump_of))) {
		ap_fib6_free(f);
		rte_errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < TBL24_SIZE; i++)
		f->tbl24[i] = ent_nh(conf->default_nh);
	/* Lowest numbers first. */
	for (uint32_t i = 0; i < conf->groups; i++)
		f->free[i] = conf->groups - 1 - i;
	f->n_free = conf->groups;
	return f;
}

void
ap_fib6_free(struct ap_fib6 *f)
{
	if (f == NULL)
		return;
	rte_rib6_free(f->rib);
	rte_free(f->tbl24);
	rte_free(f->groups);
	rte_free(f->free);
	rte_free(f->retired);
	rte_free(f->head.jump);
	rte_free(f->jump_of);
	rte_free(f);
}
