/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * port-rx: the source node of every worker graph. Polls the (port, queue)
 * pairs given to its worker and hands each burst to eth-input.
 *
 * A null port with an rx_template gets its frames written into the mbufs it
 * receives (one copy of each frame's length per packet); other ports do not
 * look at templates beyond one pointer read per burst.
 *
 * A wire (a cross-connected port with `validate: none`) has its bursts go
 * straight to the peer's port-tx when every frame of them has a whole
 * Ethernet header and no tag the driver took off, as eth-input and xconnect
 * would pass them; any other burst goes to eth-input.
 *
 * Uses: worker rx queue list, ap_rx_templates.  Sets: nothing in the mbuf
 * (the PMD sets port), data and lengths for template ports.
 * Next edges: eth-input, then one port-tx clone per port (added at graph
 * build; ap_port_fast.wire_edge).
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

/* Frame @p src of @p len bytes into @p m's data, in 32-byte blocks: the
 * template's stride is a multiple of 64, so the last block reads within it,
 * and what it writes past @p len is tailroom. One branch-free pass for every
 * frame of the same length, where a general copy picks its moves by length. */
static __rte_always_inline void
rx_template_copy(struct rte_mbuf *m, const uint8_t *src, uint16_t len)
{
	uint8_t *dst = rte_pktmbuf_mtod(m, uint8_t *);
	const uint32_t all = RTE_ALIGN_CEIL((uint32_t)len, 32u);

	if (unlikely(rte_pktmbuf_tailroom(m) < all)) {
		rte_memcpy(dst, src, len);
		return;
	}
	for (uint32_t off = 0; off < all; off += 32)
		memcpy(dst + off, src + off, 32);
}

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
		const uint8_t *next = t->data + (size_t)ahead * t->stride;

		/* Every line of its slot: a frame over 64 bytes (IPv6's
		 * smallest is 78 with its FCS) spans two. */
		for (uint32_t off = 0; off < t->stride; off += RTE_CACHE_LINE_SIZE)
			rte_prefetch0(next + off);
		rx_template_copy(m, t->data + (size_t)k * t->stride, len);
		m->data_len = len;
		m->pkt_len = len;
		if (++k == t->n)
			k = 0;
	}
	t->pos[queue].next = k;
}

/* Tracing: mark the next packets of the budget, clear the rest (their
 * private area may hold an id from an earlier trace). */
static __rte_noinline void
port_rx_trace(struct ap_worker *w, struct rte_node *node, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ap_trace *t = w->trace;

		ap_mbuf_priv(m)->trace_id = 0;
		if (t && t->budget && ap_filter_match(ap_trace_filter, m)) {
			t->budget--;
			ap_mbuf_priv(m)->trace_id = ++t->next_id;
			ap_trace_rec(m, node->name, AP_TRACE_RX, m->port, NULL);
		}
	}
}

/*
 * Whether the @p n frames a wire port received can go straight to its peer's
 * port-tx: all have a whole Ethernet header and no tag the driver took off.
 * Else eth-input takes the burst and drops the runts with their reason (and
 * puts the tags back), as it does for any wire frame.
 */
static __rte_always_inline bool
port_rx_wire_clean(struct rte_mbuf **pkts, uint16_t n)
{
	bool plain = true;

	for (uint16_t i = 0; i < n; i++)
		plain &= ap_frame_plain(pkts[i]);
	return plain;
}

/*
 * Each RX queue's burst is read straight into the stream of the node it goes
 * to: eth-input, or for a wire (a cross-connected port with `validate: none`)
 * the peer's port-tx, since eth-input and xconnect would hand such a burst on
 * unchanged. A traced burst takes eth-input, so its path shows every node.
 */
static uint16_t
port_rx_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_worker *w = ((struct ap_node_worker_ctx *)node->ctx)->w;
	uint16_t total = 0;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	for (uint16_t i = 0; i < w->n_rxq; i++) {
		const uint16_t port = w->rxq[i].port;
		rte_edge_t edge = ap_ports_fast[port].wire_edge;
		void **to;
		uint16_t n;
		struct ap_rx_template *tpl = ap_rx_templates[port];

		if (unlikely(ap_trace_active))
			edge = PORT_RX_EDGE_ETH_INPUT;
		to = rte_node_next_stream_get(graph, node, edge, w->burst);
		n = rte_eth_rx_burst(port, w->rxq[i].queue, (struct rte_mbuf **)to, w->burst);
		if (n == 0)
			continue;
		if (unlikely(tpl != NULL))
			rx_template_fill(tpl, w->rxq[i].queue, (struct rte_mbuf **)to, n);
		ap_capture_burst((struct rte_mbuf **)to, n, port, w->rxq[i].queue, AP_CAPTURE_RX);
		if (unlikely(ap_trace_active))
			port_rx_trace(w, node, (struct rte_mbuf **)to, n);
		if (edge != PORT_RX_EDGE_ETH_INPUT &&
		    unlikely(!port_rx_wire_clean((struct rte_mbuf **)to, n))) {
			/* Nothing was put on the peer's stream: copy the burst over. */
			rte_node_enqueue(graph, node, PORT_RX_EDGE_ETH_INPUT, to, n);
		} else {
			rte_node_next_stream_put(graph, node, edge, n);
		}
		total = (uint16_t)(total + n);
	}
	w->stats.rx_packets += total;
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
