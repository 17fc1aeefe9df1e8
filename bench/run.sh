#!/usr/bin/env bash
# bench/run.sh: benchmark scenarios against one SSE server, loopback only.
#
#   bench/run.sh [--quick] [--results FILE] [scenario...]
#
# Scenarios (default: all, in this order):
#   floor     CPU of the cheapest delivery: write() of a 60-byte event to a
#             loopback socket, writev() of 8, and write() round-robin over
#             1,000 sockets (bench/floor.cpp, built here)
#   idle      10,000 quiet streams: server RSS before/after, bytes per stream,
#             kernel slab per connection, connect time
#   idle-max  as many streams as one server process can hold under the fd
#             limit (19,900), opened by two sse-load processes
#   fanout    10,000 streams on one topic, 200 events at 20/s, then at 100/s
#   burst     2,000 streams, 2,000 events as fast as the server answers
#   multi     5,000 streams on /latest?type= with 3 of 30 topics each
#   scale     fanout at 1,000, 5,000 and 10,000 streams (200 events at 100/s),
#             the data of the plot
#   churn     stream set-up rate: connect, head + first byte, close, repeat
#   churn-token  churn against a server with --jwt-key-file, each cycle
#             carrying a token for its private topic, beside plain churn
#             against the same server without a key; alternating rounds
#             (plain, token, token, plain), CPU per cycle of each (sse-server only)
#   private   10,000 streams each on its own private topic user.<n>.events
#             with its own token, publishing at a fixed rate to random
#             users; with and without 1,000 more streams on patterns
#             nobody.<k>.* that match nothing, alternating rounds: server
#             CPU per publish of each, and bytes per idle private stream
#             (sse-server only)
#   publish   wrk on POST /publish with no subscriber: publish.lua (one
#             request at a time) and publish-pipelined.lua (8 per write)
#   http      wrk: static.lua (a file); the stream set-up rate is churn's,
#             since wrk can read neither a stream's endless body nor a
#             bodiless HEAD answer without a length
#
#   bench/run.sh scale-out [--streams N] ...
#
#   scale-out N streams over several --reuse-port --redis instances, one
#             redis-server and as many sse-load processes as the descriptor
#             limit needs; single events and a reconnect storm. Runs on its
#             own (not part of "all"): bench/scale-out.sh, whose --help says all
#
# --quick shrinks every size (200 streams, tens of events): a smoke test that
# ends in well under a minute. Each scenario prints a Markdown table on stdout
# and appends one JSON object per measurement to FILE (default
# bench/results/results.jsonl).
#
# The server: SSE_SERVER=sse-server (default), node, nchan, or external (see
# bench/servers.sh). A fresh server is started for each scenario and stopped
# by pid after it; every process this script starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = scale-out ]; then
    shift
    exec bench/scale-out.sh "$@"
fi

QUICK=0
RESULTS=bench/results/results.jsonl
SCENARIOS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --results) RESULTS=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) SCENARIOS+=("$1") ;;
    esac
    shift
done
ALL=(floor idle idle-max fanout burst multi scale churn churn-token private publish http)
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=("${ALL[@]}")
SSE_SERVER=${SSE_SERVER:-sse-server}
RESULTS_DIR=$(dirname "$RESULTS")
mkdir -p "$RESULTS_DIR"
WORK=$(mktemp -d /tmp/sse-bench.XXXXXX)

# ---------------------------------------------------------------------------
# Sizes: full run, or --quick
# ---------------------------------------------------------------------------
if [ "$QUICK" = 1 ]; then
    IDLE_N=200; IDLE_MAX_N=400
    FANOUT_N=200; FANOUT_EVENTS=50
    BURST_N=200; BURST_EVENTS=200
    MULTI_N=200; MULTI_EVENTS=300; MULTI_RATE=300
    SCALE_NS="100 200"; SCALE_EVENTS=20
    CHURN_S=2; HTTP_S=2
    FLOOR_EVENTS=20000; FLOOR_SOCKETS=100
    SETUP_BOUND=20; DRAIN_BOUND=5
    CHURN_TOKEN_S=1; CHURN_TOKEN_ROUNDS=1
    PRIVATE_N=200; PRIVATE_PATTERNS=20; PRIVATE_EVENTS=400; PRIVATE_RATE=400; PRIVATE_ROUNDS=1
