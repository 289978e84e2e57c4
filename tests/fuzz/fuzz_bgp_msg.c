/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the BGP message header and the OPEN, NOTIFICATION and
 * ROUTE-REFRESH decoders (UPDATE has its own target). The first input byte
 * picks the message type (and the header's size limit), the rest is the body
 * after a valid header, or, for type 0, the raw bytes go to the header check.
 * A decoder either accepts, with fields inside their documented ranges, or
 * fills the NOTIFICATION it must answer with.
 */
#include <string.h>

#include "svc/bgp/bgp.h"
#include "fuzz.h"

/* The NOTIFICATION to send: the message's own error code, or a header error
 * (Bad Message Length, RFC 4271 §6.1) for a message shorter than its minimum. */
static void
check_err(const struct ap_bgp_err *e, uint8_t code)
{
	CHECK(e->code == code || e->code == AP_BGP_ERR_HEADER);
	CHECK(e->data_len <= AP_BGP_ERR_DATA_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[AP_BGP_EXT_MAX_LEN];
	struct ap_wire_w w;
	struct ap_bgp_err e;
	uint32_t len;
	uint8_t type;

	if (size < 1 || size - 1 > sizeof(msg) - AP_BGP_HDR_LEN)
		return 0;
	type = data[0] & 7;
	if (type == 0) {
		struct ap_bgp_hdr h;
		uint32_t max = data[0] & 8 ? AP_BGP_EXT_MAX_LEN : AP_BGP_MAX_LEN;
		int rc = ap_bgp_hdr_decode(data + 1, (uint32_t)size - 1, max, &h, &e);

		if (rc == 0)
			CHECK(h.len >= AP_BGP_HDR_LEN && h.len <= max && h.len <= size - 1);
		else if (rc != -EAGAIN)
			check_err(&e, AP_BGP_ERR_HEADER);
		return 0;
	}
	ap_wire_w_init(&w, msg, sizeof(msg));
	ap_bgp_msg_begin(&w, type);
	ap_wire_put_bytes(&w, data + 1, (uint32_t)size - 1);
	if (ap_bgp_msg_end(&w) < 0)
		return 0;
	len = ap_wire_w_used(&w);
	memset(&e, 0, sizeof(e));

	if (type == AP_BGP_OPEN) {
		struct ap_bgp_open o;

		if (ap_bgp_open_decode(msg, len, &o, &e) == 0) {
			CHECK(o.version == 4);
			CHECK(o.hold_time == 0 || o.hold_time >= 3);
			CHECK(o.router_id != 0);
			CHECK(!o.gr_present || o.gr.time <= 4095);
		} else {
			check_err(&e, AP_BGP_ERR_OPEN);
		}
	} else if (type == AP_BGP_NOTIFICATION) {
		struct ap_bgp_notif n;

		if (ap_bgp_notif_decode(msg, len, &n) == 0) {
			CHECK(n.data_len == len - AP_BGP_HDR_LEN - 2);
			CHECK(n.data_len == 0 ||
			      (n.data >= msg && n.data + n.data_len <= msg + len));
			CHECK(strlen(n.shutdown_msg) <= AP_BGP_SHUTDOWN_MAX);
		}
	} else if (type == AP_BGP_ROUTE_REFRESH) {
		struct ap_bgp_refresh r;
		int rc = ap_bgp_refresh_decode(msg, len, &r, &e);

		if (rc == 0)
			CHECK(r.af == AP_BGP_AF_NONE || r.af < AP_BGP_N_AF);
		else if (rc == -EBADMSG)
			check_err(&e, AP_BGP_ERR_RR);
	}
	return 0;
}
