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
 */
#include <errno.h>
#include <string.h>

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

typedef unsigned __int128 u128;

struct retired {
	uint32_t group;
	uint64_t token;
};

struct ap_fib6 {
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
	if (old & EXT)
		group_retire(f, old >> 1);
}

/* Entry @p e gets a group whose entries all hold its next hop. */
static int
ent_extend(struct ap_fib6 *f, uint32_t *e)
{
	uint32_t g = group_alloc(f), *grp;

	if (g == NO_GROUP)
		return -ENOSPC;
	grp = &f->groups[(size_t)g * GROUP_SIZE];
	for (unsigned i = 0; i < GROUP_SIZE; i++)
		grp[i] = *e;
	/* Filled before it is published. */
	__atomic_store_n(e, g << 1 | EXT, __ATOMIC_RELEASE);
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
		if (!(*e & EXT) && ent_extend(f, e) < 0)
			return -ENOSPC;
		grp = group_at(f, *e);
		if (j == last)
			break;
		e = &grp[addr_byte(a, 2 + j)];
	}
	e = &grp[addr_byte(a, 2 + last)];
	for (uint32_t i = 0; i < 1u << (24 + 8 * last - len); i++)
		ent_write(f, &e[i], v);
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
	uint32_t ent[BURST];
	uint8_t live[BURST];

	for (unsigned base = 0; base < n; base += BURST) {
		uint8_t(*ip)[16] = ips + base;
		uint64_t *nh = nhs + base;
		unsigned m = RTE_MIN(n - base, BURST), n_live = 0;

		/* Every first-level entry of the burst, then the next level of
		 * those that go on, and so on: the misses overlap. */
		for (unsigned i = 0; i < m; i++) {
			p[i] = &f->tbl24[(uint32_t)ip[i][0] << 16 | (uint32_t)ip[i][1] << 8 |
					 ip[i][2]];
			rte_prefetch0(p[i]);
		}
		for (unsigned i = 0; i < m; i++) {
			uint32_t e = __atomic_load_n(p[i], __ATOMIC_ACQUIRE);

			nh[i] = e >> 1;
			ent[i] = e;
			if (e & EXT)
				live[n_live++] = (uint8_t)i;
		}
		for (unsigned byte = 3; n_live && byte < 16; byte++) {
			unsigned still = 0;

			for (unsigned k = 0; k < n_live; k++) {
				unsigned i = live[k];

				p[k] = &f->groups[(size_t)(ent[i] >> 1) * GROUP_SIZE + ip[i][byte]];
				rte_prefetch0(p[k]);
			}
			for (unsigned k = 0; k < n_live; k++) {
				unsigned i = live[k];
				uint32_t e = __atomic_load_n(p[k], __ATOMIC_ACQUIRE);

				nh[i] = e >> 1;
				ent[i] = e;
				if (e & EXT)
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
}

uint64_t
ap_fib6_mem_bytes(const struct ap_fib6_conf *conf)
{
	return (uint64_t)TBL24_SIZE * sizeof(uint32_t) + (uint64_t)conf->max_routes * RIB_NODE_SZ +
	       (uint64_t)conf->groups *
		       (GROUP_SIZE * sizeof(uint32_t) + sizeof(uint32_t) + sizeof(struct retired));
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
	}
	if (!f->rib || !f->tbl24 || (conf->groups && (!f->groups || !f->free || !f->retired))) {
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
	rte_free(f);
}
