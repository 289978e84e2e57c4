/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BGP message framing and the small messages: header, OPEN with capabilities,
 * NOTIFICATION (with the RFC 9003 shutdown communication), KEEPALIVE and
 * ROUTE-REFRESH. UPDATE lives in bgp_attr.c.
 *
 * Every decoder reads through one bounded cursor per message and one
 * sub-cursor per optional parameter and capability, so a lying length can
 * only make its own element fail.
 */
#include "svc/bgp/bgp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
set_err(struct ap_bgp_err *err, uint8_t code, uint8_t subcode, const void *data, uint32_t len)
{
	err->code = code;
	err->subcode = subcode;
	if (len > AP_BGP_ERR_DATA_MAX)
		len = AP_BGP_ERR_DATA_MAX;
	err->data_len = (uint16_t)len;
	if (len)
		memcpy(err->data, data, len);
}

const char *
ap_bgp_action_name(enum ap_bgp_action a)
{
	switch (a) {
	case AP_BGP_ACT_OK:
		return "ok";
	case AP_BGP_ACT_DISCARD:
		return "attribute-discard";
	case AP_BGP_ACT_TREAT_AS_WITHDRAW:
		return "treat-as-withdraw";
	case AP_BGP_ACT_SESSION_RESET:
		return "session-reset";
	}
	return "?";
}

const char *
ap_bgp_err_name(uint8_t code, uint8_t subcode)
{
	static const char *const hdr[] = {"message header error", "connection not synchronized",
					  "bad message length", "bad message type"};
	static const char *const open[] = {
		"OPEN message error",	  "unsupported version number",	    "bad peer AS",
		"bad BGP identifier",	  "unsupported optional parameter", "OPEN message error",
		"unacceptable hold time", "unsupported capability"};
	static const char *const upd[] = {"UPDATE message error",
					  "malformed attribute list",
					  "unrecognized well-known attribute",
					  "missing well-known attribute",
					  "attribute flags error",
					  "attribute length error",
					  "invalid ORIGIN attribute",
					  "UPDATE message error",
					  "invalid NEXT_HOP attribute",
					  "optional attribute error",
					  "invalid network field",
					  "malformed AS_PATH"};
	static const char *const fsm[] = {
		"finite state machine error", "unexpected message in OpenSent",
		"unexpected message in OpenConfirm", "unexpected message in Established"};
	static const char *const cease[] = {"cease",
					    "maximum number of prefixes reached",
					    "administrative shutdown",
					    "peer de-configured",
					    "administrative reset",
					    "connection rejected",
					    "other configuration change",
					    "connection collision resolution",
					    "out of resources",
					    "hard reset"};
#define PICK(t) (subcode < sizeof(t) / sizeof((t)[0]) ? (t)[subcode] : (t)[0])
	switch (code) {
	case AP_BGP_ERR_HEADER:
		return PICK(hdr);
	case AP_BGP_ERR_OPEN:
		return PICK(open);
	case AP_BGP_ERR_UPDATE:
		return PICK(upd);
	case AP_BGP_ERR_HOLD:
		return "hold timer expired";
	case AP_BGP_ERR_FSM:
		return PICK(fsm);
	case AP_BGP_ERR_CEASE:
		return PICK(cease);
	case AP_BGP_ERR_RR:
		return subcode == 1 ? "invalid ROUTE-REFRESH length" : "ROUTE-REFRESH error";
	}
#undef PICK
	return "unknown error";
}

/* ---------------------------------------------------------------- header */

int
ap_bgp_hdr_decode(const uint8_t *buf, uint32_t len, uint32_t max_len, struct ap_bgp_hdr *hdr,
		  struct ap_bgp_err *err)
{
	struct ap_wire w;
	uint8_t lenbuf[2];
	uint16_t mlen;
	uint8_t type;
	bool ok;

