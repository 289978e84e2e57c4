/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip6-input: validates IPv6 headers (and the extension header chain),
 * forwards by FIB lookup with hop-limit decrement (RFC 8200 §3) and the
 * egress MTU check (routers never fragment IPv6: packet-too-big instead,
 * RFC 8201), and sends traffic for us to ip6-local.
 * ip6-local: answers ICMPv6 echo requests in place; neighbour discovery and
 * other traffic for us go to the control plane.
 *
 * Uses: ap_mbuf_priv.pi, and for the firewall: ct, ct_flow (its memo, in
 * the worker's conntrack table), fw_done; ap_ip.fib6, ap_ip.nh, ap_l3_ifs.
 * Sets: drop_reason, punt, nh; rewrites the Ethernet header on output.
 * Next edges: drop, punt, ip6-local and qos (input only), then one port-tx per port.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>

#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/fw/fw.h"
#include "dp/ip/ip_priv.h"
#include "pkt/build.h"

enum ip6_edge {
	IP6_EDGE_DROP,
	IP6_EDGE_PUNT,
	IP6_EDGE_BRIDGE, /* AP_IP_EDGE_BRIDGE: out of a bridge interface */
	IP6_EDGE_LOCAL,
	IP6_EDGE_QOS, /* forwarded, with QoS on */
	IP6_EDGE_COUNT,
};

#define ICMP6_ECHO_REQUEST 128
#define ND_FIRST	   133 /* router solicitation */
#define ND_LAST		   137 /* redirect */

uint16_t ap_ip6_input_tx[AP_L3_MAX];
uint16_t ap_ip6_local_tx[AP_L3_MAX];

static __rte_always_inline rte_edge_t
punt(struct ap_mbuf_priv *pv, enum ap_punt_reason r)
{
	pv->punt = (uint8_t)r;
	return IP6_EDGE_PUNT;
}

static __rte_always_inline rte_edge_t
drop(struct ap_mbuf_priv *pv, enum ap_drop_reason r)
{
	pv->drop_reason = (uint16_t)r;
	return IP6_EDGE_DROP;
}

_Static_assert(IP6_EDGE_DROP == AP_IP_EDGE_DROP && IP6_EDGE_PUNT == AP_IP_EDGE_PUNT,
	       "ap_ip_fw_edge() gives these edges");

static __rte_always_inline bool
is_link_local(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Flow hash for ECMP (see ip4-input), over both addresses, the upper-layer
 * protocol and TCP/UDP ports. */
static __rte_always_inline uint32_t
ip6_flow_hash(struct rte_mbuf *m, const struct ap_mbuf_priv *pv, const struct rte_ipv6_hdr *ip)
{
	uint32_t h = rte_hash_crc(ip->src_addr, 32, pv->pi.l4_proto);

	if ((pv->pi.l4_proto == IPPROTO_TCP || pv->pi.l4_proto == IPPROTO_UDP) && !pv->pi.frag &&
	    pv->pi.l4_off && (uint32_t)pv->pi.l4_off + 4 <= rte_pktmbuf_data_len(m))
		h = rte_hash_crc_4byte(ap_ip_l4_word(m, pv->pi.l4_off), h);
	return h ^ (h >> 16);
}

/* The next hop itself: an ECMP group's member for this flow. */
static __rte_always_inline uint32_t
ip6_nh_pick(struct rte_mbuf *m, uint32_t nh_id)
{
	const struct ap_nh *nh = &ap_ip.nh[nh_id];
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

	if (likely(nh->type != AP_NH_ECMP))
		return nh_id;
	return nh->members[ip6_flow_hash(m, pv,
					 rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *,
								 pv->pi.l3_off)) %
			   nh->n_members];
}

static __rte_always_inline rte_edge_t
ip6_output(struct rte_mbuf *m, struct ap_mbuf_priv *pv, struct rte_ipv6_hdr *ip, uint32_t nh_id,
	   bool forward, const uint16_t *tx_edges)
{
	const struct ap_nh *nh = &ap_ip.nh[nh_id];
	const struct ap_l3_if *out;
	uint32_t tot;
	uint64_t l2;

	nh_id = ip6_nh_pick(m, nh_id);
	nh = &ap_ip.nh[nh_id];
	switch (nh->type) {
	case AP_NH_LOCAL:
		if (!forward)
			return drop(pv, AP_DROP_NO_SERVICE);
		if (unlikely(ap_fw.enabled))
			return ap_ip_fw_edge(pv,
					     ap_fw_check(pv, (const uint8_t *)ip, AP_FW_TO_SELF),
					     IP6_EDGE_LOCAL);
		return IP6_EDGE_LOCAL;
	case AP_NH_BLACKHOLE:
		return drop(pv, AP_DROP_IP_BLACKHOLE);
	case AP_NH_UNREACH:
		return punt(pv, AP_PUNT_NO_ROUTE);
	default:
		break;
	}
	if (forward && unlikely(ap_fw.enabled)) {
		rte_edge_t e = ap_ip_fw_edge(pv, ap_fw_check(pv, (const uint8_t *)ip, nh->port),
					     IP6_EDGE_COUNT);

		if (e != IP6_EDGE_COUNT)
			return e;
	}
	if (forward && ip->hop_limits <= 1)
		return punt(pv, AP_PUNT_TTL);
	out = &ap_l3_ifs[nh->port];
	tot = (uint32_t)rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip);
	if (unlikely(tot > out->mtu)) {
		pv->nh = nh_id;
		return punt(pv, AP_PUNT_FRAG_NEEDED);
	}
	l2 = __atomic_load_n(&nh->l2, __ATOMIC_ACQUIRE);
	if (!(l2 & AP_NH_L2_VALID)) {
		pv->nh = nh_id;
		return punt(pv, AP_PUNT_RESOLVE);
	}
	if (forward)
		ip->hop_limits--;
	/* Whatever tags came in, the egress interface's go out. */
	if (unlikely(!ap_l3_if_encap(m, pv, out, l2, RTE_BE16(RTE_ETHER_TYPE_IPV6), tot)))
		return drop(pv, AP_DROP_L2_NO_BUFFER);
	return ap_ip_out_edge(pv, nh_id, forward, tx_edges[nh->port], IP6_EDGE_QOS);
}

