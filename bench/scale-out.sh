#!/usr/bin/env bash
# bench/scale-out.sh: N concurrent streams through the scale-out path, on one
# machine, over loopback only. Also run as `bench/run.sh scale-out ...`.
#
#   bench/scale-out.sh [--streams N] [--instances K] [--clients C] [--events E]
#                      [--no-storm] [--retry-ms MS] [--results FILE] [--label TEXT]
#                      [--server sse-server|nchan]
#
# What it starts, each stopped by pid when it ends (also on Ctrl-C):
#   - one redis-server on a free 127.0.0.1 port, in its own temporary
#     folder, with no persistence;
#   - K sse-server instances on one port with --reuse-port --redis (default:
#     enough for about 18,000 streams each, under the descriptor limit less
#     room for the uneven spread of SO_REUSEPORT and for the streams of a
#     restarted instance);
#   - as many `sse-load sub --reconnect` processes as the descriptor limit
#     needs (about 19,000 streams each), process i binding its connections
#     to 64 source addresses of its own, 127.1.i.1 to 127.1.i.64, so that no
#     (source, destination) pair needs more than a few hundred of the
#     kernel's ephemeral ports.
#
# Then, with a live progress line while connecting (streams open in total
# and per instance, connect rate, user memory per stream of the servers and
# of the clients, kernel slab per connection):
#   1. E single events (default 5), one at a time, each published through
#      one instance (whichever SO_REUSEPORT picks for the publisher): time
#      until every stream has it (p50/p99/max from the schedule, merged over
#      all clients), server CPU per delivery, missing and duplicated events;
#   2. the reconnect storm (unless --no-storm): SIGTERM one instance (every
#      stream gets a jittered retry: and is closed), start a new one on the
#      same port, publish one event while its streams are away, and time
#      until every one is back, resumed with Last-Event-ID; the event must
#      reach every stream exactly once.
#
# --server nchan runs the same clients and events against nginx with the
# nchan module instead: K workers (worker_processes, each with its own
# descriptor limit, on SO_REUSEPORT listeners), nchan's own shared memory
# in place of Redis, and no storm (nginx has no one-worker restart that
# sends a retry: and closes).
#
# System settings: checked first, and raised only when this N needs it (as
# root), each restored on exit: fs.file-max (two descriptors per loopback
# connection), fs.epoll.max_user_watches (two epoll entries per connection),
# net.ipv4.tcp_mem (the fan-out of one event queues a buffer on every
# socket at once), net.netfilter.nf_conntrack_max (only if conntrack is
# tracking connections). Not changed: the ephemeral port range (the 64
# sources per client keep each pair far below it), net.core.somaxconn and
# tcp_max_syn_backlog (each instance has its own 4096 backlog; the kernel's
# ListenOverflows/ListenDrops counters are reported so a shortfall shows).
#
# Ends with a Markdown table on stdout and one JSON line appended to FILE
# (default bench/results/scale-out.jsonl). Exit status 0 when every stream
# opened and no event was missing or duplicated, 1 otherwise, 2 on a bad
# option or a missing prerequisite.
# shellcheck disable=SC2046  # $(server_all): a list of pids, meant to split
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=100000
INSTANCES=0            # 0: computed from STREAMS
CLIENTS=0              # 0: computed from STREAMS
EVENTS=5
STORM=1
RETRY_MS=3000
RESULTS=bench/results/scale-out.jsonl
LABEL=""
SERVER_KIND=sse-server
while [ $# -gt 0 ]; do
    case "$1" in
        --streams) STREAMS=$2; shift ;;
        --instances) INSTANCES=$2; shift ;;
        --clients) CLIENTS=$2; shift ;;
        --events) EVENTS=$2; shift ;;
        --no-storm) STORM=0 ;;
        --retry-ms) RETRY_MS=$2; shift ;;
        --results) RESULTS=$2; shift ;;
        --label) LABEL=$2; shift ;;
        --server) SERVER_KIND=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "scale-out: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for value in "$STREAMS" "$INSTANCES" "$CLIENTS" "$EVENTS" "$RETRY_MS"; do
    [[ $value =~ ^[0-9]+$ ]] || { echo "scale-out: not a number: $value" >&2; exit 2; }
done
[ "$STREAMS" -ge 2 ] || { echo "scale-out: --streams must be at least 2" >&2; exit 2; }
[ "$EVENTS" -ge 1 ] || { echo "scale-out: --events must be at least 1" >&2; exit 2; }

say() { echo "scale-out: $*" >&2; }
die() { say "$*"; exit 2; }

