/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPv6 FIB against DPDK's rte_fib6 (the reference): random nested and
 * overlapping prefixes added and deleted in random order, every batch checked
 * by looking up random addresses and the edges of the prefixes in both. Then
 * the group pool: its count is exact (the groups in use are those the routes'
 * paths need), a full pool refuses a route and leaves the FIB as it was,
 * deletes give groups back, after a grace period when there are readers.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_fib6.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "dp/core/eal_test.h"
#include "dp/ip/fib6.h"

typedef unsigned __int128 u128;

#define DEFAULT_NH 7777u

static void
setup(void)
{
	cr_assert_geq(ap_test_eal_init("fib6_test", "1024"), 0, "EAL init failed");
}

static void
teardown(void)
{
	rte_eal_cleanup();
}

TestSuite(fib6, .init = setup, .fini = teardown, .timeout = 240);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static u128
rnd128(void)
{
	return (u128)rnd() << 64 | rnd();
}

static u128
mask_of(unsigned len)
{
	return len == 0 ? 0 : ~(u128)0 << (128 - len);
}

static void
to_bytes(u128 v, uint8_t a[16])
{
	for (unsigned i = 16; i-- > 0; v >>= 8)
		a[i] = (uint8_t)v;
}

struct pfx {
	u128 a;
	uint8_t len;
	bool in;
	uint32_t nh;
};

#define MAX_PFX 4096
static struct pfx pfx[MAX_PFX];
static unsigned n_pfx;

/* A few /16s most prefixes fall under, so that they nest and overlap. */
static u128 bases[6];

static struct pfx
new_pfx(void)
{
	struct pfx p = {0};
	unsigned r = rnd() % 100;

	if (n_pfx && r < 40) {
		/* Inside or around one we have. */
		const struct pfx *o = &pfx[rnd() % n_pfx];
		int len = o->len + (int)(rnd() % 41) - 16;

		p.len = (uint8_t)(len < 0 ? 0 : len > 128 ? 128 : len);
		p.a = (o->a & mask_of(RTE_MIN(o->len, p.len))) | (rnd128() & ~mask_of(o->len));
	} else {
		r = rnd() % 100;
		if (r < 3)
			p.len = (uint8_t)(rnd() % 24);
		else if (r < 80)
			p.len = (uint8_t)(24 + rnd() % 41);
		else
			p.len = (uint8_t)(65 + rnd() % 64);
		p.a = rnd128();
		if (rnd() % 8)
			p.a = bases[rnd() % RTE_DIM(bases)] | (p.a >> 16);
	}
	p.a &= mask_of(p.len);
	/* DPDK 22.11's trie writes a shorter route over more specific ones
	 * when two of those are adjacent and the second ends at the last
	 * address (add e000::/3, c000::/3, 2001::/16, then ::/0: 2001:: goes
	 * to the /0): no route ends there but the default. */
	if (p.len && (p.a | ~mask_of(p.len)) == ~(u128)0)
		p.a ^= (u128)1 << (128 - p.len);
	/* Some batches with few next hops: routes nested in routes that go the
	 * same way. */
	p.nh = (uint32_t)(1 + rnd() % (rnd() % 2 ? 3 : 5000));
	return p;
}

static struct pfx *
find(u128 a, uint8_t len)
{
	for (unsigned i = 0; i < n_pfx; i++)
		if (pfx[i].a == a && pfx[i].len == len)
			return &pfx[i];
	return NULL;
}

static int
cmp128(const void *x, const void *y)
{
	u128 a = *(const u128 *)x, b = *(const u128 *)y;

	return a < b ? -1 : a > b;
}

/* Groups the paths of the routes in take: one per level a route crosses
 * past its first-level entry, shared by the routes under the same prefix. */
static uint32_t
path_groups(void)
{
	static u128 keys[MAX_PFX * 13];
	unsigned n = 0, distinct = 0;

	for (unsigned i = 0; i < n_pfx; i++) {
		unsigned last = pfx[i].len <= 24 ? 0 : (pfx[i].len - 17u) / 8u;

		if (!pfx[i].in)
			continue;
		/* The group at level j: the first 24 + 8 (j - 1) bits, and j. */
		for (unsigned j = 1; j <= last; j++)
			keys[n++] = (pfx[i].a & mask_of(24 + 8 * (j - 1))) | j;
	}
	qsort(keys, n, sizeof(keys[0]), cmp128);
	for (unsigned i = 0; i < n; i++)
		distinct += i == 0 || keys[i] != keys[i - 1];
	return distinct;
}

