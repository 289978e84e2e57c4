/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * L2 data-plane nodes: eth-input (parse into the mbuf private area and pick
 * the port's service) and xconnect (VPP-style L2 cross-connect).
 */
#ifndef AP_L2_H
#define AP_L2_H

#include <rte_graph.h>

/** Registration of the eth-input node; edges: drop, xconnect. */
extern struct rte_node_register ap_eth_input_node;
/** Registration of the xconnect node; edge 0 is drop, others added per port-tx clone. */
extern struct rte_node_register ap_xconnect_node;

#endif
