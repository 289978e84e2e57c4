/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RIBs: interned path attributes, destinations with one path per peer, and
 * the decision process.
 *
 * Memory is what a full table costs, so the shapes are small: a destination
 * is a hash-chained node holding its prefix and a list of paths; a path is a
 * list link, a pointer to shared attributes and a peer index. The paths of a
 * peer, accepted or rejected by its import policy, are its Adj-RIB-In; the
 * best path of each destination is the Loc-RIB. Attribute sets are interned
 * in a hash table and reference-counted, so the many routes that share a set
 * (a full table has far fewer sets than prefixes) share one copy.
 */
#include "svc/bgp/bgp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEERS     1024
#define MIN_BUCKETS   1024
#define STACK_CANDS   32
#define DEFAULT_LPREF 100

/* The part of an attribute set that is compared and hashed. Built with
 * memset first so padding compares equal. */
struct pattr_key {
	uint64_t present;
	uint32_t next_hop, med, local_pref;
	uint32_t aggregator_as, aggregator_id, originator_id;
	uint16_t as_path_len, n_comm, n_ext, n_large, n_cluster, unknown_len;
	uint8_t origin, mp_nh_len;
	uint8_t mp_nh[32];
};

struct ap_bgp_pattr {
	struct ap_bgp_pattr *next;
	uint32_t hash;
	uint32_t refcnt;
	struct pattr_key k;
	/* AS_PATH, communities, extended, large, cluster list, unknown TLVs. */
	uint8_t data[];
};

struct peer {
	struct ap_bgp_peer_info info;
	uint64_t received, accepted;
	bool used;
};

/*
 * Destinations and paths come from pools of fixed-size objects carved out of
 * 256 KiB blocks, with a free list: no allocator header per object (a third
 * of a path's size), a full table in a few hundred allocations, and the whole
 * RIB freed block by block. Blocks go back with the RIB only.
 */
#define POOL_BLOCK (256u << 10)

struct pool {
	size_t size;  /* Object size, a multiple of 8. */
	void *free;   /* Free objects, linked through their first word. */
	uint8_t *cur; /* Next object to carve... */
	uint8_t *end; /* ...up to here. */
	void *blocks; /* Blocks, linked through their first word. */
};

static void *
pool_get(struct pool *pl)
{
	void *o = pl->free;

	if (o) {
		pl->free = *(void **)o;
	} else {
		if (pl->cur == NULL || pl->cur + pl->size > pl->end) {
			uint8_t *b = malloc(POOL_BLOCK);

			if (b == NULL)
				return NULL;
			*(void **)b = pl->blocks;
			pl->blocks = b;
			pl->cur = b + 16;
			pl->end = b + POOL_BLOCK;
		}
		o = pl->cur;
		pl->cur += pl->size;
	}
	return memset(o, 0, pl->size);
}

static void
pool_put(struct pool *pl, void *o)
{
	*(void **)o = pl->free;
	pl->free = o;
}

static void
pool_destroy(struct pool *pl)
{
	while (pl->blocks) {
		void *next = *(void **)pl->blocks;

		free(pl->blocks);
		pl->blocks = next;
	}
}

struct ap_bgp_rib {
	struct ap_bgp_rib_opts opts;
	struct pool dest_pool, path_pool;
	struct ap_bgp_dest **dests;
	uint32_t n_dbuckets;
	uint64_t n_dests, n_paths, n_best;
	struct ap_bgp_pattr **attrs;
	uint32_t n_abuckets;
	uint64_t n_attrs;
	struct peer peers[MAX_PEERS];
	uint16_t n_peers;
};

/* A multiply-xorshift hash taking 8 bytes a step: attribute sets are hashed
 * once per UPDATE, and a full table can come one prefix per UPDATE. */
static uint32_t
mixhash(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t x = h, w;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		x = (x ^ w) * 0x9e3779b97f4a7c15ull;
		x ^= x >> 29;
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		x = (x ^ w ^ (uint64_t)n << 56) * 0x9e3779b97f4a7c15ull;
		x ^= x >> 29;
	}
	return (uint32_t)(x ^ x >> 32);
}

