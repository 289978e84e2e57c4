/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition 0.0.4: for each metric family one "# HELP" and
 * one "# TYPE" line, then its samples. Families are written whole, one after
 * the other, because the format forbids interleaving samples of two families.
 * Label values escape backslash, double quote and newline; HELP text escapes
 * backslash and newline (exposition format, "Text format details").
 */
#include "svc/telemetry/metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/core/dp_core.h"
#include "dp/dp.h"

#ifndef AP_VERSION
#define AP_VERSION "unknown"
#endif

static void
put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
sample_u64(FILE *f, const char *name, const char *label, const char *value, json_int_t n)
{
	fputs(name, f);
	if (label != NULL) {
		fprintf(f, "{%s=\"", label);
		put_label_value(f, value);
		fputs("\"}", f);
	}
	fprintf(f, " %" JSON_INTEGER_FORMAT "\n", n < 0 ? 0 : n);
}

static json_int_t
int_of(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (json_int_t)json_real_value(v);
	return 0;
}

/* One counter family over a list of objects labelled by their "name". */
static void
per_object(FILE *f, const json_t *list, const char *name, const char *type, const char *help,
	   const char *label, const char *key)
{
	const json_t *o;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	family(f, name, type, help);
	json_array_foreach(list, i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n != NULL)
			sample_u64(f, name, label, n, int_of(o, key));
	}
}

static void
port_errors(FILE *f, const json_t *ports)
{
	static const char *const dirs[][2] = {{"rx", "rx_errors"}, {"tx", "tx_errors"}};
	const json_t *p;
	size_t i;

	if (json_array_size(ports) == 0)
		return;
	family(f, "aether_port_errors_total", "counter",
	       "Packets the port reported as erroneous, by direction.");
	json_array_foreach(ports, i, p)
	{
		const char *n = json_string_value(json_object_get(p, "name"));

		if (n == NULL)
			continue;
		for (unsigned d = 0; d < 2; d++) {
			fputs("aether_port_errors_total{port=\"", f);
			put_label_value(f, n);
			fprintf(f, "\",dir=\"%s\"} %" JSON_INTEGER_FORMAT "\n", dirs[d][0],
				int_of(p, dirs[d][1]));
		}
	}
}

/* A counter family over a list of objects labelled by their "name" and by
 * the keys of their sub-object @p sub (e.g. a class's drops by reason). */
static void
per_object_keyed(FILE *f, const json_t *list, const char *name, const char *help, const char *label,
		 const char *sub, const char *sublabel)
{
	const json_t *o, *v;
	const char *key;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	family(f, name, "counter", help);
	json_array_foreach(list, i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n == NULL)
			continue;
		json_object_foreach((json_t *)json_object_get(o, sub), key, v)
		{
			fprintf(f, "%s{%s=\"", name, label);
			put_label_value(f, n);
			fprintf(f, "\",%s=\"", sublabel);
			put_label_value(f, key);
			fprintf(f, "\"} %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
		}
	}
}

static void
port_info(FILE *f, const json_t *ports)
{
	const json_t *p;
	size_t i;

	if (json_array_size(ports) == 0)
		return;
	family(f, "aether_port_info", "gauge", "Port identity: driver and MAC address (always 1).");
	json_array_foreach(ports, i, p)
	{
		const char *n = json_string_value(json_object_get(p, "name"));
		const char *drv = json_string_value(json_object_get(p, "driver"));
		const char *mac = json_string_value(json_object_get(p, "mac"));

		if (n == NULL)
			continue;
		fputs("aether_port_info{port=\"", f);
		put_label_value(f, n);
		fputs("\",driver=\"", f);
		put_label_value(f, drv ? drv : "");
		fputs("\",mac=\"", f);
		put_label_value(f, mac ? mac : "");
		fputs("\"} 1\n", f);
	}
	family(f, "aether_port_link_up", "gauge", "1 when the port's link is up.");
	json_array_foreach(ports, i, p)
	{
		const char *n = json_string_value(json_object_get(p, "name"));

		if (n != NULL)
			sample_u64(f, "aether_port_link_up", "port", n,
				   json_is_true(json_object_get(p, "link_up")));
	}
}

