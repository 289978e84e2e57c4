/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DOC: the BGP speaker as an aetherd service.
 *
 * Thin adapter between the pure parts (codec, FSM, RIB) and the world: kernel
 * TCP sockets on the control-plane libuv loop. Each configured neighbour is a
 * struct bgp_peer with one FSM, at most one connection and a per-peer timer
 * armed at the FSM's next deadline.
 *
 * Receiving: bytes accumulate in the peer's buffer; every whole message is
 * decoded and turned into FSM events and RIB changes. Import policy decides
 * whether a path is eligible (RFC 8212: nothing from or to an external peer
 * without an explicit policy).
 *
 * Sending: the RIB reports each change of best path; the prefix joins a dirty
 * list and an export pass runs on the next loop turn. The pass computes, for
 * every Established peer, the attributes as that peer must see them (RFC
 * 4271 §5.1, RFC 4456 reflection), interns them so routes with equal
 * attributes group together, and packs each group into as few UPDATEs as fit.
 * A new session, or a ROUTE-REFRESH, gets the whole table this way, followed
 * by End-of-RIB.
 */
#include "svc/bgp/bgp_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "svc/api/api.h"
#include "svc/svc.h"

#define MOD	     "bgp"
#define RBUF_MAX     (2u * AP_BGP_EXT_MAX_LEN)
#define OBUF_FLUSH   (256u * 1024)
/* Read-ahead distances (messages) of the RIB prefetch: see read_ahead(). */
#define PF_FAR	     AP_BGP_PF_FAR
#define PF_NEAR	     AP_BGP_PF_NEAR
#define PF_RING	     16
#define DEFAULT_LP   100
#define ASPATH_SCRAP 4096

static void peer_apply(struct bgp_peer *p, const struct ap_bgp_fsm_out *out);
static void peer_arm(struct bgp_peer *p);
static void export_schedule(struct bgp_svc *s);

static uint64_t
now_ms(const struct bgp_svc *s)
{
	return uv_now(s->loop);
}

static const char *
addr_str(const uint8_t *a, bool v6, char *buf, size_t size)
{
	inet_ntop(v6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)size);
	return buf;
}

/* ------------------------------------------------------------ connection */

static void
on_close_free(uv_handle_t *h)
{
	free(h);
}

struct wreq {
	uv_write_t req;
	uint8_t data[];
};

static void
on_write(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

/* Send what is buffered for 'p' as one write. */
static void
peer_flush(struct bgp_peer *p)
{
	struct wreq *w;
	uv_buf_t b;

	if (p->olen == 0 || p->conn == NULL || p->connecting)
		return;
	w = malloc(sizeof(*w) + p->olen);
	if (w == NULL)
		return;
	memcpy(w->data, p->obuf, p->olen);
	b = uv_buf_init((char *)w->data, p->olen);
	if (uv_write(&w->req, (uv_stream_t *)p->conn, &b, 1, on_write) < 0)
		free(w);
	p->olen = 0;
}

/* Queue an encoded message for 'p'. */
static void
peer_send(struct bgp_peer *p, const uint8_t *msg, uint32_t len)
{
	if (p->conn == NULL)
		return;
	if (p->olen + len > p->ocap) {
		uint32_t cap = p->ocap ? p->ocap : 65536;
		uint8_t *nb;

		while (cap < p->olen + len)
			cap *= 2;
		nb = realloc(p->obuf, cap);
		if (nb == NULL)
			return;
		p->obuf = nb;
		p->ocap = cap;
	}
	memcpy(p->obuf + p->olen, msg, len);
	p->olen += len;
	p->msgs_out++;
	ap_bgp_fsm_sent(&p->fsm, now_ms(p->svc));
	if (p->olen >= OBUF_FLUSH)
		peer_flush(p);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	(void)status;
	/* At exit the daemon may have closed every handle already. */
	if (!uv_is_closing((uv_handle_t *)req->handle))
		uv_close((uv_handle_t *)req->handle, on_close_free);
	free(req);
}

/* Drop the connection: what is queued is still sent, then the socket closes. */
static void
peer_close(struct bgp_peer *p)
{
	uv_tcp_t *c = p->conn;
	uv_shutdown_t *req;

	if (c == NULL)
		return;
	peer_flush(p);
	p->conn = NULL;
	p->rlen = 0;
	p->olen = 0;
	c->data = NULL;
	if (p->connecting) {
		/* The connect callback sees the cancellation and frees nothing. */
		uv_close((uv_handle_t *)c, on_close_free);
		p->connecting = false;
		return;
	}
	req = malloc(sizeof(*req));
	if (req == NULL || uv_shutdown(req, (uv_stream_t *)c, on_shutdown) < 0) {
		free(req);
		uv_close((uv_handle_t *)c, on_close_free);
	}
}

static void
send_notification(struct bgp_peer *p, const struct ap_bgp_err *e)
{
	struct ap_wire_w w;
	char buf[64];

	ap_wire_w_init(&w, p->svc->wbuf, AP_BGP_MAX_LEN);
	if (ap_bgp_notif_encode(&w, e) == 0)
		peer_send(p, p->svc->wbuf, ap_wire_w_used(&w));
	snprintf(p->last_error, sizeof(p->last_error), "sent %u/%u %s", e->code, e->subcode,
		 ap_bgp_err_name(e->code, e->subcode));
	AP_LOG_WARN(MOD, "neighbor %s: sending NOTIFICATION %u/%u (%s)",
		    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), e->code, e->subcode,
		    ap_bgp_err_name(e->code, e->subcode));
}

static void
send_open(struct bgp_peer *p)
{
	struct bgp_svc *s = p->svc;
	struct ap_bgp_open o = {
		.asn = s->cfg.asn,
		.hold_time = p->cfg.hold_time,
		.router_id = s->cfg.router_id,
		.as4 = true,
		.route_refresh = true,
		.enhanced_rr = true,
		.ext_msg = true,
		/* RFC 4724 §3: the capability without families says we can help
		 * a restarting peer but do not preserve forwarding ourselves. */
		.gr_present = true,
	};
	struct ap_wire_w w;

	o.mp[AP_BGP_IPV4] = p->cfg.families[AP_BGP_IPV4];
	o.mp[AP_BGP_IPV6] = p->cfg.families[AP_BGP_IPV6];
	ap_wire_w_init(&w, s->wbuf, AP_BGP_MAX_LEN);
	if (ap_bgp_open_encode(&w, &o) == 0)
		peer_send(p, s->wbuf, ap_wire_w_used(&w));
}

static void
send_keepalive(struct bgp_peer *p)
{
	struct ap_wire_w w;

	ap_wire_w_init(&w, p->svc->wbuf, AP_BGP_MAX_LEN);
	if (ap_bgp_keepalive_encode(&w) == 0)
		peer_send(p, p->svc->wbuf, ap_wire_w_used(&w));
}

static void
fsm_event(struct bgp_peer *p, enum ap_bgp_event ev, const struct ap_bgp_fsm_arg *arg)
{
	struct ap_bgp_fsm_out out;

	ap_bgp_fsm_event(&p->fsm, ev, now_ms(p->svc), arg, &out);
	peer_apply(p, &out);
}

static void
msg_error(struct bgp_peer *p, const struct ap_bgp_err *e)
{
	struct ap_bgp_fsm_arg arg = {.err = e};

	fsm_event(p, AP_BGP_EV_MSG_ERR, &arg);
}

/* ------------------------------------------------------------- receiving */

/* Loop checks (RFC 4271 §9.1.2, RFC 4456 §8): such a path is never eligible. */
static bool
loops_ok(struct bgp_peer *p, const struct ap_bgp_attrs *a)
{
	struct bgp_svc *s = p->svc;
	uint32_t cluster = s->cfg.cluster_id ? s->cfg.cluster_id : s->cfg.router_id;

	if (ap_bgp_aspath_contains(a->as_path, a->as_path_len, s->cfg.asn))
		return false;
	if (ap_bgp_attr_has(a, AP_BGP_ATTR_ORIGINATOR_ID) && a->originator_id == s->cfg.router_id)
		return false;
	for (uint16_t i = 0; i < a->n_cluster; i++) {
		const uint8_t *c = a->cluster_list + 4 * i;

		if (((uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]) ==
		    cluster)
			return false;
	}
	return true;
}

static void
withdraw_block(struct bgp_peer *p, const struct ap_bgp_nlri *n)
{
	struct ap_bgp_prefix pfx;
	struct ap_wire w;

	if (!n->present || n->af == AP_BGP_AF_NONE)
		return;
	ap_wire_init(&w, n->p, n->len);
	while (ap_bgp_nlri_next(&w, n->af, &pfx))
		ap_bgp_rib_withdraw(p->svc->rib, p->idx, &pfx);
}

