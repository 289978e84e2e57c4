/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Edge decisions of eth-input, xconnect and l2-bridge, on a real rte_graph
 * fed by a test source node: each case builds frames, walks the graph once,
 * and checks which sink every packet reached and with what drop reason. The
 * bridge's tables come from the L2 control plane (ap_l2_start on a config),
 * which also learns from the node's reports (ap_l2_poll).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "dp/core/eal_test.h"
#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/ct/ct.h"
#include "dp/l2/l2.h"

#define MAX_PKTS 64

static struct rte_mempool *pool;
static struct rte_mbuf *feed[MAX_PKTS];
static uint16_t n_feed;

/* Where each packet ended: sink id per mbuf. */
enum sink { SINK_NONE, SINK_DROP, SINK_TX_A, SINK_TX_B, SINK_IP4, SINK_IP6, SINK_PUNT };
static struct {
	struct rte_mbuf *m;
	enum sink s;
	uint16_t reason;
} seen[MAX_PKTS];
static unsigned n_seen;

static uint16_t
src_process(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	void **to;

	RTE_SET_USED(objs);
	RTE_SET_USED(n);
	if (!n_feed)
		return 0;
	to = rte_node_next_stream_get(g, node, 0, n_feed);
	memcpy(to, feed, n_feed * sizeof(feed[0]));
	rte_node_next_stream_put(g, node, 0, n_feed);
	n = n_feed;
	n_feed = 0;
	return n;
}

static uint16_t
record(void **objs, uint16_t n, enum sink s)
{
	for (uint16_t i = 0; i < n && n_seen < MAX_PKTS; i++) {
		struct rte_mbuf *m = objs[i];

		seen[n_seen].m = m;
		seen[n_seen].s = s;
		seen[n_seen].reason = ap_mbuf_priv(m)->drop_reason;
		n_seen++;
	}
	return n;
}

static uint16_t
drop_sink(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(g);
	RTE_SET_USED(node);
	return record(objs, n, SINK_DROP);
}

static uint16_t
tx_a_sink(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(g);
	RTE_SET_USED(node);
	return record(objs, n, SINK_TX_A);
}

static uint16_t
tx_b_sink(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(g);
	RTE_SET_USED(node);
	return record(objs, n, SINK_TX_B);
}

static uint16_t
ip4_sink(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(g);
	RTE_SET_USED(node);
	return record(objs, n, SINK_IP4);
}

static uint16_t
ip6_sink(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(g);
	RTE_SET_USED(node);
	return record(objs, n, SINK_IP6);
}

static uint16_t
punt_sink(struct rte_graph *g, struct rte_node *node, void **objs, uint16_t n)
{
	RTE_SET_USED(g);
	RTE_SET_USED(node);
	return record(objs, n, SINK_PUNT);
}

/* Stand-ins for the IP nodes eth-input leads to. */
static struct rte_node_register ip4_node = {
	.name = "ip4-input",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip4_sink,
};
static struct rte_node_register ip6_node = {
	.name = "ip6-input",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip6_sink,
};
/* The ct node's edges for the SYN proxy's own segments. */
static struct rte_node_register local4_node = {
	.name = "ip4-local",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip4_sink,
};
static struct rte_node_register local6_node = {
	.name = "ip6-local",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip6_sink,
};
static struct rte_node_register punt_node = {
	.name = "punt",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = punt_sink,
};

static struct rte_node_register src_node = {
	.name = "test-src",
	.flags = RTE_NODE_SOURCE_F,
	.parent_id = RTE_NODE_ID_INVALID,
	.process = src_process,
	.nb_edges = 1,
	.next_nodes = {"eth-input"},
};
static struct rte_node_register drop_node = {
	.name = "drop",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = drop_sink,
};
static struct rte_node_register tx_a_node = {
	.name = "tx-a",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = tx_a_sink,
};
static struct rte_node_register tx_b_node = {
	.name = "tx-b",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = tx_b_sink,
};

static struct rte_graph *graph;

/* Bridge b: port 6 untagged (access), port 5 VLAN 10 (trunk), and its
 * interface; a static MAC on the trunk. Ports 5 and 6 send to tx-b and tx-a. */
