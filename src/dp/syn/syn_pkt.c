/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SYN proxy on packets: the ct node hands it the segments conntrack
 * marked as the proxy's, and it rewrites them in place (a SYN into the
 * cookie SYN/ACK, the client's ACK into the SYN to the server, the server's
 * SYN/ACK into the handshake's last ACK) or makes one (the client's window
 * update), and shifts the sequence numbers of spliced flows.
 */
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/syn/syn.h"
#include "dp/syn/syn_priv.h"
#include "pkt/pkt.h"

/* The TCP header of a packet conntrack parsed, and its length. */
static uint8_t *
tcp_of(struct rte_mbuf *m, uint32_t *hlen)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	uint32_t avail = rte_pktmbuf_data_len(m) - pv->pi.l4_off;
	uint8_t *tcp = rte_pktmbuf_mtod_offset(m, uint8_t *, pv->pi.l4_off);

	if (avail < 20 || (uint32_t)(tcp[12] >> 4) * 4 > avail)
		return NULL;
	*hlen = (uint32_t)(tcp[12] >> 4) * 4;
	return tcp;
}

/* The segment's addresses, from the IP header at @p l3. */
static void
seg_addrs(const uint8_t *l3, struct ap_syn_seg *s, bool swap)
{
	size_t alen = s->family == 4 ? 4 : 16;
	const uint8_t *src = l3 + (s->family == 4 ? 12 : 8), *dst = src + alen;

	memcpy(s->src, swap ? dst : src, alen);
	memcpy(s->dst, swap ? src : dst, alen);
}

/* Write @p s over the packet's L3 header onwards. */
static bool
emit(struct rte_mbuf *m, const struct ap_syn_seg *s)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	uint32_t cap, len;

	if (m->nb_segs != 1)
		return false;
	cap = m->buf_len - m->data_off - pv->pi.l3_off;
	len = ap_syn_emit(rte_pktmbuf_mtod_offset(m, uint8_t *, pv->pi.l3_off), cap, s);
	if (len == 0)
		return false;
	m->data_len = (uint16_t)(pv->pi.l3_off + len);
	m->pkt_len = m->data_len;
	pv->pi.l4_off = (uint16_t)(pv->pi.l3_off + (s->family == 4 ? 20 : 40));
	pv->pi.l4_len = (uint16_t)(len - (s->family == 4 ? 20 : 40));
	return true;
}

static uint32_t
now_ms(uint64_t tsc)
{
	return (uint32_t)(tsc / (ap_syn_conf.tsc_hz / 1000));
}

bool
ap_syn_answer(struct rte_mbuf *m, uint64_t now_tsc)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off);
	struct ap_syn_seg s = {.family = pv->pi.l3 == AP_L3_IPV4 ? 4 : 6};
	struct ap_syn_opts client;
	uint32_t hlen, cisn;
	uint8_t *tcp = tcp_of(m, &hlen);

	if (tcp == NULL)
		return false;
	ap_syn_parse_opts(tcp, hlen, &client);
	cisn = ap_rd32be(tcp + 4);
	seg_addrs(l3, &s, true);
	memcpy(&s.sport, tcp + 2, 2);
	memcpy(&s.dport, tcp, 2);
	/* The cookie is the client's view of the connection. */
	s.seq = ap_syn_cookie(ap_syn_conf.key, s.family, s.dst, s.src, s.dport, s.sport, cisn,
			      (uint32_t)(now_tsc / ap_syn_conf.tsc_hz) >> 6,
			      (client.has & AP_SYN_OPT_MSS) ? client.mss : 536);
	s.ack = cisn + 1;
	s.flags = TCP_SYN | TCP_ACK;
	s.window = 0; /* until the server is there (the window update opens it) */
	s.o.has = AP_SYN_OPT_MSS;
	s.o.mss = ap_syn_conf.mss;
	if (client.has & AP_SYN_OPT_TS) {
		/* The timestamp keeps what the client offered. */
		s.o.has |= AP_SYN_OPT_TS | (client.has & AP_SYN_OPT_SACK);
		s.o.tsval = ap_syn_ts_cookie(now_ms(now_tsc), &client);
		s.o.tsecr = client.tsval;
		if (client.has & AP_SYN_OPT_WSCALE) {
			s.o.has |= AP_SYN_OPT_WSCALE;
			s.o.wscale = ap_syn_conf.wscale;
		}
	}
	return emit(m, &s);
}

