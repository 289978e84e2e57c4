/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth-input: parses each frame's Ethernet header and VLAN tags (down to L4
 * when the port asks for full validation) into the mbuf private area, drops
 * malformed frames with the parser's reason, and sends the rest to the
 * service of its port and tags: the port's routed interface (untagged), a
 * VLAN interface, a bridge member, or the port's cross-connect. A
 * cross-connected port with `validate: none` is a wire: only frames too short
 * for an Ethernet header drop, and no frame's data is read.
 *
 * Uses: mbuf port, data; ap_ports_fast[port], ap_l2_binds, ap_l3_ifs.
 * Sets: ap_mbuf_priv.pi, l3 or l2_in, drop_reason on drops.
 * Next edges: drop, xconnect, ip4-input, ip6-input, punt (ARP), l2-bridge, ct
 * (routed IP when connection tracking is on).
 */
#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/ip/ip.h"
#include "dp/l2/l2.h"

enum eth_input_edge {
	ETH_INPUT_EDGE_DROP,
	ETH_INPUT_EDGE_XCONNECT,
	ETH_INPUT_EDGE_IP4,
	ETH_INPUT_EDGE_IP6,
	ETH_INPUT_EDGE_PUNT,
	ETH_INPUT_EDGE_BRIDGE,
	ETH_INPUT_EDGE_CT,
	ETH_INPUT_EDGE_COUNT,
};

static const rte_edge_t l3_edge[2][4] = {
	{
		[AP_L3C_DROP] = ETH_INPUT_EDGE_DROP,
		[AP_L3C_IP4] = ETH_INPUT_EDGE_IP4,
		[AP_L3C_IP6] = ETH_INPUT_EDGE_IP6,
		[AP_L3C_ARP] = ETH_INPUT_EDGE_PUNT,
	},
	/* With connection tracking, IP goes through it first. */
	{
		[AP_L3C_DROP] = ETH_INPUT_EDGE_DROP,
		[AP_L3C_IP4] = ETH_INPUT_EDGE_CT,
		[AP_L3C_IP6] = ETH_INPUT_EDGE_CT,
		[AP_L3C_ARP] = ETH_INPUT_EDGE_PUNT,
	},
};

static __rte_always_inline rte_edge_t
eth_input_l3(struct ap_mbuf_priv *pv, const uint8_t *p, uint16_t l3)
{
	pv->l3 = l3;
	return l3_edge[ap_ct_conf.enabled][ap_l3_classify(pv, p, ap_l3_ifs[l3].mac)];
}

/* Ports with bridges or VLAN interfaces: the tags pick the binding. */
static __rte_always_inline rte_edge_t
eth_input_bind(struct ap_mbuf_priv *pv, const uint8_t *p, const struct ap_port_fast *pf)
{
	const struct ap_l2_bind *b;
	uint16_t id = pf->untagged;

	if (pv->pi.n_vlan) {
		id = pf->vlans ? pf->vlans[pv->pi.vlan[0] & 0xfff] : 0;
		if (ap_l2_binds[id].kind == AP_BIND_QINQ)
			id = pv->pi.n_vlan > 1 ? ap_l2_binds[id].inner[pv->pi.vlan[1] & 0xfff] : 0;
	}
	b = &ap_l2_binds[id];
	switch (b->kind) {
	case AP_BIND_BRIDGE:
		/* Tags beyond the member's are payload to the bridge. */
		pv->l2_in = b->id;
		return ETH_INPUT_EDGE_BRIDGE;
	case AP_BIND_L3:
		if (likely(pv->pi.n_vlan == b->n_tags))
			return eth_input_l3(pv, p, b->id);
		break;
	default:
		break;
	}
	pv->drop_reason = AP_DROP_VLAN_UNKNOWN;
	return ETH_INPUT_EDGE_DROP;
}

#define FULL_PARSE (AP_PARSE_L3 | AP_PARSE_L4 | AP_PARSE_IP4_CSUM)

/* A tag the driver took off (af_packet gets it from the kernel apart from the
 * frame) goes back in: bridges and VLAN interfaces match it, and a
 * cross-connect sends the frame on as it came. In place: a direct mbuf that is
 * not shared. */
