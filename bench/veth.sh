#!/usr/bin/env bash
# veth: small-packet IPv4 forwarding rate through a veth lab, aetherd against
# the Linux kernel routing the same lab in the same run.
#
#   gen g0 ---- r0 [router] r1 ---- s0 sink
#   10.N.1.2/24   10.N.1.1  10.N.2.1   10.N.2.2/24      (10.N.3.0/24 behind s0)
#
# Cases, one router at a time in the same namespaces:
#   - aetherd routing with two af_packet ports, one worker;
#   - aetherd routing with two af_xdp ports, one worker (null, with the reason
#     in the log, when af_xdp cannot run on veth here);
#   - the kernel: ip_forward in the router namespace, same addresses, route
#     and neighbour (the peer, and the goal for both aetherd cases);
#   - stateful security, aetherd with af_packet ports and conntrack, a
#     firewall of 1000 rules (bench_fw_rules: the generator's packets miss
#     998 and match the 999th) and masquerade on the egress interface,
#     against the kernel with the same in nftables (a forward chain accepting
#     established and related packets first, then the zone pair's 1000 rules;
#     a postrouting chain masquerading out of r1), run after the plain kernel
#     case in the same namespace. The sink never answers, so every packet is
#     "new" to both conntracks and walks the rules.
#
# Generator: bench/src/veth_gen in the gen namespace, one process, sending
# 64-byte frames (60 on the wire plus FCS) through an AF_PACKET TX ring that
# bypasses the qdisc, round robin over 256 UDP flows (source address, source
# port and destination address vary), addressed to the router's MAC, so no
# ARP is on the path. It sends as fast as the kernel takes frames and stops by
# itself after the warm-up and the window. (trafgen gives up on the first
# EAGAIN, which a veth answers as soon as its peer falls behind.)
#
# Sink: the destinations are in 10.N.3.0/24, routed by the router to the sink
# (static neighbour, so the run is steady state from the first packet); the
# sink does not forward, so its kernel drops each packet after one route
# lookup, silently (no ICMP back through the router). Received = the delta of
# s0's rx_packets over the window; offered = g0's tx_packets + tx_dropped
# (veth counts a frame its peer refused as a TX drop).
#
# CPUs: with two or more, CPU 0 carries the generator and the sink, CPU 1 the
# router. aetherd's worker lcore lands on the second CPU of its affinity (its
# main lcore, on the first, only runs the control plane). A veth's receive
# work runs on the CPU that sent into it, so RPS places it: the sink's (s0) on
# CPU 0, for every case; the router's ingress (r0) on CPU 1 for the kernel,
# since that softirq is the kernel's whole forwarding path (without it the
# kernel would forward inside the generator's system calls, on CPU 0, and
# leave CPU 1 idle). For aetherd, r0's receive work stays on the sending CPU by
# default: it is the kernel handing frames to the port, what a NIC does by DMA
# for a DPDK driver. With af_xdp veth runs it (the XDP program, the copy into
# the socket) in a NAPI poll on the sending CPU whatever RPS says; with
# af_packet it is the copy into the PACKET_MMAP ring. BENCH_VETH_RPS=all steers
# r0 to the router's CPU for aetherd too, where it shares the core with the
# busy-polling worker and the two take turns (the softirq that fills the
# port's ring, left to ksoftirqd under load, competes with the poll loop):
# af_packet then forwards a varying share of what is offered, much of the
# rest dropped in that core's backlog. BENCH_VETH_RPS=none steers nothing.
#
# Figures: Mpps received at the sink (goal: at least the kernel's rate in the
# same run) and the share of offered packets that reached the sink. On a
# machine with two cores the generator alone may not saturate a router; the
# offered rate is logged beside each case.
#
# BENCH_SECONDS (default 5) is the measurement window, BENCH_WARMUP (default 2)
# the seconds of traffic before it.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# The lab helpers (namespaces, veths, aetherd start/stop, cleanup trap).
# shellcheck source=../tests/lab/lib.sh
. "$AP_SRC/tests/lab/lib.sh"
# Both libraries install an EXIT trap; keep both cleanups.
trap 'lab_cleanup; rm -rf "$BENCH_TMP"' EXIT

