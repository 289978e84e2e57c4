/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data-plane bring-up and teardown: EAL, packet pool, ports, graphs, workers,
 * and the counters the control plane reads.
 *
 * Everything here runs on the main lcore. Workers only read ap_ports_fast and
 * their own ap_worker; the main lcore reads worker counters without locks
 * (aligned 64-bit loads, each counter written by one worker).
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "dp/dp.h"
#include "dp/core/bpf_filter.h"
#include "dp/core/capture_priv.h"
#include "dp/core/dp_core.h"
#include "dp/core/port_claim.h"
#include "dp/core/nodes_priv.h"
#include "dp/ip/ip.h"
#include "dp/ct/ct.h"
#include "dp/syn/syn.h"
#include "dp/fw/fw.h"
#include "dp/qos/qos.h"
#include "dp/l2/l2.h"
#include "svc/svc.h"
#include "lib/log.h"

#define MOD	     "dp"
#define POOL_CACHE   256
#define EAL_MAX_ARGS 64
/* rx_template frames: in memory aligned for a transparent hugepage. */
#define RX_TEMPLATE_ALIGN (2u << 20)
/* Offline mode gives up on input that stops short of its packet count. */
#define OFFLINE_STALL_S 3

struct dp_port {
	const struct ap_cfg_port *cfg;
	uint16_t port_id;
	uint16_t nb_q;
	char dev_name[64];
	rte_node_t tx_node;
	struct rte_ether_addr mac;
	uint64_t expect_rx;	    /**< Offline: frames in the rx capture. */
	struct rte_eth_stats final; /**< Snapshot taken when the ports stop. */
	struct ap_port_claim claim; /**< af_packet: its interface kept from the kernel's stack. */
	struct ap_port_busy_poll busy; /**< af_xdp: its interface set for busy polling. */
};

struct ap_dp {
	struct ap_config cfg;
	struct ap_dp_opts opts;
	struct rte_mempool *pool;
	struct dp_port ports[AP_MAX_PORTS];
	uint16_t n_ports;
	struct ap_worker *workers[AP_MAX_WORKERS];
	unsigned n_workers;
	rte_node_t node_ids[4 + AP_MAX_PORTS];
	unsigned n_node_ids;
	bool eal_up;
	bool ip_up;
	bool l2_up;
	bool launched;
	bool stopped;
	uint64_t tsc_hz;
	uint64_t start_tsc;
	uint64_t stop_tsc;
	/* Rate sampling. */
	uint64_t sample_tsc;
	uint64_t sample_rx;
	double pps;
	/* Offline stall detection. */
	uint64_t progress_rx;
	uint64_t progress_tsc;
	unsigned idle_checks;
	struct ap_svc_fib fib_sink;
	char trace_filter[256];
};

static bool
hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long n = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %lu", &n) == 1)
			break;
	fclose(f);
	return n > 0;
}

static bool
is_pci_addr(const char *s)
{
	unsigned dom, bus, dev, fn;

	return sscanf(s, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4 ||
	       sscanf(s, "%x:%x.%x", &bus, &dev, &fn) == 3;
}

/* Map lcore i to the i-th CPU we may run on (wrapping when there are fewer
 * CPUs than lcores, which only costs speed). */
static int
lcore_map(unsigned n_lcores, char *buf, size_t len)
{
	cpu_set_t set;
	int cpus[CPU_SETSIZE], n_cpus = 0;
	size_t off = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			cpus[n_cpus++] = c;
	if (n_cpus == 0)
		return -ENODEV;
	off += (size_t)snprintf(buf + off, len - off, "--lcores=");
	for (unsigned i = 0; i < n_lcores && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u@%d", i ? "," : "", i,
					cpus[i % (unsigned)n_cpus]);
	return off < len ? 0 : -ENAMETOOLONG;
}

static int
eal_init(struct ap_dp *dp, char *err, size_t err_len)
{
	static char args[EAL_MAX_ARGS][AP_PATH_MAX];
	char *argv[EAL_MAX_ARGS + 1];
	int argc = 0, rc;
	bool huge, pci = false;
	char extra[AP_PATH_MAX], *save = NULL, *tok;

#define ARG(...) snprintf(args[argc], sizeof(args[0]), __VA_ARGS__), argv[argc] = args[argc], argc++
	ARG("%s", dp->opts.prog ? dp->opts.prog : "aetherd");
	ARG("--file-prefix=aetherd-%d", (int)getpid());
	rc = lcore_map(dp->n_workers + 1, args[argc], sizeof(args[0]));
	if (rc < 0)
		return ap_errf(err, err_len, rc, "cannot map lcores to CPUs: %s", strerror(-rc));
	argv[argc] = args[argc];
	argc++;
	huge = dp->cfg.hugepages == AP_HUGE_ON ||
	       (dp->cfg.hugepages == AP_HUGE_AUTO && hugepages_free());
	if (!huge) {
		/* Pool plus rings, graphs and driver state. */
		unsigned mb = 128 + (unsigned)((uint64_t)dp->cfg.mbufs * 2560 >> 20);

		/* The FIBs at their configured sizes (dataplane.fib4, fib6) and
		 * room for the other tables of a router (bridges, QoS, firewall). */
		if (dp->cfg.n_ifaces)
			mb += ap_ip_mem_mb(&dp->cfg) + 320;
		/* Connection tables: about 200 bytes a flow with the hash. */
		if (dp->cfg.conntrack.enabled)
			mb += (unsigned)((uint64_t)dp->n_workers * dp->cfg.conntrack.max_flows *
						 256 >>
					 20);

		ARG("--no-huge");
		ARG("-m");
		ARG("%u", mb);
	} else {
		/* Hugepages through memfd: no hugetlbfs mount needed, no files left. */
		ARG("--in-memory");
	}
	for (unsigned i = 0; i < dp->cfg.n_ports; i++) {
		const struct ap_cfg_port *p = &dp->cfg.ports[i];

		if (p->driver == AP_DRV_DEVARGS && is_pci_addr(p->devargs)) {
			ARG("-a");
			ARG("%s", p->devargs);
			pci = true;
		}
	}
	if (!pci)
		ARG("--no-pci");
	ARG("--no-telemetry");
	ARG("--log-level=%s", dp->opts.log_level ? dp->opts.log_level : "warning");
	snprintf(extra, sizeof(extra), "%s", dp->cfg.eal_args);
	for (tok = strtok_r(extra, " \t", &save); tok && argc < EAL_MAX_ARGS - 1;
	     tok = strtok_r(NULL, " \t", &save))
		ARG("%s", tok);
#undef ARG
	argv[argc] = NULL;

	rc = rte_eal_init(argc, argv);
	if (rc < 0)
		return ap_errf(err, err_len, -rte_errno, "EAL initialisation failed: %s",
			       rte_strerror(rte_errno));
	dp->eal_up = true;
	dp->tsc_hz = rte_get_tsc_hz();
	AP_LOG_INFO(MOD, "EAL up: %u lcores, %s", rte_lcore_count(),
		    huge ? "hugepages" : "no hugepages");
	return 0;
}

static int
count_pcap(const char *path, uint64_t *n, char *err, size_t err_len)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc = pcap_open_offline(path, ebuf);
	int rc;

	if (!pc)
		return ap_errf(err, err_len, -ENOENT, "%s", ebuf);
	if (pcap_datalink(pc) != DLT_EN10MB) {
		pcap_close(pc);
		return ap_errf(err, err_len, -EPROTONOSUPPORT,
			       "%s: link type %s, only Ethernet captures are supported", path,
			       pcap_datalink_val_to_name(pcap_datalink(pc)));
	}
	*n = 0;
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1)
		(*n)++;
	pcap_close(pc);
	if (rc == PCAP_ERROR)
		return ap_errf(err, err_len, -EIO, "%s: truncated or corrupt capture", path);
	return 0;
}

/* A template bigger than this is a mistake, not a traffic pattern. */
#define RX_TEMPLATE_MAX_FRAMES (1u << 20)

