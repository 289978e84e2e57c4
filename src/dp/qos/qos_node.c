/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * qos: classifies each forwarded packet (first matching class), polices it
 * (srTCM/trTCM colour, then the colour's action), applies the per-host limit,
 * remarks DSCP, and sends it on to its port, or appends it to its class's
 * queue when the class is shaped.
 *
 * qos-sched: a source node, so it runs on every graph walk whether packets
 * arrive or not: drains each shaped interface's class queues as the token
 * buckets allow (qos.h) and hands what may go to the port's port-tx.
 *
 * Uses: ap_mbuf_priv.pi (l3, l3_off), l3 (in), nh (the next hop, so the
 * egress interface); ap_qos.wk[worker].
 * Sets: drop_reason. Rewrites the IP header's DSCP.
 * Next edges: drop, l2-bridge (qos only), then one port-tx per port.
 */
#include <rte_cycles.h>

#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/qos/qos.h"

enum qos_edge {
	QOS_EDGE_DROP,
	QOS_EDGE_BRIDGE,
	QOS_EDGE_COUNT,
};

/* Edges to each port's port-tx, by DPDK port id. */
static uint16_t qos_tx[RTE_MAX_ETHPORTS];
static uint16_t sched_tx[RTE_MAX_ETHPORTS];

struct qos_ctx {
	struct ap_qos_wk *wk;
	unsigned worker;
};

static int
qos_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct qos_ctx *ctx = (struct qos_ctx *)node->ctx;

	RTE_SET_USED(graph);
	RTE_BUILD_BUG_ON(sizeof(*ctx) > RTE_NODE_CTX_SZ);
	ctx->worker = ap_worker_building->index;
	ctx->wk = ap_qos.wk[ctx->worker];
	return 0;
}

/* Per-host limit: one srTCM meter per address, red is over the limit. */
static __rte_always_inline bool
host_over(struct ap_qos_class *k, uint8_t family, const uint8_t *l3, uint64_t now, uint32_t len)
{
	uint8_t key[16] = {0};
	int32_t pos;

	if (family == 4)
		memcpy(key + 12, l3 + (k->cfg->host_by ? 16 : 12), 4);
	else
		memcpy(key, l3 + (k->cfg->host_by ? 24 : 8), 16);
	pos = rte_hash_lookup(k->hosts, key);
	if (unlikely(pos < 0)) {
		pos = rte_hash_add_key(k->hosts, key);
		if (pos < 0) {
			k->c.host_table_full++;
			return false;
		}
		rte_meter_srtcm_config(&k->host_m[pos], k->host_prof);
		k->host_m[pos].time = now;
		k->n_hosts++;
	}
	k->host_seen[pos] = now;
	return rte_meter_srtcm_color_blind_check(&k->host_m[pos], k->host_prof, now, len) ==
	       RTE_COLOR_RED;
}

/* What qos_one() returns for a packet it queued (port-tx edges follow QOS_EDGE_COUNT). */
#define QOS_QUEUED RTE_EDGE_ID_INVALID

/* The edge of @p m, or QOS_QUEUED. */
static __rte_always_inline rte_edge_t
qos_one(struct ap_qos_wk *wk, struct rte_mbuf *m, uint64_t now)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ap_nh *nh = &ap_ip.nh[pv->nh];
	uint16_t out = nh->port;
	const struct ap_l3_if *oif = &ap_l3_ifs[out];
	rte_edge_t pass = oif->bvi ? QOS_EDGE_BRIDGE : qos_tx[oif->tx_port];
	uint8_t family = pv->pi.l3 == AP_L3_IPV4 ? 4 : 6;
	uint8_t *l3 = rte_pktmbuf_mtod_offset(m, uint8_t *, pv->pi.l3_off);
	uint32_t len = rte_pktmbuf_pkt_len(m) - pv->pi.l3_off;
	struct ap_qos_class *k;
	enum rte_color color;
	int ci;

	ci = ap_qos_classify(wk, family, l3, len, pv->l3, out);
	if (ci < 0)
		return pass;
	k = &wk->cls[ci];
	k->c.packets++;
	k->c.bytes += len;
	if (k->meter >= 0) {
		color = ap_qos_police(k, now, len);
		(&k->c.green)[color]++;
		if (k->act[color] == AP_QOS_DROP) {
			k->c.drop_policer++;
			pv->drop_reason = AP_DROP_QOS_POLICED;
			return QOS_EDGE_DROP;
		}
		if (k->act[color] == AP_QOS_REMARK) {
			ap_qos_set_dscp(family, l3, (uint8_t)k->act_dscp[color]);
			k->c.remarked++;
		}
	}
	if (k->hosts && host_over(k, family, l3, now, len)) {
		k->c.drop_host++;
		pv->drop_reason = AP_DROP_QOS_HOST_LIMIT;
		return QOS_EDGE_DROP;
	}
	if (k->cfg->set_dscp != AP_QOS_DSCP_NONE) {
		ap_qos_set_dscp(family, l3, (uint8_t)k->cfg->set_dscp);
		k->c.remarked++;
	}
	if (!k->shaped) {
		k->c.tx_packets++;
		k->c.tx_bytes += len;
		return pass;
	}
	if (unlikely(!ap_qos_enqueue(k, m))) {
		k->c.drop_queue++;
		pv->drop_reason = AP_DROP_QOS_QUEUE_FULL;
		return QOS_EDGE_DROP;
	}
	return QOS_QUEUED;
}

static uint16_t
qos_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_qos_wk *wk = ((struct qos_ctx *)node->ctx)->wk;
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < nb_objs; i++) {
		rte_edge_t e = qos_one(wk, objs[i], now);

		if (e != QOS_QUEUED)
			ap_node_enqueue_x1(graph, node, e, objs[i]);
	}
	return nb_objs;
}

static uint16_t
qos_sched_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct qos_ctx *ctx = (struct qos_ctx *)node->ctx;
	struct ap_qos_wk *wk = ctx->wk;
	struct rte_mbuf *out[RTE_GRAPH_BURST_SIZE];
	uint64_t now = rte_rdtsc();
	uint16_t total = 0;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	for (uint16_t i = 0; i < wk->n_sched; i++) {
		struct ap_qos_sched *s = &wk->sched[i];
		unsigned n = ap_qos_sched_run(wk, s, now, out, RTE_DIM(out));

		if (n) {
			rte_node_enqueue(graph, node, sched_tx[s->port], (void **)out, (uint16_t)n);
			total = (uint16_t)(total + n);
		}
	}
	if (unlikely((++wk->walks & 4095) == 0))
		ap_qos_housekeeping(ctx->worker, now);
	return total;
}

int
ap_qos_link_nodes(void)
{
	int rc = ap_dp_link_tx(rte_node_from_name("qos"), qos_tx);

	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("qos-sched"), sched_tx);
	return rc;
}

struct rte_node_register ap_qos_node = {
	.name = "qos",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = qos_process,
	.init = qos_init,
	.nb_edges = QOS_EDGE_COUNT,
	.next_nodes =
		{
			[QOS_EDGE_DROP] = "drop",
			[QOS_EDGE_BRIDGE] = "l2-bridge",
		},
};

struct rte_node_register ap_qos_sched_node = {
	.name = "qos-sched",
	.flags = RTE_NODE_SOURCE_F,
	.parent_id = RTE_NODE_ID_INVALID,
	.process = qos_sched_process,
	.init = qos_init,
	.nb_edges = 1,
	.next_nodes =
		{
			[QOS_EDGE_DROP] = "drop",
		},
};
