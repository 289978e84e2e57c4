#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Graceful restart helper (RFC 4724) with BIRD 2: BIRD announces the
# capability; when it dies without a NOTIFICATION its routes stay in our RIB,
# marked stale, and when it comes back the routes it no longer announces are
# gone after its End-of-RIB while the others are fresh again.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

lab_require_root
lab_require_cmd bird birdc jq
lab_require_aetherd

tap_plan 7
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=127.77.0.1
down() { ! established; }
stale() { route_json "$1" | jq -e '.routes[0].stale == true' >/dev/null; }
fresh() { route_json "$1" | jq -e '.total == 1 and .routes[0].stale != true' >/dev/null; }

cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  neighbors:
    - {address: 127.77.0.2, remote_as: 65002, port: 2179, hold_time: 9, connect_retry: 1,
       import: all, export: all}
EOF2

# bird_conf ROUTES: BIRD with the given static routes and graceful restart.
bird_conf() {
	cat >"$dir/bird.conf" <<EOF2
router id 127.77.0.2;
protocol device {}
protocol static s4 { ipv4; $1 }
protocol bgp peer {
  local 127.77.0.2 port 2179 as 65002;
  neighbor $US port 1179 as 65001;
  multihop; strict bind yes; connect delay time 1; connect retry time 1;
  graceful restart on; graceful restart time 60;
  ipv4 { import all; export all; next hop self; };
}
EOF2
}

lab_ns_add bgp || tap_bail "cannot create a namespace"
lab_addr bgp lo 127.77.0.1/32 && lab_addr bgp lo 127.77.0.2/32 || tap_bail "cannot add addresses"

bird_conf 'route 203.0.113.0/24 blackhole; route 192.0.2.0/25 blackhole;'
tap_check "aetherd starts" start_aetherd "$dir/aetherd.yaml"
lab_bg bgp bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl"
BIRD_PID=$LAB_BG_PID
lab_wait_for 20 established
lab_wait_for 10 has_route 192.0.2.0/25
gr_cap() {
	lab_ctl -j show bgp neighbors 127.77.0.2 |
		jq -e '.capabilities.graceful_restart == true' >/dev/null
}
tap_check "session up; BIRD announced graceful restart" gr_cap

kill -KILL "$BIRD_PID"
wait "$BIRD_PID" 2>/dev/null
lab_wait_for 10 down
tap_check "BIRD killed: the session is down" down
tap_check "its routes stay in the RIB, marked stale" stale 203.0.113.0/24

bird_conf 'route 203.0.113.0/24 blackhole;'
lab_bg bgp bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl"
lab_wait_for 20 established
tap_check "BIRD restarted: the session is back" established
lab_wait_for 10 gone 192.0.2.0/25
tap_check "a route BIRD no longer announces is gone" gone 192.0.2.0/25
lab_wait_for 10 fresh 203.0.113.0/24
tap_check "the route it announces again is fresh" fresh 203.0.113.0/24

tap_done
