import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KuksaProtos
import Synchronization

// Usage:
//   GRPCFigures PORT throughput SECONDS SUBSCRIBERS   every mapped path, SUBSCRIBERS streams at once:
//                                                     prints OURS grpc_updates_per_s N (signal updates, all streams)
//   GRPCFigures PORT latency SECONDS PATH             one stream of PATH: prints one latency per update
//                                                     (now − the datapoint's frame time, ms; the feeder
//                                                     writes frames stamped with the wall clock)
// A token, if the gateway needs one, from $VG_TOKEN.

@Sendable func wallSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func throughput(_ val: Kuksa_Val_V2_VAL.Client<HTTP2ClientTransport.Posix>, metadata: Metadata, seconds: Double, streams: Int) async throws {
    let paths = try await val.listMetadata(.with { $0.root = "Vehicle" }, metadata: metadata).metadata.map(\.path)
    final class Counter: Sendable { let value = Mutex(0) }
    let counter = Counter()
    let start = wallSeconds(), deadline = start + seconds
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<streams {
            group.addTask {
                try? await val.subscribe(.with { $0.signalPaths = paths; $0.bufferSize = 0 }, metadata: metadata) { response in
                    for try await message in response.messages {
                        counter.value.withLock { $0 += message.entries.count }
                        if wallSeconds() > deadline { return }
                    }
                }
            }
        }
    }
    let elapsed = wallSeconds() - start
    print("OURS grpc_updates_per_s \(Int(Double(counter.value.withLock { $0 }) / elapsed)) (\(streams) streams of \(paths.count) signals, \(String(format: "%.1f", elapsed)) s)")
}

func latency(_ val: Kuksa_Val_V2_VAL.Client<HTTP2ClientTransport.Posix>, metadata: Metadata, seconds: Double, path: String) async throws {
    let deadline = wallSeconds() + seconds
    let latencies = try await val.subscribe(.with { $0.signalPaths = [path] }, metadata: metadata) { response -> [Double] in
        var first = true
        var out: [Double] = []
        for try await message in response.messages {
            let now = wallSeconds()
            if first { first = false; continue }  // the current value, sent at once
            guard let dp = message.entries[path], dp.hasValue else { continue }
            let t = Double(dp.timestamp.seconds) + Double(dp.timestamp.nanos) / 1e9
            out.append((now - t) * 1000)
            if now > deadline { break }
        }
        return out
    }
    for l in latencies { print(String(format: "LAT %.4f", l)) }
}

let args = CommandLine.arguments
guard args.count >= 5, let port = Int(args[1]), let seconds = Double(args[3]) else {
    print("usage: GRPCFigures PORT throughput|latency SECONDS SUBSCRIBERS|PATH")
    exit(2)
}
let mode = args[2], last = args[4]
var headers: Metadata = [:]
if let token = ProcessInfo.processInfo.environment["VG_TOKEN"] { headers.addString("Bearer \(token)", forKey: "authorization") }
let metadata = headers
let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
try await withGRPCClient(transport: transport) { client in
    let val = Kuksa_Val_V2_VAL.Client(wrapping: client)
    if mode == "throughput" {
        try await throughput(val, metadata: metadata, seconds: seconds, streams: Int(last) ?? 1)
    } else {
        try await latency(val, metadata: metadata, seconds: seconds, path: last)
    }
}
