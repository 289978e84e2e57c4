#!/usr/bin/python3
"""Offline routing golden test: captures in, expected captures checked.

  router.py gen DIR     write lan_in.pcap and router.yaml into DIR (with
                        conntrack on when PIPE_CONNTRACK is set)
  router.py check DIR   check lan_out.pcap and wan_out.pcap against what
                        each input frame must produce; prints TAP lines

The router has two pcap ports: lan (10.0.0.1/24, fd00::1/64) and wan
(10.0.1.1/24, fd01::1/64, MTU 1400), static neighbours on both sides and a
route 198.51.100.0/24 via 10.0.1.2. Every input frame is a case with the
output it must cause (or the drop reason it must be counted under).
"""
import json
import os

from scapy.all import (ARP, ICMP, IP, UDP, Ether, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                       ICMPv6PacketTooBig, ICMPv6TimeExceeded, IPv6, IPerror, Raw, UDPerror,
                       raw, rdpcap, wrpcap)

from golden import Results, main

# DPDK's pcap driver numbers its MACs in creation order: lan first, then wan.
R_LAN = "02:70:63:61:70:00"
R_WAN = "02:70:63:61:70:01"
H2 = "02:00:00:00:00:02"   # static neighbour 10.0.0.2 / fd00::2 on lan
H3 = "02:00:00:00:00:03"   # learnt from its ARP request / NS
NB = "02:00:00:00:01:02"   # static neighbour 10.0.1.2 / fd01::2 on wan

CONFIG = """dataplane: {workers: 1}
ports:
  - {name: lan, driver: pcap, rx_pcap: lan_in.pcap, tx_pcap: lan_out.pcap}
  - {name: wan, driver: pcap, tx_pcap: wan_out.pcap}
interfaces:
  - {name: lan, port: lan, addresses: [10.0.0.1/24, "fd00::1/64"]}
  - {name: wan, port: wan, addresses: [10.0.1.1/24, "fd01::1/64"], mtu: 1400}
routes:
  - {prefix: 198.51.100.0/24, via: 10.0.1.2}
  - {prefix: 192.0.2.0/24, via: blackhole}
  - {prefix: "2001:db8::/32", via: "fd01::2"}
neighbors:
  - {interface: lan, address: 10.0.0.2, mac: "%s"}
  - {interface: lan, address: "fd00::2", mac: "%s"}
  - {interface: wan, address: 10.0.1.2, mac: "%s"}
  - {interface: wan, address: "fd01::2", mac: "%s"}
""" % (H2, H2, NB, NB)