	if (len < AP_BGP_HDR_LEN)
		return -EAGAIN;
	ap_wire_init(&w, buf, len);
	for (int i = 0; i < 16; i++) {
		/* RFC 4271 §6.1: the marker must be all ones. */
		if (ap_wire_u8(&w) != 0xff) {
			set_err(err, AP_BGP_ERR_HEADER, AP_BGP_HDR_NOT_SYNC, NULL, 0);
			return -EBADMSG;
		}
	}
	mlen = ap_wire_u16(&w);
	type = ap_wire_u8(&w);
	lenbuf[0] = (uint8_t)(mlen >> 8);
	lenbuf[1] = (uint8_t)mlen;
	switch (type) {
	case AP_BGP_OPEN:
		ok = mlen >= 29 && mlen <= AP_BGP_MAX_LEN;
		break;
	case AP_BGP_UPDATE:
		ok = mlen >= 23 && mlen <= max_len;
		break;
	case AP_BGP_NOTIFICATION:
		ok = mlen >= 21 && mlen <= max_len;
		break;
	case AP_BGP_KEEPALIVE:
		ok = mlen == AP_BGP_HDR_LEN;
		break;
	/* Lengths other than 23 are the RR decoder's business (RFC 7313 §5). */
	case AP_BGP_ROUTE_REFRESH:
		ok = mlen >= 23 && mlen <= max_len;
		break;
	default:
		set_err(err, AP_BGP_ERR_HEADER, AP_BGP_HDR_BAD_TYPE, &type, 1);
		return -EBADMSG;
	}
	if (!ok) {
		set_err(err, AP_BGP_ERR_HEADER, AP_BGP_HDR_BAD_LEN, lenbuf, 2);
		return -EBADMSG;
	}
	if (len < mlen)
		return -EAGAIN;
	hdr->len = mlen;
	hdr->type = type;
	return 0;
}

void
ap_bgp_msg_begin(struct ap_wire_w *w, uint8_t type)
{
	static const uint8_t marker[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	ap_wire_put_bytes(w, marker, sizeof(marker));
	ap_wire_put_u16(w, 0);
	ap_wire_put_u8(w, type);
}

int
ap_bgp_msg_end(struct ap_wire_w *w)
{
	uint32_t used = ap_wire_w_used(w);

	if (!ap_wire_w_ok(w) || used > AP_BGP_EXT_MAX_LEN)
		return -ENOSPC;
	ap_wire_poke_u16(w, 16, (uint16_t)used);
	return ap_wire_w_ok(w) ? 0 : -ENOSPC;
}

/* ------------------------------------------------------------------ OPEN */

uint8_t
ap_bgp_af_from(uint16_t afi, uint8_t safi)
{
	if (safi != AP_BGP_SAFI_UNICAST)
		return AP_BGP_AF_NONE;
	if (afi == AP_BGP_AFI_IPV4)
		return AP_BGP_IPV4;
	if (afi == AP_BGP_AFI_IPV6)
		return AP_BGP_IPV6;
	return AP_BGP_AF_NONE;
}

uint16_t
ap_bgp_af_afi(uint8_t af)
{
	return af == AP_BGP_IPV6 ? AP_BGP_AFI_IPV6 : AP_BGP_AFI_IPV4;
}

/* One capability; @c c covers its value only. Returns 0 or -EBADMSG. */
static int
open_cap(struct ap_bgp_open *o, uint8_t code, struct ap_wire *c, struct ap_bgp_err *err,
	 const uint8_t *tlv, uint32_t tlv_len)
{
	uint32_t len = ap_wire_avail(c);
	uint8_t af;

	switch (code) {
	case AP_BGP_CAP_MP: {
		uint16_t afi;
		uint8_t safi;

		if (len != 4)
			goto bad;
		afi = ap_wire_u16(c);
		ap_wire_u8(c);
		safi = ap_wire_u8(c);
		af = ap_bgp_af_from(afi, safi);
		o->mp_any = true;
		if (af == AP_BGP_AF_NONE)
			o->n_mp_other++;
		else
			o->mp[af] = true;
		return 0;
	}
	case AP_BGP_CAP_AS4:
		if (len != 4)
			goto bad;
		o->as4 = true;
		o->asn = ap_wire_u32(c);
		return 0;
	case AP_BGP_CAP_RR:
		if (len != 0)
			goto bad;
		o->route_refresh = true;
		return 0;
	case AP_BGP_CAP_ENHANCED_RR:
		if (len != 0)
			goto bad;
		o->enhanced_rr = true;
		return 0;
	case AP_BGP_CAP_EXT_MSG:
		if (len != 0)
			goto bad;
		o->ext_msg = true;
		return 0;
	case AP_BGP_CAP_GR: {
		uint16_t v;

		/* RFC 4724 §3: flags and time, then 4 bytes per family. */
		if (len < 2 || (len - 2) % 4 != 0)
			goto bad;
		v = ap_wire_u16(c);
		o->gr_present = true;
		o->gr.restarting = v & 0x8000;
		o->gr.time = v & 0x0fff;
		while (ap_wire_avail(c) >= 4) {
			uint16_t afi = ap_wire_u16(c);
			uint8_t safi = ap_wire_u8(c);
			uint8_t flags = ap_wire_u8(c);

			af = ap_bgp_af_from(afi, safi);
			if (af == AP_BGP_AF_NONE)
				continue;
			o->gr.af[af] = true;
			o->gr.fwd[af] = flags & 0x80;
		}
		return 0;
	}
	default:
		/* RFC 5492 §3: a capability not understood is ignored. */
		o->n_unknown_caps++;
		return 0;
	}
bad:
	/* A known capability with a length its definition does not allow. */
	set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_UNSPEC, tlv, tlv_len);
	return -EBADMSG;
}

