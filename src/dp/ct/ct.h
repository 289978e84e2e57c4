/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Connection tracking: one flow table per worker (as VPP's and grout's
 * per-thread sessions), each flow keyed once by its canonical 5-tuple (lower
 * endpoint first) so both directions find it, the TCP state machine with
 * netfilter's states, UDP, ICMP echo and other-protocol pseudo-states,
 * per-state timeouts, a table limit with early drop of unassured flows, and
 * per-direction packet and byte counters.
 *
 * A worker is the only writer of its table; the control plane reads flows
 * for `show conntrack` (counters may be a burst old) and asks the worker to
 * flush through a request word.
 */
#ifndef AP_CT_H
#define AP_CT_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>
#include <string.h>

#include <rte_graph.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <jansson.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct_hash.h"
#include "lib/config.h"

/** TCP states, as netfilter names them. */
enum ap_ct_tcp_state {
	AP_TCP_NONE,
	AP_TCP_SYN_SENT,
	AP_TCP_SYN_RECV,
	AP_TCP_ESTABLISHED,
	AP_TCP_FIN_WAIT,
	AP_TCP_CLOSE_WAIT,
	AP_TCP_LAST_ACK,
	AP_TCP_TIME_WAIT,
	AP_TCP_CLOSE,
	AP_TCP_SYN_SENT2, /**< Simultaneous open: a SYN from each side. */
	AP_TCP_STATES,
	AP_TCP_IGNORE = AP_TCP_STATES, /**< Not for the state machine (e.g. a stale SYN/ACK). */
	AP_TCP_INVALID,
};

/** Direction of a packet relative to its flow. */
enum ap_ct_dir {
	AP_CT_ORIG,
	AP_CT_REPLY,
};

/** TCP segment classes the state machine looks at. */
enum ap_ct_tcp_seg {
	AP_SEG_SYN,
	AP_SEG_SYNACK,
	AP_SEG_FIN,
	AP_SEG_ACK,
	AP_SEG_RST,
	AP_SEG_NONE, /**< No SYN, FIN, ACK or RST. */
	AP_SEG_CLASSES,
};

/** Class of a segment from its TCP flags byte. */
enum ap_ct_tcp_seg ap_ct_tcp_seg_of(uint8_t flags);

/**
 * The state after a segment of class @p seg in direction @p dir in state
 * @p s, or AP_TCP_IGNORE / AP_TCP_INVALID. @p closer: the direction that
 * sent the first FIN, -1 before any. @p loose: a flow may start from a
 * segment other than SYN (pickup of established connections).
 */
enum ap_ct_tcp_state ap_ct_tcp_next(enum ap_ct_tcp_state s, enum ap_ct_dir dir,
				    enum ap_ct_tcp_seg seg, int closer, bool loose);

const char *ap_ct_tcp_state_name(enum ap_ct_tcp_state s);

/** One direction's window as the tracker sees it (netfilter's td_*). */
struct __attribute__((packed)) ap_ct_tcp_win {
	uint32_t end;	 /**< Highest sequence number sent + 1 (seq + len, SYN and FIN count). */
	uint32_t maxend; /**< Highest sequence number the other side may accept + 1. */
	uint32_t maxwin; /**< Largest window the other side was offered, scaled; 0: unseen. */
	uint8_t scale;	 /**< Low 4 bits: its window scale; AP_CT_WIN_* above. */
};

#define AP_CT_WIN_SACK	0x10 /**< It sent SACK-permitted. */
#define AP_CT_WIN_UNACK 0x20 /**< It sent data not acknowledged yet. */
#define AP_CT_WIN_WS	0x40 /**< It sent a window scale option. */

/** What the window check reads of a TCP segment. */
struct ap_ct_tcp_seg_info {
	uint32_t seq, ack; /**< Host order. */
	uint32_t len;	   /**< Payload bytes. */
	uint16_t win;	   /**< As sent (unscaled). */
	uint8_t flags;	   /**< TCP flags byte. */
	uint8_t wscale;	   /**< Window scale option, 0xff: none. */
	bool sack_perm;	   /**< SACK-permitted option. */
	bool has_sack;	   /**< SACK blocks present: sack is the highest right edge. */
	uint32_t sack;	   /**< Host order. */
};

