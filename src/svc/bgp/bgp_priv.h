/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared between the service (bgp_svc.c) and its REST handlers (bgp_api.c).
 */
#ifndef AP_BGP_PRIV_H
#define AP_BGP_PRIV_H

#include <uv.h>

#include "lib/config.h"
#include "svc/bgp/bgp.h"
#include "svc/svc.h"

struct bgp_svc;
struct ap_api;
struct export_memo;

/* A configured policy, compiled: rules pointing at compiled prefix lists and
 * regular expressions owned by the service. */
struct bgp_policy {
	struct ap_bgp_rule rules[AP_CFG_BGP_MAX_RULES];
	unsigned n;
};

/* One configured neighbour and its (at most one) connection. */
struct bgp_peer {
	struct bgp_svc *svc;
	uint16_t idx; /* RIB peer index. */
	struct ap_cfg_bgp_neighbor cfg;
	struct ap_bgp_fsm fsm;
	uv_timer_t timer;
	uv_tcp_t *conn;	 /* Current connection, or NULL. */
	bool connecting; /* conn is an outgoing connect in progress. */
	uint8_t *rbuf;	 /* Bytes received, not yet a whole message. */
	uint32_t rlen, rcap;
	uint8_t *obuf; /* Bytes to send, flushed once per loop turn. */
	uint32_t olen, ocap;
	bool ibgp;
	bool import_all, export_all;			  /* "all" (or iBGP without policy). */
	const struct bgp_policy *import_pol, *export_pol; /* Named policies, else NULL. */
	/* Negotiated at OPEN. */
	struct ap_bgp_open peer_open;
	struct ap_bgp_sess_opts sess;
	bool af[AP_BGP_N_AF];
	uint32_t max_len;
	uint8_t local_addr[16]; /* Our end of the connection, for next hop self. */
	bool local_v6;
	bool need_full;	      /* Send the whole table (after Established or a refresh). */
	bool resync;	      /* That pass follows an export policy change: withdraw too. */
	uint64_t gr_deadline; /* Graceful restart: stale paths go at this time (0: none). */
	bool notif_rx;	      /* The session is ending on a NOTIFICATION from the peer. */
	bool need_full_af[AP_BGP_N_AF];
	/* Counters and the last NOTIFICATION received. */
	uint64_t msgs_in, msgs_out, updates_in, updates_out, prefixes_out;
	uint8_t rx_code, rx_subcode;
	char rx_shutdown[AP_BGP_SHUTDOWN_MAX + 1];
	char last_error[128];
};

/* A BGP next hop and the gateway the data plane resolves it to. */
struct bgp_nh {
	bool used;
	bool ok;      /* Resolved: routes through it are in the FIB via 'gw'. */
	bool changed; /* The last resolution moved it. */
	uint8_t af;
	uint8_t nh[16];
	uint8_t gw[16];
};

struct bgp_svc {
	uv_loop_t *loop;
	struct ap_cfg_bgp cfg;
	struct ap_bgp_rib *rib;
	uv_tcp_t *listener;
	struct bgp_peer *peers;
	uint16_t n_peers;
	uint16_t local_idx; /* RIB peer of locally originated networks. */
	struct ap_bgp_update *upd;
	uint8_t *wbuf;
	const struct ap_bgp_fib_ops *fib;
	struct ap_bgp_fib_ops fib_ops; /**< What 'fib' points to when a FIB exists. */
	/* Destinations whose best path changed since the last export pass. */
	const struct ap_bgp_dest **dirty; /* Held (ap_bgp_rib_hold()) until exported. */
	uint32_t n_dirty, cap_dirty;
	/* Compiled policies and what they point at. */
	struct bgp_policy pols[AP_CFG_BGP_MAX_POLICIES];
	struct ap_bgp_pfx_entry pl_entries[AP_CFG_BGP_MAX_PLISTS][AP_CFG_BGP_MAX_PLIST_LEN];
	struct ap_bgp_pfx_list plists[AP_CFG_BGP_MAX_PLISTS];
	uv_timer_t export_timer;
	bool export_armed;
	struct export_memo *memo; /* See export_view(). */
	uint32_t memo_gen;	  /* From 1: a zeroed entry is stale. */
	/* Recursive next hops, when a FIB resolves them (NULL dpfib: none). */
	const struct ap_svc_fib *dpfib;
	struct bgp_nh *nhs; /* Open addressing, nh_cap slots. */
	uint32_t n_nhs, nh_cap;
	uint64_t nh_gen; /* The data plane's route generation they were resolved at. */
	uv_timer_t resolve_timer;
	unsigned open_handles; /* Timers not yet closed. */
	uint64_t started_ms;
};

/* Export view of the best path of 'd' towards 'p': fills 'out' (attributes
 * as they would be sent, pointing into 'buf') and returns true when the
 * route is advertised to that peer. */
bool bgp_export_attrs(struct bgp_svc *s, const struct bgp_peer *p, const struct ap_bgp_dest *d,
		      struct ap_bgp_attrs *out, uint8_t *buf, uint32_t cap,
		      struct ap_bgp_pol_buf *pb);

/* Register the REST routes. */
int bgp_api_register(struct bgp_svc *s, struct ap_api *api);

#endif
