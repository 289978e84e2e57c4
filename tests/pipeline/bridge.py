#!/usr/bin/python3
"""Offline bridging and VLAN golden test: a capture in, expected captures checked.

  bridge.py gen DIR     write trk_in.pcap and bridge.yaml into DIR
  bridge.py check DIR   check acc_out, trk_out and qnq_out against what each
                        input frame must produce; prints TAP lines
  bridge.py count       how many TAP lines check prints

Three pcap ports: acc (untagged member of bridge v10), trk (a trunk: VLAN 10
in v10, VLAN 20 in v20, VLAN 30 a routed sub-interface) and qnq (S-tag 100,
C-tag 10 in v10). Bridge v20 has an interface (10.0.20.1/24). Destinations
are static MACs, so the outcome does not depend on learning's timing. Every
input frame comes in on the trunk.
"""
import json

from scapy.all import (ARP, ICMP, IP, UDP, Dot1Q, Ether, Raw, raw, rdpcap,
                       wrpcap)

from golden import Results, main

# DPDK's pcap driver numbers its MACs in creation order: acc, trk, qnq.
R_ACC = "02:70:63:61:70:00"
R_TRK = "02:70:63:61:70:01"  # also bridge v20's interface (its first port) and trk.30
R_QNQ = "02:70:63:61:70:02"
HA = "02:00:00:00:0a:01"    # static on acc
HQ = "02:00:00:00:0a:02"    # static on qnq (100.10)
HB = "02:00:00:00:0a:03"    # a trunk host on VLAN 10
H20 = "02:00:00:00:14:05"   # 10.0.20.5, static on trk VLAN 20
H30 = "02:00:00:00:1e:05"   # 10.0.30.5 behind trk.30

CONFIG = """dataplane: {workers: 1}
ports:
  - {name: acc, driver: pcap, tx_pcap: acc_out.pcap}
  - {name: trk, driver: pcap, rx_pcap: trk_in.pcap, tx_pcap: trk_out.pcap}
  - {name: qnq, driver: pcap, tx_pcap: qnq_out.pcap}
bridges:
  - name: v10
    members:
      - {port: acc}
      - {port: trk, vlan: 10}
      - {port: qnq, vlan: 100, inner_vlan: 10}
    static_macs:
      - {mac: "%s", port: acc}
      - {mac: "%s", port: qnq, vlan: 100, inner_vlan: 10}
  - name: v20
    members:
      - {port: trk, vlan: 20}
    static_macs:
      - {mac: "%s", port: trk, vlan: 20}
interfaces:
  - {name: v20, bridge: v20, addresses: [10.0.20.1/24]}
  - {name: trk.30, port: trk, vlan: 30, addresses: [10.0.30.1/24]}
neighbors:
  - {interface: v20, address: 10.0.20.5, mac: "%s"}
  - {interface: trk.30, address: 10.0.30.5, mac: "%s"}
""" % (HA, HQ, H20, H20, H30)

PAY = Raw(b"p" * 40)


def frames():
    """(name, frame) for every input, in capture order."""
    udp = lambda s: IP(src="10.0.10.3", dst="10.0.10.9") / UDP(sport=s, dport=7) / PAY
    return [
        ("to-access", Ether(src=HB, dst=HA) / Dot1Q(vlan=10) / udp(3001)),
        ("to-qinq", Ether(src=HB, dst=HQ) / Dot1Q(vlan=10) / udp(3002)),
        ("broadcast", Ether(src=HB, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=10) /
         ARP(op=1, hwsrc=HB, psrc="10.0.10.3", pdst="10.0.10.9")),
        ("unknown-unicast", Ether(src=HB, dst="02:00:00:00:0a:99") / Dot1Q(vlan=10) /
         udp(3004)),
        ("vlan-99", Ether(src=HB, dst=HA) / Dot1Q(vlan=99) / udp(3005)),
        ("untagged-on-trunk", Ether(src=HB, dst=HA) / udp(3006)),
        ("group-source", Ether(src="01:00:5e:00:00:01", dst=HA) / Dot1Q(vlan=10) / udp(3007)),
        ("same-member", Ether(src=HB, dst=H20) / Dot1Q(vlan=20) /
         IP(src="10.0.20.3", dst="10.0.20.5") / UDP(sport=3008, dport=7) / PAY),
        ("echo-bvi", Ether(src=H20, dst=R_TRK) / Dot1Q(vlan=20) /
         IP(src="10.0.20.5", dst="10.0.20.1") / ICMP(id=20, seq=1) / PAY),
        ("echo-subif", Ether(src=H30, dst=R_TRK) / Dot1Q(vlan=30) /
         IP(src="10.0.30.5", dst="10.0.30.1") / ICMP(id=30, seq=1) / PAY),
        ("route-subif-to-bvi", Ether(src=H30, dst=R_TRK) / Dot1Q(vlan=30) /
         IP(src="10.0.30.5", dst="10.0.20.5", ttl=9) / UDP(sport=3011, dport=7) / PAY),
        ("route-bvi-to-subif", Ether(src=H20, dst=R_TRK) / Dot1Q(vlan=20) /
         IP(src="10.0.20.5", dst="10.0.30.5", ttl=9) / UDP(sport=3012, dport=7) / PAY),
    ]


