/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking: the TCP state machine through the sequences
 * netfilter's tracker goes through (handshake, orderly close from either
 * side, simultaneous open, resets, reopening, invalid and ignored segments),
 * and the table: both directions on one flow, counters, UDP and ICMP echo,
 * timeouts, the table limit with early drop.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_ring_elem.h>

#include "dp/core/eal_test.h"
#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "pkt/build.h"
#include "pkt/pkt.h"

#define SYN    0x02
#define SYNACK 0x12
#define ACK    0x10
#define FIN    0x11
#define RST    0x04
#define O      AP_CT_ORIG
#define R      AP_CT_REPLY

struct step {
	enum ap_ct_dir dir;
	uint8_t flags;
	enum ap_ct_tcp_state want;
};

struct seq {
	const char *what;
	struct step s[10];
	unsigned n;
};

/* A state machine walk, carrying "who closed first" as the tracker does. */
static void
walk(const struct seq *q, bool loose)
{
	enum ap_ct_tcp_state s = AP_TCP_NONE;
	int closer = -1;

	for (unsigned i = 0; i < q->n; i++) {
		const struct step *st = &q->s[i];
		enum ap_ct_tcp_seg seg = ap_ct_tcp_seg_of(st->flags);
		enum ap_ct_tcp_state n = ap_ct_tcp_next(s, st->dir, seg, closer, loose);

		cr_expect_eq(n, st->want, "%s, step %u: %s -> %s, want %s", q->what, i + 1,
			     ap_ct_tcp_state_name(s), ap_ct_tcp_state_name(n),
			     ap_ct_tcp_state_name(st->want));
		if (n >= AP_TCP_STATES)
			continue;
		if (seg == AP_SEG_FIN && closer < 0)
			closer = (int)st->dir;
		s = n;
	}
}

static const struct seq seqs[] = {
	{"handshake, data, close by the client",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {R, ACK, AP_TCP_ESTABLISHED},
	  {O, FIN, AP_TCP_FIN_WAIT},
	  {R, ACK, AP_TCP_CLOSE_WAIT},
	  {R, FIN, AP_TCP_LAST_ACK},
	  {O, ACK, AP_TCP_TIME_WAIT}},
	 9},
	{"close by the server, FIN and ACK in one segment",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {R, FIN, AP_TCP_FIN_WAIT},
	  {O, FIN, AP_TCP_LAST_ACK},
	  {R, ACK, AP_TCP_TIME_WAIT}},
	 6},
	{"the closer's retransmitted FIN and data ACKs keep the state",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {O, FIN, AP_TCP_FIN_WAIT},
	  {O, FIN, AP_TCP_FIN_WAIT},
	  {O, ACK, AP_TCP_FIN_WAIT},
	  {R, ACK, AP_TCP_CLOSE_WAIT},
	  {O, ACK, AP_TCP_CLOSE_WAIT},
	  {R, FIN, AP_TCP_LAST_ACK},
	  {R, ACK, AP_TCP_LAST_ACK}},
	 10},
	{"retransmitted SYN and SYN/ACK",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {O, SYN, AP_TCP_SYN_SENT},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {R, SYNACK, AP_TCP_IGNORE}},
	 6},
	{"simultaneous open",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {R, SYN, AP_TCP_SYN_SENT2},
	  {O, SYNACK, AP_TCP_SYN_RECV},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED}},
	 5},
	{"reset during the handshake and in a connection",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {R, RST, AP_TCP_CLOSE},
	  {O, SYN, AP_TCP_SYN_SENT},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {O, RST, AP_TCP_CLOSE}},
	 6},
	{"a SYN reopens after TIME_WAIT",
	 {{O, SYN, AP_TCP_SYN_SENT},
	  {R, SYNACK, AP_TCP_SYN_RECV},
	  {O, ACK, AP_TCP_ESTABLISHED},
	  {O, FIN, AP_TCP_FIN_WAIT},
	  {R, FIN, AP_TCP_LAST_ACK},
	  {O, ACK, AP_TCP_TIME_WAIT},
	  {O, SYN, AP_TCP_SYN_SENT}},
	 7},
	{"segments that cannot start or continue a connection",
	 {{O, SYNACK, AP_TCP_INVALID},
	  {O, FIN, AP_TCP_INVALID},
	  {O, RST, AP_TCP_INVALID},
	  {O, 0x00, AP_TCP_INVALID},
	  {O, ACK, AP_TCP_INVALID},
	  {O, SYN, AP_TCP_SYN_SENT},
	  {O, ACK, AP_TCP_INVALID},
	  {R, ACK, AP_TCP_IGNORE},
	  {O, SYNACK, AP_TCP_INVALID}},
	 9},
};