static void
eth_input_unstrip(struct rte_mbuf *m)
{
	if (rte_mbuf_refcnt_read(m) == 1 && rte_vlan_insert(&m) == 0)
		m->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_VLAN);
}

static __rte_always_inline rte_edge_t
eth_input_one(struct rte_mbuf *m)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ap_port_fast *pf = &ap_ports_fast[m->port];
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	enum ap_pkt_err e;

	if (unlikely(m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
		eth_input_unstrip(m);
		p = rte_pktmbuf_mtod(m, const uint8_t *);
	}
	/* Headers are parsed in the first segment only: PMDs put at least the
	 * first 2 KiB there, far more than any header chain we accept. */
	if (unlikely(pf->validate_full))
		e = ap_pkt_parse(p, rte_pktmbuf_data_len(m), FULL_PARSE, &pv->pi);
	else
		e = ap_pkt_parse_l2(p, rte_pktmbuf_data_len(m), &pv->pi);
	if (unlikely(e != AP_PKT_OK)) {
		pv->drop_reason = (uint16_t)e;
		return ETH_INPUT_EDGE_DROP;
	}
	ap_mbuf_priv_fresh(pv);
	if (pf->l3 && likely(pv->pi.n_vlan == 0))
		return eth_input_l3(pv, p, m->port);
	if (pf->l2)
		return eth_input_bind(pv, p, pf);
	if (unlikely(pf->l3)) {
		pv->drop_reason = AP_DROP_VLAN_UNKNOWN;
		return ETH_INPUT_EDGE_DROP;
	}
	if (unlikely(!pf->has_xconnect)) {
		pv->drop_reason = AP_DROP_NO_SERVICE;
		return ETH_INPUT_EDGE_DROP;
	}
	return ETH_INPUT_EDGE_XCONNECT;
}

/* Packets ahead whose header is fetched while the current ones are handled. */
#define PREFETCH_AHEAD 4

static __rte_always_inline void
eth_input_prefetch(struct rte_mbuf **pkts, uint16_t i, uint16_t n)
{
	if (likely(i + PREFETCH_AHEAD < n))
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
}

/* 0x8100 and 0x9100 differ in one bit; 0x88a8 is the other tag. */
static __rte_always_inline bool
eth_is_tag(uint16_t et_be)
{
	return (et_be & ~RTE_BE16(0x1000)) == RTE_BE16(0x8100) || et_be == RTE_BE16(0x88a8);
}

/*
 * Whether eth_input_one() sends @p m, from a cross-connect port, on to
 * xconnect without a look past the Ethernet header: from @p port (the
 * run's), plain, untagged. Each test is a branch the predictor learns.
 */
static __rte_always_inline bool
eth_xc_plain(const struct rte_mbuf *m, uint16_t port)
{
	uint16_t et;

	if (unlikely(m->port != port) || unlikely(!ap_frame_plain(m)))
		return false;
	memcpy(&et, rte_pktmbuf_mtod_offset(m, const uint8_t *, 12), 2);
	return likely(!eth_is_tag(et));
}

/*
 * The run of packets from one cross-connect port (no bridge, no routed
 * interface, no full validation) starting at @p i, four at a time where
 * four in a row are plain: a plain frame goes to xconnect as it is, nothing
 * downstream reads the private area; the others take eth_input_one().
 * @return the run's end.
 */
static __rte_always_inline uint16_t
eth_input_xc_run(struct rte_mbuf **pkts, uint16_t i, uint16_t n, rte_edge_t *nexts)
{
	const uint16_t port = pkts[i]->port;

	while (i < n && pkts[i]->port == port) {
		if (likely(i + 4 <= n)) {
			if (likely(i + 4 + PREFETCH_AHEAD <= n)) {
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 5], void *));
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 6], void *));
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 7], void *));
			}
			if (likely(eth_xc_plain(pkts[i], port) && eth_xc_plain(pkts[i + 1], port) &&
				   eth_xc_plain(pkts[i + 2], port) &&
				   eth_xc_plain(pkts[i + 3], port))) {
				nexts[i] = ETH_INPUT_EDGE_XCONNECT;
				nexts[i + 1] = ETH_INPUT_EDGE_XCONNECT;
				nexts[i + 2] = ETH_INPUT_EDGE_XCONNECT;
				nexts[i + 3] = ETH_INPUT_EDGE_XCONNECT;
				i += 4;
				continue;
			}
		}
		eth_input_prefetch(pkts, i, n);
		nexts[i] = eth_xc_plain(pkts[i], port) ? ETH_INPUT_EDGE_XCONNECT
						       : eth_input_one(pkts[i]);
		i++;
	}
	return i;
}

