/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP state machine of connection tracking, with netfilter's states and
 * its choices as a middlebox: segments may be lost after us, so a state
 * moves on what was sent, not on what arrived; a SYN after TIME_WAIT or
 * CLOSE reopens; a RST closes; segments that cannot belong to the state are
 * invalid; retransmitted or stale ones (a second SYN/ACK) are ignored.
 * Written here from RFC 793's state diagram and netfilter's documented
 * behaviour; and window tracking as netfilter does it.
 */
#include <string.h>

#include "dp/ct/ct.h"
#include "pkt/pkt.h"

enum ap_ct_tcp_seg
ap_ct_tcp_seg_of(uint8_t flags)
{
	const uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ack = 0x10;

	if (flags & rst)
		return AP_SEG_RST;
	if (flags & syn)
		return (flags & ack) ? AP_SEG_SYNACK : AP_SEG_SYN;
	if (flags & fin)
		return AP_SEG_FIN;
	if (flags & ack)
		return AP_SEG_ACK;
	return AP_SEG_NONE;
}

#define NO AP_TCP_NONE
#define SS AP_TCP_SYN_SENT
#define SR AP_TCP_SYN_RECV
#define ES AP_TCP_ESTABLISHED
#define FW AP_TCP_FIN_WAIT
#define CW AP_TCP_CLOSE_WAIT
#define LA AP_TCP_LAST_ACK
#define TW AP_TCP_TIME_WAIT
#define CL AP_TCP_CLOSE
#define S2 AP_TCP_SYN_SENT2
#define IG AP_TCP_IGNORE
#define IV AP_TCP_INVALID

/* next[direction][segment][state]; states in enum order:
 *                        NO  SS  SR  ES  FW  CW  LA  TW  CL  S2 */
static const uint8_t next[2][AP_SEG_CLASSES][AP_TCP_STATES] =
	{
		[AP_CT_ORIG] =
			{
				/* A SYN opens, is retransmitted, or reopens a closed flow; in a
				 * live connection it is someone else's problem. */
				[AP_SEG_SYN] = {SS, SS, IG, IG, IG, IG, IG, SS, SS, S2},
				/* Only the answer to a simultaneous open. */
				[AP_SEG_SYNACK] = {IV, IV, SR, IV, IV, IV, IV, IV, IV, SR},
				/* The originator closes first (FW), or after the other (LA). */
				[AP_SEG_FIN] = {IV, IV, FW, FW, LA, LA, LA, TW, CL, IV},
				/* The handshake's last ACK; the ACK of the other side's FIN. */
				[AP_SEG_ACK] = {ES, IV, ES, ES, CW, CW, TW, TW, CL, IV},
				[AP_SEG_RST] = {IV, CL, CL, CL, CL, CL, CL, CL, CL, CL},
				[AP_SEG_NONE] = {IV, IV, IV, IV, IV, IV, IV, IV, IV, IV},
			},
		[AP_CT_REPLY] =
			{
				/* A SYN back is a simultaneous open; after TIME_WAIT, a new
				 * connection the other way round is left alone. */
				[AP_SEG_SYN] = {IV, S2, IV, IV, IV, IV, IV, IG, IV, S2},
				/* The handshake's answer; repeated, it stays. */
				[AP_SEG_SYNACK] = {IV, SR, SR, IG, IG, IG, IG, IG, IG, SR},
				[AP_SEG_FIN] = {IV, IV, FW, FW, LA, LA, LA, TW, CL, IV},
				[AP_SEG_ACK] = {IV, IG, SR, ES, CW, CW, TW, TW, CL, IG},
				[AP_SEG_RST] = {IV, CL, CL, CL, CL, CL, CL, CL, CL, CL},
				[AP_SEG_NONE] = {IV, IV, IV, IV, IV, IV, IV, IV, IV, IV},
			},
};

/*
 * The closing states depend on who closed first, which the table cannot
 * see: the closer's own FINs and ACKs keep the state; the other side's ACK
 * of the FIN gives CLOSE_WAIT, its FIN LAST_ACK; and only the closer's ACK
 * of that second FIN gives TIME_WAIT.
 */
