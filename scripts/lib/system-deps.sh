# Sourced by scripts: installs the Debian packages the build needs (libsocketcan-dev for the
# SocketCAN module's controller control), if they are missing.
if ! pkg-config --exists libsocketcan 2>/dev/null; then
    echo "== installing libsocketcan-dev (apt)" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root=""
    [ "$(id -u)" = 0 ] || as_root=sudo
    $as_root apt-get install -y --no-install-recommends libsocketcan-dev pkg-config >/dev/null 2>&1 ||
        { $as_root apt-get update >/dev/null && $as_root apt-get install -y --no-install-recommends libsocketcan-dev pkg-config >/dev/null; }
fi
# curl: one of the real clients the API tests use.
if ! command -v curl >/dev/null 2>&1; then
    echo "== installing curl (apt)" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root=""
    [ "$(id -u)" = 0 ] || as_root=sudo
    $as_root apt-get install -y --no-install-recommends curl >/dev/null 2>&1 ||
        { $as_root apt-get update >/dev/null && $as_root apt-get install -y --no-install-recommends curl >/dev/null; }
fi
# zlib1g-dev: candump logs may be gzip-compressed (the bundled city drive is).
if ! pkg-config --exists zlib 2>/dev/null; then
    echo "== installing zlib1g-dev (apt)" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root=""
    [ "$(id -u)" = 0 ] || as_root=sudo
    $as_root apt-get install -y --no-install-recommends zlib1g-dev >/dev/null 2>&1 ||
        { $as_root apt-get update >/dev/null && $as_root apt-get install -y --no-install-recommends zlib1g-dev >/dev/null; }
fi
