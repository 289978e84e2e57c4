# shellcheck shell=bash
# Helpers for bench/<name>.sh: collect cases, then print the table and write
# bench/results/<name>.json:
#
#   {"bench": NAME, "machine": {"cpu": MODEL, "cores": N}, "date": ISO-8601,
#    "cases": [{"name", "unit", "value", "better", "goal", "peer": {"name", "value"}}]}
#
#   bench_init NAME
#   bench_case NAME UNIT VALUE lower|higher GOAL PEER_NAME PEER_VALUE
#   bench_finish
#
# VALUE, GOAL or PEER_VALUE may be "null" when they could not be measured.
# Environment: AP_SRC, AP_BUILD, AETHERD, AETHERCTL (set by bench/run).

AP_SRC=${AP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
AP_BUILD=${AP_BUILD:-$AP_SRC/build}
AETHERD=${AETHERD:-$AP_BUILD/src/aetherd/aetherd}
AETHERCTL=${AETHERCTL:-$AP_BUILD/src/aetherctl/aetherctl}
BENCH_RESULTS=${BENCH_RESULTS:-$AP_SRC/bench/results}

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/apbench.XXXXXX") || exit 1
trap 'rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT TERM

bench_log() {
	echo "[$BENCH_NAME] $*" >&2
}

bench_machine_cpu() {
	sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1
}

bench_init() {
	BENCH_NAME=$1
	BENCH_CASES=$BENCH_TMP/cases.jsonl
	: >"$BENCH_CASES"
}

# A number for jq, or null.
_bench_num() {
	case $1 in
	'' | null | n/a) echo null ;;
	*) jq -n "$1" 2>/dev/null || echo null ;;
	esac
}

bench_case() {
	jq -nc --arg name "$1" --arg unit "$2" --argjson value "$(_bench_num "$3")" \
		--arg better "$4" --argjson goal "$(_bench_num "$5")" --arg peer "$6" \
		--argjson pv "$(_bench_num "$7")" \
		'{name: $name, unit: $unit, value: $value, better: $better, goal: $goal,
		  peer: {name: $peer, value: $pv}}' >>"$BENCH_CASES"
}

# Does the case meet its goal? yes / no / "-".
_bench_verdict() {
	jq -r 'if .value == null or .goal == null then "-"
	       elif .better == "lower" then (if .value <= .goal then "yes" else "no" end)
	       else (if .value >= .goal then "yes" else "no" end) end'
}

# Align tab-separated columns (two spaces between them).
_bench_columns() {
	awk -F '\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
			if (NF > nf) nf = NF; n = NR }
		END { for (r = 1; r <= n; r++) { line = ""
			for (i = 1; i <= nf; i++) line = line (i < nf ? sprintf("%-" w[i] "s  ", c[r, i]) : c[r, i])
			print line } }'
}