# ---------------------------------------------------------------------------
# Sizes from the descriptor limit (each process may open FD_LIMIT files)
# ---------------------------------------------------------------------------
FD_LIMIT=$(ulimit -Hn)
[ "$FD_LIMIT" = unlimited ] && FD_LIMIT=1048576
ulimit -n "$FD_LIMIT" 2>/dev/null || true
[ "$FD_LIMIT" -ge 1024 ] || die "the descriptor limit is $FD_LIMIT; at least 1024 is needed"
# An instance accepts up to its limit less 64 (--max-conns' default); aim at
# 90% of that, so that neither the uneven spread of SO_REUSEPORT nor the
# streams of a restarted instance, which land on the others, push one over.
PER_INSTANCE=$(( (FD_LIMIT - 64) * 9 / 10 ))
PER_CLIENT=$(( FD_LIMIT - 1000 < FD_LIMIT * 95 / 100 ? FD_LIMIT - 1000 : FD_LIMIT * 95 / 100 ))
if [ "$INSTANCES" = 0 ]; then
    INSTANCES=$(( (STREAMS + PER_INSTANCE - 1) / PER_INSTANCE ))
    [ "$INSTANCES" -ge 2 ] || INSTANCES=2
fi
[ "$INSTANCES" -ge 2 ] || die "--instances must be at least 2 (the storm restarts one)"
min_clients=$(( (STREAMS + PER_CLIENT - 1) / PER_CLIENT ))
[ "$CLIENTS" -ge "$min_clients" ] || CLIENTS=$min_clients
[ "$CLIENTS" -le 250 ] || die "$CLIENTS clients: more than the 250 source ranges 127.1.0-249.x"
SOURCES_PER_CLIENT=64

# ---------------------------------------------------------------------------
# Prerequisites, all checked before anything starts
# ---------------------------------------------------------------------------
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
case "$SERVER_KIND" in
    sse-server)
        REDIS_BIN=${REDIS_SERVER:-$(command -v redis-server || true)}
        [ -n "$REDIS_BIN" ] || die "redis-server is not installed (Debian: apt-get install redis-server)" ;;
    nchan)
        command -v nginx >/dev/null && [ -f "$NCHAN_MODULE" ] ||
            die "--server nchan needs nginx and nchan (Debian: apt-get install nginx libnginx-mod-nchan)"
        [ "$STORM" = 0 ] || say "no storm against nchan (see --help)"
        STORM=0 ;;
    *) die "--server is sse-server or nchan" ;;
esac
make -s sse-server bench/sse-load >&2 || die "the build failed"
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
mem_available_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
# Per stream, measured at 100,000 to 1,000,000: 7.9 KB of kernel slab (both
# ends), 0.7 KB of sse-server, 0.4 KB of sse-load, and up to 2.4 KB of TCP
# buffers while one event fans out to every socket: 13 KB with a margin.
# nginx+nchan holds 10.8 KB per stream instead of 0.7: 22 KB. Refuse to
# start past 80% of what is available rather than push the machine into
# reclaim.
need_kb=$(( STREAMS * ($([ "$SERVER_KIND" = nchan ] && echo 22 || echo 13)) ))
[ "$need_kb" -le $(( mem_available_kb * 8 / 10 )) ] ||
    die "$STREAMS streams need about $((need_kb / 1024)) MiB, more than 80% of the $((mem_available_kb / 1024)) MiB available"

# sysctl_need NAME MIN-VALUE [WHY]: fine when the setting is at least MIN
# (for a vector like tcp_mem, every field); else raised as root and put back
# on exit, or, not root, a prerequisite that fails.
SYSCTL_CHANGED=()
SYSCTL_FAILED=0
sysctl_need() {
    local name=$1 want=$2 why=$3 path now
    path=/proc/sys/${name//.//}
    [ -r "$path" ] || return 0
    now=$(tr -s ' \t' ' ' <"$path")
    if awk -v a="$now" -v b="$want" 'BEGIN {
            n = split(a, x, " "); split(b, y, " ");
            for (i = 1; i <= n; i++) if (x[i] + 0 < y[i] + 0) exit 1; exit 0 }'; then
        return 0
    fi
    if [ "$IS_ROOT" = 0 ]; then
        say "$name is '$now', $STREAMS streams need at least '$want' ($why); run as root or raise it"
        SYSCTL_FAILED=1
        return 0
    fi
    echo "$want" >"$path" || { say "could not set $name"; SYSCTL_FAILED=1; return 0; }
    SYSCTL_CHANGED+=("$name=$now")
    say "raised $name from '$now' to '$want' ($why); put back on exit"
}
sysctl_restore() {
    local entry name
    for entry in "${SYSCTL_CHANGED[@]}"; do
        name=${entry%%=*}
        echo "${entry#*=}" >"/proc/sys/${name//.//}" 2>/dev/null && say "restored $name to '${entry#*=}'"
    done
    SYSCTL_CHANGED=()
}

