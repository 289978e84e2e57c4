/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * BGP-4 speaker: message codec, finite state machine and RIBs.
 *
 * Everything declared here is pure: decoders read untrusted bytes through the
 * bounded wire cursor (lib/wire.h) and never read past the buffer; encoders
 * write through the wire writer; the FSM takes events and the current time and
 * returns actions; the RIB is plain data. The service (bgp_svc.c) wires these
 * to kernel sockets on the libuv loop.
 *
 * Decoded messages borrow from the input buffer: pointers in the decoded
 * structs stay valid only as long as the buffer the message was decoded from.
 *
 * Error handling follows RFC 4271 §6 as revised by RFC 7606: a decoder either
 * accepts the message, or grades what it found as attribute discard,
 * treat-as-withdraw or session reset (with the NOTIFICATION code, subcode and
 * data to send).
 */
#ifndef AP_BGP_H
#define AP_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/wire.h"

/* ------------------------------------------------------------- constants */

#define AP_BGP_HDR_LEN	   19	 /**< Marker, length, type (RFC 4271 §4.1). */
#define AP_BGP_MAX_LEN	   4096	 /**< Largest message without RFC 8654. */
#define AP_BGP_EXT_MAX_LEN 65535 /**< Largest message with extended messages (RFC 8654). */
#define AP_BGP_AS_TRANS	   23456 /**< Stand-in for a 4-byte ASN in 2-byte fields (RFC 6793). */
#define AP_BGP_PORT	   179

/** Message types (RFC 4271 §4.1, RFC 2918). */
enum ap_bgp_type {
	AP_BGP_OPEN = 1,
	AP_BGP_UPDATE = 2,
	AP_BGP_NOTIFICATION = 3,
	AP_BGP_KEEPALIVE = 4,
	AP_BGP_ROUTE_REFRESH = 5,
};

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5). */
enum ap_bgp_err_code {
	AP_BGP_ERR_HEADER = 1,
	AP_BGP_ERR_OPEN = 2,
	AP_BGP_ERR_UPDATE = 3,
	AP_BGP_ERR_HOLD = 4,
	AP_BGP_ERR_FSM = 5,
	AP_BGP_ERR_CEASE = 6,
	AP_BGP_ERR_RR = 7,
};

/** Message header error subcodes. */
enum {
	AP_BGP_HDR_NOT_SYNC = 1,
	AP_BGP_HDR_BAD_LEN = 2,
	AP_BGP_HDR_BAD_TYPE = 3,
};

/** OPEN message error subcodes. */
enum {
	AP_BGP_OPEN_UNSPEC = 0,
	AP_BGP_OPEN_BAD_VERSION = 1,
	AP_BGP_OPEN_BAD_PEER_AS = 2,
	AP_BGP_OPEN_BAD_ID = 3,
	AP_BGP_OPEN_BAD_PARAM = 4,
	AP_BGP_OPEN_BAD_HOLD = 6,
	AP_BGP_OPEN_BAD_CAP = 7,
};

/** UPDATE message error subcodes. */
enum {
	AP_BGP_UPD_MALFORMED_ATTRS = 1,
	AP_BGP_UPD_UNKNOWN_WELLKNOWN = 2,
	AP_BGP_UPD_MISSING_WELLKNOWN = 3,
	AP_BGP_UPD_ATTR_FLAGS = 4,
	AP_BGP_UPD_ATTR_LEN = 5,
	AP_BGP_UPD_BAD_ORIGIN = 6,
	AP_BGP_UPD_BAD_NEXT_HOP = 8,
	AP_BGP_UPD_OPT_ATTR = 9,
	AP_BGP_UPD_BAD_NETWORK = 10,
	AP_BGP_UPD_BAD_AS_PATH = 11,
};

/** FSM error subcodes (RFC 6608). */
enum {
	AP_BGP_FSM_UNSPEC = 0,
	AP_BGP_FSM_IN_OPENSENT = 1,
	AP_BGP_FSM_IN_OPENCONFIRM = 2,
	AP_BGP_FSM_IN_ESTABLISHED = 3,
};

/** Cease subcodes (RFC 4486, RFC 8538). */
enum {
	AP_BGP_CEASE_MAX_PREFIX = 1,
	AP_BGP_CEASE_SHUTDOWN = 2,
	AP_BGP_CEASE_DECONFIGURED = 3,
	AP_BGP_CEASE_RESET = 4,
	AP_BGP_CEASE_REJECTED = 5,
	AP_BGP_CEASE_CONFIG_CHANGE = 6,
	AP_BGP_CEASE_COLLISION = 7,
	AP_BGP_CEASE_RESOURCES = 8,
	AP_BGP_CEASE_HARD_RESET = 9,
};

/** ROUTE-REFRESH error subcode (RFC 7313 §5). */
#define AP_BGP_RR_BAD_LEN 1

/** Path attribute type codes. */
enum ap_bgp_attr_type {
	AP_BGP_ATTR_ORIGIN = 1,
	AP_BGP_ATTR_AS_PATH = 2,
	AP_BGP_ATTR_NEXT_HOP = 3,
	AP_BGP_ATTR_MED = 4,
	AP_BGP_ATTR_LOCAL_PREF = 5,
	AP_BGP_ATTR_ATOMIC_AGGR = 6,
	AP_BGP_ATTR_AGGREGATOR = 7,
	AP_BGP_ATTR_COMMUNITIES = 8,
	AP_BGP_ATTR_ORIGINATOR_ID = 9,
	AP_BGP_ATTR_CLUSTER_LIST = 10,
	AP_BGP_ATTR_MP_REACH = 14,
	AP_BGP_ATTR_MP_UNREACH = 15,
	AP_BGP_ATTR_EXT_COMMUNITIES = 16,
	AP_BGP_ATTR_AS4_PATH = 17,
	AP_BGP_ATTR_AS4_AGGREGATOR = 18,
	AP_BGP_ATTR_LARGE_COMMUNITIES = 32,
};