/* ------------------------------------------------------------- decision */

int
ap_bgp_decide(const struct ap_bgp_cand *c, unsigned n, bool always_compare_med)
{
	bool in_stack[STACK_CANDS], *in = in_stack;
	int best = -1;
	unsigned left;

	if (n == 0)
		return -1;
	if (n > STACK_CANDS) {
		in = malloc(n * sizeof(*in));
		if (in == NULL) {
			/* Out of memory: any candidate beats none. */
			return 0;
		}
	}
	for (unsigned i = 0; i < n; i++)
		in[i] = true;
	left = n;

/* Keep only the candidates whose 'field' is the best ('better' says which
 * of two values wins). */
#define ELIMINATE(expr, better)                                                                    \
	do {                                                                                       \
		uint64_t bv = 0;                                                                   \
		bool have = false;                                                                 \
		for (unsigned i = 0; i < n; i++) {                                                 \
			uint64_t v = (expr);                                                       \
			if (in[i] && (!have || better(v, bv))) {                                   \
				bv = v;                                                            \
				have = true;                                                       \
			}                                                                          \
		}                                                                                  \
		for (unsigned i = 0; i < n && left > 1; i++) {                                     \
			uint64_t v = (expr);                                                       \
			if (in[i] && v != bv) {                                                    \
				in[i] = false;                                                     \
				left--;                                                            \
			}                                                                          \
		}                                                                                  \
	} while (0)
#define HIGHER(a, b) ((a) > (b))
#define LOWER(a, b)  ((a) < (b))

	/* §9.1.2.2 a-c, after §9.1.1's degree of preference (LOCAL_PREF). */
	ELIMINATE(c[i].local_pref, HIGHER);
	ELIMINATE(c[i].as_path_count, LOWER);
	ELIMINATE(c[i].origin, LOWER);
	/* §9.1.2.2 c: MED only among routes from the same neighbour AS; a
	 * missing MED is the lowest value. */
	for (unsigned i = 0; i < n && left > 1; i++) {
		if (!in[i])
			continue;
		for (unsigned j = 0; j < n; j++) {
			uint32_t mi = c[i].has_med ? c[i].med : 0;
			uint32_t mj = c[j].has_med ? c[j].med : 0;

			if (j == i || !in[j])
				continue;
			if (!always_compare_med && c[j].neighbor_as != c[i].neighbor_as)
				continue;
			if (mj < mi) {
				in[i] = false;
				left--;
				break;
			}
		}
	}
	/* §9.1.2.2 d: eBGP-learned over iBGP-learned. */
	ELIMINATE(c[i].ebgp ? 1u : 0u, HIGHER);
	/* §9.1.2.2 e (IGP cost) needs the FIB; every next hop costs the same here. */
	ELIMINATE(c[i].router_id, LOWER);
	ELIMINATE(c[i].cluster_len, LOWER);
	for (unsigned i = 0; i < n; i++) {
		if (!in[i])
			continue;
		if (best < 0 || memcmp(c[i].peer_addr, c[best].peer_addr, 16) < 0)
			best = (int)i;
	}
#undef ELIMINATE
#undef HIGHER
#undef LOWER
	if (in != in_stack)
		free(in);
	return best;
}

/* --------------------------------------------------------------- interning */

static uint32_t
pattr_data_len(const struct pattr_key *k)
{
	return k->as_path_len + 4u * k->n_comm + 8u * k->n_ext + 12u * k->n_large +
	       4u * k->n_cluster + k->unknown_len;
}

