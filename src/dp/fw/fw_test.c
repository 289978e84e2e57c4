/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's rte_acl compilation against its reference walk: random rule
 * sets and packets (differential), and cases written out by hand from
 * configuration text.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp/core/eal_test.h"
#include "dp/fw/fw.h"
#include "lib/config.h"

static void
setup(void)
{
	cr_assert_geq(ap_test_eal_init("fw_test", "128"), 0, "EAL init failed");
}

static void
teardown(void)
{
	rte_eal_cleanup();
}

TestSuite(fw, .init = setup, .fini = teardown);

/* A small xorshift, seeded per test, so a failure replays. */
static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Addresses come from a small space (10.0-3.0-3.x, fd00:0-3::0-3:x) so that
 * random prefixes and packets meet often. */
static void
rand_addr(uint8_t family, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == 4) {
		a[0] = 10;
		a[1] = (uint8_t)rnd(4);
		a[2] = (uint8_t)rnd(4);
		a[3] = (uint8_t)rnd(256);
	} else {
		a[0] = 0xfd;
		a[3] = (uint8_t)rnd(4);
		a[13] = (uint8_t)rnd(4);
		a[14] = (uint8_t)rnd(2);
		a[15] = (uint8_t)rnd(256);
	}
}

static void
rand_prefix(struct ap_cfg_prefix *p)
{
	static const uint8_t lens4[] = {0, 8, 14, 16, 23, 24, 30, 32};
	static const uint8_t lens6[] = {0, 16, 32, 64, 100, 110, 120, 127, 128};
	unsigned bytes, bits;

	p->family = rnd(2) ? 4 : 6;
	p->len = p->family == 4 ? lens4[rnd(sizeof(lens4))] : lens6[rnd(sizeof(lens6))];
	rand_addr(p->family, p->addr);
	bytes = p->len / 8;
	bits = p->len % 8;
	if (bytes < 16) {
		p->addr[bytes] &= (uint8_t)(0xff00 >> bits);
		memset(p->addr + bytes + 1, 0, 15 - bytes);
	}
}

static int16_t
rand_set(struct ap_cfg_fw *fw, bool ports)
{
	struct ap_cfg_fw_set *s;

	/* Reuse a set now and then, as named sets are, and when all are taken. */
	const unsigned max = sizeof(fw->sets) / sizeof(fw->sets[0]);

	while (fw->n_sets == max || fw->n_items + 9 > AP_CFG_FW_MAX_ITEMS ||
	       (fw->n_sets > 0 && rnd(3) == 0)) {
		unsigned k = rnd(fw->n_sets);

		if (fw->sets[k].ports == ports)
			return (int16_t)k;
	}
	s = &fw->sets[fw->n_sets];
	memset(s, 0, sizeof(*s));
	s->ports = ports;
	s->n = (uint8_t)(1 + rnd(rnd(4) == 0 ? 8 : 3));
	s->first = fw->n_items;
	for (unsigned i = s->first; i < s->first + s->n; i++) {
		if (ports) {
			uint16_t lo = rnd(8) == 0 ? (uint16_t)(65530 + rnd(6)) : (uint16_t)rnd(64);
			uint16_t hi = rnd(2) ? lo : (uint16_t)(lo + rnd(20));

			fw->port_lo[i] = lo;
			fw->port_hi[i] = hi < lo ? 65535 : hi;
		} else {
			rand_prefix(&fw->addrs[i]);
		}
	}
	fw->n_items = (uint16_t)(fw->n_items + s->n);
	return (int16_t)fw->n_sets++;
}

