/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * An af_packet port's kernel interface, kept from the kernel's own stack.
 *
 * A PACKET_MMAP socket gets a copy of each frame the interface receives, and
 * the kernel goes on to process the frame itself: with the appliance's
 * addresses mirrored on the punt path's TAP interfaces (weak host model), it
 * answers pings and takes TCP segments to those addresses a second time, and
 * with forwarding on in the namespace it routes every transit packet again,
 * through the mirrors, so hosts see duplicates. Its IPv6 on the interface
 * sends router solicitations, DAD and MLD out of the port. (An af_xdp port
 * does not need this: its XDP program redirects every frame to the socket.)
 *
 * The claim: a tc ingress program on the interface drops every frame, which
 * runs after the packet sockets have their copy, so the port still receives
 * all; and IPv6 is off on the interface (`disable_ipv6`). Giving the port up
 * undoes both. A claim left by a process that died goes with
 * `tc qdisc del dev IFACE clsact` and the sysctl back to 0.
 */
#ifndef AP_PORT_CLAIM_H
#define AP_PORT_CLAIM_H

#include <stdbool.h>
#include <stddef.h>

struct ap_port_claim {
	char ifname[32];
	int ifindex;	/**< 0: nothing claimed. */
	int prog_fd;	/**< The dropping program, -1: none. */
	bool made_hook; /**< The clsact qdisc is ours to remove. */
	int v6_was;	/**< disable_ipv6 before, -1: not changed. */
};

/** Claim interface @p ifname into @p c. 0, or a negative errno with the
 * reason in @p err (nothing left claimed). */
int ap_port_claim(struct ap_port_claim *c, const char *ifname, char *err, size_t err_len);

/** Give back what @p c claimed (a no-op for a claim never made). */
void ap_port_release(struct ap_port_claim *c);

#endif
