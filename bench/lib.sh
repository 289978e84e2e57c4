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
