/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QoS classification, policing, marking and the shaper's dequeue (see qos.h);
 * the tables built from the config and the counters the API shows.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dp/qos/qos.h"
#include "pkt/pkt.h"

struct ap_qos ap_qos;

/* Smallest bucket: two full-size frames, so one never waits on its own size. */
#define MIN_DEPTH 3028u
/* Default bucket: 20 ms at the rate, so a worker that the kernel does not
 * run for a while (shared cores) catches up from its queue. */
#define DEFAULT_DEPTH_DIV 50u
/* Idle hosts leave the host tables after this many seconds. */
#define HOST_IDLE_S 30

void
ap_qos_tb_init(struct ap_qos_tb *tb, uint64_t bps, uint64_t depth, uint64_t hz, uint64_t now)
{
	if (depth == 0)
		depth = bps / 8 / DEFAULT_DEPTH_DIV;
	if (depth < MIN_DEPTH)
		depth = MIN_DEPTH;
	tb->depth = (double)depth;
	tb->tokens = tb->depth;
	tb->per_tsc = (double)bps / 8.0 / (double)hz;
	tb->last = now;
}

int
ap_qos_classify(const struct ap_qos_wk *wk, uint8_t family, const uint8_t *l3, uint32_t len,
		uint16_t in, uint16_t out)
{
	const uint8_t *src = l3 + (family == 4 ? 12 : 8);
	const uint8_t *dst = src + (family == 4 ? 4 : 16);
	uint32_t hl = family == 4 ? (uint32_t)(l3[0] & 0xf) * 4 : 40;
	uint8_t proto = family == 4 ? l3[9] : l3[6];
	uint8_t dscp = family == 4 ? l3[1] >> 2 : (uint8_t)((l3[0] << 4) | (l3[1] >> 4)) >> 2;
	bool later = family == 4 && (rte_be_to_cpu_16(*(const uint16_t *)(l3 + 6)) & 0x1fff) != 0;
	bool ports = !later && (proto == 6 || proto == 17) && len >= hl + 4;
	uint16_t sport = ports ? (uint16_t)(l3[hl] << 8 | l3[hl + 1]) : 0;
	uint16_t dport = ports ? (uint16_t)(l3[hl + 2] << 8 | l3[hl + 3]) : 0;

	for (uint16_t i = 0; i < wk->n_classes; i++) {
		const struct ap_qos_class *k = &wk->cls[i];
		const struct ap_cfg_qos_class *c = k->cfg;

		if ((k->in_l3 != AP_L3_MAX && k->in_l3 != in) ||
		    (k->out_l3 != AP_L3_MAX && k->out_l3 != out))
			continue;
		if ((c->proto && c->proto != proto) ||
		    (c->dscp != AP_QOS_DSCP_NONE && c->dscp != dscp))
			continue;
		if ((c->src_s[0] && !ap_cfg_prefix_has(&c->src, family, src)) ||
		    (c->dst_s[0] && !ap_cfg_prefix_has(&c->dst, family, dst)))
			continue;
		if ((c->sport_s[0] || c->dport_s[0]) &&
		    (!ports || sport < c->sport_lo || sport > c->sport_hi || dport < c->dport_lo ||
		     dport > c->dport_hi))
			continue;
		return i;
	}
	return -1;
}

enum rte_color
ap_qos_police(struct ap_qos_class *k, uint64_t now, uint32_t len)
{
	if (k->meter == AP_QOS_SRTCM)
		return rte_meter_srtcm_color_blind_check(&k->sr, k->sr_prof, now, len);
	if (k->meter == AP_QOS_TRTCM)
		return rte_meter_trtcm_color_blind_check(&k->tr, k->tr_prof, now, len);
	return RTE_COLOR_GREEN;
}

void
ap_qos_set_dscp(uint8_t family, uint8_t *l3, uint8_t dscp)
{
	if (family == 4) {
		uint16_t old, nw;

		/* Version/IHL and TOS share a checksum word (RFC 1624 update). */
		memcpy(&old, l3, 2);
		l3[1] = (uint8_t)(dscp << 2 | (l3[1] & 3));
		memcpy(&nw, l3, 2);
		memcpy(l3 + 10,
		       &(uint16_t){ap_csum_update16(*(const uint16_t *)(l3 + 10), old, nw)}, 2);
		return;
	}
	/* IPv6 traffic class: the low 4 bits of byte 0 and the high 4 of byte 1. */
	l3[0] = (uint8_t)((l3[0] & 0xf0) | (dscp >> 2));
	l3[1] = (uint8_t)((l3[1] & 0x3f) | ((dscp & 3) << 6));
}

