#!/usr/bin/env bash
# Smoke test of the vcan harness: real SocketCAN traffic on vcan0/vcan1 with can-utils.
# Needs vcan0 and vcan1 up with mtu 72, so run it through the harness:
#   bash scripts/vcan-vm.sh -- bash Tests/vcan/smoke.sh
# Prints "N passed, M failed"; exits 1 if anything failed.
set -u
PASS=0
FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vcan-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; shift; [ $# -eq 0 ] || printf '       %s\n' "$@"; }

# receive IFACE FRAME: start `candump -L -n 1 IFACE`, send FRAME with cansend, print the line
# candump logged (candump opens an FD-capable socket by default).
receive() {
    local ifc=$1 frame=$2 out=$TMP/candump.$RANDOM pid i
    timeout 10 candump -L -n 1 "$ifc" >"$out" 2>&1 &
    pid=$!
    # wait until candump holds its CAN socket, then a moment for bind()
    for i in $(seq 50); do
        ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'socket:' && break
        sleep 0.1
    done
    sleep 0.3
    cansend "$ifc" "$frame" || echo "cansend $ifc $frame failed" >>"$out"
    wait "$pid" || echo "candump exit status $?" >>"$out"
    cat "$out"
}

# check NAME IFACE FRAME EXPECTED: EXPECTED is the part of candump's line after the timestamp
check() {
    local name=$1 got
    got=$(receive "$2" "$3")
    if [[ $got =~ ^\([0-9]+\.[0-9]{6}\)\ (.*)$ && ${BASH_REMATCH[1]} == "$4" ]]; then ok "$name"
    else not_ok "$name" "expected: (<time>) $4" "got:      ${got:-<nothing>}"; fi
}

for ifc in vcan0 vcan1; do
    if ! info=$(ip -details link show dev "$ifc" 2>&1); then not_ok "$ifc exists (ip from iproute2)" "$info"; continue; fi
    [[ $info == *"state UP"* || $info == *"state UNKNOWN"* ]] && [[ $info == *"<"*UP*">"* ]] && [[ $info == *" vcan "* ]] &&
        [[ $info == *"mtu 72 "* ]] && ok "$ifc is a vcan interface, up, mtu 72 (CAN FD)" ||
        not_ok "$ifc is a vcan interface, up, mtu 72 (CAN FD)" "$info"
done
if ip link show dev lo | grep -q '<.*UP.*>'; then ok "lo is up"; else not_ok "lo is up" "$(ip link show dev lo)"; fi
rmem=$(cat /proc/sys/net/core/rmem_max)
if [ "$rmem" -ge 8388608 ]; then ok "net.core.rmem_max >= 8388608"; else not_ok "net.core.rmem_max >= 8388608" "is $rmem"; fi

check "classic frame on vcan0" vcan0 '123#DEADBEEF' 'vcan0 123#DEADBEEF'
# 13 data bytes are not a valid CAN FD length: the kernel frame is 16 bytes, zero-padded
check "CAN FD frame (BRS) on vcan0" vcan0 '123##1AABBCCDDEEFF00112233445566' 'vcan0 123##1AABBCCDDEEFF00112233445566000000'
check "CAN FD frame, 64 bytes, on vcan0" vcan0 "1ABCDEF0##0$(printf '%02X' $(seq 0 63) | tr -d '\n')" \
    "vcan0 1ABCDEF0##0$(printf '%02X' $(seq 0 63) | tr -d '\n')"
check "classic frame on vcan1" vcan1 '7FF#0102030405060708' 'vcan1 7FF#0102030405060708'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
