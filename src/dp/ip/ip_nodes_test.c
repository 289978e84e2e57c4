/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Edge decisions of ip4-input and ip6-input on a real rte_graph: a test
 * source feeds frames, stand-in sinks record where each packet went, and the
 * FIBs and next hops are set up by hand (no ports, no control plane).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp/core/eal_test.h"
#include "dp/core/dp_core.h"
#include "dp/fw/fw.h"
#include "dp/ip/ip.h"
#include "dp/qos/qos.h"
#include "dp/ip/ip_priv.h"

#define MAX_PKTS 32

enum sink {
	SINK_NONE,
	SINK_DROP,
	SINK_PUNT,
	SINK_LOCAL4,
	SINK_LOCAL6,
	SINK_TX,
	SINK_BRIDGE,
	SINK_QOS
};

static struct rte_mempool *pool;
static struct rte_graph *graph;
static struct rte_mbuf *feed[MAX_PKTS];
static uint16_t n_feed;
static rte_edge_t feed_edge;
static struct {
	struct rte_mbuf *m;
	enum sink s;
} seen[MAX_PKTS];
static unsigned n_seen;

static const uint8_t MAC_LAN[6] = {2, 0, 0, 0, 0, 0xa};
static const uint8_t MAC_WAN[6] = {2, 0, 0, 0, 0, 0xb};
static const uint8_t MAC_GW[6] = {2, 0, 0, 0, 1, 2};
static const uint8_t MAC_GW2[6] = {2, 0, 0, 0, 1, 3};

static uint16_t
src_process(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(objs);
	RTE_SET_USED(n);
	void **to;

	if (!n_feed)
		return 0;
	to = rte_node_next_stream_get(g, node, feed_edge, n_feed);
	memcpy(to, feed, n_feed * sizeof(feed[0]));
	rte_node_next_stream_put(g, node, feed_edge, n_feed);
	n = n_feed;
	n_feed = 0;
	return n;
}

#define SINK(fn, kind)                                                                             \
	static uint16_t fn(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)    \
	{                                                                                          \
		RTE_SET_USED(g);                                                                   \
		RTE_SET_USED(node);                                                                \
		for (uint16_t i = 0; i < n && n_seen < MAX_PKTS; i++) {                            \
			seen[n_seen].m = objs[i];                                                  \
			seen[n_seen++].s = kind;                                                   \
		}                                                                                  \
		return n;                                                                          \
	}
SINK(drop_sink, SINK_DROP)
SINK(punt_sink, SINK_PUNT)
SINK(local4_sink, SINK_LOCAL4)
SINK(local6_sink, SINK_LOCAL6)
SINK(tx_sink, SINK_TX)
SINK(bridge_sink, SINK_BRIDGE)
SINK(qos_sink, SINK_QOS)

static struct rte_node_register src_node = {
	.name = "test-src",
	.flags = RTE_NODE_SOURCE_F,
	.parent_id = RTE_NODE_ID_INVALID,
	.process = src_process,
	.nb_edges = 2,
	.next_nodes = {"ip4-input", "ip6-input"},
};
static struct rte_node_register drop_node = {
	.name = "drop", .parent_id = RTE_NODE_ID_INVALID, .process = drop_sink};
static struct rte_node_register punt_node = {
	.name = "punt", .parent_id = RTE_NODE_ID_INVALID, .process = punt_sink};
static struct rte_node_register local4_node = {
	.name = "ip4-local", .parent_id = RTE_NODE_ID_INVALID, .process = local4_sink};
static struct rte_node_register local6_node = {
	.name = "ip6-local", .parent_id = RTE_NODE_ID_INVALID, .process = local6_sink};
static struct rte_node_register tx_node = {
	.name = "tx", .parent_id = RTE_NODE_ID_INVALID, .process = tx_sink};
static struct rte_node_register bridge_node = {
	.name = "l2-bridge", .parent_id = RTE_NODE_ID_INVALID, .process = bridge_sink};
static struct rte_node_register qos_node = {
	.name = "qos", .parent_id = RTE_NODE_ID_INVALID, .process = qos_sink};

/* Next hops: 0 unreachable, 1 local, 2 blackhole, then these. */
enum { NH_GW4 = 3, NH_UNRES4, NH_GLEAN4, NH_GW6, NH_UNRES6, NH_GW4B, NH_ECMP4, NH_VLAN4, NH_BVI4 };

