/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dp/ip. */
#ifndef AP_IP_PRIV_H
#define AP_IP_PRIV_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp/ct/ct.h"
#include "dp/fw/fw.h"
#include "dp/ip/ip.h"
#include "dp/qos/qos.h"

/* Per-port edges of each node to the port-tx clones (ap_dp_link_tx). */
/* Per-L3-interface edges of each node: to the port-tx clone of the
 * interface's port, or to l2-bridge for a BVI. */
extern uint16_t ap_ip4_input_tx[AP_L3_MAX];
extern uint16_t ap_ip4_local_tx[AP_L3_MAX];
extern uint16_t ap_ip6_input_tx[AP_L3_MAX];
extern uint16_t ap_ip6_local_tx[AP_L3_MAX];
extern uint16_t ap_inject_tx[AP_L3_MAX];
/* The static edges of ip4/ip6-input and -local: drop, punt, l2-bridge; and
 * inject's l2-bridge edge. */
#define AP_IP_EDGE_DROP	      0
#define AP_IP_EDGE_PUNT	      1
#define AP_IP_EDGE_BRIDGE     2
#define AP_INJECT_EDGE_BRIDGE 1
/* inject's edges back into ip4-input [0] and ip6-input [1]. */
extern uint16_t ap_ip_inject_reinput[2];

/* tx_port values of injected packets that go back into routing. */
#define INJECT_IP4_INPUT 0xfffe
#define INJECT_IP6_INPUT 0xfffd

/* Kernel side of the punt path (netlink.c). 0 or -errno. */
int ap_nl_addr_add(const char *ifname, const struct ap_cfg_prefix *p);
int ap_nl_addr_del(const char *ifname, const struct ap_cfg_prefix *p);
int ap_nl_link_up(const char *ifname, unsigned mtu);

/* The transport header's first 4 bytes (the ports) of @p m at @p l4_off,
 * as they are in memory: read with no alignment assumed. */
static __rte_always_inline uint32_t
ap_ip_l4_word(const struct rte_mbuf *m, uint16_t l4_off)
{
	uint32_t w;

	memcpy(&w, rte_pktmbuf_mtod_offset(m, const uint8_t *, l4_off), 4);
	return w;
}

/*
 * Put the Ethernet header (with the VLAN tags of interface @p out) in front
 * of the L3 header at pv->pi.l3_off, whatever tags came in, dropping the
 * incoming frame's Ethernet padding (@p l3_len: the L3 packet's length).
 * Sets what a BVI's bridge needs. @return false without headroom.
 */
static __rte_always_inline bool
ap_l3_if_encap(struct rte_mbuf *m, struct ap_mbuf_priv *pv, const struct ap_l3_if *out, uint64_t l2,
	       uint16_t ethertype_be, uint32_t l3_len)
{
	uint16_t hl = (uint16_t)(RTE_ETHER_HDR_LEN + 4 * out->n_tags);
	uint8_t *p;

	if (likely(pv->pi.l3_off >= hl))
		rte_pktmbuf_adj(m, (uint16_t)(pv->pi.l3_off - hl));
	else if (rte_pktmbuf_prepend(m, (uint16_t)(hl - pv->pi.l3_off)) == NULL)
		return false;
	if (rte_pktmbuf_pkt_len(m) > l3_len + hl)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_pkt_len(m) - l3_len - hl));
	pv->pi.l3_off = hl;
	p = rte_pktmbuf_mtod(m, uint8_t *);
	/* The MAC is l2's low six bytes, first byte lowest. */
	l2 = rte_cpu_to_le_64(l2);
	memcpy(p, &l2, 6);
	memcpy(p + 6, out->mac, 6);
	if (unlikely(out->n_tags)) {
		memcpy(p + 12, &out->tags[0], 4);
		if (out->n_tags > 1)
			memcpy(p + 16, &out->tags[1], 4);
	}
	memcpy(p + hl - 2, &ethertype_be, 2);
	pv->l2_in = out->l2_member;
	return true;
}

/*
 * What forwarding to one next hop needs, read once for the packets of a
 * chunk that go to it (ip4/ip6-input, VPP's adjacency rewrite): a resolved
 * neighbour on an untagged interface, its Ethernet header ready to copy.
 * Anything else (ECMP, local, unresolved, tagged) is not 'fast' and takes
 * the node's full output path. The MAC is read when the chunk first meets
 * the next hop; the chunk's later packets are sent as if they came at once.
 */
struct ap_nh_fast {
	uint32_t id; /**< Next hop cached, UINT32_MAX: none yet. */
	bool fast;
	rte_edge_t edge;    /**< The node's edge to the interface's port-tx. */
	uint16_t mtu;	    /**< Of the egress interface. */
	uint16_t l2_member; /**< ap_mbuf_priv.l2_in on output (ap_l3_if_encap). */
	uint8_t hdr[RTE_ETHER_HDR_LEN];
};

static __rte_always_inline void
ap_nh_fast_fill(struct ap_nh_fast *c, uint32_t nh_id, uint16_t ethertype_be,
		const uint16_t *tx_edges)
{
	const struct ap_nh *nh = &ap_ip.nh[nh_id];
	const struct ap_l3_if *out;
	uint64_t l2;

	c->id = nh_id;
	c->fast = false;
	if (nh->type != AP_NH_NEIGH)
		return;
	out = &ap_l3_ifs[nh->port];
	l2 = __atomic_load_n(&nh->l2, __ATOMIC_ACQUIRE);
	if (out->n_tags || !(l2 & AP_NH_L2_VALID))
		return;
	l2 = rte_cpu_to_le_64(l2);
	memcpy(c->hdr, &l2, 6);
	memcpy(c->hdr + 6, out->mac, 6);
	memcpy(c->hdr + 12, &ethertype_be, 2);
	c->edge = tx_edges[nh->port];
	c->mtu = out->mtu;
	c->l2_member = out->l2_member;
	c->fast = true;
}