static void
handle_update(struct bgp_peer *p, const uint8_t *msg, uint32_t len)
{
	struct bgp_svc *s = p->svc;
	struct ap_bgp_update *u = s->upd;
	enum ap_bgp_action act;
	char buf[64];

	act = ap_bgp_update_decode(msg, len, &p->sess, u);
	if (act == AP_BGP_ACT_SESSION_RESET) {
		msg_error(p, &u->err);
		return;
	}
	p->updates_in++;
	if (u->eor && p->gr_deadline) {
		/* RFC 4724 §4.2: End-of-RIB ends the wait for that family. */
		uint32_t n = ap_bgp_rib_flush_stale(s->rib, p->idx, u->eor_af);

		if (n)
			AP_LOG_INFO(MOD, "neighbor %s: %u stale routes removed at End-of-RIB",
				    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), n);
	}
	if (act != AP_BGP_ACT_OK)
		AP_LOG_WARN(MOD, "neighbor %s: UPDATE handled as %s (attribute %u)",
			    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)),
			    ap_bgp_action_name(act), u->bad_attr);
	withdraw_block(p, &u->withdrawn);
	withdraw_block(p, &u->mp_unreach);
	if (act == AP_BGP_ACT_TREAT_AS_WITHDRAW) {
		/* RFC 7606 §2: the announced prefixes are withdrawn instead. */
		withdraw_block(p, &u->nlri);
		withdraw_block(p, &u->mp_reach);
	} else if (u->nlri.len > 0 || (u->mp_reach.present && u->mp_reach.af != AP_BGP_AF_NONE)) {
		const struct ap_bgp_nlri *blocks[2] = {&u->nlri, &u->mp_reach};
		bool loops = loops_ok(p, &u->attrs);
		/* Without a named policy every prefix gets the same verdict. */
		bool same = !loops || !p->import_pol;
		bool ok = loops && (p->import_all || p->import_pol);
		struct ap_bgp_pattr *pa = ap_bgp_pattr_intern(s->rib, &u->attrs);
		uint32_t t = (uint32_t)(now_ms(s) / 1000);
		struct ap_bgp_pol_buf pb;

		if (pa == NULL) {
			struct ap_bgp_err e = {.code = AP_BGP_ERR_CEASE,
					       .subcode = AP_BGP_CEASE_RESOURCES};

			msg_error(p, &e);
			return;
		}
		for (int b = 0; b < 2; b++) {
			const struct ap_bgp_nlri *n = blocks[b];
			struct ap_bgp_prefix pfx, pf;
			struct ap_wire w, ahead;

			if (n->len == 0 || n->af == AP_BGP_AF_NONE || !p->af[n->af])
				continue;
			ap_wire_init(&w, n->p, n->len);
			/* The buckets of the next prefixes load while one is handled. */
			ahead = w;
			for (int i = 0; i < PF_NEAR && ap_bgp_nlri_next(&ahead, n->af, &pf); i++)
				ap_bgp_rib_prefetch(s->rib, &pf, false);
			while (ap_bgp_nlri_next(&w, n->af, &pfx)) {
				struct ap_bgp_attrs a2;
				struct ap_bgp_pattr *pp;
				bool acc;

				if (ap_bgp_nlri_next(&ahead, n->af, &pf))
					ap_bgp_rib_prefetch(s->rib, &pf, false);

				if (same) {
					ap_bgp_rib_update(s->rib, p->idx, &pfx,
							  ap_bgp_pattr_ref(pa), !ok, t);
					continue;
				}
				/* A rejected path keeps the attributes it came with. */
				a2 = u->attrs;
				acc = ap_bgp_policy_apply(p->import_pol->rules, p->import_pol->n,
							  &pfx, &a2, &pb);
				pp = acc ? ap_bgp_pattr_intern(s->rib, &a2) : ap_bgp_pattr_ref(pa);
				if (pp)
					ap_bgp_rib_update(s->rib, p->idx, &pfx, pp, !acc, t);
			}
		}
		ap_bgp_pattr_unref(s->rib, pa);
	}
	fsm_event(p, AP_BGP_EV_UPDATE, NULL);
}

static void
handle_open(struct bgp_peer *p, const uint8_t *msg, uint32_t len)
{
	struct bgp_svc *s = p->svc;
	struct ap_bgp_open *o = &p->peer_open;
	struct ap_bgp_fsm_arg arg = {0};
	struct ap_bgp_err e = {0};
	struct ap_bgp_peer_info info;

	if (ap_bgp_open_decode(msg, len, o, &e) < 0) {
		msg_error(p, &e);
		return;
	}
	if (o->asn != p->cfg.remote_as) {
		uint8_t d[2] = {(uint8_t)(o->my_as >> 8), (uint8_t)o->my_as};

		/* RFC 4271 §6.2: the data is the offending My Autonomous System field. */
		e.code = AP_BGP_ERR_OPEN;
		e.subcode = AP_BGP_OPEN_BAD_PEER_AS;
		e.data_len = 2;
		memcpy(e.data, d, 2);
		msg_error(p, &e);
		return;
	}
	if (p->ibgp && o->router_id == s->cfg.router_id) {
		e.code = AP_BGP_ERR_OPEN;
		e.subcode = AP_BGP_OPEN_BAD_ID;
		msg_error(p, &e);
		return;
	}
	p->sess.as4 = o->as4;
	p->sess.ibgp = p->ibgp;
	for (int af = 0; af < AP_BGP_N_AF; af++)
		/* RFC 4760 §8: without any multiprotocol capability, IPv4 unicast. */
		p->af[af] = p->cfg.families[af] && (o->mp_any ? o->mp[af] : af == AP_BGP_IPV4);
	p->max_len = o->ext_msg ? AP_BGP_EXT_MAX_LEN : AP_BGP_MAX_LEN;
	/* RFC 4724 §4.2: stale routes of a family whose forwarding state the
	 * restarted peer did not keep go at once. */
	for (uint8_t af = 0; af < AP_BGP_N_AF && p->gr_deadline; af++)
		if (!o->gr_present || !o->gr.af[af] || !o->gr.fwd[af])
			ap_bgp_rib_flush_stale(s->rib, p->idx, af);
	info = *ap_bgp_rib_peer(s->rib, p->idx);
	info.router_id = o->router_id;
	ap_bgp_rib_peer_set(s->rib, p->idx, &info);
	s->memo_gen++; /* Views of its routes name its identifier. */
	arg.hold_time = o->hold_time;
	fsm_event(p, AP_BGP_EV_OPEN, &arg);
}

static void
handle_notification(struct bgp_peer *p, const uint8_t *msg, uint32_t len)
{
	struct ap_bgp_notif n;
	char buf[64];

	if (ap_bgp_notif_decode(msg, len, &n) == 0) {
		p->rx_code = n.code;
		p->rx_subcode = n.subcode;
		snprintf(p->rx_shutdown, sizeof(p->rx_shutdown), "%s", n.shutdown_msg);
		snprintf(p->last_error, sizeof(p->last_error), "received %u/%u %s", n.code,
			 n.subcode, ap_bgp_err_name(n.code, n.subcode));
		AP_LOG_WARN(MOD, "neighbor %s: NOTIFICATION %u/%u (%s)%s%s%s",
			    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), n.code, n.subcode,
			    ap_bgp_err_name(n.code, n.subcode), n.shutdown_msg[0] ? ": \"" : "",
			    n.shutdown_msg, n.shutdown_msg[0] ? "\"" : "");
	}
	p->notif_rx = true;
	fsm_event(p, AP_BGP_EV_NOTIFICATION, NULL);
	p->notif_rx = false;
}

static void
handle_refresh(struct bgp_peer *p, const uint8_t *msg, uint32_t len)
{
	struct ap_bgp_refresh r;
	struct ap_bgp_err e;
	int rc = ap_bgp_refresh_decode(msg, len, &r, &e);

	if (rc == -EBADMSG) {
		msg_error(p, &e);
		return;
	}
	if (rc == 0 && r.subtype == AP_BGP_RR_NORMAL && r.af != AP_BGP_AF_NONE && p->af[r.af] &&
	    p->fsm.state == AP_BGP_ESTABLISHED) {
		/* RFC 2918 §4: re-advertise the Adj-RIB-Out of that family. */
		p->need_full = true;
		p->need_full_af[r.af] = true;
		export_schedule(p->svc);
	}
	fsm_event(p, AP_BGP_EV_UPDATE, NULL);
}

