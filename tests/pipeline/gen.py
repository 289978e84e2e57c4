#!/usr/bin/python3
"""Write the pipeline test captures into OUTDIR, byte for byte the same on every run.

  mixed.pcap             >= 200 well-formed frames of many kinds
  malformed.pcap         for every parser error (src/pkt/pkt.h, AP_PKT_ERRORS) at
                         least three frames that hit exactly it, mixed with valid ones
  malformed.expect.json  {"total": N, "valid": N, "drops": {"reason": count, ...}}
  malformed.valid.pcap   the valid frames of malformed.pcap, in order (expected output)
  malformed.wire.pcap    the frames of malformed.pcap that are 14 bytes or longer
  runts.pcap             valid frames interleaved with frames of 0..13 bytes
  runts.valid.pcap       the frames of runts.pcap that are 14 bytes or longer

Usage: gen.py OUTDIR [--pkt-h src/pkt/pkt.h]
With --pkt-h, every reason named in AP_PKT_ERRORS must have frames here, so a
reason added to the parser without a case here fails the test suite.
"""

import argparse
import json
import os
import re
import struct
import sys

from scapy.config import conf

conf.verb = 0
# Keep scapy away from the host's routes and interfaces: frames are built whole.
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP, IPOption_RR, fragment  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NS,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    fragment6,
)
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether  # noqa: E402
from scapy.contrib.lldp import (  # noqa: E402
    LLDPDU,
    LLDPDUChassisID,
    LLDPDUEndOfLLDPDU,
    LLDPDUPortID,
    LLDPDUTimeToLive,
)
from scapy.packet import Raw  # noqa: E402

MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"
RAW_A = bytes.fromhex("020000000001")
RAW_B = bytes.fromhex("020000000002")
V4_A, V4_B = "10.0.0.1", "10.0.0.2"
V6_A, V6_B = "fd00::1", "fd00::2"
T0 = 1700000000


# ---- capture writing ----------------------------------------------------------


