/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's control plane, on the main lcore: builds interfaces, FIBs and
 * next hops from the config; resolves neighbours with ARP (RFC 826) and
 * neighbour discovery (RFC 4861); answers ARP and neighbour solicitations
 * for our addresses; sends ICMP errors (rate limited, as routers do on their
 * slow path: RFC 1812 §4.3.2.8); holds packets awaiting resolution in a
 * bounded queue per neighbour and sends them back through the pipeline once
 * the neighbour answers.
 *
 * Workers only read what is built here. A next hop's link-layer address is
 * one 64-bit word, written with a release store after everything else.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>

#include "dp/core/dp_core.h"
#include "dp/ct/ct.h"
#include "dp/ip/ip.h"
#include "dp/ip/ip_priv.h"
#include "dp/l2/l2.h"
#include "lib/log.h"
#include "pkt/build.h"

#define MOD		     "ip"
#define RING_SIZE	     4096
#define POLL_BURST	     64
#define MAX_NEIGH	     4096
#define NEIGH_QLEN	     16	  /* Packets held per unresolved neighbour. */
#define NEIGH_RETRY_MS	     1000 /* RFC 4861 RetransTimer; ARP likewise. */
#define NEIGH_PROBES	     3	  /* MAX_MULTICAST_SOLICIT */
#define NEIGH_FAILED_HOLD_MS 20000
#define ICMP_RATE_PER_S	     1000 /* Token bucket for ICMP errors. */
#define RA_MIN_DELAY_MS	     3000 /* MIN_DELAY_BETWEEN_RAS, RFC 4861 §10 */

/* Reserved next hops. */
#define NH_UNREACH    0
#define NH_LOCAL      1
#define NH_BLACKHOLE  2
#define NH_FIRST_FREE 3

struct ap_l3_if ap_l3_ifs[AP_L3_MAX];
struct ap_ip_tables ap_ip;

/* RFC 4861 §7.3.2, simplified: STALE and DELAY fold into PROBE, which keeps
 * forwarding with the known address while it is re-confirmed. */
enum neigh_state { N_INCOMPLETE, N_REACHABLE, N_FAILED, N_PROBE };

static const char *const neigh_state_names[] = {"incomplete", "reachable", "failed", "probe"};

struct neigh {
	bool used;
	uint8_t family;
	uint8_t state;
	uint8_t probes;
	bool host_route; /* Has its own next hop (a host, not a route's gateway). */
	bool permanent;	 /* Configured: never changed by what the network says. */
	uint16_t iface;
	uint32_t nh;
	uint8_t addr[16];
	uint8_t mac[6];
	uint64_t last_probe_ms;
	uint64_t updated_ms;
	struct rte_mbuf *q[NEIGH_QLEN];
	uint8_t qlen;
};

struct ctl_iface {
	const struct ap_cfg_iface *cfg;
	uint16_t port;
	int tap_port;	     /* The kernel mirror's ethdev port, -1 when none. */
	uint64_t ra_next_ms; /* Next unsolicited router advertisement. */
	uint64_t ra_last_ms;
	char tap_name[16]; /* Its kernel name. */
	uint32_t glean4;   /* Resolves hosts on the connected IPv4 subnets. */
	uint32_t glean6;
};

enum route_origin { R_LOCAL, R_CONNECTED, R_STATIC, R_NEIGHBOR, R_API, R_BGP };
static const char *const origin_names[] = {"local",    "connected", "static",
					   "neighbor", "api",	    "bgp"};

struct ctl_route {
	struct ap_cfg_prefix prefix;
	uint32_t nh;
	uint8_t origin;
	bool used;
};

static struct {
	struct ap_config cfg;
	struct rte_mempool *pool;
	struct ctl_iface ifaces[AP_CFG_MAX_IFACES];
	unsigned n_ifaces;
	struct neigh neigh[MAX_NEIGH];
	struct ctl_route *routes;
	unsigned n_routes;
	unsigned max_routes;	    /* As many as both FIBs hold. */
	struct rte_hash *route_idx; /* Prefix -> index in routes[]. */
	uint32_t *route_free;	    /* Slots of removed routes, reused first. */
	unsigned n_route_free;
	uint32_t nh_next;
	uint32_t nh_free[64];
	unsigned n_nh_free;
	uint16_t ip_id;
	double icmp_tokens;
	uint64_t reachable_ms;
	uint64_t icmp_last_ms;
	uint64_t counters[16];
} ctl;

enum {
	C_ARP_IN,
	C_ND_IN,
	C_ICMP_SENT,
	C_ICMP_LIMITED,
	C_QUEUED,
	C_QUEUE_DROPS,
	C_LOCAL_DROPS,
	C_FRAGMENTS,
	C_FRAG_FAILED,
	C_TO_KERNEL,
	C_FROM_KERNEL,
	C_RA_SENT,
	C_FIB4_FULL,
	C_FIB6_FULL,
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Next hops. */

static int
nh_alloc(uint8_t type, uint8_t family, uint16_t port, uint16_t iface, const uint8_t *addr)
{
	uint32_t id;
	struct ap_nh *nh;

	if (ctl.n_nh_free)
		id = ctl.nh_free[--ctl.n_nh_free];
	else if (ctl.nh_next < AP_NH_MAX)
		id = ctl.nh_next++;
	else
		return -ENOSPC;
	nh = &ap_ip.nh[id];
	nh->type = type;
	nh->family = family;
	nh->port = port;
	nh->iface = iface;
	nh->refs = 0;
	nh->n_members = 0;
	memset(nh->addr, 0, sizeof(nh->addr));
	if (addr)
		memcpy(nh->addr, addr, family == 4 ? 4 : 16);
	__atomic_store_n(&nh->l2, 0, __ATOMIC_RELEASE);
	return (int)id;
}

/* Routes: the FIB plus a list kept for `show routes`, indexed by prefix. */

/* The hash key of a prefix: a multiple of 4 bytes, as rte_jhash reads words,
 * with every byte past the family's address zeroed. */
struct route_key {
	uint8_t family;
	uint8_t len;
	uint8_t pad[2];
	uint8_t addr[16];
};

static const struct route_key *
route_key(const struct ap_cfg_prefix *p, struct route_key *key)
{
	memset(key, 0, sizeof(*key));
	key->family = p->family;
	key->len = p->len;
	memcpy(key->addr, p->addr, p->family == 4 ? 4 : 16);
	return key;
}

static struct ctl_route *
route_find(const struct ap_cfg_prefix *p)
{
	struct route_key key;
	void *idx;

	if (!ctl.route_idx || rte_hash_lookup_data(ctl.route_idx, route_key(p, &key), &idx) < 0)
		return NULL;
	return &ctl.routes[(uintptr_t)idx];
}

/* The prefix is no longer found; its slot is reused by the next route. */
static void
route_unlink(struct ctl_route *r)
{
	struct route_key key;

	rte_hash_del_key(ctl.route_idx, route_key(&r->prefix, &key));
	r->used = false;
	ctl.route_free[ctl.n_route_free++] = (uint32_t)(r - ctl.routes);
}

/* A route its FIB has no room for (no rule left, or no tbl8 group for a
 * prefix longer than /24): counted, and logged at the 1st, 2nd, 4th, 8th...
 * refusal so that a table which keeps coming (a BGP feed) cannot flood the log.
 * Nothing of the route is left behind. */
static int
route_refused(const struct ap_cfg_prefix *p, int rc)
{
	uint64_t n;
	char b[64];

	/* A RIB out of nodes says ENOMEM: that too is a full FIB. */
	if (rc != -ENOSPC && rc != -ENOMEM)
		return rc;
	n = ++ctl.counters[p->family == 4 ? C_FIB4_FULL : C_FIB6_FULL];
	if ((n & (n - 1)) == 0)
		AP_LOG_WARN(MOD,
			    "IPv%u FIB full: %s not installed (%" PRIu64
			    " refused so far); dataplane.fib%u sets its size",
			    p->family, ap_cfg_prefix_fmt(p, true, b, sizeof(b)), n, p->family);
	return -ENOSPC;
}

static int
fib_add(const struct ap_cfg_prefix *p, uint32_t nh)
{
	uint32_t a;

	if (p->family == 6)
		return ap_fib6_add(ap_ip.fib6, p->addr, p->len, nh);
	memcpy(&a, p->addr, 4);
	return rte_fib_add(ap_ip.fib4, rte_be_to_cpu_32(a), p->len, nh);
}

/* A new prefix takes its slot in the list before it goes into the FIB, so a
 * FIB that refuses it leaves the list as it was. */
static int
route_add(const struct ap_cfg_prefix *p, uint32_t nh, enum route_origin origin)
{
	struct ctl_route *r = route_find(p);
	struct route_key key;
	uint32_t slot = 0;
	int rc;

	if (!r) {
		if (ctl.n_route_free == 0 && ctl.n_routes == ctl.max_routes)
			return route_refused(p, -ENOSPC);
		slot = ctl.n_route_free ? ctl.route_free[ctl.n_route_free - 1] : ctl.n_routes;
		rc = rte_hash_add_key_data(ctl.route_idx, route_key(p, &key),
					   (void *)(uintptr_t)slot);
		if (rc < 0)
			return route_refused(p, rc);
	}
	rc = fib_add(p, nh);
	if (rc < 0) {
		if (!r)
			rte_hash_del_key(ctl.route_idx, &key);
		return route_refused(p, rc);
	}
	if (r) {
		r->nh = nh;
		r->origin = (uint8_t)origin;
		return 0;
	}
	if (ctl.n_route_free)
		ctl.n_route_free--;
	else
		ctl.n_routes++;
	ctl.routes[slot] =
		(struct ctl_route){.prefix = *p, .nh = nh, .origin = (uint8_t)origin, .used = true};
	return 0;
}

static void
host_prefix(uint8_t family, const uint8_t *addr, struct ap_cfg_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	p->len = family == 4 ? 32 : 128;
	memcpy(p->addr, addr, family == 4 ? 4 : 16);
}

static void
network_of(const struct ap_cfg_prefix *a, struct ap_cfg_prefix *net)
{
	*net = *a;
	for (unsigned bit = a->len; bit < (a->family == 4 ? 32u : 128u); bit++)
		net->addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
}

/* Interfaces and addresses. */

/* The interface a punted packet came in on. */
static struct ctl_iface *
iface_of(const struct rte_mbuf *m)
{
	uint16_t l3 = ap_mbuf_priv((struct rte_mbuf *)(uintptr_t)m)->l3;

	if (l3 >= AP_L3_MAX || !ap_l3_ifs[l3].enabled)
		return NULL;
	return &ctl.ifaces[ap_l3_ifs[l3].iface];
}

static bool
iface_has_addr4(const struct ctl_iface *ifc, uint32_t a)
{
	for (unsigned i = 0; i < ifc->cfg->n_addrs; i++)
		if (ifc->cfg->addrs[i].family == 4 && memcmp(ifc->cfg->addrs[i].addr, &a, 4) == 0)
			return true;
	return false;
}

static bool
iface_has_addr6(const struct ctl_iface *ifc, const uint8_t *a)
{
	if (memcmp(ap_l3_ifs[ifc->port].ll6, a, 16) == 0)
		return true;
	for (unsigned i = 0; i < ifc->cfg->n_addrs; i++)
		if (ifc->cfg->addrs[i].family == 6 && memcmp(ifc->cfg->addrs[i].addr, a, 16) == 0)
			return true;
	return false;
}

/* The interface address to answer from: the one whose subnet holds @p peer,
 * else the first of the family. Returns false when the interface has none. */
static bool
iface_src4(const struct ctl_iface *ifc, uint32_t peer, uint32_t *src)
{
	bool found = false;

	for (unsigned i = 0; i < ifc->cfg->n_addrs; i++) {
		const struct ap_cfg_prefix *a = &ifc->cfg->addrs[i];
		uint32_t v, mask;

		if (a->family != 4)
			continue;
		memcpy(&v, a->addr, 4);
		mask = a->len ? rte_cpu_to_be_32(~0u << (32 - a->len)) : 0;
		if (!found || ((v ^ peer) & mask) == 0) {
			*src = v;
			if (((v ^ peer) & mask) == 0)
				return true;
			found = true;
		}
	}
	return found;
}

static const uint8_t *
iface_src6(const struct ctl_iface *ifc, const uint8_t *peer)
{
	if (peer[0] == 0xfe && (peer[1] & 0xc0) == 0x80)
		return ap_l3_ifs[ifc->port].ll6;
	for (unsigned i = 0; i < ifc->cfg->n_addrs; i++)
		if (ifc->cfg->addrs[i].family == 6)
			return ifc->cfg->addrs[i].addr;
	return ap_l3_ifs[ifc->port].ll6;
}

/* Sending. */

/* Copy @p len bytes of a frame into a new mbuf and queue it on the inject
 * ring for @p port (or back into a pipeline entry, INJECT_*). */
static void
inject_frame(const uint8_t *frame, size_t len, uint16_t port, uint16_t rx_port)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ctl.pool);
	char *d;

	if (!m)
		return;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (!d) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(d, frame, len);
	m->port = ap_l3_ifs[rx_port].tx_port;
	ap_mbuf_priv(m)->l3 = rx_port;
	ap_mbuf_priv(m)->tx_port = port;
	ap_mbuf_priv(m)->reinjected = 0;
	ap_mbuf_priv(m)->trace_id = 0;
	ap_mbuf_priv(m)->drop_reason = AP_DROP_NONE;
	if (rte_ring_sp_enqueue(ap_ip.inject, m) != 0)
		rte_pktmbuf_free(m);
}

