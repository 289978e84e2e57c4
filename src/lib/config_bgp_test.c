/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bgp: configuration section: values, defaults, and errors with their
 * line and column.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

#define TABLE_PARAMS(suite, name, table)                                                           \
	ParameterizedTestParameters(suite, name)                                                   \
	{                                                                                          \
		static size_t idx[sizeof(table) / sizeof((table)[0])];                             \
                                                                                                   \
		for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)                          \
			idx[i] = i;                                                                \
		return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));             \
	}

static struct ap_config *
load(const char *yaml, char err[AP_CFG_ERR_MAX], int *rc)
{
	struct ap_config *cfg = malloc(sizeof(*cfg));

	cr_assert_not_null(cfg);
	*rc = ap_config_load_buf("t.yaml", yaml, strlen(yaml), cfg, err);
	return cfg;
}

Test(config_bgp, full_example)
{
	static const char yaml[] =
		"bgp:\n"
		"  asn: 4200000001\n"
		"  router_id: 192.0.2.1\n"
		"  listen: {address: 127.0.0.1, port: 1179}\n"
		"  always_compare_med: true\n"
		"  networks: [198.51.100.0/24, \"2001:db8:1::/48\"]\n"
		"  neighbors:\n"
		"    - address: 127.0.0.2\n"
		"      remote_as: 65002\n"
		"      port: 2179\n"
		"      passive: true\n"
		"      hold_time: 9\n"
		"      connect_retry: 1\n"
		"      import: all\n"
		"      export: none\n"
		"      families: [ipv6]\n"
		"      next_hop_v6: \"2001:db8::1\"\n"
		"    - {address: \"::1\", remote_as: 4200000001, rr_client: true}\n";
	char err[AP_CFG_ERR_MAX];
	int rc;
	struct ap_config *cfg = load(yaml, err, &rc);
	const struct ap_cfg_bgp *b = &cfg->bgp;

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(b->enabled);
	cr_assert_eq(b->asn, 4200000001u);
	cr_assert_eq(b->router_id, 0xc0000201);
	cr_assert_str_eq(b->listen_address, "127.0.0.1");
	cr_assert_eq(b->listen_port, 1179);
	cr_assert(b->always_compare_med);
	cr_assert_eq(b->n_networks, 2);
	cr_assert_str_eq(b->networks[1], "2001:db8:1::/48");
	cr_assert_eq(b->n_neighbors, 2);
	cr_assert_str_eq(b->neighbors[0].address, "127.0.0.2");
	cr_assert_eq(b->neighbors[0].addr[3], 2);
	cr_assert(!b->neighbors[0].v6);
	cr_assert_eq(b->neighbors[0].remote_as, 65002);
	cr_assert_eq(b->neighbors[0].port, 2179);
	cr_assert(b->neighbors[0].passive);
	cr_assert_eq(b->neighbors[0].hold_time, 9);
	cr_assert_eq(b->neighbors[0].connect_retry, 1);
	cr_assert_str_eq(b->neighbors[0].import, "all");
	cr_assert_str_eq(b->neighbors[0].export, "none");
	cr_assert(!b->neighbors[0].families[0] && b->neighbors[0].families[1]);
	cr_assert_str_eq(b->neighbors[0].next_hop_v6, "2001:db8::1");
	cr_assert(b->neighbors[1].v6);
	cr_assert(b->neighbors[1].rr_client);
	/* Defaults. */
	cr_assert_eq(b->neighbors[1].port, 179);
	cr_assert_eq(b->neighbors[1].hold_time, 90);
	cr_assert_eq(b->neighbors[1].connect_retry, 120);
	cr_assert_str_eq(b->neighbors[1].import, "");
	cr_assert(b->neighbors[1].families[0] && b->neighbors[1].families[1]);
	free(cfg);
}

