#!/usr/bin/env bash
# The stateful firewall on the routed lab (client "lan" - aetherd - server
# "wan", af_packet): the inside reaches out freely and the answers come back
# as established; from outside an nmap scan sees exactly the ports the rules
# open, a rejected TCP port answers with a reset and a rejected UDP port with
# ICMP administratively prohibited, the rest is silently dropped; the rules'
# hit counters match the scan; a new flow's later packets take its memo.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping jq curl nmap hping3 python3
lab_require_aetherd

tap_plan 13

lab_topo_routed
tap_ok $? "topology client - router - server built"
C4=$LAB_CLIENT4 S4=$LAB_SERVER4 R4W=$LAB_ROUTER4_WAN
cfg=$LAB_ROUTER_CONFIG
cat >>"$cfg" <<'EOF'
firewall:
  zones:
    - {name: inside, interfaces: [lan]}
    - {name: outside, interfaces: [wan]}
  sets:
    - {name: web, ports: ["80", "8080"]}
  policies:
    - {from: inside, to: any, action: accept}
    - {from: outside, to: any, action: drop}
  rules:
    - {from: outside, to: inside, proto: tcp, dport: web, action: accept, comment: web}
    - {from: outside, to: inside, proto: tcp, dport: "22", action: reject}
    - {from: outside, to: self, proto: icmp, icmp_type: 8, action: accept}
    - {from: outside, to: inside, proto: udp, dport: "53", action: reject}
EOF
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with zones, a port set, policies and rules"

# Listeners inside (the kernel answers SYNs of listening sockets).
lab_bg client python3 -c '
import socket, time
socks = []
for p in (22, 25, 80, 443, 8080):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p)); s.listen(16); socks.append(s)
time.sleep(120)'
www=$(lab_tmpdir)/www
mkdir -p "$www" && echo hello >"$www/index.html"
lab_bg server python3 -m http.server --bind 0.0.0.0 --directory "$www" 8081

lab_wait_for 10 lab_exec client curl -s -o /dev/null -m 2 "http://$S4:8081/"
out=$(lab_exec client curl -s -m 5 "http://$S4:8081/")
[ "$out" = hello ]
tap_ok $? "inside to outside: curl gets its answer (established on the way back)"

# Two ping processes: two echo ids, two new flows (within one, the router's
# tracked answer makes the next request established).
lab_exec server ping -c 1 -W 1 "$R4W" >/dev/null 2>&1 &&
	lab_exec server ping -c 1 -W 1 "$R4W" >/dev/null 2>&1
tap_ok $? "outside pings the router (rule: icmp echo to self)"

# The appliance's own connection out (its kernel, through the mirror): what
# it sends is tracked, so the answer comes back established although the
# policy drops everything from outside.
out=$(lab_exec dut curl -s -m 5 "http://$S4:8081/")
ct=$(lab_ctl -j show conntrack tcp "$R4W" 8081)
[ "$out" = hello ] && echo "$ct" | jq -e '.total >= 1' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "got '$out'; $ct"
tap_ok $rc "the router's own connection out is tracked and its answers get in"
! lab_exec server ping -c 2 -i 0.2 -W 1 "$C4" >/dev/null 2>&1
tap_ok $? "outside cannot ping inside (policy drop)"

scan=$(lab_exec server nmap -n -Pn -sS -p 22,25,80,443,8080 --max-retries 1 \
	--host-timeout 60s "$C4" 2>&1)
want_open=$(echo "$scan" | awk '/^[0-9]+\/tcp/ && $2 == "open" { print $1 }' | tr '\n' ' ')
want_closed=$(echo "$scan" | awk '/^[0-9]+\/tcp/ && $2 == "closed" { print $1 }' | tr '\n' ' ')
want_filtered=$(echo "$scan" | awk '/^[0-9]+\/tcp/ && $2 == "filtered" { print $1 }' | tr '\n' ' ')
[ "$want_open" = "80/tcp 8080/tcp " ] && [ "$want_closed" = "22/tcp " ] &&
	[ "$want_filtered" = "25/tcp 443/tcp " ]
rc=$?
[ $rc -eq 0 ] || tap_diag "$scan"
tap_ok $rc "nmap from outside: 80, 8080 open; 22 closed (reset); 25, 443 filtered"

# The same scan with an IPv4 option in every probe (record route): the rules
# still see the ports, so the answer is the same.
scan=$(lab_exec server nmap -n -Pn -sS -p 22,25,80,443,8080 --max-retries 1 --ip-options R \
	--host-timeout 60s "$C4" 2>&1)
[ "$(echo "$scan" | awk '/^[0-9]+\/tcp/ { printf "%s %s ", $1, $2 }')" = \
	"22/tcp closed 25/tcp filtered 80/tcp open 443/tcp filtered 8080/tcp open " ]
rc=$?
[ $rc -eq 0 ] || tap_diag "$scan"
tap_ok $rc "nmap with IPv4 options in its probes: the same ports open, closed and filtered"

fw=$(lab_ctl -j show firewall)
echo "$fw" | jq -e '.rules[0].hits >= 2 and .rules[1].hits >= 1 and .rules[2].hits >= 2 and
	.verdicts.policy_drop >= 2 and .verdicts.rule_reject >= 1 and .verdicts.established > 0' \
	>/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "$fw"
tap_ok $rc "rule hit counters match the scan and the pings"

out=$(lab_exec server hping3 --udp -p 53 -c 1 "$C4" 2>&1)
echo "$out" | grep -qi "filtered\|prohibited"
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "rejected UDP port: ICMP administratively prohibited"

# Three datagrams of one UDP flow that nothing answers: each is new and
# dropped by the policy; the first is classified, the next two take the
# flow's memo of it.
before=$(lab_ctl -j show firewall)
lab_exec server hping3 --udp -s 4000 -k -p 5353 -c 3 -i u100000 "$C4" >/dev/null 2>&1
after=$(lab_ctl -j show firewall)
jq -n -e --argjson a "$before" --argjson b "$after" \
	'$b.verdicts.policy_drop - $a.verdicts.policy_drop == 3 and
	$b.memo_hits - $a.memo_hits == 2' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "before: $(echo "$before" | jq -c '{verdicts, memo_hits}');" \
	"after: $(echo "$after" | jq -c '{verdicts, memo_hits}')"
tap_ok $rc "a new flow's later packets take its memo: same verdicts, counted"

lab_ctl show firewall | grep -q "reject"
tap_ok $? "aetherctl show firewall prints the rules"
lab_ctl -j show stats | jq -e '.drops.reasons["fw-drop"] >= 2' >/dev/null
tap_ok $? "dropped packets counted as fw-drop"

tap_done
