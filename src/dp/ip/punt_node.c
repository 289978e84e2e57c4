/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * punt: hands packets to the control plane through the punt ring (multi-
 * producer: every worker; single consumer: the main lcore). A full ring
 * drops, counted: the control plane is never waited for.
 * inject (source, worker 0 only): sends what the control plane built or
 * released, each packet on the port it names.
 *
 * Uses: ap_mbuf_priv.punt / tx_port.  Next edges: punt: drop; inject: drop,
 * then one port-tx per port.
 */
#include <rte_cycles.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/ip/ip.h"
#include "dp/ip/ip_priv.h"
#include "dp/l2/l2.h"

#define INJECT_BURST 32

uint16_t ap_inject_tx[AP_L3_MAX];
uint16_t ap_ip_inject_reinput[2];

static uint16_t
punt_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	unsigned sent;

	if (unlikely(ap_trace_active))
		for (uint16_t i = 0; i < nb_objs; i++)
			AP_TRACE((struct rte_mbuf *)objs[i], node, AP_TRACE_PUNT,
				 ap_mbuf_priv(objs[i])->punt);
	sent = rte_ring_enqueue_burst(ap_ip.punt, objs, nb_objs, NULL);

	if (unlikely(sent < nb_objs)) {
		for (uint16_t i = (uint16_t)sent; i < nb_objs; i++)
			ap_mark_drop(objs[i], AP_DROP_PUNT_FULL);
		rte_node_enqueue(graph, node, 0, &objs[sent], (uint16_t)(nb_objs - sent));
	}
	return nb_objs;
}

/* A frame for a VLAN or bridge interface: on with its tags, or into the
 * bridge as the interface's member. */
static rte_edge_t
inject_virtual(struct rte_mbuf *m, uint16_t l3)
{
	const struct ap_l3_if *lp = &ap_l3_ifs[l3];

	if (lp->bvi) {
		ap_mbuf_priv(m)->l2_in = lp->l2_member;
		return ap_inject_tx[l3];
	}
	if (!ap_l2_retag(m, 0, lp->tags, lp->n_tags)) {
		ap_mark_drop(m, AP_DROP_L2_NO_BUFFER);
		return 0;
	}
	return ap_inject_tx[l3];
}

/* What the appliance itself sends (its kernel, through the mirror) is
 * tracked as netfilter's OUTPUT conntrack does, so that the answers come
 * back as established (this worker's table: the one that sends). */
static void
inject_track(struct rte_mbuf *m)
{
	struct ap_ct_table *t = ap_ct_tables[0];
	struct ap_pkt_info pi;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct ap_ct_pkt cp;

	if (t == NULL ||
	    ap_pkt_parse(p, rte_pktmbuf_data_len(m), AP_PARSE_L3 | AP_PARSE_L4, &pi) != AP_PKT_OK ||
	    (pi.l3 != AP_L3_IPV4 && pi.l3 != AP_L3_IPV6) || (pi.frag & AP_PKT_FRAG_LATER))
		return;
	ap_ct_prepare(p + pi.l3_off, &pi, rte_pktmbuf_pkt_len(m) - pi.l3_off, &cp);
	cp.local = true;
	ap_ct_apply(t, &cp, -1, (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT));
}

static uint16_t
inject_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	void *burst[INJECT_BURST];
	unsigned n;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	n = rte_ring_dequeue_burst(ap_ip.inject, burst, INJECT_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = burst[i];
		uint16_t to = ap_mbuf_priv(m)->tx_port;
		rte_edge_t e;

		/* What the control plane sends or sends back was filtered already,
		 * or is the appliance's own. */
		ap_mbuf_priv(m)->fw_done = 1;
		ap_mbuf_priv(m)->ip4_checked = 0;

		if (to == INJECT_IP4_INPUT || to == INJECT_IP6_INPUT) {
			/* Routing reads the L2 part of the parse, as eth-input leaves it. */
			ap_pkt_parse_l2(rte_pktmbuf_mtod(m, const uint8_t *),
					rte_pktmbuf_data_len(m), &ap_mbuf_priv(m)->pi);
			e = ap_ip_inject_reinput[to == INJECT_IP4_INPUT ? 0 : 1];
		} else if (to < RTE_MAX_ETHPORTS) {
			if (unlikely(ap_ct_conf.enabled))
				inject_track(m);
			e = ap_inject_tx[to];
		} else if (to < AP_L3_MAX && ap_l3_ifs[to].enabled)
			e = inject_virtual(m, to);
		else
			e = 0;
		rte_node_enqueue_x1(graph, node, e, m);
	}
	return (uint16_t)n;
}

struct rte_node_register ap_punt_node = {
	.name = "punt",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = punt_process,
	.nb_edges = 1,
	.next_nodes = {"drop"},
};

struct rte_node_register ap_inject_node = {
	.name = "inject",
	.flags = RTE_NODE_SOURCE_F,
	.parent_id = RTE_NODE_ID_INVALID,
	.process = inject_process,
	.nb_edges = 2,
	.next_nodes = {"drop", "l2-bridge"}, /* AP_INJECT_EDGE_BRIDGE */
};
