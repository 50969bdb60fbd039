# Sourced by scripts: installs the Debian packages the build and the tests need, if missing.

# apt_install PKG...: installs the packages quietly; refreshes the package lists only when the
# first attempt fails (a fresh machine may have none yet).
apt_install() {
    echo "== installing $* (apt)" >&2
    export DEBIAN_FRONTEND=noninteractive
    local as_root=""
    [ "$(id -u)" = 0 ] || as_root=sudo
    $as_root apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
        { $as_root apt-get update >/dev/null && $as_root apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# libsocketcan-dev: the SocketCAN module's controller control.
pkg-config --exists libsocketcan 2>/dev/null || apt_install libsocketcan-dev pkg-config
# curl: one of the real clients the API tests use.
command -v curl >/dev/null 2>&1 || apt_install curl
# zlib1g-dev: candump logs may be gzip-compressed (the bundled city drive is).
pkg-config --exists zlib 2>/dev/null || apt_install zlib1g-dev
# valgrind: the instruction-count guards (scripts/check-instructions.sh) run under callgrind.
command -v valgrind >/dev/null 2>&1 || apt_install valgrind
# The dashboard's libraries (served from /usr/share/javascript).
[ -f /usr/share/javascript/leaflet/leaflet.min.js ] && [ -f /usr/share/javascript/chart.js/chart.min.js ] || apt_install libjs-leaflet libjs-chart.js
# libmosquitto-dev: the uplink's MQTT client (the static build compiles it from Debian's source).
pkg-config --exists libmosquitto 2>/dev/null || apt_install libmosquitto-dev
