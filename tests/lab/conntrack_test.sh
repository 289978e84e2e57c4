#!/usr/bin/env bash
# Connection tracking on the routed lab (client - aetherd - server, af_packet):
# flows show up with both directions' endpoints, TCP state and counters; a
# full table refuses new flows, counted, while an established TCP transfer
# keeps going; clearing the table lets new flows in again. Events announce
# each flow's birth and end with its Community ID; clearing by a filter takes
# only the flows it matches.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping iperf3 jq curl
lab_require_aetherd

tap_plan 14

MAX=48
lab_topo_routed
tap_ok $? "topology client - router - server built"
C4=$LAB_CLIENT4 S4=$LAB_SERVER4 S6=$LAB_SERVER6
cfg=$LAB_ROUTER_CONFIG
cat >>"$cfg" <<EOF
conntrack:
  max_flows: $MAX
  events: true
  timeouts: {icmp: 60}
EOF
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with connection tracking ($MAX flows)"

lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$S4" >/dev/null 2>&1
lab_exec client ping -q -c 3 -i 0.2 "$S4" >/dev/null 2>&1
ct=$(lab_ctl -j show conntrack icmp "$S4")
echo "$ct" | jq -e --arg c "$C4" --arg s "$S4" '[.flows[] | select(.orig.src == $c and
	.orig.dst == $s and .reply.src == $s and .seen_reply and .orig_packets >= 3 and
	.reply_packets >= 3)] | length >= 1' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "$ct"
tap_ok $rc "ping: an ICMP echo flow, answered, with packets counted both ways"

# UDP to a closed port: the server's ICMP port unreachable is RELATED.
lab_exec client bash -c "echo probe >/dev/udp/$S4/9"
lab_wait_for 3 sh -c "'$AETHERCTL' -s '$LAB_API_SOCK' -j show conntrack | jq -e '.stats.related > 0' >/dev/null"
tap_ok $? "an ICMP error about a tracked UDP flow is related to it"

www=$(lab_tmpdir)/www
mkdir -p "$www" && head -c 200000 /dev/urandom >"$www/blob"
lab_bg server /usr/bin/python3 -m http.server --bind :: --directory "$www" 8080
lab_wait_for 5 lab_exec client curl -s -o /dev/null -m 2 "http://$S4:8080/blob"
lab_exec client curl -s -o /dev/null -m 10 "http://[$S6]:8080/blob"
ct=$(lab_ctl -j show conntrack tcp 8080)
echo "$ct" | jq -e '[.flows[] | select(.family == 6 and .orig.dport == 8080 and .assured and
	.reply_bytes > 200000 and (.state == "TIME_WAIT" or .state == "CLOSE" or
	.state == "LAST_ACK" or .state == "FIN_WAIT" or .state == "CLOSE_WAIT"))] |
	length >= 1' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "$ct"
tap_ok $rc "curl over IPv6: a TCP flow, assured, 200 kB back, closed by FIN"
lab_ctl show conntrack tcp | grep -q "ESTABLISHED\|TIME_WAIT"
tap_ok $? "aetherctl show conntrack prints the table"

# The IPv4 curl flow's events: new, with the Community ID its flow shows.
ev=$(lab_ctl -j show conntrack events)
id=$(lab_ctl -j show conntrack tcp "$S4" 8080 | jq -r '.flows[0].community_id')
echo "$ev" | jq -e --arg id "$id" '[.events[] | select(.type == "new" and .proto == "tcp" and
	.community_id == $id)] | length == 1' >/dev/null && [[ $id == 1:*= ]]
rc=$?
[ $rc -eq 0 ] || tap_diag "id $id; $(echo "$ev" | jq -c '.events[-3:]')"
tap_ok $rc "events: the curl flow's birth, with its Community ID ($id)"

# Clearing by filter: the TCP flows to 8080 go (with destroy events), the
# ICMP ones stay.
before=$(lab_ctl -j show conntrack icmp | jq .total)
n=$(lab_ctl -j clear conntrack tcp 8080 | jq .flushed)
lab_wait_for 5 sh -c "'$AETHERCTL' -s '$LAB_API_SOCK' -j show conntrack tcp 8080 | jq -e '.total == 0' >/dev/null"
rc=$?
after=$(lab_ctl -j show conntrack icmp | jq .total)
[ $rc -eq 0 ] && [ "${n:-0}" -ge 1 ] && [ "$after" -ge "$before" ] && [ "$before" -ge 1 ]
tap_ok $? "clear conntrack tcp 8080 takes $n flows, the $before ICMP flows stay"
lab_wait_for 3 sh -c "'$AETHERCTL' -s '$LAB_API_SOCK' -j show conntrack events | jq -e '[.events[] | select(.type == \"destroy\" and .reason == \"flushed\" and .orig.dport == 8080)] | length >= 1' >/dev/null"
tap_ok $? "their destroy events say flushed, with counters and duration"

# A long TCP transfer, then new flows until the table is full.
lab_bg server iperf3 -s -1
lab_wait_for 5 lab_exec client sh -c "exec 3<>/dev/tcp/$S4/5201" 2>/dev/null
lab_bg client iperf3 -c "$S4" -t 6 -J
iperf_log=$LAB_BG_LOG iperf_pid=$LAB_BG_PID
sleep 1
ok=0 refused=0
for ((i = 0; i < MAX + 16; i++)); do
	# Each ping is a process of its own, so an echo id, so a flow.
	if lab_exec client ping -c 1 -W 0.3 "$S4" >/dev/null 2>&1; then
		ok=$((ok + 1))
	else
		refused=$((refused + 1))
	fi
done
st=$(lab_ctl -j show conntrack | jq .stats)
echo "$st" | jq -e --argjson max "$MAX" '.flows == $max and .table_full > 0' >/dev/null
rc=$?
[ $rc -eq 0 ] && [ "$refused" -gt 0 ] || tap_diag "pings ok $ok, refused $refused; $st"
tap_ok $((rc | (refused == 0))) "table full: $refused new flows refused ($ok let in), counted"
lab_ctl -j show stats | jq -e '.drops.reasons["ct-table-full"] > 0' >/dev/null
tap_ok $? "refused packets counted as ct-table-full drops"
wait "$iperf_pid"
bps=$(jq -r '.end.sum_received.bits_per_second // 0' "$iperf_log" 2>/dev/null)
stalls=$(jq '[.intervals[].sum.bytes | select(. == 0)] | length' "$iperf_log" 2>/dev/null)
[ "${stalls:-9}" = 0 ] && [ "$(jq -n "${bps:-0} > 0")" = true ]
rc=$?
[ $rc -eq 0 ] || tap_diag "$(tail -c 2000 "$iperf_log")"
tap_ok $rc "the established iperf3 transfer kept going every second ($(jq -n "${bps:-0} / 1e9 * 100 | round / 100") Gbit/s)"

n=$(lab_ctl -j clear conntrack | jq .flushed)
lab_wait_for 5 sh -c "'$AETHERCTL' -s '$LAB_API_SOCK' -j show conntrack | jq -e '.stats.flows < $MAX' >/dev/null"
tap_ok $? "clear conntrack forgets $n flows"
lab_exec client ping -c 1 -W 1 "$S4" >/dev/null 2>&1
tap_ok $? "new flows get in again"

tap_done
