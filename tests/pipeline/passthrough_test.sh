#!/usr/bin/env bash
# Offline pass-through: with nothing but cross-connects in the pipeline, every
# frame of at least 14 bytes comes out byte-identical and in order, shorter ones
# are dropped as eth-runt, and the summary balances (rx = tx + drops). The
# built-in default and `validate: none` ports are wires: malformed tag stacks
# and headers pass too; the default `validate: l2` drops those (malformed_test).
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

pipe_require
tap_plan 22

pipe_gen
tap_ok $? "captures generated"
n_mixed=$(pipe_count "$WORK/mixed.pcap")
n_runts=$(pipe_count "$WORK/runts.pcap")
n_runts_ok=$(pipe_count "$WORK/runts.valid.pcap")

# 1. The built-in default: one pcap port cross-connected to itself, summary on stdout.
pipe_run default -r mixed.pcap -w default.pcap
tap_ok $? "built-in default: aetherd -r mixed.pcap -w out.pcap exits 0"
pipe_cmp "$WORK/mixed.pcap" "$WORK/default.pcap"
tap_ok $? "built-in default: $n_mixed frames out byte-identical, in order"
pipe_summary_ok "$WORK/default.out" "$n_mixed" "$n_mixed" 0
tap_ok $? "built-in default: summary on stdout, rx = tx = $n_mixed, no drops"

# two_ports NAME IN [P0_KEYS]: p0 reads IN, the cross-connect sends everything
# to p1, which writes NAME.pcap; the summary goes to NAME.json.
two_ports() {
	cat >"$WORK/$1.yaml" <<-YAML
		dataplane: {workers: 1}
		ports:
		  - {name: p0, driver: pcap, rx_pcap: $2${3:+, $3}}
		  - {name: p1, driver: pcap, tx_pcap: $1.pcap}
		xconnect:
		  - {a: p0, b: p1}
	YAML
	pipe_run "$1" -c "$1.yaml" --summary "$1.json"
}

# 2. Two ports: p0 reads, the cross-connect sends everything to p1, which writes.
two_ports two mixed.pcap
tap_ok $? "two ports: aetherd -c two.yaml exits 0"
pipe_cmp "$WORK/mixed.pcap" "$WORK/two.pcap"
tap_ok $? "two ports: p0 -> p1 byte-identical, in order"
pipe_summary_ok "$WORK/two.json" "$n_mixed" "$n_mixed" 0
tap_ok $? "two ports: summary rx = tx = $n_mixed, no drops"
jq -e --argjson n "$n_mixed" '
	(.ports[] | select(.name == "p0") | .rx_packets == $n and .tx_packets == 0) and
	(.ports[] | select(.name == "p1") | .tx_packets == $n and .rx_packets == 0)' \
	"$WORK/two.json" >/dev/null
rc=$?
[ $rc -ne 0 ] && tap_diag "$(jq -c '.ports' "$WORK/two.json" 2>&1)"
tap_ok $rc "two ports: per-port counters (p0 rx $n_mixed, p1 tx $n_mixed)"

# 3. Runts: frames of 0..13 bytes drop as eth-runt, all others pass in order.
pipe_run runts -r runts.pcap -w runts.out.pcap --summary runts.json
tap_ok $? "runts: aetherd exits 0"
pipe_cmp "$WORK/runts.valid.pcap" "$WORK/runts.out.pcap"
tap_ok $? "runts: the $n_runts_ok frames of 14 bytes or more out identical, in order"
n_short=$((n_runts - n_runts_ok))
pipe_summary_ok "$WORK/runts.json" "$n_runts" "$n_runts_ok" "$n_short"
tap_ok $? "runts: summary rx $n_runts = tx $n_runts_ok + drops $n_short"
jq -e --argjson n "$n_short" '.drops.reasons["eth-runt"] == $n and
	([.drops.reasons[]] | add) == $n' "$WORK/runts.json" >/dev/null
rc=$?
[ $rc -ne 0 ] && tap_diag "drops: $(jq -c '.drops' "$WORK/runts.json" 2>&1)"
tap_ok $rc "runts: all $n_short drops counted as eth-runt"

# 4. A wire: every frame of malformed.pcap of 14 bytes or more, broken VLAN tags
# and IP headers included, passes the built-in default and a `validate: none`
# cross-connect untouched; only eth-runt drops.
n_bad=$(pipe_count "$WORK/malformed.pcap")
n_wire=$(pipe_count "$WORK/malformed.wire.pcap")
pipe_run wire-default -r malformed.pcap -w wire-default.pcap --summary wire-default.json
tap_ok $? "wire, built-in default: aetherd exits 0"
pipe_cmp "$WORK/malformed.wire.pcap" "$WORK/wire-default.pcap"
tap_ok $? "wire, built-in default: the $n_wire frames of 14 bytes or more out identical, in order"
jq -e --argjson n $((n_bad - n_wire)) '.drops.reasons["eth-runt"] == $n and
	([.drops.reasons[]] | add) == $n' "$WORK/wire-default.json" >/dev/null
rc=$?
[ $rc -ne 0 ] && tap_diag "drops: $(jq -c '.drops' "$WORK/wire-default.json" 2>&1)"
tap_ok $rc "wire, built-in default: only the $((n_bad - n_wire)) runts drop, as eth-runt"

# A wire's bursts go from port-rx straight to the peer's port-tx when every
# frame in them has a whole Ethernet header; a burst with a runt goes through
# eth-input, which drops it with its reason.
node_packets() { # SUMMARY NODE
	jq --arg n "$2" '[.nodes[] | select(.name == $n) | .packets] | add // 0' "$1"
}
two_ports wire-clean mixed.pcap "validate: none"
tap_ok $? "wire, clean frames: aetherd -c wire-clean.yaml exits 0"
pipe_cmp "$WORK/mixed.pcap" "$WORK/wire-clean.pcap"
tap_ok $? "wire, clean frames: p0 -> p1 byte-identical, in order"
got="$(node_packets "$WORK/wire-clean.json" eth-input) $(node_packets "$WORK/wire-clean.json" xconnect) $(node_packets "$WORK/wire-clean.json" port-tx-p1)"
[ "$got" = "0 0 $n_mixed" ]
rc=$?
[ $rc -ne 0 ] && tap_diag "eth-input, xconnect, port-tx-p1 packets: $got"
tap_ok $rc "wire, clean frames: port-rx hands all $n_mixed to port-tx-p1, none through eth-input or xconnect"

two_ports wire malformed.pcap "validate: none"
tap_ok $? "wire, validate: none: aetherd -c wire.yaml exits 0"
pipe_cmp "$WORK/malformed.wire.pcap" "$WORK/wire.pcap"
tap_ok $? "wire, validate: none: p0 -> p1 the $n_wire frames of 14 bytes or more, identical"
pipe_summary_ok "$WORK/wire.json" "$n_bad" "$n_wire" $((n_bad - n_wire))
tap_ok $? "wire, validate: none: summary rx $n_bad = tx $n_wire + drops $((n_bad - n_wire))"
[ "$(node_packets "$WORK/wire.json" eth-input)" -gt 0 ] &&
	[ "$(node_packets "$WORK/wire.json" port-tx-p1)" = "$n_wire" ]
tap_ok $? "wire, validate: none: bursts with runts go through eth-input"

tap_done
