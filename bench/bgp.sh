#!/usr/bin/env bash
# bgp: a full table passing through the BGP speaker, next to BIRD doing the
# same in the same run, and the UPDATE decode rate on one core.
#
# Table: BGP_PREFIXES (default 1M) IPv4 prefixes derived from the RIPE RIS
# full-table dump of the shared peer data (../shared/peer-data/bgp-mrt, read in
# place; the bench is skipped when it is absent) by bench/src/bgp_table: the
# routes of the dump's largest peer (112,986 prefixes, 18k attribute sets with
# their AS paths, origins, MEDs and communities), copied into other first
# octets until the count is reached. A BIRD "feeder" holds them as static
# routes.
#
# Chain, over loopback in the root namespace (addresses 127.66.0.0/24, ports
# picked at random):
#
#   feeder BIRD (AS 4200000002) -> middle (AS 4200000001) -> receiver BIRD (AS 4200000003)
#
# The middle is, in turn: aetherd --no-dataplane; aetherd with its data plane
# (two DPDK null ports, the feeder announcing next hop 10.0.1.2 on a connected
# subnet, so every best route is also installed in the FIB; no packet comes,
# and with dataplane.poll_sleep_us the idle worker sleeps rather than keeping
# one of the machine's cores); and BIRD 2 (the peer). The receiver and the middle are up first; the clock starts when the
# feeder's session to the middle is Established (polled every 50 ms from the
# feeder) and stops when the middle's Loc-RIB holds every prefix (aetherd:
# rib.prefixes of /api/v1/bgp/summary, and the bgp routes of the FIB in
# /metrics with the data plane; BIRD: "show route count"), and when the
# receiver holds them all. Memory is the peak RSS (VmHWM) of the middle once
# the receiver has everything.
#
# Goal (the issue's): aetherd's time to the receiver <= 0.5 x BIRD's, and its
# peak RSS <= BIRD's. The UPDATE decode rate is bgp_table parse: the table
# packed in 4096-byte UPDATEs, decoded and its NLRI walked, pinned to one core.
# The RIB load rate is bgp_table load: the table one prefix per UPDATE in a
# shuffled order, decoded, interned and put into an empty RIB on one core,
# with the read-ahead the speaker does and, as the peer column, without it.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${BGP_PREFIXES:-1000000}
DUMP=${BGP_MRT:-$AP_SRC/../shared/peer-data/bgp-mrt/mrt/bview.20020722.2337.gz}
TIMEOUT=${BGP_TIMEOUT:-300}
TABLE=$AP_BUILD/bench/src/bgp_table
F=127.66.0.2
M=127.66.0.1
R=127.66.0.3
bench_init bgp

bench_require bird birdc jq curl
if [ ! -f "$DUMP" ]; then
	bench_log "no MRT dump at $DUMP: skipped"
	exit 0
fi
bench_built "$TABLE"
if ! "$TABLE" bird "$DUMP" "$N" >"$BENCH_TMP/table.conf"; then
	bench_log "cannot derive the table"
	exit 1
fi

BASE=$((20000 + RANDOM % 20000))
PM=$BASE       # the middle listens here
PF=$((BASE + 1)) # the feeder
PR=$((BASE + 2)) # the receiver
PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	PIDS=()
}
trap 'stop_all; rm -rf "$BENCH_TMP"' EXIT

declare -A BIRD_PID
# bird_start NAME CONF: BIRD in the foreground (its pid in PIDS), wait for its socket.
bird_start() {
	local i
	bird -f -c "$2" -s "$BENCH_TMP/$1.ctl" >"$BENCH_TMP/$1.out" 2>&1 &
	PIDS+=($!)
	BIRD_PID[$1]=$!
	for ((i = 0; i < 600; i++)); do
		birdc -s "$BENCH_TMP/$1.ctl" show status 2>/dev/null | grep -q 'Daemon is up' &&
			return 0
		sleep 0.1
	done
	bench_log "BIRD $1 did not come up:"
	cat "$BENCH_TMP/$1.out" >&2
	return 1
}
bird_count() {
	birdc -s "$BENCH_TMP/$1.ctl" show route count 2>/dev/null |
		awk '/routes for/ { print $1; exit }'
}
bird_up() {
	birdc -s "$BENCH_TMP/$1.ctl" show protocols "$2" 2>/dev/null | grep -q Established
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# cpu_s PID: user + system CPU seconds of the process's main thread so far
# (BIRD's only one; aetherd's control plane, where the BGP speaker runs, and
# not the data plane's busy-polling workers).
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' \
		"/proc/$1/task/$1/stat" 2>/dev/null
}

