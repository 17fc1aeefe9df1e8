#!/usr/bin/env bash
# bench/compare.sh: the bench/run.sh scenarios against three servers, side by
# side: sse-server, bench/node-server.js (the tutorial's way: node:http and a
# Set of responses per topic) and nginx with the nchan module (one worker).
#
#   bench/compare.sh [--quick] [--servers "sse-server node nchan"] [scenario...]
#   bench/compare.sh --tables-only    (redo tables and plot from the last run)
#
# Each server gets one full pass of the scenarios, one after the other,
# except publish: its requests/s depend on the machine's load from one
# minute to the next, so it runs in PUBLISH_ROUNDS (default 3) alternating
# rounds (sse-server, node, nchan, sse-server, ...) and each server's table
# column is its median round.
#
# Writes bench/results/compare.jsonl (raw), bench/results/compare.md (one
# Markdown table per scenario, the servers as columns) and the plot
# bench/results/fanout-scale.svg (deliveries/s and p99 latency against
# stream count), copied to bench/plot.svg. Run as root it installs what it
# needs with apt-get (nginx, libnginx-mod-nchan, wrk, gnuplot-nox, jq); node
# must be present. The full run takes about 15-20 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=()
TABLES_ONLY=0
SERVERS="sse-server node nchan"
SCENARIOS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=(--quick) ;;
        --servers) SERVERS=$2; shift ;;
        --tables-only) TABLES_ONLY=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) SCENARIOS+=("$1") ;;
    esac
    shift
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(idle idle-max fanout burst multi scale churn publish http)
PUBLISH_ROUNDS=${PUBLISH_ROUNDS:-3}
PASS_SCENARIOS=()
RUN_PUBLISH=0
for scenario in "${SCENARIOS[@]}"; do
    if [ "$scenario" = publish ]; then RUN_PUBLISH=1; else PASS_SCENARIOS+=("$scenario"); fi
done

RESULTS=bench/results/compare.jsonl
TABLES=bench/results/compare.md
PLOT=bench/results/fanout-scale.svg

