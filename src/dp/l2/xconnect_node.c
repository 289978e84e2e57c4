/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xconnect: L2 cross-connect, as VPP's l2-output xconnect: every frame from
 * port A leaves on port B unchanged and vice versa.
 *
 * Uses: mbuf port; ap_ports_fast[port].xc_edge.
 * Next edges: drop, then one port-tx clone per port (added at graph build).
 */
#include "dp/core/dp_core.h"
#include "dp/l2/l2.h"

static uint16_t
xconnect_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	rte_edge_t nexts[AP_NODE_CHUNK];

	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)AP_NODE_CHUNK);

		for (uint16_t i = 0; i < n; i++)
			nexts[i] = ap_ports_fast[pkts[i]->port].xc_edge;
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

struct rte_node_register ap_xconnect_node = {
	.name = "xconnect",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = xconnect_process,
	.nb_edges = 1,
	.next_nodes =
		{
			"drop",
		},
};
