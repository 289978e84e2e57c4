#!/usr/bin/env bash
# conntrack: the cost of connection tracking on one worker, routing UDP flows
# between two null ports, in TSC cycles per packet: the same traffic routed
# without tracking, then tracked with 10k and with 1M flows in the table (every
# packet of the template is a flow of its own, sent round-robin, so with 1M
# flows each lookup misses the caches; the table hands out flow slots lowest
# first, so the flows sit in the order they are sent: hash buckets are read
# at random, flows in sequence, as with CSIT's generated traffic; see
# docs/performance.md for a table in random order). Memory per flow is the
# hugepage memory the 1M-flow run takes beyond the untracked one, divided by
# the flows. The peer measured in the same run is dpdk-testpmd macswap on the
# same two null devices (no lookup at all).
#
# Then the firewall with 1000 rules (bench_fw_rules in lib.sh) on 10k and on
# 1M flows: every packet is new to conntrack (no replies come back), so the
# rules decide each one: it misses 998 rules (other ports, sources,
# protocols, sets) and hits the 999th. rte_acl classifies a flow's first
# packet, and the flow's memo of that answers for its later ones (memo_hits
# in the log). Then the same with masquerade on the egress
# interface, 10k and 1M flows: each flow takes a port of 1024-65535 on the
# egress address; the reply key holds the destination too, and the template
# spreads its flows over 64k destinations, so 1M flows fit one address. A
# translated flow has two keys in the hash (original and reply), so these
# tables are sized for twice the keys. The issue's goals (200 cycles/packet for
# conntrack and a 1k-rule firewall, 300 with NAT, 256 bytes a flow) are the
# columns' goals.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by bench_testpmd and bench_windows (lib.sh)
SECONDS_RUN=${BENCH_SECONDS:-5}
NH=02:00:00:00:01:02
bench_init conntrack

bench_require jq curl python3

# gen_pcap N OUT: N UDP/IPv4 frames, each a different flow (source address
# and ports), all to 198.18.0.0/15 behind the egress port.
gen_pcap() {
	python3 - "$1" "$2" <<-'EOF'
		import struct, sys

		n, out = int(sys.argv[1]), sys.argv[2]

		def csum(b):
		    s = sum(struct.unpack("!10H", b))
		    while s >> 16:
		        s = (s & 0xFFFF) + (s >> 16)
		    return ~s & 0xFFFF

		eth = bytes(6) + bytes.fromhex("020000000001") + b"\x08\x00"
		with open(out, "wb") as f:
		    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
		    for i in range(n):
		        src = bytes([10, 0, (i >> 8) & 0xFF, i & 0xFF])
		        dst = bytes([198, 18 + ((i >> 16) & 1), (i >> 8) & 0xFF, 1 + (i & 0x7F)])
		        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, i & 0xFFFF, 0, 64, 17, 0, src, dst)
		        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
		        udp = struct.pack("!HHHH", 1024 + (i >> 16) % 60000, 53, 26, 0) + bytes(18)
		        fr = eth + ip + udp
		        f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
	EOF
}

# aetherd_run NAME FLOWS TRACK [RULES [NAT]]: sets AD_CPP, AD_HUGE (2 MiB
# pages in use during the window), null when not measured. RULES: a firewall
# of that many; NAT 1: masquerade on the egress interface.
aetherd_run() {
	local name=$1 n=$2 track=$3 rules=${4:-0} nat=${5:-0} dir=$BENCH_TMP/$1 pid i ct=""
	local pcap=$BENCH_TMP/in-$2.pcap max=$(($2 + $2 / 4))
	AD_CPP=null
	AD_HUGE=null
	HUGE_USED=null
	mkdir -p "$dir"
	[ -s "$pcap" ] || gen_pcap "$n" "$pcap" || return 1
	[ "$track" = 1 ] && ct="conntrack: {max_flows: $max}"
	cat >"$dir/ct.yaml" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: in, driver: null, rx_template: $pcap}
		  - {name: out, driver: devargs, devargs: "net_null_out,no-rx=1"}
		interfaces:
		  - {name: in, port: in, addresses: [10.0.0.1/16], punt: false}
		  - {name: out, port: out, addresses: [10.1.0.1/24], punt: false}
		neighbors:
		  - {interface: out, address: 10.1.0.2, mac: "$NH"}
		routes:
		  - {prefix: 198.18.0.0/15, via: 10.1.0.2}
		$ct
		api: {socket: $BENCH_TMP/api.sock, listen: none, token_file: $dir/api.token}
		log: {level: warning}
	EOF
	[ "$rules" -gt 0 ] && { bench_fw_rules aetherd "$rules" 53 >>"$dir/ct.yaml" || return 1; }
	[ "$nat" = 1 ] && echo "nat: {masquerade: [{interface: out}]}" >>"$dir/ct.yaml"
	bench_aetherd_start "$dir" "$dir/ct.yaml" || return 1
	pid=$BENCH_PID
	# Every flow in the table before the window (or a few seconds untracked).
	for ((i = 0; i < 300; i++)); do
		[ "$track" = 1 ] || {
			sleep 2
			break
		}
		[ "$(bench_api "/api/v1/conntrack?limit=0" 2>/dev/null | jq .stats.flows)" -ge "$n" ] \
			2>/dev/null && break
		sleep 0.1
	done
	[ "$track" = 1 ] && bench_log "$name: $(bench_api "/api/v1/conntrack?limit=0" | jq -c .stats)"
	[ "$rules" -gt 0 ] && bench_log "$name: firewall $(bench_api /api/v1/firewall |
		jq -c '{acl, verdicts, memo_hits, hit: [.rules[] | select(.hits > 0) | {index, hits}]}')"
	BENCH_HOOK=read_huge bench_measure "$name" "$dir" "$pid" out || return 1
	AD_CPP=$BENCH_CPP
	AD_HUGE=$HUGE_USED
}

