#!/usr/bin/python3
"""Offline NAT golden test: captures in, translated captures checked.

  nat.py gen DIR     write lan_in.pcap, wan_in.pcap and nat.yaml into DIR
  nat.py check DIR   check lan_out.pcap and wan_out.pcap; prints TAP lines

The router has two pcap ports: lan (10.0.0.1/24) and wan (10.0.1.1/24, with
masquerade on ports 40000-40009), a port forward of wan's tcp/8080 to
10.0.0.2:80, 1:1 NAT of 10.0.0.3 as 10.0.1.50, hairpin on, and a route
198.51.100.0/24 via 10.0.1.2.

Both ports read their captures in bursts of 32 frames, lan before wan in
each walk of the graph, so the captures are laid out by walk: lan's first
burst opens the flows; wan's first burst is filler (frames for another MAC,
dropped), its second holds the replies and the flows the outside opens; lan's
third burst answers those. Filler pads each burst to 32 frames.

Ports are taken in order from a cursor shared by all ranges: 40000, 40001,
40002 for the three masqueraded flows, then 61000 + 3 (the hairpin range) for the hairpinned one.
"""
import json

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, IPerror, Raw, TCPerror, UDPerror, checksum,
                       raw, rdpcap, wrpcap)

from golden import Results, main

R_LAN = "02:70:63:61:70:00"
R_WAN = "02:70:63:61:70:01"
H2 = "02:00:00:00:00:02"   # 10.0.0.2, the forwarded web server
H3 = "02:00:00:00:00:03"   # 10.0.0.3, 1:1 as 10.0.1.50
NB = "02:00:00:00:01:02"   # 10.0.1.2, the gateway to 198.51.100.0/24
FAR = "198.51.100.7"
BURST = 32

CONFIG = """dataplane: {workers: 1, burst: %d}
ports:
  - {name: lan, driver: pcap, rx_pcap: lan_in.pcap, tx_pcap: lan_out.pcap}
  - {name: wan, driver: pcap, rx_pcap: wan_in.pcap, tx_pcap: wan_out.pcap}
interfaces:
  - {name: lan, port: lan, addresses: [10.0.0.1/24]}
  - {name: wan, port: wan, addresses: [10.0.1.1/24]}
routes:
  - {prefix: 198.51.100.0/24, via: 10.0.1.2}
neighbors:
  - {interface: lan, address: 10.0.0.2, mac: "%s"}
  - {interface: lan, address: 10.0.0.3, mac: "%s"}
  - {interface: wan, address: 10.0.1.2, mac: "%s"}
nat:
  masquerade:
    - {interface: wan, ports: "40000-40009"}
  forward:
    - {interface: wan, proto: tcp, port: 8080, to: 10.0.0.2, to_port: 80}
  one_to_one:
    - {interface: wan, internal: 10.0.0.3, external: 10.0.1.50}
""" % (BURST, H2, H3, NB)

PAY = Raw(b"payload!" * 4)


def lan(src, dst, mac=H2):
    return Ether(src=mac, dst=R_LAN) / IP(src=src, dst=dst, ttl=64)


def wan(src, dst):
    return Ether(src=NB, dst=R_WAN) / IP(src=src, dst=dst, ttl=64)


def quote(pkt, n=None):
    """The first n bytes (all when None) of an IPv4 packet, as an ICMP error quotes it."""
    b = raw(pkt)
    return b if n is None else b[:n]


# What left the NAT, as the outside saw it: quoted back in ICMP errors.
OUT_UDP = IP(src="10.0.1.1", dst=FAR, ttl=63) / UDP(sport=40000, dport=53) / PAY
OUT_SYN = IP(src="10.0.1.1", dst=FAR, ttl=63) / TCP(sport=40001, dport=80, flags="S", seq=1000)


def lan_walk1():
    return [
        ("masq-udp", lan("10.0.0.2", FAR) / UDP(sport=1000, dport=53) / PAY),
        ("masq-syn", lan("10.0.0.2", FAR) /
         TCP(sport=1001, dport=80, flags="S", seq=1000)),
        ("masq-echo", lan("10.0.0.2", FAR) / ICMP(id=77, seq=1) / PAY),
        ("one-out", lan("10.0.0.3", FAR, H3) / UDP(sport=2000, dport=53) / PAY),
        ("hairpin-syn", lan("10.0.0.3", "10.0.1.1", H3) /
         TCP(sport=3000, dport=8080, flags="S", seq=5000)),
        ("hairpin-synack", lan("10.0.0.2", "10.0.0.1") /
         TCP(sport=80, dport=61003, flags="SA", seq=9000, ack=5001)),
    ]


