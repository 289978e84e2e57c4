/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What every data-plane module shares: the mbuf private area, drop reasons,
 * the per-port table read by nodes, per-worker counters and node helpers.
 */
#ifndef AP_DP_CORE_H
#define AP_DP_CORE_H

#include <stdbool.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "lib/config.h"
#include "pkt/pkt.h"

/**
 * Data-plane drop reasons beyond the parser's (pkt.h). X(ENUM, "name", "desc").
 */
#define AP_DP_DROPS(X)                                                                             \
	X(NO_SERVICE, "port-no-service", "port has no L2/L3 service configured")                   \
	X(TX_FULL, "tx-queue-full", "TX queue full")                                               \
	X(L2_NOT_FOR_US, "l2-not-for-us", "unicast frame for another MAC on an L3 port")           \
	X(L3_ETHERTYPE, "l3-unsupported-ethertype", "ethertype not routed on an L3 port")          \
	X(VLAN_UNKNOWN, "vlan-unknown", "VLAN tags the port carries to no interface or bridge")    \
	X(L2_SRC_GROUP, "l2-group-source", "frame from a multicast or broadcast source MAC")       \
	X(L2_SAME_MEMBER, "l2-same-member",                                                        \
	  "destination MAC is on the member the frame came from")                                  \
	X(L2_UNKNOWN_UCAST, "l2-unknown-unicast",                                                  \
	  "unknown unicast in a bridge that does not flood")                                       \
	X(L2_FLOOD_EMPTY, "l2-flood-no-members", "flooded frame in a bridge with no other member") \
	X(L2_NO_BUFFER, "l2-no-buffer", "no mbuf or headroom to copy or retag a frame")            \
	X(CT_FULL, "ct-table-full", "new flow with the connection table full")                     \
	X(CT_INVALID, "ct-invalid", "packet conntrack finds invalid (conntrack.drop_invalid)")     \
	X(FW_DROP, "fw-drop", "dropped by a firewall rule or policy")                              \
	X(NAT_HANDOFF, "nat-handoff-full",                                                         \
	  "the worker owning the packet's translation had no room")                                \
	X(SYN_BLOCKED, "syn-source-blocked", "SYN from a source over its connection rate")         \
	X(SYN_BAD_COOKIE, "syn-bad-cookie",                                                        \
	  "ACK to a SYN-proxied destination without a valid cookie")                               \
	X(SYN_EARLY, "syn-client-early",                                                           \
	  "client segment of a proxied flow before the server answered")                           \
	X(SYN_MALFORMED, "syn-malformed", "TCP header the SYN proxy cannot rewrite")               \
	X(IP_BLACKHOLE, "ip-blackhole", "route to a blackhole")                                    \
	X(IP_FRAG_FAILED, "ip4-fragmentation-failed", "could not fragment for the egress MTU")     \
	X(IP_MCAST, "ip-multicast-unsupported", "multicast destination not handled")               \
	X(IP_BAD_SRC, "ip-bad-source", "multicast, broadcast or loopback source address")          \
	X(IP6_LL_FWD, "ip6-link-local-not-forwarded", "link-local destination not ours")           \
	X(PUNT_FULL, "punt-queue-full", "control-plane queue full")                                \
	X(ICMP_NOT_ECHO, "icmp-unhandled", "ICMP message to us other than echo request")           \
	X(QOS_POLICED, "qos-policed", "over a QoS policer's rate (its colour's action is drop)")   \
	X(QOS_HOST_LIMIT, "qos-host-limit", "over a QoS class's per-host rate")                    \
	X(QOS_QUEUE_FULL, "qos-queue-full", "QoS class queue full (drop-tail)")

/** One id space for every drop reason: parser errors first, then data plane ones. */
enum ap_drop_reason {
	AP_DROP_NONE = AP_PKT_OK,
#define AP_DROP_PKT_ENUM(e, name, desc) AP_DROP_PKT_##e = AP_PKT_ERR_##e,
	AP_PKT_ERRORS(AP_DROP_PKT_ENUM)
#undef AP_DROP_PKT_ENUM
		AP_DROP_DP_BASE = AP_PKT_ERR_COUNT - 1,
#define AP_DROP_DP_ENUM(e, name, desc) AP_DROP_##e,
	AP_DP_DROPS(AP_DROP_DP_ENUM)
#undef AP_DROP_DP_ENUM
		AP_DROP_COUNT
};

