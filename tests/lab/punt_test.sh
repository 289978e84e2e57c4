#!/usr/bin/env bash
# The punt path (linux-cp): each routed interface has a kernel TAP mirror
# with its MAC and addresses, so daemons bound to the appliance's addresses
# work. A real sshd in the appliance's namespace, reached from the client over
# IPv4 and IPv6 through aetherd; a TCP service on the WAN address reached from
# the server side. The kernel sees the appliance's traffic only through the
# mirrors: the af_packet ports keep its stack off their interfaces, so with
# forwarding on in the namespace (as on a router host) nothing arrives twice,
# and the interfaces go back to the kernel when aetherd stops. Also the
# packet trace of a dropped packet.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ssh ssh-keygen /usr/sbin/sshd curl jq /usr/bin/python3
lab_require_aetherd

tap_plan 16

lab_topo_routed
tap_ok $? "topology client - router - server built"
lab_aetherd_start dut "$LAB_ROUTER_CONFIG"
tap_ok $? "aetherd started"

lab_ctl -j show interfaces | jq -e '[.interfaces[] | select(.kernel_mirror != null)] |
	length == 2' >/dev/null &&
	lab_exec dut ip -br addr show ap-lan | grep -q "$LAB_ROUTER4_LAN/24"
tap_ok $? "each interface has a kernel mirror carrying its addresses"

lab_exec dut tc filter show dev d0 ingress | grep -q 'ap_port_claim' &&
	lab_exec dut tc filter show dev d1 ingress | grep -q 'ap_port_claim' &&
	[ "$(lab_exec dut cat /proc/sys/net/ipv6/conf/d0/disable_ipv6)" = 1 ]
tap_ok $? "the kernel's stack is kept off the ports' interfaces (tc ingress drop, no IPv6)"

# A router host forwards; the kernel must not route the port's frames again.
lab_exec dut sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
out=$(lab_exec client ping -c 5 -i 0.2 -W 2 "$LAB_SERVER4" 2>&1; lab_exec client ping -c 5 -i 0.2 -W 2 "$LAB_SERVER6" 2>&1)
echo "$out" | grep -c ' 5 received, 0% packet loss' | grep -qx 2 && ! echo "$out" | grep -q 'duplicates'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "with forwarding on in the namespace, pings through aetherd arrive once (IPv4, IPv6)"
out=$(lab_exec client ping -c 5 -i 0.2 -W 2 "$LAB_ROUTER4_LAN" 2>&1)
echo "$out" | grep -q ' 5 received, 0% packet loss' && ! echo "$out" | grep -q 'duplicates'
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "pings to the appliance's own address get one answer each"

dir=$(lab_tmpdir)/ssh
mkdir -p "$dir" /run/sshd && chmod 700 "$dir"
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" &&
	ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" &&
	cp "$dir/client_key.pub" "$dir/authorized_keys"
cat >"$dir/sshd_config" <<EOF2
ListenAddress $LAB_ROUTER4_LAN
ListenAddress $LAB_ROUTER6_LAN
Port 2222
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
EOF2
lab_bg dut /usr/sbin/sshd -D -e -f "$dir/sshd_config"
lab_wait_for 5 lab_exec dut sh -c "ss -ltn | grep -q ':2222 '"
tap_ok $? "sshd listens on the appliance's addresses"

ssh_to() {
	lab_exec client timeout 20 ssh -i "$dir/client_key" -p 2222 -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
		-o LogLevel=ERROR "root@$1" echo punt-ok 2>&1
}
out=$(ssh_to "$LAB_ROUTER4_LAN")
[ "$out" = punt-ok ]
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "ssh to the appliance over IPv4 through the punt path"
out=$(ssh_to "$LAB_ROUTER6_LAN")
[ "$out" = punt-ok ]
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "ssh to the appliance over IPv6 through the punt path"

lab_bg dut /usr/bin/python3 -m http.server --bind "$LAB_ROUTER4_WAN" 8000
lab_wait_for 5 lab_exec dut sh -c "ss -ltn | grep -q ':8000 '"
code=$(lab_exec server curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$LAB_ROUTER4_WAN:8000/")
[ "$code" = 200 ]
tap_ok $? "a TCP service on the WAN address answers the server side"

# Packet trace: a frame with a broken IPv4 checksum is followed through the
# graph to the drop node, which names the reason.
lab_ctl trace add 5 udp port 4242 >/dev/null
lab_exec client /usr/bin/python3 -c "
from scapy.all import Ether, IP, UDP, sendp
sendp(Ether(dst='$(lab_exec dut cat /sys/class/net/d0/address)') /
      IP(dst='$LAB_SERVER4', chksum=0x1234) / UDP(sport=4242, dport=4242), iface='c0', verbose=0)"
sleep 0.5
lab_ctl -j trace show | jq -e '(.packets | length) == 1 and ([.packets[] | select(any(.path[];
	.event == "drop" and .reason == "ip4-bad-checksum")) | .path | map(.node) |
	select(. == ["port-rx", "eth-input", "ip4-input", "drop"])] | length == 1)' >/dev/null
tap_ok $? "a filtered trace follows only the bad-checksum packet to the drop node, with the reason"
lab_ctl trace show | grep -q 'drop: ip4-bad-checksum' && lab_ctl trace clear >/dev/null &&
	lab_ctl -j trace show | jq -e '.active == false and (.packets | length) == 0' >/dev/null
tap_ok $? "aetherctl trace show prints it; trace clear stops and forgets"

# Live capture: the next 10 packets of the LAN port (both directions) while
# a ping runs, to a pcapng file that a capture reader opens.
cap=$(lab_tmpdir)/lan.pcapng
lab_bg client ping -i 0.05 -c 100 "$LAB_SERVER4"
out=$(timeout 30 "$AETHERCTL" -s "$LAB_API_SOCK" capture lan -w "$cap" -c 10 icmp 2>&1)
tap_diag "$out"
echo "$out" | grep -q "^10 packets written to $cap"
tap_ok $? "aetherctl capture lan -w FILE -c 10 icmp writes 10 packets"
/usr/bin/python3 -c "
import sys
from scapy.all import rdpcap, ICMP
pk = rdpcap(sys.argv[1])
sys.exit(0 if len(pk) == 10 and all(ICMP in p for p in pk) else 1)" "$cap"
tap_ok $? "the pcapng file holds the 10 packets, all matching the filter (icmp)"

lab_aetherd_stop
! lab_exec dut ip link show ap-lan >/dev/null 2>&1
tap_ok $? "the kernel mirrors go away with aetherd"
! lab_exec dut tc qdisc show dev d0 | grep -q clsact &&
	[ "$(lab_exec dut cat /proc/sys/net/ipv6/conf/d0/disable_ipv6)" = 0 ]
tap_ok $? "the ports' interfaces go back to the kernel"
tap_done