/* L3 interfaces beyond the ports: a VLAN interface (VLAN 7 on port 1) and a
 * bridge interface. */
#define L3_VLAN AP_L3_VIRT(0)
#define L3_BVI	AP_L3_VIRT(1)

static void
nh_set(uint32_t id, uint8_t type, uint8_t family, uint16_t port, const uint8_t *mac)
{
	ap_ip.nh[id].type = type;
	ap_ip.nh[id].family = family;
	ap_ip.nh[id].port = port;
	ap_ip.nh[id].l2 = mac ? ap_mac_to_nh_l2(mac) : 0;
}

static void
add6(const char *a, uint8_t len, uint64_t nh)
{
	struct ap_cfg_prefix p;

	cr_assert_eq(ap_cfg_prefix_parse(a, false, &p), 0);
	cr_assert_eq(ap_fib6_add(ap_ip.fib6, p.addr, len, (uint32_t)nh), 0);
}

static void
setup(void)
{
	const char *patterns[] = {"test-src",  "ip4-input", "ip6-input", "drop",     "punt",
				  "ip4-local", "ip6-local", "tx",	 "l2-bridge"};
	struct rte_graph_param gp = {
		.socket_id = 0, .nb_node_patterns = RTE_DIM(patterns), .node_patterns = patterns};
	struct rte_fib_conf c4 = {.type = RTE_FIB_DIR24_8,
				  .default_nh = 0,
				  .max_routes = 64,
				  .dir24_8 = {.nh_sz = RTE_FIB_DIR24_8_4B, .num_tbl8 = 64}};
	struct ap_fib6_conf c6 = {.max_routes = 64, .groups = 1024, .default_nh = 0};
	const char *tx = "tx";
	rte_edge_t e4, e6;

	cr_assert_geq(ap_test_eal_init("ip_nodes_test", "512"), 0, "EAL init failed");
	pool = rte_pktmbuf_pool_create("test", 1023, 0,
				       RTE_ALIGN(sizeof(struct ap_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	cr_assert_not_null(pool);
	cr_assert_neq(__rte_node_register(&src_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ap_ip4_input_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ap_ip6_input_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&drop_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&punt_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&local4_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&local6_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&tx_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&bridge_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&qos_node), RTE_NODE_ID_INVALID);
	e4 = rte_node_edge_count(rte_node_from_name("ip4-input"));
	cr_assert_eq(rte_node_edge_update(rte_node_from_name("ip4-input"), e4, &tx, 1), 1);
	e6 = rte_node_edge_count(rte_node_from_name("ip6-input"));
	cr_assert_eq(rte_node_edge_update(rte_node_from_name("ip6-input"), e6, &tx, 1), 1);
	ap_ip4_input_tx[1] = e4;
	ap_ip6_input_tx[1] = e6;

	ap_ip.nh = rte_zmalloc("nh", sizeof(struct ap_nh) * AP_NH_MAX, RTE_CACHE_LINE_SIZE);
	ap_ip.fib4 = rte_fib_create("t4", 0, &c4);
	ap_ip.fib6 = ap_fib6_create("t6", 0, &c6);
	cr_assert(ap_ip.nh && ap_ip.fib4 && ap_ip.fib6);
	nh_set(1, AP_NH_LOCAL, 0, 0, NULL);
	nh_set(2, AP_NH_BLACKHOLE, 0, 0, NULL);
	nh_set(NH_GW4, AP_NH_NEIGH, 4, 1, MAC_GW);
	nh_set(NH_UNRES4, AP_NH_NEIGH, 4, 1, NULL);
	nh_set(NH_GLEAN4, AP_NH_GLEAN, 4, 1, NULL);
	nh_set(NH_GW6, AP_NH_NEIGH, 6, 1, MAC_GW);
	nh_set(NH_UNRES6, AP_NH_NEIGH, 6, 1, NULL);
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 0, 1), 32, 1), 0);
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 1, 0), 24, NH_GW4), 0);
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 2, 0), 24, NH_UNRES4), 0);
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 3, 0), 24, NH_GLEAN4), 0);
	cr_assert_eq(
		rte_fib_add(ap_ip.fib4,
			    0xc0000200 /* 192.0.2.0: RTE_IPV4() would shift into the sign bit */,
			    24, 2),
		0);
	/* 10.0.9.0/24: ECMP over the gateway and a second one. */
	nh_set(NH_GW4B, AP_NH_NEIGH, 4, 1, MAC_GW2);
	nh_set(NH_ECMP4, AP_NH_ECMP, 4, 0, NULL);
	ap_ip.nh[NH_ECMP4].n_members = 2;
	ap_ip.nh[NH_ECMP4].members[0] = NH_GW4;
	ap_ip.nh[NH_ECMP4].members[1] = NH_GW4B;
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 9, 0), 24, NH_ECMP4), 0);
	nh_set(NH_VLAN4, AP_NH_NEIGH, 4, L3_VLAN, MAC_GW);
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 7, 0), 24, NH_VLAN4), 0);
	nh_set(NH_BVI4, AP_NH_NEIGH, 4, L3_BVI, MAC_GW2);
	cr_assert_eq(rte_fib_add(ap_ip.fib4, RTE_IPV4(10, 0, 8, 0), 24, NH_BVI4), 0);
	ap_ip4_input_tx[L3_VLAN] = e4;
	ap_ip4_input_tx[L3_BVI] = AP_IP_EDGE_BRIDGE;
	add6("fd00::1", 128, 1);
	add6("fd01::", 64, NH_GW6);
	add6("fd02::", 64, NH_UNRES6);

	ap_l3_ifs[0] = (struct ap_l3_if){.enabled = 1, .mtu = 1500};
	memcpy(ap_l3_ifs[0].mac, MAC_LAN, 6);
	ap_l3_ifs[0].ll6[0] = 0xfe;
	ap_l3_ifs[0].ll6[1] = 0x80;
	ap_l3_ifs[0].ll6[15] = 1;
	ap_l3_ifs[1] = (struct ap_l3_if){.enabled = 1, .mtu = 1400};
	memcpy(ap_l3_ifs[1].mac, MAC_WAN, 6);
	ap_l3_ifs[L3_VLAN] =
		(struct ap_l3_if){.enabled = 1, .mtu = 1500, .n_tags = 1, .tx_port = 1};
	ap_l3_ifs[L3_VLAN].tags[0] = rte_cpu_to_be_32(0x81000007);
	memcpy(ap_l3_ifs[L3_VLAN].mac, MAC_WAN, 6);
	ap_l3_ifs[L3_BVI] = (struct ap_l3_if){.enabled = 1, .mtu = 1500, .bvi = 1, .l2_member = 9};
	memcpy(ap_l3_ifs[L3_BVI].mac, MAC_LAN, 6);

	cr_assert_neq(rte_graph_create("test", &gp), RTE_GRAPH_ID_INVALID);
	graph = rte_graph_lookup("test");
	cr_assert_not_null(graph);
}