bench_finish() {
	local out=$BENCH_RESULTS/$BENCH_NAME.json
	mkdir -p "$BENCH_RESULTS"
	jq -s --arg bench "$BENCH_NAME" --arg cpu "$(bench_machine_cpu)" \
		--argjson cores "$(nproc)" --arg date "$(date -Iseconds)" \
		'{bench: $bench, machine: {cpu: $cpu, cores: $cores}, date: $date, cases: .}' \
		"$BENCH_CASES" >"$out.tmp" && mv "$out.tmp" "$out" || return 1

	printf '\n%s  (%s, %s cores)\n' "$BENCH_NAME" "$(bench_machine_cpu)" "$(nproc)"
	{
		printf 'case\tvalue\tunit\tgoal\tpeer\tpeer value\tmeets goal\n'
		jq -c '.cases[]' "$out" | while read -r c; do
			printf '%s\t%s\n' \
				"$(echo "$c" | jq -r '[.name, (.value // "n/a" | tostring), .unit,
					(if .goal == null then "-" else "\(if .better == "lower" then "<=" else ">=" end) \(.goal)" end),
					.peer.name, (.peer.value // "n/a" | tostring)] | join("\t")')" \
				"$(echo "$c" | _bench_verdict)"
		done
	} | _bench_columns
	echo "wrote ${out#"$AP_SRC"/}"
}

# bench_round X [DIGITS]: X rounded to DIGITS decimals (default 2).
bench_round() {
	jq -n --argjson x "$(_bench_num "$1")" --argjson d "${2:-2}" \
		'if $x == null then null else ($x * pow(10; $d) | round) / pow(10; $d) end'
}

# EAL memory options for a peer: hugepages when the machine has free ones (as
# aetherd's hugepages: auto takes them), else 1 GiB of ordinary memory.
bench_eal_mem() {
	if [ "$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)" -gt 0 ] 2>/dev/null; then
		echo "--in-memory"
	else
		echo "--no-huge -m 1024"
	fi
}

# ---- peer: dpdk-testpmd between two null ports ---------------------------------
# bench_testpmd MODE [SECOND_VDEV]: forward net_null0 -> SECOND_VDEV (default
# net_null1) in forward MODE (io, macswap...) on one forwarding core for
# SECONDS_RUN seconds. testpmd reads commands on stdin: start once its prompt
# is up, stop after the run, quit; the run is timed from our side and testpmd
# prints its busy cycles per received packet (--record-core-cycles). Sets
# TP_CPP and TP_MPPS (null when they could not be read; returns 1).
# The feeder polls the output testpmd writes, on purpose.
# shellcheck disable=SC2094
bench_testpmd() {
	local mode=$1 second=${2:-net_null1}
	local out=$BENCH_TMP/testpmd-$mode.out t0=$BENCH_TMP/t0 t1=$BENCH_TMP/t1 i rx
	local -a mem
	read -ra mem <<<"$(bench_eal_mem)"
	: >"$out"
	{
		for ((i = 0; i < 300; i++)); do
			grep -q 'testpmd> ' "$out" && break
			sleep 0.1
		done
		date +%s.%N >"$t0"
		echo start
		sleep "$SECONDS_RUN"
		echo stop
		date +%s.%N >"$t1"
		sleep 1
		echo quit
		sleep 1
	} | timeout -k 5 $((SECONDS_RUN + 60)) dpdk-testpmd -l 0,1 "${mem[@]}" --no-pci \
		--file-prefix="aptp$$" --vdev net_null0 --vdev "$second" -- -i \
		--forward-mode="$mode" --record-core-cycles --total-num-mbufs=16384 >"$out" 2>&1
	TP_CPP=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$out" | tail -n 1)
	# The accumulated block follows the per-port ones; its RX-packets is the total.
	rx=$(awk '/Accumulated forward statistics/ { acc = 1 }
		acc && /RX-packets:/ { print $2; exit }' "$out")
	if [ -z "$TP_CPP" ] || [ -z "$rx" ] || [ ! -s "$t0" ] || [ ! -s "$t1" ]; then
		bench_log "testpmd $mode: could not read its figures; output:"
		tail -n 30 "$out" >&2
		TP_CPP=null
		TP_MPPS=null
		return 1
	fi
	TP_MPPS=$(jq -n "$rx / ($(cat "$t1") - $(cat "$t0")) / 1e6")
	bench_log "testpmd $mode: $rx packets, $TP_CPP cycles/packet, $(bench_round "$TP_MPPS") Mpps"
}

# ---- aetherd's counters through its API socket ($BENCH_TMP/api.sock) -----------
bench_api() {
	curl -sf --max-time 10 --unix-socket "$BENCH_TMP/api.sock" "http://aetherd$1"
}

# bench_sample PORT: one sample {t, rx, tx (of PORT), drops, punts}.
bench_sample() {
	local s p n
	s=$(bench_api /api/v1/stats) && p=$(bench_api /api/v1/ports) &&
		n=$(bench_api /api/v1/nodes) || return 1
	jq -n --argjson s "$s" --argjson p "$p" --argjson n "$n" --arg port "$1" \
		'{t: $s.uptime_s, rx: $s.rx_packets, drops: $s.drops.total,
		  tx: ([$p.ports[] | select(.name == $port) | .tx_packets] | add),
		  punts: ([$n.nodes[] | select(.name == "punt") | .packets] | add // 0)}'
}

# bench_window S0 S1 TSC_HZ: the difference of two samples with cycles per
# received packet (the worker never idles on a null port) and Mpps.
bench_window() {
	jq -n --argjson a "$1" --argjson b "$2" --argjson hz "$3" \
		'{secs: ($b.t - $a.t), rx: ($b.rx - $a.rx), tx: ($b.tx - $a.tx),
		  drops: ($b.drops - $a.drops), punts: ($b.punts - $a.punts)} |
		 . + {cpp: (if .rx > 0 then $hz * .secs / .rx else null end),
		      mpps: (if .secs > 0 then .rx / .secs / 1e6 else null end)}'
}

# bench_require CMD...: the commands and an aetherd build, or exit.
bench_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || {
			bench_log "$c not found"
			exit 1
		}
	done
	bench_built "$AETHERD"
}

# bench_built PROGRAM...: each program of the build there, or exit.
bench_built() {
	local p
	for p in "$@"; do
		if [ ! -x "$p" ]; then
			bench_log "${p##*/} not built ($p)"
			exit 1
		fi
	done
}

# bench_aetherd_start DIR CONFIG: start aetherd on CONFIG (its summary and log
# in DIR) and wait, up to 30 s, until its API socket answers. Sets BENCH_PID;
# returns 1, with the log, when it does not come up.
bench_aetherd_start() {
	local dir=$1 cfg=$2 i
	"$AETHERD" --foreground -c "$cfg" --summary "$dir/summary.json" --log-level warning \
		>"$dir/aetherd.log" 2>&1 &
	BENCH_PID=$!
	for ((i = 0; i < 300; i++)); do
		bench_api /api/v1/stats >/dev/null 2>&1 && return 0
		kill -0 "$BENCH_PID" 2>/dev/null || break
		sleep 0.1
	done
	bench_log "aetherd did not come up on $cfg; log:"
	tail -n 20 "$dir/aetherd.log" >&2
	kill "$BENCH_PID" 2>/dev/null
	wait "$BENCH_PID" 2>/dev/null
	return 1
}

# bench_worker_cpu PID: CPU seconds (user + system) of aetherd PID's worker
# lcore threads so far, or nothing when they cannot be read.
bench_worker_cpu() {
	local t ticks=0 n=0 st
	for t in /proc/"$1"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		rte-worker-* | lcore-worker-*) ;;
		*) continue ;;
		esac
		# Fields 14 and 15 after the command (which may hold spaces).
		st=$(sed 's/^.*) //' "$t/stat" 2>/dev/null) || continue
		read -r -a st <<<"$st"
		ticks=$((ticks + st[11] + st[12]))
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] && jq -n "$ticks / $(getconf CLK_TCK)"
}

