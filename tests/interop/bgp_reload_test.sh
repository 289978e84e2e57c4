#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# BGP policy changes on reload, with BIRD 2: aetherd (--no-dataplane) and one
# BIRD in a network namespace, over loopback addresses.
#
# A reload that changes the import policy, the export policy and a prefix list
# takes effect in both RIBs (ours through a ROUTE-REFRESH to BIRD, BIRD's
# through a re-advertisement with withdrawals) while the session stays
# Established on both sides, its uptime unbroken; a prefix-list-only change is
# seen too; a change outside the policies is refused and changes nothing.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

lab_require_root
lab_require_cmd bird birdc jq
lab_require_aetherd

tap_plan 12
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=127.77.0.1
BIRD=127.77.0.2
ctl() { birdc -s "$dir/bird.ctl" "$@"; }
nbr() { summary | jq -r --arg a "$BIRD" ".neighbors[] | select(.address == \$a) | .$1"; }

# conf HOLD IMPORT_RULES EXPORT_RULES ALLOW_LIST: aetherd's configuration.
conf() {
	cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  networks: [198.51.100.0/24, 198.51.101.0/24]
  neighbors:
    - {address: $BIRD, remote_as: 65002, port: 2179, hold_time: $1, connect_retry: 1,
       import: from-bird, export: to-bird}
  prefix_lists:
    - {name: allowed, entries: [$4]}
    - {name: second, entries: [{prefix: 198.51.101.0/24}]}
  policies:
    - name: from-bird
      rules:
$2
    - name: to-bird
      rules:
$3
EOF2
}
ACCEPT='        - {action: accept}'
conf 30 "$ACCEPT" "$ACCEPT" '{prefix: 0.0.0.0/0, le: 32}'

cat >"$dir/bird.conf" <<EOF2
router id $BIRD;
log "$dir/bird.log" all;
protocol device {}
protocol static s4 {
  ipv4;
  route 203.0.113.0/24 blackhole;
  route 192.0.2.0/25 blackhole;
}
protocol bgp peer {
  local $BIRD port 2179 as 65002;
  neighbor $US port 1179 as 65001;
  multihop; strict bind yes; connect delay time 1; connect retry time 1;
  ipv4 { import all; export all; next hop self; };
}
EOF2

lab_ns_add bgp || tap_bail "cannot create a namespace"
for a in $US $BIRD; do
	lab_addr bgp lo "$a/32" || tap_bail "cannot add $a"
done
tap_check "aetherd starts" start_aetherd "$dir/aetherd.yaml"
lab_bg bgp bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl"

up() { [ "$(nbr state)" = Established ]; }
bird_has() { ctl show route "$1" protocol peer | grep -q "${1%/*}"; }
both_in() { has_route 203.0.113.0/24 && has_route 192.0.2.0/25 &&
	bird_has 198.51.100.0/24 && bird_has 198.51.101.0/24; }
lab_wait_for 20 up
lab_wait_for 10 both_in
tap_check "before the reload: both of BIRD's routes with us, both of ours with BIRD" both_in

bird_since() { ctl show protocols peer | awk '$1 == "peer" { print $4, $5 }'; }
# BIRD's "since" moves while the session settles just after it comes up:
# take it once two readings a second apart agree.
since_settled() {
	local a
	a=$(bird_since)
	sleep 1
	[ "$a" = "$(bird_since)" ]
}
lab_wait_for 10 since_settled
since0=$(bird_since)
up0=$(nbr state_seconds)
t0=$(date +%s)
sleep 2

# Import: reject what the prefix list leaves out, LOCAL_PREF 300 on the rest.
# Export: nothing of the second network, the first prepended twice.
conf 30 '        - {prefix_list: allowed, local_pref: 300}
        - {action: reject}' '        - {prefix_list: second, action: reject}
        - {prepend: 2}' '{prefix: 203.0.113.0/24}'
out=$(lab_ctl reload 2>&1)
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "aetherctl reload accepts a policy and prefix-list change"

import_done() { gone 192.0.2.0/25 && route_json 203.0.113.0/24 |
	jq -e '.routes[0].local_pref == 300' >/dev/null; }
lab_wait_for 10 import_done
tap_check "our RIB: the new import policy rejected one route and set LOCAL_PREF on the other" \
	import_done
export_done() { ! bird_has 198.51.101.0/24 &&
	ctl show route 198.51.100.0/24 all protocol peer | grep -q "BGP.as_path: 65001 65001 65001"; }
lab_wait_for 10 export_done
tap_check "BIRD's RIB: the new export policy withdrew one route and prepended the other" \
	export_done
tap_check "adj-rib-in keeps the rejected route, flagged" \
	bash -c "'$AETHERCTL' -s '$LAB_API_SOCK' -j show bgp adj-rib-in $BIRD |
		jq -e '.routes[] | select(.prefix == \"192.0.2.0/25\") | .accepted == false' >/dev/null"

up1=$(nbr state_seconds)
t1=$(date +%s)
tap_diag "session uptime $up0 s before, $up1 s after ($((t1 - t0)) s apart)"
tap_check "the session stayed Established on our side, its uptime unbroken" \
	test "$(nbr state)" = Established -a "$up1" -ge $((up0 + t1 - t0 - 1))
tap_check "the session stayed up on BIRD's side (same 'since', Established)" \
	bash -c "[ \"\$(birdc -s '$dir/bird.ctl' show protocols peer |
		awk '\$1 == \"peer\" { print \$4, \$5 }')\" = '$since0' ] &&
		birdc -s '$dir/bird.ctl' show protocols peer | grep -q Established"
tap_check "the log says why routes moved: refresh asked, table re-advertised" \
	bash -c "grep -q 'import policy changed, asking for a refresh' '$dir/aetherd.log' &&
		grep -q 'export policy changed, re-advertising' '$dir/aetherd.log'"

# Only the prefix list changes: the policy that uses it must be re-run.
conf 30 '        - {prefix_list: allowed, local_pref: 300}
        - {action: reject}' '        - {prefix_list: second, action: reject}
        - {prepend: 2}' '{prefix: 203.0.113.0/24}, {prefix: 192.0.2.0/24, le: 25}'
lab_ctl reload >/dev/null
back() { route_json 192.0.2.0/25 | jq -e '.total == 1 and .routes[0].local_pref == 300' \
	>/dev/null; }
lab_wait_for 10 back
tap_check "a prefix-list change alone re-runs the import policy that uses it" back

# A change outside the policies (the hold time) needs a restart: refused.
cp "$dir/aetherd.yaml" "$dir/keep.yaml"
sed -i 's/hold_time: 30/hold_time: 60/' "$dir/aetherd.yaml"
tap_check "a hold-time change is refused by the reload" bash -c "! '$AETHERCTL' -s \
	'$LAB_API_SOCK' reload >/dev/null 2>&1"
tap_check "and changes nothing: session up, routes as they were" \
	bash -c "$(declare -f summary nbr route_json has_route lab_ctl); AETHERCTL='$AETHERCTL'
		LAB_API_SOCK='$LAB_API_SOCK' BIRD=$BIRD
		[ \"\$(nbr state)\" = Established ] && has_route 192.0.2.0/25"
tap_done
