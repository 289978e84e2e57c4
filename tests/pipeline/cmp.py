#!/usr/bin/python3
"""Compare two pcap captures packet by packet: same frames, same bytes, same order.

Timestamps are ignored. Reads classic pcap in either byte order, with microsecond
or nanosecond timestamps. Prints the first difference and exits 1, or prints a
one-line summary and exits 0.

Usage: cmp.py [--drop-shorter N] EXPECTED ACTUAL
  --drop-shorter N  leave frames shorter than N bytes out of EXPECTED first
"""

import argparse
import struct
import sys

MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",  # microseconds, little endian
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",  # nanoseconds
    b"\xa1\xb2\x3c\x4d": ">",
}


def read_pcap(path):
    """Return the list of captured frames (bytes) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in MAGICS:
        raise ValueError("%s: not a pcap file (magic %s)" % (path, data[:4].hex()))
    end = MAGICS[data[:4]]
    off, frames = 24, []
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError("%s: truncated record header at offset %d" % (path, off))
        _, _, caplen, wirelen = struct.unpack(end + "IIII", data[off : off + 16])
        off += 16
        if off + caplen > len(data):
            raise ValueError("%s: truncated frame %d at offset %d" % (path, len(frames), off))
        if caplen != wirelen:
            raise ValueError(
                "%s: frame %d captured %d of %d bytes" % (path, len(frames), caplen, wirelen))
        frames.append(data[off : off + caplen])
        off += caplen
    return frames


def hexdump(b, start, count=32):
    seg = b[start : start + count]
    return " ".join("%02x" % x for x in seg) or "(end)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drop-shorter", type=int, default=0, metavar="N")
    ap.add_argument("expected")
    ap.add_argument("actual")
    args = ap.parse_args()
    try:
        exp = read_pcap(args.expected)
        act = read_pcap(args.actual)
    except (OSError, ValueError) as e:
        print("cmp: %s" % e)
        return 1
    exp = [f for f in exp if len(f) >= args.drop_shorter]
    for i, (a, b) in enumerate(zip(exp, act)):
        if a == b:
            continue
        at = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        print("cmp: frame %d differs: expected %d bytes, got %d; first difference at byte %d"
              % (i, len(a), len(b), at))
        s = at - at % 16
        print("cmp:   expected @%d: %s" % (s, hexdump(a, s)))
        print("cmp:   got      @%d: %s" % (s, hexdump(b, s)))
        return 1
    if len(exp) != len(act):
        n = min(len(exp), len(act))
        print("cmp: expected %d frames, got %d (first %d identical)" % (len(exp), len(act), n))
        more = exp if len(exp) > n else act
        print("cmp:   frame %d (%s only): %d bytes: %s"
              % (n, "expected" if more is exp else "output", len(more[n]), hexdump(more[n], 0)))
        return 1
    print("cmp: %d frames identical" % len(exp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
