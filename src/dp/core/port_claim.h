/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What a port does to its kernel interface while it runs: an af_packet port
 * keeps the kernel's own stack off it, an af_xdp port sets it for preferred
 * busy polling (below). Both are undone when the port stops.
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

/**
 * An af_xdp port's interface set for preferred busy polling. DPDK's af_xdp
 * driver asks the kernel to let the port's own polls run the interface's
 * NAPI (SO_PREFER_BUSY_POLL, busy_budget), which moves the receive work (the
 * XDP program, the copy into the socket) from the softirq of whichever CPU
 * the frames came in on to the worker's own system calls; the kernel lets it
 * only while the interface defers its softirq (`napi_defer_hard_irqs`, with
 * `gro_flush_timeout` as the watchdog that runs it when no poll comes), the
 * two knobs DPDK's guide sets to 2 and 200000 ns. This sets them and keeps
 * what they were, to put back.
 */
#define AP_PORT_BUSY_KNOBS 2

struct ap_port_busy_poll {
	char ifname[32];
	long was[AP_PORT_BUSY_KNOBS]; /**< Each knob before, -1: not changed. */
};

/** Set @p ifname's knobs into @p b. A knob that cannot be set is left, with
 * a warning: the port works, its receive work stays in the softirq. */
void ap_port_busy_poll(struct ap_port_busy_poll *b, const char *ifname);

/** Put back what @p b changed (a no-op when nothing was). */
void ap_port_busy_poll_release(struct ap_port_busy_poll *b);

#endif
