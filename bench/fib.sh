#!/usr/bin/env bash
# fib: the IPv4 FIB aetherd routes with (rte_fib DIR-24-8) holding 1M
# prefixes shaped like an Internet table, against DPDK's rte_lpm as the peer
# in the same run: lookups/s and TSC cycles per lookup on one core (bursts of
# 64, addresses inside loaded prefixes), and routes/s to load the table.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init fib
exe=$AP_BUILD/bench/src/fib_bench
bench_built "$exe"
out=$BENCH_TMP/fib.json
if ! timeout 600 "$exe" "${FIB_PREFIXES:-1000000}" "${FIB_LOOKUPS:-50000000}" >"$out"; then
	bench_log "fib_bench failed"
	exit 1
fi
bench_log "$(cat "$out")"
v() { jq -r "$1" "$out"; }
bench_case "IPv4 FIB lookups/s, 1M prefixes, 1 core" "lookups/s" "$(v .fib.lookups_per_s)" higher \
	null "rte_lpm" "$(v .lpm.lookups_per_s)"
bench_case "IPv4 FIB cycles/lookup, 1M prefixes" "cycles/lookup" \
	"$(bench_round "$(v .fib.cycles_per_lookup)")" lower null "rte_lpm" \
	"$(bench_round "$(v .lpm.cycles_per_lookup)")"
bench_case "IPv4 FIB load, 1M prefixes" "routes/s" "$(v .fib.routes_per_s)" higher null \
	"rte_lpm" "$(v .lpm.routes_per_s)"
bench_finish
