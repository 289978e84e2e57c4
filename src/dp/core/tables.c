/* SPDX-License-Identifier: BSD-3-Clause */
/* Tables shared by the core and the feature nodes (see dp_core.h). */
#include "dp/core/dp_core.h"

struct ap_port_fast ap_ports_fast[RTE_MAX_ETHPORTS];
struct ap_worker *ap_worker_building;

volatile int ap_trace_active;
struct rte_bpf *ap_trace_filter;
RTE_DEFINE_PER_LCORE(struct ap_trace *, ap_trace_buf);
struct rte_rcu_qsbr *ap_dp_qsbr;
