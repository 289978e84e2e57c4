/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Decision process (RFC 4271 §9.1.2.2, RFC 4456 §9) table-driven, and the
 * RIB: attribute interning with reference counts, implicit withdraw, best
 * path changes, peer flush.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "svc/bgp/bgp.h"

#define TABLE_PARAMS(suite, name, table)                                                           \
	ParameterizedTestParameters(suite, name)                                                   \
	{                                                                                          \
		static size_t idx[sizeof(table) / sizeof((table)[0])];                             \
                                                                                                   \
		for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)                          \
			idx[i] = i;                                                                \
		return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));             \
	}

/* One candidate: lpref, path length, origin, med (-1: none), neighbour AS,
 * ebgp, router id, cluster length, last byte of the peer address. */
struct c {
	uint32_t lp, len;
	uint8_t origin;
	int64_t med;
	uint32_t nas;
	bool ebgp;
	uint32_t rid, cl;
	uint8_t addr;
};

struct decide_case {
	const char *name;
	bool always_med;
	unsigned n;
	struct c c[4];
	int best;
};

#define BASE(addr)                                                                                 \
	{                                                                                          \
		100, 2, 0, -1, 65001, true, 10, 0, addr                                            \
	}

static struct decide_case decide_cases[] = {
	{"one candidate", false, 1, {BASE(1)}, 0},
	{"higher local_pref", false, 2, {BASE(1), {200, 5, 2, 99, 65002, false, 99, 3, 9}}, 1},
	{"shorter as_path",
	 false,
	 2,
	 {{100, 3, 0, -1, 65001, true, 1, 0, 1}, {100, 2, 2, 50, 65002, true, 9, 0, 2}},
	 1},
	{"lower origin",
	 false,
	 2,
	 {{100, 2, 1, -1, 65001, true, 1, 0, 1}, {100, 2, 0, 50, 65001, true, 9, 0, 2}},
	 1},
	{"lower med same neighbour as",
	 false,
	 2,
	 {{100, 2, 0, 20, 65001, true, 1, 0, 1}, {100, 2, 0, 10, 65001, true, 9, 0, 2}},
	 1},
	{"med ignored across neighbour ases",
	 false,
	 2,
	 {{100, 2, 0, 20, 65001, true, 1, 0, 1}, {100, 2, 0, 10, 65002, true, 9, 0, 2}},
	 0},
	{"always-compare-med",
	 true,
	 2,
	 {{100, 2, 0, 20, 65001, true, 1, 0, 1}, {100, 2, 0, 10, 65002, true, 9, 0, 2}},
	 1},
	{"missing med is lowest",
	 false,
	 2,
	 {{100, 2, 0, 5, 65001, true, 1, 0, 1}, {100, 2, 0, -1, 65001, true, 9, 0, 2}},
	 1},
	{"ebgp over ibgp",
	 false,
	 2,
	 {{100, 2, 0, -1, 65001, false, 1, 0, 1}, {100, 2, 0, -1, 65001, true, 9, 0, 2}},
	 1},
	{"lower router id",
	 false,
	 2,
	 {{100, 2, 0, -1, 65001, true, 7, 0, 1}, {100, 2, 0, -1, 65001, true, 3, 0, 2}},
	 1},
	{"shorter cluster list",
	 false,
	 2,
	 {{100, 2, 0, -1, 65001, false, 3, 2, 1}, {100, 2, 0, -1, 65001, false, 3, 1, 2}},
	 1},
	{"lower peer address", false, 3, {BASE(9), BASE(4), BASE(6)}, 1},
	/* The classic MED cycle: A beats B by MED (same AS), B beats C by router
	 * id, C beats A by router id. Elimination removes A's MED loser first
	 * whatever the order, so the answer is the same for every order. */
	{"deterministic med, order 1",
	 false,
	 3,
	 {{100, 2, 0, 10, 65001, true, 30, 0, 1},
	  {100, 2, 0, 20, 65001, true, 10, 0, 2},
	  {100, 2, 0, 5, 65002, true, 20, 0, 3}},
	 2},
	{"deterministic med, order 2",
	 false,
	 3,
	 {{100, 2, 0, 5, 65002, true, 20, 0, 3},
	  {100, 2, 0, 20, 65001, true, 10, 0, 2},
	  {100, 2, 0, 10, 65001, true, 30, 0, 1}},
	 0},
	{"deterministic med, order 3",
	 false,
	 3,
	 {{100, 2, 0, 20, 65001, true, 10, 0, 2},
	  {100, 2, 0, 5, 65002, true, 20, 0, 3},
	  {100, 2, 0, 10, 65001, true, 30, 0, 1}},
	 1},
	{"local_pref beats everything after it",
	 false,
	 4,
	 {{100, 1, 0, -1, 65001, true, 1, 0, 1},
	  {150, 9, 2, 999, 65001, false, 99, 9, 9},
	  {120, 1, 0, -1, 65001, true, 1, 0, 2},
	  {149, 1, 0, -1, 65001, true, 1, 0, 3}},
	 1},
};

