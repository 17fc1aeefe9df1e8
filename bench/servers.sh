# bench/servers.sh: start and stop the servers under test. Sourced by
# bench/run.sh; not run by itself.
#
# server_start KIND starts a fresh server on a free 127.0.0.1 port and sets
#   SERVER_URL    http://127.0.0.1:PORT
#   SERVER_PID    the process to stop (nginx: the master)
#   SUB_PATH      one-topic stream path, with {topic}
#   MULTI_PATH    several-topics stream path, with {topics} (empty: unsupported)
#   PUB_PATH      publish path, with {topic}
#   STATIC_PATH   a static file (empty: unsupported)
# server_pids prints the pids whose CPU and memory count as the server's.
# server_stop stops it (by pid) and removes its files.
#
# KIND is sse-server, node, nchan, or external: a server already running,
# described by SSE_URL, SSE_PID and optionally SSE_SUB_PATH, SSE_MULTI_PATH,
# SSE_PUB_PATH, SSE_STATIC_PATH (defaults: sse-server's paths).

SERVER_DIR=""

# Extra sse-server flags: a big per-stream buffer and history so that the
# bursts measure delivery, not the slow-reader limit.
SSE_SERVER_FLAGS=${SSE_SERVER_FLAGS:---max-buffer 16M --history 10000}
# More sse-server flags for one scenario's servers (churn-token and private
# set --jwt-key-file here); empty for the others.
SERVER_EXTRA_FLAGS=""

server_start() {
    SERVER_DIR=$(mktemp -d /tmp/sse-bench-server.XXXXXX)
    SUB_PATH='/latest/{topic}'
    MULTI_PATH='/latest?type={topics}'
    PUB_PATH='/publish?topic={topic}'
    STATIC_PATH=''
    case "$1" in
        sse-server) start_sse_server ;;
        node) start_node_server ;;
        nchan) start_nchan ;;
        external) start_external ;;
        *) echo "run.sh: unknown server kind '$1' (sse-server, node, nchan, external)" >&2; return 1 ;;
    esac
}

# Waits for "listening on http://127.0.0.1:PORT" in a log; prints the URL.
wait_listening() {
    local log=$1 pid=$2
    for _ in $(seq 100); do
        local url
        url=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/listening on //')
        if [ -n "$url" ]; then echo "$url"; return 0; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "run.sh: server did not start; its log:" >&2
    cat "$log" >&2
    return 1
}

start_sse_server() {
    # shellcheck disable=SC2086  # the flags are meant to split
    ./sse-server --port 0 --bind 127.0.0.1 --no-demo $SSE_SERVER_FLAGS $SERVER_EXTRA_FLAGS >"$SERVER_DIR/log" 2>&1 &
    SERVER_PID=$!
    track "$SERVER_PID"
    SERVER_URL=$(wait_listening "$SERVER_DIR/log" "$SERVER_PID")
    STATIC_PATH='/index.html'
}

start_node_server() {
    node bench/node-server.js 0 >"$SERVER_DIR/log" 2>&1 &
    SERVER_PID=$!
    track "$SERVER_PID"
    SERVER_URL=$(wait_listening "$SERVER_DIR/log" "$SERVER_PID")
}

# A loopback port nobody listens on. nginx cannot be told "port 0, then say
# which", so we look for one; a race with another program is retried by the
# caller's start-up check.
free_port() {
    local port
    for _ in $(seq 50); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
    done
    return 1
}

start_nchan() {
    local port
    port=$(free_port)
    mkdir -p "$SERVER_DIR/tmp"
    write_nchan_conf "$port" >"$SERVER_DIR/nginx.conf"
    nginx -p "$SERVER_DIR" -c "$SERVER_DIR/nginx.conf" -g 'daemon off;' >"$SERVER_DIR/log" 2>&1 &
    SERVER_PID=$!
    track "$SERVER_PID"
    SERVER_URL="http://127.0.0.1:$port"
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "run.sh: nginx did not start; its log:" >&2
    cat "$SERVER_DIR/log" "$SERVER_DIR/error.log" >&2 2>/dev/null
    return 1
}

# One worker (like the single-threaded servers), its own prefix, pid and logs.
# nchan's eventsource subscriber answers only requests that accept
# text/event-stream (others get 403), which sse-load sends; "newest" makes a
# new subscriber start with live events, as sse-server does without
# Last-Event-ID. The named capture matters: a plain $1 is gone by the time
# nchan reads it.
write_nchan_conf() {
    cat <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $SERVER_DIR/nginx.pid;
error_log $SERVER_DIR/error.log warn;
events { worker_connections 20000; use epoll; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $SERVER_DIR/tmp/body;
    proxy_temp_path $SERVER_DIR/tmp/proxy;
    fastcgi_temp_path $SERVER_DIR/tmp/fastcgi;
    uwsgi_temp_path $SERVER_DIR/tmp/uwsgi;
    scgi_temp_path $SERVER_DIR/tmp/scgi;
    nchan_shared_memory_size 256M;
    server {
        listen 127.0.0.1:$1 backlog=4096;
        location ~ ^/latest/(?<topic>[A-Za-z0-9_.-]+)\$ {
            nchan_subscriber eventsource;
            nchan_channel_id \$topic;
            nchan_subscriber_first_message newest;
        }
        location = /latest {
            nchan_subscriber eventsource;
            nchan_channel_id \$arg_type;
            nchan_channel_id_split_delimiter ",";
            nchan_subscriber_first_message newest;
        }
        location = /publish {
            nchan_publisher;
            nchan_channel_id \$arg_topic;
            nchan_message_buffer_length 100;
            nchan_message_timeout 60s;
        }
    }
}
EOF
}

start_external() {
    SERVER_URL=${SSE_URL:?SSE_SERVER=external needs SSE_URL and SSE_PID}
    SERVER_PID=${SSE_PID:?SSE_SERVER=external needs SSE_PID}
    SUB_PATH=${SSE_SUB_PATH:-$SUB_PATH}
    MULTI_PATH=${SSE_MULTI_PATH-$MULTI_PATH}
    PUB_PATH=${SSE_PUB_PATH:-$PUB_PATH}
    STATIC_PATH=${SSE_STATIC_PATH:-}
}

server_pids() {
    echo "$SERVER_PID"
    pgrep -P "$SERVER_PID" 2>/dev/null || true  # nginx's worker
}

server_stop() {
    if [ "$SSE_SERVER" != external ] && [ -n "${SERVER_PID:-}" ]; then
        stop_pid "$SERVER_PID"
    fi
    SERVER_PID=""
    [ -n "$SERVER_DIR" ] && rm -rf "$SERVER_DIR"
    SERVER_DIR=""
}