/**
 * Add an edge from node @p from to every port's port-tx clone and record its
 * index per DPDK port id in @p edges (RTE_MAX_ETHPORTS entries).
 */
int ap_dp_link_tx(rte_node_t from, uint16_t *edges);

/** rte_eal_cleanup() and removal of this instance's EAL runtime directory. */
void ap_eal_cleanup(void);

const char *ap_drop_name(enum ap_drop_reason r);
const char *ap_drop_desc(enum ap_drop_reason r);

/** Per-packet metadata in the mbuf private area. */
struct ap_mbuf_priv {
	struct ap_pkt_info pi;
	uint16_t drop_reason; /**< enum ap_drop_reason, set before the drop edge. */
	uint8_t punt;	      /**< enum ap_punt_reason (dp/ip/ip.h), set before the punt edge. */
	uint8_t reinjected;   /**< Times the control plane sent it back into routing. */
	/**
	 * ct parsed and checked the IPv4 header as ip4-input does and left it
	 * as it was: ip4-input takes pi as it is, and clears this. eth-input
	 * and inject start every packet with it 0.
	 */
	uint8_t ip4_checked;
	uint32_t trace_id;    /**< Non-zero: the packet is traced under this id. */
	uint16_t tx_port;     /**< Injected packets: the port to send on. */
	uint32_t nh;	      /**< Punted for resolution, or handed to qos: the next-hop index. */
	uint16_t l3;	      /**< L3 interface the packet came in on (ap_l3_ifs index). */
	uint16_t l2_in;	      /**< Bridged: the member it came from (ap_l2_members index). */
	uint8_t ct;	      /**< What conntrack says of it (enum ap_ct_info, dp/ct/ct.h). */
	uint8_t fw_done;      /**< Firewall verdict given, or sent by the control plane. */
	uint8_t snat;	      /**< Masquerade on the way out: take snat_addr:snat_port. */
	uint8_t own; /**< Made by the data plane (SYN proxy): sent as our own from ip*-local. */
	uint16_t snat_port;   /**< Network order. */
	uint32_t snat_addr;   /**< Network order. */
	/**
	 * Set by ct for every packet: the index + 1 of the flow of a packet it
	 * found new in that flow's original direction, in the worker's table
	 * (the firewall keeps its classification there); 0: none.
	 */
	uint32_t ct_flow;
	uint32_t ct_dels; /**< With ct_flow: the table's n_dels then (its slot holds that flow while
			     it has not moved). */
};

static __rte_always_inline struct ap_mbuf_priv *
ap_mbuf_priv(struct rte_mbuf *m)
{
	return (struct ap_mbuf_priv *)rte_mbuf_to_priv(m);
}

/** A frame a wire passes as it is: a whole Ethernet header, and no tag the
 * driver took off (eth-input puts such a tag back). */