# session NAME LOCAL LOCAL_PORT LOCAL_AS NEIGHBOR NEIGHBOR_PORT NEIGHBOR_AS CHANNEL:
# one BGP protocol over loopback.
session() {
	cat <<-EOF
		protocol bgp $1 {
		  local $2 port $3 as $4;
		  neighbor $5 port $6 as $7;
		  multihop; strict bind yes; connect delay time 1; connect retry time 1;
		  ipv4 { $8 };
		}
	EOF
}
AS_M=4200000001
AS_F=4200000002
AS_R=4200000003
# feeder_conf NEXT_HOP_OPTION
feeder_conf() {
	printf 'router id %s;\nprotocol device {}\ninclude "%s";\n' "$F" "$BENCH_TMP/table.conf"
	session mid "$F" "$PF" $AS_F "$M" "$PM" $AS_M "import none; export all; $1"
}
receiver_conf() {
	printf 'router id %s;\nprotocol device {}\n' "$R"
	session mid "$R" "$PR" $AS_R "$M" "$PM" $AS_M "import all; export none;"
}
# BIRD as the middle: one listening address and port for both sessions.
middle_bird_conf() {
	printf 'router id %s;\nprotocol device {}\n' "$M"
	session feeder "$M" "$PM" $AS_M "$F" "$PF" $AS_F "import all; export none;"
	session receiver "$M" "$PM" $AS_M "$R" "$PR" $AS_R "import none; export all;"
}
middle_aetherd_conf() {
	if [ "${1:-}" = dp ]; then
		cat <<-EOF
			dataplane: {workers: 1, poll_sleep_us: 100}
			ports:
			  - {name: in, driver: null}
			  - {name: out, driver: devargs, devargs: "net_null_out,no-rx=1"}
			interfaces:
			  - {name: in, port: in, addresses: [10.0.0.1/24], punt: false}
			  - {name: out, port: out, addresses: [10.0.1.1/24], punt: false}
			neighbors:
			  - {interface: out, address: 10.0.1.2, mac: "02:00:00:00:01:02"}
		EOF
	fi
	cat <<-EOF
		bgp:
		  asn: $AS_M
		  router_id: $M
		  listen: {address: $M, port: $PM}
		  neighbors:
		    - {address: $F, remote_as: $AS_F, port: $PF, connect_retry: 1, import: all}
		    - {address: $R, remote_as: $AS_R, port: $PR, connect_retry: 1, export: all}
		api: {socket: $BENCH_TMP/api.sock, listen: none, token_file: $BENCH_TMP/api.token}
		log: {level: warning}
	EOF
}

ad_summary() { bench_api /api/v1/bgp/summary; }
ad_rib() { ad_summary | jq -r '.rib.prefixes // 0'; }
ad_fib() { bench_api /metrics | awk '/^aether_routes\{origin="bgp"\}/ { print $2 }'; }

