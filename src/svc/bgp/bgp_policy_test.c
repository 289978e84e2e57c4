/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy engine: prefix lists with ge/le, AS-path regular expressions,
 * community matches, and the actions, table-driven.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
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

static struct ap_bgp_pfx_entry
entry(const char *p, uint8_t ge, uint8_t le)
{
	struct ap_bgp_pfx_entry e = {.ge = ge, .le = le};

	cr_assert_eq(ap_bgp_prefix_parse(p, &e.pfx), 0, "%s", p);
	return e;
}

/* ------------------------------------------------------------ prefix lists */

struct pl_case {
	const char *entry;
	uint8_t ge, le;
	const char *prefix;
	bool match;
};

static struct pl_case pl_cases[] = {
	{"192.0.2.0/24", 0, 0, "192.0.2.0/24", true},
	{"192.0.2.0/24", 0, 0, "192.0.2.0/25", false},
	{"192.0.2.0/24", 0, 0, "192.0.0.0/16", false},
	{"10.0.0.0/8", 0, 24, "10.1.0.0/16", true},
	{"10.0.0.0/8", 0, 24, "10.1.2.0/24", true},
	{"10.0.0.0/8", 0, 24, "10.1.2.0/25", false},
	{"10.0.0.0/8", 0, 24, "11.0.0.0/8", false},
	{"10.0.0.0/8", 0, 24, "10.0.0.0/8", true},
	{"10.0.0.0/8", 16, 0, "10.0.0.0/8", false},
	{"10.0.0.0/8", 16, 0, "10.9.9.9/32", true},
	{"10.128.0.0/9", 0, 32, "10.127.0.0/16", false},
	{"10.128.0.0/9", 0, 32, "10.200.0.0/16", true},
	{"0.0.0.0/0", 25, 0, "198.51.100.128/25", true},
	{"0.0.0.0/0", 25, 0, "198.51.100.0/24", false},
	{"2001:db8::/32", 48, 64, "2001:db8:1::/48", true},
	{"2001:db8::/32", 48, 64, "2001:db8::/32", false},
	{"2001:db8::/32", 48, 64, "2001:db8:1:2:8000::/65", false},
	{"2001:db8::/32", 48, 64, "2001:db9:1::/48", false},
	{"2001:db8::/32", 0, 128, "192.0.2.0/24", false},
};

TABLE_PARAMS(bgp_pfx_list, match, pl_cases)

ParameterizedTest(size_t *row, bgp_pfx_list, match)
{
	const struct pl_case *c = &pl_cases[*row];
	struct ap_bgp_pfx_entry e = entry(c->entry, c->ge, c->le);
	struct ap_bgp_pfx_list l = {.e = &e, .n = 1};
	struct ap_bgp_prefix p;

	cr_assert_eq(ap_bgp_prefix_parse(c->prefix, &p), 0);
	cr_assert_eq(ap_bgp_pfx_list_match(&l, &p), c->match, "%s ge %u le %u vs %s", c->entry,
		     c->ge, c->le, c->prefix);
}

/* --------------------------------------------------------- AS-path regex */

struct re_case {
	const char *re;
	const char *path; /* ASNs separated by spaces, all one AS_SEQUENCE. */
	bool match;
};

static struct re_case re_cases[] = {
	{"^65002_", "65002 65003", true},
	{"^65002_", "650021 65003", false},
	{"_65003$", "65002 65003", true},
	{"_65003_", "65002 65003 65004", true},
	{"_65003_", "65002 650033", false},
	{"^$", "", true},
	{"^$", "65002", false},
	{"^65002( 65002)*$", "65002 65002 65002", true},
	{"^65002( 65002)*$", "65002 65002 65001", false},
	{"_6500[0-9]_", "1 65007 2", true},
	{".*", "4200000001", true},
};

TABLE_PARAMS(bgp_aspath_re, match, re_cases)

