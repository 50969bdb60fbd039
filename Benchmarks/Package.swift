// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package so the product build and CI's test build do not
// compile the benchmark framework. Run with scripts/bench.sh (it also measures cantools).
let package = Package(
    name: "vehicle-gateway-benchmarks",
    dependencies: [
        .package(name: "vehicle-gateway", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Prints the headline figures as `OURS <name> <value> <unit>` beside cantools' `REF` lines.
        .executableTarget(
            name: "CodecFigures",
            dependencies: [
                .product(name: "CANBus", package: "vehicle-gateway"),
                .product(name: "CANLog", package: "vehicle-gateway"),
                .product(name: "DBC", package: "vehicle-gateway"),
            ],
            path: "Benchmarks/CodecFigures"
        ),
        // Store updates with subscribers reading, and candump text -> driving context.
        .executableTarget(
            name: "StateFigures",
            dependencies: [
                .product(name: "CANBus", package: "vehicle-gateway"),
                .product(name: "Gateway", package: "vehicle-gateway"),
                .product(name: "VehicleState", package: "vehicle-gateway"),
            ],
            path: "Benchmarks/StateFigures"
        ),
        // A kuksa.val.v2 subscriber in Swift (grpc-swift 2): updates per second and frame → subscriber latency.
        .executableTarget(
            name: "GRPCFigures",
            dependencies: [
                .product(name: "KuksaProtos", package: "vehicle-gateway"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            path: "Benchmarks/GRPCFigures"
        ),
        // The uplink's queue and connection against a real broker: messages/s acknowledged,
        // written to the on-disk queue per fsync policy, and drained after a restart.
        .executableTarget(
            name: "UplinkFigures",
            dependencies: [
                .product(name: "Uplink", package: "vehicle-gateway"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/UplinkFigures"
        ),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CANBus", package: "vehicle-gateway"),
                .product(name: "CANLog", package: "vehicle-gateway"),
                .product(name: "DBC", package: "vehicle-gateway"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
