/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The firewall's rule walk and tables (see fw.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp/fw/fw.h"
#include "pkt/pkt.h"

struct ap_fw ap_fw;

static const char *const action_names[] = {"accept", "drop", "reject"};

/* Index of a zone in the policy matrix. */
static unsigned
pidx(uint8_t zone)
{
	const unsigned nz = ap_fw.cfg->n_zones;

	if (zone == AP_FW_ZONE_SELF)
		return nz + 1;
	return zone < nz ? zone : nz;
}

static bool
zone_ok(uint8_t want, uint8_t got)
{
	return want == AP_FW_ZONE_ANY || want == got;
}

static bool
set_has_addr(int16_t set, uint8_t family, const uint8_t *a)
{
	const struct ap_cfg_fw_set *s;

	if (set < 0)
		return true;
	s = &ap_fw.cfg->sets[set];
	for (unsigned i = 0; i < s->n; i++)
		if (ap_cfg_prefix_has(&s->addrs[i], family, a))
			return true;
	return false;
}

static bool
set_has_port(int16_t set, uint16_t port)
{
	const struct ap_cfg_fw_set *s;

	if (set < 0)
		return true;
	s = &ap_fw.cfg->sets[set];
	for (unsigned i = 0; i < s->n; i++)
		if (port >= s->port_lo[i] && port <= s->port_hi[i])
			return true;
	return false;
}

enum ap_fw_action
ap_fw_check_slow(const struct ap_mbuf_priv *pv, const uint8_t *l3hdr, uint16_t out)
{
	const struct ap_cfg_fw *cfg = ap_fw.cfg;
	const struct ap_pkt_info *pi = &pv->pi;
	uint8_t family = pi->l3 == AP_L3_IPV4 ? 4 : 6;
	const uint8_t *src = l3hdr + (family == 4 ? 12 : 8);
	const uint8_t *dst = src + (family == 4 ? 4 : 16);
	uint8_t from = pv->l3 < AP_L3_MAX ? ap_fw.zone_of[pv->l3] : AP_FW_ZONE_ANY;
	uint8_t to = out == AP_FW_TO_SELF ? AP_FW_ZONE_SELF
		     : out < AP_L3_MAX	  ? ap_fw.zone_of[out]
					  : AP_FW_ZONE_ANY;
	uint8_t ct = (uint8_t)(1u << (pv->ct == AP_CT_NEW	? 0
				      : pv->ct == AP_CT_INVALID ? 3
				      : pv->ct == AP_CT_FULL	? 3
								: 4));
	unsigned lcore = rte_lcore_id();
	enum ap_fw_action a;

	for (uint16_t i = 0; i < cfg->n_rules; i++) {
		const struct ap_cfg_fw_rule *r = &cfg->rules[i];

		if (!zone_ok(r->from_zone, from) || !zone_ok(r->to_zone, to))
			continue;
		if (r->proto && r->proto != pi->l4_proto)
			continue;
		if (r->ct_state && !(r->ct_state & ct))
			continue;
		if (!set_has_addr(r->src, family, src) || !set_has_addr(r->dst, family, dst))
			continue;
		if ((r->sport >= 0 || r->dport >= 0) &&
		    (pi->frag & AP_PKT_FRAG_LATER ? true
						  : !set_has_port(r->sport, pi->l4_sport) ||
							    !set_has_port(r->dport, pi->l4_dport)))
			continue;
		if (r->icmp_type >= 0 && (pi->l4_sport >> 8) != r->icmp_type)
			continue;
		ap_fw.hits[lcore * cfg->n_rules + i]++;
		ap_fw.last_hit[i] = rte_rdtsc();
		ap_fw.verdicts[lcore * AP_FW_V_COUNT + AP_FW_V_RULE_ACCEPT + r->action]++;
		return r->action;
	}
	a = (enum ap_fw_action)ap_fw.policy[pidx(from)][pidx(to)];
	ap_fw.verdicts[lcore * AP_FW_V_COUNT + AP_FW_V_POLICY_ACCEPT + a]++;
	return a;
}