TABLE_PARAMS(bgp_decide, table, decide_cases)

ParameterizedTest(size_t *row, bgp_decide, table)
{
	const struct decide_case *t = &decide_cases[*row];
	struct ap_bgp_cand c[4];

	for (unsigned i = 0; i < t->n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].local_pref = t->c[i].lp;
		c[i].as_path_count = t->c[i].len;
		c[i].origin = t->c[i].origin;
		c[i].has_med = t->c[i].med >= 0;
		c[i].med = t->c[i].med >= 0 ? (uint32_t)t->c[i].med : 0;
		c[i].neighbor_as = t->c[i].nas;
		c[i].ebgp = t->c[i].ebgp;
		c[i].router_id = t->c[i].rid;
		c[i].cluster_len = t->c[i].cl;
		c[i].peer_addr[0] = 10;
		c[i].peer_addr[3] = t->c[i].addr;
	}
	cr_assert_eq(ap_bgp_decide(c, t->n, t->always_med), t->best, "%s", t->name);
}

Test(bgp_decide, none)
{
	cr_assert_eq(ap_bgp_decide(NULL, 0, false), -1);
}

Test(bgp_decide, many_candidates)
{
	struct ap_bgp_cand *c = calloc(100, sizeof(*c));

	for (int i = 0; i < 100; i++) {
		c[i].local_pref = 100;
		c[i].router_id = 1000 - (uint32_t)i;
	}
	cr_assert_eq(ap_bgp_decide(c, 100, false), 99);
	free(c);
}

/* ------------------------------------------------------------------ RIB */

struct events {
	int n;
	const struct ap_bgp_path *last_old, *last_best;
};

static void
on_best(void *ctx, const struct ap_bgp_dest *d, const struct ap_bgp_path *old,
	const struct ap_bgp_path *best)
{
	struct events *e = ctx;

	(void)d;
	e->n++;
	e->last_old = old;
	e->last_best = best;
}

static uint8_t path_buf[8][64];

/* Attributes with an AS_PATH of 'len' times 'first_as' and MED 'med'. */
static void
mk_attrs(struct ap_bgp_attrs *a, int slot, uint32_t first_as, unsigned len, uint32_t med)
{
	uint8_t *p = path_buf[slot];

	memset(a, 0, sizeof(*a));
	a->present = 1ull << AP_BGP_ATTR_ORIGIN | 1ull << AP_BGP_ATTR_AS_PATH |
		     1ull << AP_BGP_ATTR_NEXT_HOP | 1ull << AP_BGP_ATTR_MED;
	p[0] = AP_BGP_AS_SEQUENCE;
	p[1] = (uint8_t)len;
	for (unsigned i = 0; i < len; i++) {
		p[2 + 4 * i] = (uint8_t)(first_as >> 24);
		p[3 + 4 * i] = (uint8_t)(first_as >> 16);
		p[4 + 4 * i] = (uint8_t)(first_as >> 8);
		p[5 + 4 * i] = (uint8_t)first_as;
	}
	a->as_path = p;
	a->as_path_len = 2 + 4 * len;
	a->next_hop = 0x0a000001;
	a->med = med;
}

