/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection tracking, control-plane side: the per-worker tables from the
 * config, the flows and counters the API shows, flush requests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"

struct ap_ct_table *ap_ct_tables[AP_MAX_WORKERS];
static unsigned n_tables;

static uint32_t
ticks(uint32_t s)
{
	uint64_t t = (uint64_t)s * rte_get_tsc_hz() >> AP_CT_TICK_SHIFT;

	/* Timeouts compare as signed 32-bit differences: keep them well inside. */
	return t > INT32_MAX / 2 ? INT32_MAX / 2 : (uint32_t)(t ? t : 1);
}

int
ap_ct_start(const struct ap_config *cfg, unsigned n_workers, char *err, size_t err_len)
{
	const struct ap_cfg_ct *c = &cfg->conntrack;

	memset(&ap_ct_conf, 0, sizeof(ap_ct_conf));
	n_tables = 0;
	if (!c->enabled)
		return 0;
	ap_ct_conf.tcp_loose = c->tcp_loose;
	ap_ct_conf.tcp_liberal = c->tcp_liberal;
	ap_ct_conf.tcp_max_retrans = (uint8_t)c->tcp_max_retrans;
	ap_ct_conf.tcp_retrans = ticks(c->t_max_retrans);
	ap_ct_conf.tcp_unack = ticks(c->t_unack);
	ap_ct_conf.drop_invalid = c->drop_invalid;
	ap_ct_conf.timeout[AP_TCP_NONE] = ticks(c->t_close);
	ap_ct_conf.timeout[AP_TCP_SYN_SENT] = ticks(c->t_syn_sent);
	ap_ct_conf.timeout[AP_TCP_SYN_SENT2] = ticks(c->t_syn_sent);
	ap_ct_conf.timeout[AP_TCP_SYN_RECV] = ticks(c->t_syn_recv);
	ap_ct_conf.timeout[AP_TCP_ESTABLISHED] = ticks(c->t_established);
	ap_ct_conf.timeout[AP_TCP_FIN_WAIT] = ticks(c->t_fin_wait);
	ap_ct_conf.timeout[AP_TCP_CLOSE_WAIT] = ticks(c->t_close_wait);
	ap_ct_conf.timeout[AP_TCP_LAST_ACK] = ticks(c->t_last_ack);
	ap_ct_conf.timeout[AP_TCP_TIME_WAIT] = ticks(c->t_time_wait);
	ap_ct_conf.timeout[AP_TCP_CLOSE] = ticks(c->t_close);
	ap_ct_conf.udp = ticks(c->t_udp);
	ap_ct_conf.udp_stream = ticks(c->t_udp_stream);
	ap_ct_conf.icmp = ticks(c->t_icmp);
	ap_ct_conf.generic = ticks(c->t_generic);
	for (unsigned w = 0; w < n_workers; w++) {
		ap_ct_tables[w] = ap_ct_table_create(w, c->max_flows);
		if (ap_ct_tables[w] == NULL) {
			snprintf(err, err_len, "conntrack: no memory for %u flows on worker %u",
				 c->max_flows, w);
			ap_ct_stop();
			return -ENOMEM;
		}
		n_tables++;
	}
	ap_ct_conf.enabled = true;
	return 0;
}

void
ap_ct_stop(void)
{
	for (unsigned w = 0; w < AP_MAX_WORKERS; w++) {
		ap_ct_table_free(ap_ct_tables[w]);
		ap_ct_tables[w] = NULL;
	}
	n_tables = 0;
	ap_ct_conf.enabled = false;
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
}

unsigned
ap_ct_flush_all(void)
{
	unsigned n = 0;

	for (unsigned w = 0; w < n_tables; w++) {
		n += ap_ct_tables[w]->count;
		__atomic_fetch_add(&ap_ct_tables[w]->flush_req, 1, __ATOMIC_RELEASE);
	}
	return n;
}

static const char *
proto_name(uint8_t p)
{
	switch (p) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	default:
		return NULL;
	}
}