bool
ap_syn_open(struct rte_mbuf *m, struct ap_ct_flow *f, uint16_t mss)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off);
	struct ap_syn_seg s = {.family = pv->pi.l3 == AP_L3_IPV4 ? 4 : 6};
	struct ap_syn_opts ack;
	uint32_t hlen;
	uint8_t *tcp = tcp_of(m, &hlen);

	if (tcp == NULL)
		return false;
	ap_syn_parse_opts(tcp, hlen, &ack);
	seg_addrs(l3, &s, false);
	memcpy(&s.sport, tcp, 2);
	memcpy(&s.dport, tcp + 2, 2);
	s.seq = ap_rd32be(tcp + 4) - 1;
	s.ack = 0;
	s.flags = TCP_SYN;
	s.window = (uint16_t)(tcp[14] << 8 | tcp[15]);
	s.o.has = AP_SYN_OPT_MSS;
	s.o.mss = mss;
	if (ack.has & AP_SYN_OPT_TS) {
		/* Window scale and SACK came back in the timestamp we sent. */
		ap_syn_ts_decode(ack.tsecr, &s.o);
		s.o.has |= AP_SYN_OPT_TS;
		s.o.tsval = ack.tsval;
		s.o.tsecr = 0;
	}
	f->syn_delta = ap_rd32be(tcp + 8) - 1; /* our ISN, until the server's is known */
	f->syn_tsoff = (ack.has & AP_SYN_OPT_TS) ? ack.tsecr : 0;
	return emit(m, &s);
}

bool
ap_syn_server_up(struct rte_mbuf *m, struct ap_ct_flow *f, struct rte_mbuf **update)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m), *pv2;
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off);
	struct ap_syn_seg to_srv = {.family = pv->pi.l3 == AP_L3_IPV4 ? 4 : 6};
	struct ap_syn_seg to_cli = {.family = to_srv.family};
	const uint8_t *csrc, *cdst;
	struct ap_syn_opts sa;
	uint32_t hlen, sseq, sack;
	uint16_t win;
	struct rte_mbuf *w;
	uint8_t *tcp = tcp_of(m, &hlen);

	*update = NULL;
	if (tcp == NULL)
		return false;
	ap_syn_parse_opts(tcp, hlen, &sa);
	sseq = ap_rd32be(tcp + 4);
	sack = ap_rd32be(tcp + 8);
	win = (uint16_t)(tcp[14] << 8 | tcp[15]);
	/* From now on the server's numbers are shifted to the client's view. */
	to_cli.seq = f->syn_delta + 1;
	f->syn_delta = sseq - f->syn_delta;
	to_cli.o.tsval = f->syn_tsoff;
	f->syn_tsoff = (sa.has & AP_SYN_OPT_TS) && f->syn_tsoff ? sa.tsval - f->syn_tsoff : 0;
	f->syn = AP_CT_SYN_ON;

	/* The window update to the client, from the address it knows. */
	w = rte_pktmbuf_alloc(m->pool);
	if (w != NULL) {
		ap_ct_orig_ends(f, &csrc, &cdst, &to_cli.dport, &to_cli.sport);
		memcpy(to_cli.src, cdst, to_cli.family == 4 ? 4 : 16);
		memcpy(to_cli.dst, csrc, to_cli.family == 4 ? 4 : 16);
		to_cli.ack = sack;
		to_cli.flags = TCP_ACK;
		to_cli.window = (uint16_t)(win >> ap_syn_conf.wscale);
		to_cli.o.has = sa.has & AP_SYN_OPT_TS;
		to_cli.o.tsecr = sa.tsecr;
		pv2 = ap_mbuf_priv(w);
		memset(pv2, 0, sizeof(*pv2));
		pv2->pi.l3 = pv->pi.l3;
		pv2->l3 = pv->l3;
		pv2->own = 1;
		pv2->ct = AP_CT_ESTABLISHED;
		if (!emit(w, &to_cli)) {
			rte_pktmbuf_free(w);
			w = NULL;
		}
	}

	/* The handshake's last ACK to the server, in its own address space. */
	seg_addrs(l3, &to_srv, true);
	memcpy(&to_srv.sport, tcp + 2, 2);
	memcpy(&to_srv.dport, tcp, 2);
	to_srv.seq = sack;
	to_srv.ack = sseq + 1;
	to_srv.flags = TCP_ACK;
	to_srv.window = win;
	to_srv.o.has = sa.has & AP_SYN_OPT_TS;
	to_srv.o.tsval = sa.tsecr;
	to_srv.o.tsecr = sa.tsval;
	if (!emit(m, &to_srv)) {
		rte_pktmbuf_free(w);
		return false;
	}
	pv->own = 1;
	*update = w;
	return true;
}

void
ap_syn_adjust(struct rte_mbuf *m, struct ap_ct_flow *f, uint8_t dir)
{
	uint32_t hlen;
	uint8_t *tcp = tcp_of(m, &hlen);

	if (tcp == NULL)
		return;
	if (f->syn == AP_CT_SYN_WAIT) {
		/* The server refused (a reset while we waited): to the client
		 * it must come at the sequence number we gave it. */
		if (dir != AP_CT_REPLY || !(tcp[13] & TCP_RST))
			return;
		f->syn_delta = ap_rd32be(tcp + 4) - (f->syn_delta + 1);
		f->syn_tsoff = 0;
		f->syn = AP_CT_SYN_ON;
	}
	ap_syn_seqadj(tcp, hlen, dir == AP_CT_REPLY, f->syn_delta, f->syn_tsoff);
}
