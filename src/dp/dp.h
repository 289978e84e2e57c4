/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The data plane as aetherd sees it: bring up EAL, ports and one rte_graph per
 * worker lcore from a config, run, report counters, stop.
 */
#ifndef AP_DP_H
#define AP_DP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

struct ap_dp;

struct ap_dp_opts {
	const char *prog;      /**< argv[0], for EAL. */
	const char *log_level; /**< EAL log level: "error".."debug". */
	bool offline;	       /**< Every port is pcap: stop at end of input, one worker. */
};

/**
 * Initialise EAL (hugepages when present, otherwise --no-huge with a unique
 * file prefix), create the packet pool, probe and start every port, build the
 * graphs and launch the workers.
 *
 * @return 0, or a negative errno with @p err filled ("port 'lan': ...").
 */
int ap_dp_start(const struct ap_config *cfg, const struct ap_dp_opts *opts, struct ap_dp **out,
		char *err, size_t err_len);

/** True in offline mode once every packet of every input capture went through. */
bool ap_dp_input_done(struct ap_dp *dp);

/** Stop workers and ports (flushes pcap output), keep counters readable. */
void ap_dp_stop(struct ap_dp *dp);

/** Free everything and clean up EAL. */
void ap_dp_destroy(struct ap_dp *dp);

/**
 * Control-plane work of the data plane: packets punted by the workers
 * (ARP, neighbour discovery, ICMP errors). Called from the main loop often
 * (every millisecond) when ap_dp_routed().
 */
void ap_dp_poll(struct ap_dp *dp);

/** True when the data plane routes (has L3 interfaces). */
bool ap_dp_routed(const struct ap_dp *dp);

/** Sample counters (called once a second by the control plane for rates). */
void ap_dp_sample(struct ap_dp *dp);

/** `{"ports":[...]}` as served by GET /api/v1/ports. New reference. */
json_t *ap_dp_ports_json(struct ap_dp *dp);
/** `{"nodes":[...]}` as served by GET /api/v1/nodes. */
json_t *ap_dp_nodes_json(struct ap_dp *dp);
/** `{"uptime_s":..,"rx_packets":..,"drops":{..}}` as served by GET /api/v1/stats. */
json_t *ap_dp_stats_json(struct ap_dp *dp);
/** `{"interfaces":[...]}`: L3 interfaces (GET /api/v1/interfaces). */
json_t *ap_dp_ifaces_json(struct ap_dp *dp);
/** `{"routes":[...]}`, all or those for @p prefix (GET /api/v1/routes). */
json_t *ap_dp_routes_json(struct ap_dp *dp, const char *prefix);
/** Add or replace a route at runtime; 0 or -errno with @p err set. */
int ap_dp_route_add(struct ap_dp *dp, const struct ap_cfg_route *r, char *err, size_t err_len);
/**
 * Apply what a reload may change in the data plane: the firewall's rules,
 * zones and policies (compiled, then published whole; conntrack keeps its
 * flows), then the static routes (removed, changed and added as a diff,
 * while traffic flows). The caller
 * has checked that nothing else the data plane owns changed.
 */
int ap_dp_reconfigure(struct ap_dp *dp, const struct ap_config *cfg, char *err, size_t err_len);
/** Remove a static or runtime route; 0 or -errno with @p err set. */
int ap_dp_route_del(struct ap_dp *dp, const struct ap_cfg_prefix *p, char *err, size_t err_len);
/** Add (@p add) or remove an address of a routed interface at runtime. 0 or -errno. */
int ap_dp_addr_change(struct ap_dp *dp, const char *iface, const struct ap_cfg_prefix *p, bool add,
		      char *err, size_t err_len);
/** Routing counts for /metrics (routes, neighbours, control events), or NULL
 * when the data plane does not route. */
json_t *ap_dp_ip_stats_json(struct ap_dp *dp);
/** `{"bridges":[...]}` (GET /api/v1/bridges). */
json_t *ap_dp_bridges_json(struct ap_dp *dp);
/** `{"macs":[...]}` of bridge @p name (NULL: all), or NULL when there is no such bridge. */
json_t *ap_dp_macs_json(struct ap_dp *dp, const char *name);
/** Forget the learned MACs of bridge @p name (NULL: all). @return how many, or -ENOENT. */
int ap_dp_macs_flush(struct ap_dp *dp, const char *name);
/** `{"flows":[...], "total", "truncated", "stats"}` (GET /api/v1/conntrack), filtered by
 * protocol name, address and port (NULL / 0: any), at most @p limit flows. */
json_t *ap_dp_conntrack_json(struct ap_dp *dp, const char *proto, const char *addr, unsigned port,
			     unsigned limit);
/** The firewall: zones, policies, rules with hit counters, verdicts (GET /api/v1/firewall). */
json_t *ap_dp_firewall_json(struct ap_dp *dp);
/** The SYN proxy: settings, armed destinations, blocked sources, counters. */
json_t *ap_dp_synproxy_json(struct ap_dp *dp);
/** QoS classes and policers with their counters (GET /api/v1/qos). */
json_t *ap_dp_qos_json(struct ap_dp *dp);
/** Recent firewall log records (GET /api/v1/firewall/log). */
json_t *ap_dp_firewall_log_json(struct ap_dp *dp);
/** Flush every connection table. @return flows there were. */
int ap_dp_conntrack_flush(struct ap_dp *dp, const char *proto, const char *addr, unsigned port);
/** The connection tables' counters (no walk over the flows). */
json_t *ap_dp_conntrack_stats_json(struct ap_dp *dp);
/** The latest conntrack events (GET /api/v1/conntrack/events). */
json_t *ap_dp_conntrack_events_json(struct ap_dp *dp, unsigned limit);
/** `{"neighbors":[...]}` (GET /api/v1/neighbors). */
json_t *ap_dp_neighbors_json(struct ap_dp *dp);
/**
 * Trace the next @p count packets each worker receives that match @p filter
 * (tcpdump syntax; NULL or empty: all; 0 stops tracing), forgetting what was
 * recorded before. 0 or -errno with @p err set (-EINVAL: bad filter).
 */
int ap_dp_trace_start(struct ap_dp *dp, unsigned count, const char *filter, char *err,
		      size_t err_len);
/** `{"active": bool, "packets": [{"id", "worker", "path": [{node, event, ...}]}]}` */
json_t *ap_dp_trace_json(struct ap_dp *dp);
/**
 * Copy the next @p count packets of @p port (received when @p rx, sent when
 * @p tx) into the pcapng file @p file (created, mode 0600).
 * @return 0, -EBUSY (one capture at a time), -ENOENT (no such port), -errno.
 */
int ap_dp_capture_start(struct ap_dp *dp, const char *port, const char *file, uint64_t count,
			bool rx, bool tx, const char *filter, char *err, size_t err_len);
/** Stop the running capture and close its file. */
void ap_dp_capture_stop(struct ap_dp *dp);
/** `{"active", "port", "file", "written", "count", "dropped"}` */
json_t *ap_dp_capture_json(struct ap_dp *dp);
struct ap_svc_fib;
/** The FIB sink for routing protocols, or NULL when nothing routes. */
const struct ap_svc_fib *ap_dp_fib(struct ap_dp *dp);
/** Whole run summary (offline mode output, `--summary`). */
json_t *ap_dp_summary_json(struct ap_dp *dp);

#endif
