/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus renderer over fake data-plane JSON: every family has HELP
 * and TYPE once, samples carry the right labels and values, every drop
 * reason is exported (zero included), label values are escaped.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "svc/telemetry/metrics.h"

static const char ports_json[] =
	"{\"ports\":["
	"{\"name\":\"lan\",\"id\":0,\"driver\":\"af_packet\",\"mac\":\"02:00:00:00:00:01\","
	"\"link_up\":true,\"rx_packets\":1234567,\"rx_bytes\":98765432,\"tx_packets\":1200000,"
	"\"tx_bytes\":87654321,\"rx_missed\":3,\"rx_errors\":4,\"tx_errors\":5,\"drops\":6},"
	"{\"name\":\"w\\\"an\",\"id\":1,\"driver\":\"af_xdp\",\"mac\":\"02:00:00:00:00:02\","
	"\"link_up\":false,\"rx_packets\":5,\"rx_bytes\":300,\"tx_packets\":7,\"tx_bytes\":420,"
	"\"rx_missed\":0,\"rx_errors\":0,\"tx_errors\":0,\"drops\":0}]}";

static const char nodes_json[] =
	"{\"nodes\":[{\"name\":\"eth-input\",\"calls\":1000,\"packets\":32000,\"cycles\":640000},"
	"{\"name\":\"drop\",\"calls\":10,\"packets\":12,\"cycles\":0}]}";

static const char stats_json[] = "{\"uptime_s\":12.5,\"workers\":2,\"rx_packets\":1,"
				 "\"drops\":{\"total\":9,\"reasons\":{\"eth-runt\":7,"
				 "\"brand-new\":2}}}";

static const char *const reasons[] = {"unspecified", "eth-runt", "ip4-bad-checksum"};

static char *
render(bool with_dp)
{
	json_t *p = json_loads(ports_json, 0, NULL), *n = json_loads(nodes_json, 0, NULL);
	json_t *s = json_loads(stats_json, 0, NULL);
	struct ap_metrics_input in = {.uptime_s = 42.25, .version = "1.2.3"};
	char *out = NULL, *z;
	size_t len = 0;

	cr_assert(p && n && s);
	if (with_dp) {
		in.ports = p;
		in.nodes = n;
		in.stats = s;
		in.drop_reasons = reasons;
		in.n_drop_reasons = 3;
	}
	cr_assert_eq(ap_metrics_render_json(&in, &out, &len), 0);
	cr_assert_eq(strlen(out), len);
	json_decref(p);
	json_decref(n);
	json_decref(s);
	z = out;
	return z;
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n'))
			return true;
	return false;
}

/* @p in rendered: the text, to free. */
static char *
render_in(const struct ap_metrics_input *in)
{
	char *out = NULL;
	size_t len = 0;

	cr_assert_eq(ap_metrics_render_json(in, &out, &len), 0);
	cr_assert_eq(strlen(out), len);
	return out;
}

/* @p in rendered, with each of the @p n @p lines in it: the text, to free. */
static char *
render_with(const struct ap_metrics_input *in, const char *const *lines, size_t n)
{
	char *out = render_in(in);

	for (size_t i = 0; i < n; i++)
		cr_expect(has_line(out, lines[i]), "missing: %s", lines[i]);
	return out;
}

static int
count(const char *text, const char *needle)
{
	int c = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		c++;
	return c;
}