/* Read port @p idx's rx_template capture into ap_rx_templates[]. A frame
 * whose Ethernet destination is 00:00:00:00:00:00 gets the port's own MAC
 * (a null device's is random, so the file cannot name it). */
static int
rx_template_load(struct ap_dp *dp, unsigned idx, char *err, size_t err_len)
{
	const struct ap_cfg_port *p = &dp->cfg.ports[idx];
	struct dp_port *dpp = &dp->ports[idx];
	uint32_t room = rte_pktmbuf_data_room_size(dp->pool) - RTE_PKTMBUF_HEADROOM;
	static const uint8_t zero_mac[RTE_ETHER_ADDR_LEN];
	char ebuf[PCAP_ERRBUF_SIZE];
	struct ap_rx_template *t;
	struct pcap_pkthdr *h;
	const u_char *d;
	uint32_t n = 0, max_len = 0;
	pcap_t *pc;
	int rc;

	/* First pass: count and check the frames. */
	pc = pcap_open_offline(p->rx_template, ebuf);
	if (!pc)
		return ap_errf(err, err_len, -ENOENT, "port '%s': rx_template: %s", p->name, ebuf);
	if (pcap_datalink(pc) != DLT_EN10MB) {
		rc = ap_errf(err, err_len, -EPROTONOSUPPORT,
			     "port '%s': rx_template %s: link type %s, only Ethernet captures are "
			     "supported",
			     p->name, p->rx_template, pcap_datalink_val_to_name(pcap_datalink(pc)));
		pcap_close(pc);
		return rc;
	}
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		if (h->caplen != h->len || h->len < RTE_ETHER_HDR_LEN || h->len > room) {
			rc = ap_errf(err, err_len, -EINVAL,
				     "port '%s': rx_template %s: frame %u is %s (%u of %u bytes; "
				     "frames must be whole and %u to %u bytes)",
				     p->name, p->rx_template, n + 1,
				     h->caplen != h->len ? "cut" : "of a bad length", h->caplen,
				     h->len, RTE_ETHER_HDR_LEN, room);
			pcap_close(pc);
			return rc;
		}
		if (++n > RX_TEMPLATE_MAX_FRAMES) {
			pcap_close(pc);
			return ap_errf(err, err_len, -EFBIG,
				       "port '%s': rx_template %s: more than %u frames", p->name,
				       p->rx_template, RX_TEMPLATE_MAX_FRAMES);
		}
		max_len = RTE_MAX(max_len, h->len);
	}
	pcap_close(pc);
	if (rc == PCAP_ERROR)
		return ap_errf(err, err_len, -EIO,
			       "port '%s': rx_template %s: truncated or corrupt "
			       "capture",
			       p->name, p->rx_template);
	if (n == 0)
		return ap_errf(err, err_len, -EINVAL, "port '%s': rx_template %s: no frames",
			       p->name, p->rx_template);

	/* Second pass: copy them, each at a cache-line boundary. */
	t = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*t));
	if (!t)
		return ap_errf(err, err_len, -ENOMEM, "port '%s': rx_template: out of memory",
			       p->name);
	memset(t, 0, sizeof(*t));
	t->n = n;
	t->stride = RTE_ALIGN_CEIL(max_len, RTE_CACHE_LINE_SIZE);
	/* Read in order, a burst at a time: on 2 MiB pages where the kernel has
	 * them (transparent hugepages), a page's TLB miss serves 32k frames. */
	t->data = aligned_alloc(RX_TEMPLATE_ALIGN,
				RTE_ALIGN_CEIL((size_t)n * t->stride, RX_TEMPLATE_ALIGN));
	if (t->data)
		(void)madvise(t->data, RTE_ALIGN_CEIL((size_t)n * t->stride, RX_TEMPLATE_ALIGN),
			      MADV_HUGEPAGE);
	t->len = calloc(n, sizeof(*t->len));
	pc = t->data && t->len ? pcap_open_offline(p->rx_template, ebuf) : NULL;
	if (!pc) {
		free(t->data);
		free(t->len);
		free(t);
		return ap_errf(err, err_len, -ENOMEM, "port '%s': rx_template: cannot load %s",
			       p->name, p->rx_template);
	}
	for (uint32_t i = 0; i < n && pcap_next_ex(pc, &h, &d) == 1; i++) {
		uint8_t *f = t->data + (size_t)i * t->stride;

		memcpy(f, d, h->len);
		if (memcmp(f, zero_mac, RTE_ETHER_ADDR_LEN) == 0)
			memcpy(f, dpp->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
		t->len[i] = (uint16_t)h->len;
	}
	pcap_close(pc);
	ap_rx_templates[dpp->port_id] = t;
	AP_LOG_INFO(MOD, "port '%s': rx_template %s: %u frames", p->name, p->rx_template, n);
	return 0;
}

static void
rx_templates_free(struct ap_dp *dp)
{
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct ap_rx_template *t;

		if (!dp->ports[i].cfg)
			continue;
		t = ap_rx_templates[dp->ports[i].port_id];
		if (!t)
			continue;
		ap_rx_templates[dp->ports[i].port_id] = NULL;
		free(t->data);
		free(t->len);
		free(t);
	}
}

static int
port_devargs(struct ap_dp *dp, unsigned idx, char *buf, size_t len, char *err, size_t err_len)
{
	const struct ap_cfg_port *p = &dp->cfg.ports[idx];
	struct dp_port *dpp = &dp->ports[idx];
	int n = 0;

	switch (p->driver) {
	case AP_DRV_AF_PACKET:
		snprintf(dpp->dev_name, sizeof(dpp->dev_name), "net_af_packet%u", idx);
		n = snprintf(buf, len, "%s,iface=%s,qpairs=%u,framecnt=2048", dpp->dev_name,
			     p->iface, dp->n_workers);
		break;
	case AP_DRV_AF_XDP:
		snprintf(dpp->dev_name, sizeof(dpp->dev_name), "net_af_xdp%u", idx);
		/* busy_budget=0 turns the driver's preferred busy polling off. */
		n = snprintf(buf, len, "%s,iface=%s,start_queue=0,queue_count=%u%s", dpp->dev_name,
			     p->iface, dp->n_workers, p->busy_poll ? "" : ",busy_budget=0");
		break;
	case AP_DRV_PCAP:
		if (strchr(p->rx_pcap, ',') || strchr(p->tx_pcap, ','))
			return ap_errf(err, err_len, -EINVAL,
				       "port '%s': capture paths must not contain ','", p->name);
		snprintf(dpp->dev_name, sizeof(dpp->dev_name), "net_pcap%u", idx);
		n = snprintf(buf, len, "%s", dpp->dev_name);
		if (p->rx_pcap[0])
			n = snprintf(buf, len, "%s,rx_pcap=%s", dpp->dev_name, p->rx_pcap);
		if (p->tx_pcap[0])
			n += snprintf(buf + n, len - (size_t)n, ",tx_pcap=%s", p->tx_pcap);
		break;
	case AP_DRV_TAP:
		snprintf(dpp->dev_name, sizeof(dpp->dev_name), "net_tap%u", idx);
		n = snprintf(buf, len, "%s%s%s", dpp->dev_name, p->iface[0] ? ",iface=" : "",
			     p->iface);
		break;
	case AP_DRV_NULL:
		snprintf(dpp->dev_name, sizeof(dpp->dev_name), "net_null%u", idx);
		n = snprintf(buf, len, "%s", dpp->dev_name);
		break;
	case AP_DRV_RING:
		snprintf(dpp->dev_name, sizeof(dpp->dev_name), "net_ring%u", idx);
		n = snprintf(buf, len, "%s", dpp->dev_name);
		break;
	case AP_DRV_DEVARGS: {
		size_t l = strcspn(p->devargs, ",");

		if (l >= sizeof(dpp->dev_name))
			return ap_errf(err, err_len, -EINVAL, "port '%s': device name too long",
				       p->name);
		memcpy(dpp->dev_name, p->devargs, l);
		dpp->dev_name[l] = '\0';
		n = snprintf(buf, len, "%s", p->devargs);
		break;
	}
	}
	if (n < 0 || (size_t)n >= len)
		return ap_errf(err, err_len, -ENAMETOOLONG, "port '%s': device arguments too long",
			       p->name);
	return 0;
}