def wan_walk2():
    return [
        ("reply-udp", wan(FAR, "10.0.1.1") / UDP(sport=53, dport=40000) / PAY),
        ("reply-synack", wan(FAR, "10.0.1.1") /
         TCP(sport=80, dport=40001, flags="SA", seq=7000, ack=1001)),
        ("reply-echo", wan(FAR, "10.0.1.1") / ICMP(type=0, id=40002, seq=1) / PAY),
        ("err-ttl", wan("198.51.100.254", "10.0.1.1") / ICMP(type=11, code=0) /
         Raw(quote(OUT_UDP))),
        ("err-mtu", wan(FAR, "10.0.1.1") / ICMP(type=3, code=4, nexthopmtu=1280) /
         Raw(quote(OUT_SYN))),
        ("fwd-syn", wan("198.51.100.9", "10.0.1.1") /
         TCP(sport=5555, dport=8080, flags="S", seq=100)),
        ("one-in", wan("198.51.100.9", "10.0.1.50") /
         TCP(sport=6000, dport=22, flags="S", seq=200)),
        ("one-reply", wan(FAR, "10.0.1.50") / UDP(sport=53, dport=2000) / PAY),
        ("arp-ext", Ether(src=NB, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=NB, psrc="10.0.1.2", pdst="10.0.1.50")),
    ]


def lan_walk3():
    return [
        ("fwd-synack", lan("10.0.0.2", "198.51.100.9") /
         TCP(sport=80, dport=5555, flags="SA", seq=300, ack=101)),
    ]


def filler(mac, n):
    e = Ether(src=mac, dst="02:00:00:00:99:99")
    return [e / IP(src="10.9.9.9", dst="10.9.9.8") / UDP(sport=9, dport=9)] * n


def padded(frames, mac):
    return [f for _, f in frames] + filler(mac, BURST - len(frames))


def gen(d):
    wrpcap(d + "/lan_in.pcap", padded(lan_walk1(), H2) + filler(H2, BURST) +
           padded(lan_walk3(), H2))
    wrpcap(d + "/wan_in.pcap", filler(NB, BURST) + padded(wan_walk2(), NB))
    with open(d + "/nat.yaml", "w") as f:
        f.write(CONFIG)


def sums_ok(p):
    """IPv4 header and transport checksums of a captured packet are right."""
    ip = p[IP]
    again = IP(raw(ip))
    del again.chksum
    for layer in (TCP, UDP, ICMP):
        if layer in again and not isinstance(again[layer].underlayer, (IPerror,)):
            del again[layer].chksum
    again = IP(raw(again))
    if again.chksum != ip.chksum:
        return False
    for layer in (TCP, UDP, ICMP):
        if layer in ip and layer in again and again[layer].chksum != ip[layer].chksum:
            return False
    return True


def inner_ok(p):
    """The quoted IPv4 header's checksum is right (and a whole TCP segment's)."""
    q = p[IPerror]
    b = raw(q)
    if checksum(b[:q.ihl * 4]) != 0:
        return False
    if TCPerror in p and len(b) >= q.len:
        whole = IP(b[:q.len])
        redo = whole.copy()
        del redo[TCP].chksum
        return IP(raw(redo))[TCP].chksum == whole[TCP].chksum
    return True


