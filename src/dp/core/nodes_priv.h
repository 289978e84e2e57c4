/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dp/core: what graph.c shares with the core nodes. */
#ifndef AP_DP_CORE_NODES_PRIV_H
#define AP_DP_CORE_NODES_PRIV_H

#include "dp/core/dp_core.h"

/** DPDK port id of each port-tx clone, indexed by node id. */
extern uint16_t ap_tx_node_port[RTE_MAX_ETHPORTS * 2 + 64];

/**
 * A null port's rx_template: the frames of a capture, written round-robin
 * into the mbufs the port receives (what a NIC would have put there by DMA),
 * as VPP's packet-generator interfaces do. Built by dp.c before the workers
 * start and read-only afterwards, except each queue's position.
 */
struct ap_rx_template {
	uint32_t n;	 /**< Frames. */
	uint32_t stride; /**< Bytes from one frame to the next in @c data. */
	uint8_t *data;	 /**< Frame i at i * stride. */
	uint16_t *len;	 /**< Length of frame i. */
	/** Next frame per RX queue (queue q belongs to worker q). */
	struct {
		uint32_t next;
	} __rte_cache_aligned pos[AP_MAX_WORKERS];
};

/** Indexed by DPDK port id; NULL for a port without a template. */
extern struct ap_rx_template *ap_rx_templates[RTE_MAX_ETHPORTS];

#endif