static void
inject_mbuf(struct rte_mbuf *m, uint16_t entry)
{
	ap_mbuf_priv(m)->tx_port = entry;
	ap_mbuf_priv(m)->reinjected++;
	if (rte_ring_sp_enqueue(ap_ip.inject, m) != 0)
		rte_pktmbuf_free(m);
}

static void
send_arp(const struct ctl_iface *ifc, uint16_t op, uint32_t src, const uint8_t *dst_mac,
	 const uint8_t *target_mac, uint32_t target)
{
	uint8_t f[64];
	int n = ap_build_arp(f, sizeof(f), rte_cpu_to_be_16(op), ap_l3_ifs[ifc->port].mac, src,
			     dst_mac, target_mac, target);

	if (n > 0)
		inject_frame(f, (size_t)n, ifc->port, ifc->port);
}

static void
send_ns(const struct ctl_iface *ifc, const uint8_t *target, const uint8_t *unicast_mac)
{
	uint8_t f[128];
	const uint8_t *src = iface_src6(ifc, target);
	int n = ap_build_nd_ns(f, sizeof(f), ap_l3_ifs[ifc->port].mac, src, target, false);

	if (n <= 0)
		return;
	/* A probe of a known neighbour goes to its MAC, not the group. */
	if (unicast_mac)
		memcpy(f, unicast_mac, 6);
	inject_frame(f, (size_t)n, ifc->port, ifc->port);
}

static bool
icmp_allowed(void)
{
	uint64_t now = now_ms();

	ctl.icmp_tokens += (double)(now - ctl.icmp_last_ms) * ICMP_RATE_PER_S / 1000.0;
	if (ctl.icmp_tokens > ICMP_RATE_PER_S)
		ctl.icmp_tokens = ICMP_RATE_PER_S;
	ctl.icmp_last_ms = now;
	if (ctl.icmp_tokens < 1) {
		ctl.counters[C_ICMP_LIMITED]++;
		return false;
	}
	ctl.icmp_tokens -= 1;
	return true;
}

/* An ICMP error about the packet in @p m goes back into ip4-input/ip6-input
 * so it is routed like any packet (and resolved if need be). */
static void
send_icmp_error(struct rte_mbuf *m, uint8_t type4, uint8_t code4, uint8_t type6, uint8_t code6,
		uint32_t mtu)
{
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ctl_iface *ifc = iface_of(m);
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off);
	size_t l3_len = rte_pktmbuf_data_len(m) - pv->pi.l3_off;
	uint8_t f[RTE_ETHER_HDR_LEN + AP_ICMP6_ERR_MAX];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	int n;

	if (!ifc || !icmp_allowed())
		return;
	memset(eth, 0, sizeof(*eth));
	memcpy(eth->dst_addr.addr_bytes, ap_l3_ifs[ifc->port].mac, 6);
	if (pv->pi.l3 == AP_L3_IPV4) {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
		uint32_t src;

		if (!iface_src4(ifc, ip->src_addr, &src))
			return;
		n = ap_build_icmp4_error(f + RTE_ETHER_HDR_LEN, sizeof(f) - RTE_ETHER_HDR_LEN, src,
					 l3, l3_len, type4, code4, rte_cpu_to_be_32(mtu),
					 rte_cpu_to_be_16(ctl.ip_id++));
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		if (n > 0)
			inject_frame(f, (size_t)n + RTE_ETHER_HDR_LEN, INJECT_IP4_INPUT, pv->l3);
	} else {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)l3;

		n = ap_build_icmp6_error(f + RTE_ETHER_HDR_LEN, sizeof(f) - RTE_ETHER_HDR_LEN,
					 iface_src6(ifc, ip->src_addr), l3, l3_len, type6, code6,
					 rte_cpu_to_be_32(mtu));
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		if (n > 0)
			inject_frame(f, (size_t)n + RTE_ETHER_HDR_LEN, INJECT_IP6_INPUT, pv->l3);
	}
	if (n > 0)
		ctl.counters[C_ICMP_SENT]++;
}

/* RFC 793 "Reset Generation" for a segment a firewall rule rejects: from the
 * address it was sent to, so the sender sees the port closed. */
static void
send_tcp_rst(struct rte_mbuf *m)
{
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off);
	const uint8_t *th = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l4_off);
	uint8_t f[RTE_ETHER_HDR_LEN + 40 + 20];
	bool v4 = pv->pi.l3 == AP_L3_IPV4;
	uint8_t *ip = f + RTE_ETHER_HDR_LEN, *t;
	uint32_t seq, ack, seglen, hl = v4 ? 20 : 40;
	const struct ctl_iface *ifc = iface_of(m);
	uint16_t ck;

	if (!ifc || pv->pi.l4_len < 20 || rte_pktmbuf_data_len(m) < pv->pi.l4_off + 20u ||
	    (th[13] & 0x04) || !icmp_allowed())
		return; /* never answer a RST */
	memset(f, 0, sizeof(f));
	memcpy(f, ap_l3_ifs[ifc->port].mac, 6);
	f[12] = v4 ? 0x08 : 0x86;
	f[13] = v4 ? 0x00 : 0xdd;
	if (v4) {
		ip[0] = 0x45;
		ip[3] = 40;
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, l3 + 16, 4);
		memcpy(ip + 16, l3 + 12, 4);
	} else {
		ip[0] = 0x60;
		ip[5] = 20;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, l3 + 24, 16);
		memcpy(ip + 24, l3 + 8, 16);
	}
	t = ip + hl;
	memcpy(t, th + 2, 2);
	memcpy(t + 2, th, 2);
	t[12] = 5 << 4;
	memcpy(&seq, th + 4, 4);
	memcpy(&ack, th + 8, 4);
	if (th[13] & 0x10) {
		/* It acknowledged something: the reset takes that sequence number. */
		memcpy(t + 4, &ack, 4);
		t[13] = 0x04;
	} else {
		seglen = pv->pi.l4_len - (uint32_t)(th[12] >> 4) * 4u + ((th[13] & 0x02) != 0) +
			 (th[13] & 0x01);
		ack = rte_cpu_to_be_32(rte_be_to_cpu_32(seq) + seglen);
		memcpy(t + 8, &ack, 4);
		t[13] = 0x14;
	}
	if (v4) {
		ck = ap_csum(ip, 20);
		memcpy(ip + 10, &ck, 2);
		ck = ap_l4_csum_ip4(ip, t, 20, IPPROTO_TCP);
	} else {
		ck = ap_l4_csum_ip6(ip, t, 20, IPPROTO_TCP);
	}
	memcpy(t + 16, &ck, 2);
	inject_frame(f, RTE_ETHER_HDR_LEN + hl + 20, v4 ? INJECT_IP4_INPUT : INJECT_IP6_INPUT,
		     pv->l3);
	ctl.counters[C_ICMP_SENT]++;
}