/* Returns false when the connection went away while handling. */
static bool
handle_msg(struct bgp_peer *p, const struct ap_bgp_hdr *h, const uint8_t *msg)
{
	uv_tcp_t *c = p->conn;

	p->msgs_in++;
	switch (h->type) {
	case AP_BGP_OPEN:
		handle_open(p, msg, h->len);
		break;
	case AP_BGP_UPDATE:
		if (p->fsm.state == AP_BGP_ESTABLISHED)
			handle_update(p, msg, h->len);
		else
			fsm_event(p, AP_BGP_EV_UPDATE, NULL);
		break;
	case AP_BGP_NOTIFICATION:
		handle_notification(p, msg, h->len);
		break;
	case AP_BGP_KEEPALIVE:
		fsm_event(p, AP_BGP_EV_KEEPALIVE, NULL);
		break;
	case AP_BGP_ROUTE_REFRESH:
		handle_refresh(p, msg, h->len);
		break;
	}
	return p->conn == c && c != NULL;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct bgp_peer *p = h->data;

	(void)suggested;
	if (p == NULL || (p->rcap - p->rlen < 4096 && p->rcap >= RBUF_MAX)) {
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	if (p->rcap - p->rlen < 4096) {
		uint32_t cap = p->rcap ? p->rcap * 2 : 65536;
		uint8_t *nb = realloc(p->rbuf, cap > RBUF_MAX ? RBUF_MAX : cap);

		if (nb == NULL) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		p->rbuf = nb;
		p->rcap = cap > RBUF_MAX ? RBUF_MAX : cap;
	}
	buf->base = (char *)p->rbuf + p->rlen;
	buf->len = p->rcap - p->rlen;
}

/*
 * Read-ahead over the messages a read brought: a full table often comes one
 * prefix per UPDATE, and each one's RIB lookup misses the caches. The first
 * prefix of the UPDATE PF_FAR messages ahead gets its hash bucket loaded, the
 * one PF_NEAR ahead its chain, so the misses overlap (the scan only peeks:
 * every message is still decoded and checked when its turn comes).
 */
struct read_ahead {
	uint32_t off;	  /* Scanned up to here... */
	uint32_t scanned; /* ...that many messages. */
	uint32_t have;	  /* Bit (index % PF_RING): pfx[] holds one. */
	struct ap_bgp_prefix pfx[PF_RING];
};

/* Before message 'done' is handled: scan up to PF_FAR messages past it. */
static void
read_ahead(struct bgp_peer *p, struct read_ahead *ra, uint32_t done, uint32_t max)
{
	const struct ap_bgp_rib *rib = p->svc->rib;
	uint32_t k;

	while (ra->scanned < done + PF_FAR && p->rlen - ra->off >= AP_BGP_HDR_LEN) {
		const uint8_t *m = p->rbuf + ra->off;
		uint32_t len = (uint32_t)m[16] << 8 | m[17];

		if (len < AP_BGP_HDR_LEN || len > max || len > p->rlen - ra->off)
			break;
		k = ra->scanned % PF_RING;
		ra->have &= ~(1u << k);
		if (p->af[AP_BGP_IPV4] && ap_bgp_update_peek_prefix(m, len, &ra->pfx[k])) {
			ra->have |= 1u << k;
			ap_bgp_rib_prefetch(rib, &ra->pfx[k], false);
		}
		ra->off += len;
		ra->scanned++;
	}
	k = (done + PF_NEAR) % PF_RING;
	if (done + PF_NEAR < ra->scanned && (ra->have >> k & 1))
		ap_bgp_rib_prefetch(rib, &ra->pfx[k], true);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct bgp_peer *p = st->data;
	struct read_ahead ra = {0};
	uint32_t off = 0, done = 0;

	(void)buf;
	if (p == NULL)
		return;
	if (n < 0) {
		fsm_event(p, AP_BGP_EV_TCP_FAIL, NULL);
		return;
	}
	p->rlen += (uint32_t)n;
	while (p->conn) {
		struct ap_bgp_hdr h;
		struct ap_bgp_err e;
		/* Until OPEN settles it, accept up to the largest size. */
		uint32_t max = p->max_len ? p->max_len : AP_BGP_EXT_MAX_LEN;
		int rc;

		if (p->fsm.state == AP_BGP_ESTABLISHED)
			read_ahead(p, &ra, done++, max);
		rc = ap_bgp_hdr_decode(p->rbuf + off, p->rlen - off, max, &h, &e);

		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			msg_error(p, &e);
			return;
		}
		if (!handle_msg(p, &h, p->rbuf + off))
			return;
		off += h.len;
	}
	if (p->conn && off) {
		memmove(p->rbuf, p->rbuf + off, p->rlen - off);
		p->rlen -= off;
	}
	if (p->conn)
		peer_flush(p);
}

/* A connection is up (either direction): remember our address, start reading. */
static void
conn_up(struct bgp_peer *p)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	p->connecting = false;
	p->rlen = 0;
	p->max_len = 0;
	memset(p->local_addr, 0, sizeof(p->local_addr));
	if (uv_tcp_getsockname(p->conn, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			memcpy(p->local_addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
			p->local_v6 = true;
		} else {
			memcpy(p->local_addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
			p->local_v6 = false;
		}
	}
	uv_tcp_nodelay(p->conn, 1);
	uv_read_start((uv_stream_t *)p->conn, on_alloc, on_read);
	fsm_event(p, AP_BGP_EV_TCP_UP, NULL);
	peer_flush(p);
}

static void
on_connect(uv_connect_t *req, int status)
{
	uv_tcp_t *c = (uv_tcp_t *)req->handle;
	struct bgp_peer *p = c->data;

	free(req);
	if (p == NULL || p->conn != c)
		return; /* Closed meanwhile. */
	if (status < 0) {
		p->conn = NULL;
		p->connecting = false;
		c->data = NULL;
		uv_close((uv_handle_t *)c, on_close_free);
		snprintf(p->last_error, sizeof(p->last_error), "connect: %s", uv_strerror(status));
		fsm_event(p, AP_BGP_EV_TCP_FAIL, NULL);
		return;
	}
	conn_up(p);
}

static int
peer_sockaddr(const struct bgp_peer *p, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (p->cfg.v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p->cfg.port);
		memcpy(&s6->sin6_addr, p->cfg.addr, 16);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(p->cfg.port);
		memcpy(&s4->sin_addr, p->cfg.addr, 4);
	}
	return 0;
}

static void
peer_connect(struct bgp_peer *p)
{
	struct bgp_svc *s = p->svc;
	struct sockaddr_storage ss;
	uv_connect_t *req;
	uv_tcp_t *c;

	if (p->conn)
		return;
	c = malloc(sizeof(*c));
	req = malloc(sizeof(*req));
	if (c == NULL || req == NULL || uv_tcp_init(s->loop, c) < 0) {
		free(c);
		free(req);
		fsm_event(p, AP_BGP_EV_TCP_FAIL, NULL);
		return;
	}
	c->data = p;
	/* Connect from the listening address when it is a specific one, so a
	 * peer that checks the source address (BIRD's strict bind) recognises us. */
	if (strcmp(s->cfg.listen_address, "0.0.0.0") != 0 &&
	    strcmp(s->cfg.listen_address, "::") != 0 &&
	    strcmp(s->cfg.listen_address, "none") != 0) {
		struct sockaddr_storage la;

		memset(&la, 0, sizeof(la));
		if (uv_ip4_addr(s->cfg.listen_address, 0, (struct sockaddr_in *)&la) == 0 ||
		    uv_ip6_addr(s->cfg.listen_address, 0, (struct sockaddr_in6 *)&la) == 0)
			if (la.ss_family == (p->cfg.v6 ? AF_INET6 : AF_INET))
				uv_tcp_bind(c, (struct sockaddr *)&la, 0);
	}
	peer_sockaddr(p, &ss);
	p->conn = c;
	p->connecting = true;
	if (uv_tcp_connect(req, c, (struct sockaddr *)&ss, on_connect) < 0) {
		free(req);
		p->conn = NULL;
		p->connecting = false;
		c->data = NULL;
		uv_close((uv_handle_t *)c, on_close_free);
		fsm_event(p, AP_BGP_EV_TCP_FAIL, NULL);
	}
}

static struct bgp_peer *
peer_by_addr(struct bgp_svc *s, const struct sockaddr_storage *ss)
{
	uint8_t a[16] = {0};
	bool v6 = ss->ss_family == AF_INET6;

	if (v6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(a, &s6->sin6_addr, 16);
		/* An IPv4 peer reaching a dual-stack socket. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			v6 = false;
		}
	} else {
		memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
	for (uint16_t i = 0; i < s->n_peers; i++)
		if (s->peers[i].cfg.v6 == v6 && memcmp(s->peers[i].cfg.addr, a, 16) == 0)
			return &s->peers[i];
	return NULL;
}

static void
on_accept(uv_stream_t *server, int status)
{
	struct bgp_svc *s = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct bgp_peer *p;
	uv_tcp_t *c;

	if (status < 0)
		return;
	c = malloc(sizeof(*c));
	if (c == NULL || uv_tcp_init(s->loop, c) < 0) {
		free(c);
		return;
	}
	c->data = NULL;
	if (uv_accept(server, (uv_stream_t *)c) < 0 ||
	    uv_tcp_getpeername(c, (struct sockaddr *)&ss, &len) < 0 ||
	    (p = peer_by_addr(s, &ss)) == NULL) {
		/* Not a configured neighbour. */
		uv_close((uv_handle_t *)c, on_close_free);
		return;
	}
	/* Collision (RFC 4271 §6.8), simplified: an outgoing attempt not yet
	 * connected gives way; a connection already past Connect keeps its place. */
	if (p->conn && p->connecting)
		peer_close(p);
	if (p->conn || p->fsm.state == AP_BGP_IDLE) {
		uv_close((uv_handle_t *)c, on_close_free);
		return;
	}
	c->data = p;
	p->conn = c;
	conn_up(p);
}

