/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Live capture (as dpdk-dumpcap does it, inside aetherd): while a capture
 * runs, port-rx and port-tx copy the packets of one port into pcapng-ready
 * mbufs (rte_pcapng_copy) and a ring; the main lcore writes them to the file.
 * With no capture running the nodes test one flag per burst.
 */
#ifndef AP_DP_CAPTURE_H
#define AP_DP_CAPTURE_H

#include <stdint.h>

#include <rte_pcapng.h>
#include <rte_ring.h>

#include "dp/core/bpf_filter.h"
#include "dp/core/dp_core.h"

#define AP_CAPTURE_RX 1
#define AP_CAPTURE_TX 2

struct ap_capture {
	volatile int active;
	uint16_t port;
	uint8_t dirs;		/**< AP_CAPTURE_RX | AP_CAPTURE_TX. */
	int64_t remaining;	/**< Packets still to copy (atomic). */
	uint64_t dropped;	/**< Copies that found no mbuf or ring room (atomic). */
	struct rte_ring *ring;	/**< Workers -> main lcore. */
	struct rte_mempool *mp; /**< Copies. */
	struct rte_bpf *filter; /**< Only matching packets (NULL: all). */
};

extern struct ap_capture ap_capture;

/** Copy the packets of a burst of @p port if a capture wants them. */
static __rte_always_inline void
ap_capture_burst(struct rte_mbuf **pkts, uint16_t n, uint16_t port, uint16_t queue, uint8_t dir)
{
	if (likely(!ap_capture.active) || ap_capture.port != port || !(ap_capture.dirs & dir))
		return;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *c;

		if (!ap_filter_match(ap_capture.filter, pkts[i]))
			continue;
		if (__atomic_fetch_sub(&ap_capture.remaining, 1, __ATOMIC_RELAXED) <= 0)
			return;
		c = rte_pcapng_copy(port, queue, pkts[i], ap_capture.mp, UINT32_MAX, rte_rdtsc(),
				    dir == AP_CAPTURE_RX ? RTE_PCAPNG_DIRECTION_IN
							 : RTE_PCAPNG_DIRECTION_OUT);
		if (unlikely(!c || rte_ring_mp_enqueue(ap_capture.ring, c) != 0)) {
			rte_pktmbuf_free(c);
			__atomic_fetch_add(&ap_capture.dropped, 1, __ATOMIC_RELAXED);
		}
	}
}

#endif