# ---------------------------------------------------------------------------
# Processes: every one started is stopped by pid on exit
# ---------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/sse-scale-out.XXXXXX)
STARTED=()
stop_pids() {  # SIGTERM all, up to 10 s to exit, then SIGKILL
    local pid i alive
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for i in $(seq 100); do
        alive=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
cleanup() {
    trap - EXIT INT TERM
    [ ${#STARTED[@]} -eq 0 ] || stop_pids "${STARTED[@]}"
    sysctl_restore
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT TERM

# Sets now: the descriptors and epoll entries of both ends of every stream,
# plus room for everything else the machine has open.
sysctl_need fs.file-max $(( $(cut -f1 /proc/sys/fs/file-nr) + STREAMS * 2 + 100000 )) "two descriptors per loopback connection"
sysctl_need fs.epoll.max_user_watches $(( STREAMS * 2 + 100000 )) "both ends of each connection are in an epoll set"
# One event to every stream queues a small buffer on each socket at once; a
# page per stream is the ceiling asked for "low", twice that for "high".
sysctl_need net.ipv4.tcp_mem "$STREAMS $(( STREAMS * 3 / 2 )) $(( STREAMS * 2 ))" "an event fans out to every socket at once (pages)"
if [ "$(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0)" -gt 0 ]; then
    sysctl_need net.netfilter.nf_conntrack_max $(( STREAMS * 2 + 100000 )) "conntrack is tracking connections"
fi
[ "$SYSCTL_FAILED" = 0 ] || exit 2

# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
MASTER_PID=""
REDIS_PID=""
cpu_s() {  # user+system seconds of the given pids
    local pid total=0 t
    for pid in "$@"; do
        t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
        total=$((total + ${t:-0}))
    done
    awk -v t="$total" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", t / hz}'
}
mem_kb() {  # mem_kb FIELD PID...: sum of Rss or Pss from smaps_rollup
    local field=$1; shift
    local pid
    for pid in "$@"; do cat "/proc/$pid/smaps_rollup" 2>/dev/null; done | awk -v f="$field:" '$1 == f {s += $2} END {printf "%.0f", s}'
}
SOCKET_SLABS='^(TCP|sock_inode_cache|filp|dentry|eventpoll_epi|eventpoll_pwq|tcp_bind_bucket|tcp_bind2_bucket|inet_peer_cache) '
slab_bytes() {
    if [ -r /proc/slabinfo ]; then
        grep -E "$SOCKET_SLABS" /proc/slabinfo | awk '{s += $2 * $4} END {printf "%.0f", s}'
    else
        echo 0
    fi
}
# Numbers past 2^31 (bytes of slab at a million streams) are printed with
# %.0f: mawk's %d stops at 2^31 - 1.
# TCP memory in pages (/proc/net/sockstat); TCP_MEM_PEAK keeps the highest
# seen by tcp_mem_sample, which the waiting loops call.
TCP_MEM_PEAK=0
tcp_mem_pages() { awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat; }
tcp_mem_sample() {
    local pages
    pages=$(tcp_mem_pages)
    [ "${pages:-0}" -le "$TCP_MEM_PEAK" ] || TCP_MEM_PEAK=$pages
}
# Descriptors of a process, less the ~10 it has before its first stream.
fd_count() { ls -f "/proc/$1/fd" 2>/dev/null | wc -l; }
# Summed fields of the clients' status files (sse-load --status-file).
status_sum() {  # status_sum FIELD...: prints the sums in order
    cat "$WORK"/sub-*.status 2>/dev/null | head -c 100000000 | awk -v fields="$*" '
        /^open / { for (i = 1; i < NF; i += 2) v[$i] += $(i + 1) }
        END { n = split(fields, f, " "); for (i = 1; i <= n; i++) printf "%s%.0f", (i > 1 ? " " : ""), v[f[i]]; print "" }'
}
status_field() {  # status_field FIELD min|max: over the clients
    awk -v f="$1" -v how="$2" '/^open / { for (i = 1; i < NF; i += 2) if ($i == f && $(i + 1) > 0) {
            x = $(i + 1); if (!seen || (how == "min" ? x < r : x > r)) r = x; seen = 1 } }
        END { printf "%.0f", r }' "$WORK"/sub-*.status 2>/dev/null
}
# p50, p99 and max (ms) of the clients' merged latency histograms. The
# bucket bounds are nanoseconds past 2^31: kept as text and sorted by
# sort(1), since awk may print such numbers in %.6g when used as keys.
merged_latency() {
    awk '$1 == "latency" { high[$2] = $3; n[$2] += $4 } END { for (b in n) print b, high[b], n[b] }' \
        "$WORK"/sub-*.status 2>/dev/null | sort -n -k1,1 |
    awk '{ low[NR] = $1; high[NR] = $2; n[NR] = $3; total += $3 }
        END {
            if (total == 0) { print "0 0 0"; exit }
            split("50 99", pcts, " ")
            for (p = 1; p <= 2; p++) {
                rank = int(pcts[p] / 100 * total + 0.999999); seen = 0
                for (i = 1; i <= NR; i++) { seen += n[i]; if (seen >= rank) { out[p] = (low[i] + high[i]) / 2; break } }
            }
            printf "%.1f %.1f %.1f\n", out[1] / 1e6, out[2] / 1e6, high[NR] / 1e6
        }'
}

# ---------------------------------------------------------------------------
# Start: redis, the instances, the clients
# ---------------------------------------------------------------------------
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
    done
    return 1
}
wait_for() {  # wait_for SECONDS PID COMMAND...: until COMMAND succeeds, PID lives, time remains
    local pid=$2 deadline=$((SECONDS + $1)); shift 2
    while [ $SECONDS -lt $deadline ]; do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

if [ "$SERVER_KIND" = sse-server ]; then
    REDIS_PORT=$(free_port) || die "no free port for redis-server"
    mkdir -p "$WORK/redis"
    "$REDIS_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis" --save '' --appendonly no \
        --daemonize no --protected-mode yes --maxclients 10000 >"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    STARTED+=("$REDIS_PID")
    wait_for 10 "$REDIS_PID" bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT" 2>/dev/null ||
        die "redis-server did not start: $(tail -3 "$WORK/redis.log")"

    # Heartbeats off (10 minutes): at a million streams, one every 15 s is
    # 67,000 writes a second, a cost per stream and second that would be
    # counted as delivery CPU. The retry hint is --retry-ms.
    SERVER_FLAGS=(--bind 127.0.0.1 --reuse-port --redis "127.0.0.1:$REDIS_PORT" --no-demo
                  --heartbeat-ms 600000 --retry-ms "$RETRY_MS")
    PORT=0
    SERVER_PIDS=()
    start_instance() {  # start_instance INDEX: sets SERVER_PIDS[INDEX]
        local i=$1 log="$WORK/server-$1.log"
        ./sse-server --port "$PORT" "${SERVER_FLAGS[@]}" >"$log" 2>&1 &
        SERVER_PIDS[$i]=$!
        STARTED+=("$!")
        wait_for 20 "$!" grep -qs 'listening on http://127\.0\.0\.1:[0-9]*' "$log" ||
            die "instance $i did not start: $(tail -3 "$log")"
        if [ "$PORT" = 0 ]; then
            PORT=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/.*://')
        fi
        # Ready when its Redis link is up: /healthz answers 200 (503 while down).
        wait_for 20 "$!" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || die "instance $i does not answer"
    }
fi

# nginx + nchan: K workers, each on its own SO_REUSEPORT listener, sized
# like the sse-server instances; nchan's shared memory holds the channel.
write_nchan_conf() {
    cat <<EOF
load_module $NCHAN_MODULE;
worker_processes $INSTANCES;
worker_rlimit_nofile $FD_LIMIT;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections $((FD_LIMIT - 100)); use epoll; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    nchan_shared_memory_size 512M;
    server {
        listen 127.0.0.1:$PORT backlog=4096 reuseport;
        location ~ ^/latest/(?<topic>[A-Za-z0-9_.-]+)\$ {
            nchan_subscriber eventsource;
            nchan_channel_id \$topic;
            nchan_subscriber_first_message newest;
        }
        location = /publish {
            nchan_publisher;
            nchan_channel_id \$arg_topic;
            nchan_message_buffer_length 100;
            nchan_message_timeout 600s;
        }
    }
}
EOF
}
start_nchan() {
    PORT=$(free_port) || die "no free port for nginx"
    mkdir -p "$WORK/nginx"
    write_nchan_conf >"$WORK/nginx/nginx.conf"
    nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' >"$WORK/nginx/log" 2>&1 &
    MASTER_PID=$!
    STARTED+=("$MASTER_PID")
    workers_up() { [ "$(pgrep -P "$MASTER_PID" | wc -l)" -ge "$INSTANCES" ]; }
    wait_for 20 "$MASTER_PID" workers_up ||
        die "nginx did not start: $(cat "$WORK/nginx/log" "$WORK/nginx/error.log" 2>/dev/null | tail -3)"
    mapfile -t SERVER_PIDS < <(pgrep -P "$MASTER_PID" | head -n "$INSTANCES")
    wait_for 20 "$MASTER_PID" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || die "nginx does not answer"
}

if [ "$SERVER_KIND" = sse-server ]; then
    for i in $(seq 0 $((INSTANCES - 1))); do start_instance "$i"; done
    sleep 1  # every instance's Redis link up (their /healthz cannot be asked one by one)
    READY_PID=$REDIS_PID
else
    start_nchan
    READY_PID=$MASTER_PID
fi
URL="http://127.0.0.1:$PORT"
wait_ok() { bench/sse-load pub --quiet --url "$URL/publish?topic=warmup" --events 1 --duration 5 | grep -q '"published":1'; }
wait_for 20 "$READY_PID" wait_ok || die "publishing through $URL does not work"
# What counts as the server's CPU and memory: the instances, or nginx's
# workers and master.
server_all() { echo "${SERVER_PIDS[@]}" $MASTER_PID; }

baseline_fds=()
for i in "${!SERVER_PIDS[@]}"; do baseline_fds[$i]=$(fd_count "${SERVER_PIDS[$i]}"); done
server_rss0=$(mem_kb Rss $(server_all))
slab0=$(slab_bytes)
nstat_get() { nstat -az "$1" 2>/dev/null | awk -v k="$1" '$1 == k {print $2}'; }
overflows0=$(nstat_get TcpExtListenOverflows); drops0=$(nstat_get TcpExtListenDrops)

# Every phase is bounded: the clients' own --duration is the sum of them.
RAMP_BOUND=$(( 60 + STREAMS / 2000 ))
EVENT_BOUND=$(( 30 + STREAMS / 10000 ))
STORM_BOUND=$(( 60 + RETRY_MS / 1000 * 3 + STREAMS / 20000 ))
CLIENT_BOUND=$(( RAMP_BOUND + (EVENTS + 1) * EVENT_BOUND + STORM_BOUND + 60 ))

say "$STREAMS streams: $INSTANCES $SERVER_KIND processes on 127.0.0.1:$PORT, $CLIENTS clients;" \
    "descriptor limit $FD_LIMIT per process"
CLIENT_PIDS=()
remaining=$STREAMS
for c in $(seq 0 $((CLIENTS - 1))); do
    n=$(( remaining / (CLIENTS - c) ))
    remaining=$((remaining - n))
    bench/sse-load sub --quiet --url "$URL/latest/{topic}" --topics scale --streams "$n" \
        --source "127.1.$c.1" --sources "$SOURCES_PER_CLIENT" --connect-concurrency 200 --reconnect \
        --status-file "$WORK/sub-$c.status" --duration "$CLIENT_BOUND" >"$WORK/sub-$c.json" 2>"$WORK/sub-$c.err" &
    CLIENT_PIDS+=("$!")
    STARTED+=("$!")
done

# ---------------------------------------------------------------------------
# Ramp: the live progress line
# ---------------------------------------------------------------------------
per_instance() {  # "min/median/max" streams per instance (by descriptors)
    local i
    for i in "${!SERVER_PIDS[@]}"; do
        echo $(( $(fd_count "${SERVER_PIDS[$i]}") - ${baseline_fds[$i]} ))
    done | sort -n | awk '{v[NR] = $1} END {printf "%d/%d/%d", v[1], v[int((NR + 1) / 2)], v[NR]}'
}
progress() {  # one line: open, rate, per instance, memory per stream, slab
    local open=$1 rate=$2 spread=$3 srv cli slab
    srv=$(mem_kb Rss $(server_all)); cli=$(mem_kb Rss "${CLIENT_PIDS[@]}"); slab=$(slab_bytes)
    awk -v o="$open" -v n="$STREAMS" -v r="$rate" -v sp="$spread" -v s0="$server_rss0" -v s="$srv" -v c="$cli" \
        -v k0="$slab0" -v k="$slab" -v free="$(free -g | awk '/^Mem:/ {print $7}')" 'BEGIN {
        d = (o > 0 ? o : 1)
        printf "open %d/%d  %d/s  per instance min/med/max %s  server %.0f B/stream  clients %.0f B/stream  kernel %.0f B/conn  available %d GiB",
            o, n, r, sp, (s - s0) * 1024 / d, c * 1024 / d, (k - k0) / d, free }'
}
TTY=0
[ -t 2 ] && TTY=1
ramp_start=$(date +%s.%N)
deadline=$((SECONDS + RAMP_BOUND))
last_open=0; last_t=$ramp_start; spread="-"; tick=0
while :; do
    sleep 2
    read -r open failed < <(status_sum open failed)
    t=$(date +%s.%N)
    rate=$(awk -v a="$open" -v b="$last_open" -v t="$t" -v u="$last_t" 'BEGIN {printf "%d", (a - b) / (t - u)}')
    last_open=$open; last_t=$t
    # Counting descriptors walks /proc/PID/fd of every instance: every
    # fifth tick, so that the count does not slow what it counts.
    [ $((tick % 5)) != 0 ] || spread=$(per_instance)
    tick=$((tick + 1))
    line=$(progress "$open" "$rate" "$spread")
    if [ "$TTY" = 1 ]; then printf '\r%s ' "$line" >&2; else echo "$line" >&2; fi
    [ $((open + failed)) -lt "$STREAMS" ] || break
    [ $SECONDS -lt "$deadline" ] || { echo >&2; say "not every stream open after ${RAMP_BOUND}s"; break; }
    for pid in "${CLIENT_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "client $pid ended early: $(cat "$WORK"/sub-*.err | tail -3)"; done
