#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A full table from an MRT dump through a BGP session: bgp_mrt_feed replays
# the 112,986 routes peer 193.203.0.1 (AS 1853) had in the RIPE RIS dump of
# 2002-07-22, aetherd (--no-dataplane) learns them, and its RIB must hold the
# same prefixes with the same attributes as bgpdump's decode of the dump.
# Then `aetherctl bgp dump` writes that Loc-RIB as MRT TABLE_DUMP_V2: read
# back by our reader and, when installed, by bgpdump, it must hold the same.
. "$(dirname "$0")/../lab/lib.sh"
set -o pipefail

MRT=${AP_PEER_DATA:-$AP_SRC/../shared/peer-data}/bgp-mrt
DUMP=$MRT/mrt/bview.20020722.2337.gz
EXPECTED=$MRT/expected_bgpdump_m/bview.20020722.2337.gz.bgp.gz
PEER=193.203.0.1
ROUTES=112986

lab_require_root
lab_require_cmd jq curl gzip
lab_require_aetherd
[ -r "$DUMP" ] && [ -r "$EXPECTED" ] || tap_skip_all "shared peer data not installed ($MRT)"
[ -x "${BGP_MRT_FEED:-}" ] || tap_skip_all "bgp_mrt_feed not built"

tap_plan 9
dir=$(lab_tmpdir)
. "$(dirname "$0")/bgp_lib.sh"
US=10.77.0.1

cat >"$dir/aetherd.yaml" <<EOF2
bgp:
  asn: 65001
  router_id: $US
  listen: {address: $US, port: 1179}
  neighbors:
    - {address: $PEER, remote_as: 1853, passive: true, import: all, families: [ipv4]}
EOF2

lab_ns_add bgp || tap_bail "cannot create a namespace"
lab_addr bgp lo "$US/32" && lab_addr bgp lo "$PEER/32" || tap_bail "cannot add addresses"

tap_check "aetherd starts with a bgp section (--no-dataplane)" start_aetherd "$dir/aetherd.yaml"
t0=$(date +%s%N)
lab_bg bgp "$BGP_MRT_FEED" "$DUMP" "$PEER" "$PEER" "$US" 1179
loaded() {
	summary | jq -e --argjson n "$ROUTES" '.neighbors[0].prefixes_accepted == $n' >/dev/null
}
lab_wait_for 120 loaded
t1=$(date +%s%N)
tap_check "all $ROUTES routes of the dump's peer are accepted" loaded
rss=$(awk '/VmRSS/ {print $2}' "/proc/$LAB_AETHERD_PID/status")
tap_diag "$ROUTES routes loaded in $(((t1 - t0) / 1000000)) ms (dump read and replay included); aetherd RSS ${rss} kB"

# Our RIB and bgpdump's decode, in one form: prefix|path|origin|next hop|med|communities|AG|aggregator
curl -s --unix-socket "$LAB_API_SOCK" "http://aetherd/api/v1/bgp/routes?limit=1000000" |
	jq -r '.routes[] | [.prefix, .as_path, (.origin | ascii_upcase), .next_hop, (.med // 0),
		((.communities // []) | join(" ")),
		(if .atomic_aggregate then "AG" else "NAG" end),
		(if .aggregator_as then "\(.aggregator_as) \(.aggregator_id)" else "" end)] |
		map(tostring) | join("|")' | sort >"$dir/ours.txt"
gzip -cd "$EXPECTED" | awk -F'|' -v p="$PEER" '$4 == p {
	print $6 "|" $7 "|" $8 "|" $9 "|" $11 "|" $12 "|" $13 "|" $14 }' | sort >"$dir/dump.txt"
tap_check "the RIB holds $ROUTES prefixes" test "$(wc -l <"$dir/ours.txt")" -eq "$ROUTES"
tap_check "the dump holds $ROUTES routes for that peer" test "$(wc -l <"$dir/dump.txt")" -eq "$ROUTES"
if ! cmp -s "$dir/ours.txt" "$dir/dump.txt"; then
	tap_diag "$(diff "$dir/dump.txt" "$dir/ours.txt" | head -6)"
fi
tap_check "every prefix has the dump's AS path, origin, next hop, MED, communities, aggregator" \
	cmp -s "$dir/ours.txt" "$dir/dump.txt"

# The Loc-RIB as an MRT file, read back: the bgpdump -m fields compared as above.
fields() {
	awk -F'|' -v p="$PEER" '$4 == p {
		print $6 "|" $7 "|" $8 "|" $9 "|" $11 "|" $12 "|" $13 "|" $14 }' | sort
}
tap_check "aetherctl bgp dump writes the Loc-RIB" \
	bash -c "'$AETHERCTL' -s '$LAB_API_SOCK' bgp dump '$dir/rib.mrt' |
		grep -q '$dir/rib.mrt: $ROUTES routes'"
"$BGP_MRT_FEED" --print "$dir/rib.mrt" >"$dir/ours.lines"
tap_check "our MRT reader reads it back: TABLE_DUMP2 records" \
	bash -c "[ \$(grep -c '^TABLE_DUMP2|' '$dir/ours.lines') -eq $ROUTES ]"
fields <"$dir/ours.lines" >"$dir/ours.mrt.txt"
tap_check "read back, every route equals the original dump's" \
	cmp -s "$dir/ours.mrt.txt" "$dir/dump.txt"
if command -v bgpdump >/dev/null; then
	bgpdump -m "$dir/rib.mrt" 2>/dev/null | fields >"$dir/bgpdump.txt"
	if ! cmp -s "$dir/bgpdump.txt" "$dir/dump.txt"; then
		tap_diag "$(diff "$dir/dump.txt" "$dir/bgpdump.txt" | head -6)"
	fi
	tap_check "bgpdump reads it to the same routes" cmp -s "$dir/bgpdump.txt" "$dir/dump.txt"
else
	tap_skip "bgpdump reads it to the same routes" "bgpdump not installed"
fi

tap_done
