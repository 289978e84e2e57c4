/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ct: connection tracking of routed IPv4 and IPv6 packets before routing,
 * where netfilter's PREROUTING conntrack sits. Reads the IP header and the
 * transport fields it keys on, tracks the packet in the worker's table
 * (state, window, counters), records what conntrack says of it for the
 * firewall, translates it when its flow is NATed (and shifts the sequence
 * numbers of a SYN-proxied flow), and hands it to ip4-input or ip6-input
 * (which also drop what is malformed). The SYN proxy's own segments go to
 * ip4-local/ip6-local. With NAT on several workers, packets whose
 * translation another worker owns are handed to it first (ct-handoff feeds
 * them back in there). Drops: a new flow with the table full; invalid
 * packets when configured so; the SYN proxy's (blocked source, bad cookie,
 * a client early); a full handoff ring.
 *
 * Uses: ap_mbuf_priv.pi (l3), l3; ap_ct_tables[worker], ap_ct_conf,
 * ap_nat_conf, ap_syn_conf.
 * Sets: pi (IP header and the transport fields conntrack keys on), ct, snat,
 * own, ip4_checked (an IPv4 header without options that ip4-input need not
 * parse again: ct has not rewritten it), ct_flow and ct_dels (the flow of a
 * new packet in its original direction, for the firewall's memo).
 * Next edges: drop, ip4-input, ip6-input, ip4-local, ip6-local.
 */
#include <rte_cycles.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/fw/fw.h"
#include "dp/syn/syn.h"

enum ct_edge {
	CT_EDGE_DROP,
	CT_EDGE_IP4,
	CT_EDGE_IP6,
	CT_EDGE_LOCAL4, /* the SYN proxy's own segments */
	CT_EDGE_LOCAL6,
	CT_EDGE_COUNT,
};

#define CT_GC_PER_CALL 8

int
ap_ct_node_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct ap_ct_node_ctx *c = (struct ap_ct_node_ctx *)node->ctx;

	RTE_SET_USED(graph);
	RTE_BUILD_BUG_ON(sizeof(struct ap_ct_node_ctx) > RTE_NODE_CTX_SZ);
	c->t = ap_worker_building ? ap_ct_tables[ap_worker_building->index] : NULL;
	return 0;
}

/* Keys per bulk lookup. */
#define CT_CHUNK AP_CT_HASH_BULK_MAX

/* Parse and key one packet; false when it goes on untracked at once. */
static __rte_always_inline bool
ct_prepare(struct rte_mbuf *m, struct ap_ct_pkt *cp)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	uint32_t len = rte_pktmbuf_data_len(m), avail;
	struct ap_pkt_info *pi = &pv->pi;
	const uint8_t *l4;
	enum ap_pkt_err e;

	pv->ct = AP_CT_UNTRACKED;
	pv->ct_flow = 0;
	pv->snat = 0;
	pv->own = 0;
	cp->kind = AP_CT_PKT_UNTRACKED;
	cp->flow = -1;
	/* The IP header as ip*-input checks it (inline for the common ones);
	 * malformed packets are ip*-input's to drop, with its reasons. A
	 * header without options that passed is not parsed again there: its
	 * parse changes nothing in pi (one with options takes the full parse,
	 * so ip4-input does it again; the transport fields stay either way). */
	if (pi->l3 == AP_L3_IPV4) {
		e = ap_pkt_parse_ip4_fast(p, len, pi);
		pv->ip4_checked = e == AP_PKT_OK && pi->l4_off == pi->l3_off + 20;
	} else {
		pv->ip4_checked = 0;
		e = ap_pkt_parse_ip6_fast(p, len, pi);
	}
	if (e != AP_PKT_OK || (pi->frag & AP_PKT_FRAG_LATER))
		return false;
	/* The transport fields conntrack keys on, nothing more. */
	l4 = p + pi->l4_off;
	avail = RTE_MIN((uint32_t)pi->l4_len, len - pi->l4_off);
	switch (pi->l4_proto) {
	case 6:
		if (avail < 20)
			return false;
		pi->tcp_flags = l4[13];
		/* fall through */
	case 17:
		if (avail < 8)
			return false;
		pi->l4_sport = (uint16_t)(l4[0] << 8 | l4[1]);
		pi->l4_dport = (uint16_t)(l4[2] << 8 | l4[3]);
		break;
	case 1:
	case 58:
		if (avail < 8)
			return false;
		pi->l4_sport = (uint16_t)(l4[0] << 8 | l4[1]);
		pi->l4_dport = (uint16_t)(l4[4] << 8 | l4[5]);
		break;
	default:
		break;
	}
	ap_ct_prepare(p + pi->l3_off, pi, rte_pktmbuf_pkt_len(m), cp);
	cp->in_l3 = pv->l3;
	cp->l4_avail = avail;
	return cp->kind != AP_CT_PKT_UNTRACKED;
}

