#!/usr/bin/env bash
# route: the cost of IPv4 and IPv6 routing on one worker with Internet-sized
# FIBs, between two DPDK null ports, in TSC cycles per packet. The anchor is
# VPP's IPv4 routing in FD.io CSIT (136 cycles/packet); VPP is not packaged
# in Debian, so the peer measured in the same run is dpdk-testpmd forwarding
# between the same two null ports in macswap mode (reads and writes every
# Ethernet header, no lookup). Goal: <= 100 cycles/packet.
#
# Traffic: a null port makes packets as fast as it is asked but their bytes
# are whatever the mbuf held, so the ingress port has an rx_template (see
# docs/config.md): aetherd writes the frames of a generated capture into the
# mbufs it receives, round-robin, as a NIC's DMA would. That copy (60 or 74
# bytes a packet) is part of the measured cycles. The capture holds
# ROUTE_FLOWS UDP flows to random hosts inside random prefixes of the table:
# 60-byte IPv4 frames and 74-byte IPv6 frames (CSIT's 64B and 78B on the wire).
# The egress port is a null device with no-rx=1: a sink.
#
# Table: ROUTE_PREFIXES4 (default 1M) IPv4 /24s spread over the unicast space
# and ROUTE_PREFIXES6 (default 200k, a full IPv6 table) IPv6 prefixes with the
# length mix of the Internet's (about half /48, then /32, /40, /44; see
# bench/src/route_feed.c), both in every run, as a router with both full
# tables holds them. The IPv6 FIB (rte_fib6 trie) reserves the worst case of
# tbl8 groups per route (three for a /48 with no covering route), so the
# config sizes it: dataplane.fib6 {max_routes: ROUTE_FIB6_ROUTES, default
# 262144; tbl8: ROUTE_FIB6_TBL8, default 524288, 512 MiB}. The file's
# static routes are a small fixed array and the REST API adds one route per
# request, so the table comes the way a router gets it: over BGP.
# bench/src/route_feed opens a session to aetherd's BGP speaker on loopback
# and announces the whole table in packed UPDATEs with one next hop per
# family, a static neighbour on the egress port, so every best path goes into
# the FIB as a resolved route. The bench waits until aetherd's FIB holds every
# route (aether_routes{origin="bgp"} in /metrics), which also gives the time to
# install a full table through BGP (a case of its own, no peer: the worker
# forwards, punting the not yet routed packets, all the while).
#
# Measurement: once the table is in, BENCH_WINDOWS (default 3) windows of
# SECONDS_RUN back to back between samples of the API counters: cycles/packet
# = TSC Hz x elapsed / packets received (the worker never idles with a null
# port), the median window's. The span must show the packets routed out of
# the egress port, with next to no drops or punts, or the case fails loudly.
#
# BENCH_SECONDS (default 5) is the length of each measured window.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck disable=SC2034 # read by bench_testpmd and bench_windows (lib.sh)
SECONDS_RUN=${BENCH_SECONDS:-5}
N4=${ROUTE_PREFIXES4:-1000000}
N6=${ROUTE_PREFIXES6:-200000}
FIB6_ROUTES=${ROUTE_FIB6_ROUTES:-262144}
FIB6_TBL8=${ROUTE_FIB6_TBL8:-524288}
FLOWS=${ROUTE_FLOWS:-16384}
LOAD_TIMEOUT=${ROUTE_LOAD_TIMEOUT:-600}
# A table whose count stops growing this long is refused, not slow.
LOAD_STALL=${ROUTE_LOAD_STALL:-30}
FEED=$AP_BUILD/bench/src/route_feed
GOAL_CPP=100
# Addresses of the lab: ingress subnet, egress subnet with its neighbour.
NH4=10.0.1.2
NH6=2001:db8:1::2
bench_init route

bench_require jq curl python3
bench_built "$FEED"

