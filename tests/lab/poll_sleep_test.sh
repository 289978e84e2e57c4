#!/usr/bin/env bash
# dataplane.poll_sleep_us: an idle worker sleeps instead of spinning, gives
# its core back, and still forwards from the first packet on. The default
# keeps busy-polling.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

lab_require_root
lab_require_cmd ip ping jq
lab_require_aetherd

tap_plan 6

lab_topo_line
tap_ok $? "topology client - dut - server built"
dir=$(lab_tmpdir)

# cpu_pct PID SECONDS: the process's CPU use over SECONDS, percent of one core.
cpu_pct() {
	local t0 t1 hz
	hz=$(getconf CLK_TCK)
	t0=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat")
	sleep "$2"
	t1=$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat")
	echo $(((t1 - t0) * 100 / hz / $2))
}

ping_ok() {
	local out
	out=$(lab_exec client ping -q -c 10 -i 0.05 -W 2 "$LAB_SERVER4" 2>&1)
	echo "$out" | grep -q ' 0% packet loss' && return 0
	tap_diag "$out"
	return 1
}

sed 's/^dataplane: .*/dataplane: {workers: 1, poll_sleep_us: 200}/' "$LAB_XC_CONFIG" \
	>"$dir/sleep.yaml"
lab_aetherd_start dut "$dir/sleep.yaml"
tap_ok $? "aetherd starts with poll_sleep_us: 200"
# Idle (nothing on the wire but what the kernel sends unasked).
sleep 1
idle=$(cpu_pct "$LAB_AETHERD_PID" 3)
sleeps=$(lab_ctl -j show stats | jq '.idle_sleeps')
[ "${idle:-100}" -lt 40 ] && [ "${sleeps:-0}" -gt 0 ]
tap_ok $? "an idle worker sleeps: aetherd at ${idle}% of a core, $sleeps sleeps"
lab_wait_for 5 lab_exec client ping -c 1 -W 1 "$LAB_SERVER4"
ping_ok
tap_ok $? "ping through the sleeping worker's cross-connect, 0% loss"
lab_aetherd_stop

lab_aetherd_start dut "$LAB_XC_CONFIG"
tap_ok $? "aetherd starts with the default (busy-poll)"
sleep 1
busy=$(cpu_pct "$LAB_AETHERD_PID" 3)
sleeps=$(lab_ctl -j show stats | jq '.idle_sleeps')
[ "${busy:-0}" -ge $((2 * idle + 20)) ] && [ "$sleeps" = 0 ]
tap_ok $? "by default the worker busy-polls: ${busy}% of a core (sleeping: ${idle}%), no sleeps"
lab_aetherd_stop
tap_done
