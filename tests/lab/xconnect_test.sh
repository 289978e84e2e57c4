#!/usr/bin/env bash
# aetherd cross-connecting two veths over af_packet, between a client and a
# server namespace: ping (IPv4, IPv6), iperf3 TCP throughput, API counters.
# Then the same line with a Linux bridge in the dut namespace, for comparison.
# Writes both throughput figures to tests/artifacts/lab-xconnect.json.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

IPERF_SECONDS=${IPERF_SECONDS:-5}
MIN_GBPS=${MIN_GBPS:-1}

lab_require_root
lab_require_cmd ip ethtool ping iperf3 jq
lab_require_aetherd

tap_plan 13

lab_topo_line
tap_ok $? "topology client - dut - server built"

# ping_ok NS DST: 20 echoes at 50 ms, none lost. Waits first (5 s at most) for
# one echo to come back, so that port start-up is not counted as loss.
ping_ok() {
	local out
	lab_wait_for 5 lab_exec "$1" ping -c 1 -W 1 "$2"
	out=$(lab_exec "$1" ping -q -c 20 -i 0.05 -W 2 "$2" 2>&1)
	echo "$out" | grep -q ' 0% packet loss' && return 0
	tap_diag "$out"
	return 1
}

# iperf_gbps: TCP client -> server for IPERF_SECONDS, prints Gbit/s received.
iperf_gbps() {
	local json gbps
	json=$(lab_exec client timeout $((IPERF_SECONDS + 15)) iperf3 -c "$LAB_SERVER4" \
		-t "$IPERF_SECONDS" -J --connect-timeout 3000 2>&1)
	gbps=$(echo "$json" | jq -er '.end.sum_received.bits_per_second / 1e9 * 100 |
		round / 100' 2>/dev/null)
	if [ -z "$gbps" ]; then
		tap_diag "iperf3: $(echo "$json" | jq -r '.error // empty' 2>/dev/null || echo "$json")" >&2
		echo 0
		return 1
	fi
	echo "$gbps"
}

# counter JSON JQ-EXPR: a number from aetherctl JSON output (0 when absent).
counter() {
	echo "$1" | jq -r "$2 // 0" 2>/dev/null || echo 0
}

lab_bg server iperf3 -s
lab_wait_for 5 lab_exec server sh -c "ss -ltn | grep -q ':5201 '"
iperf_ok=$?

# --- aetherd -------------------------------------------------------------
lab_aetherd_start dut "$LAB_XC_CONFIG" --log-level info --summary "$LAB_DIR/summary.json"
started=$?
tap_ok $started "aetherd started on af_packet d0 <-> d1"

aetherd_gbps=0
if [ $started -eq 0 ]; then
	ports0=$(lab_ctl -j show ports 2>/dev/null)
	stats0=$(lab_ctl -j show stats 2>/dev/null)

	ping_ok client "$LAB_SERVER4"
	tap_ok $? "aetherd: ping IPv4 20 x 50 ms, 0% loss"
	ping_ok client "$LAB_SERVER6"
	tap_ok $? "aetherd: ping IPv6 20 x 50 ms, 0% loss"

	aetherd_gbps=$(iperf_gbps)
	rc=$?
	[ $iperf_ok -eq 0 ] && [ $rc -eq 0 ] &&
		jq -en "$aetherd_gbps >= $MIN_GBPS" >/dev/null
	tap_ok $? "aetherd: iperf3 TCP ${IPERF_SECONDS}s >= $MIN_GBPS Gbit/s ($aetherd_gbps)"

	ports1=$(lab_ctl -j show ports 2>/dev/null)
	stats1=$(lab_ctl -j show stats 2>/dev/null)
	moved=0
	for p in lan wan; do
		for c in rx_packets tx_packets; do
			expr=".ports[] | select(.name == \"$p\") | .$c"
			a=$(counter "$ports0" "$expr")
			b=$(counter "$ports1" "$expr")
			if ! [ "${b:-0}" -gt "${a:-0}" ] 2>/dev/null; then
				tap_diag "port $p $c did not move: $a -> $b"
				moved=1
			fi
		done
	done
	tap_ok $moved "aetherctl show ports: rx/tx of lan and wan moved"

	a=$(counter "$stats0" .rx_packets)
	b=$(counter "$stats1" .rx_packets)
	[ "${b:-0}" -gt "${a:-0}" ] 2>/dev/null &&
		[ "$(counter "$stats1" .tx_packets)" -gt 0 ] 2>/dev/null
	tap_ok $? "aetherctl show stats: rx_packets moved ($a -> $b)"

	lab_aetherd_stop
	rc=$?
	[ $rc -ne 0 ] && sed 's/^/#   /' "$LAB_AETHERD_LOG"
	tap_ok $rc "aetherd exits 0 on SIGTERM"

	jq -e '.mode == "live" and .rx_packets > 0 and
		.rx_packets == .tx_packets + .drops.total' "$LAB_DIR/summary.json" >/dev/null 2>&1
	rc=$?
	[ $rc -ne 0 ] && tap_diag "summary: $(jq -c '{mode, rx_packets, tx_packets, drops}' \
		"$LAB_DIR/summary.json" 2>&1)"
	tap_ok $rc "aetherd summary at exit: rx = tx + drops"
else
	for d in "ping IPv4" "ping IPv6" "iperf3" "show ports" "show stats" "SIGTERM" "summary"; do
		tap_ok 1 "aetherd: $d (aetherd did not start)"
	done
fi

# --- Linux bridge on the same veths ----------------------------------------
lab_exec dut ip link add br0 type bridge stp_state 0 forward_delay 0 &&
	lab_exec dut ip link set d0 master br0 &&
	lab_exec dut ip link set d1 master br0 &&
	lab_exec dut ip link set br0 up
tap_ok $? "linux bridge br0 over d0, d1"

ping_ok client "$LAB_SERVER4"
tap_ok $? "linux bridge: ping IPv4 20 x 50 ms, 0% loss"

bridge_gbps=$(iperf_gbps)
rc=$?
[ $iperf_ok -eq 0 ] && [ $rc -eq 0 ]
tap_ok $? "linux bridge: iperf3 TCP ${IPERF_SECONDS}s measured ($bridge_gbps Gbit/s)"

echo "# iperf3 aetherd $aetherd_gbps Gbit/s, linux bridge $bridge_gbps Gbit/s"

art=$AP_SRC/tests/artifacts
mkdir -p "$art" &&
	jq -n --argjson a "$aetherd_gbps" --argjson b "$bridge_gbps" \
		--argjson t "$IPERF_SECONDS" --arg date "$(date -Iseconds)" \
		'{test: "lab-xconnect", date: $date, iperf3_seconds: $t, unit: "Gbit/s",
		  aetherd: $a, linux_bridge: $b}' >"$art/lab-xconnect.json"
tap_ok $? "figures written to tests/artifacts/lab-xconnect.json"

tap_done