static void
send_reject(struct rte_mbuf *m)
{
	if (ap_mbuf_priv(m)->pi.l4_proto == IPPROTO_TCP)
		send_tcp_rst(m);
	else /* communication administratively prohibited */
		send_icmp_error(m, AP_ICMP4_DEST_UNREACH, 13, AP_ICMP6_DEST_UNREACH, 1, 0);
}

/* Neighbours. */

static struct neigh *
neigh_find(uint8_t family, uint16_t iface, const uint8_t *addr)
{
	size_t len = family == 4 ? 4 : 16;

	for (unsigned i = 0; i < MAX_NEIGH; i++) {
		struct neigh *n = &ctl.neigh[i];

		if (n->used && n->family == family && n->iface == iface &&
		    memcmp(n->addr, addr, len) == 0)
			return n;
	}
	return NULL;
}

static struct neigh *
neigh_new(uint8_t family, uint16_t iface, const uint8_t *addr, int nh)
{
	struct ctl_iface *ifc = &ctl.ifaces[iface];

	for (unsigned i = 0; i < MAX_NEIGH; i++) {
		struct neigh *n = &ctl.neigh[i];

		if (n->used)
			continue;
		if (nh < 0) {
			nh = nh_alloc(AP_NH_NEIGH, family, ifc->port, iface, addr);
			if (nh < 0)
				return NULL;
			n->host_route = true;
		} else {
			n->host_route = false;
		}
		memset(n->addr, 0, sizeof(n->addr));
		memcpy(n->addr, addr, family == 4 ? 4 : 16);
		n->used = true;
		n->family = family;
		n->iface = iface;
		n->nh = (uint32_t)nh;
		n->state = N_INCOMPLETE;
		n->permanent = false;
		n->probes = 0;
		n->qlen = 0;
		n->last_probe_ms = 0;
		n->updated_ms = now_ms();
		return n;
	}
	return NULL;
}

/* Ask for @p n's link-layer address: broadcast / multicast while unknown,
 * unicast to the known one when re-confirming (RFC 4861 §7.3.3). */
static void
neigh_probe(struct neigh *n)
{
	struct ctl_iface *ifc = &ctl.ifaces[n->iface];
	const uint8_t *known = n->state == N_PROBE ? n->mac : NULL;

	n->last_probe_ms = now_ms();
	n->probes++;
	if (n->family == 4) {
		uint32_t target, src;

		memcpy(&target, n->addr, 4);
		if (iface_src4(ifc, target, &src))
			send_arp(ifc, AP_ARP_OP_REQUEST, src, known, NULL, target);
	} else {
		send_ns(ifc, n->addr, known);
	}
}

/* Out of the FIB and the list. */
static void
route_drop(struct ctl_route *r)
{
	const struct ap_cfg_prefix *p = &r->prefix;

	if (p->family == 4) {
		uint32_t a;

		memcpy(&a, p->addr, 4);
		rte_fib_delete(ap_ip.fib4, rte_be_to_cpu_32(a), p->len);
	} else {
		ap_fib6_delete(ap_ip.fib6, p->addr, p->len);
	}
	route_unlink(r);
}

static void
route_remove(const struct ap_cfg_prefix *p)
{
	struct ctl_route *r = route_find(p);

	if (r)
		route_drop(r);
}

static void
neigh_flush(struct neigh *n)
{
	for (unsigned i = 0; i < n->qlen; i++) {
		struct rte_mbuf *m = n->q[i];

		if (n->state == N_REACHABLE || n->state == N_PROBE)
			inject_mbuf(m, n->family == 4 ? INJECT_IP4_INPUT : INJECT_IP6_INPUT);
		else
			rte_pktmbuf_free(m);
	}
	n->qlen = 0;
}

/* RFC 826 "merge": a neighbour we know, or one that talks to us, gets its
 * link-layer address (re)set; the next hop is published last. */
static void
neigh_learn(uint8_t family, uint16_t iface, const uint8_t *addr, const uint8_t *mac, bool create)
{
	struct neigh *n = neigh_find(family, iface, addr);
	struct ap_cfg_prefix hp;

	if (!n) {
		if (!create)
			return;
		n = neigh_new(family, iface, addr, -1);
		if (!n)
			return;
	} else if (n->permanent) {
		return;
	}
	memcpy(n->mac, mac, 6);
	n->state = N_REACHABLE;
	n->probes = 0;
	n->updated_ms = now_ms();
	__atomic_store_n(&ap_ip.nh[n->nh].l2, ap_mac_to_nh_l2(mac), __ATOMIC_RELEASE);
	/* Hosts on a connected subnet are reached through their own host
	 * route; a gateway gets one too, so traffic to its address does not
	 * take the subnet's resolve path again. */
	host_prefix(family, addr, &hp);
	route_add(&hp, n->nh, R_NEIGHBOR);
	neigh_flush(n);
}

/* A packet whose next hop has no link-layer address: hold it and ask. */
static void
resolve(struct rte_mbuf *m)
{
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ap_nh *nh = &ap_ip.nh[pv->nh < AP_NH_MAX ? pv->nh : 0];
	const uint8_t *l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off);
	uint8_t addr[16] = {0};
	struct neigh *n;

	if (nh->type == AP_NH_GLEAN) {
		if (nh->family == 4)
			memcpy(addr, &((const struct rte_ipv4_hdr *)l3)->dst_addr, 4);
		else
			memcpy(addr, ((const struct rte_ipv6_hdr *)l3)->dst_addr, 16);
	} else if (nh->type == AP_NH_NEIGH) {
		memcpy(addr, nh->addr, 16);
	} else {
		rte_pktmbuf_free(m);
		return;
	}
	n = neigh_find(nh->family, nh->iface, addr);
	if (!n)
		n = neigh_new(nh->family, nh->iface, addr,
			      nh->type == AP_NH_NEIGH ? (int)(nh - ap_ip.nh) : -1);
	/* A failed neighbour is asked again by new traffic once the last round of
	 * probes is older than a round (RFC 4861 §7.3.3 leaves this open; Linux
	 * does the same), so a host that comes back is found without waiting
	 * for the entry to expire. */
	if (n && n->state == N_FAILED &&
	    now_ms() - n->updated_ms >= (uint64_t)NEIGH_RETRY_MS * NEIGH_PROBES) {
		n->state = N_INCOMPLETE;
		n->probes = 0;
		n->updated_ms = now_ms();
	}
	if (!n || n->state == N_FAILED || n->qlen == NEIGH_QLEN) {
		ctl.counters[C_QUEUE_DROPS]++;
		if (n && n->state == N_FAILED)
			send_icmp_error(m, 3, 1, 1, 3, 0); /* host / address unreachable */
		rte_pktmbuf_free(m);
		return;
	}
	if (pv->reinjected >= 2) {
		/* Sent back twice and still unresolved: a loop, not a wait. */
		ctl.counters[C_QUEUE_DROPS]++;
		rte_pktmbuf_free(m);
		return;
	}
	n->q[n->qlen++] = m;
	ctl.counters[C_QUEUED]++;
	if (n->state == N_REACHABLE || n->state == N_PROBE) {
		struct ap_cfg_prefix hp;

		host_prefix(n->family, n->addr, &hp);
		route_add(&hp, n->nh, R_NEIGHBOR);
		neigh_flush(n);
	} else if (n->probes == 0) {
		neigh_probe(n);
	}
}

static void
neigh_timers(void)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < MAX_NEIGH; i++) {
		struct neigh *n = &ctl.neigh[i];

		if (!n->used)
			continue;
		if (n->state == N_INCOMPLETE && now - n->last_probe_ms >= NEIGH_RETRY_MS) {
			if (n->probes < NEIGH_PROBES) {
				neigh_probe(n);
			} else {
				/* RFC 4861 §7.3.3: the packets waiting get an error. */
				n->state = N_FAILED;
				n->updated_ms = now;
				for (unsigned q = 0; q < n->qlen; q++)
					send_icmp_error(n->q[q], 3, 1, 1, 3, 0);
				neigh_flush(n);
			}
		} else if (n->state == N_REACHABLE && !n->permanent &&
			   now - n->updated_ms >= ctl.reachable_ms) {
			n->state = N_PROBE;
			n->probes = 0;
			neigh_probe(n);
		} else if (n->state == N_PROBE && now - n->last_probe_ms >= NEIGH_RETRY_MS) {
			struct ap_cfg_prefix hp;

			if (n->probes < NEIGH_PROBES) {
				neigh_probe(n);
				continue;
			}
			/* Gone: stop forwarding to it; new traffic resolves again. */
			n->state = N_FAILED;
			n->updated_ms = now;
			__atomic_store_n(&ap_ip.nh[n->nh].l2, 0, __ATOMIC_RELEASE);
			host_prefix(n->family, n->addr, &hp);
			route_remove(&hp);
		} else if (n->state == N_FAILED && now - n->updated_ms >= NEIGH_FAILED_HOLD_MS) {
			/* Forget it. A host's own next hop goes back to the pool; a
			 * gateway's stays for its routes and resolves again on use. */
			if (n->host_route) {
				ap_ip.nh[n->nh].type = AP_NH_UNREACH;
				if (ctl.n_nh_free < RTE_DIM(ctl.nh_free))
					ctl.nh_free[ctl.n_nh_free++] = n->nh;
			}
			n->used = false;
		}
	}
}

/* Punted packets. */

/* Returns true when the kernel mirror should see the frame too. */
static bool
handle_arp(struct rte_mbuf *m)
{
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	struct ctl_iface *ifc = iface_of(m);
	struct ap_arp_msg a;
	bool for_us;

	ctl.counters[C_ARP_IN]++;
	if (!ifc || ap_parse_arp(rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l3_off),
				 rte_pktmbuf_data_len(m) - pv->pi.l3_off, &a) != 0)
		return false;
	/* Ours, or a 1:1 NAT address on this interface (proxy ARP). */
	for_us = iface_has_addr4(ifc, a.tpa) || ap_nat_is_external(ifc->port, a.tpa);
	if (a.spa != 0)
		neigh_learn(4, (uint16_t)(ifc - ctl.ifaces), (const uint8_t *)&a.spa, a.sha,
			    for_us && !a.gratuitous);
	if (for_us && a.op == rte_cpu_to_be_16(AP_ARP_OP_REQUEST) && !a.gratuitous)
		send_arp(ifc, AP_ARP_OP_REPLY, a.tpa, a.sha, a.sha, a.spa);
	/* Requests are ours to answer; the kernel learns from replies. */
	return a.op == rte_cpu_to_be_16(AP_ARP_OP_REPLY) || a.gratuitous;
}

