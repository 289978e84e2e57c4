# SPDX-License-Identifier: BSD-3-Clause
# Shared by the BGP interop tests: aetherd runs with --no-dataplane in the
# test's "bgp" namespace, its API socket in $dir, and these helpers ask it
# about the session and the Loc-RIB. Source after tests/lab/lib.sh and after
# setting $dir (lab_tmpdir).

summary() { lab_ctl -j show bgp summary; }
# established: the first (only) neighbour is Established.
established() { [ "$(summary | jq -r '.neighbors[0].state')" = Established ]; }
route_json() { lab_ctl -j show bgp routes "$1"; }
has_route() { route_json "$1" | jq -e '.total == 1' >/dev/null; }
gone() { route_json "$1" | jq -e '.total == 0' >/dev/null; }

# start_aetherd CONFIG: start aetherd (control plane only) in the bgp
# namespace and wait until the BGP summary answers (lab_aetherd_start waits on
# data-plane counters, which this mode has none of); on failure show its log.
start_aetherd() {
	LAB_API_SOCK=$dir/api.sock
	LAB_AETHERD_LOG=$dir/aetherd.log
	ip netns exec "$(lab_ns bgp)" "$AETHERD" --foreground --no-dataplane \
		--api-socket "$LAB_API_SOCK" -c "$1" >>"$LAB_AETHERD_LOG" 2>&1 &
	LAB_AETHERD_PID=$!
	LAB_PIDS+=("$LAB_AETHERD_PID")
	if ! lab_wait_for 20 summary; then
		sed 's/^/#   /' "$LAB_AETHERD_LOG" >&2
		return 1
	fi
}

# The routes every interop peer announces: 203.0.113.0/24 with MED 50,
# community AS:7 and large community AS:1:2, and 2001:db8:200::/48 with
# community AS:8, where AS is the peer's.
# peer_v4ok AS NEXT_HOP: the IPv4 one arrived with all of that.
peer_v4ok() {
	route_json 203.0.113.0/24 | jq -e --arg asn "$1" --arg nh "$2" '.routes[0] |
		.as_path == $asn and .med == 50 and .next_hop == $nh and
		(.communities | index($asn + ":7")) and
		(.large_communities | index($asn + ":1:2"))' >/dev/null
}
# peer_v6ok AS [NEXT_HOP]: the IPv6 one arrived (with that next hop if given).
peer_v6ok() {
	route_json 2001:db8:200::/48 | jq -e --arg asn "$1" --arg nh "${2:-}" '.routes[0] |
		.as_path == $asn and ($nh == "" or .next_hop == $nh) and
		(.communities | index($asn + ":8"))' >/dev/null
}