done
[ "$TTY" = 0 ] || echo >&2
ramp_s=$(awk -v a="$ramp_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
sleep 2  # the last connections' allocations land
read -r open failed < <(status_sum open failed)
spread=$(per_instance)
per_instance_list=$(for i in "${!SERVER_PIDS[@]}"; do echo $(( $(fd_count "${SERVER_PIDS[$i]}") - ${baseline_fds[$i]} )); done | paste -sd' ')
server_rss=$(mem_kb Rss $(server_all)); server_pss=$(mem_kb Pss $(server_all))
client_rss=$(mem_kb Rss "${CLIENT_PIDS[@]}"); client_pss=$(mem_kb Pss "${CLIENT_PIDS[@]}")
slab1=$(slab_bytes)
sockstat_mem=$(tcp_mem_pages)
per() { awk -v a="$1" -v n="${open:-0}" 'BEGIN {printf "%.0f", (n > 0 ? a / n : 0)}'; }
server_bytes=$(per "$(( (server_rss - server_rss0) * 1024 ))")
server_total_bytes=$(per "$(( server_rss * 1024 ))")
server_pss_bytes=$(per "$(( server_pss * 1024 ))")
client_bytes=$(per "$(( client_rss * 1024 ))")
client_pss_bytes=$(per "$(( client_pss * 1024 ))")
kernel_bytes=$(per "$(( slab1 - slab0 ))")
connect_rate=$(awk -v n="$open" -v s="$ramp_s" 'BEGIN {printf "%d", (s > 0 ? n / s : 0)}')
say "open $open of $STREAMS ($failed failed) in ${ramp_s}s, $connect_rate/s; per instance min/med/max $spread"

# ---------------------------------------------------------------------------
# Delivery: single events, one at a time
# ---------------------------------------------------------------------------
published=0
publish_one() {  # publishes the next event (seq published+1); 0 if answered
    local out
    out=$(bench/sse-load pub --quiet --url "$URL/publish?topic={topic}" --topics scale --events 1 \
        --first-seq $((published + 1)) --duration 30 2>/dev/null) || true
    published=$((published + 1))
    [[ $out == *'"published":1'* ]]
}
wait_events() {  # wait_events TOTAL BOUND: until the clients have TOTAL events
    local total=$1 deadline=$((SECONDS + $2)) got
    while [ $SECONDS -lt "$deadline" ]; do
        read -r got < <(status_sum events)
        tcp_mem_sample
        [ "$got" -ge "$total" ] && return 0
        sleep 0.2
    done
    return 1
}
expected=0
publish_failed=0
cpu0=$(cpu_s $(server_all)); redis_cpu0=$(cpu_s $REDIS_PID); client_cpu0=$(cpu_s "${CLIENT_PIDS[@]}")
for e in $(seq "$EVENTS"); do
    publish_one || publish_failed=$((publish_failed + 1))
    expected=$((expected + open))
    wait_events "$expected" "$EVENT_BOUND" || say "event $e: not every stream had it after ${EVENT_BOUND}s"
done
cpu1=$(cpu_s $(server_all)); redis_cpu1=$(cpu_s $REDIS_PID); client_cpu1=$(cpu_s "${CLIENT_PIDS[@]}")
sleep 1.2  # one more status write, so each histogram has every event
read -r delivered < <(status_sum events)
read -r lat_p50 lat_p99 lat_max < <(merged_latency)
server_cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f", b - a}')
cpu_per_delivery_us=$(awk -v c="$server_cpu" -v d="$delivered" 'BEGIN {printf "%.2f", (d > 0 ? c * 1e6 / d : 0)}')
redis_cpu=$(awk -v a="$redis_cpu0" -v b="$redis_cpu1" 'BEGIN {printf "%.2f", b - a}')
client_cpu=$(awk -v a="$client_cpu0" -v b="$client_cpu1" 'BEGIN {printf "%.2f", b - a}')
say "$EVENTS events: $delivered of $expected deliveries; p50 $lat_p50 ms, p99 $lat_p99 ms, max $lat_max ms" \
    "from the schedule; server CPU $server_cpu s ($cpu_per_delivery_us us/delivery)"

# ---------------------------------------------------------------------------
# The reconnect storm
# ---------------------------------------------------------------------------
storm_streams=0; storm_s=0; storm_rate=0; storm_back=0; storm_left=0
if [ "$STORM" = 1 ]; then
    victim=0
    storm_streams=$(( $(fd_count "${SERVER_PIDS[$victim]}") - ${baseline_fds[$victim]} ))
    read -r back0 < <(status_sum reconnects)
    say "storm: SIGTERM to instance $victim (pid ${SERVER_PIDS[$victim]}, $storm_streams streams)"
    old=${SERVER_PIDS[$victim]}
    kill -TERM "$old"
    wait_for 15 "$old" false || true
    kill -KILL "$old" 2>/dev/null || true
    wait "$old" 2>/dev/null || true
    start_instance "$victim"
    baseline_fds[$victim]=$(fd_count "${SERVER_PIDS[$victim]}")
    # Published while the victim's streams are away: they must get it on
    # their return, replayed after their Last-Event-ID.
    publish_one || publish_failed=$((publish_failed + 1))
    expected=$((expected + open))
    deadline=$((SECONDS + STORM_BOUND))
    while :; do
        sleep 1
        read -r reconnecting back < <(status_sum reconnecting reconnects)
        line="storm: back $((back - back0)) of $storm_streams, reconnecting $reconnecting"
        if [ "$TTY" = 1 ]; then printf '\r%s ' "$line" >&2; else echo "$line" >&2; fi
        [ "$reconnecting" -gt 0 ] || [ $((back - back0)) -lt "$storm_streams" ] || break
        [ $SECONDS -lt "$deadline" ] || { echo >&2; say "storm: not every stream back after ${STORM_BOUND}s"; break; }
    done
    [ "$TTY" = 0 ] || echo >&2
    wait_events "$expected" "$EVENT_BOUND" || say "storm: not every stream had the event after ${EVENT_BOUND}s"
    read -r reconnecting back < <(status_sum reconnecting reconnects)
    storm_back=$((back - back0)); storm_left=$reconnecting
    first_loss=$(status_field first_loss_ns min); last_back=$(status_field last_back_ns max)
    storm_s=$(awk -v a="$first_loss" -v b="$last_back" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
    storm_rate=$(awk -v n="$storm_back" -v s="$storm_s" 'BEGIN {printf "%d", (s > 0 ? n / s : 0)}')
    say "storm: $storm_back streams back in ${storm_s}s ($storm_rate/s), $storm_left still away"
fi
overflows=$(( $(nstat_get TcpExtListenOverflows) - overflows0 )); drops=$(( $(nstat_get TcpExtListenDrops) - drops0 ))

# ---------------------------------------------------------------------------
# The clients' summaries: loss is counted by each, and overall
# ---------------------------------------------------------------------------
stop_pids "${CLIENT_PIDS[@]}"
read -r delivered_all < <(cat "$WORK"/sub-*.json | awk '{ if (match($0, /"events":[0-9]+/)) s += substr($0, RSTART + 9, RLENGTH - 9) } END {printf "%.0f\n", s}')
jsum() { cat "$WORK"/sub-*.json | grep -o "\"$1\":[0-9]*" | awk -F: '{s += $2} END {printf "%.0f", s}'; }
missing=$(jsum missing); duplicated=$(jsum duplicated); out_of_order=$(jsum out_of_order)
failed=$(jsum streams_failed)
# A client whose streams all lacked an event cannot tell: compare the total.
short=$(( expected > delivered_all ? expected - delivered_all : 0 ))
[ "$short" -le "$missing" ] || missing=$short

verdict=ok
[ "$open" = "$STREAMS" ] && [ "$failed" = 0 ] && [ "$missing" = 0 ] && [ "$duplicated" = 0 ] &&
    [ "$out_of_order" = 0 ] && [ "$publish_failed" = 0 ] && [ "$storm_left" = 0 ] || verdict=FAILED

echo
echo "### scale-out ($SERVER_KIND): $STREAMS streams, $INSTANCES server processes, $CLIENTS clients ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
echo
echo "| figure | value |"
echo "|---|---|"
echo "| streams open / asked (failed) | $open / $STREAMS ($failed) |"
echo "| per instance (min/median/max) | $spread |"
echo "| ramp time, connect rate | ${ramp_s} s, $connect_rate/s |"
echo "| server user memory per stream (RSS growth; total RSS; PSS) | $server_bytes B; $server_total_bytes B; $server_pss_bytes B |"
echo "| client user memory per stream (RSS; PSS) | $client_bytes B; $client_pss_bytes B |"
echo "| kernel slab per connection (both ends) | $kernel_bytes B |"
echo "| TCP memory (/proc/net/sockstat): after the ramp; highest while events fanned out | $sockstat_mem; $TCP_MEM_PEAK pages |"
echo "| events, deliveries | $EVENTS, $delivered of $((EVENTS * open)) |"
echo "| time until every stream has it, from the schedule: p50 / p99 / max | $lat_p50 / $lat_p99 / $lat_max ms |"
echo "| server CPU, per delivery | $server_cpu s, $cpu_per_delivery_us us |"
echo "| redis CPU; client CPU | $redis_cpu s; $client_cpu s |"
echo "| storm: streams of the restarted instance, back, time, rate | $storm_streams, $storm_back, ${storm_s} s, $storm_rate/s |"
echo "| missing / duplicated / out of order (all events, storm included) | $missing / $duplicated / $out_of_order |"
echo "| listen overflows / drops | $overflows / $drops |"
echo "| verdict | $verdict |"
mkdir -p "$(dirname "$RESULTS")"
printf '{"time":"%s","scenario":"scale-out","server":"%s","label":"%s","streams":%d,"instances":%d,"clients":%d,"open":%d,"failed":%d,"ramp_s":%s,"connect_rate":%d,"per_instance":"%s","server_bytes_per_stream":%d,"server_total_bytes_per_stream":%d,"server_pss_bytes_per_stream":%d,"client_bytes_per_stream":%d,"client_pss_bytes_per_stream":%d,"kernel_bytes_per_conn":%d,"tcp_mem_pages":%d,"tcp_mem_peak_pages":%d,"events":%d,"deliveries":%d,"latency_ms":{"p50":%s,"p99":%s,"max":%s},"server_cpu_s":%s,"cpu_us_per_delivery":%s,"redis_cpu_s":%s,"client_cpu_s":%s,"storm_streams":%d,"storm_back":%d,"storm_s":%s,"storm_rate":%d,"missing":%d,"duplicated":%d,"out_of_order":%d,"listen_overflows":%d,"listen_drops":%d,"publish_failed":%d,"loadavg":%s,"verdict":"%s"}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SERVER_KIND" "$LABEL" "$STREAMS" "$INSTANCES" "$CLIENTS" "$open" "$failed" "$ramp_s" "$connect_rate" \
    "$per_instance_list" "$server_bytes" "$server_total_bytes" "$server_pss_bytes" "$client_bytes" "$client_pss_bytes" \
    "$kernel_bytes" "${sockstat_mem:-0}" "$TCP_MEM_PEAK" "$EVENTS" "$delivered" "$lat_p50" "$lat_p99" "$lat_max" "$server_cpu" \
    "$cpu_per_delivery_us" "$redis_cpu" "$client_cpu" "$storm_streams" "$storm_back" "$storm_s" "$storm_rate" \
    "$missing" "$duplicated" "$out_of_order" "$overflows" "$drops" "$publish_failed" "$(cut -d' ' -f1 /proc/loadavg)" "$verdict" >>"$RESULTS"
[ "$verdict" = ok ]