/** Path attribute flag bits (RFC 4271 §4.3). */
#define AP_BGP_AF_OPTIONAL   0x80
#define AP_BGP_AF_TRANSITIVE 0x40
#define AP_BGP_AF_PARTIAL    0x20
#define AP_BGP_AF_EXTLEN     0x10

/** AS_PATH segment types (RFC 4271, RFC 5065). */
enum {
	AP_BGP_AS_SET = 1,
	AP_BGP_AS_SEQUENCE = 2,
	AP_BGP_AS_CONFED_SEQUENCE = 3,
	AP_BGP_AS_CONFED_SET = 4,
};

/** ORIGIN values. */
enum { AP_BGP_ORIGIN_IGP = 0, AP_BGP_ORIGIN_EGP = 1, AP_BGP_ORIGIN_INCOMPLETE = 2 };

/** Capability codes (IANA registry). */
enum {
	AP_BGP_CAP_MP = 1,
	AP_BGP_CAP_RR = 2,
	AP_BGP_CAP_EXT_MSG = 6,
	AP_BGP_CAP_GR = 64,
	AP_BGP_CAP_AS4 = 65,
	AP_BGP_CAP_ADD_PATH = 69,
	AP_BGP_CAP_ENHANCED_RR = 70,
};

#define AP_BGP_AFI_IPV4	    1
#define AP_BGP_AFI_IPV6	    2
#define AP_BGP_SAFI_UNICAST 1

/** The address families this speaker handles (indices, not AFI values). */
enum ap_bgp_af {
	AP_BGP_IPV4 = 0,
	AP_BGP_IPV6 = 1,
	AP_BGP_N_AF = 2,
	AP_BGP_AF_NONE = 0xff, /**< An AFI/SAFI pair outside the ones above. */
};

/** An IPv4 or IPv6 prefix; bits past @c len are zero. */
struct ap_bgp_prefix {
	uint8_t af;	  /**< enum ap_bgp_af. */
	uint8_t len;	  /**< Prefix length in bits. */
	uint8_t addr[16]; /**< Address, network order; IPv4 uses the first 4 bytes. */
};

/* ---------------------------------------------------------------- errors */

/** Longest NOTIFICATION data kept (longer data is cut; RFC 4271 allows any). */
#define AP_BGP_ERR_DATA_MAX 512

/** A NOTIFICATION to send (decoders fill it on a session-reset error). */
struct ap_bgp_err {
	uint8_t code;
	uint8_t subcode;
	uint16_t data_len;
	uint8_t data[AP_BGP_ERR_DATA_MAX];
};

/** How an UPDATE is to be handled (RFC 7606 §2), from mildest to strongest. */
enum ap_bgp_action {
	AP_BGP_ACT_OK = 0,
	AP_BGP_ACT_DISCARD = 1,		  /**< Some attributes were dropped; use the rest. */
	AP_BGP_ACT_TREAT_AS_WITHDRAW = 2, /**< Every reachable prefix becomes withdrawn. */
	AP_BGP_ACT_SESSION_RESET = 3,	  /**< Send the NOTIFICATION in @c err and close. */
};

/** Short name of an action ("ok", "attribute-discard", ...). */
const char *ap_bgp_action_name(enum ap_bgp_action a);

/** Human-readable name of a NOTIFICATION code/subcode, for logs and the API. */
const char *ap_bgp_err_name(uint8_t code, uint8_t subcode);

/* ---------------------------------------------------------------- header */

/** Fixed header of a message. */
struct ap_bgp_hdr {
	uint16_t len; /**< Whole message, header included. */
	uint8_t type;
};

/**
 * Check the header at the start of @p buf.
 * @param max_len largest message accepted (4096, or 65535 once extended
 *                messages are negotiated; OPEN and KEEPALIVE are always held
 *                to 4096, RFC 8654 §4).
 * @return 0 when a whole message of hdr->len bytes is in @p buf; -EAGAIN when
 *         more bytes are needed; -EBADMSG with @p err filled when the header
 *         is invalid (RFC 4271 §6.1).
 */
int ap_bgp_hdr_decode(const uint8_t *buf, uint32_t len, uint32_t max_len, struct ap_bgp_hdr *hdr,
		      struct ap_bgp_err *err);

/** Write the marker and type, reserving the length; ap_bgp_msg_end() fills it. */
void ap_bgp_msg_begin(struct ap_wire_w *w, uint8_t type);
/** Fill the length of the message begun at offset 0. @return 0 or -ENOSPC. */
int ap_bgp_msg_end(struct ap_wire_w *w);

/* ------------------------------------------------------------------ OPEN */

/** Graceful restart capability contents (RFC 4724 §3). */
struct ap_bgp_gr {
	bool restarting;       /**< R bit: the sender has restarted. */
	uint16_t time;	       /**< Restart time in seconds (12 bits). */
	bool af[AP_BGP_N_AF];  /**< Families listed. */
	bool fwd[AP_BGP_N_AF]; /**< Forwarding state preserved, per family. */
};

