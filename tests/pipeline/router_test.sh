#!/usr/bin/env bash
# Offline routing: a capture of ARP, ND, ICMP and forwarded IPv4/IPv6 traffic
# through two routed pcap ports; every frame's outcome is checked in the
# output captures (router.py) and the summary's drop reasons.
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

pipe_require
n=$("$PYTHON" "$PIPE_DIR/router.py" count)
tap_plan $((n + 1))
"$PYTHON" "$PIPE_DIR/router.py" gen "$WORK" &&
	pipe_run router -c router.yaml --summary summary.json
tap_ok $? "aetherd routed the capture offline and exited"
# router.py prints the remaining TAP lines, numbered after the first.
"$PYTHON" "$PIPE_DIR/router.py" check "$WORK" | awk '{ if ($1 == "ok" || $1 == "not") { sub(/^(ok|not ok) [0-9]+/, ($1 == "ok" ? "ok " : "not ok ") ($1 == "ok" ? $2 + 1 : $3 + 1)) } print }'
TAP_N=$((n + 1))
tap_done
