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
        .executable(name: "vehicle-gateway", targets: ["vehicle-gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        .target(name: "CANBus"),
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
        .executableTarget(
            name: "vehicle-gateway",
            dependencies: [
                "CANBus", "DBC", "SocketCAN", "VehicleState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "CANBusTests", dependencies: ["CANBus"]),
        .testTarget(name: "DBCTests", dependencies: ["DBC", "CANBus"]),
        .testTarget(name: "SocketCANTests", dependencies: ["SocketCAN", "CANBus"]),
        .testTarget(name: "VehicleStateTests", dependencies: ["VehicleState", "DBC", "CANBus"]),
    ]
)
