#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus for fuzz_pkt: one raw Ethernet frame per file.

Valid frames of every kind the parser knows, and a few malformed ones that
stop at each layer, so the fuzzer starts with every branch reachable.
Run from anywhere: ./make-pkt-seeds.py [OUTDIR] (default: pkt/ next to it).
"""
import os
import sys

from scapy.all import (ARP, AH, ESP, ICMP, IP, TCP, UDP, Dot1AD, Dot1Q, Ether,
                       ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6ND_NS,
                       IPOption_NOP, IPOption_Router_Alert, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Raw, raw)

MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
A4 = dict(src="192.0.2.1", dst="198.51.100.1")
A6 = dict(src="2001:db8::1", dst="2001:db8::2")
TCP_OPTS = [("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""),
            ("Timestamp", (1, 2)), ("NOP", None), ("NOP", None), ("SAck", (100, 200))]


def eth(type_=None):
    return Ether(**MAC) if type_ is None else Ether(type=type_, **MAC)


def patch(frame, off, data, ip4_csum_at=None):
    """Overwrite bytes of a built frame to make it malformed; optionally
    recompute the IPv4 header checksum of the header at ip4_csum_at, so the
    frame fails on the patched field and not on the checksum."""
    b = bytearray(raw(frame))
    b[off:off + len(data)] = data
    if ip4_csum_at is not None:
        h = ip4_csum_at
        hl = (b[h] & 0xf) * 4
        b[h + 10:h + 12] = b"\0\0"
        s = sum(b[i] << 8 | b[i + 1] for i in range(h, h + hl, 2))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        b[h + 10:h + 12] = (~s & 0xffff).to_bytes(2, "big")
    return bytes(b)


def seeds():
    tcp_syn = eth() / IP(flags="DF", **A4) / TCP(sport=40000, dport=80, flags="S",
                                                 options=TCP_OPTS)
    udp4 = eth() / IP(**A4) / UDP(sport=5353, dport=53) / b"seed"
    yield "eth-lldp", eth(0x88cc) / Raw(b"\x02\x07\x04" + bytes(40))
    yield "vlan-ip4-udp", eth() / Dot1Q(vlan=100) / IP(**A4) / UDP(sport=1, dport=2) / b"x"
    yield "qinq-88a8-ip4-tcp", (eth() / Dot1AD(vlan=10) / Dot1Q(vlan=20) / IP(**A4)
                                / TCP(dport=22, flags="PA") / b"hello")
    yield "qinq-9100-ip6-udp", patch(eth() / Dot1AD(vlan=1) / Dot1Q(vlan=2) / IPv6(**A6)
                                     / UDP(sport=1, dport=2), 12, b"\x91\x00")
    yield "vlan-three-tags", eth() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / IP(**A4)
    yield "arp-request", eth() / ARP(psrc="192.0.2.1", pdst="192.0.2.2")
    yield "arp-reply-padded", eth() / ARP(op=2, psrc="192.0.2.2", pdst="192.0.2.1") / bytes(18)
    yield "arp-bad-hlen", patch(eth() / ARP(), 18, b"\x08")
    yield "ip4-tcp-syn-opts", tcp_syn
    yield "ip4-udp", udp4
    yield "ip4-udp-padded", raw(eth() / IP(**A4) / UDP(sport=1, dport=2)) + bytes(18)
    yield "ip4-icmp-echo", eth() / IP(**A4) / ICMP(id=0x1234, seq=1) / b"ping"
    yield "ip4-icmp-unreach", eth() / IP(**A4) / ICMP(type=3, code=1) / raw(IP(**A4) / UDP())
    yield "ip4-options", (eth() / IP(options=[IPOption_NOP(), IPOption_Router_Alert()], **A4)
                          / UDP(sport=1, dport=2))
    yield "ip4-frag-first", (eth() / IP(flags="MF", **A4) / UDP(sport=1, dport=2, len=1000)
                             / bytes(16))
    yield "ip4-frag-later", eth() / IP(frag=185, proto=17, **A4) / bytes(24)
    yield "ip4-bad-checksum", patch(udp4, 24, b"\xde\xad")
    yield "ip4-bad-ihl", patch(udp4, 14, b"\x44")
    yield "ip4-bad-version", patch(udp4, 14, b"\x65")
    yield "ip4-bad-option", patch(eth() / IP(options=[IPOption_Router_Alert()], **A4) / UDP(),
                                  35, b"\x09", ip4_csum_at=14)
    yield "ip4-totlen-too-long", patch(udp4, 16, b"\x05\xdc", ip4_csum_at=14)
    yield "ip4-frag-overflow", eth() / IP(frag=8191, proto=17, **A4) / bytes(16)
    yield "ip6-tcp", eth() / IPv6(**A6) / TCP(dport=443, flags="S", options=TCP_OPTS)
    yield "ip6-udp", eth() / IPv6(**A6) / UDP(sport=1, dport=53) / b"q"
    yield "ip6-icmp-echo", eth() / IPv6(**A6) / ICMPv6EchoRequest(id=7, seq=1) / b"ping"
    yield "ip6-icmp-reply", eth() / IPv6(**A6) / ICMPv6EchoReply(id=7, seq=1)
    yield "ip6-nd-ns", eth() / IPv6(**A6) / ICMPv6ND_NS(tgt="2001:db8::2")
    # scapy leaves AH's next header and length at 0: set them.
    ah = AH(nh=60, payloadlen=4, spi=1, seq=1, icv=bytes(12))
    yield "ip6-ext-chain", (eth() / IPv6(**A6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt()
                            / IPv6ExtHdrRouting() / IPv6ExtHdrFragment(m=1, id=9) / ah
                            / IPv6ExtHdrDestOpt() / TCP(dport=80, flags="A"))
    yield "ip6-frag-later", (eth() / IPv6(**A6) / IPv6ExtHdrFragment(offset=100, m=1, nh=17)
                             / bytes(16))
    yield "ip6-esp", eth() / IPv6(**A6) / ESP(spi=1, seq=1, data=bytes(16))
    yield "ip6-nine-ext", (eth() / IPv6(**A6) / IPv6ExtHdrHopByHop()
                           / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()
                           / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()
                           / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / UDP())
    yield "ip6-jumbo-zero-length", patch(eth() / IPv6(**A6) / UDP(), 18, b"\x00\x00")
    yield "tcp-bad-doff", patch(tcp_syn, 46, b"\x40")
    yield "tcp-bad-mss-len", patch(tcp_syn, 55, b"\x05")
    yield "udp-bad-length", patch(udp4, 38, b"\x00\x07")
    yield "eth-runt", raw(eth())[:13]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "pkt")
    os.makedirs(out, exist_ok=True)
    for name, frame in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(frame if isinstance(frame, bytes) else raw(frame))


if __name__ == "__main__":
    main()
