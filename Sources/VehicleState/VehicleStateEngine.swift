import CANBus
import DBC
#if canImport(Glibc)
import Glibc
#endif

/// Whether a path's value may be presented as current.
public enum Freshness: Sendable, Equatable {
    case fresh
    /// Last updated `ageNanoseconds` ago, longer than its timeout.
    case stale(ageNanoseconds: Int64)
    /// Never received (or only invalid values so far).
    case unavailable
}

/// One path's latest value and where it came from.
public struct PathSample: Sendable, Equatable {
    public var value: Double
    /// The timestamp of the frame it came from (the log's own time during replay).
    public var timestamp: CANTimestamp
    /// Index into `CompiledMapping.sources` of the source that supplied it.
    public var source: Int
    /// When the gateway received it (CLOCK_REALTIME ns), which differs from `timestamp` in replay.
    public var receivedNanoseconds: Int64 = 0
}

/// Decoded frames in, VSS path values out: labels, validity, unit conversion, linear math,
/// priority between sources with fallback when the preferred one falls silent, and freshness.
///
/// Single writer: one thread calls `ingest`; readers on other threads read `store` (or a
/// `LiveVehicleState` around it), which never makes the writer wait.
public struct VehicleStateEngine {
    public let mapping: CompiledMapping
    /// Where values are published for readers on other threads.
    public let store: VehicleStateStore
    /// Called after each frame that changed a path (the driving context hooks in here).
    var samples: [PathSample?]
    /// Last time (ns, frame time) each source delivered a valid value.
    var sourceLastSeen: [Int64]
    /// Per path: values dropped as "not available" or out of range.
    public private(set) var dropped: [Int]
    /// Per source: its timeout (learned from the message rate where nothing gives one).
    public private(set) var sourceTimeout: [Int64]
    var sourceInterval: [Double]
    var sourceLastFrame: [Int64]
    /// Per path: the last minutes of published values.
    public private(set) var history: [PathHistory]
    var values: [DecodedValue]
    /// The newest frame time seen: "now" for freshness during replay.
    public private(set) var latestTime: CANTimestamp?

    public init(mapping: CompiledMapping) {
        self.mapping = mapping
        samples = Array(repeating: nil, count: mapping.paths.count)
        store = VehicleStateStore(pathCount: mapping.paths.count)
        sourceLastSeen = Array(repeating: Int64.min, count: mapping.sources.count)
        dropped = Array(repeating: 0, count: mapping.paths.count)
        sourceTimeout = mapping.sources.map(\.timeoutNanoseconds)
        sourceInterval = Array(repeating: 0, count: mapping.sources.count)
        sourceLastFrame = Array(repeating: Int64.min, count: mapping.sources.count)
        history = Array(repeating: PathHistory(), count: mapping.paths.count)
        values = Array(repeating: DecodedValue(), count: max(1, mapping.buses.map(\.codec.maxSignalCount).max() ?? 1))
    }

    /// What became of one frame.
    public enum IngestOutcome: UInt8, Sendable {
        /// Its id is not in the bus's DBC files (or it is an error frame).
        case unknownMessage
        /// Known, but no mapped path comes from it (or a remote frame).
        case notMapped
        /// Decoded; no path changed.
        case unchanged
        /// Decoded; at least one path changed.
        case changed
    }

    /// What became of a frame, and whether it was shorter than its message (the signals that
    /// did not fit were not decoded), so the caller counts without a second lookup.
    public struct IngestResult: Sendable {
        public var outcome: IngestOutcome
        public var isShort: Bool
        init(_ outcome: IngestOutcome, isShort: Bool = false) { self.outcome = outcome; self.isShort = isShort }
    }