int
ap_bgp_open_decode(const uint8_t *msg, uint32_t len, struct ap_bgp_open *o, struct ap_bgp_err *err)
{
	struct ap_wire w, params;
	uint8_t plen;

	memset(o, 0, sizeof(*o));
	ap_wire_init(&w, msg, len);
	ap_wire_skip(&w, AP_BGP_HDR_LEN);
	o->version = ap_wire_u8(&w);
	o->my_as = ap_wire_u16(&w);
	o->hold_time = ap_wire_u16(&w);
	o->router_id = ap_wire_u32(&w);
	plen = ap_wire_u8(&w);
	if (!ap_wire_ok(&w)) {
		uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};

		set_err(err, AP_BGP_ERR_HEADER, AP_BGP_HDR_BAD_LEN, l, 2);
		return -EBADMSG;
	}
	o->asn = o->my_as;
	if (o->version != 4) {
		/* RFC 4271 §6.2: the data is the largest version we support. */
		static const uint8_t v[2] = {0, 4};

		set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_BAD_VERSION, v, 2);
		return -EBADMSG;
	}
	if (ap_wire_avail(&w) != plen) {
		set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_UNSPEC, NULL, 0);
		return -EBADMSG;
	}
	params = ap_wire_sub(&w, plen);
	while (ap_wire_avail(&params) > 0) {
		const uint8_t *start = ap_wire_cur(&params);
		uint8_t ptype = ap_wire_u8(&params);
		uint8_t pl = ap_wire_u8(&params);
		struct ap_wire p = ap_wire_sub(&params, pl);

		if (!ap_wire_ok(&params)) {
			set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_UNSPEC, NULL, 0);
			return -EBADMSG;
		}
		if (ptype != 2) {
			/* Only capabilities (RFC 5492) are defined. */
			set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_BAD_PARAM, start, 2u + pl);
			return -EBADMSG;
		}
		while (ap_wire_avail(&p) > 0) {
			const uint8_t *cstart = ap_wire_cur(&p);
			uint8_t code = ap_wire_u8(&p);
			uint8_t cl = ap_wire_u8(&p);
			struct ap_wire c = ap_wire_sub(&p, cl);

			if (!ap_wire_ok(&p)) {
				set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_UNSPEC, NULL, 0);
				return -EBADMSG;
			}
			if (open_cap(o, code, &c, err, cstart, 2u + cl) < 0)
				return -EBADMSG;
		}
	}
	/* RFC 4271 §6.2: a hold time of one or two seconds is refused. */
	if (o->hold_time == 1 || o->hold_time == 2) {
		set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_BAD_HOLD, NULL, 0);
		return -EBADMSG;
	}
	/* RFC 6286 §2.2: any non-zero identifier is valid. */
	if (o->router_id == 0) {
		set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_BAD_ID, NULL, 0);
		return -EBADMSG;
	}
	/* RFC 6793 §4.1: the 4-byte capability with a value of AS_TRANS is an error. */
	if (o->as4 && o->asn == AP_BGP_AS_TRANS) {
		set_err(err, AP_BGP_ERR_OPEN, AP_BGP_OPEN_BAD_PEER_AS, NULL, 0);
		return -EBADMSG;
	}
	return 0;
}

static void
put_cap_mp(struct ap_wire_w *w, uint8_t af)
{
	ap_wire_put_u8(w, AP_BGP_CAP_MP);
	ap_wire_put_u8(w, 4);
	ap_wire_put_u16(w, ap_bgp_af_afi(af));
	ap_wire_put_u8(w, 0);
	ap_wire_put_u8(w, AP_BGP_SAFI_UNICAST);
}

