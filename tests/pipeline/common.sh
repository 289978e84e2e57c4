# shellcheck shell=bash
# What the pipeline tests share: TAP and cleanup from the lab library, the
# capture generator, and a bounded offline aetherd run.
#
# AETHERD names the daemon (the sanitizer build passes its own); PIPE_TIMEOUT
# bounds each run (default 120 s: sanitizer builds are slow).

PIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lab/lib.sh
. "$PIPE_DIR/../lab/lib.sh"

PYTHON=${PYTHON:-/usr/bin/python3}
PIPE_TIMEOUT=${PIPE_TIMEOUT:-120}

pipe_require() {
	[ -x "$AETHERD" ] || tap_skip_all "aetherd not built ($AETHERD)"
	command -v jq >/dev/null || tap_skip_all "jq not installed"
	"$PYTHON" -c 'import scapy' 2>/dev/null || tap_skip_all "python3-scapy not installed"
	WORK=$(lab_tmpdir)
}

# pipe_gen: write the captures into $WORK.
pipe_gen() {
	"$PYTHON" "$PIPE_DIR/gen.py" "$WORK" --pkt-h "$AP_SRC/src/pkt/pkt.h"
}

# pipe_run NAME ARGS...: run aetherd ARGS in $WORK, bounded; stdout to
# $WORK/NAME.out, stderr to $WORK/NAME.err. Shows both on failure.
pipe_run() {
	local name=$1 rc
	shift
	(cd "$WORK" && exec timeout -k 5 "$PIPE_TIMEOUT" "$AETHERD" "$@") \
		>"$WORK/$name.out" 2>"$WORK/$name.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		tap_diag "aetherd $* exited with $rc"
		tap_diag "$(tail -n 30 "$WORK/$name.err")"
	fi
	return $rc
}

# pipe_cmp EXPECTED ACTUAL [cmp.py options]
pipe_cmp() {
	local out rc
	out=$("$PYTHON" "$PIPE_DIR/cmp.py" "${@:3}" "$1" "$2" 2>&1)
	rc=$?
	tap_diag "$out"
	return $rc
}

# pipe_summary_ok FILE RX TX DROPS: the summary parses, the counters are the
# expected ones and rx == tx + drops.total.
pipe_summary_ok() {
	local f=$1
	if ! jq -e . "$f" >/dev/null 2>&1; then
		tap_diag "summary is not JSON: $(head -c 300 "$f")"
		return 1
	fi
	if ! jq -e --argjson rx "$2" --argjson tx "$3" --argjson dr "$4" \
		'.mode == "offline" and .rx_packets == $rx and .tx_packets == $tx and
		 .drops.total == $dr and .rx_packets == .tx_packets + .drops.total' \
		"$f" >/dev/null; then
		tap_diag "want rx $2 tx $3 drops $4 (rx = tx + drops), got:"
		tap_diag "$(jq -c '{mode, rx_packets, tx_packets, drops}' "$f")"
		return 1
	fi
}

# pipe_count PCAP: number of frames in a capture.
pipe_count() {
	"$PYTHON" -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import cmp
print(len(cmp.read_pcap(sys.argv[2])))' "$PIPE_DIR" "$1"
}

# pipe_golden NAME WHAT: a golden test in NAME.py (gen DIR, check DIR, count):
# generate the captures and NAME.yaml, run aetherd offline on them, then let
# NAME.py check every outcome; its TAP lines are numbered after the first.
pipe_golden() {
	local n
	pipe_require
	n=$("$PYTHON" "$PIPE_DIR/$1.py" count)
	tap_plan $((n + 1))
	"$PYTHON" "$PIPE_DIR/$1.py" gen "$WORK" &&
		pipe_run "$1" -c "$1.yaml" --summary summary.json
	tap_ok $? "aetherd $2 the capture offline and exited"
	"$PYTHON" "$PIPE_DIR/$1.py" check "$WORK" | awk '{ if ($1 == "ok" || $1 == "not") { sub(/^(ok|not ok) [0-9]+/, ($1 == "ok" ? "ok " : "not ok ") ($1 == "ok" ? $2 + 1 : $3 + 1)) } print }'
	TAP_N=$((n + 1))
	tap_done
}