/* What the shaper charges for a packet: its IP bytes. */
static inline uint32_t
charged_len(struct rte_mbuf *m)
{
	return rte_pktmbuf_pkt_len(m) - ap_mbuf_priv(m)->pi.l3_off;
}

/* Borrowed sends are charged to the ceiling and the interface only, so the
 * guaranteed rate stays whole for the class's next turn. */
static inline void
charge(struct ap_qos_sched *s, struct ap_qos_class *k, uint32_t len)
{
	k->ceil.tokens -= len;
	if (s->has_root) {
		s->root.tokens -= len;
		/* Guaranteed traffic may overdraw the interface; bounded. */
		if (s->root.tokens < -s->root.depth)
			s->root.tokens = -s->root.depth;
	}
	k->c.tx_packets++;
	k->c.tx_bytes += len;
}

static inline void
next_turn(struct ap_qos_sched *s)
{
	s->rr = (uint16_t)((s->rr + 1) % s->n);
	s->turn = false;
}

unsigned
ap_qos_sched_run(struct ap_qos_wk *wk, struct ap_qos_sched *s, uint64_t now, struct rte_mbuf **out,
		 unsigned max)
{
	unsigned n = 0, idle = 0;

	if (s->has_root)
		ap_qos_tb_refill(&s->root, now);
	/* Each class up to its guaranteed rate (and its ceiling). */
	for (uint16_t i = 0; i < s->n; i++) {
		struct ap_qos_class *k = &wk->cls[s->cls[i]];

		ap_qos_tb_refill(&k->rate, now);
		ap_qos_tb_refill(&k->ceil, now);
		while (n < max && k->head != k->tail) {
			struct rte_mbuf *m = k->q[k->head & k->qmask];
			uint32_t len = charged_len(m);

			if (k->rate.tokens < len || k->ceil.tokens < len)
				break;
			k->head++;
			k->rate.tokens -= len;
			charge(s, k, len);
			out[n++] = m;
		}
	}
	/* Spare rate of the interface to classes under their ceiling, by weight:
	 * deficit round robin, a quantum per turn. When the interface runs out
	 * the turn is kept for the next call. Without an interface rate only the
	 * ceilings bound them. */
	while (n < max && idle < s->n) {
		struct ap_qos_class *k = &wk->cls[s->cls[s->rr]];
		struct rte_mbuf *m;
		uint32_t len;

		if (k->head == k->tail || k->ceil.tokens < charged_len(k->q[k->head & k->qmask])) {
			if (k->head == k->tail)
				k->deficit = 0;
			next_turn(s);
			idle++;
			continue;
		}
		m = k->q[k->head & k->qmask];
		len = charged_len(m);
		if (s->has_root && s->root.tokens < len)
			break;
		if (!s->turn) {
			k->deficit += k->quantum;
			s->turn = true;
		}
		if (k->deficit < len) {
			next_turn(s);
			continue;
		}
		k->head++;
		k->deficit -= len;
		charge(s, k, len);
		out[n++] = m;
		idle = 0;
	}
	return n;
}

static void
hosts_free(struct ap_qos_class *k)
{
	rte_hash_free(k->hosts);
	rte_free(k->host_m);
	rte_free(k->host_seen);
	k->hosts = NULL;
}

void
ap_qos_stop(void)
{
	for (unsigned w = 0; w < AP_MAX_WORKERS; w++) {
		struct ap_qos_wk *wk = ap_qos.wk[w];

		if (!wk)
			continue;
		for (uint16_t i = 0; i < wk->n_classes; i++) {
			struct ap_qos_class *k = &wk->cls[i];

			while (k->q && k->head != k->tail)
				rte_pktmbuf_free(k->q[k->head++ & k->qmask]);
			rte_free(k->q);
			hosts_free(k);
			if (w == 0) {
				rte_free(k->sr_prof);
				rte_free(k->tr_prof);
				rte_free(k->host_prof);
			}
		}
		rte_free(wk);
	}
	memset(&ap_qos, 0, sizeof(ap_qos));
}