static bool
grow_attrs(struct ap_bgp_rib *rib)
{
	uint32_t nb = rib->n_abuckets * 2;
	struct ap_bgp_pattr **t = calloc(nb, sizeof(*t));

	if (t == NULL)
		return false;
	for (uint32_t i = 0; i < rib->n_abuckets; i++) {
		struct ap_bgp_pattr *pa = rib->attrs[i], *next;

		for (; pa; pa = next) {
			next = pa->next;
			pa->next = t[pa->hash & (nb - 1)];
			t[pa->hash & (nb - 1)] = pa;
		}
	}
	free(rib->attrs);
	rib->attrs = t;
	rib->n_abuckets = nb;
	return true;
}

static uint8_t *
copy(uint8_t *d, const void *src, size_t n)
{
	if (n)
		memcpy(d, src, n);
	return d + n;
}

/* Whether 'q' holds key 'k' and the arrays of 'a', laid out as intern copies them. */
static bool
pattr_equal(const struct ap_bgp_pattr *q, const struct pattr_key *k, const struct ap_bgp_attrs *a,
	    uint32_t len)
{
	const struct {
		const void *p;
		uint32_t n;
	} piece[] = {
		{a->as_path, k->as_path_len},	      {a->communities, 4u * k->n_comm},
		{a->ext_communities, 8u * k->n_ext},  {a->large_communities, 12u * k->n_large},
		{a->cluster_list, 4u * k->n_cluster},
	};
	uint32_t off = 0;

	if (memcmp(&q->k, k, sizeof(*k)) != 0)
		return false;
	for (size_t i = 0; i < sizeof(piece) / sizeof(piece[0]); i++) {
		if (piece[i].n && memcmp(q->data + off, piece[i].p, piece[i].n) != 0)
			return false;
		off += piece[i].n;
	}
	for (uint8_t i = 0; i < a->n_unknown && off + a->unknown[i].len <= len; i++) {
		if (memcmp(q->data + off, a->unknown[i].p, a->unknown[i].len) != 0)
			return false;
		off += a->unknown[i].len;
	}
	return true;
}

struct ap_bgp_pattr *
ap_bgp_pattr_intern(struct ap_bgp_rib *rib, const struct ap_bgp_attrs *a)
{
	struct pattr_key k;
	struct ap_bgp_pattr *pa;
	uint8_t *d;
	uint32_t h, len, ulen = 0;

	for (uint8_t i = 0; i < a->n_unknown; i++)
		ulen += a->unknown[i].len;
	memset(&k, 0, sizeof(k));
	/* MP_REACH/UNREACH carry NLRI, not attributes of the route. */
	k.present = a->present & ~(1ull << AP_BGP_ATTR_MP_REACH | 1ull << AP_BGP_ATTR_MP_UNREACH);
	k.origin = a->origin;
	k.next_hop = ap_bgp_attr_has(a, AP_BGP_ATTR_NEXT_HOP) ? a->next_hop : 0;
	k.med = ap_bgp_attr_has(a, AP_BGP_ATTR_MED) ? a->med : 0;
	k.local_pref = ap_bgp_attr_has(a, AP_BGP_ATTR_LOCAL_PREF) ? a->local_pref : 0;
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_AGGREGATOR)) {
		k.aggregator_as = a->aggregator_as;
		k.aggregator_id = a->aggregator_id;
	}
	k.originator_id = ap_bgp_attr_has(a, AP_BGP_ATTR_ORIGINATOR_ID) ? a->originator_id : 0;
	k.as_path_len = (uint16_t)(a->as_path_len > 0xffff ? 0xffff : a->as_path_len);
	k.n_comm = a->n_communities;
	k.n_ext = a->n_ext_communities;
	k.n_large = a->n_large_communities;
	k.n_cluster = a->n_cluster;
	k.unknown_len = (uint16_t)(ulen > 0xffff ? 0xffff : ulen);
	k.mp_nh_len = a->mp_nh_len;
	memcpy(k.mp_nh, a->mp_nh, a->mp_nh_len <= 32 ? a->mp_nh_len : 32);

	h = mixhash(2166136261u, &k, sizeof(k));
	h = mixhash(h, a->as_path, k.as_path_len);
	h = mixhash(h, a->communities, 4u * k.n_comm);
	h = mixhash(h, a->ext_communities, 8u * k.n_ext);
	h = mixhash(h, a->large_communities, 12u * k.n_large);
	h = mixhash(h, a->cluster_list, 4u * k.n_cluster);
	for (uint8_t i = 0; i < a->n_unknown; i++)
		h = mixhash(h, a->unknown[i].p, a->unknown[i].len);

	len = pattr_data_len(&k);
	/* An equal set is found without building a copy: most UPDATEs of a
	 * full table carry a set already known. */
	for (struct ap_bgp_pattr *q = rib->attrs[h & (rib->n_abuckets - 1)]; q; q = q->next) {
		if (q->hash == h && pattr_equal(q, &k, a, len)) {
			q->refcnt++;
			return q;
		}
	}
	pa = malloc(sizeof(*pa) + len);
	if (pa == NULL)
		return NULL;
	pa->k = k;
	d = pa->data;
	d = copy(d, a->as_path, k.as_path_len);
	d = copy(d, a->communities, 4u * k.n_comm);
	d = copy(d, a->ext_communities, 8u * k.n_ext);
	d = copy(d, a->large_communities, 12u * k.n_large);
	d = copy(d, a->cluster_list, 4u * k.n_cluster);
	for (uint8_t i = 0; i < a->n_unknown && (uint32_t)(d - pa->data) + a->unknown[i].len <= len;
	     i++)
		d = copy(d, a->unknown[i].p, a->unknown[i].len);
	if (rib->n_attrs >= rib->n_abuckets && !grow_attrs(rib)) {
		free(pa);
		return NULL;
	}
	pa->hash = h;
	pa->refcnt = 1;
	pa->next = rib->attrs[h & (rib->n_abuckets - 1)];
	rib->attrs[h & (rib->n_abuckets - 1)] = pa;
	rib->n_attrs++;
	return pa;
}

