#!/usr/bin/env bash
# Private topics against tokens minted by a real JWT library, PyJWT
# (Debian's python3-jwt):
#
#   tests/auth/run.sh
#
# check_auth.py starts its own sse-server (SSE_SERVER_BIN, default
# ./sse-server) with two HS256 key files in a fresh temporary folder, a
# random --publish-token, --public news and --jwt-audience sse-test, and
# checks that PyJWT's tokens are accepted from each place a token may come
# from, and that their tampered, expired, not-yet-valid, wrongly addressed,
# unsigned, RS256, HS384, HS512 and oversized variants are refused.
#
# PyJWT is Debian's package, so the checks run under Debian's interpreter
# (/usr/bin/python3), which is not always the first python3 on PATH. When
# python3-jwt is missing and we are root, it is installed with apt-get, and
# python3-cryptography with it when possible (for a real RS256 token; without
# it the RS256 token's header is written by hand). Ends with one line
# "N passed, M failed"; exits non-zero on any failure (then the server's log
# is kept in build/logs/auth-test/).
set -u
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/logs
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh

server_bin=${SSE_SERVER_BIN:-./sse-server}
python=/usr/bin/python3
apt_log=build/logs/auth-apt.log

# give_up [MESSAGE]: the verdict of a run that could not start.
give_up() {
    [ $# -eq 0 ] || echo "$1"
    echo "0 passed, 1 failed"
    exit 1
}

# has_module NAME: Debian's interpreter can import NAME.
has_module() {
    [ -x "$python" ] && "$python" -c "import $1" 2>/dev/null
}

if ! has_module jwt; then
    need_packages --no-install-recommends tests/auth "$apt_log" python3 python3-jwt || give_up
    has_module jwt || give_up "PyJWT is still missing for $python after apt-get"
fi
if ! has_module cryptography; then
    # Optional: without it the RS256 check uses a hand-written header.
    need_packages --no-install-recommends tests/auth "$apt_log" python3-cryptography \
        || echo "   (no python3-cryptography: the RS256 token is crafted by hand)"
fi
if [ ! -x "$server_bin" ]; then
    [ "$server_bin" = ./sse-server ] && make -s sse-server >build/logs/auth-build.log 2>&1
    [ -x "$server_bin" ] || give_up "no server binary at $server_bin (make, or set SSE_SERVER_BIN)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sse-auth-test.XXXXXX") || give_up "mktemp failed"
checker=
keep_logs=0
# shellcheck disable=SC2317  # called through the trap
cleanup() {
    # check_auth.py stops its server on SIGTERM; we stop it by pid.
    if [ -n "$checker" ] && kill -0 "$checker" 2>/dev/null; then
        kill -TERM "$checker" 2>/dev/null
        wait "$checker" 2>/dev/null
    fi
    if [ "$keep_logs" = 1 ]; then
        rm -rf build/logs/auth-test
        mkdir -p build/logs/auth-test
        cp "$work"/*.log build/logs/auth-test/ 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$python" tests/auth/check_auth.py --server-bin "$server_bin" --tmp "$work" &
checker=$!
wait "$checker"
status=$?
checker=
if [ "$status" -ne 0 ]; then
    keep_logs=1
    echo "logs: build/logs/auth-test/"
fi
exit "$status"
