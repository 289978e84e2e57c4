/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet filters for capture and trace, in tcpdump syntax: libpcap compiles
 * the expression to classic BPF, DPDK converts it to eBPF and loads it
 * (JIT where the CPU allows). Workers run it on mbufs; the control plane
 * compiles and swaps. A replaced filter is freed at the next swap, long
 * after any worker could still be running it.
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "dp/core/bpf_filter.h"

static struct rte_bpf *retired;

int
ap_filter_compile(const char *expr, struct rte_bpf **out, char *err, size_t err_len)
{
	struct bpf_program prog;
	struct rte_bpf_prm *prm;
	struct rte_bpf *bpf;
	pcap_t *p;

	*out = NULL;
	if (!expr || !expr[0])
		return 0;
	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		snprintf(err, err_len, "filter: out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, err_len, "filter '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	pcap_close(p);
	prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	if (!prm) {
		snprintf(err, err_len, "filter '%s': cannot convert: %s", expr,
			 rte_strerror(rte_errno));
		return -EINVAL;
	}
	bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (!bpf) {
		snprintf(err, err_len, "filter '%s': cannot load: %s", expr,
			 rte_strerror(rte_errno));
		return -EINVAL;
	}
	*out = bpf;
	return 0;
}

void
ap_filter_retire(struct rte_bpf *old)
{
	if (retired)
		rte_bpf_destroy(retired);
	retired = old;
}