# The hugepage memory (2 MiB pages) aetherd has mapped, its own: other DPDK
# programs on the machine may hold pages too.
# shellcheck disable=SC2317 # called through BENCH_HOOK
read_huge() {
	HUGE_USED=$(awk '/_Hugetlb:/ { kb += $2 } END { print int(kb / 2048) }' \
		"/proc/$BENCH_PID/smaps_rollup")
}

status=0
TP_CPP=null
bench_testpmd macswap net_null1,no-rx=1 || status=1
aetherd_run off 1000000 0 || status=1
OFF_CPP=$AD_CPP OFF_HUGE=$AD_HUGE
aetherd_run ct10k 10000 1 || status=1
K10_CPP=$AD_CPP
aetherd_run ct1m 1000000 1 || status=1
M1_CPP=$AD_CPP M1_HUGE=$AD_HUGE
aetherd_run fw10k 10000 1 1000 || status=1
FW_CPP=$AD_CPP
aetherd_run fw1m 1000000 1 1000 || status=1
FW1M_CPP=$AD_CPP FW1M_HUGE=$AD_HUGE
aetherd_run nat10k 10000 1 1000 1 || status=1
NAT_CPP=$AD_CPP
aetherd_run nat1m 1000000 1 1000 1 || status=1
NAT1M_CPP=$AD_CPP NAT1M_HUGE=$AD_HUGE

# Bytes per flow the table was sized for: hugepage memory beyond the
# untracked run over the flows it holds (1.25M; with NAT, whose flows take two
# hash keys, 2.5M keys hold 1.25M translated flows). The NAT run's figure
# leaves out the firewall's own tables (the 1M-flow firewall run minus the
# 1M-flow conntrack one, the same table).
PER_FLOW=null NAT_PER_FLOW=null
if [ "$M1_HUGE" != null ] && [ "$OFF_HUGE" != null ] && [ "$M1_HUGE" -gt 0 ]; then
	PER_FLOW=$(jq -n "($M1_HUGE - $OFF_HUGE) * 2097152 / 1250000 | round")
	if [ "$NAT1M_HUGE" != null ] && [ "$FW1M_HUGE" != null ]; then
		bench_log "hugepages in use (2 MiB): off $OFF_HUGE, ct1m $M1_HUGE, fw1m $FW1M_HUGE, nat1m $NAT1M_HUGE"
		NAT_PER_FLOW=$(jq -n "($NAT1M_HUGE - ($FW1M_HUGE - $M1_HUGE) - $OFF_HUGE) * 2097152 /
			1250000 | round")
	fi
fi
PEER="dpdk-testpmd macswap"
PEER_CPP=$(bench_round "$TP_CPP")
bench_case "routing, 1M UDP flows, no tracking (context)" cycles/packet \
	"$(bench_round "$OFF_CPP")" lower null "$PEER" "$PEER_CPP"
bench_case "routing + conntrack, 10k flows" cycles/packet "$(bench_round "$K10_CPP")" lower 200 \
	"$PEER" "$PEER_CPP"
bench_case "routing + conntrack, 1M flows" cycles/packet "$(bench_round "$M1_CPP")" lower 200 \
	"$PEER" "$PEER_CPP"
bench_case "routing + conntrack + firewall (1000 rules, the 999th matches), 10k new flows" \
	cycles/packet "$(bench_round "$FW_CPP")" lower 200 "$PEER" "$PEER_CPP"
bench_case "routing + conntrack + firewall (1000 rules), 1M new flows" \
	cycles/packet "$(bench_round "$FW1M_CPP")" lower 200 "$PEER" "$PEER_CPP"
bench_case "routing + conntrack + firewall (1000 rules) + masquerade, 10k flows" \
	cycles/packet "$(bench_round "$NAT_CPP")" lower 300 "$PEER" "$PEER_CPP"
bench_case "routing + conntrack + firewall (1000 rules) + masquerade, 1M flows" \
	cycles/packet "$(bench_round "$NAT1M_CPP")" lower 300 "$PEER" "$PEER_CPP"
bench_case "conntrack memory per flow (table sized 1.25M)" bytes "$PER_FLOW" lower 256 "-" null
bench_case "conntrack memory per masqueraded flow (table sized 1.25M translated flows)" bytes \
	"$NAT_PER_FLOW" lower 256 "-" null
bench_finish || status=1
exit $status
