#!/usr/bin/env bash
# Bridging with VLANs over af_packet veths, and routing between bridges:
#
#   a, a2 -- hub (Linux bridge) ------------ acc  access member of bridge v10
#   b10, b20, b30 -- sw (VLAN switch) ------ trk  trunk: VLAN 10 in v10, VLAN 20
#                                                 in v20, VLAN 30 a routed
#                                                 sub-interface
#   c -- sw2 (QinQ switch: S 100, C 10) ---- qnq  QinQ member of v10
#
#   v10: 10.N.10.0/24, BVI 10.N.10.1    v20: 10.N.20.0/24, BVI 10.N.20.1
#   trk.30: 10.N.30.1/24
#
# The kernel here makes no VLAN devices, so the hosts' frames are tagged by
# vlan_switch.py, a separate small switch. Hosts on one bridge reach each
# other whatever their tagging; the bridge learns where each MAC is; BVIs and
# the VLAN sub-interface route between subnets; the learn limit holds;
# learned MACs age out.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping jq iperf3 python3
lab_require_aetherd

tap_plan 16

x=$((RANDOM % 200 + 20))
N=10.$x
dir=$(lab_tmpdir)
here=$(cd "$(dirname "$0")" && pwd)
for h in a a2 hub b10 b20 b30 sw c sw2 dut; do
	lab_ns_add "$h" || tap_bail "netns $h"
	# Quiet hosts: no IPv6 chatter, so the MAC table holds what the test sends.
	lab_exec "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
lab_veth hub h0 dut d0 && lab_veth a a0 hub ha && lab_veth a2 a0 hub ha2 &&
	lab_veth sw t0 dut d1 && lab_veth b10 b0 sw s10 && lab_veth b20 b0 sw s20 &&
	lab_veth b30 b0 sw s30 && lab_veth sw2 t0 dut d2 && lab_veth c c0 sw2 sc ||
	tap_bail "veths"
lab_exec hub ip link add hb type bridge && lab_exec hub ip link set hb up &&
	for l in h0 ha ha2; do lab_exec hub ip link set "$l" master hb; done || tap_bail "hub"
lab_bg sw python3 "$here/vlan_switch.py" t0 s10:10 s20:20 s30:30
lab_bg sw2 python3 "$here/vlan_switch.py" t0 sc:100.10
lab_addr a a0 "$N.10.2/24" && lab_addr a2 a0 "$N.10.5/24" && lab_addr b10 b0 "$N.10.3/24" &&
	lab_addr c c0 "$N.10.4/24" && lab_addr b20 b0 "$N.20.3/24" &&
	lab_addr b30 b0 "$N.30.3/24" || tap_bail "addresses"
lab_exec a ip route add default via "$N.10.1"
lab_exec b20 ip route add default via "$N.20.1"
lab_exec b30 ip route add default via "$N.30.1"

cfg=$dir/bridge.yaml
cat >"$cfg" <<EOF
dataplane: {workers: 1}
ports:
  - {name: acc, driver: af_packet, iface: d0}
  - {name: trk, driver: af_packet, iface: d1}
  - {name: qnq, driver: af_packet, iface: d2}
bridges:
  - name: v10
    members:
      - {port: acc, learn_limit: 1}
      - {port: trk, vlan: 10}
      - {port: qnq, vlan: 100, inner_vlan: 10}
    static_macs:
      - {mac: "02:00:00:00:aa:01", port: trk, vlan: 10}
  - name: v20
    mac_age: 3
    members:
      - {port: trk, vlan: 20}
interfaces:
  - {name: v10, bridge: v10, addresses: [$N.10.1/24]}
  - {name: v20, bridge: v20, addresses: [$N.20.1/24]}
  - {name: trk.30, port: trk, vlan: 30, addresses: [$N.30.1/24]}
EOF
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with two bridges (access, trunk, QinQ members) and a VLAN interface"

ping_ok() {
	local out
	lab_wait_for 5 lab_exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1
	out=$(lab_exec "$1" ping -q -c 10 -i 0.05 -W 2 "$2" 2>&1)
	echo "$out" | grep -q ' 0% packet loss' && return 0
	tap_diag "$out"
	return 1
}

ping_ok a "$N.10.3"
tap_ok $? "access host reaches a trunk host on VLAN 10 through bridge v10"
ping_ok a "$N.10.4"
tap_ok $? "access host reaches a QinQ host (S-tag 100, C-tag 10) through bridge v10"
ping_ok c "$N.10.3"
tap_ok $? "QinQ host reaches the trunk host"