/* -------------------------------------------------------------- FSM glue */

static void
on_peer_timer(uv_timer_t *t)
{
	struct bgp_peer *p = t->data;
	struct ap_bgp_fsm_out out;

	if (p->gr_deadline && now_ms(p->svc) >= p->gr_deadline) {
		uint32_t n = ap_bgp_rib_flush_stale(p->svc->rib, p->idx, AP_BGP_AF_NONE);
		char buf[64];

		p->gr_deadline = 0;
		AP_LOG_INFO(MOD, "neighbor %s: restart time over, %u stale routes removed",
			    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), n);
	}
	ap_bgp_fsm_poll(&p->fsm, now_ms(p->svc), &out);
	peer_apply(p, &out);
	peer_flush(p);
}

static void
peer_arm(struct bgp_peer *p)
{
	uint64_t next = ap_bgp_fsm_next(&p->fsm), now = now_ms(p->svc);

	if (p->gr_deadline && (next == 0 || p->gr_deadline < next))
		next = p->gr_deadline;

	uv_timer_stop(&p->timer);
	if (next)
		uv_timer_start(&p->timer, on_peer_timer, next > now ? next - now : 0, 0);
}

static void
peer_apply(struct bgp_peer *p, const struct ap_bgp_fsm_out *out)
{
	struct bgp_svc *s = p->svc;
	char buf[64];

	if (out->acts & AP_BGP_DO_NOTIFY)
		send_notification(p, &out->err);
	if (out->acts & AP_BGP_DO_CLOSE)
		peer_close(p);
	if (out->acts & AP_BGP_DO_DOWN) {
		const struct ap_bgp_open *o = &p->peer_open;
		/* RFC 4724 §4.2: a restarting peer's session ends without a
		 * NOTIFICATION; its routes are kept, stale, for its restart time. */
		bool gr = o->gr_present && o->gr.time > 0 && !p->notif_rx &&
			  !(out->acts & AP_BGP_DO_NOTIFY) &&
			  ((o->gr.af[0] && p->af[0]) || (o->gr.af[1] && p->af[1]));
		uint32_t n;

		if (gr) {
			n = ap_bgp_rib_mark_stale(s->rib, p->idx);
			for (uint8_t af = 0; af < AP_BGP_N_AF; af++)
				if (!o->gr.af[af])
					ap_bgp_rib_flush_stale(s->rib, p->idx, af);
			p->gr_deadline = now_ms(s) + o->gr.time * 1000ull;
			AP_LOG_INFO(MOD,
				    "neighbor %s: session down, %u routes kept stale for %u s "
				    "(graceful restart)",
				    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), n,
				    o->gr.time);
		} else {
			n = ap_bgp_rib_flush_peer(s->rib, p->idx);
			p->gr_deadline = 0;
			AP_LOG_INFO(MOD, "neighbor %s: session down, %u routes withdrawn",
				    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), n);
		}
		p->need_full = false;
	}
	if (out->acts & AP_BGP_DO_CONNECT)
		peer_connect(p);
	if (out->acts & AP_BGP_DO_OPEN)
		send_open(p);
	if (out->acts & AP_BGP_DO_KEEPALIVE)
		send_keepalive(p);
	if (out->acts & (AP_BGP_DO_ESTABLISHED | AP_BGP_DO_DOWN))
		s->memo_gen++; /* The views name our end of the session. */
	if (out->acts & AP_BGP_DO_ESTABLISHED) {
		AP_LOG_INFO(MOD, "neighbor %s: established (AS %u)",
			    addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf)), p->peer_open.asn);
		p->need_full = true;
		p->need_full_af[0] = p->need_full_af[1] = true;
		export_schedule(s);
	}
	peer_arm(p);
}

/* ----------------------------------------------------------------- export */

/* ------------------------------------------------ recursive next hops */

/*
 * With a FIB, each distinct BGP next hop is resolved once through the data
 * plane (a connected subnet, else the longest static or API route covering
 * it) and cached here with its gateway; routes are installed via the
 * gateway. Once a second the data plane's route generation is checked: when
 * it moved, every cached next hop is resolved again, and only the routes
 * whose next hop now resolves differently are installed again (or taken out
 * of the FIB, staying in the RIB, when it no longer resolves).
 */
static uint32_t
nh_hash(uint8_t af, const uint8_t *nh)
{
	uint32_t h = 2166136261u ^ af;

	for (int i = 0; i < 16; i++)
		h = (h ^ nh[i]) * 16777619u;
	return h;
}

static void
nh_resolve(struct bgp_svc *s, struct bgp_nh *e)
{
	uint8_t gw[16] = {0};
	bool ok = s->dpfib->resolve(s->dpfib->ctx, e->af == AP_BGP_IPV4 ? 4 : 6, e->nh, gw) == 0;

	e->changed = ok != e->ok || (ok && memcmp(gw, e->gw, 16) != 0);
	e->ok = ok;
	memcpy(e->gw, gw, 16);
}

static bool
nh_grow(struct bgp_svc *s)
{
	uint32_t cap = s->nh_cap ? 2 * s->nh_cap : 64;
	struct bgp_nh *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return false;
	for (uint32_t i = 0; i < s->nh_cap; i++) {
		uint32_t k;

		if (!s->nhs[i].used)
			continue;
		for (k = nh_hash(s->nhs[i].af, s->nhs[i].nh) & (cap - 1); t[k].used;
		     k = (k + 1) & (cap - 1))
			;
		t[k] = s->nhs[i];
	}
	free(s->nhs);
	s->nhs = t;
	s->nh_cap = cap;
	return true;
}

/* The cache entry of next hop 'nh', resolved when new; NULL without memory. */
static const struct bgp_nh *
nh_lookup(struct bgp_svc *s, uint8_t af, const uint8_t *nh)
{
	uint32_t k;

	if (2 * (s->n_nhs + 1) > s->nh_cap && !nh_grow(s))
		return NULL;
	for (k = nh_hash(af, nh) & (s->nh_cap - 1); s->nhs[k].used; k = (k + 1) & (s->nh_cap - 1))
		if (s->nhs[k].af == af && memcmp(s->nhs[k].nh, nh, 16) == 0)
			return &s->nhs[k];
	s->nhs[k] = (struct bgp_nh){.used = true, .af = af};
	memcpy(s->nhs[k].nh, nh, 16);
	nh_resolve(s, &s->nhs[k]);
	s->n_nhs++;
	return &s->nhs[k];
}

/* The BGP next hop of a path, 16 bytes (IPv4 in the first 4). */
static void
path_nh(const struct ap_bgp_path *p, uint8_t af, uint8_t nh[16])
{
	struct ap_bgp_attrs a;

	ap_bgp_pattr_view(p->attrs, &a);
	memset(nh, 0, 16);
	if (af == AP_BGP_IPV4) {
		nh[0] = (uint8_t)(a.next_hop >> 24);
		nh[1] = (uint8_t)(a.next_hop >> 16);
		nh[2] = (uint8_t)(a.next_hop >> 8);
		nh[3] = (uint8_t)a.next_hop;
	} else {
		memcpy(nh, a.mp_nh, 16);
	}
}

/* Best route 'best' of 'pfx' into the FIB via its resolved next hop, or out
 * of it when the next hop does not resolve. */
static void
fib_put(struct bgp_svc *s, const struct ap_bgp_prefix *pfx, const struct ap_bgp_path *best)
{
	const struct bgp_nh *e;
	uint8_t nh[16];

	path_nh(best, pfx->af, nh);
	e = nh_lookup(s, pfx->af, nh);
	if (e && e->ok)
		s->fib->install(s->fib->ctx, pfx, e->gw, pfx->af == AP_BGP_IPV4 ? 4 : 16);
	else
		s->fib->withdraw(s->fib->ctx, pfx);
}

static int
refib_one(void *ctx, const struct ap_bgp_dest *d)
{
	struct bgp_svc *s = ctx;
	const struct bgp_nh *e;
	uint8_t nh[16];

	if (d->best == NULL || d->best->peer == s->local_idx)
		return 0;
	path_nh(d->best, d->pfx.af, nh);
	e = nh_lookup(s, d->pfx.af, nh);
	if (e == NULL || e->changed)
		fib_put(s, &d->pfx, d->best);
	return 0;
}

