/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct: connection tracking of routed IPv4 and IPv6 packets before routing,
 * where netfilter's PREROUTING conntrack sits. Parses to L4, tracks the
 * packet in the worker's table, records what conntrack says of it for the
 * firewall, and hands it to ip4-input or ip6-input (which also drop what is
 * malformed). Drops: a new flow with the table full; invalid packets when
 * configured so.
 *
 * Uses: ap_mbuf_priv.pi (l3); ap_ct_tables[worker], ap_ct_conf.
 * Sets: pi (full parse), ct. Next edges: drop, ip4-input, ip6-input.
 */
#include <rte_cycles.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"

enum ct_edge {
	CT_EDGE_DROP,
	CT_EDGE_IP4,
	CT_EDGE_IP6,
	CT_EDGE_COUNT,
};

#define CT_GC_PER_CALL 8

struct ct_ctx {
	struct ap_ct_table *t;
};

static int
ct_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct ct_ctx *c = (struct ct_ctx *)node->ctx;

	RTE_SET_USED(graph);
	RTE_BUILD_BUG_ON(sizeof(struct ct_ctx) > RTE_NODE_CTX_SZ);
	c->t = ap_worker_building ? ap_ct_tables[ap_worker_building->index] : NULL;
	return 0;
}

static __rte_always_inline rte_edge_t
ct_one(struct ap_ct_table *t, struct rte_mbuf *m, uint32_t now)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	rte_edge_t out = pv->pi.l3 == AP_L3_IPV6 ? CT_EDGE_IP6 : CT_EDGE_IP4;
	enum ap_ct_info info;

	pv->ct = AP_CT_UNTRACKED;
	/* Malformed packets are ip*-input's to drop, with its reasons. */
	if (t == NULL ||
	    ap_pkt_parse(p, rte_pktmbuf_data_len(m), AP_PARSE_L3 | AP_PARSE_L4, &pv->pi) !=
		    AP_PKT_OK ||
	    (pv->pi.frag & AP_PKT_FRAG_LATER))
		return out;
	info = ap_ct_track(t, p + pv->pi.l3_off, &pv->pi, rte_pktmbuf_pkt_len(m), now);
	pv->ct = (uint8_t)info;
	if (unlikely(info == AP_CT_FULL)) {
		pv->drop_reason = AP_DROP_CT_FULL;
		return CT_EDGE_DROP;
	}
	if (unlikely(info == AP_CT_INVALID) && ap_ct_conf.drop_invalid) {
		pv->drop_reason = AP_DROP_CT_INVALID;
		return CT_EDGE_DROP;
	}
	return out;
}

static uint16_t
ct_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_ct_table *t = ((struct ct_ctx *)node->ctx)->t;
	uint32_t now = (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT);
	rte_edge_t nexts[AP_NODE_CHUNK];

	if (t != NULL)
		ap_ct_gc(t, now, CT_GC_PER_CALL);
	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)AP_NODE_CHUNK);

		for (uint16_t i = 0; i < n; i++)
			nexts[i] = ct_one(t, pkts[i], now);
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

struct rte_node_register ap_ct_node = {
	.name = "ct",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ct_process,
	.init = ct_init,
	.nb_edges = CT_EDGE_COUNT,
	.next_nodes =
		{
			[CT_EDGE_DROP] = "drop",
			[CT_EDGE_IP4] = "ip4-input",
			[CT_EDGE_IP6] = "ip6-input",
		},
};