static uint32_t
mk_path(const char *s, uint8_t *out)
{
	uint32_t n = 0;
	const char *p = s;

	while (*p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		out[2 + 4 * n] = (uint8_t)(v >> 24);
		out[3 + 4 * n] = (uint8_t)(v >> 16);
		out[4 + 4 * n] = (uint8_t)(v >> 8);
		out[5 + 4 * n] = (uint8_t)v;
		n++;
		p = *end ? end + 1 : end;
	}
	if (n == 0)
		return 0;
	out[0] = AP_BGP_AS_SEQUENCE;
	out[1] = (uint8_t)n;
	return 2 + 4 * n;
}

ParameterizedTest(size_t *row, bgp_aspath_re, match)
{
	const struct re_case *c = &re_cases[*row];
	void *re = ap_bgp_aspath_re_new(c->re);
	struct ap_bgp_rule r = {.as_path_re = re, .accept = true};
	struct ap_bgp_attrs a = {0};
	struct ap_bgp_prefix p;
	struct ap_bgp_pol_buf buf;
	uint8_t path[64];

	cr_assert_not_null(re, "%s", c->re);
	ap_bgp_prefix_parse("192.0.2.0/24", &p);
	a.as_path = path;
	a.as_path_len = mk_path(c->path, path);
	cr_assert_eq(ap_bgp_policy_apply(&r, 1, &p, &a, &buf), c->match, "'%s' vs '%s'", c->re,
		     c->path);
	ap_bgp_aspath_re_free(re);
}

Test(bgp_aspath_re, bad_regex)
{
	cr_assert_null(ap_bgp_aspath_re_new("(65002"));
}

/* ---------------------------------------------------------------- policy */

#define C(a, b) ((uint32_t)(a) << 16 | (b))

struct pol_case {
	const char *name;
	const char *prefix;
	const char *path;
	uint32_t comms[2];
	bool large; /* Carries 65002:1:2. */
	bool accept;
	int64_t lp, med, nh; /* -1: not set. */
	const char *out_comms;
	const char *out_path;
};

static struct pol_case pol_cases[] = {
	{"prefix list reject", "192.0.2.0/24", "65002", {0}, false, false, -1, -1, -1, NULL, NULL},
	{"community reject",
	 "10.1.0.0/16",
	 "65002",
	 {C(65002, 666)},
	 false,
	 false,
	 -1,
	 -1,
	 -1,
	 NULL,
	 NULL},
	{"as path match sets local pref",
	 "172.16.0.0/12",
	 "65002 65003",
	 {C(65002, 7)},
	 false,
	 true,
	 50,
	 -1,
	 -1,
	 "65002:7",
	 "65002 65003"},
	{"large community: add and remove communities",
	 "172.16.0.0/12",
	 "65002",
	 {C(65002, 7), C(65002, 9)},
	 true,
	 true,
	 -1,
	 -1,
	 -1,
	 "65002:9 65001:100",
	 "65002"},
	{"prefix list: med, next hop, prepend",
	 "10.1.2.0/24",
	 "65002",
	 {0},
	 false,
	 true,
	 -1,
	 10,
	 0xc0000263,
	 "",
	 "65001 65001 65002"},
	{"no rule matches: rejected",
	 "172.16.0.0/12",
	 "65002",
	 {0},
	 false,
	 false,
	 -1,
	 -1,
	 -1,
	 NULL,
	 NULL},
	{"first match wins",
	 "10.1.2.0/24",
	 "65009 65003",
	 {0},
	 false,
	 true,
	 50,
	 -1,
	 -1,
	 "",
	 "65009 65003"},
};

TABLE_PARAMS(bgp_policy, apply, pol_cases)

static void
comm_str(const struct ap_bgp_attrs *a, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (uint16_t i = 0; i < a->n_communities && o < size; i++) {
		const uint8_t *c = a->communities + 4 * i;

		o += (size_t)snprintf(buf + o, size - o, "%s%u:%u", i ? " " : "", c[0] << 8 | c[1],
				      c[2] << 8 | c[3]);
	}
}

