#!/usr/bin/env bash
# The main job, on a fresh machine: installs what the build links (libsocketcan-dev), builds the
# release binary and decodes the bundled demo drive with the demo car's DBC.
# Any arguments replace the default command: scripts/demo.sh state --mapping DBC/demo_mapping.yaml DBC/demo_drive.log
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/system-deps.sh
swift build -c release --product vehicle-gateway >&2
if [ $# -eq 0 ]; then
    set -- decode --dbc DBC/demo_vehicle.dbc DBC/demo_drive.log
fi
exec .build/release/vehicle-gateway "$@"