Test(config_bgp, policies_and_prefix_lists)
{
	static const char yaml[] =
		"bgp:\n"
		"  asn: 65001\n"
		"  router_id: 192.0.2.1\n"
		"  neighbors:\n"
		"    - {address: 192.0.2.2, remote_as: 65002, import: in, export: out}\n"
		"  policies:\n"
		"    - name: in\n"
		"      rules:\n"
		"        - {prefix_list: bogons, action: reject}\n"
		"        - {as_path: \"_65003$\", community: \"65002:7\", local_pref: 200}\n"
		"        - {large_community: \"65002:1:2\", med: 10, next_hop: 192.0.2.9,\n"
		"           community_add: [\"65001:1\", \"65001:2\"], community_remove: "
		"[\"65002:7\"]}\n"
		"    - {name: out, rules: [{prepend: 3}]}\n"
		"  prefix_lists:\n"
		"    - name: bogons\n"
		"      entries: [{prefix: 10.0.0.0/8, le: 32}, {prefix: \"2001:db8::/32\", ge: 48, "
		"le: 64}]\n";
	char err[AP_CFG_ERR_MAX];
	int rc;
	struct ap_config *cfg = load(yaml, err, &rc);
	const struct ap_cfg_bgp *b = &cfg->bgp;
	const struct ap_cfg_bgp_rule *r;

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(b->neighbors[0].import, "in");
	cr_assert_eq(b->n_policies, 2);
	cr_assert_eq(b->policies[0].n, 3);
	r = &b->policies[0].r[0];
	cr_assert_str_eq(r->prefix_list, "bogons");
	cr_assert(!r->accept);
	r = &b->policies[0].r[1];
	cr_assert(r->accept);
	cr_assert_str_eq(r->as_path, "_65003$");
	cr_assert(r->has_community);
	cr_assert_eq(r->community, 65002u << 16 | 7);
	cr_assert(r->set_local_pref);
	cr_assert_eq(r->local_pref, 200);
	r = &b->policies[0].r[2];
	cr_assert(r->has_large);
	cr_assert_eq(r->large[0], 65002);
	cr_assert_eq(r->large[2], 2);
	cr_assert(r->set_med && r->med == 10);
	cr_assert(r->set_next_hop && r->next_hop == 0xc0000209);
	cr_assert_eq(r->n_comm_add, 2);
	cr_assert_eq(r->comm_add[1], 65001u << 16 | 2);
	cr_assert_eq(r->n_comm_del, 1);
	cr_assert_eq(b->policies[1].r[0].prepend, 3);
	cr_assert_eq(b->n_plists, 1);
	cr_assert_eq(b->plists[0].n, 2);
	cr_assert_str_eq(b->plists[0].e[1].prefix, "2001:db8::/32");
	cr_assert_eq(b->plists[0].e[1].ge, 48);
	cr_assert_eq(b->plists[0].e[1].le, 64);
	cr_assert_eq(b->plists[0].e[0].le, 32);
	free(cfg);
}

Test(config_bgp, absent_and_defaults)
{
	char err[AP_CFG_ERR_MAX];
	int rc;
	struct ap_config *cfg = load("log: {level: info}\n", err, &rc);

	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(!cfg->bgp.enabled);
	free(cfg);
	cfg = load("bgp: {asn: 65001, router_id: 10.0.0.1}\n", err, &rc);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert(cfg->bgp.enabled);
	cr_assert_eq(cfg->bgp.listen_port, 179);
	cr_assert_str_eq(cfg->bgp.listen_address, "0.0.0.0");
	cr_assert_eq(cfg->bgp.n_neighbors, 0);
	free(cfg);
}

struct err_case {
	const char *yaml;
	const char *err;
};

#define HEAD "bgp:\n  asn: 65001\n  router_id: 10.0.0.1\n"

