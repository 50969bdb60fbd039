#!/usr/bin/env bash
# Runs inside the vcan VM (scripts/vcan-vm.sh): the SocketCAN XCTests and the live CLI tests
# against can-utils. Build on the host first (swift build --build-tests); nothing is built here.
set -uo pipefail
cd "$(dirname "$0")/../.."
export VG_VCAN=1
export TMPDIR=${TMPDIR:-/tmp}
status=0
echo "== SocketCAN XCTests on vcan"
.build/debug/vehicle-gatewayPackageTests.xctest SocketCANTests.VCANIntegrationTests || status=1
echo "== the frame path's live source on vcan"
.build/debug/vehicle-gatewayPackageTests.xctest GatewayTests.LiveSourceTests || status=1
echo "== live command-line tests against can-utils"
.venv-test/bin/python -m pytest -q -p no:cacheprovider Tests/vcan || status=1
exit $status