# ---- traffic: one capture per family ------------------------------------------
# gen_pcap 4|6 PREFIX_LIST OUT: FLOWS UDP frames, each to a random host of a
# random prefix of the list, destination MAC 00:00:00:00:00:00 (aetherd puts
# the port's own there).
gen_pcap() {
	python3 - "$1" "$2" "$3" "$FLOWS" <<-'EOF'
		import random, socket, struct, sys

		fam, plist, out, nflows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
		prefixes = [line.split("/")[0] for line in open(plist)]
		rnd = random.Random(7)

		def csum(b):
		    if len(b) % 2:
		        b += b"\0"
		    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    while s >> 16:
		        s = (s & 0xFFFF) + (s >> 16)
		    return ~s & 0xFFFF

		eth = bytes(6) + bytes.fromhex("020000000001")
		frames = []
		for i in range(nflows):
		    p = prefixes[rnd.randrange(len(prefixes))]
		    ports = struct.pack("!HH", 1024 + rnd.randrange(64000), 1024 + rnd.randrange(64000))
		    if fam == "4":
		        dst = socket.inet_aton(p)[:3] + bytes([rnd.randrange(1, 255)])
		        src = bytes([10, 0, 0, 2 + i % 250])
		        udp = ports + struct.pack("!HH", 26, 0) + bytes(18)
		        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17,
		                         0, src, dst)
		        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
		        frames.append(eth + b"\x08\x00" + ip + udp)
		    else:
		        dst = socket.inet_pton(socket.AF_INET6, p)[:8] + rnd.randbytes(8)
		        src = socket.inet_pton(socket.AF_INET6, "2001:db8::") [:12] + struct.pack("!I", 2 + i)
		        udp = ports + struct.pack("!HH", 20, 0) + bytes(12)
		        c = csum(src + dst + struct.pack("!II", len(udp), 17) + udp) or 0xFFFF
		        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
		        ip6 = struct.pack("!IHBB", 0x60000000 | (i & 0xFFFFF), len(udp), 17, 64) + src + dst
		        frames.append(eth + b"\x86\xdd" + ip6 + udp)
		with open(out, "wb") as f:
		    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
		    for fr in frames:
		        f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)) + fr)
	EOF
}

if ! "$FEED" --print4 "$N4" >"$BENCH_TMP/p4.txt" || ! "$FEED" --print6 "$N6" >"$BENCH_TMP/p6.txt"; then
	bench_log "route_feed cannot list the prefixes"
	exit 1
fi
if ! gen_pcap 4 "$BENCH_TMP/p4.txt" "$BENCH_TMP/v4.pcap" ||
	! gen_pcap 6 "$BENCH_TMP/p6.txt" "$BENCH_TMP/v6.pcap"; then
	bench_log "cannot generate the traffic captures"
	exit 1
fi

# ---- peer: dpdk-testpmd macswap, net_null0 -> net_null1 (a sink) ---------------
# bench_testpmd (lib.sh), as in bench/xconnect.sh.

# ---- aetherd: load the table over BGP, then measure a window --------------------
bgp_routes() {
	bench_api /metrics | awk '/^aether_routes\{origin="bgp"\}/ { print $2 }'
}