Test(metrics, samples_have_names_labels_and_values)
{
	static const char *const lines[] = {
		"aether_build_info{version=\"1.2.3\"} 1",
		"aether_uptime_seconds 42.250",
		"aether_dataplane_up 1",
		"aether_workers 2",
		"aether_port_info{port=\"lan\",driver=\"af_packet\",mac=\"02:00:00:00:00:01\"} 1",
		"aether_port_link_up{port=\"lan\"} 1",
		"aether_port_link_up{port=\"w\\\"an\"} 0",
		"aether_port_rx_packets_total{port=\"lan\"} 1234567",
		"aether_port_rx_bytes_total{port=\"lan\"} 98765432",
		"aether_port_tx_packets_total{port=\"lan\"} 1200000",
		"aether_port_tx_bytes_total{port=\"lan\"} 87654321",
		"aether_port_tx_bytes_total{port=\"w\\\"an\"} 420",
		"aether_port_rx_missed_total{port=\"lan\"} 3",
		"aether_port_errors_total{port=\"lan\",dir=\"rx\"} 4",
		"aether_port_errors_total{port=\"lan\",dir=\"tx\"} 5",
		"aether_port_drops_total{port=\"lan\"} 6",
		"aether_node_calls_total{node=\"eth-input\"} 1000",
		"aether_node_packets_total{node=\"eth-input\"} 32000",
		"aether_node_cycles_total{node=\"eth-input\"} 640000",
		"aether_node_packets_total{node=\"drop\"} 12",
		"aether_drops_total{reason=\"unspecified\"} 0",
		"aether_drops_total{reason=\"eth-runt\"} 7",
		"aether_drops_total{reason=\"ip4-bad-checksum\"} 0",
		"aether_drops_total{reason=\"brand-new\"} 2",
		"# TYPE aether_port_rx_packets_total counter",
		"# TYPE aether_uptime_seconds gauge",
		"# TYPE aether_drops_total counter",
	};
	char *out = render(true);

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_expect(has_line(out, lines[i]), "missing line: %s\n%s", lines[i], out);
	free(out);
}

Test(metrics, every_family_has_help_and_type_once_before_its_samples)
{
	char *out = render(true), *save = NULL;
	char seen[64][64];
	int n_seen = 0;

	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		bool found = false;

		if (strncmp(line, "# HELP ", 7) == 0) {
			sscanf(line + 7, "%63s", name);
			for (int i = 0; i < n_seen; i++)
				cr_assert_str_neq(seen[i], name, "family %s declared twice", name);
			cr_assert_lt(n_seen, 64);
			strcpy(seen[n_seen++], name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			sscanf(line + 7, "%63s", name);
			cr_assert_str_eq(seen[n_seen - 1], name, "TYPE without HELP: %s", line);
			continue;
		}
		sscanf(line, "%63[^{ ]", name);
		/* Samples belong to the family declared last: families never interleave. */
		found = n_seen > 0 && strcmp(seen[n_seen - 1], name) == 0;
		cr_assert(found, "sample outside its family: %s", line);
		cr_assert(strncmp(name, "aether_", 7) == 0);
	}
	cr_assert_geq(n_seen, 17);
	free(out);
}

Test(metrics, without_a_data_plane_only_daemon_metrics)
{
	char *out = render(false);

	cr_assert(has_line(out, "aether_dataplane_up 0"));
	cr_assert(has_line(out, "aether_build_info{version=\"1.2.3\"} 1"));
	cr_assert_eq(count(out, "aether_port_"), 0);
	cr_assert_eq(count(out, "aether_drops_total"), 0);
	free(out);
}

Test(metrics, qos_classes_by_colour_and_drop_reason)
{
	static const char *const lines[] = {
		"aether_qos_class_packets_total{class=\"bulk\"} 100",
		"aether_qos_class_tx_bytes_total{class=\"bulk\"} 120000",
		"aether_qos_class_policer_packets_total{class=\"bulk\",color=\"red\"} 20",
		"aether_qos_class_drops_total{class=\"bulk\",reason=\"queue_full\"} 2",
		"aether_qos_class_queue_depth{class=\"bulk\"} 17",
		"# TYPE aether_qos_class_queue_depth gauge",
	};
	json_t *q = json_loads(
		"{\"enabled\":true,\"classes\":[{\"name\":\"bulk\",\"queue_depth\":17,"
		"\"counters\":{\"packets\":100,\"bytes\":150000,\"tx_packets\":80,"
		"\"tx_bytes\":120000,\"colors\":{\"green\":70,\"yellow\":10,\"red\":20},"
		"\"drops\":{\"policer\":20,\"host_limit\":1,\"queue_full\":2},\"remarked\":5}}]}",
		0, NULL);
	struct ap_metrics_input in = {.uptime_s = 1, .version = "1", .qos = q};
	char *out;

	cr_assert_not_null(q);
	out = render_with(&in, lines, sizeof(lines) / sizeof(lines[0]));
	cr_expect_eq(count(out, "# TYPE aether_qos_class_drops_total counter"), 1);
	free(out);
	json_decref(q);
}

