// swift-tools-version:6.1
import PackageDescription

// Data flows one way: CANBus ← DBC ← (SocketCAN, VehicleState) ← AssistantAPI ← vehicle-gateway.
// A lower layer never imports a higher one; `DBC` alone is a complete codec with no server.
let package = Package(
    name: "vehicle-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CANBus", targets: ["CANBus"]),
        .library(name: "DBC", targets: ["DBC"]),
        .library(name: "SocketCAN", targets: ["SocketCAN"]),
        .library(name: "VehicleState", targets: ["VehicleState"]),
        .library(name: "AssistantAPI", targets: ["AssistantAPI"]),
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
    ],
    targets: [
        // zlib, so candump logs may be gzip-compressed (*.log.gz).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CANBus", dependencies: ["CZlib"]),
        .target(name: "DBC", dependencies: ["CANBus"]),
        // Kernel structs and recvmmsg/cmsg handling that Swift cannot express (CMSG_* are macros).
        .target(name: "CSocketCAN"),
        // libsocketcan (Debian: libsocketcan-dev) for controller state, bit rate and restart.
        .systemLibrary(name: "CLibSocketCAN", pkgConfig: "libsocketcan", providers: [.apt(["libsocketcan-dev"])]),
        .target(name: "SocketCAN", dependencies: ["CANBus", "CSocketCAN", "CLibSocketCAN"]),
        .target(name: "VehicleState", dependencies: [
            "CANBus", "DBC",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "AssistantAPI", dependencies: [
            "CANBus", "VehicleState",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "MCP", package: "swift-sdk"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .executableTarget(
            name: "vehicle-gateway",
            dependencies: [
                "CANBus", "DBC", "SocketCAN", "VehicleState", "AssistantAPI",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "CANBusTests", dependencies: ["CANBus"]),
        .testTarget(name: "DBCTests", dependencies: ["DBC", "CANBus"]),
        .testTarget(name: "SocketCANTests", dependencies: ["SocketCAN", "CANBus"]),
        .testTarget(name: "VehicleStateTests", dependencies: ["VehicleState", "DBC", "CANBus"]),
        .testTarget(name: "AssistantAPITests", dependencies: ["AssistantAPI", "VehicleState", "CANBus"]),
    ]
)
