#!/usr/bin/env bash
# NAT on the routed lab (client - aetherd - server, af_packet): the server
# has no route back to the client's subnet, so only translated traffic can
# come back. Masquerade: curl, iperf3 and ping from the client reach the
# server, which sees the router's address; the flows show their translation.
# A port forward: the server reaches a web server on the client through a
# port of the router's address, and so does the client itself (hairpin). An
# ICMP error from beyond the NAT reaches the inside host it is about. Then
# 1:1 NAT: the client's own outside address, answered in ARP by the router.
# Last, masquerade and the forward with two workers: packets whose
# translation another worker owns are handed to it.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping jq curl iperf3 python3
lab_require_aetherd

tap_plan 20

lab_topo_routed
tap_ok $? "topology client - router - server built"
C4=$LAB_CLIENT4 S4=$LAB_SERVER4 R4W=$LAB_ROUTER4_WAN R4L=$LAB_ROUTER4_LAN
EXT=${R4W%.*}.50
lab_exec server ip route del default
# af_packet copies frames to aetherd but leaves them to the kernel too; the
# kernel knows the router's addresses (on the kernel mirrors) and would answer
# translated replies with resets. Keep it from taking anything off the ports'
# veths, as a deployment on af_packet ports must (docs/config.md).
lab_exec dut ip rule add pref 10 iif d0 blackhole &&
	lab_exec dut ip rule add pref 11 iif d1 blackhole &&
	lab_exec dut ip rule add pref 20 lookup local &&
	lab_exec dut ip rule del pref 0 lookup local || tap_bail "policy rules"
cfg=$LAB_ROUTER_CONFIG
cat >>"$cfg" <<'EOF2'
nat:
  masquerade:
    - {interface: wan, ports: "20000-20999", mapping: endpoint-independent}
  forward:
    - {interface: wan, proto: tcp, port: 8080, to: CLIENT, to_port: 8000}
EOF2
sed -i "s/CLIENT/$C4/" "$cfg"
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with masquerade on wan"

www=$(lab_tmpdir)/www
mkdir -p "$www" && head -c 300000 /dev/urandom >"$www/blob"
lab_bg server python3 -m http.server --bind 0.0.0.0 --directory "$www" 8080
http_log=$LAB_BG_LOG
lab_wait_for 10 lab_exec client curl -s -o /dev/null -m 2 "http://$S4:8080/blob"
want=$(md5sum <"$www/blob" | cut -d' ' -f1)
got=$(lab_exec client curl -s -m 10 "http://$S4:8080/blob" | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ]
tap_ok $? "curl through masquerade gets the file intact"
grep -q "^$R4W " "$http_log" && ! grep -q "^$C4 " "$http_log"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(tail -5 "$http_log")"
tap_ok $rc "the server sees the router's address ($R4W), never the client's"

lab_exec client ping -q -c 3 -i 0.2 -W 1 "$S4" >/dev/null 2>&1
tap_ok $? "ping through masquerade (ICMP echo id translated)"

# Endpoint-independent mapping: one inside socket, two destinations (ports
# 9001 and 9002 of the server): the server sees one outside port.
seen=$(lab_tmpdir)/seen
lab_bg server python3 -c '
import select, socket, sys
socks = []
for p in (9001, 9002):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", p)); socks.append(s)
out = open(sys.argv[1], "w")
for _ in range(2):
    r, _, _ = select.select(socks, [], [], 10)
    for s in r:
        _, peer = s.recvfrom(64); out.write("%s %d\n" % peer); out.flush()
' "$seen"
lab_wait_for 5 lab_exec server sh -c "ss -lun | grep -q ':9002 '"
lab_exec client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5555))
for p in (9001, 9002):
    s.sendto(b"x", (sys.argv[1], p))
' "$S4"
lab_wait_for 5 sh -c "[ \$(wc -l <'$seen') -ge 2 ]"
ports=$(awk '{print $2}' "$seen" | sort -u)
[ "$(wc -l <"$seen")" -eq 2 ] && [ "$(echo "$ports" | wc -l)" -eq 1 ] && grep -q "^$R4W " "$seen"
rc=$?
[ $rc -eq 0 ] || tap_diag "server saw: $(cat "$seen")"
tap_ok $rc "endpoint-independent mapping: one outside port ($ports) for both destinations"

lab_bg server iperf3 -s -1
lab_wait_for 5 lab_exec client sh -c "exec 3<>/dev/tcp/$S4/5201" 2>/dev/null
out=$(lab_exec client timeout 20 iperf3 -c "$S4" -t 2 -J 2>&1)
bps=$(echo "$out" | jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null)
[ -n "$bps" ] || tap_diag "$out"
tap_ok "$([ -n "$bps" ] && echo 0 || echo 1)" "iperf3 through masquerade ($(jq -n "${bps:-0} / 1e9 * 100 | round / 100") Gbit/s)"

ct=$(lab_ctl -j show conntrack tcp 8080)
echo "$ct" | jq -e --arg r "$R4W" '([.flows[] | select(.nat.snat and .nat.src == $r and
	.nat.sport >= 20000 and .nat.sport <= 20999)] | length >= 1) and .stats.nat_created >= 3' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "$ct"
tap_ok $rc "flows show their translation to $R4W, ports from the configured range"