/*
 * A translated flow. The originator's packets get their destination now,
 * before routing, and their source once the firewall has seen them (in
 * ip4-output); replies get both back now. An ICMP error about the flow is
 * translated whole here: outer addresses and the quoted header.
 */
static void
ct_nat(struct rte_mbuf *m, const struct ap_ct_flow *f, uint8_t dir, bool related)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip = p + pv->pi.l3_off,
		*l4 = p + pv->pi.l4_off;
	uint32_t avail = rte_pktmbuf_data_len(m) - pv->pi.l4_off;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t a;

	if (related || dir != AP_CT_ORIG || (f->nat & AP_CT_DNAT))
		pv->ip4_checked = 0; /* rewritten: ip4-input checks it again */
	if (related) {
		if (!ap_nat_icmp_error4(ip, rte_pktmbuf_data_len(m) - pv->pi.l3_off, f,
					dir == AP_CT_REPLY))
			pv->ct = AP_CT_INVALID;
		return;
	}
	if (dir == AP_CT_ORIG) {
		if (f->nat & AP_CT_DNAT)
			ap_nat_rewrite4_pi(&pv->pi, ip, l4, avail, false, f->nat_daddr,
					   f->nat_dport);
		if (f->nat & AP_CT_SNAT) {
			pv->snat = 1;
			pv->snat_addr = f->nat_saddr;
			pv->snat_port = f->nat_sport;
		}
		return;
	}
	ap_ct_orig_ends(f, &src, &dst, &sport, &dport);
	if (f->nat & AP_CT_SNAT) {
		memcpy(&a, src, 4);
		ap_nat_rewrite4_pi(&pv->pi, ip, l4, avail, false, a, sport);
	}
	if (f->nat & AP_CT_DNAT) {
		memcpy(&a, dst, 4);
		ap_nat_rewrite4_pi(&pv->pi, ip, l4, avail, true, a, dport);
	}
}

static rte_edge_t
ct_drop(struct ap_mbuf_priv *pv, uint16_t reason)
{
	pv->drop_reason = reason;
	return CT_EDGE_DROP;
}

/* The SYN proxy's share: segments conntrack marked as its. */
static rte_edge_t
ct_synproxy(struct rte_graph *graph, struct rte_node *node, struct ap_ct_table *t,
	    struct rte_mbuf *m, const struct ap_ct_pkt *cp, enum ap_ct_info info)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	rte_edge_t local = pv->pi.l3 == AP_L3_IPV6 ? CT_EDGE_LOCAL6 : CT_EDGE_LOCAL4;
	struct rte_mbuf *update;

	pv->ip4_checked = 0; /* answered, or rewritten into the server's SYN */
	switch (info) {
	case AP_CT_SYN_COOKIE:
		if (!ap_syn_answer(m, rte_rdtsc()))
			return ct_drop(pv, AP_DROP_SYN_MALFORMED);
		t->syn->st.cookies_sent++;
		pv->own = 1;
		return local;
	case AP_CT_SYN_SPLICE:
		if (!ap_syn_open(m, &t->flows[cp->flow], cp->syn_mss))
			return ct_drop(pv, AP_DROP_SYN_MALFORMED);
		t->syn->st.spliced++;
		pv->ct = AP_CT_NEW;
		return pv->pi.l3 == AP_L3_IPV6 ? CT_EDGE_IP6 : CT_EDGE_IP4;
	case AP_CT_SYN_SERVER:
		if (!ap_syn_server_up(m, &t->flows[cp->flow], &update))
			return ct_drop(pv, AP_DROP_SYN_MALFORMED);
		if (update != NULL)
			rte_node_enqueue_x1(graph, node, local, update);
		pv->ct = AP_CT_ESTABLISHED;
		return local;
	default:
		pv->ct = AP_CT_INVALID;
		if (cp->flow >= 0)
			return ct_drop(pv, AP_DROP_SYN_EARLY);
		return ct_drop(pv,
			       cp->tcp_flags & 0x02 ? AP_DROP_SYN_BLOCKED : AP_DROP_SYN_BAD_COOKIE);
	}
}

