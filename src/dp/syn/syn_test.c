/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SYN proxy's pieces: options written and read back, segments with
 * right checksums, cookies (valid for their connection and two counts,
 * nothing else), the timestamp that carries the client's options, sequence
 * shifting of spliced flows (seq, ack, SACK, timestamps, checksum), and the
 * guard: arming by SYN rate and half-open flows, disarming after the calm,
 * source buckets and blocks. Time is a fake TSC at 1000 Hz.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dp/syn/syn.h"
#include "pkt/pkt.h"

static const uint8_t KEY[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t CLI[4] = {10, 0, 0, 2}, SRV[4] = {192, 0, 2, 1};
#define SPORT 0x3930 /* 12345, network order on a little-endian host */
#define DPORT 0x5000 /* 80 */

static struct ap_syn_seg
seg(uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct ap_syn_seg s = {.family = 4, .sport = SPORT, .dport = DPORT};

	memcpy(s.src, CLI, 4);
	memcpy(s.dst, SRV, 4);
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.window = 64240;
	return s;
}

Test(syn, options_round_trip_and_checksums)
{
	struct ap_syn_seg s = seg(1000, 0, 0x02);
	struct ap_syn_opts o;
	uint8_t b[128];
	uint32_t len;

	s.o = (struct ap_syn_opts){.has = AP_SYN_OPT_MSS | AP_SYN_OPT_WSCALE | AP_SYN_OPT_SACK |
					  AP_SYN_OPT_TS,
				   .mss = 1460,
				   .wscale = 7,
				   .tsval = 0x11223344,
				   .tsecr = 0x55667788};
	len = ap_syn_emit(b, sizeof(b), &s);
	cr_assert_eq(len, 20 + 20 + 20, "MSS 4 + SACK/TS 12 + WS 4");
	cr_expect_eq(ap_csum(b, 20), 0, "IPv4 header checksum");
	cr_expect_eq(ap_l4_csum_ip4(b, b + 20, len - 20, 6), 0, "TCP checksum");
	ap_syn_parse_opts(b + 20, (uint32_t)(b[32] >> 4) * 4, &o);
	cr_expect_eq(o.has, s.o.has);
	cr_expect_eq(o.mss, 1460);
	cr_expect_eq(o.wscale, 7);
	cr_expect_eq(o.tsval, 0x11223344);
	cr_expect_eq(o.tsecr, 0x55667788);
	/* No timestamps: SACK permission stands alone. */
	s.o.has = AP_SYN_OPT_MSS | AP_SYN_OPT_SACK;
	len = ap_syn_emit(b, sizeof(b), &s);
	ap_syn_parse_opts(b + 20, len - 20, &o);
	cr_expect_eq(o.has, AP_SYN_OPT_MSS | AP_SYN_OPT_SACK);
	/* IPv6. */
	s.family = 6;
	memset(s.src, 0, 16);
	memset(s.dst, 0, 16);
	s.src[0] = s.dst[0] = 0xfd;
	s.src[15] = 2;
	s.dst[15] = 1;
	len = ap_syn_emit(b, sizeof(b), &s);
	cr_expect_eq(len, 40 + 28);
	cr_expect_eq(ap_l4_csum_ip6(b, b + 40, len - 40, 6), 0, "TCP checksum over IPv6");
	cr_expect_eq(ap_syn_emit(b, 50, &s), 0, "no room");
}

Test(syn, options_stop_at_garbage)
{
	uint8_t tcp[40] = {0};
	struct ap_syn_opts o;

	tcp[12] = 10 << 4;
	tcp[20] = 2; /* MSS claiming 30 bytes */
	tcp[21] = 30;
	ap_syn_parse_opts(tcp, 40, &o);
	cr_expect_eq(o.has, 0);
	tcp[20] = 3; /* window scale 200: capped at 14 */
	tcp[21] = 3;
	tcp[22] = 200;
	ap_syn_parse_opts(tcp, 40, &o);
	cr_expect_eq(o.has, AP_SYN_OPT_WSCALE);
	cr_expect_eq(o.wscale, 14);
}

Test(syn, cookies)
{
	uint32_t c = ap_syn_cookie(KEY, 4, CLI, SRV, SPORT, DPORT, 1000, 77, 1400);
	uint16_t mss = 0;
	uint8_t other[16] = {10, 0, 0, 3};

	cr_expect(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1000, c, 77, &mss));
	cr_expect_eq(mss, 1400);
	cr_expect(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1000, c, 79, &mss),
		  "two counts later");
	cr_expect_not(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1000, c, 80, &mss),
		      "three counts later: too old");
	cr_expect_not(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1000, c, 76, &mss),
		      "from the future");
	cr_expect_not(ap_syn_cookie_check(KEY, 4, other, SRV, SPORT, DPORT, 1000, c, 77, &mss),
		      "another source");
	cr_expect_not(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT + 1, DPORT, 1000, c, 77, &mss),
		      "another port");
	cr_expect_not(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1001, c, 77, &mss),
		      "another client ISN");
	cr_expect_not(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1000, c ^ 1, 77, &mss),
		      "a flipped bit");
	/* MSS rounds down to the table; none (or tiny) is 536. */
	c = ap_syn_cookie(KEY, 4, CLI, SRV, SPORT, DPORT, 1, 5, 1459);
	ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1, c, 5, &mss);
	cr_expect_eq(mss, 1452);
	c = ap_syn_cookie(KEY, 4, CLI, SRV, SPORT, DPORT, 1, 31, 100);
	cr_expect(ap_syn_cookie_check(KEY, 4, CLI, SRV, SPORT, DPORT, 1, c, 33, &mss),
		  "the count wraps");
	cr_expect_eq(mss, 536);
}

