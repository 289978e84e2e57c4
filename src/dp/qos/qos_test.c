/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * QoS: srTCM and trTCM colours against RFC 2697 / RFC 2698 with a controlled
 * clock, the shaper's rate and weight sharing in simulated time, class
 * matching, and the qos: section's errors with their positions.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "dp/core/dp_core.h"
#include "dp/qos/qos.h"
#include "lib/config.h"

#define BASE 1000000000ull

static struct ap_config cfg;
static uint16_t l3_of_iface[AP_CFG_MAX_IFACES] = {0, 1, 2, 3};
static uint16_t port_of_l3[AP_L3_MAX];
static struct rte_mempool *pool;

static void
eal_setup(void)
{
	char prefix[64];
	char *argv[] = {"qos_test",	     "--no-huge",      "-m", "64",
			"--no-pci",	     "--no-telemetry", "-l", "0",
			"--log-level=error", prefix,	       NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=qostest-%d", (int)getpid());
	cr_assert_geq(rte_eal_init(10, argv), 0);
	pool = rte_pktmbuf_pool_create("qos_test", 4096, 0,
				       RTE_ALIGN(sizeof(struct ap_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
				       2048, 0);
	cr_assert_not_null(pool);
}

static void
eal_teardown(void)
{
	ap_qos_stop();
	rte_mempool_free(pool);
	ap_eal_cleanup();
}

/* Parse @p qos (the qos: section's body) over two interfaces and start QoS at BASE. */
static void
start(const char *qos)
{
	char buf[4096], err[AP_CFG_ERR_MAX];
	int n = snprintf(buf, sizeof(buf),
			 "ports: [{name: a, driver: null}, {name: b, driver: null}]\n"
			 "interfaces:\n"
			 "  - {name: lan, port: a, addresses: [10.0.0.1/24]}\n"
			 "  - {name: wan, port: b, addresses: [10.0.1.1/24]}\n"
			 "qos:\n%s",
			 qos);

	cr_assert_eq(ap_config_load_buf("t.yaml", buf, (size_t)n, &cfg, err), 0, "%s", err);
	cr_assert_eq(ap_qos_start(&cfg.qos, 1, l3_of_iface, port_of_l3, rte_get_tsc_hz(), BASE, err,
				  sizeof(err)),
		     0, "%s", err);
}

static uint64_t
at_us(uint64_t us)
{
	return BASE + us * rte_get_tsc_hz() / 1000000;
}

struct color_step {
	uint64_t us; /* time of the packet */
	uint32_t len;
	enum rte_color want;
};

static void
run_colors(const struct color_step *steps, size_t n)
{
	struct ap_qos_class *k = &ap_qos.wk[0]->cls[0];

	for (size_t i = 0; i < n; i++)
		cr_expect_eq(ap_qos_police(k, at_us(steps[i].us), steps[i].len), steps[i].want,
			     "step %zu (%" PRIu64 " us, %u bytes)", i, steps[i].us, steps[i].len);
}

TestSuite(qos_meter, .init = eal_setup, .fini = eal_teardown);

/* RFC 2697 §4 color-blind: green when Tc >= B (Tc -= B), else yellow when
 * Te >= B (Te -= B), else red; Tc fills at CIR up to CBS, the overflow fills
 * Te up to EBS. CIR 8 Mbit/s = 1000 bytes per ms. */
Test(qos_meter, srtcm_rfc2697)
{
	static const struct color_step steps[] = {
		{0, 1500, RTE_COLOR_GREEN},	 /* Tc 3000 -> 1500 */
		{0, 1500, RTE_COLOR_GREEN},	 /* Tc 0 */
		{0, 1500, RTE_COLOR_YELLOW},	 /* Te 2000 -> 500 */
		{0, 1500, RTE_COLOR_RED},	 /* neither bucket holds it */
		{0, 500, RTE_COLOR_YELLOW},	 /* Te 0 */
		{0, 64, RTE_COLOR_RED},		 /* both empty */
		{1000, 900, RTE_COLOR_GREEN},	 /* 1 ms: Tc 1000 -> 100 */
		{1000, 200, RTE_COLOR_RED},	 /* Tc 100, Te 0 */
		{20000, 3000, RTE_COLOR_GREEN},	 /* 19 ms later both full: Tc 3000 -> 0 */
		{20000, 2000, RTE_COLOR_YELLOW}, /* Te 2000 -> 0 */
		{20000, 64, RTE_COLOR_RED},
	};

	start("  policers: [{name: p, type: srtcm, cir: 8mbit, cbs: 3000, ebs: 2000}]\n"
	      "  classes: [{name: c, policer: p}]\n");
	run_colors(steps, RTE_DIM(steps));
}

/* RFC 2698 §3 color-blind: red when Tp < B, else yellow when Tc < B
 * (Tp -= B), else green (Tp -= B, Tc -= B); Tp fills at PIR up to PBS,
 * Tc at CIR up to CBS. CIR 1000 and PIR 2000 bytes per ms. */
Test(qos_meter, trtcm_rfc2698)
{
	static const struct color_step steps[] = {
		{0, 1500, RTE_COLOR_GREEN},  /* Tc 2000 -> 500, Tp 4000 -> 2500 */
		{0, 1500, RTE_COLOR_YELLOW}, /* Tc 500 < 1500; Tp -> 1000 */
		{0, 1500, RTE_COLOR_RED},    /* Tp 1000 < 1500 */
		{0, 1000, RTE_COLOR_YELLOW}, /* Tc 500 < 1000; Tp -> 0 */
		{0, 64, RTE_COLOR_RED},
		{1000, 1500, RTE_COLOR_GREEN},	/* Tc 1500 -> 0, Tp 2000 -> 500 */
		{1000, 600, RTE_COLOR_RED},	/* Tp 500 < 600 */
		{1000, 500, RTE_COLOR_YELLOW},	/* Tc 0 < 500; Tp -> 0 */
		{10000, 2000, RTE_COLOR_GREEN}, /* both full again */
	};

	start("  policers: [{name: p, type: trtcm, cir: 8mbit, cbs: 2000, pir: 16mbit, "
	      "pbs: 4000}]\n"
	      "  classes: [{name: c, policer: p}]\n");
	run_colors(steps, RTE_DIM(steps));
}

/* A sustained flow far above CIR passes about CIR (plus the bursts). */
Test(qos_meter, srtcm_long_run_passes_cir)
{
	struct ap_qos_class *k;
	uint64_t green = 0;

	start("  policers: [{name: p, type: srtcm, cir: 10mbit, cbs: 16k}]\n"
	      "  classes: [{name: c, policer: p}]\n");
	k = &ap_qos.wk[0]->cls[0];
	/* 1000-byte packets every 100 us (80 Mbit/s) for 1 s. */
	for (uint64_t us = 0; us < 1000000; us += 100)
		if (ap_qos_police(k, at_us(us), 1000) == RTE_COLOR_GREEN)
			green += 1000;
	cr_expect(green >= 1250000 && green <= 1250000 + 16384 + 1000, "green %" PRIu64, green);
}

/* Shaper, in simulated time. */

static struct rte_mbuf *
frame(uint32_t ip_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	cr_assert_not_null(m);
	rte_pktmbuf_append(m, (uint16_t)(ip_len + 14));
	ap_mbuf_priv(m)->pi.l3_off = 14;
	return m;
}

/* Keep class @p cls backlogged with 1500-byte packets; run the scheduler
 * every 50 us of simulated time for @p ms; bytes sent per class into @p sent. */
static void
shape(const unsigned *cls, unsigned n_cls, unsigned ms, uint64_t *sent)
{
	struct ap_qos_wk *wk = ap_qos.wk[0];
	struct rte_mbuf *out[64];

	for (unsigned i = 0; i < n_cls; i++) {
		sent[i] = 0;
		while (ap_qos_enqueue(&wk->cls[cls[i]], frame(1500)))
			;
	}
	for (uint64_t us = 50; us <= ms * 1000ull; us += 50) {
		for (uint16_t s = 0; s < wk->n_sched; s++) {
			unsigned n = ap_qos_sched_run(wk, &wk->sched[s], at_us(us), out, 64);

			for (unsigned j = 0; j < n; j++) {
				for (unsigned i = 0; i < n_cls; i++) {
					struct ap_qos_class *k = &wk->cls[cls[i]];

					/* Refill the class the packet left. */
					if (k->tail - k->head < k->qlimit &&
					    k->c.tx_packets * 1500 > sent[i]) {
						sent[i] += 1500;
						cr_assert(ap_qos_enqueue(k, out[j]));
						break;
					}
				}
			}
		}
	}
}

TestSuite(qos_shaper, .init = eal_setup, .fini = eal_teardown);

Test(qos_shaper, rate_accuracy)
{
	static const unsigned cls[] = {0, 1};
	uint64_t sent[2];

	start("  classes:\n"
	      "    - {name: a, match: {out: wan, proto: tcp}, rate: 20mbit, queue: 64}\n"
	      "    - {name: b, match: {out: wan}, rate: 5mbit, queue: 64}\n");
	shape(cls, 2, 2000, sent);
	/* 2 s at 20 and 5 Mbit/s within 1 %; the first bucket (20 ms) comes on top. */
	cr_expect(sent[0] >= 4950000 && sent[0] <= 5050000 + 50000, "a sent %" PRIu64, sent[0]);
	cr_expect(sent[1] >= 1237500 && sent[1] <= 1262500 + 12500, "b sent %" PRIu64, sent[1]);
}

/* Interface at 10 Mbit/s; each class guaranteed 1 Mbit/s and may borrow to
 * 100: the 8 Mbit/s spare goes 1:3, so 3 and 7 Mbit/s. */
Test(qos_shaper, weights_share_spare_rate)
{
	static const unsigned cls[] = {0, 1};
	uint64_t sent[2];

	start("  interfaces: [{name: wan, rate: 10mbit}]\n"
	      "  classes:\n"
	      "    - {name: a, match: {out: wan}, rate: 1mbit, ceil: 100mbit, weight: 1}\n"
	      "    - {name: b, match: {out: wan, dscp: 46}, rate: 1mbit, ceil: 100mbit, "
	      "weight: 3}\n");
	shape(cls, 2, 2000, sent);
	cr_expect(sent[0] >= 750000 * 0.95 && sent[0] <= 750000 * 1.05, "a sent %" PRIu64, sent[0]);
	cr_expect(sent[1] >= 1750000 * 0.95 && sent[1] <= 1750000 * 1.05, "b sent %" PRIu64,
		  sent[1]);
}

/* Ceil bounds a class even when the interface has room. */
Test(qos_shaper, ceil_bounds_borrowing)
{
	static const unsigned cls[] = {0};
	uint64_t sent[1];

	start("  interfaces: [{name: wan, rate: 100mbit}]\n"
	      "  classes: [{name: a, match: {out: wan}, rate: 2mbit, ceil: 4mbit}]\n");
	shape(cls, 1, 1000, sent);
	cr_expect(sent[0] >= 500000 * 0.98 && sent[0] <= 500000 * 1.02 + 10000, "a sent %" PRIu64,
		  sent[0]);
}

/* Classification. */

TestSuite(qos_match, .init = eal_setup, .fini = eal_teardown);

static uint8_t *
ip4(uint8_t *b, uint8_t tos, uint8_t proto, const char *src, const char *dst, uint16_t sport,
    uint16_t dport)
{
	memset(b, 0, 64);
	b[0] = 0x45;
	b[1] = tos;
	b[3] = 40;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	return b;
}

Test(qos_match, first_matching_class_wins)
{
	const struct ap_qos_wk *wk;
	uint8_t b[64], b6[80] = {0};

	start("  classes:\n"
	      "    - {name: voice, match: {dscp: 46}}\n"
	      "    - {name: web, match: {proto: tcp, dport: 80-443, dst: 10.0.1.0/24}}\n"
	      "    - {name: from-lan, match: {in: lan, out: wan, src: 10.0.0.0/24}}\n"
	      "    - {name: v6, match: {src: 'fd00::/16', proto: udp, sport: 53}}\n");
	wk = ap_qos.wk[0];
	cr_expect_eq(
		ap_qos_classify(wk, 4, ip4(b, 46 << 2, 6, "1.1.1.1", "2.2.2.2", 1, 2), 40, 9, 9),
		0);
	cr_expect_eq(
		ap_qos_classify(wk, 4, ip4(b, 0, 6, "1.1.1.1", "10.0.1.7", 999, 443), 40, 9, 9), 1);
	/* Port out of range, wrong protocol. */
	cr_expect_eq(
		ap_qos_classify(wk, 4, ip4(b, 0, 6, "1.1.1.1", "10.0.1.7", 999, 8080), 40, 9, 9),
		-1);
	cr_expect_eq(
		ap_qos_classify(wk, 4, ip4(b, 0, 17, "1.1.1.1", "10.0.1.7", 999, 80), 40, 9, 9),
		-1);
	/* Interfaces: lan is L3 id 0, wan 1. */
	cr_expect_eq(ap_qos_classify(wk, 4, ip4(b, 0, 17, "10.0.0.5", "8.8.8.8", 1, 2), 40, 0, 1),
		     2);
	cr_expect_eq(ap_qos_classify(wk, 4, ip4(b, 0, 17, "10.0.0.5", "8.8.8.8", 1, 2), 40, 1, 1),
		     -1);
	/* Non-first fragments have no ports to match. */
	ip4(b, 0, 6, "1.1.1.1", "10.0.1.7", 999, 443);
	b[7] = 8;
	cr_expect_eq(ap_qos_classify(wk, 4, b, 40, 9, 9), -1);
	/* IPv6. */
	b6[0] = 0x60;
	b6[6] = 17;
	inet_pton(AF_INET6, "fd00::1", b6 + 8);
	inet_pton(AF_INET6, "2001:db8::1", b6 + 24);
	b6[41] = 53;
	cr_expect_eq(ap_qos_classify(wk, 6, b6, 48, 9, 9), 3);
	/* IPv6 traffic class 46 << 2 (DSCP EF) spans bytes 0 and 1. */
	b6[0] = 0x6b;
	b6[1] = 0x80;
	cr_expect_eq(ap_qos_classify(wk, 6, b6, 48, 9, 9), 0);
}

Test(qos_match, set_dscp_keeps_checksum_and_ecn)
{
	uint8_t b[64];
	uint32_t sum = 0;

	ip4(b, 0x01, 6, "10.0.0.1", "10.0.1.1", 1, 2);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	b[10] = (uint8_t)(~sum >> 8);
	b[11] = (uint8_t)~sum;
	ap_qos_set_dscp(4, b, 46);
	cr_expect_eq(b[1], 46 << 2 | 1);
	sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	cr_expect_eq(sum, 0xffff, "checksum no longer verifies");
}

/* Config errors, with their positions. */

struct cfg_case {
	const char *qos;
	const char *err;
};

#define IFS                                                                                        \
	"ports: [{name: a, driver: null}, {name: b, driver: null}]\n"                              \
	"interfaces:\n"                                                                            \
	"  - {name: lan, port: a, addresses: [10.0.0.1/24]}\n"                                     \
	"  - {name: wan, port: b, addresses: [10.0.1.1/24]}\n"                                     \
	"qos:\n"

Test(qos_config, errors_with_positions)
{
	static const struct cfg_case cases[] = {
		{"  classes: [{name: c, rate: 20mbps, match: {out: wan}}]\n",
		 "t.yaml:6:29: qos.classes[0].rate: '20mbps' is not a rate"},
		{"  classes: [{name: c, rate: 1gbit, ceil: 1mbit, match: {out: wan}}]\n",
		 "t.yaml:6:42: qos.classes[0].ceil must be at least rate"},
		{"  classes: [{name: c, rate: 1mbit}]\n",
		 "t.yaml:6:13: qos.classes[0]: a shaped class (rate) needs match.out"},
		{"  classes:\n    - {name: c, match: {out: dmz}}\n",
		 "t.yaml:7:7: qos.classes[0]: unknown interface 'dmz'"},
		{"  classes:\n    - {name: c, policer: nope}\n",
		 "t.yaml:7:7: qos.classes[0]: unknown policer 'nope'"},
		{"  policers:\n    - {name: p, type: trtcm, cir: 1mbit, cbs: 2k}\n",
		 "t.yaml:7:7: qos.policers[0]: a trtcm policer needs pir and pbs"},
		{"  policers:\n    - {name: p, type: trtcm, cir: 2mbit, cbs: 2k, pir: 1mbit, pbs: "
		 "4k}\n",
		 "t.yaml:7:56: qos.policers[0].pir must be at least cir"},
		{"  policers:\n    - {name: p, type: srtcm, cir: 1mbit, cbs: 2k, exceed: remark}\n",
		 "t.yaml:7:59: qos.policers[0]: exceed: remark goes with exceed_dscp"},
		{"  policers:\n    - {name: p, type: wfq, cir: 1mbit, cbs: 2k}\n",
		 "t.yaml:7:23: invalid value 'wfq' for qos.policers[0].type"},
		{"  classes:\n    - {name: c, match: {dscp: 64}}\n",
		 "t.yaml:7:31: qos.classes[0].match.dscp must be between 0 and 63"},
		{"  classes:\n    - {name: c, match: {sport: 53}}\n",
		 "t.yaml:7:7: qos.classes[0].match: ports need proto tcp or udp"},
		{"  classes:\n    - {name: c, queue: 10}\n",
		 "t.yaml:7:7: qos.classes[0]: ceil, burst, weight and queue shape a class"},
		{"  classes:\n    - {name: c, host_limit: {rate: 1mbit, by: port}}\n",
		 "t.yaml:7:47: invalid value 'port' for qos.classes[0].host_limit.by"},
		{"  interfaces: [{name: wan, rate: 1mbit}, {name: wan, rate: 2mbit}]\n",
		 "t.yaml:6:42: qos.interfaces[1]: interface 'wan' is listed twice"},
		{"  shaper: {}\n", "t.yaml:6:3: unknown key 'shaper' in qos"},
	};
	char buf[1024], err[AP_CFG_ERR_MAX];

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		int n = snprintf(buf, sizeof(buf), IFS "%s", cases[i].qos);

		cr_expect_neq(ap_config_load_buf("t.yaml", buf, (size_t)n, &cfg, err), 0,
			      "case %zu accepted", i);
		cr_expect(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0,
			  "case %zu: got '%s', want '%s...'", i, err, cases[i].err);
	}
}

Test(qos_config, full_section_parses)
{
	static const char qos[] =
		"  host_table: 1024\n"
		"  interfaces: [{name: wan, rate: 100mbit, burst: 64k}]\n"
		"  policers:\n"
		"    - {name: p1, type: srtcm, cir: 10mbit, cbs: 32k, ebs: 32k, exceed: remark,\n"
		"       exceed_dscp: 10}\n"
		"    - {name: p2, type: trtcm, cir: 1mbit, cbs: 8k, pir: 2mbit, pbs: 16k,\n"
		"       violate: drop}\n"
		"  classes:\n"
		"    - name: voice\n"
		"      match: {out: wan, dscp: 46}\n"
		"      rate: 2mbit\n"
		"      ceil: 10mbit\n"
		"      weight: 4\n"
		"      queue: 128\n"
		"      set_dscp: 46\n"
		"      policer: p2\n"
		"      host_limit: {rate: 512kbit, burst: 16k, by: dst}\n";
	char buf[2048], err[AP_CFG_ERR_MAX];
	int n = snprintf(buf, sizeof(buf), IFS "%s", qos);
	const struct ap_cfg_qos_class *c;

	cr_assert_eq(ap_config_load_buf("t.yaml", buf, (size_t)n, &cfg, err), 0, "%s", err);
	cr_expect(cfg.qos.enabled);
	cr_expect_eq(cfg.qos.ifaces[0].rate, 100000000);
	cr_expect_eq(cfg.qos.ifaces[0].burst, 65536);
	cr_expect_eq(cfg.qos.policers[0].exceed, AP_QOS_REMARK);
	cr_expect_eq(cfg.qos.policers[0].exceed_dscp, 10);
	cr_expect_eq(cfg.qos.policers[1].pir, 2000000);
	c = &cfg.qos.classes[0];
	cr_expect_eq(c->out_idx, 1);
	cr_expect_eq(c->dscp, 46);
	cr_expect_eq(c->ceil, 10000000);
	cr_expect_eq(c->weight, 4);
	cr_expect_eq(c->policer_idx, 1);
	cr_expect_eq(c->host_rate, 512000);
	cr_expect_eq(c->host_by, 1);
}
