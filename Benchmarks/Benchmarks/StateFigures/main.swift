import CANBus
import Foundation
import VehicleState

// Usage: StateFigures MAPPING LOG [seconds]
// OURS store_updates: path updates/s by one writer while 10 subscriber threads read the change feed.
// OURS state_end_to_end: candump text -> decode -> mapping -> store -> driving context, frames/s.

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let args = CommandLine.arguments
guard args.count >= 3 else { print("usage: StateFigures MAPPING LOG [seconds]"); exit(2) }
let budget = args.count > 3 ? Double(args[3])! : 3

// 1. End to end from log text (first, while the machine is quiet), with the driving context kept current.
let mapping = try CompiledMapping.load(path: args[1])
var bestFrames = 0.0
let end2 = now() + budget
repeat {
    var engine = VehicleStateEngine(mapping: mapping)
    engine.context = DrivingContextTracker(mapping: mapping)
    var reader = try CandumpReader(path: args[2])
    var frames = 0
    let t0 = now()
    while let r = try reader.next() {
        engine.ingest(bus: 0, r)
        frames += 1
    }
    bestFrames = max(bestFrames, Double(frames) / (now() - t0))
    if engine.context!.motion == .unknown { print("") }
} while now() < end2
print("OURS state_end_to_end \(Int(bestFrames)) frames/s")

// 2. The store: one writer, ten subscribers polling for changes the whole time.
let onlyEndToEnd = ProcessInfo.processInfo.environment["ONLY_END_TO_END"] != nil
let paths = 64
let store = VehicleStateStore(pathCount: paths)
let stop = NSLock()
nonisolated(unsafe) var running = true
nonisolated(unsafe) var subscriberReads = [Int](repeating: 0, count: 10)
var threads: [Thread] = []
for s in 0..<(onlyEndToEnd ? 0 : 10) {
    let t = Thread {
        var seen: UInt64 = 0
        var reads = 0
        while true {
            stop.lock(); let go = running; stop.unlock()
            if !go { break }
            let changes = store.changes(since: seen)
            reads += changes.count
            if let newest = changes.map(\.entry.version).max() { seen = newest }
        }
        subscriberReads[s] = reads
    }
    t.start()
    threads.append(t)
}
var best = 0.0
let end = now() + budget
var round = 0
if !onlyEndToEnd { repeat {
    let n = 2_000_000
    let t0 = now()
    for i in 0..<n {
        store.publish(i & (paths - 1), value: Double(i), timestampNanoseconds: Int64(i), source: 0)
    }
    best = max(best, Double(n) / (now() - t0))
    round += 1
} while now() < end }
stop.lock(); running = false; stop.unlock()
Thread.sleep(forTimeInterval: 0.2)
print("OURS store_updates \(Int(best)) updates/s (10 subscribers read \(subscriberReads.reduce(0, +)) coalesced changes)")