SECONDS_RUN=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-2}
FLOWS=256
GEN_DPORT=9 # veth_gen's UDP destination port
FW_RULES=1000
RPS=${BENCH_VETH_RPS:-kernel}
case $RPS in
kernel | all | none) ;;
*)
	bench_log "BENCH_VETH_RPS must be kernel, all or none"
	exit 1
	;;
esac
bench_init veth

for c in ip ethtool taskset timeout jq nft python3; do
	if ! command -v "$c" >/dev/null 2>&1; then
		bench_log "$c not installed (scripts/install-deps installs it)"
		exit 1
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	bench_log "needs root (network namespaces)"
	exit 1
fi

GEN_CPU=
ROUTER_CPU=
if [ "$(nproc)" -ge 2 ]; then
	GEN_CPU=0
	ROUTER_CPU=1
fi

# ---- the lab ------------------------------------------------------------------
x=$((RANDOM % 200 + 20))
GEN4=10.$x.1.2 R4_IN=10.$x.1.1 R4_OUT=10.$x.2.1 SINK4=10.$x.2.2 FAR=10.$x.3
# Fixed locally administered MACs, so the generator's frames and the static
# neighbour need no lookup.
GEN_MAC=02:a7:00:00:00:01 R0_MAC=02:a7:00:00:00:02
R1_MAC=02:a7:00:00:00:03 SINK_MAC=02:a7:00:00:00:04

lab_build() {
	lab_ns_add gen && lab_ns_add rtr && lab_ns_add sink &&
		lab_veth gen g0 rtr r0 && lab_veth rtr r1 sink s0 || return 1
	ip -n "$(lab_ns gen)" link set g0 address "$GEN_MAC" &&
		ip -n "$(lab_ns rtr)" link set r0 address "$R0_MAC" &&
		ip -n "$(lab_ns rtr)" link set r1 address "$R1_MAC" &&
		ip -n "$(lab_ns sink)" link set s0 address "$SINK_MAC" || return 1
	lab_addr gen g0 "$GEN4/24" && lab_addr sink s0 "$SINK4/24" || return 1
	# No IPv6 chatter (router solicitations, MLD) on the measured links.
	local ns
	for ns in gen rtr sink; do
		lab_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || return 1
	done
	lab_exec sink sysctl -qw net.ipv4.ip_forward=0 || return 1
	# See "CPUs" above.
	if [ -n "$GEN_CPU" ] && [ "$RPS" != none ] &&
		! lab_exec sink sh -c "printf %x $((1 << GEN_CPU)) >/sys/class/net/s0/queues/rx-0/rps_cpus"; then
		bench_log "RPS not available: receive work stays on the sending CPU"
		RPS=none
	fi
}

# steer_ingress yes|no: the router's ingress receive work (r0) to the
# router's CPU, or back to the sending one.
steer_ingress() {
	local mask=0
	[ -n "$ROUTER_CPU" ] && [ "$RPS" != none ] && [ "$1" = yes ] && mask=$((1 << ROUTER_CPU))
	lab_exec rtr sh -c "printf %x $mask >/sys/class/net/r0/queues/rx-0/rps_cpus" 2>/dev/null
	return 0
}

