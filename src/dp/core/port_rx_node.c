/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port-rx: the source node of every worker graph. Polls the (port, queue)
 * pairs given to its worker and hands each burst to eth-input.
 *
 * A null port with an rx_template gets its frames written into the mbufs it
 * receives (one copy of each frame's length per packet); other ports do not
 * look at templates beyond one pointer read per burst.
 *
 * Uses: worker rx queue list, ap_rx_templates.  Sets: nothing in the mbuf
 * (the PMD sets port), data and lengths for template ports.
 * Next edges: eth-input.
 */
#include <rte_memcpy.h>

#include "dp/core/bpf_filter.h"
#include "dp/core/capture.h"
#include "dp/core/dp_core.h"
#include "dp/core/nodes_priv.h"

enum port_rx_edge {
	PORT_RX_EDGE_ETH_INPUT,
	PORT_RX_EDGE_COUNT,
};

struct ap_rx_template *ap_rx_templates[RTE_MAX_ETHPORTS];

/* Write the template's next frames into @p n single-segment mbufs, and fetch
 * the frames the next burst will take, so that their misses overlap the rest
 * of the walk (a NIC would have written the data by DMA). */
static __rte_noinline void
rx_template_fill(struct ap_rx_template *t, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	uint32_t k = t->pos[queue].next;

	for (uint16_t j = 0; j < n; j++) {
		struct rte_mbuf *m = pkts[j];
		uint16_t len = t->len[k];
		uint32_t ahead = k + n < t->n ? k + n : k + n - t->n;

		rte_prefetch0(t->data + (size_t)ahead * t->stride);
		rte_memcpy(rte_pktmbuf_mtod(m, void *), t->data + (size_t)k * t->stride, len);
		m->data_len = len;
		m->pkt_len = len;
		if (++k == t->n)
			k = 0;
	}
	t->pos[queue].next = k;
}

static uint16_t
port_rx_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_worker *w = ((struct ap_node_worker_ctx *)node->ctx)->w;
	uint16_t total = 0;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	for (uint16_t i = 0; i < w->n_rxq; i++) {
		void **to = rte_node_next_stream_get(graph, node, PORT_RX_EDGE_ETH_INPUT,
						     (uint16_t)(total + w->burst));
		uint16_t n = rte_eth_rx_burst(w->rxq[i].port, w->rxq[i].queue,
					      (struct rte_mbuf **)(to + total), w->burst);
		struct ap_rx_template *tpl = ap_rx_templates[w->rxq[i].port];

		if (unlikely(tpl != NULL) && n)
			rx_template_fill(tpl, w->rxq[i].queue, (struct rte_mbuf **)(to + total), n);
		ap_capture_burst((struct rte_mbuf **)(to + total), n, w->rxq[i].port,
				 w->rxq[i].queue, AP_CAPTURE_RX);

		total = (uint16_t)(total + n);
	}
	/* Tracing: mark the next packets of the budget, clear the rest (their
	 * private area may hold an id from an earlier trace). */
	if (unlikely(ap_trace_active)) {
		void **objs_in =
			rte_node_next_stream_get(graph, node, PORT_RX_EDGE_ETH_INPUT, total);

		for (uint16_t i = 0; i < total; i++) {
			struct rte_mbuf *m = objs_in[i];
			struct ap_trace *t = w->trace;

			ap_mbuf_priv(m)->trace_id = 0;
			if (t && t->budget && ap_filter_match(ap_trace_filter, m)) {
				t->budget--;
				ap_mbuf_priv(m)->trace_id = ++t->next_id;
				ap_trace_rec(m, node->name, AP_TRACE_RX, m->port, NULL);
			}
		}
	}
	if (total) {
		/* Each stream_get above returned the same base (nothing is committed
		 * before the put), so the bursts sit back to back from it. */
		rte_node_next_stream_put(graph, node, PORT_RX_EDGE_ETH_INPUT, total);
		w->stats.rx_packets += total;
	}
	return total;
}

static int
port_rx_init(const struct rte_graph *graph, struct rte_node *node)
{
	RTE_SET_USED(graph);
	((struct ap_node_worker_ctx *)node->ctx)->w = ap_worker_building;
	return 0;
}

struct rte_node_register ap_port_rx_node = {
	.name = "port-rx",
	.flags = RTE_NODE_SOURCE_F,
	.parent_id = RTE_NODE_ID_INVALID,
	.process = port_rx_process,
	.init = port_rx_init,
	.nb_edges = PORT_RX_EDGE_COUNT,
	.next_nodes =
		{
			[PORT_RX_EDGE_ETH_INPUT] = "eth-input",
		},
};