int
ap_fw_start(const struct ap_config *cfg, const uint16_t *l3_of_iface, char *err, size_t err_len)
{
	const struct ap_cfg_fw *fw = &cfg->firewall;
	unsigned nz = fw->n_zones;

	memset(&ap_fw, 0, sizeof(ap_fw));
	if (!fw->enabled)
		return 0;
	ap_fw.cfg = fw;
	memset(ap_fw.zone_of, AP_FW_ZONE_ANY, sizeof(ap_fw.zone_of));
	for (unsigned z = 0; z < nz; z++)
		for (unsigned k = 0; k < fw->zones[z].n_ifaces; k++)
			for (unsigned f = 0; f < cfg->n_ifaces; f++)
				if (strcmp(cfg->ifaces[f].name, fw->zones[z].ifaces[k]) == 0)
					ap_fw.zone_of[l3_of_iface[f]] = (uint8_t)z;
	/* The first policy that covers a pair decides, else the default. */
	for (unsigned a = 0; a < nz + 2; a++)
		for (unsigned b = 0; b < nz + 2; b++) {
			uint8_t from = a < nz ? (uint8_t)a : AP_FW_ZONE_ANY;
			uint8_t to = b < nz    ? (uint8_t)b
				     : b == nz ? AP_FW_ZONE_ANY
					       : AP_FW_ZONE_SELF;

			ap_fw.policy[a][b] = (uint8_t)fw->default_action;
			if (a == nz + 1)
				continue; /* nothing comes from self here */
			for (unsigned p = 0; p < fw->n_policies; p++) {
				const struct ap_cfg_fw_policy *pol = &fw->policies[p];

				if ((pol->from_zone == AP_FW_ZONE_ANY || pol->from_zone == from) &&
				    (pol->to_zone == AP_FW_ZONE_ANY || pol->to_zone == to)) {
					ap_fw.policy[a][b] = (uint8_t)pol->action;
					break;
				}
			}
		}
	ap_fw.hits = rte_zmalloc("ap_fw_hits",
				 sizeof(uint64_t) * RTE_MAX_LCORE * (fw->n_rules ? fw->n_rules : 1),
				 RTE_CACHE_LINE_SIZE);
	ap_fw.last_hit = rte_zmalloc("ap_fw_last", sizeof(uint64_t) * (fw->n_rules + 1u), 0);
	ap_fw.verdicts =
		rte_zmalloc("ap_fw_verdicts", sizeof(uint64_t) * RTE_MAX_LCORE * AP_FW_V_COUNT,
			    RTE_CACHE_LINE_SIZE);
	if (!ap_fw.hits || !ap_fw.last_hit || !ap_fw.verdicts) {
		ap_fw_stop();
		snprintf(err, err_len, "firewall: out of memory for its counters");
		return -ENOMEM;
	}
	ap_fw.enabled = true;
	return 0;
}

void
ap_fw_stop(void)
{
	rte_free(ap_fw.hits);
	rte_free(ap_fw.last_hit);
	rte_free(ap_fw.verdicts);
	memset(&ap_fw, 0, sizeof(ap_fw));
}

static const char *
zone_name(uint8_t z)
{
	if (z == AP_FW_ZONE_ANY)
		return "any";
	if (z == AP_FW_ZONE_SELF)
		return "self";
	return ap_fw.cfg->zones[z].name;
}

static json_t *
set_json(int16_t set)
{
	const struct ap_cfg_fw_set *s = &ap_fw.cfg->sets[set];
	json_t *arr;
	char b[64];

	if (s->name[0] != '\0')
		return json_string(s->name);
	arr = json_array();
	for (unsigned i = 0; i < s->n; i++) {
		if (s->ports) {
			if (s->port_lo[i] == s->port_hi[i])
				snprintf(b, sizeof(b), "%u", s->port_lo[i]);
			else
				snprintf(b, sizeof(b), "%u-%u", s->port_lo[i], s->port_hi[i]);
		} else {
			ap_cfg_prefix_fmt(&s->addrs[i], true, b, sizeof(b));
		}
		json_array_append_new(arr, json_string(b));
	}
	return arr;
}