/** Read @p si from the TCP header at @p tcp (@p avail bytes there) of a
 * segment with @p l4_len bytes of TCP in all. false: cut short. */
bool ap_ct_tcp_seg_parse(const uint8_t *tcp, uint32_t avail, uint32_t l4_len,
			 struct ap_ct_tcp_seg_info *si);

/** The originator's side of a new flow from its first segment @p si. */
void ap_ct_tcp_win_new(struct ap_ct_tcp_win *w, const struct ap_ct_tcp_seg_info *si);

/**
 * netfilter's window check (after Guido van Rooij's "Real Stateful TCP
 * Packet Filtering in IP Filter") of segment @p si from @p sender to
 * @p receiver in state @p state (@p from_orig: the originator sent it), and
 * the window update when it passes. @return whether it is in the window.
 */
bool ap_ct_tcp_in_window(struct ap_ct_tcp_win *sender, struct ap_ct_tcp_win *receiver,
			 enum ap_ct_tcp_state state, bool from_orig,
			 const struct ap_ct_tcp_seg_info *si);

/** What conntrack says of a packet (netfilter's ctinfo), kept for the firewall. */
enum ap_ct_info {
	AP_CT_UNTRACKED,
	AP_CT_NEW,
	AP_CT_ESTABLISHED,
	AP_CT_RELATED,
	AP_CT_INVALID,
	AP_CT_FULL, /**< New, but the table has no room: dropped. */
	/* The SYN proxy's (dp/syn/syn.h), for the ct node to act on. */
	AP_CT_SYN_COOKIE, /**< A SYN to answer with a cookie; no flow. */
	AP_CT_SYN_SPLICE, /**< A client's ACK with a valid cookie: its new flow opens to the server.
			   */
	AP_CT_SYN_SERVER, /**< The server's SYN/ACK of a proxied flow. */
	AP_CT_SYN_DROP,	  /**< Blocked source, bad cookie, or a client early: dropped. */
};

/**
 * Canonical flow key: the endpoint that sorts lower first. 40 bytes. An IPv4
 * key's address tails are zero in a packet's key; in a flow's, the tail of
 * addr_lo (AP_CT_KEY_MEMO_OFF) holds the firewall's memo instead (see
 * ap_ct_flow_memo()): lookups leave it out, and copies of a flow's key that
 * leave the worker are cleaned (ap_ct_key_clean()).
 */
struct ap_ct_key {
	uint8_t family; /**< 4 or 6 */
	uint8_t proto;
	uint16_t zone;
	uint16_t port_lo, port_hi; /**< Network order; ICMP echo: the id twice. */
	uint8_t addr_lo[16], addr_hi[16];
};

/** Where an IPv4 flow's memo sits in its key: addr_lo[8..15], key word 2. */
#define AP_CT_KEY_MEMO_OFF 16

/**
 * The hash of the key with these fields (ports in network order): what
 * ap_ct_key_hash() gives, from values the caller has at hand. A key that was
 * just filled a field at a time is hashed from the values it was filled with:
 * loads of it wider than those stores would wait for all of them to reach the
 * cache (no store forwarding). An IPv4 key's address tails are zero and left
 * out.
 */