struct ap_bgp_pattr *
ap_bgp_pattr_ref(struct ap_bgp_pattr *pa)
{
	pa->refcnt++;
	return pa;
}

uint32_t
ap_bgp_pattr_refcnt(const struct ap_bgp_pattr *pa)
{
	return pa->refcnt;
}

void
ap_bgp_pattr_unref(struct ap_bgp_rib *rib, struct ap_bgp_pattr *pa)
{
	struct ap_bgp_pattr **pp;

	if (pa == NULL || --pa->refcnt > 0)
		return;
	for (pp = &rib->attrs[pa->hash & (rib->n_abuckets - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == pa) {
			*pp = pa->next;
			break;
		}
	}
	rib->n_attrs--;
	free(pa);
}

void
ap_bgp_pattr_view(const struct ap_bgp_pattr *pa, struct ap_bgp_attrs *out)
{
	const struct pattr_key *k = &pa->k;
	const uint8_t *d = pa->data, *end;

	memset(out, 0, sizeof(*out));
	out->present = k->present;
	out->origin = k->origin;
	out->next_hop = k->next_hop;
	out->med = k->med;
	out->local_pref = k->local_pref;
	out->aggregator_as = k->aggregator_as;
	out->aggregator_id = k->aggregator_id;
	out->originator_id = k->originator_id;
	out->mp_nh_len = k->mp_nh_len;
	memcpy(out->mp_nh, k->mp_nh, sizeof(out->mp_nh));
	out->as_path = d;
	out->as_path_len = k->as_path_len;
	d += k->as_path_len;
	out->communities = d;
	out->n_communities = k->n_comm;
	d += 4u * k->n_comm;
	out->ext_communities = d;
	out->n_ext_communities = k->n_ext;
	d += 8u * k->n_ext;
	out->large_communities = d;
	out->n_large_communities = k->n_large;
	d += 12u * k->n_large;
	out->cluster_list = d;
	out->n_cluster = k->n_cluster;
	d += 4u * k->n_cluster;
	/* Unknown attributes were stored whole; split them again. */
	end = d + k->unknown_len;
	while (d + 3 <= end && out->n_unknown < AP_BGP_MAX_UNKNOWN) {
		uint32_t l = (d[0] & AP_BGP_AF_EXTLEN)
				     ? (d + 4 <= end ? 4u + (d[2] << 8 | d[3]) : 0)
				     : 3u + d[2];

		if (l == 0 || d + l > end)
			break;
		out->unknown[out->n_unknown].p = d;
		out->unknown[out->n_unknown].len = (uint16_t)l;
		out->n_unknown++;
		d += l;
	}
}

/* ------------------------------------------------------------------ RIB */

struct ap_bgp_rib *
ap_bgp_rib_new(const struct ap_bgp_rib_opts *opts)
{
	struct ap_bgp_rib *rib = calloc(1, sizeof(*rib));

	if (rib == NULL)
		return NULL;
	if (opts)
		rib->opts = *opts;
	rib->n_dbuckets = MIN_BUCKETS;
	rib->n_abuckets = MIN_BUCKETS;
	rib->dest_pool.size = (sizeof(struct ap_bgp_dest) + 7) & ~(size_t)7;
	rib->path_pool.size = (sizeof(struct ap_bgp_path) + 7) & ~(size_t)7;
	rib->dests = calloc(rib->n_dbuckets, sizeof(*rib->dests));
	rib->attrs = calloc(rib->n_abuckets, sizeof(*rib->attrs));
	if (rib->dests == NULL || rib->attrs == NULL) {
		ap_bgp_rib_free(rib);
		return NULL;
	}
	return rib;
}

void
ap_bgp_rib_free(struct ap_bgp_rib *rib)
{
	if (rib == NULL)
		return;
	pool_destroy(&rib->dest_pool);
	pool_destroy(&rib->path_pool);
	for (uint32_t i = 0; rib->attrs && i < rib->n_abuckets; i++) {
		struct ap_bgp_pattr *pa = rib->attrs[i], *pn;

		for (; pa; pa = pn) {
			pn = pa->next;
			free(pa);
		}
	}
	free(rib->dests);
	free(rib->attrs);
	free(rib);
}

int
ap_bgp_rib_peer_add(struct ap_bgp_rib *rib, const struct ap_bgp_peer_info *info)
{
	if (rib->n_peers >= MAX_PEERS)
		return -ENOSPC;
	rib->peers[rib->n_peers].info = *info;
	rib->peers[rib->n_peers].used = true;
	return rib->n_peers++;
}

void
ap_bgp_rib_peer_set(struct ap_bgp_rib *rib, int id, const struct ap_bgp_peer_info *info)
{
	if (id >= 0 && id < rib->n_peers)
		rib->peers[id].info = *info;
}

const struct ap_bgp_peer_info *
ap_bgp_rib_peer(const struct ap_bgp_rib *rib, int id)
{
	return id >= 0 && id < rib->n_peers ? &rib->peers[id].info : NULL;
}

static uint32_t
pfx_hash(const struct ap_bgp_prefix *p)
{
	uint32_t h = mixhash(2166136261u, &p->af, 2);

	return mixhash(h, p->addr, p->af == AP_BGP_IPV6 ? 16 : 4);
}

static bool
pfx_eq(const struct ap_bgp_prefix *a, const struct ap_bgp_prefix *b)
{
	return a->af == b->af && a->len == b->len && memcmp(a->addr, b->addr, 16) == 0;
}

static struct ap_bgp_dest **
dest_slot(const struct ap_bgp_rib *rib, const struct ap_bgp_prefix *p)
{
	struct ap_bgp_dest **dp = &rib->dests[pfx_hash(p) & (rib->n_dbuckets - 1)];

	while (*dp && !pfx_eq(&(*dp)->pfx, p))
		dp = &(*dp)->next;
	return dp;
}

void
ap_bgp_rib_prefetch(const struct ap_bgp_rib *rib, const struct ap_bgp_prefix *pfx, bool chain)
{
	struct ap_bgp_dest *const *slot = &rib->dests[pfx_hash(pfx) & (rib->n_dbuckets - 1)];

	if (!chain)
		__builtin_prefetch(slot);
	else if (*slot)
		__builtin_prefetch(*slot);
}

static void
grow_dests(struct ap_bgp_rib *rib)
{
	uint32_t nb = rib->n_dbuckets * 2;
	struct ap_bgp_dest **t = calloc(nb, sizeof(*t));

	/* Without memory the chains just get longer. */
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < rib->n_dbuckets; i++) {
		struct ap_bgp_dest *d = rib->dests[i], *next;

		for (; d; d = next) {
			uint32_t b = pfx_hash(&d->pfx) & (nb - 1);

			next = d->next;
			d->next = t[b];
			t[b] = d;
		}
	}
	free(rib->dests);
	rib->dests = t;
	rib->n_dbuckets = nb;
}