static void send_ra(struct ctl_iface *ifc);

static bool
handle_nd(struct rte_mbuf *m)
{
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	struct ctl_iface *ifc = iface_of(m);
	const struct rte_ipv6_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv6_hdr *, pv->pi.l3_off);
	static const uint8_t unspec[16], all_nodes[16] = {0xff, 2, [15] = 1};
	struct ap_nd_msg nd;
	uint8_t f[128];
	uint16_t iface;
	int n;

	ctl.counters[C_ND_IN]++;
	if (!ifc || pv->pi.l4_off + pv->pi.l4_len > rte_pktmbuf_data_len(m)) {
		AP_LOG_DEBUG(MOD, "truncated neighbour discovery message (interface %s)",
			     ifc ? ifc->cfg->name : "?");
		return false;
	}
	n = ap_parse_nd(rte_pktmbuf_mtod_offset(m, const uint8_t *, pv->pi.l4_off), pv->pi.l4_len,
			ip->src_addr, ip->dst_addr, ip->hop_limits, &nd);
	if (n != 0) {
		AP_LOG_DEBUG(MOD, "invalid neighbour discovery message on %s: %s", ifc->cfg->name,
			     strerror(-n));
		return false;
	}
	iface = (uint16_t)(ifc - ctl.ifaces);
	if (nd.type == AP_ND_NS) {
		bool dad = memcmp(ip->src_addr, unspec, 16) == 0;

		if (!iface_has_addr6(ifc, nd.target)) {
			AP_LOG_DEBUG(MOD, "neighbour solicitation on %s for another address",
				     ifc->cfg->name);
			return false;
		}
		if (!dad && nd.has_slla)
			neigh_learn(6, iface, ip->src_addr, nd.slla, true);
		/* RFC 4861 §7.2.4: solicited unless the asker was doing DAD. */
		n = ap_build_nd_na(f, sizeof(f), ap_l3_ifs[ifc->port].mac,
				   dad ? NULL : (nd.has_slla ? nd.slla : NULL), nd.target,
				   dad ? all_nodes : ip->src_addr, nd.target,
				   AP_ND_NA_ROUTER | AP_ND_NA_OVERRIDE |
					   (dad ? 0 : AP_ND_NA_SOLICITED),
				   ap_l3_ifs[ifc->port].mac);
		if (n < 0 && !dad && !nd.has_slla) {
			/* No SLLA: answer to the sender's MAC as it came in. */
			const struct rte_ether_hdr *eth =
				rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

			n = ap_build_nd_na(f, sizeof(f), ap_l3_ifs[ifc->port].mac,
					   eth->src_addr.addr_bytes, nd.target, ip->src_addr,
					   nd.target,
					   AP_ND_NA_ROUTER | AP_ND_NA_OVERRIDE | AP_ND_NA_SOLICITED,
					   ap_l3_ifs[ifc->port].mac);
		}
		if (n > 0)
			inject_frame(f, (size_t)n, ifc->port, ifc->port);
		else
			AP_LOG_DEBUG(MOD, "cannot build a neighbour advertisement: %s",
				     strerror(-n));
	} else if (nd.type == AP_ND_NA && nd.has_tlla) {
		neigh_learn(6, iface, nd.target, nd.tlla, false);
	}
	if (nd.type == AP_ND_RS && ifc->cfg->ra && now_ms() - ifc->ra_last_ms >= RA_MIN_DELAY_MS)
		send_ra(ifc);
	/* Solicitations are ours to answer; the kernel learns from adverts. */
	return nd.type == AP_ND_NA;
}

/* RFC 4861 §6.2: advertise each IPv6 prefix of the interface (on-link, and
 * autonomous for /64s, RFC 4862), its MTU, and ourselves as a default router
 * for three intervals. Unsolicited ones are spread by ±25 % (§6.2.4); a
 * solicited one is sent at most every MIN_DELAY_BETWEEN_RAS, 3 s (§6.2.6). */
static void
send_ra(struct ctl_iface *ifc)
{
	const struct ap_l3_if *lp = &ap_l3_ifs[ifc->port];
	struct ap_nd_prefix pfx[AP_CFG_MAX_ADDRS];
	unsigned interval = ifc->cfg->ra_interval ? ifc->cfg->ra_interval : 30;
	struct ap_nd_ra ra = {
		.cur_hop_limit = 64,
		.router_lifetime = rte_cpu_to_be_16((uint16_t)RTE_MIN(3 * interval, 9000u)),
		.mtu = rte_cpu_to_be_32(lp->mtu),
		.prefixes = pfx,
	};
	uint8_t f[512];
	int n;

	for (unsigned a = 0; a < ifc->cfg->n_addrs; a++) {
		const struct ap_cfg_prefix *p = &ifc->cfg->addrs[a];
		struct ap_cfg_prefix net;

		if (p->family != 6 || (p->addr[0] == 0xfe && (p->addr[1] & 0xc0) == 0x80))
			continue;
		network_of(p, &net);
		memcpy(pfx[ra.n_prefixes].prefix, net.addr, 16);
		pfx[ra.n_prefixes].len = p->len;
		pfx[ra.n_prefixes].flags =
			AP_ND_PREFIX_ONLINK | (p->len == 64 ? AP_ND_PREFIX_AUTO : 0);
		pfx[ra.n_prefixes].valid = rte_cpu_to_be_32(2592000);	 /* AdvValidLifetime */
		pfx[ra.n_prefixes].preferred = rte_cpu_to_be_32(604800); /* AdvPreferredLifetime */
		ra.n_prefixes++;
	}
	n = ap_build_nd_ra(f, sizeof(f), lp->mac, NULL, lp->ll6, NULL, &ra);
	if (n > 0) {
		inject_frame(f, (size_t)n, ifc->port, ifc->port);
		ctl.counters[C_RA_SENT]++;
	}
	ifc->ra_last_ms = now_ms();
	ifc->ra_next_ms =
		ifc->ra_last_ms + interval * 750 + (uint64_t)(rand() % (int)(interval * 500 + 1));
}

static void
ra_timers(void)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < ctl.n_ifaces; i++)
		if (ctl.ifaces[i].cfg->ra && now >= ctl.ifaces[i].ra_next_ms)
			send_ra(&ctl.ifaces[i]);
}

/* Hand a punted frame to the interface's kernel mirror. Returns true when
 * the mirror took it (the mbuf is no longer ours). */
static bool
to_kernel(struct rte_mbuf *m)
{
	const struct ctl_iface *ifc = iface_of(m);

	if (!ifc || ifc->tap_port < 0)
		return false;
	/* The mirror is an untagged link: VLAN and bridge tags stay here. */
	if (ap_mbuf_priv(m)->pi.n_vlan && !ap_l2_retag(m, ap_mbuf_priv(m)->pi.n_vlan, NULL, 0))
		return false;
	return rte_eth_tx_burst((uint16_t)ifc->tap_port, 0, &m, 1) == 1;
}

/* What the kernel sends on a mirror goes out of the interface's port. */
static void
tap_poll(void)
{
	struct rte_mbuf *burst[POLL_BURST];

	for (unsigned i = 0; i < ctl.n_ifaces; i++) {
		const struct ctl_iface *ifc = &ctl.ifaces[i];
		uint16_t n;

		if (ifc->tap_port < 0)
			continue;
		n = rte_eth_rx_burst((uint16_t)ifc->tap_port, 0, burst, POLL_BURST);
		for (uint16_t k = 0; k < n; k++) {
			burst[k]->port = ap_l3_ifs[ifc->port].tx_port;
			ap_mbuf_priv(burst[k])->l3 = ifc->port;
			ap_mbuf_priv(burst[k])->trace_id = 0;
			ctl.counters[C_FROM_KERNEL]++;
			inject_mbuf(burst[k], ifc->port);
		}
	}
}

/* RFC 791 §3.2 / RFC 1812 §5.2.2.3: fragments of at most the egress MTU
 * (offsets in 8-byte units; options copied as the library does), sent back
 * into ip4-input, which routes each like any packet. */
static void
fragment4(struct rte_mbuf *m)
{
	struct ap_mbuf_priv *pv = ap_mbuf_priv(m);
	const struct ap_nh *nh = &ap_ip.nh[pv->nh % AP_NH_MAX];
	struct rte_mbuf *frags[64];
	uint16_t rx_port = m->port, rx_l3 = pv->l3;
	int n;

	/* The library wants the packet to start at the IPv4 header. */
	rte_pktmbuf_adj(m, pv->pi.l3_off);
	n = rte_ipv4_fragment_copy_nonseg_packet(m, frags, RTE_DIM(frags), ap_l3_ifs[nh->port].mtu,
						 ctl.pool);
	if (n < 0) {
		ctl.counters[C_FRAG_FAILED]++;
		return;
	}
	ctl.counters[C_FRAGMENTS] += (uint64_t)n;
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *f = frags[i];
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(f, struct rte_ipv4_hdr *);
		struct rte_ether_hdr *eth;

		/* The library leaves the header checksum to the caller. */
		ip->hdr_checksum = 0;
		ip->hdr_checksum = ap_csum(ip, rte_ipv4_hdr_len(ip));
		eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(f, RTE_ETHER_HDR_LEN);

		if (!eth) {
			rte_pktmbuf_free(f);
			continue;
		}
		memset(eth, 0, sizeof(*eth));
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		f->port = rx_port;
		ap_mbuf_priv(f)->l3 = rx_l3;
		ap_mbuf_priv(f)->reinjected = 0;
		ap_mbuf_priv(f)->trace_id = 0;
		inject_mbuf(f, INJECT_IP4_INPUT);
	}
}

static void
handle_local(struct rte_mbuf *m)
{
	const struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

	/* Nothing listens on the appliance's addresses yet: UDP gets port
	 * unreachable as a host would send it; anything else is counted. */
	if (pv->pi.l4_proto == IPPROTO_UDP && !pv->pi.frag)
		send_icmp_error(m, 3, 3, 1, 4, 0);
	else
		ctl.counters[C_LOCAL_DROPS]++;
}