Test(ct_tcp, netfilter_sequences)
{
	for (unsigned i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		walk(&seqs[i], false);
}

Test(ct_tcp, loose_pickup_is_opt_in)
{
	cr_expect_eq(ap_ct_tcp_next(AP_TCP_NONE, O, AP_SEG_ACK, -1, false), AP_TCP_INVALID);
	cr_expect_eq(ap_ct_tcp_next(AP_TCP_NONE, O, AP_SEG_ACK, -1, true), AP_TCP_ESTABLISHED);
}

Test(ct_tcp, segment_classes)
{
	cr_expect_eq(ap_ct_tcp_seg_of(0x02), AP_SEG_SYN);
	cr_expect_eq(ap_ct_tcp_seg_of(0x12), AP_SEG_SYNACK);
	cr_expect_eq(ap_ct_tcp_seg_of(0x11), AP_SEG_FIN);
	cr_expect_eq(ap_ct_tcp_seg_of(0x18), AP_SEG_ACK);
	cr_expect_eq(ap_ct_tcp_seg_of(0x14), AP_SEG_RST, "RST wins over ACK");
	cr_expect_eq(ap_ct_tcp_seg_of(0x06), AP_SEG_RST, "and over SYN");
	cr_expect_eq(ap_ct_tcp_seg_of(0x00), AP_SEG_NONE);
}

/* The table, with its hash. */

static struct ap_ct_table *t;

static void
setup(void)
{
	cr_assert_geq(ap_test_eal_init("ct_test", "64"), 0, "EAL init failed");
	t = ap_ct_table_create(0, 16, 32);
	cr_assert_not_null(t);
	for (unsigned s = 0; s < AP_TCP_STATES; s++)
		ap_ct_conf.timeout[s] = 100;
	ap_ct_conf.timeout[AP_TCP_ESTABLISHED] = 1000;
	ap_ct_conf.udp = 30;
	ap_ct_conf.udp_stream = 120;
	ap_ct_conf.icmp = 30;
	ap_ct_conf.generic = 600;
}

static void
teardown(void)
{
	ap_ct_table_free(t);
	ap_eal_cleanup();
}

TestSuite(ct_table, .init = setup, .fini = teardown);

/* An IPv4 header and what the parser would say of a TCP/UDP/ICMP packet. */
struct pkt {
	uint8_t ip[20];
	struct ap_pkt_info pi;
};

static struct pkt
mk(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.ip[0] = 0x45;
	p.ip[9] = proto;
	for (int i = 0; i < 4; i++) {
		p.ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p.ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p.pi.l3 = AP_L3_IPV4;
	p.pi.l4_proto = proto;
	p.pi.l4_sport = sport;
	p.pi.l4_dport = dport;
	p.pi.tcp_flags = flags;
	return p;
}

static enum ap_ct_info
track(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags,
      uint32_t now)
{
	struct pkt p = mk(proto, src, dst, sport, dport, flags);

	return ap_ct_track(t, p.ip, &p.pi, 100, now);
}

#define C 0x0a000002 /* 10.0.0.2, the client */
#define S 0xc0000201 /* 192.0.2.1, the server */

static const struct ap_ct_flow *
only_flow(void)
{
	const struct ap_ct_flow *f = NULL;

	for (uint32_t i = 0; i < t->max; i++)
		if (ap_ct_flow_used(&t->flows[i])) {
			cr_assert_null(f, "more than one flow");
			f = &t->flows[i];
		}
	cr_assert_not_null(f, "no flow");
	return f;
}

/* The hash a packet's key gets as ct prepares it (from the packet's own
 * values) is the key's hash as the table computes it: either endpoint lower,
 * IPv4 and IPv6, TCP, UDP, ICMP echo, other protocols. */
Test(ct_table, prepared_hash_is_the_key_hash)
{
	static const struct {
		uint8_t proto;
		uint32_t src, dst;
		uint16_t sport, dport;
	} v4[] = {
		{6, S, C, 40000, 80},  {6, C, S, 80, 40000}, {17, S, C, 53, 53}, {17, S, S, 9, 7},
		{1, S, C, 8 << 8, 77}, {1, C, S, 0, 77},     {47, S, C, 0, 0},
	};
	struct ap_ct_pkt cp;

	for (unsigned i = 0; i < RTE_DIM(v4); i++) {
		struct pkt p = mk(v4[i].proto, v4[i].src, v4[i].dst, v4[i].sport, v4[i].dport, SYN);

		ap_ct_prepare(p.ip, &p.pi, 60, &cp);
		cr_assert_eq(cp.kind, AP_CT_PKT_FLOW, "IPv4 case %u", i);
		cr_expect_eq(cp.sig, ap_ct_key_hash(&cp.k), "IPv4 case %u", i);
	}
	for (unsigned i = 0; i < 4; i++) {
		uint8_t ip[40] = {0x60};
		struct ap_pkt_info pi = {0};

		ip[6] = i < 2 ? 17 : 58;
		ip[8] = 0x20, ip[9] = 0x01, ip[23] = (uint8_t)(1 + (i & 1)); /* 2001::1 */
		ip[24] = 0x20, ip[25] = 0x01, ip[39] = (uint8_t)(2 - (i & 1));
		ip[30] = 0xab;
		pi.l3 = AP_L3_IPV6;
		pi.l4_off = 40;
		pi.l4_proto = ip[6];
		pi.l4_sport = i < 2 ? 5353 : 128 << 8;
		pi.l4_dport = i < 2 ? 53 : 99;
		ap_ct_prepare(ip, &pi, 60, &cp);
		cr_assert_eq(cp.kind, AP_CT_PKT_FLOW, "IPv6 case %u", i);
		cr_expect_eq(cp.sig, ap_ct_key_hash(&cp.k), "IPv6 case %u", i);
	}
}

static uint64_t
memo_of(struct ap_ct_flow *f)
{
	uint64_t m;

	memcpy(&m, ap_ct_flow_memo(f), sizeof(m));
	return m;
}

static void
memo_set(struct ap_ct_flow *f, uint64_t m)
{
	memcpy(ap_ct_flow_memo(f), &m, sizeof(m));
}

/* An IPv4 flow keeps the firewall's memo in its key's address tail, in the
 * first cache line: the flow is still found from both directions and leaves
 * the hash whole, its events carry the key as its packets have it, and a
 * slot taken again starts with none. */
Test(ct_table, ipv4_memo_in_the_key)
{
	const uint64_t m = UINT64_C(0xfedcba9876543210);
	struct pkt p = mk(17, C, S, 5353, 53, 0);
	struct ap_ct_key clean;
	struct ap_ct_event ev;
	struct ap_ct_pkt cp;
	struct ap_ct_flow *f;

	t->events = rte_ring_create_elem("ct_test_ev", sizeof(ev), 16, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	cr_assert_not_null(t->events);
	ap_ct_prepare(p.ip, &p.pi, 100, &cp);
	cr_assert_eq(track(17, C, S, 5353, 53, 0, 1), AP_CT_NEW);
	cr_assert_eq(rte_ring_dequeue_elem(t->events, &ev, sizeof(ev)), 0);
	f = (struct ap_ct_flow *)only_flow();
	cr_expect_leq(ap_ct_flow_memo(f) + 8, (uint8_t *)f + RTE_CACHE_LINE_SIZE,
		      "in the first line");
	cr_expect_eq(memo_of(f), 0, "a new flow has none");
	memo_set(f, m);
	cr_expect_eq(track(17, C, S, 5353, 53, 0, 2), AP_CT_NEW);
	cr_expect_eq(t->count, 1, "still the flow's key");
	cr_expect_eq(f->pkts[AP_CT_ORIG], 2);
	cr_expect_eq(track(17, S, C, 53, 5353, 0, 3), AP_CT_ESTABLISHED);
	cr_expect_eq(f->pkts[AP_CT_REPLY], 1);
	cr_expect_eq(memo_of(f), m, "ct leaves it be");
	clean = f->key;
	ap_ct_key_clean(&clean);
	cr_expect(memcmp(&clean, &cp.k, sizeof(clean)) == 0, "clean, the packets' key");
	ap_ct_flush(t, NULL);
	cr_expect_eq(t->count, 0);
	cr_expect_eq(t->hash.count, 0, "its key left the hash");
	cr_assert_eq(rte_ring_dequeue_elem(t->events, &ev, sizeof(ev)), 0);
	cr_expect_eq(ev.type, AP_CT_EV_DESTROY);
	cr_expect(memcmp(&ev.key, &cp.k, sizeof(ev.key)) == 0, "the event's key is clean");
	/* The slot again, for another flow: no memo. */
	cr_expect_eq(track(17, C, S, 5354, 53, 0, 4), AP_CT_NEW);
	cr_expect_eq(only_flow(), f, "the same slot");
	cr_expect_eq(memo_of(f), 0, "nothing of the last flow's");
	/* A TCP flow reopened by a SYN is classified anew. */
	ap_ct_flush(t, NULL);
	cr_expect_eq(track(6, C, S, 40000, 80, SYN, 5), AP_CT_NEW);
	f = (struct ap_ct_flow *)only_flow();
	memo_set(f, m);
	cr_expect_eq(track(6, S, C, 80, 40000, SYNACK, 6), AP_CT_ESTABLISHED);
	cr_expect_eq(track(6, C, S, 40000, 80, ACK, 6), AP_CT_ESTABLISHED);
	cr_expect_eq(track(6, C, S, 40000, 80, RST, 6), AP_CT_ESTABLISHED);
	cr_expect_eq(f->state, AP_TCP_CLOSE);
	cr_expect_eq(memo_of(f), m);
	cr_expect_eq(track(6, C, S, 40000, 80, SYN, 7), AP_CT_NEW, "reopened");
	cr_expect_eq(memo_of(f), 0, "its memo forgotten");
	cr_expect_eq(t->count, 1);
	ap_ct_flush(t, NULL);
	rte_ring_free(t->events);
	t->events = NULL;
}

/* An IPv6 flow's key is all address: its memo is in the second line, and
 * the key is left whole. */
Test(ct_table, ipv6_memo_in_the_second_line)
{
	const uint64_t m = UINT64_C(0x8000000000000001);
	uint8_t ip[40] = {0x60};
	struct ap_pkt_info pi = {0};
	struct ap_ct_key k;
	struct ap_ct_flow *f;

	ip[6] = 17;
	ip[8] = 0x20, ip[9] = 0x01, ip[23] = 1; /* 2001::1 -> 2001::ab00:0:0:2 */
	ip[24] = 0x20, ip[25] = 0x01, ip[39] = 2;
	ip[30] = 0xab;
	pi.l3 = AP_L3_IPV6;
	pi.l4_off = 40;
	pi.l4_proto = 17;
	pi.l4_sport = 5353;
	pi.l4_dport = 53;
	cr_assert_eq(ap_ct_track(t, ip, &pi, 100, 1), AP_CT_NEW);
	f = (struct ap_ct_flow *)only_flow();
	cr_expect_eq(ap_ct_flow_memo(f), (uint8_t *)f->fw_memo);
	cr_expect_eq(memo_of(f), 0);
	k = f->key;
	memo_set(f, m);
	cr_expect(memcmp(&k, &f->key, sizeof(k)) == 0, "the key is untouched");
	ap_ct_key_clean(&k);
	cr_expect(memcmp(&k, &f->key, sizeof(k)) == 0, "an IPv6 key has nothing to clean");
	cr_expect_eq(ap_ct_track(t, ip, &pi, 100, 2), AP_CT_NEW);
	cr_expect_eq(t->count, 1);
	cr_expect_eq(f->pkts[AP_CT_ORIG], 2);
	cr_expect_eq(memo_of(f), m);
	ap_ct_flush(t, NULL);
}

Test(ct_table, tcp_both_directions_one_flow)
{
	const struct ap_ct_flow *f;

	cr_expect_eq(track(6, S, C, 80, 40000, SYNACK, 1), AP_CT_INVALID, "no flow from a SYN/ACK");
	cr_expect_eq(t->count, 0);
	cr_expect_eq(track(6, C, S, 40000, 80, SYN, 1), AP_CT_NEW);
	cr_expect_eq(track(6, S, C, 80, 40000, SYNACK, 2), AP_CT_ESTABLISHED);
	cr_expect_eq(track(6, C, S, 40000, 80, ACK, 3), AP_CT_ESTABLISHED);
	cr_expect_eq(track(6, C, S, 40000, 80, ACK, 4), AP_CT_ESTABLISHED);
	f = only_flow();
	cr_expect_eq(f->state, AP_TCP_ESTABLISHED);
	cr_expect(f->status & AP_CT_ASSURED);
	cr_expect_eq(f->pkts[AP_CT_ORIG], 3);
	cr_expect_eq(f->pkts[AP_CT_REPLY], 1);
	cr_expect_eq(ap_ct_flow_bytes(f, AP_CT_ORIG), 300);
	cr_expect_eq(f->expires, 4 + 1000, "established timeout from the last packet");
	cr_expect_eq(track(6, C, S, 40000, 80, RST, 5), AP_CT_ESTABLISHED);
	cr_expect_eq(only_flow()->state, AP_TCP_CLOSE);
	cr_expect_eq(t->st.invalid, 1);
}

Test(ct_table, udp_icmp_and_timeouts)
{
	cr_expect_eq(track(17, C, S, 5353, 53, 0, 10), AP_CT_NEW);
	cr_expect_eq(track(17, C, S, 5353, 53, 0, 11), AP_CT_NEW, "not answered yet");
	cr_expect_eq(only_flow()->expires, 11 + 30);
	cr_expect_eq(track(17, S, C, 53, 5353, 0, 12), AP_CT_ESTABLISHED);
	cr_expect_eq(only_flow()->expires, 12 + 120, "answered: the stream timeout");
	cr_expect(only_flow()->status & AP_CT_ASSURED);
	/* Expired, the next packet starts a new flow. */
	cr_expect_eq(track(17, C, S, 5353, 53, 0, 12 + 120), AP_CT_NEW);
	cr_expect_eq(t->st.expired, 1);
	ap_ct_flush(t, NULL);
	cr_expect_eq(t->count, 0);
	/* ICMP echo: the id is the key's port; a reply alone is invalid. */
	cr_expect_eq(track(1, S, C, 0 << 8, 7, 0, 20), AP_CT_INVALID);
	cr_expect_eq(track(1, C, S, 8 << 8, 7, 0, 20), AP_CT_NEW);
	cr_expect_eq(track(1, S, C, 0 << 8, 7, 0, 21), AP_CT_ESTABLISHED);
	cr_expect_eq(track(1, C, S, 8 << 8, 8, 0, 21), AP_CT_NEW, "another id, another flow");
	cr_expect_eq(t->count, 2);
	cr_expect_eq(track(1, C, S, 3 << 8, 0, 0, 22), AP_CT_UNTRACKED, "errors are not flows");
}

Test(ct_table, full_table_drops_unassured_first_then_refuses)
{
	/* 16 slots: one assured TCP connection, 15 unanswered UDP flows. */
	track(6, C, S, 40000, 80, SYN, 1);
	track(6, S, C, 80, 40000, SYNACK, 1);
	track(6, C, S, 40000, 80, ACK, 1);
	for (uint16_t p = 0; p < 15; p++)
		cr_assert_eq(track(17, C, S, (uint16_t)(1000 + p), 53, 0, 1), AP_CT_NEW);
	cr_assert_eq(t->count, 16);
	/* Another new flow evicts an unanswered one. */
	cr_expect_eq(track(17, C, S, 2000, 53, 0, 2), AP_CT_NEW);
	cr_expect_eq(t->st.early_drop, 1);
	/* With only assured flows left, new ones are refused, old ones flow on. */
	ap_ct_flush(t, NULL);
	for (uint16_t p = 0; p < 16; p++) {
		track(17, C, S, (uint16_t)(3000 + p), 53, 0, 3);
		track(17, S, C, 53, (uint16_t)(3000 + p), 0, 3);
	}
	cr_expect_eq(track(17, C, S, 4000, 53, 0, 4), AP_CT_FULL);
	cr_expect_eq(t->st.table_full, 1);
	cr_expect_eq(track(17, C, S, 3000, 53, 0, 4), AP_CT_ESTABLISHED);
}

/* An ICMP error quoting a packet of a tracked flow is RELATED to it. */
Test(ct_table, icmp_errors_are_related)
{
	uint8_t b[56] = {0};
	struct ap_pkt_info pi = {0};
	const uint8_t outer[20] = {0x45, [9] = 1, [12] = 192, 0, 2, 254, [16] = 10, 0, 0, 2};
	const uint8_t inner[28] = {0x45, [9] = 17,	   [12] = 10,	0, 0, 2, [16] = 192, 0, 2,
				   1,	 [20] = 5353 >> 8, 5353 & 0xff, 0, 53};

	memcpy(b, outer, 20);
	b[20] = 3; /* port unreachable */
	b[21] = 3;
	memcpy(b + 28, inner, 28);
	pi.l3 = AP_L3_IPV4;
	pi.l3_off = 0;
	pi.l4_off = 20;
	pi.l4_len = 36;
	pi.l4_proto = 1;
	pi.l4_sport = 3 << 8 | 3;
	cr_expect_eq(ap_ct_track(t, b, &pi, 56, 1), AP_CT_UNTRACKED, "no flow yet");
	cr_expect_eq(track(17, C, S, 5353, 53, 0, 1), AP_CT_NEW);
	cr_expect_eq(ap_ct_track(t, b, &pi, 56, 2), AP_CT_RELATED);
	cr_expect_eq(t->count, 1, "no flow of its own");
	cr_expect_eq(t->st.related, 1);
	pi.l4_len = 20;
	cr_expect_eq(ap_ct_track(t, b, &pi, 56, 2), AP_CT_UNTRACKED, "quote too short");
}

/* Masquerade: the new flow takes the egress interface's address and a port
 * of its range; the reply comes in on that address and port and finds the
 * flow; rewrites keep every checksum right. */
static uint16_t
egress_is_1(uint32_t dst_be)
{
	RTE_SET_USED(dst_be);
	return 1;
}

Test(ct_table, masquerade)
{
	const uint32_t nat = rte_cpu_to_be_32(0xc6336401); /* 198.51.100.1 */
	uint8_t b[28] = {0x45, 0, 0,   28, 0, 1, 0,    0,    64, 17, 0, 0, 10, 0,
			 0,    2, 192, 0,  2, 1, 0x13, 0x89, 0,	 53, 0, 8, 0,  0};
	const struct ap_ct_flow *f;
	uint16_t ck;

	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_nat_conf.enabled = true;
	ap_nat_conf.addr[1] = nat;
	ap_nat_conf.lo[1] = 40000;
	ap_nat_conf.hi[1] = 40009;
	ap_ct_egress4 = egress_is_1;
	cr_expect_eq(track(17, C, S, 5001, 53, 0, 1), AP_CT_NEW);
	f = only_flow();
	cr_assert(f->nat);
	cr_expect_eq(f->nat, AP_CT_SNAT);
	cr_expect_eq(f->nat_saddr, nat);
	cr_expect(rte_be_to_cpu_16(f->nat_sport) >= 40000 &&
		  rte_be_to_cpu_16(f->nat_sport) <= 40009);
	cr_expect_eq(f->nat_daddr, rte_cpu_to_be_32(S));
	cr_expect_eq(f->nat_dport, rte_cpu_to_be_16(53));
	/* The reply, from the server to the translated address and port. */
	cr_expect_eq(track(17, S, 0xc6336401, 53, rte_be_to_cpu_16(f->nat_sport), 0, 2),
		     AP_CT_ESTABLISHED);
	cr_expect_eq(only_flow()->pkts[AP_CT_REPLY], 1);
	cr_expect_eq(t->st.nat_created, 1);
	/* The way out: source and port rewritten, checksums still right. */
	ck = ap_csum(b, 20);
	memcpy(b + 10, &ck, 2);
	ck = ap_l4_csum_ip4(b, b + 20, 8, 17);
	memcpy(b + 26, &ck, 2);
	ap_nat_rewrite4(b, b + 20, 8, 17, true, nat, f->nat_sport);
	cr_expect_eq(memcmp(b + 12, &nat, 4), 0);
	cr_expect_eq(memcmp(b + 20, &f->nat_sport, 2), 0);
	cr_expect_eq(ap_csum(b, 20), 0, "IPv4 header checksum");
	cr_expect_eq(ap_l4_csum_ip4(b, b + 20, 8, 17), 0, "UDP checksum");
	/* A flush takes the reply key too. */
	ap_ct_flush(t, NULL);
	cr_expect_eq(t->hash.count, 0);
	ap_nat_conf.enabled = false;
	ap_ct_egress4 = NULL;
}

/* The egress of the test's two interfaces: 0 (inside) for 10/8, 1 else. */
static uint16_t
egress_by_net(uint32_t dst_be)
{
	return (rte_be_to_cpu_32(dst_be) >> 24) == 10 ? 0 : 1;
}

#define WAN 0xc6336401 /* 198.51.100.1, the outside interface's address */
#define LAN 0x0a000001 /* 10.0.0.1, the inside one's */
#define C2  0x0a000003 /* 10.0.0.3, a second inside host */

/* Masquerade behind WAN on interface 1 for every inside host but
 * @p internal, which has @p external 1:1 there (host order). */
static void
masquerade_and_one_to_one(uint32_t internal, uint32_t external)
{
	ap_nat_conf.addr[1] = rte_cpu_to_be_32(WAN);
	ap_nat_conf.lo[1] = 1024;
	ap_nat_conf.hi[1] = 65535;
	ap_nat_conf.n_one = 1;
	ap_nat_conf.one[0].l3 = 1;
	ap_nat_conf.one[0].internal = rte_cpu_to_be_32(internal);
	ap_nat_conf.one[0].external = rte_cpu_to_be_32(external);
}

static void
forward_8080_to_c(bool hairpin)
{
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_nat_conf.enabled = true;
	ap_nat_conf.hairpin = hairpin;
	ap_nat_conf.if_addr[0] = rte_cpu_to_be_32(LAN);
	ap_nat_conf.if_addr[1] = rte_cpu_to_be_32(WAN);
	ap_nat_conf.n_fwd = 1;
	ap_nat_conf.fwd[0].l3 = 1;
	ap_nat_conf.fwd[0].proto = 6;
	ap_nat_conf.fwd[0].port = rte_cpu_to_be_16(8080);
	ap_nat_conf.fwd[0].to = rte_cpu_to_be_32(C);
	ap_nat_conf.fwd[0].to_port = rte_cpu_to_be_16(80);
	ap_ct_egress4 = egress_by_net;
}

/* A port forward: a new flow to a forwarded port of the interface's address
 * goes to the inside host; the inside host's replies find the flow. */
Test(ct_table, port_forward)
{
	struct pkt p = mk(6, S, WAN, 40000, 8080, SYN);
	const struct ap_ct_flow *f;
	struct ap_ct_pkt cp;

	forward_8080_to_c(false);
	ap_ct_prepare(p.ip, &p.pi, 60, &cp);
	cp.in_l3 = 1;
	cr_expect_eq(ap_ct_apply(t, &cp, -1, 1), AP_CT_NEW);
	f = only_flow();
	cr_assert_eq(f->nat, AP_CT_DNAT);
	cr_expect_eq(f->nat_daddr, rte_cpu_to_be_32(C));
	cr_expect_eq(f->nat_dport, rte_cpu_to_be_16(80));
	cr_expect_eq(f->nat_saddr, rte_cpu_to_be_32(S), "the source stays");
	/* The inside host answers the outside client directly. */
	cr_expect_eq(track(6, C, S, 80, 40000, SYNACK, 2), AP_CT_ESTABLISHED);
	cr_expect_eq(only_flow()->state, AP_TCP_SYN_RECV);
	/* Not the forwarded port, or in on another interface: no translation. */
	ap_ct_flush(t, NULL);
	p = mk(6, S, WAN, 40001, 8081, SYN);
	ap_ct_prepare(p.ip, &p.pi, 60, &cp);
	cp.in_l3 = 1;
	ap_ct_apply(t, &cp, -1, 3);
	cr_expect_eq(only_flow()->nat, 0);
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
}

static enum ap_ct_info
track_in(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags,
	 uint16_t in_l3, uint32_t now)
{
	struct pkt p = mk(proto, src, dst, sport, dport, flags);
	struct ap_ct_pkt cp;

	ap_ct_prepare(p.ip, &p.pi, 60, &cp);
	cp.in_l3 = in_l3;
	return ap_ct_apply(t, &cp, -1, now);
}

/* Hairpin (NAT reflection): an inside host reaches the forwarded port of the
 * outside address; the flow goes to the inside server with the source made
 * the router's inside address, so the server answers through the router. */
Test(ct_table, hairpin)
{
	const struct ap_ct_flow *f;
	uint16_t port;

	forward_8080_to_c(true);
	cr_expect_eq(track_in(6, C2, WAN, 40000, 8080, SYN, 0, 1), AP_CT_NEW);
	f = only_flow();
	cr_assert_eq(f->nat, AP_CT_SNAT | AP_CT_DNAT);
	cr_expect_eq(f->nat_daddr, rte_cpu_to_be_32(C));
	cr_expect_eq(f->nat_dport, rte_cpu_to_be_16(80));
	cr_expect_eq(f->nat_saddr, rte_cpu_to_be_32(LAN));
	port = rte_be_to_cpu_16(f->nat_sport);
	cr_expect_geq(port, 1024);
	/* The server answers the router; the flow takes it as the reply. */
	cr_expect_eq(track_in(6, C, LAN, 80, port, SYNACK, 0, 2), AP_CT_ESTABLISHED);
	cr_expect_eq(only_flow()->state, AP_TCP_SYN_RECV);
	cr_expect_eq(only_flow()->pkts[AP_CT_REPLY], 1);
	/* Without hairpin, forwards are for who comes in on their interface. */
	ap_ct_flush(t, NULL);
	forward_8080_to_c(false);
	cr_expect_eq(track_in(6, C2, WAN, 40001, 8080, SYN, 0, 3), AP_CT_NEW);
	cr_expect_eq(only_flow()->nat, 0);
	/* From outside it is a plain forward: the source stays. */
	ap_ct_flush(t, NULL);
	cr_expect_eq(track_in(6, S, WAN, 40002, 8080, SYN, 1, 4), AP_CT_NEW);
	cr_expect_eq(only_flow()->nat, AP_CT_DNAT);
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_ct_egress4 = NULL;
}

/* 1:1 NAT: the inside host goes out as its external address, ports kept;
 * new flows to the external address come in to it. */
Test(ct_table, one_to_one)
{
	const uint32_t ext = 0xc633640a; /* 198.51.100.10 */
	const struct ap_ct_flow *f;

	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_nat_conf.enabled = true;
	masquerade_and_one_to_one(C, ext);
	ap_ct_egress4 = egress_by_net;
	cr_expect_eq(track_in(17, C, S, 5000, 53, 0, 0, 1), AP_CT_NEW);
	f = only_flow();
	cr_expect_eq(f->nat, AP_CT_SNAT);
	cr_expect_eq(f->nat_saddr, rte_cpu_to_be_32(ext));
	cr_expect_eq(f->nat_sport, rte_cpu_to_be_16(5000), "the port is kept");
	cr_expect_eq(track_in(17, S, ext, 53, 5000, 0, 1, 2), AP_CT_ESTABLISHED);
	ap_ct_flush(t, NULL);
	/* Inbound to the external address. */
	cr_expect_eq(track_in(6, S, ext, 40000, 22, SYN, 1, 3), AP_CT_NEW);
	f = only_flow();
	cr_expect_eq(f->nat, AP_CT_DNAT);
	cr_expect_eq(f->nat_daddr, rte_cpu_to_be_32(C));
	cr_expect_eq(f->nat_dport, rte_cpu_to_be_16(22));
	cr_expect_eq(track_in(6, C, S, 22, 40000, SYNACK, 0, 4), AP_CT_ESTABLISHED);
	ap_ct_flush(t, NULL);
	/* Another inside host is masqueraded as before. */
	cr_expect_eq(track_in(17, C2, S, 5000, 53, 0, 0, 5), AP_CT_NEW);
	cr_expect_eq(only_flow()->nat_saddr, rte_cpu_to_be_32(WAN));
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_ct_egress4 = NULL;
}

/* An ICMP error built as a router would: from @p from to @p to about the
 * packet @p quoted (an IPv4 header and 8 bytes of UDP), checksums right. */
static void
icmp_error(uint8_t *b, uint32_t from, uint32_t to, const uint8_t *quoted)
{
	uint16_t ck;

	memset(b, 0, 56);
	b[0] = 0x45;
	b[3] = 56;
	b[8] = 64;
	b[9] = 1;
	for (int i = 0; i < 4; i++) {
		b[12 + i] = (uint8_t)(from >> (24 - 8 * i));
		b[16 + i] = (uint8_t)(to >> (24 - 8 * i));
	}
	ck = ap_csum(b, 20);
	memcpy(b + 10, &ck, 2);
	b[20] = 11; /* time exceeded */
	memcpy(b + 28, quoted, 28);
	ck = ap_csum(b + 20, 36);
	memcpy(b + 22, &ck, 2);
}

/* A UDP packet's first 28 bytes, checksums right (payload @p pl bytes). */
static void
udp_quote(uint8_t *q, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t full[28 + 4] = {0};
	uint16_t ck;

	full[0] = 0x45;
	full[3] = sizeof(full);
	full[8] = 1;
	full[9] = 17;
	for (int i = 0; i < 4; i++) {
		full[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		full[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	full[20] = (uint8_t)(sport >> 8);
	full[21] = (uint8_t)sport;
	full[22] = (uint8_t)(dport >> 8);
	full[23] = (uint8_t)dport;
	full[25] = 12;
	memcpy(full + 28, "abcd", 4);
	ck = ap_csum(full, 20);
	memcpy(full + 10, &ck, 2);
	ck = ap_l4_csum_ip4(full, full + 20, 12, 17);
	memcpy(full + 26, &ck, 2);
	memcpy(q, full, 28);
}

/* A rewrite through ap_nat_rewrite4_pi() leaves the parsed ports what the
 * packet now says (the firewall after it reads them there): the destination
 * of a port forward, the source of a reply, an echo's id. */
Test(ct_table, nat_rewrite_updates_the_parsed_ports)
{
	uint8_t q[32];
	struct ap_pkt_info pi = {.l3 = AP_L3_IPV4, .l4_off = 20, .l4_len = 12, .l4_proto = 17};

	udp_quote(q, S, WAN, 40000, 8080);
	memcpy(q + 28, "abcd", 4); /* the payload the quote leaves out */
	cr_assert_eq(ap_l4_csum_ip4(q, q + 20, 12, 17), 0, "UDP checksum before");
	pi.l4_sport = 40000;
	pi.l4_dport = 8080;
	ap_nat_rewrite4_pi(&pi, q, q + 20, 12, false, rte_cpu_to_be_32(C), rte_cpu_to_be_16(80));
	cr_expect_eq(pi.l4_dport, 80);
	cr_expect_eq(pi.l4_sport, 40000);
	cr_expect_eq(q[22] << 8 | q[23], 80);
	cr_expect_eq(ap_l4_csum_ip4(q, q + 20, 12, 17), 0, "UDP checksum");
	ap_nat_rewrite4_pi(&pi, q, q + 20, 12, true, rte_cpu_to_be_32(WAN),
			   rte_cpu_to_be_16(30000));
	cr_expect_eq(pi.l4_sport, 30000);
	cr_expect_eq(pi.l4_dport, 80);
	/* Too short for the ports: neither the packet nor pi changes them. */
	ap_nat_rewrite4_pi(&pi, q, q + 20, 2, true, rte_cpu_to_be_32(S), rte_cpu_to_be_16(1));
	cr_expect_eq(pi.l4_sport, 30000);
	/* An echo request: its id. */
	memset(q + 20, 0, 12);
	q[9] = 1;
	q[20] = 8;
	q[25] = 7;
	pi.l4_proto = 1;
	pi.l4_sport = 8 << 8;
	pi.l4_dport = 7;
	ap_nat_rewrite4_pi(&pi, q, q + 20, 12, true, rte_cpu_to_be_32(WAN), rte_cpu_to_be_16(99));
	cr_expect_eq(pi.l4_dport, 99);
	cr_expect_eq(pi.l4_sport, 8 << 8, "type and code stay");
	cr_expect_eq(q[24] << 8 | q[25], 99);
}

/* ICMP errors of translated flows (netfilter's reply translation): one from
 * beyond the masquerade about an outgoing packet reaches the inside host
 * with the quote as that host sent it; the checksums stay right. */
Test(ct_table, icmp_error_translation)
{
	const uint32_t hop = 0xc0000263; /* 192.0.2.99, a router on the way */
	uint8_t b[56], q[28], want[28];
	struct ap_pkt_info pi = {0};
	const struct ap_ct_flow *f;
	struct ap_ct_pkt cp;
	uint16_t port;

	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_nat_conf.enabled = true;
	ap_nat_conf.addr[1] = rte_cpu_to_be_32(WAN);
	ap_nat_conf.lo[1] = 30000;
	ap_nat_conf.hi[1] = 30000;
	ap_ct_egress4 = egress_by_net;
	cr_expect_eq(track_in(17, C, S, 5353, 53, 0, 0, 1), AP_CT_NEW);
	f = only_flow();
	port = rte_be_to_cpu_16(f->nat_sport);
	cr_assert_eq(port, 30000);
	/* The packet as it left, quoted back by a router on the way. */
	udp_quote(q, WAN, S, port, 53);
	icmp_error(b, hop, WAN, q);
	pi.l3 = AP_L3_IPV4;
	pi.l4_off = 20;
	pi.l4_len = 36;
	pi.l4_proto = 1;
	pi.l4_sport = 11 << 8;
	ap_ct_prepare(b, &pi, 56, &cp);
	cr_assert_eq(ap_ct_apply(t, &cp, -1, 2), AP_CT_RELATED);
	cr_assert_eq(cp.flow, f - t->flows);
	cr_expect_eq(cp.dir, AP_CT_REPLY);
	cr_assert(ap_nat_icmp_error4(b, sizeof(b), f, true));
	udp_quote(want, C, S, 5353, 53);
	cr_expect_eq(memcmp(b + 28, want, 28), 0, "the quote is what the client sent");
	cr_expect_eq(b[16], 10, "to the client");
	cr_expect_eq(b[19], 2);
	cr_expect_eq(b[12], 192, "from the router that sent it");
	cr_expect_eq(ap_csum(b, 20), 0, "outer IPv4 checksum");
	cr_expect_eq(ap_csum(b + 20, 36), 0, "ICMP checksum");
	/* The other way: the client reports an error about a reply it got. */
	udp_quote(q, S, C, 53, 5353);
	icmp_error(b, C, S, q);
	ap_ct_prepare(b, &pi, 56, &cp);
	cr_assert_eq(ap_ct_apply(t, &cp, -1, 3), AP_CT_RELATED);
	cr_expect_eq(cp.dir, AP_CT_ORIG);
	cr_assert(ap_nat_icmp_error4(b, sizeof(b), f, false));
	udp_quote(want, S, WAN, 53, port);
	cr_expect_eq(memcmp(b + 28, want, 28), 0, "the quote is the reply as the server sent it");
	cr_expect_eq(memcmp(b + 12, &f->nat_saddr, 4), 0, "from the translated address");
	cr_expect_eq(ap_csum(b, 20), 0);
	cr_expect_eq(ap_csum(b + 20, 36), 0);
	/* A wrong ICMP checksum: left alone. */
	b[30] ^= 1;
	cr_expect_not(ap_nat_icmp_error4(b, sizeof(b), f, false));
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_ct_egress4 = NULL;
}

/* Window tracking (netfilter's tcp_in_window), step by step. */

struct wstep {
	enum ap_ct_dir dir;
	uint8_t flags;
	uint32_t seq, ack, len;
	uint16_t win;
	uint8_t wscale; /* 0xff: none */
	bool in;
	const char *what;
};

static void
win_walk(const struct wstep *s, unsigned n)
{
	struct ap_ct_tcp_win w[2] = {0};
	enum ap_ct_tcp_state st = AP_TCP_NONE;
	int closer = -1;

	for (unsigned i = 0; i < n; i++) {
		struct ap_ct_tcp_seg_info si = {.seq = s[i].seq,
						.ack = s[i].ack,
						.len = s[i].len,
						.win = s[i].win,
						.flags = s[i].flags,
						.wscale = s[i].wscale,
						.sack_perm = (s[i].flags & SYN) != 0};
		bool in;

		if (i == 0) {
			ap_ct_tcp_win_new(&w[AP_CT_ORIG], &si);
			st = AP_TCP_SYN_SENT;
			continue;
		}
		in = ap_ct_tcp_in_window(&w[s[i].dir], &w[!s[i].dir], st, s[i].dir == O, &si);
		cr_expect_eq(in, s[i].in, "step %u (%s): %s, want %s", i, s[i].what,
			     in ? "in" : "out", s[i].in ? "in" : "out");
		if (in) {
			enum ap_ct_tcp_state nx = ap_ct_tcp_next(
				st, s[i].dir, ap_ct_tcp_seg_of(s[i].flags), closer, false);
			if (nx < AP_TCP_STATES)
				st = nx;
		}
	}
}

Test(ct_window, handshake_data_and_what_falls_outside)
{
	const struct wstep s[] = {
		{O, SYN, 1000, 0, 0, 64240, 7, true, "SYN, window scale 7"},
		{R, SYNACK, 5000, 1001, 0, 65160, 7, true, "SYN/ACK"},
		{O, ACK, 1001, 5001, 0, 502, 0xff, true, "handshake's ACK (window 502 << 7)"},
		{O, ACK | 0x08, 1001, 5001, 1400, 502, 0xff, true, "data"},
		{R, ACK, 5001, 2401, 0, 509, 0xff, true, "its ACK"},
		{O, ACK, 1001, 5001, 1400, 502, 0xff, true, "a retransmission is in"},
		{O, ACK, 2401 + 20000000, 5001, 1400, 502, 0xff, false,
		 "data far beyond the receiver's window"},
		{O, ACK, 2401 - 70000000, 5001, 100, 502, 0xff, false, "data from long ago"},
		{O, ACK, 2401, 5001 + 100000, 0, 502, 0xff, false, "acks data never sent"},
		{O, ACK, 2401, 5001 - 10000000, 0, 502, 0xff, false, "acks far behind"},
		{R, ACK | 0x08, 5001, 2401, 64000, 509, 0xff, true,
		 "the server's data within the client's scaled window"},
		{R, RST | ACK, 69001, 2401, 0, 0, 0xff, true, "a reset at the edge"},
	};

	win_walk(s, sizeof(s) / sizeof(s[0]));
}

Test(ct_window, scaling_needs_both_sides)
{
	const struct wstep s[] = {
		{O, SYN, 1000, 0, 0, 64240, 7, true, "SYN offers scaling"},
		{R, SYNACK, 5000, 1001, 0, 29200, 0xff, true, "the SYN/ACK does not"},
		{O, ACK, 1001, 5001, 0, 502, 0xff, true, "ACK, window 502 (not scaled now)"},
		/* 502 unscaled bytes of window: 2000 bytes past it is out. */
		{R, ACK | 0x08, 5001 + 29200 + 2000, 1001, 100, 29200, 0xff, false,
		 "data beyond the unscaled window"},
	};

	win_walk(s, sizeof(s) / sizeof(s[0]));
}

/* A TCP/IPv4 packet with a real header for ap_ct_track(). */
static enum ap_ct_info
track_tcp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
	  uint32_t ack, uint16_t win, uint32_t len, uint32_t now)
{
	uint8_t b[40] = {0x45};
	struct ap_pkt_info pi = {0};

	b[9] = 6;
	for (int i = 0; i < 4; i++) {
		b[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		b[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	b[24] = (uint8_t)(seq >> 24), b[25] = (uint8_t)(seq >> 16), b[26] = (uint8_t)(seq >> 8);
	b[27] = (uint8_t)seq;
	b[28] = (uint8_t)(ack >> 24), b[29] = (uint8_t)(ack >> 16), b[30] = (uint8_t)(ack >> 8);
	b[31] = (uint8_t)ack;
	b[32] = 5 << 4;
	b[33] = flags;
	b[34] = (uint8_t)(win >> 8), b[35] = (uint8_t)win;
	pi.l3 = AP_L3_IPV4;
	pi.l4_off = 20;
	pi.l4_len = (uint16_t)(20 + len);
	pi.l4_proto = 6;
	pi.l4_sport = sport;
	pi.l4_dport = dport;
	pi.tcp_flags = flags;
	return ap_ct_track(t, b, &pi, 60 + len, now);
}

Test(ct_table, out_of_window_is_invalid_unless_liberal)
{
	cr_expect_eq(track_tcp(C, S, 40000, 80, SYN, 1000, 0, 64240, 0, 1), AP_CT_NEW);
	cr_expect_eq(track_tcp(S, C, 80, 40000, SYNACK, 5000, 1001, 65160, 0, 1),
		     AP_CT_ESTABLISHED);
	cr_expect_eq(track_tcp(C, S, 40000, 80, ACK, 1001, 5001, 64240, 0, 1), AP_CT_ESTABLISHED);
	cr_expect_eq(track_tcp(C, S, 40000, 80, ACK, 1001, 5001, 64240, 500, 2), AP_CT_ESTABLISHED);
	cr_expect_eq(track_tcp(C, S, 40000, 80, ACK, 900000000, 5001, 64240, 500, 3), AP_CT_INVALID,
		     "far outside the window");
	cr_expect_eq(t->st.out_of_window, 1);
	cr_expect_eq(only_flow()->state, AP_TCP_ESTABLISHED, "the state did not move");
	cr_expect_eq(track_tcp(S, C, 80, 40000, RST | ACK, 77777777, 1501, 0, 0, 3), AP_CT_INVALID,
		     "a blind reset does not close it");
	cr_expect_eq(only_flow()->state, AP_TCP_ESTABLISHED);
	cr_expect_eq(t->st.out_of_window, 2);
	ap_ct_conf.tcp_liberal = true;
	cr_expect_eq(track_tcp(C, S, 40000, 80, ACK, 900000000, 5001, 64240, 500, 4),
		     AP_CT_ESTABLISHED, "liberal: tracked, not invalid");
	cr_expect_eq(t->st.out_of_window, 3);
	ap_ct_conf.tcp_liberal = false;
}

Test(ct_table, retransmissions_shorten_the_timeout)
{
	ap_ct_conf.tcp_max_retrans = 3;
	ap_ct_conf.tcp_retrans = 300;
	track_tcp(C, S, 40000, 80, SYN, 1000, 0, 64240, 0, 1);
	track_tcp(S, C, 80, 40000, SYNACK, 5000, 1001, 65160, 0, 1);
	track_tcp(C, S, 40000, 80, ACK, 1001, 5001, 64240, 0, 1);
	for (int i = 0; i < 3; i++)
		track_tcp(S, C, 80, 40000, ACK, 5001, 1001, 65160, 100, 2);
	cr_expect_eq(only_flow()->expires, 2 + 1000, "twice resent: the established timeout");
	track_tcp(S, C, 80, 40000, ACK, 5001, 1001, 65160, 100, 3);
	cr_expect_eq(only_flow()->retrans, 3);
	cr_expect_eq(only_flow()->expires, 3 + 300, "three times: the short one");
	track_tcp(C, S, 40000, 80, ACK, 1001, 5101, 64240, 0, 4);
	track_tcp(S, C, 80, 40000, ACK, 5101, 1001, 65160, 100, 4);
	cr_expect_eq(only_flow()->retrans, 0, "progress");
	ap_ct_conf.tcp_max_retrans = 0;
}

/* NAT on several workers: the owner of a flow's packets is the same for
 * both directions, before and after translation, for every kind of flow;
 * translated ports come from the owner's slice. */
static unsigned
owner_of(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint16_t in_l3)
{
	struct pkt p = mk(proto, src, dst, sport, dport, proto == 6 ? SYN : 0);
	struct ap_ct_pkt cp;

	ap_ct_prepare(p.ip, &p.pi, 60, &cp);
	cp.in_l3 = in_l3;
	return ap_ct_owner(&cp);
}

Test(ct_table, nat_owner_is_one_worker_both_ways)
{
	const uint32_t ext = 0xc633640a; /* 198.51.100.10, 10.0.0.3's 1:1 address */
	unsigned n = 4, w, back;

	forward_8080_to_c(true);
	masquerade_and_one_to_one(C2, ext);
	ap_nat_conf.outside[1] = true;
	ap_nat_conf.n_xaddr = 2;
	ap_nat_conf.xaddr[0].addr = rte_cpu_to_be_32(WAN);
	ap_nat_conf.xaddr[0].lo = 1024;
	ap_nat_conf.xaddr[0].hi = 65535;
	ap_nat_conf.xaddr[1].addr = rte_cpu_to_be_32(LAN);
	ap_nat_conf.xaddr[1].lo = 1024;
	ap_nat_conf.xaddr[1].hi = 65535;
	ap_nat_conf.n_workers = n;
	srand(7);
	for (int i = 0; i < 400; i++) {
		uint32_t out = 0xc0000200 | (uint32_t)(rand() % 250 + 1); /* 192.0.2.x */
		uint32_t in = C; /* 10.0.0.2, masqueraded */
		uint16_t op = (uint16_t)(rand() % 60000 + 1024),
			 ip = (uint16_t)(rand() % 60000 + 1024);
		uint8_t proto = i % 2 ? 6 : 17;
		const struct ap_ct_flow *f;

		/* Masquerade: the owner's slice holds the port, the reply finds it. */
		w = owner_of(proto, in, out, ip, 80, 0);
		t->worker = (uint16_t)w;
		ap_ct_flush(t, NULL);
		cr_assert_eq(track_in(proto, in, out, ip, 80, proto == 6 ? SYN : 0, 0, 1),
			     AP_CT_NEW);
		f = only_flow();
		cr_assert(f->nat & AP_CT_SNAT);
		back = owner_of(proto, out, WAN, 80, rte_be_to_cpu_16(f->nat_sport), 1);
		cr_expect_eq(back, w, "masquerade %u: out by %u, back by %u", i, w, back);
		/* The port forward, from outside and its answer. */
		w = owner_of(6, out, WAN, op, 8080, 1);
		cr_expect_eq(owner_of(6, C, out, 80, op, 0), w, "forward %u", i);
		/* 1:1 both ways. */
		cr_expect_eq(owner_of(proto, C2, out, ip, 53, 0),
			     owner_of(proto, out, ext, 53, ip, 1), "1:1 out %u", i);
		cr_expect_eq(owner_of(proto, out, ext, op, 22, 1),
			     owner_of(proto, C2, out, 22, op, 0), "1:1 in %u", i);
		/* Routed without translation, from outside; and inside to inside. */
		cr_expect_eq(owner_of(proto, out, C, op, 25, 1), owner_of(proto, C, out, 25, op, 0),
			     "routed %u", i);
		cr_expect_eq(owner_of(proto, C, C2, ip, op, 0), owner_of(proto, C2, C, op, ip, 0),
			     "inside %u", i);
		/* Hairpin: C2 to the forward, the server's answer to our inside address. */
		w = owner_of(6, C2, WAN, ip, 8080, 0);
		t->worker = (uint16_t)w;
		ap_ct_flush(t, NULL);
		cr_assert_eq(track_in(6, C2, WAN, ip, 8080, SYN, 0, 2), AP_CT_NEW);
		f = only_flow();
		cr_assert_eq(f->nat, AP_CT_SNAT | AP_CT_DNAT);
		cr_expect_eq(owner_of(6, C, LAN, 80, rte_be_to_cpu_16(f->nat_sport), 0), w,
			     "hairpin %u", i);
	}
	t->worker = 0;
	ap_ct_flush(t, NULL);
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_ct_egress4 = NULL;
}

/* Endpoint-independent mapping (RFC 4787 4.1): an inside endpoint keeps its
 * outside port for every destination while its flows live; nobody else gets
 * that port; the mapping goes with its last flow. */
Test(ct_table, endpoint_independent_mapping)
{
	const uint32_t s2 = 0xc0000202;
	const struct ap_ct_flow *f;
	uint16_t port = 0, other = 0;

	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_nat_conf.enabled = true;
	ap_nat_conf.addr[1] = rte_cpu_to_be_32(WAN);
	ap_nat_conf.lo[1] = 30000;
	ap_nat_conf.hi[1] = 30009;
	ap_nat_conf.eim[1] = true;
	ap_ct_egress4 = egress_by_net;
	cr_assert_eq(ap_ct_eim_create(t, 32), 0);
	cr_expect_eq(track_in(17, C, S, 5000, 53, 0, 0, 1), AP_CT_NEW);
	cr_expect_eq(track_in(17, C, s2, 5000, 53, 0, 0, 1), AP_CT_NEW);
	cr_expect_eq(track_in(17, C2, S, 5000, 53, 0, 0, 1), AP_CT_NEW);
	for (uint32_t i = 0; i < t->max; i++) {
		f = &t->flows[i];
		if (!ap_ct_flow_used(f))
			continue;
		if (f->key.addr_lo[3] == 2 || f->key.addr_hi[3] == 2) { /* 10.0.0.2 */
			cr_expect(f->status & AP_CT_EIM);
			if (port == 0)
				port = f->nat_sport;
			cr_expect_eq(f->nat_sport, port, "one port for every destination");
		} else {
			other = f->nat_sport;
		}
	}
	cr_expect_neq(port, 0);
	cr_expect_neq(other, port, "another inside host never gets it");
	/* Both destinations' answers come back to the one mapping. */
	cr_expect_eq(track_in(17, S, WAN, 53, rte_be_to_cpu_16(port), 0, 1, 2), AP_CT_ESTABLISHED);
	cr_expect_eq(track_in(17, s2, WAN, 53, rte_be_to_cpu_16(port), 0, 1, 2), AP_CT_ESTABLISHED);
	ap_ct_flush(t, NULL);
	cr_expect_eq(rte_hash_count(t->eim), 0, "the mappings went with their flows");
	rte_hash_free(t->eim);
	t->eim = NULL;
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_ct_egress4 = NULL;
}
