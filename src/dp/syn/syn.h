/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * SYN-flood protection: a SYN proxy with SYN cookies, as netfilter's
 * SYNPROXY does it, that arms itself per protected destination when the
 * SYN rate or its half-open connections pass a threshold and disarms after
 * a calm spell; and per-source connection-rate limits that block offenders
 * for a while.
 *
 * Armed, a SYN to a protected destination is answered in place with a
 * SYN/ACK whose sequence number is a cookie (a keyed SipHash of the
 * connection, the client's ISN and a 64-second counter, with the MSS index)
 * and, when the client sent timestamps, whose TSval carries its window
 * scale and SACK permission; nothing is kept. A client ACK that returns a
 * valid cookie creates the conntrack flow and becomes the SYN to the server
 * (with the options the cookie kept); the server's SYN/ACK is answered with
 * the handshake's last ACK and the client gets a window update. From then
 * on the flow's server sequence numbers (and timestamps) are shifted by a
 * fixed offset both ways, SACK blocks included. The window scale we
 * announce to clients must be the servers' own (config), as with netfilter.
 *
 * Each worker keeps its own destination and source tables (no sharing); the
 * conntrack table of the worker holds a pointer to them.
 */
#ifndef AP_SYN_H
#define AP_SYN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/config.h"

/* TCP options the proxy reads and writes. */
#define AP_SYN_OPT_MSS	  0x01
#define AP_SYN_OPT_WSCALE 0x02
#define AP_SYN_OPT_SACK	  0x04
#define AP_SYN_OPT_TS	  0x08

struct ap_syn_opts {
	uint8_t has; /**< AP_SYN_OPT_* */
	uint8_t wscale;
	uint16_t mss;
	uint32_t tsval, tsecr;
};

/** Options of the TCP header at @p tcp (@p hlen bytes, doff * 4). */
void ap_syn_parse_opts(const uint8_t *tcp, uint32_t hlen, struct ap_syn_opts *o);

/** A TCP segment without payload, for ap_syn_emit(). */
struct ap_syn_seg {
	uint8_t family; /**< 4 or 6 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /**< Network order. */
	uint32_t seq, ack;     /**< Host order. */
	uint8_t flags;
	uint16_t window; /**< Host order. */
	struct ap_syn_opts o;
};

/** Write the IPv4/IPv6 and TCP headers of @p s at @p out (@p cap bytes),
 * checksums included. @return the packet's length, 0 without room. */
uint32_t ap_syn_emit(uint8_t *out, uint32_t cap, const struct ap_syn_seg *s);

/** The MSS values a cookie can hold (3 bits). */
extern const uint16_t ap_syn_mss_table[8];

/**
 * The cookie (our ISN) for a SYN from @p src:@p sport to @p dst:@p dport
 * with ISN @p cisn, at cookie time @p count (seconds / 64), for the client
 * MSS @p mss.
 */
uint32_t ap_syn_cookie(const uint8_t key[16], uint8_t family, const uint8_t *src,
		       const uint8_t *dst, uint16_t sport, uint16_t dport, uint32_t cisn,
		       uint32_t count, uint16_t mss);
/**
 * Check the cookie an ACK returns (@p cookie = its ack - 1, @p cisn = its
 * seq - 1) at cookie time @p now_count: made in the last two counts for
 * this connection. @p mss: the MSS it holds.
 */
bool ap_syn_cookie_check(const uint8_t key[16], uint8_t family, const uint8_t *src,
			 const uint8_t *dst, uint16_t sport, uint16_t dport, uint32_t cisn,
			 uint32_t cookie, uint32_t now_count, uint16_t *mss);

/** Our TSval for a SYN/ACK to a client with options @p client at @p now_ms:
 * its window scale (0xf: none) and SACK permission in the low 6 bits. */
uint32_t ap_syn_ts_cookie(uint32_t now_ms, const struct ap_syn_opts *client);
/** The window scale and SACK permission an ACK's TSecr brings back. */
void ap_syn_ts_decode(uint32_t tsecr, struct ap_syn_opts *o);

/**
 * Shift a spliced connection's server sequence space in the TCP header at
 * @p tcp (@p hlen bytes): from the server (@p from_server), its seq and
 * TSval go down by @p delta and @p tsoff; from the client, its ack, SACK
 * blocks and TSecr go up. The checksum is updated in place.
 */
void ap_syn_seqadj(uint8_t *tcp, uint32_t hlen, bool from_server, uint32_t delta, uint32_t tsoff);

/* The guard: per-worker state. */

struct ap_syn_dst {
	uint8_t family;
	uint8_t armed;
	uint8_t addr[16];
	uint32_t sec;	     /**< The second syns_now counts. */
	uint32_t syns_now;   /**< SYNs this second. */
	uint32_t syns_last;  /**< SYNs the second before. */
	uint32_t half_open;  /**< Flows in SYN_SENT/SYN_RECV not proxied. */
	uint32_t armed_at;   /**< Second it armed. */
	uint32_t calm_since; /**< Second the calm began, 0: not calm. */
};

struct ap_syn_src {
	uint8_t family;
	uint8_t addr[16];
	uint32_t blocked_until; /**< Second; 0: not blocked. */
	uint64_t tokens_tsc;	/**< When the bucket was last filled. */
	uint32_t tokens_milli;	/**< Tokens x 1000. */
};

#define AP_SYN_DSTS 4096
#define AP_SYN_SRCS 16384

struct ap_syn_stats {
	uint64_t syn_seen, cookies_sent, cookie_valid, cookie_invalid, spliced, retrans, armed,
		disarmed, src_blocked, blocked_drops;
};

struct ap_syn_state {
	struct ap_syn_dst dst[AP_SYN_DSTS];
	struct ap_syn_src src[AP_SYN_SRCS];
	uint32_t last_scan; /**< Second of the last disarm scan. */
	struct ap_syn_stats st;
};

/** Settings the workers read. */
struct ap_syn_conf {
	bool enabled;
	bool always;
	uint16_t mss;
	uint8_t wscale;
	uint32_t syn_rate, half_open, disarm_after;
	uint32_t source_rate, source_burst, block_time;
	struct {
		uint8_t family, len;
		uint8_t addr[16];
		uint16_t lo, hi; /**< Ports, host order. */
	} prot[AP_CFG_SYN_MAX_PROTECT];
	unsigned n_prot;
	uint8_t key[16];
	uint64_t tsc_hz;
};

extern struct ap_syn_conf ap_syn_conf;

/** Is TCP to @p dst (family @p family) port @p dport (host order) guarded? */
bool ap_syn_protected(uint8_t family, const uint8_t *dst, uint16_t dport);

/** What the guard says of a segment that has no flow. */
enum ap_syn_verdict {
	AP_SYN_PASS,	   /**< Not the proxy's: conntrack as usual. */
	AP_SYN_COOKIE,	   /**< A SYN: answer with a cookie, keep nothing. */
	AP_SYN_SPLICE,	   /**< An ACK with a valid cookie: open to the server. */
	AP_SYN_BLOCKED,	   /**< From a blocked source: drop. */
	AP_SYN_BAD_COOKIE, /**< An ACK to an armed destination without a valid cookie: drop. */
};

/**
 * A TCP segment with no flow to a guarded destination: account it, and say
 * what to do. @p tcp / @p hlen its TCP header, @p src / @p dst its addresses
 * and ports (network order) as sent; @p now_tsc the TSC. For AP_SYN_SPLICE,
 * @p mss is the MSS the cookie holds.
 */
enum ap_syn_verdict ap_syn_guard(struct ap_syn_state *s, uint8_t family, const uint8_t *src,
				 const uint8_t *dst, uint16_t sport, uint16_t dport,
				 const uint8_t *tcp, uint32_t hlen, uint64_t now_tsc,
				 uint16_t *mss);

/** A flow to @p dst began half-open (true) or stopped being so (false). */
void ap_syn_half_open(struct ap_syn_state *s, uint8_t family, const uint8_t *dst, bool begins,
		      uint64_t now_tsc);

/** Is the proxy armed for @p dst? */
bool ap_syn_armed(const struct ap_syn_state *s, uint8_t family, const uint8_t *dst);

/** Once a second: disarm destinations that have been calm long enough. */
void ap_syn_housekeeping(struct ap_syn_state *s, uint64_t now_tsc);

/* On packets (syn_pkt.c), for the ct node. */
struct rte_mbuf;
struct ap_ct_flow;

/** Turn the SYN @p m into our cookie SYN/ACK to its sender. false: malformed. */
bool ap_syn_answer(struct rte_mbuf *m, uint64_t now_tsc);
/** Turn the client's cookie ACK @p m into the SYN to the server for the new
 * flow @p f (the cookie held @p mss). */
bool ap_syn_open(struct rte_mbuf *m, struct ap_ct_flow *f, uint16_t mss);
/** Turn the server's SYN/ACK @p m into the handshake's last ACK back to it,
 * splice @p f, and make the client's window update (@p update, NULL
 * without a buffer). */
bool ap_syn_server_up(struct rte_mbuf *m, struct ap_ct_flow *f, struct rte_mbuf **update);
/** Shift a proxied flow's packet @p m going @p dir (enum ap_ct_dir). */
void ap_syn_adjust(struct rte_mbuf *m, struct ap_ct_flow *f, uint8_t dir);

/* Control plane. */
int ap_syn_start(const struct ap_config *cfg, char *err, size_t err_len);
void ap_syn_stop(void);
/** `{"enabled", "always", "armed": [...], "blocked": [...], counters}` over the workers. */
json_t *ap_syn_json(void);

#endif