static void
drops(FILE *f, const struct ap_metrics_input *in)
{
	const json_t *reasons = json_object_get(json_object_get(in->stats, "drops"), "reasons");
	const char *key;
	json_t *v;

	if (in->stats == NULL)
		return;
	family(f, "aether_drops_total", "counter",
	       "Packets dropped by the pipeline, by drop reason.");
	for (size_t i = 0; i < in->n_drop_reasons; i++)
		sample_u64(f, "aether_drops_total", "reason", in->drop_reasons[i],
			   int_of(reasons, in->drop_reasons[i]));
	/* A reason the list does not know (newer data plane) is still exported. */
	json_object_foreach((json_t *)reasons, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < in->n_drop_reasons && !known; i++)
			known = strcmp(in->drop_reasons[i], key) == 0;
		if (!known)
			sample_u64(f, "aether_drops_total", "reason", key, int_of(reasons, key));
	}
}

/* One family over an object's keys: {key: n} as NAME{LABEL="key"} n. */
static void
keyed(FILE *f, const json_t *obj, const char *name, const char *type, const char *label,
      const char *help)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return;
	family(f, name, type, help);
	json_object_foreach((json_t *)obj, key, v)
		sample_u64(f, name, label, key, json_integer_value(v));
}

static void
routing(FILE *f, const struct ap_metrics_input *in)
{
	if (in->ip == NULL)
		return;
	keyed(f, json_object_get(in->ip, "routes"), "aether_routes", "gauge", "origin",
	      "Routes in the FIBs, by origin.");
	keyed(f, json_object_get(in->ip, "neighbors"), "aether_neighbors", "gauge", "state",
	      "ARP and neighbour-discovery entries, by state.");
	keyed(f, json_object_get(in->ip, "control"), "aether_ip_control_events_total", "counter",
	      "event",
	      "What the routing control plane did (ARP and ND handled, ICMP errors, held "
	      "packets, fragments, punt path), by event.");
	keyed(f, json_object_get(in->ip, "fib6_groups"), "aether_fib6_groups", "gauge", "state",
	      "The IPv6 FIB's 256-entry groups (dataplane.fib6.tbl8): in the trie, waiting for "
	      "a grace period, free.");
	keyed(f, json_object_get(in->ip, "fib6_index"), "aether_fib6_index_groups", "gauge", "kind",
	      "Level-3 groups (/41-/48) in the IPv6 FIB's jump index: resolved by the index "
	      "itself (run), or named by it (group).");
}

/* QoS classes: the API's counters, one family each. */
static void
qos(FILE *f, const struct ap_metrics_input *in)
{
	static const char *const counters[][3] = {
		{"packets", "aether_qos_class_packets_total", "Packets the QoS class matched."},
		{"bytes", "aether_qos_class_bytes_total", "IP bytes the QoS class matched."},
		{"tx_packets", "aether_qos_class_tx_packets_total",
		 "Packets that left the QoS class (sent on or dequeued)."},
		{"tx_bytes", "aether_qos_class_tx_bytes_total",
		 "IP bytes that left the QoS class (sent on or dequeued)."},
		{"remarked", "aether_qos_class_remarked_total",
		 "Packets whose DSCP the QoS class rewrote."},
	};
	const json_t *classes = json_object_get(in->qos, "classes");
	json_t *flat = json_array(), *c;
	size_t i;

	if (json_array_size(classes) == 0) {
		json_decref(flat);
		return;
	}
	/* Counters sit in a sub-object per class: flattened for per_object(). */
	json_array_foreach(classes, i, c)
	{
		json_t *o = json_deep_copy(json_object_get(c, "counters"));

		json_object_set(o, "name", json_object_get(c, "name"));
		json_object_set_new(o, "queue_depth", json_integer(int_of(c, "queue_depth")));
		json_array_append_new(flat, o);
	}
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
		per_object(f, flat, counters[k][1], "counter", counters[k][2], "class",
			   counters[k][0]);
	per_object_keyed(f, flat, "aether_qos_class_policer_packets_total",
			 "Packets the QoS class's policer coloured, by colour.", "class", "colors",
			 "color");
	per_object_keyed(f, flat, "aether_qos_class_drops_total",
			 "Packets the QoS class dropped, by reason (policer, host_limit, "
			 "queue_full).",
			 "class", "drops", "reason");
	per_object(f, flat, "aether_qos_class_queue_depth", "gauge",
		   "Packets waiting in the QoS class's queue.", "class", "queue_depth");
	json_decref(flat);
}

