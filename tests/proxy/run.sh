#!/usr/bin/env bash
# sse-server behind a real nginx, and its /metrics under promtool.
#
#   tests/proxy/run.sh
#
# Installs nginx, prometheus (for promtool), curl, openssl and chromium with
# apt-get when run as root and they are missing, and the browser tests' npm
# packages (playwright-core) when they are (a system nginx or prometheus
# service is never touched: the nginx here is our own process with its own
# prefix). Needs Node.js 20+ and npm. Then:
#   1. starts sse-server (SSE_SERVER_BIN, default ./sse-server) on an
#      ephemeral loopback port with --cors-origin http://app.example and
#      --heartbeat-ms 1000 (so a heartbeat is seen passing nginx);
#   2. makes a throwaway CA and a certificate for 127.0.0.1 with openssl
#      (in the private folder, deleted at the end; nothing secret is
#      committed);
#   3. renders tests/proxy/nginx.conf.in, the configuration
#      docs/deployment.md recommends, into that folder (with
#      tests/proxy/sse-server.conf, the locations both fronts include, as
#      snippets/sse-server.conf), checks it with `nginx -t` (no warning
#      either), checks that docs/deployment.md shows exactly these files
#      (tests/proxy/docs_config.py), and starts nginx with its two fronts on
#      free loopback ports: HTTP/1.1, and HTTP/2 over TLS;
#   4. runs tests/proxy/check_proxy.py through each front (through the
#      HTTP/2 one with curl --http2): unbuffered delivery (each of 10 events
#      within 200 ms of its publish), Last-Event-ID replay, CORS, heartbeats,
#      a leaving client freeing its stream, upstream keep-alive, the publish
#      rule, and `promtool check metrics`;
#   5. runs tests/proxy/ten_streams.mjs: ten EventSources to one origin in
#      headless Chromium, all open over HTTP/2; through HTTP/1.1, the
#      control, the seventh stays CONNECTING;
#   6. stops both by PID; sse-server must exit 0 on SIGTERM.
# Ends with one line "N passed, M failed"; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/logs
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh

server_bin=${SSE_SERVER_BIN:-./sse-server}
nginx_bin=${NGINX_BIN:-/usr/sbin/nginx}
chromium_bin=${CHROMIUM_BIN:-/usr/bin/chromium}
origin=http://app.example

