/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BGP codec: every message type encoded and decoded, and malformed inputs
 * mapped to the NOTIFICATION or RFC 7606 action they must produce. The last
 * tests decode the single-message BGP captures of the shared peer data, and
 * skip when that folder is absent.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/bgp/bgp.h"

/*
 * Table rows are handed to each test by index: the test runs in a fresh
 * process, where pointers inside a copied row would not be valid.
 */
#define TABLE_PARAMS(suite, name, table)                                                           \
	ParameterizedTestParameters(suite, name)                                                   \
	{                                                                                          \
		static size_t idx[sizeof(table) / sizeof((table)[0])];                             \
                                                                                                   \
		for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)                          \
			idx[i] = i;                                                                \
		return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));             \
	}

static struct ap_bgp_update *
new_update(void)
{
	struct ap_bgp_update *u = malloc(sizeof(*u));

	cr_assert_not_null(u);
	return u;
}

/* Header + withdrawn + attributes + NLRI into @p out; returns the length. */
static uint32_t
mk_update(uint8_t *out, uint32_t cap, const void *wd, uint32_t wl, const void *at, uint32_t al,
	  const void *nl, uint32_t nll)
{
	struct ap_wire_w w;

	ap_wire_w_init(&w, out, cap);
	ap_bgp_msg_begin(&w, AP_BGP_UPDATE);
	ap_wire_put_u16(&w, (uint16_t)wl);
	ap_wire_put_bytes(&w, wd, wl);
	ap_wire_put_u16(&w, (uint16_t)al);
	ap_wire_put_bytes(&w, at, al);
	ap_wire_put_bytes(&w, nl, nll);
	cr_assert_eq(ap_bgp_msg_end(&w), 0);
	return ap_wire_w_used(&w);
}

/* ---------------------------------------------------------------- header */

struct hdr_case {
	const char *name;
	uint8_t type;
	uint16_t len;  /* Value of the length field. */
	uint32_t have; /* Bytes in the buffer. */
	uint32_t max;  /* Negotiated maximum. */
	bool bad_marker;
	int rc;
	uint8_t code, subcode;
};

static struct hdr_case hdr_cases[] = {
	{"keepalive", AP_BGP_KEEPALIVE, 19, 19, 4096, false, 0, 0, 0},
	{"partial header", AP_BGP_KEEPALIVE, 19, 10, 4096, false, -EAGAIN, 0, 0},
	{"partial body", AP_BGP_UPDATE, 100, 50, 4096, false, -EAGAIN, 0, 0},
	{"bad marker", AP_BGP_KEEPALIVE, 19, 19, 4096, true, -EBADMSG, 1, 1},
	{"keepalive too long", AP_BGP_KEEPALIVE, 20, 20, 4096, false, -EBADMSG, 1, 2},
	{"open too short", AP_BGP_OPEN, 28, 28, 4096, false, -EBADMSG, 1, 2},
	{"update too short", AP_BGP_UPDATE, 22, 22, 4096, false, -EBADMSG, 1, 2},
	{"notification too short", AP_BGP_NOTIFICATION, 20, 20, 4096, false, -EBADMSG, 1, 2},
	{"update above 4096", AP_BGP_UPDATE, 4097, 4097, 4096, false, -EBADMSG, 1, 2},
	{"update above 4096 extended", AP_BGP_UPDATE, 4097, 4097, 65535, false, 0, 0, 0},
	{"open above 4096 extended", AP_BGP_OPEN, 4097, 4097, 65535, false, -EBADMSG, 1, 2},
	{"refresh too short", AP_BGP_ROUTE_REFRESH, 22, 22, 4096, false, -EBADMSG, 1, 2},
	{"type 0", 0, 19, 19, 4096, false, -EBADMSG, 1, 3},
	{"type 6", 6, 19, 19, 4096, false, -EBADMSG, 1, 3},
};

TABLE_PARAMS(bgp_hdr, table, hdr_cases)

ParameterizedTest(size_t *row, bgp_hdr, table)
{
	const struct hdr_case *c = &hdr_cases[*row];
	static uint8_t buf[70000];
	struct ap_bgp_hdr h;
	struct ap_bgp_err err = {0};
	int rc;

	memset(buf, 0, sizeof(buf));
	memset(buf, 0xff, 16);
	if (c->bad_marker)
		buf[7] = 0xfe;
	buf[16] = (uint8_t)(c->len >> 8);
	buf[17] = (uint8_t)c->len;
	buf[18] = c->type;
	rc = ap_bgp_hdr_decode(buf, c->have, c->max, &h, &err);
	cr_assert_eq(rc, c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
	if (rc == 0) {
		cr_assert_eq(h.len, c->len);
		cr_assert_eq(h.type, c->type);
	} else if (rc == -EBADMSG) {
		cr_assert_eq(err.code, c->code, "%s", c->name);
		cr_assert_eq(err.subcode, c->subcode, "%s", c->name);
	}
}

Test(bgp_hdr, bad_length_data_is_the_length)
{
	uint8_t buf[19];
	struct ap_bgp_hdr h;
	struct ap_bgp_err err;

	memset(buf, 0xff, 16);
	buf[16] = 0;
	buf[17] = 18;
	buf[18] = AP_BGP_KEEPALIVE;
	cr_assert_eq(ap_bgp_hdr_decode(buf, 19, 4096, &h, &err), -EBADMSG);
	cr_assert_eq(err.data_len, 2);
	cr_assert_eq(err.data[1], 18);
}

/* ------------------------------------------------------------------ OPEN */

Test(bgp_open, round_trip_all_capabilities)
{
	struct ap_bgp_open o = {
		.asn = 4200000001u,
		.hold_time = 90,
		.router_id = 0xc0000201,
		.mp = {true, true},
		.as4 = true,
		.route_refresh = true,
		.enhanced_rr = true,
		.ext_msg = true,
		.gr_present = true,
		.gr = {.restarting = true, .time = 120, .af = {true, true}, .fwd = {false, true}},
	};
	struct ap_bgp_open d;
	struct ap_bgp_err err;
	struct ap_bgp_hdr h;
	uint8_t buf[4096];
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_open_encode(&w, &o), 0);
	cr_assert_eq(ap_bgp_hdr_decode(buf, ap_wire_w_used(&w), 4096, &h, &err), 0);
	cr_assert_eq(h.type, AP_BGP_OPEN);
	cr_assert_eq(ap_bgp_open_decode(buf, h.len, &d, &err), 0);
	cr_assert_eq(d.version, 4);
	cr_assert_eq(d.my_as, AP_BGP_AS_TRANS);
	cr_assert_eq(d.asn, 4200000001u);
	cr_assert_eq(d.hold_time, 90);
	cr_assert_eq(d.router_id, 0xc0000201);
	cr_assert(d.mp[AP_BGP_IPV4] && d.mp[AP_BGP_IPV6] && d.mp_any);
	cr_assert(d.as4 && d.route_refresh && d.enhanced_rr && d.ext_msg && d.gr_present);
	cr_assert(d.gr.restarting);
	cr_assert_eq(d.gr.time, 120);
	cr_assert(d.gr.af[0] && d.gr.af[1] && !d.gr.fwd[0] && d.gr.fwd[1]);
	cr_assert_eq(d.n_unknown_caps, 0);
}

