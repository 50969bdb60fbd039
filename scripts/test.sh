#!/usr/bin/env bash
# The whole test suite, as CI runs it on a fresh clone:
#   1. unit and property tests (XCTest) for every module,
#   2. the command-line tests (pytest driving the real binary, python-can as a second reader),
#      and the assistant API against clients we did not write (curl, websockets, MCP Python SDK),
#   3. the differential test against cantools on the DBC fixtures,
#   4. ThreadSanitizer over the frame path with readers and change-feed subscribers racing it,
#      and AddressSanitizer over every parser of outside input (scripts/sanitize.sh), and each
#      libFuzzer target for a short smoke (scripts/fuzz.sh),
#   5. the deployable static binary, run in a root file system with only glibc and libsocketcan,
#      and its instructions per frame (callgrind) against the budgets in Benchmarks/,
#   6. the SocketCAN tests on a real vcan bus: in a throw-away VM (this kernel has no CAN), or
#      directly where the host kernel has vcan (scripts/vcan-vm.sh decides).
# It installs what it needs (libsocketcan-dev, curl, a Python venv with cantools, python-can,
# pytest, mcp and websockets, and for the VM qemu, busybox-static, can-utils and Debian's stock kernel).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/system-deps.sh
. scripts/lib/test-deps.sh
. scripts/lib/python-env.sh

echo "== the manifest says the truth (each target declares exactly what it imports)"
python scripts/check-manifest.py
echo "== swift build (debug, with tests); our own targets must build warning-free"
mkdir -p .build
swift build --build-tests 2>&1 | tee .build/test-build.log
# A dependency's own notices are not ours; a warning in our sources fails the run.
if grep -E "^$PWD/(Sources|Tests|Benchmarks|Fuzz)/[^ ]*: warning:" .build/test-build.log | sort -u | grep .; then
    echo "our targets built with the warnings above: fix them" >&2
    exit 1
fi
echo "== unit tests"
swift test --skip-build

export VG_BIN="$PWD/.build/debug/vehicle-gateway"
echo "== command-line tests"
python -m pytest -q Tests/cli
echo "== assistant API with real clients (curl, websockets, the MCP Python SDK)"
python -m pytest -q -p no:cacheprovider Tests/api
echo "== differential test against cantools"
python Tests/Differential/diff_cantools.py --bin "$VG_BIN"
echo "== sanitizers: ThreadSanitizer (frame path and readers), AddressSanitizer (parsers)"
bash scripts/sanitize.sh
echo "== fuzzing smoke: every parser of outside input under libFuzzer, ${VG_FUZZ_RUNS:-20000} inputs each from seed 1 (deterministic)"
VG_FUZZ_RUNS=${VG_FUZZ_RUNS:-20000} bash scripts/fuzz.sh 0
echo "== deployable build: static release binary, checked in a root holding only glibc and libsocketcan"
bash scripts/build-static.sh --check   # dist/vehicle-gateway: the end-to-end tests run it
echo "== instruction budgets per frame (callgrind; Benchmarks/instruction-budgets.txt)"
bash scripts/check-instructions.sh
echo "== SocketCAN and the gateway end to end on a real vcan bus"
bash scripts/vcan-vm.sh --setup
bash scripts/vcan-vm.sh -- bash Tests/vcan/run-in-vm.sh