static void
on_resolve_timer(uv_timer_t *t)
{
	struct bgp_svc *s = t->data;
	uint64_t gen = s->dpfib->generation(s->dpfib->ctx);
	uint32_t changed = 0;

	if (gen == s->nh_gen)
		return;
	s->nh_gen = gen;
	for (uint32_t i = 0; i < s->nh_cap; i++)
		if (s->nhs[i].used) {
			nh_resolve(s, &s->nhs[i]);
			changed += s->nhs[i].changed;
		}
	if (changed == 0)
		return;
	AP_LOG_INFO(MOD, "%u BGP next hops resolve differently: installing their routes again",
		    changed);
	ap_bgp_rib_walk(s->rib, refib_one, s);
	for (uint32_t i = 0; i < s->nh_cap; i++)
		s->nhs[i].changed = false;
}

static void
on_best(void *ctx, const struct ap_bgp_dest *d, const struct ap_bgp_path *old,
	const struct ap_bgp_path *best)
{
	struct bgp_svc *s = ctx;

	if (s->fib && !(best && best->peer == s->local_idx)) {
		if (best)
			fib_put(s, &d->pfx, best);
		else if (old)
			s->fib->withdraw(s->fib->ctx, &d->pfx);
	}
	/* Queued once per pass, held by the RIB until the pass has run. */
	if (d->held)
		return;
	if (s->n_dirty == s->cap_dirty) {
		uint32_t cap = s->cap_dirty ? s->cap_dirty * 2 : 4096;
		const struct ap_bgp_dest **nd = realloc(s->dirty, cap * sizeof(*nd));

		if (nd == NULL)
			return;
		s->dirty = nd;
		s->cap_dirty = cap;
	}
	ap_bgp_rib_hold(s->rib, d);
	s->dirty[s->n_dirty++] = d;
	export_schedule(s);
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

bool
bgp_export_attrs(struct bgp_svc *s, const struct bgp_peer *p, const struct ap_bgp_dest *d,
		 struct ap_bgp_attrs *out, uint8_t *buf, uint32_t cap, struct ap_bgp_pol_buf *pb)
{
	const struct ap_bgp_path *best = d->best;
	const struct ap_bgp_peer_info *from;
	bool local, from_ibgp;
	int len;

	if (best == NULL || !(p->export_all || p->export_pol) || !p->af[d->pfx.af])
		return false;
	if (best->peer == p->idx)
		return false; /* Never back to where it came from. */
	from = ap_bgp_rib_peer(s->rib, best->peer);
	local = best->peer == s->local_idx;
	from_ibgp = !local && from->ibgp;
	/* RFC 4456 §6: iBGP routes reach iBGP peers only through reflection. */
	if (from_ibgp && p->ibgp && !from->rr_client && !p->cfg.rr_client)
		return false;
	ap_bgp_pattr_view(best->attrs, out);
	out->present &= ~(1ull << AP_BGP_ATTR_MP_REACH | 1ull << AP_BGP_ATTR_MP_UNREACH);
	if (p->ibgp) {
		/* RFC 4271 §5.1.5: iBGP carries LOCAL_PREF. */
		if (!ap_bgp_attr_has(out, AP_BGP_ATTR_LOCAL_PREF)) {
			out->local_pref = DEFAULT_LP;
			out->present |= 1ull << AP_BGP_ATTR_LOCAL_PREF;
		}
		if (from_ibgp) {
			/* RFC 4456 §8: ORIGINATOR_ID once, our cluster in front. */
			uint32_t cl = s->cfg.cluster_id ? s->cfg.cluster_id : s->cfg.router_id;

			if (!ap_bgp_attr_has(out, AP_BGP_ATTR_ORIGINATOR_ID)) {
				out->originator_id = from->router_id;
				out->present |= 1ull << AP_BGP_ATTR_ORIGINATOR_ID;
			}
			if (cap < 4u + 4u * out->n_cluster)
				return false;
			buf[0] = (uint8_t)(cl >> 24);
			buf[1] = (uint8_t)(cl >> 16);
			buf[2] = (uint8_t)(cl >> 8);
			buf[3] = (uint8_t)cl;
			memcpy(buf + 4, out->cluster_list, 4u * out->n_cluster);
			out->cluster_list = buf;
			out->n_cluster++;
			out->present |= 1ull << AP_BGP_ATTR_CLUSTER_LIST;
			buf += 4u * out->n_cluster;
			cap -= 4u * out->n_cluster;
		}
	} else {
		/* RFC 4271 §5.1.2: prepend our AS; §5.1.5: no LOCAL_PREF; §5.1.4:
		 * a MED learned from another AS stays there. */
		len = ap_bgp_aspath_prepend(out->as_path, out->as_path_len, s->cfg.asn, 1, buf,
					    cap);
		if (len < 0)
			return false;
		out->as_path = buf;
		out->as_path_len = (uint32_t)len;
		out->present |= 1ull << AP_BGP_ATTR_AS_PATH;
		out->present &=
			~(1ull << AP_BGP_ATTR_LOCAL_PREF | 1ull << AP_BGP_ATTR_ORIGINATOR_ID |
			  1ull << AP_BGP_ATTR_CLUSTER_LIST);
		out->n_cluster = 0;
		if (!local)
			out->present &= ~(1ull << AP_BGP_ATTR_MED);
	}
	/* Next hop self towards eBGP peers and for our own routes (§5.1.3). */
	if (!p->ibgp || local) {
		if (d->pfx.af == AP_BGP_IPV4) {
			if (p->local_v6)
				return false;
			out->next_hop = be32(p->local_addr);
			out->present |= 1ull << AP_BGP_ATTR_NEXT_HOP;
		} else {
			struct in6_addr nh6;

			if (p->cfg.next_hop_v6[0] &&
			    inet_pton(AF_INET6, p->cfg.next_hop_v6, &nh6) == 1) {
				memcpy(out->mp_nh, &nh6, 16);
			} else if (p->local_v6) {
				memcpy(out->mp_nh, p->local_addr, 16);
			} else {
				/* IPv4-mapped address of our end (RFC 4291 §2.5.5.2). */
				memset(out->mp_nh, 0, 16);
				out->mp_nh[10] = out->mp_nh[11] = 0xff;
				memcpy(out->mp_nh + 12, p->local_addr, 4);
			}
			out->mp_nh_len = 16;
		}
	}
	/* The export policy sees the route as the peer would, and has the last word. */
	if (p->export_pol &&
	    !ap_bgp_policy_apply(p->export_pol->rules, p->export_pol->n, &d->pfx, out, pb))
		return false;
	if (d->pfx.af == AP_BGP_IPV4 && !ap_bgp_attr_has(out, AP_BGP_ATTR_NEXT_HOP))
		return false;
	return true;
}

/* One prefix to send, with the interned attributes it goes out with. */
/* A prefix to send: 16 bytes, since a full table makes a million of them.
 * 'pfx' points into the RIB or the dirty list, both unchanged for the pass. */
struct out_item {
	struct ap_bgp_pattr *pa; /* NULL: withdraw. */
	const struct ap_bgp_prefix *pfx;
};

static int
out_cmp(const void *a, const void *b)
{
	const struct out_item *x = a, *y = b;

	if (x->pfx->af != y->pfx->af)
		return x->pfx->af < y->pfx->af ? -1 : 1;
	if (x->pa != y->pa)
		return (uintptr_t)x->pa < (uintptr_t)y->pa ? -1 : 1;
	return 0;
}

/* Encode runs of items with equal attributes into packed UPDATEs. */
static void
send_items(struct bgp_peer *p, struct out_item *it, size_t n)
{
	struct bgp_svc *s = p->svc;
	struct ap_bgp_prefix *pf = NULL;
	size_t i = 0, pf_cap = 0;

	if (n == 0)
		return;
	qsort(it, n, sizeof(*it), out_cmp);
	while (i < n) {
		size_t j = i, k;
		struct ap_bgp_attrs a;

		while (j < n && it[j].pa == it[i].pa && it[j].pfx->af == it[i].pfx->af)
			j++;
		/* The run's prefixes side by side, as the encoder takes them. */
		if (j - i > pf_cap) {
			struct ap_bgp_prefix *np = realloc(pf, (j - i) * sizeof(*pf));

			if (np == NULL)
				break;
			pf = np;
			pf_cap = j - i;
		}
		for (k = i; k < j; k++)
			pf[k - i] = *it[k].pfx;
		if (it[i].pa)
			ap_bgp_pattr_view(it[i].pa, &a);
		for (size_t done = 0; done < j - i;) {
			struct ap_wire_w w;
			int rc;

			ap_wire_w_init(&w, s->wbuf, p->max_len ? p->max_len : AP_BGP_MAX_LEN);
			rc = ap_bgp_update_encode(&w, &p->sess, it[i].pa ? &a : NULL, it[i].pfx->af,
						  pf + done, (uint32_t)(j - i - done), !it[i].pa);
			if (rc <= 0)
				break;
			peer_send(p, s->wbuf, ap_wire_w_used(&w));
			p->updates_out++;
			if (it[i].pa)
				p->prefixes_out += (uint64_t)rc;
			done += (size_t)rc;
		}
		i = j;
	}
	free(pf);
}

static void
send_eor(struct bgp_peer *p, uint8_t af)
{
	struct ap_wire_w w;

	ap_wire_w_init(&w, p->svc->wbuf, AP_BGP_MAX_LEN);
	if (ap_bgp_update_encode(&w, &p->sess, NULL, af, NULL, 0, true) == 0)
		peer_send(p, p->svc->wbuf, ap_wire_w_used(&w));
}

struct collect {
	struct bgp_peer *p;
	struct out_item *it;
	size_t n, cap;
	bool withdraws; /* Dirty pass: unexported prefixes become withdrawals. */
	bool af[AP_BGP_N_AF];
	uint8_t scratch[ASPATH_SCRAP];
	struct ap_bgp_pol_buf pb;
};

/*
 * Without a named export policy, what a peer gets depends only on the best
 * path's attribute set, the peer it came from and the family, not on the
 * prefix: the export view is computed and interned once per such triple and
 * target peer (a full table has a few tens of thousands of sets for a million
 * prefixes, and comes over many passes). A direct-mapped memo that outlives
 * the passes: an entry holds references on both sets, so a set's address is
 * never reused while the memo names it, and every change the view depends on
 * besides those (a session up or down, a peer's OPEN, a reload) moves
 * s->memo_gen on, which makes all entries stale.
 */
#define MEMO_SIZE (1u << 16)

struct export_memo {
	struct ap_bgp_pattr *src; /* Held. */
	struct ap_bgp_pattr *out; /* Held; NULL: not exported. */
	uint32_t gen;
	uint16_t peer; /* The best path's. */
	uint16_t to;   /* The target peer. */
	uint8_t af;
};

/* The interned export view of 'd' for the peer of 'c' (a new reference), or
 * NULL when it does not go there. */
static struct ap_bgp_pattr *
export_view(struct collect *c, const struct ap_bgp_dest *d)
{
	struct bgp_svc *s = c->p->svc;
	struct export_memo *m = NULL;
	struct ap_bgp_pattr *pa = NULL;
	struct ap_bgp_attrs a;

	if (d->best && !c->p->export_pol && s->memo) {
		uintptr_t h = ((uintptr_t)d->best->attrs >> 4) ^ d->best->peer * 0x9e37u ^
			      c->p->idx * 0x85ebu ^ d->pfx.af;

		m = &s->memo[(h ^ h >> 16) & (MEMO_SIZE - 1)];
		if (m->gen == s->memo_gen && m->src == d->best->attrs && m->peer == d->best->peer &&
		    m->to == c->p->idx && m->af == d->pfx.af)
			return m->out ? ap_bgp_pattr_ref(m->out) : NULL;
	}
	if (bgp_export_attrs(s, c->p, d, &a, c->scratch, sizeof(c->scratch), &c->pb)) {
		pa = ap_bgp_pattr_intern(s->rib, &a);
		if (pa == NULL)
			return NULL;
	}
	if (m) {
		ap_bgp_pattr_unref(s->rib, m->src);
		ap_bgp_pattr_unref(s->rib, m->out);
		*m = (struct export_memo){.src = ap_bgp_pattr_ref(d->best->attrs),
					  .out = pa ? ap_bgp_pattr_ref(pa) : NULL,
					  .gen = s->memo_gen,
					  .peer = d->best->peer,
					  .to = c->p->idx,
					  .af = d->pfx.af};
	}
	return pa;
}

/* Add 'pfx' (destination 'd', NULL when gone) to the pass of 'c'. A
 * withdrawal goes only where the prefix may have been advertised: the
 * destination's 'adv' bit for the peer, or always for a peer index past the
 * bits. Changed destinations are held by the RIB until their pass has run,
 * so a withdrawn one is still there, without a best path. */
static void
collect_add(struct collect *c, struct ap_bgp_dest *d, const struct ap_bgp_prefix *pfx)
{
	uint32_t bit = c->p->idx < 32 ? 1u << c->p->idx : 0;
	struct ap_bgp_pattr *pa = NULL;

	if (!c->af[pfx->af])
		return;
	if (d)
		pa = export_view(c, d);
	if (pa == NULL && (!c->withdraws || !c->p->af[pfx->af] || (d && bit && !(d->adv & bit))))
		return;
	if (d)
		d->adv = pa ? d->adv | bit : d->adv & ~bit;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct out_item *ni = realloc(c->it, cap * sizeof(*ni));

		if (ni == NULL) {
			ap_bgp_pattr_unref(c->p->svc->rib, pa);
			return;
		}
		c->it = ni;
		c->cap = cap;
	}
	c->it[c->n].pa = pa;
	c->it[c->n].pfx = pfx;
	c->n++;
}

