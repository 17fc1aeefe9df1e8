#!/usr/bin/env bash
# The fan-out scenario across two sse-server instances sharing a Redis
# Stream: half the streams on each instance, events published to instance A
# (which appends them to Redis; both instances read them back with XREAD).
#
#   bench/redis-fanout.sh [STREAMS] [EVENTS] [RATE]     (default 10000 200 20)
#
# Starts its own redis-server (no persistence) and two instances on loopback,
# prints one Markdown row and the two sse-load summaries, stops all by PID.
set -u
cd "$(dirname "$0")/.." || exit 1
streams=${1:-10000}
events=${2:-200}
rate=${3:-20}
command -v redis-server >/dev/null || { echo "needs redis-server (apt-get install redis-server)"; exit 1; }
make -s sse-server bench/sse-load

work=$(mktemp -d /tmp/sse-redis-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

start_instance() {  # start_instance NAME: sets PORT_<NAME> and PID_<NAME>
    ./sse-server --port 0 --bind 127.0.0.1 --no-demo --quiet --max-buffer 16M --history 10000 \
        --redis "127.0.0.1:$redis_port" --redis-key bench:events >"$work/$1.out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do grep -q listening "$work/$1.out" && break; sleep 0.05; done
    eval "PORT_$1=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/$1.out" | head -1)"
    eval "PID_$1=$pid"
}
start_instance A
start_instance B

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
half=$((streams / 2))
for name in A B; do
    port_var=PORT_$name
    bench/sse-load sub --quiet --url "http://127.0.0.1:${!port_var}/latest/{topic}" --topics fan \
        --streams "$half" --expect "$events" --duration 120 --sources 8 \
        --ready-file "$work/ready-$name" >"$work/sub-$name.json" &
    pids+=($!)
    sub_pids+=($!)
done
for _ in $(seq 600); do [ -f "$work/ready-A" ] && [ -f "$work/ready-B" ] && break; sleep 0.1; done
cpu_a0=$(cpu "$PID_A"); cpu_b0=$(cpu "$PID_B")
bench/sse-load pub --quiet --url "http://127.0.0.1:$PORT_A/publish?topic={topic}" --topics fan \
    --events "$events" --rate "$rate" >"$work/pub.json"
wait "${sub_pids[@]}"
cpu_a1=$(cpu "$PID_A"); cpu_b1=$(cpu "$PID_B")
ticks=$(getconf CLK_TCK)
deliveries=$(cat "$work"/sub-*.json | sed -n 's/.*"events":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s}')
missing=$(cat "$work"/sub-*.json | sed -n 's/.*"missing":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s}')
cpu_ns=$(( ( (cpu_a1 - cpu_a0) + (cpu_b1 - cpu_b0) ) * 1000000000 / ticks / (deliveries > 0 ? deliveries : 1) ))
echo "| streams | instances | events | rate/s | deliveries | missing | servers' CPU ns per delivery | p99 ms A | p99 ms B |"
echo "|---|---|---|---|---|---|---|---|---|"
p99() { sed -n 's/.*"p99":\([0-9.]*\),"max".*/\1/p' "$1" | tail -1; }
echo "| $streams | 2 (+ Redis) | $events | $rate | $deliveries | $missing | $cpu_ns | $(awk "BEGIN {print $(p99 "$work/sub-A.json")/1000}") | $(awk "BEGIN {print $(p99 "$work/sub-B.json")/1000}") |"
echo; echo "publisher: $(cat "$work/pub.json")"
echo "instance A: $(cat "$work/sub-A.json")"
echo "instance B: $(cat "$work/sub-B.json")"