def gen(d):
    wrpcap(d + "/trk_in.pcap", [f for _, f in frames()])
    with open(d + "/bridge.yaml", "w") as f:
        f.write(CONFIG)


def tags(p):
    """[(tpid, vid), ...] of the frame's VLAN tags, outer first."""
    out, t = [], p.type
    layer = p.payload
    while t in (0x8100, 0x88A8):
        out.append((t, layer.vlan))
        t = layer.type
        layer = layer.payload
    return out


def udp_sport(p):
    return p[UDP].sport if UDP in p else None


def check(d):
    acc = rdpcap(d + "/acc_out.pcap")
    trk = rdpcap(d + "/trk_out.pcap")
    qnq = rdpcap(d + "/qnq_out.pcap")
    summary = json.load(open(d + "/summary.json"))
    inp = dict(frames())
    results = Results()
    ok = results.ok

    def find(pkts, pred):
        return [p for p in pkts if pred(p)]

    macs = {p["name"]: p["mac"].lower() for p in summary["ports"]}
    ok(macs == {"acc": R_ACC, "trk": R_TRK, "qnq": R_QNQ},
       "port MACs as the captures assume: %s" % macs)

    f = find(acc, lambda p: udp_sport(p) == 3001)
    ok(len(f) == 1 and tags(f[0]) == [] and f[0].dst == HA and f[0].src == HB and
       raw(f[0][IP]) == raw(inp["to-access"][IP]),
       "trunk VLAN 10 to an access port: tag taken off, frame otherwise unchanged")
    f = find(qnq, lambda p: udp_sport(p) == 3002)
    ok(len(f) == 1 and tags(f[0]) == [(0x88A8, 100), (0x8100, 10)] and
       raw(f[0][IP]) == raw(inp["to-qinq"][IP]),
       "trunk VLAN 10 to a QinQ member: 802.1ad S-tag 100 around 802.1Q C-tag 10")
    ok(not find(trk + qnq, lambda p: udp_sport(p) == 3001) and
       not find(trk + acc, lambda p: udp_sport(p) == 3002),
       "known destinations go to their member only")

    arp = lambda pk: find(pk, lambda p: ARP in p and p[ARP].pdst == "10.0.10.9")
    ok(len(arp(acc)) == 1 and tags(arp(acc)[0]) == [] and len(arp(qnq)) == 1 and
       tags(arp(qnq)[0]) == [(0x88A8, 100), (0x8100, 10)] and not arp(trk),
       "broadcast flooded to every other member, each with its own tags")
    ok(len(find(acc, lambda p: udp_sport(p) == 3004)) == 1 and
       len(find(qnq, lambda p: udp_sport(p) == 3004)) == 1 and
       not find(trk, lambda p: udp_sport(p) == 3004),
       "unknown unicast flooded to every other member")
    ok(not find(acc + trk + qnq, lambda p: udp_sport(p) in (3005, 3006, 3007, 3008)),
       "unknown VLAN, untagged on a trunk, group source and same-member frames not sent")
    drops = summary["drops"]["reasons"]
    ok(drops.get("vlan-unknown") == 2 and drops.get("l2-group-source") == 1 and
       drops.get("l2-same-member") == 1, "drops counted by reason: %s" % drops)

    f = find(trk, lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 20)
    ok(len(f) == 1 and tags(f[0]) == [(0x8100, 20)] and f[0].src == R_TRK and
       f[0].dst == H20 and f[0][IP].src == "10.0.20.1",
       "the bridge interface answers ping, out through the bridge on VLAN 20")
    f = find(trk, lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 30)
    ok(len(f) == 1 and tags(f[0]) == [(0x8100, 30)] and f[0].dst == H30 and
       f[0][IP].src == "10.0.30.1",
       "the VLAN sub-interface answers ping, tagged 30")
    f = find(trk, lambda p: udp_sport(p) == 3011)
    ok(len(f) == 1 and tags(f[0]) == [(0x8100, 20)] and f[0].dst == H20 and
       f[0].src == R_TRK and f[0][IP].ttl == 8,
       "routed from the sub-interface into the bridge: VLAN 20, TTL 8")
    f = find(trk, lambda p: udp_sport(p) == 3012)
    ok(len(f) == 1 and tags(f[0]) == [(0x8100, 30)] and f[0].dst == H30 and
       f[0][IP].ttl == 8, "routed from the bridge out of the sub-interface: VLAN 30, TTL 8")
    garp = lambda p: ARP in p and p[ARP].op == 1 and p[ARP].psrc == p[ARP].pdst
    ok(find(trk, lambda p: garp(p) and p[ARP].psrc == "10.0.20.1" and
            tags(p) == [(0x8100, 20)]) and
       find(trk, lambda p: garp(p) and p[ARP].psrc == "10.0.30.1" and
            tags(p) == [(0x8100, 30)]) and
       not find(acc + qnq, lambda p: garp(p)),
       "gratuitous ARPs at start leave tagged on their VLANs only")

    return results.report()


if __name__ == "__main__":
    main(gen, check, 13)
