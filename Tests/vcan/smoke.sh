#!/usr/bin/env bash
# Smoke test of the vcan harness: real SocketCAN traffic on vcan0 and vcan1 with can-utils.
# Needs vcan0 and vcan1 up with mtu 72, so run it through the harness (from the repo root):
#   bash scripts/vcan-vm.sh -- bash Tests/vcan/smoke.sh
# Prints "N passed, M failed" and exits 1 if anything failed.
#
# In the VM every exec of a program costs 0.1-0.3 s (software emulation, binaries read over
# 9p), so the waiting below is done with bash builtins only, never a `sleep`/`ls` poll loop.
set -u
PASS=0
FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vcan-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
exec {NAP_FD}<> <(:) # a pipe nobody writes to: `read -t` on it is a sleep without a process
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
not_ok() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; shift; [ $# -eq 0 ] || printf '       %s\n' "$@"; }

# RCV := number of CAN receivers registered on interface $1 with no filter (candump's)
RCVLIST=/proc/net/can/rcvlist_all
rcv_count() {
    local line
    RCV=0
    while IFS= read -r line; do [[ $line == *" $1 "* ]] && RCV=$((RCV + 1)); done <"$RCVLIST"
}

# receive IFACE FRAME: start `candump -L -n 1 IFACE` (an FD-capable socket by default), wait
# until it is bound, send FRAME with cansend; RECEIVED := what candump printed (or why not)
N=0
receive() {
    local ifc=$1 frame=$2 out=$TMP/candump.$((++N)) pid before=0 fd deadline=$((SECONDS + 15))
    [ -r "$RCVLIST" ] && rcv_count "$ifc" && before=$RCV
    candump -L -n 1 "$ifc" >"$out" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        if [ -r "$RCVLIST" ]; then # bound: its receiver is registered on the interface
            rcv_count "$ifc"
            ((RCV > before)) && break
        else # no /proc/net/can: wait for its socket, then give bind() a moment
            for fd in /proc/"$pid"/fd/*; do [[ -S $fd ]] && { nap 0.3; break 2; }; done
        fi
        nap 0.05
    done
    cansend "$ifc" "$frame" || echo "cansend $ifc $frame failed" >>"$out"
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do nap 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        wait "$pid" 2>/dev/null
        echo "candump received nothing within 15 s" >>"$out"
    else
        wait "$pid" || echo "candump exit status $?" >>"$out"
    fi
    RECEIVED=$(<"$out")
}

# check NAME IFACE FRAME EXPECTED...: candump's line after the timestamp must be one of EXPECTED
check() {
    local name=$1 e
    receive "$2" "$3"
    shift 3
    if [[ $RECEIVED =~ ^\([0-9]+\.[0-9]{6}\)\ (.*)$ ]]; then
        for e in "$@"; do [[ ${BASH_REMATCH[1]} == "$e" ]] && { ok "$name"; return; }; done
    fi
    not_ok "$name" "expected: (<time>) $1${2:+  (or $2)}" "got:      ${RECEIVED:-<nothing>}"
}

# the interfaces, seen with the host's iproute2
for ifc in vcan0 vcan1; do
    name="$ifc: vcan, up, mtu 72 (CAN FD)"
    if ! info=$(ip -details link show dev "$ifc" 2>&1); then not_ok "$name" "$info"; continue; fi
    if [[ $info == *"<"*UP*">"* && $info == *" vcan "* && $info == *"mtu 72 "* ]]; then ok "$name"
    else not_ok "$name" "$info"; fi
done
info=$(ip link show dev lo 2>&1)
if [[ $info == *"<"*UP*">"* ]]; then ok "lo is up"; else not_ok "lo is up" "$info"; fi
rmem=$(</proc/sys/net/core/rmem_max)
if ((rmem >= 8388608)); then ok "net.core.rmem_max >= 8388608"; else not_ok "net.core.rmem_max >= 8388608" "is $rmem"; fi

check "classic frame on vcan0" vcan0 '123#DEADBEEF' 'vcan0 123#DEADBEEF'
# CAN FD: 13 data bytes are no valid FD length, so the kernel frame has 16, zero-padded.  Linux
# >= 6.0 also sets CANFD_FDF (0x04) in the flags of received FD frames, so the flags nibble
# is the sent one (older kernels) or that | 4 (the VM's 6.1): BRS 1 -> 5, none 0 -> 4.
check "CAN FD frame (BRS) on vcan0" vcan0 '123##1AABBCCDDEEFF00112233445566' \
    'vcan0 123##5AABBCCDDEEFF00112233445566000000' 'vcan0 123##1AABBCCDDEEFF00112233445566000000'
fd64=$(printf '%02X' {0..63})
check "CAN FD frame, 64 bytes, extended id, on vcan0" vcan0 "1ABCDEF0##0$fd64" \
    "vcan0 1ABCDEF0##4$fd64" "vcan0 1ABCDEF0##0$fd64"
check "classic frame on vcan1" vcan1 '7FF#0102030405060708' 'vcan1 7FF#0102030405060708'

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