def check(d):
    lo = rdpcap(d + "/lan_out.pcap")
    wo = rdpcap(d + "/wan_out.pcap")
    summary = json.load(open(d + "/summary.json"))
    results = Results()
    ok = results.ok

    def one(pkts, pred):
        f = [p for p in pkts if IP in p and pred(p)]
        return f[0] if len(f) == 1 else None

    macs = {p["name"]: p["mac"].lower() for p in summary["ports"]}
    ok(macs == {"lan": R_LAN, "wan": R_WAN}, "port MACs as the captures assume: %s" % macs)

    # Masquerade, out.
    p = one(wo, lambda p: UDP in p and p[UDP].dport == 53 and p[IP].src == "10.0.1.1")
    ok(p and p[UDP].sport == 40000 and p[IP].dst == FAR and p[IP].ttl == 63 and sums_ok(p) and
       raw(p[UDP].payload) == raw(PAY),
       "masquerade: UDP leaves as 10.0.1.1:40000, checksums right, payload intact")
    p = one(wo, lambda p: TCP in p and p[TCP].dport == 80)
    ok(p and p[IP].src == "10.0.1.1" and p[TCP].sport == 40001 and sums_ok(p),
       "masquerade: TCP SYN leaves as 10.0.1.1:40001, checksums right")
    p = one(wo, lambda p: ICMP in p and p[ICMP].type == 8)
    ok(p and p[IP].src == "10.0.1.1" and p[ICMP].id == 40002 and sums_ok(p),
       "masquerade: ICMP echo leaves with id 40002, checksum right")

    # Masquerade, back.
    p = one(lo, lambda p: UDP in p and p[UDP].sport == 53 and p[IP].src == FAR and
            p[UDP].dport == 1000)
    ok(p and p[IP].dst == "10.0.0.2" and p.dst == H2 and sums_ok(p),
       "the UDP reply reaches 10.0.0.2:1000")
    p = one(lo, lambda p: TCP in p and p[TCP].sport == 80 and p[IP].src == FAR)
    ok(p and p[IP].dst == "10.0.0.2" and p[TCP].dport == 1001 and sums_ok(p),
       "the SYN/ACK reaches 10.0.0.2:1001")
    p = one(lo, lambda p: ICMP in p and p[ICMP].type == 0 and p[IP].src == FAR)
    ok(p and p[IP].dst == "10.0.0.2" and p[ICMP].id == 77 and sums_ok(p),
       "the echo reply reaches 10.0.0.2 with id 77")

    # ICMP errors about translated packets.
    p = one(lo, lambda p: ICMP in p and p[ICMP].type == 11)
    ok(p and p[IP].src == "198.51.100.254" and p[IP].dst == "10.0.0.2" and sums_ok(p) and
       p[IPerror].src == "10.0.0.2" and p[IPerror].dst == FAR and
       p[UDPerror].sport == 1000 and p[UDPerror].dport == 53 and inner_ok(p),
       "time exceeded from beyond: to 10.0.0.2, quoting 10.0.0.2:1000 as sent")
    p = one(lo, lambda p: ICMP in p and p[ICMP].type == 3 and p[ICMP].code == 4)
    ok(p and p[IP].dst == "10.0.0.2" and p[ICMP].nexthopmtu == 1280 and sums_ok(p) and
       p[IPerror].src == "10.0.0.2" and p[TCPerror].sport == 1001 and inner_ok(p),
       "frag needed: to 10.0.0.2, quoted TCP header and its checksum translated")

    # Port forward and its reply.
    p = one(lo, lambda p: TCP in p and p[TCP].sport == 5555)
    ok(p and p[IP].src == "198.51.100.9" and p[IP].dst == "10.0.0.2" and p[TCP].dport == 80 and
       p.dst == H2 and sums_ok(p),
       "port forward: 10.0.1.1:8080 reaches 10.0.0.2:80, the source kept")
    p = one(wo, lambda p: TCP in p and p[TCP].dport == 5555)
    ok(p and p[IP].src == "10.0.1.1" and p[TCP].sport == 8080 and sums_ok(p),
       "the forwarded server's answer leaves from 10.0.1.1:8080")

    # 1:1.
    p = one(wo, lambda p: UDP in p and p[UDP].sport == 2000)
    ok(p and p[IP].src == "10.0.1.50" and sums_ok(p), "1:1: 10.0.0.3 leaves as 10.0.1.50, port kept")
    p = one(lo, lambda p: UDP in p and p[UDP].dport == 2000)
    ok(p and p[IP].dst == "10.0.0.3" and p.dst == H3 and sums_ok(p),
       "1:1: the reply to 10.0.1.50 reaches 10.0.0.3")
    p = one(lo, lambda p: TCP in p and p[TCP].sport == 6000)
    ok(p and p[IP].dst == "10.0.0.3" and p[TCP].dport == 22 and sums_ok(p),
       "1:1: a new flow to 10.0.1.50 reaches 10.0.0.3")
    ok([p for p in wo if ARP in p and p[ARP].op == 2 and p[ARP].psrc == "10.0.1.50" and
        p[ARP].hwsrc == R_WAN and p[ARP].pdst == "10.0.1.2"],
       "1:1: the router answers ARP for 10.0.1.50 on wan")

    # Hairpin.
    p = one(lo, lambda p: TCP in p and p[TCP].dport == 80 and p[IP].src == "10.0.0.1")
    ok(p and p[IP].src == "10.0.0.1" and p[TCP].sport == 61003 and p[IP].dst == "10.0.0.2" and
       p.dst == H2 and sums_ok(p),
       "hairpin: 10.0.0.3 to 10.0.1.1:8080 reaches 10.0.0.2:80 from 10.0.0.1:61003")
    p = one(lo, lambda p: TCP in p and p[TCP].dport == 3000)
    ok(p and p[IP].src == "10.0.1.1" and p[TCP].sport == 8080 and p[IP].dst == "10.0.0.3" and
       p.dst == H3 and sums_ok(p),
       "hairpin: the answer reaches 10.0.0.3:3000 from 10.0.1.1:8080")

    drops = summary["drops"]["reasons"]
    fill = 5 * BURST - len(lan_walk1()) - len(wan_walk2()) - len(lan_walk3())
    ok(drops.get("l2-not-for-us") == fill and len(drops) == 1,
       "nothing dropped but the filler: %s" % drops)
    return results.report()


if __name__ == "__main__":
    main(gen, check, 18)