def write_pcap(path, frames):
    """Classic microsecond pcap, little endian, Ethernet, fixed timestamps."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            fr = bytes(fr)
            f.write(struct.pack("<IIII", T0 + i // 1000, (i % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)


def pad60(b):
    """Ethernet minimum frame (without FCS) is 60 bytes."""
    return b + bytes(max(0, 60 - len(b)))


def payload(n, seed=0):
    return bytes((seed + i * 7) & 0xFF for i in range(n))


# ---- raw builders for frames scapy would "fix" --------------------------------


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(etype, tags=()):
    """Ethernet header; tags is a list of (tpid, vid)."""
    h = RAW_B + RAW_A
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype)


def ip4(body, proto=17, ihl=None, opts=b"", tot=None, ver=4, frag=0, bad_csum=False, ttl=64):
    if ihl is None:
        ihl = 5 + len(opts) // 4
    if tot is None:
        tot = ihl * 4 + len(body)
    h = struct.pack(
        "!BBHHHBBH4s4s",
        (ver << 4) | (ihl & 0xF),
        0,
        tot & 0xFFFF,
        0x1234,
        frag,
        ttl,
        proto,
        0,
        bytes([10, 0, 0, 1]),
        bytes([10, 0, 0, 2]),
    )
    h += opts
    c = csum(h[: max(20, min(len(h), ihl * 4))])
    if bad_csum:
        c ^= 0x5A5A
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + body


def ip6(body, nh=17, plen=None, ver=6):
    if plen is None:
        plen = len(body)
    src = bytes.fromhex("fd000000000000000000000000000001")
    dst = bytes.fromhex("fd000000000000000000000000000002")
    return struct.pack("!IHBB", ver << 28, plen & 0xFFFF, nh, 64) + src + dst + body


def ext6(nh, length_units=0, body=None):
    """Generic extension header (hop-by-hop / routing / destination options)."""
    n = (length_units + 1) * 8
    if body is None:
        body = b"\x01" + bytes([n - 4]) + bytes(n - 4)  # one PadN option filling it
    return bytes([nh, length_units]) + body[: n - 2]


def frag6(nh, off_units=0, more=0, ident=0x11223344):
    return struct.pack("!BBHI", nh, 0, (off_units << 3) | more, ident)


def udp(n=8, ulen=None):
    if ulen is None:
        ulen = 8 + n
    return struct.pack("!HHHH", 1234, 53, ulen, 0) + payload(n)


def tcp(doff=5, opts=b"", data=b""):
    h = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, doff << 4, 0x18, 65535, 0, 0)
    return h + opts + data


# ---- well-formed traffic --------------------------------------------------------


def ether(src=MAC_A, dst=MAC_B):
    return Ether(src=src, dst=dst)


def valid_frames():
    """A varied, deterministic set of well-formed frames (every one parses to L4)."""
    fr = []
    sizes = [0, 1, 2, 5, 7, 13, 18, 33, 64, 100, 129, 255, 333, 511, 777, 1001, 1023, 1200, 1400]
    # ARP requests and replies.
    for i in range(8):
        op = 1 + (i % 2)
        fr.append(
            pad60(
                bytes(
                    Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff" if op == 1 else MAC_B)
                    / ARP(op=op, hwsrc=MAC_A, psrc=V4_A, pdst="10.0.0.%d" % (2 + i))
                )
            )
        )
    # IPv4 TCP with a range of payloads and options, UDP, ICMP.
    for i, n in enumerate(sizes):
        fr.append(
            bytes(
                ether()
                / IP(src=V4_A, dst=V4_B, id=100 + i)
                / TCP(sport=40000 + i, dport=80, seq=1000 * i, flags="PA",
                      options=[("MSS", 1460), ("NOP", None), ("WScale", 7)] if i % 3 == 0 else [])
                / Raw(payload(n, i))
            )
        )
        fr.append(
            bytes(ether() / IP(src=V4_A, dst=V4_B, id=200 + i) / UDP(sport=5000 + i, dport=53)
                  / Raw(payload(n, i + 1)))
        )
        fr.append(
            bytes(ether() / IP(src=V4_B, dst=V4_A, id=300 + i) / ICMP(type=8, id=7, seq=i)
                  / Raw(payload(n, i + 2)))
        )
    # TCP handshake-like segments with SACK and timestamps.
    for i in range(4):
        fr.append(
            pad60(bytes(
                ether()
                / IP(src=V4_A, dst=V4_B, id=400 + i)
                / TCP(sport=41000, dport=443, seq=i, flags="S" if i == 0 else "A",
                      options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (i, 0)),
                               ("NOP", None), ("WScale", 7)])
            ))
        )
    # IPv4 with options.
    for i in range(6):
        opts = [IPOption_RR(routers=["10.9.9.%d" % (i + 1)])] if i % 2 else [IPOption_NOP()] * 4
        fr.append(
            bytes(ether() / IP(src=V4_A, dst=V4_B, id=500 + i, options=opts)
                  / UDP(sport=7000 + i, dport=7) / Raw(payload(20 + i * 13)))
        )
    # IPv4 fragments (UDP and ICMP datagrams).
    for i, n in enumerate([1800, 3000, 4500]):
        pkt = IP(src=V4_A, dst=V4_B, id=600 + i) / UDP(sport=9000, dport=9001) / Raw(payload(n, i))
        for f in fragment(pkt, fragsize=1000 + 8 * i):
            fr.append(bytes(ether() / f))
        pkt = IP(src=V4_B, dst=V4_A, id=700 + i) / ICMP(id=9, seq=i) / Raw(payload(n, i + 5))
        for f in fragment(pkt, fragsize=1480):
            fr.append(bytes(ether() / f))
    # IPv6 TCP, UDP, ICMPv6.
    for i, n in enumerate(sizes):
        fr.append(bytes(ether() / IPv6(src=V6_A, dst=V6_B) / TCP(sport=42000 + i, dport=22, seq=i)
                        / Raw(payload(n, i + 3))))
        fr.append(bytes(ether() / IPv6(src=V6_A, dst=V6_B) / UDP(sport=6000 + i, dport=123)
                        / Raw(payload(n, i + 4))))
        fr.append(bytes(ether() / IPv6(src=V6_B, dst=V6_A) / ICMPv6EchoRequest(id=3, seq=i)
                        / Raw(payload(n, i + 6))))
    fr.append(bytes(ether() / IPv6(src=V6_B, dst=V6_A) / ICMPv6EchoReply(id=3, seq=1)))
    fr.append(bytes(ether(dst="33:33:ff:00:00:02") / IPv6(src=V6_A, dst="ff02::1:ff00:2")
                    / ICMPv6ND_NS(tgt=V6_B)))
    # IPv6 extension headers.
    for i in range(4):
        fr.append(bytes(ether() / IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrHopByHop()
                        / UDP(sport=1, dport=2) / Raw(payload(10 + i))))
        fr.append(bytes(ether() / IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrDestOpt()
                        / TCP(sport=3, dport=4, seq=i) / Raw(payload(30 + i))))
        fr.append(bytes(ether() / IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrHopByHop()
                        / IPv6ExtHdrRouting(addresses=["fd00::9"], segleft=0)
                        / IPv6ExtHdrDestOpt() / ICMPv6EchoRequest(seq=i)))
    # IPv6 fragments.
    for i, n in enumerate([2000, 3500]):
        pkt = (IPv6(src=V6_A, dst=V6_B) / IPv6ExtHdrFragment(id=0x1000 + i)
               / UDP(sport=8000, dport=8001) / Raw(payload(n, i)))
        for f in fragment6(pkt, 1280):
            fr.append(bytes(ether() / f))
    # 802.1Q and QinQ.
    for i in range(6):
        fr.append(pad60(bytes(ether() / Dot1Q(vlan=10 + i, prio=i % 8) / IP(src=V4_A, dst=V4_B)
                              / UDP(sport=11, dport=12) / Raw(payload(i * 9)))))
        fr.append(pad60(bytes(ether() / Dot1AD(vlan=100 + i) / Dot1Q(vlan=200 + i)
                              / IPv6(src=V6_A, dst=V6_B) / TCP(sport=13, dport=14)
                              / Raw(payload(i * 11)))))
    fr.append(pad60(bytes(ether() / Dot1Q(vlan=5) / ARP(hwsrc=MAC_A, psrc=V4_A, pdst=V4_B))))
    # LLDP.
    for i in range(3):
        fr.append(pad60(bytes(
            Ether(src=MAC_A, dst="01:80:c2:00:00:0e")
            / LLDPDU()
            / LLDPDUChassisID(subtype=4, id=MAC_A)
            / LLDPDUPortID(subtype=5, id="port%d" % i)
            / LLDPDUTimeToLive(ttl=120)
            / LLDPDUEndOfLLDPDU()
        )))
    # Jumbo 9000-byte frames and minimal 60-byte ones.
    for i in range(3):
        hdr = ether() / IP(src=V4_A, dst=V4_B, id=800 + i) / UDP(sport=20, dport=21)
        fr.append(bytes(hdr / Raw(payload(9000 - len(hdr), i))))
        hdr = ether() / IPv6(src=V6_A, dst=V6_B) / TCP(sport=22, dport=23)
        fr.append(bytes(hdr / Raw(payload(9000 - len(hdr), i))))
    for i in range(6):
        fr.append(pad60(bytes(ether() / IP(src=V4_A, dst=V4_B, id=900 + i)
                              / UDP(sport=30 + i, dport=31))))
    # Odd total lengths with non-IP ethertypes (opaque to the parser).
    for i, n in enumerate([47, 61, 123, 999, 1515]):
        fr.append(eth(0x88B5) + payload(n - 14, i))
    return fr


# ---- malformed traffic: three or more frames per parser error -------------------


def malformed_cases():
    """Map reason name -> list of frames that the parser rejects with exactly it."""
    V = 0x8100
    m = {}
    m["eth-runt"] = [b"\x02", RAW_B, RAW_B + RAW_A + b"\x08"]
    m["vlan-truncated"] = [
        eth(V),
        eth(V) + b"\x00\x0a",
        eth(0x88A8, [(0x88A8, 5)])[:-2] + struct.pack("!H", 0x8100) + b"\x00\x0a\x08",
    ]
    m["vlan-too-many-tags"] = [
        pad60(eth(0x0800, [(V, 1), (V, 2), (V, 3)]) + ip4(udp(4))),
        pad60(eth(0x86DD, [(0x88A8, 1), (V, 2), (V, 3)])),
        pad60(eth(0x0806, [(0x9100, 1), (0x88A8, 2), (V, 3), (V, 4)])),
    ]
    arp_ok = bytes(ARP(hwsrc=MAC_A, psrc=V4_A, pdst=V4_B))
    m["arp-truncated"] = [eth(0x0806), eth(0x0806) + arp_ok[:20], eth(0x0806) + arp_ok[:27]]
    m["arp-bad-header"] = [
        pad60(eth(0x0806) + struct.pack("!H", 6) + arp_ok[2:]),
        pad60(eth(0x0806) + arp_ok[:2] + struct.pack("!H", 0x86DD) + arp_ok[4:]),
        pad60(eth(0x0806) + arp_ok[:4] + bytes([8, 4]) + arp_ok[6:]),
        pad60(eth(0x0806) + arp_ok[:5] + bytes([16]) + arp_ok[6:]),
    ]
    good4 = ip4(udp(12))
    m["ip4-truncated"] = [
        eth(0x0800),
        eth(0x0800) + good4[:19],
        eth(0x0800) + ip4(udp(4), ihl=15)[:40],  # header says 60 bytes, frame has 40
    ]
    m["ip4-bad-version"] = [
        pad60(eth(0x0800) + ip4(udp(8), ver=6)),
        pad60(eth(0x0800) + ip4(udp(8), ver=0)),
        pad60(eth(0x0800) + ip4(udp(8), ver=15)),
    ]
    m["ip4-bad-ihl"] = [pad60(eth(0x0800) + ip4(udp(8), ihl=k)) for k in (0, 1, 4)]
    m["ip4-bad-length"] = [
        pad60(eth(0x0800) + ip4(udp(8), tot=10)),
        eth(0x0800) + ip4(udp(8), tot=1500),
        eth(0x0800) + ip4(udp(100), tot=20 + 108 + 1),
    ]
    m["ip4-bad-checksum"] = [
        pad60(eth(0x0800) + ip4(udp(8), bad_csum=True)),
        eth(0x0800) + ip4(tcp(data=payload(100)), proto=6, bad_csum=True),
        eth(0x0800) + ip4(udp(8), opts=b"\x01\x01\x01\x00", bad_csum=True),
    ]
    m["ip4-bad-option"] = [
        eth(0x0800) + ip4(udp(8), opts=b"\x07\x01\x00\x00"),  # length below 2
        eth(0x0800) + ip4(udp(8), opts=b"\x01\x07\x09\x04"),  # runs past the header
        eth(0x0800) + ip4(udp(8), opts=b"\x01\x01\x01\x83"),  # type with no length byte
    ]
    m["ip4-bad-fragment"] = [
        pad60(eth(0x0800) + ip4(payload(24), frag=8190)),
        pad60(eth(0x0800) + ip4(payload(8), frag=8191)),
        eth(0x0800) + ip4(payload(64), frag=0x2000 | 8185),
    ]
    good6 = ip6(udp(8))
    m["ip6-truncated"] = [eth(0x86DD), eth(0x86DD) + good6[:20], eth(0x86DD) + good6[:39]]
    m["ip6-bad-version"] = [eth(0x86DD) + ip6(udp(8), ver=v) for v in (4, 0, 7)]
    m["ip6-bad-length"] = [
        eth(0x86DD) + ip6(udp(8), plen=0),
        eth(0x86DD) + ip6(udp(8), plen=1000),
        eth(0x86DD) + ip6(udp(8), plen=17),
    ]
    m["ip6-bad-ext-header"] = [
        # Hop-by-hop anywhere but first (RFC 8200 section 4.3).
        eth(0x86DD) + ip6(ext6(0) + ext6(17) + udp(8), nh=60),
        # Destination options whose length runs past the payload.
        eth(0x86DD) + ip6(ext6(17, 4)[:8] + udp(8), nh=60),
        # Routing header announced with only 4 bytes left.
        eth(0x86DD) + ip6(b"\x11\x00\x00\x00", nh=43),
        # AH whose length field makes it shorter than its fixed part.
        eth(0x86DD) + ip6(bytes([17, 0, 0, 0]) + bytes(8) + udp(8), nh=51),
    ]
    chain = b"".join(ext6(60) for _ in range(8))
    m["ip6-ext-chain-too-long"] = [
        eth(0x86DD) + ip6(chain + ext6(17) + udp(8), nh=60),
        eth(0x86DD) + ip6(chain + ext6(60) + ext6(17) + udp(8), nh=60),
        # Hop-by-hop, seven destination options, then a fragment header as the ninth.
        eth(0x86DD) + ip6(ext6(60) + chain[16:] + ext6(44) + frag6(17) + udp(8), nh=0),
    ]
    m["icmp4-truncated"] = [pad60(eth(0x0800) + ip4(payload(n), proto=1)) for n in (0, 4, 7)]
    m["icmp6-truncated"] = [
        eth(0x86DD) + ip6(b"\x80\x00\x00\x00", nh=58, plen=4) + bytes(16),
        eth(0x86DD) + ip6(b"\x81\x00", nh=58),
        eth(0x86DD) + ip6(ext6(58) + b"\x80\x00\x00\x00\x00\x01\x00", nh=60),
    ]
    m["tcp-truncated"] = [
        pad60(eth(0x0800) + ip4(tcp()[:10], proto=6)),
        eth(0x86DD) + ip6(tcp()[:19], nh=6),
        pad60(eth(0x0800) + ip4(b"", proto=6)),
    ]
    m["tcp-bad-offset"] = [
        pad60(eth(0x0800) + ip4(tcp(doff=4), proto=6)),
        pad60(eth(0x0800) + ip4(tcp(doff=15), proto=6)),
        eth(0x86DD) + ip6(tcp(doff=0, data=payload(40)), nh=6),
        eth(0x86DD) + ip6(tcp(doff=8, opts=b"\x01\x01\x01\x01"), nh=6),
    ]
    m["tcp-bad-option"] = [
        eth(0x0800) + ip4(tcp(doff=6, opts=b"\x02\x03\x05\x00"), proto=6),  # MSS length 3
        eth(0x0800) + ip4(tcp(doff=6, opts=b"\x03\x04\x07\x00"), proto=6),  # wscale length 4
        eth(0x86DD) + ip6(tcp(doff=6, opts=b"\x1e\x01\x00\x00"), nh=6),  # length below 2
        eth(0x86DD) + ip6(tcp(doff=8, opts=b"\x08\x08" + bytes(10)), nh=6),  # timestamps 8
    ]
    m["udp-truncated"] = [
        pad60(eth(0x0800) + ip4(udp()[:4])),
        eth(0x86DD) + ip6(udp()[:7]),
        pad60(eth(0x0800) + ip4(b"")),
    ]
    m["udp-bad-length"] = [
        pad60(eth(0x0800) + ip4(udp(12, ulen=100))),
        pad60(eth(0x0800) + ip4(udp(12, ulen=4))),
        eth(0x86DD) + ip6(udp(12, ulen=64)),
        pad60(eth(0x0800) + ip4(udp(12, ulen=19))),
    ]
    return m


def pkt_h_reasons(path):
    with open(path) as f:
        text = f.read()
    body = text[text.index("#define AP_PKT_ERRORS") :]
    body = body[: body.index("\nenum")]
    return re.findall(r'X\(\s*\w+\s*,\s*"([a-z0-9-]+)"', body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--pkt-h", help="check the cases cover every reason in this header")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)

    valid = valid_frames()
    write_pcap(os.path.join(args.outdir, "mixed.pcap"), valid)

    cases = malformed_cases()
    if args.pkt_h:
        want = pkt_h_reasons(args.pkt_h)
        missing = [r for r in want if r not in cases]
        extra = [r for r in cases if r not in want]
        if missing or extra:
            print("gen.py: reasons without frames: %s; unknown reasons: %s" % (missing, extra),
                  file=sys.stderr)
            return 1

    # Interleave: a valid frame, then one frame per reason in turn, so that
    # drops and forwards alternate throughout the capture.
    out, kept = [], []
    pool = [valid[i * 7 % len(valid)] for i in range(24)]
    queues = {r: list(f) for r, f in cases.items()}
    vi = 0
    while any(queues.values()):
        if vi < len(pool):
            out.append(pool[vi])
            kept.append(pool[vi])
            vi += 1
        for r in cases:
            if queues[r]:
                out.append(queues[r].pop(0))
    for f in pool[vi:]:
        out.append(f)
        kept.append(f)
    write_pcap(os.path.join(args.outdir, "malformed.pcap"), out)
    write_pcap(os.path.join(args.outdir, "malformed.valid.pcap"), kept)
    write_pcap(os.path.join(args.outdir, "malformed.wire.pcap"), [f for f in out if len(f) >= 14])
    expect = {
        "total": len(out),
        "valid": len(kept),
        "drops": {r: len(f) for r, f in cases.items()},
    }
    with open(os.path.join(args.outdir, "malformed.expect.json"), "w") as f:
        json.dump(expect, f, indent=1, sort_keys=True)
        f.write("\n")

    runts, runts_kept = [], []
    for n in range(14):
        runts.append(payload(n, n))
        v = valid[(n * 11) % len(valid)]
        runts.append(v)
        runts_kept.append(v)
        if n % 3 == 0:
            runts.append(RAW_B + RAW_A + b"\x08\x00")  # exactly 14 bytes: not a runt
            runts_kept.append(runts[-1])
    write_pcap(os.path.join(args.outdir, "runts.pcap"), runts)
    write_pcap(os.path.join(args.outdir, "runts.valid.pcap"), runts_kept)
    return 0


if __name__ == "__main__":
    sys.exit(main())
