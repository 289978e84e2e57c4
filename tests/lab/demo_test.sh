#!/usr/bin/env bash
# make demo, bounded: DEMO_SECONDS=8 scripts/demo exits 0, showed the daemon's
# counters, ran its traffic through the firewall, masquerade and the shaper,
# and left no namespace behind.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping iperf3
lab_require_aetherd

tap_plan 6

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

# iperf3's flow left with the router's address and went through the
# 200 Mbit/s class; the firewall saw the established flows.
grep -Eq '^tcp +[0-9.]+:[0-9]+ > [0-9.]+:5201 +[0-9.]+\.1:[0-9]+ > [0-9.]+:5201 ' "$out"
rc=$?
[ $rc -ne 0 ] && tap_diag "$(grep -A3 '^PROTO' "$out")"
tap_ok $rc "iperf3's flow is masqueraded to the router's address"
rate=$(awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i}' "$out")
grep -Eq '^iperf +wan +200M' "$out" && [ -n "$rate" ] && [ "${rate%.*}" -le 210 ] &&
	grep -q 'verdicts: established [1-9]' "$out"
rc=$?
[ $rc -ne 0 ] && tap_diag "iperf3 received ${rate:-?} Mbit/s; $(grep -E '^(CLASS|iperf|default)' "$out")"
tap_ok $rc "shaped to 200 Mbit/s (iperf3 measured ${rate:-?}), the firewall passed it as established"

tap_done
