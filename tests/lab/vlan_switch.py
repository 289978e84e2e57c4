#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small VLAN switch for the lab, written apart from the appliance.

    vlan_switch.py TRUNK ACCESS:VID[.INNER] ...

Frames from an access interface leave the trunk tagged with its VLAN
(802.1Q), or with an 802.1ad S-tag VID around an 802.1Q C-tag INNER; tagged
frames from the trunk go, untagged, to the access interface of their tags.
The kernel here cannot make VLAN devices, so the lab's hosts reach the
appliance's trunks through this. AF_PACKET hands the outer tag of received
frames over apart from the data (PACKET_AUXDATA); it is put back here.
"""
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
PACKET_OUTGOING = 4


def open_sock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    return s


def receive(s):
    """The frame as it was on the wire (outer tag restored), or None."""
    data, anc, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(32))
    if addr[2] == PACKET_OUTGOING:
        return None
    for level, kind, cdata in anc:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(cdata) < 20:
            continue
        status, _len, _snap, _mac, _net, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
        if status & TP_STATUS_VLAN_VALID:
            if not status & TP_STATUS_VLAN_TPID_VALID or tpid == 0:
                tpid = 0x8100
            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


def main():
    trunk_if = sys.argv[1]
    trunk = open_sock(trunk_if)
    access = {}  # sock -> (outer, inner)
    by_tags = {}
    for spec in sys.argv[2:]:
        ifname, vids = spec.split(":")
        outer, _, inner = vids.partition(".")
        tags = (int(outer), int(inner) if inner else 0)
        s = open_sock(ifname)
        access[s] = tags
        by_tags[tags] = s
    socks = [trunk] + list(access)
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            f = receive(s)
            if f is None or len(f) < 14:
                continue
            if s is trunk:
                tpid, tci = struct.unpack("!HH", f[12:16])
                if tpid not in (0x8100, 0x88A8):
                    continue
                outer, rest = tci & 0xFFF, f[16:]
                inner = 0
                if tpid == 0x88A8 or (outer, 0) not in by_tags:
                    if len(rest) >= 4 and struct.unpack("!H", rest[:2])[0] == 0x8100:
                        inner = struct.unpack("!H", rest[2:4])[0] & 0xFFF
                        rest = rest[4:]
                out = by_tags.get((outer, inner))
                if out is not None:
                    out.send(f[:12] + rest)
            else:
                outer, inner = access[s]
                if inner:
                    tag = struct.pack("!HHHH", 0x88A8, outer, 0x8100, inner)
                else:
                    tag = struct.pack("!HH", 0x8100, outer)
                trunk.send(f[:12] + tag + f[12:])


if __name__ == "__main__":
    main()
