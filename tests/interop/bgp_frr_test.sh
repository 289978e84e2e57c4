#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# BGP interop with FRR bgpd (standalone, no zebra): aetherd (--no-dataplane)
# and bgpd in one network namespace, peering over addresses on its loopback
# (10.77.0.1 us, 10.77.0.4 FRR; FRR refuses 127/8 next hops).
#
# Checks that the session establishes, IPv4 and IPv6 routes flow both ways
# with AS path, MED, communities and large communities, a withdrawal
# propagates, and a wrong remote AS on FRR's side ends the session with
# NOTIFICATION 2/2.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

lab_require_root
lab_require_cmd vtysh jq
[ -x /usr/lib/frr/bgpd ] || tap_skip_all "FRR bgpd not installed"
lab_require_aetherd

tap_plan 9
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=10.77.0.1
FRR=10.77.0.4
vty() { vtysh --vty_socket "$dir/vty" -c "$@"; }

cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  networks: [198.51.100.0/24, "2001:db8:100::/48"]
  neighbors:
    - {address: $FRR, remote_as: 65004, port: 2183, hold_time: 9, connect_retry: 1,
       import: all, export: all, next_hop_v6: "2001:db8::1"}
EOF2

# frr_conf REMOTE_AS: bgpd's configuration, with the AS it expects from us.
frr_conf() {
	cat >"$dir/bgpd.conf" <<EOF2
frr defaults traditional
hostname frr-peer
log file $dir/bgpd.log informational
router bgp 65004
 bgp router-id $FRR
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor $US remote-as $1
 neighbor $US port 1179
 neighbor $US ebgp-multihop 8
 neighbor $US update-source $FRR
 neighbor $US timers 3 9
 neighbor $US timers connect 1
 address-family ipv4 unicast
  network 203.0.113.0/24 route-map V4
 exit-address-family
 address-family ipv6 unicast
  neighbor $US activate
  network 2001:db8:200::/48 route-map V6
 exit-address-family
route-map V4 permit 10
 set metric 50
 set community 65004:7
 set large-community 65004:1:2
route-map V6 permit 10
 set community 65004:8
EOF2
}

start_frr() {
	mkdir -p "$dir/vty" && chown frr:frr "$dir/vty" "$dir" && chmod 755 "$dir" || return 1
	lab_bg bgp /usr/lib/frr/bgpd -f "$dir/bgpd.conf" -i "$dir/bgpd.pid" -z "$dir/zserv" \
		--vty_socket "$dir/vty" -P 0 -p 2183 -l "$FRR" -Z -n -S
	FRR_PID=$LAB_BG_PID
}

lab_ns_add bgp || tap_bail "cannot create a namespace"
lab_addr bgp lo "$US/32" && lab_addr bgp lo "$FRR/32" || tap_bail "cannot add addresses"

frr_conf 65001
tap_check "aetherd starts with a bgp section (--no-dataplane)" start_aetherd "$dir/aetherd.yaml"
start_frr || tap_bail "cannot start bgpd"

lab_wait_for 30 established
tap_check "session with FRR is Established on our side" established
frr_up() { vty "show bgp neighbors $US json" | jq -e --arg a "$US" '.[$a].bgpState == "Established"' >/dev/null; }
tap_check "session is Established on FRR's side" frr_up

lab_wait_for 10 has_route 203.0.113.0/24
tap_check "IPv4 route from FRR: AS path, MED, community, large community" peer_v4ok 65004 "$FRR"
lab_wait_for 10 has_route 2001:db8:200::/48
tap_check "IPv6 route from FRR: AS path, community" peer_v6ok 65004

frr_has() {
	vty "show bgp $1 unicast $2 json" | jq -e '.paths[0].aspath.string == "65001"' >/dev/null
}
lab_wait_for 10 frr_has ipv4 198.51.100.0/24
tap_check "our IPv4 route reaches FRR with AS path 65001" frr_has ipv4 198.51.100.0/24
tap_check "our IPv6 route reaches FRR with AS path 65001" frr_has ipv6 2001:db8:100::/48

vty "configure terminal" -c "router bgp 65004" -c "address-family ipv4 unicast" \
	-c "no network 203.0.113.0/24" >/dev/null
lab_wait_for 10 gone 203.0.113.0/24
tap_check "a withdrawal from FRR leaves our RIB" gone 203.0.113.0/24

# FRR now expects AS 65099 from us: it refuses our OPEN with 2/2, and the
# session stays down on our side with that error.
vty "configure terminal" -c "router bgp 65004" -c "neighbor $US remote-as 65099" >/dev/null
bad_as() {
	summary | jq -e '.neighbors[0] | .state != "Established" and
		(.last_error | startswith("received 2/2"))' >/dev/null
}
lab_wait_for 15 bad_as
tap_check "a wrong remote AS: FRR's NOTIFICATION 2/2 keeps the session down" bad_as

tap_done
