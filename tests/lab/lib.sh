# shellcheck shell=bash
# Shared helpers for lab and interop tests, the demo and the benchmarks.
#
# Source it from bash:  . "$(dirname "$0")/../lab/lib.sh"
#
# It gives each run a unique short prefix, creates network namespaces and veth
# pairs under it, starts and stops aetherd inside a namespace, and tears all of
# it down from an EXIT/INT/TERM trap, so a failing or interrupted test leaves no
# namespace, process or temporary file behind. Tests report in TAP through the
# tap_* helpers and exit 0 (all ok), 1 (something failed) or skip as a whole
# with tap_skip_all.
#
# Environment:
#   AP_SRC     source tree (default: two levels above this file)
#   AP_BUILD   build tree (default: $AP_SRC/build)
#   AETHERD    daemon binary (default: $AP_BUILD/src/aetherd/aetherd)
#   AETHERCTL  client binary (default: $AP_BUILD/src/aetherctl/aetherctl)
#   AP_SKIP_RC exit status of a test skipped as a whole (default 77; the meson
#              TAP harness wants 0 with a "1..0 # SKIP" plan, so it passes 0)
#   LAB_VERBOSE=1 echoes every lab command on stderr

AP_SRC=${AP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AP_BUILD=${AP_BUILD:-build}
case $AP_BUILD in
/*) ;;
*) AP_BUILD=$AP_SRC/$AP_BUILD ;;
esac
AETHERD=${AETHERD:-$AP_BUILD/src/aetherd/aetherd}
AETHERCTL=${AETHERCTL:-$AP_BUILD/src/aetherctl/aetherctl}
AP_SKIP_RC=${AP_SKIP_RC:-77}

# Interface names must stay below 16 characters, so the prefix is short:
# "ap", the pid in hex and two random hex digits (at most 10 characters).
LAB_PREFIX=ap$(printf '%x%02x' "$$" $((RANDOM % 256)))
# Scratch directory of the run, removed by lab_cleanup.
LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$LAB_PREFIX.XXXXXX") || exit 1
LAB_NS=()
LAB_PIDS=()
LAB_AETHERD_PID=
LAB_API_SOCK=
LAB_AETHERD_LOG=
LAB_CLEANED=0

_lab_log() {
	echo "# $*" >&2
}

_lab_run() {
	[ "${LAB_VERBOSE:-0}" = 1 ] && echo "+ $*" >&2
	"$@"
}

# lab_tmpdir: the per-run scratch directory.
lab_tmpdir() {
	echo "$LAB_DIR"
}

# Namespace names carry the run prefix; every helper takes the short name.
lab_ns() {
	case $1 in
	"$LAB_PREFIX"-*) echo "$1" ;;
	*) echo "$LAB_PREFIX-$1" ;;
	esac
}

# lab_exec NS CMD...: run CMD inside namespace NS.
lab_exec() {
	local ns
	ns=$(lab_ns "$1")
	shift
	_lab_run ip netns exec "$ns" "$@"
}

# lab_ns_add NAME: create namespace NAME (prefixed) with loopback up.
lab_ns_add() {
	local ns
	ns=$(lab_ns "$1")
	_lab_run ip netns add "$ns" || return 1
	LAB_NS+=("$ns")
	_lab_run ip -n "$ns" link set lo up
}

# lab_veth NS1 IF1 NS2 IF2: a veth pair with one end in each namespace, both up,
# offloads off. af_packet sees frames as the kernel hands them over: with TSO/GSO
# or checksum offload on, it would forward 64 KiB super-segments and frames with
# unfinished checksums that the peer then drops. Each end is created inside its
# namespace, so short fixed names (d0, s0) cannot clash with other runs.
lab_veth() {
	local ns1 ns2
	ns1=$(lab_ns "$1")
	ns2=$(lab_ns "$3")
	_lab_run ip link add name "$2" netns "$ns1" type veth peer name "$4" netns "$ns2" ||
		return 1
	_lab_offloads_off "$ns1" "$2" && _lab_offloads_off "$ns2" "$4" || return 1
	_lab_run ip -n "$ns1" link set "$2" up && _lab_run ip -n "$ns2" link set "$4" up
}

_lab_offloads_off() {
	_lab_run ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off \
		>/dev/null 2>&1 || {
		_lab_log "ethtool -K $2 failed in $1"
		return 1
	}
}

# lab_addr NS IF CIDR: add an address; IPv6 ones skip duplicate address
# detection so they are usable at once.
lab_addr() {
	local ns
	ns=$(lab_ns "$1")
	case $3 in
	*:*) _lab_run ip -n "$ns" addr add "$3" dev "$2" nodad ;;
	*) _lab_run ip -n "$ns" addr add "$3" dev "$2" ;;
	esac
}

# lab_bg NS CMD...: start CMD in the background inside NS (NS "-" means the
# current namespace). Sets LAB_BG_PID and LAB_BG_LOG (its stdout and stderr);
# the process is killed by lab_cleanup if still running.
LAB_BG_N=0
lab_bg() {
	local ns=$1
	shift
	LAB_BG_N=$((LAB_BG_N + 1))
	LAB_BG_LOG=$LAB_DIR/bg.$LAB_BG_N.log
	if [ "$ns" = - ]; then
		"$@" >"$LAB_BG_LOG" 2>&1 &
	else
		ip netns exec "$(lab_ns "$ns")" "$@" >"$LAB_BG_LOG" 2>&1 &
	fi
	LAB_BG_PID=$!
	LAB_PIDS+=("$LAB_BG_PID")
}

# lab_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
lab_wait_for() {
	local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $(($(date +%s%N) / 1000000)) -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# lab_kill PID [GRACE]: SIGTERM, wait up to GRACE seconds (default 5), SIGKILL.
lab_kill() {
	local pid=$1 grace=${2:-5} i
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null
		return 0
	}
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		_lab_log "pid $pid ignored SIGTERM for ${grace}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# lab_ctl ARGS...: aetherctl against the running aetherd.
lab_ctl() {
	"$AETHERCTL" -s "$LAB_API_SOCK" "$@"
}

# lab_aetherd_start NS CONFIG [ARGS...]: start aetherd in NS with CONFIG ("" for
# the built-in default) and wait until its API answers. On failure the log is
# shown and the function returns 1. Sets LAB_AETHERD_PID, LAB_API_SOCK,
# LAB_AETHERD_LOG. LAB_AETHERD_TIMEOUT (default 20 s) bounds the wait.
lab_aetherd_start() {
	local ns dir cfg=$2 timeout=${LAB_AETHERD_TIMEOUT:-20} i
	ns=$(lab_ns "$1")
	shift 2
	dir=$(lab_tmpdir)
	if [ ! -x "$AETHERD" ]; then
		_lab_log "aetherd not found at $AETHERD"
		return 1
	fi
	LAB_API_SOCK=$dir/api.sock
	LAB_AETHERD_LOG=$dir/aetherd.log
	rm -f "$LAB_API_SOCK"
	[ -n "$cfg" ] && set -- -c "$cfg" "$@"
	[ "${LAB_VERBOSE:-0}" = 1 ] && echo "+ ip netns exec $ns $AETHERD --foreground $*" >&2
	# ip netns exec execs the daemon, so $! is aetherd's own pid (a function
	# or subshell here would put a shell between them).
	ip netns exec "$ns" "$AETHERD" --foreground --api-socket "$LAB_API_SOCK" "$@" \
		>>"$LAB_AETHERD_LOG" 2>&1 &
	LAB_AETHERD_PID=$!
	LAB_PIDS+=("$LAB_AETHERD_PID")
	for ((i = 0; i < timeout * 10; i++)); do
		if ! kill -0 "$LAB_AETHERD_PID" 2>/dev/null; then
			wait "$LAB_AETHERD_PID"
			_lab_log "aetherd exited with status $? before its API answered; log:"
			sed 's/^/#   /' "$LAB_AETHERD_LOG" >&2
			LAB_AETHERD_PID=
			return 1
		fi
		if [ -S "$LAB_API_SOCK" ] && lab_ctl show stats >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	_lab_log "aetherd API did not answer within ${timeout}s; log:"
	sed 's/^/#   /' "$LAB_AETHERD_LOG" >&2
	lab_aetherd_stop
	return 1
}

# lab_aetherd_stop: SIGTERM, wait (LAB_AETHERD_GRACE, default 10 s), SIGKILL.
# Returns aetherd's exit status (or 1 if it had to be killed).
lab_aetherd_stop() {
	local pid=$LAB_AETHERD_PID grace=${LAB_AETHERD_GRACE:-10} i rc
	[ -n "$pid" ] || return 0
	LAB_AETHERD_PID=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		_lab_log "aetherd ignored SIGTERM for ${grace}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	return $rc
}

# lab_topo_line: the three-namespace line used by the xconnect test and the demo.
#
#   client c0 ---- d0 [dut] d1 ---- s0 server
#
# client has $LAB_CLIENT4/24 and $LAB_CLIENT6/64, server $LAB_SERVER4/24 and
# $LAB_SERVER6/64 (one subnet: the dut forwards at L2). dut has no address.
# Writes $LAB_XC_CONFIG, an aetherd config cross-connecting d0 and d1 over
# af_packet.
lab_topo_line() {
	local x=$((RANDOM % 250 + 1)) dir
	dir=$(lab_tmpdir)
	LAB_CLIENT4=10.77.$x.1
	LAB_SERVER4=10.77.$x.2
	LAB_CLIENT6=fd77:$(printf %x $x)::1
	LAB_SERVER6=fd77:$(printf %x $x)::2
	lab_ns_add client && lab_ns_add dut && lab_ns_add server &&
		lab_veth client c0 dut d0 && lab_veth dut d1 server s0 &&
		lab_addr client c0 "$LAB_CLIENT4/24" && lab_addr client c0 "$LAB_CLIENT6/64" &&
		lab_addr server s0 "$LAB_SERVER4/24" && lab_addr server s0 "$LAB_SERVER6/64" ||
		return 1
	LAB_XC_CONFIG=$dir/xconnect.yaml
	cat >"$LAB_XC_CONFIG" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: lan, driver: af_packet, iface: d0}
		  - {name: wan, driver: af_packet, iface: d1}
		xconnect:
		  - {a: lan, b: wan}
	EOF
}

# lab_topo_routed: the same line with aetherd routing between two subnets.
#
#   client c0 ---- d0 [dut] d1 ---- s0 server
#   $LAB_CLIENT4/24   $LAB_ROUTER4_LAN  $LAB_ROUTER4_WAN   $LAB_SERVER4/24
#   $LAB_CLIENT6/64   $LAB_ROUTER6_LAN  $LAB_ROUTER6_WAN   $LAB_SERVER6/64
#
# Client and server route through the dut (default routes). Writes
# $LAB_ROUTER_CONFIG, an aetherd config with the two interfaces on af_packet;
# LAB_WAN_MTU (optional) sets the WAN interface's MTU.
lab_topo_routed() {
	local x=$((RANDOM % 200 + 20)) h dir mtu=""
	h=$(printf %x "$x")
	dir=$(lab_tmpdir)
	LAB_CLIENT4=10.$x.1.2 LAB_ROUTER4_LAN=10.$x.1.1
	LAB_ROUTER4_WAN=10.$x.2.1 LAB_SERVER4=10.$x.2.2
	LAB_CLIENT6=fd$h:1::2 LAB_ROUTER6_LAN=fd$h:1::1
	LAB_ROUTER6_WAN=fd$h:2::1 LAB_SERVER6=fd$h:2::2
	LAB_NET_PREFIX=10.$x
	lab_ns_add client && lab_ns_add dut && lab_ns_add server &&
		lab_veth client c0 dut d0 && lab_veth dut d1 server s0 &&
		lab_addr client c0 "$LAB_CLIENT4/24" && lab_addr client c0 "$LAB_CLIENT6/64" &&
		lab_addr server s0 "$LAB_SERVER4/24" && lab_addr server s0 "$LAB_SERVER6/64" &&
		lab_exec client ip route add default via "$LAB_ROUTER4_LAN" &&
		lab_exec client ip -6 route add default via "$LAB_ROUTER6_LAN" &&
		lab_exec server ip route add default via "$LAB_ROUTER4_WAN" &&
		lab_exec server ip -6 route add default via "$LAB_ROUTER6_WAN" || return 1
	[ -n "${LAB_WAN_MTU:-}" ] && mtu=", mtu: $LAB_WAN_MTU"
	LAB_ROUTER_CONFIG=$dir/router.yaml
	cat >"$LAB_ROUTER_CONFIG" <<-EOF
		dataplane: {workers: 1}
		ports:
		  - {name: lan, driver: af_packet, iface: d0}
		  - {name: wan, driver: af_packet, iface: d1}
		interfaces:
		  - {name: lan, port: lan, addresses: [$LAB_ROUTER4_LAN/24, "$LAB_ROUTER6_LAN/64"]}
		  - {name: wan, port: wan, addresses: [$LAB_ROUTER4_WAN/24, "$LAB_ROUTER6_WAN/64"]$mtu}
	EOF
}

# lab_cleanup: kill what was started, delete the namespaces, remove the scratch
# directory. Installed as the EXIT/INT/TERM trap; safe to call twice.
lab_cleanup() {
	local pid ns p
	[ "$LAB_CLEANED" = 1 ] && return 0
	LAB_CLEANED=1
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		lab_kill "$pid" 3
	done
	for ns in "${LAB_NS[@]}"; do
		# Anything still inside (a daemon a test forked without lab_bg).
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NS=()
	LAB_PIDS=()
	if [ -n "$LAB_DIR" ] && [ "${LAB_KEEP:-0}" != 1 ]; then
		rm -rf "$LAB_DIR"
	fi
}

_lab_on_signal() {
	trap - INT TERM
	lab_cleanup
	exit 130
}

trap lab_cleanup EXIT
trap _lab_on_signal INT TERM

# lab_require_root: skip the whole test unless root.
lab_require_root() {
	[ "$(id -u)" -eq 0 ] || tap_skip_all "needs root (network namespaces)"
}

# lab_require_cmd CMD...: skip the whole test unless every CMD is installed.
lab_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || tap_skip_all "$c not installed"
	done
}

# lab_require_aetherd: skip unless the daemon and client are built.
lab_require_aetherd() {
	[ -x "$AETHERD" ] || tap_skip_all "aetherd not built ($AETHERD)"
	[ -x "$AETHERCTL" ] || tap_skip_all "aetherctl not built ($AETHERCTL)"
}

# ---- TAP --------------------------------------------------------------------

TAP_N=0
TAP_PLAN=
TAP_FAILED=0

# tap_plan N
tap_plan() {
	TAP_PLAN=$1
	echo "1..$1"
}

# tap_ok STATUS DESC: ok when STATUS is 0 (pass "$?" or a test's status).
tap_ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# tap_check DESC CMD...: run CMD and report its status as one result.
tap_check() {
	local desc=$1 rc
	shift
	"$@"
	rc=$?
	tap_ok "$rc" "$desc"
	return $rc
}

# tap_skip DESC REASON
tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# tap_diag TEXT...: a comment line.
tap_diag() {
	local l
	while IFS= read -r l; do
		echo "# $l"
	done <<<"$*"
}

# tap_skip_all REASON: the whole test cannot run here.
tap_skip_all() {
	echo "1..0 # SKIP $1"
	exit "$AP_SKIP_RC"
}

# tap_bail REASON: stop now; remaining planned results count as failures.
tap_bail() {
	echo "Bail out! $1"
	exit 1
}

# tap_done: exit 0 when every planned result was printed and none failed.
tap_done() {
	if [ -n "$TAP_PLAN" ] && [ "$TAP_N" -ne "$TAP_PLAN" ]; then
		echo "# planned $TAP_PLAN results, printed $TAP_N"
		exit 1
	fi
	[ "$TAP_FAILED" -eq 0 ] || exit 1
	exit 0
}
