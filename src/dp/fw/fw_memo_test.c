/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's memo of a flow's classification. Packets go through a
 * conntrack table as the ct node leaves them (ap_ct_apply, ap_ct_note_flow),
 * then through ap_fw_check_burst() as ip4/ip6-input call it. A memo decides
 * as the classifier would, with the same counters and log records; a reload,
 * a new DSCP or route, a reply, an invalid packet, an IP header with options,
 * ICMP, a SYN-proxied flow and another flow in the same slot go to the
 * classifier; and a random mix decides the same with the memo and without.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_random.h>

#include "dp/core/eal_test.h"
#include "dp/ct/ct.h"
#include "dp/fw/fw.h"
#include "lib/config.h"
#include "lib/log.h"

/* L3 interfaces, in config order. */
#define LAN 0
#define WAN 1
#define DMZ 2

#define SELF AP_FW_TO_SELF

static const char memo_yaml[] =
	"ports:\n"
	"  - {name: a, driver: null}\n"
	"  - {name: b, driver: null}\n"
	"  - {name: c, driver: null}\n"
	"interfaces:\n"
	"  - {name: lan, port: a, addresses: [192.168.1.1/24, \"fd00:1::1/64\"]}\n"
	"  - {name: wan, port: b, addresses: [203.0.113.2/24, \"2001:db8::2/64\"]}\n"
	"  - {name: dmz, port: c, addresses: [198.51.100.1/24]}\n"
	"firewall:\n"
	"  zones:\n"
	"    - {name: inside, interfaces: [lan]}\n"
	"    - {name: outside, interfaces: [wan, dmz]}\n"
	"  policies:\n"
	"    - {from: inside, to: outside, action: reject}\n"
	"  rules:\n"
	"    - {from: inside, to: outside, proto: udp, dport: \"53\", dscp: 46, action: accept,"
	" log: true}\n"
	"    - {from: inside, oif: dmz, proto: udp, action: drop}\n"
	"    - {from: inside, to: outside, proto: udp, dport: \"53\", action: accept}\n"
	"    - {from: inside, to: outside, proto: tcp, dport: \"22\", action: reject}\n"
	"    - {from: inside, to: outside, proto: tcp, ct_state: [invalid], action: drop}\n"
	"    - {from: inside, to: outside, proto: udp, dport: \"5000-5999\", action: accept,"
	" log: true}\n"
	"    - {from: outside, to: inside, proto: tcp, action: accept}\n"
	"    - {from: inside, to: outside, proto: tcp, dport: \"80\", action: accept}\n"
	"    - {from: inside, to: outside, proto: icmp, action: accept, log: true}\n"
	"    - {from: outside, to: self, proto: udp, action: drop}\n";

static struct ap_config cfg;
static struct ap_ct_table *t;
static const uint16_t l3_of[] = {LAN, WAN, DMZ};

/* A packet as ct leaves it: its private area and its IP header. */
struct mpkt {
	struct ap_mbuf_priv pv;
	uint8_t ip[40];
};

static void
fw_up(void)
{
	char err[AP_CFG_ERR_MAX];

	cr_assert_eq(ap_fw_start(&cfg, l3_of, err, sizeof(err)), 0, "%s", err);
}

/* A conntrack table of @p max flows, the old one gone. */
static void
table(uint32_t max)
{
	if (t != NULL)
		ap_ct_table_free(t);
	t = ap_ct_table_create(0, max, max < 4 ? 8 : 2 * max);
	cr_assert_not_null(t);
}

static void
setup(void)
{
	char err[AP_CFG_ERR_MAX];

	cr_assert_geq(ap_test_eal_init("fw_memo_test", "128"), 0, "EAL init failed");
	ap_log_set_level("fw", AP_LOG_LEVEL_WARNING); /* records are read from the API */
	cr_assert_eq(ap_config_load_buf("memo.yaml", memo_yaml, strlen(memo_yaml), &cfg, err), 0,
		     "%s", err);
	for (unsigned s = 0; s < AP_TCP_STATES; s++)
		ap_ct_conf.timeout[s] = 100;
	ap_ct_conf.udp = 30;
	ap_ct_conf.udp_stream = 120;
	ap_ct_conf.icmp = 30;
	ap_ct_conf.generic = 600;
	fw_up();
	table(64);
}

static void
teardown(void)
{
	ap_fw_stop();
	ap_ct_table_free(t);
	t = NULL;
	rte_eal_cleanup();
}

