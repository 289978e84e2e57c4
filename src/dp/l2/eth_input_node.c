/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth-input: parses each frame's Ethernet header and VLAN tags (down to L4
 * when the port asks for full validation) into the mbuf private area, drops
 * malformed frames with the parser's reason, and sends the rest to the
 * service of its port and tags: the port's routed interface (untagged), a
 * VLAN interface, a bridge member, or the port's cross-connect.
 *
 * Uses: mbuf port, data; ap_ports_fast[port], ap_l2_binds, ap_l3_ifs.
 * Sets: ap_mbuf_priv.pi, l3 or l2_in, drop_reason on drops.
 * Next edges: drop, xconnect, ip4-input, ip6-input, punt (ARP), l2-bridge, ct
 * (routed IP when connection tracking is on).
 */
#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/ip/ip.h"
#include "dp/l2/l2.h"

enum eth_input_edge {
	ETH_INPUT_EDGE_DROP,
	ETH_INPUT_EDGE_XCONNECT,
	ETH_INPUT_EDGE_IP4,
	ETH_INPUT_EDGE_IP6,
	ETH_INPUT_EDGE_PUNT,
	ETH_INPUT_EDGE_BRIDGE,
	ETH_INPUT_EDGE_CT,
	ETH_INPUT_EDGE_COUNT,
};

static const rte_edge_t l3_edge[2][4] = {
	{
		[AP_L3C_DROP] = ETH_INPUT_EDGE_DROP,
		[AP_L3C_IP4] = ETH_INPUT_EDGE_IP4,
		[AP_L3C_IP6] = ETH_INPUT_EDGE_IP6,
		[AP_L3C_ARP] = ETH_INPUT_EDGE_PUNT,
	},
	/* With connection tracking, IP goes through it first. */
	{
		[AP_L3C_DROP] = ETH_INPUT_EDGE_DROP,
		[AP_L3C_IP4] = ETH_INPUT_EDGE_CT,
		[AP_L3C_IP6] = ETH_INPUT_EDGE_CT,
		[AP_L3C_ARP] = ETH_INPUT_EDGE_PUNT,
	},
};

static __rte_always_inline rte_edge_t
eth_input_l3(struct ap_mbuf_priv *pv, const uint8_t *p, uint16_t l3)
{
	pv->l3 = l3;
	return l3_edge[ap_ct_conf.enabled][ap_l3_classify(pv, p, ap_l3_ifs[l3].mac)];
}

/* Ports with bridges or VLAN interfaces: the tags pick the binding. */
static __rte_always_inline rte_edge_t
eth_input_bind(struct ap_mbuf_priv *pv, const uint8_t *p, const struct ap_port_fast *pf)
{
	const struct ap_l2_bind *b;
	uint16_t id = pf->untagged;

	if (pv->pi.n_vlan) {
		id = pf->vlans ? pf->vlans[pv->pi.vlan[0] & 0xfff] : 0;
		if (ap_l2_binds[id].kind == AP_BIND_QINQ)
			id = pv->pi.n_vlan > 1 ? ap_l2_binds[id].inner[pv->pi.vlan[1] & 0xfff] : 0;
	}
	b = &ap_l2_binds[id];
	switch (b->kind) {
	case AP_BIND_BRIDGE:
		/* Tags beyond the member's are payload to the bridge. */
		pv->l2_in = b->id;
		return ETH_INPUT_EDGE_BRIDGE;
	case AP_BIND_L3:
		if (likely(pv->pi.n_vlan == b->n_tags))
			return eth_input_l3(pv, p, b->id);
		break;
	default:
		break;
	}
	pv->drop_reason = AP_DROP_VLAN_UNKNOWN;
	return ETH_INPUT_EDGE_DROP;
}

#define FULL_PARSE (AP_PARSE_L3 | AP_PARSE_L4 | AP_PARSE_IP4_CSUM)

static __rte_always_inline rte_edge_t
eth_input_one(struct rte_mbuf *m)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ap_port_fast *pf = &ap_ports_fast[m->port];
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	enum ap_pkt_err e;

	/* A tag the driver took off (af_packet gets it from the kernel apart
	 * from the frame) goes back in: bridges and VLAN interfaces match it. */
	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) && rte_mbuf_refcnt_read(m) == 1 &&
	    rte_vlan_insert(&m) == 0) {
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
		p = rte_pktmbuf_mtod(m, const uint8_t *);
	}
	/* Headers are parsed in the first segment only: PMDs put at least the
	 * first 2 KiB there, far more than any header chain we accept. */
	if (unlikely(pf->validate_full))
		e = ap_pkt_parse(p, rte_pktmbuf_data_len(m), FULL_PARSE, &pv->pi);
	else
		e = ap_pkt_parse_l2(p, rte_pktmbuf_data_len(m), &pv->pi);
	if (unlikely(e != AP_PKT_OK)) {
		pv->drop_reason = (uint16_t)e;
		return ETH_INPUT_EDGE_DROP;
	}
	pv->reinjected = 0;
	pv->ct = 0;
	pv->fw_done = 0;
	pv->snat = 0;
	if (pf->l3 && likely(pv->pi.n_vlan == 0))
		return eth_input_l3(pv, p, m->port);
	if (pf->l2)
		return eth_input_bind(pv, p, pf);
	if (unlikely(pf->l3)) {
		pv->drop_reason = AP_DROP_VLAN_UNKNOWN;
		return ETH_INPUT_EDGE_DROP;
	}
	if (unlikely(!pf->has_xconnect)) {
		pv->drop_reason = AP_DROP_NO_SERVICE;
		return ETH_INPUT_EDGE_DROP;
	}
	return ETH_INPUT_EDGE_XCONNECT;
}

static uint16_t
eth_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	rte_edge_t nexts[AP_NODE_CHUNK];

	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t i = 0, n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)AP_NODE_CHUNK);

		for (; i + 8 <= n; i += 4) {
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 5], void *));
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 6], void *));
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 7], void *));
			nexts[i] = eth_input_one(pkts[i]);
			nexts[i + 1] = eth_input_one(pkts[i + 1]);
			nexts[i + 2] = eth_input_one(pkts[i + 2]);
			nexts[i + 3] = eth_input_one(pkts[i + 3]);
		}
		for (; i < n; i++)
			nexts[i] = eth_input_one(pkts[i]);
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

struct rte_node_register ap_eth_input_node = {
	.name = "eth-input",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = eth_input_process,
	.nb_edges = ETH_INPUT_EDGE_COUNT,
	.next_nodes =
		{
			[ETH_INPUT_EDGE_DROP] = "drop",
			[ETH_INPUT_EDGE_XCONNECT] = "xconnect",
			[ETH_INPUT_EDGE_IP4] = "ip4-input",
			[ETH_INPUT_EDGE_IP6] = "ip6-input",
			[ETH_INPUT_EDGE_PUNT] = "punt",
			[ETH_INPUT_EDGE_BRIDGE] = "l2-bridge",
			[ETH_INPUT_EDGE_CT] = "ct",
		},
};