static void
cand_of(const struct ap_bgp_rib *rib, const struct ap_bgp_path *p, struct ap_bgp_cand *c)
{
	const struct ap_bgp_peer_info *pi = &rib->peers[p->peer].info;
	const struct pattr_key *k = &p->attrs->k;
	const uint8_t *path = p->attrs->data;

	memset(c, 0, sizeof(*c));
	/* RFC 4271 §9.1.1: the route's LOCAL_PREF, else the default. From an
	 * external peer it can only come from our import policy: the decoder
	 * discards a received one (RFC 7606 §7.5). */
	c->local_pref = (k->present >> AP_BGP_ATTR_LOCAL_PREF & 1) ? k->local_pref : DEFAULT_LPREF;
	c->as_path_count = ap_bgp_aspath_count(path, k->as_path_len);
	c->origin = k->origin;
	c->has_med = k->present >> AP_BGP_ATTR_MED & 1;
	c->med = k->med;
	c->neighbor_as = ap_bgp_aspath_first(path, k->as_path_len);
	c->ebgp = !pi->ibgp;
	c->router_id =
		(k->present >> AP_BGP_ATTR_ORIGINATOR_ID & 1) ? k->originator_id : pi->router_id;
	c->cluster_len = k->n_cluster;
	memcpy(c->peer_addr, pi->addr, 16);
}