void
ap_ip_poll(void)
{
	void *burst[POLL_BURST];
	unsigned n;

	if (!ap_ip.punt)
		return;
	n = rte_ring_sc_dequeue_burst(ap_ip.punt, burst, POLL_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = burst[i];
		struct ap_mbuf_priv *pv = ap_mbuf_priv(m);

		switch (pv->punt) {
		case AP_PUNT_ARP:
			if (handle_arp(m) && to_kernel(m))
				continue;
			break;
		case AP_PUNT_ND:
			if (handle_nd(m) && to_kernel(m))
				continue;
			break;
		case AP_PUNT_RESOLVE:
			resolve(m);
			continue; /* held or freed there */
		case AP_PUNT_TTL:
			send_icmp_error(m, AP_ICMP4_TIME_EXCEED, 0, AP_ICMP6_TIME_EXCEED, 0, 0);
			break;
		case AP_PUNT_NO_ROUTE:
			send_icmp_error(m, AP_ICMP4_DEST_UNREACH, 0, AP_ICMP6_DEST_UNREACH, 0, 0);
			break;
		case AP_PUNT_FRAG_NEEDED:
			send_icmp_error(m, AP_ICMP4_DEST_UNREACH, AP_ICMP4_FRAG_NEEDED,
					AP_ICMP6_PKT_TOO_BIG, 0,
					ap_l3_ifs[ap_ip.nh[pv->nh % AP_NH_MAX].port].mtu);
			break;
		case AP_PUNT_LOCAL:
			/* Services on the appliance's addresses live in the kernel. */
			if (to_kernel(m)) {
				ctl.counters[C_TO_KERNEL]++;
				continue;
			}
			handle_local(m);
			break;
		case AP_PUNT_FRAGMENT:
			fragment4(m);
			break;
		case AP_PUNT_REJECT:
			send_reject(m);
			break;
		default:
			break;
		}
		rte_pktmbuf_free(m);
	}
	tap_poll();
	ra_timers();
	neigh_timers();
}

/* Setup and teardown. */

int
ap_ip_link_nodes(void)
{
	int rc = ap_dp_link_tx(rte_node_from_name("ip4-input"), ap_ip4_input_tx);

	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("ip4-local"), ap_ip4_local_tx);
	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("ip6-input"), ap_ip6_input_tx);
	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("ip6-local"), ap_ip6_local_tx);
	if (rc == 0)
		rc = ap_dp_link_tx(rte_node_from_name("inject"), ap_inject_tx);
	if (rc == 0) {
		/* Injected packets may also re-enter routing. */
		rte_node_t inj = rte_node_from_name("inject");
		const char *names[] = {"ip4-input", "ip6-input"};
		rte_edge_t e = rte_node_edge_count(inj);

		if (rte_node_edge_update(inj, e, names, 2) != 2)
			return -ENOSPC;
		ap_ip_inject_reinput[0] = e;
		ap_ip_inject_reinput[1] = (uint16_t)(e + 1);
	}
	return rc;
}

/*
 * The punt path (linux-cp, as VPP and grout do it): a kernel TAP per routed
 * interface with the port's MAC, MTU and addresses, so daemons bound to the
 * appliance's addresses (SSH, BGP) just work. Traffic for us that the data
 * plane does not answer goes up the TAP; what the kernel sends comes back out
 * of the port.
 */
static int
setup_tap(struct ctl_iface *ifc, unsigned idx, char *err, size_t err_len)
{
	const struct ap_l3_if *lp = &ap_l3_ifs[ifc->port];
	struct rte_eth_conf conf = {0};
	char dev[32], args[128];
	uint16_t pid;
	int rc;

	snprintf(ifc->tap_name, sizeof(ifc->tap_name), "ap-%.12s", ifc->cfg->name);
	snprintf(dev, sizeof(dev), "net_tap_ap%u", idx);
	snprintf(args, sizeof(args), "%s,iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", dev,
		 ifc->tap_name, lp->mac[0], lp->mac[1], lp->mac[2], lp->mac[3], lp->mac[4],
		 lp->mac[5]);
	rc = rte_dev_probe(args);
	if (rc == 0 && rte_eth_dev_get_port_by_name(dev, &pid) != 0)
		rc = -ENODEV;
	if (rc == 0)
		rc = rte_eth_dev_configure(pid, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(pid, 0, 512, (unsigned)rte_socket_id(), NULL, ctl.pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(pid, 0, 512, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(pid);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "interface '%s': kernel mirror %s: %s",
			       ifc->cfg->name, ifc->tap_name, rte_strerror(-rc));
	ifc->tap_port = pid;
	rc = ap_nl_link_up(ifc->tap_name, lp->mtu);
	for (unsigned a = 0; rc == 0 && a < ifc->cfg->n_addrs; a++)
		rc = ap_nl_addr_add(ifc->tap_name, &ifc->cfg->addrs[a]);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "interface '%s': configuring %s: %s",
			       ifc->cfg->name, ifc->tap_name, strerror(-rc));
	AP_LOG_INFO(MOD, "interface '%s': kernel mirror %s", ifc->cfg->name, ifc->tap_name);
	return 0;
}

/* The routes an interface address brings: its subnet (connected, resolved
 * per host), itself (local), and for IPv4 the subnet broadcast, which is not
 * forwarded to (RFC 2644). */
static void
bcast_of(const struct ap_cfg_prefix *p, struct ap_cfg_prefix *b)
{
	network_of(p, b);
	for (unsigned bit = p->len; bit < 32; bit++)
		b->addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	b->len = 32;
}

static int
addr_routes_add(const struct ctl_iface *ifc, const struct ap_cfg_prefix *p)
{
	struct ap_cfg_prefix net, host, b;
	int rc;

	network_of(p, &net);
	host_prefix(p->family, p->addr, &host);
	rc = route_add(&net, p->family == 4 ? ifc->glean4 : ifc->glean6, R_CONNECTED);
	if (rc == 0)
		rc = route_add(&host, NH_LOCAL, R_LOCAL);
	if (rc == 0 && p->family == 4 && p->len < 31) {
		bcast_of(p, &b);
		rc = route_add(&b, NH_BLACKHOLE, R_LOCAL);
	}
	return rc;
}

/* The edges of the nodes that send on L3 interface @p l3: those of port
 * @p *port when given (a VLAN interface), else the ones given (a BVI). */
static void
l3_edges(uint16_t l3, uint16_t ip, uint16_t local, uint16_t inject, const uint16_t *port)
{
	if (port != NULL) {
		ap_ip4_input_tx[l3] = ap_ip4_input_tx[*port];
		ap_ip4_local_tx[l3] = ap_ip4_local_tx[*port];
		ap_ip6_input_tx[l3] = ap_ip6_input_tx[*port];
		ap_ip6_local_tx[l3] = ap_ip6_local_tx[*port];
		ap_inject_tx[l3] = ap_inject_tx[*port];
		return;
	}
	ap_ip4_input_tx[l3] = ip;
	ap_ip6_input_tx[l3] = ip;
	ap_ip4_local_tx[l3] = local;
	ap_ip6_local_tx[l3] = local;
	ap_inject_tx[l3] = inject;
}

static int
setup_iface(unsigned idx, const uint16_t *port_ids, char *err, size_t err_len)
{
	const struct ap_cfg_iface *ci = &ctl.cfg.ifaces[idx];
	struct ctl_iface *ifc = &ctl.ifaces[idx];
	struct ap_l3_if *lp;
	struct rte_ether_addr mac;
	int nh;

	ifc->cfg = ci;
	ifc->tap_port = -1;
	if (ci->bridge[0] != '\0') {
		/* A bridge interface: out through the bridge, as its member. */
		ifc->port = (uint16_t)AP_L3_VIRT(idx);
		lp = &ap_l3_ifs[ifc->port];
		ap_l2_bvi_mac(ci->bridge_idx, lp->mac);
		lp->bvi = 1;
		lp->l2_member = ap_l2_bvi_member(ci->bridge_idx);
		l3_edges(ifc->port, AP_IP_EDGE_BRIDGE, AP_IP_EDGE_BRIDGE, AP_INJECT_EDGE_BRIDGE,
			 NULL);
	} else {
		uint16_t port = port_ids[ci->port_idx];

		/* A port's untagged frames, or a VLAN on it. */
		ifc->port = ci->vlan ? (uint16_t)AP_L3_VIRT(idx) : port;
		lp = &ap_l3_ifs[ifc->port];
		rte_eth_macaddr_get(port, &mac);
		memcpy(lp->mac, mac.addr_bytes, 6);
		lp->tx_port = port;
		if (ci->vlan) {
			lp->n_tags = ci->inner_vlan ? 2 : 1;
			lp->tags[0] =
				rte_cpu_to_be_32((uint32_t)(ci->inner_vlan ? RTE_ETHER_TYPE_QINQ
									   : RTE_ETHER_TYPE_VLAN)
							 << 16 |
						 ci->vlan);
			lp->tags[1] = rte_cpu_to_be_32((uint32_t)RTE_ETHER_TYPE_VLAN << 16 |
						       ci->inner_vlan);
			l3_edges(ifc->port, 0, 0, 0, &port);
		}
	}
	lp->iface = (uint16_t)idx;
	lp->mtu = ci->mtu ? ci->mtu : 1500;
	ap_ip6_link_local_from_mac(lp->mac, lp->ll6);
	nh = nh_alloc(AP_NH_GLEAN, 4, ifc->port, (uint16_t)idx, NULL);
	if (nh < 0)
		return ap_errf(err, err_len, nh, "interface '%s': out of next hops", ci->name);
	ifc->glean4 = (uint32_t)nh;
	nh = nh_alloc(AP_NH_GLEAN, 6, ifc->port, (uint16_t)idx, NULL);
	if (nh < 0)
		return ap_errf(err, err_len, nh, "interface '%s': out of next hops", ci->name);
	ifc->glean6 = (uint32_t)nh;
	lp->ll_glean = ifc->glean6;
	{
		struct ap_cfg_prefix ll;

		host_prefix(6, lp->ll6, &ll);
		route_add(&ll, NH_LOCAL, R_LOCAL);
	}
	for (unsigned a = 0; a < ci->n_addrs; a++) {
		int rc = addr_routes_add(ifc, &ci->addrs[a]);

		if (rc < 0)
			return ap_errf(err, err_len, rc, "interface '%s': cannot add its routes",
				       ci->name);
	}
	lp->enabled = 1;
	return 0;
}

/* The interface whose connected subnet holds @p via, or -1. */
static int
connected_iface(const struct ap_cfg_prefix *via)
{
	for (unsigned i = 0; i < ctl.n_ifaces; i++) {
		const struct ap_cfg_iface *ci = ctl.ifaces[i].cfg;

		for (unsigned a = 0; a < ci->n_addrs; a++) {
			const struct ap_cfg_prefix *p = &ci->addrs[a];
			struct ap_cfg_prefix net, vnet;

			if (p->family != via->family)
				continue;
			network_of(p, &net);
			vnet = *via;
			vnet.len = p->len;
			network_of(&vnet, &vnet);
			if (memcmp(net.addr, vnet.addr, 16) == 0)
				return (int)i;
		}
	}
	return -1;
}

/* The neighbour next hop for @p via (on a connected subnet), created when new. */
static int
via_nh(const struct ap_cfg_prefix *via)
{
	int i = connected_iface(via), nh;
	struct neigh *n;

	if (i < 0)
		return -EHOSTUNREACH;
	n = neigh_find(via->family, (uint16_t)i, via->addr);
	if (n)
		return (int)n->nh;
	nh = nh_alloc(AP_NH_NEIGH, via->family, ctl.ifaces[i].port, (uint16_t)i, via->addr);
	if (nh < 0)
		return nh;
	if (!neigh_new(via->family, (uint16_t)i, via->addr, nh))
		return -ENOSPC;
	return nh;
}

/* Bumped by every change of a route other than BGP's, or of an address. */
static uint64_t route_gen;

uint64_t
ap_ip_route_gen(void)
{
	return route_gen;
}

int
ap_ip_resolve(uint8_t family, const uint8_t *addr, uint8_t *gw)
{
	unsigned alen = family == 4 ? 4 : 16;
	struct ap_cfg_prefix via = {.family = family, .len = (uint8_t)(8 * alen)};

	if (!ap_ip.fib4)
		return -ENOTSUP;
	memcpy(via.addr, addr, alen);
	if (connected_iface(&via) >= 0) {
		memcpy(gw, addr, alen);
		return 0;
	}
	/* Longest match among the routes the operator set: never over BGP's
	 * own routes (no recursion loops), never over the router's addresses. */
	for (int len = 8 * (int)alen; len >= 0; len--) {
		struct ap_cfg_prefix p = via;
		const struct ctl_route *r;
		const struct ap_nh *nh;

		p.len = (uint8_t)len;
		network_of(&p, &p);
		r = route_find(&p);
		if (r == NULL || (r->origin != R_STATIC && r->origin != R_API))
			continue;
		nh = &ap_ip.nh[r->nh];
		if (nh->type == AP_NH_ECMP)
			nh = &ap_ip.nh[nh->members[0]];
		if (nh->type != AP_NH_NEIGH)
			return -EHOSTUNREACH;
		memcpy(gw, nh->addr, alen);
		return 0;
	}
	return -EHOSTUNREACH;
}

static int
setup_route(const struct ap_cfg_route *r, enum route_origin origin, char *err, size_t err_len)
{
	char buf[64], vb[64];
	int nh = NH_BLACKHOLE, rc;

	if (!r->blackhole) {
		int members[AP_NH_ECMP_MAX] = {0};

		if (r->n_via == 0 || r->n_via > AP_NH_ECMP_MAX)
			return ap_errf(err, err_len, -EINVAL, "route %s: 1 to %d next hops",
				       ap_cfg_prefix_fmt(&r->prefix, true, buf, sizeof(buf)),
				       AP_NH_ECMP_MAX);
		for (unsigned v = 0; v < r->n_via; v++) {
			members[v] = via_nh(&r->via[v]);
			if (members[v] == -EHOSTUNREACH)
				return ap_errf(
					err, err_len, -EHOSTUNREACH,
					"route %s: next hop %s on no subnet",
					ap_cfg_prefix_fmt(&r->prefix, true, buf, sizeof(buf)),
					ap_cfg_prefix_fmt(&r->via[v], false, vb, sizeof(vb)));
			if (members[v] < 0)
				return ap_errf(
					err, err_len, members[v],
					"route %s: out of next hops or neighbours",
					ap_cfg_prefix_fmt(&r->prefix, true, buf, sizeof(buf)));
		}
		nh = members[0];
		if (r->n_via > 1) {
			struct ap_nh *g;

			nh = nh_alloc(AP_NH_ECMP, r->prefix.family, 0, 0, NULL);
			if (nh < 0)
				return ap_errf(
					err, err_len, nh, "route %s: out of next hops",
					ap_cfg_prefix_fmt(&r->prefix, true, buf, sizeof(buf)));
			g = &ap_ip.nh[nh];
			for (unsigned v = 0; v < r->n_via; v++)
				g->members[v] = (uint16_t)members[v];
			g->n_members = r->n_via;
		}
	}
	rc = route_add(&r->prefix, (uint32_t)nh, origin);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "route %s: %s",
			       ap_cfg_prefix_fmt(&r->prefix, true, buf, sizeof(buf)),
			       rc == -ENOSPC ? "FIB full" : strerror(-rc));
	return 0;
}

