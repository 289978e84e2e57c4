/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l2-bridge: forwarding in bridge domains (VPP's l2-learn, l2-fwd,
 * l2-flood and l2-output in one node). For each frame: look its source and
 * destination up in the MAC table (one bulk lookup per chunk), report an
 * unknown or moved source to the control plane, then send it to the
 * destination's member, flood it (broadcast, multicast, unknown unicast) to
 * every other member, or hand it to the bridge's L3 interface (BVI). Tags
 * of the member it came from come off and those of the member it leaves by
 * go on.
 *
 * Uses: ap_mbuf_priv.l2_in; ap_l2 (MAC table), ap_l2_members, ap_bds.
 * Sets: l3 for frames to the BVI; drop_reason.
 * Next edges: drop, ip4-input, ip6-input, punt (ARP to the BVI), then one
 * port-tx per port.
 */
#include <rte_lcore.h>

#include "dp/core/dp_core.h"
#include "dp/ip/ip.h"
#include "dp/l2/l2.h"

enum l2_bridge_edge {
	L2_EDGE_DROP,
	L2_EDGE_IP4,
	L2_EDGE_IP6,
	L2_EDGE_PUNT,
	L2_EDGE_COUNT,
};

static const rte_edge_t l3_edge[] = {
	[AP_L3C_DROP] = L2_EDGE_DROP,
	[AP_L3C_IP4] = L2_EDGE_IP4,
	[AP_L3C_IP6] = L2_EDGE_IP6,
	[AP_L3C_ARP] = L2_EDGE_PUNT,
};

/* Keys per bulk lookup: a source and a destination per frame. */
#define L2_CHUNK (RTE_HASH_LOOKUP_BULK_MAX / 2)

static __rte_always_inline rte_edge_t
drop(struct ap_mbuf_priv *pv, enum ap_drop_reason r)
{
	pv->drop_reason = (uint16_t)r;
	return L2_EDGE_DROP;
}

/* Out of member @p out_id. */
static __rte_always_inline rte_edge_t
l2_out(struct rte_mbuf *m, struct ap_mbuf_priv *pv, const struct ap_l2_member *in, uint16_t out_id,
       struct ap_l2_stats *st)
{
	const struct ap_l2_member *out = &ap_l2_members[out_id];

	if (unlikely(out->bvi)) {
		pv->l3 = out->l3;
		return l3_edge[ap_l3_classify(pv, rte_pktmbuf_mtod(m, const uint8_t *),
					      ap_l3_ifs[out->l3].mac)];
	}
	if (unlikely(!ap_l2_retag(m, in->n_tags, out->tags, out->n_tags)))
		return drop(pv, AP_DROP_L2_NO_BUFFER);
	st->member_tx[out_id]++;
	return out->tx_edge;
}

/* To every member but the one it came from; the BVI gets only broadcast
 * and multicast. Copies go now, the frame itself to the last member. */
static __rte_noinline rte_edge_t
l2_flood(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf *m,
	 struct ap_mbuf_priv *pv, bool to_bvi, struct ap_l2_stats *st)
{
	const struct ap_l2_member *in = &ap_l2_members[pv->l2_in];
	const struct ap_bd *bd = &ap_bds[in->bd];
	uint16_t last = 0;

	st->flooded[in->bd]++;
	for (uint16_t k = 0; k < bd->n_members; k++) {
		uint16_t id = bd->members[k];
		struct rte_mbuf *c;

		if (id == pv->l2_in || (!to_bvi && ap_l2_members[id].bvi))
			continue;
		if (last != 0) {
			c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
			if (unlikely(c == NULL)) {
				st->copy_failed++;
			} else {
				*ap_mbuf_priv(c) = *pv;
				ap_node_enqueue_x1(graph, node,
						   l2_out(c, ap_mbuf_priv(c), in, last, st), c);
			}
		}
		last = id;
	}
	if (last == 0)
		return drop(pv, AP_DROP_L2_FLOOD_EMPTY);
	return l2_out(m, pv, in, last, st);
}

/* Tell the control plane that @p key was seen on @p member, at most once
 * per tick per source on this lcore. */
