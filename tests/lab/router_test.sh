#!/usr/bin/env bash
# aetherd routing between two subnets, IPv4 and IPv6, over af_packet veths:
#
#   client c0 ---- d0 [aetherd] d1 ---- s0 server
#   10.N.1.2/24    10.N.1.1   10.N.2.1    10.N.2.2/24
#   fdN:1::2/64    fdN:1::1   fdN:2::1    fdN:2::2/64
#
# ping (the router and across it), traceroute showing the appliance hop,
# curl and iperf3 across, ICMP frag-needed against a smaller egress MTU,
# net unreachable without a route, the API's interfaces, routes and
# neighbours, and IPv6 route churn through the API that only fits because the
# FIB is rebuilt to free what withdrawn routes held. The same transfer through the Linux kernel routing the same lab
# is reported beside it.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

IPERF_SECONDS=${IPERF_SECONDS:-5}

lab_require_root
lab_require_cmd ip ethtool ping iperf3 jq curl traceroute
lab_require_aetherd

tap_plan 32

WAN_MTU=1400
LAB_WAN_MTU=$WAN_MTU lab_topo_routed
tap_ok $? "topology client - router - server built"
C4=$LAB_CLIENT4 R4L=$LAB_ROUTER4_LAN R4W=$LAB_ROUTER4_WAN S4=$LAB_SERVER4
R6L=$LAB_ROUTER6_LAN S6=$LAB_SERVER6
cfg=$LAB_ROUTER_CONFIG
# Neighbours are re-confirmed every 2 s, so a vanished one is noticed fast.
sed -i 's/^dataplane: {workers: 1}$/dataplane: {workers: 1, neighbor_reachable_time: 2}/' "$cfg"
# The LAN interface also sends router advertisements.
sed -i '/name: lan, port: lan/ s/}$/, router_advertisements: true, ra_interval: 10}/' "$cfg"
lab_exec client sysctl -qw net.ipv6.conf.c0.accept_ra=2
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with two routed interfaces"

ping_ok() {
	local out
	lab_wait_for 5 lab_exec "$1" ping -c 1 -W 1 "$2"
	out=$(lab_exec "$1" ping -q -c 20 -i 0.05 -W 2 "$2" 2>&1)
	echo "$out" | grep -q ' 0% packet loss' && return 0
	tap_diag "$out"
	return 1
}

ping_ok client "$R4L"
tap_ok $? "ping the router's IPv4 address, 0% loss"

# Router advertisements: the client autoconfigures an address in the LAN
# prefix (RFC 4862) and a default route via the router's link-local address.
lab_wait_for 15 sh -c "ip netns exec $(lab_ns client) ip -6 route show default proto ra | grep -q 'via fe80::' &&
	ip netns exec $(lab_ns client) ip -6 addr show dev c0 scope global dynamic | grep -q '${R6L%::1}:'"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(lab_exec client ip -6 addr show dev c0; lab_exec client ip -6 route)"
tap_ok $rc "router advertisements: SLAAC address and default route on the client"
ping_ok client "$S4"
tap_ok $? "ping IPv4 across the router, 0% loss"
ping_ok server "$C4"
tap_ok $? "ping IPv4 back from the server, 0% loss"
ping_ok client "$R6L"
tap_ok $? "ping the router's IPv6 address, 0% loss"
ping_ok client "$S6"
tap_ok $? "ping IPv6 across the router, 0% loss"

out=$(lab_exec client traceroute -n -q 1 -w 2 -m 4 "$S4" 2>&1)
echo "$out" | awk '$1 == 1 { h1 = $2 } $1 == 2 { h2 = $2 } END { exit !(h1 == "'"$R4L"'" && h2 == "'"$S4"'") }'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "traceroute shows the router as hop 1 and the server as hop 2"

out=$(lab_exec client traceroute6 -n -q 1 -w 2 -m 4 "$S6" 2>&1)
echo "$out" | awk '$1 == 1 { h1 = $2 } $1 == 2 { h2 = $2 } END { exit !(h1 == "'"$R6L"'" && h2 == "'"$S6"'") }'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "traceroute6 shows the router as hop 1 and the server as hop 2"

www=$(lab_tmpdir)/www
mkdir -p "$www" && head -c 300000 /dev/urandom >"$www/blob"
lab_bg server /usr/bin/python3 -m http.server --bind :: --directory "$www" 8080
lab_wait_for 5 lab_exec server sh -c "ss -ltn | grep -q ':8080 '"
got=$(lab_exec client curl -s -m 10 "http://$S4:8080/blob" | md5sum | cut -d' ' -f1)
want=$(md5sum <"$www/blob" | cut -d' ' -f1)
[ "$got" = "$want" ]
tap_ok $? "curl over IPv4 across the router gets the file intact"
got=$(lab_exec client curl -s -m 10 "http://[$S6]:8080/blob" | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ]
tap_ok $? "curl over IPv6 across the router gets the file intact"