/* The policer and host-limit profiles of class @p i, for one worker's share. */
static int
class_profiles(const struct ap_cfg_qos *cfg, const struct ap_cfg_qos_class *c, unsigned nw,
	       struct ap_qos_class *k)
{
	if (c->policer_idx >= 0) {
		const struct ap_cfg_qos_policer *p = &cfg->policers[c->policer_idx];

		if (p->type == AP_QOS_SRTCM) {
			struct rte_meter_srtcm_params sp = {
				.cir = p->cir / 8 / nw, .cbs = p->cbs, .ebs = p->ebs};

			k->sr_prof = rte_zmalloc("ap_qos_prof", sizeof(*k->sr_prof), 0);
			if (!k->sr_prof || rte_meter_srtcm_profile_config(k->sr_prof, &sp) != 0)
				return -EINVAL;
		} else {
			struct rte_meter_trtcm_params tp = {.cir = p->cir / 8 / nw,
							    .pir = p->pir / 8 / nw,
							    .cbs = p->cbs,
							    .pbs = p->pbs};

			k->tr_prof = rte_zmalloc("ap_qos_prof", sizeof(*k->tr_prof), 0);
			if (!k->tr_prof || rte_meter_trtcm_profile_config(k->tr_prof, &tp) != 0)
				return -EINVAL;
		}
	}
	if (c->host_rate) {
		struct rte_meter_srtcm_params hp = {
			.cir = c->host_rate / 8 / nw,
			.cbs = c->host_burst ? c->host_burst
					     : RTE_MAX(c->host_rate / 8 / DEFAULT_DEPTH_DIV,
						       (uint64_t)MIN_DEPTH),
			.ebs = 0};

		k->host_prof = rte_zmalloc("ap_qos_prof", sizeof(*k->host_prof), 0);
		if (!k->host_prof || rte_meter_srtcm_profile_config(k->host_prof, &hp) != 0)
			return -EINVAL;
	}
	return 0;
}

static int
class_init(const struct ap_cfg_qos *cfg, unsigned w, uint16_t i, const struct ap_qos_class *first,
	   const uint16_t *l3_of_iface, uint64_t hz, uint64_t now, struct ap_qos_class *k)
{
	const struct ap_cfg_qos_class *c = &cfg->classes[i];
	unsigned nw = ap_qos.n_workers;
	int rc;

	k->cfg = c;
	k->in_l3 = c->in_idx >= 0 ? l3_of_iface[c->in_idx] : AP_L3_MAX;
	k->out_l3 = c->out_idx >= 0 ? l3_of_iface[c->out_idx] : AP_L3_MAX;
	k->meter = -1;
	if (first) {
		k->sr_prof = first->sr_prof;
		k->tr_prof = first->tr_prof;
		k->host_prof = first->host_prof;
	} else {
		rc = class_profiles(cfg, c, nw, k);
		if (rc < 0)
			return rc;
	}
	if (c->policer_idx >= 0) {
		const struct ap_cfg_qos_policer *p = &cfg->policers[c->policer_idx];

		k->meter = (int8_t)p->type;
		k->act[RTE_COLOR_GREEN] = AP_QOS_TRANSMIT;
		k->act[RTE_COLOR_YELLOW] = (uint8_t)p->exceed;
		k->act[RTE_COLOR_RED] = (uint8_t)p->violate;
		k->act_dscp[RTE_COLOR_YELLOW] = p->exceed_dscp;
		k->act_dscp[RTE_COLOR_RED] = p->violate_dscp;
		if (p->type == AP_QOS_SRTCM)
			rc = rte_meter_srtcm_config(&k->sr, k->sr_prof);
		else
			rc = rte_meter_trtcm_config(&k->tr, k->tr_prof);
		if (rc != 0)
			return -EINVAL;
		/* Time as the caller counts it (tests run a simulated clock). */
		k->sr.time = now;
		k->tr.time_tc = now;
		k->tr.time_tp = now;
	}
	if (c->host_rate) {
		char name[RTE_HASH_NAMESIZE];
		struct rte_hash_parameters hp = {
			.name = name,
			.entries = cfg->host_table,
			.key_len = 16,
			.hash_func = rte_hash_crc,
			.socket_id = (int)rte_socket_id(),
		};

		snprintf(name, sizeof(name), "qos_h%u_%u", w, i);
		k->hosts = rte_hash_create(&hp);
		k->host_m = rte_zmalloc("ap_qos_hm", sizeof(*k->host_m) * cfg->host_table, 0);
		k->host_seen = rte_zmalloc("ap_qos_hs", sizeof(uint64_t) * cfg->host_table, 0);
		if (!k->hosts || !k->host_m || !k->host_seen)
			return -ENOMEM;
	}
	if (c->rate) {
		uint32_t size = rte_align32pow2(c->queue);

		k->shaped = true;
		k->qlimit = c->queue;
		k->qmask = size - 1;
		k->q = rte_zmalloc("ap_qos_q", sizeof(*k->q) * size, RTE_CACHE_LINE_SIZE);
		if (!k->q)
			return -ENOMEM;
		ap_qos_tb_init(&k->rate, c->rate / nw, c->burst, hz, now);
		ap_qos_tb_init(&k->ceil, c->ceil / nw, c->burst, hz, now);
		k->quantum = c->weight * 1514u;
	}
	return 0;
}