json_t *
ap_fw_json(void)
{
	const struct ap_cfg_fw *fw = ap_fw.cfg;
	static const char *const ct_names[] = {"new", "established", "related", "invalid",
					       "untracked"};
	static const char *const v_names[] = {"established",  "rule_accept",   "rule_drop",
					      "rule_reject",  "policy_accept", "policy_drop",
					      "policy_reject"};
	json_t *zones = json_array(), *policies = json_array(), *rules = json_array();
	json_t *verdicts = json_object();
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();

	if (!ap_fw.enabled)
		return json_pack("{s:b}", "enabled", false);
	for (unsigned z = 0; z < fw->n_zones; z++) {
		json_t *ifs = json_array();

		for (unsigned k = 0; k < fw->zones[z].n_ifaces; k++)
			json_array_append_new(ifs, json_string(fw->zones[z].ifaces[k]));
		json_array_append_new(zones, json_pack("{s:s, s:o}", "name", fw->zones[z].name,
						       "interfaces", ifs));
	}
	for (unsigned p = 0; p < fw->n_policies; p++)
		json_array_append_new(policies,
				      json_pack("{s:s, s:s, s:s}", "from",
						zone_name(fw->policies[p].from_zone), "to",
						zone_name(fw->policies[p].to_zone), "action",
						action_names[fw->policies[p].action]));
	for (unsigned i = 0; i < fw->n_rules; i++) {
		const struct ap_cfg_fw_rule *r = &fw->rules[i];
		uint64_t hits = 0;
		json_t *j;

		for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
			hits += ap_fw.hits[l * fw->n_rules + i];
		j = json_pack("{s:i, s:s, s:s, s:s, s:I}", "index", i, "from",
			      zone_name(r->from_zone), "to", zone_name(r->to_zone), "action",
			      action_names[r->action], "hits", (json_int_t)hits);
		if (r->proto)
			json_object_set_new(j, "proto", json_integer(r->proto));
		if (r->src >= 0)
			json_object_set_new(j, "src", set_json(r->src));
		if (r->dst >= 0)
			json_object_set_new(j, "dst", set_json(r->dst));
		if (r->sport >= 0)
			json_object_set_new(j, "sport", set_json(r->sport));
		if (r->dport >= 0)
			json_object_set_new(j, "dport", set_json(r->dport));
		if (r->icmp_type >= 0)
			json_object_set_new(j, "icmp_type", json_integer(r->icmp_type));
		if (r->ct_state) {
			json_t *cs = json_array();

			for (unsigned b = 0; b < 5; b++)
				if (r->ct_state & (1u << b))
					json_array_append_new(cs, json_string(ct_names[b]));
			json_object_set_new(j, "ct_state", cs);
		}
		if (r->comment[0])
			json_object_set_new(j, "comment", json_string(r->comment));
		if (ap_fw.last_hit[i])
			json_object_set_new(
				j, "last_hit_s",
				json_integer((json_int_t)((now - ap_fw.last_hit[i]) / hz)));
		json_array_append_new(rules, j);
	}
	for (unsigned v = 0; v < AP_FW_V_COUNT; v++) {
		uint64_t n = 0;

		for (unsigned l = 0; l < RTE_MAX_LCORE; l++)
			n += ap_fw.verdicts[l * AP_FW_V_COUNT + v];
		json_object_set_new(verdicts, v_names[v], json_integer((json_int_t)n));
	}
	return json_pack("{s:b, s:s, s:o, s:o, s:o, s:o}", "enabled", true, "default",
			 action_names[fw->default_action], "zones", zones, "policies", policies,
			 "rules", rules, "verdicts", verdicts);
}