static __rte_always_inline rte_edge_t
ct_verdict(struct rte_mbuf *m, enum ap_ct_info info)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

	pv->ct = (uint8_t)info;
	if (unlikely(info == AP_CT_FULL))
		return ct_drop(pv, AP_DROP_CT_FULL);
	if (unlikely(info == AP_CT_INVALID) && ap_ct_conf.drop_invalid)
		return ct_drop(pv, AP_DROP_CT_INVALID);
	return pv->pi.l3 == AP_L3_IPV6 ? CT_EDGE_IP6 : CT_EDGE_IP4;
}

/*
 * NAT on several workers: hand each IPv4 packet whose translation belongs to
 * another worker to that worker's ring (VPP's NAT handoff); the others stay,
 * compacted at the front of @p objs. @return how many stay.
 */
/* Hand @p n packets to worker @p w's ring; what does not fit is dropped. */
static void
handoff(struct rte_graph *graph, struct rte_node *node, struct ap_ct_table *t, unsigned w,
	struct rte_mbuf **pkts, unsigned n)
{
	unsigned sent = rte_ring_mp_enqueue_burst(ap_ct_tables[w]->handoff, (void **)pkts, n, NULL);

	t->st.handed_off += sent;
	for (unsigned k = sent; k < n; k++) {
		ap_mbuf_priv(pkts[k])->drop_reason = AP_DROP_NAT_HANDOFF;
		rte_node_enqueue_x1(graph, node, CT_EDGE_DROP, pkts[k]);
		t->st.handoff_full++;
	}
}

static uint16_t
ct_steer(struct rte_graph *graph, struct rte_node *node, struct ap_ct_table *t, void **objs,
	 uint16_t nb_objs)
{
	struct rte_mbuf *out[AP_MAX_WORKERS][CT_CHUNK];
	unsigned n_out[AP_MAX_WORKERS] = {0};
	uint16_t keep = 0;

	for (uint16_t i = 0; i < nb_objs; i++) {
		struct rte_mbuf *m = objs[i];
		struct ap_ct_pkt cp;
		unsigned w;

		if (ap_mbuf_priv(m)->pi.l3 != AP_L3_IPV4 || !ct_prepare(m, &cp) ||
		    (w = ap_ct_owner(&cp)) == t->worker) {
			objs[keep++] = m;
			continue;
		}
		out[w][n_out[w]++] = m;
		if (n_out[w] == CT_CHUNK) {
			handoff(graph, node, t, w, out[w], n_out[w]);
			n_out[w] = 0;
		}
	}
	for (unsigned w = 0; w < ap_nat_conf.n_workers; w++)
		if (n_out[w] > 0)
			handoff(graph, node, t, w, out[w], n_out[w]);
	return keep;
}