static void
addr_str(const struct ap_ct_key *k, const uint8_t *a, char *buf, size_t len)
{
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

/* One direction's endpoints: the originator's unless @p reply. */
static json_t *
ends_json(const struct ap_ct_flow *f, bool reply)
{
	const struct ap_ct_key *k = &f->key;
	bool src_lo = (bool)f->orig_lo != reply;
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	json_t *j;

	addr_str(k, src_lo ? k->addr_lo : k->addr_hi, s, sizeof(s));
	addr_str(k, src_lo ? k->addr_hi : k->addr_lo, d, sizeof(d));
	j = json_pack("{s:s, s:s}", "src", s, "dst", d);
	if (k->proto == 6 || k->proto == 17) {
		json_object_set_new(j, "sport",
				    json_integer(ntohs(src_lo ? k->port_lo : k->port_hi)));
		json_object_set_new(j, "dport",
				    json_integer(ntohs(src_lo ? k->port_hi : k->port_lo)));
	} else if (k->proto == 1 || k->proto == 58) {
		json_object_set_new(j, "id", json_integer(ntohs(k->port_lo)));
	}
	return j;
}

/* `{"src", "sport", "dst", "dport"}` (ICMP: "id"): how the originator's packets leave. */
static json_t *
nat_json(const struct ap_ct_flow *f)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	json_t *j;

	inet_ntop(AF_INET, &f->nat_saddr, s, sizeof(s));
	inet_ntop(AF_INET, &f->nat_daddr, d, sizeof(d));
	j = json_pack("{s:s, s:s, s:b, s:b}", "src", s, "dst", d, "snat",
		      (f->nat & AP_CT_SNAT) != 0, "dnat", (f->nat & AP_CT_DNAT) != 0);
	if (f->key.proto == 1) {
		json_object_set_new(j, "id", json_integer(ntohs(f->nat_sport)));
	} else if (f->key.proto == 6 || f->key.proto == 17) {
		json_object_set_new(j, "sport", json_integer(ntohs(f->nat_sport)));
		json_object_set_new(j, "dport", json_integer(ntohs(f->nat_dport)));
	}
	return j;
}

static bool
flow_matches(const struct ap_ct_flow *f, const char *proto, const char *addr, unsigned port)
{
	const struct ap_ct_key *k = &f->key;
	const char *pn = proto_name(k->proto);

	if (proto && (pn == NULL ? strcmp(proto, "other") != 0 : strcmp(proto, pn) != 0))
		return false;
	if (addr) {
		uint8_t a[16] = {0};
		size_t alen = k->family == 4 ? 4 : 16;

		if (inet_pton(k->family == 4 ? AF_INET : AF_INET6, addr, a) != 1)
			return false;
		if (memcmp(a, k->addr_lo, alen) != 0 && memcmp(a, k->addr_hi, alen) != 0)
			return false;
	}
	if (port && (k->proto == 6 || k->proto == 17) && ntohs(k->port_lo) != port &&
	    ntohs(k->port_hi) != port)
		return false;
	return true;
}

json_t *
ap_ct_flows_json(const char *proto, const char *addr, unsigned port, unsigned limit)
{
	uint32_t now = (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT);
	uint64_t hz = rte_get_tsc_hz();
	json_t *arr = json_array();
	unsigned total = 0;

	for (unsigned w = 0; w < n_tables; w++) {
		const struct ap_ct_table *t = ap_ct_tables[w];

		for (uint32_t i = 0; i < t->max; i++) {
			const struct ap_ct_flow *f = &t->flows[i];
			const char *pn;
			json_t *j;

			if (!f->used || (int32_t)(now - f->expires) >= 0 ||
			    !flow_matches(f, proto, addr, port))
				continue;
			if (total++ >= limit)
				continue;
			pn = proto_name(f->key.proto);
			j = json_pack(
				"{s:i, s:s, s:i, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:b, s:I, s:i}",
				"family", f->key.family, "proto", pn ? pn : "other", "proto_number",
				f->key.proto, "orig", ends_json(f, false), "reply",
				ends_json(f, true), "orig_packets", (json_int_t)f->pkts[AP_CT_ORIG],
				"orig_bytes", (json_int_t)f->bytes[AP_CT_ORIG], "reply_packets",
				(json_int_t)f->pkts[AP_CT_REPLY], "reply_bytes",
				(json_int_t)f->bytes[AP_CT_REPLY], "seen_reply",
				(f->status & AP_CT_SEEN_REPLY) != 0, "assured",
				(f->status & AP_CT_ASSURED) != 0, "expires_s",
				(json_int_t)(((uint64_t)(uint32_t)(f->expires - now)
					      << AP_CT_TICK_SHIFT) /
					     hz),
				"worker", w);
			if (f->key.proto == 6)
				json_object_set_new(j, "state",
						    json_string(ap_ct_tcp_state_name(f->state)));
			if (f->nat)
				json_object_set_new(j, "nat", nat_json(f));
			json_array_append_new(arr, j);
		}
	}
	return json_pack("{s:o, s:i, s:b}", "flows", arr, "total", total, "truncated",
			 total > limit);
}