static void
teardown(void)
{
	ap_eal_cleanup();
}

TestSuite(ip_nodes, .init = setup, .fini = teardown);

/* Frames: Ethernet (optionally one VLAN tag) + IPv4/IPv6 + UDP + payload. */
struct frame_spec {
	int family;
	const char *src, *dst;
	uint8_t ttl;
	uint16_t payload;
	bool df;
	bool vlan;
	bool bad_csum;
	uint16_t sport; /* UDP source port; 0 leaves the fill pattern */
};

static struct rte_mbuf *
build(const struct frame_spec *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct ap_cfg_prefix s, d;
	uint16_t l3 = f->vlan ? 18 : 14, ip_len = f->family == 4 ? 20 : 40;
	uint16_t len = (uint16_t)(l3 + ip_len + 8 + f->payload);
	uint8_t *p;

	cr_assert_not_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	cr_assert_not_null(p);
	memset(p, 0x5a, len);
	memcpy(p, MAC_LAN, 6);
	memcpy(p + 6, (uint8_t[6]){2, 0, 0, 0, 0, 2}, 6);
	if (f->vlan) {
		p[12] = 0x81, p[13] = 0, p[14] = 0, p[15] = 5;
	}
	p[l3 - 2] = f->family == 4 ? 0x08 : 0x86;
	p[l3 - 1] = f->family == 4 ? 0x00 : 0xdd;
	cr_assert_eq(ap_cfg_prefix_parse(f->src, false, &s), 0);
	cr_assert_eq(ap_cfg_prefix_parse(f->dst, false, &d), 0);
	if (f->family == 4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + l3);

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = 0x45;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(ip_len + 8 + f->payload));
		ip->fragment_offset = f->df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
		ip->time_to_live = f->ttl;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, s.addr, 4);
		memcpy(&ip->dst_addr, d.addr, 4);
		ip->hdr_checksum = ap_csum(ip, 20);
		if (f->bad_csum)
			ip->hdr_checksum ^= 0x1111;
	} else {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(p + l3);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + f->payload));
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = f->ttl;
		memcpy(ip->src_addr, s.addr, 16);
		memcpy(ip->dst_addr, d.addr, 16);
	}
	/* UDP length, so full parses agree. */
	if (f->sport) {
		p[l3 + ip_len] = (uint8_t)(f->sport >> 8);
		p[l3 + ip_len + 1] = (uint8_t)f->sport;
	}
	p[l3 + ip_len + 4] = (uint8_t)((8 + f->payload) >> 8);
	p[l3 + ip_len + 5] = (uint8_t)(8 + f->payload);
	p[l3 + ip_len + 6] = p[l3 + ip_len + 7] = 0;
	m->port = 0;
	ap_mbuf_priv(m)->pi.l3_off = l3;
	ap_mbuf_priv(m)->drop_reason = AP_DROP_NONE;
	ap_mbuf_priv(m)->punt = AP_PUNT_NONE;
	return m;
}