/*
 * Runtime changes. A FIB update is a few atomic table writes that lookups on
 * the workers see either before or after; no packet waits for it.
 */
/* Who may replace whom: configured and API routes win over BGP's, which
 * never replaces them (an administrative distance, as routers have). */
static bool
may_replace(enum route_origin by, enum route_origin old)
{
	if (old == R_BGP)
		return true;
	if (old == R_STATIC || old == R_API)
		return by != R_BGP;
	return false;
}

int
ap_ip_route_add(const struct ap_cfg_route *r, enum ap_route_origin origin, char *err,
		size_t err_len)
{
	enum route_origin by = origin == AP_ROUTE_STATIC ? R_STATIC
			       : origin == AP_ROUTE_BGP	 ? R_BGP
							 : R_API;
	struct ctl_route *old;
	char b[64];

	if (!ap_ip.fib4)
		return ap_errf(err, err_len, -ENOTSUP, "%s", "no routed interface");
	for (unsigned v = 0; !r->blackhole && v < r->n_via; v++) {
		struct ap_cfg_prefix hp;
		struct ctl_route *own;

		host_prefix(r->via[v].family, r->via[v].addr, &hp);
		own = route_find(&hp);
		if (own && own->origin == R_LOCAL)
			return ap_errf(err, err_len, -EINVAL,
				       "next hop %s is the router's own address",
				       ap_cfg_prefix_fmt(&r->via[v], false, b, sizeof(b)));
	}
	old = route_find(&r->prefix);
	if (old && !may_replace(by, (enum route_origin)old->origin))
		return ap_errf(err, err_len, -EEXIST, "%s is a %s route",
			       ap_cfg_prefix_fmt(&r->prefix, true, b, sizeof(b)),
			       origin_names[old->origin]);
	if (by != R_BGP)
		route_gen++;
	return setup_route(r, by, err, err_len);
}

