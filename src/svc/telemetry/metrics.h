/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Prometheus text exposition (format 0.0.4) of aetherd's counters, built from
 * the same JSON documents the REST API serves, so /metrics and the API never
 * disagree. Names follow the Prometheus conventions: `aether_` prefix, base
 * units in the name, `_total` on counters. docs/metrics.md lists them all.
 */
#ifndef AP_METRICS_H
#define AP_METRICS_H

#include <jansson.h>
#include <stddef.h>

struct ap_dp;

/** Content-Type of the exposition. */
#define AP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** What the renderer reads. Every document may be NULL (no data plane). */
struct ap_metrics_input {
	const json_t *ports; /**< {"ports":[{name, driver, link_up, rx_packets, ...}]} */
	const json_t *nodes; /**< {"nodes":[{name, calls, packets, cycles}]} */
	const json_t *stats; /**< {"workers": N, "drops": {"reasons": {name: count}}} */
	/** {"routes": {origin: n}, "neighbors": {state: n}, "control": {event: n}} or NULL */
	const json_t *ip;
	/** GET /api/v1/qos: {"classes":[{name, queue_depth, counters: {...}}]} or NULL */
	const json_t *qos;
	/** Conntrack's counters {"enabled", "flows", "max_flows", counter: n...} or NULL */
	const json_t *ct;
	/** GET /api/v1/firewall ({"enabled", "verdicts": {...}}) or NULL */
	const json_t *fw;
	/** GET /api/v1/synproxy ({"enabled", "armed": [...], "counters": {...}}) or NULL */
	const json_t *syn;
	/** Every drop reason, so that reasons never seen still export 0. */
	const char *const *drop_reasons;
	size_t n_drop_reasons;
	double uptime_s;     /**< Seconds since aetherd started. */
	const char *version; /**< Build version for aether_build_info. */
};

/**
 * Render @p in as Prometheus text into a malloc()ed buffer *@p out of *@p len
 * bytes (the caller frees it). @return 0 or -ENOMEM.
 */
int ap_metrics_render_json(const struct ap_metrics_input *in, char **out, size_t *len);

/**
 * Render the metrics of a running data plane (@p dp NULL: only the daemon's
 * own metrics). @return 0 or -ENOMEM.
 */
int ap_metrics_render(struct ap_dp *dp, double uptime_s, char **out, size_t *len);

#endif