static struct ap_bgp_rib *
mk_rib(struct events *e, int *p1, int *p2)
{
	struct ap_bgp_rib_opts o = {.on_best = on_best, .ctx = e};
	struct ap_bgp_rib *rib = ap_bgp_rib_new(&o);
	struct ap_bgp_peer_info a = {.addr = {10, 0, 0, 1}, .asn = 65001, .router_id = 1};
	struct ap_bgp_peer_info b = {.addr = {10, 0, 0, 2}, .asn = 65002, .router_id = 2};

	cr_assert_not_null(rib);
	*p1 = ap_bgp_rib_peer_add(rib, &a);
	*p2 = ap_bgp_rib_peer_add(rib, &b);
	cr_assert_eq(*p1, 0);
	cr_assert_eq(*p2, 1);
	return rib;
}

Test(bgp_rib, interning_shares_and_frees)
{
	struct events e = {0};
	int p1, p2;
	struct ap_bgp_rib *rib = mk_rib(&e, &p1, &p2);
	struct ap_bgp_attrs a, b, v;
	struct ap_bgp_pattr *x, *y, *z;
	struct ap_bgp_rib_stats st;

	mk_attrs(&a, 0, 65001, 2, 10);
	mk_attrs(&b, 1, 65001, 2, 10);
	x = ap_bgp_pattr_intern(rib, &a);
	y = ap_bgp_pattr_intern(rib, &b);
	cr_assert_eq(x, y, "equal sets share one copy");
	cr_assert_eq(ap_bgp_pattr_refcnt(x), 2);
	b.med = 11;
	z = ap_bgp_pattr_intern(rib, &b);
	cr_assert_neq(x, z);
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.attrs, 2);
	ap_bgp_pattr_view(z, &v);
	cr_assert_eq(v.med, 11);
	cr_assert_eq(v.as_path_len, a.as_path_len);
	cr_assert_arr_eq(v.as_path, a.as_path, a.as_path_len);
	ap_bgp_pattr_unref(rib, x);
	ap_bgp_pattr_unref(rib, y);
	ap_bgp_pattr_unref(rib, z);
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.attrs, 0);
	ap_bgp_rib_free(rib);
}

Test(bgp_rib, view_round_trips_everything)
{
	static const uint8_t comm[] = {0, 1, 0, 2};
	static const uint8_t ext[] = {0, 2, 0, 1, 0, 0, 0, 9};
	static const uint8_t large[] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
	static const uint8_t unk1[] = {0xc0, 99, 1, 7}, unk2[] = {0xd0, 98, 0, 2, 1, 2};
	struct events e = {0};
	int p1, p2;
	struct ap_bgp_rib *rib = mk_rib(&e, &p1, &p2);
	struct ap_bgp_attrs a, v;
	struct ap_bgp_pattr *x;

	mk_attrs(&a, 0, 65001, 3, 10);
	a.present |= 1ull << AP_BGP_ATTR_COMMUNITIES | 1ull << AP_BGP_ATTR_EXT_COMMUNITIES |
		     1ull << AP_BGP_ATTR_LARGE_COMMUNITIES;
	a.communities = comm;
	a.n_communities = 1;
	a.ext_communities = ext;
	a.n_ext_communities = 1;
	a.large_communities = large;
	a.n_large_communities = 1;
	a.unknown[0].p = unk1;
	a.unknown[0].len = sizeof(unk1);
	a.unknown[1].p = unk2;
	a.unknown[1].len = sizeof(unk2);
	a.n_unknown = 2;
	x = ap_bgp_pattr_intern(rib, &a);
	ap_bgp_pattr_view(x, &v);
	cr_assert_eq(v.present, a.present);
	cr_assert_arr_eq(v.communities, comm, 4);
	cr_assert_arr_eq(v.ext_communities, ext, 8);
	cr_assert_arr_eq(v.large_communities, large, 12);
	cr_assert_eq(v.n_unknown, 2);
	cr_assert_arr_eq(v.unknown[1].p, unk2, sizeof(unk2));
	ap_bgp_pattr_unref(rib, x);
	ap_bgp_rib_free(rib);
}