/* Run the decision process for 'd' and report a change of best path; 'force'
 * reports it even when the best path is the same one with new attributes. */
static void
decide(struct ap_bgp_rib *rib, struct ap_bgp_dest *d, const struct ap_bgp_path *old_best,
       bool force)
{
	struct ap_bgp_cand stack[STACK_CANDS], *c = stack;
	struct ap_bgp_path *ps_stack[STACK_CANDS], **ps = ps_stack, *best = NULL;
	unsigned n = 0, cap = STACK_CANDS;
	int b;

	for (struct ap_bgp_path *p = d->paths; p; p = p->next)
		n += !p->rejected;
	if (n > STACK_CANDS) {
		struct ap_bgp_cand *hc = malloc(n * sizeof(*hc));
		struct ap_bgp_path **hp = malloc(n * sizeof(*hp));

		/* Without memory, decide among the first candidates only. */
		if (hc && hp) {
			c = hc;
			ps = hp;
			cap = n;
		} else {
			free(hc);
			free(hp);
		}
	}
	n = 0;
	for (struct ap_bgp_path *p = d->paths; p && n < cap; p = p->next) {
		if (p->rejected)
			continue;
		cand_of(rib, p, &c[n]);
		ps[n++] = p;
	}
	b = n ? ap_bgp_decide(c, n, rib->opts.always_compare_med) : -1;
	if (b >= 0 && (unsigned)b < n)
		best = ps[b];
	if (c != stack)
		free(c);
	if (ps != ps_stack)
		free(ps);
	d->best = best;
	if (best && !old_best)
		rib->n_best++;
	else if (!best && old_best)
		rib->n_best--;
	if ((best != old_best || (force && best)) && rib->opts.on_best)
		rib->opts.on_best(rib->opts.ctx, d, old_best, best);
}