# ---------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------
install_tools() {
    local missing=()
    command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_nchan_module.so ] ||
        missing+=(nginx libnginx-mod-nchan)
    command -v wrk >/dev/null || missing+=(wrk)
    command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
    command -v jq >/dev/null || missing+=(jq)
    [ ${#missing[@]} -gt 0 ] || return 0
    if [ "$(id -u)" != 0 ]; then
        echo "compare.sh: please install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
    # Debian's nginx package starts a system nginx on port 80; it is not ours
    # to keep running, but we did not start it either, so we only say so.
    pgrep -x nginx >/dev/null && echo "compare.sh: note: a system nginx is running (not used here)" >&2 || true
}
install_tools
command -v node >/dev/null || { echo "compare.sh: node is required" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------
mkdir -p bench/results
if [ "$TABLES_ONLY" = 0 ]; then
    make -s sse-server bench/sse-load  # once, before any pass (run.sh builds no other server)
    [ ! -f "$RESULTS" ] || mv "$RESULTS" "$RESULTS.previous"
    bench/run.sh "${QUICK[@]}" --results "$RESULTS" floor
    if [ ${#PASS_SCENARIOS[@]} -gt 0 ]; then
        for server in $SERVERS; do
            SSE_SERVER=$server bench/run.sh "${QUICK[@]}" --results "$RESULTS" "${PASS_SCENARIOS[@]}"
        done
    fi
    if [ "$RUN_PUBLISH" = 1 ]; then
        for round in $(seq "$PUBLISH_ROUNDS"); do
            for server in $SERVERS; do
                echo "## publish round $round of $PUBLISH_ROUNDS: $server"
                SSE_SERVER=$server bench/run.sh "${QUICK[@]}" --results "$RESULTS" publish
            done
        done
    fi
    # The floor moves with the machine's load (a system call costs more when
    # the host is busy), so it is taken again at the end; see FLOOR_NS.
    bench/run.sh "${QUICK[@]}" --results "$RESULTS" floor
fi

# ---------------------------------------------------------------------------
# Tables: one per scenario, servers as columns
# ---------------------------------------------------------------------------
# val SERVER SCENARIO JQ-EXPRESSION: from one record of that pair, the one
# $PICK chooses among them (default: the last).
PICK=last
MEDIAN_ROUND='sort_by(.requests_per_s) | .[(length - 1) / 2 | floor]'
val() {
    jq -rs --arg s "$1" --arg c "$2" \
        "[.[] | select(.server == \$s and .scenario == \$c)] | $PICK | if . == null then \"-\" else ($3) end" \
        "$RESULTS"
}

# Multiples of the floor use its lowest measurement of the run: the cheapest
# the machine has shown, so a server is never flattered by a floor taken in
# a busy minute.
FLOOR_NS=$(jq -rs '[.[] | select(.scenario == "floor" and .floor.variant == "write") | .floor.ns_per_event] | min' "$RESULTS")
FLOOR_FANOUT_NS=$(jq -rs '[.[] | select(.scenario == "floor" and .floor.variant == "fanout") | .floor.ns_per_event] | min' "$RESULTS")

# table TITLE SCENARIO then lines "Label|jq expression".
table() {
    local title=$1 scenario=$2 line label expr server row
    if [ "$(jq -s --arg c "$scenario" '[.[] | select(.scenario == $c)] | length' "$RESULTS")" = 0 ]; then
        cat >/dev/null  # not run: no table
        return
    fi
    echo
    echo "### $title"
    echo
    row="| |"; for server in $SERVERS; do row+=" $server |"; done; echo "$row"
    row="|---|"; for server in $SERVERS; do row+="---|"; done; echo "$row"
    while IFS='|' read -r label expr; do
        [ -n "$label" ] || continue
        row="| $label |"
        local value known=0
        for server in $SERVERS; do
            value=$(val "$server" "$scenario" "$expr")
            [ "$value" = n/a ] || known=1
            row+=" $value |"
        done
        [ $known = 0 ] || echo "$row"  # a figure no server has (an older run) is left out
    done
}

r1() { echo "(($1) * 10 | round / 10)"; }   # one decimal
r0() { echo "(($1) | round)"; }

idle_table() {
    table "$1" "$2-summary" <<EOF
streams asked|.streams
streams open|.open
failed|.failed
connect p50 ms|.connect_p50_ms
connect p99 ms|.connect_p99_ms
server RSS before, MiB|$(r1 '.rss_before_kb / 1024')
server RSS after, MiB|$(r1 '.rss_after_kb / 1024')
**user-space bytes per stream**|"**\(.bytes_per_stream)**"
kernel socket slab bytes per connection (both ends)|.slab_bytes_per_connection
EOF
}

deliver_table() {
    table "$1" "$2" <<EOF
streams open / asked|"\(.sub.streams_open) / \(.streams)"
events published (rate asked/s)|"\(.pub.published) (\(.rate))"
publishes/s achieved|.pub.publishes_per_s
deliveries (expected)|"\(.sub.events) (\(.expected_deliveries))"
deliveries/s|.sub.deliveries_per_s
latency p50 ms|$(r1 '.sub.latency_us.p50 / 1000')
latency p99 ms|$(r1 '.sub.latency_us.p99 / 1000')
latency max ms|$(r1 '.sub.latency_us.max / 1000')
**p99 from the schedule, ms** (also counts time an event waited to be sent)|(if .rate == 0 then "n/a (no schedule)" elif .sub.latency_from_schedule_us then $(r1 '.sub.latency_from_schedule_us.p99 / 1000') else "n/a" end)
server CPU s|.server_cpu_s
server runnable but waiting for a CPU, s|(.server_wait_s // "n/a")
**server CPU ns per delivery**|"**\(.cpu_ns_per_delivery)**"
... as a multiple of the write() floor|$(r1 ".cpu_ns_per_delivery / $FLOOR_NS")
... as a multiple of the 1,000-socket floor|$(r1 ".cpu_ns_per_delivery / $FLOOR_FANOUT_NS")
missing / duplicated / out of order|"\(.sub.missing) / \(.sub.duplicated) / \(.sub.out_of_order)"
streams closed early|.sub.closed_early
load generator CPU s (sub)|.sub.client_cpu_s
machine load average at start|.loadavg
EOF
}

write_tables() {
    echo "## Side by side ($(date -u +%Y-%m-%dT%H:%M:%SZ)${QUICK:+, quick})"
    echo
    echo "### floor (one process writing, another draining; only the writer's CPU)"
    echo
    echo "| variant | sockets | events | ns CPU per event |"
    echo "|---|---|---|---|"
    jq -rs '.[] | select(.scenario == "floor") | .floor |
        "| \(.variant) | \(.sockets) | \(.events) | \(.ns_per_event) |"' "$RESULTS"
    idle_table "idle: quiet streams" idle
    idle_table "idle-max: as many quiet streams as the fd limit allows" idle-max
    deliver_table "fanout at 20 events/s: one topic" fanout-20
    deliver_table "fanout at 100 events/s: one topic" fanout-100
    deliver_table "burst: events as fast as the server answers" burst
    deliver_table "multi: 3 of 30 topics per stream" multi
    local n
    for n in $(jq -rs '[.[] | select(.scenario | startswith("scale-")) | .streams] | unique | .[]' "$RESULTS"); do
        deliver_table "scale: fanout to $n streams, 100 events/s" "scale-$n"
    done
    table "churn: stream set-up and tear-down (50 at once)" churn <<EOF
cycles/s|.churn.cycles_per_s
set-up p50 ms|.churn.setup_ms.p50
set-up p99 ms|.churn.setup_ms.p99
server CPU us per cycle|$(r1 '.server_cpu_s * 1e6 / (if .churn.cycles > 0 then .churn.cycles else 1 end)')
failed|.churn.failed
EOF
    local script
    for script in publish publish-pipelined static; do
        if [ "$script" = static ]; then PICK=last; else PICK=$MEDIAN_ROUND; fi
        table "http ($script.lua, wrk, 32 connections)" "http-$script" <<EOF
requests/s|$(r0 '.requests_per_s')
latency p50|.latency_p50
latency p99|.latency_p99
server CPU us per request|$(r1 '.server_cpu_s * 1e6 / (if .requests > 0 then .requests else 1 end)')
errors|.errors
EOF
        [ "$script" = static ] || rounds_line "http-$script"
    done
    PICK=last
}

# rounds_line SCENARIO: every round's requests/s per server, in run order.
rounds_line() {
    local server line="Median round shown; requests/s of each round:"
    for server in $SERVERS; do
        line+=" $server $(jq -rs --arg s "$server" --arg c "$1" \
            '[.[] | select(.server == $s and .scenario == $c) | .requests_per_s | round] | map(tostring) | join(", ")' \
            "$RESULTS");"
    done
    echo
    echo "${line%;}."
}
write_tables >"$TABLES"
cat "$TABLES"

# ---------------------------------------------------------------------------
# Plot: deliveries/s and p99 against stream count, from the scale scenario.
# Latency counts from when the schedule (100/s) meant each event to leave,
# so a server that falls behind the offered rate shows it there too.
# ---------------------------------------------------------------------------
plot() {
    local data=bench/results/plot-data server plots1="" plots2="" i=0
    mkdir -p "$data"
    for server in $SERVERS; do
        jq -rs --arg s "$server" '[.[] | select(.server == $s and (.scenario | startswith("scale-")))]
            | sort_by(.streams) | .[]
            | "\(.streams) \(.sub.deliveries_per_s) \((.sub.latency_from_schedule_us // .sub.latency_us).p99 / 1000)"' \
            "$RESULTS" >"$data/$server.dat"
        i=$((i + 1))
        plots1+="'$data/$server.dat' using 1:2 with linespoints linestyle $i title '$server', "
        [ $i != 1 ] || plots1+="'$data/$server.dat' using 1:(\$1 * 100) with lines dashtype 2 lc rgb '#888888' title 'offered (streams x 100/s)', "
        plots2+="'$data/$server.dat' using 1:3 with linespoints linestyle $i title '$server', "
    done
    gnuplot <<EOF
set terminal svg size 900,420 font 'sans,12' background '#ffffff'
set output '$PLOT'
set multiplot layout 1,2 title 'Fan-out of 100 events/s on one topic (2-core VM, loopback)'
set style line 1 lc rgb '#1f77b4' lw 2 pt 7
set style line 2 lc rgb '#2ca02c' lw 2 pt 5
set style line 3 lc rgb '#d62728' lw 2 pt 9
set grid
set key top left
set xlabel 'subscribed streams'
set ylabel 'deliveries per second'
set logscale y
set format y '%.0s%c'
set title 'throughput (higher is better)'
plot ${plots1%, }
set ylabel 'p99 latency from the schedule (ms)'
set format y '%g'
set title 'p99 latency at the offered rate (lower is better)'
plot ${plots2%, }
unset multiplot
EOF
    cp "$PLOT" bench/plot.svg
    echo
    echo "plot: $PLOT (copied to bench/plot.svg)"
}
if [ "$(jq -s '[.[] | select(.scenario | startswith("scale-"))] | length' "$RESULTS")" = 0 ]; then
    echo "compare.sh: no scale results, so no plot (bench/plot.svg unchanged)" >&2
elif command -v gnuplot >/dev/null; then
    plot
else
    echo "compare.sh: gnuplot missing, no plot" >&2
fi
