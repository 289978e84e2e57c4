#!/usr/bin/env bash
# bridge: the cost of L2 bridging on one worker between two DPDK null ports,
# in TSC cycles per packet: eth-input, the MAC table lookups of source and
# destination (learning) and forwarding in l2-bridge, port-tx. The peer
# measured in the same run is dpdk-testpmd macswap on the same two null ports
# (reads and writes every Ethernet header, no lookup); VPP's L2 bridging in
# FD.io CSIT is the anchor users know.
#
# Traffic: the ingress null port has an rx_template (docs/config.md) of
# BRIDGE_HOSTS 64-byte frames from as many source MACs, all to one station
# behind the egress port (a static MAC), so each frame costs two lookups in a
# table of BRIDGE_HOSTS + 1 entries. A second case tags the ingress member
# (802.1Q VLAN 10 on the way in, untagged out), adding the tag rewrite.
#
# Measurement as in bench/route.sh: the median of three API-sampled windows once
# every source is learned; the span must show the frames sent out of the
# egress port, with next to no drops, or the case fails.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by bench_testpmd and bench_windows (lib.sh)
SECONDS_RUN=${BENCH_SECONDS:-5}
HOSTS=${BRIDGE_HOSTS:-1024}
DST=02:00:00:00:01:02
bench_init bridge

bench_require jq curl python3

# gen_pcap VLAN OUT: HOSTS UDP/IPv4 frames of 60 bytes (64 on the wire), from
# HOSTS source MACs to DST, tagged VLAN unless it is 0.
gen_pcap() {
	python3 - "$1" "$2" "$HOSTS" "$DST" <<-'EOF'
		import struct, sys

		vlan, out, hosts, dst = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
		frames = []
		for i in range(hosts):
		    eth = bytes.fromhex(dst.replace(":", "")) + bytes([2, 0, 0x10, 0, i >> 8, i & 0xFF])
		    if vlan:
		        eth += struct.pack("!HH", 0x8100, vlan)
		    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46 - 4 * bool(vlan), i, 0, 64, 17, 0,
		                     bytes([10, 0, i >> 8, i & 0xFF]), bytes([10, 1, 0, 2]))
		    frames.append((eth + b"\x08\x00" + ip).ljust(60, b"\0"))
		with open(out, "wb") as f:
		    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
		    for fr in frames:
		        f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
	EOF
}

# aetherd_run NAME VLAN: sets AD_CPP, AD_MPPS (null when not measured).
aetherd_run() {
	local name=$1 vlan=$2 dir=$BENCH_TMP/$1 member pid i n
	AD_CPP=null
	AD_MPPS=null
	mkdir -p "$dir"
	gen_pcap "$vlan" "$dir/in.pcap" || return 1
	member="{port: in}"
	[ "$vlan" != 0 ] && member="{port: in, vlan: $vlan}"
	cat >"$dir/bridge.yaml" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: in, driver: null, rx_template: $dir/in.pcap}
		  - {name: out, driver: devargs, devargs: "net_null_out,no-rx=1"}
		bridges:
		  - name: b
		    members: [$member, {port: out}]
		    static_macs: [{mac: "$DST", port: out}]
		api: {socket: $BENCH_TMP/api.sock, listen: none, token_file: $dir/api.token}
		log: {level: warning}
	EOF
	bench_aetherd_start "$dir" "$dir/bridge.yaml" || return 1
	pid=$BENCH_PID
	# Every source learned: HOSTS entries beside the static one.
	for ((i = 0; i < 300; i++)); do
		n=$(bench_api /api/v1/bridges 2>/dev/null | jq '.bridges[0].macs' 2>/dev/null)
		[ "${n:-0}" -ge $((HOSTS + 1)) ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ "${n:-0}" -lt $((HOSTS + 1)) ]; then
		bench_log "$name: ${n:-no} of $((HOSTS + 1)) MACs in the table; log:"
		tail -n 20 "$dir/aetherd.log" >&2
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	bench_measure "$name" "$dir" "$pid" out || return 1
	AD_CPP=$BENCH_CPP
	AD_MPPS=$BENCH_MPPS
}

status=0
TP_CPP=null
TP_MPPS=null
bench_testpmd macswap net_null1,no-rx=1 || status=1
aetherd_run untagged 0 || status=1
U_CPP=$AD_CPP
U_MPPS=$AD_MPPS
aetherd_run vlan 10 || status=1
V_CPP=$AD_CPP

bench_case "L2 bridging cycles/packet, $HOSTS MACs, 1 worker" cycles/packet \
	"$(bench_round "$U_CPP")" lower null "dpdk-testpmd macswap" "$(bench_round "$TP_CPP")"
bench_case "L2 bridging Mpps, $HOSTS MACs, 1 worker" Mpps "$(bench_round "$U_MPPS")" higher null \
	"dpdk-testpmd macswap" "$(bench_round "$TP_MPPS")"
bench_case "L2 bridging cycles/packet, 802.1Q in, untagged out" cycles/packet \
	"$(bench_round "$V_CPP")" lower null "dpdk-testpmd macswap" "$(bench_round "$TP_CPP")"
bench_finish || status=1
exit $status