static int
collect_one(void *ctx, const struct ap_bgp_dest *d)
{
	/* The walk hands out the RIB's destinations; 'adv' is ours to write. */
	collect_add(ctx, (struct ap_bgp_dest *)d, &d->pfx);
	return 0;
}

static void
collect_free(struct bgp_svc *s, struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		ap_bgp_pattr_unref(s->rib, c->it[i].pa);
	free(c->it);
}

static void
on_export(uv_timer_t *t)
{
	struct bgp_svc *s = t->data;
	struct collect *c = malloc(sizeof(*c));

	s->export_armed = false;
	if (s->memo == NULL)
		s->memo = calloc(MEMO_SIZE, sizeof(*s->memo)); /* Without it: no memo. */
	if (c == NULL)
		return;
	for (uint16_t i = 0; i < s->n_peers; i++) {
		struct bgp_peer *p = &s->peers[i];

		if (p->fsm.state != AP_BGP_ESTABLISHED || p->conn == NULL)
			continue;
		memset(c, 0, offsetof(struct collect, scratch));
		c->p = p;
		if (p->need_full) {
			c->af[0] = p->need_full_af[0];
			c->af[1] = p->need_full_af[1];
			/* After an export policy change, withdraw what no longer goes
			 * out (the Adj-RIB-Out is not stored: some withdrawals are for
			 * prefixes the peer never had, which RFC 4271 allows). */
			c->withdraws = p->resync;
			ap_bgp_rib_walk(s->rib, collect_one, c);
		} else {
			c->withdraws = true;
			c->af[0] = c->af[1] = true;
			for (uint32_t k = 0; k < s->n_dirty; k++)
				collect_one(c, s->dirty[k]);
		}
		send_items(p, c->it, c->n);
		collect_free(s, c);
		if (p->need_full) {
			/* RFC 4724 §2 End-of-RIB after the initial table; RFC 7313
			 * EoRR is left for the enhanced refresh work. */
			for (uint8_t af = 0; af < AP_BGP_N_AF; af++)
				if (p->need_full_af[af] && p->af[af] && !p->resync)
					send_eor(p, af);
			p->need_full = false;
			p->resync = false;
			p->need_full_af[0] = p->need_full_af[1] = false;
		}
		peer_flush(p);
	}
	for (uint32_t k = 0; k < s->n_dirty; k++)
		ap_bgp_rib_release(s->rib, s->dirty[k]);
	s->n_dirty = 0;
	free(c);
}

static void
export_schedule(struct bgp_svc *s)
{
	if (s->export_armed)
		return;
	s->export_armed = true;
	uv_timer_start(&s->export_timer, on_export, 0, 0);
}

/* ---------------------------------------------------------------- service */

/* Prefix lists and policies from the configuration into engine form. */
static int
compile_policies(struct bgp_svc *s)
{
	const struct ap_cfg_bgp *c = &s->cfg;

	for (uint16_t l = 0; l < c->n_plists; l++) {
		for (uint16_t i = 0; i < c->plists[l].n; i++) {
			struct ap_bgp_pfx_entry *e = &s->pl_entries[l][i];

			if (ap_bgp_prefix_parse(c->plists[l].e[i].prefix, &e->pfx) < 0)
				return -EINVAL;
			e->ge = c->plists[l].e[i].ge;
			e->le = c->plists[l].e[i].le;
		}
		s->plists[l].e = s->pl_entries[l];
		s->plists[l].n = c->plists[l].n;
	}
	for (uint16_t p = 0; p < c->n_policies; p++) {
		for (uint16_t i = 0; i < c->policies[p].n; i++) {
			const struct ap_cfg_bgp_rule *cr = &c->policies[p].r[i];
			struct ap_bgp_rule *r = &s->pols[p].rules[i];

			memset(r, 0, sizeof(*r));
			for (uint16_t l = 0; cr->prefix_list[0] && l < c->n_plists; l++)
				if (strcmp(c->plists[l].name, cr->prefix_list) == 0)
					r->prefix_list = &s->plists[l];
			if (cr->as_path[0]) {
				r->as_path_re = ap_bgp_aspath_re_new(cr->as_path);
				if (r->as_path_re == NULL)
					return -EINVAL;
			}
			r->has_community = cr->has_community;
			r->community = cr->community;
			r->has_large = cr->has_large;
			memcpy(r->large, cr->large, sizeof(r->large));
			r->accept = cr->accept;
			r->set_local_pref = cr->set_local_pref;
			r->local_pref = cr->local_pref;
			r->set_med = cr->set_med;
			r->med = cr->med;
			r->set_next_hop = cr->set_next_hop;
			r->next_hop = cr->next_hop;
			memcpy(r->comm_add, cr->comm_add, sizeof(r->comm_add));
			r->n_comm_add = cr->n_comm_add;
			memcpy(r->comm_del, cr->comm_del, sizeof(r->comm_del));
			r->n_comm_del = cr->n_comm_del;
			r->prepend = cr->prepend;
			r->prepend_as = c->asn;
			s->pols[p].n = i + 1u;
		}
	}
	return 0;
}

