#!/usr/bin/env bash
# xconnect: the cost of the bare pipeline (port-rx -> eth-input -> xconnect ->
# port-tx) on one worker, between two null ports that produce and swallow
# packets as fast as they are asked. The peer is dpdk-testpmd forwarding
# between the same two null ports (io mode, one forwarding core), measured in
# the same run.
#
# Two configurations: the ports as a wire (`validate: none`: no frame data is
# read, the work testpmd io does) and with the default `validate: l2` (each
# frame's ethertype and any VLAN tags are read, so malformed tag stacks drop).
# Cases: TSC cycles per received packet (goal: within 1.2 x testpmd io) and
# received Mpps for each; the l2 run beside testpmd macswap, which reads and
# writes every Ethernet header, for context.
#
# BENCH_SECONDS (default 5) is the length of each run.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

SECONDS_RUN=${BENCH_SECONDS:-5}
bench_init xconnect

# ---- peer: dpdk-testpmd io forwarding net_null0 <-> net_null1 (bench_testpmd) ---

# ---- aetherd: two null ports cross-connected, one worker ----------------------
# aetherd_run VALIDATE: sets AD_CPP and AD_MPPS.
aetherd_run() {
	local v=$1 cfg=$BENCH_TMP/xconnect-$1.yaml sum=$BENCH_TMP/aetherd-$1.json
	local log=$BENCH_TMP/aetherd-$1.log
	AD_CPP=null
	AD_MPPS=null
	if [ ! -x "$AETHERD" ]; then
		bench_log "aetherd not built ($AETHERD)"
		return 1
	fi
	cat >"$cfg" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: n0, driver: null, validate: $v}
		  - {name: n1, driver: null, validate: $v}
		xconnect:
		  - {a: n0, b: n1}
	EOF
	timeout -k 5 $((SECONDS_RUN + 60)) "$AETHERD" --foreground -c "$cfg" \
		--duration "$SECONDS_RUN" --summary "$sum" --api-socket "$BENCH_TMP/api.sock" \
		--log-level warning >"$log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ] || ! jq -e '.rx_packets > 0 and .duration_s > 0' "$sum" >/dev/null 2>&1; then
		bench_log "aetherd exited $rc without a usable summary; log:"
		tail -n 30 "$log" >&2
		return 1
	fi
	AD_CPP=$(jq '.cycles_per_packet' "$sum")
	AD_MPPS=$(jq '.rx_packets / .duration_s / 1e6' "$sum")
	bench_log "aetherd (validate: $v): $(jq .rx_packets "$sum") packets, $(bench_round "$AD_CPP") cycles/packet, $(bench_round "$AD_MPPS") Mpps"
}

status=0
# Context: macswap reads and writes every Ethernet header, as eth-input reads
# it, where io forwarding never touches packet data.
TP_CPP=null
TP_MPPS=null
bench_testpmd macswap || status=1
MS_CPP=$TP_CPP
bench_testpmd io || status=1
aetherd_run none || status=1
WIRE_CPP=$AD_CPP
WIRE_MPPS=$AD_MPPS
aetherd_run l2 || status=1

goal_cpp=null
goal_mpps=null
if [ "$TP_CPP" != null ]; then
	goal_cpp=$(bench_round "$(jq -n "$TP_CPP * 1.2")")
	goal_mpps=$(bench_round "$(jq -n "$TP_MPPS / 1.2")")
fi
bench_case "xconnect cycles/packet (null ports, 1 worker, validate: none)" cycles/packet \
	"$(bench_round "$WIRE_CPP")" lower "$goal_cpp" "dpdk-testpmd io" "$(bench_round "$TP_CPP")"
bench_case "xconnect Mpps (null ports, 1 worker, validate: none)" Mpps \
	"$(bench_round "$WIRE_MPPS")" higher "$goal_mpps" "dpdk-testpmd io" "$(bench_round "$TP_MPPS")"
bench_case "xconnect cycles/packet (null ports, 1 worker, validate: l2)" cycles/packet \
	"$(bench_round "$AD_CPP")" lower "$goal_cpp" "dpdk-testpmd io" "$(bench_round "$TP_CPP")"
bench_case "xconnect Mpps (null ports, 1 worker, validate: l2)" Mpps "$(bench_round "$AD_MPPS")" \
	higher "$goal_mpps" "dpdk-testpmd io" "$(bench_round "$TP_MPPS")"
bench_case "xconnect cycles/packet, validate: l2, vs testpmd macswap (context)" cycles/packet \
	"$(bench_round "$AD_CPP")" lower null "dpdk-testpmd macswap" "$(bench_round "$MS_CPP")"
bench_finish || status=1
exit $status