else
    IDLE_N=10000; IDLE_MAX_N=19900
    FANOUT_N=10000; FANOUT_EVENTS=200
    BURST_N=2000; BURST_EVENTS=2000
    MULTI_N=5000; MULTI_EVENTS=3000; MULTI_RATE=300
    SCALE_NS="1000 5000 10000"; SCALE_EVENTS=200
    CHURN_S=5; HTTP_S=5
    FLOOR_EVENTS=400000; FLOOR_SOCKETS=1000
    SETUP_BOUND=60; DRAIN_BOUND=20
    CHURN_TOKEN_S=10; CHURN_TOKEN_ROUNDS=2
    PRIVATE_N=10000; PRIVATE_PATTERNS=1000; PRIVATE_EVENTS=40000; PRIVATE_RATE=2000; PRIVATE_ROUNDS=2
fi
MULTI_TOPICS=30; MULTI_PER=3

# ---------------------------------------------------------------------------
# Processes: everything started is tracked and stopped by pid on exit
# ---------------------------------------------------------------------------
STARTED=()
track() { STARTED+=("$1"); }

# SIGTERM, up to 5 s to exit (servers flush their streams), then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    rm -rf "$WORK"
    [ -z "${SERVER_DIR:-}" ] || rm -rf "$SERVER_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/servers.sh
. bench/servers.sh

# ---------------------------------------------------------------------------
# Measuring helpers
# ---------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

now() { date +%s.%N; }

# Sum of user+system CPU seconds of the given pids (/proc/PID/stat fields
# 14 and 15, counted after the ")" that ends the command name).
cpu_seconds() {
    local total=0 pid fields
    for pid in "$@"; do
        fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        total=$((total + $(echo "$fields" | awk '{print $12 + $13}')))
    done
    awk -v t="$total" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}'
}

# Seconds the given pids spent runnable but waiting for a CPU
# (/proc/PID/schedstat, field 2). On a shared machine this tells slowness
# from contention: a server that waits a lot was not the bottleneck.
wait_seconds() {
    local total=0 pid ns
    for pid in "$@"; do
        ns=$(awk '{print $2}' "/proc/$pid/schedstat" 2>/dev/null) || continue
        total=$((total + ${ns:-0}))
    done
    awk -v t="$total" 'BEGIN {printf "%.2f", t / 1e9}'
}

# Sum of VmRSS (KiB) of the given pids.
rss_kb() {
    local total=0 pid kb
    for pid in "$@"; do
        kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}

# Bytes in the kernel slab caches a TCP connection's sockets use (active
# objects x object size), or "n/a" when /proc/slabinfo is not readable (it
# needs root). Only these caches: the total moves with whatever else runs.
SOCKET_SLABS='^(TCP|sock_inode_cache|filp|dentry|eventpoll_epi|eventpoll_pwq|tcp_bind_bucket|tcp_bind2_bucket|inet_peer_cache) '
slab_bytes() {
    if [ -r /proc/slabinfo ]; then
        grep -E "$SOCKET_SLABS" /proc/slabinfo | awk '{s += $2 * $4} END {printf "%d", s}'
    else
        echo n/a
    fi
}