static const struct bgp_policy *
find_policy(const struct bgp_svc *s, const char *name)
{
	for (uint16_t p = 0; p < s->cfg.n_policies; p++)
		if (strcmp(s->cfg.policies[p].name, name) == 0)
			return &s->pols[p];
	return NULL;
}

/* The policies of 'p' from its configuration. */
static void
peer_set_policies(struct bgp_peer *p)
{
	const struct ap_cfg_bgp_neighbor *n = &p->cfg;

	/* RFC 8212: external sessions exchange nothing without a policy;
	 * internal ones default to everything. */
	p->import_all = n->import[0] ? strcmp(n->import, "all") == 0 : p->ibgp;
	p->export_all = n->export[0] ? strcmp(n->export, "all") == 0 : p->ibgp;
	p->import_pol = find_policy(p->svc, n->import);
	p->export_pol = find_policy(p->svc, n->export);
}

static void
free_policies(struct bgp_svc *s)
{
	for (uint16_t p = 0; p < AP_CFG_BGP_MAX_POLICIES; p++)
		for (unsigned i = 0; i < s->pols[p].n; i++) {
			ap_bgp_aspath_re_free((void *)s->pols[p].rules[i].as_path_re);
			s->pols[p].rules[i].as_path_re = NULL;
		}
}

static bool
svc_wanted(const struct ap_config *cfg)
{
	return cfg->bgp.enabled;
}

static int
originate(struct bgp_svc *s)
{
	for (uint16_t i = 0; i < s->cfg.n_networks; i++) {
		struct ap_bgp_attrs a;
		struct ap_bgp_prefix pfx;
		struct ap_bgp_pattr *pa;

		if (ap_bgp_prefix_parse(s->cfg.networks[i], &pfx) < 0)
			return -EINVAL;
		memset(&a, 0, sizeof(a));
		a.present = 1ull << AP_BGP_ATTR_ORIGIN | 1ull << AP_BGP_ATTR_AS_PATH;
		a.origin = AP_BGP_ORIGIN_IGP;
		pa = ap_bgp_pattr_intern(s->rib, &a);
		if (pa == NULL)
			return -ENOMEM;
		ap_bgp_rib_update(s->rib, s->local_idx, &pfx, pa, false, 0);
	}
	return 0;
}

static int
start_listen(struct bgp_svc *s)
{
	struct sockaddr_storage ss;
	const char *a = s->cfg.listen_address;
	char buf[64];
	int rc;

	if (strcmp(a, "none") == 0)
		return 0;
	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(a, s->cfg.listen_port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(a, s->cfg.listen_port, (struct sockaddr_in6 *)&ss) != 0)
		return -EINVAL;
	s->listener = malloc(sizeof(*s->listener));
	if (s->listener == NULL)
		return -ENOMEM;
	uv_tcp_init(s->loop, s->listener);
	s->listener->data = s;
	rc = uv_tcp_bind(s->listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)s->listener, 64, on_accept);
	if (rc < 0) {
		AP_LOG_ERR(MOD, "cannot listen on %s port %u: %s", a, s->cfg.listen_port,
			   uv_strerror(rc));
		uv_close((uv_handle_t *)s->listener, on_close_free);
		s->listener = NULL;
		return rc;
	}
	AP_LOG_INFO(MOD, "listening on %s port %u (AS %u, router id %s)", a, s->cfg.listen_port,
		    s->cfg.asn,
		    addr_str((const uint8_t *)&(uint32_t){htonl(s->cfg.router_id)}, false, buf,
			     sizeof(buf)));
	return 0;
}

/* The timers live inside 's': free it once the loop has closed them all. */
static void
svc_handle_closed(struct bgp_svc *s)
{
	if (--s->open_handles == 0) {
		free(s->peers);
		free(s->nhs);
		free(s);
	}
}

static void
on_timer_closed(uv_handle_t *h)
{
	svc_handle_closed(((struct bgp_peer *)h->data)->svc);
}

static void
on_svc_timer_closed(uv_handle_t *h)
{
	svc_handle_closed(h->data);
}

static void
svc_stop(void *state)
{
	struct bgp_svc *s = state;

	if (s == NULL)
		return;
	for (uint16_t i = 0; i < s->n_peers; i++) {
		struct bgp_peer *p = &s->peers[i];

		if (p->fsm.state >= AP_BGP_OPENSENT && p->conn) {
			struct ap_bgp_err e;

			/* RFC 9003: say why. */
			ap_bgp_err_shutdown(&e, AP_BGP_CEASE_SHUTDOWN, "aetherd is stopping");
			send_notification(p, &e);
		}
		/* Close now: the loop will not run the shutdown callbacks before
		 * aetherd closes every handle. uv_write has already handed what
		 * it could to the kernel, which sends it before the FIN. */
		peer_flush(p);
		if (p->conn) {
			p->conn->data = NULL;
			uv_close((uv_handle_t *)p->conn, on_close_free);
			p->conn = NULL;
			p->connecting = false;
		}
		uv_timer_stop(&p->timer);
		uv_close((uv_handle_t *)&p->timer, on_timer_closed);
		free(p->rbuf);
		free(p->obuf);
		p->rbuf = p->obuf = NULL;
	}
	if (s->listener)
		uv_close((uv_handle_t *)s->listener, on_close_free);
	ap_bgp_rib_free(s->rib);
	free_policies(s);
	free(s->upd);
	free(s->wbuf);
	free(s->dirty);
	free(s->memo);
	if (s->open_handles == 0) {
		free(s->peers);
		free(s->nhs);
		free(s);
		return;
	}
	if (s->dpfib) {
		uv_timer_stop(&s->resolve_timer);
		uv_close((uv_handle_t *)&s->resolve_timer, on_svc_timer_closed);
	}
	uv_timer_stop(&s->export_timer);
	uv_close((uv_handle_t *)&s->export_timer, on_svc_timer_closed);
}

/* Best routes go to the data plane's FIB through the service environment. */
static int
fib_install(void *ctx, const struct ap_bgp_prefix *pfx, const uint8_t *nh, uint8_t nh_len)
{
	const struct ap_svc_fib *f = ctx;
	int rc;

	(void)nh_len;
	rc = f->install(f->ctx, pfx->af == AP_BGP_IPV4 ? 4 : 6, pfx->addr, pfx->len, nh);
	if (rc < 0)
		AP_LOG_DEBUG(MOD, "not installed in the FIB: %s", strerror(-rc));
	return rc;
}

static int
fib_withdraw(void *ctx, const struct ap_bgp_prefix *pfx)
{
	const struct ap_svc_fib *f = ctx;

	return f->withdraw(f->ctx, pfx->af == AP_BGP_IPV4 ? 4 : 6, pfx->addr, pfx->len);
}