/* Conntrack, the firewall's verdicts and the SYN proxy, when they are on. */
static void
stateful(FILE *f, const struct ap_metrics_input *in)
{
	if (json_is_true(json_object_get(in->ct, "enabled"))) {
		json_t *ev = json_deep_copy(in->ct);

		family(f, "aether_conntrack_flows", "gauge", "Flows in the connection tables.");
		sample_u64(f, "aether_conntrack_flows", NULL, NULL, int_of(in->ct, "flows"));
		family(f, "aether_conntrack_max_flows", "gauge",
		       "Room in the connection tables (all workers).");
		sample_u64(f, "aether_conntrack_max_flows", NULL, NULL,
			   int_of(in->ct, "max_flows"));
		json_object_del(ev, "enabled");
		json_object_del(ev, "flows");
		json_object_del(ev, "max_flows");
		keyed(f, ev, "aether_conntrack_events_total", "counter", "event",
		      "What the connection tables did (flows created, expired, evicted early, "
		      "refused with the table full, invalid packets, ICMP errors related, flows "
		      "translated, ...), by event.");
		json_decref(ev);
	}
	if (json_is_true(json_object_get(in->fw, "enabled"))) {
		keyed(f, json_object_get(in->fw, "verdicts"), "aether_firewall_verdicts_total",
		      "counter", "verdict",
		      "Firewall decisions: established/related passed, rule and policy "
		      "accept/drop/reject, by verdict.");
		family(f, "aether_firewall_memo_hits_total", "counter",
		       "Rule and policy verdicts taken from the flow's memo of its "
		       "classification, without classifying (counted in the verdicts too).");
		sample_u64(f, "aether_firewall_memo_hits_total", NULL, NULL,
			   int_of(in->fw, "memo_hits"));
	}
	if (json_is_true(json_object_get(in->syn, "enabled"))) {
		family(f, "aether_synproxy_armed_destinations", "gauge",
		       "Destinations the SYN proxy is armed for.");
		sample_u64(f, "aether_synproxy_armed_destinations", NULL, NULL,
			   (json_int_t)json_array_size(json_object_get(in->syn, "armed")));
		keyed(f, json_object_get(in->syn, "counters"), "aether_synproxy_events_total",
		      "counter", "event",
		      "SYN proxy: SYNs received, cookies sent, valid and invalid, connections "
		      "spliced, arming and disarming, sources blocked, by event.");
	}
}

