/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4-input: validates IPv4 headers (RFC 1812 §5.2.2), looks the burst's
 * destinations up in the FIB and forwards: TTL decrement with an incremental
 * checksum update (RFC 1624), egress MTU check, link-layer rewrite.
 * ip4-local: answers ICMP echo requests to our addresses in place.
 *
 * What needs the control plane (no route, TTL expired, too big for the
 * egress MTU, unresolved next hop, other traffic to us) goes to punt with a
 * reason.
 *
 * Uses: ap_mbuf_priv.pi (l3_off), ip4_checked (ct validated the header: not
 * parsed again), and for the firewall: ct, ct_flow (its memo, in the
 * worker's conntrack table), fw_done; ap_ip.fib4, ap_ip.nh, ap_l3_ifs.
 * Sets: drop_reason, punt, nh, ip4_checked (cleared); rewrites the Ethernet header on output.
 * Next edges: drop, punt, ip4-local and qos (input only), then one port-tx per port.
 */
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>

#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/ct/ct.h"
#include "dp/fw/fw.h"
#include "dp/ip/ip_priv.h"
#include "pkt/build.h"

enum ip4_edge {
	IP4_EDGE_DROP,
	IP4_EDGE_PUNT,
	IP4_EDGE_BRIDGE, /* AP_IP_EDGE_BRIDGE: out of a bridge interface */
	IP4_EDGE_LOCAL,
	IP4_EDGE_QOS, /* forwarded, with QoS on */
	IP4_EDGE_COUNT,
};

uint16_t ap_ip4_input_tx[AP_L3_MAX];
uint16_t ap_ip4_local_tx[AP_L3_MAX];

static __rte_always_inline rte_edge_t
punt(struct ap_mbuf_priv *pv, enum ap_punt_reason r)
{
	pv->punt = (uint8_t)r;
	return IP4_EDGE_PUNT;
}

static __rte_always_inline rte_edge_t
drop(struct ap_mbuf_priv *pv, enum ap_drop_reason r)
{
	pv->drop_reason = (uint16_t)r;
	return IP4_EDGE_DROP;
}

_Static_assert(IP4_EDGE_DROP == AP_IP_EDGE_DROP && IP4_EDGE_PUNT == AP_IP_EDGE_PUNT,
	       "ap_ip_fw_edge() gives these edges");

/* Flow hash for ECMP: addresses and protocol, and the ports of TCP/UDP
 * when this is not a fragment, so one flow always takes one path. */
static __rte_always_inline uint32_t
ip4_flow_hash(struct rte_mbuf *m, const struct ap_mbuf_priv *pv, const struct rte_ipv4_hdr *ip)
{
	uint32_t h = rte_hash_crc_4byte(ip->src_addr, ip->dst_addr ^ ip->next_proto_id);

	if ((ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) &&
	    !pv->pi.frag && (uint32_t)pv->pi.l4_off + 4 <= rte_pktmbuf_data_len(m))
		h = rte_hash_crc_4byte(ap_ip_l4_word(m, pv->pi.l4_off), h);
	/* Fold so that the low bits used by the modulo mix every input bit. */
	return h ^ (h >> 16);
}

/* The next hop itself: an ECMP group's member for this flow. */
static __rte_always_inline uint32_t
ip4_nh_pick(struct rte_mbuf *m, uint32_t nh_id)
{
	const struct ap_nh *nh = &ap_ip.nh[nh_id];
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

	if (likely(nh->type != AP_NH_ECMP))
		return nh_id;
	return nh->members[ip4_flow_hash(m, pv,
					 rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 pv->pi.l3_off)) %
			   nh->n_members];
}

/* One hop less. The TTL is the high byte of its checksummed 16-bit word: one
 * less there is 0x0100 more in the checksum, with the end-around carry
 * (RFC 1624; the same as ap_csum_update16() for every checksum value). */
static __rte_always_inline void
ip4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t c = (uint32_t)ip->hdr_checksum + RTE_BE16(0x0100);

	ip->hdr_checksum = (uint16_t)(c + (c >= 0xffff));
	ip->time_to_live--;
}

/* Send toward next hop 'nh_id'. 'forward' is false for our own replies,
 * which keep their TTL. */
