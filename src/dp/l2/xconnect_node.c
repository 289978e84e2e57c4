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

/* Traced packets record their hand-over one by one. */
static __rte_noinline uint16_t
xconnect_traced(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
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

/* The end of the run of packets from @p port that goes on at @p i. */
static __rte_always_inline uint16_t
xconnect_run_end(struct rte_mbuf **pkts, uint16_t i, uint16_t n, uint16_t port)
{
	while (i < n && pkts[i]->port == port)
		i++;
	return i;
}

/*
 * Packets arrive in runs from one port (port-rx hands each RX queue's burst
 * over whole): each run goes to its peer at once, and a stream from one port
 * is handed over without a copy.
 */
static uint16_t
xconnect_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct rte_mbuf **pkts = (struct rte_mbuf **)objs;
	uint16_t start = 0, end, port;

	if (unlikely(ap_trace_active) || unlikely(nb_objs == 0))
		return xconnect_traced(graph, node, objs, nb_objs);
	port = pkts[0]->port;
	end = xconnect_run_end(pkts, 1, nb_objs, port);
	if (likely(end == nb_objs)) {
		rte_node_next_stream_move(graph, node, ap_ports_fast[port].xc_edge);
		return nb_objs;
	}
	for (;;) {
		rte_node_enqueue(graph, node, ap_ports_fast[port].xc_edge, &objs[start],
				 (uint16_t)(end - start));
		if (end == nb_objs)
			return nb_objs;
		start = end;
		port = pkts[start]->port;
		end = xconnect_run_end(pkts, (uint16_t)(start + 1), nb_objs, port);
	}
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