int
ap_ip_route_del(const struct ap_cfg_prefix *p, enum ap_route_origin origin, char *err,
		size_t err_len)
{
	struct ctl_route *r = ap_ip.fib4 ? route_find(p) : NULL;
	char b[64];

	if (!r)
		return ap_errf(err, err_len, -ENOENT, "no route %s",
			       ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	/* A protocol removes only its own routes. */
	if (origin == AP_ROUTE_BGP && r->origin != R_BGP)
		return ap_errf(err, err_len, -EPERM, "%s is not a BGP route",
			       ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	if (r->origin != R_STATIC && r->origin != R_API && r->origin != R_BGP)
		return ap_errf(err, err_len, -EPERM, "%s is a %s route: remove the address instead",
			       ap_cfg_prefix_fmt(p, true, b, sizeof(b)), origin_names[r->origin]);
	if (r->origin != R_BGP)
		route_gen++;
	route_drop(r);
	return 0;
}

static struct ctl_iface *
iface_by_name(const char *name)
{
	for (unsigned i = 0; i < ctl.n_ifaces; i++)
		if (strcmp(ctl.ifaces[i].cfg->name, name) == 0)
			return &ctl.ifaces[i];
	return NULL;
}

/* Is @p a on the subnet of any address of any interface but @p skip? */
static bool
subnet_still_used(const struct ap_cfg_prefix *net, const struct ap_cfg_prefix *skip)
{
	for (unsigned i = 0; i < ctl.n_ifaces; i++)
		for (unsigned a = 0; a < ctl.ifaces[i].cfg->n_addrs; a++) {
			const struct ap_cfg_prefix *p = &ctl.ifaces[i].cfg->addrs[a];
			struct ap_cfg_prefix n;

			if (p == skip || p->family != net->family || p->len != net->len)
				continue;
			network_of(p, &n);
			if (memcmp(n.addr, net->addr, 16) == 0)
				return true;
		}
	return false;
}

int
ap_ip_addr_add(const char *iface, const struct ap_cfg_prefix *p, char *err, size_t err_len)
{
	struct ctl_iface *ifc = ap_ip.fib4 ? iface_by_name(iface) : NULL;
	struct ap_cfg_iface *ci;
	char b[64];
	int rc;

	if (!ifc)
		return ap_errf(err, err_len, -ENOENT, "no routed interface '%s'", iface);
	ci = &ctl.cfg.ifaces[ifc - ctl.ifaces];
	if ((p->family == 4 && p->len > 31) || (p->family == 6 && p->len > 127))
		return ap_errf(err, err_len, -EINVAL, "a /%u leaves no room for neighbours",
			       p->len);
	for (unsigned i = 0; i < ctl.n_ifaces; i++)
		for (unsigned a = 0; a < ctl.ifaces[i].cfg->n_addrs; a++)
			if (ctl.ifaces[i].cfg->addrs[a].family == p->family &&
			    memcmp(ctl.ifaces[i].cfg->addrs[a].addr, p->addr, 16) == 0)
				return ap_errf(err, err_len, -EEXIST, "%s is already on '%s'",
					       ap_cfg_prefix_fmt(p, false, b, sizeof(b)),
					       ctl.ifaces[i].cfg->name);
	if (ci->n_addrs == AP_CFG_MAX_ADDRS)
		return ap_errf(err, err_len, -ENOSPC, "'%s' has %d addresses already", iface,
			       AP_CFG_MAX_ADDRS);
	rc = addr_routes_add(ifc, p);
	if (rc < 0)
		return ap_errf(err, err_len, rc, "%s: cannot add its routes",
			       ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	ci->addrs[ci->n_addrs++] = *p;
	if (ifc->tap_port >= 0 && ap_nl_addr_add(ifc->tap_name, p) < 0)
		AP_LOG_WARN(MOD, "%s: the kernel mirror did not take %s", ifc->tap_name,
			    ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	if (p->family == 4) {
		uint32_t ip;

		/* RFC 5227 §3: announce the new address. */
		memcpy(&ip, p->addr, 4);
		send_arp(ifc, AP_ARP_OP_REQUEST, ip, NULL, NULL, ip);
	}
	route_gen++;
	AP_LOG_INFO(MOD, "interface '%s': address %s added", iface,
		    ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	return 0;
}

int
ap_ip_addr_del(const char *iface, const struct ap_cfg_prefix *p, char *err, size_t err_len)
{
	struct ctl_iface *ifc = ap_ip.fib4 ? iface_by_name(iface) : NULL;
	struct ap_cfg_prefix net, host, bc;
	struct ap_cfg_iface *ci;
	unsigned a;
	char b[64];

	if (!ifc)
		return ap_errf(err, err_len, -ENOENT, "no routed interface '%s'", iface);
	ci = &ctl.cfg.ifaces[ifc - ctl.ifaces];
	for (a = 0; a < ci->n_addrs; a++)
		if (ci->addrs[a].family == p->family && ci->addrs[a].len == p->len &&
		    memcmp(ci->addrs[a].addr, p->addr, 16) == 0)
			break;
	if (a == ci->n_addrs)
		return ap_errf(err, err_len, -ENOENT, "'%s' has no address %s", iface,
			       ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	network_of(p, &net);
	host_prefix(p->family, p->addr, &host);
	route_remove(&host);
	if (!subnet_still_used(&net, &ci->addrs[a])) {
		route_remove(&net);
		if (p->family == 4 && p->len < 31) {
			bcast_of(p, &bc);
			route_remove(&bc);
		}
	}
	if (ifc->tap_port >= 0)
		ap_nl_addr_del(ifc->tap_name, p);
	ci->addrs[a] = ci->addrs[--ci->n_addrs];
	route_gen++;
	AP_LOG_INFO(MOD, "interface '%s': address %s removed", iface,
		    ap_cfg_prefix_fmt(p, true, b, sizeof(b)));
	return 0;
}

int
ap_ip_start(const struct ap_config *cfg, const uint16_t *port_ids, struct rte_mempool *pool,
	    bool punt, char *err, size_t err_len)
{
	struct rte_fib_conf c4 = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = NH_UNREACH,
		.max_routes = (int)cfg->fib4.max_routes,
		.dir24_8 = {.nh_sz = RTE_FIB_DIR24_8_4B, .num_tbl8 = cfg->fib4.tbl8},
	};
	struct ap_fib6_conf c6 = {
		.max_routes = cfg->fib6.max_routes,
		.groups = cfg->fib6.tbl8,
		.default_nh = NH_UNREACH,
		.qsbr = ap_dp_qsbr,
	};
	int rc;

	memset(&ctl, 0, sizeof(ctl));
	memset(ap_l3_ifs, 0, sizeof(ap_l3_ifs));
	ctl.cfg = *cfg;
	ctl.pool = pool;
	ctl.nh_next = NH_FIRST_FREE;
	ctl.icmp_tokens = ICMP_RATE_PER_S;
	ctl.reachable_ms = (uint64_t)(cfg->neigh_reachable_s ? cfg->neigh_reachable_s : 30) * 1000;
	ctl.icmp_last_ms = now_ms();
	if (cfg->n_ifaces == 0)
		return 0;

	ctl.max_routes = cfg->fib4.max_routes + cfg->fib6.max_routes;
	ctl.routes = calloc(ctl.max_routes, sizeof(*ctl.routes));
	ctl.route_free = calloc(ctl.max_routes, sizeof(*ctl.route_free));
	/* The extendable table: every one of max_routes keys fits, whatever
	 * their hashes (the FIBs are the limit, not the index). */
	ctl.route_idx = rte_hash_create(&(struct rte_hash_parameters){
		.name = "ap_routes",
		.entries = ctl.max_routes,
		.key_len = sizeof(struct route_key),
		.hash_func = rte_jhash,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	});
	ap_ip.nh = rte_zmalloc("ap_nh", sizeof(struct ap_nh) * AP_NH_MAX, RTE_CACHE_LINE_SIZE);
	ap_ip.fib4 = rte_fib_create("ap_fib4", (int)rte_socket_id(), &c4);
	ap_ip.fib6 = ap_fib6_create("ap_fib6", (int)rte_socket_id(), &c6);
	ap_ip.punt = rte_ring_create("ap_punt", RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
	ap_ip.inject = rte_ring_create("ap_inject", RING_SIZE, (int)rte_socket_id(),
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!ctl.routes || !ctl.route_free || !ctl.route_idx || !ap_ip.nh || !ap_ip.fib4 ||
	    !ap_ip.fib6 || !ap_ip.punt || !ap_ip.inject) {
		rc = ap_errf(err, err_len, -ENOMEM, "%s", "cannot allocate the routing tables");
		goto fail;
	}
	ap_ip.nh[NH_UNREACH].type = AP_NH_UNREACH;
	ap_ip.nh[NH_LOCAL].type = AP_NH_LOCAL;
	ap_ip.nh[NH_BLACKHOLE].type = AP_NH_BLACKHOLE;

	ctl.n_ifaces = cfg->n_ifaces;
	for (unsigned i = 0; i < ctl.n_ifaces; i++) {
		rc = setup_iface(i, port_ids, err, err_len);
		if (rc < 0)
			goto fail;
	}
	for (unsigned i = 0; punt && i < ctl.n_ifaces; i++) {
		if (ctl.ifaces[i].cfg->no_punt)
			continue;
		rc = setup_tap(&ctl.ifaces[i], i, err, err_len);
		if (rc < 0)
			goto fail;
	}
	for (unsigned r = 0; r < cfg->n_routes; r++) {
		rc = setup_route(&ctl.cfg.routes[r], R_STATIC, err, err_len);
		if (rc < 0)
			goto fail;
	}
	/* Static neighbours: resolved from the start, never aged. */
	for (unsigned i = 0; i < cfg->n_neighbors; i++) {
		const struct ap_cfg_neighbor *cn = &ctl.cfg.neighbors[i];
		struct neigh *n;

		neigh_learn(cn->addr.family, cn->iface_idx, cn->addr.addr, cn->mac, true);
		n = neigh_find(cn->addr.family, cn->iface_idx, cn->addr.addr);
		if (!n) {
			rc = ap_errf(err, err_len, -ENOSPC, "%s", "neighbour table full");
			goto fail;
		}
		n->permanent = true;
	}
	/* Announce our IPv4 addresses (gratuitous ARP, RFC 5227 §3). */
	for (unsigned i = 0; i < ctl.n_ifaces; i++)
		for (unsigned a = 0; a < ctl.ifaces[i].cfg->n_addrs; a++)
			if (ctl.ifaces[i].cfg->addrs[a].family == 4) {
				uint32_t ip;

				memcpy(&ip, ctl.ifaces[i].cfg->addrs[a].addr, 4);
				send_arp(&ctl.ifaces[i], AP_ARP_OP_REQUEST, ip, NULL, NULL, ip);
			}
	AP_LOG_INFO(MOD, "%u interfaces, %u routes", ctl.n_ifaces, ctl.n_routes);
	return 0;
fail:
	ap_ip_stop();
	return rc;
}

/* IPv6 FIB of the config's size (see ap_fib6_mem_bytes()). */
static uint64_t
fib6_mem_bytes(const struct ap_config *cfg)
{
	struct ap_fib6_conf c6 = {.max_routes = cfg->fib6.max_routes, .groups = cfg->fib6.tbl8};

	return ap_fib6_mem_bytes(&c6);
}

/* Measured with DPDK 22.11 and 4-byte next hops: the IPv4 FIB has a 64 MiB
 * first-level table (2^24 entries), a route takes about 430 bytes of RIB nodes
 * (two nodes a route, mempool headers included) and 50 of the route index, a
 * tbl8 group 1 KiB (256 entries). The IPv6 FIB says what it takes. */
unsigned
ap_ip_mem_mb(const struct ap_config *cfg)
{
	uint64_t routes = (uint64_t)cfg->fib4.max_routes + cfg->fib6.max_routes;
	uint64_t b = (64ull << 20) + (uint64_t)cfg->fib4.max_routes * 432 + routes * 56 +
		     (uint64_t)cfg->fib4.tbl8 * 1032 + fib6_mem_bytes(cfg) +
		     sizeof(struct ap_nh) * AP_NH_MAX;

	return (unsigned)(b >> 20) + 16; /* Rings and rounding. */
}

bool
ap_ip_idle(void)
{
	return !ap_ip.punt || (rte_ring_empty(ap_ip.punt) && rte_ring_empty(ap_ip.inject));
}

static void
ring_drain(struct rte_ring *r)
{
	void *m;

	while (r && rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void
ap_ip_stop(void)
{
	for (unsigned i = 0; i < ctl.n_ifaces; i++) {
		struct ctl_iface *ifc = &ctl.ifaces[i];

		if (ifc->tap_port < 0)
			continue;
		rte_eth_dev_stop((uint16_t)ifc->tap_port);
		rte_eth_dev_close((uint16_t)ifc->tap_port);
		ifc->tap_port = -1;
	}
	for (unsigned i = 0; i < MAX_NEIGH; i++) {
		struct neigh *n = &ctl.neigh[i];

		for (unsigned q = 0; q < n->qlen; q++)
			rte_pktmbuf_free(n->q[q]);
		n->qlen = 0;
		n->used = false;
	}
	ring_drain(ap_ip.punt);
	ring_drain(ap_ip.inject);
	rte_ring_free(ap_ip.punt);
	rte_ring_free(ap_ip.inject);
	if (ap_ip.fib4)
		rte_fib_free(ap_ip.fib4);
	ap_fib6_free(ap_ip.fib6);
	rte_free(ap_ip.nh);
	free(ctl.routes);
	rte_hash_free(ctl.route_idx);
	ctl.route_idx = NULL;
	memset(&ap_ip, 0, sizeof(ap_ip));
	memset(ap_l3_ifs, 0, sizeof(ap_l3_ifs));
	ctl.routes = NULL;
	ctl.n_routes = 0;
	free(ctl.route_free);
	ctl.route_free = NULL;
	ctl.n_route_free = 0;
}

/* JSON for the API. */

static const char *
fmt_addr(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	struct ap_cfg_prefix p;

	host_prefix(family, a, &p);
	return ap_cfg_prefix_fmt(&p, false, buf, len);
}

static json_t *
nh_json(uint32_t id)
{
	const struct ap_nh *nh = &ap_ip.nh[id];
	static const char *const types[] = {"unreachable", "local",	"connected",
					    "neighbor",	   "blackhole", "ecmp"};
	json_t *j = json_pack("{s:s}", "type", nh->type < 6 ? types[nh->type] : "?");
	char b[64];

	if (nh->type == AP_NH_ECMP) {
		json_t *members = json_array();

		for (unsigned i = 0; i < nh->n_members; i++)
			json_array_append_new(members, nh_json(nh->members[i]));
		json_object_set_new(j, "members", members);
		return j;
	}

	if (nh->type == AP_NH_GLEAN || nh->type == AP_NH_NEIGH)
		json_object_set_new(j, "interface", json_string(ctl.ifaces[nh->iface].cfg->name));
	if (nh->type == AP_NH_NEIGH) {
		uint64_t l2 = __atomic_load_n(&nh->l2, __ATOMIC_ACQUIRE);

		json_object_set_new(j, "via",
				    json_string(fmt_addr(nh->family, nh->addr, b, sizeof(b))));
		json_object_set_new(j, "resolved", json_boolean(l2 & AP_NH_L2_VALID));
	}
	return j;
}

/* Where an interface sits: a port (and VLANs), or a bridge. */
static void
iface_where(json_t *j, const struct ap_cfg_iface *ci)
{
	if (ci->bridge[0] != '\0') {
		json_object_set_new(j, "bridge", json_string(ci->bridge));
		return;
	}
	json_object_set_new(j, "port", json_string(ctl.cfg.ports[ci->port_idx].name));
	if (ci->vlan)
		json_object_set_new(j, "vlan", json_integer(ci->vlan));
	if (ci->inner_vlan)
		json_object_set_new(j, "inner_vlan", json_integer(ci->inner_vlan));
}

uint16_t
ap_ip_egress4(uint32_t dst_be)
{
	uint32_t dst = rte_be_to_cpu_32(dst_be);
	const struct ap_nh *nh;
	uint64_t id = 0;

	if (ap_ip.fib4 == NULL)
		return AP_L3_MAX;
	rte_fib_lookup_bulk(ap_ip.fib4, &dst, &id, 1);
	nh = &ap_ip.nh[id % AP_NH_MAX];
	if (nh->type == AP_NH_ECMP && nh->n_members)
		nh = &ap_ip.nh[nh->members[0]];
	if (nh->type != AP_NH_NEIGH && nh->type != AP_NH_GLEAN)
		return AP_L3_MAX;
	return nh->port;
}

uint16_t
ap_ip_iface_l3(unsigned idx)
{
	return idx < ctl.n_ifaces ? ctl.ifaces[idx].port : AP_L3_MAX;
}

json_t *
ap_ip_ifaces_json(void)
{
	json_t *arr = json_array();

	for (unsigned i = 0; i < ctl.n_ifaces; i++) {
		const struct ctl_iface *ifc = &ctl.ifaces[i];
		const struct ap_l3_if *lp = &ap_l3_ifs[ifc->port];
		json_t *addrs = json_array();
		char b[64];
		struct rte_ether_addr mac;

		for (unsigned a = 0; a < ifc->cfg->n_addrs; a++)
			json_array_append_new(addrs,
					      json_string(ap_cfg_prefix_fmt(&ifc->cfg->addrs[a],
									    true, b, sizeof(b))));
		memcpy(mac.addr_bytes, lp->mac, 6);
		rte_ether_format_addr(b, sizeof(b), &mac);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:o, s:s}", "name",
						     ifc->cfg->name, "mac", b, "mtu", lp->mtu,
						     "addresses", addrs, "link_local",
						     fmt_addr(6, lp->ll6, (char[64]){0}, 64)));
		iface_where(json_array_get(arr, json_array_size(arr) - 1), ifc->cfg);
		if (ifc->tap_port >= 0)
			json_object_set_new(json_array_get(arr, json_array_size(arr) - 1),
					    "kernel_mirror", json_string(ifc->tap_name));
	}
	return json_pack("{s:o}", "interfaces", arr);
}

json_t *
ap_ip_routes_json(const char *prefix)
{
	json_t *arr = json_array();
	struct ap_cfg_prefix want;
	bool filter = prefix && ap_cfg_prefix_parse(prefix, false, &want) == 0;

	for (unsigned i = 0; i < ctl.n_routes; i++) {
		const struct ctl_route *r = &ctl.routes[i];
		json_t *j;
		char b[64];

		if (!r->used)
			continue;
		if (filter && (r->prefix.family != want.family || r->prefix.len != want.len ||
			       memcmp(r->prefix.addr, want.addr, 16) != 0))
			continue;
		j = nh_json(r->nh);
		json_object_set_new(j, "prefix",
				    json_string(ap_cfg_prefix_fmt(&r->prefix, true, b, sizeof(b))));
		json_object_set_new(j, "origin", json_string(origin_names[r->origin]));
		json_array_append_new(arr, j);
	}
	return json_pack("{s:o}", "routes", arr);
}

json_t *
ap_ip_neighbors_json(void)
{
	json_t *arr = json_array();
	uint64_t now = now_ms();

	for (unsigned i = 0; i < MAX_NEIGH; i++) {
		const struct neigh *n = &ctl.neigh[i];
		struct rte_ether_addr mac;
		char a[64], m[32];

		if (!n->used)
			continue;
		memcpy(mac.addr_bytes, n->mac, 6);
		rte_ether_format_addr(m, sizeof(m), &mac);
		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:s, s:s, s:f, s:i}", "address",
				  fmt_addr(n->family, n->addr, a, sizeof(a)), "interface",
				  ctl.ifaces[n->iface].cfg->name, "mac",
				  n->state == N_REACHABLE || n->state == N_PROBE ? m : "", "state",
				  n->permanent ? "permanent" : neigh_state_names[n->state], "age_s",
				  (double)(now - n->updated_ms) / 1000.0, "queued", n->qlen));
	}
	return json_pack("{s:o}", "neighbors", arr);
}

/* Counts for /metrics: routes by origin, neighbours by state, what the
 * control plane did, the IPv6 FIB's group pool and its index. Every key is
 * always present so series never vanish. */
json_t *
ap_ip_stats_json(void)
{
	static const char *const events[] = {
		[C_ARP_IN] = "arp_received",
		[C_ND_IN] = "nd_received",
		[C_ICMP_SENT] = "icmp_errors_sent",
		[C_ICMP_LIMITED] = "icmp_errors_limited",
		[C_QUEUED] = "packets_held",
		[C_QUEUE_DROPS] = "held_packets_dropped",
		[C_LOCAL_DROPS] = "local_dropped",
		[C_FRAGMENTS] = "fragments_sent",
		[C_FRAG_FAILED] = "fragmentation_failed",
		[C_TO_KERNEL] = "punted_to_kernel",
		[C_FROM_KERNEL] = "sent_for_kernel",
		[C_RA_SENT] = "router_advertisements_sent",
		[C_FIB4_FULL] = "routes_refused_fib4_full",
		[C_FIB6_FULL] = "routes_refused_fib6_full",
	};
	json_t *routes = json_object(), *neigh = json_object(), *ctlj = json_object();
	struct ap_fib6_stats s6 = {0};

	for (unsigned o = 0; o < RTE_DIM(origin_names); o++)
		json_object_set_new(routes, origin_names[o], json_integer(0));
	for (unsigned i = 0; i < ctl.n_routes; i++)
		if (ctl.routes[i].used) {
			const char *o = origin_names[ctl.routes[i].origin];

			json_object_set_new(
				routes, o,
				json_integer(json_integer_value(json_object_get(routes, o)) + 1));
		}
	for (unsigned st = 0; st < RTE_DIM(neigh_state_names); st++)
		json_object_set_new(neigh, neigh_state_names[st], json_integer(0));
	json_object_set_new(neigh, "permanent", json_integer(0));
	for (unsigned i = 0; i < MAX_NEIGH; i++) {
		const struct neigh *n = &ctl.neigh[i];
		const char *st;

		if (!n->used)
			continue;
		st = n->permanent ? "permanent" : neigh_state_names[n->state];
		json_object_set_new(
			neigh, st,
			json_integer(json_integer_value(json_object_get(neigh, st)) + 1));
	}
	for (unsigned e = 0; e < RTE_DIM(events); e++)
		if (events[e])
			json_object_set_new(ctlj, events[e],
					    json_integer((json_int_t)ctl.counters[e]));
	if (ap_ip.fib6 != NULL)
		ap_fib6_stats(ap_ip.fib6, &s6);
	return json_pack("{s:o, s:o, s:o, s:{s:I, s:I, s:I}, s:{s:I, s:I}}", "routes", routes,
			 "neighbors", neigh, "control", ctlj, "fib6_groups", "used",
			 (json_int_t)s6.used, "retired", (json_int_t)s6.retired, "free",
			 (json_int_t)(s6.groups - s6.used - s6.retired), "fib6_index", "run",
			 (json_int_t)s6.runs, "group", (json_int_t)(s6.indexed - s6.runs));
}
