#!/usr/bin/env bash
# docs/api/openapi.yaml against a live aetherd: every operation is called
# (good and bad requests, with and without the token) and every reply is
# checked against the spec by openapi_check.py.
set -u
# shellcheck source=../lab/lib.sh
. "$(dirname "$0")/../lab/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping
lab_require_aetherd
/usr/bin/python3 -c 'import yaml' 2>/dev/null || tap_skip_all "python3-yaml not installed"

dir=$(lab_tmpdir)
lab_topo_line >/dev/null 2>&1 || tap_bail "cannot build the lab topology"
cfg=$dir/api.yaml
cat "$LAB_XC_CONFIG" >"$cfg"
# The BGP routes are only served with a bgp section: a speaker on the dut's
# loopback announcing two networks, and one passive neighbour (the server,
# which runs no BGP) that is never dialled and stays down.
bgp_peer=$LAB_SERVER4
cat >>"$cfg" <<-EOF2
	api: {listen: 127.0.0.1:8080, token_file: $dir/lib/api.token, web_root: $AP_SRC/web}
	bgp:
	  asn: 65001
	  router_id: 192.0.2.1
	  listen: {address: 127.0.0.1, port: 1179}
	  networks: [198.51.100.0/24, "2001:db8:100::/48"]
	  neighbors:
	    - {address: $bgp_peer, remote_as: 65002, passive: true}
EOF2
lab_aetherd_start dut "$cfg" || tap_bail "aetherd did not start"
lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$LAB_SERVER4"
lab_bg client ping -i 0.1 "$LAB_SERVER4"
sleep 2 # a few history samples

lab_exec dut /usr/bin/python3 "$AP_SRC/tests/interop/openapi_check.py" \
	http://127.0.0.1:8080 "$dir/lib/api.token" "$AP_SRC/docs/api/openapi.yaml" "$bgp_peer" \
	198.51.100.0/24 2001:db8:100::/48
rc=$?
lab_aetherd_stop || sed 's/^/#   /' "$LAB_AETHERD_LOG"
exit $rc