/** OPEN message contents, capabilities decoded. */
struct ap_bgp_open {
	uint8_t version;
	uint16_t my_as;		 /**< The 2-byte field as sent (AS_TRANS for large ASNs). */
	uint32_t asn;		 /**< The speaker's ASN: from the 4-byte capability when present. */
	uint16_t hold_time;	 /**< Seconds; 0 or >= 3. */
	uint32_t router_id;	 /**< BGP Identifier, host order. */
	bool mp[AP_BGP_N_AF];	 /**< Multiprotocol families announced (RFC 4760). */
	bool mp_any;		 /**< At least one multiprotocol capability was present. */
	uint16_t n_mp_other;	 /**< Multiprotocol capabilities for other families. */
	bool as4;		 /**< 4-byte ASN capability (RFC 6793). */
	bool route_refresh;	 /**< RFC 2918. */
	bool enhanced_rr;	 /**< RFC 7313. */
	bool ext_msg;		 /**< RFC 8654. */
	bool gr_present;	 /**< Graceful restart capability (RFC 4724). */
	struct ap_bgp_gr gr;	 /**< Valid when gr_present. */
	uint16_t n_unknown_caps; /**< Capabilities not understood (ignored, RFC 5492 §3). */
};

/**
 * Decode an OPEN message (whole message, header included, already checked by
 * ap_bgp_hdr_decode()). Checks what the message alone can tell (version, hold
 * time, identifier, parameters, capability syntax); the peer AS is checked by
 * the caller, who knows the configuration.
 * @return 0, or -EBADMSG with @p err filled.
 */
int ap_bgp_open_decode(const uint8_t *msg, uint32_t len, struct ap_bgp_open *o,
		       struct ap_bgp_err *err);

/** Encode @p o (as, hold time, id and the capabilities flagged in it). @return 0 or -ENOSPC. */
int ap_bgp_open_encode(struct ap_wire_w *w, const struct ap_bgp_open *o);

/* ---------------------------------------------------------- NOTIFICATION */

/** Longest shutdown communication (RFC 9003 §2). */
#define AP_BGP_SHUTDOWN_MAX 255

/** NOTIFICATION contents. */
struct ap_bgp_notif {
	uint8_t code;
	uint8_t subcode;
	const uint8_t *data; /**< Borrowed from the message. */
	uint16_t data_len;
	/** RFC 9003 shutdown communication (Cease/2 and Cease/4), NUL terminated, "" if none. */
	char shutdown_msg[AP_BGP_SHUTDOWN_MAX + 1];
};

/** Decode a NOTIFICATION. @return 0, or -EBADMSG when it is too short. */
int ap_bgp_notif_decode(const uint8_t *msg, uint32_t len, struct ap_bgp_notif *n);

/** Encode a NOTIFICATION from @p err. @return 0 or -ENOSPC. */
int ap_bgp_notif_encode(struct ap_wire_w *w, const struct ap_bgp_err *err);

/**
 * Fill @p err with an administrative Cease (@p subcode 2 or 4) carrying the
 * RFC 9003 shutdown communication @p msg (cut to 255 bytes on a UTF-8
 * character boundary; NULL for none).
 */
void ap_bgp_err_shutdown(struct ap_bgp_err *err, uint8_t subcode, const char *msg);

/* ------------------------------------------------- KEEPALIVE, REFRESH */

/** Encode a KEEPALIVE. @return 0 or -ENOSPC. */
int ap_bgp_keepalive_encode(struct ap_wire_w *w);

/** ROUTE-REFRESH subtypes (RFC 7313 §3). */
enum { AP_BGP_RR_NORMAL = 0, AP_BGP_RR_BORR = 1, AP_BGP_RR_EORR = 2 };

/** ROUTE-REFRESH contents. */
struct ap_bgp_refresh {
	uint16_t afi;
	uint8_t subtype;
	uint8_t safi;
	uint8_t af; /**< enum ap_bgp_af, AP_BGP_AF_NONE for other families. */
};

/**
 * Decode a ROUTE-REFRESH.
 * @return 0; -EBADMSG with @p err filled for a bad length; -ENOTSUP for an
 *         unknown subtype, which RFC 7313 §5 says to ignore.
 */
int ap_bgp_refresh_decode(const uint8_t *msg, uint32_t len, struct ap_bgp_refresh *r,
			  struct ap_bgp_err *err);

/** Encode a ROUTE-REFRESH for family @p af and @p subtype. @return 0 or -ENOSPC. */
int ap_bgp_refresh_encode(struct ap_wire_w *w, uint8_t af, uint8_t subtype);

/* ---------------------------------------------------------------- UPDATE */

/** What the decoder needs to know about the session. */
struct ap_bgp_sess_opts {
	bool as4;  /**< Both sides sent the 4-byte ASN capability. */
	bool ibgp; /**< Peer is in our AS (LOCAL_PREF is kept, RFC 7606 §7.5). */
	bool mrt;  /**< MRT RIB entry: MP_REACH_NLRI holds only the next hop (RFC 6396 §4.3.4). */
};

/** Unknown optional transitive attributes kept per UPDATE; more are dropped. */
#define AP_BGP_MAX_UNKNOWN 16

/** A block of NLRI, validated by the decoder, walked with ap_bgp_nlri_next(). */
struct ap_bgp_nlri {
	const uint8_t *p; /**< Borrowed. */
	uint32_t len;
	uint8_t af; /**< enum ap_bgp_af, or AP_BGP_AF_NONE (left opaque). */
	uint16_t afi;
	uint8_t safi;
	bool present; /**< The field or attribute was in the message. */
};