int
ap_bgp_open_encode(struct ap_wire_w *w, const struct ap_bgp_open *o)
{
	uint32_t plen_at, caps_at;

	ap_bgp_msg_begin(w, AP_BGP_OPEN);
	ap_wire_put_u8(w, 4);
	ap_wire_put_u16(w, o->asn > 0xffff ? AP_BGP_AS_TRANS : (uint16_t)o->asn);
	ap_wire_put_u16(w, o->hold_time);
	ap_wire_put_u32(w, o->router_id);
	plen_at = ap_wire_w_used(w);
	ap_wire_put_u8(w, 0);
	/* One Capabilities parameter holding every capability (RFC 5492 §4). */
	ap_wire_put_u8(w, 2);
	caps_at = ap_wire_w_used(w);
	ap_wire_put_u8(w, 0);
	for (uint8_t af = 0; af < AP_BGP_N_AF; af++)
		if (o->mp[af])
			put_cap_mp(w, af);
	if (o->route_refresh) {
		ap_wire_put_u8(w, AP_BGP_CAP_RR);
		ap_wire_put_u8(w, 0);
	}
	if (o->enhanced_rr) {
		ap_wire_put_u8(w, AP_BGP_CAP_ENHANCED_RR);
		ap_wire_put_u8(w, 0);
	}
	if (o->ext_msg) {
		ap_wire_put_u8(w, AP_BGP_CAP_EXT_MSG);
		ap_wire_put_u8(w, 0);
	}
	if (o->gr_present) {
		uint8_t n = 0;

		for (uint8_t af = 0; af < AP_BGP_N_AF; af++)
			n += o->gr.af[af];
		ap_wire_put_u8(w, AP_BGP_CAP_GR);
		ap_wire_put_u8(w, (uint8_t)(2 + 4 * n));
		ap_wire_put_u16(w,
				(uint16_t)((o->gr.restarting ? 0x8000 : 0) | (o->gr.time & 0xfff)));
		for (uint8_t af = 0; af < AP_BGP_N_AF; af++) {
			if (!o->gr.af[af])
				continue;
			ap_wire_put_u16(w, ap_bgp_af_afi(af));
			ap_wire_put_u8(w, AP_BGP_SAFI_UNICAST);
			ap_wire_put_u8(w, o->gr.fwd[af] ? 0x80 : 0);
		}
	}
	if (o->as4) {
		ap_wire_put_u8(w, AP_BGP_CAP_AS4);
		ap_wire_put_u8(w, 4);
		ap_wire_put_u32(w, o->asn);
	}
	if (!ap_wire_w_ok(w))
		return -ENOSPC;
	{
		uint32_t end = ap_wire_w_used(w);
		uint32_t caps_len = end - caps_at - 1;

		if (caps_len > 255 || end - plen_at - 1 > 255)
			return -ENOSPC;
		w->p[caps_at] = (uint8_t)caps_len;
		w->p[plen_at] = (uint8_t)(end - plen_at - 1);
	}
	return ap_bgp_msg_end(w);
}

/* ---------------------------------------------------------- NOTIFICATION */