TestSuite(fw_memo, .init = setup, .fini = teardown);

/*
 * Packet @p src -> @p dst (IPv4 or IPv6 text) of @p proto with ports @p sp
 * and @p dp (ICMP: type << 8 | code and the echo id), DSCP @p dscp, TCP
 * flags @p flags, in on L3 interface @p in. No transport bytes: conntrack
 * tracks TCP without its window, as for a flow picked up.
 */
static void
mk(struct mpkt *m, uint8_t proto, const char *src, const char *dst, uint16_t sp, uint16_t dp,
   uint8_t dscp, uint8_t flags, uint16_t in)
{
	uint8_t *h = m->ip;

	memset(m, 0, sizeof(*m));
	if (strchr(src, ':') == NULL) {
		h[0] = 0x45;
		h[1] = (uint8_t)(dscp << 2);
		h[9] = proto;
		cr_assert_eq(inet_pton(AF_INET, src, h + 12), 1);
		cr_assert_eq(inet_pton(AF_INET, dst, h + 16), 1);
		m->pv.pi.l3 = AP_L3_IPV4;
		m->pv.pi.l4_off = 20;
	} else {
		h[0] = (uint8_t)(0x60 | dscp >> 2);
		h[1] = (uint8_t)((dscp & 3) << 6);
		h[6] = proto;
		cr_assert_eq(inet_pton(AF_INET6, src, h + 8), 1);
		cr_assert_eq(inet_pton(AF_INET6, dst, h + 24), 1);
		m->pv.pi.l3 = AP_L3_IPV6;
		m->pv.pi.l4_off = 40;
	}
	m->pv.pi.l4_proto = proto;
	m->pv.pi.l4_sport = sp;
	m->pv.pi.l4_dport = dp;
	m->pv.pi.tcp_flags = flags;
	m->pv.l3 = in;
}

/* ct's share for @p m at tick @p now, as the ct node does it. */
static enum ap_ct_info
track(struct mpkt *m, uint32_t now)
{
	struct ap_ct_pkt cp;
	enum ap_ct_info info;

	ap_ct_prepare(m->ip, &m->pv.pi, 100, &cp);
	cp.in_l3 = m->pv.l3;
	info = ap_ct_apply(t, &cp, -1, now);
	m->pv.ct = (uint8_t)info;
	m->pv.fw_done = 0;
	ap_ct_note_flow(t, &m->pv, &cp, info);
	return info;
}

/* The firewall on @p n packets (out of @p outs) as ip4/ip6-input check
 * them; @p memo false: without the conntrack table, every one classified. */
static void
check(struct mpkt *const *ms, const uint16_t *outs, unsigned n, bool memo, enum ap_fw_action *v)
{
	struct ap_mbuf_priv *pvs[AP_FW_BURST];
	const uint8_t *hdrs[AP_FW_BURST];

	for (unsigned i = 0; i < n; i++) {
		pvs[i] = &ms[i]->pv;
		hdrs[i] = ms[i]->ip;
	}
	ap_fw_check_burst(memo ? t : NULL, pvs, hdrs, outs, n, v);
}

/* The firewall on @p m alone, going out of @p out. */
static enum ap_fw_action
check1(struct mpkt *m, uint16_t out, bool memo)
{
	enum ap_fw_action v;

	check(&m, &out, 1, memo, &v);
	return v;
}

/* One packet through ct (at tick 1) and the firewall. */
static enum ap_fw_action
pass(struct mpkt *m, uint16_t out)
{
	track(m, 1);
	return check1(m, out, true);
}

/* From GET /api/v1/firewall: @p key, the element @p idx of it (-1: itself),
 * that one's member @p sub (NULL: itself). */
static json_int_t
fw_int(const char *key, int idx, const char *sub)
{
	json_t *j = ap_fw_json();
	json_t *o = json_object_get(j, key);
	json_int_t n;

	if (idx >= 0)
		o = json_array_get(o, (size_t)idx);
	n = json_integer_value(sub ? json_object_get(o, sub) : o);
	json_decref(j);
	return n;
}

static json_int_t
memo_hits(void)
{
	return fw_int("memo_hits", -1, NULL);
}

static json_int_t
hits(int rule)
{
	return fw_int("rules", rule, "hits");
}

static json_int_t
logged(const char *what)
{
	json_t *j;
	json_int_t n;

	ap_fw_poll();
	j = ap_fw_log_json();
	n = json_integer_value(json_object_get(j, what));
	json_decref(j);
	return n;
}