static __rte_always_inline bool
ap_frame_plain(const struct rte_mbuf *m)
{
	return likely(!(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) &&
	       likely(rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN);
}

/** A received frame's routing state, clean: nothing from an earlier use of the mbuf. */
static __rte_always_inline void
ap_mbuf_priv_fresh(struct ap_mbuf_priv *pv)
{
	pv->reinjected = 0;
	pv->ip4_checked = 0;
	pv->ct = 0;
	pv->ct_flow = 0;
	pv->fw_done = 0;
	pv->snat = 0;
}

#define AP_MAX_PORTS	      32

/**
 * L3 interface ids: the interface on a port's untagged frames has the port's
 * DPDK id; VLAN sub-interfaces and bridge interfaces take AP_L3_VIRT(index
 * in the config's interfaces).
 */
#define AP_L3_VIRT(idx)	      (RTE_MAX_ETHPORTS + (idx))
#define AP_L3_MAX	      AP_L3_VIRT(AP_CFG_MAX_IFACES)
#define AP_MAX_WORKERS	      64
#define AP_MAX_RXQ_PER_WORKER AP_MAX_PORTS

/** Read-only per-port settings the nodes look at, indexed by DPDK port id. */
struct ap_port_fast {
	uint8_t configured;
	uint8_t validate_full; /**< eth-input parses to L4 and drops malformed frames. */
	uint8_t validate_none; /**< A cross-connect that reads no header: a wire. */
	uint8_t has_xconnect;
	uint8_t l3;	   /**< Untagged frames are routed: eth-input dispatches by ethertype. */
	uint8_t l2;	   /**< Frames go to bridges or VLAN interfaces by their tags. */
	uint16_t untagged; /**< l2: binding of untagged frames (ap_l2_binds index, 0: none). */
	const uint16_t *vlans; /**< l2: binding per outer VLAN id (4096), or NULL. */
	uint16_t xc_peer;   /**< DPDK port id of the xconnect peer. */
	rte_edge_t xc_edge; /**< xconnect node edge to the peer's port-tx node. */
	rte_edge_t wire_edge; /**< A wire (validate_none): port-rx's edge to the peer's
			       * port-tx node; 0: none (eth-input). */
};

extern struct ap_port_fast ap_ports_fast[RTE_MAX_ETHPORTS];

/** Quiescent-state RCU of the workers (thread id = worker index): tables the
 * control plane frees wait for every worker to finish its walk. */
extern struct rte_rcu_qsbr *ap_dp_qsbr;

/** Counters owned by one worker; only that worker writes them. */
struct ap_worker_stats {
	uint64_t drops[AP_DROP_COUNT];
	uint64_t port_drops[RTE_MAX_ETHPORTS];
	uint64_t rx_packets; /**< Received by port-rx (all queues). */
	uint64_t walks;
	uint64_t sleeps; /**< Idle sleeps (dataplane.poll_sleep_us). */
} __rte_cache_aligned;

struct ap_rxq {
	uint16_t port;
	uint16_t queue;
};

struct ap_worker {
	unsigned lcore;
	unsigned index;
	rte_graph_t graph_id;
	struct rte_graph *graph;
	uint16_t burst;
	uint16_t n_rxq;
	struct ap_rxq rxq[AP_MAX_RXQ_PER_WORKER];
	uint16_t txq;	  /**< TX queue this worker owns on every port. */
	bool node_cycles; /**< Walk with per-node TSC accounting. */
	uint16_t poll_sleep_us; /**< dataplane.poll_sleep_us. */
	volatile int quit;
	uint64_t start_tsc;
	uint64_t stop_tsc;
	/** rx_packets as of the end of the last completed graph walk. */
	volatile uint64_t done_rx;
	struct ap_worker_stats stats;
	struct ap_trace *trace;
} __rte_cache_aligned;

/* Packet trace (VPP's `trace add`): the next N packets a worker receives are
 * marked, and every node they pass records what it did with them. */
#define AP_TRACE_RECS 4096

enum ap_trace_event {
	AP_TRACE_RX,   /**< Received; detail: RX port. */
	AP_TRACE_NEXT, /**< Handed to another node (name in 'next'). */
	AP_TRACE_DROP, /**< Dropped; detail: enum ap_drop_reason. */
	AP_TRACE_PUNT, /**< Sent to the control plane; detail: punt reason. */
	AP_TRACE_TX,   /**< Sent; detail: TX port. */
};

struct ap_trace_rec {
	uint32_t id;
	uint8_t event; /**< enum ap_trace_event. */
	uint16_t detail;
	uint16_t len;	  /**< Packet length when recorded. */
	const char *node; /**< Node name (static for the graph's life). */
	const char *next; /**< AP_TRACE_NEXT: next node's name. */
	uint64_t tsc;
};

/** One worker's trace buffer; the worker writes, the control plane reads
 * once 'active' is cleared or the buffer is full. */
struct ap_trace {
	volatile uint32_t budget; /**< Packets still to mark (set by the control plane). */
	uint32_t next_id;
	uint32_t n; /**< Records used. */
	struct ap_trace_rec rec[AP_TRACE_RECS];
};

/** Non-zero while some worker traces: nodes check it once per burst. */
extern volatile int ap_trace_active;
/** Only packets this filter matches are traced (NULL: all). */
extern struct rte_bpf *ap_trace_filter;

RTE_DECLARE_PER_LCORE(struct ap_trace *, ap_trace_buf);

static __rte_always_inline void
ap_trace_rec(struct rte_mbuf *m, const char *node, enum ap_trace_event ev, uint16_t detail,
	     const char *next)
{
	struct ap_trace *t = RTE_PER_LCORE(ap_trace_buf);
	struct ap_trace_rec *r;

	if (!t || t->n >= AP_TRACE_RECS)
		return;
	r = &t->rec[t->n++];
	r->id = ap_mbuf_priv(m)->trace_id;
	r->event = (uint8_t)ev;
	r->detail = detail;
	r->len = (uint16_t)rte_pktmbuf_pkt_len(m);
	r->node = node;
	r->next = next;
	r->tsc = rte_rdtsc();
}

/** Record @p ev for @p m if it is traced. */
#define AP_TRACE(m, node, ev, detail)                                                              \
	do {                                                                                       \
		if (unlikely(ap_trace_active) && unlikely(ap_mbuf_priv(m)->trace_id))              \
			ap_trace_rec((m), (node)->name, (ev), (detail), NULL);                     \
	} while (0)

/** The worker whose graph is being created (node init callbacks read it). */
extern struct ap_worker *ap_worker_building;

/** Count @p m as dropped for @p reason and send it down the drop edge later. */
static __rte_always_inline void
ap_mark_drop(struct rte_mbuf *m, enum ap_drop_reason reason)
{
	ap_mbuf_priv(m)->drop_reason = (uint16_t)reason;
}

/* Node registration: each node file exports its register struct. */
extern struct rte_node_register ap_port_rx_node;
extern struct rte_node_register ap_port_tx_node;
extern struct rte_node_register ap_drop_node;

/** Node context of the per-worker nodes: a pointer to the worker. */
struct ap_node_worker_ctx {
	struct ap_worker *w;
};

/** Context of port-tx clones. */
struct ap_port_tx_ctx {
	uint16_t port;
	uint16_t queue;
	struct ap_worker *w;
};

/** Packets a node classifies in one chunk (nexts[] on the stack). */
#define AP_NODE_CHUNK RTE_GRAPH_BURST_SIZE

/* Sends one packet on edge @p e, recording the hand-over when it is traced.
 * For nodes whose packets are rare enough to go one at a time (local
 * delivery, control traffic). */
static __rte_always_inline void
ap_node_enqueue_x1(struct rte_graph *graph, struct rte_node *node, rte_edge_t e, void *obj)
{
	if (unlikely(ap_trace_active) && unlikely(ap_mbuf_priv(obj)->trace_id))
		ap_trace_rec(obj, node->name, AP_TRACE_NEXT, e, node->nodes[e]->name);
	rte_node_enqueue_x1(graph, node, e, obj);
}

/* True when the @p n (at least one) edges in @p nexts are all the same:
 * four compared at once. */
static __rte_always_inline bool
ap_edges_uniform(const rte_edge_t *nexts, uint16_t n)
{
	const uint64_t want = nexts[0] * UINT64_C(0x0001000100010001);
	uint64_t diff = 0, w;
	uint16_t i = 0;

	RTE_BUILD_BUG_ON(sizeof(rte_edge_t) != 2);
	for (; i + 4 <= n; i += 4) {
		memcpy(&w, &nexts[i], sizeof(w));
		diff |= w ^ want;
	}
	for (; i < n; i++)
		diff |= (uint64_t)(nexts[i] ^ nexts[0]);
	return diff == 0;
}

/**
 * Send @p n objs to the edges in @p nexts. When they are the node's whole
 * stream (@p whole) and all go one way, the common case, the stream is handed
 * over without copying; otherwise each run of equal edges is copied at once
 * (bursts from several RX queues arrive grouped by port).
 */
static __rte_always_inline void
ap_node_enqueue_batch(struct rte_graph *graph, struct rte_node *node, const rte_edge_t *nexts,
		      void **objs, uint16_t n, bool whole)
{
	uint16_t i, run = 0;

	if (unlikely(n == 0))
		return;
	if (unlikely(ap_trace_active))
		for (i = 0; i < n; i++)
			if (unlikely(ap_mbuf_priv(objs[i])->trace_id))
				ap_trace_rec(objs[i], node->name, AP_TRACE_NEXT, nexts[i],
					     node->nodes[nexts[i]]->name);
	if (likely(ap_edges_uniform(nexts, n))) {
		if (likely(whole))
			rte_node_next_stream_move(graph, node, nexts[0]);
		else
			rte_node_enqueue(graph, node, nexts[0], objs, n);
		return;
	}
	for (i = 1; i < n; i++) {
		if (unlikely(nexts[i] != nexts[run])) {
			rte_node_enqueue(graph, node, nexts[run], &objs[run], (uint16_t)(i - run));
			run = i;
		}
	}
	rte_node_enqueue(graph, node, nexts[run], &objs[run], (uint16_t)(n - run));
}

#endif