Test(bgp_rib, best_path_follows_updates_and_withdrawals)
{
	struct events e = {0};
	int p1, p2;
	struct ap_bgp_rib *rib = mk_rib(&e, &p1, &p2);
	struct ap_bgp_prefix pfx;
	struct ap_bgp_attrs a;
	const struct ap_bgp_dest *d;
	struct ap_bgp_rib_stats st;
	uint64_t rx, acc;

	ap_bgp_prefix_parse("198.51.100.0/24", &pfx);
	/* Peer 1: path length 3. */
	mk_attrs(&a, 0, 65001, 3, 0);
	cr_assert_eq(ap_bgp_rib_update(rib, 0, &pfx, ap_bgp_pattr_intern(rib, &a), false, 1), 0);
	cr_assert_eq(e.n, 1);
	d = ap_bgp_rib_lookup(rib, &pfx);
	cr_assert_not_null(d);
	cr_assert_eq(d->best->peer, 0);
	/* Peer 2: shorter path wins. */
	mk_attrs(&a, 1, 65002, 1, 0);
	ap_bgp_rib_update(rib, 1, &pfx, ap_bgp_pattr_intern(rib, &a), false, 2);
	cr_assert_eq(e.n, 2);
	cr_assert_eq(d->best->peer, 1);
	/* Peer 1 again, implicit withdraw with a path of 1 and lower address wins. */
	mk_attrs(&a, 2, 65001, 1, 0);
	ap_bgp_rib_update(rib, 0, &pfx, ap_bgp_pattr_intern(rib, &a), false, 3);
	cr_assert_eq(e.n, 3);
	cr_assert_eq(d->best->peer, 0);
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.dests, 1);
	cr_assert_eq(st.paths, 2);
	cr_assert_eq(st.best, 1);
	cr_assert_eq(st.attrs, 2, "the replaced attribute set was freed");
	/* Same best path, new attributes: reported as a change of itself. */
	mk_attrs(&a, 3, 65001, 1, 7);
	ap_bgp_rib_update(rib, 0, &pfx, ap_bgp_pattr_intern(rib, &a), false, 4);
	cr_assert_eq(e.n, 4);
	cr_assert_eq(e.last_old, e.last_best);
	/* Withdraw the best: peer 2 takes over. */
	cr_assert_eq(ap_bgp_rib_withdraw(rib, 0, &pfx), 0);
	cr_assert_eq(e.n, 5);
	cr_assert_eq(e.last_best->peer, 1);
	cr_assert_eq(ap_bgp_rib_withdraw(rib, 0, &pfx), -ENOENT);
	/* Import policy rejects peer 2's path: no best left, path still held. */
	mk_attrs(&a, 4, 65002, 1, 0);
	ap_bgp_rib_update(rib, 1, &pfx, ap_bgp_pattr_intern(rib, &a), true, 5);
	cr_assert_eq(e.n, 6);
	cr_assert_null(e.last_best);
	ap_bgp_rib_peer_counts(rib, 1, &rx, &acc);
	cr_assert_eq(rx, 1);
	cr_assert_eq(acc, 0);
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.best, 0);
	cr_assert_eq(st.paths, 1);
	cr_assert_eq(ap_bgp_rib_withdraw(rib, 1, &pfx), 0);
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.dests, 0);
	cr_assert_eq(st.attrs, 0);
	ap_bgp_rib_free(rib);
}

