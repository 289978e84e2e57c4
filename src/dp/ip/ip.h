/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * IPv4/IPv6 routing in the data plane: interfaces, the FIBs, next hops and
 * neighbours, and the nodes that use them.
 *
 * The control plane (main lcore) owns every table and is the only writer.
 * Workers read: FIB lookups (DPDK's rte_fib, our ap_fib6), next hops by index,
 * and a next hop's link-layer address through one 64-bit word written
 * atomically, so a worker sees either the old or the new neighbour, never a
 * torn one. Neighbour resolution, ARP/ND and ICMP errors run in the control
 * plane on packets the workers punt through a ring; what the control plane
 * sends goes back out through the inject ring.
 */
#ifndef AP_IP_H
#define AP_IP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_fib.h>
#include <rte_graph.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <jansson.h>

#include "dp/core/dp_core.h"
#include "dp/ip/fib6.h"
#include "lib/config.h"

#define AP_NH_MAX      65536
#define AP_IFACE_ADDRS AP_CFG_MAX_ADDRS

/** Next-hop kinds. Index 0 of the table is the "no route" next hop. */
enum ap_nh_type {
	AP_NH_UNREACH = 0, /**< No route: ICMP net unreachable. */
	AP_NH_LOCAL,	   /**< One of our addresses. */
	AP_NH_GLEAN,	   /**< A connected subnet: resolve the destination itself. */
	AP_NH_NEIGH,	   /**< A neighbour (gateway or host on a connected subnet). */
	AP_NH_BLACKHOLE,   /**< Drop silently. */
	AP_NH_ECMP,	   /**< Several neighbour next hops, one chosen per flow. */
};

#define AP_NH_ECMP_MAX AP_CFG_MAX_ECMP

/** Valid bit of ap_nh.l2: the low 48 bits hold the MAC (byte 0 lowest). */
#define AP_NH_L2_VALID (1ull << 63)

struct ap_nh {
	uint64_t l2;	   /**< MAC | AP_NH_L2_VALID, written atomically by the control plane. */
	uint8_t type;	   /**< enum ap_nh_type. */
	uint8_t family;	   /**< 4 or 6. */
	uint16_t port;	   /**< DPDK port id of the interface. */
	uint16_t iface;	   /**< Interface index. */
	uint16_t refs;	   /**< Routes using it (control plane). */
	uint8_t addr[16];  /**< Neighbour address (IPv4 in the first 4 bytes). */
	uint8_t n_members; /**< ECMP: how many members. */
	uint16_t members[AP_NH_ECMP_MAX]; /**< ECMP: neighbour next hops. */
} __rte_cache_aligned;

/**
 * An L3 interface as the data plane sees it, indexed by L3 interface id
 * (AP_L3_VIRT, dp_core.h): on a port's untagged frames, on a VLAN of a port,
 * or on a bridge (BVI).
 */
struct ap_l3_if {
	uint8_t enabled;
	uint8_t n_tags; /**< VLAN interface: tags put on output (1, or 2 for QinQ). */
	uint8_t bvi;	/**< Output goes through the bridge (l2-bridge). */
	uint16_t iface;
	uint16_t mtu;
	uint8_t mac[6];
	uint16_t tx_port;   /**< DPDK port of a port or VLAN interface. */
	uint16_t l2_member; /**< BVI: its bridge member. */
	uint32_t tags[2];   /**< TPID:TCI words in network order, outer first. */
	/** IPv6 link-local address (EUI-64 from the MAC). */
	uint8_t ll6[16];
	uint32_t ll_glean; /**< Next hop that resolves link-local neighbours here. */
};

/** Tables shared by the IP nodes; allocated by ap_ip_tables_create(). */
struct ap_ip_tables {
	struct rte_fib *fib4;
	struct ap_fib6 *fib6;
	struct ap_nh *nh;	 /**< AP_NH_MAX entries. */
	struct rte_ring *punt;	 /**< Workers -> control plane. */
	struct rte_ring *inject; /**< Control plane -> worker 0. */
};

extern struct ap_l3_if ap_l3_ifs[AP_L3_MAX];
extern struct ap_ip_tables ap_ip;

/** Why a packet was punted to the control plane (ap_mbuf_priv.punt). */
enum ap_punt_reason {
	AP_PUNT_NONE,
	AP_PUNT_ARP,	     /**< ARP frame for an L3 port. */
	AP_PUNT_ND,	     /**< ICMPv6 neighbour discovery for us. */
	AP_PUNT_RESOLVE,     /**< Next hop has no link-layer address yet. */
	AP_PUNT_TTL,	     /**< TTL/hop limit expired: ICMP time exceeded. */
	AP_PUNT_NO_ROUTE,    /**< ICMP destination unreachable (net / no route). */
	AP_PUNT_FRAG_NEEDED, /**< DF set and too big: frag-needed / packet-too-big. */
	AP_PUNT_LOCAL,	     /**< For us, not answered in the data plane. */
	AP_PUNT_FRAGMENT,    /**< IPv4 over the egress MTU without DF: fragment it. */
	AP_PUNT_REJECT,	     /**< A firewall reject: TCP RST or ICMP administratively prohibited. */
};

/* Nodes. */
extern struct rte_node_register ap_ip4_input_node;
extern struct rte_node_register ap_ip4_local_node;
extern struct rte_node_register ap_ip6_input_node;
extern struct rte_node_register ap_ip6_local_node;
extern struct rte_node_register ap_punt_node;
extern struct rte_node_register ap_inject_node;

/* Control plane (main lcore only). */

/** Link ip4/ip6/inject nodes to every port-tx clone (after they exist). */
int ap_ip_link_nodes(void);

/**
 * Build interfaces, FIBs and next hops from @p cfg (@p port_ids maps config
 * port index to DPDK port id) and the punt/inject rings; with @p punt, a
 * kernel TAP mirror per interface (unless it says punt: false). 0 or -errno.
 */
int ap_ip_start(const struct ap_config *cfg, const uint16_t *port_ids, struct rte_mempool *pool,
		bool punt, char *err, size_t err_len);

/**
 * DPDK memory, in MiB, that ap_ip_start() takes for @p cfg: both FIBs at the
 * sizes of dataplane.fib4 and dataplane.fib6, the route index, next hops and
 * rings. For sizing the EAL's memory when it runs without hugepages.
 */
unsigned ap_ip_mem_mb(const struct ap_config *cfg);

/** Handle punted packets, age neighbours, release queued packets. */
void ap_ip_poll(void);

/**
 * Add or replace a route at runtime (origin "api", "static" on a reload, or
 * "bgp"). Routes from the config
 * (static) may be replaced; connected, local and neighbour routes may not.
 * @return 0, -EEXIST, -EHOSTUNREACH (next hop on no subnet), -ENOSPC, -ENOTSUP.
 */
/** Who installs a route at runtime. */
enum ap_route_origin {
	AP_ROUTE_API,	 /**< The REST API / aetherctl route add. */
	AP_ROUTE_STATIC, /**< The config file, on reload. */
	AP_ROUTE_BGP,	 /**< The BGP speaker: never replaces static or API routes. */
};

int ap_ip_route_add(const struct ap_cfg_route *r, enum ap_route_origin origin, char *err,
		    size_t err_len);
/**
 * Recursive next-hop resolution for the routing protocols: the gateway to
 * reach @p addr, written to @p gw: @p addr itself on a connected subnet, else
 * the next hop of the longest static or API route covering it (never a BGP
 * route; the first member of an ECMP group).
 * @return 0, -EHOSTUNREACH (no such route, or a blackhole), -ENOTSUP.
 */
int ap_ip_resolve(uint8_t family, const uint8_t *addr, uint8_t *gw);
/** A counter bumped whenever what ap_ip_resolve() answers may have changed. */
uint64_t ap_ip_route_gen(void);
/** Remove a static or api route. @return 0, -ENOENT or -EPERM. */
int ap_ip_route_del(const struct ap_cfg_prefix *p, enum ap_route_origin origin, char *err,
		    size_t err_len);

/**
 * Add an address to a routed interface at runtime: its local, connected and
 * broadcast routes, the kernel mirror, a gratuitous ARP.
 * @return 0, -ENOENT (no such interface), -EEXIST, -EINVAL, -ENOSPC.
 */
int ap_ip_addr_add(const char *iface, const struct ap_cfg_prefix *p, char *err, size_t err_len);
/** Remove one; its subnet route goes unless another address still has it. */
int ap_ip_addr_del(const char *iface, const struct ap_cfg_prefix *p, char *err, size_t err_len);

/** True when nothing waits in the punt or inject ring. */
bool ap_ip_idle(void);

/** Free the tables (workers stopped). */
void ap_ip_stop(void);

/** The egress L3 interface of IPv4 @p dst_be per the FIB, or AP_L3_MAX. */
uint16_t ap_ip_egress4(uint32_t dst_be);

/** The L3 interface id of the config's interface @p idx. */
uint16_t ap_ip_iface_l3(unsigned idx);

/** `{"interfaces":[...]}` */
json_t *ap_ip_ifaces_json(void);
/** `{"routes":[...]}`, optionally only the routes matching @p prefix (NULL: all). */
json_t *ap_ip_routes_json(const char *prefix);
/** `{"routes": {origin: n}, "neighbors": {state: n}, "control": {event: n}}` */
json_t *ap_ip_stats_json(void);
/** `{"neighbors":[...]}` */
json_t *ap_ip_neighbors_json(void);

#endif