def frames():
    """(name, frame) for every input, in capture order."""
    e = Ether(src=H2, dst=R_LAN)
    pay = Raw(b"x" * 32)
    return [
        ("arp-request", Ether(src=H3, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=H3, psrc="10.0.0.3", pdst="10.0.0.1")),
        ("echo4", e / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(id=7, seq=1) / pay),
        ("fwd4-route", e / IP(src="10.0.0.2", dst="198.51.100.7", ttl=64) /
         UDP(sport=1000, dport=2000) / pay),
        ("fwd4-connected", e / IP(src="10.0.0.2", dst="10.0.1.2", ttl=9) /
         UDP(sport=1001, dport=2001) / pay),
        ("ttl4", e / IP(src="10.0.0.2", dst="198.51.100.7", ttl=1) /
         UDP(sport=1002, dport=2002) / pay),
        ("noroute4", e / IP(src="10.0.0.2", dst="203.0.113.9") /
         UDP(sport=1003, dport=2003) / pay),
        ("df4", e / IP(src="10.0.0.2", dst="198.51.100.7", flags="DF") /
         UDP(sport=1004, dport=2004) / Raw(b"y" * 1450)),
        ("blackhole4", e / IP(src="10.0.0.2", dst="192.0.2.5") / UDP(sport=1005, dport=2005)),
        ("badsum4", e / IP(src="10.0.0.2", dst="198.51.100.7", chksum=0x1234) /
         UDP(sport=1006, dport=2006)),
        ("udp-to-router", e / IP(src="10.0.0.2", dst="10.0.0.1") /
         UDP(sport=1007, dport=9) / pay),
        ("other-mac", Ether(src=H2, dst="02:00:00:00:99:99") /
         IP(src="10.0.0.2", dst="198.51.100.7") / UDP(sport=1008, dport=2008)),
        ("ns", Ether(src=H3, dst="33:33:ff:00:00:01") /
         IPv6(src="fd00::3", dst="ff02::1:ff00:1", hlim=255) /
         ICMPv6ND_NS(tgt="fd00::1") / ICMPv6NDOptSrcLLAddr(lladdr=H3)),
        ("echo6", e / IPv6(src="fd00::2", dst="fd00::1") / ICMPv6EchoRequest(id=8, seq=1) / pay),
        ("fwd6", e / IPv6(src="fd00::2", dst="2001:db8::5", hlim=64) /
         UDP(sport=1009, dport=2009) / pay),
        ("hlim6", e / IPv6(src="fd00::2", dst="2001:db8::5", hlim=1) /
         UDP(sport=1010, dport=2010) / pay),
        ("big6", e / IPv6(src="fd00::2", dst="fd01::2") /
         UDP(sport=1011, dport=2011) / Raw(b"z" * 1450)),
        ("frag4", e / IP(src="10.0.0.2", dst="198.51.100.7", id=0x4242) /
         UDP(sport=1012, dport=2012) / Raw(bytes(range(256)) * 6)),
    ]


def gen(d):
    wrpcap(d + "/lan_in.pcap", [f for _, f in frames()])
    with open(d + "/router.yaml", "w") as f:
        f.write(CONFIG)
        if os.environ.get("PIPE_CONNTRACK"):
            f.write("conntrack: {max_flows: 1024}\n")


def ck_sum4(p):
    """IPv4 header checksum of a received packet is right."""
    ip = p[IP]
    got = ip.chksum
    ip2 = IP(raw(ip))
    del ip2.chksum
    return IP(raw(ip2)).chksum == got


