#!/usr/bin/env bash
# make demo, bounded: DEMO_SECONDS=8 scripts/demo exits 0, showed the daemon's
# counters, and left no namespace behind.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping iperf3
lab_require_aetherd

tap_plan 4

out=$(lab_tmpdir)/demo.out
DEMO_SECONDS=8 timeout -k 10 120 "$AP_SRC/scripts/demo" >"$out" 2>&1
rc=$?
[ $rc -ne 0 ] && tap_diag "$(tail -n 40 "$out")"
tap_ok $rc "DEMO_SECONDS=8 scripts/demo exits 0"

prefix=$(sed -n 's/^demo: lab prefix \(ap[0-9a-f]*\)$/\1/p' "$out")
[ -n "$prefix" ]
tap_ok $? "demo announced its lab prefix ($prefix)"

left=$(ip netns list | awk '{print $1}' | grep "^${prefix:-none}-")
[ -n "$prefix" ] && [ -z "$left" ]
rc=$?
[ $rc -ne 0 ] && tap_diag "namespaces left: $left"
tap_ok $rc "no namespace left behind"

n=$(grep -c '^-- [0-9:]*  (up ' "$out")
[ "$n" -ge 2 ] && grep -q '^ping: 64 bytes from' "$out"
tap_ok $? "counters shown $n times while the background ping ran"

tap_done
