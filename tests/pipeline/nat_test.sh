#!/usr/bin/env bash
# Offline NAT: masquerade, port forward, 1:1 and hairpin through two pcap
# ports, replies and ICMP errors coming back; every rewrite and checksum is
# checked in the output captures (nat.py).
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

pipe_golden nat translated
