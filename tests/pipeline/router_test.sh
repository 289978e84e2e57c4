#!/usr/bin/env bash
# Offline routing: a capture of ARP, ND, ICMP and forwarded IPv4/IPv6 traffic
# through two routed pcap ports; every frame's outcome is checked in the
# output captures (router.py) and the summary's drop reasons.
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

pipe_golden router routed
