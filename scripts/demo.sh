#!/usr/bin/env bash
# The main job, on a fresh machine: installs what the build links (libsocketcan-dev), builds the
# release binary and runs the gateway on the bundled demo drive (real time, looped) with the
# assistant API on 127.0.0.1:8080 and a live status line. Ctrl-C stops it.
# Any arguments replace the default command: scripts/demo.sh decode --dbc DBC/demo_vehicle.dbc DBC/demo_drive.log
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/system-deps.sh
swift build -c release --product vehicle-gateway >&2
if [ $# -eq 0 ]; then
    set -- run
fi
exec .build/release/vehicle-gateway "$@"