int
ap_metrics_render_json(const struct ap_metrics_input *in, char **out, size_t *len)
{
	const json_t *ports = json_object_get(in->ports, "ports");
	const json_t *nodes = json_object_get(in->nodes, "nodes");
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	f = open_memstream(&buf, &n);
	if (f == NULL)
		return -ENOMEM;
	family(f, "aether_build_info", "gauge", "aetherd build information (always 1).");
	fputs("aether_build_info{version=\"", f);
	put_label_value(f, in->version ? in->version : AP_VERSION);
	fputs("\"} 1\n", f);
	family(f, "aether_uptime_seconds", "gauge", "Seconds since aetherd started.");
	fprintf(f, "aether_uptime_seconds %.3f\n", in->uptime_s);
	family(f, "aether_dataplane_up", "gauge", "1 when the data plane is running.");
	fprintf(f, "aether_dataplane_up %d\n", in->stats != NULL);
	if (in->stats != NULL) {
		family(f, "aether_workers", "gauge", "Data-plane worker lcores.");
		fprintf(f, "aether_workers %" JSON_INTEGER_FORMAT "\n",
			int_of(in->stats, "workers"));
		family(f, "aether_worker_idle_sleeps_total", "counter",
		       "Sleeps of idle workers (dataplane.poll_sleep_us).");
		fprintf(f, "aether_worker_idle_sleeps_total %" JSON_INTEGER_FORMAT "\n",
			int_of(in->stats, "idle_sleeps"));
	}

	port_info(f, ports);
	per_object(f, ports, "aether_port_rx_packets_total", "counter",
		   "Packets received on the port.", "port", "rx_packets");
	per_object(f, ports, "aether_port_rx_bytes_total", "counter", "Bytes received on the port.",
		   "port", "rx_bytes");
	per_object(f, ports, "aether_port_tx_packets_total", "counter", "Packets sent on the port.",
		   "port", "tx_packets");
	per_object(f, ports, "aether_port_tx_bytes_total", "counter", "Bytes sent on the port.",
		   "port", "tx_bytes");
	per_object(f, ports, "aether_port_rx_missed_total", "counter",
		   "Packets the port dropped because its RX queue was full.", "port", "rx_missed");
	port_errors(f, ports);
	per_object(f, ports, "aether_port_drops_total", "counter",
		   "Packets received on the port and dropped by the pipeline.", "port", "drops");

	per_object(f, nodes, "aether_node_calls_total", "counter",
		   "Times the graph node ran (one call processes a burst).", "node", "calls");
	per_object(f, nodes, "aether_node_packets_total", "counter",
		   "Packets processed by the graph node.", "node", "packets");
	per_object(f, nodes, "aether_node_cycles_total", "counter",
		   "CPU cycles spent in the graph node (0 unless dataplane.node_cycles is on).",
		   "node", "cycles");
	drops(f, in);
	routing(f, in);
	qos(f, in);
	stateful(f, in);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = n;
	return 0;
}

int
ap_metrics_render(struct ap_dp *dp, double uptime_s, char **out, size_t *len)
{
	const char *reasons[AP_DROP_COUNT];
	struct ap_metrics_input in = {.uptime_s = uptime_s, .version = AP_VERSION};
	json_t *ports = NULL, *nodes = NULL, *stats = NULL, *ip = NULL, *qj = NULL, *ct = NULL;
	json_t *fw = NULL, *syn = NULL;
	int ret;

	if (dp != NULL) {
		ports = ap_dp_ports_json(dp);
		nodes = ap_dp_nodes_json(dp);
		stats = ap_dp_stats_json(dp);
		ip = ap_dp_ip_stats_json(dp);
		qj = ap_dp_qos_json(dp);
		ct = ap_dp_conntrack_stats_json(dp);
		fw = ap_dp_firewall_json(dp);
		syn = ap_dp_synproxy_json(dp);
		/* Reason 0 is "dropped without a reason": exported like the others. */
		for (unsigned r = 0; r < AP_DROP_COUNT; r++)
			reasons[r] = ap_drop_name((enum ap_drop_reason)r);
		in.drop_reasons = reasons;
		in.n_drop_reasons = AP_DROP_COUNT;
	}
	in.ports = ports;
	in.nodes = nodes;
	in.stats = stats;
	in.ip = ip;
	in.qos = qj;
	in.ct = ct;
	in.fw = fw;
	in.syn = syn;
	ret = ap_metrics_render_json(&in, out, len);
	json_decref(syn);
	json_decref(fw);
	json_decref(ct);
	json_decref(qj);
	json_decref(ip);
	json_decref(ports);
	json_decref(nodes);
	json_decref(stats);
	return ret;
}
