#!/usr/bin/env bash
# conntrack: the cost of connection tracking on one worker, routing UDP flows
# between two null ports, in TSC cycles per packet: the same traffic routed
# without tracking, then tracked with 10k and with 1M flows in the table (every
# packet of the template is a flow of its own, sent round-robin, so with 1M
# flows each lookup misses the caches, the worst case). Memory per flow is the
# hugepage memory the 1M-flow run takes beyond the untracked one, divided by
# the flows. The peer measured in the same run is dpdk-testpmd macswap on the
# same two null devices (no lookup at all).
#
# A fourth run adds the firewall with 1000 rules on the 10k flows: every
# packet is new to conntrack (no replies come back), so each one is
# classified; it misses 998 rules (other ports, sources, protocols, sets) and
# hits the 999th. The issue's goals (200 cycles/packet for conntrack and a
# 1k-rule firewall, 256 bytes a flow) are the columns' goals.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by bench_testpmd and bench_measure (lib.sh)
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

# shellcheck disable=SC2317 # called by read_huge
huge_used() {
	awk '/^HugePages_Total:/ { t = $2 } /^HugePages_Free:/ { f = $2 } END { print t - f }' \
		/proc/meminfo
}

# gen_rules N: a firewall section of N rules between zones "inside" (port
# in) and "outside" (port out); the template's traffic (UDP to port 53 from
# 10.0/16) misses all but rule N-2.
gen_rules() {
	python3 - "$1" <<-'EOF'
		import sys

		n = int(sys.argv[1])
		print("firewall:")
		print("  zones: [{name: inside, interfaces: [in]}, {name: outside, interfaces: [out]}]")
		print("  sets:")
		print("    - {name: mgmt, ports: [\"22\", \"161-162\", \"830\"]}")
		print("    - {name: partners, addresses: [192.0.2.0/24, 198.51.100.0/25, \"2001:db8::/32\"]}")
		print("  policies: [{from: any, to: any, action: drop}]")
		print("  rules:")
		for i in range(n - 2):
		    k = i % 4
		    if k == 0:
		        r = "proto: udp, dport: \"%d\"" % (1024 + i)
		    elif k == 1:
		        r = "proto: tcp, src: 172.%d.%d.0/24, dport: \"%d\"" % (16 + i // 256 % 16, i % 256, 2000 + i)
		    elif k == 2:
		        r = "proto: udp, src: partners, dport: \"53\""
		    else:
		        r = "proto: tcp, dport: mgmt, ct_state: [new]"
		    print("    - {from: inside, to: outside, %s, action: accept}" % r)
		print("    - {from: inside, to: outside, proto: udp, dport: \"53\", action: accept, comment: dns}")
		print("    - {from: any, to: any, proto: icmp, action: accept}")
	EOF
}

# aetherd_run NAME FLOWS TRACK [RULES]: sets AD_CPP, AD_HUGE (2 MiB pages in
# use during the window), null when not measured. RULES: a firewall of that many.
aetherd_run() {
	local name=$1 n=$2 track=$3 rules=${4:-0} dir=$BENCH_TMP/$1 pid i ct=""
	AD_CPP=null
	AD_HUGE=null
	HUGE_USED=null
	mkdir -p "$dir"
	gen_pcap "$n" "$dir/in.pcap" || return 1
	[ "$track" = 1 ] && ct="conntrack: {max_flows: $((n + n / 4))}"
	cat >"$dir/ct.yaml" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: in, driver: null, rx_template: $dir/in.pcap}
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
	[ "$rules" -gt 0 ] && { gen_rules "$rules" >>"$dir/ct.yaml" || return 1; }
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
		jq -c '{acl, verdicts, hit: [.rules[] | select(.hits > 0) | {index, hits}]}')"
	BENCH_HOOK=read_huge bench_measure "$name" "$dir" "$pid" out || return 1
	AD_CPP=$BENCH_CPP
	AD_HUGE=$HUGE_USED
}

# shellcheck disable=SC2317 # called through BENCH_HOOK
read_huge() {
	HUGE_USED=$(huge_used)
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
aetherd_run fw1k 10000 1 1000 || status=1
FW_CPP=$AD_CPP

PER_FLOW=null
if [ "$M1_HUGE" != null ] && [ "$OFF_HUGE" != null ] && [ "$M1_HUGE" -gt 0 ]; then
	PER_FLOW=$(jq -n "($M1_HUGE - $OFF_HUGE) * 2097152 / 1250000 | round")
fi
bench_case "routing, 1M UDP flows, no tracking (context)" cycles/packet \
	"$(bench_round "$OFF_CPP")" lower null "dpdk-testpmd macswap" "$(bench_round "$TP_CPP")"
bench_case "routing + conntrack, 10k flows" cycles/packet "$(bench_round "$K10_CPP")" lower 200 \
	"dpdk-testpmd macswap" "$(bench_round "$TP_CPP")"
bench_case "routing + conntrack, 1M flows" cycles/packet "$(bench_round "$M1_CPP")" lower 200 \
	"dpdk-testpmd macswap" "$(bench_round "$TP_CPP")"
bench_case "routing + conntrack + firewall (1000 rules, the 999th matches), 10k new flows" \
	cycles/packet "$(bench_round "$FW_CPP")" lower 200 "dpdk-testpmd macswap" \
	"$(bench_round "$TP_CPP")"
bench_case "conntrack memory per flow (table sized 1.25M)" bytes "$PER_FLOW" lower 256 "-" null
bench_finish || status=1
exit $status
