#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reference frames for build_test.c, generated with scapy.

Writes build_vectors.h next to this file: one byte array per frame, each
built by scapy's own layers (checksums and lengths computed by scapy), so the
C builders are compared with an independent implementation. The test does not
need scapy; rerun this after changing a vector:

    /usr/bin/python3 src/pkt/build_vectors.py
"""
import os

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    ICMPv6ParamProblem,
    ICMPv6TimeExceeded,
    IPv6,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

# The router (R) and a host (H) on one link; X is a remote host.
MAC_R = "02:00:00:00:00:01"
MAC_H = "02:00:00:00:00:02"
BCAST = "ff:ff:ff:ff:ff:ff"
R4, H4, X4 = "192.0.2.1", "192.0.2.2", "198.51.100.7"
GW4 = "192.0.2.254"
R6, H6, X6 = "2001:db8::1", "2001:db8::2", "2001:db8:ffff::7"
R6LL = "fe80::ff:fe00:1"  # EUI-64 of MAC_R
H6LL = "fe80::ff:fe00:2"

vectors = []


def add(name, pkt, comment):
    vectors.append((name, bytes(pkt), comment))


def arp_frame(pkt):
    raw = bytes(pkt)
    return raw + bytes(60 - len(raw))


# Ethernet and ARP (RFC 826), padded to the 60-byte minimum frame.
add("eth", Ether(dst=MAC_H, src=MAC_R, type=0x86DD), "Ethernet header, IPv6 ethertype")
add(
    "arp_request",
    arp_frame(Ether(dst=BCAST, src=MAC_R) / ARP(op=1, hwsrc=MAC_R, psrc=R4, hwdst="00:00:00:00:00:00", pdst=H4)),
    "who-has 192.0.2.2 tell 192.0.2.1",
)
add(
    "arp_reply",
    arp_frame(Ether(dst=MAC_H, src=MAC_R) / ARP(op=2, hwsrc=MAC_R, psrc=R4, hwdst=MAC_H, pdst=H4)),
    "192.0.2.1 is-at 02:00:00:00:00:01, to the host",
)
add(
    "arp_gratuitous",
    arp_frame(Ether(dst=BCAST, src=MAC_R) / ARP(op=1, hwsrc=MAC_R, psrc=R4, hwdst="00:00:00:00:00:00", pdst=R4)),
    "gratuitous ARP request for 192.0.2.1",
)

# ICMPv4 echo (RFC 792): request from the host, the reply the router sends.
PING = b"0123456789abcdefghijklmnopqrstuvw"  # odd length on purpose
add(
    "icmp4_echo_req",
    IP(src=H4, dst=R4, ttl=57, id=0x1234, flags="DF") / ICMP(type=8, id=0xBEEF, seq=7) / PING,
    "echo request to the router",
)
add(
    "icmp4_echo_rep",
    IP(src=R4, dst=H4, ttl=64, id=0x1234, flags="DF") / ICMP(type=0, id=0xBEEF, seq=7) / PING,
    "its echo reply",
)

# ICMPv4 errors (RFC 792, RFC 1812 section 4.3.2): TOS 0xc0, TTL 64, DF clear.
orig_udp = IP(src=H4, dst=X4, ttl=1, id=0x4242) / UDP(sport=33434, dport=33435) / (b"t" * 24)
orig_tcp = IP(src=H4, dst=X4, ttl=63, id=0x5151, flags="DF") / TCP(sport=40000, dport=443, flags="A") / (b"\xab" * 1400)
add("icmp4_orig_udp", orig_udp, "a traceroute probe from the host")
add("icmp4_orig_tcp", orig_tcp, "a 1440-byte TCP segment with DF from the host")


def err4(ident, icmp, orig):
    quote = bytes(orig)[: 576 - 28]
    return IP(src=R4, dst=H4, ttl=64, id=ident, tos=0xC0, flags=0) / icmp / Raw(quote)


add("icmp4_time_exceeded", err4(0x0101, ICMP(type=11, code=0), orig_udp), "TTL exceeded in transit about orig_udp")
add("icmp4_port_unreach", err4(0x0102, ICMP(type=3, code=3), orig_udp), "port unreachable about orig_udp")
add(
    "icmp4_frag_needed",
    err4(0x0103, ICMP(type=3, code=4, nexthopmtu=1400), orig_tcp),
    "fragmentation needed, MTU 1400, about orig_tcp (quote cut at 576 bytes)",
)
add("icmp4_param_prob", err4(0x0104, ICMP(type=12, code=0, ptr=8), orig_udp), "parameter problem at byte 8 of orig_udp")
add("icmp4_redirect", err4(0x0105, ICMP(type=5, code=1, gw=GW4), orig_udp), "redirect for host to 192.0.2.254 about orig_udp")

# ICMPv6 echo (RFC 4443 section 4): unicast, and to all-nodes answered from R6.
add(
    "icmp6_echo_req",
    IPv6(src=H6, dst=R6, hlim=63, tc=0x20, fl=0x12345) / ICMPv6EchoRequest(id=0xBEEF, seq=7, data=PING),
    "echo request to the router",
)
add(
    "icmp6_echo_rep",
    IPv6(src=R6, dst=H6, hlim=64, tc=0x20, fl=0x12345) / ICMPv6EchoReply(id=0xBEEF, seq=7, data=PING),
    "its echo reply (traffic class and flow label kept)",
)
add(
    "icmp6_echo_req_mcast",
    IPv6(src=H6, dst="ff02::1", hlim=1) / ICMPv6EchoRequest(id=1, seq=2, data=b"abcd"),
    "echo request to all-nodes",
)
add(
    "icmp6_echo_rep_mcast",
    IPv6(src=R6, dst=H6, hlim=64) / ICMPv6EchoReply(id=1, seq=2, data=b"abcd"),
    "its echo reply, from the router's unicast address",
)

# ICMPv6 errors (RFC 4443 section 3), quoting up to a 1280-byte packet.
orig6_udp = IPv6(src=H6, dst=X6, hlim=1) / UDP(sport=33434, dport=33435) / (b"t" * 24)
orig6_tcp = IPv6(src=H6, dst=X6, hlim=63) / TCP(sport=40000, dport=443, flags="A") / (b"\xcd" * 1400)
orig6_mcast = IPv6(src=H6, dst="ff0e::1:3", hlim=9) / UDP(sport=5000, dport=5001) / (b"m" * 1452)
add("icmp6_orig_udp", orig6_udp, "a traceroute probe from the host")
add("icmp6_orig_tcp", orig6_tcp, "a 1460-byte TCP segment from the host")
add("icmp6_orig_mcast", orig6_mcast, "a 1500-byte UDP datagram to a global multicast group")


def err6(icmp, orig):
    quote = bytes(orig)[: 1280 - 48]
    return IPv6(src=R6, dst=H6, hlim=64) / icmp / Raw(quote)


add("icmp6_time_exceeded", err6(ICMPv6TimeExceeded(code=0), orig6_udp), "hop limit exceeded about orig6_udp")
add("icmp6_port_unreach", err6(ICMPv6DestUnreach(code=4), orig6_udp), "port unreachable about orig6_udp")
add("icmp6_pkt_too_big", err6(ICMPv6PacketTooBig(mtu=1280), orig6_tcp), "packet too big, MTU 1280, about orig6_tcp")
add(
    "icmp6_param_prob",
    err6(ICMPv6ParamProblem(code=1, ptr=6), orig6_udp),
    "parameter problem, pointer 6, about orig6_udp",
)
add(
    "icmp6_pkt_too_big_mcast",
    err6(ICMPv6PacketTooBig(mtu=1400), orig6_mcast),
    "packet too big about a multicast datagram (allowed, RFC 4443 2.4 e.3)",
)

# Neighbor Discovery (RFC 4861): whole frames, hop limit 255.
add(
    "nd_ns",
    Ether(dst="33:33:ff:00:00:02", src=MAC_R)
    / IPv6(src=R6, dst="ff02::1:ff00:2", hlim=255)
    / ICMPv6ND_NS(tgt=H6)
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC_R),
    "neighbor solicitation for 2001:db8::2",
)
add(
    "nd_ns_dad",
    Ether(dst="33:33:ff:00:00:01", src=MAC_R) / IPv6(src="::", dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=R6),
    "duplicate address detection for 2001:db8::1",
)
add(
    "nd_na",
    Ether(dst=MAC_H, src=MAC_R)
    / IPv6(src=R6, dst=H6, hlim=255)
    / ICMPv6ND_NA(R=1, S=1, O=1, tgt=R6)
    / ICMPv6NDOptDstLLAddr(lladdr=MAC_R),
    "solicited advertisement of 2001:db8::1 to the host",
)
add(
    "nd_na_unsolicited",
    Ether(dst="33:33:00:00:00:01", src=MAC_R)
    / IPv6(src=R6, dst="ff02::1", hlim=255)
    / ICMPv6ND_NA(R=1, S=0, O=1, tgt=R6)
    / ICMPv6NDOptDstLLAddr(lladdr=MAC_R),
    "unsolicited advertisement of 2001:db8::1 to all-nodes",
)
# scapy's RA defaults to router preference 1 (high, RFC 4191); the builder sends 0 (medium).
add(
    "nd_ra",
    Ether(dst="33:33:00:00:00:01", src=MAC_R)
    / IPv6(src=R6LL, dst="ff02::1", hlim=255)
    / ICMPv6ND_RA(chlim=64, M=0, O=1, prf=0, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC_R)
    / ICMPv6NDOptMTU(mtu=1500)
    / ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=2592000, preferredlifetime=604800, prefix="2001:db8:1::")
    / ICMPv6NDOptPrefixInfo(prefixlen=44, L=1, A=0, validlifetime=86400, preferredlifetime=0, prefix="2001:db8:20::"),
    "router advertisement to all-nodes: MTU 1500, two prefixes",
)
add(
    "nd_ra_unicast",
    Ether(dst=MAC_H, src=MAC_R)
    / IPv6(src=R6LL, dst=H6LL, hlim=255)
    / ICMPv6ND_RA(chlim=0, M=0, O=0, prf=0, routerlifetime=0, reachabletime=0, retranstimer=0)
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC_R),
    "minimal router advertisement to one host, not a default router",
)
add(
    "nd_rs",
    Ether(dst="33:33:00:00:00:02", src=MAC_H)
    / IPv6(src=H6LL, dst="ff02::2", hlim=255)
    / ICMPv6ND_RS()
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC_H),
    "router solicitation from the host (parser input)",
)
add(
    "nd_ns_from_host",
    Ether(dst="33:33:ff:00:00:01", src=MAC_H)
    / IPv6(src=H6, dst="ff02::1:ff00:1", hlim=255)
    / ICMPv6ND_NS(tgt=R6)
    / ICMPv6NDOptSrcLLAddr(lladdr=MAC_H),
    "neighbor solicitation for the router from the host (parser input)",
)


def c_array(name, data, comment):
    lines = [f"/* {comment} ({len(data)} bytes). */", f"static const uint8_t bv_{name}[] = {{"]
    for i in range(0, len(data), 12):
        lines.append("\t" + " ".join(f"0x{b:02x}," for b in data[i : i + 12]))
    lines.append("};")
    return "\n".join(lines)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build_vectors.h")
    body = "\n\n".join(c_array(n, d, c) for n, d, c in vectors)
    with open(out, "w") as f:
        f.write(
            "/* SPDX-License-Identifier: BSD-3-Clause */\n"
            "/* Generated by build_vectors.py with scapy; do not edit. */\n"
            "#ifndef AP_PKT_BUILD_VECTORS_H\n#define AP_PKT_BUILD_VECTORS_H\n\n"
            "#include <stdint.h>\n\n" + body + "\n\n#endif\n"
        )


if __name__ == "__main__":
    main()