static __rte_always_inline uint32_t
ap_ct_hash_parts(uint8_t family, uint8_t proto, uint16_t zone, uint16_t port_lo, uint16_t port_hi,
		 const uint8_t *addr_lo, const uint8_t *addr_hi)
{
	uint32_t h = rte_hash_crc_4byte(
		(uint32_t)family | (uint32_t)proto << 8 | (uint32_t)zone << 16, 0);
	uint64_t w[4];
	uint32_t a, b;

	h = rte_hash_crc_4byte((uint32_t)port_lo | (uint32_t)port_hi << 16, h);
	if (family == 4) {
		memcpy(&a, addr_lo, 4);
		memcpy(&b, addr_hi, 4);
		return rte_hash_crc_4byte(b, rte_hash_crc_4byte(a, h));
	}
	memcpy(w, addr_lo, 16);
	memcpy(w + 2, addr_hi, 16);
	for (unsigned i = 0; i < 4; i++)
		h = rte_hash_crc_8byte(w[i], h);
	return h;
}

/** The hash of @p k the tables' hashes use. */
static inline uint32_t
ap_ct_key_hash(const struct ap_ct_key *k)
{
	return ap_ct_hash_parts(k->family, k->proto, k->zone, k->port_lo, k->port_hi, k->addr_lo,
				k->addr_hi);
}

/** Flow status bits. */
#define AP_CT_SEEN_REPLY (1u << 0)
#define AP_CT_ASSURED	 (1u << 1)
#define AP_CT_FIN_ORIG	 (1u << 2) /**< The originator closed first. */
#define AP_CT_FIN_REPLY	 (1u << 3) /**< The responder closed first. */
#define AP_CT_HALF_OPEN	 (1u << 4) /**< Counted half-open at its SYN proxy destination. */
#define AP_CT_LIBERAL	 (1u << 5) /**< Out-of-window segments pass (picked up, or proxied). */
#define AP_CT_EIM	 (1u << 6) /**< Its source port is an endpoint-independent mapping's. */

/**
 * A tracked flow: two cache lines. It holds its key (the table's hash holds
 * only hashes and flow indexes). The first line has the key and all a packet
 * of an established UDP flow reads and writes; TCP's windows, translation and
 * the rest are in the second.
 */
struct __rte_cache_aligned ap_ct_flow {
	struct ap_ct_key key; /**< Family 0: a free slot. */
	uint32_t expires;     /**< Coarse ticks (rdtsc >> AP_CT_TICK_SHIFT). */
	uint32_t pkts[2];
	uint32_t bytes_lo[2]; /**< Low 32 bits of the byte counts (ap_ct_flow_bytes()). */
	uint8_t state;	      /**< TCP: enum ap_ct_tcp_state; others: 0 unreplied, 1 replied. */
	uint8_t status;	      /**< AP_CT_* bits. */
	uint8_t orig_lo : 1;  /**< The originator is the key's lower endpoint. */
	uint8_t nat : 2;      /**< AP_CT_SNAT | AP_CT_DNAT, 0: none. */
	uint8_t syn : 2;      /**< AP_CT_SYN_WAIT or AP_CT_SYN_ON, 0: not proxied. */
	uint8_t retrans;      /**< Same segment again without progress (TCP). */
	/* Second line. */
	uint32_t bytes_hi[2];
	union {
		uint32_t created;   /**< Coarse ticks. */
		uint32_t next_free; /**< A free slot: the next one in the free list. */
	};
	/* Translation (netfilter's two tuples): an originator's packet leaves
	 * as nat_saddr:nat_sport -> nat_daddr:nat_dport, and replies come back
	 * as the inverse. Set with nat != 0 only. */
	uint32_t nat_saddr, nat_daddr; /**< Network order. */
	uint16_t nat_sport, nat_dport; /**< Network order (ICMP echo: the id, twice). */
	struct ap_ct_tcp_win win[2];   /**< TCP: per direction (enum ap_ct_dir). */
	union {
		/* SYN proxy (syn != 0): waiting for the server, syn_delta is
		 * our ISN to the client and syn_tsoff our TSval; spliced, they
		 * are what the server's sequence numbers and TSvals are shifted
		 * by on the way to the client. */
		struct {
			uint32_t syn_delta, syn_tsoff;
		};
		/* syn == 0, IPv6: the firewall's memo of its classification
		 * of the flow's new packets (dp/fw/fw.c); zero (a new flow):
		 * none. An IPv4 flow's is in its key (ap_ct_flow_memo()). */
		uint32_t fw_memo[2];
	};
	uint32_t last_seg; /**< Hash of the last segment (direction, seq, ack, end, window). */
};