static const struct {
	const char *what;
	struct frame_spec f;
	enum sink sink;
	uint16_t reason; /* drop reason or punt reason */
} cases[] = {
	{"routed via a resolved gateway", {4, "10.0.0.2", "10.0.1.9", 64, 32}, SINK_TX, 0},
	{"routed, VLAN tag stripped",
	 {4, "10.0.0.2", "10.0.1.9", 64, 32, .vlan = true},
	 SINK_TX,
	 0},
	{"to the router", {4, "10.0.0.2", "10.0.0.1", 64, 32}, SINK_LOCAL4, 0},
	{"TTL 1 to be forwarded", {4, "10.0.0.2", "10.0.1.9", 1, 32}, SINK_PUNT, AP_PUNT_TTL},
	{"TTL 1 to the router is still ours", {4, "10.0.0.2", "10.0.0.1", 1, 32}, SINK_LOCAL4, 0},
	{"no route", {4, "10.0.0.2", "203.0.113.1", 64, 32}, SINK_PUNT, AP_PUNT_NO_ROUTE},
	{"blackhole", {4, "10.0.0.2", "192.0.2.1", 64, 32}, SINK_DROP, AP_DROP_IP_BLACKHOLE},
	{"gateway not resolved", {4, "10.0.0.2", "10.0.2.9", 64, 32}, SINK_PUNT, AP_PUNT_RESOLVE},
	{"host on a connected subnet",
	 {4, "10.0.0.2", "10.0.3.9", 64, 32},
	 SINK_PUNT,
	 AP_PUNT_RESOLVE},
	{"DF and over the egress MTU",
	 {4, "10.0.0.2", "10.0.1.9", 64, 1400, .df = true},
	 SINK_PUNT,
	 AP_PUNT_FRAG_NEEDED},
	{"over the egress MTU without DF",
	 {4, "10.0.0.2", "10.0.1.9", 64, 1400},
	 SINK_PUNT,
	 AP_PUNT_FRAGMENT},
	{"exactly the egress MTU", {4, "10.0.0.2", "10.0.1.9", 64, 1372, .df = true}, SINK_TX, 0},
	{"bad header checksum",
	 {4, "10.0.0.2", "10.0.1.9", 64, 32, .bad_csum = true},
	 SINK_DROP,
	 AP_DROP_PKT_IP4_CSUM},
	{"loopback source", {4, "127.0.0.1", "10.0.1.9", 64, 32}, SINK_DROP, AP_DROP_IP_BAD_SRC},
	{"multicast destination",
	 {4, "10.0.0.2", "224.0.0.5", 64, 32},
	 SINK_DROP,
	 AP_DROP_IP_MCAST},
	{"IPv6 routed", {6, "fd00::2", "fd01::9", 64, 32}, SINK_TX, 0},
	{"IPv6 to the router", {6, "fd00::2", "fd00::1", 64, 32}, SINK_LOCAL6, 0},
	{"IPv6 to our link-local address", {6, "fe80::2", "fe80::1", 64, 32}, SINK_LOCAL6, 0},
	{"IPv6 to another link-local address",
	 {6, "fe80::2", "fe80::9", 64, 32},
	 SINK_DROP,
	 AP_DROP_IP6_LL_FWD},
	{"IPv6 hop limit 1", {6, "fd00::2", "fd01::9", 1, 32}, SINK_PUNT, AP_PUNT_TTL},
	{"IPv6 no route", {6, "fd00::2", "2001:db8::1", 64, 32}, SINK_PUNT, AP_PUNT_NO_ROUTE},
	{"IPv6 unresolved", {6, "fd00::2", "fd02::9", 64, 32}, SINK_PUNT, AP_PUNT_RESOLVE},
	{"IPv6 too big", {6, "fd00::2", "fd01::9", 64, 1400}, SINK_PUNT, AP_PUNT_FRAG_NEEDED},
	{"IPv6 multicast source", {6, "ff02::1", "fd01::9", 64, 32}, SINK_DROP, AP_DROP_IP_BAD_SRC},
};