/* The first packet classifies, the next take its rule (or the policy), with
 * the counters, the verdict and the log records of classified packets. */
Test(fw_memo, hit_decides_as_classified)
{
	static const struct {
		const char *what;
		uint8_t proto;
		const char *src, *dst;
		uint16_t sp, dp;
		uint8_t flags;
		enum ap_fw_action v;
		int rule; /* -1: the policy */
		const char *counter;
	} flows[] = {
		{"a rule", 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, AP_FW_ACCEPT, 2,
		 "rule_accept"},
		{"no rule", 17, "192.168.1.5", "203.0.113.9", 40000, 99, 0, AP_FW_REJECT, -1,
		 "policy_reject"},
		{"a retransmitted SYN", 6, "192.168.1.5", "203.0.113.9", 40001, 22, 0x02,
		 AP_FW_REJECT, 3, "rule_reject"},
		{"IPv6, a rule that logs", 17, "fd00:1::5", "2001:db8::9", 40000, 5353, 0,
		 AP_FW_ACCEPT, 5, "rule_accept"},
	};
	struct mpkt m;

	for (unsigned k = 0; k < RTE_DIM(flows); k++) {
		json_int_t before = fw_int("verdicts", -1, flows[k].counter);

		mk(&m, flows[k].proto, flows[k].src, flows[k].dst, flows[k].sp, flows[k].dp, 0,
		   flows[k].flags, LAN);
		for (unsigned n = 0; n < 3; n++)
			cr_expect_eq(pass(&m, WAN), flows[k].v, "%s, packet %u", flows[k].what, n);
		cr_expect_neq(m.pv.ct_flow, 0, "%s: ct noted its flow", flows[k].what);
		cr_expect_eq(memo_hits(), 2 * (k + 1), "%s", flows[k].what);
		if (flows[k].rule >= 0)
			cr_expect_eq(hits(flows[k].rule), 3, "%s", flows[k].what);
		cr_expect_eq(fw_int("verdicts", -1, flows[k].counter), before + 3, "%s",
			     flows[k].what);
	}
	cr_expect_eq(logged("logged"), 3, "a record a packet");
}

/* A new ruleset never takes a memo made under an older one, even the same
 * rules again. */
Test(fw_memo, reload_reclassifies)
{
	static struct ap_cfg_fw fw;
	char err[AP_CFG_ERR_MAX];
	struct mpkt m;

	mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, 0, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 1);

	fw = cfg.firewall;
	memmove(&fw.rules[1], &fw.rules[0], sizeof(fw.rules[0]) * fw.n_rules);
	fw.n_rules++;
	fw.rules[0].dscp = -1;
	fw.rules[0].log = false;
	fw.rules[0].action = AP_FW_DROP;
	cr_assert_eq(ap_fw_reload(&fw, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(pass(&m, WAN), AP_FW_DROP, "the new rule in front");
	cr_expect_eq(memo_hits(), 1);
	cr_expect_eq(hits(0), 1);
	cr_expect_eq(pass(&m, WAN), AP_FW_DROP);
	cr_expect_eq(memo_hits(), 2);

	cr_assert_eq(ap_fw_reload(&cfg.firewall, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 2);
	cr_assert_eq(ap_fw_reload(&cfg.firewall, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT, "the same rules, built again");
	cr_expect_eq(memo_hits(), 2);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 3);
}

/* What may change from one packet of a flow to the next is compared: DSCP,
 * the interface the route sends it out of, the one it came in on. */
Test(fw_memo, dscp_and_route_changes_reclassify)
{
	struct mpkt m;

	mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, 0, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 46, 0, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 0);
	cr_expect_eq(hits(0), 1, "EF: the logging rule");
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 1);
	cr_expect_eq(hits(0), 2);
	cr_expect_eq(logged("logged"), 2, "a record for the memo's packet too");
	mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, 0, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 1);
	cr_expect_eq(hits(2), 2);

	/* Routed out of the other interface of the same zone. */
	cr_expect_eq(pass(&m, DMZ), AP_FW_DROP);
	cr_expect_eq(memo_hits(), 1);
	cr_expect_eq(pass(&m, DMZ), AP_FW_DROP);
	cr_expect_eq(memo_hits(), 2);
	cr_expect_eq(hits(1), 2);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 2);
	cr_expect_eq(pass(&m, SELF), AP_FW_DROP, "to the appliance: no rule, the default");
	cr_expect_eq(memo_hits(), 2);
	cr_expect_eq(fw_int("verdicts", -1, "policy_drop"), 1);

	/* In on another interface (zone outside): rule 9 for self. */
	mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, 0, WAN);
	cr_expect_eq(pass(&m, SELF), AP_FW_DROP);
	cr_expect_eq(memo_hits(), 2);
	cr_expect_eq(hits(9), 1);
}

