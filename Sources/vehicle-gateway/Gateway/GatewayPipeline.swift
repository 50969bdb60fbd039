#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CANBus
import Foundation
import SocketCAN
import VehicleState

/// The frame path of a running gateway, on its own thread: frames from live SocketCAN
/// interfaces or replayed logs → decode → mapping → store → driving context. It is the only
/// writer of the `LiveVehicleState` the API reads.
final class GatewayPipeline: @unchecked Sendable {
    struct Sources: Sendable {
        var replays: [String] = []
        var interfaces: [String] = []
        var speed = 1.0
        /// Passes over the logs; 0 = forever.
        var loop = 1
        var fast = false
    }

    let live: LiveVehicleState
    let sources: Sources
    var engine: VehicleStateEngine
    var tracker: DrivingContextTracker
    let contextPaths: [Int]
    var contextVersions: [UInt64]
    var lastContextPublish: Int64 = 0
    var busByInterface: [String: Int] = [:]
    let stopFlag = ManagedAtomic<Bool>(false)
    let finished = ManagedAtomic<Bool>(false)
    /// Called once from the pipeline thread when it stops on its own (the replay ended) or fails.
    var onEnd: (@Sendable (String?) -> Void)?

    init(mapping: CompiledMapping, sources: Sources) {
        self.sources = sources
        engine = VehicleStateEngine(mapping: mapping)
        tracker = DrivingContextTracker(mapping: mapping)
        engine.context = tracker
        live = LiveVehicleState(mapping: mapping, store: engine.store)
        contextPaths = tracker.inputPaths
        contextVersions = Array(repeating: 0, count: contextPaths.count)
        for (i, b) in mapping.buses.enumerated() { if let name = b.interface { busByInterface[name] = i } }
    }

    func start() {
        beat()
        let t = Thread { [self] in
            var failure: String?
            do {
                if sources.interfaces.isEmpty { try runReplay() } else { try runLive() }
            } catch {
                failure = "\(error)"
                for b in live.buses { b.set(.down, reason: "source failed: \(error)") }
            }
            finished.store(true, ordering: .releasing)
            onEnd?(failure)
        }
        t.name = "frame-path"
        t.stackSize = 8 << 20
        t.start()
    }

    func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Monotonic ns of the frame path's last sign of life (it beats at least every 100 ms
    /// unless it waits for a piped log's next line).
    let heartbeat = ManagedAtomic<Int64>(0)
    @inline(__always) func beat() { heartbeat.store(Self.monotonicNanoseconds(), ordering: .relaxed) }

    /// Alive: ended on its own, waiting on a pipe, or beating within the last 2 s.
    var isResponsive: Bool {
        finished.load(ordering: .acquiring) || sources.replays.contains("-")
            || Self.monotonicNanoseconds() - heartbeat.load(ordering: .relaxed) < 2_000_000_000
    }
    var stopping: Bool { stopFlag.load(ordering: .relaxed) }

    func bus(for interface: String) -> Int { busByInterface[interface] ?? 0 }

    /// One frame through the engine, with the per-bus counters and context publication.
    @inline(__always)
    func ingest(_ record: CANLogRecord, bus: Int) {
        let counters = live.buses[bus]
        counters.add(counters.frames)
        counters.lastFrameWall.store(FrameClock.wallNanoseconds(), ordering: .relaxed)
        live.clock.noteFrame(record.timestamp.totalNanoseconds)
        if case .error = record.frame { counters.add(counters.errorFrames); return }
        let result = engine.ingest(bus: bus, record)
        switch result.outcome {
        case .unknownMessage: counters.add(counters.unknownFrames)
        case .notMapped, .unchanged: break
        case .changed:
            publishContextIfChanged(at: record.timestamp)
            live.changes.signal()
        }
        if result.isShort { counters.add(counters.shortFrames) }
    }

    /// A new context snapshot when one of its inputs changed, at most once a millisecond.
    func publishContextIfChanged(at time: CANTimestamp) {
        var changed = false
        for (k, p) in contextPaths.enumerated() {
            let v = live.store.version(of: p)
            if v != contextVersions[k] { contextVersions[k] = v; changed = true }
        }
        guard changed else { return }
        let wall = FrameClock.wallNanoseconds()
        guard wall - lastContextPublish >= 1_000_000 else { return }
        lastContextPublish = wall
        guard let tracker = engine.context else { return }
        live.publish(tracker.snapshot(engine, now: time))
    }

    // MARK: Replay