int
ap_bgp_notif_decode(const uint8_t *msg, uint32_t len, struct ap_bgp_notif *n)
{
	struct ap_wire w;

	memset(n, 0, sizeof(*n));
	ap_wire_init(&w, msg, len);
	ap_wire_skip(&w, AP_BGP_HDR_LEN);
	n->code = ap_wire_u8(&w);
	n->subcode = ap_wire_u8(&w);
	if (!ap_wire_ok(&w))
		return -EBADMSG;
	n->data_len = (uint16_t)ap_wire_avail(&w);
	n->data = ap_wire_ptr(&w, n->data_len);
	/* RFC 9003 §2: a length octet and that many bytes of UTF-8. A length that
	 * overruns the data means no usable message; the NOTIFICATION still counts. */
	if (n->code == AP_BGP_ERR_CEASE &&
	    (n->subcode == AP_BGP_CEASE_SHUTDOWN || n->subcode == AP_BGP_CEASE_RESET) &&
	    n->data_len >= 1 && n->data[0] <= n->data_len - 1) {
		uint8_t l = n->data[0];

		for (uint8_t i = 0; i < l; i++) {
			uint8_t ch = n->data[1 + i];

			/* Logged and shown as text (JSON wants valid UTF-8): control
			 * bytes and anything outside ASCII become '?'. RFC 9003 allows
			 * UTF-8; passing it through needs validating it first. */
			n->shutdown_msg[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
		}
		n->shutdown_msg[l] = '\0';
	}
	return 0;
}

int
ap_bgp_notif_encode(struct ap_wire_w *w, const struct ap_bgp_err *err)
{
	ap_bgp_msg_begin(w, AP_BGP_NOTIFICATION);
	ap_wire_put_u8(w, err->code);
	ap_wire_put_u8(w, err->subcode);
	ap_wire_put_bytes(w, err->data, err->data_len);
	return ap_bgp_msg_end(w);
}

void
ap_bgp_err_shutdown(struct ap_bgp_err *err, uint8_t subcode, const char *msg)
{
	size_t l = msg ? strlen(msg) : 0;

	if (l > AP_BGP_SHUTDOWN_MAX) {
		l = AP_BGP_SHUTDOWN_MAX;
		/* Do not cut a multi-byte UTF-8 character in two. */
		while (l > 0 && ((unsigned char)msg[l] & 0xc0) == 0x80)
			l--;
	}
	err->code = AP_BGP_ERR_CEASE;
	err->subcode = subcode;
	err->data_len = 0;
	if (l == 0)
		return;
	err->data[0] = (uint8_t)l;
	memcpy(err->data + 1, msg, l);
	err->data_len = (uint16_t)(l + 1);
}

/* ------------------------------------------------- KEEPALIVE, REFRESH */

int
ap_bgp_keepalive_encode(struct ap_wire_w *w)
{
	ap_bgp_msg_begin(w, AP_BGP_KEEPALIVE);
	return ap_bgp_msg_end(w);
}

int
ap_bgp_refresh_decode(const uint8_t *msg, uint32_t len, struct ap_bgp_refresh *r,
		      struct ap_bgp_err *err)
{
	struct ap_wire w;

	ap_wire_init(&w, msg, len);
	ap_wire_skip(&w, AP_BGP_HDR_LEN);
	r->afi = ap_wire_u16(&w);
	r->subtype = ap_wire_u8(&w);
	r->safi = ap_wire_u8(&w);
	if (!ap_wire_ok(&w)) {
		uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};

		set_err(err, AP_BGP_ERR_HEADER, AP_BGP_HDR_BAD_LEN, l, 2);
		return -EBADMSG;
	}
	r->af = ap_bgp_af_from(r->afi, r->safi);
	if (len != 23) {
		/* RFC 7313 §5: BoRR/EoRR of a bad length get their own error; a
		 * plain refresh keeps RFC 4271's header error. */
		if (r->subtype == AP_BGP_RR_BORR || r->subtype == AP_BGP_RR_EORR)
			set_err(err, AP_BGP_ERR_RR, AP_BGP_RR_BAD_LEN, msg, len);
		else {
			uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};

			set_err(err, AP_BGP_ERR_HEADER, AP_BGP_HDR_BAD_LEN, l, 2);
		}
		return -EBADMSG;
	}
	if (r->subtype > AP_BGP_RR_EORR)
		return -ENOTSUP;
	return 0;
}

int
ap_bgp_refresh_encode(struct ap_wire_w *w, uint8_t af, uint8_t subtype)
{
	ap_bgp_msg_begin(w, AP_BGP_ROUTE_REFRESH);
	ap_wire_put_u16(w, ap_bgp_af_afi(af));
	ap_wire_put_u8(w, subtype);
	ap_wire_put_u8(w, AP_BGP_SAFI_UNICAST);
	return ap_bgp_msg_end(w);
}

/* --------------------------------------------------------------- prefixes */

char *
ap_bgp_prefix_str(const struct ap_bgp_prefix *p, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->af == AP_BGP_IPV6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, p->len);
	return buf;
}

int
ap_bgp_prefix_parse(const char *s, struct ap_bgp_prefix *p)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	long l;
	char *end;

	if (alen >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, tmp, p->addr) == 1) {
		p->af = AP_BGP_IPV4;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, p->addr) == 1) {
		p->af = AP_BGP_IPV6;
		max = 128;
	} else {
		return -EINVAL;
	}
	if (!slash) {
		p->len = (uint8_t)max;
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	l = strtol(slash + 1, &end, 10);
	if (*end != '\0' || l < 0 || (unsigned long)l > max)
		return -EINVAL;
	p->len = (uint8_t)l;
	for (unsigned b = p->len; b < max; b++)
		p->addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
	return 0;
}

bool
ap_bgp_update_peek_prefix(const uint8_t *m, uint32_t len, struct ap_bgp_prefix *pfx)
{
	const uint32_t fixed = AP_BGP_HDR_LEN + 4; /* Header and the two lengths. */
	struct ap_wire w;
	uint32_t wl, al;

	if (len < fixed || m[18] != AP_BGP_UPDATE)
		return false;
	wl = (uint32_t)m[19] << 8 | m[20];
	if (fixed + wl > len)
		return false;
	al = (uint32_t)m[21 + wl] << 8 | m[22 + wl];
	if (fixed + wl + al > len)
		return false;
	if (len > fixed + wl + al)
		ap_wire_init(&w, m + fixed + wl + al, len - (fixed + wl + al));
	else if (wl)
		ap_wire_init(&w, m + AP_BGP_HDR_LEN + 2, wl);
	else
		return false;
	return ap_bgp_nlri_next(&w, AP_BGP_IPV4, pfx);
}