# ifstat NS IF COUNTER
ifstat() {
	lab_exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# measure NAME: run the generator over warm-up + window against whatever
# router is up; sets RX_MPPS, SHARE, OFFERED_MPPS (null when it fails).
measure() {
	local name=$1 pin=() tpid t0 t1 rx0 rx1 tx0 tx1 dr0 dr1 offered r0 r1
	RX_MPPS=null
	SHARE=null
	OFFERED_MPPS=null
	[ -n "$GEN_CPU" ] && pin=(taskset -c "$GEN_CPU")
	timeout -k 5 $((WARMUP + SECONDS_RUN + 30)) \
		ip netns exec "$(lab_ns gen)" "${pin[@]}" "$GEN" g0 "$GEN_MAC" "$R0_MAC" \
		"10.$x.1.100" "$FAR.1" "$FLOWS" $((WARMUP + SECONDS_RUN + 1)) \
		>"$BENCH_TMP/gen-$name.json" 2>"$BENCH_TMP/gen-$name.err" &
	tpid=$!
	LAB_PIDS+=("$tpid")
	sleep "$WARMUP"
	t0=$(date +%s.%N)
	rx0=$(ifstat sink s0 rx_packets) tx0=$(ifstat gen g0 tx_packets) dr0=$(ifstat gen g0 tx_dropped)
	r0=$(router_counters)
	sleep "$SECONDS_RUN"
	t1=$(date +%s.%N)
	rx1=$(ifstat sink s0 rx_packets) tx1=$(ifstat gen g0 tx_packets) dr1=$(ifstat gen g0 tx_dropped)
	r1=$(router_counters)
	wait "$tpid"
	if [ -z "$rx0" ] || [ -z "$rx1" ] || [ -z "$tx0" ] || [ -z "$tx1" ]; then
		bench_log "$name: could not read the interface counters"
		return 1
	fi
	offered=$((tx1 - tx0 + dr1 - dr0))
	if [ "$offered" -le 0 ]; then
		# Seen once with af_xdp (while XDP runs on r0, veth takes g0's
		# TX count from r0's XDP receive counters). Fall back to the
		# generator's own average rate over its whole run.
		bench_log "$name: g0's counters show nothing sent over the window (tx_packets $tx0 -> $tx1, tx_dropped $dr0 -> $dr1); using the generator's average rate"
		offered=$(jq -r --argjson w "$(jq -n "$t1 - $t0")" '.mpps * 1e6 * $w | floor' \
			"$BENCH_TMP/gen-$name.json" 2>/dev/null)
		case $offered in
		'' | 0 | null | -*)
			bench_log "$name: the generator sent nothing; its output:"
			cat "$BENCH_TMP/gen-$name.json" "$BENCH_TMP/gen-$name.err" >&2
			return 1
			;;
		esac
	fi
	RX_MPPS=$(jq -n "$((rx1 - rx0)) / ($t1 - $t0) / 1e6")
	OFFERED_MPPS=$(jq -n "$offered / ($t1 - $t0) / 1e6")
	SHARE=$(jq -n "100 * $((rx1 - rx0)) / $offered")
	bench_log "$name: offered $offered packets ($(bench_round "$OFFERED_MPPS" 3) Mpps, $((dr1 - dr0)) refused by the router's veth), sink received $((rx1 - rx0)) ($(bench_round "$RX_MPPS" 3) Mpps, $(bench_round "$SHARE" 1) %)"
	# Where the rest went: the router's veths over the same window.
	bench_log "$name: router veths over the window: $(jq -rn --argjson a "$r0" --argjson b "$r1" \
		'[$b | to_entries[] | "\(.key) \(.value - $a[.key])"] | join(", ")')"
	[ "$((rx1 - rx0))" -gt 0 ]
}

# The router's veth counters as a JSON object (read by one shell in the
# router's namespace, hence the single quotes).
# shellcheck disable=SC2016
router_counters() {
	lab_exec rtr sh -c 'cd /sys/class/net && printf "{\"r0 rx\": %s, \"r0 rx_dropped\": %s, \"r1 tx\": %s, \"r1 tx_dropped\": %s}" \
		"$(cat r0/statistics/rx_packets)" "$(cat r0/statistics/rx_dropped)" \
		"$(cat r1/statistics/tx_packets)" "$(cat r1/statistics/tx_dropped)"'
}

