#!/usr/bin/env bash
# tlb: what a load costs when the lines it reaches are spread over many
# pages, on this machine: bench/src/tlb_probe chases pointers through 4096
# cache lines (256 KiB, within the caches) on 2 MiB hugepages, first as one
# block, then one line per 4 KiB page (18 MiB), then 2048 lines one per
# 4 KiB page (10 MiB). On a host that maps the hugepages as 2 MiB pages, the
# spread cases need nine TLB entries and cost what the block does; under a
# hypervisor that backs guest memory with 4 KiB pages each line takes an
# entry of its own, and past the TLB's reach (2048 entries of 4 KiB on the
# second level of AMD Zen's) each load waits for a page walk. The flow
# table of 1M flows and the IPv6 FIB are such spread accesses, so this sets
# the floor of their cases in bench/conntrack.sh and bench/route.sh. No goal
# and no peer: it describes the machine.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bench_init tlb
exe=$AP_BUILD/bench/src/tlb_probe
bench_built "$exe"
if [ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" -lt 10 ] 2>/dev/null; then
	bench_log "needs 10 free 2 MiB hugepages (bench/run reserves them as root)"
	exit 1
fi
status=0
# probe LINES STRIDE NAME
probe() {
	local out
	if ! out=$(timeout 60 "$exe" "$1" "$2"); then
		bench_log "$3: tlb_probe failed"
		status=1
		bench_case "$3" cycles/load null lower null "-" null
		return
	fi
	bench_log "$3: $out"
	bench_case "$3" cycles/load "$(echo "$out" | jq .cycles_per_load)" lower null "-" null
}
probe 4096 64 "load, 4096 lines in one 256 KiB block"
probe 4096 4160 "load, 4096 lines one per 4 KiB page (18 MiB on 2 MiB pages)"
probe 2048 4160 "load, 2048 lines one per 4 KiB page (10 MiB on 2 MiB pages)"
bench_finish || status=1
exit $status