    /// Replays the logs merged by time: with their own timing (scaled by `speed`) and frame
    /// times moved to now, as if the frames arrived live; or as fast as possible with the
    /// log's own times. Loops restart from the first frame with times continuing.
    func runReplay() throws {
        let wallStart = FrameClock.wallNanoseconds()
        let monoStart = Self.monotonicNanoseconds()
        if sources.fast { live.clock.anchor(frame: 0, wall: wallStart, rate: 0) } else { live.clock.anchor(frame: wallStart, wall: wallStart, rate: sources.speed) }
        for b in live.buses { b.set(.up); b.describeSource("replay " + sources.replays.joined(separator: ", ") + (sources.fast ? " (fast)" : " at \(sources.speed)x")) }
        var logStart: Int64?
        var loopOffset: Int64 = 0
        var lastWake: Int64 = 0
        var pass = 0
        while !stopping, sources.loop == 0 || pass < sources.loop {
            pass += 1
            var cursors = try sources.replays.map { try LogCursor(path: $0, live: live) }
            var last: Int64 = logStart ?? 0
            while !stopping {
                // The earliest head among the logs. Heads are read only when needed, after the
                // previous frame went through: a log on a pipe is processed as each line arrives.
                var pick = -1
                for (i, c) in cursors.enumerated() {
                    try c.fill()
                    if c.head != nil, pick < 0 || c.head!.timestamp < cursors[pick].head!.timestamp { pick = i }
                }
                guard pick >= 0 else { break }
                var record = cursors[pick].head!
                cursors[pick].head = nil
                let t = record.timestamp.totalNanoseconds
                if logStart == nil { logStart = t }
                last = max(last, t)
                let offset = t - logStart! + loopOffset
                if sources.fast {
                    if loopOffset != 0 { record.timestamp = CANTimestamp(totalNanoseconds: t + loopOffset, fractionDigits: 6) }
                } else {
                    let due = monoStart + Int64(Double(offset) / sources.speed)
                    if due > lastWake {
                        // Not due yet: sleep until half a millisecond after it, so the frames due
                        // in that half millisecond go through on one wake-up (never early).
                        while !stopping {
                            let now = Self.monotonicNanoseconds()
                            heartbeat.store(now, ordering: .relaxed)
                            if now >= due { lastWake = now; break }
                            Self.sleep(nanoseconds: min(due - now + 500_000, 100_000_000))
                        }
                    }
                    record.timestamp = CANTimestamp(totalNanoseconds: wallStart + offset, fractionDigits: 6)
                }
                ingest(record, bus: bus(for: record.interface))
            }
            cursors.removeAll()
            // The next pass continues the timeline 10 ms after this one's last frame.
            if let s = logStart { loopOffset += last - s + 10_000_000; logStart = s }
            if sources.replays.contains("-") { break }
        }
        for b in live.buses { b.set(.ended, reason: stopping ? "stopped" : "replay finished") }
    }

    final class LogCursor {
        var reader: CandumpReader
        var head: CANLogRecord?
        let live: LiveVehicleState

        init(path: String, live: LiveVehicleState) throws {
            self.live = live
            reader = try CandumpReader(path: path, mode: .lenient)
            reader.onMalformedLine = { e in
                live.malformedLines.wrappingIncrement(ordering: .relaxed)
                FileHandle.standardError.write(Data("vehicle-gateway: \(e)\n".utf8))
            }
        }

        /// Reads the next record into `head` unless one is waiting (nil head after: the end).
        func fill() throws {
            guard head == nil, !ended else { return }
            head = try reader.next()
            if head == nil { ended = true }
        }
        var ended = false
    }

    // MARK: Live

    func runLive() throws {
        live.clock.anchor(frame: 0, wall: 0, rate: 1)
        var options = CANSocketOptions()
        options.receiveBufferBytes = 4 << 20
        let reader = CANReader(interfaces: sources.interfaces, options: options)
        for name in sources.interfaces {
            let b = bus(for: name)
            live.buses[b].set(.up)
            live.buses[b].describeSource("socketcan " + name)
        }
        var lastName = "", lastBus = 0
        try reader.run(shouldStop: { beat(); return stopping }, emit: { event in
            switch event {
            case .frame(let record):
                if record.interface != lastName { lastName = record.interface; lastBus = bus(for: lastName) }
                ingest(record, bus: lastBus)
            case .busError(let record, let error):
                let b = bus(for: record.interface)
                live.buses[b].add(live.buses[b].errorFrames)
                if error.classes.contains(.busOff) { live.buses[b].set(.busOff, reason: "\(error)") }
                else if error.classes.contains(.restarted) { live.buses[b].set(.up) }
                else if error.controller.contains(.rxPassive) || error.controller.contains(.txPassive) { live.buses[b].set(.errorPassive, reason: "\(error)") }
            case .interfaceDown(let name, let reason):
                live.buses[bus(for: name)].set(.down, reason: reason)
            case .interfaceUp(let name):
                live.buses[bus(for: name)].set(.up)
            case .kernelDrops(let name, let newDrops, _):
                let b = live.buses[bus(for: name)]
                b.add(b.kernelDrops, UInt64(newDrops))
            }
        })
    }

    static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func sleep(nanoseconds: Int64) {
        var ts = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var left = timespec()
        while nanosleep(&ts, &left) == -1 && errno == EINTR { ts = left }
    }
}
