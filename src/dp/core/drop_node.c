/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drop: the sink for every packet the pipeline does not forward. Counts each
 * by the reason its sender wrote in the private area and by its RX port,
 * then frees the burst.
 *
 * Uses: ap_mbuf_priv.drop_reason, mbuf port.  Next edges: none.
 */
#include "dp/core/dp_core.h"

static const char *const drop_names[AP_DROP_COUNT] = {[AP_DROP_NONE] = "unspecified",
#define NAME_PKT(e, name, desc) [AP_DROP_PKT_##e] = name,
						      AP_PKT_ERRORS(NAME_PKT)
#undef NAME_PKT
#define NAME_DP(e, name, desc) [AP_DROP_##e] = name,
							      AP_DP_DROPS(NAME_DP)
#undef NAME_DP
};

static const char *const drop_descs[AP_DROP_COUNT] = {[AP_DROP_NONE] = "dropped without a reason",
#define DESC_PKT(e, name, desc) [AP_DROP_PKT_##e] = desc,
						      AP_PKT_ERRORS(DESC_PKT)
#undef DESC_PKT
#define DESC_DP(e, name, desc) [AP_DROP_##e] = desc,
							      AP_DP_DROPS(DESC_DP)
#undef DESC_DP
};

const char *
ap_drop_name(enum ap_drop_reason r)
{
	return (unsigned)r < AP_DROP_COUNT ? drop_names[r] : "invalid";
}

const char *
ap_drop_desc(enum ap_drop_reason r)
{
	return (unsigned)r < AP_DROP_COUNT ? drop_descs[r] : "invalid drop reason";
}

static uint16_t
drop_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_worker_stats *st = &((struct ap_node_worker_ctx *)node->ctx)->w->stats;

	RTE_SET_USED(graph);
	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		uint16_t r = ap_mbuf_priv(m)->drop_reason;

		AP_TRACE(m, node, AP_TRACE_DROP, r);
		st->drops[r < AP_DROP_COUNT ? r : AP_DROP_NONE]++;
		st->port_drops[m->port < RTE_MAX_ETHPORTS ? m->port : 0]++;
	}
	rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, nb_objs);
	return nb_objs;
}

static int
drop_init(const struct rte_graph *graph, struct rte_node *node)
{
	RTE_SET_USED(graph);
	((struct ap_node_worker_ctx *)node->ctx)->w = ap_worker_building;
	return 0;
}

struct rte_node_register ap_drop_node = {
	.name = "drop",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = drop_process,
	.init = drop_init,
	.nb_edges = 0,
};