passed=0
failed=0
check() {  # check NAME STATUS
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "   ok: $1"
    else
        failed=$((failed + 1)); echo "   FAILED: $1"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
# add_verdict NAME LOG: adds the "[NAME: ]N passed, M failed" line ending LOG.
add_verdict() {
    local line
    line=$(tail -1 "$2")
    if [[ $line =~ ^([A-Za-z0-9-]+:\ )?([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[2]))
        failed=$((failed + BASH_REMATCH[3]))
    else
        check "$1 ran to its verdict" 1
    fi
}

# --- what the test needs ---------------------------------------------------
missing=()
[ -x "$nginx_bin" ] || missing+=(nginx)
command -v promtool >/dev/null || missing+=(prometheus)
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
[ -x "$chromium_bin" ] || missing+=(chromium)
if ! need_packages --no-install-recommends tests/proxy build/logs/proxy-apt.log "${missing[@]}"; then
    failed=1; finish
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "tests/proxy needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)"
    failed=1; finish
fi
need_node_modules tests/browser build/logs/proxy-npm.log || { failed=1; finish; }
if [ ! -x "$server_bin" ]; then
    echo "no server binary at $server_bin (make, or set SSE_SERVER_BIN)"
    failed=1; finish
fi

# --- start sse-server ------------------------------------------------------
dir=$(mktemp -d /tmp/sse-proxy.XXXXXX)
chmod 755 "$dir"   # nginx's workers run as nobody when the master is root
server_pid=
nginx_pid=
# stop PID: SIGTERM, then SIGKILL after 5 s; the process's exit status.
stop() {
    kill -TERM "$1" 2>/dev/null || return 1
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1"
}
cleanup() {
    if [ -n "$nginx_pid" ]; then
        workers=$(pgrep -P "$nginx_pid" 2>/dev/null)
        stop "$nginx_pid"
        for pid in $workers; do kill -KILL "$pid" 2>/dev/null; done
    fi
    [ -n "$server_pid" ] && stop "$server_pid"
    rm -rf "$dir"
}
# Whatever happens from here on, nothing we started outlives us.
trap cleanup EXIT
trap 'exit 130' INT TERM

server_out=build/logs/proxy-server.out
server_log=build/logs/proxy-server.log
"$server_bin" --port 0 --bind 127.0.0.1 --no-demo --cors-origin "$origin" --heartbeat-ms 1000 >"$server_out" 2>"$server_log" &
server_pid=$!
server_port=
for _ in $(seq 100); do
    server_port=$(sed -nE 's#^sse-server listening on http://[^ ]*:([0-9]+)$#\1#p' "$server_out" | head -1)
    [ -n "$server_port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$server_port" ]; then
    echo "sse-server did not start; its output:"; tail -20 "$server_out" "$server_log"
    failed=1; finish
fi

# --- a throwaway certificate ------------------------------------------------
# A CA made for this run only, and a certificate it signs for 127.0.0.1:
# curl trusts the CA (--cacert); nothing is added to the system's trust store.
tls=$dir/tls
mkdir -p "$tls"
make_certificate() {
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 2 \
        -subj "/CN=sse-server throwaway test CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -subj "/CN=127.0.0.1" -keyout "$tls/privkey.pem" -out "$tls/cert.csr" &&
    openssl x509 -req -in "$tls/cert.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
        -days 2 -out "$tls/cert.pem" -extfile <(printf '%s\n' \
            subjectAltName=IP:127.0.0.1,DNS:localhost basicConstraints=CA:FALSE extendedKeyUsage=serverAuth) &&
    cat "$tls/cert.pem" "$tls/ca.pem" >"$tls/fullchain.pem" &&
    # What Chromium is told to accept: the base64 SHA-256 of the
    # certificate's SubjectPublicKeyInfo.
    spki=$(openssl x509 -in "$tls/cert.pem" -noout -pubkey | openssl pkey -pubin -outform der |
           openssl dgst -sha256 -binary | base64) &&
    [ -n "$spki" ]
}
spki=
make_certificate >build/logs/proxy-openssl.log 2>&1
tls_status=$?
[ "$tls_status" -ne 0 ] && tail -20 build/logs/proxy-openssl.log
check "openssl made a throwaway CA and a certificate for 127.0.0.1" "$tls_status"
[ "$tls_status" -ne 0 ] && finish

# --- start nginx -------------------------------------------------------------
# A loopback port nobody listens on: the kernel picks one for a socket we
# then close. nginx cannot be told "port 0", so a race with another program
# is possible; the start is retried with a new port.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The test-only locations: the same proxying with nginx's default buffering,
# once honouring sse-server's X-Accel-Buffering: no, once ignoring it (the
# negative control, which must fail the timing check).
extra=$(cat <<'EOF'

        # test only: buffering left on; X-Accel-Buffering: no decides.
        location /test-accel/ {
            proxy_pass http://sse_server/;
        }
        # test only: buffering on and X-Accel-Buffering ignored.
        location /test-buffered/ {
            proxy_ignore_headers X-Accel-Buffering;
            proxy_pass http://sse_server/;
        }
        # test only: a short read timeout, which only heartbeats can satisfy
        # (sse-server runs with --heartbeat-ms 1000).
        location /test-short-read/ {
            proxy_read_timeout 2s;
            proxy_buffering off;
            proxy_pass http://sse_server/;
        }
EOF
)
render_conf() {  # render_conf PORT TLS_PORT
    local line
    while IFS= read -r line; do
        line=${line//@PREFIX@/$dir}
        line=${line//@LISTEN@/127.0.0.1:$1}
        line=${line//@LISTEN_TLS@/127.0.0.1:$2}
        line=${line//@TLS@/$tls}
        line=${line//@UPSTREAM@/127.0.0.1:$server_port}
        if [ "$line" = "@EXTRA@" ]; then printf '%s\n' "$extra"; else printf '%s\n' "$line"; fi
    done <tests/proxy/nginx.conf.in >"$dir/nginx.conf"
}

mkdir -p "$dir/tmp" "$dir/snippets"
cp tests/proxy/sse-server.conf "$dir/snippets/sse-server.conf"
render_conf 1 2
"$nginx_bin" -t -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >build/logs/proxy-nginx-t.log 2>&1
nginx_t=$?
[ "$nginx_t" -ne 0 ] && cat build/logs/proxy-nginx-t.log
check "nginx -t accepts tests/proxy/nginx.conf.in and sse-server.conf" "$nginx_t"
[ "$nginx_t" -ne 0 ] && finish
# A warning is how nginx says a directive is obsolete (http2_idle_timeout in 1.22).
warnings=$(grep -F '[warn]' build/logs/proxy-nginx-t.log)
[ -n "$warnings" ] && echo "$warnings" | sed 's/^/   /'
check "nginx -t warns of nothing" "$([ -z "$warnings" ] && echo 0 || echo 1)"

# The configuration docs/deployment.md shows must be the one tested here.
python3 tests/proxy/docs_config.py | tee build/logs/proxy-docs-config.log
add_verdict "docs_config.py" build/logs/proxy-docs-config.log

nginx_port=
tls_port=
for _ in 1 2 3; do
    port=$(free_port)
    port_tls=$(free_port)
    render_conf "$port" "$port_tls"
    "$nginx_bin" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/nginx.out" 2>&1 &
    nginx_pid=$!
    for _ in $(seq 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
           (exec 3<>"/dev/tcp/127.0.0.1/$port_tls") 2>/dev/null; then
            nginx_port=$port; tls_port=$port_tls; break
        fi
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$nginx_port" ] && break
    stop "$nginx_pid"; nginx_pid=
done
if [ -z "$nginx_port" ]; then
    echo "nginx did not start; its log:"; cat "$dir/nginx.out" "$dir/error.log" 2>/dev/null | tail -20
    failed=$((failed + 1)); finish
fi
echo "== sse-server on 127.0.0.1:$server_port, nginx $("$nginx_bin" -v 2>&1 | sed 's#.*/##')" \
     "on 127.0.0.1:$nginx_port (HTTP/1.1) and 127.0.0.1:$tls_port (HTTP/2, TLS)"

# --- the checks ----------------------------------------------------------------
echo "== through the HTTP/1.1 front"
python3 tests/proxy/check_proxy.py --server "$server_port" --nginx "$nginx_port" \
    --promtool "$(command -v promtool || true)" | tee build/logs/proxy-checks.log
add_verdict "check_proxy.py (HTTP/1.1)" build/logs/proxy-checks.log

echo "== through the HTTP/2 front (curl --http2)"
python3 tests/proxy/check_proxy.py --server "$server_port" --nginx "$tls_port" --h2 --cacert "$tls/ca.pem" \
    --promtool "$(command -v promtool || true)" | tee build/logs/proxy-checks-h2.log
add_verdict "check_proxy.py (HTTP/2)" build/logs/proxy-checks-h2.log

echo "== ten EventSources in Chromium, through each front"
CHROMIUM_BIN=$chromium_bin node tests/proxy/ten_streams.mjs --server "$server_port" \
    --h2 "https://127.0.0.1:$tls_port" --h1 "http://127.0.0.1:$nginx_port" --spki "$spki" \
    2>&1 | tee build/logs/proxy-ten-streams.log
add_verdict "ten_streams.mjs" build/logs/proxy-ten-streams.log

# The 403 of the publish-rule check is logged as an error; it is expected.
errors=$(grep -E '\[(error|crit|alert|emerg)\]' "$dir/error.log" 2>/dev/null | grep -v 'access forbidden by rule')
[ -n "$errors" ] && echo "$errors" | tail -10 | sed 's/^/   nginx: /'
check "nginx logged no error" "$([ -z "$errors" ] && echo 0 || echo 1)"

# --- stop --------------------------------------------------------------------
workers=$(pgrep -P "$nginx_pid" 2>/dev/null)
stop "$nginx_pid"
for pid in $workers; do kill -KILL "$pid" 2>/dev/null; done
nginx_pid=
stop "$server_pid"
server_status=$?
server_pid=
[ "$server_status" -ne 0 ] && tail -20 "$server_log" | sed 's/^/   server: /'
check "sse-server exited 0 on SIGTERM (status $server_status)" "$server_status"
finish
