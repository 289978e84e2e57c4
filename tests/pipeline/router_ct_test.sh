#!/usr/bin/env bash
# Offline routing with connection tracking on: every frame of the router
# capture has the same outcome as without it (router.py), drops counted under
# the same reasons, though conntrack parses the IP headers before routing.
set -u
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

export PIPE_CONNTRACK=1
pipe_golden router "routed with conntrack on"
