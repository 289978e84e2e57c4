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

#include <time.h>

#include <rte_cycles.h>
#include <rte_ring_elem.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "lib/community_id.h"

struct ap_ct_table *ap_ct_tables[AP_MAX_WORKERS];
static unsigned n_tables;

/* Events: the most recent ones, newest last. */
#define CT_EVENTS_RECENT 1024

static struct {
	struct ap_ct_event ev[CT_EVENTS_RECENT];
	double wall[CT_EVENTS_RECENT]; /**< Unix seconds it was read. */
	unsigned head, n;
	uint64_t news, destroys;
} ct_recent;

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
		/* A translated flow's replies have a key of their own. */
		ap_ct_tables[w] = ap_ct_table_create(
			w, c->max_flows,
			cfg->nat.enabled ? c->max_flows * 2 : c->max_flows);
		if (ap_ct_tables[w] == NULL) {
			snprintf(err, err_len, "conntrack: no memory for %u flows on worker %u",
				 c->max_flows, w);
			ap_ct_stop();
			return -ENOMEM;
		}
		n_tables++;
		if (cfg->nat.enabled && n_workers > 1) {
			char name[RTE_RING_NAMESIZE];

			snprintf(name, sizeof(name), "ap_ct_ho_%u", w);
			ap_ct_tables[w]->handoff =
				rte_ring_create(name, 4096, (int)rte_socket_id(), RING_F_SC_DEQ);
			if (ap_ct_tables[w]->handoff == NULL) {
				snprintf(err, err_len,
					 "conntrack: no memory for worker %u's handoff", w);
				ap_ct_stop();
				return -ENOMEM;
			}
		}
		for (unsigned k = 0; k < cfg->nat.n_masq; k++)
			if (cfg->nat.masq[k].eim && ap_ct_tables[w]->eim == NULL &&
			    ap_ct_eim_create(ap_ct_tables[w], c->max_flows * 2) < 0) {
				snprintf(err, err_len,
					 "conntrack: no memory for worker %u's mappings", w);
				ap_ct_stop();
				return -ENOMEM;
			}
		if (c->events) {
			char name[RTE_RING_NAMESIZE];

			snprintf(name, sizeof(name), "ap_ct_ev_%u", w);
			ap_ct_tables[w]->events = rte_ring_create_elem(
				name, sizeof(struct ap_ct_event), 16384, (int)rte_socket_id(),
				RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (ap_ct_tables[w]->events == NULL) {
				snprintf(err, err_len,
					 "conntrack: no memory for worker %u's events", w);
				ap_ct_stop();
				return -ENOMEM;
			}
		}
	}
	memset(&ct_recent, 0, sizeof(ct_recent));
	ap_ct_conf.events = c->events;
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

/* Slot @p i of worker table @p t as the control plane sees it while the
 * worker writes: a copy, whose counters may be a burst old. A slot freed and
 * taken by another flow while it was copied would show parts of both: the
 * copy is taken again until the slot's key and creation time read the same
 * after it as in it (a few tries; a slot that keeps changing is left out).
 * false: a free slot. */
static bool
flow_snapshot(const struct ap_ct_table *t, uint32_t i, struct ap_ct_flow *c)
{
	const volatile struct ap_ct_flow *live = &t->flows[i];

	/* An IPv4 flow's key holds its memo, which the firewall may write
	 * meanwhile: compared, and handed on, clean. */
	for (unsigned try = 0; try < 4; try++) {
		struct ap_ct_key again;

		*c = t->flows[i];
		rte_smp_rmb();
		memcpy(&again, (const void *)&live->key, sizeof(again));
		ap_ct_key_clean(&c->key);
		ap_ct_key_clean(&again);
		if (memcmp(&again, &c->key, sizeof(c->key)) == 0 && live->created == c->created)
			return ap_ct_flow_used(c);
	}
	return false;
}