#define BR_TRUNK  5
#define BR_ACCESS 6
#define WIRE	  7
static const uint8_t MAC_STATIC[6] = {2, 0, 0, 0, 0x0b, 1};
static uint8_t mac_bvi[6];
static struct ap_config br_cfg;

static void
bridge_setup(void)
{
	static const char yaml[] =
		"ports:\n"
		"  - {name: trk, driver: null}\n"
		"  - {name: acc, driver: null}\n"
		"dataplane: {mac_table_size: 1024}\n"
		"bridges:\n"
		"  - name: b\n"
		"    members: [{port: acc}, {port: trk, vlan: 10}]\n"
		"    static_macs: [{mac: '02:00:00:00:0b:01', port: trk, vlan: 10}]\n"
		"interfaces:\n"
		"  - {name: b, bridge: b, addresses: [10.9.0.1/24]}\n";
	const uint16_t port_ids[] = {BR_TRUNK, BR_ACCESS};
	uint16_t tx[RTE_MAX_ETHPORTS] = {0};
	rte_node_t br = rte_node_from_name("l2-bridge");
	const char *a = "tx-a", *b = "tx-b";
	char err[AP_CFG_ERR_MAX];

	cr_assert_eq(ap_config_load_buf("t", yaml, sizeof(yaml) - 1, &br_cfg, err), 0, "%s", err);
	tx[BR_ACCESS] = rte_node_edge_count(br);
	cr_assert_eq(rte_node_edge_update(br, tx[BR_ACCESS], &a, 1), 1);
	tx[BR_TRUNK] = rte_node_edge_count(br);
	cr_assert_eq(rte_node_edge_update(br, tx[BR_TRUNK], &b, 1), 1);
	ap_ports_fast[BR_TRUNK] = (struct ap_port_fast){.configured = 1};
	ap_ports_fast[BR_ACCESS] = (struct ap_port_fast){.configured = 1};
	cr_assert_eq(ap_l2_start(&br_cfg, port_ids, tx, err, sizeof(err)), 0, "%s", err);
	ap_l2_bvi_mac(0, mac_bvi);
	ap_l3_ifs[AP_L3_VIRT(0)].enabled = 1;
	memcpy(ap_l3_ifs[AP_L3_VIRT(0)].mac, mac_bvi, 6);
}

/* Ports 0 and 1 cross-connected; port 2 configured without a service;
 * port 3 cross-connected to itself with full validation; port 7 a wire
 * (validate: none) cross-connected to port 1. */
