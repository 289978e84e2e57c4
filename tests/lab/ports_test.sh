#!/usr/bin/env bash
# The other port drivers on the lab line: af_xdp on both veths, a port given
# as raw DPDK devargs, and a tap port whose kernel side answers the client
# (beside an af_packet port left to the kernel's stack as well).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping jq
lab_require_aetherd

tap_plan 12

lab_topo_line
tap_ok $? "topology client - dut - server built"
dir=$(lab_tmpdir)

ping_ok() {
	local out
	lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$1"
	out=$(lab_exec client ping -q -c 10 -i 0.05 -W 2 "$1" 2>&1)
	echo "$out" | grep -q ' 0% packet loss' && return 0
	tap_diag "$out"
	return 1
}

# The NAPI knobs of preferred busy polling on interface $1: "DEFER TIMEOUT".
napi_knobs() {
	lab_exec dut cat "/sys/class/net/$1/napi_defer_hard_irqs" "/sys/class/net/$1/gro_flush_timeout" |
		tr '\n' ' ' | sed 's/ $//'
}

# Right after an XDP program goes, a new one can fail to attach once (see the
# lab notes); detach explicitly before the next start.
xdp_detach() {
	lab_exec dut ip link set dev d0 xdp off 2>/dev/null
	lab_exec dut ip link set dev d1 xdp off 2>/dev/null
}

# af_xdp (the kernel's XDP sockets) on both sides, their interfaces set for
# preferred busy polling while aetherd runs (dp/core/port_claim.h) and put
# back as they were after.
lab_exec dut sh -c 'echo 1 >/sys/class/net/d1/napi_defer_hard_irqs'
sed 's/af_packet/af_xdp/' "$LAB_XC_CONFIG" >"$dir/xdp.yaml"
lab_aetherd_start dut "$dir/xdp.yaml" &&
	lab_ctl -j show ports | jq -e '[.ports[].driver] == ["af_xdp", "af_xdp"]' >/dev/null
tap_ok $? "aetherd starts with two af_xdp ports"
[ "$(napi_knobs d0)" = "2 200000" ] && [ "$(napi_knobs d1)" = "2 200000" ]
tap_ok $? "af_xdp ports set their interfaces for busy polling ($(napi_knobs d0), $(napi_knobs d1))"
ping_ok "$LAB_SERVER4"
tap_ok $? "ping through the af_xdp cross-connect, 0% loss"
lab_aetherd_stop
[ "$(napi_knobs d0)" = "0 0" ] && [ "$(napi_knobs d1)" = "1 0" ]
tap_ok $? "the knobs are back as they were when aetherd stops ($(napi_knobs d0), $(napi_knobs d1))"
xdp_detach

# busy_poll: false leaves the knobs to the kernel's defaults.
sed 's/driver: af_xdp,/driver: af_xdp, busy_poll: false,/' "$dir/xdp.yaml" >"$dir/xdp-nobp.yaml"
lab_aetherd_start dut "$dir/xdp-nobp.yaml" &&
	[ "$(napi_knobs d0)" = "0 0" ] && [ "$(napi_knobs d1)" = "1 0" ] && ping_ok "$LAB_SERVER4"
tap_ok $? "with busy_poll: false the interfaces keep their knobs, and the ports forward"
lab_aetherd_stop
xdp_detach

# devargs: any DPDK device string, here the af_packet driver spelled out.
cat >"$dir/devargs.yaml" <<EOF2
dataplane: {workers: 1}
ports:
  - {name: lan, driver: af_packet, iface: d0}
  - {name: wan, driver: devargs, devargs: "net_af_packet7,iface=d1"}
xconnect:
  - {a: lan, b: wan}
EOF2
lab_aetherd_start dut "$dir/devargs.yaml" && ping_ok "$LAB_SERVER4"
tap_ok $? "a port given as DPDK devargs forwards, 0% loss"
lab_aetherd_stop

# tap: the cross-connect ends in a kernel tap interface in the dut namespace,
# which answers the client itself. The af_packet side says kernel_stack: true,
# so its interface stays the kernel's as well (no claim, IPv6 on).
x=${LAB_CLIENT4%.1}
cat >"$dir/tap.yaml" <<EOF2
dataplane: {workers: 1}
ports:
  - {name: lan, driver: af_packet, iface: d0, kernel_stack: true}
  - {name: host, driver: tap, iface: aptap0}
xconnect:
  - {a: lan, b: host}
EOF2
lab_aetherd_start dut "$dir/tap.yaml" &&
	lab_exec dut ip addr add "$x.3/24" dev aptap0 && lab_exec dut ip link set aptap0 up
tap_ok $? "aetherd creates the tap port's kernel interface"
ping_ok "$x.3"
tap_ok $? "the client reaches the kernel behind the tap port, 0% loss"
! lab_exec dut tc qdisc show dev d0 | grep -q clsact &&
	[ "$(lab_exec dut cat /proc/sys/net/ipv6/conf/d0/disable_ipv6)" = 0 ]
tap_ok $? "with kernel_stack: true the af_packet port leaves its interface to the kernel"
lab_aetherd_stop

# A null port with an rx_template receives the template's frames, byte for
# byte and in order, whatever their lengths (its copy moves 32-byte blocks);
# here as a wire to a second null port, read back by a capture of its RX.
/usr/bin/python3 - "$dir/tpl.pcap" <<'EOF2'
import random, struct, sys
rnd = random.Random(11)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for n in (14, 60, 74, 95, 128, 129, 200, 1514):
        fr = bytes(rnd.randrange(256) for _ in range(n))
        f.write(struct.pack("<IIII", 0, 0, n, n) + fr)
EOF2
cat >"$dir/tpl.yaml" <<EOF2
dataplane: {workers: 1}
ports:
  - {name: n0, driver: null, validate: none, rx_template: $dir/tpl.pcap}
  - {name: n1, driver: null}
xconnect:
  - {a: n0, b: n1}
EOF2
lab_aetherd_start dut "$dir/tpl.yaml" &&
	timeout 30 "$AETHERCTL" -s "$LAB_API_SOCK" capture n0 -w "$dir/tpl.pcapng" -c 40 rx |
	grep -q "^40 packets written"
tap_ok $? "aetherctl capture n0 -c 40 rx: 40 frames of the template port"
/usr/bin/python3 - "$dir/tpl.pcap" "$dir/tpl.pcapng" <<'EOF2'
import sys
from scapy.all import rdpcap
tpl = [bytes(p) for p in rdpcap(sys.argv[1])]
got = [bytes(p) for p in rdpcap(sys.argv[2])]
start = [k for k in range(len(tpl)) if tpl[k] == got[0]]
ok = len(got) == 40 and len(start) == 1 and all(
    got[i] == tpl[(start[0] + i) % len(tpl)] for i in range(len(got)))
if not ok:
    print("# lengths captured: %s" % [len(g) for g in got])
sys.exit(0 if ok else 1)
EOF2
tap_ok $? "the captured frames are the template's, byte for byte, in order"
lab_aetherd_stop
tap_done