/** Path attributes. Pointers borrow from the message or ap_bgp_update.scratch. */
struct ap_bgp_attrs {
	uint64_t present; /**< Bit (1 << type) for each attribute type < 64 present. */
	uint8_t origin;
	/** AS_PATH with 4-byte ASNs (AS4_PATH merged in on 2-byte sessions, RFC 6793 §4.2.3). */
	const uint8_t *as_path;
	uint32_t as_path_len;
	uint32_t next_hop; /**< NEXT_HOP (IPv4), host order. */
	uint32_t med;
	uint32_t local_pref;
	uint32_t aggregator_as;
	uint32_t aggregator_id;
	uint32_t originator_id;
	const uint8_t *cluster_list; /**< 4-byte cluster ids. */
	uint16_t n_cluster;
	const uint8_t *communities; /**< RFC 1997, 4 bytes each. */
	uint16_t n_communities;
	const uint8_t *ext_communities; /**< RFC 4360, 8 bytes each. */
	uint16_t n_ext_communities;
	const uint8_t *large_communities; /**< RFC 8092, 12 bytes each. */
	uint16_t n_large_communities;
	/** MP_REACH next hop: 4 (IPv4), 16 (IPv6 global) or 32 (global + link-local). */
	uint8_t mp_nh_len;
	uint8_t mp_nh[32];
	/** Unknown optional transitive attributes, whole (flags, type, length, value). */
	struct {
		const uint8_t *p;
		uint16_t len;
	} unknown[AP_BGP_MAX_UNKNOWN];
	uint8_t n_unknown;
};

/** Whether attribute @p type is present in @p a. */
static inline bool
ap_bgp_attr_has(const struct ap_bgp_attrs *a, unsigned type)
{
	return type < 64 && (a->present >> type & 1);
}

/** Decoded UPDATE. Large (it holds a scratch area); allocate it once per session. */
struct ap_bgp_update {
	enum ap_bgp_action action;
	struct ap_bgp_err err;	      /**< The NOTIFICATION when action is session reset. */
	uint8_t bad_attr;	      /**< Type of the attribute behind the action (0: none). */
	uint16_t n_discarded;	      /**< Attributes dropped under attribute discard. */
	struct ap_bgp_nlri withdrawn; /**< IPv4 Withdrawn Routes. */
	struct ap_bgp_nlri nlri;      /**< IPv4 NLRI. */
	struct ap_bgp_nlri mp_reach;  /**< MP_REACH_NLRI's NLRI (RFC 4760). */
	struct ap_bgp_nlri mp_unreach;
	bool eor;	/**< End-of-RIB marker (RFC 4724 §2). */
	uint8_t eor_af; /**< Its family (enum ap_bgp_af). */
	struct ap_bgp_attrs attrs;
	/** AS_PATH re-encoded with 4-byte ASNs when the session uses 2-byte ones. */
	uint8_t scratch[2 * AP_BGP_EXT_MAX_LEN];
};

/**
 * Decode an UPDATE (whole message, header included).
 * Sets @p u->action; on AP_BGP_ACT_SESSION_RESET u->err holds the
 * NOTIFICATION. Under treat-as-withdraw every prefix of u->nlri and
 * u->mp_reach must be handled as withdrawn.
 * @return the action (also in u->action).
 */
enum ap_bgp_action ap_bgp_update_decode(const uint8_t *msg, uint32_t len,
					const struct ap_bgp_sess_opts *opts,
					struct ap_bgp_update *u);

/**
 * Decode a bare path attribute block (as stored in MRT RIB entries), with the
 * same grading as in an UPDATE. Fills u->attrs and u->action.
 * @return the action.
 */
enum ap_bgp_action ap_bgp_attrs_decode(const uint8_t *p, uint32_t len,
				       const struct ap_bgp_sess_opts *opts,
				       struct ap_bgp_update *u);

/**
 * Next prefix of a block the decoder accepted.
 * @param w cursor over the block (ap_wire_init(w, nlri->p, nlri->len)).
 * @return true with @p p filled, false at the end.
 */
bool ap_bgp_nlri_next(struct ap_wire *w, uint8_t af, struct ap_bgp_prefix *p);
/**
 * The first IPv4 prefix the UPDATE @p msg (@p len bytes, header included)
 * announces in its NLRI field, or else withdraws, found without decoding or
 * validating the rest: a hint for read-ahead (ap_bgp_rib_prefetch()), never a
 * substitute for ap_bgp_update_decode(). @return false when there is none.
 */
bool ap_bgp_update_peek_prefix(const uint8_t *msg, uint32_t len, struct ap_bgp_prefix *pfx);

/**
 * Encode one UPDATE carrying prefixes of one family, as many as fit.
 * IPv4 goes in the classic fields, IPv6 in MP_REACH/MP_UNREACH (placed first,
 * RFC 7606 §5.1). With @p withdraw, @p attrs is unused; @p n == 0 with
 * @p withdraw encodes the End-of-RIB marker of @p af.
 * @param w      writer over an empty buffer of the negotiated maximum size.
 * @param opts   session options (as4 decides AS_PATH/AS4_PATH encoding).
 * @param attrs  attributes (as_path in 4-byte form; mp_nh for IPv6).
 * @return how many prefixes were encoded (>= 1 when @p n >= 1), or -ENOSPC
 *         when not even the attributes and one prefix fit.
 */
int ap_bgp_update_encode(struct ap_wire_w *w, const struct ap_bgp_sess_opts *opts,
			 const struct ap_bgp_attrs *attrs, uint8_t af,
			 const struct ap_bgp_prefix *pfx, uint32_t n, bool withdraw);

/**
 * Encode a bare path attribute block as MRT RIB entries hold it (RFC 6396
 * §4.3.4): 4-byte ASNs, and for IPv6 an MP_REACH_NLRI holding only the next
 * hop. @return the bytes written, or -ENOSPC.
 */
int ap_bgp_attrs_encode_mrt(struct ap_wire_w *w, const struct ap_bgp_attrs *a, uint8_t af);