_Static_assert(sizeof(struct ap_ct_flow) == 128, "a flow is two cache lines");
_Static_assert(offsetof(struct ap_ct_flow, bytes_hi) == 64, "the first line is full");

_Static_assert(offsetof(struct ap_ct_key, addr_lo) + 8 == AP_CT_KEY_MEMO_OFF,
	       "the memo is the tail of an IPv4 key's lower address");

/** @p k with an IPv4 flow's memo taken out of its address tail: the key as
 * its packets have it. */
static inline void
ap_ct_key_clean(struct ap_ct_key *k)
{
	if (k->family == 4)
		memset((uint8_t *)k + AP_CT_KEY_MEMO_OFF, 0, 8);
}

/**
 * Where flow @p f keeps the firewall's memo (8 bytes, dp/fw/fw.c; zero: none):
 * an IPv4 flow in its key's unused address tail, in the first line, which
 * every packet of the flow reads anyway; an IPv6 flow, whose key is all
 * address, in fw_memo in the second line.
 */
static inline uint8_t *
ap_ct_flow_memo(struct ap_ct_flow *f)
{
	return f->key.family == 4 ? (uint8_t *)&f->key + AP_CT_KEY_MEMO_OFF : (uint8_t *)f->fw_memo;
}

/** Is slot @p f of a table a flow? */
static inline bool
ap_ct_flow_used(const struct ap_ct_flow *f)
{
	return f->key.family != 0;
}

/** The bytes flow @p f saw in direction @p dir. */
static inline uint64_t
ap_ct_flow_bytes(const struct ap_ct_flow *f, unsigned dir)
{
	return (uint64_t)f->bytes_hi[dir] << 32 | f->bytes_lo[dir];
}

/** Count a packet of @p len bytes in direction @p dir of flow @p f (the high
 * half of the byte count, in the second line, only on a carry). */
static inline void
ap_ct_flow_count(struct ap_ct_flow *f, unsigned dir, uint32_t len)
{
	uint32_t lo = f->bytes_lo[dir] + len;

	f->pkts[dir]++;
	if (unlikely(lo < len))
		f->bytes_hi[dir]++;
	f->bytes_lo[dir] = lo;
}

#define AP_CT_SYN_WAIT 1
#define AP_CT_SYN_ON   2

/** Ports hairpinned flows take on an interface's address: above the Linux
 * kernel's ephemeral range (32768-60999), which the appliance's own
 * connections use on the same address. */
#define AP_NAT_HAIRPIN_LO 61000
#define AP_NAT_HAIRPIN_HI 65535

#define AP_CT_SNAT 1 /**< The originator's source is translated (on the way out). */
#define AP_CT_DNAT 2 /**< The originator's destination is translated (on the way in). */

/** The originator's addresses and ports (network order) of flow @p f. */
static inline void
ap_ct_orig_ends(const struct ap_ct_flow *f, const uint8_t **src, const uint8_t **dst,
		uint16_t *sport, uint16_t *dport)
{
	const struct ap_ct_key *k = &f->key;

	*src = f->orig_lo ? k->addr_lo : k->addr_hi;
	*dst = f->orig_lo ? k->addr_hi : k->addr_lo;
	*sport = f->orig_lo ? k->port_lo : k->port_hi;
	*dport = f->orig_lo ? k->port_hi : k->port_lo;
}

/** Hash value of the extra key a translated flow's replies come in with. */
#define AP_CT_NAT_KEY (1u << 31)

