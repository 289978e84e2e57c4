/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP state machine of connection tracking, with netfilter's states and
 * its choices as a middlebox: segments may be lost after us, so a state
 * moves on what was sent, not on what arrived; a SYN after TIME_WAIT or
 * CLOSE reopens; a RST closes; segments that cannot belong to the state are
 * invalid; retransmitted or stale ones (a second SYN/ACK) are ignored.
 * Written here from RFC 793's state diagram and netfilter's documented
 * behaviour; window tracking is not part of it.
 */
#include "dp/ct/ct.h"

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