static enum ap_ct_tcp_state
closing(enum ap_ct_tcp_state s, bool from_closer, enum ap_ct_tcp_seg seg)
{
	switch (s) {
	case AP_TCP_FIN_WAIT:
		if (from_closer)
			return s;
		return seg == AP_SEG_FIN ? AP_TCP_LAST_ACK : AP_TCP_CLOSE_WAIT;
	case AP_TCP_CLOSE_WAIT:
		if (from_closer)
			return s;
		return seg == AP_SEG_FIN ? AP_TCP_LAST_ACK : s;
	default: /* LAST_ACK */
		if (from_closer && seg == AP_SEG_ACK)
			return AP_TCP_TIME_WAIT;
		return s;
	}
}

enum ap_ct_tcp_state
ap_ct_tcp_next(enum ap_ct_tcp_state s, enum ap_ct_dir dir, enum ap_ct_tcp_seg seg, int closer,
	       bool loose)
{
	if (s >= AP_TCP_STATES || seg >= AP_SEG_CLASSES)
		return AP_TCP_INVALID;
	/* Picking up a connection from the middle (an ACK first) is opt-in. */
	if (s == AP_TCP_NONE && seg == AP_SEG_ACK && !loose)
		return AP_TCP_INVALID;
	if ((s == AP_TCP_FIN_WAIT || s == AP_TCP_CLOSE_WAIT || s == AP_TCP_LAST_ACK) &&
	    (seg == AP_SEG_FIN || seg == AP_SEG_ACK) && closer >= 0)
		return closing(s, (int)dir == closer, seg);
	return (enum ap_ct_tcp_state)next[dir][seg][s];
}