static int
port_setup(struct ap_dp *dp, unsigned idx, char *err, size_t err_len)
{
	const struct ap_cfg_port *p = &dp->cfg.ports[idx];
	struct dp_port *dpp = &dp->ports[idx];
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txc;
	char args[AP_PATH_MAX * 3];
	uint16_t nrx, ntx;
	int rc;

	dpp->cfg = p;
	rc = port_devargs(dp, idx, args, sizeof(args), err, err_len);
	if (rc < 0)
		return rc;
	/* PCI devices were probed by EAL from the allow list. */
	if (!(p->driver == AP_DRV_DEVARGS && is_pci_addr(p->devargs))) {
		rc = rte_dev_probe(args);
		if (rc < 0)
			return ap_errf(err, err_len, rc, "port '%s': cannot create device '%s': %s",
				       p->name, args, rte_strerror(-rc));
	}
	if (rte_eth_dev_get_port_by_name(dpp->dev_name, &dpp->port_id) != 0)
		return ap_errf(err, err_len, -ENODEV, "port '%s': no ethdev named '%s'", p->name,
			       dpp->dev_name);
	rc = rte_eth_dev_info_get(dpp->port_id, &info);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "port '%s': %s", p->name, rte_strerror(-rc));

	dpp->nb_q = (uint16_t)dp->n_workers;
	if (info.max_rx_queues < dpp->nb_q || info.max_tx_queues < dpp->nb_q)
		return ap_errf(
			err, err_len, -ENOTSUP,
			"port '%s': driver %s has %u RX/%u TX queues, %u workers need one each",
			p->name, info.driver_name, info.max_rx_queues, info.max_tx_queues,
			dpp->nb_q);
	if (dpp->nb_q > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* Jumbo frames arrive chained from some drivers (pcap); send them whole. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = rte_eth_dev_configure(dpp->port_id, dpp->nb_q, dpp->nb_q, &conf);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "port '%s': configure failed: %s", p->name,
			       rte_strerror(-rc));
	if (p->mtu) {
		rc = rte_eth_dev_set_mtu(dpp->port_id, p->mtu);
		if (rc < 0)
			return ap_errf(err, err_len, rc, "port '%s': MTU %u refused: %s", p->name,
				       p->mtu, rte_strerror(-rc));
	}
	nrx = p->rxq_size;
	ntx = p->txq_size;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(dpp->port_id, &nrx, &ntx);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "port '%s': queue sizes refused: %s", p->name,
			       rte_strerror(-rc));
	txc = info.default_txconf;
	txc.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < dpp->nb_q; q++) {
		rc = rte_eth_rx_queue_setup(dpp->port_id, q, nrx,
					    rte_eth_dev_socket_id(dpp->port_id), NULL, dp->pool);
		if (rc < 0)
			return ap_errf(err, err_len, rc, "port '%s': RX queue %u: %s", p->name, q,
				       rte_strerror(-rc));
		rc = rte_eth_tx_queue_setup(dpp->port_id, q, ntx,
					    rte_eth_dev_socket_id(dpp->port_id), &txc);
		if (rc < 0)
			return ap_errf(err, err_len, rc, "port '%s': TX queue %u: %s", p->name, q,
				       rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(dpp->port_id);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "port '%s': start failed: %s", p->name,
			       rte_strerror(-rc));
	/* A cross-connect forwards every frame, whatever its destination. */
	rc = rte_eth_promiscuous_enable(dpp->port_id);
	if (rc < 0 && rc != -ENOTSUP)
		AP_LOG_WARN(MOD, "port '%s': promiscuous mode: %s", p->name, rte_strerror(-rc));
	rte_eth_macaddr_get(dpp->port_id, &dpp->mac);
	if (p->driver == AP_DRV_AF_PACKET && !p->kernel_stack) {
		char why[256];

		rc = ap_port_claim(&dpp->claim, p->iface, why, sizeof(why));
		if (rc < 0)
			return ap_errf(err, err_len, rc,
				       "port '%s': %s (kernel_stack: true leaves the interface to "
				       "the kernel's stack as well)",
				       p->name, why);
	}
	if (p->driver == AP_DRV_AF_XDP && p->busy_poll)
		ap_port_busy_poll(&dpp->busy, p->iface);
	rte_eth_stats_reset(dpp->port_id);
	AP_LOG_INFO(MOD, "port '%s' up: %s (%s), id %u, %u queue(s)", p->name, args,
		    info.driver_name, dpp->port_id, dpp->nb_q);
	return 0;
}

/* port-tx clones, for nodes that link to every port. */
static rte_node_t tx_nodes[AP_MAX_PORTS];
static uint16_t tx_ports[AP_MAX_PORTS];
static unsigned n_tx;

int
ap_dp_link_tx(rte_node_t from, uint16_t *edges)
{
	for (unsigned i = 0; i < n_tx; i++) {
		const char *name = rte_node_id_to_name(tx_nodes[i]);
		rte_edge_t e = rte_node_edge_count(from);

		if (!name || rte_node_edge_update(from, e, &name, 1) != 1)
			return -ENOSPC;
		edges[tx_ports[i]] = e;
	}
	return 0;
}

/* l2-bridge's edge to each port's port-tx, by DPDK port id. */
static uint16_t l2_tx_edges[RTE_MAX_ETHPORTS];
/* port-rx's edge to each port's port-tx (wires), by DPDK port id. */
static uint16_t rx_tx_edges[RTE_MAX_ETHPORTS];

static int
register_nodes(struct ap_dp *dp, char *err, size_t err_len)
{
	static struct rte_node_register *const nodes[] = {
		&ap_port_rx_node,   &ap_eth_input_node, &ap_xconnect_node,  &ap_port_tx_node,
		&ap_drop_node,	    &ap_ip4_input_node, &ap_ip4_local_node, &ap_ip6_input_node,
		&ap_ip6_local_node, &ap_punt_node,	&ap_inject_node,    &ap_l2_bridge_node,
		&ap_ct_node,	    &ap_qos_node,	&ap_qos_sched_node, &ap_ct_handoff_node,
	};
	static uint16_t edges[RTE_MAX_ETHPORTS];
	rte_node_t tx_base = RTE_NODE_ID_INVALID;
	int rc;

	for (unsigned i = 0; i < RTE_DIM(nodes); i++) {
		rte_node_t id = rte_node_from_name(nodes[i]->name);

		/* Registration is process-wide and survives a restart of the data plane. */
		if (id == RTE_NODE_ID_INVALID)
			id = __rte_node_register(nodes[i]);
		if (id == RTE_NODE_ID_INVALID)
			return ap_errf(err, err_len, -rte_errno, "cannot register node %s",
				       nodes[i]->name);
		if (nodes[i] == &ap_port_tx_node)
			tx_base = id;
		else
			dp->node_ids[dp->n_node_ids++] = id;
	}
	n_tx = 0;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *dpp = &dp->ports[i];
		char name[RTE_NODE_NAMESIZE];

		snprintf(name, sizeof(name), "port-tx-%s", dpp->cfg->name);
		dpp->tx_node = rte_node_from_name(name);
		if (dpp->tx_node == RTE_NODE_ID_INVALID)
			dpp->tx_node = rte_node_clone(tx_base, dpp->cfg->name);
		if (dpp->tx_node == RTE_NODE_ID_INVALID || dpp->tx_node >= RTE_DIM(ap_tx_node_port))
			return ap_errf(err, err_len, -ENOSPC, "cannot create node %s: %s", name,
				       rte_strerror(rte_errno));
		ap_tx_node_port[dpp->tx_node] = dpp->port_id;
		dp->node_ids[dp->n_node_ids++] = dpp->tx_node;
		tx_nodes[n_tx] = dpp->tx_node;
		tx_ports[n_tx++] = dpp->port_id;
	}
	rc = ap_dp_link_tx(rte_node_from_name("xconnect"), edges);
	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("port-rx"), rx_tx_edges);
	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("l2-bridge"), l2_tx_edges);
	if (rc == 0)
		rc = ap_ip_link_nodes();
	if (rc == 0)
		rc = ap_qos_link_nodes();
	if (rc < 0)
		return ap_errf(err, err_len, rc, "cannot link nodes to the ports");
	for (unsigned i = 0; i < dp->n_ports; i++)
		ap_ports_fast[dp->ports[i].port_id].xc_edge = edges[dp->ports[i].port_id];
	return 0;
}

