/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet filters (tcpdump syntax) for capture and trace; see bpf_filter.c. */
#ifndef AP_DP_BPF_FILTER_H
#define AP_DP_BPF_FILTER_H

#include <stddef.h>

#include <rte_bpf.h>
#include <rte_mbuf.h>

/**
 * Compile @p expr (empty or NULL: no filter, *out = NULL).
 * @return 0, or -EINVAL with @p err saying why.
 */
int ap_filter_compile(const char *expr, struct rte_bpf **out, char *err, size_t err_len);

/** Hand over a filter no longer published; freed at the next call. */
void ap_filter_retire(struct rte_bpf *old);

/** True when @p m passes @p bpf (or there is no filter). */
static inline int
ap_filter_match(const struct rte_bpf *bpf, struct rte_mbuf *m)
{
	return bpf == NULL || rte_bpf_exec(bpf, m) != 0;
}

#endif
