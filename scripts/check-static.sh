#!/usr/bin/env bash
# Proves a deployable binary needs nothing but glibc and libsocketcan: builds a root file system
# holding only the binary, the libraries the dynamic loader asks for (which must be glibc's and
# libsocketcan's), and the demo files; then, chrooted into it, decodes the demo log and runs the
# gateway on the city drive while curl (outside) reads the driving context from its API.
#
# Usage: bash scripts/check-static.sh BINARY   (as root, or where unprivileged user namespaces work)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:?usage: check-static.sh BINARY}
. scripts/lib/system-deps.sh
. scripts/lib/test-deps.sh
. scripts/lib/deploy-libs.sh
command -v pkill >/dev/null || apt_install procps
root=$(mktemp -d)
gateway_pid=""
cleanup() { [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null; rm -rf "$root"; }
trap cleanup EXIT

mkdir -p "$root/bin" "$root/data" "$root/tmp" "$root/proc"
cp "$binary" "$root/bin/vehicle-gateway"
cp DBC/demo_vehicle.dbc DBC/demo_mapping.yaml DBC/demo_drive.log DBC/demo_city_drive.log.gz "$root/data/"
# The libraries, resolved by the loader; anything but glibc or libsocketcan fails the check.
ldd "$binary" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
    is_deploy_library "$(basename "$lib")" || { echo "FAIL: $binary needs $(basename "$lib")" >&2; exit 1; }
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
# glibc itself dlopens libgcc_s for pthread_exit and thread cancellation (Debian's libc6 depends
# on libgcc-s1 for this), so it is part of any glibc system and of this root.
gcc_s=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ {print $NF; exit}')
mkdir -p "$root$(dirname "$gcc_s")" && cp -L "$gcc_s" "$root$gcc_s"
[ -e "$root/lib64" ] || { mkdir -p "$root/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/" 2>/dev/null || true; }
echo "root file system: $(cd "$root" && find . -type f | grep -v '^./data\|^./bin' | sort | tr '\n' ' ')"

# A target has /proc (the Swift runtime and Dispatch read it); a private one, in its own PID
# and mount namespace, so nothing is left mounted.
userns=()
[ "$(id -u)" = 0 ] || userns=(--user --map-root-user)
in_root() { unshare "${userns[@]}" --mount --pid --fork --mount-proc="$root/proc" chroot "$root" "$@"; }

# 1. decode: the demo log through the demo DBC, every line a decoded frame.
in_root /bin/vehicle-gateway decode --dbc /data/demo_vehicle.dbc --format jsonl /data/demo_drive.log >"$root/tmp/decoded"
lines=$(wc -l <"$root/tmp/decoded")
expected=$(wc -l <DBC/demo_drive.log)
[ "$lines" = "$expected" ] || { echo "FAIL: decoded $lines lines of $expected" >&2; exit 1; }
grep -q '"message": "VehicleSpeed"' "$root/tmp/decoded" || { echo "FAIL: no VehicleSpeed decoded" >&2; exit 1; }
echo "decode: $lines frames decoded inside the root"

# 2. run: the city drive, API on a free port; the context must come alive with a speed. The
# uplink (libmosquitto and OpenSSL, linked in) publishes to a real broker outside the root.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mqtt_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mqtt_port" >"$root/tmp/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$root/tmp/mosquitto.conf" >/dev/null 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null; cleanup' EXIT
in_root /bin/vehicle-gateway run --replay /data/demo_city_drive.log.gz --mapping /data/demo_mapping.yaml \
    --speed 4 --listen "127.0.0.1:$port" --uplink "mqtt://127.0.0.1:$mqtt_port" --vehicle-id static-check \
    --uplink-state-dir /tmp/uplink >"$root/tmp/run.out" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 100); do
    context=$(curl -sf "http://127.0.0.1:$port/v1/context" 2>/dev/null || true)
    if echo "$context" | grep -q '"speed_kmh"'; then break; fi
    sleep 0.1
done
echo "$context" | python3 -c '
import json, sys
c = json.load(sys.stdin)
speed = c["speed"]
assert speed["state"] == "fresh", speed
print("run: context from the API inside the root: speed", speed["speed_kmh"], "km/h, gear", c["gear"]["label"], ", motion", c["motion"])
' || { echo "FAIL: no fresh context; gateway output:" >&2; cat "$root/tmp/run.out" >&2; exit 1; }
# The MCP endpoint (the part that links FoundationNetworking and so libcurl) answers an initialize.
curl -sf -X POST "http://127.0.0.1:$port/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"check-static","version":"1"}}}' |
    grep -q '"serverInfo"' || { echo "FAIL: no MCP initialize result" >&2; exit 1; }
echo "mcp: initialize answered"
# The uplink: connected to the broker and its messages acknowledged (PUBACK).
for _ in $(seq 1 100); do
    health=$(curl -sf "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
    if echo "$health" | python3 -c 'import json,sys; u=json.load(sys.stdin)["uplink"]; sys.exit(0 if u["connected"] and u["acknowledged"] > 0 else 1)' 2>/dev/null; then break; fi
    sleep 0.1
done
echo "$health" | python3 -c '
import json, sys
u = json.load(sys.stdin)["uplink"]
assert u["connected"] and u["acknowledged"] > 0, u
print("uplink: connected to a real broker,", u["acknowledged"], "messages acknowledged")
' || { echo "FAIL: the uplink did not deliver; gateway output:" >&2; cat "$root/tmp/run.out" >&2; exit 1; }
# SIGTERM to the gateway itself (inside the namespace), as systemd would; unshare passes on its status.
pkill -TERM -f "^/bin/vehicle-gateway run --replay /data/" || true
wait "$gateway_pid" || { echo "FAIL: gateway exit status $? after SIGTERM" >&2; exit 1; }
gateway_pid=""

# 3. Without /proc (a minimal ECU root may not mount it): the Swift runtime reads its arguments
# from /proc/self/cmdline, so the gateway takes them from argv itself; it decodes the same and
# serves the context.
no_proc() { unshare "${userns[@]}" --mount --pid --fork chroot "$root" "$@"; }
no_proc /bin/vehicle-gateway decode --dbc /data/demo_vehicle.dbc --format jsonl /data/demo_drive.log >"$root/tmp/decoded-no-proc"
cmp -s "$root/tmp/decoded" "$root/tmp/decoded-no-proc" || { echo "FAIL: without /proc decode wrote something else" >&2; head -3 "$root/tmp/decoded-no-proc" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
no_proc /bin/vehicle-gateway run --replay /data/demo_drive.log --mapping /data/demo_mapping.yaml --speed 4 --loop 0 \
    --listen "127.0.0.1:$port" --quiet >"$root/tmp/run-no-proc.out" 2>&1 &
gateway_pid=$!
context=""
for _ in $(seq 1 100); do
    context=$(curl -sf "http://127.0.0.1:$port/v1/context" 2>/dev/null || true)
    if echo "$context" | grep -q '"speed_kmh"'; then break; fi
    sleep 0.1
done
echo "$context" | grep -q '"speed_kmh"' || { echo "FAIL: without /proc no context; gateway output:" >&2; cat "$root/tmp/run-no-proc.out" >&2; exit 1; }
pkill -TERM -f "^/bin/vehicle-gateway run --replay /data/demo_drive.log" || true
wait "$gateway_pid" || { echo "FAIL: without /proc, gateway exit status $? after SIGTERM" >&2; cat "$root/tmp/run-no-proc.out" >&2; exit 1; }
gateway_pid=""
echo "without /proc: decode identical, context served, clean stop"
echo "PASS: $binary runs with only glibc and libsocketcan"