/*
 * The output of a forwarded packet to next hop @p c whose L3 header of
 * @p l3_len bytes follows an untagged Ethernet header and ends the frame, as
 * the full path does it (ap_l3_if_encap() with nothing to move or trim):
 * the Ethernet header written, the edge set. @return false, with nothing
 * changed, when the packet needs the full path.
 */
static __rte_always_inline bool
ap_nh_fast_encap(struct rte_mbuf *m, struct ap_mbuf_priv *pv, const struct ap_nh_fast *c,
		 uint32_t l3_len)
{
	if (unlikely(pv->pi.l3_off != RTE_ETHER_HDR_LEN) ||
	    unlikely(rte_pktmbuf_pkt_len(m) != l3_len + RTE_ETHER_HDR_LEN))
		return false;
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), c->hdr, RTE_ETHER_HDR_LEN);
	pv->l2_in = c->l2_member;
	return true;
}

/* The firewall's verdict as an edge of ip4/ip6-input or -local: @p pass
 * when accepted, punt for a reject (the control plane answers), else drop. */
static __rte_always_inline rte_edge_t
ap_ip_fw_edge(struct ap_mbuf_priv *pv, enum ap_fw_action a, rte_edge_t pass)
{
	if (likely(a == AP_FW_ACCEPT))
		return pass;
	if (a == AP_FW_REJECT) {
		pv->punt = AP_PUNT_REJECT;
		return AP_IP_EDGE_PUNT;
	}
	pv->drop_reason = AP_DROP_FW_DROP;
	return AP_IP_EDGE_DROP;
}

/* The last edge of a routed packet: its port's (@p tx), or with QoS on and
 * the packet forwarded, @p qos with the next hop in pv->nh. */
static __rte_always_inline rte_edge_t
ap_ip_out_edge(struct ap_mbuf_priv *pv, uint32_t nh_id, bool forward, rte_edge_t tx, rte_edge_t qos)
{
	if (unlikely(ap_qos.enabled) && forward) {
		pv->nh = nh_id;
		return qos;
	}
	return tx;
}

/*
 * The firewall on a chunk of ip4/ip6-input after its lookups, in one
 * classification: @p nh_ids are the next hops picked for the packets whose
 * edge in @p nexts is still @p pending; those the firewall refuses get their
 * drop or punt edge, the others go on to output, where the check finds them
 * done. @p ct: the worker's conntrack table.
 */
static __rte_always_inline void
ap_ip_fw_chunk(struct ap_ct_table *ct, struct rte_mbuf **pkts, const uint32_t *nh_ids,
	       rte_edge_t *nexts, uint16_t n, rte_edge_t pending)
{
	struct ap_mbuf_priv *pvs[AP_NODE_CHUNK];
	const uint8_t *hdrs[AP_NODE_CHUNK];
	uint16_t outs[AP_NODE_CHUNK], at[AP_NODE_CHUNK];
	enum ap_fw_action v[AP_NODE_CHUNK];
	unsigned k = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct ap_mbuf_priv *pv;
		const struct ap_nh *nh;

		if (nexts[i] != pending)
			continue;
		nh = &ap_ip.nh[nh_ids[i]];
		if (nh->type == AP_NH_BLACKHOLE || nh->type == AP_NH_UNREACH)
			continue;
		pv = ap_mbuf_priv(pkts[i]);
		pvs[k] = pv;
		hdrs[k] = rte_pktmbuf_mtod_offset(pkts[i], const uint8_t *, pv->pi.l3_off);
		outs[k] = nh->type == AP_NH_LOCAL ? AP_FW_TO_SELF : nh->port;
		at[k++] = i;
	}
	ap_fw_check_burst(ct, pvs, hdrs, outs, k, v);
	for (unsigned j = 0; j < k; j++)
		if (v[j] != AP_FW_ACCEPT)
			nexts[at[j]] = ap_ip_fw_edge(pvs[j], v[j], pending);
}

static inline uint64_t
ap_mac_to_nh_l2(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 5; i >= 0; i--)
		v = v << 8 | mac[i];
	return v | AP_NH_L2_VALID;
}

static inline void
ap_nh_l2_to_mac(uint64_t l2, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(l2 >> (8 * i));
}

/* Next hop for a link-local destination on 'port': the neighbour's host
 * route when it is known on that port, else the port's link-local glean. */
static inline uint64_t
ap_ip_ll6_nh(uint16_t port, uint8_t dst[16])
{
	uint8_t key[1][16];
	uint64_t nh = 0;

	memcpy(key[0], dst, 16);
	ap_fib6_lookup_bulk(ap_ip.fib6, key, &nh, 1);
	if (nh != 0 && ap_ip.nh[nh].type == AP_NH_NEIGH && ap_ip.nh[nh].port == port &&
	    memcmp(ap_ip.nh[nh].addr, dst, 16) == 0)
		return nh;
	return ap_l3_ifs[port].ll_glean;
}

#endif