/** Masquerade, per L3 interface (IPv4 flows leaving it take its address). */
struct ap_nat_conf {
	bool enabled;
	uint32_t addr[AP_L3_MAX]; /**< Network order; 0: no masquerade there. */
	uint16_t lo[AP_L3_MAX], hi[AP_L3_MAX];
	/* Port forwards: to the address of interface l3, proto and port. */
	struct {
		uint16_t l3;
		uint8_t proto;
		uint16_t port;	  /**< Network order. */
		uint32_t to;	  /**< Network order. */
		uint16_t to_port; /**< Network order. */
	} fwd[AP_CFG_NAT_MAX_FWD];
	unsigned n_fwd;
	uint32_t if_addr[AP_L3_MAX]; /**< First IPv4 address of each interface. */
	bool hairpin; /**< Forwards apply from inside too, with the source translated. */
	bool outside[AP_L3_MAX]; /**< Interfaces that masquerade, forward or map 1:1. */
	bool eim[AP_L3_MAX];	 /**< Masquerade there maps endpoint-independently. */
	/* With several workers, translated flows must meet one table: each
	 * worker takes ports from its slice of every range, and packets go to
	 * the worker their translation belongs to (ap_ct_owner()). */
	unsigned n_workers;
	bool steer;
	/* Addresses translations take ports on, and their ranges. */
	struct {
		uint32_t addr; /**< Network order. */
		uint16_t lo, hi;
	} xaddr[AP_L3_MAX];
	unsigned n_xaddr;
	/* 1:1 NAT: internal <-> external on the way through interface l3. */
	struct {
		uint16_t l3;
		uint32_t internal, external; /**< Network order. */
	} one[AP_CFG_NAT_MAX_ONE];
	unsigned n_one;
};

extern struct ap_nat_conf ap_nat_conf;

/** Is @p addr (network order) a 1:1 external address on L3 interface @p l3
 * (answered in ARP there, as a proxy)? */
static inline bool
ap_nat_is_external(uint16_t l3, uint32_t addr)
{
	for (unsigned i = 0; i < ap_nat_conf.n_one; i++)
		if (ap_nat_conf.one[i].external == addr && ap_nat_conf.one[i].l3 == l3)
			return true;
	return false;
}

/**
 * The egress L3 interface of IPv4 destination @p dst_be (network order) per
 * the FIB, or AP_L3_MAX. Set by the IP module, read for new flows to know
 * whether they leave by a masquerading interface.
 */
extern uint16_t (*ap_ct_egress4)(uint32_t dst_be);

#define AP_CT_TICK_SHIFT 24

/** Why a flow ended (DESTROY events). */
enum ap_ct_end {
	AP_CT_END_NONE,	    /**< Never announced (its translation failed): no event. */
	AP_CT_END_EXPIRED,  /**< Its timeout ran out. */
	AP_CT_END_EVICTED,  /**< Early drop for room, or a SYN proxy took its destination. */
	AP_CT_END_FLUSHED,  /**< `clear conntrack` (all, or matching a filter). */
	AP_CT_END_REOPENED, /**< A new connection on the same ports replaced it. */
};

/** A flow's birth or end, from a worker to the control plane (a ring per
 * worker, when conntrack.events is on). 96 bytes. */
struct ap_ct_event {
	uint8_t type;	/**< AP_CT_EV_NEW or AP_CT_EV_DESTROY. */
	uint8_t reason; /**< enum ap_ct_end (DESTROY). */
	uint8_t state;
	uint8_t orig_lo;
	uint8_t nat;
	uint8_t status;
	uint16_t worker;
	struct ap_ct_key key;
	uint16_t nat_sport, nat_dport;
	uint32_t nat_saddr, nat_daddr;
	uint32_t pkts[2];
	uint64_t bytes[2];
	uint32_t created, ended; /**< Coarse ticks. */
};

#define AP_CT_EV_NEW	 1
#define AP_CT_EV_DESTROY 2

/** Which flows `clear conntrack` takes (any field unset: any). */
struct ap_ct_filter {
	int proto;	/**< Protocol number, -1: any; 256: none of TCP/UDP/ICMP/ICMPv6. */
	uint8_t family; /**< 0: any; else the address below is one endpoint. */
	uint8_t addr[16];
	uint16_t port; /**< Host order, 0: any. */
};

