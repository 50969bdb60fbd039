import CANBus
import Foundation
import Gateway
import VehicleState

// Usage: StateFigures MAPPING LOG [seconds]
// OURS state_end_to_end: candump text -> decode -> mapping -> store -> driving context through
//   the gateway's one frame path (ReplaySource as fast as it goes), frames/s on one core.
// OURS feed_updates: path updates/s by one writer marking the change feed while 10
//   subscribers take coalesced batches and read the changed values.

let args = CommandLine.arguments
guard args.count >= 3 else { print("usage: StateFigures MAPPING LOG [seconds]"); exit(2) }
let budget = args.count > 3 ? Double(args[3])! : 3
let mapping = try CompiledMapping.load(path: args[1])
let buses = try BusResolver(mapping: mapping)

// 1. End to end from log text (first, while the machine is quiet).
var bestFrames = 0.0
let end2 = SystemClock.monotonicSeconds() + budget
repeat {
    let state = GatewayState(mapping: mapping)
    var path = FramePath(state: state)
    var options = ReplaySource.Options(logs: [args[2]])
    options.fast = true
    let t0 = SystemClock.monotonicSeconds()
    try ReplaySource(options, buses: buses).run(into: &path)
    let frames = (0..<state.buses.count).reduce(0) { $0 + Int(state.buses.frames($1)) }
    bestFrames = max(bestFrames, Double(frames) / (SystemClock.monotonicSeconds() - t0))
    if state.tracked.motion == .unknown { print("") }
} while SystemClock.monotonicSeconds() < end2
print("OURS state_end_to_end \(Int(bestFrames)) frames/s")
if ProcessInfo.processInfo.environment["ONLY_END_TO_END"] != nil { exit(0) }

// 2. The change feed: one writer, ten subscribers.
let state = GatewayState(mapping: mapping)
let store = state.store, feed = state.feed
feed.start()
let paths = store.pathCount
final class Count: @unchecked Sendable { var batches = 0, reads = 0 }
let counts = (0..<10).map { _ in Count() }
let subscribers = (0..<10).map { i in
    let s = feed.subscribe(.everything)
    return Task.detached {
        for await batch in s {
            counts[i].batches += 1
            for p in batch.changed { _ = store.read(p); counts[i].reads += 1 }
        }
    }
}
var best = 0.0
let end = SystemClock.monotonicSeconds() + budget
repeat {
    let n = 2_000_000
    let t0 = SystemClock.monotonicSeconds()
    for i in 0..<n {
        let p = i % paths
        store.publish(p, value: Double(i), timestampNanoseconds: Int64(i), source: 0)
        feed.markChanged(p)
        feed.signal()
    }
    best = max(best, Double(n) / (SystemClock.monotonicSeconds() - t0))
} while SystemClock.monotonicSeconds() < end
try await Task.sleep(for: .milliseconds(100))
feed.stop()
for s in subscribers { await s.value }
print("OURS feed_updates \(Int(best)) updates/s (10 subscribers took \(counts.map(\.batches).reduce(0, +)) coalesced batches, read \(counts.map(\.reads).reduce(0, +)) values)")
