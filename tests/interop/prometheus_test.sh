#!/usr/bin/env bash
# The management plane against real tools: aetherd cross-connects the lab
# line while ping runs; its TCP API wants the bearer token; `promtool check
# metrics` accepts a live /metrics; a real Prometheus server scrapes it with
# the token file and answers queries over the samples; aetherctl reaches the
# TCP API with --url/--token-file. Config errors for the API are file:line:col.
set -u
# shellcheck source=../lab/lib.sh
. "$(dirname "$0")/../lab/lib.sh"

lab_require_root
lab_require_cmd ip ethtool ping curl jq promtool prometheus
lab_require_aetherd

tap_plan 18

dir=$(lab_tmpdir)

# --- config checks (no namespace needed) ----------------------------------
cat >"$dir/remote.yaml" <<-EOF2
	api:
	  listen: 0.0.0.0:8443
EOF2
out=$("$AETHERD" -c "$dir/remote.yaml" --check 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "remote.yaml:2:11: api.listen '0.0.0.0:8443' is not a loopback"
tap_ok $? "non-loopback api.listen without TLS is refused at file:line:col ($out)"

cat >"$dir/badlisten.yaml" <<-EOF2
	api: {listen: "localhost:80"}
EOF2
out=$("$AETHERD" -c "$dir/badlisten.yaml" --check 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "badlisten.yaml:1:15: invalid api.listen"
tap_ok $? "a listen address that is not ADDR:PORT is refused ($out)"

cat >"$dir/tls.yaml" <<-EOF2
	api: {listen: "0.0.0.0:8443", tls_cert: cert.pem, tls_key: key.pem}
EOF2
"$AETHERD" -c "$dir/tls.yaml" --check >/dev/null 2>&1
tap_ok $? "non-loopback api.listen with tls_cert and tls_key is accepted"

# --- aetherd on the lab line ----------------------------------------------
lab_topo_line || tap_bail "cannot build the lab topology"
port=8080
cfg=$dir/api.yaml
cat "$LAB_XC_CONFIG" >"$cfg"
cat >>"$cfg" <<-EOF2
	api: {listen: 127.0.0.1:$port, token_file: $dir/lib/api.token}
EOF2
lab_aetherd_start dut "$cfg"
tap_ok $? "aetherd started, API on unix socket and 127.0.0.1:$port"

token_file=$dir/lib/api.token
mode=$(stat -c %a "$token_file" 2>/dev/null)
dmode=$(stat -c %a "$dir/lib" 2>/dev/null)
[ "$mode" = 600 ] && [ "$dmode" = 700 ] && grep -qE '^[0-9a-f]{64}$' "$token_file"
tap_ok $? "token file created: 64 hex digits, mode $mode, directory mode $dmode"
token=$(cat "$token_file")

lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$LAB_SERVER4"
lab_bg client ping -i 0.05 "$LAB_SERVER4"

api() { lab_exec dut curl -s -m 5 "$@"; }
base=http://127.0.0.1:$port

code=$(api -o "$dir/r.json" -w '%{http_code}' "$base/metrics")
[ "$code" = 401 ] && jq -e '.error.status == 401 and (.error.message | length > 0)' \
	"$dir/r.json" >/dev/null
tap_ok $? "GET /metrics over TCP without a token: 401 with a JSON error ($code)"

code=$(api -o /dev/null -w '%{http_code}' -H "Authorization: Bearer 0$token" "$base/api/v1/ports")
[ "$code" = 401 ]
tap_ok $? "wrong token: 401 ($code)"

sleep 2
api -D "$dir/h.txt" -o "$dir/metrics.txt" -H "Authorization: Bearer $token" "$base/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$dir/h.txt"
tap_ok $? "GET /metrics with the token: Prometheus text 0.0.4"

out=$(promtool check metrics <"$dir/metrics.txt" 2>&1)
rc=$?
[ $rc -eq 0 ] || tap_diag "$out"
tap_ok $rc "promtool check metrics accepts a live /metrics"

rx=$(awk '$1 == "aether_port_rx_packets_total{port=\"lan\"}" { print $2 }' "$dir/metrics.txt")
reasons=$(grep -c '^aether_drops_total{reason=' "$dir/metrics.txt")
[ "${rx:-0}" -gt 10 ] 2>/dev/null && [ "$reasons" -ge 20 ] &&
	grep -q '^aether_drops_total{reason="eth-runt"} 0$' "$dir/metrics.txt" &&
	grep -q '^aether_node_packets_total{node="xconnect"} [1-9]' "$dir/metrics.txt"
tap_ok $? "lan rx packets counted ($rx), every drop reason exported ($reasons), node counters"

# The unix socket needs no token.
lab_ctl show ports >/dev/null
tap_ok $? "unix socket: aetherctl without a token"

lab_exec dut "$AETHERCTL" -u "$base" -t "$token_file" -j show ports >"$dir/ports.json" &&
	jq -e '.ports | length == 2' "$dir/ports.json" >/dev/null
tap_ok $? "aetherctl --url --token-file over TCP"

lab_exec dut env AETHER_TOKEN=nope "$AETHERCTL" -u "$base" show ports >/dev/null 2>"$dir/err"
rc=$?
[ $rc -eq 1 ] && grep -q "error 401" "$dir/err"
tap_ok $? "aetherctl with a wrong token exits 1 and says 401 (exit $rc)"

# --- a real Prometheus server scrapes it ---------------------------------
pport=9090
mkdir -p "$dir/prom"
cat >"$dir/prom/prometheus.yml" <<-EOF2
	global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
	scrape_configs:
	  - job_name: aetherd
	    authorization: {type: Bearer, credentials_file: $token_file}
	    static_configs: [{targets: ["127.0.0.1:$port"]}]
EOF2
lab_bg dut prometheus --config.file="$dir/prom/prometheus.yml" \
	--storage.tsdb.path="$dir/prom/data" --web.listen-address="127.0.0.1:$pport"
prom_log=$LAB_BG_LOG

query() {
	api "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" -o "$dir/q.json" &&
		jq -e "$2" "$dir/q.json" >/dev/null
}
lab_wait_for 30 query 'up{job="aetherd"}' '.data.result[0].value[1] == "1"'
rc=$?
[ $rc -ne 0 ] && tap_diag "$(tail -5 "$prom_log")" && tap_diag "$(cat "$dir/q.json" 2>/dev/null)"
tap_ok $rc "prometheus scrapes aetherd with the token (up == 1)"

lab_wait_for 10 query 'aether_port_rx_packets_total' \
	'[.data.result[] | select(.metric.port == "lan" or .metric.port == "wan")] | length == 2'
tap_ok $? "prometheus has aether_port_rx_packets_total samples for lan and wan"

lab_wait_for 15 query 'rate(aether_port_rx_packets_total{port="lan"}[5s])' \
	'(.data.result[0].value[1] | tonumber) > 1'
rc=$?
tap_ok $rc "prometheus computes a non-zero lan rx packet rate ($(jq -c '.data.result[0].value' \
	"$dir/q.json" 2>/dev/null))"

# --- the Grafana dashboard's queries run on these metrics -------------------
dash=$AP_SRC/docs/grafana/aetherpacket.json
missing=
for m in $(jq -r '.. | .expr? // empty' "$dash" | grep -oE 'aether_[a-z_]+' | sort -u); do
	grep -q "^$m[{ ]" "$dir/metrics.txt" || missing="$missing $m"
done
[ -z "$missing" ]
tap_ok $? "every metric the Grafana dashboard uses is exported${missing:+ (missing:$missing)}"

bad=
while IFS= read -r expr; do
	q=$(echo "$expr" | sed 's/\$__rate_interval/5s/g; s/\$instance/.*/g; s/\$port/.*/g')
	query "$q" '.status == "success"' || bad="$bad; $q"
done < <(jq -r '.. | .expr? // empty' "$dash")
[ -z "$bad" ]
tap_ok $? "prometheus evaluates every query of the Grafana dashboard${bad:+ (failed:$bad)}"

tap_done