/* --------------------------------------------------------------- helpers */

/** AS_PATH length for route selection: a set counts 1, confederation segments 0. */
uint32_t ap_bgp_aspath_count(const uint8_t *p, uint32_t len);
/** First AS of the path's first AS_SEQUENCE (the neighbour AS), or 0. */
uint32_t ap_bgp_aspath_first(const uint8_t *p, uint32_t len);
/** Whether @p asn appears anywhere in the path (loop detection, RFC 4271 §9.1.2). */
bool ap_bgp_aspath_contains(const uint8_t *p, uint32_t len, uint32_t asn);
/**
 * Write @p asn @p times in front of the path @p p into @p out (capacity @p cap).
 * @return the new length, or -ENOSPC.
 */
int ap_bgp_aspath_prepend(const uint8_t *p, uint32_t len, uint32_t asn, unsigned times,
			  uint8_t *out, uint32_t cap);
/** "65001 65002 {65003,65004}" into @p buf. @return @p buf. */
char *ap_bgp_aspath_str(const uint8_t *p, uint32_t len, char *buf, size_t size);
/** "192.0.2.0/24" or "2001:db8::/32" into @p buf. @return @p buf. */
char *ap_bgp_prefix_str(const struct ap_bgp_prefix *p, char *buf, size_t size);
/** Parse "192.0.2.0/24" or "2001:db8::/32" (host bits cleared). @return 0 or -EINVAL. */
int ap_bgp_prefix_parse(const char *s, struct ap_bgp_prefix *p);
/** Map an AFI/SAFI pair to enum ap_bgp_af. */
uint8_t ap_bgp_af_from(uint16_t afi, uint8_t safi);
/** AFI of a family. */
uint16_t ap_bgp_af_afi(uint8_t af);

/* ------------------------------------------------------------------- FSM */

/** Session states (RFC 4271 §8.2.2). */
enum ap_bgp_state {
	AP_BGP_IDLE,
	AP_BGP_CONNECT,
	AP_BGP_ACTIVE,
	AP_BGP_OPENSENT,
	AP_BGP_OPENCONFIRM,
	AP_BGP_ESTABLISHED,
};

/** Name of a state ("Idle", "Connect", ...). */
const char *ap_bgp_state_name(enum ap_bgp_state s);

/** Events fed to the FSM by the service (timers are found by ap_bgp_fsm_poll()). */
enum ap_bgp_event {
	AP_BGP_EV_START,	/**< ManualStart / AutomaticStart. */
	AP_BGP_EV_STOP,		/**< ManualStop; arg.err may carry a Cease to send. */
	AP_BGP_EV_TCP_UP,	/**< Our connect succeeded, or a connection was accepted. */
	AP_BGP_EV_TCP_FAIL,	/**< Connect failed or the connection closed. */
	AP_BGP_EV_OPEN,		/**< A valid OPEN; arg.hold_time is the peer's. */
	AP_BGP_EV_MSG_ERR,	/**< Header, OPEN or UPDATE error; arg.err is the NOTIFICATION. */
	AP_BGP_EV_KEEPALIVE,	/**< KEEPALIVE received. */
	AP_BGP_EV_UPDATE,	/**< UPDATE (or ROUTE-REFRESH) received and accepted. */
	AP_BGP_EV_NOTIFICATION, /**< NOTIFICATION received. */
};

/** Actions the FSM asks of the service (bits of ap_bgp_fsm_out.acts). */
enum {
	AP_BGP_DO_CONNECT = 1u << 0,	 /**< Start a TCP connection to the peer. */
	AP_BGP_DO_CLOSE = 1u << 1,	 /**< Close the connection (after sending what is asked). */
	AP_BGP_DO_OPEN = 1u << 2,	 /**< Send our OPEN. */
	AP_BGP_DO_KEEPALIVE = 1u << 3,	 /**< Send a KEEPALIVE. */
	AP_BGP_DO_NOTIFY = 1u << 4,	 /**< Send ap_bgp_fsm_out.err as a NOTIFICATION. */
	AP_BGP_DO_ESTABLISHED = 1u << 5, /**< Session up: send the Adj-RIB-Out. */
	AP_BGP_DO_DOWN = 1u << 6,	 /**< Session lost: flush the peer's routes. */
};

/** Timer settings, milliseconds (0 selects the RFC 4271 §10 default). */
struct ap_bgp_fsm_cfg {
	bool passive;		/**< Never connect; wait for the peer. */
	uint16_t hold_time;	/**< Seconds we offer (default 90; 0 disables). */
	uint32_t connect_retry; /**< ms (default 120000). */
	uint32_t idle_hold; /**< ms before an automatic restart after an error (default 5000). */
};

/** One peer's session state. Plain data; initialise with ap_bgp_fsm_init(). */
struct ap_bgp_fsm {
	struct ap_bgp_fsm_cfg cfg;
	enum ap_bgp_state state;
	bool started;	    /**< Restart automatically after errors. */
	uint16_t hold_neg;  /**< Negotiated hold time, seconds. */
	uint64_t t_connect; /**< Deadlines in ms, 0 when off. */
	uint64_t t_hold;
	uint64_t t_keepalive;
	uint64_t t_idle;
	uint64_t since;		     /**< When the state was entered. */
	uint32_t n_established;	     /**< Transitions into Established. */
	uint32_t n_dropped;	     /**< Transitions out of Established. */
	struct ap_bgp_err last_sent; /**< Last NOTIFICATION sent (code 0: none). */
};