Test(bgp_rib, flush_peer_at_scale)
{
	struct events e = {0};
	int p1, p2;
	struct ap_bgp_rib *rib = mk_rib(&e, &p1, &p2);
	struct ap_bgp_attrs a, b;
	struct ap_bgp_pattr *pa, *pb;
	struct ap_bgp_rib_stats st;
	const uint32_t n = 50000;

	mk_attrs(&a, 0, 65001, 2, 0);
	mk_attrs(&b, 1, 65002, 3, 0);
	pa = ap_bgp_pattr_intern(rib, &a);
	pb = ap_bgp_pattr_intern(rib, &b);
	for (uint32_t i = 0; i < n; i++) {
		struct ap_bgp_prefix p = {.af = AP_BGP_IPV4, .len = 24};

		p.addr[0] = 10;
		p.addr[1] = (uint8_t)(i >> 8);
		p.addr[2] = (uint8_t)i;
		p.addr[0] += (uint8_t)(i >> 16);
		cr_assert_eq(ap_bgp_rib_update(rib, 0, &p, ap_bgp_pattr_ref(pa), false, 0), 0);
		if (i % 2 == 0)
			ap_bgp_rib_update(rib, 1, &p, ap_bgp_pattr_ref(pb), false, 0);
	}
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.dests, n);
	cr_assert_eq(st.paths, n + n / 2);
	cr_assert_eq(st.attrs, 2);
	cr_assert_eq(ap_bgp_pattr_refcnt(pa), n + 1);
	/* Peer 0 goes down: half the destinations fall back to peer 1. */
	e.n = 0;
	cr_assert_eq(ap_bgp_rib_flush_peer(rib, 0), n);
	cr_assert_eq(e.n, (int)n);
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.dests, n / 2);
	cr_assert_eq(st.best, n / 2);
	cr_assert_eq(ap_bgp_pattr_refcnt(pa), 1);
	ap_bgp_pattr_unref(rib, pa);
	ap_bgp_pattr_unref(rib, pb);
	ap_bgp_rib_free(rib);
}

Test(bgp_rib, ibgp_local_pref_and_originator)
{
	struct ap_bgp_rib_opts o = {0};
	struct ap_bgp_rib *rib = ap_bgp_rib_new(&o);
	struct ap_bgp_peer_info i1 = {
		.addr = {10, 0, 0, 1}, .asn = 65000, .router_id = 9, .ibgp = true};
	struct ap_bgp_peer_info i2 = {
		.addr = {10, 0, 0, 2}, .asn = 65000, .router_id = 8, .ibgp = true};
	struct ap_bgp_prefix pfx;
	struct ap_bgp_attrs a;
	const struct ap_bgp_dest *d;

	ap_bgp_rib_peer_add(rib, &i1);
	ap_bgp_rib_peer_add(rib, &i2);
	ap_bgp_prefix_parse("2001:db8::/32", &pfx);
	mk_attrs(&a, 0, 65001, 1, 0);
	a.present |= 1ull << AP_BGP_ATTR_LOCAL_PREF | 1ull << AP_BGP_ATTR_ORIGINATOR_ID;
	a.local_pref = 100;
	a.originator_id = 1; /* Reflected: the originator's id counts, not the peer's. */
	ap_bgp_rib_update(rib, 0, &pfx, ap_bgp_pattr_intern(rib, &a), false, 0);
	mk_attrs(&a, 1, 65001, 1, 0);
	a.present |= 1ull << AP_BGP_ATTR_LOCAL_PREF;
	a.local_pref = 100;
	ap_bgp_rib_update(rib, 1, &pfx, ap_bgp_pattr_intern(rib, &a), false, 0);
	d = ap_bgp_rib_lookup(rib, &pfx);
	cr_assert_eq(d->best->peer, 0);
	mk_attrs(&a, 2, 65001, 1, 0);
	a.present |= 1ull << AP_BGP_ATTR_LOCAL_PREF;
	a.local_pref = 90;
	ap_bgp_rib_update(rib, 1, &pfx, ap_bgp_pattr_intern(rib, &a), false, 0);
	cr_assert_eq(d->best->peer, 0);
	ap_bgp_rib_free(rib);
}

