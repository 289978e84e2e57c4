#!/usr/bin/env bash
# BGP in the appliance: aetherd routes between client and server, and peers
# with a BIRD on the server side over the punt path (the session runs on the
# kernel mirror of the WAN interface). BIRD's routes land in aetherd's FIB
# with origin bgp and traffic follows them; a withdrawal takes them out; a
# static route for the same prefix wins over BGP's. A route whose next hop is
# on no connected subnet is resolved recursively over the operator's routes:
# out of the FIB until a static route covers its next hop, then installed via
# that route's gateway, and out again when that route goes.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping bird birdc jq
lab_require_aetherd

tap_plan 13

lab_topo_routed
tap_ok $? "topology client - router - server built"
dir=$(lab_tmpdir)
cfg=$dir/router-bgp.yaml
{
	cat "$LAB_ROUTER_CONFIG"
	cat <<EOF2
bgp:
  asn: 65001
  router_id: $LAB_ROUTER4_WAN
  listen: {address: $LAB_ROUTER4_WAN, port: 179}
  neighbors:
    - {address: $LAB_SERVER4, remote_as: 65002, hold_time: 9, import: all, export: none,
       families: [ipv4]}
EOF2
} >"$cfg"
# The server owns the addresses it announces.
lab_exec server ip addr add 198.51.100.7/32 dev lo && lab_exec server ip addr add 203.0.113.7/32 dev lo &&
	lab_exec server ip addr add 192.0.2.7/32 dev lo
cat >"$dir/bird.conf" <<EOF2
router id $LAB_SERVER4;
log "$dir/bird.log" all;
protocol device {}
protocol static s4 {
  ipv4;
  route 198.51.100.0/24 blackhole;
  route 203.0.113.0/24 blackhole;
  route 192.0.2.0/24 blackhole;
}
protocol bgp up {
  local $LAB_SERVER4 as 65002;
  neighbor $LAB_ROUTER4_WAN as 65001;
  connect delay time 1; connect retry time 1; error wait time 1, 2;
  hold time 9;
  ipv4 { import none;
    export filter { if net = 192.0.2.0/24 then bgp_next_hop = 10.99.0.1; accept; }; };
}
EOF2
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with routing and a BGP neighbour"
lab_bg server bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl"
established() {
	ip netns exec "$(lab_ns server)" birdc -s "$dir/bird.ctl" show protocols up | grep -q Established
}
lab_wait_for 30 established
rc=$?
[ $rc -eq 0 ] || tap_diag "$(cat "$dir/bird.log" 2>/dev/null | tail -5; tail -5 "$LAB_AETHERD_LOG")"
tap_ok $rc "BIRD establishes a session with aetherd over the punt path"

in_fib() {
	lab_ctl -j show routes "$1" | jq -e --arg nh "$LAB_SERVER4" \
		'.routes[0].origin == "bgp" and .routes[0].via == $nh' >/dev/null
}
lab_wait_for 15 in_fib 198.51.100.0/24 && in_fib 203.0.113.0/24
tap_ok $? "BIRD's routes are in the FIB with origin bgp"
lab_wait_for 5 lab_exec client ping -c 1 -W 1 198.51.100.7
tap_ok $? "traffic follows a BGP route"

curl -s --unix-socket "$LAB_API_SOCK" http://aetherd/metrics >"$dir/metrics.txt"
grep -q '^aether_routes{origin="bgp"} 2$' "$dir/metrics.txt" &&
	grep -Eq '^aether_neighbors\{state="reachable"\} [1-9]' "$dir/metrics.txt" &&
	{ ! command -v promtool >/dev/null || promtool check metrics <"$dir/metrics.txt"; }
tap_ok $? "/metrics counts the BGP routes and neighbours (promtool accepts it)"

lab_ctl route add 203.0.113.0/24 via blackhole >/dev/null &&
	lab_ctl -j show routes 203.0.113.0/24 | jq -e '.routes[0].origin == "api"' >/dev/null
tap_ok $? "a route set by the operator replaces BGP's for the same prefix"

# Recursive next hop: 192.0.2.0/24 comes with next hop 10.99.0.1, on no subnet.
in_rib() { lab_ctl -j show bgp routes "$1" | jq -e --arg nh "$2" \
	'.total == 1 and .routes[0].next_hop == $nh' >/dev/null; }
lab_wait_for 10 in_rib 192.0.2.0/24 10.99.0.1
not_in_fib() { ! lab_ctl -j show routes "$1" | jq -e '.routes | length > 0' >/dev/null; }
in_rib 192.0.2.0/24 10.99.0.1 && not_in_fib 192.0.2.0/24
tap_ok $? "a route whose next hop is on no subnet is in the RIB, not in the FIB"
lab_ctl route add 10.99.0.0/16 via "$LAB_SERVER4" >/dev/null
lab_wait_for 5 in_fib 192.0.2.0/24
tap_ok $? "a static route to its next hop: installed via that route's gateway"
lab_wait_for 5 lab_exec client ping -c 1 -W 1 192.0.2.7
tap_ok $? "traffic follows the recursively resolved route"
lab_ctl route del 10.99.0.0/16 >/dev/null
lab_wait_for 5 not_in_fib 192.0.2.0/24 && in_rib 192.0.2.0/24 10.99.0.1
tap_ok $? "that static route removed: the BGP route leaves the FIB, stays in the RIB"

ip netns exec "$(lab_ns server)" birdc -s "$dir/bird.ctl" disable s4 >/dev/null
gone() { ! lab_ctl -j show routes 198.51.100.0/24 | jq -e '.routes | length > 0' >/dev/null; }
lab_wait_for 15 gone
tap_ok $? "a withdrawal takes the route out of the FIB"
! lab_exec client ping -c 1 -W 1 198.51.100.7 >/dev/null 2>&1
tap_ok $? "and traffic to it is no longer forwarded"
tap_done
