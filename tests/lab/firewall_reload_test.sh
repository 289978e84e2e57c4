#!/usr/bin/env bash
# Firewall rules reloaded under an established connection (client "lan" -
# aetherd - server "wan", af_packet): the outside holds a TCP connection open
# to an inside service while a reload turns the rule that let it in into a
# logged reject. The held connection keeps exchanging data (conntrack keeps
# it, established packets skip the rules); new connections to the port, IPv4
# and IPv6, are refused with a reset; the rule's hit counter counts them, an
# unchanged rule keeps its hits across the reload, the log records reach the
# daemon's log and GET /api/v1/firewall/log. A DSCP rule lets only EF-marked
# datagrams through.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping jq python3
lab_require_aetherd

tap_plan 11

lab_topo_routed
tap_ok $? "topology client - router - server built"
C4=$LAB_CLIENT4 C6=$LAB_CLIENT6 R4W=$LAB_ROUTER4_WAN
dir=$(lab_tmpdir)
cfg=$dir/live.yaml
# v1: port 9000 open from outside; v2: the same rule rejects and logs.
rules() {
	cat "$LAB_ROUTER_CONFIG"
	cat <<-EOF
		firewall:
		  zones:
		    - {name: inside, interfaces: [lan]}
		    - {name: outside, interfaces: [wan]}
		  policies:
		    - {from: inside, to: any, action: accept}
		    - {from: outside, to: any, action: drop}
		  rules:
		    - {from: outside, to: self, proto: icmp, icmp_type: 8, action: accept, comment: ping}
		    - {from: outside, to: inside, proto: tcp, dport: "9000", action: $1 $2, comment: svc}
		    - {from: outside, to: inside, proto: udp, dport: "9001", dscp: 46, action: accept}
	EOF
}
rules accept "" >"$cfg"
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with port 9000 open from outside"

# Inside: an echo service on 9000, a UDP counter on 9001.
lab_bg client python3 -c '
import os, socket, threading, sys
def echo(c):
    while True:
        d = c.recv(4096)
        if not d: return
        c.sendall(d)
def tcp(fam, addr):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 9000)); s.listen(16)
    while True:
        c, _ = s.accept(); threading.Thread(target=echo, args=(c,), daemon=True).start()
threading.Thread(target=tcp, args=(socket.AF_INET, "0.0.0.0"), daemon=True).start()
threading.Thread(target=tcp, args=(socket.AF_INET6, "::"), daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 9001))
n = 0
while True:
    d = u.recv(100); n += 1
    # A new file renamed over the old: a reader never sees it half written.
    open(sys.argv[1] + ".new", "w").write("%d %s\n" % (n, d.decode()))
    os.replace(sys.argv[1] + ".new", sys.argv[1])
' "$dir/udp.count"

# connect_once ADDR: 0 when a connection to ADDR port 9000 echoes; prints
# "refused" or "timeout" otherwise.
connect_once() {
	lab_exec server python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 9000), timeout=2)
    s.sendall(b"x"); sys.exit(0 if s.recv(1) == b"x" else 1)
except ConnectionRefusedError:
    print("refused"); sys.exit(2)
except OSError as e:
    print("timeout" if isinstance(e, socket.timeout) else e); sys.exit(3)
' "$1"
}
lab_wait_for 10 connect_once "$C4" && lab_wait_for 10 connect_once "$C6"
tap_ok $? "new connections to 9000 from outside are accepted (IPv4, IPv6)"

# Outside: one connection held open, a round trip every 50 ms, the count in a file.
lab_bg server python3 -c '
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 9000), timeout=2)
n = 0
end = time.time() + 40
while time.time() < end:
    s.sendall(b"ping"); d = b""
    while len(d) < 4:
        d += s.recv(4 - len(d))
    n += 1
    open(sys.argv[2] + ".new", "w").write("%d\n" % n)
    os.replace(sys.argv[2] + ".new", sys.argv[2])
    time.sleep(0.05)
' "$C4" "$dir/held.count"
held_pid=$LAB_BG_PID
held() { cat "$dir/held.count" 2>/dev/null || echo 0; }
lab_wait_for 10 sh -c "[ \$(cat $dir/held.count 2>/dev/null || echo 0) -ge 5 ]"
tap_ok $? "a connection from outside is held open and echoing"

# Three ping processes: three echo ids, three new flows (within one, the
# router's tracked answer makes the next request established).
for _ in 1 2 3; do lab_exec server ping -c 1 -W 1 "$R4W" >/dev/null 2>&1; done
ping_hits=$(lab_ctl -j show firewall | jq '.rules[0].hits')
svc_hits=$(lab_ctl -j show firewall | jq '.rules[1].hits')

rules reject ", log: true" >"$cfg"
out=$(lab_ctl reload 2>&1)
tap_ok $? "reload with 9000 turned into a logged reject accepted ($out)"

before=$(held)
sleep 1.5
after=$(held)
kill -0 "$held_pid" 2>/dev/null && [ "$after" -ge $((before + 10)) ]
tap_ok $? "the held connection keeps echoing after the reload ($before -> $after round trips)"

r4=$(connect_once "$C4")
r6=$(connect_once "$C6")
[ "$r4" = refused ] && [ "$r6" = refused ]
tap_ok $? "new connections to 9000 are refused with a reset (IPv4: $r4, IPv6: $r6)"

fw=$(lab_ctl -j show firewall)
echo "$fw" | jq -e --argjson p "$ping_hits" --argjson s "$svc_hits" '
	.rules[0].hits >= $p and $p >= 3 and $s >= 3 and
	.rules[1].action == "reject" and .rules[1].log == true and .rules[1].hits >= 2 and
	.rules[1].hits < $s' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "before: ping $ping_hits, svc $svc_hits; after: $fw"
tap_ok $rc "hits: the unchanged rule keeps its count, the changed rule counts the refusals"

lab_wait_for 5 sh -c "grep -q 'rule 1 svc: reject tcp' '$LAB_AETHERD_LOG'"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(tail -5 "$LAB_AETHERD_LOG")"
tap_ok $rc "the log rule's records are in the daemon's log"

log=$(lab_ctl -j show firewall log)
echo "$log" | jq -e --arg c "$C4" '.logged >= 2 and
	([.records[] | select(.rule == 1 and .action == "reject" and .dst == $c and .dport == 9000
		and .ct == "new" and .from == "outside" and .to == "inside")] | length) >= 1' \
	>/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "$log"
tap_ok $rc "GET /api/v1/firewall/log holds the records"

# DSCP: EF (46) passes the rule, best effort meets the outside policy (drop).
lab_exec server python3 -c '
import socket, sys, time
for tos, tag in ((0, "be"), (46 << 2, "ef")):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    for i in range(3):
        u.sendto(tag.encode(), (sys.argv[1], 9001)); time.sleep(0.05)
' "$C4"
lab_wait_for 3 grep -q " ef" "$dir/udp.count"
got=$(cat "$dir/udp.count" 2>/dev/null)
[ "${got%% *}" = 3 ]
tap_ok $? "DSCP rule: 3 EF datagrams pass, best effort ones are dropped (inside got: $got)"

tap_done