/** Extra data for some events. */
struct ap_bgp_fsm_arg {
	uint16_t hold_time;	      /**< AP_BGP_EV_OPEN: the peer's hold time. */
	const struct ap_bgp_err *err; /**< AP_BGP_EV_MSG_ERR, AP_BGP_EV_STOP. */
};

/** What to do after an event or poll. */
struct ap_bgp_fsm_out {
	uint32_t acts;
	struct ap_bgp_err err; /**< With AP_BGP_DO_NOTIFY. */
};

/** Start in Idle with @p cfg (defaults filled in). */
void ap_bgp_fsm_init(struct ap_bgp_fsm *f, const struct ap_bgp_fsm_cfg *cfg, uint64_t now);

/** Feed @p ev at time @p now (ms); @p out receives the actions. */
void ap_bgp_fsm_event(struct ap_bgp_fsm *f, enum ap_bgp_event ev, uint64_t now,
		      const struct ap_bgp_fsm_arg *arg, struct ap_bgp_fsm_out *out);

/** Run the timers due at @p now; @p out receives the actions. */
void ap_bgp_fsm_poll(struct ap_bgp_fsm *f, uint64_t now, struct ap_bgp_fsm_out *out);

/** Note that a message was sent at @p now (any message restarts the keepalive timer). */
void ap_bgp_fsm_sent(struct ap_bgp_fsm *f, uint64_t now);

/** Earliest timer deadline, or 0 when none runs. */
uint64_t ap_bgp_fsm_next(const struct ap_bgp_fsm *f);

/* ------------------------------------------------------------------- RIB */

/** Interned path attributes: one copy per distinct set, shared by routes. */
struct ap_bgp_pattr;

/** Attributes that take part in route selection, per candidate (RFC 4271 §9.1.2.2). */
struct ap_bgp_cand {
	uint32_t local_pref;
	uint32_t as_path_count;
	uint8_t origin;
	bool has_med;
	uint32_t med;
	uint32_t neighbor_as; /**< First AS of the path (0 for local routes). */
	bool ebgp;
	uint32_t router_id;   /**< ORIGINATOR_ID when present, else the peer's identifier. */
	uint32_t cluster_len; /**< CLUSTER_LIST length (RFC 4456 §9). */
	uint8_t peer_addr[16];
};

/**
 * Pick the best of @p n candidates by the elimination process of RFC 4271
 * §9.1.2.2 (local preference, AS_PATH length, origin, MED among routes from
 * the same neighbour AS or among all with @p always_compare_med, eBGP over
 * iBGP, identifier, cluster list length, peer address). Elimination, rather
 * than pairwise comparison, makes the result independent of the order in
 * which routes arrived (what other implementations call deterministic MED).
 * @return the index of the best candidate, or -1 when @p n is 0.
 */
int ap_bgp_decide(const struct ap_bgp_cand *c, unsigned n, bool always_compare_med);

/** What the RIB knows about a peer. */
struct ap_bgp_peer_info {
	uint8_t addr[16]; /**< IPv4 in the first 4 bytes. */
	uint8_t af;	  /**< Family of @c addr. */
	uint32_t asn;
	uint32_t router_id;
	bool ibgp;
	bool rr_client; /**< Route-reflector client (RFC 4456). */
};

/** A path: one peer's route to a destination. */
struct ap_bgp_path {
	struct ap_bgp_path *next;
	struct ap_bgp_pattr *attrs;
	uint16_t peer;	  /**< Index from ap_bgp_rib_peer_add(). */
	uint8_t rejected; /**< Filtered by import policy: kept for show, never best. */
	uint8_t stale;	  /**< Graceful restart: kept until refreshed or timed out. */
	uint32_t since;	  /**< When it was learned (seconds, caller's clock). */
};

/** A destination: a prefix and the paths to it. */
struct ap_bgp_dest {
	struct ap_bgp_dest *next; /**< Hash chain. */
	struct ap_bgp_path *paths;
	struct ap_bgp_path *best; /**< NULL when no eligible path. */
	struct ap_bgp_prefix pfx;
	/** Held by the caller (ap_bgp_rib_hold()): kept, even without paths. */
	uint8_t held;
	/** Peers (index < 32) this destination was last advertised to, kept by
	 * the service so it withdraws only what a peer got; the RIB never reads it. */
	uint32_t adv;
};

struct ap_bgp_rib;

/** Called when a destination's best path changes (@p old or @p best may be NULL). */
typedef void (*ap_bgp_best_fn)(void *ctx, const struct ap_bgp_dest *d,
			       const struct ap_bgp_path *old, const struct ap_bgp_path *best);

/** RIB options. */
struct ap_bgp_rib_opts {
	bool always_compare_med;
	ap_bgp_best_fn on_best; /**< May be NULL. */
	void *ctx;
};

/** New empty RIB. @return NULL on allocation failure. */
struct ap_bgp_rib *ap_bgp_rib_new(const struct ap_bgp_rib_opts *opts);
/** Free the RIB, its paths and attributes. */
void ap_bgp_rib_free(struct ap_bgp_rib *rib);

/**
 * Keep destination @p d (and so the pointer) until ap_bgp_rib_release(), even
 * when its last path goes: a caller can queue destinations, not prefixes.
 * @return false when it was already held.
 */
bool ap_bgp_rib_hold(struct ap_bgp_rib *rib, const struct ap_bgp_dest *d);
/** End a hold; the destination is freed now when it has no path left. */
void ap_bgp_rib_release(struct ap_bgp_rib *rib, const struct ap_bgp_dest *d);