static void
rand_rules(struct ap_cfg_fw *fw, unsigned n_rules)
{
	static const uint8_t protos[] = {0, 6, 17, 1, 58, 6, 17};
	static const uint8_t zones[] = {AP_FW_ZONE_ANY, AP_FW_ZONE_ANY, 0, 1, 2, AP_FW_ZONE_SELF};

	memset(fw, 0, sizeof(*fw));
	fw->enabled = true;
	fw->n_zones = 3;
	fw->log_rate = 100;
	fw->n_rules = (uint16_t)n_rules;
	for (unsigned i = 0; i < n_rules; i++) {
		struct ap_cfg_fw_rule *r = &fw->rules[i];

		r->from_zone = zones[rnd(sizeof(zones) - 1)];
		r->to_zone = zones[rnd(sizeof(zones))];
		r->iif_idx = rnd(5) == 0 ? (int16_t)rnd(3) : -1;
		r->oif_idx = rnd(5) == 0 ? (int16_t)rnd(3) : -1;
		r->proto = protos[rnd(sizeof(protos))];
		r->icmp_type = -1;
		r->dscp = rnd(4) == 0 ? (int16_t)rnd(4) : -1;
		r->ct_state = rnd(3) == 0 ? (uint8_t)(1 + rnd(31)) : 0;
		r->src = rnd(3) == 0 ? rand_set(fw, false) : -1;
		r->dst = rnd(2) == 0 ? rand_set(fw, false) : -1;
		r->sport = r->dport = -1;
		if (r->proto == 6 || r->proto == 17) {
			r->sport = rnd(5) == 0 ? rand_set(fw, true) : -1;
			r->dport = rnd(2) == 0 ? rand_set(fw, true) : -1;
		}
		if ((r->proto == 1 || r->proto == 58) && rnd(2))
			r->icmp_type = (int16_t)rnd(4);
		r->action = (enum ap_fw_action)rnd(3);
	}
}

static void
rand_pkt(struct ap_fw_pkt *p)
{
	static const uint8_t protos[] = {6, 17, 1, 58, 47, 6, 17};
	static const uint8_t zones[] = {AP_FW_ZONE_ANY, 0, 1, 2, AP_FW_ZONE_SELF};

	memset(p, 0, sizeof(*p));
	p->family = rnd(2) ? 4 : 6;
	p->proto = protos[rnd(sizeof(protos))];
	p->ct = (uint8_t)(1u << rnd(5));
	p->frag_later = rnd(10) == 0;
	p->from = zones[rnd(sizeof(zones) - 1)];
	p->to = zones[rnd(sizeof(zones))];
	p->iif = (uint8_t)rnd(4);
	p->oif = (uint8_t)rnd(4);
	p->dscp = (uint8_t)rnd(4);
	p->sport = rnd(8) == 0 ? (uint16_t)(65530 + rnd(6)) : (uint16_t)rnd(90);
	if (p->proto == 1 || p->proto == 58)
		p->sport = (uint16_t)(rnd(4) << 8 | rnd(3));
	p->dport = rnd(8) == 0 ? (uint16_t)(65530 + rnd(6)) : (uint16_t)rnd(90);
	rand_addr(p->family, p->src);
	rand_addr(p->family, p->dst);
}

static void
dump(const struct ap_cfg_fw *fw, const struct ap_fw_pkt *p, int got, int want)
{
	int r = got >= 0 ? got : want;
	const struct ap_cfg_fw_rule *x = &fw->rules[r];

	fprintf(stderr,
		"pkt fam %u proto %u ct %x later %u from %u to %u iif %u oif %u dscp %u %u>%u\n",
		p->family, p->proto, p->ct, p->frag_later, p->from, p->to, p->iif, p->oif, p->dscp,
		p->sport, p->dport);
	fprintf(stderr, "rule iif %d oif %d\n", fw->rules[got >= 0 ? got : want].iif_idx,
		fw->rules[got >= 0 ? got : want].oif_idx);
	fprintf(stderr,
		"rule %d: from %u to %u proto %u ct %x dscp %d icmp %d src %d dst %d sp %d dp %d\n",
		r, x->from_zone, x->to_zone, x->proto, x->ct_state, x->dscp, x->icmp_type, x->src,
		x->dst, x->sport, x->dport);
	for (int k = 0; k < 2; k++) {
		int16_t si = k ? x->dst : x->src;
		const uint8_t *a = k ? p->dst : p->src;

		fprintf(stderr, "pkt %s:", k ? "dst" : "src");
		for (int b = 0; b < 16; b++)
			fprintf(stderr, " %02x", a[b]);
		fprintf(stderr, "\n");
		if (si < 0)
			continue;
		for (unsigned i = fw->sets[si].first; i < fw->sets[si].first + fw->sets[si].n;
		     i++) {
			fprintf(stderr, "  set %d: v%u /%u", si, fw->addrs[i].family,
				fw->addrs[i].len);
			for (int b = 0; b < 16; b++)
				fprintf(stderr, " %02x", fw->addrs[i].addr[b]);
			fprintf(stderr, "\n");
		}
	}
}