# aetherd_run 4|6: sets AD_CPP, AD_MPPS, AD_LOAD_S (null when not measured).
aetherd_run() {
	local fam=$1 dir=$BENCH_TMP/run$1
	local cfg=$dir/route.yaml sum=$dir/summary.json log=$dir/aetherd.log port pid fpid
	local want=$((N4 + N6)) t0 t1 n=0 last=-1 tlast hz ok=1
	AD_CPP=null
	AD_MPPS=null
	AD_LOAD_S=null
	mkdir -p "$dir"
	port=$((20000 + RANDOM % 20000))
	cat >"$cfg" <<-EOF
		dataplane:
		  workers: 1
		  fib6: {max_routes: $FIB6_ROUTES, tbl8: $FIB6_TBL8}
		ports:
		  - {name: in, driver: null, rx_template: $BENCH_TMP/v$fam.pcap}
		  - {name: out, driver: devargs, devargs: "net_null_out,no-rx=1"}
		interfaces:
		  - {name: in, port: in, addresses: [10.0.0.1/24, "2001:db8::1/64"], punt: false}
		  - {name: out, port: out, addresses: [10.0.1.1/24, "2001:db8:1::1/64"], punt: false}
		neighbors:
		  - {interface: out, address: $NH4, mac: "02:00:00:00:01:02"}
		  - {interface: out, address: "$NH6", mac: "02:00:00:00:01:02"}
		bgp:
		  asn: 65001
		  router_id: 10.0.0.1
		  listen: {address: 127.0.0.1, port: $port}
		  neighbors:
		    - {address: 127.0.0.2, remote_as: 65002, passive: true, import: all,
		       families: [ipv4, ipv6]}
		api: {socket: $BENCH_TMP/api.sock, listen: none, token_file: $dir/api.token}
		log: {level: warning}
	EOF
	bench_aetherd_start "$dir" "$cfg" || return 1
	pid=$BENCH_PID

	t0=$(date +%s.%N)
	"$FEED" "$N4" "$N6" "$NH4" "$NH6" 127.0.0.2 127.0.0.1 "$port" 65002 >"$dir/feed.out" 2>&1 &
	fpid=$!
	tlast=$t0
	while :; do
		n=$(bgp_routes)
		[ "${n:-0}" -ge "$want" ] && break
		if [ "${n:-0}" != "$last" ]; then
			last=${n:-0}
			tlast=$(date +%s.%N)
		fi
		if ! kill -0 "$pid" 2>/dev/null || ! kill -0 "$fpid" 2>/dev/null ||
			[ "$(jq -n "$(date +%s.%N) - $t0 > $LOAD_TIMEOUT or
				$(date +%s.%N) - $tlast > $LOAD_STALL")" = true ]; then
			bench_log "IPv$fam: the FIB holds ${n:-no} of $want BGP routes; feed:" \
				"$(cat "$dir/feed.out"); aetherd log:"
			tail -n 20 "$log" >&2
			kill "$fpid" "$pid" 2>/dev/null
			wait "$fpid" "$pid" 2>/dev/null
			return 1
		fi
		sleep 0.2
	done
	t1=$(date +%s.%N)
	AD_LOAD_S=$(jq -n "$t1 - $t0")
	bench_log "IPv$fam: $want routes in the FIB after $(bench_round "$AD_LOAD_S") s"
	# The group pool and the jump index (docs/metrics.md).
	[ "$fam" = 6 ] && bench_log "IPv6 FIB: $(bench_api /metrics | awk -F'[{}="]+' '
		/^aether_fib6_groups\{/ { g = g (g ? ", " : "") $3 " " $4 + 0 }
		/^aether_fib6_index_groups\{/ { x = x (x ? ", " : "") $3 " " $4 + 0 }
		END { printf "groups %s; level-3 groups in the index: %s", g, x }')"

	bench_windows out || ok=0
	kill -TERM "$pid"
	wait "$pid"
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	if [ "$ok" = 0 ] || ! hz=$(jq -e '.tsc_hz' "$sum" 2>/dev/null); then
		bench_log "IPv$fam: no counters or no summary; log:"
		tail -n 20 "$log" >&2
		return 1
	fi
	bench_median_window "IPv$fam" "$hz"
	bench_log "IPv$fam whole run (table loading included): $(jq -c \
		'{rx_packets, tx_packets, cycles_per_packet, drops: .drops.total}' "$sum")"
	# Routed means sent out of the egress port: anything else is a broken setup.
	bench_routed "IPv$fam" "$BENCH_SPAN" out "$sum" || return 1
	AD_CPP=$(echo "$BENCH_WINDOW" | jq .cpp)
	AD_MPPS=$(echo "$BENCH_WINDOW" | jq .mpps)
	bench_log "IPv$fam: $(bench_round "$AD_CPP") cycles/packet, $(bench_round "$AD_MPPS") Mpps"
}

status=0
TP_CPP=null
TP_MPPS=null
bench_testpmd macswap net_null1,no-rx=1 || status=1
MS_CPP=$TP_CPP
MS_MPPS=$TP_MPPS

aetherd_run 4 || status=1
V4_CPP=$AD_CPP
V4_MPPS=$AD_MPPS
LOAD_S=$AD_LOAD_S
aetherd_run 6 || status=1
V6_CPP=$AD_CPP

RPS=null
[ "$LOAD_S" != null ] && RPS=$(jq -n "($N4 + $N6) / $LOAD_S | round")
# 1000000 -> 1M, 200000 -> 200k.
count() {
	if [ "$1" -ge 1000000 ] && [ $(($1 % 1000000)) -eq 0 ]; then
		echo "$(($1 / 1000000))M"
	elif [ "$1" -ge 1000 ] && [ $(($1 % 1000)) -eq 0 ]; then
		echo "$(($1 / 1000))k"
	else
		echo "$1"
	fi
}
n4k=$(count "$N4")
n6k=$(count "$N6")
bench_case "IPv4 routing cycles/packet, $n4k prefixes, 1 worker (VPP in CSIT: 136)" \
	cycles/packet "$(bench_round "$V4_CPP")" lower "$GOAL_CPP" "dpdk-testpmd macswap" \
	"$(bench_round "$MS_CPP")"
bench_case "IPv4 routing Mpps, $n4k prefixes, 1 worker" Mpps "$(bench_round "$V4_MPPS")" higher \
	null "dpdk-testpmd macswap" "$(bench_round "$MS_MPPS")"
bench_case "IPv6 routing cycles/packet, $n6k prefixes, 1 worker" cycles/packet \
	"$(bench_round "$V6_CPP")" lower "$GOAL_CPP" "dpdk-testpmd macswap" "$(bench_round "$MS_CPP")"
bench_case "BGP table install into the FIB ($n4k + $n6k routes)" routes/s "$RPS" higher null \
	"-" null
bench_finish || status=1
exit $status