static void
setup_fast_table(struct ap_dp *dp)
{
	/* xc_edge was set per port to its own tx edge; turn it into the peer's. */
	rte_edge_t own[AP_MAX_PORTS];

	for (unsigned i = 0; i < dp->n_ports; i++)
		own[i] = ap_ports_fast[dp->ports[i].port_id].xc_edge;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct ap_port_fast *pf = &ap_ports_fast[dp->ports[i].port_id];

		pf->configured = 1;
		pf->validate_full = dp->ports[i].cfg->validate == AP_VALIDATE_FULL;
		pf->validate_none = dp->ports[i].cfg->validate == AP_VALIDATE_NONE;
		pf->has_xconnect = 0;
		pf->xc_edge = 0;
		pf->wire_edge = 0;
		pf->l3 = 0;
	}
	for (unsigned x = 0; x < dp->cfg.n_xconnects; x++) {
		const struct ap_cfg_xconnect *xc = &dp->cfg.xconnects[x];
		struct dp_port *a = &dp->ports[xc->a_idx], *b = &dp->ports[xc->b_idx];

		ap_ports_fast[a->port_id].has_xconnect = 1;
		ap_ports_fast[a->port_id].xc_peer = b->port_id;
		ap_ports_fast[a->port_id].xc_edge = own[xc->b_idx];
		ap_ports_fast[b->port_id].has_xconnect = 1;
		ap_ports_fast[b->port_id].xc_peer = a->port_id;
		ap_ports_fast[b->port_id].xc_edge = own[xc->a_idx];
		/* A wire's frames go from port-rx to the peer's port-tx. */
		if (ap_ports_fast[a->port_id].validate_none)
			ap_ports_fast[a->port_id].wire_edge = rx_tx_edges[b->port_id];
		if (ap_ports_fast[b->port_id].validate_none)
			ap_ports_fast[b->port_id].wire_edge = rx_tx_edges[a->port_id];
	}
	/* Untagged routed ports; VLAN and bridge interfaces dispatch by tags
	 * (ap_l2_start). */
	for (unsigned i = 0; i < dp->cfg.n_ifaces; i++)
		if (dp->cfg.ifaces[i].bridge[0] == '\0' && dp->cfg.ifaces[i].vlan == 0)
			ap_ports_fast[dp->ports[dp->cfg.ifaces[i].port_idx].port_id].l3 = 1;
}

/*
 * One graph walk that counts calls and packets per node but reads no clock.
 * rte_graph_walk() brackets every node call with two TSC reads when DPDK is
 * built with graph stats (Debian's is); at ~25 cycles each that is several
 * cycles per packet on a short pipeline, so cycle accounting per node is
 * opt-in (dataplane.node_cycles) and this walk is the default. The order of
 * visits is the library's: source nodes first, then pending streams in the
 * circular buffer until it is empty.
 */
static __rte_always_inline bool
graph_walk_counting(struct rte_graph *graph)
{
	const rte_graph_off_t *cir = graph->cir_start;
	const uint32_t mask = graph->cir_mask;
	uint32_t head = graph->head;

	while (likely(head != graph->tail)) {
		struct rte_node *node = RTE_PTR_ADD(graph, cir[(int32_t)head++]);
		uint16_t rc;

		rte_prefetch0(node->objs);
		rc = node->process(graph, node, node->objs, node->idx);
		node->total_calls++;
		node->total_objs += rc;
		node->idx = 0;
		head = likely((int32_t)head > 0) ? head & mask : head;
	}
	/* Any stream pended past the source nodes: packets moved. */
	if (graph->tail == 0)
		return false;
	graph->tail = 0;
	return true;
}

/* Empty walks in a row before a worker with dataplane.poll_sleep_us sleeps. */
#define IDLE_WALKS 64

/* Sleep for dataplane.poll_sleep_us, offline for RCU so that no writer waits. */
static void
worker_sleep(struct ap_worker *w)
{
	struct timespec ts = {.tv_nsec = (long)w->poll_sleep_us * 1000};

	rte_rcu_qsbr_thread_offline(ap_dp_qsbr, w->index);
	nanosleep(&ts, NULL);
	rte_rcu_qsbr_thread_online(ap_dp_qsbr, w->index);
	w->stats.sleeps++;
}

/* The workers' RCU: what the control plane deletes from lock-free tables is
 * reused once each worker has finished the walk that may have read it. */
static int
qsbr_create(struct ap_dp *dp, char *err, size_t err_len)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp->n_workers);

	ap_dp_qsbr = rte_zmalloc("ap_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (ap_dp_qsbr == NULL || rte_rcu_qsbr_init(ap_dp_qsbr, dp->n_workers) != 0)
		return ap_errf(err, err_len, -ENOMEM, "cannot set up the workers' RCU");
	return 0;
}

static int
worker_main(void *arg)
{
	struct ap_worker *w = arg;
	unsigned idle = 0;

	RTE_PER_LCORE(ap_trace_buf) = w->trace;
	rte_rcu_qsbr_thread_register(ap_dp_qsbr, w->index);
	rte_rcu_qsbr_thread_online(ap_dp_qsbr, w->index);
	w->start_tsc = rte_rdtsc();
	while (!__atomic_load_n(&w->quit, __ATOMIC_RELAXED)) {
		bool busy;

		if (unlikely(w->node_cycles)) {
			uint64_t rx = w->stats.rx_packets;

			rte_graph_walk(w->graph);
			busy = w->stats.rx_packets != rx;
		} else {
			busy = graph_walk_counting(w->graph);
		}
		w->stats.walks++;
		if (unlikely(w->poll_sleep_us)) {
			idle = busy ? 0 : idle + 1;
			if (idle >= IDLE_WALKS)
				worker_sleep(w);
		}
		/* Flush requests and expiry also when no packet comes. */
		if (unlikely((w->stats.walks & 1023) == 0) && ap_ct_conf.enabled)
			ap_ct_housekeeping(w->index);
		/* Between walks no table entry is held: a quiescent state. */
		rte_rcu_qsbr_quiescent(ap_dp_qsbr, w->index);
		__atomic_store_n(&w->done_rx, w->stats.rx_packets, __ATOMIC_RELEASE);
	}
	w->stop_tsc = rte_rdtsc();
	rte_rcu_qsbr_thread_offline(ap_dp_qsbr, w->index);
	rte_rcu_qsbr_thread_unregister(ap_dp_qsbr, w->index);
	return 0;
}