/*
 * ip6_output() of a forwarded packet to a 'fast' next hop (ap_nh_fast) when
 * QoS has no say (the firewall, when on, has let it through with its
 * chunk): hop limit left, within the egress MTU, no tags or padding to
 * change. @return false, nothing changed, when the packet needs
 * ip6_output().
 */
static __rte_always_inline bool
ip6_forward_fast(struct rte_mbuf *m, uint32_t nh_id, struct ap_nh_fast *c, rte_edge_t *next)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	struct rte_ipv6_hdr *ip;
	uint32_t tot;

	if (unlikely(nh_id != c->id))
		ap_nh_fast_fill(c, nh_id, RTE_BE16(RTE_ETHER_TYPE_IPV6), ap_ip6_input_tx);
	if (unlikely(!c->fast))
		return false;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pv->pi.l3_off);
	tot = (uint32_t)rte_be_to_cpu_16(ip->payload_len) + sizeof(*ip);
	if (unlikely(ip->hop_limits <= 1) || unlikely(tot > c->mtu) ||
	    !ap_nh_fast_encap(m, pv, c, tot))
		return false;
	ip->hop_limits--;
	*next = c->edge;
	return true;
}

/* Multicast groups a router listens to: all-nodes, all-routers and the
 * solicited-node groups (RFC 4291 §2.7.1). */
static __rte_always_inline bool
mcast_for_us(const uint8_t *a)
{
	static const uint8_t pfx[11] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	if (memcmp(a, pfx, sizeof(pfx)) != 0)
		return false;
	if (a[11] == 0 && a[12] == 0 && a[13] == 0 && a[14] == 0 && (a[15] == 1 || a[15] == 2))
		return true;
	return a[11] == 1 && a[12] == 0xff;
}

static __rte_always_inline rte_edge_t
ip6_input_pre(struct rte_mbuf *m, uint8_t dst[16])
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv6_hdr *ip;
	enum ap_pkt_err e;

	e = ap_pkt_parse_ip6_fast(p, rte_pktmbuf_data_len(m), &pv->pi);
	if (unlikely(e != AP_PKT_OK))
		return drop(pv, (enum ap_drop_reason)e);
	ip = (const struct rte_ipv6_hdr *)(p + pv->pi.l3_off);
	if (unlikely(ip->src_addr[0] == 0xff))
		return drop(pv, AP_DROP_IP_BAD_SRC);
	if (unlikely(ip->dst_addr[0] == 0xff)) {
		if (mcast_for_us(ip->dst_addr) && pv->pi.l4_proto == IPPROTO_ICMPV6)
			return IP6_EDGE_LOCAL;
		return drop(pv, AP_DROP_IP_MCAST);
	}
	if (unlikely(is_link_local(ip->dst_addr))) {
		if (memcmp(ip->dst_addr, ap_l3_ifs[pv->l3].ll6, 16) == 0)
			return IP6_EDGE_LOCAL;
		return drop(pv, AP_DROP_IP6_LL_FWD);
	}
	memcpy(dst, ip->dst_addr, 16);
	return IP6_EDGE_COUNT;
}