json_t *
ap_ct_stats_json(void)
{
	struct ap_ct_stats s = {0};
	uint64_t flows = 0, max = 0;

	for (unsigned w = 0; w < n_tables; w++) {
		const struct ap_ct_table *t = ap_ct_tables[w];

		flows += t->count;
		max += t->max;
		s.created += t->st.created;
		s.expired += t->st.expired;
		s.early_drop += t->st.early_drop;
		s.table_full += t->st.table_full;
		s.invalid += t->st.invalid;
		s.flushed += t->st.flushed;
		s.related += t->st.related;
		s.nat_created += t->st.nat_created;
		s.nat_exhausted += t->st.nat_exhausted;
		s.out_of_window += t->st.out_of_window;
	}
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "enabled", ap_ct_conf.enabled, "flows", (json_int_t)flows, "max_flows",
			 (json_int_t)max, "created", (json_int_t)s.created, "expired",
			 (json_int_t)s.expired, "early_drop", (json_int_t)s.early_drop,
			 "table_full", (json_int_t)s.table_full, "invalid", (json_int_t)s.invalid,
			 "flushed", (json_int_t)s.flushed, "related", (json_int_t)s.related,
			 "nat_created", (json_int_t)s.nat_created, "nat_exhausted",
			 (json_int_t)s.nat_exhausted, "out_of_window", (json_int_t)s.out_of_window);
}

int
ap_nat_start(const struct ap_config *cfg, const uint16_t *l3_of_iface,
	     uint16_t (*egress4)(uint32_t))
{
	memset(&ap_nat_conf, 0, sizeof(ap_nat_conf));
	ap_ct_egress4 = egress4;
	if (!cfg->nat.enabled)
		return 0;
	for (unsigned k = 0; k < cfg->nat.n_masq; k++) {
		const struct ap_cfg_nat_masq *m = &cfg->nat.masq[k];
		const struct ap_cfg_iface *ci = &cfg->ifaces[m->iface_idx];
		uint16_t l3 = l3_of_iface[m->iface_idx];

		for (unsigned a = 0; a < ci->n_addrs; a++)
			if (ci->addrs[a].family == 4) {
				memcpy(&ap_nat_conf.addr[l3], ci->addrs[a].addr, 4);
				break;
			}
		ap_nat_conf.lo[l3] = m->port_lo;
		ap_nat_conf.hi[l3] = m->port_hi;
	}
	for (unsigned i = 0; i < cfg->n_ifaces; i++) {
		const struct ap_cfg_iface *ci = &cfg->ifaces[i];

		for (unsigned a = 0; a < ci->n_addrs && l3_of_iface[i] < AP_L3_MAX; a++)
			if (ci->addrs[a].family == 4) {
				memcpy(&ap_nat_conf.if_addr[l3_of_iface[i]], ci->addrs[a].addr, 4);
				break;
			}
	}
	for (unsigned k = 0; k < cfg->nat.n_fwd; k++) {
		const struct ap_cfg_nat_fwd *f = &cfg->nat.fwd[k];
		unsigned n = ap_nat_conf.n_fwd++;

		ap_nat_conf.fwd[n].l3 = l3_of_iface[f->iface_idx];
		ap_nat_conf.fwd[n].proto = f->proto;
		ap_nat_conf.fwd[n].port = htons(f->port);
		memcpy(&ap_nat_conf.fwd[n].to, f->to.addr, 4);
		ap_nat_conf.fwd[n].to_port = htons(f->to_port);
	}
	for (unsigned k = 0; k < cfg->nat.n_one; k++) {
		const struct ap_cfg_nat_one *o = &cfg->nat.one[k];
		unsigned n = ap_nat_conf.n_one++;

		ap_nat_conf.one[n].l3 = l3_of_iface[o->iface_idx];
		memcpy(&ap_nat_conf.one[n].internal, o->internal.addr, 4);
		memcpy(&ap_nat_conf.one[n].external, o->external.addr, 4);
	}
	ap_nat_conf.hairpin = cfg->nat.hairpin;
	ap_nat_conf.enabled = true;
	return 0;
}
