#!/usr/bin/env bash
# The web dashboard in headless Chromium: aetherd routes between the client
# and server subnets of the lab while ping runs; the browser signs in with the
# API token, sees the charts move, the interfaces, routes and neighbours of the
# lab, the daemon's recent log records (filtered by level), a packet trace
# through ip4-input, and every page load without a console error. Screenshots
# are kept as tests/artifacts/dashboard.png (overview) and dashboard-<page>.png
# (logs, interfaces, routes, neighbors, trace).
set -u
# shellcheck source=../lab/lib.sh
. "$(dirname "$0")/../lab/lib.sh"

WEB_DIR=$AP_SRC/tests/web
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

lab_require_root
lab_require_cmd ip ethtool ping node
lab_require_aetherd
[ -x "$CHROMIUM" ] || tap_skip_all "chromium not installed ($CHROMIUM)"
[ -d "$WEB_DIR/node_modules/playwright-core" ] ||
	tap_skip_all "playwright-core not installed (npm ci --prefix tests/web)"

# 3 results, 19 of dashboard.mjs on the routed lab, 1, then 4 of it unrouted.
tap_plan 27

lab_topo_routed
tap_ok $? "routed topology client - dut - server built"

dir=$(lab_tmpdir)
port=8080
cfg=$dir/web.yaml
sed 's/iface: d0}/iface: d0, validate: full}/' "$LAB_ROUTER_CONFIG" >"$cfg"
cat >>"$cfg" <<-EOF2
	api: {listen: 127.0.0.1:$port, token_file: $dir/lib/api.token, web_root: $AP_SRC/web}
EOF2

lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started with the dashboard on 127.0.0.1:$port (in the dut namespace)"

lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$LAB_SERVER4"
lab_bg client ping -i 0.05 "$LAB_SERVER4"
# A trickle of IPv4 packets with a wrong header checksum, which the lan port
# (validate: full) drops as ip4-bad-checksum: the drops table has a row to show.
lab_bg client /usr/bin/python3 -c "
from scapy.all import Ether, IP, ICMP, sendp
sendp(Ether(dst='ff:ff:ff:ff:ff:ff') / IP(dst='$LAB_SERVER4', chksum=0x1234) / ICMP(),
      iface='c0', count=600, inter=0.1, verbose=False)"
lab_wait_for 5 test -s "$dir/lib/api.token"
tap_ok $? "API token created"

art=$AP_SRC/tests/artifacts
mkdir -p "$art"
pages="logs interfaces routes neighbors trace"
for p in dashboard $(printf 'dashboard-%s ' $pages); do rm -f "$art/$p.png"; done
# browser ENV...: run dashboard.mjs with ENV (VAR=value words) in the dut
# namespace, where the API listens on its loopback, and count its TAP results
# after ours.
browser() {
	local out rc got failed
	out=$(lab_exec dut env CHROMIUM="$CHROMIUM" HOME="$dir" "$@" node "$WEB_DIR/dashboard.mjs" \
		"http://127.0.0.1:$port/" "$(cat "$dir/lib/api.token")" "$art/dashboard.png" 2>&1)
	rc=$?
	echo "$out" | awk -v base="$TAP_N" '
		/^1\.\./ { next }
		/^(not )?ok [0-9]+/ { n = $0; sub(/^(not )?ok [0-9]+/, "", n);
			print ($1 == "not" ? "not ok " : "ok ") base + (++i) n; next }
		{ print ($0 ~ /^#/ ? $0 : "# " $0) }'
	got=$(echo "$out" | grep -cE '^(not )?ok [0-9]+')
	failed=$(echo "$out" | grep -cE '^not ok [0-9]+')
	TAP_N=$((TAP_N + got))
	TAP_FAILED=$((TAP_FAILED + failed))
	[ $rc -ne 0 ] && [ "$failed" -eq 0 ] && TAP_FAILED=$((TAP_FAILED + 1))
}

# The routed lab's addresses tell the browser what the routing pages must show.
browser LAB_LAN4="$LAB_ROUTER4_LAN/24" LAB_LAN6="$LAB_ROUTER6_LAN/64" \
	LAB_WAN4="$LAB_ROUTER4_WAN/24" LAB_WAN6="$LAB_ROUTER6_WAN/64" \
	LAB_NET_PREFIX="$LAB_NET_PREFIX" LAB_CLIENT4="$LAB_CLIENT4" LAB_SERVER4="$LAB_SERVER4" \
	LAB_PING="ip netns exec $(lab_ns client) ping -c 5 -i 0.2 -W 1 $LAB_SERVER4"
for p in dashboard $(printf 'dashboard-%s ' $pages); do
	[ -s "$art/$p.png" ] || echo "# no screenshot $p.png written"
done
lab_aetherd_stop || sed 's/^/#   /' "$LAB_AETHERD_LOG"

# The same ports cross-connected: the data plane routes nothing and the
# routing pages must say so instead of showing rows.
cat >"$cfg" <<-EOF3
	dataplane: {workers: 1}
	ports:
	  - {name: lan, driver: af_packet, iface: d0}
	  - {name: wan, driver: af_packet, iface: d1}
	xconnect:
	  - {a: lan, b: wan}
	api: {listen: 127.0.0.1:$port, token_file: $dir/lib/api.token, web_root: $AP_SRC/web}
EOF3
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd restarted cross-connecting lan and wan (routing nothing)"
browser DASH_MODE=unrouted
lab_aetherd_stop || sed 's/^/#   /' "$LAB_AETHERD_LOG"
tap_done