ParameterizedTest(size_t *row, bgp_policy, apply)
{
	const struct pol_case *c = &pol_cases[*row];
	struct ap_bgp_pfx_entry e2 = entry("192.0.2.0/24", 0, 0);
	struct ap_bgp_pfx_entry e1 = entry("10.0.0.0/8", 0, 24);
	struct ap_bgp_pfx_list pl2 = {.e = &e2, .n = 1}, pl1 = {.e = &e1, .n = 1};
	void *re = ap_bgp_aspath_re_new("_65003$");
	struct ap_bgp_rule rules[5] = {
		{.prefix_list = &pl2, .accept = false},
		{.has_community = true, .community = C(65002, 666), .accept = false},
		{.as_path_re = re, .accept = true, .set_local_pref = true, .local_pref = 50},
		{.has_large = true,
		 .large = {65002, 1, 2},
		 .accept = true,
		 .comm_add = {C(65001, 100)},
		 .n_comm_add = 1,
		 .comm_del = {C(65002, 7)},
		 .n_comm_del = 1},
		{.prefix_list = &pl1,
		 .accept = true,
		 .set_med = true,
		 .med = 10,
		 .set_next_hop = true,
		 .next_hop = 0xc0000263,
		 .prepend = 2,
		 .prepend_as = 65001},
	};
	static const uint8_t large[12] = {0, 0, 0xfd, 0xea, 0, 0, 0, 1, 0, 0, 0, 2};
	uint8_t comms[8], path[64];
	struct ap_bgp_attrs a = {0};
	struct ap_bgp_prefix p;
	struct ap_bgp_pol_buf buf;
	char s[256];
	bool ok;

	cr_assert_not_null(re);
	cr_assert_eq(ap_bgp_prefix_parse(c->prefix, &p), 0);
	a.present = 1ull << AP_BGP_ATTR_ORIGIN | 1ull << AP_BGP_ATTR_AS_PATH;
	a.as_path = path;
	a.as_path_len = mk_path(c->path, path);
	for (int i = 0; i < 2 && c->comms[i]; i++) {
		comms[4 * i] = (uint8_t)(c->comms[i] >> 24);
		comms[4 * i + 1] = (uint8_t)(c->comms[i] >> 16);
		comms[4 * i + 2] = (uint8_t)(c->comms[i] >> 8);
		comms[4 * i + 3] = (uint8_t)c->comms[i];
		a.n_communities++;
	}
	a.communities = comms;
	if (c->large) {
		a.large_communities = large;
		a.n_large_communities = 1;
	}
	ok = ap_bgp_policy_apply(rules, 5, &p, &a, &buf);
	ap_bgp_aspath_re_free(re);
	cr_assert_eq(ok, c->accept, "%s", c->name);
	if (!ok)
		return;
	cr_assert_eq(ap_bgp_attr_has(&a, AP_BGP_ATTR_LOCAL_PREF), c->lp >= 0, "%s", c->name);
	if (c->lp >= 0)
		cr_assert_eq(a.local_pref, (uint32_t)c->lp, "%s", c->name);
	cr_assert_eq(ap_bgp_attr_has(&a, AP_BGP_ATTR_MED), c->med >= 0, "%s", c->name);
	if (c->med >= 0)
		cr_assert_eq(a.med, (uint32_t)c->med, "%s", c->name);
	if (c->nh >= 0)
		cr_assert_eq(a.next_hop, (uint32_t)c->nh, "%s", c->name);
	comm_str(&a, s, sizeof(s));
	cr_assert_str_eq(s, c->out_comms, "%s", c->name);
	cr_assert_str_eq(ap_bgp_aspath_str(a.as_path, a.as_path_len, s, sizeof(s)), c->out_path,
			 "%s", c->name);
}