static int
build_workers(struct ap_dp *dp, char *err, size_t err_len)
{
	/* Worker 0 also sends what the control plane injects. */
	static const char *patterns[] = {"port-rx",   "eth-input", "xconnect",
					 "port-tx-*", "drop",	   "inject"};
	const char *pat[RTE_DIM(patterns) + 2];
	struct rte_graph_param gp = {
		.socket_id = (int)rte_socket_id(),
		.node_patterns = pat,
	};
	unsigned lcore, i = 0;

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct ap_worker *w;
		char name[RTE_GRAPH_NAMESIZE];

		if (i == dp->n_workers)
			break;
		w = rte_zmalloc_socket("ap_worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
				       (int)rte_lcore_to_socket_id(lcore));
		if (!w)
			return ap_errf(err, err_len, -ENOMEM, "out of memory for worker %u", i);
		dp->workers[i] = w;
		w->trace = rte_zmalloc_socket("ap_trace", sizeof(*w->trace), RTE_CACHE_LINE_SIZE,
					      (int)rte_lcore_to_socket_id(lcore));
		if (!w->trace)
			return ap_errf(err, err_len, -ENOMEM, "out of memory for worker %u", i);
		w->lcore = lcore;
		w->index = i;
		w->txq = (uint16_t)i;
		w->burst = dp->cfg.burst;
		w->node_cycles = dp->cfg.node_cycles;
		w->poll_sleep_us = dp->cfg.poll_sleep_us;
		for (unsigned p = 0; p < dp->n_ports; p++) {
			if (dp->ports[p].nb_q <= i)
				continue;
			w->rxq[w->n_rxq].port = dp->ports[p].port_id;
			w->rxq[w->n_rxq].queue = (uint16_t)i;
			w->n_rxq++;
		}
		memcpy(pat, patterns, sizeof(patterns));
		gp.nb_node_patterns =
			i == 0 && dp->cfg.n_ifaces ? RTE_DIM(patterns) : RTE_DIM(patterns) - 1;
		/* qos-sched is a source node: in the graph only when some class shapes. */
		if (ap_qos.shaping)
			pat[gp.nb_node_patterns++] = "qos-sched";
		/* ct-handoff is too: only when NAT runs on several workers. */
		if (ap_nat_conf.steer)
			pat[gp.nb_node_patterns++] = "ct-handoff";
		snprintf(name, sizeof(name), "worker-%u", i);
		ap_worker_building = w;
		w->graph_id = rte_graph_create(name, &gp);
		ap_worker_building = NULL;
		if (w->graph_id == RTE_GRAPH_ID_INVALID)
			return ap_errf(err, err_len, -rte_errno, "cannot create graph %s: %s", name,
				       rte_strerror(rte_errno));
		w->graph = rte_graph_lookup(name);
		i++;
	}
	if (i < dp->n_workers)
		return ap_errf(err, err_len, -ENODEV, "only %u worker lcores for %u workers", i,
			       dp->n_workers);
	return 0;
}

/* QoS on the L3 interfaces of the config's (after ap_ip_start). */
static int
qos_start(struct ap_dp *dp, const uint16_t *l3, char *err, size_t err_len)
{
	static uint16_t port_of_l3[AP_L3_MAX];

	for (unsigned i = 0; i < AP_L3_MAX; i++)
		port_of_l3[i] = ap_l3_ifs[i].tx_port;
	return ap_qos_start(&dp->cfg.qos, dp->n_workers, l3, port_of_l3, rte_get_tsc_hz(),
			    rte_rdtsc(), err, err_len);
}

int
ap_dp_start(const struct ap_config *cfg, const struct ap_dp_opts *opts, struct ap_dp **out,
	    char *err, size_t err_len)
{
	struct ap_dp *dp;
	unsigned priv;
	int rc;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return ap_errf(err, err_len, -ENOMEM, "out of memory");
	dp->cfg = *cfg;
	dp->opts = *opts;
	dp->n_ports = cfg->n_ports;
	dp->n_workers = opts->offline ? 1 : cfg->workers;

	if (dp->n_workers > AP_MAX_WORKERS) {
		rc = ap_errf(err, err_len, -EINVAL, "at most %d workers", AP_MAX_WORKERS);
		goto fail;
	}
	if (opts->offline) {
		for (unsigned i = 0; i < cfg->n_ports; i++) {
			if (!cfg->ports[i].rx_pcap[0])
				continue;
			rc = count_pcap(cfg->ports[i].rx_pcap, &dp->ports[i].expect_rx, err,
					err_len);
			if (rc < 0)
				goto fail;
		}
	}
	rc = eal_init(dp, err, err_len);
	if (rc < 0)
		goto fail;
	priv = RTE_ALIGN(sizeof(struct ap_mbuf_priv), RTE_MBUF_PRIV_ALIGN);
	dp->pool = rte_pktmbuf_pool_create("ap_pkt", cfg->mbufs, POOL_CACHE, (uint16_t)priv,
					   RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!dp->pool) {
		rc = ap_errf(err, err_len, -rte_errno, "cannot create a pool of %u mbufs: %s",
			     cfg->mbufs, rte_strerror(rte_errno));
		goto fail;
	}
	for (unsigned i = 0; i < dp->n_ports; i++) {
		rc = port_setup(dp, i, err, err_len);
		if (rc < 0)
			goto fail;
		if (cfg->ports[i].rx_template[0]) {
			rc = rx_template_load(dp, i, err, err_len);
			if (rc < 0)
				goto fail;
		}
	}
	rc = register_nodes(dp, err, err_len);
	if (rc < 0)
		goto fail;
	setup_fast_table(dp);
	{
		uint16_t port_ids[AP_MAX_PORTS];

		for (unsigned i = 0; i < dp->n_ports; i++)
			port_ids[i] = dp->ports[i].port_id;
		rc = qsbr_create(dp, err, err_len);
		if (rc < 0)
			goto fail;
		rc = ap_l2_start(&dp->cfg, port_ids, l2_tx_edges, err, err_len);
		if (rc < 0)
			goto fail;
		dp->l2_up = true;
		rc = ap_ct_start(&dp->cfg, dp->n_workers, err, err_len);
		if (rc == 0)
			rc = ap_syn_start(&dp->cfg, err, err_len);
		if (rc < 0)
			goto fail;
		/* Offline runs touch no kernel state. */
		rc = ap_ip_start(&dp->cfg, port_ids, dp->pool, !dp->opts.offline, err, err_len);
		if (rc < 0)
			goto fail;
		dp->ip_up = true;
		{
			uint16_t l3[AP_CFG_MAX_IFACES];

			for (unsigned i = 0; i < dp->cfg.n_ifaces; i++)
				l3[i] = ap_ip_iface_l3(i);
			rc = ap_fw_start(&dp->cfg, l3, err, err_len);
			if (rc == 0)
				rc = ap_nat_start(&dp->cfg, l3, ap_ip_egress4);
			if (rc == 0)
				rc = qos_start(dp, l3, err, err_len);
			if (rc < 0)
				goto fail;
		}
	}
	rc = build_workers(dp, err, err_len);
	if (rc < 0)
		goto fail;
	dp->start_tsc = rte_rdtsc();
	dp->sample_tsc = dp->start_tsc;
	dp->progress_tsc = dp->start_tsc;
	for (unsigned i = 0; i < dp->n_workers; i++) {
		rc = rte_eal_remote_launch(worker_main, dp->workers[i], dp->workers[i]->lcore);
		if (rc < 0) {
			rc = ap_errf(err, err_len, rc, "cannot launch worker %u", i);
			goto fail;
		}
	}
	dp->launched = true;
	*out = dp;
	return 0;
fail:
	ap_dp_destroy(dp);
	return rc;
}

static uint64_t
workers_done_rx(const struct ap_dp *dp)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < dp->n_workers; i++)
		n += __atomic_load_n(&dp->workers[i]->done_rx, __ATOMIC_ACQUIRE);
	return n;
}

bool
ap_dp_input_done(struct ap_dp *dp)
{
	uint64_t want = 0, got = workers_done_rx(dp), now = rte_rdtsc();

	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct rte_eth_stats st;

		want += dp->ports[i].expect_rx;
		/* Frames the driver could not read count as consumed input. */
		if (rte_eth_stats_get(dp->ports[i].port_id, &st) == 0)
			got += st.ierrors;
	}
	if (got >= want) {
		/* What the input made the control plane send (ARP replies, ICMP
		 * errors) goes out before the end: both rings stay empty over a few
		 * checks, long enough for worker 0 to send the last injected burst. */
		if (!dp->ip_up || ap_ip_idle())
			dp->idle_checks++;
		else
			dp->idle_checks = 0;
		return dp->idle_checks >= 3;
	}
	if (got != dp->progress_rx) {
		dp->progress_rx = got;
		dp->progress_tsc = now;
		return false;
	}
	if (now - dp->progress_tsc > OFFLINE_STALL_S * dp->tsc_hz) {
		AP_LOG_WARN(MOD, "input stalled at %" PRIu64 " of %" PRIu64 " frames, stopping",
			    got, want);
		return true;
	}
	return false;
}

