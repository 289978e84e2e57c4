/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SYN proxy's control plane: settings from the config, a fresh cookie
 * key per start, per-worker state hung on the conntrack tables, and the
 * JSON view (armed destinations, blocked sources, counters).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/syn/syn.h"
#include "lib/log.h"

int
ap_syn_start(const struct ap_config *cfg, char *err, size_t err_len)
{
	const struct ap_cfg_syn *c = &cfg->synproxy;

	memset(&ap_syn_conf, 0, sizeof(ap_syn_conf));
	if (!c->enabled)
		return 0;
	ap_syn_conf.always = c->always;
	ap_syn_conf.mss = (uint16_t)c->mss;
	ap_syn_conf.wscale = (uint8_t)c->wscale;
	ap_syn_conf.syn_rate = c->syn_rate;
	ap_syn_conf.half_open = c->half_open;
	ap_syn_conf.disarm_after = c->disarm_after;
	ap_syn_conf.source_rate = c->source_rate;
	ap_syn_conf.source_burst = c->source_burst;
	ap_syn_conf.block_time = c->block_time;
	for (unsigned i = 0; i < c->n_protect; i++) {
		ap_syn_conf.prot[i].family = c->protect[i].prefix.family;
		ap_syn_conf.prot[i].len = c->protect[i].prefix.len;
		memcpy(ap_syn_conf.prot[i].addr, c->protect[i].prefix.addr, 16);
		ap_syn_conf.prot[i].lo = c->protect[i].port_lo;
		ap_syn_conf.prot[i].hi = c->protect[i].port_hi;
	}
	ap_syn_conf.n_prot = c->n_protect;
	ap_syn_conf.tsc_hz = rte_get_tsc_hz();
	if (getrandom(ap_syn_conf.key, sizeof(ap_syn_conf.key), 0) != sizeof(ap_syn_conf.key))
		return ap_errf(err, err_len, -EIO, "synproxy: no random cookie key");
	for (unsigned w = 0; w < AP_MAX_WORKERS; w++) {
		if (ap_ct_tables[w] == NULL)
			continue;
		ap_ct_tables[w]->syn = rte_zmalloc("ap_syn", sizeof(struct ap_syn_state), 0);
		if (ap_ct_tables[w]->syn == NULL)
			return ap_errf(err, err_len, -ENOMEM, "synproxy: no memory for worker %u",
				       w);
	}
	ap_syn_conf.enabled = true;
	return 0;
}

void
ap_syn_stop(void)
{
	memset(&ap_syn_conf, 0, sizeof(ap_syn_conf));
}

static const char *
addr_str(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)len);
}

json_t *
ap_syn_json(void)
{
	uint64_t hz = rte_get_tsc_hz();
	uint32_t sec = hz ? (uint32_t)(rte_rdtsc() / hz) : 0;
	json_t *armed = json_array(), *blocked = json_array(), *prot = json_array();
	struct ap_syn_stats st = {0};
	char buf[INET6_ADDRSTRLEN];

	for (unsigned i = 0; i < ap_syn_conf.n_prot; i++) {
		char p[INET6_ADDRSTRLEN + 4];

		snprintf(p, sizeof(p), "%s/%u",
			 addr_str(ap_syn_conf.prot[i].family, ap_syn_conf.prot[i].addr, buf,
				  sizeof(buf)),
			 ap_syn_conf.prot[i].len);
		json_array_append_new(prot, json_pack("{s:s, s:i, s:i}", "prefix", p, "port_lo",
						      ap_syn_conf.prot[i].lo, "port_hi",
						      ap_syn_conf.prot[i].hi));
	}
	for (unsigned w = 0; w < AP_MAX_WORKERS; w++) {
		const struct ap_syn_state *s = ap_ct_tables[w] ? ap_ct_tables[w]->syn : NULL;

		if (s == NULL)
			continue;
		for (unsigned i = 0; i < AP_SYN_DSTS; i++) {
			const struct ap_syn_dst *d = &s->dst[i];

			if (!d->armed)
				continue;
			json_array_append_new(
				armed, json_pack("{s:s, s:i, s:I, s:I, s:i}", "destination",
						 addr_str(d->family, d->addr, buf, sizeof(buf)),
						 "armed_s", (int)(sec - d->armed_at), "syn_rate",
						 (json_int_t)d->syns_last, "half_open",
						 (json_int_t)d->half_open, "worker", w));
		}
		for (unsigned i = 0; i < AP_SYN_SRCS; i++) {
			const struct ap_syn_src *e = &s->src[i];

			if (e->blocked_until <= sec)
				continue;
			json_array_append_new(
				blocked,
				json_pack("{s:s, s:i, s:i}", "source",
					  addr_str(e->family, e->addr, buf, sizeof(buf)),
					  "expires_s", (int)(e->blocked_until - sec), "worker", w));
		}
		st.syn_seen += s->st.syn_seen;
		st.cookies_sent += s->st.cookies_sent;
		st.cookie_valid += s->st.cookie_valid;
		st.cookie_invalid += s->st.cookie_invalid;
		st.spliced += s->st.spliced;
		st.armed += s->st.armed;
		st.disarmed += s->st.disarmed;
		st.src_blocked += s->st.src_blocked;
		st.blocked_drops += s->st.blocked_drops;
		st.retrans += ap_ct_tables[w]->st.syn_retrans;
	}
	return json_pack(
		"{s:b, s:b, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:I, s:I, s:I, s:I}}",
		"enabled", ap_syn_conf.enabled, "always", ap_syn_conf.always, "mss",
		ap_syn_conf.mss, "wscale", ap_syn_conf.wscale, "syn_rate", ap_syn_conf.syn_rate,
		"half_open", ap_syn_conf.half_open, "disarm_after", ap_syn_conf.disarm_after,
		"protect", prot, "armed", armed, "blocked", blocked, "counters", "syn_received",
		(json_int_t)st.syn_seen, "cookies_sent", (json_int_t)st.cookies_sent,
		"cookies_valid", (json_int_t)st.cookie_valid, "cookies_invalid",
		(json_int_t)st.cookie_invalid, "spliced", (json_int_t)st.spliced, "client_early",
		(json_int_t)st.retrans, "armed", (json_int_t)st.armed, "disarmed",
		(json_int_t)st.disarmed, "sources_blocked", (json_int_t)st.src_blocked,
		"blocked_syns", (json_int_t)st.blocked_drops);
}