/** Does flow @p f match @p flt? */
bool ap_ct_flow_match(const struct ap_ct_flow *f, const struct ap_ct_filter *flt);

/** Counters of one worker's table. */
struct ap_ct_stats {
	uint64_t created, expired, early_drop, table_full, invalid, flushed, related;
	uint64_t nat_created, nat_exhausted;
	uint64_t syn_retrans; /**< Client segments to a proxied flow before the server answered. */
	uint64_t out_of_window; /**< TCP segments outside the window (invalid unless liberal). */
	uint64_t events_lost;	/**< Events the control plane had no room for. */
	uint64_t handed_off;	/**< Packets sent to the worker owning their translation. */
	uint64_t handoff_full;	/**< ... dropped: that worker's ring was full. */
};

/** One worker's table. */
struct ap_syn_state;

struct ap_ct_table {
	struct ap_ct_hash hash; /**< Key -> flow index (| AP_CT_NAT_KEY: a reply tuple's). */
	struct ap_ct_flow *flows;
	uint32_t free_head; /**< First free slot (a list through next_free). */
	uint32_t n_free;
	/* Keys added and removed so far: a bulk lookup's answers hold while
	 * they have not moved (a hit while no key went, a miss while none came).
	 * Every flow removed counts in n_dels, so while it has not moved no
	 * slot has changed hands. */
	uint32_t n_adds, n_dels;
	uint32_t max;
	uint32_t count;
	uint32_t gc_cursor;
	uint32_t nat_cursor;	     /**< Next masquerade port to try. */
	uint16_t worker;	     /**< Its worker's index. */
	struct rte_ring *handoff;    /**< Packets other workers hand it (NAT with workers > 1). */
	struct rte_hash *eim;	     /**< Endpoint-independent mappings, both ways; NULL: none. */
	struct ap_syn_state *syn;    /**< SYN proxy state, NULL when it is off. */
	struct rte_ring *events;     /**< NEW/DESTROY events out, NULL when off. */
	struct ap_ct_filter flush_filter; /**< What the next flush takes. */
	volatile uint32_t flush_req; /**< Control plane bumps it; the worker flushes. */
	uint32_t flush_done;
	struct ap_ct_stats st;
};

/** Settings the node reads. */
struct ap_ct_conf {
	bool enabled;
	bool events; /**< Workers send NEW/DESTROY events. */
	bool tcp_loose;
	bool tcp_liberal; /**< Track windows but never call a segment invalid for them. */
	bool drop_invalid;
	uint8_t tcp_max_retrans;	 /**< Retransmissions before the short timeout. */
	uint32_t timeout[AP_TCP_STATES]; /**< Ticks per TCP state. */
	uint32_t tcp_retrans;		 /**< Ticks: timeout after max retransmissions. */
	uint32_t tcp_unack;		 /**< Ticks: timeout with data unacknowledged. */
	uint32_t udp, udp_stream, icmp, generic;
};

extern struct ap_ct_conf ap_ct_conf;
/** Per worker index; NULL when conntrack is off. */
extern struct ap_ct_table *ap_ct_tables[];

/** Context of nodes that work on their worker's table (NULL: conntrack is off). */
struct ap_ct_node_ctx {
	struct ap_ct_table *t;
};

/** The init callback of such nodes (ct, ct-handoff, and ip4/ip6-input for the
 * firewall's memo). */
int ap_ct_node_init(const struct rte_graph *graph, struct rte_node *node);

/** Registration of the ct4 / ct6 node (IPv4 and IPv6 share one). */
extern struct rte_node_register ap_ct_node;
/** The source node that feeds ct what other workers hand over (NAT on several workers). */
extern struct rte_node_register ap_ct_handoff_node;