# run KIND: KIND is aetherd, aetherd-dp or bird. Sets T_RIB, T_FIB, T_RX (s),
# CPU_S (the middle's CPU seconds from session up to the end), RSS_MB (the
# middle's peak); null when not measured.
run() {
	local kind=$1 mpid t0 t1 c0 f0 r0 now n i
	T_RIB=null T_FIB=null T_RX=null RSS_MB=null CPU_S=null
	receiver_conf >"$BENCH_TMP/recv.conf"
	bird_start recv "$BENCH_TMP/recv.conf" || return 1
	case $kind in
	bird)
		middle_bird_conf >"$BENCH_TMP/mid.conf"
		bird_start mid "$BENCH_TMP/mid.conf" || return 1
		mpid=${BIRD_PID[mid]}
		;;
	*)
		local dir=$BENCH_TMP/$kind args=(--no-dataplane)
		mkdir -p "$dir"
		if [ "$kind" = aetherd-dp ]; then
			middle_aetherd_conf dp >"$dir/mid.yaml"
			args=()
		else
			middle_aetherd_conf >"$dir/mid.yaml"
		fi
		"$AETHERD" --foreground "${args[@]}" -c "$dir/mid.yaml" >"$dir/aetherd.log" 2>&1 &
		mpid=$!
		PIDS+=("$mpid")
		for ((i = 0; i < 300; i++)); do
			ad_summary >/dev/null 2>&1 && break
			sleep 0.1
		done
		;;
	esac
	for ((i = 0; i < 300; i++)); do
		bird_up recv mid && break
		sleep 0.1
	done
	bird_up recv mid || {
		bench_log "$kind: the receiver's session did not come up"
		return 1
	}

	if [ "$kind" = aetherd-dp ]; then
		feeder_conf "next hop address 10.0.1.2;" >"$BENCH_TMP/feed.conf"
	else
		feeder_conf "" >"$BENCH_TMP/feed.conf"
	fi
	bird_start feed "$BENCH_TMP/feed.conf" || return 1
	for ((i = 0; i < 1200; i++)); do
		bird_up feed mid && break
		sleep 0.05
	done
	t0=$(date +%s.%N)
	c0=$(cpu_s "$mpid")
	f0=$(cpu_s "${BIRD_PID[feed]}")
	r0=$(cpu_s "${BIRD_PID[recv]}")
	bird_up feed mid || {
		bench_log "$kind: the feeder's session did not come up"
		return 1
	}
	# Each figure is the time a poll saw it complete, taken after the poll
	# returned: an upper bound, the same way for every middle.
	while :; do
		# Wake the feeder. BIRD 2.0's event loop computes its poll timeout
		# before a work-list event (its route feed) schedules the transmit
		# event, so when the last batch of the feed lands while its socket is
		# idle (the middle has read everything) it sleeps up to 3 s with
		# UPDATEs unsent. A BIRD middle is woken by these polls anyway; a
		# control-socket request wakes the feeder in every case.
		birdc -s "$BENCH_TMP/feed.ctl" show status >/dev/null 2>&1
		if [ "$T_RIB" = null ]; then
			if [ "$kind" = bird ]; then
				n=$(bird_count mid)
			else
				n=$(ad_rib)
			fi
			[ "${n:-0}" -ge "$N" ] && T_RIB=$(jq -n "$(date +%s.%N) - $t0")
		fi
		if [ "$kind" = aetherd-dp ] && [ "$T_FIB" = null ]; then
			n=$(ad_fib)
			[ "${n:-0}" -ge "$N" ] && T_FIB=$(jq -n "$(date +%s.%N) - $t0")
		fi
		if [ "$T_RX" = null ]; then
			n=$(bird_count recv)
			[ "${n:-0}" -ge "$N" ] && T_RX=$(jq -n "$(date +%s.%N) - $t0")
		fi
		now=$(date +%s.%N)
		[ "$T_RIB" != null ] && [ "$T_RX" != null ] &&
			{ [ "$kind" != aetherd-dp ] || [ "$T_FIB" != null ]; } && break
		if [ "$(jq -n "$now - $t0 > $TIMEOUT")" = true ] || ! kill -0 "$mpid" 2>/dev/null; then
			if [ "$kind" = bird ]; then n=$(bird_count mid); else n=$(ad_rib); fi
			bench_log "$kind: incomplete after $TIMEOUT s (middle $n," \
				"receiver $(bird_count recv))"
			[ "$kind" != bird ] && tail -n 20 "$BENCH_TMP/$kind/aetherd.log" >&2
			stop_all
			return 1
		fi
		sleep 0.05
	done
	[ "$kind" != bird ] && bench_log "$kind: $(bench_api /api/v1/bgp/neighbors |
		jq -c '[.neighbors[] | {address, updates_received, updates_sent}]' 2>/dev/null)"
	# What the feeder wrote to the middle (its socket's bytes acknowledged):
	# it packs fewer prefixes an UPDATE when the middle reads at once.
	bench_log "$kind: the feeder sent $(ss -tniH "( sport = :$PF )" 2>/dev/null |
		grep -o 'bytes_acked:[0-9]*' | head -n 1 | cut -d: -f2) bytes"
	CPU_S=$(jq -n "$(cpu_s "$mpid") - $c0")
	t1=$(hwm_kb "$mpid")
	RSS_MB=$(jq -n "${t1:-0} / 1024 | round")
	bench_log "$kind: Loc-RIB $T_RIB s, FIB $T_FIB s, receiver $T_RX s, CPU $CPU_S s," \
		"peak RSS $RSS_MB MB (receiver BIRD $(($(hwm_kb "${BIRD_PID[recv]}") / 1024)) MB;" \
		"CPU s from session up: feeder $(jq -n "$(cpu_s "${BIRD_PID[feed]}") - $f0")," \
		"receiver $(jq -n "$(cpu_s "${BIRD_PID[recv]}") - $r0"))"
	stop_all
}