iperf_gbps() {
	local json
	json=$(lab_exec client timeout $((IPERF_SECONDS + 15)) iperf3 -c "$1" \
		-t "$IPERF_SECONDS" -J --connect-timeout 3000 2>&1)
	echo "$json" | jq -er '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100' \
		2>/dev/null
}
lab_bg server iperf3 -s
lab_wait_for 5 lab_exec server sh -c "ss -ltn | grep -q ':5201 '"
AD_GBPS=$(iperf_gbps "$S4")
[ -n "$AD_GBPS" ] && jq -ne "$AD_GBPS > 0.3" >/dev/null
tap_ok $? "iperf3 TCP ${IPERF_SECONDS}s over IPv4 through aetherd (${AD_GBPS:-?} Gbit/s)"

# DF set and too big for the WAN MTU: ICMP frag-needed with the MTU, which
# the client's kernel then caches for the destination.
lab_exec client ping -c 2 -W 1 -M do -s $((WAN_MTU + 72)) "$S4" >/dev/null 2>&1
lab_exec client ip route get "$S4" | grep -q "mtu $WAN_MTU"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(lab_exec client ip route get "$S4")"
tap_ok $rc "oversize DF packet gets ICMP frag-needed with MTU $WAN_MTU"

lab_exec client ping -c 2 -W 1 -s $((WAN_MTU + 40)) -M do "$S6" >/dev/null 2>&1
lab_exec client ip -6 route get "$S6" | grep -q "mtu $WAN_MTU"
tap_ok $? "oversize IPv6 packet gets ICMPv6 packet-too-big with MTU $WAN_MTU"

# Without DF the router fragments for the smaller WAN MTU; the server
# reassembles and answers.
out=$(lab_exec client ping -c 5 -i 0.2 -W 2 -M dont -s $((WAN_MTU + 200)) "$S4" 2>&1)
echo "$out" | grep -q ' 0% packet loss'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "packets over the WAN MTU without DF are fragmented and arrive"

out=$(lab_exec client ping -c 1 -W 2 "$LAB_NET_PREFIX.99.1" 2>&1)
echo "$out" | grep -qi 'unreachable'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "no route: ICMP destination unreachable"

lab_ctl -j show interfaces 2>/dev/null | jq -e --arg a "$R4L/24" \
	'[.interfaces[] | select(.name == "lan" and (.addresses | index($a)))] | length == 1' >/dev/null
tap_ok $? "API lists the interfaces with their addresses"
lab_ctl -j show routes 2>/dev/null | jq -e --arg p "$LAB_NET_PREFIX.2.0/24" \
	'[.routes[] | select(.prefix == $p and .origin == "connected")] | length == 1' >/dev/null
tap_ok $? "API lists the connected routes"
lab_ctl -j show neighbors 2>/dev/null | jq -e --arg c "$C4" --arg s "$S4" \
	'[.neighbors[] | select((.address == $c or .address == $s) and .state == "reachable")] | length == 2' >/dev/null
tap_ok $? "API lists the resolved neighbours on both sides"

# Routes changed through the API while a 10 ms ping runs: nothing lost.
lab_exec server ip addr add 198.51.100.7/32 dev lo
lab_ctl route add 198.51.100.0/24 via "$S4" >/dev/null
lab_ctl show routes 198.51.100.0/24 | grep -q "api"
tap_ok $? "aetherctl route add installs a runtime route"
lab_bg client ping -q -c 300 -i 0.01 -W 1 198.51.100.7
ping_pid=$LAB_BG_PID
ping_log=$LAB_BG_LOG
for i in 1 2 3 4 5 6 7 8 9 10; do
	lab_ctl route add 198.51.100.0/24 via "$S4" >/dev/null || break
	lab_ctl route add 198.51.0.0/16 via "$S4" >/dev/null || break
	lab_ctl route del 198.51.0.0/16 >/dev/null || break
	sleep 0.2
done
wait "$ping_pid"
grep -q ' 0% packet loss' "$ping_log"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(cat "$ping_log")"
tap_ok $rc "30 route changes during a 10 ms ping lose nothing"
lab_ctl route del 198.51.100.0/24 >/dev/null &&
	! lab_exec client ping -c 1 -W 1 198.51.100.7 >/dev/null 2>&1
tap_ok $? "aetherctl route del removes it (unreachable again)"

# ECMP: two next hops on the WAN subnet with their own MACs (the server and
# a macvlan beside it); 64 UDP flows must use both (that one flow keeps one
# path is checked in the ip_nodes unit test).
lab_exec server sysctl -qw net.ipv4.conf.all.arp_ignore=1 &&
	lab_exec server ip link add s0m link s0 type macvlan mode bridge &&
	lab_exec server ip addr add "$LAB_NET_PREFIX.2.3/24" dev s0m &&
	lab_exec server ip link set s0m up &&
	lab_ctl route add 198.51.100.0/24 via "$S4,$LAB_NET_PREFIX.2.3" >/dev/null &&
	lab_ctl -j show routes 198.51.100.0/24 | jq -e '.routes[0].type == "ecmp" and
		(.routes[0].members | length) == 2' >/dev/null