/* Longest match by walking the prefixes: the judge when the two differ. */
static uint64_t
walk(const uint8_t ip[16])
{
	u128 a = 0;
	int best = -1;

	for (unsigned i = 0; i < 16; i++)
		a = a << 8 | ip[i];
	for (unsigned i = 0; i < n_pfx; i++)
		if (pfx[i].in && (a & mask_of(pfx[i].len)) == pfx[i].a &&
		    (best < 0 || pfx[i].len > pfx[best].len))
			best = (int)i;
	return best < 0 ? DEFAULT_NH : pfx[best].nh;
}

#define N_ADDRS 6000
static uint8_t addrs[N_ADDRS][16];

/* Random addresses, addresses in and around the prefixes and at their edges
 * (first, last, one before, one after), in both FIBs. */
static void
compare(const struct ap_fib6 *f, struct rte_fib6 *ref, unsigned step)
{
	static uint64_t got[N_ADDRS], want[N_ADDRS];
	unsigned n = 0;

	while (n < N_ADDRS) {
		const struct pfx *p = &pfx[rnd() % n_pfx];
		u128 first = p->a, last = p->a | ~mask_of(p->len);
		u128 v[6] = {first,
			     last,
			     first - 1,
			     last + 1,
			     first | (rnd128() & ~mask_of(p->len)),
			     rnd() % 4 ? bases[rnd() % RTE_DIM(bases)] | rnd128() >> 16 : rnd128()};

		for (unsigned k = 0; k < RTE_DIM(v) && n < N_ADDRS; k++)
			to_bytes(v[k], addrs[n++]);
	}
	/* Odd burst sizes: the lookup's own bursts split them. */
	for (unsigned i = 0; i < N_ADDRS;) {
		unsigned b = RTE_MIN(1 + (unsigned)(rnd() % 150), N_ADDRS - i);

		ap_fib6_lookup_bulk(f, addrs + i, got + i, b);
		i += b;
	}
	cr_assert_eq(rte_fib6_lookup_bulk(ref, addrs, want, N_ADDRS), 0);
	for (unsigned i = 0; i < N_ADDRS; i++)
		if (got[i] != want[i]) {
			char s[64];

			snprintf(s, sizeof(s), "%02x%02x:%02x%02x:%02x%02x:%02x%02x:...:%02x%02x",
				 addrs[i][0], addrs[i][1], addrs[i][2], addrs[i][3], addrs[i][4],
				 addrs[i][5], addrs[i][6], addrs[i][7], addrs[i][14], addrs[i][15]);
			cr_assert_fail("step %u: %s: next hop %" PRIu64 ", rte_fib6 says %" PRIu64
				       ", a walk of the prefixes %" PRIu64,
				       step, s, got[i], want[i], walk(addrs[i]));
		}
}

static struct rte_fib6 *
ref_create(const char *name)
{
	struct rte_fib6_conf c = {
		.type = RTE_FIB6_TRIE,
		.default_nh = DEFAULT_NH,
		.max_routes = 1 << 16,
		.trie = {.nh_sz = RTE_FIB6_TRIE_4B, .num_tbl8 = 1 << 17},
	};
	struct rte_fib6 *ref = rte_fib6_create(name, 0, &c);

	cr_assert_not_null(ref, "%s", rte_strerror(rte_errno));
	return ref;
}

