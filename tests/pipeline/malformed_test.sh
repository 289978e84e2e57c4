#!/usr/bin/env bash
# Offline validation: a `validate: full` port looped to itself drops every
# malformed frame of malformed.pcap under exactly the reason gen.py crafted it
# for, forwards the valid ones untouched and in order, and the summary balances.
# With `validate: l2` only the L2 reasons drop. `aetherd --check` reports a
# broken config as file:line:col.
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

pipe_require
tap_plan 12

pipe_gen
tap_ok $? "captures generated (every AP_PKT_ERRORS reason covered)"
exp=$WORK/malformed.expect.json
total=$(jq .total "$exp")
valid=$(jq .valid "$exp")
ndrop=$(jq '[.drops[]] | add' "$exp")

cat >"$WORK/full.yaml" <<YAML
dataplane: {workers: 1}
ports:
  - {name: p0, driver: pcap, rx_pcap: malformed.pcap, tx_pcap: full.pcap, validate: full}
xconnect:
  - {a: p0, b: p0}
YAML

pipe_run check-good --check -c full.yaml
tap_ok $? "aetherd --check accepts the validate: full config"

pipe_run full -c full.yaml --summary full.json
tap_ok $? "validate full: aetherd exits 0"
pipe_summary_ok "$WORK/full.json" "$total" "$valid" "$ndrop"
tap_ok $? "validate full: summary rx $total = tx $valid + drops $ndrop"

# Every crafted reason counted exactly, and no reason counted that was not crafted.
diff=$(jq -n --slurpfile e "$exp" --slurpfile s "$WORK/full.json" '
	($e[0].drops) as $want |
	(($s[0].drops.reasons // {}) | with_entries(select(.value != 0))) as $got |
	[($want + $got | keys[]) | select($want[.] != $got[.]) |
	 "\(.): expected \($want[.] // 0), got \($got[.] // 0)"] | .[]' -r 2>&1)
rc=$?
[ -n "$diff" ] && rc=1 && tap_diag "$diff"
tap_ok $rc "validate full: drops per reason equal malformed.expect.json ($(jq '.drops | length' "$exp") reasons)"

pipe_cmp "$WORK/malformed.valid.pcap" "$WORK/full.pcap"
tap_ok $? "validate full: the $valid valid frames out identical, in order"

jq -e --argjson n "$total" --argjson d "$ndrop" '
	(.ports[] | select(.name == "p0") | .rx_packets == $n) and
	(.nodes | map(select(.name == "drop")) | .[0].packets == $d)' \
	"$WORK/full.json" >/dev/null
rc=$?
[ $rc -ne 0 ] && tap_diag "$(jq -c '{ports, nodes}' "$WORK/full.json" 2>&1)"
tap_ok $rc "validate full: port p0 rx $total, drop node saw $ndrop"

# validate: l2 (the default) drops only what the L2 parser rejects.
sed -e 's/, validate: full//' -e 's/full.pcap/l2.pcap/' "$WORK/full.yaml" >"$WORK/l2.yaml"
pipe_run l2 -c l2.yaml --summary l2.json
tap_ok $? "validate l2: aetherd exits 0"
l2drop=$(jq '[.drops | to_entries[] | select(.key | test("^(eth|vlan)-")) | .value] | add' "$exp")
pipe_summary_ok "$WORK/l2.json" "$total" $((total - l2drop)) "$l2drop"
tap_ok $? "validate l2: only eth-/vlan- reasons drop ($l2drop), the rest is forwarded"

# --check on broken configs: one error each, reported as file:line:col: message.
printf 'dataplane: {workers: 1}\nports:\n  - {name: p0, driver: warp-drive}\n' \
	>"$WORK/bad-driver.yaml"
printf 'dataplane: {workers: 1}\nports:\n  - {name: p0, driver: pcap, rx_pcap: a.pcap\nxconnect: []\n' \
	>"$WORK/bad-syntax.yaml"
printf 'ports:\n  - {name: p0, driver: pcap, rx_pcap: a.pcap}\nxconnect:\n  - {a: p0, b: nowhere}\n' \
	>"$WORK/bad-ref.yaml"
for bad in bad-driver bad-syntax bad-ref; do
	(cd "$WORK" && timeout 30 "$AETHERD" --check -c "$bad.yaml") >"$WORK/$bad.out" \
		2>"$WORK/$bad.err"
	rc=$?
	msg=$(head -n 1 "$WORK/$bad.err")
	tap_diag "$bad: exit $rc: $msg"
	[ $rc -eq 1 ] && echo "$msg" | grep -Eq "^([^:]*/)?$bad\.yaml:[0-9]+:[0-9]+: [^ ]"
	tap_ok $? "aetherd --check $bad.yaml: exit 1 with file:line:col: message"
done

tap_done
