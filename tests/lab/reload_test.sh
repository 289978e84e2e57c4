#!/usr/bin/env bash
# Atomic reload under traffic: ten reloads (aetherctl reload and SIGHUP) that
# add and remove routes during a UDP iperf3 run and a 1 ms-interval ping lose
# no packet; a broken file is refused with file:line:col and the running
# configuration keeps forwarding; a change that needs a restart is refused.
# Also addresses added and removed at runtime.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping iperf3 jq
lab_require_aetherd

tap_plan 13

lab_topo_routed
tap_ok $? "topology client - router - server built"
base=$LAB_ROUTER_CONFIG
cfg=$(lab_tmpdir)/live.yaml
# Two versions that differ in routes and log level.
v1() {
	cat "$base"
	printf 'routes:\n  - {prefix: 198.51.100.0/24, via: %s}\nlog: {level: info}\n' "$LAB_SERVER4"
}
v2() {
	cat "$base"
	printf 'routes:\n  - {prefix: 198.51.100.0/24, via: %s}\n  - {prefix: 203.0.113.0/24, via: %s}\nlog: {level: warning}\n' \
		"$LAB_SERVER4" "$LAB_SERVER4"
}
v1 >"$cfg"
lab_exec server ip addr add 198.51.100.7/32 dev lo
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started"
lab_wait_for 5 lab_exec client ping -c 1 -W 1 198.51.100.7
tap_ok $? "route from the config works"

lab_bg server iperf3 -s -1
lab_wait_for 5 lab_exec server sh -c "ss -ltn | grep -q ':5201 '"
lab_bg client timeout 20 iperf3 -c "$LAB_SERVER4" -u -b 50M -t 4 -J
iperf_pid=$LAB_BG_PID iperf_log=$LAB_BG_LOG
lab_bg client ping -q -c 3000 -i 0.001 -W 1 198.51.100.7
ping_pid=$LAB_BG_PID ping_log=$LAB_BG_LOG
sleep 0.3
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	if [ $((i % 2)) -eq 1 ]; then v2 >"$cfg"; else v1 >"$cfg"; fi
	if [ $((i % 3)) -eq 0 ]; then
		kill -HUP "$LAB_AETHERD_PID" && ok=$((ok + 1))
	else
		lab_ctl reload >/dev/null && ok=$((ok + 1))
	fi
	sleep 0.25
done
wait "$ping_pid"
wait "$iperf_pid"
[ "$ok" -eq 10 ]
tap_ok $? "ten reloads accepted (aetherctl reload and SIGHUP)"
grep -q ' 0% packet loss' "$ping_log"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(tail -n 3 "$ping_log")"
tap_ok $rc "1 ms ping through the reloaded route: no packet lost"
lost=$(jq -r '.end.sum.lost_packets' "$iperf_log" 2>/dev/null)
sent=$(jq -r '.end.sum.packets' "$iperf_log" 2>/dev/null)
tap_diag "iperf3 UDP 50 Mbit/s for 4 s: $sent packets, $lost lost"
[ "$lost" = 0 ] && [ "${sent:-0}" -gt 1000 ]
tap_ok $? "UDP iperf3 during the reloads: no packet lost"

# SIGHUP applies what the file says.
v2 >"$cfg"
kill -HUP "$LAB_AETHERD_PID"
lab_wait_for 5 sh -c "$AETHERCTL -s $LAB_API_SOCK show routes 203.0.113.0/24 | grep -q static"
tap_ok $? "SIGHUP applies the file (a route added)"

# A broken file: refused with its position, nothing changed, still forwarding.
v1 >"$cfg"
lab_ctl reload >/dev/null
printf 'routes:\n  - {prefix: 10.0.0.0/8, via: [}\n' >>"$cfg"
out=$(lab_ctl reload 2>&1)
rc=$?
echo "$out" | grep -Eq "live.yaml:[0-9]+:[0-9]+:"
g=$?
[ $rc -eq 1 ] && [ $g -eq 0 ]
tap_ok $? "a broken file is refused with file:line:col ($out)"
lab_exec client ping -c 3 -i 0.2 -W 1 198.51.100.7 >/dev/null &&
	lab_ctl show routes 198.51.100.0/24 | grep -q static
tap_ok $? "the running configuration keeps forwarding"

# Addresses at runtime: a new subnet on the LAN interface answers (data
# plane and kernel mirror), then goes away again.
n9=$LAB_NET_PREFIX.9
lab_ctl address add lan "$n9.1/24" >/dev/null &&
	lab_exec client ip addr add "$n9.2/24" dev c0 &&
	lab_exec dut ip -br addr show ap-lan | grep -q "$n9.1/24"
tap_ok $? "aetherctl address add puts the address on the interface and its kernel mirror"
lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$n9.1" &&
	lab_ctl -j show routes "$n9.0/24" | jq -e '.routes[0].origin == "connected"' >/dev/null
tap_ok $? "the new address answers and its subnet is connected"
lab_ctl address del lan "$n9.1/24" >/dev/null &&
	! lab_ctl -j show routes "$n9.0/24" | jq -e '.routes | length > 0' >/dev/null &&
	! lab_exec client ping -c 1 -W 1 "$n9.1" >/dev/null 2>&1
tap_ok $? "aetherctl address del removes it and its subnet"

# A port change needs a restart: refused, nothing applied.
sed 's/iface: d1/iface: d9/' "$base" >"$cfg"
out=$(lab_ctl reload 2>&1)
echo "$out" | grep -q "need a restart"
tap_ok $? "a change that needs a restart is refused ($out)"
tap_done