Test(fib6, same_answers_as_rte_fib6_under_random_adds_and_deletes)
{
	struct ap_fib6_conf c = {
		.max_routes = 1 << 16, .groups = 1 << 16, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f = ap_fib6_create("f", 0, &c);
	struct rte_fib6 *ref = ref_create("ref");
	struct ap_fib6_stats s;
	unsigned adds = 0, dels = 0;

	cr_assert_not_null(f);
	for (unsigned i = 0; i < RTE_DIM(bases); i++)
		bases[i] = rnd128() & mask_of(16);
	for (unsigned step = 0; step < 60; step++) {
		/* Grow to 3000 prefixes, then churn, then take most out. */
		unsigned add_pct = step < 20 ? 85 : step < 45 ? 50 : 10;

		for (unsigned op = 0; op < 150; op++) {
			uint8_t ip[16];
			int rc;

			if (n_pfx < MAX_PFX && (rnd() % 100 < add_pct || n_pfx == 0)) {
				struct pfx p = new_pfx(), *q = find(p.a, p.len);

				if (q == NULL) {
					q = &pfx[n_pfx++];
					*q = p;
				}
				q->nh = p.nh;
				to_bytes(q->a, ip);
				cr_assert_eq(rte_fib6_add(ref, ip, q->len, q->nh), 0);
				rc = ap_fib6_add(f, ip, q->len, q->nh);
				cr_assert_eq(rc, 0, "add /%u: %d", q->len, rc);
				q->in = true;
				adds++;
			} else {
				/* A prefix we have, in or not. */
				struct pfx *q = &pfx[rnd() % n_pfx];

				to_bytes(q->a, ip);
				rc = ap_fib6_delete(f, ip, q->len);
				cr_assert_eq(rc, q->in ? 0 : -ENOENT, "delete /%u: %d", q->len, rc);
				if (q->in)
					cr_assert_eq(rte_fib6_delete(ref, ip, q->len), 0);
				q->in = false;
				dels++;
			}
		}
		compare(f, ref, step);
		ap_fib6_stats(f, &s);
		cr_assert_eq(s.used, path_groups(), "step %u: %u groups in use, the paths take %u",
			     step, s.used, path_groups());
	}
	cr_log_info("%u adds, %u deletes, %u prefixes seen", adds, dels, n_pfx);
	cr_assert_gt(adds, 4000);
	cr_assert_gt(dels, 2000);
	/* Everything out: the trie is back to the default and every group free. */
	for (unsigned i = 0; i < n_pfx; i++) {
		uint8_t ip[16];

		if (!pfx[i].in)
			continue;
		to_bytes(pfx[i].a, ip);
		cr_assert_eq(ap_fib6_delete(f, ip, pfx[i].len), 0);
		cr_assert_eq(rte_fib6_delete(ref, ip, pfx[i].len), 0);
		pfx[i].in = false;
	}
	compare(f, ref, 1000);
	ap_fib6_stats(f, &s);
	cr_assert_eq(s.routes, 0);
	cr_assert_eq(s.used, 0, "%u groups still in use", s.used);
	ap_fib6_free(f);
	rte_fib6_free(ref);
}

static uint64_t
nh_of(const struct ap_fib6 *f, const char *addr)
{
	uint8_t ip[1][16];
	uint64_t nh;

	cr_assert_eq(inet_pton(AF_INET6, addr, ip[0]), 1, "%s", addr);
	ap_fib6_lookup_bulk(f, ip, &nh, 1);
	return nh;
}

static int
add(struct ap_fib6 *f, const char *addr, uint8_t len, uint32_t nh)
{
	uint8_t ip[16];

	cr_assert_eq(inet_pton(AF_INET6, addr, ip), 1, "%s", addr);
	return ap_fib6_add(f, ip, len, nh);
}

static int
del(struct ap_fib6 *f, const char *addr, uint8_t len)
{
	uint8_t ip[16];

	cr_assert_eq(inet_pton(AF_INET6, addr, ip), 1, "%s", addr);
	return ap_fib6_delete(f, ip, len);
}

static struct ap_fib6_stats
stats(const struct ap_fib6 *f)
{
	struct ap_fib6_stats s;

	ap_fib6_stats(f, &s);
	return s;
}

static uint32_t
used(const struct ap_fib6 *f)
{
	return stats(f).used;
}

Test(fib6, default_route)
{
	struct ap_fib6_conf c = {.max_routes = 16, .groups = 16, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f = ap_fib6_create("f", 0, &c);

	cr_assert_not_null(f);
	cr_assert_eq(nh_of(f, "::"), DEFAULT_NH);
	cr_assert_eq(nh_of(f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), DEFAULT_NH);
	cr_assert_eq(add(f, "::", 0, 5), 0);
	cr_assert_eq(add(f, "2001:db8::", 32, 6), 0);
	cr_assert_eq(add(f, "2001:db8:1::1", 128, 8), 0);
	cr_assert_eq(nh_of(f, "::"), 5);
	cr_assert_eq(nh_of(f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 5);
	cr_assert_eq(nh_of(f, "2001:db8:ffff::"), 6);
	cr_assert_eq(nh_of(f, "2001:db8:1::1"), 8);
	cr_assert_eq(nh_of(f, "2001:db8:1::2"), 6);
	cr_assert_eq(nh_of(f, "2001:db9::"), 5);
	/* A new next hop for the default leaves the others as they were. */
	cr_assert_eq(add(f, "::", 0, 9), 0);
	cr_assert_eq(nh_of(f, "2001:db9::"), 9);
	cr_assert_eq(nh_of(f, "2001:db8::"), 6);
	cr_assert_eq(nh_of(f, "2001:db8:1::1"), 8);
	cr_assert_eq(del(f, "::", 0), 0);
	cr_assert_eq(del(f, "::", 0), -ENOENT);
	cr_assert_eq(nh_of(f, "2001:db9::"), DEFAULT_NH);
	cr_assert_eq(nh_of(f, "2001:db8::"), 6);
	cr_assert_eq(nh_of(f, "2001:db8:1::1"), 8);
	cr_assert_eq(del(f, "2001:db8::", 32), 0);
	cr_assert_eq(nh_of(f, "2001:db8::"), DEFAULT_NH);
	cr_assert_eq(nh_of(f, "2001:db8:1::1"), 8);
	cr_assert_eq(del(f, "2001:db8:1::1", 128), 0);
	cr_assert_eq(nh_of(f, "2001:db8:1::1"), DEFAULT_NH);
	cr_assert_eq(used(f), 0);
	cr_assert_eq(add(f, "::", 0, AP_FIB6_NH_MAX + 1), -EINVAL);
	cr_assert_eq(add(f, "::", 129, 1), -EINVAL);
	ap_fib6_free(f);
}

/* Routes that end at the top of the address space, then a default under
 * them: each address goes to its longest prefix (the case the random test
 * leaves out, where rte_fib6 in DPDK 22.11 answers with the default). */
Test(fib6, routes_up_to_the_last_address)
{
	struct ap_fib6_conf c = {.max_routes = 16, .groups = 16, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f = ap_fib6_create("f", 0, &c);

	cr_assert_not_null(f);
	cr_assert_eq(add(f, "e000::", 3, 1), 0);
	cr_assert_eq(add(f, "c000::", 3, 2), 0);
	cr_assert_eq(add(f, "2001::", 16, 3), 0);
	cr_assert_eq(add(f, "::", 0, 4), 0);
	cr_assert_eq(nh_of(f, "2001::"), 3);
	cr_assert_eq(nh_of(f, "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 3);
	cr_assert_eq(nh_of(f, "2002::"), 4);
	cr_assert_eq(nh_of(f, "c000::"), 2);
	cr_assert_eq(nh_of(f, "dfff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 2);
	cr_assert_eq(nh_of(f, "e000::"), 1);
	cr_assert_eq(nh_of(f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 1);
	cr_assert_eq(nh_of(f, "::1"), 4);
	cr_assert_eq(del(f, "e000::", 3), 0);
	cr_assert_eq(nh_of(f, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 4);
	cr_assert_eq(nh_of(f, "2001::"), 3);
	ap_fib6_free(f);
}

/* What a few addresses go to, to see that a refused route changed nothing. */
static const char *const probes[] = {
	"2a00:100::1", "2a00:100:0:1::", "2a00:100:ff::", "2a00:200::1",
	"2a00:300::1", "2a00:300:1::",	 "2a00:3ff::",	  "::",
};

static void
snapshot(const struct ap_fib6 *f, uint64_t *nh)
{
	for (unsigned i = 0; i < RTE_DIM(probes); i++)
		nh[i] = nh_of(f, probes[i]);
}

Test(fib6, a_full_pool_refuses_the_route_and_changes_nothing)
{
	struct ap_fib6_conf c = {.max_routes = 16, .groups = 8, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f = ap_fib6_create("f", 0, &c);
	uint64_t before[RTE_DIM(probes)], after[RTE_DIM(probes)];

	cr_assert_not_null(f);
	/* A /48 under a /24 of its own takes three groups. */
	cr_assert_eq(add(f, "2a00:100::", 48, 1), 0);
	cr_assert_eq(used(f), 3);
	cr_assert_eq(add(f, "2a00:200::", 48, 2), 0);
	cr_assert_eq(used(f), 6);
	snapshot(f, before);
	cr_assert_eq(add(f, "2a00:300::", 48, 3), -ENOSPC);
	cr_assert_eq(used(f), 6);
	snapshot(f, after);
	cr_assert_arr_eq(before, after, sizeof(before));
	cr_assert_eq(del(f, "2a00:300::", 48), -ENOENT);
	/* One group is enough for a /32, none for a /40 on a path that is there. */
	cr_assert_eq(add(f, "2a00:300::", 32, 4), 0);
	cr_assert_eq(add(f, "2a00:100::", 40, 5), 0);
	cr_assert_eq(used(f), 7);
	cr_assert_eq(nh_of(f, "2a00:300::1"), 4);
	cr_assert_eq(nh_of(f, "2a00:100:0:1::"), 1);
	cr_assert_eq(nh_of(f, "2a00:100:1::"), 5);
	/* The /48 under the /40 goes: its group (the /40's range) goes back. */
	cr_assert_eq(del(f, "2a00:100::", 48), 0);
	cr_assert_eq(nh_of(f, "2a00:100:0:1::"), 5);
	cr_assert_eq(used(f), 6);
	snapshot(f, before);
	cr_assert_eq(add(f, "2a00:400::", 48, 6), -ENOSPC);
	snapshot(f, after);
	cr_assert_arr_eq(before, after, sizeof(before));
	/* Two groups are enough under the /32. */
	cr_assert_eq(add(f, "2a00:300:1::", 48, 7), 0);
	cr_assert_eq(used(f), 8);
	cr_assert_eq(nh_of(f, "2a00:300:1::"), 7);
	cr_assert_eq(nh_of(f, "2a00:300:2::"), 4);
	/* The other /48 goes: its three groups go back, and the refused one fits. */
	cr_assert_eq(del(f, "2a00:200::", 48), 0);
	cr_assert_eq(used(f), 5);
	cr_assert_eq(add(f, "2a00:400::", 48, 6), 0);
	cr_assert_eq(used(f), 8);
	cr_assert_eq(nh_of(f, "2a00:400::1"), 6);
	cr_assert_eq(nh_of(f, "2a00:200::1"), DEFAULT_NH);
	ap_fib6_free(f);
}

Test(fib6, max_routes_is_a_limit)
{
	struct ap_fib6_conf c = {.max_routes = 2, .groups = 8, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f = ap_fib6_create("f", 0, &c);

	cr_assert_not_null(f);
	cr_assert_eq(add(f, "2a00::", 16, 1), 0);
	cr_assert_eq(add(f, "2a01::", 16, 2), 0);
	cr_assert_eq(add(f, "2a02::", 16, 3), -ENOSPC);
	cr_assert_eq(add(f, "2a01::", 16, 4), 0, "a new next hop is no new route");
	cr_assert_eq(nh_of(f, "2a01::1"), 4);
	cr_assert_eq(nh_of(f, "2a02::1"), DEFAULT_NH);
	ap_fib6_free(f);
}

/* A FIB of @p max_routes and @p groups, no readers. */
static struct ap_fib6 *
fib_of(uint32_t max_routes, uint32_t groups)
{
	struct ap_fib6_conf c = {
		.max_routes = max_routes, .groups = groups, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f = ap_fib6_create("f", 0, &c);

	cr_assert_not_null(f);
	return f;
}

/* A /48 is looked up through the jump index (its level-3 group): the index
 * resolves it by itself while the group is one run in a covering route's
 * entries, and names the group once it holds more; a route longer than /48
 * goes on below it; a group that leaves the trie leaves the index, and the
 * covering routes show again. */
Test(fib6, the_jump_index_follows_the_level_3_groups)
{
	/* Under the /56 and the /128 below the /48, and beside them. */
	static const char *const below[] = {"2a00:100:5ab:1201::", "2a00:100:5ab:1234::7",
					    "2a00:100:5ab:1234::8", "2a00:100:5ab:1300::"};
	static const uint64_t below_nh[] = {5, 6, 5, 3};
	struct ap_fib6 *f = fib_of(16, 16);

	cr_assert_eq(add(f, "2a00:100::", 32, 1), 0);
	cr_assert_eq(add(f, "2a00:100:500::", 40, 2), 0);
	cr_assert_eq(stats(f).indexed, 0, "a /40 ends in level 2");
	cr_assert_eq(add(f, "2a00:100:5ab::", 48, 3), 0);
	cr_assert_eq(stats(f).indexed, 1);
	cr_assert_eq(stats(f).runs, 1, "one /48 in its /40: a run");
	cr_assert_eq(nh_of(f, "2a00:100:5ab::1"), 3);
	cr_assert_eq(nh_of(f, "2a00:100:5aa:ffff::"), 2);
	cr_assert_eq(nh_of(f, "2a00:100:5ac::1"), 2);
	cr_assert_eq(nh_of(f, "2a00:100:6ab::1"), 1);
	/* Another /48 in the same /40 shares the group, which is no run. */
	cr_assert_eq(add(f, "2a00:100:5ff::", 48, 4), 0);
	cr_assert_eq(stats(f).indexed, 1);
	cr_assert_eq(stats(f).runs, 0);
	cr_assert_eq(nh_of(f, "2a00:100:5ff:ffff::"), 4);
	cr_assert_eq(nh_of(f, "2a00:100:5ab::1"), 3);
	/* Below a /48: the walk goes on from the level-3 entry. */
	cr_assert_eq(add(f, "2a00:100:5ab:1200::", 56, 5), 0);
	cr_assert_eq(add(f, "2a00:100:5ab:1234::7", 128, 6), 0);
	cr_assert_eq(stats(f).indexed, 1);
	for (unsigned i = 0; i < RTE_DIM(below); i++)
		cr_assert_eq(nh_of(f, below[i]), below_nh[i], "%s", below[i]);
	/* A new next hop shows through the index. */
	cr_assert_eq(add(f, "2a00:100:5ab::", 48, 7), 0);
	cr_assert_eq(nh_of(f, "2a00:100:5ab::1"), 7);
	cr_assert_eq(nh_of(f, "2a00:100:5ab:1201::"), 5);
	/* The other /48 goes: a run again, whose entry points below. */
	cr_assert_eq(del(f, "2a00:100:5ff::", 48), 0);
	cr_assert_eq(stats(f).runs, 1);
	cr_assert_eq(nh_of(f, "2a00:100:5ff:ffff::"), 2);
	for (unsigned i = 0; i < RTE_DIM(below); i++)
		cr_assert_eq(nh_of(f, below[i]), below_nh[i] == 3 ? 7 : below_nh[i], "%s",
			     below[i]);
	cr_assert_eq(del(f, "2a00:100:5ab:1234::7", 128), 0);
	cr_assert_eq(del(f, "2a00:100:5ab:1200::", 56), 0);
	cr_assert_eq(nh_of(f, "2a00:100:5ab:1201::"), 7);
	cr_assert_eq(del(f, "2a00:100:5ab::", 48), 0);
	cr_assert_eq(stats(f).indexed, 0);
	cr_assert_eq(stats(f).runs, 0);
	cr_assert_eq(nh_of(f, "2a00:100:5ab::1"), 2);
	/* A /44, and a /48 at either end of the /40: runs to the group's edges. */
	cr_assert_eq(add(f, "2a00:100:5a0::", 44, 8), 0);
	cr_assert_eq(stats(f).runs, 1);
	cr_assert_eq(nh_of(f, "2a00:100:59f:ffff::"), 2);
	cr_assert_eq(nh_of(f, "2a00:100:5a0::"), 8);
	cr_assert_eq(nh_of(f, "2a00:100:5af:ffff::"), 8);
	cr_assert_eq(nh_of(f, "2a00:100:5b0::"), 2);
	cr_assert_eq(del(f, "2a00:100:5a0::", 44), 0);
	cr_assert_eq(add(f, "2a00:100:500::", 48, 9), 0);
	cr_assert_eq(nh_of(f, "2a00:100:500::"), 9);
	cr_assert_eq(nh_of(f, "2a00:100:501::"), 2);
	cr_assert_eq(del(f, "2a00:100:500::", 48), 0);
	cr_assert_eq(add(f, "2a00:100:5ff::", 48, 10), 0);
	cr_assert_eq(stats(f).runs, 1);
	cr_assert_eq(nh_of(f, "2a00:100:5ff::"), 10);
	cr_assert_eq(nh_of(f, "2a00:100:5fe:ffff::"), 2);
	cr_assert_eq(del(f, "2a00:100:5ff::", 48), 0);
	cr_assert_eq(del(f, "2a00:100:500::", 40), 0);
	cr_assert_eq(nh_of(f, "2a00:100:5ab::1"), 1);
	cr_assert_eq(used(f), 1);
	ap_fib6_free(f);
}

/*
 * A reader looking up while the writer rewrites a summarised group back and
 * forth, from a /44 (X) to a /48 outside it (Y) and back, through a group
 * with both: the index slot changes in place all the while. Each answer must
 * be one the FIB gave at some point: an address in the /44 gets X or the /40's
 * Z, never Y; one in the /48 gets Y or Z, never X. Reading a slot's first
 * word of one version with the second of another gives those away.
 */
struct churn {
	struct ap_fib6 *f;
	struct rte_rcu_qsbr *q;
	volatile bool stop;
	uint64_t lookups, wrong;
};

static void *
churn_reader(void *arg)
{
	struct churn *c = arg;
	uint8_t ips[64][16];
	uint64_t nhs[64];

	rte_rcu_qsbr_thread_online(c->q, 0);
	for (unsigned i = 0; i < 64; i++) {
		u128 a = (u128)0x2a000100050ull << 84; /* 2a00:100:500::/40 */

		/* Even: in the /44 (byte 5 0x10-0x1f); odd: in the /48 (0x05). */
		a |= (u128)(i % 2 ? 0x05 : 0x10 + i % 16) << 80 | (u128)(i * 0x9e37u) << 40;
		to_bytes(a, ips[i]);
	}
	while (!c->stop) {
		ap_fib6_lookup_bulk(c->f, ips, nhs, 64);
		for (unsigned i = 0; i < 64; i++)
			if (nhs[i] != 3 && nhs[i] != (i % 2 ? 2u : 1u))
				c->wrong++;
		c->lookups += 64;
		rte_rcu_qsbr_quiescent(c->q, 0);
	}
	rte_rcu_qsbr_thread_offline(c->q, 0);
	return NULL;
}

Test(fib6, a_reader_sees_a_rewritten_index_slot_whole)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct churn c = {.q = rte_zmalloc("q", sz, RTE_CACHE_LINE_SIZE)};
	struct ap_fib6_conf conf = {.max_routes = 16, .groups = 64, .default_nh = DEFAULT_NH};
	pthread_attr_t attr;
	cpu_set_t cpus;
	pthread_t th;
	bool ok = true;

	cr_assert_not_null(c.q);
	cr_assert_eq(rte_rcu_qsbr_init(c.q, 1), 0);
	cr_assert_eq(rte_rcu_qsbr_thread_register(c.q, 0), 0);
	conf.qsbr = c.q;
	c.f = ap_fib6_create("f", 0, &conf);
	cr_assert_not_null(c.f);
	/* X = 1, Y = 2, Z = 3. */
	cr_assert_eq(add(c.f, "2a00:100:500::", 40, 3), 0);
	cr_assert_eq(add(c.f, "2a00:100:510::", 44, 1), 0);
	/* The reader off the writer's CPU (EAL pinned this thread to CPU 0),
	 * so that the two really overlap where there is another. */
	CPU_ZERO(&cpus);
	for (long i = 1; i < sysconf(_SC_NPROCESSORS_ONLN) && i < CPU_SETSIZE; i++)
		CPU_SET(i, &cpus);
	if (CPU_COUNT(&cpus) == 0)
		CPU_SET(0, &cpus);
	cr_assert_eq(pthread_attr_init(&attr), 0);
	cr_assert_eq(pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus), 0);
	cr_assert_eq(pthread_create(&th, &attr, churn_reader, &c), 0);
	pthread_attr_destroy(&attr);
	/* The reader is stopped before any assertion, which would leave it
	 * running. */
	for (unsigned round = 0; ok && (round < 20000 || c.lookups < 100000); round++) {
		ok = add(c.f, "2a00:100:505::", 48, 2) == 0 &&
		     del(c.f, "2a00:100:510::", 44) == 0 && stats(c.f).runs == 1 &&
		     add(c.f, "2a00:100:510::", 44, 1) == 0 &&
		     del(c.f, "2a00:100:505::", 48) == 0 && stats(c.f).runs == 1;
	}
	c.stop = true;
	pthread_join(th, NULL);
	cr_assert(ok, "a write failed, or the slot was no run after it");
	cr_assert_eq(c.wrong, 0, "%" PRIu64 " wrong answers in %" PRIu64 " lookups", c.wrong,
		     c.lookups);
	ap_fib6_free(c.f);
	rte_free(c.q);
}

/* More level-3 groups than the index's lines hold (a slot for two groups,
 * four a line: some lines fill): those left out are found by the walk, and every
 * /48 answers right while they come and go. */
Test(fib6, level_3_groups_the_index_cannot_hold_are_walked_to)
{
	enum { N32 = 3, N48 = N32 * 256 };
	struct ap_fib6 *f = fib_of(1024, 1024);
	static uint8_t ips[N48][16];
	static uint64_t nhs[N48];
	uint32_t all;

	for (unsigned i = 0; i < N48; i++) {
		uint8_t *a = ips[i];

		memset(a, 0, 16);
		a[0] = 0x2a;
		a[3] = (uint8_t)(i / 256);
		a[4] = (uint8_t)i;
		a[5] = (uint8_t)(i * 7);
		cr_assert_eq(ap_fib6_add(f, a, 48, i + 1), 0, "/48 %u", i);
	}
	all = stats(f).indexed;
	cr_assert_lt(all, N48, "every line had room (%u)", all);
	cr_assert_gt(all, N48 / 2);
	/* Each /48 and its neighbour in the same /40 (no route: the default). */
	ap_fib6_lookup_bulk(f, ips, nhs, N48);
	for (unsigned i = 0; i < N48; i++)
		cr_assert_eq(nhs[i], i + 1, "/48 %u: %" PRIu64, i, nhs[i]);
	for (unsigned i = 0; i < N48; i++)
		ips[i][5] ^= 1;
	ap_fib6_lookup_bulk(f, ips, nhs, N48);
	for (unsigned i = 0; i < N48; i++)
		cr_assert_eq(nhs[i], DEFAULT_NH, "beside /48 %u: %" PRIu64, i, nhs[i]);
	for (unsigned i = 0; i < N48; i++)
		ips[i][5] ^= 1;
	/* Every other one out: holes in the lines, then the rest in again. */
	for (unsigned i = 0; i < N48; i += 2)
		cr_assert_eq(ap_fib6_delete(f, ips[i], 48), 0);
	ap_fib6_lookup_bulk(f, ips, nhs, N48);
	for (unsigned i = 0; i < N48; i++)
		cr_assert_eq(nhs[i], i % 2 ? i + 1 : DEFAULT_NH, "/48 %u: %" PRIu64, i, nhs[i]);
	for (unsigned i = 0; i < N48; i += 2)
		cr_assert_eq(ap_fib6_add(f, ips[i], 48, i + 1000), 0);
	ap_fib6_lookup_bulk(f, ips, nhs, N48);
	for (unsigned i = 0; i < N48; i++)
		cr_assert_eq(nhs[i], i % 2 ? i + 1 : i + 1000, "/48 %u: %" PRIu64, i, nhs[i]);
	cr_assert_gt(stats(f).indexed, N48 / 2);
	for (unsigned i = 0; i < N48; i++)
		cr_assert_eq(ap_fib6_delete(f, ips[i], 48), 0);
	cr_assert_eq(stats(f).indexed, 0);
	cr_assert_eq(used(f), 0);
	ap_fib6_free(f);
}

/* With readers, a group out of the trie is reused only after they have all
 * passed a quiescent state. */
Test(fib6, groups_wait_for_a_grace_period)
{
	size_t sz = rte_rcu_qsbr_get_memsize(1);
	struct rte_rcu_qsbr *q = rte_zmalloc("q", sz, RTE_CACHE_LINE_SIZE);
	struct ap_fib6_conf c = {.max_routes = 16, .groups = 3, .default_nh = DEFAULT_NH};
	struct ap_fib6 *f;
	struct ap_fib6_stats s;

	cr_assert_not_null(q);
	cr_assert_eq(rte_rcu_qsbr_init(q, 1), 0);
	cr_assert_eq(rte_rcu_qsbr_thread_register(q, 0), 0);
	rte_rcu_qsbr_thread_online(q, 0);
	c.qsbr = q;
	f = ap_fib6_create("f", 0, &c);
	cr_assert_not_null(f);
	cr_assert_eq(add(f, "2a00:100::", 48, 1), 0);
	cr_assert_eq(del(f, "2a00:100::", 48), 0);
	ap_fib6_stats(f, &s);
	cr_assert_eq(s.used, 0);
	cr_assert_eq(s.retired, 3, "%u groups wait", s.retired);
	/* The reader is done with what it read. */
	rte_rcu_qsbr_quiescent(q, 0);
	cr_assert_eq(add(f, "2a00:200::", 48, 2), 0);
	ap_fib6_stats(f, &s);
	cr_assert_eq(s.used, 3);
	cr_assert_eq(s.retired, 0);
	cr_assert_eq(nh_of(f, "2a00:200::1"), 2);
	cr_assert_eq(nh_of(f, "2a00:100::1"), DEFAULT_NH);
	ap_fib6_free(f);
	rte_rcu_qsbr_thread_offline(q, 0);
	rte_free(q);
}
