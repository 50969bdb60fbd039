#!/usr/bin/env bash
# Our concurrent parts under ThreadSanitizer and our parsers under AddressSanitizer, with zero
# reports: the sanitizer driver (Tests/Sanitizers) built with each sanitizer into its own
# scratch directory. Only the modules it uses are built (ours, Yams, swift-atomics), not the
# API's dependencies, so this stays a few minutes.
#   scripts/sanitize.sh [thread|address]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/system-deps.sh
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(thread address)
for kind in "${kinds[@]}"; do
    scratch=.build-${kind}-sanitizer
    echo "== building the sanitizer driver (-sanitize=$kind)" >&2
    swift build --sanitize="$kind" --scratch-path "$scratch" --product vg-sanitize 2>&1 | grep -Ev "^\[[0-9]+/[0-9]+\]|unhandled|CMakeLists|^ *\/.*\.(txt|md)$" >&2 || true
    bin=$scratch/debug/vg-sanitize
    [ -x "$bin" ] || { echo "!! the $kind-sanitized build failed" >&2; exit 1; }
    case $kind in
        thread)
            # Readers, feed subscribers and the frame path racing over the demo drive (3 passes).
            TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" "$bin" threads DBC/demo_mapping.yaml DBC/demo_drive.log ;;
        address)
            # Every DBC we have, the logs (text and gzip), the mapping and config files, each with
            # 300 seeded mutations (40 for the gzip log).
            ASAN_OPTIONS="halt_on_error=1 exitcode=66 detect_leaks=0" "$bin" parsers DBC/*.dbc Tests/Fixtures/dbc/*.dbc \
                DBC/demo_drive.log DBC/demo_city_drive.log.gz DBC/demo_mapping.yaml deploy/gateway.yaml ;;
        *) echo "unknown sanitizer $kind (thread, address)" >&2; exit 2 ;;
    esac
done
echo "== sanitizers: no reports" >&2
