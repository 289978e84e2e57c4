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
 * Rules are walked in order (rte_acl compilation is the next step).
 */
#ifndef AP_FW_H
#define AP_FW_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_lcore.h>
#include <jansson.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "lib/config.h"

struct ap_fw {
	bool enabled;
	const struct ap_cfg_fw *cfg;
	uint8_t zone_of[AP_L3_MAX]; /**< Zone of each L3 interface, AP_FW_ZONE_ANY: none. */
	/** Action when no rule matched, [from zone][to zone]; index n_zones is "no zone",
	 * n_zones + 1 is self. */
	uint8_t policy[AP_CFG_FW_MAX_ZONES + 2][AP_CFG_FW_MAX_ZONES + 2];
	uint64_t *hits;	    /**< [lcore][rule] */
	uint64_t *last_hit; /**< [rule], TSC (racy across workers: the latest wins). */
	uint64_t *verdicts; /**< [lcore][AP_FW_V_*] */
};

/** Verdict counters. */
enum {
	AP_FW_V_ESTABLISHED, /**< Accepted as established or related. */
	AP_FW_V_RULE_ACCEPT,
	AP_FW_V_RULE_DROP,
	AP_FW_V_RULE_REJECT,
	AP_FW_V_POLICY_ACCEPT,
	AP_FW_V_POLICY_DROP,
	AP_FW_V_POLICY_REJECT,
	AP_FW_V_COUNT,
};

extern struct ap_fw ap_fw;

/** Egress "interface" meaning the appliance itself. */
#define AP_FW_TO_SELF 0xffff

/**
 * The verdict on a routed packet: @p l3hdr its IP header, parsed into
 * @p pv (ports from conntrack's parse), going out of L3 interface @p out
 * (or AP_FW_TO_SELF).
 */
enum ap_fw_action ap_fw_check_slow(const struct ap_mbuf_priv *pv, const uint8_t *l3hdr,
				   uint16_t out);

static __rte_always_inline enum ap_fw_action
ap_fw_check(struct ap_mbuf_priv *pv, const uint8_t *l3hdr, uint16_t out)
{
	if (pv->fw_done)
		return AP_FW_ACCEPT;
	pv->fw_done = 1;
	if (likely(pv->ct == AP_CT_ESTABLISHED || pv->ct == AP_CT_RELATED)) {
		ap_fw.verdicts[rte_lcore_id() * AP_FW_V_COUNT + AP_FW_V_ESTABLISHED]++;
		return AP_FW_ACCEPT;
	}
	return ap_fw_check_slow(pv, l3hdr, out);
}

/** From @p cfg (after the IP interfaces exist: @p l3_of_iface maps config
 * interface index to L3 id). 0 or -errno. */
int ap_fw_start(const struct ap_config *cfg, const uint16_t *l3_of_iface, char *err,
		size_t err_len);
void ap_fw_stop(void);
/** `{"enabled", "default", "zones", "policies", "rules" (with hits), "verdicts"}` */
json_t *ap_fw_json(void);

#endif