/* Each case alone through the graph; @p fw: with the firewall's state of an
 * untracked packet, as ct leaves it, to UDP port 53. */
static void
edges_one_by_one(bool fw)
{
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		const struct frame_spec *f = &cases[i].f;
		struct rte_mbuf *m = build(f);
		uint8_t ttl_in = f->ttl;

		if (fw) {
			ap_mbuf_priv_fresh(ap_mbuf_priv(m));
			ap_mbuf_priv(m)->l3 = 0;
			ap_mbuf_priv(m)->pi.l4_dport = 53;
		}
		feed[0] = m;
		n_feed = 1;
		feed_edge = f->family == 4 ? 0 : 1;
		n_seen = 0;
		rte_graph_walk(graph);
		cr_assert_eq(n_seen, 1, "%s: seen %u times", cases[i].what, n_seen);
		cr_expect_eq(seen[0].s, cases[i].sink, "%s: sink %d, want %d", cases[i].what,
			     seen[0].s, cases[i].sink);
		if (cases[i].sink == SINK_DROP)
			cr_expect_eq(ap_mbuf_priv(m)->drop_reason, cases[i].reason, "%s: %s",
				     cases[i].what, ap_drop_name(ap_mbuf_priv(m)->drop_reason));
		if (cases[i].sink == SINK_PUNT)
			cr_expect_eq(ap_mbuf_priv(m)->punt, cases[i].reason, "%s: punt %u",
				     cases[i].what, ap_mbuf_priv(m)->punt);
		if (cases[i].sink == SINK_TX) {
			const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

			/* Untagged Ethernet to the gateway from the egress port. */
			cr_expect_eq(memcmp(p, MAC_GW, 6), 0, "%s: dst MAC", cases[i].what);
			cr_expect_eq(memcmp(p + 6, MAC_WAN, 6), 0, "%s: src MAC", cases[i].what);
			if (f->family == 4) {
				cr_expect(p[12] == 0x08 && p[13] == 0x00, "%s: ethertype",
					  cases[i].what);
				cr_expect_eq(p[14 + 8], ttl_in - 1, "%s: TTL", cases[i].what);
				cr_expect_eq(ap_ip4_hdr_csum_verify(p + 14, 20), 0,
					     "%s: IPv4 checksum after the TTL update",
					     cases[i].what);
				cr_expect_eq(rte_pktmbuf_pkt_len(m), 14u + 20 + 8 + f->payload,
					     "%s: length", cases[i].what);
			} else {
				cr_expect(p[12] == 0x86 && p[13] == 0xdd, "%s: ethertype",
					  cases[i].what);
				cr_expect_eq(p[14 + 7], ttl_in - 1, "%s: hop limit", cases[i].what);
			}
		}
		rte_pktmbuf_free(m);
	}
}

Test(ip_nodes, edges_one_by_one)
{
	edges_one_by_one(false);
}

/* With the firewall on, what it accepts goes where it goes without it, as it
 * would (the fast output path included); what it drops or rejects goes to
 * drop, or to punt for the control plane's answer. */
