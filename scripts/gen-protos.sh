#!/usr/bin/env bash
# Regenerates Sources/KuksaProtos/ from Protos/kuksa/val/v2/*.proto and Sources/UplinkProtos/ from
# Protos/vehicle_gateway/uplink.proto with Debian's protoc and the
# protoc-gen-swift / protoc-gen-grpc-swift-2 plugins built from the resolved swift-protobuf and
# grpc-swift-protobuf packages. The generated code is committed, so a normal build needs neither
# protoc nor the plugins (SwiftPM's build plugins would compile protoc from C++ on every clean
# build). Run after editing the .proto files; Tests/api/test_kuksa.py compares the .proto files'
# descriptors with the ones built into PyPI's kuksa-client wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v protoc >/dev/null || [ ! -f /usr/include/google/protobuf/timestamp.proto ]; then
    echo "== installing protobuf-compiler libprotobuf-dev (apt)"
    apt-get install -y -q protobuf-compiler libprotobuf-dev >/dev/null
fi
flock /tmp/swift-build.lock swift build --product protoc-gen-swift
flock /tmp/swift-build.lock swift build --product protoc-gen-grpc-swift-2
bin=$(swift build --show-bin-path)
out=Sources/KuksaProtos
rm -f "$out"/*.swift
protoc -I Protos -I /usr/include \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$out" --swift_opt=Visibility=Public \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" --grpc-swift_out="$out" \
    --grpc-swift_opt=Visibility=Public,Client=true,Server=true \
    Protos/kuksa/val/v2/types.proto Protos/kuksa/val/v2/val.proto
# protoc writes into the proto's package folders; the target wants its files flat.
find "$out" -name '*.swift' -path "$out/*/*" -exec mv {} "$out"/ \;
find "$out" -mindepth 1 -type d -empty -delete
grep -l "This file contained no services" "$out"/*.grpc.swift | xargs -r rm
ls -l "$out"
out=Sources/UplinkProtos
mkdir -p "$out"
rm -f "$out"/*.swift
protoc -I Protos --plugin=protoc-gen-swift="$bin/protoc-gen-swift" --swift_out="$out" --swift_opt=Visibility=Public \
    Protos/vehicle_gateway/uplink.proto
find "$out" -name '*.swift' -path "$out/*/*" -exec mv {} "$out"/ \;
find "$out" -mindepth 1 -type d -empty -delete
ls -l "$out"
