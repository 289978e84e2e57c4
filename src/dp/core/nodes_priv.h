/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dp/core: what graph.c shares with the core nodes. */
#ifndef AP_DP_CORE_NODES_PRIV_H
#define AP_DP_CORE_NODES_PRIV_H

#include "dp/core/dp_core.h"

/** DPDK port id of each port-tx clone, indexed by node id. */
extern uint16_t ap_tx_node_port[RTE_MAX_ETHPORTS * 2 + 64];

#endif