/* Unlink 'p' from 'd', free it and keep the counters right. */
static void
path_free(struct ap_bgp_rib *rib, struct ap_bgp_path *p)
{
	struct peer *pe = &rib->peers[p->peer];

	pe->received--;
	if (!p->rejected)
		pe->accepted--;
	rib->n_paths--;
	ap_bgp_pattr_unref(rib, p->attrs);
	pool_put(&rib->path_pool, p);
}

static void
dest_maybe_free(struct ap_bgp_rib *rib, struct ap_bgp_dest **slot)
{
	struct ap_bgp_dest *d = *slot;

	if (d->paths || d->held)
		return;
	*slot = d->next;
	rib->n_dests--;
	pool_put(&rib->dest_pool, d);
}

bool
ap_bgp_rib_hold(struct ap_bgp_rib *rib, const struct ap_bgp_dest *d)
{
	struct ap_bgp_dest *m = (struct ap_bgp_dest *)d; /* Ours: the RIB hands it out const. */

	(void)rib;
	if (m->held)
		return false;
	m->held = 1;
	return true;
}

void
ap_bgp_rib_release(struct ap_bgp_rib *rib, const struct ap_bgp_dest *d)
{
	struct ap_bgp_dest *m = (struct ap_bgp_dest *)d;

	m->held = 0;
	if (m->paths == NULL)
		dest_maybe_free(rib, dest_slot(rib, &m->pfx));
}

int
ap_bgp_rib_update(struct ap_bgp_rib *rib, uint16_t peer, const struct ap_bgp_prefix *pfx,
		  struct ap_bgp_pattr *pa, bool rejected, uint32_t now)
{
	struct ap_bgp_dest **slot, *d;
	struct ap_bgp_path *p, *old_best, *prev_same = NULL;
	struct ap_bgp_pattr *prev_attrs = NULL;
	bool was_rejected = false;

	if (peer >= rib->n_peers) {
		ap_bgp_pattr_unref(rib, pa);
		return -EINVAL;
	}
	slot = dest_slot(rib, pfx);
	d = *slot;
	if (d == NULL) {
		if (rib->n_dests >= rib->n_dbuckets) {
			grow_dests(rib);
			slot = dest_slot(rib, pfx);
		}
		d = pool_get(&rib->dest_pool);
		if (d == NULL) {
			ap_bgp_pattr_unref(rib, pa);
			return -ENOMEM;
		}
		d->pfx = *pfx;
		d->next = *slot;
		*slot = d;
		rib->n_dests++;
	}
	old_best = d->best;
	for (p = d->paths; p; p = p->next)
		if (p->peer == peer)
			break;
	if (p == NULL) {
		p = pool_get(&rib->path_pool);
		if (p == NULL) {
			ap_bgp_pattr_unref(rib, pa);
			dest_maybe_free(rib, slot);
			return -ENOMEM;
		}
		p->peer = peer;
		p->next = d->paths;
		d->paths = p;
		rib->n_paths++;
		rib->peers[peer].received++;
	} else {
		prev_same = p;
		prev_attrs = p->attrs;
		was_rejected = p->rejected;
		if (!was_rejected)
			rib->peers[peer].accepted--;
	}
	p->attrs = pa;
	p->rejected = rejected;
	p->stale = 0;
	p->since = now;
	if (!rejected)
		rib->peers[peer].accepted++;
	/* An implicit withdraw (RFC 4271 §9.1.4) that changes the attributes of
	 * the best path is a change even if the best path stays the same. */
	decide(rib, d, old_best, prev_same && prev_same == old_best && prev_attrs != pa);
	if (prev_attrs)
		ap_bgp_pattr_unref(rib, prev_attrs);
	return 0;
}