mac_of() { lab_exec "$1" cat "/sys/class/net/$2/address"; }
mac_a=$(mac_of a a0) mac_b=$(mac_of b10 b0) mac_c=$(mac_of c c0)
# acc learns one MAC at most (learn_limit 1): a's, unless a frame of the hub
# came first, so either a is there or acc is full.
macs=$(lab_ctl -j show bridge macs v10)
echo "$macs" | jq -e --arg a "$mac_a" --arg b "$mac_b" --arg c "$mac_c" '
	[.macs[] | select(.static == false)] as $l
	| ($l | any(.mac == $a and .port == "acc" and (has("vlan") | not))
	   or ([$l[] | select(.port == "acc")] | length == 1))
	and ($l | any(.mac == $b and .port == "trk" and .vlan == 10))
	and ($l | any(.mac == $c and .port == "qnq" and .vlan == 100 and .inner_vlan == 10))' \
	>/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "a=$mac_a b=$mac_b c=$mac_c $macs"
tap_ok $rc "MAC table: each host learned behind its member (port, VLAN, inner VLAN)"
echo "$macs" | jq -e '[.macs[] | select(.static and .mac == "02:00:00:00:aa:01" and .vlan == 10)] | length == 1' >/dev/null
tap_ok $? "static MAC listed on its member"
lab_ctl show bridge macs v10 | grep -q "$mac_b"
tap_ok $? "aetherctl show bridge macs prints the table"

ping_ok a "$N.10.1"
tap_ok $? "bridge interface v10 answers ping"
ping_ok a "$N.20.3"
tap_ok $? "routed between bridges: access host to VLAN 20 host via the two BVIs"
ping_ok b30 "$N.30.1"
tap_ok $? "VLAN sub-interface trk.30 answers ping"
ping_ok a "$N.30.3"
tap_ok $? "routed from bridge v10 out of VLAN sub-interface trk.30"

# iperf3 across the bridge (access <-> trunk), TCP.
lab_bg b10 iperf3 -s -1 -B "$N.10.3"
lab_wait_for 5 lab_exec a sh -c "exec 3<>/dev/tcp/$N.10.3/5201" 2>/dev/null
out=$(lab_exec a timeout 20 iperf3 -c "$N.10.3" -t 2 -J 2>&1)
bps=$(echo "$out" | jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null)
[ -n "$bps" ] || tap_diag "$out"
tap_ok "$([ -n "$bps" ] && echo 0 || echo 1)" "iperf3 TCP across the bridge ($(jq -n "${bps:-0} / 1e9 * 100 | round / 100") Gbit/s)"

# Learn limit 1 on acc: a second station behind it is not learned, but its
# frames still flow (flooded to it as unknown unicast).
mac_a2=$(mac_of a2 a0)
ping_ok a2 "$N.10.3"
rc=$?
br=$(lab_ctl -j show bridges)
echo "$br" | jq -e '.bridges[] | select(.name == "v10") | (.counters.learn_limit_hits > 0)
	and ([.members[] | select(.port == "acc")][0].learned == 1)' >/dev/null
rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] || tap_diag "$br"
tap_ok $((rc | rc2)) "learn limit 1: a second MAC behind the access port is not learned, still reachable"
lab_ctl -j show bridge macs v10 | jq -e --arg m "$mac_a2" '[.macs[] | select(.mac == $m)] | length == 0' >/dev/null
tap_ok $? "the refused MAC is not in the table"

# Aging: v20 forgets MACs after 3 s of silence.
lab_exec b20 ping -c 1 -W 1 "$N.20.1" >/dev/null 2>&1
lab_ctl -j show bridge macs v20 | jq -e '[.macs[] | select(.static == false)] | length > 0' >/dev/null
rc=$?
lab_wait_for 10 sh -c "'$AETHERCTL' -s '$LAB_API_SOCK' -j show bridge macs v20 |
	jq -e '[.macs[] | select(.static == false)] | length == 0' >/dev/null"
rc2=$?
lab_ctl -j show bridges | jq -e '.bridges[] | select(.name == "v20") | .counters.aged > 0' >/dev/null
tap_ok $((rc | rc2 | $?)) "learned MACs of v20 age out after mac_age (3 s)"

n=$(lab_ctl -j clear bridge macs v10 | jq '.flushed')
left=$(lab_ctl -j show bridge macs v10 | jq '[.macs[] | select(.static == false)] | length')
[ "${n:-0}" -gt 0 ] && [ "$left" = 0 ]
tap_ok $? "clear bridge macs v10 flushes $n learned MACs, static ones stay"

tap_done
