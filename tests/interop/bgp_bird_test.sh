#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# BGP interop with BIRD 2: aetherd (--no-dataplane) and BIRD in one network
# namespace, peering over loopback addresses.
#
#   bird1 127.77.0.2  AS 65002  import all / export all on both sides
#   bird2 127.77.0.3  AS 65003  no policy on our side (RFC 8212: nothing in or out)
#   bird3 127.77.0.4  AS 65004  but configured here as AS 65099: wrong remote AS
#
# Checks that the sessions establish, IPv4 and IPv6 routes flow both ways with
# their attributes, withdrawals propagate, named import and export policies
# and RFC 8212 take effect, a wrong remote
# AS is refused with a NOTIFICATION, a peer stopped dead is dropped at
# hold-timer expiry with its routes, and a stop sends the RFC 9003 message.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

lab_require_root
lab_require_cmd bird birdc jq
lab_require_aetherd

tap_plan 17
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=127.77.0.1
ctl() { birdc -s "$dir/bird1.ctl" "$@"; }
ctl2() { birdc -s "$dir/bird2.ctl" "$@"; }
ctl3() { birdc -s "$dir/bird3.ctl" "$@"; }
nbr_state() { summary | jq -r --arg a "$1" '.neighbors[] | select(.address == $a) | .state'; }
established() { [ "$(nbr_state "$1")" = Established ]; }

cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  networks: [198.51.100.0/24, "2001:db8:100::/48"]
  neighbors:
    - {address: 127.77.0.2, remote_as: 65002, port: 2179, hold_time: 3, connect_retry: 1,
       import: from-bird, export: to-bird, next_hop_v6: "2001:db8::1"}
    - {address: 127.77.0.3, remote_as: 65003, port: 2180, hold_time: 3, connect_retry: 1}
    - {address: 127.77.0.4, remote_as: 65099, port: 2181, connect_retry: 1}
  prefix_lists:
    - {name: test-net, entries: [{prefix: 203.0.0.0/8, ge: 24, le: 24}]}
  policies:
    - name: from-bird
      rules:
        - {prefix_list: test-net, as_path: "^65002$", local_pref: 200, community_add: ["65001:42"]}
        - {community: "65002:666", action: reject}
        - {action: accept}
    - name: to-bird
      rules:
        - {prepend: 2, community_add: ["65001:100"]}
EOF2

# bird_conf N ADDR AS PORT BODY: one BIRD instance per session, since BIRD
# runs a single session per neighbour address at a time.
bird_conf() {
	cat >"$dir/bird$1.conf" <<EOF2
router id $2;
log "$dir/bird$1.log" all;
protocol device {}
protocol static s4 {
  ipv4;
  route 203.0.113.0/24 blackhole { bgp_community.add((65002,7)); bgp_large_community.add((65002,1,2)); };
  route 192.0.2.0/25 blackhole;
}
protocol static s6 {
  ipv6;
  route 2001:db8:200::/48 blackhole { bgp_community.add((65002,8)); };
}
protocol bgp peer {
  local $2 port $4 as $3;
  neighbor $US port 1179 as 65001;
  multihop; strict bind yes; connect delay time 1; connect retry time 1;
  error wait time 1, 2;
  $5
}
EOF2
}
bird_conf 1 127.77.0.2 65002 2179 'hold time 3; keepalive time 1;
  ipv4 { import all; export filter { if net = 203.0.113.0/24 then bgp_med = 50; accept; }; next hop self; };
  ipv6 { import all; export all; next hop address 2001:db8::2; };'
bird_conf 2 127.77.0.3 65003 2180 'ipv4 { import all; export all; next hop self; };'
bird_conf 3 127.77.0.4 65004 2181 'ipv4 { import all; export all; };'

lab_ns_add bgp || tap_bail "cannot create a namespace"
for a in 127.77.0.1 127.77.0.2 127.77.0.3 127.77.0.4; do
	lab_addr bgp lo "$a/32" || tap_bail "cannot add $a"
done

tap_check "aetherd starts with a bgp section (--no-dataplane)" start_aetherd "$dir/aetherd.yaml"
for n in 1 2 3; do
	lab_bg bgp bird -f -c "$dir/bird$n.conf" -s "$dir/bird$n.ctl"
	[ $n = 1 ] && BIRD_PID=$LAB_BG_PID
done

lab_wait_for 20 established 127.77.0.2
tap_check "session with BIRD is Established on our side" established 127.77.0.2
tap_check "session is Established on BIRD's side" \
	bash -c "birdc -s '$dir/bird1.ctl' show protocols peer | grep -q Established"

