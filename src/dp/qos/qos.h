/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Traffic shaping and QoS on the routed output path: classes matched like
 * firewall rules (interfaces, addresses, protocol, ports, DSCP; the first
 * class that matches takes the packet), and per class an RFC 2697 srTCM or
 * RFC 2698 trTCM policer (DPDK rte_meter), a per-host limit (one srTCM meter
 * per source or destination address in an rte_hash), DSCP remarking, and a
 * shaped queue: a token bucket at the guaranteed rate and one at the ceiling,
 * spare rate of the egress interface shared by weight (deficit round robin)
 * among the classes that may borrow, as Linux HTB does.
 *
 * ip4-input and ip6-input hand every forwarded packet to the "qos" node once
 * the route is known and the frame is rewritten (one predictable branch when
 * QoS is off). "qos" classifies, polices and marks, then either sends the
 * packet on to its port or appends it to its class's queue. "qos-sched", a
 * source node that runs on every graph walk, drains the queues as their
 * buckets allow. State is per worker (no locks): each worker shapes to its
 * share of every rate (rate / workers).
 */
#ifndef AP_QOS_H
#define AP_QOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <rte_graph.h>
#include <rte_hash.h>
#include <rte_meter.h>

#include "dp/core/dp_core.h"
#include "lib/config.h"

/** A token bucket in bytes, refilled from TSC time. */
struct ap_qos_tb {
	double tokens;	/**< May go below zero by a debt charged from elsewhere. */
	double depth;	/**< Most tokens it holds (the burst). */
	double per_tsc; /**< Bytes added per TSC cycle. */
	uint64_t last;	/**< TSC of the last refill. */
};

/** Bucket of @p bps bit/s holding @p depth bytes at most, full at @p now. */
void ap_qos_tb_init(struct ap_qos_tb *tb, uint64_t bps, uint64_t depth, uint64_t hz, uint64_t now);

static inline void
ap_qos_tb_refill(struct ap_qos_tb *tb, uint64_t now)
{
	if (now > tb->last) {
		tb->tokens += (double)(now - tb->last) * tb->per_tsc;
		if (tb->tokens > tb->depth)
			tb->tokens = tb->depth;
	}
	tb->last = now;
}

/** Counters of one class (per worker; the API sums them). */
struct ap_qos_counters {
	uint64_t packets, bytes;       /**< Matched the class. */
	uint64_t tx_packets, tx_bytes; /**< Left the class (sent on or dequeued). */
	uint64_t green, yellow, red;   /**< Policer colours. */
	uint64_t drop_policer;	       /**< Dropped by the policer (yellow or red). */
	uint64_t drop_host;	       /**< Over the per-host limit. */
	uint64_t drop_queue;	       /**< Queue full (drop-tail). */
	uint64_t remarked;	       /**< DSCP rewritten. */
	uint64_t host_table_full;      /**< New host with the host table full: not limited. */
};

/* The qos node counts a colour as (&green)[colour]. */
_Static_assert(offsetof(struct ap_qos_counters, yellow) ==
			       offsetof(struct ap_qos_counters, green) +
				       sizeof(uint64_t) * RTE_COLOR_YELLOW &&
		       offsetof(struct ap_qos_counters, red) ==
			       offsetof(struct ap_qos_counters, green) +
				       sizeof(uint64_t) * RTE_COLOR_RED,
	       "colour counters follow the rte_color order");

/** One class on one worker. */
struct ap_qos_class {
	const struct ap_cfg_qos_class *cfg;
	uint16_t in_l3, out_l3; /**< AP_L3_MAX: any. */
	/* Policer. */
	int8_t meter; /**< -1 none, else enum ap_qos_meter. */
	uint8_t act[3];
	uint16_t act_dscp[3];
	struct rte_meter_srtcm_profile *sr_prof; /**< Shared by the class's workers. */
	struct rte_meter_trtcm_profile *tr_prof;
	struct rte_meter_srtcm sr;
	struct rte_meter_trtcm tr;
	/* Per-host limit. */
	struct rte_hash *hosts;
	struct rte_meter_srtcm_profile *host_prof;
	struct rte_meter_srtcm *host_m; /**< By rte_hash position. */
	uint64_t *host_seen;		/**< TSC of the last packet, by position. */
	uint32_t n_hosts;
	/* Shaper. */
	bool shaped;
	struct ap_qos_tb rate, ceil;
	int64_t deficit;
	uint32_t quantum;
	struct rte_mbuf **q;
	uint32_t qmask, head, tail; /**< Free-running indexes. */
	uint32_t qlimit;
	struct ap_qos_counters c;
};