Test(bgp_rib, graceful_restart_stale_paths)
{
	struct events e = {0};
	int p1, p2;
	struct ap_bgp_rib *rib = mk_rib(&e, &p1, &p2);
	struct ap_bgp_prefix a4, b4, c6;
	struct ap_bgp_attrs a;
	struct ap_bgp_rib_stats st;

	ap_bgp_prefix_parse("198.51.100.0/24", &a4);
	ap_bgp_prefix_parse("203.0.113.0/24", &b4);
	ap_bgp_prefix_parse("2001:db8::/32", &c6);
	mk_attrs(&a, 0, 65001, 1, 0);
	ap_bgp_rib_update(rib, 0, &a4, ap_bgp_pattr_intern(rib, &a), false, 0);
	ap_bgp_rib_update(rib, 0, &b4, ap_bgp_pattr_intern(rib, &a), false, 0);
	ap_bgp_rib_update(rib, 0, &c6, ap_bgp_pattr_intern(rib, &a), false, 0);
	ap_bgp_rib_update(rib, 1, &b4, ap_bgp_pattr_intern(rib, &a), false, 0);
	/* Peer 0 restarts: its paths stay, marked, and stay best. */
	cr_assert_eq(ap_bgp_rib_mark_stale(rib, 0), 3);
	cr_assert(ap_bgp_rib_lookup(rib, &a4)->best->stale);
	/* It comes back and re-announces one IPv4 route: that one is fresh. */
	ap_bgp_rib_update(rib, 0, &a4, ap_bgp_pattr_intern(rib, &a), false, 1);
	cr_assert(!ap_bgp_rib_lookup(rib, &a4)->best->stale);
	/* End-of-RIB for IPv4: the IPv4 route it did not re-announce goes. */
	cr_assert_eq(ap_bgp_rib_flush_stale(rib, 0, AP_BGP_IPV4), 1);
	cr_assert_eq(ap_bgp_rib_lookup(rib, &b4)->best->peer, 1);
	cr_assert_not_null(ap_bgp_rib_lookup(rib, &c6));
	/* The restart timer: everything still stale goes. */
	cr_assert_eq(ap_bgp_rib_flush_stale(rib, 0, AP_BGP_AF_NONE), 1);
	cr_assert_null(ap_bgp_rib_lookup(rib, &c6));
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.paths, 2);
	ap_bgp_rib_free(rib);
}

Test(bgp_rib, held_destination_outlives_its_paths)
{
	static struct events e;
	struct ap_bgp_prefix pfx;
	struct ap_bgp_attrs a;
	struct ap_bgp_rib_stats st;
	int peers[2];
	struct ap_bgp_rib *rib = mk_rib(&e, &peers[0], &peers[1]);
	const struct ap_bgp_dest *d;

	ap_bgp_prefix_parse("203.0.113.0/24", &pfx);
	mk_attrs(&a, 0, 65001, 2, 0);
	ap_bgp_rib_update(rib, 0, &pfx, ap_bgp_pattr_intern(rib, &a), false, 1);
	d = ap_bgp_rib_lookup(rib, &pfx);
	cr_assert_not_null(d);
	cr_assert(ap_bgp_rib_hold(rib, d));
	cr_assert_not(ap_bgp_rib_hold(rib, d), "held once");
	/* The last path goes: the destination stays, without a best path. */
	cr_assert_eq(ap_bgp_rib_withdraw(rib, 0, &pfx), 0);
	cr_assert_eq(ap_bgp_rib_lookup(rib, &pfx), d);
	cr_assert_null(d->paths);
	cr_assert_null(d->best);
	/* A path coming back finds the same destination. */
	ap_bgp_rib_update(rib, 1, &pfx, ap_bgp_pattr_intern(rib, &a), false, 2);
	cr_assert_eq(ap_bgp_rib_lookup(rib, &pfx), d);
	cr_assert_eq(ap_bgp_rib_withdraw(rib, 1, &pfx), 0);
	/* Released without paths: freed. */
	ap_bgp_rib_release(rib, d);
	cr_assert_null(ap_bgp_rib_lookup(rib, &pfx));
	ap_bgp_rib_stats(rib, &st);
	cr_assert_eq(st.dests, 0);
	/* Released with a path: kept. */
	ap_bgp_rib_update(rib, 0, &pfx, ap_bgp_pattr_intern(rib, &a), false, 3);
	d = ap_bgp_rib_lookup(rib, &pfx);
	ap_bgp_rib_hold(rib, d);
	ap_bgp_rib_release(rib, d);
	cr_assert_eq(ap_bgp_rib_lookup(rib, &pfx), d);
	ap_bgp_rib_free(rib);
}