# ---- aetherd --------------------------------------------------------------------
# aetherd_case DRIVER [stateful]: aetherd routing with two DRIVER ports; with
# "stateful", also conntrack, the 1000-rule firewall and masquerade on the
# egress interface (the same configuration as the kernel's nftables case).
aetherd_case() {
	local driver=$1 mode=${2:-} cfg=$BENCH_TMP/router-$1${2:-}.yaml name=aetherd-$1${2:+-$2} rc
	cat >"$cfg" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: in, driver: $driver, iface: r0}
		  - {name: out, driver: $driver, iface: r1}
		interfaces:
		  - {name: in, port: in, addresses: [$R4_IN/24], punt: false}
		  - {name: out, port: out, addresses: [$R4_OUT/24], punt: false}
		routes:
		  - {prefix: $FAR.0/24, via: $SINK4}
		neighbors:
		  - {interface: out, address: $SINK4, mac: "$SINK_MAC"}
		api: {listen: none}
		log: {level: warning}
	EOF
	if [ "$mode" = stateful ]; then
		bench_fw_rules aetherd "$FW_RULES" "$GEN_DPORT" >>"$cfg" &&
			echo "nat: {masquerade: [{interface: out}]}" >>"$cfg" || return 1
	fi
	# Creating an AF_XDP socket right after another program left the
	# interface can fail once: detach and try a second time.
	if ! lab_aetherd_start rtr "$cfg" 2>"$BENCH_TMP/start-$name.err" &&
		! { [ "$driver" = af_xdp ] && xdp_off && sleep 1 &&
			lab_aetherd_start rtr "$cfg" 2>"$BENCH_TMP/start-$name.err"; }; then
		bench_log "aetherd with $driver ports did not start:"
		tail -n 15 "$BENCH_TMP/start-$name.err" >&2
		return 1
	fi
	# The router must own the MAC the generator sends to.
	if ! lab_ctl -j show interfaces | jq -e --arg m "$R0_MAC" \
		'[.interfaces[] | select(.name == "in") | .mac | ascii_downcase] == [$m]' >/dev/null 2>&1; then
		bench_log "aetherd $driver: interface 'in' does not carry r0's MAC $R0_MAC"
		lab_ctl show interfaces >&2
		lab_aetherd_stop
		return 1
	fi
	if [ "$RPS" = all ]; then steer_ingress yes; else steer_ingress no; fi
	measure "$name"
	rc=$?
	[ "$mode" = stateful ] && bench_log "$name: conntrack $(lab_ctl -j show conntrack 2>/dev/null |
		jq -c .stats), firewall $(lab_ctl -j show firewall 2>/dev/null | jq -c .verdicts)"
	# Its own view: per-port counters and drops by reason. Frames the kernel
	# dropped before a port's ring (full PACKET_MMAP ring, full XSK ring)
	# may not show here; the router's veth counters above show them.
	{ lab_ctl show ports && lab_ctl show stats; } 2>/dev/null |
		sed "/^$/d; s/^/[veth] $name: /" >&2
	lab_aetherd_stop || bench_log "$name did not stop cleanly"
	xdp_off
	return $rc
}

# Detach what af_xdp left on the router's veths (a new program can otherwise
# fail to attach once, right after the previous one went).
xdp_off() {
	lab_exec rtr ip link set dev r0 xdp off 2>/dev/null
	lab_exec rtr ip link set dev r1 xdp off 2>/dev/null
	return 0
}

# ---- the kernel ---------------------------------------------------------------
kernel_case() {
	if ! { lab_addr rtr r0 "$R4_IN/24" && lab_addr rtr r1 "$R4_OUT/24" &&
		lab_exec rtr ip neigh replace "$SINK4" lladdr "$SINK_MAC" dev r1 nud permanent &&
		lab_exec rtr ip route add "$FAR.0/24" via "$SINK4" &&
		lab_exec rtr sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r0.rp_filter=0 \
			net.ipv4.ip_forward=1; }; then
		bench_log "kernel router: setup failed"
		return 1
	fi
	steer_ingress yes
	measure kernel
}

