#!/usr/bin/env bash
# Offline bridging: frames of VLANs 10, 20 and 30 on a trunk, bridged to
# access and QinQ members, routed by a bridge interface and a VLAN
# sub-interface; every outcome is checked in the output captures
# (bridge.py) and the summary's drop reasons.
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

pipe_golden bridge bridged