Test(metrics, routing_and_the_fib6_pool)
{
	static const char *const lines[] = {
		"aether_routes{origin=\"bgp\"} 3",
		"# TYPE aether_fib6_groups gauge",
		"aether_fib6_groups{state=\"used\"} 9",
		"aether_fib6_groups{state=\"retired\"} 1",
		"aether_fib6_groups{state=\"free\"} 6",
		"# TYPE aether_fib6_index_groups gauge",
		"aether_fib6_index_groups{kind=\"run\"} 2",
		"aether_fib6_index_groups{kind=\"group\"} 1",
	};
	json_t *ip = json_loads("{\"routes\":{\"bgp\":3},\"neighbors\":{\"reachable\":1},"
				"\"control\":{\"arp_received\":2},"
				"\"fib6_groups\":{\"used\":9,\"retired\":1,\"free\":6},"
				"\"fib6_index\":{\"run\":2,\"group\":1}}",
				0, NULL);
	struct ap_metrics_input in = {.uptime_s = 1, .version = "1", .ip = ip};
	char *out;

	cr_assert_not_null(ip);
	out = render_with(&in, lines, sizeof(lines) / sizeof(lines[0]));
	free(out);
	json_decref(ip);
}

Test(metrics, conntrack_firewall_and_synproxy)
{
	static const char *const lines[] = {
		"aether_conntrack_flows 12",
		"aether_conntrack_max_flows 65536",
		"aether_conntrack_events_total{event=\"table_full\"} 3",
		"aether_conntrack_events_total{event=\"out_of_window\"} 2",
		"aether_firewall_verdicts_total{verdict=\"rule_reject\"} 4",
		"aether_firewall_memo_hits_total 3",
		"aether_synproxy_armed_destinations 1",
		"aether_synproxy_events_total{event=\"cookies_sent\"} 5000",
	};
	json_t *ct = json_loads("{\"enabled\":true,\"flows\":12,\"max_flows\":65536,\"created\":40,"
				"\"table_full\":3,\"out_of_window\":2}",
				0, NULL);
	json_t *fw = json_loads("{\"enabled\":true,\"verdicts\":{\"established\":900,"
				"\"rule_reject\":4},\"memo_hits\":3}",
				0, NULL);
	json_t *syn = json_loads("{\"enabled\":true,\"armed\":[{\"destination\":\"192.0.2.1\"}],"
				 "\"counters\":{\"cookies_sent\":5000,\"spliced\":7}}",
				 0, NULL);
	json_t *off = json_loads("{\"enabled\":false}", 0, NULL);
	struct ap_metrics_input in = {
		.uptime_s = 1, .version = "1", .ct = ct, .fw = fw, .syn = syn};
	char *out;

	out = render_with(&in, lines, sizeof(lines) / sizeof(lines[0]));
	cr_expect_eq(count(out, "aether_conntrack_events_total{event=\"flows\"}"), 0,
		     "the gauges are not events");
	free(out);
	/* Off: no family at all. */
	in.ct = in.fw = in.syn = off;
	out = render_in(&in);
	cr_expect_eq(count(out, "aether_conntrack"), 0);
	cr_expect_eq(count(out, "aether_firewall"), 0);
	cr_expect_eq(count(out, "aether_synproxy"), 0);
	free(out);
	json_decref(ct);
	json_decref(fw);
	json_decref(syn);
	json_decref(off);
}