/*
 * The run of packets from a `validate: none` cross-connect port starting at
 * @p i: a wire, as testpmd's io forwarding is. Only the mbuf is read: a frame
 * with a whole Ethernet header goes to xconnect as it is (a tag the driver
 * took off back in first), a shorter one drops as eth-runt. @return the run's
 * end.
 */
static __rte_always_inline uint16_t
eth_input_wire_run(struct rte_mbuf **pkts, uint16_t i, uint16_t n, rte_edge_t *nexts)
{
	const uint16_t port = pkts[i]->port;

	for (; i < n && pkts[i]->port == port; i++) {
		struct rte_mbuf *m = pkts[i];

		nexts[i] = ETH_INPUT_EDGE_XCONNECT;
		if (likely(ap_frame_plain(m)))
			continue;
		if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)
			eth_input_unstrip(m);
		if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
			ap_mbuf_priv(m)->drop_reason = AP_PKT_ERR_ETH_RUNT;
			nexts[i] = ETH_INPUT_EDGE_DROP;
		}
	}
	return i;
}

/*
 * The run of packets from one port with a routed interface on its untagged
 * frames (and no full validation) starting at @p i: untagged IPv4 and IPv6
 * to the interface's MAC or a group address are stored as eth_input_one()
 * stores them, with the port's MAC and the edges read once for the run;
 * anything else takes eth_input_one(). @return the run's end.
 */
