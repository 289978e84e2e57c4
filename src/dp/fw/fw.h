/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The stateful firewall: zones of interfaces, ordered rules (first match
 * wins) on zones, addresses, ports, protocol, ICMP type and conntrack state,
 * a default action per zone pair, and per-rule hit counters. Packets of
 * established and related connections are accepted without a rule walk (as
 * the usual first rule of a netfilter ruleset does); rules see new, invalid
 * and untracked ones. Checked by ip4-input/ip6-input once the route (and so
 * the egress zone) is known, for forwarded traffic and traffic to the
 * appliance (zone "self"); what the control plane sends is not checked.
 *
 * Rules compile to two rte_acl contexts (IPv4, IPv6) that keep first-match
 * order through rule priorities; a set expands to several ACL entries of one
 * rule. Zones, policies, contexts and counters form a ruleset that the control
 * plane builds off to the side and publishes with an atomic pointer store; the
 * one it replaces is freed once every worker has passed a quiescent state
 * (ap_dp_qsbr). Rules with `log` send a record per packet they decide (rate
 * limited per worker) to the control plane through a ring.
 *
 * A flow's new packets in its original direction are classified once: the
 * rule that matched (or none) is kept in the flow with what else the answer
 * depended on, and later such packets with the same take it without a
 * classification (fw.c says when, and why that is exact). They are counted,
 * logged and acted on as if classified.
 */
#ifndef AP_FW_H
#define AP_FW_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_graph.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <jansson.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "lib/config.h"

struct ap_fw_rs;

/** Counters per worker: verdicts, then log records. */
enum {
	AP_FW_V_ESTABLISHED, /**< Accepted as established or related. */
	AP_FW_V_RULE_ACCEPT,
	AP_FW_V_RULE_DROP,
	AP_FW_V_RULE_REJECT,
	AP_FW_V_POLICY_ACCEPT,
	AP_FW_V_POLICY_DROP,
	AP_FW_V_POLICY_REJECT,
	AP_FW_V_COUNT,
	AP_FW_S_LOGGED = AP_FW_V_COUNT, /**< Log records sent to the control plane. */
	AP_FW_S_LOG_LIMITED,		/**< Over the rate limit, or the ring was full. */
	AP_FW_S_MEMO, /**< Rule or policy verdicts taken from the flow's memo, not classified. */
	AP_FW_S_COUNT,
};

struct ap_fw {
	bool enabled;
	struct ap_fw_rs *rs;	   /**< The published ruleset (RCU: ap_dp_qsbr). */
	uint64_t *stats;	   /**< [lcore][AP_FW_S_COUNT] */
	struct rte_ring *log_ring; /**< struct ap_fw_log_rec, workers to control plane. */
	uint64_t *log_window;	   /**< [lcore]: start (TSC) of the rate limit's second. */
	uint32_t *log_count;	   /**< [lcore]: records in that second. */
};

extern struct ap_fw ap_fw;

/** Egress "interface" meaning the appliance itself. */
#define AP_FW_TO_SELF 0xffff

/** A packet as the rules see it. */
struct ap_fw_pkt {
	uint8_t family;	    /**< 4 or 6 */
	uint8_t proto;	    /**< IP protocol */
	uint8_t ct;	    /**< The AP_FW_CT_* bit of its conntrack state. */
	uint8_t frag_later; /**< A fragment after the first: no ports. */
	uint8_t from, to;   /**< Zones: index, AP_FW_ZONE_ANY (none) or AP_FW_ZONE_SELF. */
	uint8_t iif, oif;   /**< Config interface index + 1; 0: none (oif: to self). */
	uint8_t dscp;
	uint16_t sport, dport; /**< Host order; ICMP: type << 8 | code, and id. */
	uint8_t src[16], dst[16];
	/** dscp, to, from, oif and iif packed as a flow's memo holds them: made
	 * from the values as they are filled in, so that the memo check does not
	 * read back the bytes just stored (a wider load of them would wait). */
	uint64_t memo_ctx;
};

