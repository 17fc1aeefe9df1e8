#!/usr/bin/env bash
# Real clients against a real sse-server:
#   browser.test.mjs      the demo page in headless Chromium (playwright-core)
#   eventsource.test.mjs  the npm eventsource package as a second client
#   readme_curl.sh        README.md's curl examples, run as written
# Run as root it installs what is missing (Debian's chromium, npm packages).
# Each suite starts and stops its own servers. Ends with one line
# "N passed, M failed" counting checks over all suites; exits non-zero on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
# shellcheck source=tests/lib/install.sh
. tests/lib/install.sh
mkdir -p "$here/out"
export SSE_SERVER_BIN=${SSE_SERVER_BIN:-./sse-server}
chromium_bin=${CHROMIUM_BIN:-/usr/bin/chromium}

# give_up [MESSAGE]: the verdict of a run that could not start.
give_up() {
    [ $# -eq 0 ] || echo "$1"
    echo "0 passed, 1 failed"
    exit 1
}

# --- what the tests need -------------------------------------------------
command -v node >/dev/null && command -v npm >/dev/null || give_up "needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)"
missing=()
[ -x "$chromium_bin" ] || missing+=(chromium)
need_packages tests/browser "$here/out/apt.log" "${missing[@]}" || give_up
need_node_modules "$here" "$here/out/npm.log" || give_up
if [ ! -x "$SSE_SERVER_BIN" ]; then
    echo "== building $SSE_SERVER_BIN"
    make sse-server >"$here/out/build.log" 2>&1 || give_up "make failed, see $here/out/build.log"
fi

# --- run -----------------------------------------------------------------
total_passed=0
total_failed=0

# run_suite NAME COMMAND...: runs a suite and adds up its "N passed, M failed" line.
run_suite() {
    local name=$1; shift
    echo "== $name"
    local log=$here/out/$name.log
    "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local line passed failed
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
    passed=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    failed=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    passed=${passed:-0}
    failed=${failed:-0}
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1  # ended badly without a verdict
    fi
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
}

run_suite browser node "$here/browser.test.mjs"
run_suite eventsource node "$here/eventsource.test.mjs"
run_suite readme-curl bash "$here/readme_curl.sh"

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
