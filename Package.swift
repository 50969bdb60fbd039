// swift-tools-version:6.1
import PackageDescription

// Data flows one way; a lower layer never imports a higher one:
//   CANBus ← DBC ← (SocketCAN, Integrity + VehicleState) ← Gateway (the frame path) ← (AssistantAPI, Uplink, KuksaAPI) ← vehicle-gateway
// CANBus and DBC need no C library: `DBC` alone is a complete codec. Reading gzip logs (CANLog)
// needs zlib; controller control (CANControl) needs libsocketcan; the uplink needs libmosquitto.
let package = Package(
    name: "vehicle-gateway",
    products: [
        .library(name: "CANBus", targets: ["CANBus"]),
        .library(name: "CANLog", targets: ["CANLog"]),
        .library(name: "DBC", targets: ["DBC"]),
        .library(name: "DecodeOutput", targets: ["DecodeOutput"]),
        .library(name: "SocketCAN", targets: ["SocketCAN"]),
        .library(name: "CANControl", targets: ["CANControl"]),
        .library(name: "Integrity", targets: ["Integrity"]),
        .library(name: "VehicleState", targets: ["VehicleState"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "Simulate", targets: ["Simulate"]),
        .library(name: "AssistantAPI", targets: ["AssistantAPI"]),
        .library(name: "Uplink", targets: ["Uplink"]),
        .library(name: "Fleet", targets: ["Fleet"]),
        .library(name: "KuksaProtos", targets: ["KuksaProtos"]),
        .library(name: "UplinkProtos", targets: ["UplinkProtos"]),
        .library(name: "KuksaAPI", targets: ["KuksaAPI"]),
        .library(name: "AccessControl", targets: ["AccessControl"]),
        .executable(name: "vehicle-gateway", targets: ["vehicle-gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Frames, ids, timestamps, the candump line grammar; the shared clock, errno error and diagnostic.
        .target(name: "CANBus"),
        // zlib, so candump logs may be gzip-compressed (*.log.gz).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CANLog", dependencies: ["CANBus", "CZlib"]),
        .target(name: "DBC", dependencies: ["CANBus"]),
        .target(name: "DecodeOutput", dependencies: ["CANBus", "CANLog", "DBC"]),
        // Kernel structs and recvmmsg/cmsg handling that Swift cannot express (CMSG_* are macros).
        .target(name: "CSocketCAN"),
        // argc/argv saved before main: the Swift runtime reads them from /proc, which may be missing.
        .target(name: "CProcessArguments"),
        .target(name: "SocketCAN", dependencies: ["CANBus", "CSocketCAN"]),
        // libsocketcan (Debian: libsocketcan-dev) for controller state, bit rate and restart.
        .systemLibrary(name: "CLibSocketCAN", pkgConfig: "libsocketcan", providers: [.apt(["libsocketcan-dev"])]),
        .target(name: "CANControl", dependencies: ["CSocketCAN", "CLibSocketCAN"]),
        // End-to-end checks of payloads: CRCs, AUTOSAR E2E profiles, opendbc's car checksums,
        // counters, and the validity state machine. Pure computation: it imports nothing.
        .target(name: "Integrity"),
        .target(name: "VehicleState", dependencies: [
            "CANBus", "DBC", "Integrity",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        // The frame path as a library: sources (replay, live), the one FramePath, the change feed.
        .target(name: "Gateway", dependencies: [
            "CANBus", "CANLog", "CSocketCAN", "SocketCAN", "Integrity", "VehicleState",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        // The demo car: a seeded city drive and the scripted short drive, as candump logs.
        .target(name: "Simulate", dependencies: ["CANBus", "DBC", "Integrity"]),
        .target(name: "AssistantAPI", dependencies: [
            "CANBus", "VehicleState", "Gateway", "AccessControl",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "MCP", package: "swift-sdk"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // libmosquitto (Debian: libmosquitto-dev; linked statically into the deployable binary).
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        // The fleet uplink: the context and status to an MQTT broker, a consumer of the change feed.
        // The uplink's compact messages, generated from Protos/vehicle_gateway/uplink.proto by
        // scripts/gen-protos.sh (committed).
        .target(name: "UplinkProtos", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "Uplink", dependencies: [
            "CANBus", "CSocketCAN", "CMosquitto", "Gateway", "Integrity", "VehicleState", "UplinkProtos",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The fleet side: a shared-subscription consumer of every vehicle's uplink, serving what it saw.
        .target(name: "Fleet", dependencies: [
            "CANBus", "CMosquitto", "Uplink",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Who may read what: the API token and KUKSA-style scoped JWTs (RS256, ES256), for every API.
        .target(name: "AccessControl", dependencies: [
            "CANBus", "Gateway",
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // kuksa.val.v2 messages and service stubs, generated from Protos/ by scripts/gen-protos.sh
        // (committed, so a build needs neither protoc nor the code-generator plugins).
        .target(name: "KuksaProtos", dependencies: [
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        ]),
        // The KUKSA-compatible gRPC API (kuksa.val.v2, read-only), a consumer of the change feed.
        .target(name: "KuksaAPI", dependencies: [
            "Gateway", "VehicleState", "KuksaProtos", "AccessControl",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "GRPCCore", package: "grpc-swift-2"),
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Atomics", package: "swift-atomics"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(
            name: "vehicle-gateway",
            dependencies: [
                "CANBus", "CANLog", "DBC", "DecodeOutput", "SocketCAN", "CANControl", "VehicleState", "Gateway", "Simulate", "AssistantAPI", "Uplink", "KuksaAPI", "AccessControl", "Fleet", "CProcessArguments",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The sanitizer driver (scripts/sanitize.sh): the frame path under ThreadSanitizer with
        // readers on every side, and the parsers of outside input under AddressSanitizer.
        .executableTarget(name: "vg-sanitize", dependencies: ["CANBus", "CANLog", "DBC", "Gateway", "VehicleState"],
                          path: "Tests/Sanitizers"),
        // Deterministic instruction counts of the decode output and the frame path (under callgrind).
        .executableTarget(name: "vg-instructions", dependencies: ["CANBus", "CANLog", "DBC", "DecodeOutput", "Gateway", "VehicleState"],
                          path: "Benchmarks/Instructions"),
        .testTarget(name: "CANBusTests", dependencies: ["CANBus", "CANLog"]),
        .testTarget(name: "AccessControlTests", dependencies: ["AccessControl"]),
        .testTarget(name: "UplinkTests", dependencies: ["Uplink", "VehicleState"]),
        .testTarget(name: "DBCTests", dependencies: ["DBC", "CANBus"]),
        .testTarget(name: "SocketCANTests", dependencies: ["SocketCAN", "CANControl", "CSocketCAN", "CANBus"]),
        .testTarget(name: "IntegrityTests", dependencies: ["Integrity"], exclude: ["Fixtures"]),
        .testTarget(name: "VehicleStateTests", dependencies: ["VehicleState", "Integrity", "DBC", "CANBus", "CANLog"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "VehicleState", "Integrity", "CANBus", "SocketCAN"]),
        .testTarget(name: "SimulateTests", dependencies: ["Simulate", "DBC", "CANBus", "VehicleState"]),
        .testTarget(name: "AssistantAPITests", dependencies: ["AssistantAPI"]),
    ]
)