const char *
ap_ct_tcp_state_name(enum ap_ct_tcp_state s)
{
	static const char *const names[] = {
		[AP_TCP_NONE] = "NONE",		[AP_TCP_SYN_SENT] = "SYN_SENT",
		[AP_TCP_SYN_RECV] = "SYN_RECV", [AP_TCP_ESTABLISHED] = "ESTABLISHED",
		[AP_TCP_FIN_WAIT] = "FIN_WAIT", [AP_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[AP_TCP_LAST_ACK] = "LAST_ACK", [AP_TCP_TIME_WAIT] = "TIME_WAIT",
		[AP_TCP_CLOSE] = "CLOSE",	[AP_TCP_SYN_SENT2] = "SYN_SENT2",
		[AP_TCP_IGNORE] = "IGNORE",	[AP_TCP_INVALID] = "INVALID",
	};

	return s <= AP_TCP_INVALID ? names[s] : "?";
}

/* Window tracking. Sequence numbers compare modulo 2^32. */

static inline bool
before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
after(uint32_t a, uint32_t b)
{
	return before(b, a);
}

bool
ap_ct_tcp_seg_parse(const uint8_t *tcp, uint32_t avail, uint32_t l4_len,
		    struct ap_ct_tcp_seg_info *si)
{
	uint32_t hlen = (uint32_t)(tcp[12] >> 4) * 4;
	uint8_t len;

	if (avail < 20 || hlen < 20 || hlen > avail || hlen > l4_len)
		return false;
	memset(si, 0, sizeof(*si));
	si->seq = ap_rd32be(tcp + 4);
	si->ack = ap_rd32be(tcp + 8);
	si->flags = tcp[13];
	si->win = (uint16_t)(tcp[14] << 8 | tcp[15]);
	si->len = l4_len - hlen;
	si->wscale = 0xff;
	for (uint32_t i = 20; ap_tcp_opt_next(tcp, hlen, &i, &len); i += len) {
		if (tcp[i] == 3 && len == 3)
			si->wscale = tcp[i + 2] > 14 ? 14 : tcp[i + 2];
		else if (tcp[i] == 4 && len == 2)
			si->sack_perm = true;
		else if (tcp[i] == 5 && len >= 10)
			for (uint32_t b = i + 2; b + 8 <= i + len; b += 8) {
				uint32_t right = ap_rd32be(tcp + b + 4);

				if (!si->has_sack || after(right, si->sack))
					si->sack = right;
				si->has_sack = true;
			}
	}
	return true;
}

/* A SYN's options set up its sender's direction. */
static void
win_from_syn(struct ap_ct_tcp_win *w, const struct ap_ct_tcp_seg_info *si, uint32_t end)
{
	w->end = w->maxend = end;
	w->maxwin = si->win == 0 ? 1 : si->win;
	w->scale = 0;
	if (si->wscale != 0xff)
		w->scale = AP_CT_WIN_WS | si->wscale;
	if (si->sack_perm)
		w->scale |= AP_CT_WIN_SACK;
}

bool
ap_ct_tcp_in_window(struct ap_ct_tcp_win *sender, struct ap_ct_tcp_win *receiver,
		    enum ap_ct_tcp_state state, bool from_orig, const struct ap_ct_tcp_seg_info *si)
{
	const uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ackf = 0x10;
	uint32_t seq = si->seq, ack = si->ack, sack, end, win = si->win, swin, maxack;

	end = seq + si->len + ((si->flags & syn) ? 1 : 0) + ((si->flags & fin) ? 1 : 0);
	sack = (si->has_sack && (receiver->scale & AP_CT_WIN_SACK) && after(si->sack, ack))
		       ? si->sack
		       : ack;
	if (sender->maxwin == 0) {
		/* The first segment this way (the originator's SYN set up its
		 * side when the flow was made: ap_ct_tcp_win_new()). */
		if (si->flags & syn) {
			win_from_syn(sender, si, end);
			/* RFC 1323: scaling holds only when both sides offer it. */
			if (!(sender->scale & receiver->scale & AP_CT_WIN_WS)) {
				sender->scale &= (uint8_t)~0x0f;
				receiver->scale &= (uint8_t)~0x0f;
			}
			if (!(si->flags & ackf))
				return true; /* simultaneous open */
		} else {
			/* The reply of a flow picked up mid-stream. */
			sender->end = end;
			swin = win << (sender->scale & 0x0f);
			sender->maxwin = swin == 0 ? 1 : swin;
			sender->maxend = end + sender->maxwin;
			if (receiver->maxwin == 0) {
				receiver->end = receiver->maxend = sack;
			} else if (sack == receiver->end + 1) {
				/* Our SYN's +1: the receiver saw it. */
				receiver->end++;
				receiver->maxend++;
			}
		}
	} else if (((state == AP_TCP_SYN_SENT && from_orig) ||
		    (state == AP_TCP_SYN_RECV && !from_orig)) &&
		   (si->flags & syn) && after(end, sender->end)) {
		/* A SYN again with another sequence number: start over. */
		win_from_syn(sender, si, end);
	}
	if (!(si->flags & ackf)) {
		ack = sack = receiver->end;
	} else if ((si->flags & (ackf | rst)) == (ackf | rst) && ack == 0) {
		/* Stacks that reset with ACK set and a zero ack. */
		ack = sack = receiver->end;
	}
	if ((si->flags & rst) && seq == 0 && state == AP_TCP_SYN_SENT)
		seq = end = sender->end;
	maxack = sender->maxwin ? sender->maxwin : 66000;
	if (!(!after(seq, sender->maxend) && after(end, sender->end - receiver->maxwin - 1) &&
	      !after(sack, receiver->end) && after(sack, receiver->end - maxack - 1)))
		return false;
	/* In the window: move it. */
	if (!(si->flags & syn))
		win <<= sender->scale & 0x0f;
	swin = win + (sack - ack);
	if (sender->maxwin < swin)
		sender->maxwin = swin;
	if (after(end, sender->end)) {
		sender->end = end;
		sender->scale |= AP_CT_WIN_UNACK;
	}
	if (receiver->maxwin != 0 && after(end, sender->maxend))
		receiver->maxwin += end - sender->maxend;
	if (after(sack + win, receiver->maxend - 1)) {
		receiver->maxend = sack + win;
		if (win == 0)
			receiver->maxend++;
	}
	if (ack == receiver->end)
		receiver->scale &= (uint8_t)~AP_CT_WIN_UNACK;
	return true;
}

void
ap_ct_tcp_win_new(struct ap_ct_tcp_win *w, const struct ap_ct_tcp_seg_info *si)
{
	uint32_t end =
		si->seq + si->len + ((si->flags & 0x02) ? 1 : 0) + ((si->flags & 0x01) ? 1 : 0);

	memset(w, 0, sizeof(*w));
	if (si->flags & 0x02) {
		win_from_syn(w, si, end);
		return;
	}
	/* Picked up mid-stream: the window as it is, unscaled (the flow is
	 * liberal from then on, as netfilter's pickup). */
	w->end = end;
	w->maxwin = si->win == 0 ? 1 : si->win;
	w->maxend = end + w->maxwin;
}