/* Group worker @p wk's shaped classes by egress interface. */
static void
build_scheds(const struct ap_cfg_qos *cfg, struct ap_qos_wk *wk, const uint16_t *l3_of_iface,
	     const uint16_t *port_of_l3, uint64_t hz, uint64_t now)
{
	for (uint16_t i = 0; i < wk->n_classes; i++) {
		struct ap_qos_class *k = &wk->cls[i];
		struct ap_qos_sched *s = NULL;

		if (!k->shaped)
			continue;
		for (uint16_t j = 0; j < wk->n_sched && !s; j++)
			if (wk->sched[j].out_l3 == k->out_l3)
				s = &wk->sched[j];
		if (!s) {
			s = &wk->sched[wk->n_sched++];
			s->out_l3 = k->out_l3;
			s->port = port_of_l3[k->out_l3];
			for (uint16_t f = 0; f < cfg->n_ifaces; f++)
				if (l3_of_iface[cfg->ifaces[f].iface_idx] == k->out_l3) {
					s->has_root = true;
					ap_qos_tb_init(&s->root,
						       cfg->ifaces[f].rate / ap_qos.n_workers,
						       cfg->ifaces[f].burst, hz, now);
				}
		}
		s->cls[s->n++] = i;
	}
}

int
ap_qos_start(const struct ap_cfg_qos *cfg, unsigned n_workers, const uint16_t *l3_of_iface,
	     const uint16_t *port_of_l3, uint64_t hz, uint64_t now, char *err, size_t err_len)
{
	int rc = 0;

	memset(&ap_qos, 0, sizeof(ap_qos));
	if (!cfg->enabled)
		return 0;
	ap_qos.cfg = cfg;
	ap_qos.n_workers = n_workers ? n_workers : 1;
	for (unsigned w = 0; w < ap_qos.n_workers && rc == 0; w++) {
		struct ap_qos_wk *wk = rte_zmalloc("ap_qos_wk", sizeof(*wk), RTE_CACHE_LINE_SIZE);

		ap_qos.wk[w] = wk;
		if (!wk) {
			rc = -ENOMEM;
			break;
		}
		wk->hz = hz;
		wk->n_classes = cfg->n_classes;
		for (uint16_t i = 0; i < cfg->n_classes && rc == 0; i++)
			rc = class_init(cfg, w, i, w ? &ap_qos.wk[0]->cls[i] : NULL, l3_of_iface,
					hz, now, &wk->cls[i]);
		build_scheds(cfg, wk, l3_of_iface, port_of_l3, hz, now);
		ap_qos.shaping = wk->n_sched > 0;
	}
	if (rc < 0) {
		ap_qos_stop();
		snprintf(err, err_len, "qos: cannot set up classes: %s", strerror(-rc));
		return rc;
	}
	ap_qos.enabled = true;
	return 0;
}

void
ap_qos_housekeeping(unsigned w, uint64_t now)
{
	struct ap_qos_wk *wk = ap_qos.wk[w];

	for (uint16_t i = 0; i < wk->n_classes; i++) {
		struct ap_qos_class *k = &wk->cls[i];
		const void *key;
		void *data;
		int32_t pos;

		if (!k->hosts || k->n_hosts == 0)
			continue;
		/* A few entries per call: the walk stays short. */
		for (int step = 0; step < 16; step++) {
			pos = rte_hash_iterate(k->hosts, &key, &data, &wk->age_pos[i]);
			if (pos < 0) {
				wk->age_pos[i] = 0;
				break;
			}
			if (now - k->host_seen[pos] > HOST_IDLE_S * wk->hz &&
			    rte_hash_del_key(k->hosts, key) >= 0)
				k->n_hosts--;
		}
	}
}