unsigned
ap_ct_flush_all(const struct ap_ct_filter *flt)
{
	static const struct ap_ct_filter all = {.proto = -1};
	uint32_t now = (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT);
	unsigned n = 0;

	if (flt == NULL)
		flt = &all;
	for (unsigned w = 0; w < n_tables; w++) {
		struct ap_ct_table *t = ap_ct_tables[w];

		/* The worker reads the filter after it sees the request (the
		 * previous request is done: the API waits for none, so a filter
		 * still in use is only replaced by a newer one). */
		for (uint32_t i = 0; i < t->max; i++) {
			struct ap_ct_flow f;

			n += flow_snapshot(t, i, &f) && (int32_t)(now - f.expires) < 0 &&
			     ap_ct_flow_match(&f, flt);
		}
		t->flush_filter = *flt;
		__atomic_fetch_add(&t->flush_req, 1, __ATOMIC_RELEASE);
	}
	return n;
}

int
ap_ct_filter_parse(const char *proto, const char *addr, unsigned port, struct ap_ct_filter *flt)
{
	static const struct {
		const char *name;
		int num;
	} protos[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}, {"other", 256}};

	memset(flt, 0, sizeof(*flt));
	flt->proto = -1;
	if (proto != NULL) {
		flt->proto = -2;
		for (unsigned i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (strcmp(proto, protos[i].name) == 0)
				flt->proto = protos[i].num;
		if (flt->proto == -2)
			return -EINVAL;
	}
	if (addr != NULL) {
		if (inet_pton(AF_INET, addr, flt->addr) == 1)
			flt->family = 4;
		else if (inet_pton(AF_INET6, addr, flt->addr) == 1)
			flt->family = 6;
		else
			return -EINVAL;
	}
	if (port > 65535)
		return -EINVAL;
	flt->port = (uint16_t)port;
	return 0;
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

/* The flow's Community ID (from its originator's view). */
static json_t *
community_id_json(const struct ap_ct_flow *f)
{
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	char id[AP_COMMUNITY_ID_LEN];

	ap_ct_orig_ends(f, &src, &dst, &sport, &dport);
	if (f->key.proto == 1 || f->key.proto == 58) {
		sport = f->key.proto == 1 ? 8 : 128; /* echo requests are what start one */
		dport = 0;
	} else {
		sport = ntohs(sport);
		dport = ntohs(dport);
	}
	return json_string(
		ap_community_id(0, f->key.family, f->key.proto, src, dst, sport, dport, id));
}

/* One flow (or a flow as an event saw it). */
static json_t *
flow_json(const struct ap_ct_flow *f)
{
	const char *pn = proto_name(f->key.proto);
	json_t *j = json_pack(
		"{s:i, s:s, s:i, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:b}", "family",
		f->key.family, "proto", pn ? pn : "other", "proto_number", f->key.proto, "orig",
		ends_json(f, false), "reply", ends_json(f, true), "community_id",
		community_id_json(f), "orig_packets", (json_int_t)f->pkts[AP_CT_ORIG], "orig_bytes",
		(json_int_t)ap_ct_flow_bytes(f, AP_CT_ORIG), "reply_packets",
		(json_int_t)f->pkts[AP_CT_REPLY], "reply_bytes",
		(json_int_t)ap_ct_flow_bytes(f, AP_CT_REPLY), "seen_reply",
		(f->status & AP_CT_SEEN_REPLY) != 0, "assured", (f->status & AP_CT_ASSURED) != 0);

	if (f->key.proto == 6)
		json_object_set_new(j, "state", json_string(ap_ct_tcp_state_name(f->state)));
	if (f->nat)
		json_object_set_new(j, "nat", nat_json(f));
	return j;
}

static double
ticks_s(uint32_t t)
{
	return (double)((uint64_t)t << AP_CT_TICK_SHIFT) / (double)rte_get_tsc_hz();
}

json_t *
ap_ct_flows_json(const char *proto, const char *addr, unsigned port, unsigned limit)
{
	uint32_t now = (uint32_t)(rte_rdtsc() >> AP_CT_TICK_SHIFT);
	json_t *arr = json_array();
	struct ap_ct_filter flt;
	unsigned total = 0;

	if (ap_ct_filter_parse(proto, addr, port, &flt) < 0)
		return json_pack("{s:o, s:i, s:b}", "flows", arr, "total", 0, "truncated", false);
	for (unsigned w = 0; w < n_tables; w++) {
		const struct ap_ct_table *t = ap_ct_tables[w];

		for (uint32_t i = 0; i < t->max; i++) {
			struct ap_ct_flow f;
			json_t *j;

			if (!flow_snapshot(t, i, &f) || (int32_t)(now - f.expires) >= 0 ||
			    !ap_ct_flow_match(&f, &flt))
				continue;
			if (total++ >= limit)
				continue;
			j = flow_json(&f);
			json_object_set_new(j, "expires_s",
					    json_integer((json_int_t)ticks_s(f.expires - now)));
			json_object_set_new(j, "worker", json_integer(w));
			json_array_append_new(arr, j);
		}
	}
	return json_pack("{s:o, s:i, s:b}", "flows", arr, "total", total, "truncated",
			 total > limit);
}

static const char *const end_names[] = {
	[AP_CT_END_NONE] = "none",	   [AP_CT_END_EXPIRED] = "expired",
	[AP_CT_END_EVICTED] = "evicted",   [AP_CT_END_FLUSHED] = "flushed",
	[AP_CT_END_REOPENED] = "reopened",
};

void
ap_ct_poll(void)
{
	struct ap_ct_event ev[64];
	struct timespec ts;
	double wall;

	if (!ap_ct_conf.events)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	for (unsigned w = 0; w < n_tables; w++) {
		struct rte_ring *r = ap_ct_tables[w]->events;
		unsigned n;

		while (r &&
		       (n = rte_ring_sc_dequeue_burst_elem(r, ev, sizeof(ev[0]), 64, NULL)) > 0)
			for (unsigned i = 0; i < n; i++) {
				unsigned slot = (ct_recent.head + ct_recent.n) % CT_EVENTS_RECENT;

				ev[i].worker = (uint16_t)w;
				if (ct_recent.n == CT_EVENTS_RECENT)
					ct_recent.head = (ct_recent.head + 1) % CT_EVENTS_RECENT;
				else
					ct_recent.n++;
				ct_recent.ev[slot] = ev[i];
				ct_recent.wall[slot] = wall;
				if (ev[i].type == AP_CT_EV_NEW)
					ct_recent.news++;
				else
					ct_recent.destroys++;
			}
	}
}

json_t *
ap_ct_events_json(unsigned limit)
{
	json_t *arr = json_array();
	uint64_t lost = 0;
	unsigned from = ct_recent.n > limit ? ct_recent.n - limit : 0;

	for (unsigned w = 0; w < n_tables; w++)
		lost += ap_ct_tables[w]->st.events_lost;
	for (unsigned k = from; k < ct_recent.n; k++) {
		unsigned slot = (ct_recent.head + k) % CT_EVENTS_RECENT;
		const struct ap_ct_event *e = &ct_recent.ev[slot];
		struct ap_ct_flow f = {
			.key = e->key,
			.orig_lo = e->orig_lo,
			.state = e->state,
			.status = e->status,
			.nat = e->nat,
			.nat_sport = e->nat_sport,
			.nat_dport = e->nat_dport,
			.nat_saddr = e->nat_saddr,
			.nat_daddr = e->nat_daddr,
			.pkts = {e->pkts[0], e->pkts[1]},
			.bytes_lo = {(uint32_t)e->bytes[0], (uint32_t)e->bytes[1]},
			.bytes_hi = {(uint32_t)(e->bytes[0] >> 32), (uint32_t)(e->bytes[1] >> 32)},
		};
		json_t *j = flow_json(&f);

		json_object_set_new(j, "type",
				    json_string(e->type == AP_CT_EV_NEW ? "new" : "destroy"));
		json_object_set_new(j, "time", json_real(ct_recent.wall[slot]));
		json_object_set_new(j, "worker", json_integer(e->worker));
		if (e->type == AP_CT_EV_DESTROY) {
			json_object_set_new(j, "reason", json_string(end_names[e->reason]));
			json_object_set_new(j, "duration_s",
					    json_real(ticks_s(e->ended - e->created)));
		}
		json_array_append_new(arr, j);
	}
	return json_pack("{s:b, s:o, s:I, s:I, s:I}", "enabled", ap_ct_conf.events, "events", arr,
			 "new", (json_int_t)ct_recent.news, "destroy",
			 (json_int_t)ct_recent.destroys, "lost", (json_int_t)lost);
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
		s.handed_off += t->st.handed_off;
		s.handoff_full += t->st.handoff_full;
	}
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:I}",
			 "enabled", ap_ct_conf.enabled, "flows", (json_int_t)flows, "max_flows",
			 (json_int_t)max, "created", (json_int_t)s.created, "expired",
			 (json_int_t)s.expired, "early_drop", (json_int_t)s.early_drop,
			 "table_full", (json_int_t)s.table_full, "invalid", (json_int_t)s.invalid,
			 "flushed", (json_int_t)s.flushed, "related", (json_int_t)s.related,
			 "nat_created", (json_int_t)s.nat_created, "nat_exhausted",
			 (json_int_t)s.nat_exhausted, "out_of_window", (json_int_t)s.out_of_window,
			 "nat_handed_off", (json_int_t)s.handed_off, "nat_handoff_full",
			 (json_int_t)s.handoff_full);
}