static __rte_always_inline rte_edge_t
ip4_output(struct rte_mbuf *m, struct ap_mbuf_priv *pv, struct rte_ipv4_hdr *ip, uint32_t nh_id,
	   bool forward, const uint16_t *tx_edges)
{
	const struct ap_nh *nh = &ap_ip.nh[nh_id];
	const struct ap_l3_if *out;
	uint16_t tot;
	uint64_t l2;

	nh_id = ip4_nh_pick(m, nh_id);
	nh = &ap_ip.nh[nh_id];
	switch (nh->type) {
	case AP_NH_LOCAL:
		if (!forward)
			return drop(pv, AP_DROP_NO_SERVICE);
		if (unlikely(ap_fw.enabled))
			return ap_ip_fw_edge(pv,
					     ap_fw_check(pv, (const uint8_t *)ip, AP_FW_TO_SELF),
					     IP4_EDGE_LOCAL);
		return IP4_EDGE_LOCAL;
	case AP_NH_BLACKHOLE:
		return drop(pv, AP_DROP_IP_BLACKHOLE);
	case AP_NH_UNREACH:
		return punt(pv, AP_PUNT_NO_ROUTE);
	default:
		break;
	}
	if (forward && unlikely(ap_fw.enabled)) {
		rte_edge_t e = ap_ip_fw_edge(pv, ap_fw_check(pv, (const uint8_t *)ip, nh->port),
					     IP4_EDGE_COUNT);

		if (e != IP4_EDGE_COUNT)
			return e;
	}
	if (forward && ip->time_to_live <= 1)
		return punt(pv, AP_PUNT_TTL);
	out = &ap_l3_ifs[nh->port];
	tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tot > out->mtu)) {
		pv->nh = nh_id;
		if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))
			return punt(pv, AP_PUNT_FRAG_NEEDED);
		/* Fragmenting allocates: the control plane does it (RFC 791 §3.2)
		 * and sends the fragments back through here. */
		return punt(pv, AP_PUNT_FRAGMENT);
	}
	l2 = __atomic_load_n(&nh->l2, __ATOMIC_ACQUIRE);
	if (!(l2 & AP_NH_L2_VALID)) {
		pv->nh = nh_id;
		return punt(pv, AP_PUNT_RESOLVE);
	}
	if (forward)
		ip4_ttl_dec(ip);
	/* Masquerade: the way out takes the flow's translated source. */
	if (unlikely(pv->snat)) {
		uint32_t hl = (uint32_t)(ip->version_ihl & 0xf) * 4;

		ap_nat_rewrite4((uint8_t *)ip, (uint8_t *)ip + hl, tot > hl ? tot - hl : 0,
				ip->next_proto_id, true, pv->snat_addr, pv->snat_port);
		pv->snat = 0;
	}
	/* Whatever tags came in, the egress interface's go out, and Ethernet
	 * padding of the incoming frame is not carried on. */
	if (unlikely(!ap_l3_if_encap(m, pv, out, l2, RTE_BE16(RTE_ETHER_TYPE_IPV4), tot)))
		return drop(pv, AP_DROP_L2_NO_BUFFER);
	return ap_ip_out_edge(pv, nh_id, forward, tx_edges[nh->port], IP4_EDGE_QOS);
}

/*
 * ip4_output() of a forwarded packet to a 'fast' next hop (ap_nh_fast) when
 * no QoS or masquerade has a say (the firewall, when on, has let it through
 * with its chunk): TTL left, within the egress MTU, no tags or padding to
 * change. @return false, nothing changed, when the packet needs ip4_output().
 */
static __rte_always_inline bool
ip4_forward_fast(struct rte_mbuf *m, uint32_t nh_id, struct ap_nh_fast *c, rte_edge_t *next)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	struct rte_ipv4_hdr *ip;
	uint16_t tot;

	if (unlikely(nh_id != c->id))
		ap_nh_fast_fill(c, nh_id, RTE_BE16(RTE_ETHER_TYPE_IPV4), ap_ip4_input_tx);
	if (unlikely(!c->fast) || unlikely(pv->snat))
		return false;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pv->pi.l3_off);
	tot = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(ip->time_to_live <= 1) || unlikely(tot > c->mtu) ||
	    !ap_nh_fast_encap(m, pv, c, tot))
		return false;
	ip4_ttl_dec(ip);
	*next = c->edge;
	return true;
}

static __rte_always_inline bool
bad_source(uint32_t src_be)
{
	uint8_t first = (uint8_t)(rte_be_to_cpu_32(src_be) >> 24);

	/* RFC 1812 §5.3.7: no loopback, multicast or broadcast sources. */
	return first == 127 || first >= 224;
}