static __rte_always_inline uint16_t
eth_input_l3_run(struct rte_mbuf **pkts, uint16_t i, uint16_t n, rte_edge_t *nexts)
{
	const uint16_t port = pkts[i]->port;
	const rte_edge_t e4 = l3_edge[ap_ct_conf.enabled][AP_L3C_IP4];
	const rte_edge_t e6 = l3_edge[ap_ct_conf.enabled][AP_L3C_IP6];
	const struct ap_fib6 *fib6 = ap_ip.fib6;
	uint32_t mac4;
	uint16_t mac2;

	memcpy(&mac4, ap_l3_ifs[port].mac, 4);
	memcpy(&mac2, ap_l3_ifs[port].mac + 4, 2);
	for (; i < n && pkts[i]->port == port; i++) {
		struct rte_mbuf *m = pkts[i];
		struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t d4;
		uint16_t d2, et;
		uint8_t l3;

		eth_input_prefetch(pkts, i, n);
		if (unlikely(!ap_frame_plain(m)))
			goto slow;
		memcpy(&d4, p, 4);
		memcpy(&d2, p + 4, 2);
		memcpy(&et, p + 12, 2);
		if (likely(et == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
			l3 = AP_L3_IPV4;
		} else if (et == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
			l3 = AP_L3_IPV6;
			/* The FIB's first read for the destination, on its way
			 * while the rest of the burst is classified. */
			if (fib6 != NULL &&
			    likely(rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN + 40))
				ap_fib6_prefetch(fib6, p + RTE_ETHER_HDR_LEN + 24);
		} else {
			goto slow;
		}
		/* Unicast for another MAC: eth_input_one() says why it drops it. */
		if (unlikely(!(p[0] & 1) && ((d4 ^ mac4) | (uint16_t)(d2 ^ mac2)) != 0))
			goto slow;
		pv->pi.n_vlan = 0;
		pv->pi.l3 = l3;
		pv->pi.ethertype = rte_be_to_cpu_16(et);
		pv->pi.l3_off = RTE_ETHER_HDR_LEN;
		ap_mbuf_priv_fresh(pv);
		pv->l3 = port;
		nexts[i] = l3 == AP_L3_IPV4 ? e4 : e6;
		continue;
	slow:
		nexts[i] = eth_input_one(m);
	}
	return i;
}

/* Any other port's run starting at @p i, a packet at a time. */
static __rte_always_inline uint16_t
eth_input_any_run(struct rte_mbuf **pkts, uint16_t i, uint16_t n, rte_edge_t *nexts)
{
	const uint16_t port = pkts[i]->port;

	for (; i < n && pkts[i]->port == port; i++) {
		eth_input_prefetch(pkts, i, n);
		nexts[i] = eth_input_one(pkts[i]);
	}
	return i;
}

/* Is a port cross-connected plainly, with `validate: l2` (tags are looked
 * for)? A wire's plain bursts never get here: port-rx sends them on itself. */
static __rte_always_inline bool
eth_xc_l2(const struct ap_port_fast *pf)
{
	return pf->has_xconnect && !pf->validate_none && !pf->l2 && !pf->l3 && !pf->validate_full;
}

/*
 * Whether every packet of @p pkts comes from a `validate: l2` cross-connect
 * port and would go on to xconnect as it is (eth_xc_plain()): then the stream
 * goes to xconnect whole, and nothing is written for any packet. The ports'
 * settings are read once a run.
 */
static __rte_always_inline bool
eth_input_all_xc(struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t port = pkts[0]->port;
	bool xc = eth_xc_l2(&ap_ports_fast[port]);
	uint64_t bad = 0;

	for (uint16_t i = 0; i < n && xc; i++) {
		const struct rte_mbuf *m = pkts[i];

		if (unlikely(m->port != port)) {
			port = m->port;
			xc = eth_xc_l2(&ap_ports_fast[port]);
			if (!xc)
				break;
		}
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		bad |= !eth_xc_plain(m, port);
	}
	return xc && bad == 0;
}

/*
 * port-rx hands over each RX queue's burst in one piece, so packets come in
 * runs from one port: each run is classified by the kind of its port once,
 * as VPP's ethernet-input does for a frame from one interface.
 */
static uint16_t
eth_input_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	rte_edge_t nexts[AP_NODE_CHUNK];

	if (likely(!ap_trace_active) && likely(nb_objs > 0) &&
	    eth_input_all_xc((struct rte_mbuf **)objs, nb_objs)) {
		rte_node_next_stream_move(graph, node, ETH_INPUT_EDGE_XCONNECT);
		return nb_objs;
	}
	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)AP_NODE_CHUNK);

		/* Runs that read headers fetch them PREFETCH_AHEAD packets ahead,
		 * into the next run too; a wire run reads none. */
		bool fetched = false;

		for (uint16_t i = 0; i < n;) {
			const struct ap_port_fast *pf = &ap_ports_fast[pkts[i]->port];

			if (pf->validate_none) {
				i = eth_input_wire_run(pkts, i, n, nexts);
				fetched = false;
				continue;
			}
			if (!fetched)
				for (uint16_t k = i; k < i + PREFETCH_AHEAD && k < n; k++)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[k], void *));
			fetched = true;
			if (pf->validate_full)
				i = eth_input_any_run(pkts, i, n, nexts);
			else if (pf->l3)
				i = eth_input_l3_run(pkts, i, n, nexts);
			else if (pf->has_xconnect && !pf->l2)
				i = eth_input_xc_run(pkts, i, n, nexts);
			else
				i = eth_input_any_run(pkts, i, n, nexts);
		}
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

struct rte_node_register ap_eth_input_node = {
	.name = "eth-input",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = eth_input_process,
	.nb_edges = ETH_INPUT_EDGE_COUNT,
	.next_nodes =
		{
			[ETH_INPUT_EDGE_DROP] = "drop",
			[ETH_INPUT_EDGE_XCONNECT] = "xconnect",
			[ETH_INPUT_EDGE_IP4] = "ip4-input",
			[ETH_INPUT_EDGE_IP6] = "ip6-input",
			[ETH_INPUT_EDGE_PUNT] = "punt",
			[ETH_INPUT_EDGE_BRIDGE] = "l2-bridge",
			[ETH_INPUT_EDGE_CT] = "ct",
		},
};