/** Register a peer. @return its index, or -ENOSPC / -ENOMEM. */
int ap_bgp_rib_peer_add(struct ap_bgp_rib *rib, const struct ap_bgp_peer_info *info);
/** Update what is known about peer @p id (its identifier after OPEN). */
void ap_bgp_rib_peer_set(struct ap_bgp_rib *rib, int id, const struct ap_bgp_peer_info *info);
/** The peer's info, or NULL. */
const struct ap_bgp_peer_info *ap_bgp_rib_peer(const struct ap_bgp_rib *rib, int id);

/**
 * Intern @p a: return the shared copy, with one more reference.
 * Withdraw-only fields (NLRI) are not part of it. @return NULL on allocation failure.
 */
struct ap_bgp_pattr *ap_bgp_pattr_intern(struct ap_bgp_rib *rib, const struct ap_bgp_attrs *a);
/** Take one more reference. */
struct ap_bgp_pattr *ap_bgp_pattr_ref(struct ap_bgp_pattr *pa);
/** Drop a reference; the copy is freed with the last. */
void ap_bgp_pattr_unref(struct ap_bgp_rib *rib, struct ap_bgp_pattr *pa);
/** View the interned attributes as ap_bgp_attrs (pointers into @p pa). */
void ap_bgp_pattr_view(const struct ap_bgp_pattr *pa, struct ap_bgp_attrs *out);
/** Reference count (for tests and statistics). */
uint32_t ap_bgp_pattr_refcnt(const struct ap_bgp_pattr *pa);

/**
 * Set peer @p peer's path to @p pfx, replacing any previous one. The RIB takes
 * over the caller's reference on @p pa. @p rejected marks a path filtered by
 * import policy. Runs the decision process for the destination.
 * @return 0 or -ENOMEM (the reference is dropped then).
 */
int ap_bgp_rib_update(struct ap_bgp_rib *rib, uint16_t peer, const struct ap_bgp_prefix *pfx,
		      struct ap_bgp_pattr *pa, bool rejected, uint32_t now);
/**
 * Start loading what a later update or withdrawal of @p pfx reads: with
 * @p chain false the hash bucket, with @p chain true (some updates later,
 * once the bucket is in cache) the first destination of its chain. A full
 * table's lookups miss the caches; issued a few messages ahead, these loads
 * overlap instead of stalling one after another.
 */
void ap_bgp_rib_prefetch(const struct ap_bgp_rib *rib, const struct ap_bgp_prefix *pfx, bool chain);
/** Read-ahead distances, in messages: the bucket this far ahead... */
#define AP_BGP_PF_FAR 8
/** ...and the chain this far ahead (the bucket has had time to arrive). */
#define AP_BGP_PF_NEAR 4
/** Remove peer @p peer's path to @p pfx. @return 0, or -ENOENT if there was none. */
int ap_bgp_rib_withdraw(struct ap_bgp_rib *rib, uint16_t peer, const struct ap_bgp_prefix *pfx);
/** Remove every path of @p peer (session down). @return how many were removed. */
uint32_t ap_bgp_rib_flush_peer(struct ap_bgp_rib *rib, uint16_t peer);

/**
 * Graceful restart helper (RFC 4724 §4.2): mark every path of @p peer stale.
 * Stale paths stay eligible until replaced or flushed. @return how many.
 */
uint32_t ap_bgp_rib_mark_stale(struct ap_bgp_rib *rib, uint16_t peer);
/**
 * Remove the paths of @p peer still stale, of family @p af (AP_BGP_AF_NONE: all).
 * @return how many were removed.
 */
uint32_t ap_bgp_rib_flush_stale(struct ap_bgp_rib *rib, uint16_t peer, uint8_t af);

/** The destination for @p pfx (exact match), or NULL. */
const struct ap_bgp_dest *ap_bgp_rib_lookup(const struct ap_bgp_rib *rib,
					    const struct ap_bgp_prefix *pfx);
/** Call @p fn for every destination, in no particular order. Stops when it returns non-zero. */
int ap_bgp_rib_walk(const struct ap_bgp_rib *rib, int (*fn)(void *ctx, const struct ap_bgp_dest *d),
		    void *ctx);

/** Sizes, for show commands and the bench. */
struct ap_bgp_rib_stats {
	uint64_t dests;
	uint64_t paths;
	uint64_t attrs; /**< Distinct interned attribute sets. */
	uint64_t best;	/**< Destinations with a best path (the Loc-RIB). */
};
void ap_bgp_rib_stats(const struct ap_bgp_rib *rib, struct ap_bgp_rib_stats *st);
/** Paths from peer @p peer: received, and accepted by import policy. */
void ap_bgp_rib_peer_counts(const struct ap_bgp_rib *rib, uint16_t peer, uint64_t *received,
			    uint64_t *accepted);

/* ---------------------------------------------------------------- policy */

#define AP_BGP_POL_MAX_SET 8

/** One prefix-list entry: @c pfx, with lengths between @c ge and @c le (RFC-less, as in FRR). */
struct ap_bgp_pfx_entry {
	struct ap_bgp_prefix pfx;
	uint8_t ge; /**< 0: the entry's own length. */
	uint8_t le; /**< 0: @c ge when set, else the entry's own length. */
};

/** A named list of prefix entries; a prefix matches when any entry does. */
struct ap_bgp_pfx_list {
	const struct ap_bgp_pfx_entry *e;
	unsigned n;
};