# kernel_stateful_case: the kernel router of kernel_case with nftables:
# conntrack, the 1000-rule forward filter of bench_fw_rules and masquerade on
# the egress veth, in the router's namespace.
kernel_stateful_case() {
	if ! bench_fw_rules nft "$FW_RULES" "$GEN_DPORT" r0 r1 >"$BENCH_TMP/ruleset.nft"; then
		bench_log "nftables: could not write the ruleset"
		return 1
	fi
	cat >>"$BENCH_TMP/ruleset.nft" <<-'EOF'
		table ip apbench_nat {
		  chain postrouting {
		    type nat hook postrouting priority srcnat;
		    oifname "r1" masquerade
		  }
		}
	EOF
	if ! lab_exec rtr nft -f "$BENCH_TMP/ruleset.nft"; then
		bench_log "nftables: the ruleset did not load"
		return 1
	fi
	measure kernel-nft
	local rc=$?
	bench_log "kernel-nft: $(lab_exec rtr cat /proc/sys/net/netfilter/nf_conntrack_count) conntrack entries, $(lab_exec rtr nft list ruleset | grep -c accept) accept rules loaded"
	lab_exec rtr nft flush ruleset
	return $rc
}

GEN=$AP_BUILD/bench/src/veth_gen
bench_built "$GEN"

status=0
if ! lab_build; then
	bench_log "could not build the lab"
	exit 1
fi
PK_MPPS=null PK_SHARE=null XDP_MPPS=null XDP_SHARE=null K_MPPS=null K_SHARE=null
ST_MPPS=null ST_SHARE=null KN_MPPS=null KN_SHARE=null
if [ -x "$AETHERD" ] && [ -x "$AETHERCTL" ]; then
	if aetherd_case af_packet; then
		PK_MPPS=$RX_MPPS PK_SHARE=$SHARE
	else
		status=1
	fi
	# af_xdp may be unusable on veth on some kernels: a logged null, not a failure.
	if aetherd_case af_xdp; then
		XDP_MPPS=$RX_MPPS XDP_SHARE=$SHARE
	else
		bench_log "af_xdp case reported as null (see above)"
	fi
	if aetherd_case af_packet stateful; then
		ST_MPPS=$RX_MPPS ST_SHARE=$SHARE
	else
		status=1
	fi
else
	bench_log "aetherd or aetherctl not built ($AETHERD)"
	status=1
fi
# Last, so the kernel's addresses and forwarding never see aetherd's runs.
if kernel_case; then
	K_MPPS=$RX_MPPS K_SHARE=$SHARE
else
	status=1
fi
if kernel_stateful_case; then
	KN_MPPS=$RX_MPPS KN_SHARE=$SHARE
else
	status=1
fi

goal=$(bench_round "$K_MPPS" 3)
bench_case "IPv4 64 B forwarding via veth, aetherd af_packet, 1 worker" Mpps \
	"$(bench_round "$PK_MPPS" 3)" higher "$goal" "linux kernel (ip_forward)" "$goal"
bench_case "IPv4 64 B forwarding via veth, aetherd af_xdp, 1 worker" Mpps \
	"$(bench_round "$XDP_MPPS" 3)" higher "$goal" "linux kernel (ip_forward)" "$goal"
bench_case "share of offered packets forwarded, aetherd af_packet" "%" \
	"$(bench_round "$PK_SHARE" 1)" higher null "linux kernel (ip_forward)" "$(bench_round "$K_SHARE" 1)"
bench_case "share of offered packets forwarded, aetherd af_xdp" "%" \
	"$(bench_round "$XDP_SHARE" 1)" higher null "linux kernel (ip_forward)" "$(bench_round "$K_SHARE" 1)"
KN=$(bench_round "$KN_MPPS" 3)
KN_PEER="linux kernel (nftables: conntrack, 1000 rules, masquerade)"
bench_case "IPv4 64 B via veth, conntrack + firewall (1000 rules) + masquerade, aetherd af_packet, 1 worker" \
	Mpps "$(bench_round "$ST_MPPS" 3)" higher "$KN" "$KN_PEER" "$KN"
bench_case "share of offered packets forwarded, aetherd af_packet stateful" "%" \
	"$(bench_round "$ST_SHARE" 1)" higher null "$KN_PEER" "$(bench_round "$KN_SHARE" 1)"
bench_finish || status=1
exit $status