/** A packet made ready for a table: its key and what the key is for. */
struct ap_ct_pkt {
	struct ap_ct_key k;
	uint32_t sig; /**< ap_ct_key_hash() of k (tracked kinds only). */
	uint8_t kind; /**< AP_CT_PKT_*. */
	bool src_lo;
	bool icmp_reply;
	uint8_t tcp_flags;
	uint32_t len;
	uint16_t in_l3; /**< The L3 interface it came in on (port forwards match it). */
	const uint8_t *l4; /**< Its transport header (the SYN proxy reads TCP's). */
	uint32_t l4_avail; /**< Bytes there. */
	uint32_t l4_len;   /**< Its transport bytes in all (the IP header's count). */
	uint16_t syn_mss;  /**< AP_CT_SYN_SPLICE: the MSS the cookie held. */
	bool local;	   /**< Sent by the appliance itself: no NAT, no SYN proxy. */
	/* Set by ap_ct_apply() for the packet's flow. */
	int64_t flow; /**< Its index, -1: none. */
	uint8_t dir;  /**< enum ap_ct_dir. */
};

#define AP_CT_PKT_UNTRACKED 0
#define AP_CT_PKT_FLOW	    1 /**< Its own flow. */
#define AP_CT_PKT_RELATED   2 /**< An ICMP error: the key is the quoted packet's flow. */

struct ap_pkt_info;
/** The key of one parsed IPv4/IPv6 packet (addresses at @p l3, transport
 * ports and flags in @p pi, @p len bytes). */
void ap_ct_prepare(const uint8_t *l3, const struct ap_pkt_info *pi, uint32_t len,
		   struct ap_ct_pkt *cp);
/**
 * Look up @p n keys (at most AP_CT_HASH_BULK_MAX) of table @p t, their hashes
 * in @p sigs, at once (their cache misses overlap). Bit i of the return:
 * @p keys[i] was found, its hash value (flow index, | AP_CT_NAT_KEY for a
 * reply key) in @p vals[i]; the first line of each flow found is on its way
 * to the cache.
 */
uint64_t ap_ct_lookup_bulk(const struct ap_ct_table *t, const struct ap_ct_key *const *keys,
			   const uint32_t *sigs, unsigned n, uint32_t *vals);

/** What ap_ct_apply() is told of a packet's key when a bulk lookup found
 * none and no key was added since: no flow has it. */
#define AP_CT_MISS (-2)

/**
 * Track @p cp in @p t at coarse time @p now. @p hint: the hash data (flow
 * index, with AP_CT_NAT_KEY for a reply tuple) a bulk lookup gave for its
 * key while no key has been removed since, AP_CT_MISS, or -1: look it up.
 * @return what the packet is.
 */
enum ap_ct_info ap_ct_apply(struct ap_ct_table *t, struct ap_ct_pkt *cp, int64_t hint,
			    uint32_t now);

/**
 * Note in @p pv the flow of packet @p cp, which ct said @p info of, when that
 * is new in the flow's original direction: the firewall may keep its
 * classification in the flow (dp/fw/fw.h). Any other packet gets none.
 */
static inline void
ap_ct_note_flow(const struct ap_ct_table *t, struct ap_mbuf_priv *pv, const struct ap_ct_pkt *cp,
		enum ap_ct_info info)
{
	pv->ct_flow = 0;
	if (info == AP_CT_NEW && cp->flow >= 0 && cp->dir == AP_CT_ORIG) {
		pv->ct_flow = (uint32_t)cp->flow + 1;
		pv->ct_dels = t->n_dels;
	}
}

/**
 * Rewrite the source (@p src) or destination address of the IPv4 packet at
 * @p ip to @p addr, and its TCP/UDP port or ICMP echo id to @p port (all in
 * network order), with incremental checksum updates (RFC 1624). @p l4 and
 * @p l4_avail: the transport header and the bytes there.
 */
void ap_nat_rewrite4(uint8_t *ip, uint8_t *l4, uint32_t l4_avail, uint8_t proto, bool src,
		     uint32_t addr, uint16_t port);

