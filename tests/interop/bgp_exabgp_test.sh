#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# BGP interop with ExaBGP: aetherd (--no-dataplane) and ExaBGP in one network
# namespace, peering over addresses on its loopback (10.77.0.1 us, 10.77.0.3
# ExaBGP). An API process feeds ExaBGP its announcements and withdrawals; a
# second one records the UPDATEs it receives from us as JSON.
#
# Checks that the session establishes, IPv4 and IPv6 routes flow both ways
# with AS path, MED, communities and large communities, and a withdrawal
# propagates.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

lab_require_root
lab_require_cmd exabgp jq python3
lab_require_aetherd

tap_plan 8
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=10.77.0.1
EXA=10.77.0.3

cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  networks: [198.51.100.0/24, "2001:db8:100::/48"]
  neighbors:
    - {address: $EXA, remote_as: 65003, port: 2182, hold_time: 9, connect_retry: 1,
       import: all, export: all, next_hop_v6: "2001:db8::1"}
EOF2

# Announce, then withdraw 203.0.113.0/24 when the test creates the flag file.
cat >"$dir/announce.sh" <<EOF2
#!/bin/sh
sleep 1
echo "announce route 203.0.113.0/24 next-hop $EXA med 50 community [65003:7] large-community [65003:1:2]"
echo "announce route 2001:db8:200::/48 next-hop 2001:db8::3 community [65003:8]"
while sleep 0.2; do
	if [ -f "$dir/withdraw" ]; then
		echo "withdraw route 203.0.113.0/24 next-hop $EXA"
		rm -f "$dir/withdraw"
	fi
done
EOF2
cat >"$dir/dump.py" <<EOF2
import sys
with open("$dir/received.jsonl", "a") as f:
    for line in sys.stdin:
        f.write(line)
        f.flush()
EOF2
chmod +x "$dir/announce.sh"
cat >"$dir/exabgp.conf" <<EOF2
process announce {
	run $dir/announce.sh;
	encoder text;
}
process dump {
	run /usr/bin/python3 $dir/dump.py;
	encoder json;
}
neighbor $US {
	router-id $EXA;
	local-address $EXA;
	local-as 65003;
	peer-as 65001;
	hold-time 9;
	listen 2182;
	connect 1179;
	family {
		ipv4 unicast;
		ipv6 unicast;
	}
	api {
		processes [ announce ];
	}
	api {
		processes [ dump ];
		receive { parsed; update; }
	}
}
EOF2

lab_ns_add bgp || tap_bail "cannot create a namespace"
lab_addr bgp lo "$US/32" && lab_addr bgp lo "$EXA/32" || tap_bail "cannot add addresses"

tap_check "aetherd starts with a bgp section (--no-dataplane)" start_aetherd "$dir/aetherd.yaml"
lab_bg bgp env exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_api_ack=false \
	exabgp_log_destination="$dir/exabgp.log" exabgp "$dir/exabgp.conf"

lab_wait_for 30 established
tap_check "session with ExaBGP is Established on our side" established

lab_wait_for 10 has_route 203.0.113.0/24
tap_check "IPv4 route from ExaBGP: AS path, MED, community, large community" peer_v4ok 65003 "$EXA"
lab_wait_for 10 has_route 2001:db8:200::/48
tap_check "IPv6 route from ExaBGP: AS path, next hop, community" peer_v6ok 65003 2001:db8::3

# What ExaBGP received from us: family, next hop, prefix, AS path.
exa_has() {
	[ -f "$dir/received.jsonl" ] &&
		jq -e -s --arg fam "$1" --arg nh "$2" --arg p "$3" 'any(.[];
		.neighbor.message.update as $u | $u != null and
		($u.attribute["as-path"] == [65001]) and
		(($u.announce[$fam][$nh] // []) | any(.nlri == $p)))' \
			"$dir/received.jsonl" >/dev/null
}
lab_wait_for 10 exa_has "ipv4 unicast" "$US" 198.51.100.0/24
tap_check "our IPv4 route reaches ExaBGP with AS path 65001 and our next hop" \
	exa_has "ipv4 unicast" "$US" 198.51.100.0/24
tap_check "our IPv6 route reaches ExaBGP with our IPv6 next hop" \
	exa_has "ipv6 unicast" 2001:db8::1 2001:db8:100::/48

touch "$dir/withdraw"
lab_wait_for 10 gone 203.0.113.0/24
tap_check "a withdrawal from ExaBGP leaves our RIB" gone 203.0.113.0/24
tap_check "the IPv6 route stays" has_route 2001:db8:200::/48

tap_done