static json_t *
counters_json(uint16_t i, uint64_t *depth, uint64_t *hosts)
{
	struct ap_qos_counters t = {0};

	*depth = 0;
	*hosts = 0;
	for (unsigned w = 0; w < ap_qos.n_workers; w++) {
		const struct ap_qos_class *k = &ap_qos.wk[w]->cls[i];
		const uint64_t *src = (const uint64_t *)&k->c;
		uint64_t *dst = (uint64_t *)&t;

		for (size_t f = 0; f < sizeof(t) / sizeof(uint64_t); f++)
			dst[f] += src[f];
		*depth += k->tail - k->head;
		*hosts += k->n_hosts;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I, s:I}",
			 "packets", (json_int_t)t.packets, "bytes", (json_int_t)t.bytes,
			 "tx_packets", (json_int_t)t.tx_packets, "tx_bytes", (json_int_t)t.tx_bytes,
			 "colors", "green", (json_int_t)t.green, "yellow", (json_int_t)t.yellow,
			 "red", (json_int_t)t.red, "drops", "policer", (json_int_t)t.drop_policer,
			 "host_limit", (json_int_t)t.drop_host, "queue_full",
			 (json_int_t)t.drop_queue, "remarked", (json_int_t)t.remarked,
			 "host_table_full", (json_int_t)t.host_table_full);
}

json_t *
ap_qos_json(void)
{
	static const char *const meter_names[] = {"srtcm", "trtcm"};
	static const char *const act_names[] = {"transmit", "drop", "remark"};
	const struct ap_cfg_qos *cfg = ap_qos.cfg;
	json_t *ifs = json_array(), *pols = json_array(), *classes = json_array();

	if (!ap_qos.enabled) {
		json_decref(ifs);
		json_decref(pols);
		json_decref(classes);
		return json_pack("{s:b}", "enabled", false);
	}
	for (uint16_t f = 0; f < cfg->n_ifaces; f++)
		json_array_append_new(ifs, json_pack("{s:s, s:I}", "name", cfg->ifaces[f].name,
						     "rate_bps", (json_int_t)cfg->ifaces[f].rate));
	for (uint16_t p = 0; p < cfg->n_policers; p++) {
		const struct ap_cfg_qos_policer *pc = &cfg->policers[p];
		json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "name", pc->name, "type",
				      meter_names[pc->type], "cir_bps", (json_int_t)pc->cir, "cbs",
				      (json_int_t)pc->cbs, "exceed", act_names[pc->exceed],
				      "violate", act_names[pc->violate]);

		if (pc->type == AP_QOS_SRTCM)
			json_object_set_new(j, "ebs", json_integer((json_int_t)pc->ebs));
		else {
			json_object_set_new(j, "pir_bps", json_integer((json_int_t)pc->pir));
			json_object_set_new(j, "pbs", json_integer((json_int_t)pc->pbs));
		}
		json_array_append_new(pols, j);
	}
	for (uint16_t i = 0; i < cfg->n_classes; i++) {
		const struct ap_cfg_qos_class *c = &cfg->classes[i];
		uint64_t depth, hosts;
		json_t *j = json_pack("{s:s, s:o}", "name", c->name, "counters",
				      counters_json(i, &depth, &hosts));

		if (c->rate) {
			json_object_set_new(j, "rate_bps", json_integer((json_int_t)c->rate));
			json_object_set_new(j, "ceil_bps", json_integer((json_int_t)c->ceil));
			json_object_set_new(j, "weight", json_integer(c->weight));
			json_object_set_new(j, "queue_limit", json_integer(c->queue));
			json_object_set_new(j, "queue_depth", json_integer((json_int_t)depth));
			json_object_set_new(j, "out", json_string(c->out));
		}
		if (c->policer[0])
			json_object_set_new(j, "policer", json_string(c->policer));
		if (c->set_dscp != AP_QOS_DSCP_NONE)
			json_object_set_new(j, "set_dscp", json_integer(c->set_dscp));
		if (c->host_rate) {
			json_object_set_new(j, "host_rate_bps",
					    json_integer((json_int_t)c->host_rate));
			json_object_set_new(j, "hosts", json_integer((json_int_t)hosts));
		}
		json_array_append_new(classes, j);
	}
	return json_pack("{s:b, s:o, s:o, s:o}", "enabled", true, "interfaces", ifs, "policers",
			 pols, "classes", classes);
}
