/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BGP finite state machine of RFC 4271 §8, without the optional session
 * attributes (DelayOpen, damping, collision detection inside the FSM: the
 * service resolves collisions before it feeds events).
 *
 * Pure: events and the current time go in, a set of actions comes out. The
 * service performs the actions (connect, send, close) and feeds back what
 * happened. Timers are absolute deadlines the service polls.
 */
#include "svc/bgp/bgp.h"

#include <string.h>

/* RFC 4271 §10 and §8.2.2: the hold timer while waiting for OPEN ("a large
 * value", 4 minutes suggested). */
#define OPEN_HOLD_MS 240000u

const char *
ap_bgp_state_name(enum ap_bgp_state s)
{
	static const char *const names[] = {"Idle",	"Connect",     "Active",
					    "OpenSent", "OpenConfirm", "Established"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

void
ap_bgp_fsm_init(struct ap_bgp_fsm *f, const struct ap_bgp_fsm_cfg *cfg, uint64_t now)
{
	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	if (f->cfg.connect_retry == 0)
		f->cfg.connect_retry = 120000;
	if (f->cfg.idle_hold == 0)
		f->cfg.idle_hold = 5000;
	f->state = AP_BGP_IDLE;
	f->since = now;
}

static void
go(struct ap_bgp_fsm *f, enum ap_bgp_state s, uint64_t now, struct ap_bgp_fsm_out *out)
{
	if (f->state == AP_BGP_ESTABLISHED && s != AP_BGP_ESTABLISHED) {
		f->n_dropped++;
		out->acts |= AP_BGP_DO_DOWN;
	}
	if (s == AP_BGP_ESTABLISHED && f->state != AP_BGP_ESTABLISHED) {
		f->n_established++;
		out->acts |= AP_BGP_DO_ESTABLISHED;
	}
	if (s != f->state)
		f->since = now;
	f->state = s;
}

static void
notify(struct ap_bgp_fsm *f, struct ap_bgp_fsm_out *out, uint8_t code, uint8_t subcode)
{
	memset(&out->err, 0, sizeof(out->err));
	out->err.code = code;
	out->err.subcode = subcode;
	out->acts |= AP_BGP_DO_NOTIFY;
	f->last_sent = out->err;
}

/* Back to Idle, every timer off; after an error the session restarts by
 * itself once the idle hold time has passed (AutomaticStart). */
static void
to_idle(struct ap_bgp_fsm *f, uint64_t now, struct ap_bgp_fsm_out *out, bool restart)
{
	out->acts |= AP_BGP_DO_CLOSE;
	f->t_connect = f->t_hold = f->t_keepalive = 0;
	f->t_idle = restart && f->started ? now + f->cfg.idle_hold : 0;
	go(f, AP_BGP_IDLE, now, out);
}

static void
start(struct ap_bgp_fsm *f, uint64_t now, struct ap_bgp_fsm_out *out)
{
	f->t_idle = 0;
	f->t_connect = now + f->cfg.connect_retry;
	if (f->cfg.passive) {
		go(f, AP_BGP_ACTIVE, now, out);
	} else {
		out->acts |= AP_BGP_DO_CONNECT;
		go(f, AP_BGP_CONNECT, now, out);
	}
}

/* A connection is up: send OPEN and wait for the peer's (RFC 4271 §8.2.2). */
static void
tcp_up(struct ap_bgp_fsm *f, uint64_t now, struct ap_bgp_fsm_out *out)
{
	f->t_connect = 0;
	f->t_hold = now + OPEN_HOLD_MS;
	out->acts |= AP_BGP_DO_OPEN;
	go(f, AP_BGP_OPENSENT, now, out);
}

/* Restart the hold timer when a KEEPALIVE or UPDATE arrives. */
static void
hold_restart(struct ap_bgp_fsm *f, uint64_t now)
{
	f->t_hold = f->hold_neg ? now + f->hold_neg * 1000ull : 0;
}

/* An unexpected message: FSM error with the state's subcode (RFC 6608). */
static void
fsm_error(struct ap_bgp_fsm *f, uint64_t now, struct ap_bgp_fsm_out *out)
{
	uint8_t sub = f->state == AP_BGP_OPENSENT      ? AP_BGP_FSM_IN_OPENSENT
		      : f->state == AP_BGP_OPENCONFIRM ? AP_BGP_FSM_IN_OPENCONFIRM
		      : f->state == AP_BGP_ESTABLISHED ? AP_BGP_FSM_IN_ESTABLISHED
						       : AP_BGP_FSM_UNSPEC;

	notify(f, out, AP_BGP_ERR_FSM, sub);
	to_idle(f, now, out, true);
}

void
ap_bgp_fsm_event(struct ap_bgp_fsm *f, enum ap_bgp_event ev, uint64_t now,
		 const struct ap_bgp_fsm_arg *arg, struct ap_bgp_fsm_out *out)
{
	bool connected = f->state >= AP_BGP_OPENSENT;

	out->acts = 0;
	switch (ev) {
	case AP_BGP_EV_START:
		f->started = true;
		if (f->state == AP_BGP_IDLE)
			start(f, now, out);
		return;
	case AP_BGP_EV_STOP:
		f->started = false;
		if (f->state == AP_BGP_IDLE) {
			f->t_idle = 0;
			return;
		}
		if (connected) {
			if (arg && arg->err) {
				out->err = *arg->err;
				out->acts |= AP_BGP_DO_NOTIFY;
				f->last_sent = out->err;
			} else {
				notify(f, out, AP_BGP_ERR_CEASE, AP_BGP_CEASE_SHUTDOWN);
			}
		}
		to_idle(f, now, out, false);
		return;
	case AP_BGP_EV_TCP_UP:
		if (f->state == AP_BGP_CONNECT || f->state == AP_BGP_ACTIVE)
			tcp_up(f, now, out);
		else if (f->state == AP_BGP_IDLE)
			/* Idle refuses connections (RFC 4271 §8.2.2). */
			out->acts |= AP_BGP_DO_CLOSE;
		return;
	case AP_BGP_EV_TCP_FAIL:
		switch (f->state) {
		case AP_BGP_IDLE:
			return;
		case AP_BGP_CONNECT:
		case AP_BGP_OPENSENT:
			/* Keep trying passively until ConnectRetry fires. */
			out->acts |= AP_BGP_DO_CLOSE;
			f->t_hold = f->t_keepalive = 0;
			f->t_connect = now + f->cfg.connect_retry;
			go(f, AP_BGP_ACTIVE, now, out);
			return;
		default:
			to_idle(f, now, out, true);
			return;
		}
	case AP_BGP_EV_OPEN:
		if (f->state != AP_BGP_OPENSENT) {
			if (f->state >= AP_BGP_OPENSENT)
				fsm_error(f, now, out);
			return;
		}
		/* RFC 4271 §4.2: the smaller of the two hold times; keepalives
		 * every third of it. */
		f->hold_neg = f->cfg.hold_time;
		if (arg && arg->hold_time < f->hold_neg)
			f->hold_neg = arg->hold_time;
		hold_restart(f, now);
		f->t_keepalive = f->hold_neg ? now + f->hold_neg * 1000ull / 3 : 0;
		out->acts |= AP_BGP_DO_KEEPALIVE;
		go(f, AP_BGP_OPENCONFIRM, now, out);
		return;
	case AP_BGP_EV_MSG_ERR:
		if (f->state == AP_BGP_IDLE)
			return;
		if (arg && arg->err) {
			out->err = *arg->err;
			out->acts |= AP_BGP_DO_NOTIFY;
			f->last_sent = out->err;
		}
		to_idle(f, now, out, true);
		return;
	case AP_BGP_EV_KEEPALIVE:
		if (f->state == AP_BGP_OPENCONFIRM) {
			hold_restart(f, now);
			go(f, AP_BGP_ESTABLISHED, now, out);
		} else if (f->state == AP_BGP_ESTABLISHED) {
			hold_restart(f, now);
		} else if (connected) {
			fsm_error(f, now, out);
		}
		return;
	case AP_BGP_EV_UPDATE:
		if (f->state == AP_BGP_ESTABLISHED)
			hold_restart(f, now);
		else if (connected)
			fsm_error(f, now, out);
		return;
	case AP_BGP_EV_NOTIFICATION:
		if (f->state != AP_BGP_IDLE)
			to_idle(f, now, out, true);
		return;
	}
}

void
ap_bgp_fsm_poll(struct ap_bgp_fsm *f, uint64_t now, struct ap_bgp_fsm_out *out)
{
	out->acts = 0;
	if (f->t_hold && now >= f->t_hold) {
		/* RFC 4271 §6.5: Hold Timer Expired. */
		notify(f, out, AP_BGP_ERR_HOLD, 0);
		to_idle(f, now, out, true);
		return;
	}
	if (f->t_keepalive && now >= f->t_keepalive) {
		out->acts |= AP_BGP_DO_KEEPALIVE;
		f->t_keepalive = now + f->hold_neg * 1000ull / 3;
	}
	if (f->t_connect && now >= f->t_connect) {
		f->t_connect = now + f->cfg.connect_retry;
		if (f->state == AP_BGP_CONNECT) {
			/* Drop the attempt in progress and try again. */
			out->acts |= AP_BGP_DO_CLOSE | AP_BGP_DO_CONNECT;
		} else if (f->state == AP_BGP_ACTIVE && !f->cfg.passive) {
			out->acts |= AP_BGP_DO_CONNECT;
			go(f, AP_BGP_CONNECT, now, out);
		}
	}
	if (f->t_idle && now >= f->t_idle && f->state == AP_BGP_IDLE)
		start(f, now, out);
}

void
ap_bgp_fsm_sent(struct ap_bgp_fsm *f, uint64_t now)
{
	if (f->t_keepalive)
		f->t_keepalive = now + f->hold_neg * 1000ull / 3;
}

uint64_t
ap_bgp_fsm_next(const struct ap_bgp_fsm *f)
{
	uint64_t t[] = {f->t_hold, f->t_keepalive, f->t_connect, f->t_idle}, m = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] && (m == 0 || t[i] < m))
			m = t[i];
	return m;
}