# bench_windows PORT: BENCH_WINDOWS (default 3) windows of SECONDS_RUN seconds
# back to back: their BENCH_WINDOWS + 1 samples of PORT's counters go to
# $BENCH_TMP/samples.jsonl (bench_median_window() reads them). A host's noise
# that lasts a second lands in one window, not in the figure. Returns 1 when
# a sample could not be read. BENCH_HOOK, when set, runs after the first
# sample (e.g. to read memory use).
bench_windows() {
	local n=${BENCH_WINDOWS:-3} s i out=$BENCH_TMP/samples.jsonl
	: >"$out"
	s=$(bench_sample "$1") || return 1
	echo "$s" | jq -c . >>"$out"
	[ -n "${BENCH_HOOK:-}" ] && $BENCH_HOOK
	for ((i = 0; i < n; i++)); do
		sleep "$SECONDS_RUN"
		s=$(bench_sample "$1") || return 1
		echo "$s" | jq -c . >>"$out"
	done
}

# bench_median_window NAME TSC_HZ: of bench_windows()'s samples, sets
# BENCH_WINDOW to the window whose cycles/packet is the median (bench_window()'s
# JSON, with "all": every window's cycles/packet, in order) and BENCH_SPAN to
# the whole span, first sample to last, and logs the windows.
bench_median_window() {
	local name=$1 hz=$2 f=$BENCH_TMP/samples.jsonl w=$BENCH_TMP/windows.jsonl i n
	n=$(wc -l <"$f")
	: >"$w"
	for ((i = 1; i < n; i++)); do
		bench_window "$(sed -n "${i}p" "$f")" "$(sed -n "$((i + 1))p" "$f")" "$hz" >>"$w"
	done
	BENCH_SPAN=$(bench_window "$(head -n 1 "$f")" "$(tail -n 1 "$f")" "$hz")
	BENCH_WINDOW=$(jq -s -c '[.[].cpp] as $c | sort_by(.cpp) | .[(length - 1) / 2 | floor] +
		{all: $c}' "$w")
	bench_log "$name windows: $(echo "$BENCH_WINDOW" | jq -c .all) cycles/packet;" \
		"median $(echo "$BENCH_WINDOW" | jq -c 'del(.all)')"
}

# bench_routed NAME WINDOW PORT SUMMARY: does WINDOW (bench_window()'s JSON)
# show the packets sent out of PORT, at least 99 % of those received, with at
# most 1 % dropped or punted? Says why not in the log, with the drops by
# reason of aetherd's SUMMARY.
bench_routed() {
	echo "$2" | jq -e '.rx > 0 and .tx >= 0.99 * .rx and .drops <= 0.01 * .rx and
		.punts <= 0.01 * .rx' >/dev/null && return 0
	bench_log "$1: packets did not leave on $3 ($(echo "$2" | jq -c .)), drops by reason" \
		"$(jq -c .drops.reasons "$4"); not a figure"
	return 1
}

# bench_measure NAME DIR PID PORT: with aetherd PID running (its summary and
# log in DIR) and its traffic steady, bench_windows(), then stop it. Sets
# BENCH_CPP and BENCH_MPPS from the median window (null and returns 1 unless
# over the whole span at least 99 % of the received packets left on PORT with
# at most 1 % dropped or punted).
# On a busy machine the worker loses the CPU now and then, and the TSC runs
# on: the log also gives the share of the span the worker was on a CPU and
# its cycles per packet counted over that time only (BENCH_ONCPU_CPP).
bench_measure() {
	local name=$1 dir=$2 pid=$3 port=$4 hz c0 c1 ok=1
	BENCH_CPP=null
	BENCH_MPPS=null
	BENCH_ONCPU_CPP=null
	c0=$(bench_worker_cpu "$pid")
	bench_windows "$port" || ok=0
	c1=$(bench_worker_cpu "$pid")
	kill -TERM "$pid"
	wait "$pid"
	if [ "$ok" = 0 ] || ! hz=$(jq -e '.tsc_hz' "$dir/summary.json" 2>/dev/null); then
		bench_log "$name: no counters or no summary; log:"
		tail -n 20 "$dir/aetherd.log" >&2
		return 1
	fi
	bench_median_window "$name" "$hz"
	bench_routed "$name" "$BENCH_SPAN" "$port" "$dir/summary.json" || return 1
	BENCH_CPP=$(echo "$BENCH_WINDOW" | jq .cpp)
	BENCH_MPPS=$(echo "$BENCH_WINDOW" | jq .mpps)
	bench_log "$name: $(bench_round "$BENCH_CPP") cycles/packet, $(bench_round "$BENCH_MPPS") Mpps"
	if [ -n "$c0" ] && [ -n "$c1" ]; then
		BENCH_ONCPU_CPP=$(echo "$BENCH_SPAN" | jq --argjson c "$(jq -n "$c1 - $c0")" \
			--argjson hz "$hz" 'if .rx > 0 then $hz * $c / .rx else null end')
		bench_log "$name: worker on a CPU" \
			"$(bench_round "$(echo "$BENCH_SPAN" | jq "100 * ($c1 - $c0) / .secs")" 1) % of" \
			"the span: $(bench_round "$BENCH_ONCPU_CPP") cycles/packet of its own CPU time"
	fi
}

# ---- a 1000-rule stateful firewall, for aetherd and for nftables -----------------
# bench_fw_rules aetherd|nft N DPORT [IIF OIF]: a ruleset of N rules from the
# zone "inside" (interface in, or IIF for nft) to "outside" (out, or OIF):
# N-2 rules that UDP traffic to port DPORT from 10/8 misses (other ports,
# /24 sources of 172.16/12, a named address set, a named port set with
# ct_state new), then the rule it matches (the (N-1)th), then ICMP; the
# policy drops the rest. aetherd: its firewall section (YAML). nft: a table
# "apbench" in the same shape as nftables is written for it: established
# and related packets accepted first (as aetherd does before its rules), the
# zone pair as a jump to a chain of its own, the policy as the base chain's.
bench_fw_rules() {
	python3 - "$@" <<-'EOF'
		import sys

		fmt, n, dport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		iif, oif = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else ("in", "out")
		partners, mgmt = ["192.0.2.0/24", "198.51.100.0/25"], ["22", "161-162", "830"]
		rules = []
		for i in range(n - 2):
		    k = i % 4
		    if k == 0:
		        rules.append(("udp", None, 1024 + i, None))
		    elif k == 1:
		        rules.append(("tcp", "172.%d.%d.0/24" % (16 + i // 256 % 16, i % 256), 2000 + i, None))
		    elif k == 2:
		        rules.append(("udp", "partners", dport, None))
		    else:
		        rules.append(("tcp", None, "mgmt", "new"))
		rules.append(("udp", None, dport, "match"))
		if fmt == "aetherd":
		    print("firewall:")
		    print("  zones: [{name: inside, interfaces: [in]}, {name: outside, interfaces: [out]}]")
		    print("  sets:")
		    print("    - {name: mgmt, ports: [%s]}" % ", ".join('"%s"' % p for p in mgmt))
		    print("    - {name: partners, addresses: [%s, \"2001:db8::/32\"]}" % ", ".join(partners))
		    print("  policies: [{from: any, to: any, action: drop}]")
		    print("  rules:")
		    for proto, src, dp, extra in rules:
		        r = "proto: %s" % proto
		        if src:
		            r += ", src: %s" % src
		        r += ", dport: %s" % (dp if dp == "mgmt" else '"%d"' % dp)
		        if extra == "new":
		            r += ", ct_state: [new]"
		        print("    - {from: inside, to: outside, %s, action: accept%s}" %
		              (r, ", comment: match" if extra == "match" else ""))
		    print("    - {from: any, to: any, proto: icmp, action: accept}")
		    sys.exit(0)
		print("table ip apbench {")
		print("  set partners { type ipv4_addr; flags interval; elements = { %s } }" % ", ".join(partners))
		print("  set mgmt { type inet_service; flags interval; elements = { %s } }" % ", ".join(mgmt))
		print("  chain inside_outside {")
		for proto, src, dp, extra in rules:
		    r = ""
		    if extra == "new":
		        r += "ct state new "
		    if src:
		        r += "ip saddr %s " % ("@partners" if src == "partners" else src)
		    r += "%s dport %s accept" % (proto, "@mgmt" if dp == "mgmt" else dp)
		    if extra == "match":
		        r += ' comment "match"'
		    print("    " + r)
		print("  }")
		print("  chain forward {")
		print("    type filter hook forward priority filter; policy drop;")
		print("    ct state established,related accept")
		print('    iifname "%s" oifname "%s" jump inside_outside' % (iif, oif))
		print("    ip protocol icmp accept")
		print("  }")
		print("}")
	EOF
}