static uint16_t
ip4_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_ct_table *ct = ((struct ap_ct_node_ctx *)node->ctx)->t;
	uint32_t dst[AP_NODE_CHUNK];
	uint64_t nhs[AP_NODE_CHUNK];
	rte_edge_t nexts[AP_NODE_CHUNK];
	struct ap_nh_fast nhc;
	bool plain;

	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)AP_NODE_CHUNK);

		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
			const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
			const struct rte_ipv4_hdr *ip;
			enum ap_pkt_err e;

			dst[i] = 0;
			nexts[i] = IP4_EDGE_COUNT; /* decided after the lookup */
			/* ct checked the header already: the same parse would
			 * change nothing in pi. */
			if (pv->ip4_checked) {
				pv->ip4_checked = 0;
			} else {
				e = ap_pkt_parse_ip4_fast(p, rte_pktmbuf_data_len(m), &pv->pi);
				if (unlikely(e != AP_PKT_OK)) {
					nexts[i] = drop(pv, (enum ap_drop_reason)e);
					continue;
				}
			}
			ip = (const struct rte_ipv4_hdr *)(p + pv->pi.l3_off);
			if (unlikely(bad_source(ip->src_addr))) {
				nexts[i] = drop(pv, AP_DROP_IP_BAD_SRC);
				continue;
			}
			dst[i] = rte_be_to_cpu_32(ip->dst_addr);
			if (unlikely(dst[i] >= 0xe0000000u)) {
				nexts[i] = drop(pv, AP_DROP_IP_MCAST);
				continue;
			}
		}
		rte_fib_lookup_bulk(ap_ip.fib4, dst, nhs, n);
		if (unlikely(ap_fw.enabled)) {
			uint32_t picked[AP_NODE_CHUNK];

			for (uint16_t i = 0; i < n; i++)
				picked[i] = nexts[i] == IP4_EDGE_COUNT
						    ? ip4_nh_pick(pkts[i], (uint32_t)nhs[i])
						    : 0;
			ap_ip_fw_chunk(ct, pkts, picked, nexts, n, IP4_EDGE_COUNT);
		}
		/* What the firewall refused has its edge already; what it let
		 * through is done with it. */
		plain = !ap_qos.enabled;
		nhc.id = UINT32_MAX;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

			if (nexts[i] != IP4_EDGE_COUNT)
				continue;
			if (likely(plain) &&
			    likely(ip4_forward_fast(m, (uint32_t)nhs[i], &nhc, &nexts[i])))
				continue;
			nexts[i] = ip4_output(
				m, pv,
				rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pv->pi.l3_off),
				(uint32_t)nhs[i], true, ap_ip4_input_tx);
		}
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

static __rte_always_inline rte_edge_t
ip4_local_one(struct rte_mbuf *m)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, pv->pi.l3_off);
	uint32_t len = rte_pktmbuf_data_len(m) - pv->pi.l3_off;
	uint64_t nh;
	uint32_t dst;

	if (unlikely(pv->own))
		goto out; /* made by the data plane (SYN proxy): send it */
	if (ip->next_proto_id != IPPROTO_ICMP)
		return punt(pv, AP_PUNT_LOCAL);
	if (pv->pi.frag ||
	    ap_icmp4_echo_to_reply((uint8_t *)ip,
				   RTE_MIN(len, (uint32_t)rte_be_to_cpu_16(ip->total_length))) != 0)
		return drop(pv, AP_DROP_ICMP_NOT_ECHO);
out:
	dst = rte_be_to_cpu_32(ip->dst_addr);
	rte_fib_lookup_bulk(ap_ip.fib4, &dst, &nh, 1);
	return ip4_output(m, pv, ip, (uint32_t)nh, false, ap_ip4_local_tx);
}

static uint16_t
ip4_local_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	for (uint16_t i = 0; i < nb_objs; i++)
		ap_node_enqueue_x1(graph, node, ip4_local_one(objs[i]), objs[i]);
	return nb_objs;
}

struct rte_node_register ap_ip4_input_node = {
	.name = "ip4-input",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip4_input_process,
	.init = ap_ct_node_init,
	.nb_edges = IP4_EDGE_COUNT,
	.next_nodes =
		{
			[IP4_EDGE_DROP] = "drop",
			[IP4_EDGE_PUNT] = "punt",
			[IP4_EDGE_BRIDGE] = "l2-bridge",
			[IP4_EDGE_LOCAL] = "ip4-local",
			[IP4_EDGE_QOS] = "qos",
		},
};

struct rte_node_register ap_ip4_local_node = {
	.name = "ip4-local",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ip4_local_process,
	.nb_edges = 3,
	.next_nodes =
		{
			[IP4_EDGE_DROP] = "drop",
			[IP4_EDGE_PUNT] = "punt",
			[IP4_EDGE_BRIDGE] = "l2-bridge",
		},
};