Test(bgp_open, two_byte_speaker)
{
	struct ap_bgp_open o = {.asn = 65001, .hold_time = 0, .router_id = 1}, d;
	struct ap_bgp_err err;
	uint8_t buf[4096];
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_open_encode(&w, &o), 0);
	cr_assert_eq(ap_bgp_open_decode(buf, ap_wire_w_used(&w), &d, &err), 0);
	cr_assert_eq(d.asn, 65001);
	cr_assert(!d.as4 && !d.mp_any);
	cr_assert_eq(d.hold_time, 0);
}

/* OPEN body after the header: version, my AS, hold, id, then the params. */
struct open_case {
	const char *name;
	const char *body;
	uint32_t len;
	uint8_t code, subcode;
};

#define BODY(s)		    s, sizeof(s) - 1
#define OPEN_FIXED(v, hold) v "\xfd\xe9" hold "\xc0\x00\x02\x01"

static struct open_case open_cases[] = {
	{"version 3", BODY(OPEN_FIXED("\x03", "\x00\x5a") "\x00"), 2, 1},
	{"hold time 1", BODY(OPEN_FIXED("\x04", "\x00\x01") "\x00"), 2, 6},
	{"hold time 2", BODY(OPEN_FIXED("\x04", "\x00\x02") "\x00"), 2, 6},
	{"identifier 0", BODY("\x04\xfd\xe9\x00\x5a\x00\x00\x00\x00\x00"), 2, 3},
	{"unknown parameter type", BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x02\x01\x00"), 2, 4},
	{"parameter length short of data", BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x03\x02\x00"), 2,
	 0},
	{"parameter overruns", BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x03\x02\x05\x00"), 2, 0},
	{"capability overruns", BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x04\x02\x02\x41\x04"), 2, 0},
	{"4-byte AS capability of 3 bytes",
	 BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x07\x02\x05\x41\x03\x00\x00\x01"), 2, 0},
	{"4-byte AS capability is AS_TRANS",
	 BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x08\x02\x06\x41\x04\x00\x00\x5b\xa0"), 2, 2},
	{"multiprotocol capability of 3 bytes",
	 BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x07\x02\x05\x01\x03\x00\x01\x00"), 2, 0},
	{"route refresh capability with data",
	 BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x05\x02\x03\x02\x01\x00"), 2, 0},
	{"graceful restart of 3 bytes",
	 BODY(OPEN_FIXED("\x04", "\x00\x5a") "\x07\x02\x05\x40\x03\x00\x78\x00"), 2, 0},
	{"truncated fixed part", BODY("\x04\xfd\xe9\x00"), 1, 2},
};

TABLE_PARAMS(bgp_open, malformed, open_cases)

ParameterizedTest(size_t *row, bgp_open, malformed)
{
	const struct open_case *c = &open_cases[*row];
	uint8_t buf[512];
	struct ap_bgp_open o;
	struct ap_bgp_err err = {0};
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	ap_bgp_msg_begin(&w, AP_BGP_OPEN);
	ap_wire_put_bytes(&w, c->body, c->len);
	cr_assert_eq(ap_bgp_msg_end(&w), 0);
	cr_assert_eq(ap_bgp_open_decode(buf, ap_wire_w_used(&w), &o, &err), -EBADMSG, "%s",
		     c->name);
	cr_assert_eq(err.code, c->code, "%s: code %u", c->name, err.code);
	cr_assert_eq(err.subcode, c->subcode, "%s: subcode %u", c->name, err.subcode);
}

Test(bgp_open, unknown_capability_ignored)
{
	static const char body[] =
		OPEN_FIXED("\x04", "\x00\x5a") "\x08\x02\x06\x49\x01\x00\x4a\x01\x00";
	uint8_t buf[128];
	struct ap_bgp_open o;
	struct ap_bgp_err err;
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	ap_bgp_msg_begin(&w, AP_BGP_OPEN);
	ap_wire_put_bytes(&w, body, sizeof(body) - 1);
	ap_bgp_msg_end(&w);
	cr_assert_eq(ap_bgp_open_decode(buf, ap_wire_w_used(&w), &o, &err), 0);
	cr_assert_eq(o.n_unknown_caps, 2);
}

Test(bgp_open, unsupported_version_data)
{
	static const char body[] = OPEN_FIXED("\x05", "\x00\x5a") "\x00";
	uint8_t buf[64];
	struct ap_bgp_open o;
	struct ap_bgp_err err;
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	ap_bgp_msg_begin(&w, AP_BGP_OPEN);
	ap_wire_put_bytes(&w, body, sizeof(body) - 1);
	ap_bgp_msg_end(&w);
	cr_assert_eq(ap_bgp_open_decode(buf, ap_wire_w_used(&w), &o, &err), -EBADMSG);
	cr_assert_eq(err.data_len, 2);
	cr_assert_eq(err.data[1], 4);
}

/* ---------------------------------------------------------- NOTIFICATION */

Test(bgp_notif, shutdown_round_trip)
{
	struct ap_bgp_err e;
	struct ap_bgp_notif n;
	uint8_t buf[4096];
	struct ap_wire_w w;

	ap_bgp_err_shutdown(&e, AP_BGP_CEASE_SHUTDOWN, "maintenance, back at 18:00");
	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_notif_encode(&w, &e), 0);
	cr_assert_eq(ap_bgp_notif_decode(buf, ap_wire_w_used(&w), &n), 0);
	cr_assert_eq(n.code, 6);
	cr_assert_eq(n.subcode, 2);
	cr_assert_str_eq(n.shutdown_msg, "maintenance, back at 18:00");
	cr_assert_eq(n.data_len, 1 + strlen("maintenance, back at 18:00"));
}

Test(bgp_notif, shutdown_cut_on_character_boundary)
{
	char msg[300];
	struct ap_bgp_err e;

	/* 127 two-byte characters (254 bytes) then one more: 256 bytes. */
	for (int i = 0; i < 128; i++) {
		msg[2 * i] = (char)0xc3;
		msg[2 * i + 1] = (char)0xa9;
	}
	msg[256] = '\0';
	ap_bgp_err_shutdown(&e, AP_BGP_CEASE_RESET, msg);
	cr_assert_eq(e.data[0], 254);
	cr_assert_eq(e.data_len, 255);
}

struct notif_case {
	const char *name;
	const char *body;
	uint32_t len;
	int rc;
	uint8_t code, subcode;
	const char *shutdown;
	uint16_t data_len;
};

static struct notif_case notif_cases[] = {
	{"hold timer expired", BODY("\x04\x00"), 0, 4, 0, "", 0},
	{"bad peer AS with data", BODY("\x02\x02\xfd\xea"), 0, 2, 2, "", 2},
	{"shutdown without message", BODY("\x06\x02"), 0, 6, 2, "", 0},
	{"shutdown zero-length message", BODY("\x06\x02\x00"), 0, 6, 2, "", 1},
	{"shutdown message",
	 BODY("\x06\x04\x03"
	      "bye"),
	 0, 6, 4, "bye", 4},
	{"shutdown length overruns",
	 BODY("\x06\x02\x09"
	      "bye"),
	 0, 6, 2, "", 4},
	{"shutdown control bytes",
	 BODY("\x06\x02\x03"
	      "a\nb"),
	 0, 6, 2, "a?b", 4},
	{"other cease keeps data opaque",
	 BODY("\x06\x03\x03"
	      "bye"),
	 0, 6, 3, "", 4},
	{"too short", BODY("\x06"), -EBADMSG, 0, 0, "", 0},
};

TABLE_PARAMS(bgp_notif, table, notif_cases)

ParameterizedTest(size_t *row, bgp_notif, table)
{
	const struct notif_case *c = &notif_cases[*row];
	uint8_t buf[128];
	struct ap_bgp_notif n;
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	ap_bgp_msg_begin(&w, AP_BGP_NOTIFICATION);
	ap_wire_put_bytes(&w, c->body, c->len);
	ap_bgp_msg_end(&w);
	cr_assert_eq(ap_bgp_notif_decode(buf, ap_wire_w_used(&w), &n), c->rc, "%s", c->name);
	if (c->rc)
		return;
	cr_assert_eq(n.code, c->code, "%s", c->name);
	cr_assert_eq(n.subcode, c->subcode, "%s", c->name);
	cr_assert_str_eq(n.shutdown_msg, c->shutdown, "%s", c->name);
	cr_assert_eq(n.data_len, c->data_len, "%s", c->name);
}

Test(bgp_notif, names)
{
	cr_assert_str_eq(ap_bgp_err_name(3, 11), "malformed AS_PATH");
	cr_assert_str_eq(ap_bgp_err_name(6, 2), "administrative shutdown");
	cr_assert_str_eq(ap_bgp_err_name(2, 200), "OPEN message error");
	cr_assert_str_eq(ap_bgp_err_name(4, 0), "hold timer expired");
}

/* ------------------------------------------------------ KEEPALIVE, RR */

Test(bgp_keepalive, encode)
{
	uint8_t buf[64];
	struct ap_wire_w w;
	struct ap_bgp_hdr h;
	struct ap_bgp_err err;

	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_keepalive_encode(&w), 0);
	cr_assert_eq(ap_wire_w_used(&w), 19);
	cr_assert_eq(ap_bgp_hdr_decode(buf, 19, 4096, &h, &err), 0);
	cr_assert_eq(h.type, AP_BGP_KEEPALIVE);
	ap_wire_w_init(&w, buf, 18);
	cr_assert_eq(ap_bgp_keepalive_encode(&w), -ENOSPC);
}

struct rr_case {
	const char *name;
	const char *body;
	uint32_t len;
	int rc;
	uint8_t code, subcode, af, subtype;
};

static struct rr_case rr_cases[] = {
	{"ipv4 refresh", BODY("\x00\x01\x00\x01"), 0, 0, 0, AP_BGP_IPV4, 0},
	{"ipv6 BoRR", BODY("\x00\x02\x01\x01"), 0, 0, 0, AP_BGP_IPV6, 1},
	{"ipv6 EoRR", BODY("\x00\x02\x02\x01"), 0, 0, 0, AP_BGP_IPV6, 2},
	{"other family", BODY("\x00\x19\x00\x46"), 0, 0, 0, AP_BGP_AF_NONE, 0},
	{"unknown subtype ignored", BODY("\x00\x01\x03\x01"), -ENOTSUP, 0, 0, AP_BGP_IPV4, 3},
	{"BoRR too long", BODY("\x00\x01\x01\x01\x00"), -EBADMSG, 7, 1, 0, 0},
	{"refresh too long", BODY("\x00\x01\x00\x01\x00"), -EBADMSG, 1, 2, 0, 0},
};

TABLE_PARAMS(bgp_refresh, table, rr_cases)

ParameterizedTest(size_t *row, bgp_refresh, table)
{
	const struct rr_case *c = &rr_cases[*row];
	uint8_t buf[64];
	struct ap_bgp_refresh r;
	struct ap_bgp_err err = {0};
	struct ap_wire_w w;
	int rc;

	ap_wire_w_init(&w, buf, sizeof(buf));
	ap_bgp_msg_begin(&w, AP_BGP_ROUTE_REFRESH);
	ap_wire_put_bytes(&w, c->body, c->len);
	ap_bgp_msg_end(&w);
	rc = ap_bgp_refresh_decode(buf, ap_wire_w_used(&w), &r, &err);
	cr_assert_eq(rc, c->rc, "%s: rc %d", c->name, rc);
	if (rc == -EBADMSG) {
		cr_assert_eq(err.code, c->code, "%s", c->name);
		cr_assert_eq(err.subcode, c->subcode, "%s", c->name);
		return;
	}
	cr_assert_eq(r.af, c->af, "%s", c->name);
	cr_assert_eq(r.subtype, c->subtype, "%s", c->name);
}

Test(bgp_refresh, round_trip)
{
	uint8_t buf[64];
	struct ap_bgp_refresh r;
	struct ap_bgp_err err;
	struct ap_wire_w w;

	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_refresh_encode(&w, AP_BGP_IPV6, AP_BGP_RR_EORR), 0);
	cr_assert_eq(ap_wire_w_used(&w), 23);
	cr_assert_eq(ap_bgp_refresh_decode(buf, 23, &r, &err), 0);
	cr_assert_eq(r.af, AP_BGP_IPV6);
	cr_assert_eq(r.subtype, AP_BGP_RR_EORR);
}

/* ---------------------------------------------------------------- UPDATE */

static const uint8_t path4[] = {2, 3, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x01, 0, 0,
				0, 7, 1, 2, 0,	  0,	0,    8,    0,	  0,	0, 9};
static const uint8_t comms[] = {0xfd, 0xe9, 0, 1, 0xff, 0xff, 0xff, 0x01};
static const uint8_t ext[] = {0, 2, 0xfd, 0xe9, 0, 0, 0, 100};
static const uint8_t large[] = {0xfa, 0x56, 0xea, 0x01, 0, 0, 0, 1, 0, 0, 0, 2,
				0,    0,    0,	  3,	0, 0, 0, 4, 0, 0, 0, 5};
static const uint8_t unknown_attr[] = {0xc0, 99, 2, 0xab, 0xcd};

static void
full_attrs(struct ap_bgp_attrs *a)
{
	memset(a, 0, sizeof(*a));
	a->present = 1ull << AP_BGP_ATTR_ORIGIN | 1ull << AP_BGP_ATTR_AS_PATH |
		     1ull << AP_BGP_ATTR_NEXT_HOP | 1ull << AP_BGP_ATTR_MED |
		     1ull << AP_BGP_ATTR_LOCAL_PREF | 1ull << AP_BGP_ATTR_ATOMIC_AGGR |
		     1ull << AP_BGP_ATTR_AGGREGATOR | 1ull << AP_BGP_ATTR_COMMUNITIES |
		     1ull << AP_BGP_ATTR_ORIGINATOR_ID | 1ull << AP_BGP_ATTR_CLUSTER_LIST |
		     1ull << AP_BGP_ATTR_EXT_COMMUNITIES | 1ull << AP_BGP_ATTR_LARGE_COMMUNITIES;
	a->origin = AP_BGP_ORIGIN_EGP;
	a->as_path = path4;
	a->as_path_len = sizeof(path4);
	a->next_hop = 0xc0000201;
	a->med = 50;
	a->local_pref = 200;
	a->aggregator_as = 4200000001u;
	a->aggregator_id = 0x0a000001;
	a->communities = comms;
	a->n_communities = 2;
	a->originator_id = 0x0a000002;
	a->cluster_list = (const uint8_t *)"\x0a\x00\x00\x03";
	a->n_cluster = 1;
	a->ext_communities = ext;
	a->n_ext_communities = 1;
	a->large_communities = large;
	a->n_large_communities = 2;
	a->unknown[0].p = unknown_attr;
	a->unknown[0].len = sizeof(unknown_attr);
	a->n_unknown = 1;
	a->mp_nh_len = 16;
	memcpy(a->mp_nh, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

static void
check_attrs(const struct ap_bgp_attrs *d, const struct ap_bgp_attrs *a, uint8_t af)
{
	uint64_t want = a->present;

	if (af == AP_BGP_IPV6)
		want = (want & ~(1ull << AP_BGP_ATTR_NEXT_HOP)) | 1ull << AP_BGP_ATTR_MP_REACH;
	cr_assert_eq(d->present, want, "present %#llx want %#llx", (unsigned long long)d->present,
		     (unsigned long long)want);
	cr_assert_eq(d->origin, a->origin);
	cr_assert_eq(d->as_path_len, a->as_path_len);
	cr_assert_arr_eq(d->as_path, a->as_path, a->as_path_len);
	if (af == AP_BGP_IPV4)
		cr_assert_eq(d->next_hop, a->next_hop);
	else
		cr_assert_arr_eq(d->mp_nh, a->mp_nh, 16);
	cr_assert_eq(d->med, a->med);
	cr_assert_eq(d->local_pref, a->local_pref);
	cr_assert_eq(d->aggregator_as, a->aggregator_as);
	cr_assert_eq(d->aggregator_id, a->aggregator_id);
	cr_assert_eq(d->n_communities, a->n_communities);
	cr_assert_arr_eq(d->communities, a->communities, 4u * a->n_communities);
	cr_assert_eq(d->originator_id, a->originator_id);
	cr_assert_eq(d->n_cluster, 1);
	cr_assert_eq(d->n_ext_communities, 1);
	cr_assert_arr_eq(d->ext_communities, a->ext_communities, 8);
	cr_assert_eq(d->n_large_communities, 2);
	cr_assert_arr_eq(d->large_communities, a->large_communities, 24);
	cr_assert_eq(d->n_unknown, 1);
	/* Passed on with the Partial bit. */
	cr_assert_eq(d->unknown[0].p[0], 0xe0);
}

static void
prefixes(struct ap_bgp_prefix *p, uint32_t n, uint8_t af)
{
	for (uint32_t i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].af = af;
		if (af == AP_BGP_IPV4) {
			p[i].len = 24;
			p[i].addr[0] = 10;
			p[i].addr[1] = (uint8_t)(i >> 8);
			p[i].addr[2] = (uint8_t)i;
		} else {
			p[i].len = 48;
			p[i].addr[0] = 0x20;
			p[i].addr[1] = 0x01;
			p[i].addr[2] = 0x0d;
			p[i].addr[3] = 0xb8;
			p[i].addr[4] = (uint8_t)(i >> 8);
			p[i].addr[5] = (uint8_t)i;
		}
	}
}

static uint32_t
walk(const struct ap_bgp_nlri *n, const struct ap_bgp_prefix *want, uint32_t max)
{
	struct ap_wire w;
	struct ap_bgp_prefix p;
	uint32_t i = 0;

	ap_wire_init(&w, n->p, n->len);
	while (ap_bgp_nlri_next(&w, n->af, &p)) {
		cr_assert_lt(i, max);
		cr_assert_eq(p.len, want[i].len);
		cr_assert_arr_eq(p.addr, want[i].addr, 16);
		i++;
	}
	cr_assert(ap_wire_ok(&w));
	return i;
}

struct rt_case {
	const char *name;
	uint8_t af;
	bool as4;
	bool withdraw;
	uint32_t n;
};

static struct rt_case rt_cases[] = {
	{"ipv4 announce, 4-byte", AP_BGP_IPV4, true, false, 3},
	{"ipv4 announce, 2-byte", AP_BGP_IPV4, false, false, 3},
	{"ipv6 announce, 4-byte", AP_BGP_IPV6, true, false, 3},
	{"ipv6 announce, 2-byte", AP_BGP_IPV6, false, false, 3},
	{"ipv4 withdraw", AP_BGP_IPV4, true, true, 5},
	{"ipv6 withdraw", AP_BGP_IPV6, true, true, 5},
};

TABLE_PARAMS(bgp_update, round_trip, rt_cases)

ParameterizedTest(size_t *row, bgp_update, round_trip)
{
	const struct rt_case *c = &rt_cases[*row];
	struct ap_bgp_sess_opts o = {.as4 = c->as4, .ibgp = true};
	struct ap_bgp_update *u = new_update();
	struct ap_bgp_prefix pfx[8];
	struct ap_bgp_attrs a;
	uint8_t buf[4096];
	struct ap_wire_w w;
	int n;

	full_attrs(&a);
	prefixes(pfx, c->n, c->af);
	ap_wire_w_init(&w, buf, sizeof(buf));
	n = ap_bgp_update_encode(&w, &o, &a, c->af, pfx, c->n, c->withdraw);
	cr_assert_eq(n, (int)c->n, "%s: encoded %d", c->name, n);
	cr_assert_eq(ap_bgp_update_decode(buf, ap_wire_w_used(&w), &o, u), AP_BGP_ACT_OK,
		     "%s: %s attr %u", c->name, ap_bgp_action_name(u->action), u->bad_attr);
	cr_assert(!u->eor);
	if (c->withdraw) {
		const struct ap_bgp_nlri *nl =
			c->af == AP_BGP_IPV4 ? &u->withdrawn : &u->mp_unreach;

		cr_assert_eq(walk(nl, pfx, c->n), c->n);
	} else {
		const struct ap_bgp_nlri *nl = c->af == AP_BGP_IPV4 ? &u->nlri : &u->mp_reach;

		cr_assert_eq(walk(nl, pfx, c->n), c->n);
		check_attrs(&u->attrs, &a, c->af);
		if (c->af == AP_BGP_IPV6)
			/* RFC 7606 §5.1: MP_REACH_NLRI is the first attribute. */
			cr_assert_eq(buf[AP_BGP_HDR_LEN + 4 + 1], AP_BGP_ATTR_MP_REACH);
	}
	free(u);
}

Test(bgp_update, two_byte_session_uses_as_trans)
{
	struct ap_bgp_sess_opts o = {.as4 = false};
	struct ap_bgp_update *u = new_update();
	struct ap_bgp_prefix pfx;
	struct ap_bgp_attrs a;
	uint8_t buf[4096];
	struct ap_wire_w w;
	char s[128];

	full_attrs(&a);
	prefixes(&pfx, 1, AP_BGP_IPV4);
	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_update_encode(&w, &o, &a, AP_BGP_IPV4, &pfx, 1, false), 1);
	/* Seen by a 4-byte speaker that does not merge: AS_TRANS stands in. */
	o.as4 = true;
	o.ibgp = true;
	ap_bgp_update_decode(buf, ap_wire_w_used(&w), &o, u);
	cr_assert(ap_bgp_attr_has(&u->attrs, AP_BGP_ATTR_AS_PATH));
	/* The 2-byte path read as 4-byte is garbage but must stay in bounds; a
	 * 2-byte reader gets the merged path back. */
	o.as4 = false;
	cr_assert_eq(ap_bgp_update_decode(buf, ap_wire_w_used(&w), &o, u), AP_BGP_ACT_OK);
	cr_assert_str_eq(ap_bgp_aspath_str(u->attrs.as_path, u->attrs.as_path_len, s, sizeof(s)),
			 "65001 4200000001 7 {8,9}");
	cr_assert_eq(u->attrs.aggregator_as, 4200000001u);
	free(u);
}

Test(bgp_update, as4_path_merge_keeps_new_leading_ases)
{
	/* A 2-byte speaker (65010) prepended itself in front of a path whose
	 * AS4_PATH holds the true 4-byte ASNs (RFC 6793 §4.2.3). */
	static const uint8_t attrs[] = {
		0x40, 1,  1,  0,						     /* ORIGIN */
		0x40, 2,  8,  2,  3, 0xfd, 0xf2, 0x5b, 0xa0, 0x5b, 0xa0,	     /* 65010 T T */
		0x40, 3,  4,  10, 0, 0,	   1,					     /* NEXT_HOP */
		0xc0, 17, 10, 2,  2, 0xfa, 0x56, 0xea, 0x01, 0xfa, 0x56, 0xea, 0x02, /* AS4 */
	};
	static const uint8_t nlri[] = {8, 10};
	struct ap_bgp_sess_opts o = {.as4 = false};
	struct ap_bgp_update *u = new_update();
	uint8_t buf[256];
	uint32_t len = mk_update(buf, sizeof(buf), NULL, 0, attrs, sizeof(attrs), nlri, 2);
	char s[128];

	cr_assert_eq(ap_bgp_update_decode(buf, len, &o, u), AP_BGP_ACT_OK);
	cr_assert_str_eq(ap_bgp_aspath_str(u->attrs.as_path, u->attrs.as_path_len, s, sizeof(s)),
			 "65010 4200000001 4200000002");
	free(u);
}

Test(bgp_update, packing_fills_the_message)
{
	struct ap_bgp_sess_opts o = {.as4 = true, .ibgp = true};
	struct ap_bgp_update *u = new_update();
	static struct ap_bgp_prefix pfx[2000];
	struct ap_bgp_attrs a;
	uint8_t buf[4096];
	struct ap_wire_w w;
	uint32_t total = 0;
	int n, msgs = 0;

	full_attrs(&a);
	prefixes(pfx, 2000, AP_BGP_IPV4);
	while (total < 2000) {
		ap_wire_w_init(&w, buf, sizeof(buf));
		n = ap_bgp_update_encode(&w, &o, &a, AP_BGP_IPV4, pfx + total, 2000 - total, false);
		cr_assert_gt(n, 0);
		cr_assert_leq(ap_wire_w_used(&w), 4096);
		cr_assert_eq(ap_bgp_update_decode(buf, ap_wire_w_used(&w), &o, u), AP_BGP_ACT_OK);
		cr_assert_eq(walk(&u->nlri, pfx + total, (uint32_t)n), (uint32_t)n);
		total += (uint32_t)n;
		msgs++;
	}
	/* 4 bytes per /24 and about 120 bytes of attributes: 3 messages. */
	cr_assert_eq(msgs, 2000 * 4 / (4096 - 19 - 4 - 140) + 1);
	free(u);
}

Test(bgp_update, too_small_buffer)
{
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_prefix pfx;
	struct ap_bgp_attrs a;
	uint8_t buf[64];
	struct ap_wire_w w;

	full_attrs(&a);
	prefixes(&pfx, 1, AP_BGP_IPV6);
	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_update_encode(&w, &o, &a, AP_BGP_IPV6, &pfx, 1, false), -ENOSPC);
}

Test(bgp_update, end_of_rib)
{
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_update *u = new_update();
	uint8_t buf[64];
	struct ap_wire_w w;

	for (uint8_t af = 0; af < AP_BGP_N_AF; af++) {
		ap_wire_w_init(&w, buf, sizeof(buf));
		cr_assert_eq(ap_bgp_update_encode(&w, &o, NULL, af, NULL, 0, true), 0);
		cr_assert_eq(ap_bgp_update_decode(buf, ap_wire_w_used(&w), &o, u), AP_BGP_ACT_OK);
		cr_assert(u->eor);
		cr_assert_eq(u->eor_af, af);
	}
	free(u);
}

/* Attribute bytes of a good announcement, to build broken ones from. */
#define ORIGIN "\x40\x01\x01\x00"
#define ASPATH "\x40\x02\x06\x02\x01\x00\x00\xfd\xe9"
#define NH     "\x40\x03\x04\xc0\x00\x02\x01"
#define MAND   ORIGIN ASPATH NH
#define NLRI24 "\x18\xc6\x33\x64"
#define MP6                                                                                        \
	"\x80\x0e\x1a\x00\x02\x01\x10\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
	"\x01\x00\x20\x20\x01\x0d\xb8"

struct upd_case {
	const char *name;
	const char *wd;
	uint32_t wl;
	const char *attrs;
	uint32_t al;
	const char *nlri;
	uint32_t nl;
	bool as4, ibgp;
	enum ap_bgp_action action;
	uint8_t subcode; /* For session resets. */
	uint8_t bad_attr;
	uint16_t n_discarded;
};

#define NO_WD NULL, 0
#define A(s)  s, sizeof(s) - 1
#define N(s)  s, sizeof(s) - 1

static struct upd_case upd_cases[] = {
	{"valid", NO_WD, A(MAND), N(NLRI24), true, false, AP_BGP_ACT_OK, 0, 0, 0},
	{"valid mp", NO_WD, A(MP6 ORIGIN ASPATH), N(""), true, false, AP_BGP_ACT_OK, 0, 0, 0},
	{"withdraw only", A("\x18\xc6\x33\x64"), A(""), N(""), true, false, AP_BGP_ACT_OK, 0, 0, 0},
	{"origin length 2", NO_WD, A("\x40\x01\x02\x00\x00" ASPATH NH), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 1, 0},
	{"origin value 3", NO_WD, A("\x40\x01\x01\x03" ASPATH NH), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 1, 0},
	{"origin flagged optional", NO_WD, A("\xc0\x01\x01\x00" ASPATH NH), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 1, 0},
	{"as_path segment type 5", NO_WD, A(ORIGIN "\x40\x02\x06\x05\x01\x00\x00\xfd\xe9" NH),
	 N(NLRI24), true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 2, 0},
	{"as_path empty segment", NO_WD, A(ORIGIN "\x40\x02\x02\x02\x00" NH), N(NLRI24), true,
	 false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 2, 0},
	{"as_path segment overrun", NO_WD, A(ORIGIN "\x40\x02\x06\x02\x02\x00\x00\xfd\xe9" NH),
	 N(NLRI24), true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 2, 0},
	{"as_path 2-byte read on 2-byte session", NO_WD,
	 A(ORIGIN "\x40\x02\x04\x02\x01\xfd\xe9" NH), N(NLRI24), false, false, AP_BGP_ACT_OK, 0, 0,
	 0},
	{"next_hop length 5", NO_WD, A(ORIGIN ASPATH "\x40\x03\x05\xc0\x00\x02\x01\x00"), N(NLRI24),
	 true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 3, 0},
	{"next_hop 0.0.0.0", NO_WD, A(ORIGIN ASPATH "\x40\x03\x04\x00\x00\x00\x00"), N(NLRI24),
	 true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 3, 0},
	{"next_hop multicast", NO_WD, A(ORIGIN ASPATH "\x40\x03\x04\xe0\x00\x00\x05"), N(NLRI24),
	 true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 3, 0},
	{"med length 3", NO_WD, A(MAND "\x80\x04\x03\x00\x00\x01"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 4, 0},
	{"local_pref from ebgp", NO_WD, A(MAND "\x40\x05\x04\x00\x00\x00\x64"), N(NLRI24), true,
	 false, AP_BGP_ACT_DISCARD, 0, 5, 1},
	{"local_pref from ibgp", NO_WD, A(MAND "\x40\x05\x04\x00\x00\x00\x64"), N(NLRI24), true,
	 true, AP_BGP_ACT_OK, 0, 0, 0},
	{"local_pref length 2", NO_WD, A(MAND "\x40\x05\x02\x00\x64"), N(NLRI24), true, true,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 5, 0},
	{"atomic_aggregate with data", NO_WD, A(MAND "\x40\x06\x01\x00"), N(NLRI24), true, false,
	 AP_BGP_ACT_DISCARD, 0, 6, 1},
	{"aggregator length 7", NO_WD, A(MAND "\xc0\x07\x07\x00\x00\xfd\xe9\x0a\x00\x00"),
	 N(NLRI24), true, false, AP_BGP_ACT_DISCARD, 0, 7, 1},
	{"aggregator 6 bytes on 4-byte session", NO_WD,
	 A(MAND "\xc0\x07\x06\xfd\xe9\x0a\x00\x00\x01"), N(NLRI24), true, false, AP_BGP_ACT_DISCARD,
	 0, 7, 1},
	{"communities length 3", NO_WD, A(MAND "\xc0\x08\x03\x00\x00\x01"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 8, 0},
	{"communities empty", NO_WD, A(MAND "\xc0\x08\x00"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 8, 0},
	{"originator_id length 3 ibgp", NO_WD, A(MAND "\x80\x09\x03\x0a\x00\x00"), N(NLRI24), true,
	 true, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 9, 0},
	{"originator_id from ebgp", NO_WD, A(MAND "\x80\x09\x04\x0a\x00\x00\x01"), N(NLRI24), true,
	 false, AP_BGP_ACT_DISCARD, 0, 9, 1},
	{"cluster_list length 5 ibgp", NO_WD, A(MAND "\x80\x0a\x05\x0a\x00\x00\x01\x00"), N(NLRI24),
	 true, true, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 10, 0},
	{"ext communities length 9", NO_WD,
	 A(MAND "\xc0\x10\x09\x00\x02\x00\x00\x00\x00\x00\x00\x00"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 16, 0},
	{"large communities length 11", NO_WD,
	 A(MAND "\xc0\x20\x0b\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 32, 0},
	{"as4_path between 4-byte speakers", NO_WD, A(MAND "\xc0\x11\x06\x02\x01\x00\x00\xfd\xe9"),
	 N(NLRI24), true, false, AP_BGP_ACT_DISCARD, 0, 17, 1},
	{"as4_path malformed", NO_WD,
	 A(ORIGIN "\x40\x02\x04\x02\x01\xfd\xe9" NH "\xc0\x11\x03\x02\x01\x00"), N(NLRI24), false,
	 false, AP_BGP_ACT_DISCARD, 0, 17, 1},
	{"as4_path with confederation", NO_WD,
	 A(ORIGIN "\x40\x02\x04\x02\x01\xfd\xe9" NH "\xc0\x11\x06\x03\x01\x00\x00\xfd\xe9"),
	 N(NLRI24), false, false, AP_BGP_ACT_DISCARD, 0, 17, 1},
	{"as4_aggregator length 6", NO_WD,
	 A(ORIGIN "\x40\x02\x04\x02\x01\xfd\xe9" NH "\xc0\x12\x06\x00\x00\xfd\xe9\x0a\x01"),
	 N(NLRI24), false, false, AP_BGP_ACT_DISCARD, 0, 18, 1},
	{"missing origin", NO_WD, A(ASPATH NH), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 1, 0},
	{"missing as_path", NO_WD, A(ORIGIN NH), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 2, 0},
	{"missing next_hop", NO_WD, A(ORIGIN ASPATH), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 3, 0},
	{"no next_hop needed for mp only", NO_WD, A(MP6 ORIGIN ASPATH), N(""), true, false,
	 AP_BGP_ACT_OK, 0, 0, 0},
	{"attributes without nlri", NO_WD, A(ORIGIN), N(""), true, false, AP_BGP_ACT_OK, 0, 0, 0},
	{"duplicate med", NO_WD, A(MAND "\x80\x04\x04\x00\x00\x00\x01\x80\x04\x04\x00\x00\x00\x02"),
	 N(NLRI24), true, false, AP_BGP_ACT_DISCARD, 0, 4, 1},
	{"duplicate mp_reach", NO_WD, A(MP6 MP6 ORIGIN ASPATH), N(""), true, false,
	 AP_BGP_ACT_SESSION_RESET, 1, 14, 0},
	{"unknown well-known attribute", NO_WD, A(MAND "\x40\x28\x01\x00"), N(NLRI24), true, false,
	 AP_BGP_ACT_SESSION_RESET, 2, 40, 0},
	{"unknown optional transitive kept", NO_WD, A(MAND "\xc0\x63\x01\x00"), N(NLRI24), true,
	 false, AP_BGP_ACT_OK, 0, 0, 0},
	{"unknown optional non-transitive dropped", NO_WD, A(MAND "\x80\x63\x01\x00"), N(NLRI24),
	 true, false, AP_BGP_ACT_OK, 0, 0, 0},
	{"attribute overruns the list", NO_WD, A(MAND "\x80\x04\x09\x00\x00\x00\x01"), N(NLRI24),
	 true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 4, 0},
	{"attribute header cut", NO_WD, A(MAND "\x80"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 0, 0},
	{"extended length cut", NO_WD, A(MAND "\x90\x04\x00"), N(NLRI24), true, false,
	 AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 4, 0},
	{"mp_reach ipv6 next hop length 5", NO_WD,
	 A("\x80\x0e\x0b\x00\x02\x01\x05\x20\x01\x0d\xb8\x00\x00\x20\x20\x01" ORIGIN ASPATH), N(""),
	 true, false, AP_BGP_ACT_SESSION_RESET, 9, 14, 0},
	{"mp_reach prefix length 129", NO_WD,
	 A("\x80\x0e\x16\x00\x02\x01\x10\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	   "\x00\x01\x00\x81" ORIGIN ASPATH),
	 N(""), true, false, AP_BGP_ACT_SESSION_RESET, 9, 14, 0},
	{"mp_reach cut in next hop", NO_WD, A("\x80\x0e\x06\x00\x02\x01\x10\x20\x01"), N(""), true,
	 false, AP_BGP_ACT_SESSION_RESET, 9, 14, 0},
	{"mp_unreach prefix overrun", NO_WD, A("\x80\x0f\x05\x00\x02\x01\x40\x20"), N(""), true,
	 false, AP_BGP_ACT_SESSION_RESET, 9, 15, 0},
	{"mp_reach flagged transitive", NO_WD, A("\xc0\x0e\x03\x00\x02\x01" ORIGIN ASPATH), N(""),
	 true, false, AP_BGP_ACT_SESSION_RESET, 4, 14, 0},
	{"mp_reach other family kept opaque", NO_WD,
	 A("\x80\x0e\x09\x00\x19\x46\x04\x0a\x00\x00\x01\x00" ORIGIN ASPATH), N(""), true, false,
	 AP_BGP_ACT_OK, 0, 0, 0},
	{"malformed attribute before mp_reach", NO_WD, A("\x40\x01\x01\x07" MP6 ASPATH), N(""),
	 true, false, AP_BGP_ACT_TREAT_AS_WITHDRAW, 0, 1, 0},
	{"nlri prefix length 33", NO_WD, A(MAND), N("\x21\x0a\x00\x00\x00\x00"), true, false,
	 AP_BGP_ACT_SESSION_RESET, 10, 0, 0},
	{"nlri prefix cut", NO_WD, A(MAND), N("\x18\x0a\x00"), true, false,
	 AP_BGP_ACT_SESSION_RESET, 10, 0, 0},
	{"withdrawn prefix length 40", A("\x28\x0a\x00\x00\x00\x00"), A(""), N(""), true, false,
	 AP_BGP_ACT_SESSION_RESET, 10, 0, 0},
};

TABLE_PARAMS(bgp_update, malformed, upd_cases)

ParameterizedTest(size_t *row, bgp_update, malformed)
{
	const struct upd_case *c = &upd_cases[*row];
	struct ap_bgp_sess_opts o = {.as4 = c->as4, .ibgp = c->ibgp};
	struct ap_bgp_update *u = new_update();
	uint8_t buf[1024];
	uint32_t len = mk_update(buf, sizeof(buf), c->wd, c->wl, c->attrs, c->al, c->nlri, c->nl);
	enum ap_bgp_action act = ap_bgp_update_decode(buf, len, &o, u);

	cr_assert_eq(act, c->action, "%s: got %s (attr %u), want %s", c->name,
		     ap_bgp_action_name(act), u->bad_attr, ap_bgp_action_name(c->action));
	cr_assert_eq(u->bad_attr, c->bad_attr, "%s: bad attr %u", c->name, u->bad_attr);
	cr_assert_eq(u->n_discarded, c->n_discarded, "%s: discarded %u", c->name, u->n_discarded);
	if (act == AP_BGP_ACT_SESSION_RESET) {
		cr_assert_eq(u->err.code, AP_BGP_ERR_UPDATE, "%s", c->name);
		cr_assert_eq(u->err.subcode, c->subcode, "%s: subcode %u", c->name, u->err.subcode);
	}
	free(u);
}

Test(bgp_update, treat_as_withdraw_still_finds_mp_reach)
{
	static const char attrs[] = "\x40\x01\x01\x07" MP6 ASPATH;
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_update *u = new_update();
	struct ap_bgp_prefix p;
	struct ap_wire w;
	uint8_t buf[256];
	uint32_t len = mk_update(buf, sizeof(buf), NULL, 0, attrs, sizeof(attrs) - 1, NULL, 0);
	char s[64];

	cr_assert_eq(ap_bgp_update_decode(buf, len, &o, u), AP_BGP_ACT_TREAT_AS_WITHDRAW);
	cr_assert(u->mp_reach.present);
	ap_wire_init(&w, u->mp_reach.p, u->mp_reach.len);
	cr_assert(ap_bgp_nlri_next(&w, AP_BGP_IPV6, &p));
	cr_assert_str_eq(ap_bgp_prefix_str(&p, s, sizeof(s)), "2001:db8::/32");
	free(u);
}

Test(bgp_update, reset_data_is_the_attribute)
{
	static const char attrs[] = MAND "\x40\x28\x01\x00";
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_update *u = new_update();
	uint8_t buf[256];
	uint32_t len = mk_update(buf, sizeof(buf), NULL, 0, attrs, sizeof(attrs) - 1, NLRI24, 4);

	cr_assert_eq(ap_bgp_update_decode(buf, len, &o, u), AP_BGP_ACT_SESSION_RESET);
	cr_assert_eq(u->err.data_len, 4);
	cr_assert_arr_eq(u->err.data, "\x40\x28\x01\x00", 4);
	free(u);
}

Test(bgp_update, host_bits_cleared)
{
	static const char attrs[] = MAND;
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_update *u = new_update();
	struct ap_bgp_prefix p;
	struct ap_wire w;
	uint8_t buf[256];
	uint32_t len = mk_update(buf, sizeof(buf), NULL, 0, attrs, sizeof(attrs) - 1,
				 "\x14\x0a\x01\xff", 4);
	char s[64];

	cr_assert_eq(ap_bgp_update_decode(buf, len, &o, u), AP_BGP_ACT_OK);
	ap_wire_init(&w, u->nlri.p, u->nlri.len);
	cr_assert(ap_bgp_nlri_next(&w, AP_BGP_IPV4, &p));
	cr_assert_str_eq(ap_bgp_prefix_str(&p, s, sizeof(s)), "10.1.240.0/20");
	free(u);
}

/* --------------------------------------------------------------- helpers */

Test(bgp_aspath, count_first_contains_prepend)
{
	uint8_t out[64];
	char s[128];
	int n;

	cr_assert_eq(ap_bgp_aspath_count(path4, sizeof(path4)), 4);
	cr_assert_eq(ap_bgp_aspath_first(path4, sizeof(path4)), 65001);
	cr_assert(ap_bgp_aspath_contains(path4, sizeof(path4), 9));
	cr_assert(!ap_bgp_aspath_contains(path4, sizeof(path4), 10));
	n = ap_bgp_aspath_prepend(path4, sizeof(path4), 65000, 2, out, sizeof(out));
	cr_assert_eq(n, (int)sizeof(path4) + 8);
	cr_assert_str_eq(ap_bgp_aspath_str(out, (uint32_t)n, s, sizeof(s)),
			 "65000 65000 65001 4200000001 7 {8,9}");
	n = ap_bgp_aspath_prepend(NULL, 0, 65000, 1, out, sizeof(out));
	cr_assert_eq(n, 6);
	cr_assert_str_eq(ap_bgp_aspath_str(out, (uint32_t)n, s, sizeof(s)), "65000");
	cr_assert_eq(ap_bgp_aspath_prepend(path4, sizeof(path4), 1, 20, out, sizeof(out)), -ENOSPC);
}

struct pfx_case {
	const char *in;
	int rc;
	const char *out;
};

static struct pfx_case pfx_cases[] = {
	{"192.0.2.0/24", 0, "192.0.2.0/24"},
	{"192.0.2.77/24", 0, "192.0.2.0/24"},
	{"10.0.0.1", 0, "10.0.0.1/32"},
	{"2001:db8::1/32", 0, "2001:db8::/32"},
	{"::/0", 0, "::/0"},
	{"10.0.0.0/33", -EINVAL, NULL},
	{"10.0.0.0/", -EINVAL, NULL},
	{"10.0.0.0/2x", -EINVAL, NULL},
	{"2001:db8::/129", -EINVAL, NULL},
	{"example", -EINVAL, NULL},
};

TABLE_PARAMS(bgp_prefix, parse, pfx_cases)

ParameterizedTest(size_t *row, bgp_prefix, parse)
{
	const struct pfx_case *c = &pfx_cases[*row];
	struct ap_bgp_prefix p;
	char s[64];

	cr_assert_eq(ap_bgp_prefix_parse(c->in, &p), c->rc, "%s", c->in);
	if (c->rc == 0)
		cr_assert_str_eq(ap_bgp_prefix_str(&p, s, sizeof(s)), c->out);
}

/* ------------------------------------------------- shared peer captures */

#define CAPTURES "../shared/peer-data/ryu-openflow13/bgp4"

/* TCP payload of the first packet of a classic pcap file (Ethernet, IPv4 or
 * IPv6, TCP). Returns its length, or -1. */
static int
pcap_payload(const char *path, uint8_t *out, uint32_t cap)
{
	static uint8_t file[65536];
	struct ap_wire w, pkt;
	uint32_t incl;
	uint16_t et;
	uint8_t proto = 0;
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	n = fread(file, 1, sizeof(file), f);
	fclose(f);
	ap_wire_init(&w, file, (uint32_t)n);
	if (ap_wire_u32(&w) != 0xd4c3b2a1) /* little-endian microsecond pcap */
		return -1;
	ap_wire_skip(&w, 20 + 8);
	/* One read per statement: the order of operands of | is unspecified. */
	incl = ap_wire_u8(&w);
	incl |= (uint32_t)ap_wire_u8(&w) << 8;
	incl |= (uint32_t)ap_wire_u8(&w) << 16;
	incl |= (uint32_t)ap_wire_u8(&w) << 24;
	ap_wire_skip(&w, 4);
	pkt = ap_wire_sub(&w, incl);
	ap_wire_skip(&pkt, 12);
	et = ap_wire_u16(&pkt);
	while (et == 0x8100) {
		ap_wire_skip(&pkt, 2);
		et = ap_wire_u16(&pkt);
	}
	if (et == 0x0800) {
		uint8_t vihl = ap_wire_peek_u8(&pkt);

		ap_wire_skip(&pkt, 9);
		proto = ap_wire_u8(&pkt);
		ap_wire_skip(&pkt, (vihl & 0xfu) * 4u - 10u);
	} else if (et == 0x86dd) {
		ap_wire_skip(&pkt, 6);
		proto = ap_wire_u8(&pkt);
		ap_wire_skip(&pkt, 33);
	}
	if (proto != 6)
		return -1;
	ap_wire_skip(&pkt, 12);
	ap_wire_skip(&pkt, (ap_wire_peek_u8(&pkt) >> 4) * 4u - 12u);
	if (!ap_wire_ok(&pkt) || ap_wire_avail(&pkt) > cap)
		return -1;
	n = ap_wire_avail(&pkt);
	ap_wire_bytes(&pkt, out, (uint32_t)n);
	return (int)n;
}

Test(bgp_conformance, ryu_captures_decode)
{
	DIR *d = opendir(CAPTURES);
	struct ap_bgp_update *u;
	struct dirent *e;
	unsigned files = 0, msgs = 0, updates = 0, opaque = 0;

	if (d == NULL)
		cr_skip_test("%s is absent: shared peer data not installed", CAPTURES);
	u = new_update();
	while ((e = readdir(d)) != NULL) {
		char path[512];
		uint8_t buf[65536];
		uint32_t off = 0;
		int n;

		if (strstr(e->d_name, ".pcap") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", CAPTURES, e->d_name);
		n = pcap_payload(path, buf, sizeof(buf));
		cr_assert_gt(n, 0, "%s: no TCP payload", e->d_name);
		files++;
		while (off < (uint32_t)n) {
			struct ap_bgp_sess_opts o = {.as4 = true, .ibgp = true};
			struct ap_bgp_hdr h;
			struct ap_bgp_err err;
			int rc = ap_bgp_hdr_decode(buf + off, (uint32_t)n - off, AP_BGP_EXT_MAX_LEN,
						   &h, &err);

			cr_assert_eq(rc, 0, "%s: header at %u: %d", e->d_name, off, rc);
			msgs++;
			if (h.type == AP_BGP_OPEN) {
				struct ap_bgp_open op;

				cr_assert_eq(ap_bgp_open_decode(buf + off, h.len, &op, &err), 0,
					     "%s: OPEN %u/%u", e->d_name, err.code, err.subcode);
			} else if (h.type == AP_BGP_UPDATE) {
				enum ap_bgp_action a =
					ap_bgp_update_decode(buf + off, h.len, &o, u);

				cr_assert_lt(a, AP_BGP_ACT_TREAT_AS_WITHDRAW, "%s: %s attr %u",
					     e->d_name, ap_bgp_action_name(a), u->bad_attr);
				updates++;
				if (u->mp_reach.present && u->mp_reach.af == AP_BGP_AF_NONE)
					opaque++;
			}
			off += h.len;
		}
	}
	closedir(d);
	cr_assert_eq(files, 25);
	cr_assert_geq(msgs, 25);
	cr_assert_geq(updates, 22);
	/* EVPN, FlowSpec and VPN families are carried, not interpreted. */
	cr_assert_geq(opaque, 15);
	free(u);
}

Test(bgp_conformance, ryu_update_contents)
{
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_update *u;
	struct ap_bgp_prefix p;
	struct ap_wire w;
	uint8_t buf[4096];
	char s[64];
	int n = pcap_payload(CAPTURES "/bgp4-update.pcap", buf, sizeof(buf));

	if (n < 0)
		cr_skip_test("%s is absent: shared peer data not installed", CAPTURES);
	u = new_update();
	cr_assert_eq(ap_bgp_update_decode(buf, (uint32_t)n, &o, u), AP_BGP_ACT_OK);
	cr_assert_eq(u->attrs.origin, AP_BGP_ORIGIN_IGP);
	cr_assert_str_eq(ap_bgp_aspath_str(u->attrs.as_path, u->attrs.as_path_len, s, sizeof(s)),
			 "65534 65533");
	cr_assert_eq(u->attrs.next_hop, 0xac11504a);
	ap_wire_init(&w, u->nlri.p, u->nlri.len);
	cr_assert(ap_bgp_nlri_next(&w, AP_BGP_IPV4, &p));
	cr_assert_str_eq(ap_bgp_prefix_str(&p, s, sizeof(s)), "192.168.0.0/24");
	free(u);
}

/* The read-ahead peek: the first announced IPv4 prefix, else the first
 * withdrawn one; nothing from other messages or cut-short UPDATEs. */
Test(bgp_update, peek_prefix)
{
	struct ap_bgp_sess_opts o = {.as4 = true};
	struct ap_bgp_prefix pfx[3], got;
	struct ap_bgp_attrs a;
	uint8_t buf[4096];
	struct ap_wire_w w;
	uint32_t len;

	full_attrs(&a);
	prefixes(pfx, 3, AP_BGP_IPV4);
	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_update_encode(&w, &o, &a, AP_BGP_IPV4, pfx, 3, false), 3);
	len = ap_wire_w_used(&w);
	cr_assert(ap_bgp_update_peek_prefix(buf, len, &got));
	cr_assert_eq(got.len, pfx[0].len);
	cr_assert_arr_eq(got.addr, pfx[0].addr, 16);
	/* Lengths pointing past the message: nothing. */
	cr_assert_not(ap_bgp_update_peek_prefix(buf, AP_BGP_HDR_LEN + 3, &got));
	buf[21] = 0xff;
	cr_assert_not(ap_bgp_update_peek_prefix(buf, len, &got));

	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_update_encode(&w, &o, NULL, AP_BGP_IPV4, pfx + 1, 2, true), 2);
	cr_assert(ap_bgp_update_peek_prefix(buf, ap_wire_w_used(&w), &got));
	cr_assert_arr_eq(got.addr, pfx[1].addr, 16);
	cr_assert_eq(got.len, pfx[1].len);

	/* IPv6 travels in MP_REACH_NLRI: not peeked. */
	prefixes(pfx, 1, AP_BGP_IPV6);
	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_eq(ap_bgp_update_encode(&w, &o, &a, AP_BGP_IPV6, pfx, 1, false), 1);
	cr_assert_not(ap_bgp_update_peek_prefix(buf, ap_wire_w_used(&w), &got));

	ap_wire_w_init(&w, buf, sizeof(buf));
	cr_assert_geq(ap_bgp_keepalive_encode(&w), 0);
	cr_assert_not(ap_bgp_update_peek_prefix(buf, ap_wire_w_used(&w), &got));
}