static uint16_t
ct_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_ct_table *t = ((struct ap_ct_node_ctx *)node->ctx)->t;
	uint32_t now = (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT);
	struct ap_ct_pkt cp[CT_CHUNK];
	const struct ap_ct_key *keys[CT_CHUNK];
	uint32_t sigs[CT_CHUNK];
	uint32_t data[CT_CHUNK];
	uint8_t slot[CT_CHUNK];
	rte_edge_t nexts[CT_CHUNK];
	bool whole = true;

	if (t != NULL)
		ap_ct_gc(t, now, CT_GC_PER_CALL);
	if (unlikely(ap_nat_conf.steer) && t != NULL) {
		nb_objs = ct_steer(graph, node, t, objs, nb_objs);
		whole = false;
	}
	for (uint16_t done = 0; done < nb_objs;) {
		struct rte_mbuf **pkts = (struct rte_mbuf **)objs + done;
		uint16_t n = RTE_MIN((uint16_t)(nb_objs - done), (uint16_t)CT_CHUNK);
		uint32_t adds = 0, dels = 0;
		uint64_t hits = 0;
		unsigned nk = 0;

		/* One bulk lookup per chunk, with the hashes made here, overlaps
		 * the table's cache misses; its answers hold for the packets after
		 * while the table has not changed the way that would undo them. */
		for (uint16_t i = 0; i < n; i++) {
			slot[i] = 0xff;
			if (t != NULL && ct_prepare(pkts[i], &cp[i])) {
				/* Its bucket is on its way while the rest are
				 * parsed. */
				ap_ct_hash_prefetch(&t->hash, cp[i].sig);
				slot[i] = (uint8_t)nk;
				keys[nk] = &cp[i].k;
				sigs[nk++] = cp[i].sig;
			}
		}
		if (nk > 0) {
			adds = t->n_adds;
			dels = t->n_dels;
			hits = ap_ct_lookup_bulk(t, keys, sigs, nk, data);
		}
		/* A flow's second line: TCP's windows, the translation, and,
		 * with the firewall on, an IPv6 flow's memo (read for packets of
		 * unreplied flows; an IPv4 flow's is in the first line). */
		for (unsigned k = 0; k < nk; k++)
			if (hits & (1ull << k)) {
				const struct ap_ct_flow *f = &t->flows[data[k] & ~AP_CT_NAT_KEY];

				if (f->key.proto == 6 || f->nat ||
				    (ap_fw.enabled && !(f->status & AP_CT_SEEN_REPLY) &&
				     f->key.family != 4))
					rte_prefetch0((const char *)f + RTE_CACHE_LINE_SIZE);
			}
		for (uint16_t i = 0; i < n; i++) {
			struct ap_ct_flow *f;
			enum ap_ct_info info;
			int64_t hint;

			if (slot[i] == 0xff) {
				nexts[i] = ct_verdict(pkts[i], AP_CT_UNTRACKED);
				continue;
			}
			if (hits & (1ull << slot[i]))
				hint = t->n_dels == dels ? (int64_t)data[slot[i]] : -1;
			else
				hint = t->n_adds == adds ? AP_CT_MISS : -1;
			info = ap_ct_apply(t, &cp[i], hint, now);
			ap_ct_note_flow(t, ap_mbuf_priv(pkts[i]), &cp[i], info);
			if (unlikely(info >= AP_CT_SYN_COOKIE)) {
				nexts[i] = ct_synproxy(graph, node, t, pkts[i], &cp[i], info);
				if (info != AP_CT_SYN_SPLICE || nexts[i] == CT_EDGE_DROP)
					continue;
			} else {
				nexts[i] = ct_verdict(pkts[i], info);
			}
			if (cp[i].flow < 0)
				continue;
			f = &t->flows[cp[i].flow];
			if (unlikely(f->syn) && info != AP_CT_SYN_SPLICE &&
			    cp[i].kind != AP_CT_PKT_RELATED) {
				ap_syn_adjust(pkts[i], f, cp[i].dir);
				ap_mbuf_priv(pkts[i])->ip4_checked = 0;
			}
			if (f->nat)
				ct_nat(pkts[i], f, cp[i].dir, cp[i].kind == AP_CT_PKT_RELATED);
		}
		ap_node_enqueue_batch(graph, node, nexts, (void **)pkts, n, whole && n == nb_objs);
		done = (uint16_t)(done + n);
	}
	return nb_objs;
}

struct rte_node_register ap_ct_node = {
	.name = "ct",
	.parent_id = RTE_NODE_ID_INVALID,
	.process = ct_process,
	.init = ap_ct_node_init,
	.nb_edges = CT_EDGE_COUNT,
	.next_nodes =
		{
			[CT_EDGE_DROP] = "drop",
			[CT_EDGE_IP4] = "ip4-input",
			[CT_EDGE_IP6] = "ip6-input",
			[CT_EDGE_LOCAL4] = "ip4-local",
			[CT_EDGE_LOCAL6] = "ip6-local",
		},
};

/* ct-handoff: a source node in each worker's graph (NAT on several workers)
 * that takes the packets other workers handed this one and gives them to
 * ct, where they are this worker's to track and translate. */
static uint16_t
handoff_process(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs)
{
	struct ap_ct_table *t = ((struct ap_ct_node_ctx *)node->ctx)->t;
	void **to;
	unsigned n;

	RTE_SET_USED(objs);
	RTE_SET_USED(nb_objs);
	if (t == NULL || t->handoff == NULL || rte_ring_count(t->handoff) == 0)
		return 0;
	to = rte_node_next_stream_get(graph, node, 0, RTE_GRAPH_BURST_SIZE);
	n = rte_ring_sc_dequeue_burst(t->handoff, to, RTE_GRAPH_BURST_SIZE, NULL);
	rte_node_next_stream_put(graph, node, 0, (uint16_t)n);
	return (uint16_t)n;
}

struct rte_node_register ap_ct_handoff_node = {
	.name = "ct-handoff",
	.flags = RTE_NODE_SOURCE_F,
	.parent_id = RTE_NODE_ID_INVALID,
	.process = handoff_process,
	.init = ap_ct_node_init,
	.nb_edges = 1,
	.next_nodes = {"ct"},
};