Test(syn, timestamp_keeps_client_options)
{
	struct ap_syn_opts cl = {.has = AP_SYN_OPT_WSCALE | AP_SYN_OPT_SACK | AP_SYN_OPT_TS,
				 .wscale = 9};
	struct ap_syn_opts back = {0};
	uint32_t ts = ap_syn_ts_cookie(123456, &cl);

	cr_expect_eq(ts & ~0x3fu, 123456u & ~0x3fu);
	ap_syn_ts_decode(ts, &back);
	cr_expect_eq(back.has, AP_SYN_OPT_WSCALE | AP_SYN_OPT_SACK);
	cr_expect_eq(back.wscale, 9);
	cl.has = AP_SYN_OPT_TS;
	memset(&back, 0, sizeof(back));
	ap_syn_ts_decode(ap_syn_ts_cookie(123456, &cl), &back);
	cr_expect_eq(back.has, 0, "no window scale, no SACK");
}

/* A data segment with timestamps and (from the client) a SACK block. */
static uint32_t
data_seg(uint8_t *b, bool from_client)
{
	struct ap_syn_seg s = seg(5000, 9000, 0x10);
	uint32_t len;
	uint8_t *t;
	uint16_t ck;

	s.o = (struct ap_syn_opts){.has = AP_SYN_OPT_TS, .tsval = 700, .tsecr = 300};
	len = ap_syn_emit(b, 128, &s);
	if (!from_client)
		return len;
	/* Replace the two NOPs before the timestamp by nothing: append a SACK
	 * block option (NOP NOP 5 10 left right) and fix lengths. */
	t = b + 20;
	memcpy(b + len, (const uint8_t[]){1, 1, 5, 10, 0, 0, 0x23, 0x28, 0, 0, 0x27, 0x10}, 12);
	len += 12;
	t[12] = (uint8_t)(((len - 20) / 4) << 4);
	b[3] = (uint8_t)len;
	b[10] = b[11] = 0;
	ck = ap_csum(b, 20);
	memcpy(b + 10, &ck, 2);
	t[16] = t[17] = 0;
	ck = ap_l4_csum_ip4(b, t, len - 20, 6);
	memcpy(t + 16, &ck, 2);
	return len;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

Test(syn, seqadj)
{
	uint8_t b[128];
	uint32_t len = data_seg(b, false);

	/* From the server: seq and TSval come down. */
	ap_syn_seqadj(b + 20, len - 20, true, 1000, 50);
	cr_expect_eq(rd32(b + 24), 4000);
	cr_expect_eq(rd32(b + 28), 9000, "ack untouched");
	cr_expect_eq(rd32(b + 44), 650, "TSval");
	cr_expect_eq(rd32(b + 48), 300, "TSecr untouched");
	cr_expect_eq(ap_l4_csum_ip4(b, b + 20, len - 20, 6), 0);
	/* From the client: ack, SACK edges and TSecr go up. */
	len = data_seg(b, true);
	ap_syn_seqadj(b + 20, len - 20, false, 1000, 50);
	cr_expect_eq(rd32(b + 24), 5000, "seq untouched");
	cr_expect_eq(rd32(b + 28), 10000);
	cr_expect_eq(rd32(b + 48), 350, "TSecr");
	cr_expect_eq(rd32(b + 56), 9000 + 1000, "SACK left edge");
	cr_expect_eq(rd32(b + 60), 10000 + 1000, "SACK right edge");
	cr_expect_eq(ap_l4_csum_ip4(b, b + 20, len - 20, 6), 0);
	/* Sequence space wraps. */
	len = data_seg(b, false);
	ap_syn_seqadj(b + 20, len - 20, true, 6000, 0);
	cr_expect_eq(rd32(b + 24), (uint32_t)(5000 - 6000));
	cr_expect_eq(ap_l4_csum_ip4(b, b + 20, len - 20, 6), 0);
}

/* The guard. */

static struct ap_syn_state *st;

static void
guard_setup(void)
{
	st = calloc(1, sizeof(*st));
	memset(&ap_syn_conf, 0, sizeof(ap_syn_conf));
	ap_syn_conf.enabled = true;
	ap_syn_conf.tsc_hz = 1000; /* the fake TSC counts milliseconds */
	ap_syn_conf.syn_rate = 10;
	ap_syn_conf.half_open = 5;
	ap_syn_conf.disarm_after = 3;
	memcpy(ap_syn_conf.key, KEY, 16);
	ap_syn_conf.n_prot = 1;
	ap_syn_conf.prot[0].family = 4;
	ap_syn_conf.prot[0].len = 24;
	memcpy(ap_syn_conf.prot[0].addr, SRV, 4);
	ap_syn_conf.prot[0].lo = 80;
	ap_syn_conf.prot[0].hi = 80;
}

static void
guard_teardown(void)
{
	free(st);
}

TestSuite(guard, .init = guard_setup, .fini = guard_teardown);

static enum ap_syn_verdict
syn_from(const uint8_t *src, uint64_t ms)
{
	uint8_t tcp[20] = {0};
	uint16_t mss;

	tcp[12] = 5 << 4;
	tcp[13] = 0x02;
	return ap_syn_guard(st, 4, src, SRV, SPORT, DPORT, tcp, 20, 1000000 + ms, &mss);
}

Test(guard, protected_destinations)
{
	const uint8_t in[4] = {192, 0, 2, 200}, out[4] = {192, 0, 3, 1};

	cr_expect(ap_syn_protected(4, in, 80));
	cr_expect_not(ap_syn_protected(4, in, 81));
	cr_expect_not(ap_syn_protected(4, out, 80));
	cr_expect_not(ap_syn_protected(6, in, 80));
}

Test(guard, arms_on_syn_rate_and_disarms_after_the_calm)
{
	for (int i = 0; i < 9; i++)
		cr_expect_eq(syn_from(CLI, (uint64_t)i), AP_SYN_PASS);
	cr_expect_not(ap_syn_armed(st, 4, SRV));
	cr_expect_eq(syn_from(CLI, 10), AP_SYN_COOKIE, "the 10th SYN in a second arms it");
	cr_expect(ap_syn_armed(st, 4, SRV));
	cr_expect_eq(st->st.armed, 1);
	/* The flood goes on for a while: no disarming. */
	for (uint64_t s = 1; s <= 5; s++) {
		for (int i = 0; i < 20; i++)
			syn_from(CLI, s * 1000 + (uint64_t)i);
		ap_syn_housekeeping(st, 1000000 + s * 1000 + 500);
	}
	cr_expect(ap_syn_armed(st, 4, SRV));
	/* It stops: calm from second 7, disarmed three seconds later. */
	for (uint64_t s = 6; s <= 9; s++)
		ap_syn_housekeeping(st, 1000000 + s * 1000);
	cr_expect(ap_syn_armed(st, 4, SRV), "not calm long enough yet");
	ap_syn_housekeeping(st, 1000000 + 10 * 1000);
	cr_expect_not(ap_syn_armed(st, 4, SRV));
	cr_expect_eq(st->st.disarmed, 1);
	cr_expect_eq(syn_from(CLI, 11000), AP_SYN_PASS);
}

Test(guard, arms_on_half_open_flows)
{
	for (int i = 0; i < 4; i++)
		ap_syn_half_open(st, 4, SRV, true, 1000000);
	cr_expect_not(ap_syn_armed(st, 4, SRV));
	ap_syn_half_open(st, 4, SRV, true, 1000000);
	cr_expect(ap_syn_armed(st, 4, SRV));
	for (int i = 0; i < 5; i++)
		ap_syn_half_open(st, 4, SRV, false, 0);
	for (uint64_t s = 1; s <= 5; s++)
		ap_syn_housekeeping(st, 1000000 + s * 1000);
	cr_expect_not(ap_syn_armed(st, 4, SRV), "the half-open flows are gone");
}

Test(guard, cookie_acks)
{
	uint8_t tcp[20] = {0};
	uint32_t cookie =
		ap_syn_cookie(KEY, 4, CLI, SRV, SPORT, DPORT, 4999, 1001000 / 1000 >> 6, 1460);
	uint16_t mss = 0;

	tcp[12] = 5 << 4;
	tcp[13] = 0x10;
	/* seq = client ISN + 1, ack = cookie + 1 */
	tcp[4] = 0, tcp[5] = 0, tcp[6] = 0x13, tcp[7] = 0x88; /* 5000 */
	tcp[8] = (uint8_t)((cookie + 1) >> 24);
	tcp[9] = (uint8_t)((cookie + 1) >> 16);
	tcp[10] = (uint8_t)((cookie + 1) >> 8);
	tcp[11] = (uint8_t)(cookie + 1);
	cr_expect_eq(ap_syn_guard(st, 4, CLI, SRV, SPORT, DPORT, tcp, 20, 1001000, &mss),
		     AP_SYN_SPLICE);
	cr_expect_eq(mss, 1460);
	tcp[11] ^= 0x40;
	cr_expect_eq(ap_syn_guard(st, 4, CLI, SRV, SPORT, DPORT, tcp, 20, 1001000, &mss),
		     AP_SYN_PASS, "a stray ACK while unarmed is conntrack's");
	ap_syn_conf.always = true;
	cr_expect_eq(ap_syn_guard(st, 4, CLI, SRV, SPORT, DPORT, tcp, 20, 1001000, &mss),
		     AP_SYN_BAD_COOKIE, "armed (always), it is dropped");
	cr_expect_eq(st->st.cookie_valid, 1);
	cr_expect_eq(st->st.cookie_invalid, 1);
}

Test(guard, source_rate_blocks)
{
	const uint8_t other[4] = {10, 0, 0, 9};

	ap_syn_conf.syn_rate = 1000000;
	ap_syn_conf.source_rate = 5;
	ap_syn_conf.source_burst = 5;
	ap_syn_conf.block_time = 10;
	for (int i = 0; i < 5; i++)
		cr_expect_eq(syn_from(CLI, (uint64_t)i), AP_SYN_PASS, "within the burst");
	cr_expect_eq(syn_from(CLI, 5), AP_SYN_BLOCKED);
	cr_expect_eq(st->st.src_blocked, 1);
	cr_expect_eq(syn_from(other, 6), AP_SYN_PASS, "another source is not");
	cr_expect_eq(syn_from(CLI, 9000), AP_SYN_BLOCKED, "still blocked after 9 s");
	cr_expect_eq(syn_from(CLI, 12000), AP_SYN_PASS, "free again, its bucket full");
	cr_expect_eq(st->st.blocked_drops, 2);
}