static void
setup(void)
{
	const char *patterns[] = {"test-src",  "eth-input", "xconnect", "drop",	     "tx-a", "tx-b",
				  "ip4-input", "ip6-input", "punt",	"l2-bridge", "ct"};
	struct rte_graph_param gp = {
		.socket_id = 0, .nb_node_patterns = RTE_DIM(patterns), .node_patterns = patterns};
	const char *a = "tx-a", *b = "tx-b";
	rte_node_t xc;
	rte_edge_t ea, eb;

	cr_assert_geq(ap_test_eal_init("l2_nodes_test", "64"), 0, "EAL init failed");
	pool = rte_pktmbuf_pool_create("test", 1023, 0,
				       RTE_ALIGN(sizeof(struct ap_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	cr_assert_not_null(pool);
	cr_assert_neq(__rte_node_register(&src_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ap_eth_input_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ap_xconnect_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&drop_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&tx_a_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&tx_b_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ip4_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ip6_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&punt_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ap_l2_bridge_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&local4_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&local6_node), RTE_NODE_ID_INVALID);
	cr_assert_neq(__rte_node_register(&ap_ct_node), RTE_NODE_ID_INVALID);
	xc = rte_node_from_name("xconnect");
	ea = rte_node_edge_count(xc);
	cr_assert_eq(rte_node_edge_update(xc, ea, &a, 1), 1);
	eb = rte_node_edge_count(xc);
	cr_assert_eq(rte_node_edge_update(xc, eb, &b, 1), 1);

	ap_ports_fast[0] = (struct ap_port_fast){
		.configured = 1, .has_xconnect = 1, .xc_peer = 1, .xc_edge = eb};
	ap_ports_fast[1] = (struct ap_port_fast){
		.configured = 1, .has_xconnect = 1, .xc_peer = 0, .xc_edge = ea};
	ap_ports_fast[2] = (struct ap_port_fast){.configured = 1};
	ap_ports_fast[3] = (struct ap_port_fast){.configured = 1,
						 .validate_full = 1,
						 .has_xconnect = 1,
						 .xc_peer = 3,
						 .xc_edge = ea};
	ap_ports_fast[WIRE] = (struct ap_port_fast){.configured = 1,
						    .validate_none = 1,
						    .has_xconnect = 1,
						    .xc_peer = 1,
						    .xc_edge = eb};
	/* Port 4 is routed, with MAC 02:00:00:00:00:02. */
	ap_ports_fast[4] = (struct ap_port_fast){.configured = 1, .l3 = 1};
	ap_l3_ifs[4].enabled = 1;
	memcpy(ap_l3_ifs[4].mac, (uint8_t[6]){2, 0, 0, 0, 0, 2}, 6);
	bridge_setup();
	cr_assert_neq(rte_graph_create("test", &gp), RTE_GRAPH_ID_INVALID);
	graph = rte_graph_lookup("test");
	cr_assert_not_null(graph);
}

static void
teardown(void)
{
	ap_l2_stop();
	ap_eal_cleanup();
}

TestSuite(l2_nodes, .init = setup, .fini = teardown);

static struct rte_mbuf *
frame(uint16_t port, const uint8_t *bytes, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	cr_assert_not_null(m);
	memcpy(rte_pktmbuf_append(m, len), bytes, len);
	m->port = port;
	ap_mbuf_priv(m)->drop_reason = AP_DROP_NONE;
	return m;
}

/* Ethernet + IPv4 header (20 bytes, valid checksum) + UDP 8 bytes. */
static const uint8_t udp4[] = {
	0x02, 0,    0,	  0,	0,    2,    0x02, 0,	0,    0,    0,	  1,	0x08, 0x00,
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xce, 0x0a, 0x00,
	0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x04, 0xd2, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};

static void
walk(void)
{
	n_seen = 0;
	rte_graph_walk(graph);
}

static const struct {
	const char *what;
	uint16_t port;
	uint16_t len; /* 0: whole udp4 */
	int corrupt;  /* byte index to overwrite, -1 none */
	uint8_t value;
	enum sink sink;
	uint16_t reason;
	uint16_t ethertype; /* 0: keep IPv4 */
} cases[] = {
	{"port 0 to its peer", 0, 0, -1, 0, SINK_TX_B, AP_DROP_NONE},
	{"port 1 to its peer", 1, 0, -1, 0, SINK_TX_A, AP_DROP_NONE},
	{"runt frame", 0, 13, -1, 0, SINK_DROP, AP_DROP_PKT_ETH_RUNT},
	{"empty frame", 1, 0xffff, -1, 0, SINK_DROP, AP_DROP_PKT_ETH_RUNT},
	{"truncated VLAN tag", 0, 16, 12, 0x81, SINK_DROP, AP_DROP_PKT_VLAN_TRUNC},
	{"port without service", 2, 0, -1, 0, SINK_DROP, AP_DROP_NO_SERVICE},
	{"bad IPv4 passes an L2 port", 0, 0, 14, 0x41, SINK_TX_B, AP_DROP_NONE},
	{"bad IPv4 ihl on a validating port", 3, 0, 14, 0x41, SINK_DROP, AP_DROP_PKT_IP4_IHL},
	{"bad IPv4 checksum on a validating port", 3, 0, 24, 0x00, SINK_DROP, AP_DROP_PKT_IP4_CSUM},
	{"valid frame on a validating port", 3, 0, -1, 0, SINK_TX_A, AP_DROP_NONE},
	{"IPv4 to our MAC on a routed port", 4, 0, -1, 0, SINK_IP4, AP_DROP_NONE},
	{"IPv6 to our MAC on a routed port", 4, 0, -1, 0, SINK_IP6, AP_DROP_NONE, 0x86dd},
	{"ARP on a routed port goes to the control plane", 4, 0, -1, 0, SINK_PUNT, AP_DROP_NONE,
	 0x0806},
	{"unicast to another MAC on a routed port", 4, 0, 5, 0x09, SINK_DROP,
	 AP_DROP_L2_NOT_FOR_US},
	{"group address on a routed port is taken", 4, 0, 0, 0xff, SINK_IP4, AP_DROP_NONE},
	{"other ethertype on a routed port", 4, 0, 12, 0x88, SINK_DROP, AP_DROP_L3_ETHERTYPE},
	{"tagged frame on an untagged routed port", 4, 0, 12, 0x81, SINK_DROP,
	 AP_DROP_VLAN_UNKNOWN},
	{"wire port to its peer", WIRE, 0, -1, 0, SINK_TX_B, AP_DROP_NONE},
	{"truncated VLAN tag passes a wire port", WIRE, 16, 12, 0x81, SINK_TX_B, AP_DROP_NONE},
	{"bad IPv4 passes a wire port", WIRE, 0, 14, 0x41, SINK_TX_B, AP_DROP_NONE},
	{"whole header alone passes a wire port", WIRE, 14, -1, 0, SINK_TX_B, AP_DROP_NONE},
	{"runt on a wire port", WIRE, 13, -1, 0, SINK_DROP, AP_DROP_PKT_ETH_RUNT},
	{"empty frame on a wire port", WIRE, 0xffff, -1, 0, SINK_DROP, AP_DROP_PKT_ETH_RUNT},
};

Test(l2_nodes, edges_one_by_one)
{
	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		uint8_t buf[sizeof(udp4)];
		uint16_t len = cases[i].len == 0 ? sizeof(udp4) : cases[i].len;

		if (cases[i].len == 0xffff)
			len = 0;
		memcpy(buf, udp4, sizeof(buf));
		if (cases[i].corrupt >= 0)
			buf[cases[i].corrupt] = cases[i].value;
		if (cases[i].ethertype) {
			buf[12] = (uint8_t)(cases[i].ethertype >> 8);
			buf[13] = (uint8_t)cases[i].ethertype;
		}
		feed[0] = frame(cases[i].port, buf, len);
		n_feed = 1;
		walk();
		cr_assert_eq(n_seen, 1, "%s: packet seen %u times", cases[i].what, n_seen);
		cr_expect_eq(seen[0].s, cases[i].sink, "%s: sink %d, want %d", cases[i].what,
			     seen[0].s, cases[i].sink);
		if (cases[i].sink == SINK_DROP)
			cr_expect_eq(seen[0].reason, cases[i].reason, "%s: reason %s, want %s",
				     cases[i].what, ap_drop_name(seen[0].reason),
				     ap_drop_name(cases[i].reason));
		rte_pktmbuf_free(seen[0].m);
	}
}

/* A mixed burst is split per packet, in order within each edge. */
Test(l2_nodes, mixed_burst)
{
	unsigned want_b = 0, got_b = 0;

	for (unsigned i = 0; i < 40; i++) {
		uint16_t port = (uint16_t)(i % 3);

		feed[i] = frame(port, udp4, i % 7 == 6 ? 10 : sizeof(udp4));
		if (port == 0 && i % 7 != 6)
			want_b++;
	}
	n_feed = 40;
	walk();
	cr_assert_eq(n_seen, 40);
	for (unsigned i = 0; i < n_seen; i++) {
		if (seen[i].s == SINK_TX_B)
			got_b++;
		rte_pktmbuf_free(seen[i].m);
	}
	cr_expect_eq(got_b, want_b);
}

/* A uniform burst is handed over whole and arrives in order. */
Test(l2_nodes, uniform_burst_in_order)
{
	for (unsigned i = 0; i < 32; i++)
		feed[i] = frame(1, udp4, sizeof(udp4));
	n_feed = 32;
	walk();
	cr_assert_eq(n_seen, 32);
	for (unsigned i = 0; i < 32; i++) {
		cr_expect_eq(seen[i].s, SINK_TX_A);
		cr_expect_eq(seen[i].m, feed[i]);
		rte_pktmbuf_free(seen[i].m);
	}
}

/* Ethernet (dst, src), an optional 802.1Q tag, then IPv4/UDP as udp4. */
static struct rte_mbuf *
bridged(uint16_t port, const uint8_t *dst, const uint8_t *src, uint16_t vlan)
{
	uint8_t buf[sizeof(udp4) + 4];
	uint16_t off = 12;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (vlan) {
		buf[12] = 0x81, buf[13] = 0, buf[14] = (uint8_t)(vlan >> 8),
		buf[15] = (uint8_t)vlan;
		off = 16;
	}
	memcpy(buf + off, udp4 + 12, sizeof(udp4) - 12);
	return frame(port, buf, (uint16_t)(off + sizeof(udp4) - 12));
}

static unsigned
count(enum sink s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_seen; i++)
		n += seen[i].s == s;
	return n;
}

static const struct rte_mbuf *
first(enum sink s)
{
	for (unsigned i = 0; i < n_seen; i++)
		if (seen[i].s == s)
			return seen[i].m;
	return NULL;
}

static void
free_seen(void)
{
	for (unsigned i = 0; i < n_seen; i++)
		rte_pktmbuf_free(seen[i].m);
}

static void
one(struct rte_mbuf *m)
{
	feed[0] = m;
	n_feed = 1;
	walk();
}

/* A wire port's burst with runts in it: the runts drop, the rest leaves in
 * order; without them the burst leaves whole, in order. */
Test(l2_nodes, wire_bursts)
{
	for (unsigned round = 0; round < 2; round++) {
		struct rte_mbuf *want[32];
		unsigned n_want = 0, k = 0, runts = 0;

		for (unsigned i = 0; i < 32; i++) {
			bool runt = round == 0 && i % 5 == 4;

			feed[i] = frame(WIRE, udp4, runt ? 9 : sizeof(udp4));
			if (!runt)
				want[n_want++] = feed[i];
		}
		n_feed = 32;
		walk();
		cr_assert_eq(n_seen, 32);
		for (unsigned j = 0; j < n_seen; j++) {
			if (seen[j].s == SINK_DROP) {
				cr_expect_lt(rte_pktmbuf_data_len(seen[j].m), RTE_ETHER_HDR_LEN);
				cr_expect_eq(seen[j].reason, AP_DROP_PKT_ETH_RUNT);
				runts++;
				continue;
			}
			cr_expect_eq(seen[j].s, SINK_TX_B, "round %u: sink %d", round, seen[j].s);
			cr_assert_lt(k, n_want);
			cr_expect_eq(seen[j].m, want[k], "round %u: frame %u out of order", round,
				     k);
			k++;
		}
		cr_expect_eq(k, n_want);
		cr_expect_eq(runts, 32 - n_want);
		free_seen();
	}
}

/* A tag the driver took off a wire port's frame goes back in. */
Test(l2_nodes, wire_puts_a_stripped_tag_back)
{
	struct rte_mbuf *m = frame(WIRE, udp4, sizeof(udp4));
	const uint8_t *p;

	m->ol_flags |= RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN;
	m->vlan_tci = 0x0123;
	one(m);
	cr_assert_eq(n_seen, 1);
	cr_assert_eq(seen[0].s, SINK_TX_B);
	p = rte_pktmbuf_mtod(seen[0].m, const uint8_t *);
	cr_assert_eq(rte_pktmbuf_data_len(seen[0].m), sizeof(udp4) + 4);
	cr_expect_eq(p[12], 0x81);
	cr_expect_eq(p[13], 0x00);
	cr_expect_eq(p[14], 0x01);
	cr_expect_eq(p[15], 0x23);
	cr_expect_arr_eq(p + 16, udp4 + 12, sizeof(udp4) - 12);
	cr_expect_eq(seen[0].m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED, 0);
	free_seen();
}

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t HOST_A[6] = {2, 0, 0, 0, 0x0a, 1};
static const uint8_t HOST_T[6] = {2, 0, 0, 0, 0x0a, 2};

/* One frame through the graph: it must reach @p sink (and for drops, for
 * @p reason). */
static void
expect_one(const char *what, struct rte_mbuf *m, enum sink sink, uint16_t reason)
{
	one(m);
	cr_assert_eq(n_seen, 1, "%s: seen %u times", what, n_seen);
	cr_expect_eq(seen[0].s, sink, "%s: sink %d, want %d", what, seen[0].s, sink);
	if (sink == SINK_DROP)
		cr_expect_eq(seen[0].reason, reason, "%s: %s, want %s", what,
			     ap_drop_name(seen[0].reason), ap_drop_name(reason));
}

Test(l2_nodes, bridge_flood_learn_forward)
{
	const uint8_t *p;

	/* Broadcast from the trunk: to the access port untagged and to the BVI. */
	one(bridged(BR_TRUNK, BCAST, HOST_T, 10));
	cr_assert_eq(count(SINK_TX_A), 1, "flooded to the access port");
	cr_assert_eq(count(SINK_IP4), 1, "and to the bridge interface");
	cr_assert_eq(n_seen, 2, "not back to the trunk");
	p = rte_pktmbuf_mtod(first(SINK_TX_A), const uint8_t *);
	cr_assert(p[12] == 0x08 && p[13] == 0x00, "VLAN tag taken off");
	cr_assert_eq(rte_pktmbuf_pkt_len(first(SINK_TX_A)), sizeof(udp4));
	free_seen();

	/* Unknown unicast from the access port: to the trunk, tagged 10, not the BVI. */
	one(bridged(BR_ACCESS, HOST_T, HOST_A, 0));
	cr_assert_eq(n_seen, 1);
	cr_assert_eq(seen[0].s, SINK_TX_B);
	p = rte_pktmbuf_mtod(seen[0].m, const uint8_t *);
	cr_assert(p[12] == 0x81 && p[13] == 0x00 && p[14] == 0 && p[15] == 10, "tagged 10");
	cr_assert(p[16] == 0x08 && p[17] == 0x00);
	free_seen();

	/* The control plane learns both sources; unicast then goes one way. */
	ap_l2_poll();
	expect_one("to the learned member only", bridged(BR_TRUNK, HOST_A, HOST_T, 10), SINK_TX_A,
		   0);
	free_seen();
	expect_one("and back", bridged(BR_ACCESS, HOST_T, HOST_A, 0), SINK_TX_B, 0);
	free_seen();

	/* HOST_A moves to the trunk: learned there after the report. */
	one(bridged(BR_TRUNK, BCAST, HOST_A, 10));
	free_seen();
	ap_l2_poll();
	expect_one("moved to the trunk", bridged(BR_ACCESS, HOST_A, HOST_T, 0), SINK_TX_B, 0);
	free_seen();
	cr_assert_eq(ap_l2_flush("b"), 2, "two learned MACs flushed");
	cr_assert_eq(ap_l2_flush("nope"), -ENOENT);
}

Test(l2_nodes, bridge_edges)
{
	expect_one("to the bridge interface's MAC: routed", bridged(BR_ACCESS, mac_bvi, HOST_A, 0),
		   SINK_IP4, 0);
	cr_expect_eq(ap_mbuf_priv(seen[0].m)->l3, AP_L3_VIRT(0), "as interface b");
	free_seen();
	expect_one("to a static MAC on the member it came from",
		   bridged(BR_TRUNK, MAC_STATIC, HOST_T, 10), SINK_DROP, AP_DROP_L2_SAME_MEMBER);
	free_seen();
	expect_one("to a static MAC from elsewhere", bridged(BR_ACCESS, MAC_STATIC, HOST_A, 0),
		   SINK_TX_B, 0);
	free_seen();
	expect_one("a group source", bridged(BR_ACCESS, HOST_T, BCAST, 0), SINK_DROP,
		   AP_DROP_L2_SRC_GROUP);
	free_seen();
	expect_one("a VLAN the trunk does not carry", bridged(BR_TRUNK, HOST_A, HOST_T, 99),
		   SINK_DROP, AP_DROP_VLAN_UNKNOWN);
	free_seen();
	expect_one("untagged on the trunk", bridged(BR_TRUNK, HOST_A, HOST_T, 0), SINK_DROP,
		   AP_DROP_VLAN_UNKNOWN);
	free_seen();
}
