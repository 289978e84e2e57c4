/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal to dp/ip. */
#ifndef AP_IP_PRIV_H
#define AP_IP_PRIV_H

#include <stdint.h>
#include <string.h>

#include "dp/ip/ip.h"

/* Per-port edges of each node to the port-tx clones (ap_dp_link_tx). */
extern uint16_t ap_ip4_input_tx[RTE_MAX_ETHPORTS];
extern uint16_t ap_ip4_local_tx[RTE_MAX_ETHPORTS];
extern uint16_t ap_ip6_input_tx[RTE_MAX_ETHPORTS];
extern uint16_t ap_ip6_local_tx[RTE_MAX_ETHPORTS];
extern uint16_t ap_inject_tx[RTE_MAX_ETHPORTS];
/* inject's edges back into ip4-input [0] and ip6-input [1]. */
extern uint16_t ap_ip_inject_reinput[2];

/* tx_port values of injected packets that go back into routing. */
#define INJECT_IP4_INPUT 0xfffe
#define INJECT_IP6_INPUT 0xfffd

/* Kernel side of the punt path (netlink.c). 0 or -errno. */
int ap_nl_addr_add(const char *ifname, const struct ap_cfg_prefix *p);
int ap_nl_addr_del(const char *ifname, const struct ap_cfg_prefix *p);
int ap_nl_link_up(const char *ifname, unsigned mtu);

static inline uint64_t
ap_mac_to_nh_l2(const uint8_t mac[6])
{
	uint64_t v = 0;

	for (int i = 5; i >= 0; i--)
		v = v << 8 | mac[i];
	return v | AP_NH_L2_VALID;
}

static inline void
ap_nh_l2_to_mac(uint64_t l2, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(l2 >> (8 * i));
}

/* Next hop for a link-local destination on 'port': the neighbour's host
 * route when it is known on that port, else the port's link-local glean. */
static inline uint64_t
ap_ip_ll6_nh(uint16_t port, uint8_t dst[16])
{
	uint8_t key[1][16];
	uint64_t nh = 0;

	memcpy(key[0], dst, 16);
	rte_fib6_lookup_bulk(ap_ip.fib6, key, &nh, 1);
	if (nh != 0 && ap_ip.nh[nh].type == AP_NH_NEIGH && ap_ip.nh[nh].port == port &&
	    memcmp(ap_ip.nh[nh].addr, dst, 16) == 0)
		return nh;
	return ap_l3_ports[port].ll_glean;
}

#endif
