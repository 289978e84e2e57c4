/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth-input: parses each frame's Ethernet header and VLAN tags (down to L4
 * when the port asks for full validation) into the mbuf private area, drops
 * malformed frames with the parser's reason, and sends the rest to the
 * port's L2 service.
 *
 * Uses: mbuf port, data; ap_ports_fast[port].
 * Sets: ap_mbuf_priv.pi, drop_reason on drops.
 * Next edges: drop, xconnect, ip4-input, ip6-input, punt (ARP).
 */
#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/l2/l2.h"

enum eth_input_edge {
	ETH_INPUT_EDGE_DROP,
	ETH_INPUT_EDGE_XCONNECT,
	ETH_INPUT_EDGE_IP4,
	ETH_INPUT_EDGE_IP6,
	ETH_INPUT_EDGE_PUNT,
	ETH_INPUT_EDGE_COUNT,
};

/* A routed port takes frames for its MAC, broadcast and multicast (ARP, ND),
 * untagged, and hands them on by ethertype. */
static __rte_always_inline rte_edge_t
eth_input_l3(struct rte_mbuf *m, struct ap_mbuf_priv *pv, const uint8_t *p)
{
	const struct ap_l3_port *lp = &ap_l3_ports[m->port];

	if (!(p[0] & 1) && memcmp(p, lp->mac, 6) != 0) {
		pv->drop_reason = AP_DROP_L2_NOT_FOR_US;
		return ETH_INPUT_EDGE_DROP;
	}
	if (unlikely(pv->pi.n_vlan)) {
		pv->drop_reason = AP_DROP_L3_VLAN;
		return ETH_INPUT_EDGE_DROP;
	}
	switch (pv->pi.l3) {
	case AP_L3_IPV4:
		return ETH_INPUT_EDGE_IP4;
	case AP_L3_IPV6:
		return ETH_INPUT_EDGE_IP6;
	case AP_L3_ARP:
		pv->punt = AP_PUNT_ARP;
		return ETH_INPUT_EDGE_PUNT;
	default:
		pv->drop_reason = AP_DROP_L3_ETHERTYPE;
		return ETH_INPUT_EDGE_DROP;
	}
}

#define FULL_PARSE (AP_PARSE_L3 | AP_PARSE_L4 | AP_PARSE_IP4_CSUM)

static __rte_always_inline rte_edge_t
eth_input_one(struct rte_mbuf *m)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ap_port_fast *pf = &ap_ports_fast[m->port];
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	enum ap_pkt_err e;

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
	if (pf->l3)
		return eth_input_l3(m, pv, p);
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
		},
};