def check(d):
    lan = rdpcap(d + "/lan_out.pcap")
    wan = rdpcap(d + "/wan_out.pcap")
    summary = json.load(open(d + "/summary.json"))
    results = Results()
    ok = results.ok

    def find(pkts, pred):
        return [p for p in pkts if pred(p)]

    macs = {p["name"]: p["mac"].lower() for p in summary["ports"]}
    ok(macs == {"lan": R_LAN, "wan": R_WAN}, "port MACs as the captures assume: %s" % macs)

    garp = lambda p: ARP in p and p[ARP].op == 1 and p[ARP].psrc == p[ARP].pdst
    ok(find(lan, lambda p: garp(p) and p[ARP].psrc == "10.0.0.1") and
       find(wan, lambda p: garp(p) and p[ARP].psrc == "10.0.1.1"),
       "gratuitous ARP for each IPv4 address at start")

    ok(find(lan, lambda p: ARP in p and p[ARP].op == 2 and p[ARP].psrc == "10.0.0.1" and
            p[ARP].hwsrc == R_LAN and p[ARP].pdst == "10.0.0.3" and p.dst == H3),
       "ARP request for the router is answered")

    ok(find(lan, lambda p: ICMP in p and p[ICMP].type == 0 and p[ICMP].id == 7 and
            p[IP].src == "10.0.0.1" and p[IP].dst == "10.0.0.2" and p.dst == H2 and
            p.src == R_LAN and ck_sum4(p)),
       "ICMP echo to the router is answered")

    f = find(wan, lambda p: UDP in p and p[UDP].sport == 1000)
    ok(len(f) == 1 and f[0][IP].ttl == 63 and f[0].dst == NB and f[0].src == R_WAN and
       ck_sum4(f[0]) and raw(f[0][UDP]) == raw(frames()[2][1][UDP]),
       "routed IPv4 packet: TTL 63, new MACs, valid checksum, payload intact")

    f = find(wan, lambda p: UDP in p and p[UDP].sport == 1001)
    ok(len(f) == 1 and f[0][IP].ttl == 8 and f[0].dst == NB,
       "IPv4 packet to a host on a connected subnet")

    def icmp_err(t, c, sport):
        return find(lan, lambda p: ICMP in p and p[ICMP].type == t and p[ICMP].code == c and
                    p[IP].dst == "10.0.0.2" and p[IP].src == "10.0.0.1" and
                    IPerror in p and UDPerror in p and p[UDPerror].sport == sport and
                    ck_sum4(p))

    ok(icmp_err(11, 0, 1002), "TTL 1: ICMP time exceeded quoting the packet")
    ok(icmp_err(3, 0, 1003), "no route: ICMP net unreachable")
    f = icmp_err(3, 4, 1004)
    ok(f and f[0][ICMP].nexthopmtu == 1400, "DF and too big: ICMP frag-needed, MTU 1400")
    ok(icmp_err(3, 3, 1007), "UDP to the router: ICMP port unreachable")
    ok(not find(wan, lambda p: UDP in p and p[UDP].sport in (1004, 1005, 1006, 1008)),
       "blackholed, bad-checksum and misaddressed packets are not forwarded")
    drops = summary["drops"]["reasons"]
    ok(drops.get("ip-blackhole") == 1 and drops.get("ip4-bad-checksum") == 1 and
       drops.get("l2-not-for-us") == 1, "drops counted by reason: %s" % drops)

    ok(find(lan, lambda p: ICMPv6ND_NA in p and p[ICMPv6ND_NA].tgt == "fd00::1" and
            p[ICMPv6ND_NA].S == 1 and p[ICMPv6ND_NA].R == 1 and p[IPv6].dst == "fd00::3" and
            p.dst == H3 and ICMPv6NDOptDstLLAddr in p and
            p[ICMPv6NDOptDstLLAddr].lladdr == R_LAN and p[IPv6].hlim == 255),
       "neighbour solicitation for the router is answered")
    ok(find(lan, lambda p: ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == 8 and
            p[IPv6].src == "fd00::1" and p[IPv6].dst == "fd00::2" and p.dst == H2),
       "ICMPv6 echo to the router is answered")
    f = find(wan, lambda p: UDP in p and p[UDP].sport == 1009)
    ok(len(f) == 1 and f[0][IPv6].hlim == 63 and f[0].dst == NB and f[0].src == R_WAN,
       "routed IPv6 packet: hop limit 63, new MACs")
    ok(find(lan, lambda p: ICMPv6TimeExceeded in p and p[IPv6].dst == "fd00::2"),
       "hop limit 1: ICMPv6 time exceeded")
    f = find(lan, lambda p: ICMPv6PacketTooBig in p and p[IPv6].dst == "fd00::2")
    ok(f and f[0][ICMPv6PacketTooBig].mtu == 1400, "too big: ICMPv6 packet too big, MTU 1400")

    frags = sorted(find(wan, lambda p: IP in p and p[IP].id == 0x4242),
                   key=lambda p: p[IP].frag)
    orig = frames()[-1][1][IP]
    data = b"".join(raw(p[IP].payload)[:p[IP].len - p[IP].ihl * 4] for p in frags)
    ok(len(frags) == 2 and all(p[IP].len <= 1400 and p[IP].ttl == 63 and ck_sum4(p)
                               for p in frags) and
       frags[0][IP].flags.MF and not frags[1][IP].flags.MF and
       frags[1][IP].frag * 8 == frags[0][IP].len - 20 and data == raw(orig.payload),
       "over the MTU without DF: fragmented into two valid fragments that reassemble")

    return results.report()


if __name__ == "__main__":
    main(gen, check, 18)