/* Log records stay one a packet under the rate limit, as without the memo. */
Test(fw_memo, log_rate_limit_as_without)
{
	char err[AP_CFG_ERR_MAX];
	json_int_t with[2];
	struct mpkt m;

	cfg.firewall.log_rate = 3;
	cr_assert_eq(ap_fw_reload(&cfg.firewall, err, sizeof(err)), 0, "%s", err);
	for (int memo = 1; memo >= 0; memo--) {
		mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 5000, 0, 0, LAN);
		for (unsigned k = 0; k < 7; k++) {
			track(&m, 1);
			cr_expect_eq(check1(&m, WAN, memo), AP_FW_ACCEPT);
		}
		if (memo) {
			cr_expect_eq(memo_hits(), 6);
			with[0] = logged("logged");
			with[1] = logged("limited");
			ap_fw_stop();
			fw_up();
			ap_ct_flush(t, NULL);
			continue;
		}
		cr_expect_eq(memo_hits(), 0);
		cr_expect_eq(with[0], 3);
		cr_expect_eq(logged("logged"), with[0]);
		cr_expect_eq(logged("limited"), with[1]);
	}
}

/* Replies, invalid and related packets, ICMP, IP options, SYN-proxied
 * flows: classified every time, as before. */
Test(fw_memo, what_is_not_memoized)
{
	struct ap_ct_pkt cp = {.flow = 3, .dir = AP_CT_REPLY};
	struct ap_ct_flow *f;
	struct mpkt m, r;

	/* A reply new to conntrack cannot happen with this tracker; noted, it
	 * would get no flow. */
	ap_ct_note_flow(t, &m.pv, &cp, AP_CT_NEW);
	cr_expect_eq(m.pv.ct_flow, 0);
	cp.dir = AP_CT_ORIG;
	ap_ct_note_flow(t, &m.pv, &cp, AP_CT_INVALID);
	cr_expect_eq(m.pv.ct_flow, 0);
	ap_ct_note_flow(t, &m.pv, &cp, AP_CT_RELATED);
	cr_expect_eq(m.pv.ct_flow, 0);
	ap_ct_note_flow(t, &m.pv, &cp, AP_CT_NEW);
	cr_expect_eq(m.pv.ct_flow, 4);

	/* TCP: the SYN and its retransmission; the answer is established; a
	 * segment without flags from the originator is invalid, and meets the
	 * invalid rule. */
	mk(&m, 6, "192.168.1.5", "203.0.113.9", 40000, 80, 0, 0x02, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 1);
	mk(&r, 6, "203.0.113.9", "192.168.1.5", 80, 40000, 0, 0x12, WAN);
	cr_expect_eq(pass(&r, LAN), AP_FW_ACCEPT);
	cr_expect_eq(r.pv.ct, AP_CT_ESTABLISHED);
	cr_expect_eq(r.pv.ct_flow, 0);
	mk(&m, 6, "192.168.1.5", "203.0.113.9", 40000, 80, 0, 0x00, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_DROP);
	cr_expect_eq(m.pv.ct, AP_CT_INVALID);
	cr_expect_eq(hits(4), 1);
	cr_expect_eq(memo_hits(), 1);

	/* ICMP: type and code are not in the flow's key. */
	mk(&m, 1, "192.168.1.5", "203.0.113.9", 8 << 8, 7, 0, 0, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 1);
	cr_expect_eq(hits(8), 2);

	/* An IPv4 header with options: ip4-input's full parse leaves no ports,
	 * so the rules see none, whatever the flow's memo says. */
	mk(&m, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, 0, LAN);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(pass(&m, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 2);
	track(&m, 1);
	m.ip[0] = 0x46;
	m.pv.pi.l4_sport = m.pv.pi.l4_dport = 0;
	cr_expect_eq(check1(&m, WAN, true), AP_FW_REJECT, "no port 53: the policy");
	cr_expect_eq(memo_hits(), 2);

	/* A spliced flow keeps the SYN proxy's offsets where a memo would be. */
	mk(&m, 6, "192.168.1.5", "203.0.113.9", 40002, 80, 0, 0x02, LAN);
	track(&m, 1);
	f = &t->flows[m.pv.ct_flow - 1];
	f->syn = AP_CT_SYN_ON;
	f->syn_delta = 0x11111111;
	f->syn_tsoff = 0x22222222;
	for (unsigned k = 0; k < 3; k++) {
		if (k > 0)
			track(&m, 1);
		cr_expect_eq(check1(&m, WAN, true), AP_FW_ACCEPT);
	}
	cr_expect_eq(memo_hits(), 2);
	cr_expect_eq(f->syn_delta, 0x11111111);
	cr_expect_eq(f->syn_tsoff, 0x22222222);
}

/* A table of one slot: a flow evicted between ct and the firewall, its slot
 * taken by the next packet's flow in the same burst. */
Test(fw_memo, reused_slot_inherits_nothing)
{
	struct mpkt a, b;
	struct mpkt *burst[2] = {&a, &b};
	const uint16_t outs[2] = {WAN, WAN};
	enum ap_fw_action v[2];

	table(1);
	mk(&a, 17, "192.168.1.5", "203.0.113.9", 40000, 53, 0, 0, LAN);
	mk(&b, 17, "192.168.1.6", "203.0.113.9", 40000, 99, 0, 0, LAN);
	cr_assert_eq(track(&a, 1), AP_CT_NEW);
	cr_assert_eq(track(&b, 1), AP_CT_NEW);
	cr_assert_eq(t->st.early_drop, 1, "b took a's slot");
	cr_assert_eq(a.pv.ct_flow, b.pv.ct_flow);
	check(burst, outs, 2, true, v);
	cr_expect_eq(v[0], AP_FW_ACCEPT);
	cr_expect_eq(v[1], AP_FW_REJECT, "b is classified, not given a's rule");
	cr_expect_eq(memo_hits(), 0);

	/* Again, b's packet going elsewhere than the firewall: a's must not
	 * leave its rule in b's slot. */
	cr_assert_eq(track(&a, 1), AP_CT_NEW);
	cr_assert_eq(track(&b, 1), AP_CT_NEW);
	cr_assert_eq(t->st.early_drop, 3);
	cr_expect_eq(check1(&a, WAN, true), AP_FW_ACCEPT);
	cr_expect_eq(pass(&b, WAN), AP_FW_REJECT);
	cr_expect_eq(memo_hits(), 0);
	cr_expect_eq(pass(&b, WAN), AP_FW_REJECT);
	cr_expect_eq(memo_hits(), 1, "b's own memo");

	/* a takes the slot back: a new flow, classified. */
	cr_expect_eq(pass(&a, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 1);
	cr_expect_eq(pass(&a, WAN), AP_FW_ACCEPT);
	cr_expect_eq(memo_hits(), 2);
}

/* Seeded (rte_srand()), so a failure replays. */
static uint32_t
rnd(uint32_t n)
{
	return (uint32_t)rte_rand_max(n);
}

#define MIX_PKTS 20000

/* What a run leaves to compare: verdicts, the rules' hits, the verdict
 * counters, log counters and records (times left out). */
struct mix_out {
	enum ap_fw_action v[MIX_PKTS];
	json_t *rules, *verdicts, *log;
	json_int_t memo_hits;
};

/* One random packet: one of 33 flows (UDP, TCP, ICMP echo; IPv4 and IPv6),
 * some of them answered, with a DSCP and a route. */
static void
mix_pkt(struct mpkt *m, uint16_t *out)
{
	static const char *const in4[] = {"192.168.1.5", "192.168.1.6"};
	static const char *const ex4[] = {"203.0.113.9", "198.51.100.7"};
	static const uint16_t udp[] = {53, 5000, 99}, tcp[] = {22, 80};
	static const uint8_t dscps[] = {0, 0, 0, 0, 0, 0, 0, 0, 46, 10};
	static const uint16_t outs[] = {WAN, WAN, WAN, WAN, WAN, WAN, WAN, DMZ, SELF, LAN};
	const unsigned kind = rnd(8); /* 0-3 UDP, 4-6 TCP, 7 ICMP */
	const bool v6 = kind != 7 && rnd(4) == 0;
	const char *in = v6 ? "fd00:1::5" : in4[rnd(RTE_DIM(in4))];
	const bool back = in == in4[1] && rnd(4) == 0; /* the others never hear back */
	const char *ex = v6 ? "2001:db8::9" : ex4[rnd(RTE_DIM(ex4))];
	const uint8_t dscp = dscps[rnd(RTE_DIM(dscps))];
	uint8_t proto = 17, flags = 0;
	uint16_t sp = 40000, dp = udp[rnd(RTE_DIM(udp))];

	if (kind >= 4 && kind < 7) {
		proto = 6;
		dp = tcp[rnd(RTE_DIM(tcp))];
		flags = rnd(4) ? 0x02 : 0x12;
	} else if (kind == 7) {
		proto = 1;
		sp = (uint16_t)((back ? 0 : 8) << 8 | rnd(2));
		dp = (uint16_t)rnd(2);
	}
	if (back)
		mk(m, proto, ex, in, proto == 1 ? sp : dp, proto == 1 ? dp : sp, dscp, flags,
		   rnd(2) ? WAN : DMZ);
	else
		mk(m, proto, in, ex, sp, dp, dscp, flags, LAN);
	*out = back ? LAN : outs[rnd(RTE_DIM(outs))];
}

static json_t *
without(json_t *arr, const char *key)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) json_object_del(o, key);
	return arr;
}