# jget JSON KEY or jget JSON OBJECT.KEY: a number or string from sse-load's
# one-line JSON (a sed-level reader, so run.sh needs no jq).
jget() {
    local json=$1 key=$2
    if [[ $key == *.* ]]; then
        [[ $json =~ \"${key%%.*}\":\{([^\}]*)\} ]] && json=${BASH_REMATCH[1]} || { echo ""; return; }
        key=${key#*.}
    fi
    if [[ $json =~ \"$key\":(\"[^\"]*\"|[-0-9.e+]+) ]]; then
        local value=${BASH_REMATCH[1]}
        echo "${value//\"/}"
    fi
}

# jnum JSON KEY: as jget, but 0 when the key is absent (a tool that failed).
jnum() {
    local value
    value=$(jget "$1" "$2")
    echo "${value:-0}"
}

calc() { awk "BEGIN {printf \"$1\", ($2)}"; }

# Waits until every file exists, or a bound passes, or a pid dies.
wait_files() {
    local bound=$1 pid=$2; shift 2
    local deadline=$((SECONDS + bound)) file missing
    while [ $SECONDS -lt $deadline ]; do
        missing=0
        for file in "$@"; do [ -f "$file" ] || missing=1; done
        [ $missing = 0 ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Waits for a pid for at most `bound` seconds, then asks it to stop (sse-load
# prints its summary on SIGTERM).
wait_bounded() {
    local pid=$1 bound=$2 deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Appends one JSON object to the results: common fields plus "key":value
# pairs given as arguments (values are inserted as they are: quote strings).
record() {
    local fields="" pair
    for pair in "$@"; do fields+=",$pair"; done
    printf '{"time":"%s","server":"%s","quick":%s,"loadavg":%s%s}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SSE_SERVER" "$QUICK" "$(cut -d' ' -f1 /proc/loadavg)" "$fields" \
        >>"$RESULTS"
}

header() {
    echo
    echo "### $1 ($SSE_SERVER$([ "$QUICK" = 1 ] && echo ', quick'))"
    echo
    echo "$2"
    echo "$2" | sed 's/[^|]/-/g'
}

LOAD=bench/sse-load

# Starts `sse-load sub` in the background; sets SUB_PID. Arguments are added.
start_sub() {
    local out=$1; shift
    $LOAD sub --quiet "$@" >"$out" 2>"$out.err" &
    SUB_PID=$!
    track "$SUB_PID"
}

# ---------------------------------------------------------------------------
# floor
# ---------------------------------------------------------------------------
scenario_floor() {
    local bin=$RESULTS_DIR/floor line
    g++ -std=c++20 -O2 -Wall -Wextra -o "$bin" bench/floor.cpp
    header "floor: CPU of the cheapest delivery" \
        "| variant | sockets | events | writer CPU s | ns CPU / event |"
    "$bin" "$FLOOR_EVENTS" "$FLOOR_SOCKETS" >"$WORK/floor.json"
    while read -r line; do
        echo "| $(jget "$line" variant) | $(jget "$line" sockets) | $(jget "$line" events) |" \
            "$(jget "$line" writer_cpu_s) | $(jget "$line" ns_per_event) |"
        record '"scenario":"floor"' "\"floor\":$line"
    done <"$WORK/floor.json"
}

# ---------------------------------------------------------------------------
# idle and idle-max: memory per quiet stream
# ---------------------------------------------------------------------------
IDLE_HEADER="| streams | open | failed | connect p50 ms | connect p99 ms | RSS before MiB | RSS after MiB | bytes/stream (user space) | socket slab bytes/connection (both ends) |"

# idle_run NAME STREAMS PROCESSES
idle_run() {
    local name=$1 n=$2 procs=$3 i pids=() per=$(($2 / $3))
    server_start "$SSE_SERVER"
    sleep 0.5
    local rss0 slab0 rss1 slab1
    rss0=$(rss_kb $(server_pids))
    slab0=$(slab_bytes)
    for i in $(seq "$procs"); do
        start_sub "$WORK/idle$i.json" --url "$SERVER_URL$SUB_PATH" --streams "$per" \
            --duration $((SETUP_BOUND * 2)) --ready-file "$WORK/idle$i.ready"
        pids+=("$SUB_PID")
    done
    local files=()
    for i in $(seq "$procs"); do files+=("$WORK/idle$i.ready"); done
    wait_files "$SETUP_BOUND" "${pids[0]}" "${files[@]}" || echo "run.sh: $name: not every stream settled in ${SETUP_BOUND}s" >&2
    sleep 1  # let the last connections' allocations land
    rss1=$(rss_kb $(server_pids))
    slab1=$(slab_bytes)
    for i in "${pids[@]}"; do wait_bounded "$i" 0; done
    server_stop
    local open=0 failed=0 p50=0 p99=0 json
    for i in $(seq "$procs"); do
        json=$(cat "$WORK/idle$i.json")
        open=$((open + $(jget "$json" streams_open)))
        failed=$((failed + $(jget "$json" streams_failed)))
        p50=$(calc '%.1f' "($p50 > $(jget "$json" connect_ms.p50)) ? $p50 : $(jget "$json" connect_ms.p50)")
        p99=$(calc '%.1f' "($p99 > $(jget "$json" connect_ms.p99)) ? $p99 : $(jget "$json" connect_ms.p99)")
        record "\"scenario\":\"$name\"" "\"streams\":$n" "\"process\":$i" "\"sub\":$json"
    done
    local per_stream slab_per="n/a"
    per_stream=$(calc '%.0f' "$open > 0 ? ($rss1 - $rss0) * 1024 / $open : 0")
    [ "$slab0" = n/a ] || slab_per=$(calc '%.0f' "$open > 0 ? ($slab1 - $slab0) / $open : 0")
    echo "| $n | $open | $failed | $p50 | $p99 | $(calc '%.1f' "$rss0/1024") | $(calc '%.1f' "$rss1/1024") | $per_stream | $slab_per |"
    record "\"scenario\":\"$name-summary\"" "\"streams\":$n" "\"open\":$open" "\"failed\":$failed" \
        "\"connect_p50_ms\":$p50" "\"connect_p99_ms\":$p99" "\"rss_before_kb\":$rss0" "\"rss_after_kb\":$rss1" \
        "\"bytes_per_stream\":$per_stream" "\"slab_bytes_per_connection\":\"$slab_per\""
}

scenario_idle() {
    header "idle: $IDLE_N quiet streams" "$IDLE_HEADER"
    idle_run idle "$IDLE_N" 1
}

scenario_idle_max() {
    header "idle-max: $IDLE_MAX_N quiet streams from 2 sse-load processes" "$IDLE_HEADER"
    idle_run idle-max "$IDLE_MAX_N" 2
}

# ---------------------------------------------------------------------------
# fanout, burst, multi, scale: delivering events
# ---------------------------------------------------------------------------
DELIVER_HEADER="| streams | topics/stream | events | rate/s asked | publishes/s got | deliveries | deliveries/s | latency p50 ms | p90 ms | p99 ms | max ms | p99 from schedule ms | server CPU s | server waited for CPU s | CPU ns/delivery | missing | dup | ooo | failed streams | client CPU s |"

# deliver NAME STREAMS EVENTS RATE [multi]
# Opens the streams, waits until all have their heads, publishes, waits for
# every stream to get its events (bounded), and measures the server's CPU
# from just before the first publish to the end.
deliver() {
    local name=$1 n=$2 events=$3 rate=$4 multi=${5:-}
    server_start "$SSE_SERVER"
    local topics=bench per=1 path=$SUB_PATH expect=$3 conns=1
    if [ -n "$multi" ]; then
        if [ -z "$MULTI_PATH" ]; then
            server_stop
            echo "| $n | $MULTI_PER | n/a: $SSE_SERVER has no multi-topic streams |"
            return
        fi
        topics=$(seq -s, -f 't%g' 1 "$MULTI_TOPICS")
        per=$MULTI_PER; path=$MULTI_PATH; conns=8
        expect=$((events * per / MULTI_TOPICS))
    fi
    local pub_time=$(( rate > 0 ? (events + rate - 1) / rate : 10 ))
    rm -f "$WORK/ready"
    start_sub "$WORK/sub.json" --url "$SERVER_URL$path" --streams "$n" --topics "$topics" --per-stream "$per" \
        --expect "$expect" --duration $((SETUP_BOUND + pub_time + DRAIN_BOUND)) --ready-file "$WORK/ready"
    local sub=$SUB_PID
    wait_files "$SETUP_BOUND" "$sub" "$WORK/ready" || echo "run.sh: $name: streams not all open after ${SETUP_BOUND}s" >&2
    local pids cpu0 cpu1 wait0 wait1
    pids=$(server_pids)
    cpu0=$(cpu_seconds $pids)
    wait0=$(wait_seconds $pids)
    $LOAD pub --quiet --url "$SERVER_URL$PUB_PATH" --topics "$topics" --connections "$conns" \
        --events "$events" --rate "$rate" --duration $((pub_time * 3 + DRAIN_BOUND)) >"$WORK/pub.json" 2>"$WORK/pub.err" || true
    wait_bounded "$sub" "$DRAIN_BOUND"
    cpu1=$(cpu_seconds $pids)
    wait1=$(wait_seconds $pids)
    server_stop
    local s p
    s=$(cat "$WORK/sub.json"); p=$(cat "$WORK/pub.json")
    [ -n "$s" ] || s='{}'
    [ -n "$p" ] || p='{}'
    local got cpu per_delivery waited schedule_p99
    got=$(jget "$s" events); got=${got:-0}
    cpu=$(calc '%.2f' "$cpu1 - $cpu0")
    waited=$(calc '%.2f' "$wait1 - $wait0")
    per_delivery=$(calc '%.0f' "$got > 0 ? $cpu * 1e9 / $got : 0")
    ms() { calc '%.2f' "0$(jget "$s" "latency_us.$1") / 1000"; }
    # From when --rate meant the event to leave: differs when the server
    # answered the publisher late and so held the next event back.
    schedule_p99=$(calc '%.2f' "0$(jget "$s" "latency_from_schedule_us.p99") / 1000")
    echo "| $n | $per | $events | $rate | $(jget "$p" publishes_per_s) | $got | $(jget "$s" deliveries_per_s) |" \
        "$(ms p50) | $(ms p90) | $(ms p99) | $(ms max) | $schedule_p99 | $cpu | $waited | $per_delivery | $(jget "$s" missing) |" \
        "$(jget "$s" duplicated) | $(jget "$s" out_of_order) | $(jget "$s" streams_failed) | $(jget "$s" client_cpu_s) |"
    record "\"scenario\":\"$name\"" "\"streams\":$n" "\"topics_per_stream\":$per" "\"events\":$events" \
        "\"rate\":$rate" "\"expected_deliveries\":$((n * expect))" "\"server_cpu_s\":$cpu" \
        "\"server_wait_s\":$waited" \
        "\"cpu_ns_per_delivery\":$per_delivery" "\"sub\":$s" "\"pub\":$p"
}

scenario_fanout() {
    header "fanout: $FANOUT_N streams, one topic, $FANOUT_EVENTS events" "$DELIVER_HEADER"
    deliver fanout-20 "$FANOUT_N" "$FANOUT_EVENTS" 20
    deliver fanout-100 "$FANOUT_N" "$FANOUT_EVENTS" 100
}

scenario_burst() {
    header "burst: $BURST_N streams, $BURST_EVENTS events as fast as answered" "$DELIVER_HEADER"
    deliver burst "$BURST_N" "$BURST_EVENTS" 0
}

scenario_multi() {
    header "multi: $MULTI_N streams, $MULTI_PER of $MULTI_TOPICS topics each" "$DELIVER_HEADER"
    deliver multi "$MULTI_N" "$MULTI_EVENTS" "$MULTI_RATE" multi
}

scenario_scale() {
    header "scale: fanout of $SCALE_EVENTS events at 100/s by stream count" "$DELIVER_HEADER"
    local n
    for n in $SCALE_NS; do deliver "scale-$n" "$n" "$SCALE_EVENTS" 100; done
}

# ---------------------------------------------------------------------------
# churn: stream set-up rate
# ---------------------------------------------------------------------------
CHURN_HEADER="| cycles | cycles/s | set-up p50 ms | p99 ms | failed | server CPU s | server CPU us/cycle | client CPU s |"

# churn_once ROW_START [sse-load args...]: churn for CHURN_S seconds against
# a fresh server (with SERVER_EXTRA_FLAGS); prints a table row that begins
# with ROW_START, and sets CHURN_JSON, CHURN_CPU and CHURN_CYCLES.
churn_once() {
    local row_start=$1; shift
    server_start "$SSE_SERVER"
    local pids cpu0 cpu1 json
    pids=$(server_pids)
    cpu0=$(cpu_seconds $pids)
    json=$($LOAD churn --quiet --url "$SERVER_URL$SUB_PATH" --concurrency 50 --duration "$CHURN_S" "$@" || echo '{}')
    cpu1=$(cpu_seconds $pids)
    server_stop
    CHURN_JSON=$json
    CHURN_CYCLES=$(jget "$json" cycles); CHURN_CYCLES=${CHURN_CYCLES:-0}
    CHURN_CPU=$(calc '%.2f' "$cpu1 - $cpu0")
    echo "| $row_start$CHURN_CYCLES | $(jget "$json" cycles_per_s) | $(jget "$json" setup_ms.p50) |" \
        "$(jget "$json" setup_ms.p99) | $(jget "$json" failed) | $CHURN_CPU |" \
        "$(calc '%.1f' "$CHURN_CYCLES > 0 ? $CHURN_CPU * 1e6 / $CHURN_CYCLES : 0") | $(jget "$json" client_cpu_s) |"
}

scenario_churn() {
    header "churn: open a stream, wait for its first byte, close ($CHURN_S s, 50 at once)" "$CHURN_HEADER"
    churn_once ""
    record '"scenario":"churn"' "\"server_cpu_s\":$CHURN_CPU" "\"churn\":$CHURN_JSON"
}

# The servers of churn-token and private read this key; sse-load signs
# each stream's token with it (--key-file). 33 random bytes in base64.
make_key() {
    [ -f "$WORK/jwt.key" ] || head -c 33 /dev/urandom | base64 >"$WORK/jwt.key"
    echo "$WORK/jwt.key"
}

# Unless the server is sse-server, prints why the scenario is skipped and fails.
sse_server_only() {
    [ "$SSE_SERVER" = sse-server ] && return 0
    echo; echo "### $1: skipped (private topics are sse-server's own)"
    return 1
}

# "holds" or "does not hold": whether A <= B. --quick sizes are too small
# for a verdict: the CPU of a quick run is a few clock ticks.
verdict() {
    if [ "$QUICK" = 1 ]; then echo "not judged at --quick sizes"; return; fi
    awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? "holds" : "does not hold"}'
}

scenario_churn_token() {
    sse_server_only churn-token || return 0
    local key topic=user.1.events round variant
    key=$(make_key)
    local CHURN_S=$CHURN_TOKEN_S  # churn_once reads it
    header "churn-token: churn on private topic $topic, a token per cycle, against --jwt-key-file; plain: no key, no token ($CHURN_S s each, 50 at once)" \
        "| round | variant | ${CHURN_HEADER#| }"
    local -A cpu=([plain]=0 [token]=0) cycles=([plain]=0 [token]=0)
    for round in $(seq "$CHURN_TOKEN_ROUNDS"); do
        # plain, token, then token, plain: a drift in the machine's speed
        # during the run weighs on both variants alike.
        local order="plain token"
        [ $((round % 2)) = 1 ] || order="token plain"
        for variant in $order; do
            if [ "$variant" = token ]; then
                SERVER_EXTRA_FLAGS="--jwt-key-file $key"
                churn_once "$round | $variant | " --topics "$topic" --key-file "$key"
            else
                SERVER_EXTRA_FLAGS=""
                churn_once "$round | $variant | " --topics "$topic"
            fi
            SERVER_EXTRA_FLAGS=""
            cpu[$variant]=$(calc '%.2f' "${cpu[$variant]} + $CHURN_CPU")
            cycles[$variant]=$((${cycles[$variant]} + CHURN_CYCLES))
            record '"scenario":"churn-token"' "\"variant\":\"$variant\"" "\"round\":$round" \
                "\"server_cpu_s\":$CHURN_CPU" "\"churn\":$CHURN_JSON"
        done
    done
    local plain_us token_us ratio
    plain_us=$(calc '%.1f' "${cycles[plain]} > 0 ? ${cpu[plain]} * 1e6 / ${cycles[plain]} : 0")
    token_us=$(calc '%.1f' "${cycles[token]} > 0 ? ${cpu[token]} * 1e6 / ${cycles[token]} : 0")
    ratio=$(calc '%.3f' "$plain_us > 0 ? $token_us / $plain_us : 0")
    echo
    echo "Server CPU per cycle over all rounds: token $token_us us, plain $plain_us us, ratio $ratio" \
        "(criterion: at most 1.10; $(verdict "$ratio" 1.10))."
    record '"scenario":"churn-token-summary"' "\"token_us_per_cycle\":$token_us" \
        "\"plain_us_per_cycle\":$plain_us" "\"ratio\":$ratio"
}

# ---------------------------------------------------------------------------
# private: many private topics, and pattern streams that match nothing
# ---------------------------------------------------------------------------
PRIVATE_HEADER="| round | variant | private streams | pattern streams | failed streams | bytes/private stream | bytes/pattern stream | events | rate/s asked | publishes/s got | deliveries | latency p50 ms | p99 ms | server CPU s | server waited for CPU s | server CPU us/publish | missing | dup | ooo | pattern events | client CPU s |"

# private_once ROUND PATTERNS: a fresh server with a key; PRIVATE_N streams,
# stream n on user.<n>.events with a token granting just that; then PATTERNS
# streams on nobody.<k>.* (each with its token); then PRIVATE_EVENTS
# publishes at PRIVATE_RATE to random users. Prints a row; sets PRIVATE_CPU
# and PRIVATE_PUBLISHED.
private_once() {
    local round=$1 patterns=$2 key variant=without
    [ "$patterns" = 0 ] || variant=with
    key=$(make_key)
    # Heartbeats off for the run (10 minutes): the quiet pattern streams
    # would otherwise add heartbeat writes to the publishing window, a cost
    # per stream and second, not per publish.
    SERVER_EXTRA_FLAGS="--jwt-key-file $key --heartbeat-ms 600000"
    server_start "$SSE_SERVER"
    SERVER_EXTRA_FLAGS=""
    local pub_time=$(( (PRIVATE_EVENTS + PRIVATE_RATE - 1) / PRIVATE_RATE ))
    local bound=$((SETUP_BOUND * 2 + pub_time * 3 + DRAIN_BOUND))
    local pids rss0 rss1 rss2 sub pattern_sub=""
    pids=$(server_pids)
    sleep 0.5
    rss0=$(rss_kb $pids)
    rm -f "$WORK/private.ready" "$WORK/patterns.ready" "$WORK/patterns.json"
    start_sub "$WORK/private.json" --url "$SERVER_URL$SUB_PATH" --streams "$PRIVATE_N" \
        --topic-template 'user.{n}.events' --topic-count "$PRIVATE_N" --key-file "$key" \
        --duration "$bound" --ready-file "$WORK/private.ready"
    sub=$SUB_PID
    wait_files "$SETUP_BOUND" "$sub" "$WORK/private.ready" || echo "run.sh: private: streams not all open after ${SETUP_BOUND}s" >&2
    sleep 1  # let the last connections' allocations land
    rss1=$(rss_kb $pids)
    rss2=$rss1
    if [ "$patterns" -gt 0 ]; then
        start_sub "$WORK/patterns.json" --url "$SERVER_URL$SUB_PATH" --streams "$patterns" \
            --topic-template 'nobody.{n}.*' --topic-count "$patterns" --key-file "$key" \
            --duration "$bound" --ready-file "$WORK/patterns.ready"
        pattern_sub=$SUB_PID
        wait_files "$SETUP_BOUND" "$pattern_sub" "$WORK/patterns.ready" || echo "run.sh: private: pattern streams not all open after ${SETUP_BOUND}s" >&2
        sleep 1
        rss2=$(rss_kb $pids)
    fi
    local cpu0 cpu1 wait0 wait1
    cpu0=$(cpu_seconds $pids)
    wait0=$(wait_seconds $pids)
    $LOAD pub --quiet --url "$SERVER_URL$PUB_PATH" --topic-template 'user.{n}.events' --topic-count "$PRIVATE_N" \
        --random-topics --connections 8 --events "$PRIVATE_EVENTS" --rate "$PRIVATE_RATE" \
        --duration $((pub_time * 3 + DRAIN_BOUND)) >"$WORK/pub.json" 2>"$WORK/pub.err" || true
    # Each topic has one reader, so no stream can tell that it missed the
    # last event of its topic: the published count is the check.
    sleep 1
    cpu1=$(cpu_seconds $pids)
    wait1=$(wait_seconds $pids)
    wait_bounded "$sub" 0
    [ -z "$pattern_sub" ] || wait_bounded "$pattern_sub" 0
    server_stop
    local s p ps
    s=$(cat "$WORK/private.json"); p=$(cat "$WORK/pub.json"); ps=$(cat "$WORK/patterns.json" 2>/dev/null || true)
    [ -n "$s" ] || s='{}'
    [ -n "$p" ] || p='{}'
    [ -n "$ps" ] || ps='{}'
    local got published open failed per_stream per_pattern="-" missing pattern_events cpu waited per_publish
    got=$(jnum "$s" events)
    published=$(jnum "$p" published)
    open=$(jnum "$s" streams_open)
    failed=$(( $(jnum "$s" streams_failed) + $(jnum "$ps" streams_failed) ))
    per_stream=$(calc '%.0f' "$open > 0 ? ($rss1 - $rss0) * 1024 / $open : 0")
    [ "$patterns" = 0 ] || per_pattern=$(calc '%.0f' "($rss2 - $rss1) * 1024 / $patterns")
    missing=$(( $(jnum "$s" missing) + (published > got ? published - got : 0) ))
    pattern_events=$(jnum "$ps" events)
    cpu=$(calc '%.2f' "$cpu1 - $cpu0")
    waited=$(calc '%.2f' "$wait1 - $wait0")
    per_publish=$(calc '%.2f' "$published > 0 ? $cpu * 1e6 / $published : 0")
    PRIVATE_CPU=$cpu
    PRIVATE_PUBLISHED=$published
    PRIVATE_BYTES=$per_stream
    echo "| $round | $variant | $open | $patterns | $failed | $per_stream | $per_pattern | $PRIVATE_EVENTS | $PRIVATE_RATE |" \
        "$(jget "$p" publishes_per_s) | $got | $(calc '%.2f' "0$(jget "$s" latency_us.p50) / 1000") |" \
        "$(calc '%.2f' "0$(jget "$s" latency_us.p99) / 1000") | $cpu | $waited | $per_publish | $missing |" \
        "$(jget "$s" duplicated) | $(jget "$s" out_of_order) | $pattern_events | $(jget "$s" client_cpu_s) |"
    record '"scenario":"private"' "\"variant\":\"$variant\"" "\"round\":$round" "\"streams\":$PRIVATE_N" \
        "\"pattern_streams\":$patterns" "\"failed_streams\":$failed" "\"rss_before_kb\":$rss0" \
        "\"rss_private_kb\":$rss1" "\"rss_patterns_kb\":$rss2" "\"bytes_per_stream\":$per_stream" \
        "\"bytes_per_pattern_stream\":\"$per_pattern\"" "\"published\":$published" "\"server_cpu_s\":$cpu" \
        "\"server_wait_s\":$waited" "\"cpu_us_per_publish\":$per_publish" "\"missing\":$missing" \
        "\"pattern_events\":$pattern_events" "\"sub\":$s" "\"pattern_sub\":$ps" "\"pub\":$p"
}

scenario_private() {
    sse_server_only private || return 0
    header "private: $PRIVATE_N streams on private topics user.<n>.events, $PRIVATE_EVENTS publishes at $PRIVATE_RATE/s to random users; with: $PRIVATE_PATTERNS more streams on nobody.<k>.*" \
        "$PRIVATE_HEADER"
    local round variant
    local -A cpu=([without]=0 [with]=0) published=([without]=0 [with]=0)
    local max_bytes=0
    for round in $(seq "$PRIVATE_ROUNDS"); do
        local order="without with"
        [ $((round % 2)) = 1 ] || order="with without"  # as in churn-token
        for variant in $order; do
            if [ "$variant" = with ]; then private_once "$round" "$PRIVATE_PATTERNS"; else private_once "$round" 0; fi
            cpu[$variant]=$(calc '%.2f' "${cpu[$variant]} + $PRIVATE_CPU")
            published[$variant]=$((${published[$variant]} + PRIVATE_PUBLISHED))
            max_bytes=$((PRIVATE_BYTES > max_bytes ? PRIVATE_BYTES : max_bytes))
        done
    done
    local with_us without_us ratio
    with_us=$(calc '%.2f' "${published[with]} > 0 ? ${cpu[with]} * 1e6 / ${published[with]} : 0")
    without_us=$(calc '%.2f' "${published[without]} > 0 ? ${cpu[without]} * 1e6 / ${published[without]} : 0")
    ratio=$(calc '%.3f' "$without_us > 0 ? $with_us / $without_us : 0")
    echo
    echo "Server CPU per publish over all rounds: with the pattern streams $with_us us, without $without_us us," \
        "ratio $ratio (criterion: the same within noise; compare with the spread between rounds)."
    echo "Bytes per idle private stream, largest of the rounds: $max_bytes" \
        "(criterion: under 1,024; $(verdict "$max_bytes" 1023))."
    record '"scenario":"private-summary"' "\"with_us_per_publish\":$with_us" \
        "\"without_us_per_publish\":$without_us" "\"ratio\":$ratio" "\"max_bytes_per_stream\":$max_bytes"
}

# ---------------------------------------------------------------------------
# http: wrk scripts
# ---------------------------------------------------------------------------
# wrk_run SCRIPT PATH: one wrk run of HTTP_S seconds, 32 connections.
wrk_run() {
    local script=$1 path=$2
    if [ -z "$path" ]; then
        echo "| $script | n/a for $SSE_SERVER | | | | | |"
        return
    fi
    server_start "$SSE_SERVER"
    local pids cpu0 cpu1 out
    pids=$(server_pids)
    cpu0=$(cpu_seconds $pids)
    out=$(WRK_PATH=$path timeout $((HTTP_S + 10)) wrk -t1 -c32 -d"${HTTP_S}s" --latency \
        -s "bench/$script.lua" "$SERVER_URL" 2>&1 || true)
    cpu1=$(cpu_seconds $pids)
    server_stop
    local rps requests p50 p99 errors cpu
    rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {printf "%s ", $0}')
    cpu=$(calc '%.2f' "$cpu1 - $cpu0")
    echo "| $script | ${rps:-?} | ${p50:-?} | ${p99:-?} | $cpu |" \
        "$(calc '%.1f' "0${requests:-0} > 0 ? $cpu * 1e6 / ${requests:-1} : 0") | ${errors:-none} |"
    record "\"scenario\":\"http-$script\"" "\"requests_per_s\":${rps:-0}" "\"requests\":${requests:-0}" \
        "\"latency_p50\":\"${p50:-}\"" "\"latency_p99\":\"${p99:-}\"" "\"server_cpu_s\":$cpu" "\"errors\":\"${errors:-}\""
}

# wrk_header TITLE: checks wrk is there (else says why and fails) and prints
# the table head.
wrk_header() {
    if ! command -v wrk >/dev/null; then
        echo; echo "### $1: skipped (wrk is not installed; apt-get install wrk)"
        return 1
    fi
    header "$1: wrk, 1 thread, 32 connections, $HTTP_S s" \
        "| script | requests/s | latency p50 | p99 | server CPU s | server CPU us/request | errors |"
    # The paths depend on the server kind and are set when one starts: start
    # one once so that they are known when the scenario runs on its own.
    if [ -z "${PUB_PATH:-}" ]; then server_start "$SSE_SERVER" && server_stop; fi
}

scenario_publish() {
    wrk_header publish || return 0
    wrk_run publish "$PUB_PATH"
    wrk_run publish-pipelined "$PUB_PATH"
}

scenario_http() {
    wrk_header http || return 0
    wrk_run static "$STATIC_PATH"
}

# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
for scenario in "${SCENARIOS[@]}"; do
    case " ${ALL[*]} " in
        *" $scenario "*) ;;
        *) echo "run.sh: unknown scenario '$scenario' (${ALL[*]})" >&2; exit 2 ;;
    esac
done
# Build only what this run uses: compare.sh runs this script once per server,
# and rebuilding sse-server during another server's pass (after an edit in
# src/) would both disturb that pass and change the binary between passes.
make -s bench/sse-load >&2
[ "$SSE_SERVER" != sse-server ] || make -s sse-server >&2
[ "$SSE_SERVER" != nchan ] || command -v nginx >/dev/null || { echo "run.sh: nginx is not installed" >&2; exit 1; }
echo "## bench/run.sh on $SSE_SERVER, $(date -u +%Y-%m-%dT%H:%M:%SZ), results in $RESULTS"
for scenario in "${SCENARIOS[@]}"; do
    case "$scenario" in
        idle-max) scenario_idle_max ;;
        churn-token) scenario_churn_token ;;
        *) "scenario_$scenario" ;;
    esac
done