static int
svc_start(const struct ap_svc_env *env, const struct ap_config *cfg, void **state)
{
	struct bgp_svc *s = calloc(1, sizeof(*s));
	struct ap_bgp_rib_opts ro = {0};
	struct ap_bgp_peer_info local = {0};
	int rc = -ENOMEM;

	if (s == NULL)
		return -ENOMEM;
	s->loop = env->loop;
	s->cfg = cfg->bgp;
	s->memo_gen = 1;
	if (env->fib) {
		s->fib_ops.install = fib_install;
		s->fib_ops.withdraw = fib_withdraw;
		s->fib_ops.ctx = (void *)env->fib;
		s->fib = &s->fib_ops;
	}
	s->started_ms = uv_now(env->loop);
	ro.always_compare_med = s->cfg.always_compare_med;
	ro.on_best = on_best;
	ro.ctx = s;
	s->rib = ap_bgp_rib_new(&ro);
	s->upd = malloc(sizeof(*s->upd));
	s->wbuf = malloc(AP_BGP_EXT_MAX_LEN);
	s->peers = calloc(s->cfg.n_neighbors ? s->cfg.n_neighbors : 1, sizeof(*s->peers));
	if (s->rib == NULL || s->upd == NULL || s->wbuf == NULL || s->peers == NULL)
		goto fail;
	uv_timer_init(s->loop, &s->export_timer);
	s->export_timer.data = s;
	s->open_handles = 1;
	if (env->fib && env->fib->resolve && env->fib->generation) {
		s->dpfib = env->fib;
		s->nh_gen = env->fib->generation(env->fib->ctx);
		uv_timer_init(s->loop, &s->resolve_timer);
		s->resolve_timer.data = s;
		s->open_handles++;
		uv_timer_start(&s->resolve_timer, on_resolve_timer, 1000, 1000);
	}

	rc = compile_policies(s);
	if (rc < 0)
		goto fail;
	local.router_id = s->cfg.router_id;
	local.asn = s->cfg.asn;
	local.ibgp = true;
	s->local_idx = (uint16_t)ap_bgp_rib_peer_add(s->rib, &local);
	for (uint16_t i = 0; i < s->cfg.n_neighbors; i++) {
		struct bgp_peer *p = &s->peers[i];
		const struct ap_cfg_bgp_neighbor *n = &s->cfg.neighbors[i];
		struct ap_bgp_fsm_cfg fc = {
			.passive = n->passive,
			.hold_time = n->hold_time,
			.connect_retry = n->connect_retry * 1000u,
			.idle_hold =
				n->connect_retry * 1000u < 5000 ? n->connect_retry * 1000u : 5000,
		};
		struct ap_bgp_peer_info info = {.asn = n->remote_as,
						.ibgp = n->remote_as == s->cfg.asn,
						.rr_client = n->rr_client,
						.af = n->v6 ? AP_BGP_IPV6 : AP_BGP_IPV4};

		memcpy(info.addr, n->addr, 16);
		p->svc = s;
		p->cfg = *n;
		p->ibgp = info.ibgp;
		peer_set_policies(p);
		rc = ap_bgp_rib_peer_add(s->rib, &info);
		if (rc < 0)
			goto fail;
		p->idx = (uint16_t)rc;
		ap_bgp_fsm_init(&p->fsm, &fc, uv_now(s->loop));
		uv_timer_init(s->loop, &p->timer);
		p->timer.data = p;
		s->open_handles++;
		s->n_peers++;
	}
	rc = originate(s);
	if (rc < 0)
		goto fail;
	rc = start_listen(s);
	if (rc < 0)
		goto fail;
	if (env->api) {
		rc = bgp_api_register(s, env->api);
		if (rc < 0)
			goto fail;
	}
	for (uint16_t i = 0; i < s->n_peers; i++)
		fsm_event(&s->peers[i], AP_BGP_EV_START, NULL);
	*state = s;
	return 0;
fail:
	svc_stop(s);
	return rc;
}

/* Whether 'a' and 'b' differ at most in policies, prefix lists and the
 * neighbours' import and export (positions in the file do not count). */
static bool
cfg_policy_only(const struct ap_cfg_bgp *a, const struct ap_cfg_bgp *b)
{
	if (a->enabled != b->enabled || a->asn != b->asn || a->router_id != b->router_id ||
	    strcmp(a->listen_address, b->listen_address) != 0 || a->listen_port != b->listen_port ||
	    a->always_compare_med != b->always_compare_med || a->cluster_id != b->cluster_id ||
	    a->n_neighbors != b->n_neighbors || a->n_networks != b->n_networks ||
	    memcmp(a->networks, b->networks, sizeof(a->networks[0]) * a->n_networks) != 0)
		return false;
	for (uint16_t i = 0; i < a->n_neighbors; i++) {
		struct ap_cfg_bgp_neighbor na = a->neighbors[i], nb = b->neighbors[i];

		memset(na.import, 0, sizeof(na.import));
		memset(na.export, 0, sizeof(na.export));
		memset(nb.import, 0, sizeof(nb.import));
		memset(nb.export, 0, sizeof(nb.export));
		na.line = nb.line = na.col = nb.col = 0;
		if (memcmp(&na, &nb, sizeof(na)) != 0)
			return false;
	}
	return true;
}

static const struct ap_cfg_bgp_policy *
cfg_policy(const struct ap_cfg_bgp *c, const char *name)
{
	for (uint16_t i = 0; i < c->n_policies; i++)
		if (strcmp(c->policies[i].name, name) == 0)
			return &c->policies[i];
	return NULL;
}

static const struct ap_cfg_bgp_plist *
cfg_plist(const struct ap_cfg_bgp *c, const char *name)
{
	for (uint16_t i = 0; i < c->n_plists; i++)
		if (strcmp(c->plists[i].name, name) == 0)
			return &c->plists[i];
	return NULL;
}

/* Whether the policy a neighbour names, 'na' in 'a' then 'nb' in 'b', decides
 * differently: another name, other rules, or a prefix list they use changed. */
static bool
policy_changed(const struct ap_cfg_bgp *a, const char *na, const struct ap_cfg_bgp *b,
	       const char *nb)
{
	const struct ap_cfg_bgp_policy *pa = cfg_policy(a, na), *pb = cfg_policy(b, nb);

	if (strcmp(na, nb) != 0)
		return true;
	if (pa == NULL || pb == NULL)
		return pa != pb;
	if (pa->n != pb->n || memcmp(pa->r, pb->r, sizeof(pa->r[0]) * pa->n) != 0)
		return true;
	for (uint16_t i = 0; i < pa->n; i++) {
		const struct ap_cfg_bgp_plist *la, *lb;

		if (pa->r[i].prefix_list[0] == '\0')
			continue;
		la = cfg_plist(a, pa->r[i].prefix_list);
		lb = cfg_plist(b, pb->r[i].prefix_list);
		if (la == NULL || lb == NULL
			    ? la != lb
			    : la->n != lb->n || memcmp(la->e, lb->e, sizeof(la->e[0]) * la->n) != 0)
			return true;
	}
	return false;
}

/* RFC 2918: ask 'p' to send its routes again, for every family of the session. */
static void
send_refresh(struct bgp_peer *p)
{
	for (uint8_t af = 0; af < AP_BGP_N_AF; af++) {
		struct ap_wire_w w;

		if (!p->af[af])
			continue;
		ap_wire_w_init(&w, p->svc->wbuf, AP_BGP_MAX_LEN);
		if (ap_bgp_refresh_encode(&w, af, AP_BGP_RR_NORMAL) == 0)
			peer_send(p, p->svc->wbuf, ap_wire_w_used(&w));
	}
	peer_flush(p);
}

/*
 * A reload that changes only policies, prefix lists or the neighbours' import
 * and export applies here with sessions kept up: a neighbour whose import
 * policy changed is asked for its routes again with ROUTE-REFRESH (accepted
 * paths are stored with the attributes the old policy set, so the Adj-RIB-In
 * cannot be re-run); one whose export policy changed gets the whole table
 * again through the new policy, with withdrawals for what it no longer gets.
 * Anything else needs a restart.
 */
static int
svc_reconfigure(void *state, const struct ap_config *cfg)
{
	struct bgp_svc *s = state;
	const struct ap_cfg_bgp *nc = &cfg->bgp;
	bool imp[AP_CFG_BGP_MAX_NEIGHBORS], exp[AP_CFG_BGP_MAX_NEIGHBORS];
	char buf[64];
	int rc;

	if (!cfg_policy_only(&s->cfg, nc))
		return -EOPNOTSUPP;
	s->memo_gen++;
	for (uint16_t i = 0; i < s->n_peers; i++) {
		const struct ap_cfg_bgp_neighbor *o = &s->cfg.neighbors[i], *n = &nc->neighbors[i];

		imp[i] = policy_changed(&s->cfg, o->import, nc, n->import);
		exp[i] = policy_changed(&s->cfg, o->export, nc, n->export);
	}
	free_policies(s);
	memset(s->pols, 0, sizeof(s->pols));
	s->cfg = *nc;
	rc = compile_policies(s);
	for (uint16_t i = 0; i < s->n_peers; i++) {
		struct bgp_peer *p = &s->peers[i];

		p->cfg = nc->neighbors[i];
		peer_set_policies(p);
		if (rc < 0 || p->fsm.state != AP_BGP_ESTABLISHED || p->conn == NULL)
			continue;
		addr_str(p->cfg.addr, p->cfg.v6, buf, sizeof(buf));
		if (imp[i] && p->peer_open.route_refresh) {
			AP_LOG_INFO(MOD, "neighbor %s: import policy changed, asking for a refresh",
				    buf);
			send_refresh(p);
		} else if (imp[i]) {
			AP_LOG_WARN(MOD,
				    "neighbor %s: import policy changed; the peer has no route "
				    "refresh, so it applies to the routes it sends from now on",
				    buf);
		}
		if (exp[i]) {
			AP_LOG_INFO(MOD, "neighbor %s: export policy changed, re-advertising", buf);
			p->need_full = true;
			p->resync = true;
			p->need_full_af[0] = p->af[0];
			p->need_full_af[1] = p->af[1];
			export_schedule(s);
		}
	}
	if (rc < 0)
		AP_LOG_ERR(MOD, "reload: cannot compile the policies: %s", strerror(-rc));
	return rc;
}

const struct ap_svc_ops ap_bgp_svc = {
	.name = "bgp",
	.wanted = svc_wanted,
	.start = svc_start,
	.reconfigure = svc_reconfigure,
	.stop = svc_stop,
};