static __rte_always_inline void
l2_report(struct ap_l2_stats *st, uint64_t key, uint16_t member, uint32_t now)
{
	unsigned slot = (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 58);
	struct ap_l2_learn_ev ev = {.key = key, .member = member};

	if (st->recent_key[slot] == key && st->recent_member[slot] == member &&
	    st->recent_tick[slot] == now)
		return;
	st->recent_key[slot] = key;
	st->recent_member[slot] = member;
	st->recent_tick[slot] = now;
	if (rte_ring_mp_enqueue_elem(ap_l2.learn, &ev, sizeof(ev)) != 0)
		st->learn_lost++;
}

static __rte_always_inline rte_edge_t
l2_bridge_one(struct rte_graph *graph, struct rte_node *node, struct rte_mbuf *m,
	      const uint64_t *keys, const int32_t *pos, uint32_t now, struct ap_l2_stats *st)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct ap_l2_member *in = &ap_l2_members[pv->l2_in];
	const struct ap_bd *bd = &ap_bds[in->bd];
	struct ap_mac_entry *e;

	st->member_rx[pv->l2_in]++;
	if (unlikely(p[6] & 1))
		return drop(pv, AP_DROP_L2_SRC_GROUP);
	/* Learning: the control plane writes the table, we only report. */
	if (likely(pos[0] >= 0) && (e = &ap_l2.entries[pos[0]])->member != 0) {
		if (unlikely(e->member != pv->l2_in) && !e->is_static)
			l2_report(st, keys[0], pv->l2_in, now);
		else if (unlikely(e->seen != now))
			e->seen = now;
	} else if (bd->learn) {
		l2_report(st, keys[0], pv->l2_in, now);
	}
	if (unlikely(p[0] & 1))
		return l2_flood(graph, node, m, pv, true, st);
	if (likely(pos[1] >= 0) && (e = &ap_l2.entries[pos[1]])->member != 0) {
		if (unlikely(e->member == pv->l2_in))
			return drop(pv, AP_DROP_L2_SAME_MEMBER);
		return l2_out(m, pv, in, e->member, st);
	}
	if (!bd->flood)
		return drop(pv, AP_DROP_L2_UNKNOWN_UCAST);
	return l2_flood(graph, node, m, pv, false, st);
}

static uint16_t
l2_bridge_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_l2_stats *st = &ap_l2_stats[rte_lcore_id()];
	uint32_t now = (uint32_t)(rte_rdtsc() >> AP_MAC_TICK_SHIFT);
	rte_edge_t nexts[L2_CHUNK];
	uint64_t keys[2 * L2_CHUNK];
	const void *kp[2 * L2_CHUNK];
	int32_t pos[2 * L2_CHUNK];

	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)L2_CHUNK);

		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *p;

			/* Two stages ahead: the mbuf, then its data and private area. */
			if (i + 8 < n)
				rte_prefetch0(pkts[i + 8]);
			if (i + 4 < n) {
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
				rte_prefetch0(ap_mbuf_priv(pkts[i + 4]));
			}
			p = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
			uint16_t bd = ap_l2_members[ap_mbuf_priv(pkts[i])->l2_in].bd;

			keys[2 * i] = ap_l2_key(bd, p + 6);
			keys[2 * i + 1] = ap_l2_key(bd, p);
			kp[2 * i] = &keys[2 * i];
			kp[2 * i + 1] = &keys[2 * i + 1];
		}
		rte_hash_lookup_bulk(ap_l2.macs, kp, 2u * n, pos);
		for (uint16_t i = 0; i < n; i++)
			nexts[i] = l2_bridge_one(graph, node, pkts[i], &keys[2 * i], &pos[2 * i],
						 now, st);
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

struct rte_node_register ap_l2_bridge_node = {
	.name = "l2-bridge",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = l2_bridge_process,
	.nb_edges = L2_EDGE_COUNT,
	.next_nodes =
		{
			[L2_EDGE_DROP] = "drop",
			[L2_EDGE_IP4] = "ip4-input",
			[L2_EDGE_IP6] = "ip6-input",
			[L2_EDGE_PUNT] = "punt",
		},
};
