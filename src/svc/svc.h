/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * How a control-plane service plugs into aetherd: one table of hooks, as
 * BIRD's protocols do. Services run on the main lcore's libuv loop; they
 * never block it.
 */
#ifndef AP_SVC_H
#define AP_SVC_H

#include <uv.h>

#include "lib/config.h"

struct ap_api;
struct ap_dp;

/**
 * Where a routing protocol installs its best routes: the data plane's FIB,
 * tagged with the protocol as origin. Addresses are in network order, IPv4
 * in the first 4 bytes.
 */
struct ap_svc_fib {
	/** Install or replace @p addr/@p len via @p nh. 0 or -errno (-EHOSTUNREACH
	 * when the next hop is on no connected subnet, -EEXIST when a static or
	 * connected route holds the prefix). */
	int (*install)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t len,
		       const uint8_t *nh);
	/** Remove what install put there. 0 or -errno. */
	int (*withdraw)(void *ctx, uint8_t family, const uint8_t *addr, uint8_t len);
	/** The gateway @p gw to reach a protocol next hop @p nh: @p nh itself on a
	 * connected subnet, else through the longest static or API route covering
	 * it (recursive resolution). 0 or -EHOSTUNREACH. */
	int (*resolve)(void *ctx, uint8_t family, const uint8_t *nh, uint8_t *gw);
	/** Changes whenever resolve() may answer differently (routes, addresses). */
	uint64_t (*generation)(void *ctx);
	void *ctx;
};

/** What aetherd hands every service at start. */
struct ap_svc_env {
	uv_loop_t *loop;
	struct ap_api *api;	/**< Register REST routes here (may be NULL). */
	struct ap_dp *dp;	/**< The data plane, NULL with --no-dataplane. */
	const struct ap_svc_fib *fib; /**< NULL when nothing routes (no data plane). */
};

struct ap_svc_ops {
	const char *name;
	/** True when @p cfg asks for this service at all. */
	bool (*wanted)(const struct ap_config *cfg);
	/** Start with @p cfg; store private state in *@p state. 0 or -errno. */
	int (*start)(const struct ap_svc_env *env, const struct ap_config *cfg, void **state);
	/**
	 * Apply a new, already validated config without a restart where possible.
	 * 0 or -errno (the caller keeps the old config running on error).
	 */
	int (*reconfigure)(void *state, const struct ap_config *cfg);
	/** Stop and free everything; the loop still runs afterwards to close handles. */
	void (*stop)(void *state);
};

#endif
