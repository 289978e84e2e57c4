#!/usr/bin/env bash
# SYN-flood protection on the routed lab (client "lan" - aetherd - server
# "wan", af_packet). The SYN proxy guards the server's web port: with no
# flood, connections go straight through; hping3 floods SYNs from random
# sources at full speed while the client runs repeated curl requests: the
# proxy arms, answers the flood with cookies, keeps the conntrack table free
# of it, and at least 99% of the requests succeed; after the flood it
# disarms. A source over its connection rate is blocked.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool jq curl hping3 python3 promtool
lab_require_aetherd

tap_plan 14

FLOOD_S=${SYN_FLOOD_SECONDS:-10}

lab_topo_routed
tap_ok $? "topology client - router - server built"
C4=$LAB_CLIENT4 S4=$LAB_SERVER4
ATTACKER=${C4%.*}.99
cfg=$LAB_ROUTER_CONFIG
# The flood's random sources are answered through the client's side (a
# default route there), as they would be toward the Internet.
cat >>"$cfg" <<EOF
routes:
  - {prefix: 0.0.0.0/0, via: $C4}
conntrack: {max_flows: 8192}
synproxy:
  protect:
    - {prefix: $S4/32, ports: "8080"}
  syn_rate: 300
  half_open: 300
  disarm_after: 3
  source_rate: 200
  block_time: 30
EOF
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with the SYN proxy guarding $S4:8080"

www=$(lab_tmpdir)/www
mkdir -p "$www" && echo served >"$www/index.html"
lab_bg server python3 -m http.server --bind 0.0.0.0 --directory "$www" 8080
lab_wait_for 10 lab_exec client curl -s -o /dev/null -m 2 "http://$S4:8080/"
syn() { lab_ctl -j show synproxy; }
# state_ok STATE DESC JQ [jq args]: the proxy's STATE (JSON) passes the jq test.
state_ok() {
	local st=$1 desc=$2 prog=$3 rc
	shift 3
	echo "$st" | jq -e "$@" "$prog" >/dev/null
	rc=$?
	[ $rc -eq 0 ] || tap_diag "$st"
	tap_ok $rc "$desc"
}
# served DESC: the client gets the server's page.
served() {
	local out
	out=$(lab_exec client curl -s -m 5 "http://$S4:8080/")
	[ "$out" = served ]
	tap_ok $? "$1"
}

served "no flood: connections go straight to the server"
state_ok "$(syn)" "the proxy is not armed and sent no cookie" \
	'.armed == [] and .counters.cookies_sent == 0'

# The flood, and requests during it.
lab_exec client timeout "$FLOOD_S" hping3 -q -S -p 8080 --flood --rand-source "$S4" \
	>/dev/null 2>&1 &
flood=$!
sleep 1
armed=$(syn)
ok=0 n=0 t_end=$((SECONDS + FLOOD_S - 2))
while [ $SECONDS -lt $t_end ]; do
	n=$((n + 1))
	out=$(lab_exec client curl -s -m 5 "http://$S4:8080/") && [ "$out" = served ] && ok=$((ok + 1))
done
during=$(syn)
wait $flood 2>/dev/null
state_ok "$armed" "the flood arms the proxy for $S4" \
	'[.armed[] | select(.destination == $s)] | length == 1' --arg s "$S4"
[ $n -ge 20 ] && [ $((ok * 100)) -ge $((n * 99)) ]
rc=$?
tap_ok $rc "$ok of $n curl requests during the flood succeeded (at least 99%)"
state_ok "$during" "cookies answered the flood ($(echo "$during" | jq .counters.cookies_sent)), requests were spliced ($(echo "$during" | jq .counters.spliced))" \
	'.counters.cookies_sent >= 1000 and .counters.spliced >= 1'
ct=$(lab_ctl -j show conntrack tcp)
echo "$ct" | jq -e '.stats.flows < 1000 and .stats.table_full == 0' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "$(echo "$ct" | jq -c .stats)"
tap_ok $rc "the flood left no flows in conntrack ($(echo "$ct" | jq .stats.flows) tracked)"

lab_wait_for 15 sh -c "$AETHERCTL -s $LAB_API_SOCK -j show synproxy | jq -e '.armed == []'" \
	>/dev/null
state_ok "$(syn)" "after the flood the proxy disarms" '.armed == [] and .counters.disarmed >= 1'
served "and connections go straight through again"

# One source over its rate is blocked; the others are not.
lab_exec client timeout 3 hping3 -q -S -p 8080 -i u1000 -a "$ATTACKER" "$S4" >/dev/null 2>&1
state_ok "$(syn)" "a source over 200 connections/s ($ATTACKER) is blocked" \
	'([.blocked[] | select(.source == $a)] | length == 1) and .counters.blocked_syns > 0' \
	--arg a "$ATTACKER"
served "other sources still connect"
drops=$(lab_ctl -j show stats | jq -c '.drops.reasons // .drops')
echo "$drops" | grep -q syn-source-blocked
rc=$?
[ $rc -eq 0 ] || tap_diag "$drops"
tap_ok $rc "the blocked SYNs are counted as drops by reason"

# The counters in /metrics, as promtool reads them, agree with the API.
m=$(lab_tmpdir)/metrics.txt
curl -s --unix-socket "$LAB_API_SOCK" http://localhost/metrics >"$m"
sent=$(syn | jq .counters.cookies_sent)
out=$(promtool check metrics <"$m" 2>&1) &&
	grep -qx "aether_synproxy_events_total{event=\"cookies_sent\"} $sent" "$m" &&
	grep -q '^aether_conntrack_events_total{event="created"} [1-9]' "$m"
rc=$?
[ $rc -eq 0 ] || tap_diag "$out $(grep -E 'synproxy|conntrack' "$m")"
tap_ok $rc "/metrics passes promtool with the SYN proxy's and conntrack's counters ($sent cookies)"

tap_done