# BGP_CASES picks some of the middles (default: all three).
CASES=" ${BGP_CASES:-bird aetherd aetherd-dp} "
case_run() {
	T_RIB=null T_FIB=null T_RX=null RSS_MB=null CPU_S=null
	case $CASES in *" $1 "*) ;; *) return 0 ;; esac
	if [ "$1" = aetherd-dp ] && [ "$(id -u)" != 0 ]; then
		bench_log "not root: no data-plane case"
		return 0
	fi
	run "$1"
}
status=0
case_run bird || status=1
B_RIB=$T_RIB B_RX=$T_RX B_RSS=$RSS_MB B_CPU=$CPU_S
case_run aetherd || status=1
A_RIB=$T_RIB A_RX=$T_RX A_RSS=$RSS_MB A_CPU=$CPU_S
case_run aetherd-dp || status=1
D_RIB=$T_RIB D_FIB=$T_FIB D_RX=$T_RX D_RSS=$RSS_MB D_CPU=$CPU_S

PARSE=null
if out=$(taskset -c "$(($(nproc) - 1))" "$TABLE" parse "$DUMP" "$N" 5); then
	bench_log "$out"
	PARSE=$(echo "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "rate") print $(i + 1) }')
else
	status=1
fi

# The RIB load on one core: the table one prefix per UPDATE, shuffled (as the
# feeder sends it), decoded, interned and put into an empty RIB, without and
# with the speaker's read-ahead (bgp_table load).
LOAD=null LOAD_NORA=null
if out=$(taskset -c "$(($(nproc) - 1))" "$TABLE" load "$DUMP" "$N" 3); then
	bench_log "load: $out"
	LOAD=$(echo "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "read_ahead_rate") print $(i + 1) }')
	LOAD_NORA=$(echo "$out" | awk '{ for (i = 1; i < NF; i++) if ($i == "rate") print $(i + 1) }')
else
	status=1
fi

half() { if [ "$1" = null ]; then echo null; else jq -n "$1 * 0.5"; fi; }
k=$((N / 1000))k
bench_case "$k prefixes: session up to all in the Loc-RIB (--no-dataplane)" s \
	"$(bench_round "$A_RIB")" lower "$(bench_round "$(half "$B_RIB")")" "BIRD 2 (middle)" \
	"$(bench_round "$B_RIB")"
bench_case "$k prefixes: session up to all at the next BIRD (--no-dataplane)" s \
	"$(bench_round "$A_RX")" lower "$(bench_round "$(half "$B_RX")")" "BIRD 2 (middle)" \
	"$(bench_round "$B_RX")"
bench_case "$k prefixes: CPU time of the middle, session up to all at the next BIRD (--no-dataplane)" \
	s "$(bench_round "$A_CPU")" lower "$(bench_round "$(half "$B_CPU")")" "BIRD 2 (middle)" \
	"$(bench_round "$B_CPU")"
bench_case "$k prefixes: peak RSS of the middle (--no-dataplane)" MB "$A_RSS" lower \
	"$B_RSS" "BIRD 2 (middle)" "$B_RSS"
bench_case "$k prefixes: session up to all in the Loc-RIB (data plane)" s \
	"$(bench_round "$D_RIB")" lower "$(bench_round "$(half "$B_RIB")")" "BIRD 2 (middle)" \
	"$(bench_round "$B_RIB")"
bench_case "$k prefixes: session up to all in the FIB (data plane)" s \
	"$(bench_round "$D_FIB")" lower null "-" null
bench_case "$k prefixes: session up to all at the next BIRD (data plane)" s \
	"$(bench_round "$D_RX")" lower "$(bench_round "$(half "$B_RX")")" "BIRD 2 (middle)" \
	"$(bench_round "$B_RX")"
bench_case "$k prefixes: CPU time of the middle's control thread (data plane)" s \
	"$(bench_round "$D_CPU")" lower null "BIRD 2 (middle)" "$(bench_round "$B_CPU")"
bench_case "$k prefixes: peak RSS of the middle (data plane)" MB "$D_RSS" lower "$B_RSS" \
	"BIRD 2 (middle)" "$B_RSS"
bench_case "UPDATE decode, $k prefixes in 4096-byte UPDATEs, 1 core" prefixes/s "$PARSE" \
	higher null "-" null
bench_case "RIB load, $k prefixes one per UPDATE (decode, intern, RIB), 1 core" prefixes/s \
	"$LOAD" higher null "the same without read-ahead" "$LOAD_NORA"
bench_finish || status=1
exit $status