lab_wait_for 10 has_route 203.0.113.0/24
tap_check "IPv4 route from BIRD: AS path, MED, communities; import policy set LOCAL_PREF" \
	bash -c "$(declare -f lab_ctl route_json); AETHERCTL='$AETHERCTL' LAB_API_SOCK='$LAB_API_SOCK'
	route_json 203.0.113.0/24 | jq -e '.routes[0] | .as_path == \"65002\" and .med == 50
		and .next_hop == \"127.77.0.2\" and (.communities | index(\"65002:7\"))
		and .local_pref == 200 and (.communities | index(\"65001:42\"))
		and (.large_communities | index(\"65002:1:2\"))' >/dev/null"
lab_wait_for 10 has_route 2001:db8:200::/48
tap_check "IPv6 route from BIRD: AS path, next hop, community" \
	bash -c "$(declare -f lab_ctl route_json); AETHERCTL='$AETHERCTL' LAB_API_SOCK='$LAB_API_SOCK'
	route_json 2001:db8:200::/48 | jq -e '.routes[0] | .as_path == \"65002\"
		and .next_hop == \"2001:db8::2\" and (.communities | index(\"65002:8\"))' >/dev/null"

bird_has() {
	ctl show route "$1" all protocol peer | grep -q "BGP.as_path: 65001 65001 65001" &&
		ctl show route "$1" all protocol peer | grep -q "BGP.community: (65001,100)"
}
lab_wait_for 10 bird_has 198.51.100.0/24
tap_check "our IPv4 route reaches BIRD; export policy prepended and tagged it" \
	bird_has 198.51.100.0/24
tap_check "our IPv6 route reaches BIRD with our next hop" \
	bash -c "birdc -s '$dir/bird1.ctl' show route 2001:db8:100::/48 all protocol peer |
		grep -q 'BGP.next_hop: 2001:db8::1'"
tap_check "aetherctl show bgp summary renders the neighbors" \
	bash -c "$(declare -f lab_ctl); AETHERCTL='$AETHERCTL' LAB_API_SOCK='$LAB_API_SOCK'
	lab_ctl show bgp summary | grep -q '^127.77.0.2 .*Established'"

# RFC 8212: peer2 has no import or export policy on our side.
lab_wait_for 10 established 127.77.0.3
tap_diag "$(summary | jq -c '.neighbors[] | [.address, .state, .last_error]')"
rx2() { summary | jq -e '.neighbors[] | select(.address == "127.77.0.3") |
	.prefixes_received > 0 and .prefixes_accepted == 0' >/dev/null; }
lab_wait_for 10 rx2
tap_check "no import policy on an eBGP session: routes held, none accepted" rx2
tap_check "no export policy on an eBGP session: BIRD learns nothing from us" \
	bash -c "birdc -s '$dir/bird2.ctl' show protocols peer | grep -q Established &&
		! birdc -s '$dir/bird2.ctl' show route protocol peer | grep -q 198.51.100.0"
tap_check "adj-rib-in shows the rejected routes of that session" \
	bash -c "$(declare -f lab_ctl); AETHERCTL='$AETHERCTL' LAB_API_SOCK='$LAB_API_SOCK'
	lab_ctl -j show bgp adj-rib-in 127.77.0.3 | jq -e '.total > 0 and
		all(.routes[]; .accepted == false)' >/dev/null"

bad_as() { ctl3 show protocols all peer | grep -qi "bad peer as"; }
lab_wait_for 15 bad_as
tap_check "a wrong remote AS is refused with NOTIFICATION 2/2 (seen by BIRD)" bad_as

ctl disable s4 >/dev/null
lab_wait_for 10 gone 203.0.113.0/24
tap_check "a withdrawal from BIRD leaves our RIB" gone 203.0.113.0/24
tap_check "adj-rib-out to BIRD lists what we send" \
	bash -c "$(declare -f lab_ctl); AETHERCTL='$AETHERCTL' LAB_API_SOCK='$LAB_API_SOCK'
	lab_ctl -j show bgp adj-rib-out 127.77.0.2 | jq -e '[.routes[].prefix] |
		index(\"198.51.100.0/24\") and index(\"2001:db8:100::/48\")' >/dev/null"

# A peer that stops dead: no FIN, no NOTIFICATION; only the hold timer notices.
kill -STOP "$BIRD_PID"
down() { ! established 127.77.0.2; }
t0=$(date +%s)
lab_wait_for 10 down
t1=$(date +%s)
tap_diag "session dropped $((t1 - t0)) s after BIRD froze (hold time 3 s)"
tap_check "a peer stopped dead is dropped at hold-timer expiry, its routes withdrawn" \
	gone 2001:db8:200::/48
kill -CONT "$BIRD_PID"
lab_wait_for 20 established 127.77.0.2
tap_check "the session comes back when the peer resumes" established 127.77.0.2

lab_aetherd_stop
shut() { grep -q "aetherd is stopping" "$dir/bird1.log"; }
lab_wait_for 5 shut
tap_check "stopping aetherd sends an RFC 9003 shutdown message" shut

tap_done