void
ap_dp_stop(struct ap_dp *dp)
{
	if (!dp || dp->stopped)
		return;
	if (dp->launched) {
		for (unsigned i = 0; i < dp->n_workers; i++)
			__atomic_store_n(&dp->workers[i]->quit, 1, __ATOMIC_RELAXED);
		rte_eal_mp_wait_lcore();
	}
	dp->stop_tsc = rte_rdtsc();
	ap_capture_stop();
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct dp_port *dpp = &dp->ports[i];

		if (!dpp->cfg)
			continue;
		rte_eth_stats_get(dpp->port_id, &dpp->final);
		/* Stopping flushes and closes pcap output files. */
		rte_eth_dev_stop(dpp->port_id);
		ap_port_release(&dpp->claim);
		ap_port_busy_poll_release(&dpp->busy);
	}
	dp->stopped = true;
}

void
ap_dp_destroy(struct ap_dp *dp)
{
	if (!dp)
		return;
	ap_dp_stop(dp);
	for (unsigned i = 0; i < dp->n_workers; i++) {
		if (!dp->workers[i])
			continue;
		if (dp->workers[i]->graph_id != RTE_GRAPH_ID_INVALID && dp->workers[i]->graph)
			rte_graph_destroy(dp->workers[i]->graph_id);
		rte_free(dp->workers[i]->trace);
		rte_free(dp->workers[i]);
	}
	ap_capture_fini();
	rx_templates_free(dp);
	if (dp->ip_up)
		ap_ip_stop();
	if (dp->l2_up)
		ap_l2_stop();
	ap_syn_stop();
	ap_ct_stop();
	ap_fw_stop();
	ap_qos_stop();
	rte_free(ap_dp_qsbr);
	ap_dp_qsbr = NULL;
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].cfg)
			rte_eth_dev_close(dp->ports[i].port_id);
	if (dp->pool)
		rte_mempool_free(dp->pool);
	if (dp->eal_up)
		ap_eal_cleanup();
	free(dp);
}

/* Counters. */

static void
port_stats(const struct ap_dp *dp, unsigned i, struct rte_eth_stats *st)
{
	if (dp->stopped)
		*st = dp->ports[i].final;
	else if (rte_eth_stats_get(dp->ports[i].port_id, st) != 0)
		memset(st, 0, sizeof(*st));
}

static uint64_t
port_drops(const struct ap_dp *dp, uint16_t port_id)
{
	uint64_t n = 0;

	for (unsigned w = 0; w < dp->n_workers; w++)
		n += dp->workers[w]->stats.port_drops[port_id];
	return n;
}

void
ap_dp_poll(struct ap_dp *dp)
{
	if (dp->stopped)
		return;
	if (dp->ip_up) {
		ap_ip_poll();
		ap_fw_poll();
		ap_ct_poll();
	}
	if (dp->l2_up)
		ap_l2_poll();
	ap_capture_poll();
}

int
ap_dp_capture_start(struct ap_dp *dp, const char *port, const char *file, uint64_t count, bool rx,
		    bool tx, const char *filter, char *err, size_t err_len)
{
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (strcmp(dp->ports[i].cfg->name, port) == 0)
			return ap_capture_start(dp->ports[i].port_id, port, file, count,
						(uint8_t)((rx ? 1 : 0) | (tx ? 2 : 0)), filter, err,
						err_len);
	return ap_errf(err, err_len, -ENOENT, "no port '%s'", port);
}

void
ap_dp_capture_stop(struct ap_dp *dp)
{
	(void)dp;
	ap_capture_stop();
}

json_t *
ap_dp_capture_json(struct ap_dp *dp)
{
	(void)dp;
	return ap_capture_json();
}

json_t *
ap_dp_ifaces_json(struct ap_dp *dp)
{
	return dp->ip_up ? ap_ip_ifaces_json() : json_pack("{s:[]}", "interfaces");
}

json_t *
ap_dp_routes_json(struct ap_dp *dp, const char *prefix)
{
	return dp->ip_up ? ap_ip_routes_json(prefix) : json_pack("{s:[]}", "routes");
}

int
ap_dp_route_add(struct ap_dp *dp, const struct ap_cfg_route *r, char *err, size_t err_len)
{
	if (!ap_dp_routed(dp) || dp->stopped)
		return ap_errf(err, err_len, -ENOTSUP, "the data plane has no routed interface");
	return ap_ip_route_add(r, AP_ROUTE_API, err, err_len);
}

int
ap_dp_route_del(struct ap_dp *dp, const struct ap_cfg_prefix *p, char *err, size_t err_len)
{
	if (!ap_dp_routed(dp) || dp->stopped)
		return ap_errf(err, err_len, -ENOTSUP, "the data plane has no routed interface");
	return ap_ip_route_del(p, AP_ROUTE_API, err, err_len);
}

static bool
same_route(const struct ap_cfg_route *a, const struct ap_cfg_route *b)
{
	if (a->blackhole != b->blackhole || a->n_via != b->n_via)
		return false;
	for (unsigned i = 0; i < a->n_via; i++)
		if (a->via[i].family != b->via[i].family ||
		    memcmp(a->via[i].addr, b->via[i].addr, 16) != 0)
			return false;
	return true;
}

static const struct ap_cfg_route *
find_route(const struct ap_config *cfg, const struct ap_cfg_prefix *p)
{
	for (unsigned i = 0; i < cfg->n_routes; i++)
		if (cfg->routes[i].prefix.family == p->family &&
		    cfg->routes[i].prefix.len == p->len &&
		    memcmp(cfg->routes[i].prefix.addr, p->addr, 16) == 0)
			return &cfg->routes[i];
	return NULL;
}

int
ap_dp_addr_change(struct ap_dp *dp, const char *iface, const struct ap_cfg_prefix *p, bool add,
		  char *err, size_t err_len)
{
	if (!ap_dp_routed(dp) || dp->stopped)
		return ap_errf(err, err_len, -ENOTSUP, "the data plane has no routed interface");
	return add ? ap_ip_addr_add(iface, p, err, err_len)
		   : ap_ip_addr_del(iface, p, err, err_len);
}

json_t *
ap_dp_ip_stats_json(struct ap_dp *dp)
{
	return ap_dp_routed(dp) ? ap_ip_stats_json() : NULL;
}

/* The FIB sink the routing protocols get (svc.h). */
static int
proto_install(void *ctx, uint8_t family, const uint8_t *addr, uint8_t len, const uint8_t *nh)
{
	struct ap_dp *dp = ctx;
	struct ap_cfg_route r = {.n_via = 1};
	char err[256];

	if (!ap_dp_routed(dp) || dp->stopped)
		return -ENOTSUP;
	r.prefix.family = r.via[0].family = family;
	r.prefix.len = len;
	r.via[0].len = family == 4 ? 32 : 128;
	memcpy(r.prefix.addr, addr, family == 4 ? 4 : 16);
	memcpy(r.via[0].addr, nh, family == 4 ? 4 : 16);
	return ap_ip_route_add(&r, AP_ROUTE_BGP, err, sizeof(err));
}

static int
proto_withdraw(void *ctx, uint8_t family, const uint8_t *addr, uint8_t len)
{
	struct ap_dp *dp = ctx;
	struct ap_cfg_prefix p = {.family = family, .len = len};
	char err[256];

	if (!ap_dp_routed(dp) || dp->stopped)
		return -ENOTSUP;
	memcpy(p.addr, addr, family == 4 ? 4 : 16);
	return ap_ip_route_del(&p, AP_ROUTE_BGP, err, sizeof(err));
}

