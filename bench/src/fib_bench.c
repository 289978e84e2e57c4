/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FIB benchmark: load N IPv4 prefixes (deterministic, shaped like a full
 * Internet table: mostly /24s, then /16-/23, a few longer ones) into the
 * FIB aetherd uses (rte_fib, DIR-24-8, 4-byte next hops) and into DPDK's
 * rte_lpm as the peer, then look up addresses that hit those prefixes, in
 * bursts of 64 as ip4-input does, on one core.
 *
 * Prints one JSON object: load time and routes/s, lookups/s and TSC cycles
 * per lookup, for both.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_fib.h>
#include <rte_lpm.h>
#include <rte_malloc.h>

#define BURST 64

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
next32(void)
{
	/* xorshift64*: deterministic across runs and machines. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint8_t
pick_len(void)
{
	uint32_t r = next32() % 100;

	if (r < 60)
		return 24;
	if (r < 90)
		return (uint8_t)(16 + next32() % 8);
	return (uint8_t)(25 + next32() % 8);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *eal[] = {argv[0], "--no-huge", "-m", "1536", "--no-pci", "--no-telemetry", "-l",
		       "0", "--log-level=error", prefix, NULL};
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000000;
	unsigned n_lookups = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20000000;
	uint32_t *ips, *addrs;
	uint8_t *lens;
	uint64_t t0, t1, hz, fib_load, lpm_load, fib_lookup, lpm_lookup, sink = 0;
	struct rte_fib *fib;
	struct rte_lpm *lpm;
	struct rte_fib_conf fc = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = 0,
		.max_routes = (int)n + 16,
		.dir24_8 = {.nh_sz = RTE_FIB_DIR24_8_4B, .num_tbl8 = 1 << 17},
	};
	struct rte_lpm_config lc = {.max_rules = n + 16, .number_tbl8s = 1 << 17};
	unsigned loaded_fib = 0, loaded_lpm = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=fibbench-%d", (int)getpid());
	if (rte_eal_init(10, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	ips = malloc(sizeof(*ips) * n);
	lens = malloc(n);
	addrs = malloc(sizeof(*addrs) * 1048576);
	fib = rte_fib_create("bench_fib", 0, &fc);
	lpm = rte_lpm_create("bench_lpm", 0, &lc);
	if (!ips || !lens || !addrs || !fib || !lpm) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		lens[i] = pick_len();
		/* Unicast space only, host bits clear. */
		ips[i] = (next32() % 0xdf000000u + 0x01000000u) & (~0u << (32 - lens[i]));
	}
	/* Addresses inside random loaded prefixes. */
	for (unsigned i = 0; i < 1048576; i++) {
		unsigned k = next32() % n;

		addrs[i] = ips[k] | (next32() & ~(~0u << (32 - lens[k])));
	}

	t0 = rte_rdtsc();
	for (unsigned i = 0; i < n; i++)
		loaded_fib += rte_fib_add(fib, ips[i], lens[i], 1 + i % 60000) == 0;
	t1 = rte_rdtsc();
	fib_load = t1 - t0;
	t0 = rte_rdtsc();
	for (unsigned i = 0; i < n; i++)
		loaded_lpm += rte_lpm_add(lpm, ips[i], lens[i], 1 + i % 60000) == 0;
	t1 = rte_rdtsc();
	lpm_load = t1 - t0;

	/* Lookups: same addresses, same bursts, for both. */
	{
		uint64_t nh[BURST];
		uint32_t nh32[BURST];

		t0 = rte_rdtsc();
		for (unsigned i = 0; i < n_lookups; i += BURST) {
			rte_fib_lookup_bulk(fib, &addrs[i & (1048576 - 1)], nh, BURST);
			sink += nh[i % BURST];
		}
		t1 = rte_rdtsc();
		fib_lookup = t1 - t0;
		t0 = rte_rdtsc();
		for (unsigned i = 0; i < n_lookups; i += BURST) {
			rte_lpm_lookup_bulk(lpm, &addrs[i & (1048576 - 1)], nh32, BURST);
			sink += nh32[i % BURST];
		}
		t1 = rte_rdtsc();
		lpm_lookup = t1 - t0;
	}
	printf("{\"prefixes\": %u, \"loaded\": {\"fib\": %u, \"lpm\": %u}, "
	       "\"fib\": {\"load_s\": %.3f, \"routes_per_s\": %.0f, \"lookups_per_s\": %.0f, "
	       "\"cycles_per_lookup\": %.2f}, "
	       "\"lpm\": {\"load_s\": %.3f, \"routes_per_s\": %.0f, \"lookups_per_s\": %.0f, "
	       "\"cycles_per_lookup\": %.2f}, \"check\": %" PRIu64 "}\n",
	       n, loaded_fib, loaded_lpm, (double)fib_load / (double)hz,
	       (double)n * (double)hz / (double)fib_load,
	       (double)n_lookups * (double)hz / (double)fib_lookup,
	       (double)fib_lookup / (double)n_lookups, (double)lpm_load / (double)hz,
	       (double)n * (double)hz / (double)lpm_load,
	       (double)n_lookups * (double)hz / (double)lpm_lookup,
	       (double)lpm_lookup / (double)n_lookups, sink);
	rte_fib_free(fib);
	rte_lpm_free(lpm);
	free(ips);
	free(lens);
	free(addrs);
	rte_eal_cleanup();
	return 0;
}