static uint16_t
ip6_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_ct_table *ct = ((struct ap_ct_node_ctx *)node->ctx)->t;
	uint8_t dst[AP_NODE_CHUNK][16];
	uint64_t nhs[AP_NODE_CHUNK];
	rte_edge_t nexts[AP_NODE_CHUNK];
	struct ap_nh_fast nhc;
	bool plain;

	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)AP_NODE_CHUNK);

		for (uint16_t i = 0; i < n; i++) {
			/* Only the packets to route have their destination copied;
			 * the others are looked up as :: and their edge kept. */
			nexts[i] = ip6_input_pre(pkts[i], dst[i]);
			if (nexts[i] != IP6_EDGE_COUNT)
				memset(dst[i], 0, 16);
		}
		ap_fib6_lookup_bulk(ap_ip.fib6, dst, nhs, n);
		if (unlikely(ap_fw.enabled)) {
			uint32_t picked[AP_NODE_CHUNK];

			for (uint16_t i = 0; i < n; i++)
				picked[i] = nexts[i] == IP6_EDGE_COUNT
						    ? ip6_nh_pick(pkts[i], (uint32_t)nhs[i])
						    : 0;
			ap_ip_fw_chunk(ct, pkts, picked, nexts, n, IP6_EDGE_COUNT);
		}
		/* What the firewall refused has its edge already; what it let
		 * through is done with it. */
		plain = !ap_qos.enabled;
		nhc.id = UINT32_MAX;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

			if (nexts[i] != IP6_EDGE_COUNT)
				continue;
			if (likely(plain) &&
			    likely(ip6_forward_fast(m, (uint32_t)nhs[i], &nhc, &nexts[i])))
				continue;
			nexts[i] = ip6_output(
				m, pv,
				rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pv->pi.l3_off),
				(uint32_t)nhs[i], true, ap_ip6_input_tx);
		}
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

static __rte_always_inline rte_edge_t
ip6_local_one(struct rte_mbuf *m)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, pv->pi.l3_off);
	const struct ap_l3_if *lp = &ap_l3_ifs[pv->l3];
	uint32_t len = rte_pktmbuf_data_len(m) - pv->pi.l3_off;
	uint8_t dst[16], type;
	uint64_t nh;

	if (unlikely(pv->own))
		goto out; /* made by the data plane (SYN proxy): send it */
	if (pv->pi.l4_proto != IPPROTO_ICMPV6 || pv->pi.frag)
		return punt(pv, AP_PUNT_LOCAL);
	/* ip6-input parsed to L3; the ICMPv6 header is checked here. */
	if (ap_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
			 AP_PARSE_L3 | AP_PARSE_L4, &pv->pi) != AP_PKT_OK)
		return drop(pv, AP_DROP_PKT_ICMP6_TRUNC);
	type = (uint8_t)(pv->pi.l4_sport >> 8);
	if (type >= ND_FIRST && type <= ND_LAST)
		return punt(pv, AP_PUNT_ND);
	if (type != ICMP6_ECHO_REQUEST)
		return drop(pv, AP_DROP_ICMP_NOT_ECHO);
	len = RTE_MIN(len, (uint32_t)rte_be_to_cpu_16(ip->payload_len) + (uint32_t)sizeof(*ip));
	/* A request to a group is answered from our link-local address. */
	if (ap_icmp6_echo_to_reply((uint8_t *)ip, len, ip->dst_addr[0] == 0xff ? lp->ll6 : NULL) !=
	    0)
		return drop(pv, AP_DROP_ICMP_NOT_ECHO);
out:
	memcpy(dst, ip->dst_addr, 16);
	if (is_link_local(dst)) {
		/* Link-local neighbours are reached on the port they came from. */
		nh = ap_ip_ll6_nh(pv->l3, dst);
	} else {
		ap_fib6_lookup_bulk(ap_ip.fib6, &dst, &nh, 1);
	}
	return ip6_output(m, pv, ip, (uint32_t)nh, false, ap_ip6_local_tx);
}

static uint16_t
ip6_local_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	for (uint16_t i = 0; i < nb_objs; i++)
		ap_node_enqueue_x1(graph, node, ip6_local_one(objs[i]), objs[i]);
	return nb_objs;
}

struct rte_node_register ap_ip6_input_node = {
	.name = "ip6-input",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip6_input_process,
	.init = ap_ct_node_init,
	.nb_edges = IP6_EDGE_COUNT,
	.next_nodes =
		{
			[IP6_EDGE_DROP] = "drop",
			[IP6_EDGE_PUNT] = "punt",
			[IP6_EDGE_BRIDGE] = "l2-bridge",
			[IP6_EDGE_LOCAL] = "ip6-local",
			[IP6_EDGE_QOS] = "qos",
		},
};

struct rte_node_register ap_ip6_local_node = {
	.name = "ip6-local",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip6_local_process,
	.nb_edges = 3,
	.next_nodes =
		{
			[IP6_EDGE_DROP] = "drop",
			[IP6_EDGE_PUNT] = "punt",
			[IP6_EDGE_BRIDGE] = "l2-bridge",
		},
};