int
ap_bgp_rib_withdraw(struct ap_bgp_rib *rib, uint16_t peer, const struct ap_bgp_prefix *pfx)
{
	struct ap_bgp_dest **slot = dest_slot(rib, pfx), *d = *slot;
	struct ap_bgp_path **pp, *p, *old_best;

	if (d == NULL)
		return -ENOENT;
	for (pp = &d->paths; *pp && (*pp)->peer != peer; pp = &(*pp)->next)
		;
	p = *pp;
	if (p == NULL)
		return -ENOENT;
	old_best = d->best;
	*pp = p->next;
	/* The listener may still read the old best path: free it afterwards. */
	if (old_best == p)
		decide(rib, d, old_best, false);
	path_free(rib, p);
	dest_maybe_free(rib, slot);
	return 0;
}

uint32_t
ap_bgp_rib_flush_peer(struct ap_bgp_rib *rib, uint16_t peer)
{
	uint32_t n = 0;

	if (peer >= rib->n_peers)
		return 0;
	for (uint32_t i = 0; i < rib->n_dbuckets && rib->peers[peer].received > 0; i++) {
		struct ap_bgp_dest **slot = &rib->dests[i];

		while (*slot) {
			struct ap_bgp_dest *d = *slot;
			struct ap_bgp_path *p;

			for (p = d->paths; p && p->peer != peer; p = p->next)
				;
			if (p != NULL) {
				ap_bgp_rib_withdraw(rib, peer, &d->pfx);
				n++;
				/* The destination may be gone; *slot is then its successor. */
				if (*slot != d)
					continue;
			}
			slot = &(*slot)->next;
		}
	}
	return n;
}

uint32_t
ap_bgp_rib_mark_stale(struct ap_bgp_rib *rib, uint16_t peer)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < rib->n_dbuckets && peer < rib->n_peers; i++)
		for (struct ap_bgp_dest *d = rib->dests[i]; d; d = d->next)
			for (struct ap_bgp_path *p = d->paths; p; p = p->next)
				if (p->peer == peer) {
					p->stale = 1;
					n++;
				}
	return n;
}

uint32_t
ap_bgp_rib_flush_stale(struct ap_bgp_rib *rib, uint16_t peer, uint8_t af)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < rib->n_dbuckets && peer < rib->n_peers; i++) {
		struct ap_bgp_dest **slot = &rib->dests[i];

		while (*slot) {
			struct ap_bgp_dest *d = *slot;
			struct ap_bgp_path *p;

			for (p = d->paths; p && p->peer != peer; p = p->next)
				;
			if (p && p->stale && (af == AP_BGP_AF_NONE || d->pfx.af == af)) {
				ap_bgp_rib_withdraw(rib, peer, &d->pfx);
				n++;
				if (*slot != d)
					continue;
			}
			slot = &(*slot)->next;
		}
	}
	return n;
}

const struct ap_bgp_dest *
ap_bgp_rib_lookup(const struct ap_bgp_rib *rib, const struct ap_bgp_prefix *pfx)
{
	return *dest_slot(rib, pfx);
}

int
ap_bgp_rib_walk(const struct ap_bgp_rib *rib, int (*fn)(void *ctx, const struct ap_bgp_dest *d),
		void *ctx)
{
	for (uint32_t i = 0; i < rib->n_dbuckets; i++)
		for (const struct ap_bgp_dest *d = rib->dests[i]; d; d = d->next) {
			int rc = fn(ctx, d);

			if (rc)
				return rc;
		}
	return 0;
}

void
ap_bgp_rib_stats(const struct ap_bgp_rib *rib, struct ap_bgp_rib_stats *st)
{
	st->dests = rib->n_dests;
	st->paths = rib->n_paths;
	st->attrs = rib->n_attrs;
	st->best = rib->n_best;
}

void
ap_bgp_rib_peer_counts(const struct ap_bgp_rib *rib, uint16_t peer, uint64_t *received,
		       uint64_t *accepted)
{
	*received = peer < rib->n_peers ? rib->peers[peer].received : 0;
	*accepted = peer < rib->n_peers ? rib->peers[peer].accepted : 0;
}
