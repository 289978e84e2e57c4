/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * L2 data plane: eth-input (parse into the mbuf private area and pick the
 * service of the frame's port and VLAN tags), xconnect (VPP-style L2
 * cross-connect) and l2-bridge (bridge domains with MAC learning).
 *
 * Bridges follow VPP's bridge domains: a member is a port's untagged frames
 * or one VLAN (or QinQ pair) on a port; its tags come off on the way in and
 * go on on the way out, so members on different VLANs can share a bridge.
 * A bridge may have a bridge-virtual interface (BVI), an L3 interface whose
 * MAC is a static entry of the bridge.
 *
 * The MAC table is one rte_hash for every bridge, keyed by bridge and MAC,
 * written by the control plane only (single writer) and read lock-free by
 * the workers. Workers report unknown sources and moves through a ring; the
 * control plane learns, moves and ages entries. Deleted entries are
 * reclaimed once every worker has passed a quiescent state (rte_rcu_qsbr).
 */
#ifndef AP_L2_H
#define AP_L2_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_graph.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <jansson.h>

#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "lib/config.h"

/** Registration of the eth-input node. */
extern struct rte_node_register ap_eth_input_node;
/** Registration of the xconnect node; edge 0 is drop, others added per port-tx clone. */
extern struct rte_node_register ap_xconnect_node;
/** Registration of the l2-bridge node. */
extern struct rte_node_register ap_l2_bridge_node;

#define AP_BD_MAX AP_CFG_MAX_BRIDGES
/* Every member of every bridge, plus one BVI per bridge; index 0 unused. */
#define AP_L2_MEMBERS_MAX (AP_BD_MAX * (AP_CFG_BRIDGE_MAX_MEMBERS + 1) + 1)
/* Bindings: members, VLAN interfaces and QinQ outer tags; index 0 is "none". */
#define AP_L2_BINDS_MAX (AP_L2_MEMBERS_MAX + 2 * AP_CFG_MAX_IFACES + 1)
#define AP_VLAN_IDS	4096

/** What frames of one tag stack of a port go to. */
enum ap_l2_bind_kind {
	AP_BIND_NONE,
	AP_BIND_L3,	/**< An L3 interface (id: its ap_l3_ifs index). */
	AP_BIND_BRIDGE, /**< A bridge member (id: its ap_l2_members index). */
	AP_BIND_QINQ,	/**< An outer tag whose inner tag decides (inner: 4096 bindings). */
};

struct ap_l2_bind {
	uint8_t kind;	/**< enum ap_l2_bind_kind. */
	uint8_t n_tags; /**< Tags the binding matched (and a member pops). */
	uint16_t id;
	const uint16_t *inner;
};

extern struct ap_l2_bind ap_l2_binds[AP_L2_BINDS_MAX];

/** A bridge member as the data plane sees it. */
struct ap_l2_member {
	uint16_t bd;
	uint16_t port;	    /**< DPDK port id (not for the BVI). */
	uint8_t n_tags;	    /**< Tags pushed on output (popped on input). */
	uint8_t bvi;	    /**< The bridge's L3 interface. */
	uint16_t l3;	    /**< BVI: its L3 interface id. */
	rte_edge_t tx_edge; /**< l2-bridge edge to the port's port-tx. */
	uint32_t tags[2];   /**< TPID:TCI words in network order, outer first. */
};

extern struct ap_l2_member ap_l2_members[AP_L2_MEMBERS_MAX];

/** A bridge domain as the data plane sees it. */
struct ap_bd {
	uint8_t enabled;
	uint8_t flood; /**< Flood unknown unicast. */
	uint8_t learn;
	uint16_t n_members;
	uint16_t members[AP_CFG_BRIDGE_MAX_MEMBERS + 1]; /**< Flood list (BVI included). */
};

extern struct ap_bd ap_bds[AP_BD_MAX];

/** A MAC table entry, at the rte_hash position of its key. member 0: none
 * (deleted, or not yet written). */
struct ap_mac_entry {
	uint64_t key;
	uint16_t member;
	uint8_t is_static;
	uint32_t seen; /**< Coarse TSC (rdtsc >> AP_MAC_TICK_SHIFT) of the last frame from it. */
};

#define AP_MAC_TICK_SHIFT 22

/** Shared L2 tables: the MAC hash and entries, the learn ring. */
struct ap_l2_tables {
	struct rte_hash *macs;
	struct ap_mac_entry *entries; /**< By hash position. */
	struct rte_ring *learn;	      /**< Workers -> control plane, 16-byte events. */
};

extern struct ap_l2_tables ap_l2;

/** A learn event: source @c key seen on @c member. */
struct ap_l2_learn_ev {
	uint64_t key;
	uint16_t member;
	uint16_t pad[3];
};

