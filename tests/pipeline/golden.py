#!/usr/bin/python3
"""What the pipeline golden tests (router.py, bridge.py) share: TAP output
and the command line (gen DIR, check DIR, count)."""
import sys


class Results:
    """Checks in order, printed as TAP lines."""

    def __init__(self):
        self.items = []

    def ok(self, cond, desc):
        self.items.append((bool(cond), desc))

    def report(self):
        for i, (good, desc) in enumerate(self.items, 1):
            print("%s %d - %s" % ("ok" if good else "not ok", i, desc))
        return all(g for g, _ in self.items)


def main(gen, check, count):
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "count":
        print(count)
    else:
        sys.exit(0 if check(sys.argv[2]) else 1)