/** An egress interface with shaped classes, on one worker. */
struct ap_qos_sched {
	uint16_t out_l3;
	uint16_t port; /**< DPDK port (the edge of qos-sched). */
	bool has_root; /**< qos.interfaces gives it a rate. */
	struct ap_qos_tb root;
	uint16_t n;
	uint16_t cls[AP_CFG_QOS_MAX_CLASSES]; /**< Class indexes. */
	uint16_t rr;			      /**< Class whose borrowing turn it is. */
	bool turn;			      /**< It has had its quantum for this turn. */
};

/** One worker's QoS state. */
struct ap_qos_wk {
	uint16_t n_classes;
	struct ap_qos_class cls[AP_CFG_QOS_MAX_CLASSES];
	uint16_t n_sched;
	struct ap_qos_sched sched[AP_CFG_QOS_MAX_IFACES + AP_CFG_QOS_MAX_CLASSES];
	uint32_t age_pos[AP_CFG_QOS_MAX_CLASSES]; /**< Host aging cursor. */
	uint32_t walks;
	uint64_t hz;
};

struct ap_qos {
	bool enabled; /**< Read by ip4/ip6-input for each forwarded packet. */
	bool shaping; /**< Some class has a queue: qos-sched runs. */
	unsigned n_workers;
	const struct ap_cfg_qos *cfg;
	struct ap_qos_wk *wk[AP_MAX_WORKERS];
};

extern struct ap_qos ap_qos;

/* Nodes. */
extern struct rte_node_register ap_qos_node;
extern struct rte_node_register ap_qos_sched_node;

/**
 * The first class of @p wk that matches the IP packet @p l3 (@p len bytes,
 * @p family 4 or 6) coming in on L3 interface @p in and going out of @p out,
 * or -1. Ports are read from TCP and UDP right after the IP header, and not
 * from non-first fragments.
 */
int ap_qos_classify(const struct ap_qos_wk *wk, uint8_t family, const uint8_t *l3, uint32_t len,
		    uint16_t in, uint16_t out);

/** Policer colour of @p len bytes at TSC @p now (color-blind), RTE_COLOR_GREEN without one. */
enum rte_color ap_qos_police(struct ap_qos_class *k, uint64_t now, uint32_t len);

/** Rewrite the DSCP of the IP packet @p l3 (IPv4 header checksum updated). */
void ap_qos_set_dscp(uint8_t family, uint8_t *l3, uint8_t dscp);

/**
 * Dequeue what @p s may send at TSC @p now into @p out (at most @p max):
 * each class up to its rate first, then spare rate of the interface by
 * weight to classes under their ceiling. @return packets put in @p out.
 */
unsigned ap_qos_sched_run(struct ap_qos_wk *wk, struct ap_qos_sched *s, uint64_t now,
			  struct rte_mbuf **out, unsigned max);

/** Append @p m to class @p k's queue; false when full. */
static inline bool
ap_qos_enqueue(struct ap_qos_class *k, struct rte_mbuf *m)
{
	if (k->tail - k->head >= k->qlimit)
		return false;
	k->q[k->tail++ & k->qmask] = m;
	return true;
}

/**
 * Build worker state for @p n_workers from @p cfg (@p l3_of_iface maps the
 * config's interface index to the L3 id, @p port_of_l3 gives an L3 id's DPDK
 * port), timestamps from @p now at @p hz. Also used by unit tests without
 * the rest of the data plane. 0 or -errno with a message in @p err.
 */
int ap_qos_start(const struct ap_cfg_qos *cfg, unsigned n_workers, const uint16_t *l3_of_iface,
		 const uint16_t *port_of_l3, uint64_t hz, uint64_t now, char *err, size_t err_len);
/** Free the state (workers stopped), releasing queued packets. */
void ap_qos_stop(void);
/** `{"enabled", "interfaces": [...], "policers": [...], "classes": [...]}` */
json_t *ap_qos_json(void);
/** Link the nodes to every port-tx clone (after they exist). */
int ap_qos_link_nodes(void);
/** Age idle hosts out of worker @p w's host tables (called by the worker). */
void ap_qos_housekeeping(unsigned w, uint64_t now);

#endif