/**
 * ap_nat_rewrite4() on a packet parsed into @p pi (protocol from there), and
 * the port (or echo id) in @p pi made what the packet now says: the firewall,
 * which runs after, sees the translated packet whole, as netfilter's filter
 * chains see it after DNAT.
 */
void ap_nat_rewrite4_pi(struct ap_pkt_info *pi, uint8_t *ip, uint8_t *l4, uint32_t l4_avail,
			bool src, uint32_t addr, uint16_t port);

/**
 * The worker a prepared IPv4 packet @p cp belongs to when NAT runs on
 * several workers: the one whose port slice holds the translated port it is
 * addressed to, else by a hash of its outside endpoint (unchanged by any
 * translation), else of both endpoints. Both directions of a flow, before
 * and after translation, get the same answer.
 */
unsigned ap_ct_owner(const struct ap_ct_pkt *cp);

/** ap_ct_prepare() and ap_ct_apply() with a lookup of its own. */
enum ap_ct_info ap_ct_track(struct ap_ct_table *t, const uint8_t *l3, const struct ap_pkt_info *pi,
			    uint32_t len, uint32_t now);

/** Expire up to @p budget flows from the table's GC cursor. */
void ap_ct_gc(struct ap_ct_table *t, uint32_t now, unsigned budget);
/** Remove the flows @p flt matches (NULL: all; the table's worker only). */
void ap_ct_flush(struct ap_ct_table *t, const struct ap_ct_filter *flt);

/** Worker @p w, between walks: act on a flush request, expire some flows. */
void ap_ct_housekeeping(unsigned w);

/** Give table @p t room for @p n endpoint-independent mappings. 0 or -ENOMEM. */
int ap_ct_eim_create(struct ap_ct_table *t, uint32_t n);

/** Create a table of @p max flows for worker @p w, its hash room for @p keys
 * (a translated flow has two). NULL on failure. */
struct ap_ct_table *ap_ct_table_create(unsigned w, uint32_t max, uint32_t keys);
void ap_ct_table_free(struct ap_ct_table *t);

/* Control plane. */

/** Set up from @p cfg for @p n_workers workers. 0 or -errno. */
int ap_ct_start(const struct ap_config *cfg, unsigned n_workers, char *err, size_t err_len);
void ap_ct_stop(void);
/** `{"flows": [...], "total": N}` filtered (NULL: any) by protocol name, address, port. */
json_t *ap_ct_flows_json(const char *proto, const char *addr, unsigned port, unsigned limit);
/** `{"max_flows", "flows", "created", ...}` summed over the workers. */
json_t *ap_ct_stats_json(void);
/** Masquerade from @p cfg (@p l3_of_iface: L3 id per config interface), and
 * the FIB lookup new flows use. 0 or -errno. */
int ap_nat_start(const struct ap_config *cfg, const uint16_t *l3_of_iface,
		 uint16_t (*egress4)(uint32_t));

/**
 * Translate the IPv4 ICMP error at @p ip (@p avail bytes there, its header
 * checked) about flow @p f: its outer addresses as a packet going the other
 * way than the quoted one (@p quoted_orig: the quote is an originator's packet
 * as it left), the quoted header back to what its sender sent or
 * received, and the ICMP checksum. @return false when the quote is cut
 * short or the checksum was wrong (left untouched).
 */
bool ap_nat_icmp_error4(uint8_t *ip, uint32_t avail, const struct ap_ct_flow *f, bool quoted_orig);

/** Ask every worker to remove the flows @p flt matches (NULL: all).
 * @return how many there were. */
unsigned ap_ct_flush_all(const struct ap_ct_filter *flt);
/** A filter from the API's words (NULL: any). 0, or -EINVAL for a bad one. */
int ap_ct_filter_parse(const char *proto, const char *addr, unsigned port,
		       struct ap_ct_filter *flt);
/** Move the workers' events to the recent list (control plane, often). */
void ap_ct_poll(void);
/** `{"enabled", "events": [...], "new", "destroy", "lost"}`, the @p limit most recent. */
json_t *ap_ct_events_json(unsigned limit);

#endif