    /// Feeds one frame received on bus `bus` (index into `mapping.buses`).
    @discardableResult
    public mutating func ingest(bus: Int, _ record: CANLogRecord) -> IngestResult {
        if latestTime.map({ record.timestamp > $0 }) ?? true { latestTime = record.timestamp }
        let codec = mapping.buses[bus].codec
        guard let id = record.frame.id, let message = codec.index(of: id) else { return IngestResult(.unknownMessage) }
        let isShort = record.frame.length < Int(codec.codecs[message].message.length)
        let start = Int(mapping.bindingStart[bus][message]), count = Int(mapping.bindingCount[bus][message])
        guard count > 0 else { return IngestResult(.notMapped, isShort: isShort) }
        switch record.frame { case .data, .fd: break; default: return IngestResult(.notMapped, isShort: isShort) }
        values.withUnsafeMutableBufferPointer { out in
            record.frame.withPayload { codec.decode(messageAt: message, $0, into: out) }
        }
        let now = record.timestamp.totalNanoseconds
        var changed = false
        var received: Int64 = 0  // read the clock once per frame, and only if something is published
        for k in start..<start + count {
            let b = mapping.bindings[k]
            let si = Int(b.source), pi = Int(b.path)
            let s = mapping.hotSources[si]
            if s.learnsTimeout { learnRate(si, now: now) }
            guard var value = sourceValue(s, si, bus: bus, message: message, pi) else { continue }
            guard value.isFinite, value >= s.minimum, value <= s.maximum else { dropped[pi] += 1; continue }
            let path = mapping.hotPaths[pi]
            if path.isInteger { value = value.rounded() }
            if path.isBoolean { value = value != 0 ? 1 : 0 }
            sourceLastSeen[si] = now
            // Priority: a source replaces the current one if it ranks at least as high, or if
            // the current source has fallen silent for longer than its timeout.
            if let current = samples[pi], current.source != si {
                let currentSilent = now - sourceLastSeen[current.source] > sourceTimeout[current.source]
                if !currentSilent, rank(of: si, in: pi) > rank(of: current.source, in: pi) { continue }
            }
            // Throttle: within the minimum interval, or a change inside the deadband, the value
            // stands (its time advances, so it stays fresh) but nothing new is published.
            if let current = samples[pi], current.source == si {
                if path.minIntervalNanoseconds > 0, now - current.timestamp.totalNanoseconds < path.minIntervalNanoseconds { continue }
                if path.deadband > 0, abs(value - current.value) < path.deadband {
                    // Still this value, as of now: fresher, but no change for subscribers.
                    samples[pi]!.timestamp = record.timestamp
                    store.publish(pi, value: current.value, timestampNanoseconds: now, source: si,
                                  receivedNanoseconds: current.receivedNanoseconds, timeoutNanoseconds: sourceTimeout[si], notify: false)
                    continue
                }
            }
            if received == 0 { received = Self.wallClockNanoseconds() }
            samples[pi] = PathSample(value: value, timestamp: record.timestamp, source: si, receivedNanoseconds: received)
            store.publish(pi, value: value, timestampNanoseconds: now, source: si, receivedNanoseconds: received,
                          timeoutNanoseconds: sourceTimeout[si])
            history[pi].append(time: now, value: value)
            changed = true
        }
        if changed, var tracker = context {
            context = nil  // no overlapping access: take it out, update, put it back
            tracker.update(samples: samples, timeouts: sourceTimeout, now: record.timestamp)
            context = tracker
        }
        return IngestResult(changed ? .changed : .unchanged, isShort: isShort)
    }

    static func wallClockNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// A source's place in its path's priority list (0 = preferred).
    func rank(of source: Int, in path: Int) -> Int { mapping.paths[path].sources.firstIndex(of: source) ?? 0 }

    /// The value a source gives for this frame (decoded into `values`), or nil (dropped).
    mutating func sourceValue(_ s: CompiledMapping.HotSource, _ si: Int, bus: Int, message: Int, _ path: Int) -> Double? {
        let decoded = values[Int(s.signal)]
        guard decoded.state == .present else { return nil }
        if s.hasLabels {
            let key = mapping.buses[bus].codec.codecs[message].labelKey(signal: Int(s.signal), raw: decoded.raw)
            guard let mapped = mapping.sources[si].labels[key] else { dropped[path] += 1; return nil }
            return mapped
        }
        if s.hasInvalid, mapping.sources[si].invalid.contains(where: { abs($0 - decoded.physical) <= 1e-9 * max(1, abs($0)) }) {
            dropped[path] += 1
            return nil
        }
        var physical = decoded.physical
        if s.combine != 0 {
            let partner = values[Int(s.partner)]
            guard partner.state == .present else { return nil }
            switch s.combine {
            case 1: physical = partner.physical != 0 ? -abs(physical) : abs(physical)
            case 2: physical = physical * s.lowScale + partner.physical
            default:
                let key = mapping.buses[bus].codec.codecs[message].labelKey(signal: Int(s.partner), raw: partner.raw)
                guard let conv = mapping.sources[si].unitConversions[key] else { dropped[path] += 1; return nil }
                physical = physical * conv.scale + conv.offset
            }
        }
        return physical * s.scale + s.offset
    }

    /// Learns a message's period (moving average of the gaps between its frames); the
    /// timeout becomes 3 periods. Gaps over 5 s are outages, not the rate.
    mutating func learnRate(_ source: Int, now: Int64) {
        defer { sourceLastFrame[source] = now }
        let last = sourceLastFrame[source]
        guard last != Int64.min, now > last, now - last < 5_000_000_000 else { return }
        let gap = Double(now - last)
        sourceInterval[source] = sourceInterval[source] == 0 ? gap : sourceInterval[source] * 0.9 + gap * 0.1
        sourceTimeout[source] = max(Int64(sourceInterval[source] * 3), 1_000_000, mapping.minimumTimeoutNanoseconds)
    }

    /// Keeps the driving context current when set (see `DrivingContextTracker`).
    public var context: DrivingContextTracker?

    /// The latest value of a path (index into `mapping.paths`), if any.
    public func sample(_ path: Int) -> PathSample? { samples[path] }

    /// Fresh, stale with its age, or unavailable, as of `now` (default: the newest frame seen).
    public func freshness(_ path: Int, now: CANTimestamp? = nil) -> Freshness {
        guard let s = samples[path], let now = now ?? latestTime else { return .unavailable }
        let age = now.totalNanoseconds - s.timestamp.totalNanoseconds
        return age > sourceTimeout[s.source] ? .stale(ageNanoseconds: age) : .fresh
    }
}