/* 40 random rule sets (up to 40 rules, up to 300, then two full), 5000 packets each: the ACL's
 * first match is the walk's on every packet, and most packets match. */
Test(fw, acl_equals_walk)
{
	static struct ap_cfg_fw fw;
	char err[256];
	unsigned matched = 0, total = 0;

	for (unsigned round = 0; round < 40; round++) {
		struct ap_fw_rs *rs;

		rng_state = 0x9e3779b97f4a7c15ull + round;
		rand_rules(&fw, round < 20   ? 1 + rnd(40)
				: round < 38 ? 1 + rnd(300)
					     : AP_CFG_FW_MAX_RULES);
		rs = ap_fw_rs_build(&fw, err, sizeof(err));
		cr_assert_not_null(rs, "round %u: %s", round, err);
		for (unsigned k = 0; k < 5000; k++) {
			struct ap_fw_pkt p;
			int want, got;

			rand_pkt(&p);
			want = ap_fw_walk(&fw, &p);
			got = ap_fw_rs_classify(rs, &p);
			if (got != want)
				dump(&fw, &p, got, want);
			cr_assert_eq(got, want, "round %u packet %u: acl %d, walk %d", round, k,
				     got, want);
			matched += want >= 0;
			total++;
		}
		ap_fw_rs_free(rs);
	}
	cr_expect_gt(matched, total / 4, "only %u of %u packets matched a rule", matched, total);
	cr_expect_lt(matched, total - total / 20, "%u of %u packets matched a rule", matched,
		     total);
}