tap_ok $? "route with two equal-cost next hops installed"
rx() { lab_exec server cat "/sys/class/net/$1/statistics/rx_packets"; }
flows() {
	lab_exec client /usr/bin/python3 -c '
import socket, sys
for port in range(20000, 20064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("", port))
    for _ in range(int(sys.argv[1])):
        s.sendto(b"x" * 64, ("198.51.100.7", 9))
    s.close()' "$1"
}
flows 1 && sleep 1 # resolve both next hops first
a0=$(rx s0) m0=$(rx s0m)
flows 4
sleep 0.5
a1=$(rx s0) m1=$(rx s0m)
via_m=$((m1 - m0)) via_s=$((a1 - a0 - (m1 - m0)))
tap_diag "ECMP: $via_s datagrams to the server's MAC, $via_m to the macvlan's"
[ "$via_m" -ge 16 ] && [ "$via_s" -ge 16 ] && [ $((via_m + via_s)) -ge 256 ]
tap_ok $? "64 flows spread over both next hops"

# Neighbour aging: the server goes silent; after its reachable time and
# three unanswered probes it is failed, and traffic to it gets host
# unreachable. Back, it is resolved again.
lab_exec server ip link set s0 down
lab_wait_for 15 sh -c "$AETHERCTL -s $LAB_API_SOCK -j show neighbors | jq -e --arg s $S4 \
	'[.neighbors[] | select(.address == \$s and .state == \"failed\")] | length == 1'"
tap_ok $? "a silent neighbour is probed and marked failed"
out=$(lab_exec client ping -c 3 -i 0.3 -W 2 "$S4" 2>&1)
echo "$out" | grep -q 'Host Unreachable'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "traffic to the failed neighbour gets ICMP host unreachable"
lab_exec server ip link set s0 up &&
	lab_exec server ip route replace default via "$R4W"
lab_wait_for 20 lab_exec client ping -c 1 -W 1 "$S4"
tap_ok $? "the neighbour is resolved again when it comes back"

lab_aetherd_stop
tap_ok $? "aetherd stopped cleanly"

# IPv6 route churn with a small FIB (256 groups, a /48 takes two here):
# /48s go in until the FIB refuses, all go out, and all go in again while the
# worker forwards. Deletes give the groups back, so the second round fits;
# a neighbour learned while the /48s are out (a link-local host route takes
# up to 13 groups) may keep a few of them out.
sed 's/^dataplane: {\(.*\)}$/dataplane: {\1, fib6: {max_routes: 1024, tbl8: 256}}/' "$cfg" \
	>"$(lab_tmpdir)/churn.yaml"
churn_add() {
	local k n=0
	for ((k = 0; k < $1; k++)); do
		lab_ctl route add "2a00:$(printf %x $((k + 1)))::/48" via "$S6" >/dev/null 2>&1 &&
			n=$((n + 1))
	done
	echo "$n"
}
# The server's link went down above, which took its IPv6 address and route.
lab_exec server ip -6 addr replace "$S6/64" dev s0 nodad &&
	lab_exec server ip -6 route replace default via "$LAB_ROUTER6_WAN" &&
	lab_aetherd_start dut "$(lab_tmpdir)/churn.yaml" &&
	lab_wait_for 10 lab_exec client ping -6 -c 1 -W 1 "$S6"
tap_ok $? "aetherd restarted with a 256-group IPv6 FIB"
first=$(churn_add 200)
for ((k = 0; k < 200; k++)); do
	lab_ctl route del "2a00:$(printf %x $((k + 1)))::/48" >/dev/null 2>&1
done
again=$(churn_add "$first")
[ "$first" -gt 40 ] && [ "$first" -lt 200 ] && [ "${again:-0}" -le "$first" ] &&
	[ "${again:-0}" -ge $((first - 7)) ] && ping_ok client "$S6"
tap_ok $? "IPv6 /48s back in after a withdrawal of all $first (${again:-?} taken), traffic flows"
lab_aetherd_stop

# The same lab routed by the Linux kernel, for comparison.
lab_exec dut sysctl -qw net.ipv4.ip_forward=1 &&
	lab_exec dut ip addr add "$R4L/24" dev d0 && lab_exec dut ip addr add "$R4W/24" dev d1 &&
	lab_exec client ip neigh flush all && lab_exec server ip neigh flush all
KR_GBPS=$(iperf_gbps "$S4")
[ -n "$KR_GBPS" ]
tap_ok $? "iperf3 through the Linux kernel router (${KR_GBPS:-?} Gbit/s)"
tap_diag "iperf3 IPv4 routed: aetherd ${AD_GBPS:-?} Gbit/s, linux kernel ${KR_GBPS:-?} Gbit/s"
mkdir -p "$AP_SRC/tests/artifacts"
jq -n --arg d "$(date -Iseconds)" --argjson a "${AD_GBPS:-null}" --argjson k "${KR_GBPS:-null}" \
	'{test: "lab-router", date: $d, unit: "Gbit/s", aetherd: $a, linux_kernel: $k}' \
	>"$AP_SRC/tests/artifacts/lab-router.json"
tap_done