Test(ip_nodes, firewall_before_output)
{
	static const char y[] = "ports:\n"
				"  - {name: a, driver: null}\n"
				"  - {name: b, driver: null}\n"
				"interfaces:\n"
				"  - {name: lan, port: a, addresses: [10.0.0.1/24]}\n"
				"  - {name: wan, port: b, addresses: [10.0.1.1/24]}\n"
				"firewall:\n"
				"  default: accept\n"
				"  rules:\n"
				"    - {proto: udp, dport: \"7\", action: drop}\n"
				"    - {proto: udp, dport: \"9\", action: reject}\n";
	static const uint16_t l3[] = {0, 1};
	static const struct {
		uint16_t dport;
		enum sink sink;
	} fcases[] = {{53, SINK_TX}, {7, SINK_DROP}, {9, SINK_PUNT}};
	static struct ap_config cfg;
	char err[AP_CFG_ERR_MAX];

	cr_assert_eq(ap_config_load_buf("fw.yaml", y, strlen(y), &cfg, err), 0, "%s", err);
	cr_assert_eq(ap_fw_start(&cfg, l3, err, sizeof(err)), 0, "%s", err);
	edges_one_by_one(true);
	for (unsigned i = 0; i < RTE_DIM(fcases); i++) {
		struct frame_spec f = {4, "10.0.0.2", "10.0.1.9", 64, 32};
		struct rte_mbuf *m = build(&f);

		/* As ct leaves it: the IPv4 header seen, the ports read. */
		ap_mbuf_priv_fresh(ap_mbuf_priv(m));
		ap_mbuf_priv(m)->l3 = 0;
		ap_mbuf_priv(m)->pi.l3 = AP_L3_IPV4;
		ap_mbuf_priv(m)->pi.l4_dport = fcases[i].dport;
		feed[0] = m;
		n_feed = 1;
		feed_edge = 0;
		n_seen = 0;
		rte_graph_walk(graph);
		cr_assert_eq(n_seen, 1);
		cr_expect_eq(seen[0].s, fcases[i].sink, "port %u: sink %d", fcases[i].dport,
			     seen[0].s);
		if (fcases[i].sink == SINK_DROP)
			cr_expect_eq(ap_mbuf_priv(m)->drop_reason, AP_DROP_FW_DROP);
		if (fcases[i].sink == SINK_PUNT)
			cr_expect_eq(ap_mbuf_priv(m)->punt, AP_PUNT_REJECT);
		rte_pktmbuf_free(m);
	}
	ap_fw_stop();
}

/* With QoS on, what is forwarded goes to qos with its next hop, rewritten for
 * its egress; traffic to the router and punted traffic do not. */
Test(ip_nodes, forwarded_packets_go_through_qos)
{
	static const struct {
		struct frame_spec f;
		enum sink sink;
	} qcases[] = {
		{{4, "10.0.0.2", "10.0.1.9", 64, 32}, SINK_QOS},
		{{6, "fd00::2", "fd01::9", 64, 32}, SINK_QOS},
		{{4, "10.0.0.2", "10.0.0.1", 64, 32}, SINK_LOCAL4},
		{{4, "10.0.0.2", "10.0.2.9", 64, 32}, SINK_PUNT},
	};

	ap_qos.enabled = true;
	for (unsigned i = 0; i < RTE_DIM(qcases); i++) {
		struct rte_mbuf *m = build(&qcases[i].f);

		feed[0] = m;
		n_feed = 1;
		feed_edge = qcases[i].f.family == 4 ? 0 : 1;
		n_seen = 0;
		rte_graph_walk(graph);
		cr_assert_eq(n_seen, 1, "case %u: seen %u times", i, n_seen);
		cr_expect_eq(seen[0].s, qcases[i].sink, "case %u: sink %d", i, seen[0].s);
		if (qcases[i].sink == SINK_QOS) {
			cr_expect_eq(ap_mbuf_priv(m)->nh,
				     qcases[i].f.family == 4 ? NH_GW4 : NH_GW6);
			cr_expect_eq(memcmp(rte_pktmbuf_mtod(m, const uint8_t *), MAC_GW, 6), 0);
		}
		rte_pktmbuf_free(m);
	}
	ap_qos.enabled = false;
}