# The port forward: outside to the router's 8080, inside to the client's 8000.
mkdir -p "$www/in" && echo inside >"$www/in/index.html"
lab_bg client python3 -m http.server --bind 0.0.0.0 --directory "$www/in" 8000
in_log=$LAB_BG_LOG
# reaches_inside NS URL FROM WHAT: NS gets the inside page at URL (two checks:
# the page, and the inside server's log showing the client as FROM).
reaches_inside() {
	local out rc
	out=$(lab_exec "$1" curl -s -m 5 "$2")
	[ "$out" = inside ]
	tap_ok $? "$4: $1 reaches the inside web server through $2"
	grep -q "^$3 " "$in_log"
	rc=$?
	[ $rc -eq 0 ] || tap_diag "$(tail -3 "$in_log")"
	tap_ok $rc "$4: the inside server sees $1 as $3"
}
lab_wait_for 10 lab_exec server curl -s -o /dev/null -m 2 "http://$R4W:8080/"
reaches_inside server "http://$R4W:8080/" "$S4" "port forward"
# Hairpin: the client reaches its own forwarded port through the outside
# address; the flow comes back through the router, which it seems to come from.
reaches_inside client "http://$R4W:8080/" "$R4L" "hairpin"

# The server answers a datagram to a closed port with port unreachable, sent
# to the router's address about the translated packet: the client's socket
# must hear it (the kernel matches the quoted header to the socket).
udp_refused() {
	lab_exec client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((sys.argv[1], 9))
for _ in range(3):
    s.send(b"x")
    try:
        s.recv(16)
    except ConnectionRefusedError:
        print("refused")
        break
    except socket.timeout:
        pass
' "$S4"
}
out=$(udp_refused)
[ "$out" = refused ]
rc=$?
[ $rc -eq 0 ] || tap_diag "client heard: '$out'; $(lab_ctl show conntrack udp 2>&1 | head -5)"
tap_ok $rc "an ICMP error from beyond the NAT reaches the inside socket it is about"

# 1:1: the client is $EXT outside, both ways, ports kept.
lab_aetherd_stop
sed -i '/^nat:/,$d' "$cfg"
cat >>"$cfg" <<EOF2
nat:
  one_to_one:
    - {interface: wan, internal: $C4, external: $EXT}
EOF2
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd restarted with 1:1 NAT of $C4 as $EXT"
: >"$in_log"
lab_wait_for 10 lab_exec server curl -s -o /dev/null -m 2 "http://$EXT:8000/"
reaches_inside server "http://$EXT:8000/" "$S4" "1:1 (the router answers ARP for $EXT)"
: >"$http_log"
lab_exec client curl -s -o /dev/null -m 5 "http://$S4:8080/blob" && grep -q "^$EXT " "$http_log"
rc=$?
[ $rc -eq 0 ] || tap_diag "$(tail -3 "$http_log")"
tap_ok $rc "1:1: the server sees the client as $EXT"

# Two workers (one af_packet queue pair each).
lab_aetherd_stop
sed -i -e '/^nat:/,$d' -e 's/^dataplane: {workers: 1}/dataplane: {workers: 2}/' "$cfg"
cat >>"$cfg" <<EOF2
nat:
  masquerade:
    - {interface: wan, ports: "20000-29999"}
  forward:
    - {interface: wan, proto: tcp, port: 8080, to: $C4, to_port: 8000}
EOF2
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd restarted with two workers, masquerade and the forward"
ok=0
for i in $(seq 1 24); do
	lab_exec client curl -s -o /dev/null -m 5 "http://$S4:8080/blob" && ok=$((ok + 1))
done
out=$(lab_exec server curl -s -m 5 "http://$R4W:8080/")
# Flows to one server share a worker; 16 pings (16 echo ids) spread.
for i in $(seq 1 16); do lab_exec client ping -c 1 -W 1 "$S4" >/dev/null 2>&1 && ok=$((ok + 1)); done
ct=$(lab_ctl -j show conntrack)
[ $ok -eq 40 ] && [ "$out" = inside ] &&
	echo "$ct" | jq -e '.stats.nat_handed_off > 0 and .stats.nat_handoff_full == 0 and
		([.flows[].worker] | unique | length) == 2' >/dev/null
rc=$?
[ $rc -eq 0 ] || tap_diag "curl and ping $ok/40, forward '$out'; $(echo "$ct" | jq -c .stats)"
tap_ok $rc "two workers: 24 masqueraded connections, 16 pings and the forward work; flows on both, $(echo "$ct" | jq .stats.nat_handed_off) packets handed to the worker owning their flow"
lab_bg server iperf3 -s -1
lab_wait_for 5 lab_exec client sh -c "exec 3<>/dev/tcp/$S4/5201" 2>/dev/null
out=$(lab_exec client timeout 20 iperf3 -c "$S4" -t 2 -P 4 -J 2>&1)
bps=$(echo "$out" | jq -r '.end.sum_received.bits_per_second // empty' 2>/dev/null)
[ -n "$bps" ] || tap_diag "$(echo "$out" | tail -5)"
tap_ok "$([ -n "$bps" ] && echo 0 || echo 1)" "two workers: iperf3 with 4 streams through masquerade ($(jq -n "${bps:-0} / 1e9 * 100 | round / 100") Gbit/s)"

tap_done
