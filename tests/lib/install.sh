# shellcheck shell=bash
# Installing the Debian packages a test script needs, one way for all of
# them. Sourced, not run. Each script keeps its own idea of what is present
# (a file, a command, a probe that links) and hands over only what is not:
#
#   . tests/lib/install.sh
#   missing=()
#   [ -x /usr/sbin/nginx ] || missing+=(nginx)
#   need_packages tests/proxy build/logs/proxy-apt.log "${missing[@]}" || give_up
#
# The caller prints its own verdict ("0 passed, 1 failed") when this fails.

# apt-get update is slow and usually not needed: it runs at most once per
# script, and only after an install could not find what it asked for.
apt_lists_updated=0

# need_packages [--no-install-recommends] WHO LOG PACKAGE...: installs the
# PACKAGEs as root with apt-get, non-interactively, apt-get's output appended
# to LOG; status 0 when that worked or when there is no PACKAGE. Not root or
# no apt-get: prints "WHO needs: PACKAGE... (Debian: ...)" and returns 1.
need_packages() {
    local options=(-y -q)
    if [ "${1:-}" = --no-install-recommends ]; then
        options+=(--no-install-recommends)
        shift
    fi
    local who=$1 log=$2
    shift 2
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "$who needs: $* (Debian: sudo apt-get install $*)"
        return 1
    fi
    echo "== installing $* (log: $log)"
    mkdir -p "$(dirname "$log")"
    echo "== apt-get install $* ($(date '+%F %T'))" >>"$log"
    apt_install "$log" "${options[@]}" "$@" && return 0
    if [ "$apt_lists_updated" = 0 ]; then
        apt_lists_updated=1
        # A failed update (one unreachable source) may still have refreshed
        # the lists that matter, so the install is retried either way.
        apt-get update -q >>"$log" 2>&1
        apt_install "$log" "${options[@]}" "$@" && return 0
    fi
    echo "apt-get install $* failed, see $log"
    return 1
}

# apt_install LOG APT-GET-ARGUMENT...: one `apt-get install`, output to LOG.
apt_install() {
    local log=$1
    shift
    DEBIAN_FRONTEND=noninteractive apt-get install "$@" >>"$log" 2>&1
}

# need_node_modules DIR LOG: runs `npm ci` in DIR when its node_modules is
# missing or older than its package-lock.json (a package was added), npm's
# output to LOG; status 0 when the packages are there.
need_node_modules() {
    local dir=$1 log=$2
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
       [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        return 0
    fi
    echo "== npm ci in $dir (log: $log)"
    mkdir -p "$(dirname "$log")"
    log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")   # npm runs in DIR
    (cd "$dir" && npm ci --no-audit --no-fund >"$log" 2>&1) && return 0
    echo "npm ci failed, see $log"
    return 1
}