/* An address translations take ports on, once. */
static void
nat_xaddr(uint32_t addr, uint16_t lo, uint16_t hi)
{
	for (unsigned i = 0; i < ap_nat_conf.n_xaddr; i++)
		if (ap_nat_conf.xaddr[i].addr == addr)
			return;
	if (ap_nat_conf.n_xaddr == AP_L3_MAX)
		return;
	ap_nat_conf.xaddr[ap_nat_conf.n_xaddr].addr = addr;
	ap_nat_conf.xaddr[ap_nat_conf.n_xaddr].lo = lo;
	ap_nat_conf.xaddr[ap_nat_conf.n_xaddr++].hi = hi;
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
		ap_nat_conf.eim[l3] = m->eim;
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
	for (unsigned k = 0; k < cfg->nat.n_masq; k++)
		ap_nat_conf.outside[l3_of_iface[cfg->nat.masq[k].iface_idx]] = true;
	for (unsigned k = 0; k < cfg->nat.n_fwd; k++)
		ap_nat_conf.outside[l3_of_iface[cfg->nat.fwd[k].iface_idx]] = true;
	for (unsigned k = 0; k < cfg->nat.n_one; k++)
		ap_nat_conf.outside[l3_of_iface[cfg->nat.one[k].iface_idx]] = true;
	/* Where translations take ports: masquerading interfaces with their
	 * ranges, then (hairpin) every interface's address with its own range. */
	for (unsigned l3 = 0; l3 < AP_L3_MAX; l3++)
		if (ap_nat_conf.addr[l3] != 0)
			nat_xaddr(ap_nat_conf.addr[l3], ap_nat_conf.lo[l3], ap_nat_conf.hi[l3]);
	for (unsigned l3 = 0; l3 < AP_L3_MAX; l3++)
		if (ap_nat_conf.if_addr[l3] != 0)
			nat_xaddr(ap_nat_conf.if_addr[l3], AP_NAT_HAIRPIN_LO, AP_NAT_HAIRPIN_HI);
	ap_nat_conf.n_workers = n_tables ? n_tables : 1;
	ap_nat_conf.steer = n_tables > 1;
	ap_nat_conf.enabled = true;
	return 0;
}