/** Per-lcore L2 counters; only that lcore writes them. */
struct ap_l2_stats {
	uint64_t member_rx[AP_L2_MEMBERS_MAX];
	uint64_t member_tx[AP_L2_MEMBERS_MAX];
	uint64_t flooded[AP_BD_MAX];
	uint64_t learn_lost;  /**< Learn events the full ring refused. */
	uint64_t copy_failed; /**< Flood copies not made (no mbuf). */
	/* Sources reported recently, so one source is reported once per tick. */
	uint64_t recent_key[64];
	uint16_t recent_member[64];
	uint32_t recent_tick[64];
} __rte_cache_aligned;

extern struct ap_l2_stats *ap_l2_stats; /**< RTE_MAX_LCORE entries. */

/* MAC table key: the bridge in the top 16 bits, the MAC's bytes in memory
 * order below (byte i at bits 8i..8i+7 on this little-endian target). */
static __rte_always_inline uint64_t
ap_l2_key(uint16_t bd, const uint8_t *mac)
{
	uint64_t k = 0;

	memcpy(&k, mac, 6);
	return k | (uint64_t)bd << 48;
}

static __rte_always_inline uint8_t
ap_l2_key_byte(uint64_t key, unsigned i)
{
	return (uint8_t)(key >> (8 * i));
}

/**
 * Replace the @p old_tags VLAN tags that follow the MAC addresses with the
 * @p n tags of @p tags. @return false when there is no headroom.
 */
static __rte_always_inline bool
ap_l2_retag(struct rte_mbuf *m, unsigned old_tags, const uint32_t *tags, unsigned n)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	if (n != old_tags) {
		uint8_t macs[12];

		memcpy(macs, p, 12);
		if (n > old_tags)
			p = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(4 * (n - old_tags)));
		else
			p = (uint8_t *)rte_pktmbuf_adj(m, (uint16_t)(4 * (old_tags - n)));
		if (p == NULL)
			return false;
		memcpy(p, macs, 12);
	}
	for (unsigned k = 0; k < n; k++)
		memcpy(p + 12 + 4 * k, &tags[k], 4);
	return true;
}

/** How a frame for an L3 interface is handed on (eth-input and l2-bridge). */
enum ap_l3_class {
	AP_L3C_DROP,
	AP_L3C_IP4,
	AP_L3C_IP6,
	AP_L3C_ARP,
};

/* Frames for the interface's MAC, broadcast or multicast (ARP, ND), by
 * ethertype; the caller checks the tags. */
static __rte_always_inline enum ap_l3_class
ap_l3_classify(struct ap_mbuf_priv *pv, const uint8_t *p, const uint8_t *mac)
{
	if (!(p[0] & 1) && memcmp(p, mac, 6) != 0) {
		pv->drop_reason = AP_DROP_L2_NOT_FOR_US;
		return AP_L3C_DROP;
	}
	switch (pv->pi.l3) {
	case AP_L3_IPV4:
		return AP_L3C_IP4;
	case AP_L3_IPV6:
		return AP_L3C_IP6;
	case AP_L3_ARP:
		pv->punt = AP_PUNT_ARP;
		return AP_L3C_ARP;
	default:
		pv->drop_reason = AP_DROP_L3_ETHERTYPE;
		return AP_L3C_DROP;
	}
}

/* Control plane (main lcore). */

/**
 * Build bridges, members, bindings and the MAC table from @p cfg
 * (@p port_ids maps config port index to DPDK port id; @p tx_edges gives
 * l2-bridge's edge to each port's port-tx by DPDK port id) and set the
 * ports' L2 dispatch in ap_ports_fast. 0 or -errno with @p err.
 */
int ap_l2_start(const struct ap_config *cfg, const uint16_t *port_ids, const uint16_t *tx_edges,
		char *err, size_t err_len);

/** MAC of bridge @p bd's interface (that of its first member's port). */
void ap_l2_bvi_mac(uint16_t bd, uint8_t mac[6]);
/** Member index of bridge @p bd's interface. */
uint16_t ap_l2_bvi_member(uint16_t bd);

/** Learn from the workers' events, age entries. */
void ap_l2_poll(void);

/** Free the tables (workers stopped). */
void ap_l2_stop(void);

/** `{"bridges":[...]}` with members and counters. */
json_t *ap_l2_bridges_json(void);
/** `{"macs":[...]}` of bridge @p name (NULL: every bridge), or NULL: no such bridge. */
json_t *ap_l2_macs_json(const char *name);
/** Delete the learned MACs of bridge @p name (NULL: all). @return entries flushed or -ENOENT. */
int ap_l2_flush(const char *name);

#endif