static struct err_case err_cases[] = {
	{"bgp:\n", "t.yaml:1:5: bgp needs at least 'asn' and 'router_id'"},
	{"bgp: {router_id: 10.0.0.1}\n", "t.yaml:1:6: missing key 'asn' in bgp"},
	{"bgp: {asn: 65001}\n", "t.yaml:1:6: missing key 'router_id' in bgp"},
	{"bgp: {asn: 0, router_id: 10.0.0.1}\n", "t.yaml:1:12: bgp.asn must be between 1 and "
						 "4294967295"},
	{"bgp: {asn: 4294967296, router_id: 10.0.0.1}\n",
	 "t.yaml:1:12: bgp.asn must be between 1 and 4294967295"},
	{"bgp: {asn: x, router_id: 10.0.0.1}\n", "t.yaml:1:12: expected an integer for bgp.asn"},
	{"bgp: {asn: 1, router_id: 0.0.0.0}\n", "t.yaml:1:26: bgp.router_id must not be 0.0.0.0"},
	{"bgp: {asn: 1, router_id: \"::1\"}\n",
	 "t.yaml:1:26: bgp.router_id must be an IPv4 address"},
	{"bgp: {asn: 1, asn: 2, router_id: 10.0.0.1}\n",
	 "t.yaml:1:15: duplicate key 'asn' in bgp (first at 1:7)"},
	{HEAD "  neighbours: []\n",
	 "t.yaml:4:3: unknown key 'neighbours' in bgp (expected one of: asn, router_id, listen, "
	 "always_compare_med, cluster_id, neighbors, networks, prefix_lists, policies)"},
	{HEAD "  listen: {port: 0}\n", "t.yaml:4:18: bgp.listen.port must be between 1 and 65535"},
	{HEAD "  listen: {address: nowhere}\n",
	 "t.yaml:4:21: bgp.listen.address must be an IPv4 or IPv6 address"},
	{HEAD "  neighbors: {}\n", "t.yaml:4:14: expected a list for bgp.neighbors"},
	{HEAD "  neighbors:\n    - {remote_as: 1}\n",
	 "t.yaml:5:7: missing key 'address' in bgp.neighbors[0]"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2}\n",
	 "t.yaml:5:7: missing key 'remote_as' in bgp.neighbors[0]"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.300, remote_as: 1}\n",
	 "t.yaml:5:17: bgp.neighbors[0].address must be an IPv4 or IPv6 address"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 1, hold_time: 2}\n",
	 "t.yaml:5:52: bgp.neighbors[0].hold_time must be 0 or at least 3"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 1, import: mine}\n",
	 "t.yaml:5:49: unknown policy 'mine' in bgp.neighbors[0].import (all, none, or a name "
	 "from bgp.policies)"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 1, families: [ipx]}\n",
	 "t.yaml:5:52: invalid family in bgp.neighbors[0].families (expected ipv4 or ipv6)"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 1, families: []}\n",
	 "t.yaml:5:51: expected a non-empty list for bgp.neighbors[0].families"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 1, pasive: true}\n",
	 "t.yaml:5:41: unknown key 'pasive' in bgp.neighbors[0] (expected one of: address, "
	 "remote_as, port, passive, hold_time, connect_retry, import, export, families, "
	 "rr_client, next_hop_v6)"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 1}\n"
	      "    - {address: 10.0.0.2, remote_as: 2}\n",
	 "t.yaml:6:7: duplicate neighbor 10.0.0.2 (first defined at 5:7)"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 2, rr_client: true}\n",
	 "t.yaml:5:7: bgp.neighbors[0].rr_client needs an internal peer (remote_as 65001)"},
	{HEAD "  neighbors:\n    - {address: 10.0.0.2, remote_as: 2, next_hop_v6: 10.0.0.1}\n",
	 "t.yaml:5:54: bgp.neighbors[0].next_hop_v6 must be an IPv6 address"},
	{HEAD "  networks: [10.0.0.0/33]\n",
	 "t.yaml:4:14: invalid prefix '10.0.0.0/33' in bgp.networks (expected ADDR/LEN)"},
	{HEAD "  policies:\n    - name: p\n      rules:\n        - {prefix_list: nope}\n",
	 "t.yaml:7:11: unknown prefix list 'nope' in bgp.policies[0].rules[0]"},
	{HEAD "  policies:\n    - {name: all}\n", "t.yaml:5:7: 'all' is reserved: name the policy "
						  "otherwise"},
	{HEAD "  policies:\n    - {name: p}\n    - {name: p}\n",
	 "t.yaml:6:7: duplicate policy 'p'"},
	{HEAD "  policies:\n    - {name: p, rules: [{action: drop}]}\n",
	 "t.yaml:5:34: bgp.policies[0].rules[0].action must be accept or reject"},
	{HEAD "  policies:\n    - {name: p, rules: [{as_path: \"(65001\"}]}\n",
	 "t.yaml:5:35: bgp.policies[0].rules[0].as_path is not a valid regular expression"},
	{HEAD "  policies:\n    - {name: p, rules: [{community: \"65536:1\"}]}\n",
	 "t.yaml:5:37: invalid community '65536:1' for bgp.policies[0].rules[0].community "
	 "(expected N:N with N up to 65535)"},
	{HEAD "  policies:\n    - {name: p, rules: [{large_community: \"1:2\"}]}\n",
	 "t.yaml:5:43: invalid large community '1:2' for bgp.policies[0].rules[0].large_community "
	 "(expected ASN:N:N)"},
	{HEAD "  policies:\n    - {name: p, rules: [{prepend: 17}]}\n",
	 "t.yaml:5:35: bgp.policies[0].rules[0].prepend must be between 1 and 16"},
	{HEAD "  prefix_lists:\n    - {name: l, entries: [{prefix: 10.0.0.0/8, ge: 4}]}\n",
	 "t.yaml:5:27: bgp.prefix_lists[0].entries[0] needs prefix length <= ge <= le <= 32"},
	{HEAD "  prefix_lists:\n    - {name: l, entries: [{prefix: 10.0.0.0/8, ge: 20, le: 16}]}\n",
	 "t.yaml:5:27: bgp.prefix_lists[0].entries[0] needs prefix length <= ge <= le <= 32"},
	{HEAD "  prefix_lists:\n    - {name: l, entries: [{ge: 20}]}\n",
	 "t.yaml:5:27: missing key 'prefix' in bgp.prefix_lists[0].entries[0]"},
	{HEAD "  prefix_lists:\n    - {name: l}\n    - {name: l}\n",
	 "t.yaml:6:7: duplicate prefix list 'l'"},
	{HEAD "  networks: [10.0.0.0]\n",
	 "t.yaml:4:14: invalid prefix '10.0.0.0' in bgp.networks (expected ADDR/LEN)"},
};

TABLE_PARAMS(config_bgp, errors, err_cases)

ParameterizedTest(size_t *row, config_bgp, errors)
{
	const struct err_case *t = &err_cases[*row];
	char err[AP_CFG_ERR_MAX];
	int rc;
	struct ap_config *cfg = load(t->yaml, err, &rc);

	cr_assert_eq(rc, -EINVAL, "%s", t->yaml);
	cr_assert_str_eq(err, t->err);
	free(cfg);
}