static int
proto_resolve(void *ctx, uint8_t family, const uint8_t *nh, uint8_t *gw)
{
	struct ap_dp *dp = ctx;

	if (!ap_dp_routed(dp) || dp->stopped)
		return -ENOTSUP;
	return ap_ip_resolve(family, nh, gw);
}

static uint64_t
proto_generation(void *ctx)
{
	(void)ctx;
	return ap_ip_route_gen();
}

const struct ap_svc_fib *
ap_dp_fib(struct ap_dp *dp)
{
	if (!ap_dp_routed(dp))
		return NULL;
	dp->fib_sink.install = proto_install;
	dp->fib_sink.withdraw = proto_withdraw;
	dp->fib_sink.resolve = proto_resolve;
	dp->fib_sink.generation = proto_generation;
	dp->fib_sink.ctx = dp;
	return &dp->fib_sink;
}

int
ap_dp_reconfigure(struct ap_dp *dp, const struct ap_config *cfg, char *err, size_t err_len)
{
	const struct ap_config *old = &dp->cfg;
	int rc;

	if (!ap_dp_routed(dp) || dp->stopped) {
		if (cfg->n_routes != old->n_routes)
			return ap_errf(err, err_len, -ENOTSUP, "routes need routed interfaces");
		return 0;
	}
	/* The firewall first: when its rules do not compile, nothing changes. */
	if (memcmp(&old->firewall, &cfg->firewall, sizeof(cfg->firewall)) != 0) {
		rc = ap_fw_reload(&cfg->firewall, err, err_len);
		if (rc < 0)
			return rc;
		dp->cfg.firewall = cfg->firewall;
	}
	/* Routes gone or changed first go, then new ones come: each is one FIB
	 * update that lookups see before or after. */
	for (unsigned i = 0; i < old->n_routes; i++) {
		const struct ap_cfg_route *n = find_route(cfg, &old->routes[i].prefix);

		if (!n) {
			rc = ap_ip_route_del(&old->routes[i].prefix, AP_ROUTE_STATIC, err, err_len);
			if (rc < 0 && rc != -ENOENT)
				return rc;
		}
	}
	for (unsigned i = 0; i < cfg->n_routes; i++) {
		const struct ap_cfg_route *o = find_route(old, &cfg->routes[i].prefix);

		if (o && same_route(o, &cfg->routes[i]))
			continue;
		rc = ap_ip_route_add(&cfg->routes[i], AP_ROUTE_STATIC, err, err_len);
		if (rc < 0)
			return rc;
	}
	memcpy(dp->cfg.routes, cfg->routes, sizeof(cfg->routes));
	dp->cfg.n_routes = cfg->n_routes;
	return 0;
}

json_t *
ap_dp_bridges_json(struct ap_dp *dp)
{
	return dp->l2_up ? ap_l2_bridges_json() : json_pack("{s:[]}", "bridges");
}

json_t *
ap_dp_macs_json(struct ap_dp *dp, const char *name)
{
	if (!dp->l2_up)
		return name ? NULL : json_pack("{s:[]}", "macs");
	return ap_l2_macs_json(name);
}

int
ap_dp_macs_flush(struct ap_dp *dp, const char *name)
{
	if (!dp->l2_up)
		return name ? -ENOENT : 0;
	return ap_l2_flush(name);
}

json_t *
ap_dp_conntrack_json(struct ap_dp *dp, const char *proto, const char *addr, unsigned port,
		     unsigned limit)
{
	json_t *j = ap_ct_flows_json(proto, addr, port, limit);

	RTE_SET_USED(dp);
	json_object_set_new(j, "stats", ap_ct_stats_json());
	return j;
}

json_t *
ap_dp_firewall_json(struct ap_dp *dp)
{
	RTE_SET_USED(dp);
	return ap_fw_json();
}

json_t *
ap_dp_synproxy_json(struct ap_dp *dp)
{
	RTE_SET_USED(dp);
	return ap_syn_json();
}

json_t *
ap_dp_qos_json(struct ap_dp *dp)
{
	RTE_SET_USED(dp);
	return ap_qos_json();
}

json_t *
ap_dp_firewall_log_json(struct ap_dp *dp)
{
	RTE_SET_USED(dp);
	return ap_fw_log_json();
}

int
ap_dp_conntrack_flush(struct ap_dp *dp, const char *proto, const char *addr, unsigned port)
{
	struct ap_ct_filter flt;
	int rc = ap_ct_filter_parse(proto, addr, port, &flt);

	RTE_SET_USED(dp);
	return rc < 0 ? rc : (int)ap_ct_flush_all(&flt);
}

json_t *
ap_dp_conntrack_stats_json(struct ap_dp *dp)
{
	RTE_SET_USED(dp);
	return ap_ct_stats_json();
}

json_t *
ap_dp_conntrack_events_json(struct ap_dp *dp, unsigned limit)
{
	RTE_SET_USED(dp);
	return ap_ct_events_json(limit);
}

json_t *
ap_dp_neighbors_json(struct ap_dp *dp)
{
	return dp->ip_up ? ap_ip_neighbors_json() : json_pack("{s:[]}", "neighbors");
}

bool
ap_dp_routed(const struct ap_dp *dp)
{
	return dp->ip_up && dp->cfg.n_ifaces > 0;
}

void
ap_dp_sample(struct ap_dp *dp)
{
	uint64_t now = rte_rdtsc(), rx = 0;

	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct rte_eth_stats st;

		port_stats(dp, i, &st);
		rx += st.ipackets;
	}
	if (now > dp->sample_tsc)
		dp->pps = (double)(rx - dp->sample_rx) * (double)dp->tsc_hz /
			  (double)(now - dp->sample_tsc);
	dp->sample_tsc = now;
	dp->sample_rx = rx;
}

json_t *
ap_dp_ports_json(struct ap_dp *dp)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < dp->n_ports; i++) {
		const struct dp_port *dpp = &dp->ports[i];
		struct rte_eth_link link = {0};
		struct rte_eth_stats st;
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		port_stats(dp, i, &st);
		if (!dp->stopped)
			rte_eth_link_get_nowait(dpp->port_id, &link);
		rte_ether_format_addr(mac, sizeof(mac), &dpp->mac);
		json_array_append_new(
			arr, json_pack("{s:s, s:i, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, "
				       "s:I, s:I, s:I}",
				       "name", dpp->cfg->name, "id", dpp->port_id, "driver",
				       ap_port_driver_name(dpp->cfg->driver), "mac", mac, "link_up",
				       link.link_status == RTE_ETH_LINK_UP, "speed_mbps",
				       (json_int_t)link.link_speed, "rx_packets",
				       (json_int_t)st.ipackets, "rx_bytes", (json_int_t)st.ibytes,
				       "tx_packets", (json_int_t)st.opackets, "tx_bytes",
				       (json_int_t)st.obytes, "rx_missed", (json_int_t)st.imissed,
				       "rx_errors", (json_int_t)st.ierrors, "tx_errors",
				       (json_int_t)st.oerrors, "drops",
				       (json_int_t)port_drops(dp, dpp->port_id)));
	}
	return json_pack("{s:o}", "ports", arr);
}

json_t *
ap_dp_nodes_json(struct ap_dp *dp)
{
	json_t *arr = json_array();

	for (unsigned n = 0; n < dp->n_node_ids; n++) {
		uint64_t calls = 0, objs = 0, cycles = 0;

		for (unsigned w = 0; w < dp->n_workers; w++) {
			struct rte_node *node;

			if (!dp->workers[w]->graph)
				continue;
			node = rte_graph_node_get(dp->workers[w]->graph_id, dp->node_ids[n]);
			if (!node)
				continue;
			calls += node->total_calls;
			objs += node->total_objs;
			cycles += node->total_cycles;
		}
		json_array_append_new(arr,
				      json_pack("{s:s, s:I, s:I, s:I, s:f}", "name",
						rte_node_id_to_name(dp->node_ids[n]), "calls",
						(json_int_t)calls, "packets", (json_int_t)objs,
						"cycles", (json_int_t)cycles, "cycles_per_packet",
						objs ? (double)cycles / (double)objs : 0.0));
	}
	return json_pack("{s:o}", "nodes", arr);
}