/* An empty rule list, and one that only has IPv6 rules: no match, no error. */
Test(fw, empty_family)
{
	static struct ap_cfg_fw fw;
	struct ap_fw_pkt p = {.family = 4, .proto = 6, .ct = AP_FW_CT_NEW};
	struct ap_fw_rs *rs;
	char err[256];

	fw.enabled = true;
	rs = ap_fw_rs_build(&fw, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_expect_eq(ap_fw_rs_classify(rs, &p), -1);
	ap_fw_rs_free(rs);
}

/* A rule whose sets multiply past the limit is refused with a message. */
Test(fw, expansion_limit)
{
	static struct ap_cfg_fw fw;
	struct ap_fw_rs *rs;
	char err[256] = "";

	fw.enabled = true;
	fw.n_rules = 1;
	fw.n_sets = 4;
	for (unsigned s = 0; s < 4; s++) {
		fw.sets[s].ports = s >= 2;
		fw.sets[s].n = AP_CFG_FW_SET_MAX;
		fw.sets[s].first = fw.n_items;
		for (unsigned i = 0; i < AP_CFG_FW_SET_MAX; i++, fw.n_items++) {
			fw.addrs[fw.n_items] = (struct ap_cfg_prefix){
				.family = 4, .len = 32, .addr = {10, 0, 0, (uint8_t)i}};
			fw.port_lo[fw.n_items] = fw.port_hi[fw.n_items] = (uint16_t)(1 + i);
		}
	}
	fw.rules[0] = (struct ap_cfg_fw_rule){.from_zone = AP_FW_ZONE_ANY,
					      .to_zone = AP_FW_ZONE_ANY,
					      .iif_idx = -1,
					      .oif_idx = -1,
					      .proto = 6,
					      .icmp_type = -1,
					      .dscp = -1,
					      .src = 0,
					      .dst = 1,
					      .sport = 2,
					      .dport = 3};
	rs = ap_fw_rs_build(&fw, err, sizeof(err));
	cr_expect_null(rs);
	cr_expect(strstr(err, "ACL entries") != NULL, "%s", err);
}

/* Cases from configuration text. */

static const char fw_yaml[] =
	"ports:\n"
	"  - {name: a, driver: null}\n"
	"  - {name: b, driver: null}\n"
	"interfaces:\n"
	"  - {name: lan, port: a, addresses: [192.168.1.1/24, \"fd00:1::1/64\"]}\n"
	"  - {name: wan, port: b, addresses: [203.0.113.2/24]}\n"
	"firewall:\n"
	"  zones:\n"
	"    - {name: inside, interfaces: [lan]}\n"
	"    - {name: outside, interfaces: [wan]}\n"
	"  sets:\n"
	"    - {name: web, ports: [\"80\", \"443\", \"8000-8080\"]}\n"
	"    - {name: admins, addresses: [198.51.100.0/24, \"2001:db8:a::/48\"]}\n"
	"  rules:\n"
	"    - {from: outside, to: inside, proto: tcp, dport: web, action: accept}\n"
	"    - {from: outside, to: self, proto: icmp, icmp_type: 8, action: accept}\n"
	"    - {from: any, to: any, dscp: 46, action: accept, log: true}\n"
	"    - {from: outside, to: self, src: admins, proto: tcp, dport: \"22\", action: accept}\n"
	"    - {from: outside, to: any, proto: tcp, ct_state: [invalid], action: drop}\n"
	"    - {from: outside, to: inside, proto: tcp, action: reject}\n"
	"    - {proto: udp, sport: \"53\", dst: \"fd00:1::/64\", action: accept}\n";

/* Arrays, not pointers: each case runs in a process of its own. */
static const struct fw_case {
	char name[40];
	uint8_t family, proto, ct, from, to, dscp, later;
	char src[40], dst[40];
	uint16_t sport, dport;
	int rule;
} cases[] = {
	{"web 443 in", 4, 6, AP_FW_CT_NEW, 1, 0, 0, 0, "203.0.113.9", "192.168.1.5", 40000, 443, 0},
	{"web range end", 4, 6, AP_FW_CT_NEW, 1, 0, 0, 0, "203.0.113.9", "192.168.1.5", 1, 8080, 0},
	{"past the range", 4, 6, AP_FW_CT_NEW, 1, 0, 0, 0, "203.0.113.9", "192.168.1.5", 1, 8081,
	 5},
	{"later fragment skips port rules", 4, 6, AP_FW_CT_NEW, 1, 0, 0, 1, "203.0.113.9",
	 "192.168.1.5", 0, 0, 5},
	{"echo to self", 4, 1, AP_FW_CT_NEW, 1, AP_FW_ZONE_SELF, 0, 0, "203.0.113.9", "203.0.113.2",
	 0x0800, 1, 1},
	{"echo reply to self", 4, 1, AP_FW_CT_NEW, 1, AP_FW_ZONE_SELF, 0, 0, "203.0.113.9",
	 "203.0.113.2", 0, 1, -1},
	{"ef marked", 4, 17, AP_FW_CT_NEW, 0, 1, 46, 0, "192.168.1.5", "8.8.8.8", 5000, 5000, 2},
	{"ef marked v6", 6, 17, AP_FW_CT_UNTRACKED, 0, 1, 46, 0, "fd00:1::5", "2001:db8::1", 1, 2,
	 2},
	{"af41 not ef", 4, 17, AP_FW_CT_NEW, 0, 1, 34, 0, "192.168.1.5", "8.8.8.8", 5000, 5000, -1},
	{"ssh from admins", 4, 6, AP_FW_CT_NEW, 1, AP_FW_ZONE_SELF, 0, 0, "198.51.100.7",
	 "203.0.113.2", 1000, 22, 3},
	{"ssh from admins v6", 6, 6, AP_FW_CT_NEW, 1, AP_FW_ZONE_SELF, 0, 0, "2001:db8:a:ffff::1",
	 "fd00:1::1", 1000, 22, 3},
	{"ssh from others", 4, 6, AP_FW_CT_NEW, 1, AP_FW_ZONE_SELF, 0, 0, "198.51.101.7",
	 "203.0.113.2", 1000, 22, -1},
	{"invalid out", 4, 6, AP_FW_CT_INVALID, 1, AP_FW_ZONE_ANY, 0, 0, "203.0.113.9", "10.0.0.1",
	 1, 2, 4},
	{"dns answer v6", 6, 17, AP_FW_CT_NEW, AP_FW_ZONE_ANY, 0, 0, 0, "2001:db8::53", "fd00:1::9",
	 53, 3333, 6},
	{"dns answer v6 elsewhere", 6, 17, AP_FW_CT_NEW, AP_FW_ZONE_ANY, 0, 0, 0, "2001:db8::53",
	 "fd00:2::9", 53, 3333, -1},
	{"v4 misses a v6 set", 4, 17, AP_FW_CT_NEW, AP_FW_ZONE_ANY, 0, 0, 0, "192.0.2.1",
	 "192.168.1.9", 53, 3333, -1},
};

static void
addr(uint8_t family, const char *s, uint8_t *out)
{
	memset(out, 0, 16);
	cr_assert_eq(inet_pton(family == 4 ? AF_INET : AF_INET6, s, out), 1, "%s", s);
}

ParameterizedTestParameters(fw, cases)
{
	return cr_make_param_array(struct fw_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct fw_case *c, fw, cases)
{
	static struct ap_config cfg;
	char err[AP_CFG_ERR_MAX];
	struct ap_fw_pkt p = {.family = c->family,
			      .proto = c->proto,
			      .ct = c->ct,
			      .frag_later = c->later,
			      .from = c->from,
			      .to = c->to,
			      .dscp = c->dscp,
			      .sport = c->sport,
			      .dport = c->dport};
	struct ap_fw_rs *rs;

	cr_assert_eq(ap_config_load_buf("fw.yaml", fw_yaml, strlen(fw_yaml), &cfg, err), 0, "%s",
		     err);
	cr_assert_eq(cfg.firewall.rules[2].dscp, 46);
	cr_assert(cfg.firewall.rules[2].log);
	addr(c->family, c->src, p.src);
	addr(c->family, c->dst, p.dst);
	rs = ap_fw_rs_build(&cfg.firewall, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_expect_eq(ap_fw_walk(&cfg.firewall, &p), c->rule, "%s: walk", c->name);
	cr_expect_eq(ap_fw_rs_classify(rs, &p), c->rule, "%s: acl", c->name);
	ap_fw_rs_free(rs);
}

/* A DSCP past 63 is refused with its position. */
Test(fw, dscp_range)
{
	static struct ap_config cfg;
	static const char y[] = "firewall:\n"
				"  rules:\n"
				"    - {dscp: 64, action: drop}\n";
	char err[AP_CFG_ERR_MAX];

	cr_assert_lt(ap_config_load_buf("fw.yaml", y, strlen(y), &cfg, err), 0);
	cr_expect(strstr(err, "between 0 and 63") != NULL, "%s", err);
}

/* The data plane's side: a chunk checked at once decides as packets checked
 * one by one; a reload keeps the hits of unchanged rules (wherever they
 * moved) and starts changed ones from zero; a log rule's record reaches the
 * control plane. */

#define BURST 24

static struct ap_mbuf_priv pvs[BURST];
static uint8_t hdrs[BURST][20];

/* IPv4 packet @p i of the chunk: from outside (wan, L3 1) to inside (lan, L3
 * 0), TCP to port 80 + i % 8, DSCP 46 for every sixth. */
static void
chunk_pkt(unsigned i)
{
	struct ap_mbuf_priv *pv = &pvs[i];
	uint8_t *h = hdrs[i];

	memset(pv, 0, sizeof(*pv));
	memset(h, 0, sizeof(hdrs[i]));
	h[0] = 0x45;
	h[1] = i % 6 == 5 ? 46 << 2 : 0;
	h[9] = 6;
	memcpy(h + 12, (const uint8_t[]){203, 0, 113, 9}, 4);
	memcpy(h + 16, (const uint8_t[]){192, 168, 1, (uint8_t)(5 + i)}, 4);
	pv->pi.l3 = AP_L3_IPV4;
	pv->pi.l4_proto = 6;
	pv->pi.l4_sport = (uint16_t)(40000 + i);
	pv->pi.l4_dport = (uint16_t)(80 + i % 8);
	pv->l3 = 1;
	pv->ct = i % 7 == 3 ? AP_CT_ESTABLISHED : AP_CT_NEW;
}

static json_int_t
rule_hits(unsigned idx)
{
	json_t *j = ap_fw_json();
	json_int_t h = json_integer_value(
		json_object_get(json_array_get(json_object_get(j, "rules"), idx), "hits"));

	json_decref(j);
	return h;
}

Test(fw, chunk_reload_log)
{
	static struct ap_config cfg;
	static const uint16_t l3[] = {0, 1};
	const uint8_t *hp[BURST];
	struct ap_mbuf_priv *pp[BURST];
	uint16_t outs[BURST];
	enum ap_fw_action burst[BURST], one[BURST];
	char err[AP_CFG_ERR_MAX];
	json_int_t web, ssh, rej;
	json_t *log;

	cr_assert_eq(ap_config_load_buf("fw.yaml", fw_yaml, strlen(fw_yaml), &cfg, err), 0, "%s",
		     err);
	cr_assert_eq(ap_fw_start(&cfg, l3, err, sizeof(err)), 0, "%s", err);
	for (unsigned i = 0; i < BURST; i++) {
		chunk_pkt(i);
		pp[i] = &pvs[i];
		hp[i] = hdrs[i];
		outs[i] = 0;
	}
	ap_fw_check_burst(NULL, pp, hp, outs, BURST, burst);
	for (unsigned i = 0; i < BURST; i++) {
		cr_expect_eq(ap_fw_check(pp[i], hp[i], 0), AP_FW_ACCEPT, "done: %u", i);
		chunk_pkt(i);
		one[i] = ap_fw_check(pp[i], hp[i], 0);
		cr_expect_eq(burst[i], one[i], "packet %u: chunk %d, alone %d", i, burst[i],
			     one[i]);
	}
	/* Rule 0 (web: 80) takes i = 0, 8, 16; EF ones meet rule 2 (logged);
	 * the rest rule 5 (reject); i % 7 == 3 is established. */
	cr_expect_eq(burst[1], AP_FW_REJECT);
	cr_expect_eq(burst[3], AP_FW_ACCEPT, "established");
	web = rule_hits(0);
	rej = rule_hits(5);
	cr_expect_eq(web, 2 * 3, "web hits %lld", (long long)web);
	cr_expect_gt(rej, 0);
	ap_fw_poll();
	log = ap_fw_log_json();
	/* i = 5, 11, 23 (17 is established), twice. */
	cr_expect_eq(json_array_size(json_object_get(log, "records")), 2 * 3);
	cr_expect_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(log, "records"), 0), "ct")),
			 "new");
	json_decref(log);

	/* A rule in front, the reject turned into a drop. */
	memmove(&cfg.firewall.rules[1], &cfg.firewall.rules[0],
		sizeof(cfg.firewall.rules[0]) * cfg.firewall.n_rules);
	cfg.firewall.n_rules++;
	cfg.firewall.rules[0].dport = -1;
	cfg.firewall.rules[0].proto = 17;
	cfg.firewall.rules[6].action = AP_FW_DROP;
	ssh = rule_hits(3);
	cr_assert_eq(ap_fw_reload(&cfg.firewall, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(rule_hits(1), web, "the web rule keeps its hits");
	cr_expect_eq(rule_hits(4), ssh);
	cr_expect_eq(rule_hits(0), 0, "a new rule");
	cr_expect_eq(rule_hits(6), 0, "a changed rule");
	chunk_pkt(1);
	cr_expect_eq(ap_fw_check(&pvs[1], hdrs[1], 0), AP_FW_DROP);
	ap_fw_poll();
	ap_fw_stop();
}
