#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# BGP interop with GoBGP: aetherd (--no-dataplane) and gobgpd in one network
# namespace, peering over addresses on its loopback. GoBGP refuses 127/8 next
# hops, so the addresses are 10.77.0.1 (us) and 10.77.0.2 (GoBGP).
#
# Checks that the session establishes, IPv4 and IPv6 routes flow both ways
# with AS path, MED, communities and large communities, a withdrawal
# propagates, and a GoBGP frozen with SIGSTOP is dropped at hold-timer expiry
# with its routes.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

lab_require_root
lab_require_cmd gobgpd gobgp jq
lab_require_aetherd

tap_plan 10
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=10.77.0.1
GO=10.77.0.2
GRPC=50151

cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  networks: [198.51.100.0/24, "2001:db8:100::/48"]
  neighbors:
    - {address: $GO, remote_as: 65002, port: 2179, hold_time: 3, connect_retry: 1,
       import: all, export: all, next_hop_v6: "2001:db8::1"}
EOF2

cat >"$dir/gobgpd.toml" <<EOF2
[global.config]
  as = 65002
  router-id = "$GO"
  port = 2179
  local-address-list = ["$GO"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$US"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "$GO"
    remote-port = 1179
  [neighbors.timers.config]
    hold-time = 3
    keepalive-interval = 1
    connect-retry = 1
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 8
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOF2

lab_ns_add bgp || tap_bail "cannot create a namespace"
lab_addr bgp lo "$US/32" && lab_addr bgp lo "$GO/32" || tap_bail "cannot add addresses"

tap_check "aetherd starts with a bgp section (--no-dataplane)" start_aetherd "$dir/aetherd.yaml"
lab_bg bgp gobgpd -f "$dir/gobgpd.toml" --api-hosts "127.0.0.1:$GRPC" --pprof-disable
GO_PID=$LAB_BG_PID

lab_wait_for 20 established
tap_check "session with GoBGP is Established on our side" established
go_up() { ip netns exec "$(lab_ns bgp)" gobgp -p "$GRPC" neighbor | grep -q Establ; }
tap_check "session is Established on GoBGP's side" go_up

# gobgp talks to gobgpd over gRPC inside the namespace.
gx() { ip netns exec "$(lab_ns bgp)" gobgp -p "$GRPC" "$@"; }
gx global rib add -a ipv4 203.0.113.0/24 nexthop "$GO" med 50 community 65002:7 \
	large-community 65002:1:2 >/dev/null
gx global rib add -a ipv6 2001:db8:200::/48 nexthop 2001:db8::2 community 65002:8 >/dev/null

lab_wait_for 10 has_route 203.0.113.0/24
tap_check "IPv4 route from GoBGP: AS path, MED, community, large community" peer_v4ok 65002 "$GO"
lab_wait_for 10 has_route 2001:db8:200::/48
tap_check "IPv6 route from GoBGP: AS path, next hop, community" peer_v6ok 65002 2001:db8::2

go_has() {
	gx global rib -a "$1" -j | jq -e --arg p "$2" --arg nh "$3" '.[$p][0].attrs as $a |
		($a[] | select(.type == 2) | .as_paths[0].asns == [65001]) and
		([$a[] | select(.type == 3 or .type == 14) | .nexthop] | index($nh))' >/dev/null
}
lab_wait_for 10 go_has ipv4 198.51.100.0/24 "$US"
tap_check "our IPv4 route reaches GoBGP with AS path 65001 and our next hop" \
	go_has ipv4 198.51.100.0/24 "$US"
tap_check "our IPv6 route reaches GoBGP with our IPv6 next hop" \
	go_has ipv6 2001:db8:100::/48 2001:db8::1

gx global rib del -a ipv4 203.0.113.0/24 >/dev/null
lab_wait_for 10 gone 203.0.113.0/24
tap_check "a withdrawal from GoBGP leaves our RIB" gone 203.0.113.0/24

kill -STOP "$GO_PID"
down() { ! established; }
lab_wait_for 10 down
tap_check "a GoBGP stopped dead is dropped at hold-timer expiry, its routes withdrawn" \
	gone 2001:db8:200::/48
kill -CONT "$GO_PID"
lab_wait_for 20 established
tap_check "the session comes back when GoBGP resumes" established

tap_done