static json_t *
drops_json(const struct ap_dp *dp)
{
	json_t *reasons = json_object();
	uint64_t total = 0;

	for (unsigned r = 0; r < AP_DROP_COUNT; r++) {
		uint64_t n = 0;

		for (unsigned w = 0; w < dp->n_workers; w++)
			n += dp->workers[w]->stats.drops[r];
		if (!n)
			continue;
		total += n;
		json_object_set_new(reasons, ap_drop_name((enum ap_drop_reason)r),
				    json_integer((json_int_t)n));
	}
	return json_pack("{s:I, s:o}", "total", (json_int_t)total, "reasons", reasons);
}

static void
port_totals(const struct ap_dp *dp, uint64_t *rx, uint64_t *tx)
{
	*rx = *tx = 0;
	for (unsigned i = 0; i < dp->n_ports; i++) {
		struct rte_eth_stats st;

		port_stats(dp, i, &st);
		*rx += st.ipackets;
		*tx += st.opackets;
	}
}

json_t *
ap_dp_stats_json(struct ap_dp *dp)
{
	uint64_t rx, tx, sleeps = 0, end = dp->stopped ? dp->stop_tsc : rte_rdtsc();

	port_totals(dp, &rx, &tx);
	for (unsigned w = 0; w < dp->n_workers; w++)
		sleeps += dp->workers[w]->stats.sleeps;
	return json_pack("{s:f, s:i, s:I, s:I, s:f, s:I, s:o}", "uptime_s",
			 (double)(end - dp->start_tsc) / (double)dp->tsc_hz, "workers",
			 (int)dp->n_workers, "rx_packets", (json_int_t)rx, "tx_packets",
			 (json_int_t)tx, "packets_per_second", dp->pps, "idle_sleeps",
			 (json_int_t)sleeps, "drops", drops_json(dp));
}

/* Packet trace. */

int
ap_dp_trace_start(struct ap_dp *dp, unsigned count, const char *filter, char *err, size_t err_len)
{
	struct rte_bpf *bpf;
	int rc;

	if (dp->stopped)
		return ap_errf(err, err_len, -ENOTSUP, "the data plane is stopping");
	rc = ap_filter_compile(filter, &bpf, err, err_len);
	if (rc < 0)
		return rc;
	/* Workers stop recording first, so the reset below races with nothing
	 * but a record being finished, which it then overwrites. */
	ap_trace_active = 0;
	rte_smp_mb();
	for (unsigned w = 0; w < dp->n_workers; w++) {
		struct ap_trace *t = dp->workers[w]->trace;

		t->n = 0;
		t->next_id = (w + 1) << 24;
		t->budget = count;
	}
	/* Workers are not tracing now: the old filter may go once they are
	 * past any packet it was looking at (retire frees it a swap later). */
	ap_filter_retire(ap_trace_filter);
	ap_trace_filter = bpf;
	snprintf(dp->trace_filter, sizeof(dp->trace_filter), "%s", filter ? filter : "");
	rte_smp_mb();
	ap_trace_active = count > 0;
	return 0;
}

static const char *
port_name(const struct ap_dp *dp, uint16_t port_id)
{
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].cfg && dp->ports[i].port_id == port_id)
			return dp->ports[i].cfg->name;
	return "?";
}

static const char *const punt_names[] = {
	"none",	       "arp",	"neighbor-discovery", "resolve", "ttl-expired", "no-route",
	"frag-needed", "local", "fragment",
};

json_t *
ap_dp_trace_json(struct ap_dp *dp)
{
	json_t *pkts = json_array(), *by_id = json_object();

	for (unsigned w = 0; w < dp->n_workers; w++) {
		const struct ap_trace *t = dp->workers[w]->trace;
		uint32_t n =
			RTE_MIN(__atomic_load_n(&t->n, __ATOMIC_ACQUIRE), (uint32_t)AP_TRACE_RECS);

		for (uint32_t i = 0; i < n; i++) {
			const struct ap_trace_rec *r = &t->rec[i];
			char key[16];
			json_t *pkt, *step;

			snprintf(key, sizeof(key), "%u", r->id);
			pkt = json_object_get(by_id, key);
			if (!pkt) {
				pkt = json_pack("{s:I, s:i, s:[]}", "id",
						(json_int_t)(r->id & 0xffffff), "worker", (int)w,
						"path");
				json_object_set_new(by_id, key, pkt);
				json_array_append(pkts, pkt);
			}
			step = json_pack("{s:s, s:i}", "node", r->node, "len", r->len);
			switch (r->event) {
			case AP_TRACE_RX:
				json_object_set_new(step, "event", json_string("rx"));
				json_object_set_new(step, "port_id", json_integer(r->detail));
				json_object_set_new(step, "port",
						    json_string(port_name(dp, r->detail)));
				break;
			case AP_TRACE_NEXT:
				json_object_set_new(step, "event", json_string("next"));
				json_object_set_new(step, "next",
						    json_string(r->next ? r->next : "?"));
				break;
			case AP_TRACE_DROP:
				json_object_set_new(step, "event", json_string("drop"));
				json_object_set_new(step, "reason",
						    json_string(ap_drop_name(r->detail)));
				break;
			case AP_TRACE_PUNT:
				json_object_set_new(step, "event", json_string("punt"));
				json_object_set_new(step, "reason",
						    json_string(r->detail < RTE_DIM(punt_names)
									? punt_names[r->detail]
									: "?"));
				break;
			case AP_TRACE_TX:
				json_object_set_new(step, "event", json_string("tx"));
				json_object_set_new(step, "port_id", json_integer(r->detail));
				json_object_set_new(step, "port",
						    json_string(port_name(dp, r->detail)));
				break;
			default:
				break;
			}
			json_array_append_new(json_object_get(pkt, "path"), step);
		}
	}
	json_decref(by_id);
	return json_pack("{s:b, s:s, s:o}", "active", ap_trace_active != 0, "filter",
			 dp->trace_filter, "packets", pkts);
}

json_t *
ap_dp_summary_json(struct ap_dp *dp)
{
	uint64_t rx, tx, wcycles = 0, wrx = 0, ncycles = 0;
	uint64_t end = dp->stopped ? dp->stop_tsc : rte_rdtsc();
	double secs = (double)(end - dp->start_tsc) / (double)dp->tsc_hz;
	json_t *nodes = ap_dp_nodes_json(dp), *ports = ap_dp_ports_json(dp), *n, *sum;
	size_t i;

	port_totals(dp, &rx, &tx);
	for (unsigned w = 0; w < dp->n_workers; w++) {
		const struct ap_worker *wk = dp->workers[w];

		wcycles += (wk->stop_tsc ? wk->stop_tsc : rte_rdtsc()) - wk->start_tsc;
		wrx += wk->stats.rx_packets;
	}
	json_array_foreach(json_object_get(nodes, "nodes"), i, n) ncycles +=
		(uint64_t)json_integer_value(json_object_get(n, "cycles"));
	sum = json_pack("{s:s, s:f, s:i, s:O, s:O, s:o, s:I, s:I, s:f, s:I, s:f, s:f, s:I}", "mode",
			dp->opts.offline ? "offline" : "live", "duration_s", secs, "workers",
			(int)dp->n_workers, "ports", json_object_get(ports, "ports"), "nodes",
			json_object_get(nodes, "nodes"), "drops", drops_json(dp), "rx_packets",
			(json_int_t)rx, "tx_packets", (json_int_t)tx, "packets_per_second",
			secs > 0 ? (double)rx / secs : 0.0, "worker_cycles", (json_int_t)wcycles,
			"cycles_per_packet", wrx ? (double)wcycles / (double)wrx : 0.0,
			"node_cycles_per_packet", wrx ? (double)ncycles / (double)wrx : 0.0,
			"tsc_hz", (json_int_t)dp->tsc_hz);
	json_decref(ports);
	json_decref(nodes);
	return sum;
}