/* A burst with every kind at once is split per packet, none lost. */
Test(ip_nodes, mixed_burst)
{
	unsigned counts[SINK_BRIDGE + 1] = {0}, want[SINK_BRIDGE + 1] = {0};
	unsigned n = RTE_MIN(RTE_DIM(cases), (size_t)MAX_PKTS);

	/* IPv4 cases only: one source edge per burst. */
	n_feed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (cases[i].f.family != 4)
			continue;
		feed[n_feed++] = build(&cases[i].f);
		want[cases[i].sink]++;
	}
	feed_edge = 0;
	n_seen = 0;
	rte_graph_walk(graph);
	for (unsigned i = 0; i < n_seen; i++) {
		counts[seen[i].s]++;
		rte_pktmbuf_free(seen[i].m);
	}
	for (unsigned s = 0; s <= SINK_BRIDGE; s++)
		cr_expect_eq(counts[s], want[s], "sink %u: %u packets, want %u", s, counts[s],
			     want[s]);
}

/* One IPv4 frame through the graph; it must come out once. */
static void
walk_one(const struct frame_spec *f)
{
	feed[0] = build(f);
	n_feed = 1;
	feed_edge = 0;
	n_seen = 0;
	rte_graph_walk(graph);
	cr_assert_eq(n_seen, 1);
}

/* Out of a VLAN interface the frame carries its 802.1Q tag, whatever came
 * in; out of a bridge interface it goes to the bridge, untagged, as the
 * interface's member. */
Test(ip_nodes, vlan_and_bridge_interfaces)
{
	static const uint8_t tag7[4] = {0x81, 0x00, 0x00, 0x07};
	struct frame_spec f = {4, "10.0.0.2", "10.0.7.9", 64, 32};
	const uint8_t *p;

	for (int tagged = 0; tagged < 2; tagged++) {
		f.vlan = tagged;
		walk_one(&f);
		cr_assert_eq(seen[0].s, SINK_TX);
		p = rte_pktmbuf_mtod(seen[0].m, const uint8_t *);
		cr_assert_eq(memcmp(p, MAC_GW, 6), 0);
		cr_assert_eq(memcmp(p + 6, MAC_WAN, 6), 0);
		cr_assert_eq(memcmp(p + 12, tag7, 4), 0, "802.1Q tag of VLAN 7");
		cr_assert_eq(p[16], 0x08);
		cr_assert_eq(p[17], 0x00);
		cr_assert_eq(p[18], 0x45, "IPv4 header right after the tag");
		cr_assert_eq(rte_pktmbuf_pkt_len(seen[0].m), 18u + 20 + 8 + 32);
		rte_pktmbuf_free(seen[0].m);
	}
	f = (struct frame_spec){4, "10.0.0.2", "10.0.8.9", 64, 32, .vlan = true};
	walk_one(&f);
	cr_assert_eq(seen[0].s, SINK_BRIDGE);
	cr_assert_eq(ap_mbuf_priv(seen[0].m)->l2_in, 9, "enters the bridge as the BVI's member");
	p = rte_pktmbuf_mtod(seen[0].m, const uint8_t *);
	cr_assert_eq(memcmp(p, MAC_GW2, 6), 0);
	cr_assert_eq(memcmp(p + 6, MAC_LAN, 6), 0);
	cr_assert_eq(p[12], 0x08, "untagged");
	rte_pktmbuf_free(seen[0].m);
}

/* ECMP: one flow always takes one member; many flows use both. */
Test(ip_nodes, ecmp_spreads_flows_and_keeps_each_on_one_path)
{
	unsigned per_member[2] = {0};

	for (uint16_t flow = 0; flow < 32; flow++) {
		int first = -1;

		for (int rep = 0; rep < 2; rep++) {
			struct frame_spec f = {4,  "10.0.0.2", "10.0.9.9",
					       64, 32,	       .sport = (uint16_t)(1000 + flow)};
			const uint8_t *p;
			int which;

			walk_one(&f);
			cr_assert_eq(seen[0].s, SINK_TX);
			p = rte_pktmbuf_mtod(seen[0].m, const uint8_t *);
			which = memcmp(p, MAC_GW, 6) == 0 ? 0 : memcmp(p, MAC_GW2, 6) == 0 ? 1 : -1;
			cr_assert_neq(which, -1, "flow %u went to an unknown MAC", flow);
			if (first < 0)
				first = which;
			cr_expect_eq(which, first, "flow %u changed path", flow);
			per_member[which]++;
			rte_pktmbuf_free(seen[0].m);
		}
	}
	cr_expect_gt(per_member[0], 8, "member 0 got %u of 64", per_member[0]);
	cr_expect_gt(per_member[1], 8, "member 1 got %u of 64", per_member[1]);
}