static void
mix_run(bool memo, struct mix_out *o)
{
	static struct mpkt ms[AP_FW_BURST];
	static struct ap_cfg_fw other;
	char err[AP_CFG_ERR_MAX];
	json_t *j;
	unsigned done = 0;
	uint32_t now = 1;

	rte_srand(0x9e3779b97f4a7c15ull);
	table(30); /* for 33 flows: slots change hands now and then */
	cfg.firewall.log_rate = 1000000;
	fw_up();
	other = cfg.firewall;
	other.rules[2].action = AP_FW_DROP;
	other.rules[1].oif_idx = -1;
	while (done < MIX_PKTS) {
		struct mpkt *burst[AP_FW_BURST];
		uint16_t outs[AP_FW_BURST];
		unsigned n = 1 + rnd(24);

		if (n > MIX_PKTS - done)
			n = MIX_PKTS - done;
		ap_ct_gc(t, now, 8); /* as the ct node does */
		for (unsigned i = 0; i < n; i++) {
			burst[i] = &ms[i];
			mix_pkt(&ms[i], &outs[i]);
			track(&ms[i], now);
			/* Options: what ip4-input's full parse leaves. */
			if (ms[i].pv.pi.l3 == AP_L3_IPV4 && rnd(20) == 0) {
				ms[i].ip[0] = 0x46;
				ms[i].pv.pi.l4_sport = ms[i].pv.pi.l4_dport = 0;
			}
		}
		check(burst, outs, n, memo, &o->v[done]);
		done += n;
		ap_fw_poll();
		if (rnd(40) == 0)
			now += 10; /* flows expire now and then */
		if (rnd(60) == 0)
			cr_assert_eq(
				ap_fw_reload(rnd(2) ? &other : &cfg.firewall, err, sizeof(err)), 0,
				"%s", err);
	}
	j = ap_fw_json();
	o->rules = without(json_incref(json_object_get(j, "rules")), "last_hit_s");
	o->verdicts = json_incref(json_object_get(j, "verdicts"));
	o->memo_hits = json_integer_value(json_object_get(j, "memo_hits"));
	json_decref(j);
	o->log = ap_fw_log_json();
	without(json_object_get(o->log, "records"), "time");
	ap_fw_stop();
}

/* The same random packets with the memo and without: the same verdict for
 * every packet, the same counters and log records. */
Test(fw_memo, random_mix_as_without)
{
	static struct mix_out with, plain;

	ap_fw_stop();
	mix_run(true, &with);
	mix_run(false, &plain);
	fw_up();
	cr_expect_gt(with.memo_hits, MIX_PKTS / 20, "memo hits %lld", (long long)with.memo_hits);
	cr_expect_eq(plain.memo_hits, 0);
	for (unsigned i = 0; i < MIX_PKTS; i++)
		cr_assert_eq(with.v[i], plain.v[i], "packet %u: %d with the memo, %d without", i,
			     with.v[i], plain.v[i]);
	cr_expect(json_equal(with.rules, plain.rules), "rule hits differ");
	cr_expect(json_equal(with.verdicts, plain.verdicts), "verdict counters differ");
	cr_expect(json_equal(with.log, plain.log), "log records differ");
	cr_expect_gt(json_integer_value(json_object_get(with.log, "logged")), 0);
	json_decref(with.rules);
	json_decref(with.verdicts);
	json_decref(with.log);
	json_decref(plain.rules);
	json_decref(plain.verdicts);
	json_decref(plain.log);
}
