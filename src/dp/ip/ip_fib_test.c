/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB sizes from the config: the router's control plane (ap_ip_start on a
 * null port, EAL without hugepages) loads IPv6 routes the way BGP installs
 * them, one ap_ip_route_add each. A FIB configured larger holds a table the
 * default one refuses; a full FIB refuses routes cleanly (counted, and the
 * routes it holds still route).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp/core/eal_test.h"
#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/ip/ip_priv.h"

static struct rte_mempool *pool;
static uint16_t port;

static void
setup(void)
{
	cr_assert_geq(ap_test_eal_init_vdev("ip_fib_test", "1536", "net_null0"), 0,
		      "EAL init failed");
	cr_assert_eq(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	pool = rte_pktmbuf_pool_create("test", 1023, 0,
				       RTE_ALIGN(sizeof(struct ap_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	cr_assert_not_null(pool);
}

static void
teardown(void)
{
	ap_ip_stop();
	ap_eal_cleanup();
}

TestSuite(ip_fib, .init = setup, .fini = teardown, .timeout = 120);

/* One routed interface on the null port, 2001:db8::1/64, and @p dataplane
 * as the config's dataplane section. */
static void
start(const char *dataplane)
{
	static struct ap_config cfg;
	char yaml[512], err[AP_CFG_ERR_MAX];
	uint16_t ids[1] = {port};

	snprintf(yaml, sizeof(yaml),
		 "dataplane: %s\n"
		 "ports: [{name: a, driver: null}]\n"
		 "interfaces:\n"
		 "  - {name: a, port: a, addresses: [\"2001:db8::1/64\"], punt: false}\n",
		 dataplane);
	cr_assert_eq(ap_config_load_buf("t.yaml", yaml, strlen(yaml), &cfg, err), 0, "%s", err);
	cr_assert_eq(ap_ip_start(&cfg, ids, pool, false, err, sizeof(err)), 0, "%s", err);
}

/* The k-th test route: a /@p len (32 or 48) under its own /32 of 2a00::/12,
 * so a /48 takes two groups of its own (for its /32 and its /40) and the 256
 * routes under each /24 share one. */
static struct ap_cfg_route
route(uint32_t k, uint8_t len)
{
	struct ap_cfg_route r = {.n_via = 1};

	r.prefix.family = 6;
	r.prefix.len = len;
	r.prefix.addr[0] = 0x2a;
	r.prefix.addr[1] = (uint8_t)(k >> 16 & 0x0f);
	r.prefix.addr[2] = (uint8_t)(k >> 8);
	r.prefix.addr[3] = (uint8_t)k;
	if (len > 32) {
		r.prefix.addr[4] = (uint8_t)(k * 7);
		r.prefix.addr[5] = 1;
	}
	r.via[0].family = 6;
	r.via[0].len = 128;
	cr_assert_eq(ap_cfg_prefix_parse("2001:db8::2", false, &r.via[0]), 0);
	return r;
}

static int
add(uint32_t k, uint8_t len)
{
	struct ap_cfg_route r = route(k, len);
	char err[256];

	return ap_ip_route_add(&r, AP_ROUTE_BGP, err, sizeof(err));
}

static int
del(uint32_t k, uint8_t len)
{
	struct ap_cfg_route r = route(k, len);
	char err[256];

	return ap_ip_route_del(&r.prefix, AP_ROUTE_BGP, err, sizeof(err));
}

/* Where a host inside route k goes: its next hop's type. */
static uint8_t
lookup(uint32_t k, uint8_t len)
{
	struct ap_cfg_route r = route(k, len);
	uint8_t ip[1][16];
	uint64_t nh = 0;

	memcpy(ip[0], r.prefix.addr, 16);
	ip[0][15] = 0x42;
	ap_fib6_lookup_bulk(ap_ip.fib6, ip, &nh, 1);
	return ap_ip.nh[nh % AP_NH_MAX].type;
}

/* Where @p addr goes: its next hop's type. */
static uint8_t
lookup6(const char *addr)
{
	struct ap_cfg_prefix p;
	uint8_t ip[1][16];
	uint64_t nh = 0;

	cr_assert_eq(ap_cfg_prefix_parse(addr, false, &p), 0);
	memcpy(ip[0], p.addr, 16);
	ap_fib6_lookup_bulk(ap_ip.fib6, ip, &nh, 1);
	return ap_ip.nh[nh % AP_NH_MAX].type;
}

static json_int_t
stat(const char *group, const char *key)
{
	json_t *j = ap_ip_stats_json();
	json_int_t v = json_integer_value(json_object_get(json_object_get(j, group), key));

	json_decref(j);
	return v;
}

/* Add routes 0..n-1 of length @p len; the number taken. */
static uint32_t
load(uint32_t n, uint8_t len)
{
	uint32_t ok = 0;

	for (uint32_t k = 0; k < n; k++) {
		int rc = add(k, len);

		cr_assert(rc == 0 || rc == -ENOSPC, "route %u: %d", k, rc);
		ok += rc == 0;
	}
	return ok;
}

#define SMALL_FIB4 "{max_routes: 1024, tbl8: 256}"
#define N6	   20000

Test(ip_fib, default_fib6_refuses_a_large_table_and_counts_it)
{
	uint32_t ok;

	start("{fib4: " SMALL_FIB4 "}");
	ok = load(N6, 48);
	/* 16384 groups, two a /48 and one per 256 of them: about 8170 fit
	 * (less the interface's own routes), the rest are refused. */
	cr_assert(ok > 8000 && ok < 8180, "%u /48s taken", ok);
	cr_assert_eq(stat("routes", "bgp"), ok);
	cr_assert_eq(stat("control", "routes_refused_fib6_full"), N6 - ok);
	/* What is in routes; what is not goes nowhere; nothing else moved. */
	for (uint32_t k = 0; k < N6; k++)
		cr_assert_eq(lookup(k, 48), k < ok ? AP_NH_NEIGH : AP_NH_UNREACH, "route %u", k);
	cr_assert_eq(lookup(0, 0), AP_NH_UNREACH);

	/* A withdrawal leaves the rest as it was, and a route that needs no
	 * group still goes in. */
	cr_assert_eq(del(0, 48), 0);
	cr_assert_eq(lookup(0, 48), AP_NH_UNREACH);
	cr_assert_eq(lookup(1, 48), AP_NH_NEIGH);
	cr_assert_eq(add(0, 20), 0);
	cr_assert_eq(lookup(0, 48), AP_NH_NEIGH); /* Through the /20 now. */
	cr_assert_eq(lookup(ok - 1, 48), AP_NH_NEIGH);
	cr_assert_eq(lookup(ok, 48), AP_NH_UNREACH);
	cr_assert_eq(stat("routes", "bgp"), ok);
}

/* Withdrawn long routes hand their groups back. Here the same /48s go in,
 * all out, and all in again, as a flapping BGP feed would do. */
Test(ip_fib, withdrawn_routes_give_their_tbl8_groups_back)
{
	uint32_t ok, again;

	start("{fib4: " SMALL_FIB4 ", fib6: {max_routes: 1024, tbl8: 256}}");
	ok = load(200, 48);
	/* 256 groups, two a /48 and one they share, less the interface's. */
	cr_assert(ok > 100 && ok < 128, "%u /48s taken", ok);
	for (uint32_t k = 0; k < ok; k++)
		cr_assert_eq(del(k, 48), 0);
	cr_assert_eq(stat("routes", "bgp"), 0);
	again = load(ok, 48);
	cr_assert_eq(again, ok, "%u of %u /48s back in", again, ok);
	cr_assert_eq(stat("control", "routes_refused_fib6_full"), 200 - ok);
	for (uint32_t k = 0; k < 200; k++)
		cr_assert_eq(lookup(k, 48), k < ok ? AP_NH_NEIGH : AP_NH_UNREACH, "route %u", k);
	cr_assert_eq(stat("routes", "bgp"), ok);
	/* The interface's own routes are there all along. */
	cr_assert_neq(lookup6("2001:db8::42"), AP_NH_UNREACH);
	cr_assert_neq(lookup6("2001:db8::1"), AP_NH_UNREACH);
	cr_assert_eq(lookup6("2001:db9::1"), AP_NH_UNREACH);
}

/* The pool's and the index's counts for /metrics follow the table. */
static void
pool_adds_up(json_int_t groups)
{
	cr_assert_eq(stat("fib6_groups", "used") + stat("fib6_groups", "retired") +
			     stat("fib6_groups", "free"),
		     groups);
}

Test(ip_fib, larger_fib6_holds_the_table)
{
	json_int_t used0, index0, runs0, runs;

	start("{fib4: " SMALL_FIB4 ", fib6: {max_routes: 65536, tbl8: 65536}}");
	/* The interface's own routes. */
	used0 = stat("fib6_groups", "used");
	runs0 = stat("fib6_index", "run");
	index0 = runs0 + stat("fib6_index", "group");
	pool_adds_up(65536);
	cr_assert_eq(load(N6, 48), N6);
	cr_assert_eq(stat("routes", "bgp"), N6);
	cr_assert_eq(stat("control", "routes_refused_fib6_full"), 0);
	for (uint32_t k = 0; k < N6; k++)
		cr_assert_eq(lookup(k, 48), AP_NH_NEIGH, "route %u", k);
	/* A /32 group and a /40 group each, and one per 256 under a /24. */
	cr_assert_geq(stat("fib6_groups", "used"), used0 + 2 * N6);
	pool_adds_up(65536);
	/* Each /48 alone in its /40: its group is a run, unless its index line
	 * was full. */
	runs = stat("fib6_index", "run");
	cr_assert(runs > runs0 + N6 / 2 && runs <= runs0 + N6, "%lld run slots", (long long)runs);
	for (uint32_t k = 0; k < N6; k++)
		cr_assert_eq(del(k, 48), 0);
	cr_assert_eq(stat("fib6_groups", "used"), used0);
	cr_assert_eq(stat("fib6_index", "run") + stat("fib6_index", "group"), index0);
	pool_adds_up(65536);
}

Test(ip_fib, max_routes_is_a_limit_of_its_own)
{
	uint32_t ok;

	/* /32s take one tbl8 group each: here the number of routes runs out first. */
	start("{fib4: " SMALL_FIB4 ", fib6: {max_routes: 1024, tbl8: 65536}}");
	ok = load(N6, 32);
	/* The interface's own routes take a few of the 1024. */
	cr_assert(ok >= 1000 && ok <= 1024, "%u /32s taken", ok);
	cr_assert_eq(stat("routes", "bgp"), ok);
	cr_assert_eq(stat("control", "routes_refused_fib6_full"), N6 - ok);
	cr_assert_eq(lookup(0, 32), AP_NH_NEIGH);
	cr_assert_eq(lookup(N6 - 1, 32), AP_NH_UNREACH);
}

Test(ip_fib, memory_estimate_covers_the_tables)
{
	static const char *const dp[] = {
		"{fib4: " SMALL_FIB4 "}",
		"{fib4: " SMALL_FIB4 ", fib6: {max_routes: 262144, tbl8: 524288}}",
	};

	for (unsigned i = 0; i < RTE_DIM(dp); i++) {
		struct rte_malloc_socket_stats s0, s1;
		struct ap_config cfg;
		char err[AP_CFG_ERR_MAX], yaml[256];
		size_t used;

		snprintf(yaml, sizeof(yaml), "dataplane: %s\n", dp[i]);
		cr_assert_eq(ap_config_load_buf("t.yaml", yaml, strlen(yaml), &cfg, err), 0);
		rte_malloc_get_socket_stats(0, &s0);
		start(dp[i]);
		rte_malloc_get_socket_stats(0, &s1);
		used = (s1.heap_allocsz_bytes - s0.heap_allocsz_bytes) >> 20;
		cr_assert_leq(used, ap_ip_mem_mb(&cfg), "%s: %zu MiB taken", dp[i], used);
		cr_assert_geq(used + 64, ap_ip_mem_mb(&cfg), "%s: %zu MiB taken", dp[i], used);
		ap_ip_stop();
	}
}