/** One policy rule: every match present must hold; the first rule that matches decides. */
struct ap_bgp_rule {
	const struct ap_bgp_pfx_list *prefix_list; /**< NULL: any prefix. */
	const void *as_path_re;			   /**< Compiled regex_t, NULL: any path. */
	bool has_community;
	uint32_t community; /**< RFC 1997 value, (ASN << 16) | value. */
	bool has_large;
	uint32_t large[3];
	bool accept; /**< Accept (after the sets below) or reject. */
	bool set_local_pref;
	uint32_t local_pref;
	bool set_med;
	uint32_t med;
	bool set_next_hop;
	uint32_t next_hop; /**< IPv4, host order. */
	uint32_t comm_add[AP_BGP_POL_MAX_SET];
	uint8_t n_comm_add;
	uint32_t comm_del[AP_BGP_POL_MAX_SET];
	uint8_t n_comm_del;
	uint8_t prepend; /**< Times to prepend @c prepend_as. */
	uint32_t prepend_as;
};

/** Scratch space for the attributes a policy rewrites (AS_PATH, communities). */
struct ap_bgp_pol_buf {
	uint8_t as_path[1024];
	uint8_t comms[4 * 256];
};

/** Whether @p p matches @p l. */
bool ap_bgp_pfx_list_match(const struct ap_bgp_pfx_list *l, const struct ap_bgp_prefix *p);

/**
 * Compile an AS-path regular expression (POSIX extended, over the path
 * written as "65001 65002 {65003,65004}"; "_" stands for a boundary between
 * ASNs, as in FRR and Cisco). @return a regex to pass in ap_bgp_rule, or NULL
 * when @p re does not compile.
 */
void *ap_bgp_aspath_re_new(const char *re);
/** Free what ap_bgp_aspath_re_new() returned. */
void ap_bgp_aspath_re_free(void *re);

/**
 * Run @p n rules over route @p pfx with attributes @p a (rewritten in place;
 * new values point into @p buf). No matching rule means reject.
 * @return true when the route is accepted.
 */
bool ap_bgp_policy_apply(const struct ap_bgp_rule *rules, unsigned n,
			 const struct ap_bgp_prefix *pfx, struct ap_bgp_attrs *a,
			 struct ap_bgp_pol_buf *buf);

/* ------------------------------------------------------------------- MRT */

/** One route of an MRT RIB dump (RFC 6396 TABLE_DUMP or TABLE_DUMP_V2). */
struct ap_bgp_mrt_entry {
	uint32_t ts;   /**< Record timestamp. */
	uint16_t type; /**< 12 TABLE_DUMP, 13 TABLE_DUMP_V2. */
	uint16_t subtype;
	uint8_t peer_addr[16];
	bool peer_v6;
	uint32_t peer_as;
	struct ap_bgp_prefix pfx;
	bool has_path_id; /**< RFC 8050 ADD-PATH RIB entry. */
	uint32_t path_id;
	const struct ap_bgp_attrs *attrs; /**< Valid until the next call. */
};

/** Reader over a whole uncompressed MRT file in memory. */
struct ap_bgp_mrt_reader;

/** Start reading @p len bytes at @p buf (not copied). @return NULL on allocation failure. */
struct ap_bgp_mrt_reader *ap_bgp_mrt_open(const uint8_t *buf, size_t len);
void ap_bgp_mrt_close(struct ap_bgp_mrt_reader *r);
/**
 * Next RIB entry; records of other types are skipped.
 * @return 1 with @p e filled, 0 at the end, -EBADMSG on a malformed record.
 */
int ap_bgp_mrt_next(struct ap_bgp_mrt_reader *r, struct ap_bgp_mrt_entry *e);
/** The entry as one line of `bgpdump -m` (without the newline). @return @p buf. */
char *ap_bgp_mrt_line(const struct ap_bgp_mrt_entry *e, char *buf, size_t size);

/** A peer of a TABLE_DUMP_V2 PEER_INDEX_TABLE. */
struct ap_bgp_mrt_peer {
	uint32_t bgp_id; /**< Host order. */
	uint8_t addr[16];
	bool v6;
	uint32_t as;
};

/**
 * Write a PEER_INDEX_TABLE record (RFC 6396 §4.3.1; every peer with a 4-byte
 * AS field). @p view may be empty. @return 0, or -ENOSPC when @p w is full.
 */
int ap_bgp_mrt_write_peers(struct ap_wire_w *w, uint32_t ts, uint32_t collector_id,
			   const char *view, const struct ap_bgp_mrt_peer *peers, uint16_t n);

/** One route of a RIB record: which peer (index in the peer table), when, what. */
struct ap_bgp_mrt_rib_entry {
	uint16_t peer;
	uint32_t originated;
	const struct ap_bgp_attrs *attrs;
};

/**
 * Write a RIB_IPV4_UNICAST or RIB_IPV6_UNICAST record (RFC 6396 §4.3.2) for
 * @p pfx with @p n entries. @return 0, or -ENOSPC when @p w is full.
 */
int ap_bgp_mrt_write_rib(struct ap_wire_w *w, uint32_t ts, uint32_t seq,
			 const struct ap_bgp_prefix *pfx, const struct ap_bgp_mrt_rib_entry *e,
			 uint16_t n);

/* --------------------------------------------------------------- service */

/**
 * Where best routes go. The data plane connects this once its FIB exists;
 * with --no-dataplane it is NULL and the speaker keeps the RIB only.
 */
struct ap_bgp_fib_ops {
	/** Install or replace @p pfx via next hop @p nh (4 or 16 bytes, @p nh_len). 0 or -errno. */
	int (*install)(void *ctx, const struct ap_bgp_prefix *pfx, const uint8_t *nh,
		       uint8_t nh_len);
	/** Remove @p pfx. 0 or -errno. */
	int (*withdraw)(void *ctx, const struct ap_bgp_prefix *pfx);
	void *ctx;
};

struct ap_svc_ops;
/** The BGP speaker as an aetherd service (see svc/svc.h). */
extern const struct ap_svc_ops ap_bgp_svc;

#endif
