/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port-tx-<port>: one clone per port. Sends its stream on the worker's own TX
 * queue of that port; what the queue does not take goes to drop as
 * tx-queue-full (no retry loop: a stalled peer must not stall the worker).
 *
 * Uses: node ctx (port, queue).  Sets: drop_reason on unsent packets.
 * Next edges: drop.
 */
#include "dp/core/capture.h"
#include "dp/core/nodes_priv.h"

enum port_tx_edge {
	PORT_TX_EDGE_DROP,
	PORT_TX_EDGE_COUNT,
};

uint16_t ap_tx_node_port[RTE_MAX_ETHPORTS * 2 + 64];

static uint16_t
port_tx_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	const struct ap_port_tx_ctx *ctx = (const struct ap_port_tx_ctx *)node->ctx;
	uint16_t sent;

	/* Recorded before the driver owns them; one that is not taken is then
	 * recorded again at drop. */
	if (unlikely(ap_trace_active))
		for (uint16_t i = 0; i < nb_objs; i++)
			AP_TRACE((struct rte_mbuf *)objs[i], node, AP_TRACE_TX, ctx->port);
	ap_capture_burst((struct rte_mbuf **)objs, nb_objs, ctx->port, ctx->queue, AP_CAPTURE_TX);
	sent = rte_eth_tx_burst(ctx->port, ctx->queue, (struct rte_mbuf **)objs, nb_objs);
	if (unlikely(sent < nb_objs)) {
		for (uint16_t i = sent; i < nb_objs; i++)
			ap_mark_drop(objs[i], AP_DROP_TX_FULL);
		rte_node_enqueue(graph, node, PORT_TX_EDGE_DROP, &objs[sent],
				 (uint16_t)(nb_objs - sent));
	}
	return sent;
}

static int
port_tx_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct ap_port_tx_ctx *ctx = (struct ap_port_tx_ctx *)node->ctx;

	RTE_SET_USED(graph);
	RTE_BUILD_BUG_ON(sizeof(*ctx) > RTE_NODE_CTX_SZ);
	if (node->id >= RTE_DIM(ap_tx_node_port))
		return -ERANGE;
	ctx->port = ap_tx_node_port[node->id];
	ctx->queue = ap_worker_building->txq;
	ctx->w = ap_worker_building;
	return 0;
}

/* The parent is never part of a graph: only its clones "port-tx-<port>" are. */
struct rte_node_register ap_port_tx_node = {
	.name = "port-tx",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = port_tx_process,
	.init = port_tx_init,
	.nb_edges = PORT_TX_EDGE_COUNT,
	.next_nodes =
		{
			[PORT_TX_EDGE_DROP] = "drop",
		},
};