/** A log record (40 bytes + addresses), as the ring carries it. */
struct ap_fw_log_rec {
	uint64_t tsc;
	uint16_t rule;
	uint16_t sport, dport;
	uint8_t action, family, proto, dscp, ct, from, to;
	uint8_t gen; /**< The ruleset's generation (low byte): @p rule is its index. */
	uint8_t pad[2];
	uint8_t src[16], dst[16];
};

/**
 * Compile @p fw's rules into a ruleset (contexts, counters; zones are left
 * out). Control plane. NULL with a message in @p err on failure.
 */
struct ap_fw_rs *ap_fw_rs_build(const struct ap_cfg_fw *fw, char *err, size_t err_len);
void ap_fw_rs_free(struct ap_fw_rs *rs);
/** The index of the first rule of @p rs that matches @p p, or -1. */
int ap_fw_rs_classify(const struct ap_fw_rs *rs, const struct ap_fw_pkt *p);
/** ACL entries of @p family (4 or 6) in @p rs. */
unsigned ap_fw_rs_entries(const struct ap_fw_rs *rs, unsigned family);
/** The reference: a walk over @p fw's rules in order. First match or -1. */
int ap_fw_walk(const struct ap_cfg_fw *fw, const struct ap_fw_pkt *p);

/**
 * The verdict on a routed packet: @p l3hdr its IP header, parsed into
 * @p pv (ports from conntrack's parse), going out of L3 interface @p out
 * (or AP_FW_TO_SELF).
 */
enum ap_fw_action ap_fw_check_slow(const struct ap_mbuf_priv *pv, const uint8_t *l3hdr,
				   uint16_t out);

/** Most packets ap_fw_check_burst() takes at once. */
#define AP_FW_BURST RTE_GRAPH_BURST_SIZE

/**
 * ap_fw_check() on @p n (at most AP_FW_BURST) packets at once, with one
 * classification per family: @p verdicts[i] for @p pvs[i], whose IP header is
 * @p l3hdrs[i], going out of @p outs[i]. Packets already checked get
 * AP_FW_ACCEPT again. @p ct: the worker's conntrack table, where the packets'
 * ct_flow are (NULL: none; the memo is not used).
 */
void ap_fw_check_burst(struct ap_ct_table *ct, struct ap_mbuf_priv **pvs, const uint8_t **l3hdrs,
		       const uint16_t *outs, unsigned n, enum ap_fw_action *verdicts);

static __rte_always_inline enum ap_fw_action
ap_fw_check(struct ap_mbuf_priv *pv, const uint8_t *l3hdr, uint16_t out)
{
	if (pv->fw_done)
		return AP_FW_ACCEPT;
	pv->fw_done = 1;
	if (likely(pv->ct == AP_CT_ESTABLISHED || pv->ct == AP_CT_RELATED)) {
		ap_fw.stats[rte_lcore_id() * AP_FW_S_COUNT + AP_FW_V_ESTABLISHED]++;
		return AP_FW_ACCEPT;
	}
	return ap_fw_check_slow(pv, l3hdr, out);
}

/** From @p cfg (after the IP interfaces exist: @p l3_of_iface maps config
 * interface index to L3 id). 0 or -errno. */
int ap_fw_start(const struct ap_config *cfg, const uint16_t *l3_of_iface, char *err,
		size_t err_len);
/**
 * Apply a new firewall section (reload): compile it, carry the hit counters of
 * unchanged rules over, publish, and free the old ruleset after a grace
 * period. On failure the running rules stay. 0 or -errno.
 */
int ap_fw_reload(const struct ap_cfg_fw *fw, char *err, size_t err_len);
/** Control plane: write the log records the workers sent, free rulesets past
 * their grace period. */
void ap_fw_poll(void);
void ap_fw_stop(void);
/** `{"enabled", "default", "zones", "policies", "rules" (with hits), "verdicts", "memo_hits",
 * "acl"}` */
json_t *ap_fw_json(void);
/** `{"logged", "limited", "records": [...]}`: the recent log records, oldest first. */
json_t *ap_fw_log_json(void);

#endif
